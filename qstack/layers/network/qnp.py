"""The built-in network layer: circuits, swapping, purification, cutoffs.

One :class:`NetworkLayer` entity per node, above all of the node's link
entities. A request at the source is routed, then a circuit is installed
hop by hop (PATH_INSTALL); every node asks its link layer towards the next
hop for pairs, for as long as the circuit lives. Each node knows, for each
qubit it holds for a circuit, the *segment* that qubit ends: who holds the
other end (``partner``), how many link pairs it spans, its Bell state
(``frame``) and its age. Repeaters swap by the circuit's swap policy and send
SWAP_RECORDs to the two partners; a record that reaches a node which has
itself swapped that qubit away meanwhile is extended by that swap and
forwarded, so the current holders always end up knowing their segment. The
source delivers a pair once its segment reaches the destination and tells
the destination (PAIR_COMMIT), which applies the Pauli-frame correction and
delivers the same pair. Optional link-level purification (recurrence, BBPSSW
or DEJMPS) runs before swapping; an optional cutoff discards segments older
than the limit at every holder.

Lifecycles (tables below): the entity (a ``transitions`` machine) and each
circuit at each node (a fast table).
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Mapping
from typing import Literal, Protocol, cast

import numpy as np

from qstack.fsm.table import StateTable, Transition, fire
from qstack.hardware.memory import EntangledPair, Memory
from qstack.layers.link.egp import LinkService
from qstack.layers.link.messages import (
    Basis,
    LinkCancel,
    LinkCreate,
    LinkError,
    LinkExpire,
    LinkOk,
)
from qstack.layers.network.messages import (
    NetCreate,
    NetDone,
    NetError,
    NetErrorReason,
    NetOk,
    PairCommit,
    PathInstall,
    PathReady,
    PurifyOutcome,
    SegmentDiscarded,
    SwapRecord,
    Teardown,
)
from qstack.layers.network.policies import SwapPolicy
from qstack.layers.network.routing import RouteRefusal, RouteRequest, RoutingStrategy, Topology
from qstack.messages import PeerMessage
from qstack.physics.bell import BellDiagonal, purify_bbpssw, purify_dejmps
from qstack.physics.density import DensityMatrixPair
from qstack.physics.state import (
    PairState,
    bell_diagonal_part,
    exchange_qubits,
    swap_states_random,
)
from qstack.sim.kernel import Timer
from qstack.sim.random import UniformBuffer


class Installed:
    """Event: this node installed the circuit (PATH_INSTALL, or PATH_READY
    at the source)."""


class Completed:
    """Event: every pair was delivered (TEARDOWN with completed set)."""


class Failed:
    """Event: the circuit ended early (timeout, refusal, fault)."""


class LinksReleased:
    """Event: the link requests this node made or served for the circuit
    have all ended."""


class NodeDown:
    """Event: the node failed."""


class CircuitOpened:
    """Event: the entity holds a live circuit."""


class CircuitsClosed:
    """Event: the entity's last circuit ended."""


CIRCUIT_LIFECYCLE = StateTable(
    name="network circuit",
    states=("setting_up", "active", "tearing_down", "done", "failed"),
    initial="setting_up",
    final=("done", "failed"),
    transitions=(
        Transition("setting_up", Installed, "active", "link CREATE towards next hop"),
        Transition("setting_up", Completed, "tearing_down", "link CANCEL"),
        Transition("setting_up", Failed, "failed", "NET_ERROR, free all"),
        Transition("active", Completed, "tearing_down", "link CANCEL, free all"),
        Transition("active", Failed, "failed", "NET_ERROR, free all"),
        Transition("tearing_down", LinksReleased, "done"),
    ),
)

NETWORK_ENTITY = StateTable(
    name="network entity",
    states=("idle", "serving", "down"),
    initial="idle",
    final=("down",),
    transitions=(
        Transition("idle", CircuitOpened, "serving"),
        Transition("serving", CircuitOpened, "serving"),
        Transition("serving", CircuitsClosed, "idle"),
        Transition("idle", NodeDown, "down"),
        Transition("serving", NodeDown, "down"),
    ),
)

_CIRCUIT_STEP = CIRCUIT_LIFECYCLE.fast().step

Side = Literal["up", "down"]
SendTo = Callable[[str, PeerMessage, int], None]
SetTimer = Callable[[int, Callable[[int, object], None], object], Timer]


class NetworkUser(Protocol):
    """The layer above a network entity (an application)."""

    holder: str

    def net_ok(self, now: int, ok: NetOk) -> None: ...

    def net_error(self, now: int, error: NetError) -> None: ...

    def net_done(self, now: int, done: NetDone) -> None: ...


