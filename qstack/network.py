"""From a scenario to a wired network: nodes, memories, links, layers, apps.

This module is the only place that knows every layer: it builds the
hardware, creates one entity per layer per node, and connects each to the
service of the layer below, to its peer through a classical channel, and to
the tracer when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import networkx as nx

from qstack.hardware.memory import Memory
from qstack.layers.app.base import AppHost, AppMessage, SessionRecord
from qstack.layers.app.pairs import PairsRequest
from qstack.layers.app.qkd import DEFAULT_QBER_THRESHOLD, QkdSession
from qstack.layers.app.teleport import TeleportSession
from qstack.layers.link.egp import LinkLayer, LinkService, LinkUser
from qstack.layers.link.messages import LinkCancel, LinkCreate, LinkError, LinkExpire, LinkOk
from qstack.layers.network.messages import NetCreate, NetDone, NetError, NetOk
from qstack.layers.network.policies import SwapPolicy
from qstack.layers.network.qnp import NetworkLayer, NetworkUser
from qstack.layers.network.routing import LinkInfo, NodeInfo, RoutingStrategy, Topology
from qstack.layers.physical.settings import BrightStateSetting, FixedSetting
from qstack.layers.physical.station import HeraldingStation
from qstack.messages import PeerMessage, Primitive
from qstack.physics.hardware import (
    DepolarizingMemory,
    Fiber,
    MemoryNoise,
    PerfectMemory,
    T1T2Memory,
)
from qstack.physics.heralding import AbstractHerald, DoubleClickHerald, SingleClickHerald
from qstack.registry import Registry, UnknownPluginError
from qstack.scenario import LinkSpec, NodeSpec, RequestSpec, Scenario
from qstack.sim.channel import ClassicalChannel
from qstack.sim.kernel import Simulator, Timer, TimerCallback, ps_to_seconds, seconds_to_ps
from qstack.sim.random import RandomStreams
from qstack.sim.trace import Tracer, TraceRecord


class TopologyError(ValueError):
    """A scenario that validates on its own but cannot be wired."""


def memory_noise(spec: NodeSpec) -> MemoryNoise:
    """The decoherence model a node's memory qubits follow."""
    if spec.t1_s is not None and spec.t2_s is not None:
        return T1T2Memory(spec.t1_s, spec.t2_s)
    if spec.memory_t_s is not None:
        return DepolarizingMemory(spec.memory_t_s)
    return PerfectMemory()


def link_name(a: str, b: str) -> str:
    return f"{a}-{b}"


@dataclass(slots=True)
class Link:
    """One built link: the station and the link-layer entity at each end."""

    spec: LinkSpec
    station: HeraldingStation
    settings: FixedSetting | BrightStateSetting
    ends: tuple[LinkLayer, LinkLayer]
    delay_ps: int


class _Traced:
    """Records every primitive going up to a layer before handing it on."""

    def __init__(self, node: str, layer: str, tracer: Tracer) -> None:
        self._node = node
        self._layer = layer
        self._tracer = tracer

    def _record(self, now: int, message: Primitive) -> None:
        self._tracer.record(TraceRecord(now, self._node, self._layer, "up", message))


class _TracedLinkUser(_Traced):
    def __init__(self, node: str, inner: LinkUser, tracer: Tracer) -> None:
        super().__init__(node, "link", tracer)
        self._inner = inner

    def link_ok(self, now: int, ok: LinkOk) -> None:
        self._record(now, ok)
        self._inner.link_ok(now, ok)

    def link_error(self, now: int, error: LinkError) -> None:
        self._record(now, error)
        self._inner.link_error(now, error)

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        self._record(now, expire)
        self._inner.link_expire(now, expire)


class _TracedLinkService:
    """Records every request going down to a link entity."""

    def __init__(self, node: str, inner: LinkLayer, tracer: Tracer) -> None:
        self._node = node
        self._inner = inner
        self._tracer = tracer

    @property
    def capacity(self) -> int:
        return self._inner.capacity

    @property
    def next_create_id(self) -> int:
        return self._inner.next_create_id

    def create(self, now: int, request: LinkCreate) -> int:
        self._tracer.record(TraceRecord(now, self._node, "link", "down", request))
        return self._inner.create(now, request)

    def cancel(self, now: int, request: LinkCancel) -> None:
        self._tracer.record(TraceRecord(now, self._node, "link", "down", request))
        self._inner.cancel(now, request)


