"""The built-in link layer: an EGP-like entanglement generation protocol.

One :class:`LinkLayer` entity per node per link. The two ends keep one
shared request queue: the link's ``a`` node is the queue master, which
numbers requests (``qseq``) and fixes the time from which both ends serve
them (``start_ps``), late enough that the peer has heard of the request by
then. Both ends then always arm the physical layer for the same queue head,
so the station sees matching tags; a pair heralded at the station reaches
both ends at the same instant and both report it with the same pair id.

Lifecycles (tables below): the entity itself, each request and each kept
pair, all stepped through fast tables: a node has one link entity per link,
so a large topology has thousands of them, too many for a ``transitions``
machine each (the node's network entity has one).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Literal, Protocol

import numpy as np

from qstack.fsm.table import StateTable, Transition
from qstack.hardware.memory import EntangledPair, Memory
from qstack.layers.link.messages import (
    Basis,
    LinkCancel,
    LinkCreate,
    LinkError,
    LinkErrorReason,
    LinkExpire,
    LinkOk,
    QueueAck,
    QueueAdd,
    QueueCancel,
    QueueReject,
)
from qstack.layers.physical.station import Attempt, AttemptSetting, HeraldingStation
from qstack.messages import PeerMessage
from qstack.sim.kernel import Timer
from qstack.sim.random import UniformBuffer


class Accepted:
    """Event: this end accepted a peer's QUEUE_ADD."""


class PairDelivered:
    """Event: a pair for the request was heralded, more are wanted."""


class LastPairDelivered:
    """Event: the request's last pair was heralded."""


class Timeout:
    """Event: the request's deadline passed."""


class Cancelled:
    """Event: the agreed end time of a cancelled request came."""


class LinkDown:
    """Event: the link was taken out of service."""


class Released:
    """Event: the upper layer freed a delivered pair's qubit."""


class PeerLost:
    """Event: the peer node failed, taking the other half of the pair with it."""


class RequestQueued:
    """Event: the entity's queue gained a live request."""


class QueueEmptied:
    """Event: the entity's last live request ended."""


REQUEST_LIFECYCLE = StateTable(
    name="link request",
    states=("negotiating", "queued", "done", "failed", "cancelled"),
    initial="negotiating",
    final=("done", "failed", "cancelled"),
    transitions=(
        Transition("negotiating", QueueAck, "queued", "origin: peer queued it"),
        Transition("negotiating", Accepted, "queued", "peer end: send QUEUE_ACK"),
        Transition("negotiating", QueueReject, "failed", "ERROR rejected"),
        Transition("negotiating", Timeout, "failed", "ERROR timeout"),
        Transition("negotiating", LinkDown, "failed", "ERROR link_down"),
        Transition("negotiating", Cancelled, "cancelled", "ERROR cancelled"),
        Transition("queued", PairDelivered, "queued", "OK"),
        Transition("queued", LastPairDelivered, "done", "OK"),
        Transition("queued", Timeout, "failed", "ERROR timeout"),
        Transition("queued", LinkDown, "failed", "ERROR link_down"),
        Transition("queued", Cancelled, "cancelled", "ERROR cancelled"),
    ),
)

LINK_ENTITY = StateTable(
    name="link entity",
    states=("idle", "serving", "down"),
    initial="idle",
    final=("down",),
    transitions=(
        Transition("idle", RequestQueued, "serving"),
        Transition("serving", RequestQueued, "serving"),
        Transition("serving", QueueEmptied, "idle"),
        Transition("idle", LinkDown, "down"),
        Transition("serving", LinkDown, "down"),
    ),
)

PAIR_LIFECYCLE = StateTable(
    name="link pair",
    states=("delivered", "released", "expired"),
    initial="delivered",
    final=("released", "expired"),
    transitions=(
        Transition("delivered", Released, "released", "upper layer freed the qubit"),
        Transition("delivered", PeerLost, "expired", "EXPIRE"),
    ),
)

