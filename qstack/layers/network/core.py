"""What every part of the built-in network layer shares: the entity's state
and the small helpers its seams (set-up, segments, purification, swapping,
delivery) all use.

The seams are mixins over :class:`NetworkCore`; they call one another
through the methods declared at the end of the class, each defined in its
own module, so a subclass can replace any step by overriding one method.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from qstack.hardware.memory import Memory
from qstack.layers.link.messages import LinkOkBatch
from qstack.layers.link.service import LinkService
from qstack.layers.network.circuit import (
    LINKS_RELEASED,
    WINDING_DOWN,
    Circuit,
    CutoffExpired,
    LinkKey,
    Segment,
)
from qstack.layers.network.messages import NetCreate, NetError, NetErrorReason
from qstack.layers.network.service import (
    NetworkContext,
    NetworkUser,
    path_delays_ps,
    path_positions,
)
from qstack.messages import PeerMessage, Unbound
from qstack.sim.kernel import Timer
from qstack.sim.random import UniformBuffer

if TYPE_CHECKING:
    from qstack.layers.network.faults import Awaiting
    from qstack.layers.network.routing import Route


ENTITY_LIFECYCLE_NAME = "network entity"


class NetworkCore:
    """The entity's state and shared helpers (see the module docstring)."""

    holder = "network"

    def __init__(self, context: NetworkContext) -> None:
        self.context = context
        self.node = context.node
        self.state = "idle"
        self._memory: Memory = context.memory
        self._links: Mapping[str, LinkService] = context.links
        self._send_along = context.send_along
        self._send_anywhere = context.send_anywhere
        self._set_timer = context.set_timer
        self._link_delay_ps = context.link_delay_ps
        self._path_delays_ps = context.path_delays_ps or functools.partial(
            path_delays_ps, context.link_delay_ps
        )
        self._path_positions = context.path_positions or path_positions
        self._rng = context.rng
        #: Trace records of what this layer does to its qubits (traced runs only).
        self._record = context.record
        self._uniform = UniformBuffer(context.rng).random
        self._user: NetworkUser = Unbound(f"network layer of {context.node}")
        self._circuits: dict[str, Circuit] = {}
        self._by_link_request: dict[LinkKey, Circuit] = {}
        self._next_request = 0
        # What this node has been told is down, and how new its news of each
        # node ("node", name) or fiber ("link", a, b) is (ps when noticed).
        self._down_nodes: set[str] = set()
        self._down_links: set[frozenset[str]] = set()
        self._news: dict[tuple[str, ...], int] = {}
        # Rerouted requests whose destination this node is, waiting for a new
        # circuit (see .faults); and, at a source, each request's latest path
        # and how many times it was routed again (for the run's report).
        self._awaiting: dict[str, Awaiting] = {}
        # Circuits whose TEARDOWN came before their PATH_INSTALL (a fault
        # delayed the install): the install, when it comes, is ignored.
        self._torn_down: set[str] = set()
        self._routes: dict[str, tuple[tuple[str, ...], int]] = {}
        # With reservation: the qubits promised to circuits here, per link
        # (by neighbour), and, at a source, the refused requests waiting to
        # try again (see .admission).
        self._reserved: dict[str, int] = {}
        self._admitting: dict[str, tuple[Circuit, Timer]] = {}

    def route_of(self, request_id: str) -> tuple[tuple[str, ...], int] | None:
        """The latest path of a request this node is the source of, and its reroutes."""
        return self._routes.get(request_id)

    def bind(self, user: NetworkUser) -> None:
        """Connect the application above."""
        self._user = user

    @property
    def user(self) -> NetworkUser:
        return self._user

    @property
    def next_request_id(self) -> str:
        """The id the next NET_CREATE will get."""
        return f"{self.node}#{self._next_request}"

    # -- messaging --------------------------------------------------------

    def _send(self, circuit: Circuit, position: int, message: PeerMessage) -> None:
        self._send_along(
            circuit.path[position],
            message,
            circuit.delay_to(position),
            circuit.path,
            circuit.position,
            position,
        )

    def _tell(self, circuit: Circuit, node: str, message: PeerMessage) -> None:
        """Send to a node of the circuit's path, by name."""
        self._send(circuit, circuit.positions[node], message)

    def _answer_error(
        self,
        now: int,
        circuit_id: str,
        dst: str,
        reason: NetErrorReason,
        detail: str,
        delivered: int,
        src: str | None = None,
    ) -> None:
        self._user.net_error(
            now,
            NetError(
                request_id=circuit_id,
                src=src or self.node,
                dst=dst,
                reason=reason,
                detail=detail,
                delivered=delivered,
            ),
        )

    # -- segments ---------------------------------------------------------

    @staticmethod
    def _unhold(circuit: Circuit, segment: Segment) -> None:
        """This node no longer holds the segment (swapped, dropped, delivered)."""
        del circuit.segments[segment.handle]
        if segment.timer is not None:
            segment.timer.cancel()
            segment.timer = None

    def _drop(self, now: int, circuit: Circuit, segment: Segment) -> None:
        """Forget a segment and free its qubit."""
        self._unhold(circuit, segment)
        for queue in (
            circuit.ready[segment.side],
            circuit.purifying.get((segment.side, segment.level), []),
        ):
            if segment in queue:
                queue.remove(segment)
        circuit.complete.pop(segment.handle, None)
        self._memory.release(now, segment.qubit, self.holder)

    def _arm_cutoff(self, now: int, circuit: Circuit, segment: Segment) -> None:
        """Discard the segment once it is older than the cutoff: a segment of
        age exactly ``cutoff_ps`` is still used; one picosecond later it goes."""
        cutoff = circuit.request.cutoff_ps
        if cutoff is None:
            return
        if segment.timer is not None:
            segment.timer.cancel()
        segment.timer = self._set_timer(
            max(segment.birth_ps + cutoff + 1 - now, 0), self._cutoff_due, (circuit, segment)
        )

    def _cutoff_due(self, now: int, argument: object) -> None:
        circuit, segment = cast(tuple[Circuit, Segment], argument)
        if circuit.segments.get(segment.handle) is segment:
            self._step(now, circuit, CutoffExpired(segment))

    # -- link requests ----------------------------------------------------

    def _forget_link_request(self, circuit: Circuit, key: LinkKey) -> None:
        self._by_link_request.pop(key, None)
        circuit.link_keys.discard(key)

    def _link_request_ended(self, now: int, circuit: Circuit, key: LinkKey) -> None:
        """One of the circuit's link requests is over; an ended circuit
        waiting for its last one closes."""
        self._forget_link_request(circuit, key)
        if circuit.state in WINDING_DOWN and not circuit.link_keys:
            self._step(now, circuit, LINKS_RELEASED)

    # -- the seams call one another through these ---------------------------

    def _step(self, now: int, circuit: Circuit, event: object) -> None:
        """Step the circuit's lifecycle table with ``event``."""
        raise NotImplementedError

    def _on_link_batch(self, circuit: Circuit, now: int, batch: LinkOkBatch) -> None:
        """Hand up pairs measured directly (NET_OK_BATCH)."""
        raise NotImplementedError

    def _settle(self, now: int, circuit: Circuit, segment: Segment) -> None:
        """Put a fresh (or freshly purified) segment where it belongs."""
        raise NotImplementedError

    def _purify(self, now: int, circuit: Circuit, kept: Segment, sacrificed: Segment) -> None:
        raise NotImplementedError

    def _try_swap(self, now: int, circuit: Circuit) -> None:
        raise NotImplementedError

    def _swaps_can_fail(self, path: Sequence[str]) -> bool:
        """Whether end-to-end pairs can be lost on ``path`` by failed swaps."""
        raise NotImplementedError

    def _check_complete(self, now: int, circuit: Circuit, segment: Segment) -> None:
        raise NotImplementedError

    def _expire_pair(self, now: int, circuit: Circuit, pair_id: str) -> None:
        raise NotImplementedError

    def _finish(self, now: int, circuit: Circuit) -> None:
        """NET_DONE: every pair of the request was delivered at this end."""
        raise NotImplementedError

    def _route(self, circuit_id: str, request: NetCreate) -> Route | tuple[NetErrorReason, str]:
        raise NotImplementedError

    def _open(
        self,
        now: int,
        circuit_id: str,
        src: str,
        path: tuple[str, ...],
        position: int,
        request: NetCreate,
        deadline_ps: int | None,
        request_id: str | None = None,
    ) -> Circuit:
        raise NotImplementedError

    def _install_here(self, now: int, circuit: Circuit, upstream_create_id: int | None) -> None:
        raise NotImplementedError

    def _end_failed(
        self,
        now: int,
        circuit: Circuit,
        reason: NetErrorReason,
        detail: str,
        notify: bool = True,
    ) -> None:
        raise NotImplementedError

    def _rerouting(self, now: int, circuit: Circuit, reason: NetErrorReason, detail: str) -> bool:
        raise NotImplementedError

    def _take_over(self, now: int, circuit: Circuit) -> bool:
        raise NotImplementedError

    def _link_down(self, peer: str) -> bool:
        raise NotImplementedError

    def _abandon(self, now: int, old: Circuit, reason: NetErrorReason, detail: str) -> None:
        raise NotImplementedError

    def _admissible(self, now: int, circuit: Circuit) -> bool:
        raise NotImplementedError

    def _unreserve(self, circuit: Circuit) -> None:
        raise NotImplementedError

    def _launch(self, now: int, circuit: Circuit) -> None:
        raise NotImplementedError

    def _admit_later(self, now: int, old: Circuit) -> None:
        raise NotImplementedError

    def _stop_admitting(
        self, now: int, reason: NetErrorReason, detail: str, request_id: str | None = None
    ) -> None:
        raise NotImplementedError

    def _idle_if_done(self, now: int) -> None:
        raise NotImplementedError

    def _void_link_requests(self, now: int, peer: str) -> None:
        raise NotImplementedError
