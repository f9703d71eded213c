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

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from pydantic import Field

from qstack.layers.network.messages import NetCreate
from qstack.messages import PeerMessage
from qstack.quantum.store import QubitRegister


class AppMessage(PeerMessage):
    """A message between the two ends of one application session."""

    request_id: str = Field(min_length=1)


class QubitTruth(Protocol):
    """Ground truth a session may read for its report only (never to decide)."""

    def fidelity(self, node: str, qubit: int, now: int) -> float: ...

    def qubit_fidelity(self, node: str, qubit: int, psi: Any, now: int) -> float: ...


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


@dataclass(frozen=True, slots=True)
class SessionSetup:
    """What a session is built with: the request as the scenario gave it.

    ``options`` are the request's application fields (the built-in apps'
    own keys, or a plug-in's ``options`` table), already validated by the
    scenario; ``rng`` is the session's own random stream.
    """

    name: str
    src: str
    dst: str
    create: NetCreate
    start_ps: int
    rng: np.random.Generator
    options: dict[str, Any]