class _TracedNetworkUser(_Traced):
    def __init__(self, node: str, inner: NetworkUser, tracer: Tracer) -> None:
        super().__init__(node, "network", tracer)
        self._inner = inner
        self.holder = inner.holder

    def net_ok(self, now: int, ok: NetOk) -> None:
        self._record(now, ok)
        self._inner.net_ok(now, ok)

    def net_error(self, now: int, error: NetError) -> None:
        self._record(now, error)
        self._inner.net_error(now, error)

    def net_done(self, now: int, done: NetDone) -> None:
        self._record(now, done)
        self._inner.net_done(now, done)


class Network:
    """Everything a run needs, built from one scenario and one seed."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        tracer: Tracer | None = None,
        registry: Registry | None = None,
        link_layer: type[LinkLayer] = LinkLayer,
        network_layer: type[NetworkLayer] = NetworkLayer,
    ):
        """``link_layer`` / ``network_layer``: the protocols every link and
        every node run (the built-ins, or subclasses such as a user's own
        policy or a deliberately broken layer for the conformance tests)."""
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.sim = Simulator()
        self.streams = RandomStreams(self.seed)
        self.tracer = tracer
        self.registry = Registry.with_defaults() if registry is None else registry
        self._link_layer = link_layer
        self._network_layer = network_layer
        self.memories = {
            spec.name: Memory(spec.name, spec.qubits, memory_noise(spec)) for spec in scenario.nodes
        }
        self._degree = {spec.name: 0 for spec in scenario.nodes}
        for link_spec in scenario.links:
            self._degree[link_spec.a] += 1
            self._degree[link_spec.b] += 1
        self.link_entities: dict[str, dict[str, LinkLayer]] = {
            spec.name: {} for spec in scenario.nodes
        }
        self._link_between: dict[frozenset[str], Link] = {}
        self.links = [self._build_link(spec) for spec in scenario.links]
        self.topology = self._topology()
        self._plugins: dict[tuple[str, str], object] = {}
        self.network_entities = {
            spec.name: self._network_entity(spec.name) for spec in scenario.nodes
        }
        self.sessions: dict[str, SessionRecord] = {}
        self._classical_delays: dict[tuple[str, str], int] = {}
        self.apps = {
            name: AppHost(name, self.memories[name], entity, self.sessions, self._send_app)
            for name, entity in self.network_entities.items()
        }
        for name, entity in self.network_entities.items():
            link_user: LinkUser = entity
            net_user: NetworkUser = self.apps[name]
            if tracer is not None:
                link_user = _TracedLinkUser(name, entity, tracer)
                net_user = _TracedNetworkUser(name, net_user, tracer)
            entity.bind(net_user)
            for link_entity in self.link_entities[name].values():
                link_entity.bind(link_user)
        self.requests = [self._request(index, spec) for index, spec in enumerate(scenario.requests)]

    def _set_timer(self, delay_ps: int, callback: TimerCallback, argument: object) -> Timer:
        return self.sim.timer(delay_ps, callback, argument)

    def _build_link(self, spec: LinkSpec) -> Link:
        name = link_name(spec.a, spec.b)
        memories = (self.memories[spec.a], self.memories[spec.b])
        fiber = Fiber(spec.length_km, spec.attenuation_db_per_km, spec.fiber_speed_km_per_s)
        delay_ps = fiber.delay_ps
        if spec.model == "abstract":
            assert spec.attempt_duration_s is not None
            cycle_ps = seconds_to_ps(spec.attempt_duration_s)
            window_ps = cycle_ps
        else:
            window_ps = delay_ps
            cycle_ps = seconds_to_ps(spec.attempt_prep_s) + window_ps
        station = HeraldingStation(
            self.sim,
            name,
            memories,
            cycle_ps,
            window_ps,
            self.streams.stream(f"station/{name}"),
            spec.intercept_resend,
        )
        settings: FixedSetting | BrightStateSetting
        if spec.model == "abstract":
            assert spec.success_probability is not None and spec.fidelity is not None
            model = AbstractHerald(spec.success_probability, spec.fidelity)
            settings = FixedSetting(station, model, "abstract")
        else:
            half = Fiber(spec.length_km / 2, spec.attenuation_db_per_km)
            eta = spec.emission_efficiency * half.transmittance * spec.detector_efficiency
            dark = spec.dark_count_probability
            if spec.model == "double-click":
                settings = FixedSetting(station, DoubleClickHerald(eta, dark), "double-click")
            elif spec.bright_state_alpha is not None:
                alpha = spec.bright_state_alpha
                model_sc = SingleClickHerald(alpha, eta, dark)
                settings = FixedSetting(station, model_sc, f"single-click alpha={alpha:.6g}")
            else:
                settings = BrightStateSetting(station, eta, dark)
        ends = (
            self._link_end(spec.a, spec.b, 0, station, settings, delay_ps),
            self._link_end(spec.b, spec.a, 1, station, settings, delay_ps),
        )
        self._connect(ends[0], ends[1], delay_ps)
        self._connect(ends[1], ends[0], delay_ps)
        link = Link(spec, station, settings, ends, delay_ps)
        self._link_between[frozenset((spec.a, spec.b))] = link
        return link

    def _link_end(
        self,
        node: str,
        peer: str,
        side: int,
        station: HeraldingStation,
        settings: FixedSetting | BrightStateSetting,
        delay_ps: int,
    ) -> LinkLayer:
        entity = self._link_layer(
            node=node,
            peer=peer,
            side=side,
            memory=self.memories[node],
            station=station,
            settings=settings,
            set_timer=self._set_timer,
            one_way_delay_ps=delay_ps,
            rng=self.streams.stream(f"link/{node}/{peer}"),
            user_name=NetworkLayer.holder,
            capacity=max(1, self.memories[node].size // self._degree[node]),
        )
        self.link_entities[node][peer] = entity
        return entity

    def _connect(self, sender: LinkLayer, receiver: LinkLayer, delay_ps: int) -> None:
        sim = self.sim

        def deliver(message: PeerMessage) -> None:
            receiver.receive(sim.now, message)

        channel = ClassicalChannel(
            sim, sender.node, receiver.node, "link", delay_ps, deliver, self.tracer
        )
        sender.connect(channel.send)

    def _topology(self) -> Topology:
        """What routing may know: each link's delays, success probability at
        its default setting and the best fidelity it can deliver."""
        nodes = [NodeInfo(spec.name, spec.qubits, spec.memory_t_s) for spec in self.scenario.nodes]
        links = []
        for link in self.links:
            setting = link.settings.setting_for(0.0)
            assert setting is not None, "a link with no minimum fidelity always has a setting"
            links.append(
                LinkInfo(
                    a=link.spec.a,
                    b=link.spec.b,
                    length_km=link.spec.length_km,
                    success_probability=setting.model.success_probability,
                    cycle_s=ps_to_seconds(link.station.cycle_ps),
                    fidelity=link.settings.best_fidelity,
                    delay_s=ps_to_seconds(link.delay_ps),
                )
            )
        return Topology(nodes, links)

    def plugin(self, kind: str, name: str) -> Any:
        """The run's instance of the plug-in ``name`` of ``kind`` (one per run)."""
        key = (kind, name)
        if key not in self._plugins:
            self._plugins[key] = self.registry.resolve(kind, name)()
        return self._plugins[key]

    def _network_entity(self, node: str) -> NetworkLayer:
        sim = self.sim
        tracer = self.tracer

        def send_to(target: str, message: PeerMessage, delay_ps: int) -> None:
            if tracer is not None:
                tracer.record(TraceRecord(sim.now, node, "network", "send", message, target))
            sim.schedule(delay_ps, self._deliver_network, (node, target, message))

        return self._network_layer(
            node=node,
            memory=self.memories[node],
            links=self._link_services(node),
            topology=self.topology,
            routers=lambda name: cast(RoutingStrategy, self.plugin("routing", name)),
            swap_policies=lambda name: cast(SwapPolicy, self.plugin("swap_policy", name)),
            send_to=send_to,
            set_timer=self._set_timer,
            link_delay_ps=self._link_delay_ps,
            rng=self.streams.stream(f"network/{node}"),
        )

    def _link_services(self, node: str) -> Mapping[str, LinkService]:
        entities = self.link_entities[node]
        tracer = self.tracer
        if tracer is None:
            return entities
        return {peer: _TracedLinkService(node, entity, tracer) for peer, entity in entities.items()}

    def _deliver_network(self, argument: tuple[str, str, PeerMessage]) -> None:
        sender, target, message = argument
        if self.tracer is not None:
            self.tracer.record(
                TraceRecord(self.sim.now, target, "network", "recv", message, sender)
            )
        self.network_entities[target].receive(self.sim.now, message)

    def _link_delay_ps(self, a: str, b: str) -> int:
        return self._link_between[frozenset((a, b))].delay_ps

    def _send_app(self, sender: str, target: str, message: AppMessage) -> None:
        """Application messages cross the classical network along the
        fastest path of fibers."""
        key = (sender, target)
        delay = self._classical_delays.get(key)
        if delay is None:
            delay = round(
                nx.shortest_path_length(
                    self.topology.graph,
                    sender,
                    target,
                    weight=lambda a, b, _: self._link_delay_ps(a, b),
                )
            )
            self._classical_delays[key] = delay
        if self.tracer is not None:
            self.tracer.record(TraceRecord(self.sim.now, sender, "app", "send", message, target))
        self.sim.schedule(delay, self._deliver_app, (sender, target, message))

    def _deliver_app(self, argument: tuple[str, str, AppMessage]) -> None:
        sender, target, message = argument
        if self.tracer is not None:
            self.tracer.record(TraceRecord(self.sim.now, target, "app", "recv", message, sender))
        self.apps[target].receive(self.sim.now, message)

    def _request(self, index: int, spec: RequestSpec) -> SessionRecord:
        options = self.scenario.network_options(index)
        create = NetCreate(
            remote=spec.dst,
            number=spec.pairs,
            min_fidelity=spec.min_fidelity or 0.0,
            max_time_ps=None if spec.max_time_s is None else seconds_to_ps(spec.max_time_s),
            type={"qkd": "measure", "teleport": "keep"}.get(spec.app, spec.type),
            z_basis_probability=spec.z_basis_probability or 0.5,
            purpose_id=spec.purpose_id,
            priority=spec.priority,
            routing=options.routing,
            swap_policy=options.swap_policy,
            cutoff_ps=None if options.cutoff_s is None else seconds_to_ps(options.cutoff_s),
            purification=options.purification,
            purification_rounds=options.purification_rounds,
        )
        for kind, name in (("routing", create.routing), ("swap_policy", create.swap_policy)):
            if name not in self.registry.names(kind):
                label = "requests[{index}]" if getattr(spec, kind) else "network"
                raise TopologyError(
                    f"{label.format(index=index)}.{kind} = {name!r}: "
                    + str(UnknownPluginError(kind, name, self.registry.names(kind)))
                )
        start_ps = seconds_to_ps(spec.start_s)
        request: SessionRecord
        if spec.app == "teleport":
            rng = self.streams.stream(f"app/teleport/{index}")
            request = TeleportSession(
                spec.src, spec.dst, create, start_ps, spec.states or "haar", rng
            )
        elif spec.app == "qkd":
            rng = self.streams.stream(f"app/qkd/{index}")
            request = QkdSession(
                spec.src,
                spec.dst,
                create,
                start_ps,
                rng,
                qber_threshold=spec.qber_threshold or DEFAULT_QBER_THRESHOLD,
                classical_attack=spec.classical_attack or "none",
            )
        else:
            request = PairsRequest(spec.src, spec.dst, create, start_ps)
        self.sim.schedule_at(start_ps, self._start_request, request)
        return request

    def fail_node(self, name: str) -> None:
        """Fault: node ``name`` crashes now and loses its memory.

        Its network and link entities go down; each neighbour's link layer
        notices after the fiber delay, ends the shared link requests and
        reports kept pairs whose other half was there with EXPIRE; the
        neighbours' network layers then tear the affected circuits down.
        """
        if name not in self.link_entities:
            raise TopologyError(f"fail_node: unknown node {name!r}")
        self.network_entities[name].node_failed(self.sim.now)
        for peer, entity in self.link_entities[name].items():
            entity.link_down(self.sim.now)
            neighbour = self.link_entities[peer][name]
            self.sim.schedule(self._link_delay_ps(name, peer), self._peer_failed, neighbour)

    def _peer_failed(self, entity: LinkLayer) -> None:
        entity.peer_failed(self.sim.now)

    def _start_request(self, request: SessionRecord) -> None:
        now = self.sim.now
        if self.tracer is not None:
            self.tracer.record(TraceRecord(now, request.src, "network", "down", request.create))
        self.apps[request.src].start(now, request)