_ENTITY_STEP = LINK_ENTITY.fast().step
_REQUEST_STEP = REQUEST_LIFECYCLE.fast().step
_PAIR_STEP = PAIR_LIFECYCLE.fast().step

RequestKey = tuple[str, int]
SetTimer = Callable[[int, Callable[[int, object], None], object], Timer]


class LinkUser(Protocol):
    """The layer above a link entity: receives its confirmations and indications."""

    def link_ok(self, now: int, ok: LinkOk) -> None: ...

    def link_error(self, now: int, error: LinkError) -> None: ...

    def link_expire(self, now: int, expire: LinkExpire) -> None: ...


class LinkService(Protocol):
    """The link layer as the layer above sees it on one node, for one link."""

    @property
    def capacity(self) -> int:
        """Most qubits the link may fill at this node at once."""
        ...

    @property
    def next_create_id(self) -> int:
        """The id the next CREATE will get."""
        ...

    def create(self, now: int, request: LinkCreate) -> int: ...

    def cancel(self, now: int, request: LinkCancel) -> None: ...


class SettingChooser(Protocol):
    """The physical layer's answer to: how do we attempt for this fidelity?"""

    def setting_for(self, min_fidelity: float) -> AttemptSetting | None: ...


class _Request:
    """One request in the shared queue, as one end sees it."""

    __slots__ = (
        "create",
        "create_id",
        "deadline_ps",
        "deadline_timer",
        "delivered",
        "origin",
        "qseq",
        "setting",
        "start_ps",
        "state",
    )

    def __init__(
        self,
        origin: str,
        create_id: int,
        create: LinkCreate,
        setting: AttemptSetting,
        deadline_ps: int | None,
    ) -> None:
        self.origin = origin
        self.create_id = create_id
        self.create = create
        self.setting = setting
        self.deadline_ps = deadline_ps
        self.deadline_timer: Timer | None = None
        self.state = REQUEST_LIFECYCLE.initial
        self.qseq = -1
        self.start_ps = -1
        self.delivered = 0

    @property
    def key(self) -> RequestKey:
        return (self.origin, self.create_id)

    @property
    def order(self) -> tuple[int, int]:
        return (self.create.priority, self.qseq)


