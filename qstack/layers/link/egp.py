"""The built-in link layer: an EGP-like entanglement generation protocol.

One :class:`LinkLayer` entity per node per link. The two ends keep one
shared request queue: the link's ``a`` node is the queue master, which
numbers requests (``qseq``) and fixes the time from which both ends serve
them (``start_ps``), late enough that the peer has heard of the request by
then. Both ends then always arm the physical layer for the same queue head,
so the station sees matching tags; a pair heralded at the station reaches
both ends at the same instant and both report it with the same pair id.

Lifecycles (the tables at the end of this module): the entity itself, each
request and each kept pair. All run on fast tables: a node has one link
entity per link, so a large topology has thousands of them, too many for a
``transitions`` machine each (the node's network entity has one).
"""

from __future__ import annotations

import bisect
from typing import ClassVar, Literal

import numpy as np

from qstack.fsm.table import StateTable, Transition
from qstack.layers.link import state as lc
from qstack.layers.link.faults import LinkFaults
from qstack.layers.link.messages import (
    Basis,
    LinkCancel,
    LinkCreate,
    LinkExpire,
    LinkOk,
    LinkOkBatch,
    QueueAck,
    QueueAdd,
    QueueCancel,
    QueueCredit,
    QueueReject,
)
from qstack.layers.link.service import LinkContext
from qstack.layers.link.state import DeliveredPair, LinkRequest
from qstack.layers.physical.service import Herald, HeraldBatch
from qstack.messages import BASES, DIGITS, PeerMessage, to_text


