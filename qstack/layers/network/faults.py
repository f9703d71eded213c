"""Faults: what a node learns of failed nodes and cut fibers, and what it does.

A node learns of a fault from its own links (LINK_STATUS: its fiber cut,
its neighbour failed) and from the others: news travels as LINK_STATE,
flooded once to every node over the classical network, with its real
delays. What a node has been told is down is its routing view. Circuits
through something down end everywhere (TEARDOWN); with ``reroute``, the
source, once told, installs a new circuit around what is down for the pairs
still owed, and the destination waits for it instead of ending the request.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from qstack.fsm.table import fire
from qstack.layers.link.messages import LinkStatus
from qstack.layers.network.circuit import ALL_DELIVERED, Circuit, NodeUp, PathBroken
from qstack.layers.network.core import NetworkCore
from qstack.layers.network.messages import (
    LinkState,
    NetErrorReason,
    PathReady,
    RequestEnded,
)
from qstack.layers.network.routing import Route
from qstack.messages import PeerMessage
from qstack.sim.kernel import Timer, seconds_to_ps

#: How long a destination waits for the source to route a broken request again.
REROUTE_WAIT_PS = seconds_to_ps(1.0)
#: New circuits a request may get before its source gives up on it.
MAX_REROUTES = 8

Subject = tuple[str, ...]
"""("node", name) or ("link", a, b) with a < b."""


@dataclass(slots=True)
class Awaiting:
    """A request whose circuit broke, at its destination, waiting for a new one."""

    src: str
    dst: str
    delivered: int
    kept: list[str] | None
    reroutes: int
    detail: str
    timer: Timer


class Faults(NetworkCore):
    """The node's view of what is down, and rerouting around it."""

    # -- news -----------------------------------------------------------------

    def _on_link_status(self, _: Faults, now: int, status: LinkStatus) -> None:
        if status.cause in ("peer_failed", "peer_recovered"):
            subject: Subject = ("node", status.remote)
        else:
            subject = ("link", *sorted((self.node, status.remote)))
        self._learn(now, subject, status.up, now, self.node, None)
        if not status.up:
            self._void_link_requests(now, status.remote)

    def _link_down(self, peer: str) -> bool:
        """Whether this node was told the link to ``peer`` cannot serve."""
        return peer in self._down_nodes or frozenset((self.node, peer)) in self._down_links

    def _void_link_requests(self, now: int, peer: str) -> None:
        """The link to ``peer`` went down: its link layer ended the requests
        it knew of and will never hear of the others, so no circuit waits
        for any of them."""
        for circuit in list(self._circuits.values()):
            for key in [key for key in circuit.link_keys if key[0] == peer]:
                self._link_request_ended(now, circuit, key)

    def _on_link_state(self, _: Faults, now: int, news: LinkState) -> None:
        if news.node is not None:
            subject: Subject = ("node", news.node)
        else:
            assert news.a is not None and news.b is not None
            subject = ("link", *sorted((news.a, news.b)))
        self._learn(now, subject, news.up, news.version, news.origin, news.via)

    def _learn(
        self,
        now: int,
        subject: Subject,
        up: bool,
        version: int,
        origin: str,
        came_from: str | None,
    ) -> None:
        """Take news that is newer than what this node knows, pass it on
        once, and end the circuits it breaks."""
        if self._news.get(subject, -1) >= version:
            return
        self._news[subject] = version
        if subject[0] == "node":
            node: str | None = subject[1]
            a = b = None
            if up:
                self._down_nodes.discard(subject[1])
            else:
                self._down_nodes.add(subject[1])
        else:
            node = None
            a, b = subject[1], subject[2]
            link = frozenset((a, b))
            if up:
                self._down_links.discard(link)
            else:
                self._down_links.add(link)
        news = LinkState(origin=origin, via=self.node, version=version, node=node, a=a, b=b, up=up)
        for neighbour in self._links:
            if neighbour != came_from and neighbour not in self._down_nodes:
                delay = self._link_delay_ps(self.node, neighbour)
                self._send_along(neighbour, news, delay, (self.node, neighbour), 0, 1)
        if not up:
            self._cull(now, subject)

    def _cull(self, now: int, subject: Subject) -> None:
        """End every live circuit whose path crosses what went down."""
        for circuit in list(self._circuits.values()):
            if circuit.ended:
                continue
            if subject[0] == "node":
                if subject[1] != self.node and subject[1] in circuit.path:
                    self._step(now, circuit, PathBroken(f"node {subject[1]} is down"))
                continue
            cut = {subject[1], subject[2]}
            if any({u, v} == cut for u, v in itertools.pairwise(circuit.path)):
                self._step(now, circuit, PathBroken(f"fiber {subject[1]}-{subject[2]} is cut"))

    def undeliverable(self, now: int, target: str, message: PeerMessage) -> None:
        """A circuit's message could not reach ``target``: the circuit ends."""
        circuit = self._circuits.get(getattr(message, "circuit", ""))
        if circuit is not None and not circuit.ended:
            self._step(now, circuit, PathBroken(f"{target} could not be reached"))

    def node_recovered(self, now: int) -> None:
        """Fault: this node is back (empty memory, no circuits): it tells the others."""
        fire(self, "network entity", NodeUp(), now)

    def _recovered(self, _: Faults, now: int, event: NodeUp) -> None:
        self._down_nodes.clear()
        self._down_links.clear()
        self._news.clear()
        self._learn(now, ("node", self.node), True, now, self.node, None)

    # -- rerouting --------------------------------------------------------------

    def _path_broken(self, circuit: Circuit, now: int, broken: PathBroken) -> None:
        self._end_failed(now, circuit, "torn_down", broken.detail)

    def _rerouting(self, now: int, circuit: Circuit, reason: NetErrorReason, detail: str) -> bool:
        """At an end of a broken circuit of a ``reroute`` request: route again
        (source) or wait for the new circuit (destination). False: the
        request ends here with NET_ERROR as usual."""
        if not circuit.request.reroute or reason != "torn_down" or circuit.done_here:
            return False
        if circuit.position == 0:
            return self._reroute(now, circuit, detail)
        if circuit.src in self._down_nodes:
            return False
        if any(
            other is not circuit and other.request_id == circuit.request_id and not other.ended
            for other in self._circuits.values()
        ):
            return True  # a new circuit replaced this one already
        wait = REROUTE_WAIT_PS
        if circuit.deadline_ps is not None:
            wait = max(0, min(wait, circuit.deadline_ps - now))
        timer = self._set_timer(wait, self._reroute_overdue, circuit.request_id)
        self._awaiting[circuit.request_id] = Awaiting(
            circuit.src,
            circuit.dst,
            circuit.delivered,
            circuit.kept,
            circuit.reroutes,
            detail,
            timer,
        )
        return True

    def _reroute(self, now: int, old: Circuit, detail: str) -> bool:
        if old.delivered >= old.request.number:
            return False
        if old.reroutes >= MAX_REROUTES:
            self._abandon(now, old, "torn_down", f"{detail}; gave up after {MAX_REROUTES} reroutes")
            return True
        answer = self._route(old.request_id, old.request)
        if not isinstance(answer, Route):
            reason, why = answer
            self._abandon(now, old, reason, f"{detail}; no way around it: {why}")
            return True
        circuit = self._open(
            now,
            f"{old.request_id}/{old.reroutes + 1}",
            self.node,
            answer.path,
            0,
            old.request,
            old.deadline_ps,
            request_id=old.request_id,
        )
        circuit.delivered = old.delivered
        circuit.kept = old.kept
        circuit.carried = len(old.kept or ())
        circuit.dst_ready = False
        circuit.reroutes = old.reroutes + 1
        self._routes[old.request_id] = (answer.path, circuit.reroutes)
        self._launch(now, circuit)
        return True

    def _abandon(self, now: int, old: Circuit, reason: NetErrorReason, detail: str) -> None:
        """The source ends a broken request it cannot route again; the
        destination, waiting for a new circuit, is told."""
        self._answer_error(now, old.request_id, old.dst, reason, detail, old.delivered, old.src)
        self._send_anywhere(
            old.dst, RequestEnded(request_id=old.request_id, reason=reason, detail=detail)
        )

    def _take_over(self, now: int, circuit: Circuit) -> bool:
        """At the destination of a new circuit for a rerouted request: count on
        from where the broken one stopped, and end what is left of it. False:
        the circuit is older than one the request has here (a late install)."""
        others = [
            other
            for other in self._circuits.values()
            if other is not circuit and other.request_id == circuit.request_id and not other.ended
        ]
        if any(other.reroutes > circuit.reroutes for other in others):
            return False
        waiting = self._awaiting.pop(circuit.request_id, None)
        if waiting is not None:
            waiting.timer.cancel()
            circuit.delivered = waiting.delivered
            circuit.kept = waiting.kept
        for other in others:
            circuit.delivered = other.delivered
            circuit.kept = other.kept
            self._step(now, other, PathBroken(f"replaced by circuit {circuit.id}"))
        return True

    def _path_ready(self, circuit: Circuit, now: int, ready: PathReady) -> None:
        """At the source of a new circuit: pairs it delivered on the broken
        ones whose commit never reached the destination expire here and are
        owed again."""
        if circuit.dst_ready:
            return
        circuit.dst_ready = True
        kept = circuit.kept
        assert kept is not None and ready.delivered_ids is not None
        there = set(ready.delivered_ids)
        lost = [pair_id for pair_id in kept[: circuit.carried] if pair_id not in there]
        if lost:
            gone = set(lost)
            kept[:] = [pair_id for pair_id in kept if pair_id not in gone]
            circuit.delivered -= len(lost)
            for pair_id in lost:
                self._expire_pair(now, circuit, pair_id)
        if circuit.delivered == circuit.request.number:
            self._step(now, circuit, ALL_DELIVERED)

    def _reroute_overdue(self, now: int, request_id: object) -> None:
        assert isinstance(request_id, str)
        waiting = self._awaiting.pop(request_id, None)
        if waiting is not None:
            detail = f"{waiting.detail}; no new circuit came from {waiting.src} in time"
            self._answer_error(
                now, request_id, waiting.dst, "torn_down", detail, waiting.delivered, waiting.src
            )

    def _request_ended(self, _: Faults, now: int, message: RequestEnded) -> None:
        waiting = self._awaiting.pop(message.request_id, None)
        if waiting is not None:
            waiting.timer.cancel()
            self._answer_error(
                now,
                message.request_id,
                waiting.dst,
                message.reason,
                message.detail,
                waiting.delivered,
                waiting.src,
            )
