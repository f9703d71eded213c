"""Faults during a run: the API a script (and a scenario's ``[[faults]]``)
uses to break and mend a :class:`qstack.network.Network` while it runs.

Each fault is applied where it happens and nowhere else: the classical
network stops or loses messages, the failed node's own entities stop, and
every other node learns of it only by messages with real delays (its link
layers notice, its network layer is told; see ``specs/network.md``, "Faults").
"""

from __future__ import annotations

from collections.abc import Iterable

from qstack.hardware.memory import Memory
from qstack.layers.app.base import AppHost
from qstack.layers.link import state as lc
from qstack.layers.link.service import LinkEntity
from qstack.layers.network.service import NetworkEntity
from qstack.messages import FaultKind, FaultTrace
from qstack.reports import FaultReport
from qstack.scenario import FaultSpec
from qstack.sim.classical import ClassicalNetwork
from qstack.sim.kernel import Simulator, ps_to_seconds, seconds_to_ps
from qstack.sim.trace import Tracer, TraceRecord


class FaultError(ValueError):
    """A fault that cannot happen: an unknown node or link, or one that is
    down (or up) already."""


class FaultInjection:
    """The fault API of a run's network (mixed into :class:`qstack.network.Network`)."""

    sim: Simulator
    classical: ClassicalNetwork
    tracer: Tracer | None
    memories: dict[str, Memory]
    link_entities: dict[str, dict[str, LinkEntity]]
    network_entities: dict[str, NetworkEntity]
    apps: dict[str, AppHost]
    faults: list[FaultReport]

    def _link_delay_ps(self, a: str, b: str) -> int:
        """The fiber delay of the link ``a``-``b`` (the network knows it)."""
        raise NotImplementedError

    def _catch_up(self, now: int, nodes: Iterable[str]) -> None:
        """Before a fault at ``nodes``: the pairs their links have heralded
        in batches under way (the measure-directly path) are delivered,
        as they would have been one by one before the fault."""
        raise NotImplementedError

    def fail_node(self, name: str) -> None:
        """Fault: node ``name`` crashes now and loses its memory.

        Its entities stop: its circuits end there without a word, its
        sessions end in error. Each neighbour's link layer notices after the
        fiber's delay (no heartbeat comes): it ends the shared link requests,
        reports kept pairs whose other half was there with EXPIRE and tells
        its network layer (LINK_STATUS), which tears the circuits through the
        node down and spreads the news (LINK_STATE).
        """
        self._check_node("fail_node", name, down=False)
        now = self.sim.now
        self._catch_up(now, (name,))
        self._log_fault("node_down", node=name)
        self.classical.node_down(name)
        self.network_entities[name].node_failed(now)
        self.apps[name].node_failed(now)
        for entity in self.link_entities[name].values():
            entity.fault(now, lc.NodeFailed())
        self.memories[name].wipe(now)
        for peer in self.link_entities[name]:
            self._tell_neighbour(peer, name, lc.PeerFailed())

    def recover_node(self, name: str) -> None:
        """Fault over: node ``name`` is back, with an empty memory and no
        circuits, usable by new ones. Each of its links comes up once the two
        ends have heard each other (a heartbeat each way over the fiber, so
        nothing either end sent before can arrive after it); the news
        spreads from there."""
        self._check_node("recover_node", name, down=True)
        now = self.sim.now
        self._log_fault("node_up", node=name)
        self.classical.node_up(name)
        self.network_entities[name].node_recovered(now)
        self.apps[name].node_recovered(now)
        for peer, entity in self.link_entities[name].items():
            # Booting, the link layer finds what is down around it.
            cut = frozenset((name, peer)) in self.classical.cut
            if cut:
                entity.fault(now, lc.FiberCut())
            peer_down = peer in self.classical.down
            entity.fault(now, lc.PeerFailed() if peer_down else lc.AwaitingPeer())
            entity.fault(now, lc.NodeRecovered())
            if not (cut or peer_down):
                self._heartbeat(name, peer, answer=True)

    def cut_link(self, a: str, b: str) -> None:
        """Fault: the fiber between ``a`` and ``b`` is cut. Both ends notice
        at once (the light stops): no heralds and no classical messages
        cross it; pairs already stored survive."""
        self._check_link("cut_link", a, b, cut=False)
        now = self.sim.now
        self._catch_up(now, (a, b))
        self._log_fault("link_down", a=a, b=b)
        self.classical.link_down(a, b)
        self.link_entities[a][b].fault(now, lc.FiberCut())
        self.link_entities[b][a].fault(now, lc.FiberCut())

    def repair_link(self, a: str, b: str) -> None:
        """Fault over: the fiber between ``a`` and ``b`` works again."""
        self._check_link("repair_link", a, b, cut=True)
        now = self.sim.now
        self._log_fault("link_up", a=a, b=b)
        self.classical.link_up(a, b)
        self.link_entities[a][b].fault(now, lc.FiberRepaired())
        self.link_entities[b][a].fault(now, lc.FiberRepaired())
        if a not in self.classical.down and b not in self.classical.down:
            # An end that came back while the fiber was cut hears its peer now.
            self._heartbeat(a, b, answer=False)
            self._heartbeat(b, a, answer=False)

    def set_classical_loss(self, a: str, b: str, probability: float) -> None:
        """From now on each classical message over the link ``a``-``b`` is lost
        with ``probability`` (0 stops it); the protocols' transport resends."""
        self._check_link("set_classical_loss", a, b, cut=None)
        if not 0.0 <= probability < 1.0:
            raise FaultError(
                f"set_classical_loss: probability = {probability!r}: must be in [0, 1) "
                "(a link that loses everything is a cut: use cut_link)"
            )
        self._log_fault("classical_loss", a=a, b=b, probability=probability)
        self.classical.set_loss(a, b, probability)

    def schedule_faults(self, faults: Iterable[FaultSpec]) -> None:
        """Schedule a scenario's ``[[faults]]`` (already checked as a schedule)."""
        for fault in faults:
            self.sim.schedule_at(seconds_to_ps(fault.at_s), self._apply_fault, fault)

    def _apply_fault(self, fault: FaultSpec) -> None:
        if fault.kind in ("node_down", "node_up"):
            assert fault.node is not None
            (self.fail_node if fault.kind == "node_down" else self.recover_node)(fault.node)
            return
        assert fault.a is not None and fault.b is not None
        if fault.kind == "classical_loss":
            assert fault.probability is not None
            self.set_classical_loss(fault.a, fault.b, fault.probability)
        else:
            (self.cut_link if fault.kind == "link_down" else self.repair_link)(fault.a, fault.b)

    def _tell_neighbour(self, peer: str, name: str, event: lc.LinkFault) -> None:
        """The neighbour ``peer`` of ``name`` notices a fault there one fiber
        delay later (the heartbeats it expects stop coming)."""
        self.sim.schedule(
            self._link_delay_ps(name, peer), self._neighbour_noticed, (peer, name, event)
        )

    def _neighbour_noticed(self, argument: tuple[str, str, lc.LinkFault]) -> None:
        peer, name, event = argument
        if peer not in self.classical.down:
            self.link_entities[peer][name].fault(self.sim.now, event)

    def _heartbeat(self, sender: str, receiver: str, answer: bool) -> None:
        """A heartbeat over the fiber: the receiver hears the sender is up
        (and, with ``answer``, sends one back)."""
        self.classical.send(
            sender,
            receiver,
            (sender, receiver),
            self._link_delay_ps(sender, receiver),
            self._heard,
            (sender, receiver, answer),
            fiber=frozenset((sender, receiver)),
        )

    def _heard(self, argument: tuple[str, str, bool]) -> None:
        sender, receiver, answer = argument
        self.link_entities[receiver][sender].fault(self.sim.now, lc.PeerRecovered())
        if answer:
            self._heartbeat(receiver, sender, answer=False)

    def _check_node(self, action: str, name: str, down: bool) -> None:
        if name not in self.memories:
            raise FaultError(f"{action}: unknown node {name!r}")
        if (name in self.classical.down) != down:
            raise FaultError(f"{action}: node {name!r} is {'up' if down else 'down already'}")

    def _check_link(self, action: str, a: str, b: str, cut: bool | None) -> None:
        if b not in self.link_entities.get(a, {}):
            raise FaultError(f"{action}: no link joins {a!r} and {b!r}")
        if cut is not None and (frozenset((a, b)) in self.classical.cut) != cut:
            state = "not cut" if cut else "cut already"
            raise FaultError(f"{action}: the link {a!r}-{b!r} is {state}")

    def _log_fault(
        self,
        kind: FaultKind,
        node: str | None = None,
        a: str | None = None,
        b: str | None = None,
        probability: float | None = None,
    ) -> None:
        now = self.sim.now
        self.faults.append(
            FaultReport(
                at_s=ps_to_seconds(now), kind=kind, node=node, a=a, b=b, probability=probability
            )
        )
        if self.tracer is not None:
            fault = FaultTrace(fault=kind, node=node, a=a, b=b, probability=probability)
            self.tracer.record(TraceRecord(now, node or str(a), "run", "event", fault, b))
