"""The bookkeeping of one link end's share of the link's request queue:
requests, timers, the ready list, arming the station, ending requests and
freeing what they hold. :class:`qstack.layers.link.egp.LinkLayer` builds its
inputs and lifecycle handlers on it."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import ClassVar, cast

from qstack.fsm.table import FastTable
from qstack.layers.link import state as lc
from qstack.layers.link.messages import (
    LinkError,
    LinkErrorReason,
    QueueAdd,
    QueueCredit,
    QueueReject,
)
from qstack.layers.link.service import LinkContext, LinkUser
from qstack.layers.link.state import DeliveredPair, LinkRequest, RequestKey
from qstack.messages import PeerMessage, Unbound
from qstack.sim.random import OWN_STREAM_BLOCK, UniformBuffer


class LinkQueue:
    """One end's view of the link's shared request queue (see the module docstring)."""

    entity_table: ClassVar[FastTable]
    request_table: ClassVar[FastTable]
    pair_table: ClassVar[FastTable]

    def __init__(self, context: LinkContext) -> None:
        self.context = context
        self.node = context.node
        self.peer = context.peer
        self.side = context.side
        self.is_master = context.side == 0
        self.state = "idle"
        self._memory = context.memory
        self._physical = context.physical
        self._settings = context.settings
        self._send: Callable[[PeerMessage], None] = self._not_connected
        self._set_timer = context.set_timer
        self._delay_ps = context.one_way_delay_ps
        # The entity's own stream: small blocks do not change its draws.
        self._uniform = UniformBuffer(context.rng, OWN_STREAM_BLOCK).random
        self._rng = context.rng
        self._holder = f"link/{context.peer}"
        self._upper_holder = context.upper_holder
        self.capacity = context.capacity
        self._user: LinkUser = Unbound(f"link {context.node}->{context.peer}")
        self._requests: dict[RequestKey, LinkRequest] = {}
        self._ready: list[tuple[tuple[int, int], RequestKey]] = []
        #: How many of the ready requests have a window (flow control).
        self._windowed_ready = 0
        self._next_create_id = 0
        self._next_qseq = 0
        self._armed: LinkRequest | None = None
        self._armed_qubit = -1
        self._last_served: tuple[int, int] | None = None
        self._delivered: dict[int, DeliveredPair] = {}
        # What keeps the link down now: "fiber", "peer", "node" (none: up).
        self._faults: set[str] = set()
        context.memory.on_release(self._memory_released)

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
        return self._user

    def _memory_released(self, now: int, qubit: int) -> None:
        pair = self._delivered.get(qubit)
        if pair is not None:
            self.pair_table.dispatch(self, pair, now, lc.RELEASED)
        self._pump(now)

    def _credit(self, now: int, item: LinkRequest) -> None:
        """A kept pair of a request with a window was freed here: both ends
        count it freed from the same agreed time (QUEUE_CREDIT)."""
        if self._requests.get(item.key) is not item:
            return  # the request has ended here: nothing left to agree on
        at_ps = now + self._delay_ps + 1
        self._set_timer(at_ps - now, self._credit_due, (item, self.side))
        # Trusted: the fields come from this end's own validated request.
        self._send(QueueCredit.trusted(origin=item.origin, create_id=item.create_id, at_ps=at_ps))

    def _credit_due(self, now: int, argument: object) -> None:
        item, side = cast(tuple[LinkRequest, int], argument)
        if self._requests.get(item.key) is item:
            self.request_table.dispatch(self, item, now, lc.CREDIT_TIMES[side])

    def _rechoose(self, now: int) -> None:
        """What may be attempted changed: re-arm for the new choice unless
        attempts for one pair are under way. A batch under way for another
        request would hold the link for many pairs: its pairs heralded so
        far are delivered and the batch ends, so the new choice is served
        now (both ends see the change at the same agreed time)."""
        armed = self._armed
        if armed is not None:
            if not self._physical.running:
                if armed is not self._choose():
                    self._disarm(now)
            elif armed.batch and armed is not self._choose():
                self._physical.flush(now)
                if self._armed is armed:  # nothing heralded yet: stop the batch
                    self._disarm(now)
        self._pump(now)

    def _for_request(self, now: int, origin: str, create_id: int, event: object) -> None:
        """Step a live request's table; a request that has ended here is
        forgotten, so late news about it has nothing to act on."""
        item = self._requests.get((origin, create_id))
        if item is not None:
            self.request_table.dispatch(self, item, now, event, self.peer)

    def _take_create_id(self) -> int:
        create_id = self._next_create_id
        self._next_create_id += 1
        return create_id

    def _take_qseq(self) -> int:
        qseq = self._next_qseq
        self._next_qseq += 1
        return qseq

    def _reject(self, message: QueueAdd, reason: LinkErrorReason) -> None:
        self._send(
            QueueReject(
                origin=message.origin,
                create_id=message.create_id,
                reason=reason,
                detail=f"{self.node} cannot serve min_fidelity = {message.request.min_fidelity}",
            )
        )

    def _add(self, now: int, item: LinkRequest) -> None:
        self._requests[item.key] = item
        if item.deadline_ps is not None:
            item.deadline_timer = self._set_timer(
                max(item.deadline_ps - now, 0), self._deadline_due, item
            )
        self.entity_table.dispatch(self, self, now, lc.REQUEST_QUEUED)

    def _schedule_start(self, now: int, item: LinkRequest) -> None:
        self._set_timer(max(item.start_ps - now, 0), self._start_due, item)

    def _start_due(self, now: int, item: object) -> None:
        assert isinstance(item, LinkRequest)
        if self._requests.get(item.key) is item:
            self.request_table.dispatch(self, item, now, lc.START_TIME)

    def _deadline_due(self, now: int, item: object) -> None:
        assert isinstance(item, LinkRequest)
        if self._requests.get(item.key) is item:
            self._ending(now, item, lc.DEADLINE_PASSED)

    def _cancel_due(self, now: int, item: object) -> None:
        assert isinstance(item, LinkRequest)
        if self._requests.get(item.key) is item:
            self._ending(now, item, lc.CANCEL_TIME)

    def _ending(self, now: int, item: LinkRequest, event: object) -> None:
        """Step a request with an event that ends it; a batch under way for
        it first delivers the pairs heralded so far (to both ends)."""
        if self._armed is item and item.batch:
            self._physical.flush(now)
        if self._requests.get(item.key) is item:
            self.request_table.dispatch(self, item, now, event, self.peer)

    def _end(self, now: int, item: LinkRequest, reason: LinkErrorReason, detail: str) -> None:
        """The request ended without all its pairs: forget it, free what it
        holds, tell the user (ERROR)."""
        self._forget(now, item)
        if self._armed is item:
            self._disarm(now)
        if "node" in self._faults:
            return  # this node failed: it tells no one anything
        self._user.link_error(
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
        """Refuse a CREATE before it reaches the queue (a failed node says nothing)."""
        if "node" in self._faults:
            return
        self._user.link_error(
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

    def _forget(self, now: int, item: LinkRequest) -> None:
        del self._requests[item.key]
        entry = (item.order, item.key)
        position = bisect.bisect_left(self._ready, entry)
        if position < len(self._ready) and self._ready[position] == entry:
            del self._ready[position]
            if item.window is not None:
                self._windowed_ready -= 1
        if item.deadline_timer is not None:
            item.deadline_timer.cancel()
        if not self._requests and self.state == "serving":
            self.entity_table.dispatch(self, self, now, lc.QUEUE_EMPTIED)

    def _disarm(self, now: int) -> None:
        self._physical.cancel(now)
        self._armed = None
        self._memory.release(now, self._armed_qubit, self._holder)

    def _choose(self) -> LinkRequest | None:
        """The request to attempt for next: round robin, pair by pair, among
        the ready requests of the best priority that are open (below their
        window at both ends), so that requests sharing the link all
        progress. Both ends see the same ready requests, the same heralds
        and the same credits at the same times, so they choose alike. (Where
        no ready request has a window, every one is open: the first loop.)"""
        ready = self._ready
        requests = self._requests
        last = self._last_served
        if not self._windowed_ready:
            best = ready[0][0][0]
            for order, key in ready:
                if order[0] != best:
                    break
                if last is None or order > last:
                    return requests[key]
            return requests[ready[0][1]]
        best_priority: int | None = None
        first: LinkRequest | None = None
        for order, key in ready:
            item = requests[key]
            if item.window is not None and not item.open:
                continue
            if best_priority is None:
                best_priority = order[0]
                first = item
            elif order[0] != best_priority:
                break
            if last is None or order > last:
                return item
        return first

    def _pump(self, now: int) -> None:
        """Arm the physical layer for the queue head, if idle and memory allows."""
        if self._armed is not None or not self._ready or self.state == "down":
            return
        if len(self._delivered) >= self.capacity:
            return
        if self._windowed_ready and self._choose() is None:
            return  # every ready request is at its window
        qubit = self._memory.allocate(self._holder)
        if qubit is None:
            return
        item = self._choose()
        assert item is not None
        self._armed = item
        self._armed_qubit = qubit
        if item.batch:
            number = item.create.number
            pairs = item.batch if number is None else min(item.batch, number - item.delivered)
            self._physical.attempt(now, qubit, item.key, item.setting, pairs, item.deadline_ps)
            return
        self._physical.attempt(now, qubit, item.key, item.setting)