class LinkLayer(LinkFaults):
    """The link-layer entity of ``context.node`` for its link to ``context.peer``.

    Sans-IO: every input carries ``now``; outputs go through the callables
    of its context (peer messages, timers, the physical port, the user).
    Inputs go through its lifecycle tables: ``receive``, ``create``,
    ``cancel`` and the faults step the entity table, which hands
    per-request messages to the request table; ``herald`` steps the armed
    request's table.
    """

    #: The protocol's name in the registry (``[stack] link = "egp"``).
    name: ClassVar[str] = "egp"

    def __init__(self, context: LinkContext) -> None:
        super().__init__(context)
        context.physical.attach(self)

    # -- inputs: each goes through a table ----------------------------------

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
        self.entity_table.dispatch(self, self, now, request)
        return create_id

    def cancel(self, now: int, request: LinkCancel) -> None:
        """CANCEL: end a request this node created.

        Both ends stop at the same time, one classical delay from now, so
        they agree on every pair delivered before; both then report
        ERROR(cancelled).
        """
        self.entity_table.dispatch(self, self, now, request)

    def receive(self, now: int, message: PeerMessage) -> None:
        """Handle a peer message from the other end of the link."""
        self.entity_table.dispatch(self, self, now, message, self.peer)

    def herald(self, now: int, herald: Herald) -> None:
        """HERALD: the armed attempt succeeded; the armed request gets the pair."""
        item = self._armed
        assert item is not None, "herald without an armed attempt"
        self.request_table.dispatch(self, item, now, herald)

    def herald_batch(self, now: int, batch: HeraldBatch) -> None:
        """HERALD_BATCH: the armed batch's pairs, to be measured at once."""
        item = self._armed
        assert item is not None, "herald without an armed attempt"
        self.request_table.dispatch(self, item, now, batch)

    def fault(self, now: int, event: lc.LinkFault) -> None:
        """A fault at this end (see :class:`qstack.layers.link.service.LinkEntity`)."""
        self.entity_table.dispatch(self, self, now, event)

    def undeliverable(self, now: int, message: PeerMessage) -> None:
        """The peer cannot be reached: the request the message was about ends."""
        self.entity_table.dispatch(self, self, now, lc.Undeliverable(message))

    # -- entity handlers ------------------------------------------------------

    def _on_create(self, _: LinkLayer, now: int, request: LinkCreate) -> None:
        create_id = self._take_create_id()
        setting = self._settings.setting_for(request.min_fidelity)
        if setting is None:
            self._error_now(
                now,
                create_id,
                "unsupported_fidelity",
                f"min_fidelity = {request.min_fidelity}: this link cannot reach it",
            )
            return
        deadline = None if request.max_time_ps is None else now + request.max_time_ps
        item = LinkRequest(self.node, create_id, request, setting, deadline)
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

    def _refuse_create(self, _: LinkLayer, now: int, request: LinkCreate) -> None:
        self._error_now(now, self._take_create_id(), "link_down", "the link is down")

    def _cancel_request(self, _: LinkLayer, now: int, request: LinkCancel) -> None:
        self._for_request(now, self.node, request.create_id, request)

    def _on_queue_add(self, _: LinkLayer, now: int, message: QueueAdd) -> None:
        request = message.request
        setting = self._settings.setting_for(request.min_fidelity)
        if setting is None:
            self._reject(message, "unsupported_fidelity")
            return
        item = LinkRequest(message.origin, message.create_id, request, setting, message.deadline_ps)
        if self.is_master:
            item.qseq = self._take_qseq()
            item.start_ps = now + self._delay_ps + 1
        else:
            assert message.qseq is not None and message.start_ps is not None
            item.qseq = message.qseq
            item.start_ps = message.start_ps
        self._add(now, item)
        self.request_table.dispatch(self, item, now, message, self.peer)

    def _reject_queue_add(self, _: LinkLayer, now: int, message: QueueAdd) -> None:
        self._reject(message, "link_down")

    def _to_request(
        self, _: LinkLayer, now: int, message: QueueAck | QueueReject | QueueCancel | QueueCredit
    ) -> None:
        self._for_request(now, message.origin, message.create_id, message)

    # -- request handlers -----------------------------------------------------

    def _accepted(self, item: LinkRequest, now: int, message: QueueAdd) -> None:
        self._send(
            QueueAck(
                origin=item.origin,
                create_id=item.create_id,
                qseq=item.qseq,
                start_ps=item.start_ps,
            )
        )
        self._schedule_start(now, item)

    def _acked(self, item: LinkRequest, now: int, message: QueueAck) -> None:
        if not self.is_master:
            item.qseq = message.qseq
            item.start_ps = message.start_ps
        self._schedule_start(now, item)

    def _ready_now(self, item: LinkRequest, now: int, _: lc.StartTime) -> None:
        bisect.insort(self._ready, (item.order, item.key))
        if item.window is not None:
            self._windowed_ready += 1
        self._rechoose(now)

    def _credited(self, item: LinkRequest, now: int, event: lc.CreditTime) -> None:
        item.credited[event.side] += 1
        self._rechoose(now)

    def _peer_credits(self, item: LinkRequest, now: int, message: QueueCredit) -> None:
        self._set_timer(max(message.at_ps - now, 0), self._credit_due, (item, 1 - self.side))

    def _send_cancel(self, item: LinkRequest, now: int, request: LinkCancel) -> None:
        end_ps = now + self._delay_ps + 1
        self._set_timer(end_ps - now, self._cancel_due, item)
        self._send(QueueCancel(origin=self.node, create_id=item.create_id, end_ps=end_ps))

    def _peer_cancels(self, item: LinkRequest, now: int, message: QueueCancel) -> None:
        self._set_timer(max(message.end_ps - now, 0), self._cancel_due, item)

    def _rejected(self, item: LinkRequest, now: int, message: QueueReject) -> None:
        self._end(now, item, message.reason, message.detail)

    def _timed_out(self, item: LinkRequest, now: int, _: lc.DeadlinePassed) -> None:
        self._end(
            now,
            item,
            "timeout",
            f"max_time_ps = {item.create.max_time_ps} passed after {item.delivered} "
            f"of {item.create.number or 'unlimited'} pairs",
        )

    def _cancelled(self, item: LinkRequest, now: int, _: lc.CancelTime) -> None:
        self._end(now, item, "cancelled", f"cancelled by {item.origin}")

    def _link_ended(self, item: LinkRequest, now: int, event: lc.LinkEnded) -> None:
        self._end(now, item, "link_down", event.detail)

    def _deliver(self, item: LinkRequest, now: int, herald: Herald) -> None:
        """Report the heralded pair up (OK), measuring it first for measure
        requests."""
        qubit = self._armed_qubit
        self._armed = None
        self._last_served = (item.create.priority, item.qseq)
        item.delivered += 1
        if item.state == "done":
            self._forget(now, item)
        create = item.create
        basis: Basis | None = None
        outcome: Literal[0, 1] | None = None
        if create.type == "measure":
            basis = "Z" if self._uniform() < create.z_basis_probability else "X"
            outcome = self._memory.qubits.measure(now, qubit, basis, self._uniform)
            self._memory.release(now, qubit, self._holder)
            reported_qubit: int | None = None
        else:
            self._memory.transfer(qubit, self._upper_holder, self._holder)
            reported_qubit = qubit
        ok = LinkOk.trusted(
            create_id=item.create_id,
            origin=item.origin,
            remote=self.peer,
            pair_id=herald.pair_id,
            seq=item.delivered - 1,
            bell_index=herald.bell_index,
            qubit=reported_qubit,
            time_ps=now,
            fidelity=float(min(herald.fidelity, 1.0)),
            purpose_id=create.purpose_id,
            basis=basis,
            outcome=outcome,
        )
        if reported_qubit is not None:
            windowed = item if item.window is not None else None
            self._delivered[reported_qubit] = DeliveredPair(ok, windowed)
            item.kept += 1
        self._user.link_ok(now, ok)
        self._pump(now)

    def _deliver_batch(self, item: LinkRequest, now: int, batch: HeraldBatch) -> None:
        """Measure this end's halves of a batch of pairs at once, each in a
        basis of its own (Z with the request's ``z_basis_probability``), and
        report them up (OK_BATCH): the measure-directly path."""
        self._armed = None
        self._last_served = (item.create.priority, item.qseq)
        count = len(batch.times_ps)
        first_seq = item.delivered
        item.delivered += count
        if item.state == "done":
            self._forget(now, item)
        create = item.create
        rng = self._rng
        bases = (rng.random(count) >= create.z_basis_probability).astype(np.uint8)
        outcomes = self._memory.qubits.measure_batch(batch.pairs, self.side, bases, rng)
        self._memory.release(now, self._armed_qubit, self._holder)
        if "node" not in self._faults:  # a failed node tells no one anything
            self._user.link_ok_batch(
                now,
                # Trusted: every column is built here from the simulated batch.
                LinkOkBatch.trusted(
                    create_id=item.create_id,
                    origin=item.origin,
                    remote=self.peer,
                    first_pair_id=batch.first_pair_id,
                    first_seq=first_seq,
                    purpose_id=create.purpose_id,
                    bell_indices=to_text(batch.pairs.bell_indices, DIGITS),
                    bases=to_text(bases, BASES),
                    outcomes=to_text(outcomes, DIGITS),
                    times_ps=tuple(batch.times_ps.tolist()),
                    fidelities=tuple(batch.fidelities.tolist()),
                ),
            )
        self._pump(now)

    # -- delivered-pair handlers ----------------------------------------------

    def _freed(self, pair: DeliveredPair, now: int, _: lc.Released) -> None:
        assert pair.ok.qubit is not None
        del self._delivered[pair.ok.qubit]
        if pair.request is not None:
            self._credit(now, pair.request)

    def _expire(self, pair: DeliveredPair, now: int, _: lc.PeerLost) -> None:
        ok = pair.ok
        assert ok.qubit is not None
        del self._delivered[ok.qubit]
        self._user.link_expire(
            now,
            LinkExpire(
                create_id=ok.create_id,
                origin=ok.origin,
                remote=self.peer,
                pair_id=ok.pair_id,
                qubit=ok.qubit,
            ),
        )

    # -- internals ------------------------------------------------------------