class _Segment:
    """This node's end of a segment: one qubit held for a circuit."""

    __slots__ = (
        "birth_ps",
        "frame",
        "handle",
        "level",
        "links",
        "partner",
        "partner_handle",
        "qubit",
        "side",
        "timer",
    )

    def __init__(
        self, handle: str, qubit: int, side: Side, partner: str, birth_ps: int, level: int
    ) -> None:
        self.handle = handle
        self.qubit = qubit
        self.side = side
        self.partner = partner
        self.partner_handle = handle
        self.links = 1
        self.frame = 0
        self.birth_ps = birth_ps
        self.level = level
        self.timer: Timer | None = None


class _Swapped:
    """The other side of a swap that removed one of this node's handles:
    what a late record about that handle must be extended by."""

    __slots__ = ("birth_ps", "frame", "links", "partner", "partner_handle")

    def __init__(self, other: _Segment, outcome: int) -> None:
        self.partner = other.partner
        self.partner_handle = other.partner_handle
        self.links = other.links
        self.frame = other.frame ^ outcome
        self.birth_ps = other.birth_ps


class _Circuit:
    """One circuit as one node sees it."""

    def __init__(
        self,
        circuit_id: str,
        src: str,
        path: tuple[str, ...],
        position: int,
        request: NetCreate,
        deadline_ps: int | None,
        offsets_ps: list[int],
    ) -> None:
        self.id = circuit_id
        self.src = src
        self.dst = path[-1]
        self.path = path
        self.position = position
        self.hops = len(path) - 1
        self.request = request
        self.deadline_ps = deadline_ps
        self.offsets_ps = offsets_ps
        self.up_peer = path[position - 1] if position > 0 else None
        self.down_peer = path[position + 1] if position < self.hops else None
        self.state = CIRCUIT_LIFECYCLE.initial
        self.target_level = request.purification_rounds if request.purification != "none" else 0
        self.down_create_id: int | None = None
        self.link_keys: set[tuple[str, str, int]] = set()
        # Without cutoff or purification every link pair ends up in an
        # end-to-end pair, so each hop needs exactly ``number`` of them;
        # otherwise the link requests run until the circuit cancels them.
        exact = request.cutoff_ps is None and self.target_level == 0
        self.link_pairs: int | None = request.number if exact else None
        # The source decides which end-to-end pairs count (PAIR_COMMIT) when
        # pairs can be lost on the way or a deadline can cut the request
        # while the news of a pair is still travelling to one end.
        self.commit = not exact or request.max_time_ps is not None
        self.link_counts: dict[tuple[str, str, int], int] = {}
        # The Werner parameter of the request's minimum, shared equally by
        # the hops (with purification the links may start lower: no minimum).
        w_min = max(4.0 * request.min_fidelity - 1.0, 0.0) / 3.0
        self.link_min_fidelity = (
            (1.0 + 3.0 * w_min ** (1.0 / self.hops)) / 4.0
            if self.target_level == 0 and request.min_fidelity > 0.0
            else 0.0
        )
        self.segments: dict[str, _Segment] = {}
        self.ready: dict[Side, list[_Segment]] = {"up": [], "down": []}
        self.purifying: dict[tuple[Side, int], list[_Segment]] = {}
        self.swapped: dict[str, _Swapped] = {}
        self.swapped_expiry: collections.deque[tuple[int, str, str]] = collections.deque()
        self.delivered = 0
        self.commits: dict[str, PairCommit] = {}
        self.complete: dict[str, _Segment] = {}
        self.deadline_timer: Timer | None = None
        self.ended = False

    def delay_to(self, node_position: int) -> int:
        return abs(self.offsets_ps[node_position] - self.offsets_ps[self.position])


