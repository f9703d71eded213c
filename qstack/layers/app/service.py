"""The application layer's boundaries.

An application is a plug-in kind (``app``): a session class (a subclass of
:class:`qstack.layers.app.base.Session`), registered by name, built once per
request with a :class:`SessionSetup`. A session runs
at both ends of its request; each end acts only through its node's
:class:`AppHostService` (messages to the other end over the classical
network with its real delay, its own qubits, its node's network service)
and on what its node was told. The network layer below is reached through
:class:`~qstack.layers.network.service.NetworkService` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import networkx as nx
import numpy as np
from pydantic import Field

from qstack.layers.link.service import SetTimer
from qstack.layers.network.messages import NetCreate
from qstack.messages import PeerMessage
from qstack.physics.errors import OperationErrors
from qstack.quantum.store import QubitRegister
from qstack.scenario import LinkSpec, NodeSpec


class SetupError(ValueError):
    """A request its application cannot serve on this network (the run refuses it)."""


class AppMessage(PeerMessage):
    """A message between the two ends of one application session."""

    request_id: str = Field(min_length=1)


class QubitTruth(Protocol):
    """Ground truth a session may read for its report only (never to decide)."""

    def fidelity(self, node: str, qubit: int, now: int) -> float: ...

    def qubit_fidelity(self, node: str, qubit: int, psi: Any, now: int) -> float: ...

    def ghz_fidelity(self, node: str, qubit: int, now: int) -> float: ...

    def fidelity_with(
        self, node: str, qubit: int, parts: Sequence[tuple[str, int]], psi: Any, now: int
    ) -> float: ...


class AppHostService(Protocol):
    """What one end of a session may use on its node."""

    @property
    def node(self) -> str: ...

    @property
    def qubits(self) -> QubitRegister:
        """The node's qubits (operations on its own qubits only)."""
        ...

    @property
    def truth(self) -> QubitTruth:
        """The run's oracle, for the session's report figures."""
        ...

    def send(self, to: str, message: AppMessage) -> None:
        """Send a message to the application on node ``to``."""
        ...

    def release(self, now: int, qubit: int) -> None:
        """Free a qubit the network layer handed up."""
        ...

    def allocate(self) -> int | None:
        """A free qubit of the node for the application's own use (None: none free)."""
        ...


class HardwareView:
    """What the applications may know of the hardware: the scenario's nodes
    and links as given (frozen entries, read only).

    A node knows its own parameters (its local operations' errors) and an
    application that sends its own light over a fiber (``bb84``) knows that
    fiber's; the network layer's state is not here.
    """

    __slots__ = ("_graph", "_links", "_nodes")

    def __init__(self, nodes: Sequence[NodeSpec], links: Sequence[LinkSpec]) -> None:
        self._nodes: Mapping[str, NodeSpec] = MappingProxyType({n.name: n for n in nodes})
        self._links: Mapping[frozenset[str], LinkSpec] = MappingProxyType(
            {frozenset((link.a, link.b)): link for link in links}
        )
        self._graph = nx.Graph()
        self._graph.add_nodes_from(self._nodes)
        self._graph.add_edges_from((link.a, link.b) for link in links)

    def node(self, name: str) -> NodeSpec:
        """The ``[[nodes]]`` entry of ``name``."""
        return self._nodes[name]

    def operation_errors(self, name: str) -> OperationErrors:
        """The gate and measurement errors of ``name``'s local operations."""
        spec = self._nodes[name]
        return OperationErrors(spec.gate_error, spec.measurement_error)

    def link(self, a: str, b: str) -> LinkSpec | None:
        """The ``[[links]]`` entry joining ``a`` and ``b``, if there is one."""
        return self._links.get(frozenset((a, b)))

    def path(self, src: str, dst: str) -> list[str]:
        """A path of fewest links from ``src`` to ``dst`` (node names, ``src`` first)."""
        path: list[str] = nx.shortest_path(self._graph, src, dst)
        return path


@dataclass(frozen=True, slots=True)
class SessionSetup:
    """What a session is built with: the request as the scenario gave it.

    ``options`` are the request's application fields (the built-in apps'
    own keys, or a plug-in's ``options`` table), already validated by the
    scenario; ``rng`` is the session's own random stream. ``hardware`` is a
    read-only view of the scenario's nodes and links and ``set_timer`` the
    run's timers (``set_timer(delay_ps, callback, argument)``), for the
    applications that need them (None where a harness gives neither).
    """

    name: str
    src: str
    dst: str
    create: NetCreate
    start_ps: int
    rng: np.random.Generator
    options: dict[str, Any]
    hardware: HardwareView | None = None
    set_timer: SetTimer | None = field(default=None, compare=False)