def _last_pair(entity: LinkLayer, item: LinkRequest, herald: Herald) -> bool:
    """The pair heralded now is the request's last (never for number None)."""
    return item.delivered + 1 == item.create.number


def _last_batch(entity: LinkLayer, item: LinkRequest, batch: HeraldBatch) -> bool:
    """The batch heralded now ends the request."""
    return item.delivered + len(batch.times_ps) == item.create.number


def _last_cause(entity: LinkLayer, _: LinkLayer, event: lc.LinkFault) -> bool:
    """Clearing this cause leaves the link with none: it is up again."""
    return entity._faults == {event.cause}


_L = LinkLayer
_LIVE = ("negotiating", "queued")

LINK_ENTITY = StateTable(
    name="link entity",
    states=("idle", "serving", "down"),
    initial="idle",
    final=(),
    transitions=(
        *(Transition(s, LinkCreate, s, _L._on_create) for s in ("idle", "serving")),
        Transition("down", LinkCreate, "down", _L._refuse_create, note="ERROR link_down"),
        *(Transition(s, LinkCancel, s, _L._cancel_request) for s in ("idle", "serving", "down")),
        *(Transition(s, QueueAdd, s, _L._on_queue_add) for s in ("idle", "serving")),
        Transition("down", QueueAdd, "down", _L._reject_queue_add, note="QUEUE_REJECT"),
        *(
            Transition(s, message, s, _L._to_request)
            for message in (QueueAck, QueueReject, QueueCancel, QueueCredit)
            for s in ("idle", "serving", "down")
        ),
        Transition("idle", lc.RequestQueued, "serving"),
        Transition("serving", lc.RequestQueued, "serving"),
        Transition("serving", lc.QueueEmptied, "idle"),
        *(
            Transition(s, fault, "down", _L._went_down, note="ERROR link_down")
            for fault in lc.DOWN_FAULTS
            for s in ("idle", "serving")
        ),
        *(Transition("down", fault, "down", _L._also_down) for fault in lc.DOWN_FAULTS),
        *(
            row
            for fault in lc.UP_FAULTS
            for row in (
                Transition("down", fault, "idle", _L._cause_cleared, _last_cause),
                Transition("down", fault, "down", _L._cause_cleared),
                *(Transition(s, fault, s, _L._cause_cleared) for s in ("idle", "serving")),
            )
        ),
        *(
            Transition(s, lc.Undeliverable, s, _L._lost_contact)
            for s in ("idle", "serving", "down")
        ),
    ),
)

