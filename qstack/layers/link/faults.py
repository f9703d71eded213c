"""A link end's faults: the fiber cut or repaired, the peer or this node
failed or back. The first cause takes the link down and ends every live
request (a batch under way first delivers what it heralded); the layer
above hears of the fiber and the peer (LINK_STATUS) and of the kept pairs
a failed peer held the other halves of (EXPIRE)."""

from __future__ import annotations

from qstack.layers.link import state as lc
from qstack.layers.link.messages import LinkCause, LinkStatus
from qstack.layers.link.queue import LinkQueue


class LinkFaults(LinkQueue):
    """The fault handlers of :class:`qstack.layers.link.egp.LinkLayer`'s entity table."""

    def _went_down(self, _: LinkFaults, now: int, event: lc.LinkFault) -> None:
        """A first cause takes the link down: the layer above is told why,
        then every live request ends."""
        self._faults.add(event.cause)
        self._fault_effects(now, event)
        detail = {
            "fiber": "the link's fiber was cut",
            "peer": f"node {self.peer} failed",
            "node": f"node {self.node} failed",
        }[event.cause]
        for item in list(self._requests.values()):
            self._ending(now, item, lc.LinkEnded(detail))

    def _also_down(self, _: LinkFaults, now: int, event: lc.LinkFault) -> None:
        """Another cause while the link is down already (a node that fails
        forgets what it knew: it learns the link's state again when it is back)."""
        if isinstance(event, lc.NodeFailed):
            self._faults.clear()
        self._faults.add(event.cause)
        self._fault_effects(now, event)

    def _cause_cleared(self, _: LinkFaults, now: int, event: lc.LinkFault) -> None:
        self._faults.discard(event.cause)
        self._fault_effects(now, event)
        if self.state != "down":
            self._pump(now)

    def _fault_effects(self, now: int, event: lc.LinkFault) -> None:
        """What the layer above hears of a fault: the peer's failure expires
        the kept pairs it held the other halves of; the fiber and the peer
        are reported (LINK_STATUS)."""
        if isinstance(event, lc.PeerFailed):
            for pair in list(self._delivered.values()):
                self.pair_table.dispatch(self, pair, now, lc.PEER_LOST, self.peer)
        cause = _STATUS_CAUSES.get(type(event))
        if cause is not None and "node" not in self._faults:  # a dead node says nothing
            up = isinstance(event, lc.UP_FAULTS)
            self._user.link_status(now, LinkStatus(remote=self.peer, up=up, cause=cause))

    def _lost_contact(self, _: LinkFaults, now: int, event: lc.Undeliverable) -> None:
        message = event.message
        origin = getattr(message, "origin", None)
        create_id = getattr(message, "create_id", None)
        if isinstance(origin, str) and isinstance(create_id, int):
            detail = f"{self.peer} could not be reached ({type(message).__name__} undeliverable)"
            item = self._requests.get((origin, create_id))
            if item is not None:
                self._ending(now, item, lc.LinkEnded(detail))


#: The LINK_STATUS cause each fault at the fiber or the peer is reported with.
_STATUS_CAUSES: dict[type, LinkCause] = {
    lc.FiberCut: "cut",
    lc.FiberRepaired: "repaired",
    lc.PeerFailed: "peer_failed",
    lc.PeerRecovered: "peer_recovered",
}