class LinkLayer:
    """The link-layer entity of ``node`` for its link to ``peer``.

    Sans-IO: every input carries ``now``; outputs go through the callables
    it was built with (peer messages, timers, the physical port, the user).
    """

    def __init__(
        self,
        node: str,
        peer: str,
        side: int,
        memory: Memory,
        station: HeraldingStation,
        settings: SettingChooser,
        set_timer: SetTimer,
        one_way_delay_ps: int,
        rng: np.random.Generator,
        user_name: str = "upper",
        capacity: int | None = None,
    ) -> None:
        self.node = node
        self.peer = peer
        self.side = side
        self.is_master = side == 0
        self.state = LINK_ENTITY.initial
        self._memory = memory
        self._station = station
        self._settings = settings
        self._send: Callable[[PeerMessage], None] = self._not_connected
        self._set_timer = set_timer
        self._delay_ps = one_way_delay_ps
        self._uniform = UniformBuffer(rng).random
        self._holder = f"link/{peer}"
        # Most qubits this link may fill at this node at once (kept pairs not
        # yet freed, plus the one attempting), so one link cannot starve the
        # node's other links of memory.
        self.capacity = memory.size if capacity is None else capacity
        self._user_name = user_name
        self._user: LinkUser | None = None
        self._requests: dict[RequestKey, _Request] = {}
        self._ready: list[tuple[tuple[int, int], RequestKey]] = []
        self._next_create_id = 0
        self._next_qseq = 0
        self._armed: _Request | None = None
        self._armed_qubit = -1
        self._last_served: tuple[int, int] | None = None
        # Kept pairs handed up and not yet freed, by qubit: the only ones
        # that can still EXPIRE. Their lifecycle state is "delivered".
        self._delivered: dict[int, LinkOk] = {}
        station.connect(side, self.herald)
        memory.on_release(self._memory_released)

    def bind(self, user: LinkUser) -> None:
        """Connect the layer above."""
        self._user = user

    def connect(self, send: Callable[[PeerMessage], None]) -> None:
        """Connect the classical channel towards the peer entity."""
        self._send = send

    def _not_connected(self, message: PeerMessage) -> None:
        raise RuntimeError(
            f"link {self.node}->{self.peer}: {type(message).__name__} sent before connect()"
        )

    @property
    def next_create_id(self) -> int:
        """The id the next CREATE will get (to file it before answers come)."""
        return self._next_create_id

    @property
    def user(self) -> LinkUser:
        if self._user is None:
            raise RuntimeError(f"link {self.node}->{self.peer}: no user bound")
        return self._user

    # -- service: requests from above -------------------------------------

    def create(self, now: int, request: LinkCreate) -> int:
        """CREATE: queue a request; returns its ``create_id``.

        An impossible request is answered at once with ERROR.
        """
        if request.remote != self.peer:
            raise ValueError(
                f"CREATE.remote = {request.remote!r}: this link connects {self.node!r} "
                f"and {self.peer!r}"
            )
        create_id = self._next_create_id
        self._next_create_id += 1
        if self.state == "down":
            self._error_now(now, create_id, "link_down", "the link is down")
            return create_id
        setting = self._settings.setting_for(request.min_fidelity)
        if setting is None:
            self._error_now(
                now,
                create_id,
                "unsupported_fidelity",
                f"min_fidelity = {request.min_fidelity}: this link cannot reach it",
            )
            return create_id
        deadline = None if request.max_time_ps is None else now + request.max_time_ps
        item = _Request(self.node, create_id, request, setting, deadline)
        self._add(now, item)
        if self.is_master:
            item.qseq = self._take_qseq()
            item.start_ps = now + 2 * self._delay_ps + 1
        self._send(
            QueueAdd(
                origin=self.node,
                create_id=create_id,
                request=request,
                deadline_ps=deadline,
                qseq=item.qseq if self.is_master else None,
                start_ps=item.start_ps if self.is_master else None,
            )
        )
        return create_id

    def cancel(self, now: int, request: LinkCancel) -> None:
        """CANCEL: end a request this node created.

        Both ends stop at the same time, one classical delay from now, so
        they agree on every pair delivered before; both then report
        ERROR(cancelled).
        """
        item = self._requests.get((self.node, request.create_id))
        if item is None:
            return  # already ended: its ERROR or last OK is on its way up
        end_ps = now + self._delay_ps + 1
        self._set_timer(end_ps - now, self._cancel_now, item)
        self._send(QueueCancel(origin=self.node, create_id=item.create_id, end_ps=end_ps))

    def _cancel_now(self, now: int, item: object) -> None:
        assert isinstance(item, _Request)
        if self._requests.get(item.key) is item:
            self._end(now, item, Cancelled, "cancelled", f"cancelled by {item.origin}")

    # -- peer messages ----------------------------------------------------

    def receive(self, now: int, message: PeerMessage) -> None:
        """Handle a peer message from the other end of the link."""
        if isinstance(message, QueueAdd):
            self._on_queue_add(now, message)
        elif isinstance(message, QueueAck):
            item = self._requests.get((message.origin, message.create_id))
            if item is None:
                return  # ended here already (timeout); the peer times out too
            item.state = _REQUEST_STEP(item.state, QueueAck, self.peer)
            if not self.is_master:
                item.qseq = message.qseq
                item.start_ps = message.start_ps
            self._schedule_start(now, item)
        elif isinstance(message, QueueCancel):
            item = self._requests.get((message.origin, message.create_id))
            if item is not None:
                self._set_timer(max(message.end_ps - now, 0), self._cancel_now, item)
        elif isinstance(message, QueueReject):
            item = self._requests.get((message.origin, message.create_id))
            if item is not None:
                self._end(now, item, QueueReject, message.reason, message.detail)
        else:
            raise TypeError(f"link {self.node}: unexpected peer message {type(message).__name__}")

    def _on_queue_add(self, now: int, message: QueueAdd) -> None:
        request = message.request
        setting = self._settings.setting_for(request.min_fidelity)
        if setting is None or self.state == "down":
            reason: LinkErrorReason = "link_down" if setting else "unsupported_fidelity"
            self._send(
                QueueReject(
                    origin=message.origin,
                    create_id=message.create_id,
                    reason=reason,
                    detail=f"{self.node} cannot serve min_fidelity = {request.min_fidelity}",
                )
            )
            return
        item = _Request(message.origin, message.create_id, request, setting, message.deadline_ps)
        if self.is_master:
            item.qseq = self._take_qseq()
            item.start_ps = now + self._delay_ps + 1
        else:
            assert message.qseq is not None and message.start_ps is not None
            item.qseq = message.qseq
            item.start_ps = message.start_ps
        self._add(now, item)
        item.state = _REQUEST_STEP(item.state, Accepted, self.peer)
        self._send(
            QueueAck(
                origin=item.origin,
                create_id=item.create_id,
                qseq=item.qseq,
                start_ps=item.start_ps,
            )
        )
        self._schedule_start(now, item)

    # -- physical layer ---------------------------------------------------

    def herald(self, now: int, pair: EntangledPair) -> None:
        """HERALD: the armed attempt succeeded; report the pair up."""
        item = self._armed
        assert item is not None, "herald without an armed attempt"
        qubit = self._armed_qubit
        self._armed = None
        self._last_served = item.order
        item.delivered += 1
        last = item.delivered == item.create.number  # never for number None
        item.state = _REQUEST_STEP(item.state, LastPairDelivered if last else PairDelivered)
        if last:
            self._forget(item)
        fidelity = pair.herald_fidelity
        create = item.create
        basis: Basis | None = None
        outcome: Literal[0, 1] | None = None
        if create.type == "measure":
            basis = "Z" if self._uniform() < 0.5 else "X"
            outcome = pair.measure_side(now, self.side, basis, self._uniform)
            self._memory.release(now, qubit, self._holder)
            reported_qubit: int | None = None
        else:
            self._memory.transfer(qubit, self._user_name, self._holder)
            reported_qubit = qubit
        ok = LinkOk(
            create_id=item.create_id,
            origin=item.origin,
            remote=self.peer,
            pair_id=pair.pair_id,
            seq=item.delivered - 1,
            bell_index=pair.heralded_index,
            qubit=reported_qubit,
            time_ps=now,
            fidelity=min(fidelity, 1.0),
            purpose_id=create.purpose_id,
            basis=basis,
            outcome=outcome,
        )
        if reported_qubit is not None:
            self._delivered[reported_qubit] = ok
        self.user.link_ok(now, ok)
        self._pump(now)

    # -- faults -----------------------------------------------------------

    def link_down(self, now: int) -> None:
        """Take the link out of service: every live request ends in ERROR."""
        for item in list(self._requests.values()):
            self._end(now, item, LinkDown, "link_down", "the link went down")
        self.state = _ENTITY_STEP(self.state, LinkDown)

    def peer_failed(self, now: int) -> None:
        """The peer node failed and lost its memory: live requests end in
        ERROR, and every kept pair still held here is reported with EXPIRE
        (its other half is gone); the layer above must free those qubits."""
        for item in list(self._requests.values()):
            self._end(now, item, LinkDown, "link_down", f"node {self.peer} failed")
        self.state = _ENTITY_STEP(self.state, LinkDown)
        for qubit, ok in list(self._delivered.items()):
            _PAIR_STEP("delivered", PeerLost, self.peer)
            del self._delivered[qubit]
            self.user.link_expire(
                now,
                LinkExpire(
                    create_id=ok.create_id,
                    origin=ok.origin,
                    remote=self.peer,
                    pair_id=ok.pair_id,
                    qubit=qubit,
                ),
            )

    # -- internals --------------------------------------------------------

    def _take_qseq(self) -> int:
        qseq = self._next_qseq
        self._next_qseq += 1
        return qseq

    def _add(self, now: int, item: _Request) -> None:
        self._requests[item.key] = item
        if item.deadline_ps is not None:
            item.deadline_timer = self._set_timer(
                max(item.deadline_ps - now, 0), self._deadline, item
            )
        self.state = _ENTITY_STEP(self.state, RequestQueued)

    def _schedule_start(self, now: int, item: _Request) -> None:
        self._set_timer(max(item.start_ps - now, 0), self._ready_now, item)

    def _ready_now(self, now: int, item: object) -> None:
        assert isinstance(item, _Request)
        if item.state != "queued":
            return
        bisect.insort(self._ready, (item.order, item.key))
        armed = self._armed
        if armed is not None and not self._station.running and armed is not self._choose():
            self._disarm(now)
        self._pump(now)

    def _deadline(self, now: int, item: object) -> None:
        assert isinstance(item, _Request)
        self._end(
            now,
            item,
            Timeout,
            "timeout",
            f"max_time_ps = {item.create.max_time_ps} passed after {item.delivered} "
            f"of {item.create.number or 'unlimited'} pairs",
        )

    def _end(
        self, now: int, item: _Request, trigger: type, reason: LinkErrorReason, detail: str
    ) -> None:
        item.state = _REQUEST_STEP(item.state, trigger, self.peer)
        self._forget(item)
        if self._armed is item:
            self._disarm(now)
        self.user.link_error(
            now,
            LinkError(
                create_id=item.create_id,
                origin=item.origin,
                remote=self.peer,
                reason=reason,
                detail=detail,
                delivered=item.delivered,
            ),
        )
        self._pump(now)

    def _error_now(self, now: int, create_id: int, reason: LinkErrorReason, detail: str) -> None:
        """Refuse a CREATE before it reaches the queue."""
        self.user.link_error(
            now,
            LinkError(
                create_id=create_id,
                origin=self.node,
                remote=self.peer,
                reason=reason,
                detail=detail,
                delivered=0,
            ),
        )

    def _forget(self, item: _Request) -> None:
        del self._requests[item.key]
        entry = (item.order, item.key)
        position = bisect.bisect_left(self._ready, entry)
        if position < len(self._ready) and self._ready[position] == entry:
            del self._ready[position]
        if item.deadline_timer is not None:
            item.deadline_timer.cancel()
        if not self._requests and self.state == "serving":
            self.state = _ENTITY_STEP(self.state, QueueEmptied)

    def _disarm(self, now: int) -> None:
        self._station.cancel(self.side, now)
        self._armed = None
        self._memory.release(now, self._armed_qubit, self._holder)

    def _memory_released(self, now: int, qubit: int) -> None:
        if self._delivered.pop(qubit, None) is not None:
            _PAIR_STEP("delivered", Released)
        self._pump(now)

    def _choose(self) -> _Request:
        """The request to attempt for next: round robin, pair by pair, among
        the ready requests of the best priority, so that requests sharing
        the link all progress. Both ends see the same ready requests and the
        same heralds, so they choose alike."""
        ready = self._ready
        best_priority = ready[0][0][0]
        last = self._last_served
        for order, key in ready:
            if order[0] != best_priority:
                break
            if last is None or order > last:
                return self._requests[key]
        return self._requests[ready[0][1]]

    def _pump(self, now: int) -> None:
        """Arm the physical layer for the queue head, if idle and memory allows."""
        if self._armed is not None or not self._ready or self.state == "down":
            return
        if len(self._delivered) >= self.capacity:
            return
        qubit = self._memory.allocate(self._holder)
        if qubit is None:
            return
        item = self._choose()
        self._armed = item
        self._armed_qubit = qubit
        self._station.attempt(self.side, now, Attempt(item.key, qubit, item.setting))