class NetworkLayer:
    """The network-layer entity of ``node``.

    Sans-IO like the link layer: inputs carry ``now``; it sends peer
    messages through ``send_to(node, message, delay_ps)``, sets timers
    through ``set_timer`` and talks down to the link entities it is given.
    """

    holder = "network"

    def __init__(
        self,
        node: str,
        memory: Memory,
        links: Mapping[str, LinkService],
        topology: Topology,
        routers: Callable[[str], RoutingStrategy],
        swap_policies: Callable[[str], SwapPolicy],
        send_to: SendTo,
        set_timer: SetTimer,
        link_delay_ps: Callable[[str, str], int],
        rng: np.random.Generator,
    ) -> None:
        self.node = node
        self.state = NETWORK_ENTITY.initial
        self._machine = NETWORK_ENTITY.machine(self)
        self._memory = memory
        self._links = links
        self._topology = topology
        self._routers = routers
        self._swap_policies = swap_policies
        self._send_to = send_to
        self._set_timer = set_timer
        self._link_delay_ps = link_delay_ps
        self._rng = rng
        self._uniform = UniformBuffer(rng).random
        self._user: NetworkUser | None = None
        self._circuits: dict[str, _Circuit] = {}
        self._by_link_request: dict[tuple[str, str, int], _Circuit] = {}
        self._next_request = 0

    def bind(self, user: NetworkUser) -> None:
        """Connect the application above."""
        self._user = user

    @property
    def user(self) -> NetworkUser:
        if self._user is None:
            raise RuntimeError(f"network layer of {self.node}: no user bound")
        return self._user

    @property
    def next_request_id(self) -> str:
        """The id the next NET_CREATE will get."""
        return f"{self.node}#{self._next_request}"

    # -- service ----------------------------------------------------------

    def create(self, now: int, request: NetCreate) -> str:
        """NET_CREATE: route, then install a circuit; returns the request id.

        A request that cannot be served is answered at once with NET_ERROR.
        """
        circuit_id = self.next_request_id
        self._next_request += 1
        dst = request.remote
        problem = self._check_request(request)
        if problem is not None:
            reason, detail = problem
            self._answer_error(now, circuit_id, dst, reason, detail, 0)
            return circuit_id
        route = self._routers(request.routing).route(
            self._topology,
            RouteRequest(
                self.node,
                dst,
                request.min_fidelity,
                request.purification,
                request.purification_rounds,
            ),
        )
        if isinstance(route, RouteRefusal):
            self._answer_error(now, circuit_id, dst, route.reason, route.detail, 0)
            return circuit_id
        if route.expected_fidelity + 1e-12 < request.min_fidelity:
            self._answer_error(
                now,
                circuit_id,
                dst,
                "fidelity_unreachable",
                f"path {'-'.join(route.path)} gives at best {route.expected_fidelity:.4f} "
                f"< min_fidelity {request.min_fidelity}",
                0,
            )
            return circuit_id
        path = route.path
        policy_problem = self._swap_policies(request.swap_policy).check_path(len(path) - 1)
        if policy_problem is not None:
            self._answer_error(now, circuit_id, dst, "invalid", policy_problem, 0)
            return circuit_id
        travel = sum(self._link_delay_ps(a, b) for a, b in itertools.pairwise(path))
        if request.cutoff_ps is not None and request.cutoff_ps <= travel:
            self._answer_error(
                now,
                circuit_id,
                dst,
                "invalid",
                f"cutoff_ps = {request.cutoff_ps} is not longer than the path's classical "
                f"delay ({travel} ps): no pair could reach both ends in time",
                0,
            )
            return circuit_id
        deadline = None if request.max_time_ps is None else now + request.max_time_ps
        circuit = self._open(now, circuit_id, self.node, path, 0, request, deadline)
        self._install_here(now, circuit, upstream_create_id=None)
        return circuit_id

    def _check_request(self, request: NetCreate) -> tuple[NetErrorReason, str] | None:
        if request.remote == self.node:
            return "invalid", f"NET_CREATE.remote = {request.remote!r}: the request's own node"
        try:
            self._routers(request.routing)
            self._swap_policies(request.swap_policy)
        except LookupError as error:
            return "invalid", str(error)
        try:
            self._topology.node(request.remote)
        except KeyError:
            return "no_path", f"NET_CREATE.remote = {request.remote!r}: unknown node"
        return None

    # -- peer messages ----------------------------------------------------

    def receive(self, now: int, message: PeerMessage) -> None:
        """Handle a network-layer message from another node of a circuit."""
        if self.state == "down":
            return  # a failed node hears nothing
        if isinstance(message, PathInstall):
            self._on_install(now, message)
            return
        circuit = self._circuits.get(message.circuit)  # type: ignore[attr-defined]
        if circuit is None or circuit.ended:
            return  # the circuit has ended here: late messages have nothing to act on
        if isinstance(message, SwapRecord):
            self._on_record(now, circuit, message)
        elif isinstance(message, PairCommit):
            self._on_commit(now, circuit, message)
        elif isinstance(message, SegmentDiscarded):
            self._on_discarded(now, circuit, message.handle)
        elif isinstance(message, PurifyOutcome):
            self._on_purify_outcome(now, circuit, message)
        elif isinstance(message, PathReady):
            circuit.state = _CIRCUIT_STEP(circuit.state, Installed, circuit.dst)
        elif isinstance(message, Teardown):
            if message.completed:
                self._complete(now, circuit)
            else:
                reason = message.reason or "torn_down"
                self._fail(now, circuit, reason, message.detail, notify=False)
        else:
            raise TypeError(f"network {self.node}: unexpected {type(message).__name__}")

    def _on_install(self, now: int, message: PathInstall) -> None:
        position = message.path.index(self.node)
        circuit = self._open(
            now,
            message.circuit,
            message.src,
            message.path,
            position,
            message.request,
            message.deadline_ps,
        )
        assert circuit.up_peer is not None
        key = (circuit.up_peer, circuit.up_peer, message.upstream_create_id)
        circuit.link_counts[key] = 0
        circuit.link_keys.add(key)
        self._by_link_request[key] = circuit
        needed = circuit.target_level + 1
        for peer in (circuit.up_peer, circuit.down_peer):
            if peer is not None and self._links[peer].capacity < needed:
                detail = (
                    f"link to {peer} may hold {self._links[peer].capacity} qubit(s) here; "
                    f"{circuit.target_level} purification round(s) need {needed}"
                )
                self._fail(now, circuit, "resource_shortage", f"{self.node}: {detail}")
                return
        self._install_here(now, circuit, upstream_create_id=message.upstream_create_id)

    # -- set-up and tear-down ---------------------------------------------

    def _open(
        self,
        now: int,
        circuit_id: str,
        src: str,
        path: tuple[str, ...],
        position: int,
        request: NetCreate,
        deadline_ps: int | None,
    ) -> _Circuit:
        offsets = [0]
        for a, b in itertools.pairwise(path):
            offsets.append(offsets[-1] + self._link_delay_ps(a, b))
        circuit = _Circuit(circuit_id, src, path, position, request, deadline_ps, offsets)
        self._circuits[circuit_id] = circuit
        if deadline_ps is not None:
            # The destination waits until every commit the source sent
            # before its deadline has arrived.
            grace = offsets[-1] + 1 if position == len(path) - 1 else 0
            circuit.deadline_timer = self._set_timer(
                max(deadline_ps + grace - now, 0), self._on_deadline, circuit
            )
        fire(self, NETWORK_ENTITY.name, CircuitOpened)
        return circuit

    def _install_here(self, now: int, circuit: _Circuit, upstream_create_id: int | None) -> None:
        """Ask for link pairs towards the next hop and pass the install on."""
        if circuit.down_peer is None:
            circuit.state = _CIRCUIT_STEP(circuit.state, Installed, circuit.up_peer or "")
            self._send(circuit, 0, PathReady(circuit=circuit.id))
            return
        peer = circuit.down_peer
        request = circuit.request
        create_id = self._links[peer].next_create_id
        key = (peer, self.node, create_id)
        circuit.link_keys.add(key)
        self._by_link_request[key] = circuit
        circuit.down_create_id = create_id
        self._links[peer].create(
            now,
            LinkCreate(
                remote=peer,
                number=circuit.link_pairs,
                min_fidelity=circuit.link_min_fidelity,
                max_time_ps=None,
                type="keep",
                purpose_id=request.purpose_id,
                priority=request.priority,
            ),
        )
        if circuit.ended:
            return  # the link refused at once
        if circuit.position > 0:
            circuit.state = _CIRCUIT_STEP(circuit.state, Installed, circuit.up_peer or "")
        self._send(
            circuit,
            circuit.position + 1,
            PathInstall(
                circuit=circuit.id,
                src=circuit.src,
                path=circuit.path,
                request=request,
                deadline_ps=circuit.deadline_ps,
                upstream_create_id=create_id,
            ),
        )

    def _on_deadline(self, now: int, circuit: object) -> None:
        assert isinstance(circuit, _Circuit)
        if not circuit.ended:
            self._fail(
                now,
                circuit,
                "timeout",
                f"max_time_ps = {circuit.request.max_time_ps} passed after "
                f"{circuit.delivered} of {circuit.request.number} pairs",
                notify=False,
            )

    def _complete(self, now: int, circuit: _Circuit) -> None:
        circuit.state = _CIRCUIT_STEP(circuit.state, Completed)
        self._release_all(now, circuit)
        if not circuit.link_keys:
            self._close(circuit, LinksReleased)

    def _fail(
        self,
        now: int,
        circuit: _Circuit,
        reason: NetErrorReason,
        detail: str,
        notify: bool = True,
    ) -> None:
        """End the circuit here and, with ``notify``, at every other node of
        its path (TEARDOWN); ``notify`` is off when the others reach the same
        end on their own (a deadline) or were told already."""
        if circuit.ended:
            return
        circuit.state = _CIRCUIT_STEP(circuit.state, Failed)
        if notify:
            teardown = Teardown(circuit=circuit.id, completed=False, reason=reason, detail=detail)
            for position in range(circuit.hops + 1):
                if position != circuit.position:
                    self._send(circuit, position, teardown)
        self._release_all(now, circuit)
        self._close(circuit, None)
        if circuit.position in (0, circuit.hops):
            self._answer_error(
                now, circuit.id, circuit.dst, reason, detail, circuit.delivered, circuit.src
            )

    def _release_all(self, now: int, circuit: _Circuit) -> None:
        """Stop the link request this node made and free every qubit held."""
        circuit.ended = True
        if circuit.deadline_timer is not None:
            circuit.deadline_timer.cancel()
        if circuit.down_create_id is not None and circuit.down_peer is not None:
            link = self._links[circuit.down_peer]
            link.cancel(now, LinkCancel(remote=circuit.down_peer, create_id=circuit.down_create_id))
        for segment in list(circuit.segments.values()):
            self._drop(now, circuit, segment)
        circuit.swapped.clear()
        circuit.swapped_expiry.clear()

    def _close(self, circuit: _Circuit, trigger: type | None) -> None:
        if trigger is not None:
            circuit.state = _CIRCUIT_STEP(circuit.state, trigger)
        if not circuit.link_keys:
            self._circuits.pop(circuit.id, None)
            if not self._circuits and self.state == "serving":
                fire(self, NETWORK_ENTITY.name, CircuitsClosed)

    # -- the link layer below ---------------------------------------------

    def link_ok(self, now: int, ok: LinkOk) -> None:
        """A link pair for one of our circuits (or a late one: freed at once)."""
        if self.state == "down":
            return
        key = (ok.remote, ok.origin, ok.create_id)
        circuit = self._by_link_request.get(key)
        assert ok.qubit is not None, "the network layer asks for kept pairs only"
        if circuit is not None and circuit.link_pairs is not None:
            count = circuit.link_counts.get(key, 0) + 1
            circuit.link_counts[key] = count
            if count == circuit.link_pairs:  # the link request is complete
                self._link_request_ended(circuit, key)
        if circuit is None or circuit.ended:
            self._memory.release(now, ok.qubit, self.holder)
            return
        side: Side = "down" if ok.remote == circuit.down_peer else "up"
        handle = (
            f"{ok.remote}-{self.node}#{ok.pair_id}"
            if side == "up"
            else (f"{self.node}-{ok.remote}#{ok.pair_id}")
        )
        segment = _Segment(handle, ok.qubit, side, ok.remote, now, 0)
        segment.frame = ok.bell_index
        circuit.segments[handle] = segment
        self._arm_cutoff(now, circuit, segment)
        self._settle(now, circuit, segment)

    def _link_request_ended(self, circuit: _Circuit, key: tuple[str, str, int]) -> None:
        del self._by_link_request[key]
        circuit.link_keys.discard(key)
        if circuit.state == "tearing_down" and not circuit.link_keys:
            self._close(circuit, LinksReleased)
        elif circuit.state == "failed":
            self._close(circuit, None)

    def link_error(self, now: int, error: LinkError) -> None:
        if self.state == "down":
            return
        key = (error.remote, error.origin, error.create_id)
        circuit = self._by_link_request.get(key)
        if circuit is None:
            return
        self._link_request_ended(circuit, key)
        if error.reason == "cancelled":
            return
        reason: NetErrorReason = (
            "fidelity_unreachable" if error.reason == "unsupported_fidelity" else "torn_down"
        )
        self._fail(now, circuit, reason, f"link {self.node}-{error.remote}: {error.detail}")

    def abort(self, now: int, request_id: str, reason: NetErrorReason, detail: str) -> None:
        """End a request this node is the source of, everywhere on its path."""
        circuit = self._circuits.get(request_id)
        if circuit is not None and not circuit.ended:
            self._fail(now, circuit, reason, detail)

    def node_failed(self, now: int) -> None:
        """Fault: this node crashed. Its circuits end here without a word to
        anyone (the neighbours notice through their link layers); its own
        applications are told, for the record."""
        for circuit in list(self._circuits.values()):
            if not circuit.ended:
                circuit.state = _CIRCUIT_STEP(circuit.state, Failed)
                self._release_all(now, circuit)
                if circuit.position in (0, circuit.hops):
                    self._answer_error(
                        now,
                        circuit.id,
                        circuit.dst,
                        "torn_down",
                        f"node {self.node} failed",
                        circuit.delivered,
                        circuit.src,
                    )
        self._circuits.clear()
        self._by_link_request.clear()
        fire(self, NETWORK_ENTITY.name, NodeDown)

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        for circuit in self._circuits.values():
            for segment in circuit.segments.values():
                if segment.qubit == expire.qubit:
                    self._drop(now, circuit, segment)
                    return
        self._memory.release(now, expire.qubit, self.holder)

    # -- segments ---------------------------------------------------------

    def _settle(self, now: int, circuit: _Circuit, segment: _Segment) -> None:
        """Put a fresh (or freshly purified) segment where it belongs."""
        if segment.links == 1 and segment.level < circuit.target_level:
            key = (segment.side, segment.level)
            waiting = circuit.purifying.setdefault(key, [])
            waiting.append(segment)
            if len(waiting) >= 2 and segment.side == "down":
                self._purify(now, circuit, waiting.pop(0), waiting.pop(0))
            return
        if circuit.position in (0, circuit.hops):
            self._check_complete(now, circuit, segment)
        else:
            circuit.ready[segment.side].append(segment)
            self._try_swap(now, circuit)

    def _arm_cutoff(self, now: int, circuit: _Circuit, segment: _Segment) -> None:
        cutoff = circuit.request.cutoff_ps
        if cutoff is None:
            return
        if segment.timer is not None:
            segment.timer.cancel()
        segment.timer = self._set_timer(
            max(segment.birth_ps + cutoff - now, 0), self._cutoff_expired, (circuit, segment)
        )

    def _cutoff_expired(self, now: int, argument: object) -> None:
        circuit, segment = cast(tuple[_Circuit, _Segment], argument)
        if circuit.segments.get(segment.handle) is not segment:
            return
        segment.timer = None
        self._tell(
            circuit,
            segment.partner,
            SegmentDiscarded(circuit=circuit.id, handle=segment.partner_handle),
        )
        self._drop(now, circuit, segment)

    def _on_discarded(self, now: int, circuit: _Circuit, handle: str) -> None:
        segment = circuit.segments.get(handle)
        if segment is not None:
            self._drop(now, circuit, segment)
            return
        swapped = circuit.swapped.get(handle)
        if swapped is not None:
            self._tell(
                circuit,
                swapped.partner,
                SegmentDiscarded(circuit=circuit.id, handle=swapped.partner_handle),
            )

    def _drop(self, now: int, circuit: _Circuit, segment: _Segment) -> None:
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

    # -- purification -----------------------------------------------------

    def _purify(self, now: int, circuit: _Circuit, kept: _Segment, sacrificed: _Segment) -> None:
        """Purify two link pairs (done by the upstream end of the link, which
        tells the other end; both learn the result one link delay later)."""
        pair_kept = self._pair(kept.qubit)
        pair_gone = self._pair(sacrificed.qubit)
        pair_kept.advance(now)
        pair_gone.advance(now)
        # Both pairs to Phi+ first (a local Pauli on this end), as the
        # recurrence protocols expect; the other end learns it in the outcome.
        self._pauli(kept.qubit, kept.frame)
        self._pauli(sacrificed.qubit, sacrificed.frame)
        scheme = purify_dejmps if circuit.request.purification == "dejmps" else purify_bbpssw
        probability, out = scheme(
            bell_diagonal_part(pair_kept.state), bell_diagonal_part(pair_gone.state)
        )
        success = self._uniform() < probability
        if success:
            pair_kept.state = _like(pair_kept.state, out)
            pair_kept.bell_index = 0
        kept.frame = 0
        kept.birth_ps = min(kept.birth_ps, sacrificed.birth_ps)
        self._drop(now, circuit, sacrificed)
        self._arm_cutoff(now, circuit, kept)
        assert circuit.down_peer is not None
        delay = self._link_delay_ps(self.node, circuit.down_peer)
        self._send_to(
            circuit.down_peer,
            PurifyOutcome(
                circuit=circuit.id,
                kept=kept.handle,
                sacrificed=sacrificed.handle,
                success=success,
            ),
            delay,
        )
        self._set_timer(delay, self._purify_done, (circuit, kept, success))

    def _purify_done(self, now: int, argument: object) -> None:
        circuit, kept, success = cast(tuple[_Circuit, _Segment, bool], argument)
        if circuit.ended or circuit.segments.get(kept.handle) is not kept:
            return
        self._level_up(now, circuit, kept, success)

    def _on_purify_outcome(self, now: int, circuit: _Circuit, message: PurifyOutcome) -> None:
        gone = circuit.segments.get(message.sacrificed)
        kept = circuit.segments.get(message.kept)
        if gone is not None:
            if kept is not None:
                kept.birth_ps = min(kept.birth_ps, gone.birth_ps)
                self._arm_cutoff(now, circuit, kept)
            self._drop(now, circuit, gone)
        if kept is not None:
            waiting = circuit.purifying.get((kept.side, kept.level), [])
            if kept in waiting:
                waiting.remove(kept)
            kept.frame = 0
            self._level_up(now, circuit, kept, message.success)

    def _level_up(self, now: int, circuit: _Circuit, kept: _Segment, success: bool) -> None:
        if not success:
            self._drop(now, circuit, kept)
            return
        kept.level += 1
        self._settle(now, circuit, kept)

    # -- swapping ---------------------------------------------------------

    def _try_swap(self, now: int, circuit: _Circuit) -> None:
        left_queue, right_queue = circuit.ready["up"], circuit.ready["down"]
        policy = self._swap_policies(circuit.request.swap_policy)
        while left_queue and right_queue:
            chosen = None
            for left in left_queue:
                for right in right_queue:
                    if policy.should_swap(circuit.position, circuit.hops, left.links, right.links):
                        chosen = (left, right)
                        break
                if chosen:
                    break
            if chosen is None:
                return
            left_queue.remove(chosen[0])
            right_queue.remove(chosen[1])
            self._swap(now, circuit, *chosen)

    def _swap(self, now: int, circuit: _Circuit, left: _Segment, right: _Segment) -> None:
        """Bell-measure the two qubits: the outer qubits become one pair."""
        pair_left = self._pair(left.qubit)
        pair_right = self._pair(right.qubit)
        pair_left.advance(now)
        pair_right.advance(now)
        inner_left = self._side_of(pair_left, left.qubit)
        inner_right = self._side_of(pair_right, right.qubit)
        state_left = pair_left.state if inner_left == 1 else exchange_qubits(pair_left.state)
        state_right = pair_right.state if inner_right == 0 else exchange_qubits(pair_right.state)
        outcome, state = swap_states_random(state_left, state_right, self._rng)
        outer_left, outer_right = 1 - inner_left, 1 - inner_right
        joined = EntangledPair(
            pair_left.pair_id,
            state,
            pair_left.bell_index ^ pair_right.bell_index ^ outcome,
            (pair_left.memories[outer_left], pair_right.memories[outer_right]),
            (pair_left.qubits[outer_left], pair_right.qubits[outer_right]),
            now,
        )
        joined.memories[0].pairs[joined.qubits[0]] = joined
        joined.memories[1].pairs[joined.qubits[1]] = joined
        for segment in (left, right):
            self._unhold(circuit, segment)
            self._memory.release(now, segment.qubit, self.holder)
        frame = left.frame ^ right.frame ^ outcome
        links = left.links + right.links
        birth = min(left.birth_ps, right.birth_ps)
        for this, other in ((left, right), (right, left)):
            self._tell(
                circuit,
                this.partner,
                SwapRecord(
                    circuit=circuit.id,
                    handle=this.partner_handle,
                    partner=other.partner,
                    partner_handle=other.partner_handle,
                    links=links,
                    frame=frame,
                    birth_ps=birth,
                ),
            )
            circuit.swapped[this.handle] = _Swapped(other, outcome)
        self._expire_swapped(now, circuit, (left.handle, right.handle))

    def _expire_swapped(self, now: int, circuit: _Circuit, handles: tuple[str, str]) -> None:
        """Forget swaps no record can still be about: any record about a
        swapped handle arrives within two end-to-end path delays."""
        horizon = 2 * circuit.offsets_ps[-1] + 1
        expiry = circuit.swapped_expiry
        expiry.append((now + horizon, *handles))
        while expiry and expiry[0][0] < now:
            _, first, second = expiry.popleft()
            circuit.swapped.pop(first, None)
            circuit.swapped.pop(second, None)

    def _on_record(self, now: int, circuit: _Circuit, record: SwapRecord) -> None:
        segment = circuit.segments.get(record.handle)
        if segment is not None:
            if record.links <= segment.links:
                return  # older news than what this node knows
            segment.partner = record.partner
            segment.partner_handle = record.partner_handle
            segment.links = record.links
            segment.frame = record.frame
            if record.birth_ps < segment.birth_ps:
                segment.birth_ps = record.birth_ps
                self._arm_cutoff(now, circuit, segment)
            if circuit.position in (0, circuit.hops):
                self._check_complete(now, circuit, segment)
            else:
                self._try_swap(now, circuit)
            return
        swapped = circuit.swapped.get(record.handle)
        if swapped is None:
            return  # the segment was discarded here
        self._tell(
            circuit,
            swapped.partner,
            SwapRecord(
                circuit=circuit.id,
                handle=swapped.partner_handle,
                partner=record.partner,
                partner_handle=record.partner_handle,
                links=record.links + swapped.links,
                frame=record.frame ^ swapped.frame,
                birth_ps=min(record.birth_ps, swapped.birth_ps),
            ),
        )

    # -- delivery at the two ends -----------------------------------------

    def _check_complete(self, now: int, circuit: _Circuit, segment: _Segment) -> None:
        far_end = circuit.dst if circuit.position == 0 else circuit.src
        if segment.partner != far_end or segment.links != circuit.hops:
            return
        if circuit.position == 0:
            self._deliver_at_source(now, circuit, segment)
        elif not circuit.commit:
            # Every end-to-end pair counts: nothing for the source to decide.
            pair_id = f"{segment.partner_handle}~{segment.handle}"
            self._deliver_at_destination(now, circuit, segment, pair_id)
        else:
            commit = circuit.commits.pop(segment.handle, None)
            if commit is None:
                circuit.complete[segment.handle] = segment
            elif commit.keep:
                self._deliver_at_destination(now, circuit, segment, commit.pair_id)
            else:
                self._drop(now, circuit, segment)

    def _deliver_at_source(self, now: int, circuit: _Circuit, segment: _Segment) -> None:
        request = circuit.request
        pair_id = f"{segment.handle}~{segment.partner_handle}"
        if circuit.commit:
            # The source picks the pairs that count: young enough to still be
            # held at the destination when it hears (cutoff), and no more
            # than asked for (lost pairs make the link requests overshoot).
            travel = circuit.offsets_ps[-1]
            cutoff = request.cutoff_ps
            fresh = cutoff is None or now + travel - segment.birth_ps < cutoff
            keep = fresh and circuit.delivered < request.number
            commit = PairCommit(
                circuit=circuit.id,
                dst_handle=segment.partner_handle,
                pair_id=pair_id,
                keep=keep,
            )
            self._send(circuit, circuit.hops, commit)
            if not keep:
                self._drop(now, circuit, segment)
                return
        frame = segment.frame ^ self._pair(segment.qubit).end_correction
        self._hand_up(now, circuit, segment, pair_id, frame)
        if circuit.delivered == request.number:
            self._finish(now, circuit)
            teardown = Teardown(circuit=circuit.id, completed=True, reason=None, detail="")
            for position in range(1, circuit.hops + 1):
                self._send(circuit, position, teardown)
            self._complete(now, circuit)

    def _on_commit(self, now: int, circuit: _Circuit, commit: PairCommit) -> None:
        segment = circuit.complete.pop(commit.dst_handle, None)
        if segment is None:
            if commit.dst_handle in circuit.segments:
                circuit.commits[commit.dst_handle] = commit  # our record is still on its way
        elif commit.keep:
            self._deliver_at_destination(now, circuit, segment, commit.pair_id)
        else:
            self._drop(now, circuit, segment)

    def _deliver_at_destination(
        self, now: int, circuit: _Circuit, segment: _Segment, pair_id: str
    ) -> None:
        self._pauli(segment.qubit, segment.frame)
        self._pair(segment.qubit).end_correction = segment.frame
        self._hand_up(now, circuit, segment, pair_id, 0)
        if circuit.delivered == circuit.request.number:
            self._finish(now, circuit)

    def _hand_up(
        self, now: int, circuit: _Circuit, segment: _Segment, pair_id: str, frame: int
    ) -> None:
        """NET_OK: give the pair to the application (or measure it for it)."""
        seq = circuit.delivered
        circuit.delivered += 1
        self._unhold(circuit, segment)
        pair = self._pair(segment.qubit)
        pair.advance(now)
        fidelity = pair.state.fidelity(frame)
        basis: Basis | None = None
        outcome: Literal[0, 1] | None = None
        qubit: int | None = segment.qubit
        if circuit.request.type == "measure":
            basis = "Z" if self._uniform() < circuit.request.z_basis_probability else "X"
            side = self._side_of(pair, segment.qubit)
            outcome = pair.measure_side(now, side, basis, self._uniform)
            self._memory.release(now, segment.qubit, self.holder)
            qubit = None
        else:
            self._memory.transfer(segment.qubit, self.user.holder, self.holder)
        self.user.net_ok(
            now,
            NetOk(
                request_id=circuit.id,
                src=circuit.src,
                dst=circuit.dst,
                pair_id=pair_id,
                seq=seq,
                bell_index=0,
                qubit=qubit,
                time_ps=now,
                fidelity=min(max(fidelity, 0.0), 1.0),
                purpose_id=circuit.request.purpose_id,
                basis=basis,
                outcome=outcome,
            ),
        )

    def _finish(self, now: int, circuit: _Circuit) -> None:
        self.user.net_done(
            now,
            NetDone(
                request_id=circuit.id,
                src=circuit.src,
                dst=circuit.dst,
                delivered=circuit.delivered,
            ),
        )

    # -- helpers ----------------------------------------------------------

    def _send(self, circuit: _Circuit, position: int, message: PeerMessage) -> None:
        self._send_to(circuit.path[position], message, circuit.delay_to(position))

    def _tell(self, circuit: _Circuit, node: str, message: PeerMessage) -> None:
        """Send to a node of the circuit's path, by name."""
        self._send(circuit, circuit.path.index(node), message)

    @staticmethod
    def _unhold(circuit: _Circuit, segment: _Segment) -> None:
        """This node no longer holds the segment (swapped, dropped, delivered)."""
        del circuit.segments[segment.handle]
        if segment.timer is not None:
            segment.timer.cancel()
            segment.timer = None

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
        self.user.net_error(
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

    def _pair(self, qubit: int) -> EntangledPair:
        pair = self._memory.pairs[qubit]
        assert pair is not None, f"{self.node}: qubit {qubit} holds no pair"
        return pair

    def _side_of(self, pair: EntangledPair, qubit: int) -> int:
        if pair.memories[0] is self._memory and pair.qubits[0] == qubit:
            return 0
        return 1

    def _pauli(self, qubit: int, k: int) -> None:
        """Apply Pauli ``k`` to a local qubit (a Pauli-frame correction)."""
        if k:
            pair = self._pair(qubit)
            pair.state.pauli(k, self._side_of(pair, qubit))
            pair.bell_index ^= k


def _like(template: PairState, state: BellDiagonal) -> PairState:
    """``state`` in the representation of ``template`` (density matrix or not)."""
    if isinstance(template, DensityMatrixPair):
        return DensityMatrixPair.from_bell_diagonal(state)
    return state
