"""The network layer's boundaries: its service, its user, and what it is built with.

A network protocol is any class with a constructor taking one
:class:`NetworkContext` and offering :class:`NetworkEntity`; the built-in
:class:`qstack.layers.network.qnp.NetworkLayer` is one. Applications talk
to a :class:`NetworkService`; the node wiring (:mod:`qstack.wiring`) calls
the rest. The network and the conformance harness build nodes through the
same function, with a context holding exactly what is listed here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qstack.hardware.memory import Memory
from qstack.layers.link.service import LinkService, LinkUser, SetTimer
from qstack.layers.network.messages import (
    NetCreate,
    NetDone,
    NetError,
    NetErrorReason,
    NetExpire,
    NetOk,
    NetOkBatch,
)
from qstack.layers.network.policies import PurificationScheme, SwapPolicy
from qstack.layers.network.routing import RoutingStrategy
from qstack.layers.network.view import NetworkView, NodeLoad
from qstack.messages import PeerMessage, Primitive

SendAlong = Callable[[str, PeerMessage, int, tuple[str, ...], int, int], None]
"""``send_along(node, message, delay_ps, path, i, j)``: a peer message to the
network entity of ``node`` along ``path[i]`` .. ``path[j]`` (a circuit's path
between the two nodes, whose fiber delay is ``delay_ps``)."""

SendAnywhere = Callable[[str, PeerMessage], None]
"""``send_anywhere(node, message)``: a peer message to the network entity of
``node`` over the fastest working route of the classical network."""


class NetworkUser(Protocol):
    """The layer above a network entity (a node's application host)."""

    @property
    def holder(self) -> str:
        """The holder name kept qubits are handed to before their NET_OK."""
        ...

    def net_ok(self, now: int, ok: NetOk) -> None: ...

    def net_ok_batch(self, now: int, batch: NetOkBatch) -> None:
        """Pairs of a ``measure_directly`` request, measured as they were heralded."""
        ...

    def net_error(self, now: int, error: NetError) -> None: ...

    def net_done(self, now: int, done: NetDone) -> None: ...

    def net_expire(self, now: int, expire: NetExpire) -> None: ...


class NetworkService(Protocol):
    """The network layer as an application sees it on one node."""

    @property
    def next_request_id(self) -> str:
        """The id the next NET_CREATE will get: an impossible request is
        answered (NET_ERROR) before ``create`` returns."""
        ...

    def create(self, now: int, request: NetCreate) -> str:
        """NET_CREATE: route, then install a circuit; returns the request id."""
        ...

    def abort(self, now: int, request_id: str, reason: NetErrorReason, detail: str) -> None:
        """End a request this node is the source of, everywhere on its path."""
        ...


class NetworkEntity(NetworkService, LinkUser, Protocol):
    """Everything the wiring calls on one node's network entity."""

    @property
    def state(self) -> str:
        """The entity's lifecycle state: ``idle``, ``serving`` or ``down``."""
        ...

    def bind(self, user: NetworkUser) -> None:
        """Connect the application host above."""
        ...

    def receive(self, now: int, message: PeerMessage) -> None:
        """A network-layer peer message from another node."""
        ...

    def node_failed(self, now: int) -> None:
        """Fault: this node crashed; its circuits end here without a word."""
        ...

    def node_recovered(self, now: int) -> None:
        """Fault: this node is back, with an empty memory and no circuits."""
        ...

    def undeliverable(self, now: int, target: str, message: PeerMessage) -> None:
        """The classical network could not deliver ``message`` to ``target``."""
        ...

    def route_of(self, request_id: str) -> tuple[tuple[str, ...], int] | None:
        """At a request's source: the path of the circuit that serves (or
        served) it last and how many times it was routed again; None if no
        circuit was installed."""
        ...


class FidelityTruth(Protocol):
    """The delivery report's ground-truth fidelity: the run's oracle, read
    only to fill ``NET_OK.fidelity`` (never to decide anything)."""

    def fidelity(self, node: str, qubit: int, now: int) -> float: ...


@dataclass(frozen=True, slots=True)
class NetworkContext:
    """What one node's network entity is built with, in a network and in the
    harness alike.

    ``links`` are the node's link services by neighbour. ``view(load, down_nodes,
    down_links)`` gives the node's :class:`NetworkView` for routing: the
    topology without what the node has been told is down, and its load. Plug-ins are
    resolved by name through ``routers``, ``swap_policies`` and
    ``purification`` (each raises ``LookupError`` naming the choices).
    ``record(now, event)``, in a traced run, writes a trace record of what
    the layer did to its own qubits (SWAP, PURIFY, CORRECTION, DISCARD).
    """

    node: str
    memory: Memory
    links: Mapping[str, LinkService]
    view: Callable[[NodeLoad, Iterable[str], Iterable[frozenset[str]]], NetworkView]
    routers: Callable[[str], RoutingStrategy]
    swap_policies: Callable[[str], SwapPolicy]
    purification: Callable[[str], PurificationScheme]
    send_along: SendAlong
    send_anywhere: SendAnywhere
    set_timer: SetTimer
    link_delay_ps: Callable[[str, str], int]
    rng: np.random.Generator
    truth: FidelityTruth
    record: Callable[[int, Primitive], None] | None = None
    #: ``path_delays_ps(path)``: the one-way delay from the path's first node
    #: to each of its nodes (:func:`path_delays_ps` over ``link_delay_ps``).
    #: A network shares one answer per path among its nodes, so that a long
    #: path is summed and stored once, not once per node; None: each node
    #: sums it itself.
    path_delays_ps: Callable[[tuple[str, ...]], Sequence[int]] | None = None
    #: ``path_positions(path)``: each node's position on the path, shared
    #: per path like ``path_delays_ps``; None: each node maps it itself.
    path_positions: Callable[[tuple[str, ...]], Mapping[str, int]] | None = None


def path_delays_ps(
    link_delay_ps: Callable[[str, str], int], path: Sequence[str]
) -> tuple[int, ...]:
    """The one-way delay from ``path[0]`` to each node of ``path``."""
    return (0, *itertools.accumulate(link_delay_ps(a, b) for a, b in itertools.pairwise(path)))


def path_positions(path: Sequence[str]) -> dict[str, int]:
    """Each node's position on ``path``."""
    return {node: position for position, node in enumerate(path)}


class NetworkLayerFactory(Protocol):
    """Builds one node's network entity (a network protocol class is one)."""

    def __call__(self, context: NetworkContext) -> NetworkEntity: ...