REQUEST_LIFECYCLE = StateTable(
    name="link request",
    states=("negotiating", "queued", "done", "failed", "cancelled"),
    initial="negotiating",
    final=("done", "failed", "cancelled"),
    transitions=(
        Transition("negotiating", QueueAck, "queued", _L._acked, note="origin: peer queued it"),
        Transition("negotiating", QueueAdd, "queued", _L._accepted, note="QUEUE_ACK"),
        Transition("negotiating", QueueReject, "failed", _L._rejected, note="ERROR rejected"),
        Transition("queued", lc.StartTime, "queued", _L._ready_now),
        Transition("queued", Herald, "done", _L._deliver, _last_pair, note="OK"),
        Transition("queued", Herald, "queued", _L._deliver, note="OK"),
        Transition("queued", HeraldBatch, "done", _L._deliver_batch, _last_batch, note="OK_BATCH"),
        Transition("queued", HeraldBatch, "queued", _L._deliver_batch, note="OK_BATCH"),
        *(Transition(s, LinkCancel, s, _L._send_cancel, note="QUEUE_CANCEL") for s in _LIVE),
        *(Transition(s, QueueCancel, s, _L._peer_cancels) for s in _LIVE),
        Transition("queued", QueueCredit, "queued", _L._peer_credits),
        Transition("queued", lc.CreditTime, "queued", _L._credited, note="flow control"),
        *(
            Transition(s, lc.DeadlinePassed, "failed", _L._timed_out, note="ERROR timeout")
            for s in _LIVE
        ),
        *(
            Transition(s, lc.LinkEnded, "failed", _L._link_ended, note="ERROR link_down")
            for s in _LIVE
        ),
        *(
            Transition(s, lc.CancelTime, "cancelled", _L._cancelled, note="ERROR cancelled")
            for s in _LIVE
        ),
    ),
)

PAIR_LIFECYCLE = StateTable(
    name="link pair",
    states=("delivered", "released", "expired"),
    initial="delivered",
    final=("released", "expired"),
    transitions=(
        Transition("delivered", lc.Released, "released", _L._freed, note="upper layer freed it"),
        Transition("delivered", lc.PeerLost, "expired", _L._expire, note="EXPIRE"),
    ),
)

LinkLayer.entity_table = LINK_ENTITY.fast()
LinkLayer.request_table = REQUEST_LIFECYCLE.fast()
LinkLayer.pair_table = PAIR_LIFECYCLE.fast()
