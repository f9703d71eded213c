"""A link protocol written from the documented service alone.

``FifoLink`` does not subclass qstack's built-in link layer: it is built
from a ``LinkContext`` (what every link end gets, in a network and in the
conformance harness alike) and offers the ``LinkEntity`` protocol
(``qstack.layers.link.service``): CREATE / CANCEL from above, OK / ERROR /
EXPIRE up, its own peer messages over the classical channel, and the
physical layer's ATTEMPT / CANCEL / HERALD through ``context.physical``.

Its policy is the simplest that keeps both ends in step: one shared queue in
the order the link's ``a`` end (the master) numbered the requests, served
strictly first in, first out, one pair at a time. The master fixes when both
ends start serving a request (late enough for the other end to have heard
of it), deadlines are absolute times both ends know, and a CANCEL ends a
request at an agreed time, so the two ends always arm the station for the
same request and report the same pairs.

Run it with ``python examples/protocol_link.py``: it checks the protocol
against the link contract, then runs it on every link of a five-node chain.
The same from the shell::

    qstack conform link examples.protocol_link:FifoLink
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Literal, cast

from pydantic import Field

import qstack
from qstack.conformance import run_contract
from qstack.layers.link.messages import (
    LinkCancel,
    LinkCause,
    LinkCreate,
    LinkError,
    LinkErrorReason,
    LinkExpire,
    LinkOk,
    LinkStatus,
    NodeName,
)
from qstack.layers.link.service import LinkContext, LinkUser
from qstack.layers.link.state import (
    DOWN_FAULTS,
    UP_FAULTS,
    FiberCut,
    FiberRepaired,
    LinkFault,
    NodeFailed,
    PeerFailed,
    PeerRecovered,
)
from qstack.layers.physical.service import AttemptSetting, Herald
from qstack.messages import PeerMessage


class FifoAdd(PeerMessage):
    """A request for the shared queue; from the master it carries its place."""

    kind: Literal["FIFO_ADD"] = "FIFO_ADD"
    origin: NodeName
    create_id: int = Field(ge=0)
    request: LinkCreate
    deadline_ps: int | None
    place: int | None
    start_ps: int | None


class FifoPlace(PeerMessage):
    """The master's answer: the request's place in the queue and its start."""

    kind: Literal["FIFO_PLACE"] = "FIFO_PLACE"
    origin: NodeName
    create_id: int = Field(ge=0)
    place: int = Field(ge=0)
    start_ps: int = Field(ge=0)


class FifoEnd(PeerMessage):
    """End a request at ``end_ps`` at both ends (a CANCEL, or a refusal)."""

    kind: Literal["FIFO_END"] = "FIFO_END"
    origin: NodeName
    create_id: int = Field(ge=0)
    end_ps: int = Field(ge=0)
    reason: LinkErrorReason
    detail: str


#: Why and how a request ends: (origin, create_id, reason, detail).
_Ending = tuple[str, int, LinkErrorReason, str]


class _Request:
    """One queued request as one end sees it."""

    def __init__(
        self, origin: str, create_id: int, create: LinkCreate, setting: AttemptSetting
    ) -> None:
        self.origin = origin
        self.create_id = create_id
        self.create = create
        self.setting = setting
        self.place = -1
        self.ready = False
        self.delivered = 0


class FifoLink:
    """One end of a link running the first-in, first-out protocol above."""

    name = "fifo"

    def __init__(self, context: LinkContext) -> None:
        self.context = context
        self.node, self.peer = context.node, context.peer
        self.capacity = context.capacity
        self._master = context.side == 0
        self._delay = context.one_way_delay_ps
        self._holder = f"fifo/{context.peer}"
        self._send: Callable[[PeerMessage], None] = self._not_connected
        self._user: LinkUser | None = None
        self._requests: dict[tuple[str, int], _Request] = {}
        self._next_id = 0
        self._next_place = 0
        self._armed: tuple[_Request, int] | None = None
        self._handed_up: dict[int, LinkOk] = {}
        self._causes: set[str] = set()  # what is down: "fiber", "peer", "node"
        context.physical.attach(self)
        context.memory.on_release(self._released)

    # -- wiring ---------------------------------------------------------------

    def bind(self, user: LinkUser) -> None:
        self._user = user

    def connect(self, send: Callable[[PeerMessage], None]) -> None:
        self._send = send

    def _not_connected(self, message: PeerMessage) -> None:
        raise RuntimeError(f"{self.node}: {type(message).__name__} sent before connect()")

    @property
    def user(self) -> LinkUser:
        assert self._user is not None, "bind() the layer above first"
        return self._user

    @property
    def next_create_id(self) -> int:
        return self._next_id

    # -- the service ------------------------------------------------------------

    def create(self, now: int, request: LinkCreate) -> int:
        create_id = self._next_id
        self._next_id += 1
        setting = self.context.settings.setting_for(request.min_fidelity)
        if self._down or setting is None:
            reason: LinkErrorReason = "link_down" if self._down else "unsupported_fidelity"
            self._error(now, self.node, create_id, reason, "refused at once", 0)
            return create_id
        item = self._add(now, self.node, create_id, request, setting, self._deadline(now, request))
        place, start = (self._place(), now + 2 * self._delay + 1) if self._master else (None, None)
        if place is not None and start is not None:
            self._schedule(now, item, place, start)
        self._send(
            FifoAdd(
                origin=self.node,
                create_id=create_id,
                request=request,
                deadline_ps=self._deadline(now, request),
                place=place,
                start_ps=start,
            )
        )
        return create_id

    def cancel(self, now: int, request: LinkCancel) -> None:
        if (self.node, request.create_id) in self._requests:
            end = now + self._delay + 1
            self._at(now, end, self._end, (self.node, request.create_id, "cancelled", "cancelled"))
            self._send(
                FifoEnd(
                    origin=self.node,
                    create_id=request.create_id,
                    end_ps=end,
                    reason="cancelled",
                    detail=f"cancelled by {self.node}",
                )
            )

    def receive(self, now: int, message: PeerMessage) -> None:
        if isinstance(message, FifoAdd):
            self._on_add(now, message)
        elif isinstance(message, FifoPlace):
            item = self._requests.get((message.origin, message.create_id))
            if item is not None:
                self._schedule(now, item, message.place, message.start_ps)
        elif isinstance(message, FifoEnd):
            key = (message.origin, message.create_id, message.reason, message.detail)
            self._at(now, message.end_ps, self._end, key)

    def _on_add(self, now: int, message: FifoAdd) -> None:
        setting = self.context.settings.setting_for(message.request.min_fidelity)
        if self._down or setting is None:
            self._send(
                FifoEnd(
                    origin=message.origin,
                    create_id=message.create_id,
                    end_ps=now,
                    reason="rejected",
                    detail=f"{self.node} cannot serve it",
                )
            )
            return
        item = self._add(
            now, message.origin, message.create_id, message.request, setting, message.deadline_ps
        )
        if self._master:
            place, start = self._place(), now + self._delay + 1
            self._send(
                FifoPlace(
                    origin=message.origin, create_id=message.create_id, place=place, start_ps=start
                )
            )
            self._schedule(now, item, place, start)
        else:
            assert message.place is not None and message.start_ps is not None
            self._schedule(now, item, message.place, message.start_ps)

    # -- the physical layer -----------------------------------------------------

    def herald(self, now: int, herald: Herald) -> None:
        assert self._armed is not None
        item, qubit = self._armed
        self._armed = None
        seq = item.delivered
        item.delivered += 1
        if item.delivered == item.create.number:
            del self._requests[(item.origin, item.create_id)]
        memory = self.context.memory
        basis: Literal["Z", "X"] | None = None
        outcome: Literal[0, 1] | None = None
        reported: int | None = qubit
        if item.create.type == "measure":
            basis = "Z" if self.context.rng.random() < 0.5 else "X"
            outcome = memory.qubits.measure(now, qubit, basis, self.context.rng.random)
            memory.release(now, qubit, self._holder)
            reported = None
        else:
            memory.transfer(qubit, self.context.upper_holder, self._holder)
        ok = LinkOk(
            create_id=item.create_id,
            origin=item.origin,
            remote=self.peer,
            pair_id=herald.pair_id,
            seq=seq,
            bell_index=herald.bell_index,
            qubit=reported,
            time_ps=now,
            fidelity=min(herald.fidelity, 1.0),
            purpose_id=item.create.purpose_id,
            basis=basis,
            outcome=outcome,
        )
        if reported is not None:
            self._handed_up[reported] = ok
        self.user.link_ok(now, ok)
        self._serve(now)

    # -- faults -----------------------------------------------------------------

    @property
    def _down(self) -> bool:
        return bool(self._causes)

    def fault(self, now: int, event: LinkFault) -> None:
        """The link is down while any cause is; the first ends every request.
        A node that fails forgets what it knew and says nothing until back."""
        if isinstance(event, NodeFailed):
            self._causes.clear()
        was_up = not self._causes
        if isinstance(event, DOWN_FAULTS):
            self._causes.add(event.cause)
        else:
            self._causes.discard(event.cause)
        speaking = "node" not in self._causes
        if isinstance(event, PeerFailed) and speaking:
            self._expire_handed_up(now)
        cause = _STATUS_CAUSES.get(type(event))
        if cause is not None and speaking:
            up = isinstance(event, UP_FAULTS)
            self.user.link_status(now, LinkStatus(remote=self.peer, up=up, cause=cause))
        if was_up and self._causes:
            for origin, create_id in list(self._requests):
                self._end(now, (origin, create_id, "link_down", "the link went down"))
        self._serve(now)

    def undeliverable(self, now: int, message: PeerMessage) -> None:
        """The peer cannot be reached: the request the message was about ends."""
        if isinstance(message, FifoAdd | FifoPlace | FifoEnd):
            detail = f"{self.peer} could not be reached"
            self._end(now, (message.origin, message.create_id, "link_down", detail))

    def _expire_handed_up(self, now: int) -> None:
        for qubit, ok in list(self._handed_up.items()):
            del self._handed_up[qubit]
            expire = LinkExpire(
                create_id=ok.create_id,
                origin=ok.origin,
                remote=self.peer,
                pair_id=ok.pair_id,
                qubit=qubit,
            )
            self.user.link_expire(now, expire)

    # -- the queue --------------------------------------------------------------

    def _deadline(self, now: int, request: LinkCreate) -> int | None:
        return None if request.max_time_ps is None else now + request.max_time_ps

    def _place(self) -> int:
        self._next_place += 1
        return self._next_place - 1

    def _add(
        self,
        now: int,
        origin: str,
        create_id: int,
        create: LinkCreate,
        setting: AttemptSetting,
        deadline_ps: int | None,
    ) -> _Request:
        item = _Request(origin, create_id, create, setting)
        self._requests[(origin, create_id)] = item
        if deadline_ps is not None:
            detail = f"max_time_ps = {create.max_time_ps} passed"
            self._at(now, deadline_ps, self._end, (origin, create_id, "timeout", detail))
        return item

    def _schedule(self, now: int, item: _Request, place: int, start_ps: int) -> None:
        item.place = place
        self._at(now, start_ps, self._start, item)

    def _at(
        self, now: int, time_ps: int, callback: Callable[[int, object], None], argument: object
    ) -> None:
        """Call ``callback(time, argument)`` at the absolute ``time_ps``."""
        self.context.set_timer(max(time_ps - now, 0), callback, argument)

    def _start(self, now: int, argument: object) -> None:
        assert isinstance(argument, _Request)
        item = argument
        if self._requests.get((item.origin, item.create_id)) is item:
            item.ready = True
            self._serve(now)

    def _head(self) -> _Request | None:
        ready = [item for item in self._requests.values() if item.ready]
        return min(ready, key=lambda item: item.place) if ready else None

    def _serve(self, now: int) -> None:
        """Arm the station for the queue head when idle and memory allows;
        re-arm when the head changed and no attempt is running."""
        head = self._head()
        if self._armed is not None:
            armed, qubit = self._armed
            if armed is head or self.context.physical.running:
                return
            self.context.physical.cancel(now)
            self._armed = None
            self.context.memory.release(now, qubit, self._holder)
        if head is None or self._down or len(self._handed_up) >= self.capacity:
            return
        free = self.context.memory.allocate(self._holder)
        if free is not None:
            self._armed = (head, free)
            key = (head.origin, head.create_id)
            self.context.physical.attempt(now, free, key, head.setting)

    def _end(self, now: int, argument: object) -> None:
        origin, create_id, reason, detail = cast(_Ending, argument)
        item = self._requests.pop((origin, create_id), None)
        if item is None:
            return
        if self._armed is not None and self._armed[0] is item:
            qubit = self._armed[1]
            self.context.physical.cancel(now)
            self._armed = None
            self.context.memory.release(now, qubit, self._holder)
        self._error(now, origin, create_id, reason, detail, item.delivered)
        self._serve(now)

    def _error(
        self,
        now: int,
        origin: str,
        create_id: int,
        reason: LinkErrorReason,
        detail: str,
        delivered: int,
    ) -> None:
        if "node" in self._causes:
            return  # this node is down: its requests end without a word
        error = LinkError(
            create_id=create_id,
            origin=origin,
            remote=self.peer,
            reason=reason,
            detail=detail,
            delivered=delivered,
        )
        self.user.link_error(now, error)

    def _released(self, now: int, qubit: int) -> None:
        self._handed_up.pop(qubit, None)
        self._serve(now)


#: The LINK_STATUS cause each fault at the fiber or the peer is reported with.
_STATUS_CAUSES: dict[type[LinkFault], LinkCause] = {
    FiberCut: "cut",
    FiberRepaired: "repaired",
    PeerFailed: "peer_failed",
    PeerRecovered: "peer_recovered",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20, help="random runs per clause")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = run_contract("link", FifoLink, max_examples=args.examples, seed=args.seed)
    report.implementation = "examples/protocol_link.py:FifoLink"
    print(report.table())
    run = qstack.run(
        {
            "seed": 1,
            "topology": {
                "kind": "chain",
                "nodes": 5,
                "spacing_km": 10.0,
                "node": {"qubits": 4},
                "link": {"model": "double-click"},
            },
            "requests": [{"app": "pairs", "src": "n0", "dst": "n4", "pairs": 100}],
        },
        link_layer=FifoLink,
    )
    request = run.requests[0]
    print(f"\nFifoLink on a five-node chain: {request.status}, {request.delivered} pairs")
    return 0 if report.ok() and request.status == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
