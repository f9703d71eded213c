"""From a scenario to a wired network: nodes, memories, links, layers, apps.

This module is the only place that knows every layer: it builds the
hardware, creates one entity per layer per node, and connects each to the
service of the layer below, to its peer through a classical channel, and to
the tracer when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass

from qstack.hardware.memory import Memory
from qstack.layers.app.pairs import PairsApp, PairsRequest
from qstack.layers.link.egp import LinkLayer, LinkUser
from qstack.layers.link.messages import LinkCreate, LinkError, LinkExpire, LinkOk
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
from qstack.scenario import LinkSpec, NodeSpec, RequestSpec, Scenario
from qstack.sim.channel import ClassicalChannel
from qstack.sim.kernel import Simulator, Timer, TimerCallback, seconds_to_ps
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
    ends: tuple[LinkLayer, LinkLayer]
    delay_ps: int


class _TracedLinkUser:
    """Records every link primitive going up before handing it on."""

    def __init__(self, node: str, inner: LinkUser, tracer: Tracer) -> None:
        self._node = node
        self._inner = inner
        self._tracer = tracer

    def _record(self, now: int, message: Primitive) -> None:
        self._tracer.record(TraceRecord(now, self._node, "link", "up", message))

    def link_ok(self, now: int, ok: LinkOk) -> None:
        self._record(now, ok)
        self._inner.link_ok(now, ok)

    def link_error(self, now: int, error: LinkError) -> None:
        self._record(now, error)
        self._inner.link_error(now, error)

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        self._record(now, expire)
        self._inner.link_expire(now, expire)


class Network:
    """Everything a run needs, built from one scenario and one seed."""

    def __init__(self, scenario: Scenario, seed: int | None = None, tracer: Tracer | None = None):
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.sim = Simulator()
        self.streams = RandomStreams(self.seed)
        self.tracer = tracer
        self.memories = {
            spec.name: Memory(spec.name, spec.qubits, memory_noise(spec)) for spec in scenario.nodes
        }
        self.link_entities: dict[str, dict[str, LinkLayer]] = {
            spec.name: {} for spec in scenario.nodes
        }
        self.links = [self._build_link(spec) for spec in scenario.links]
        self.apps = {
            name: PairsApp(name, self.memories[name], entities)
            for name, entities in self.link_entities.items()
        }
        for name, entities in self.link_entities.items():
            user: LinkUser = self.apps[name]
            if tracer is not None:
                user = _TracedLinkUser(name, user, tracer)
            for entity in entities.values():
                entity.bind(user)
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
            self.sim, name, memories, cycle_ps, window_ps, self.streams.stream(f"station/{name}")
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
        return Link(spec, station, ends, delay_ps)

    def _link_end(
        self,
        node: str,
        peer: str,
        side: int,
        station: HeraldingStation,
        settings: FixedSetting | BrightStateSetting,
        delay_ps: int,
    ) -> LinkLayer:
        entity = LinkLayer(
            node=node,
            peer=peer,
            side=side,
            memory=self.memories[node],
            station=station,
            settings=settings,
            set_timer=self._set_timer,
            one_way_delay_ps=delay_ps,
            rng=self.streams.stream(f"link/{node}/{peer}"),
            user_name=PairsApp.holder,
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

    def _request(self, index: int, spec: RequestSpec) -> PairsRequest:
        if spec.dst not in self.link_entities[spec.src]:
            raise TopologyError(
                f"requests[{index}]: {spec.src!r} and {spec.dst!r} share no link; "
                "this version delivers pairs between neighbouring nodes only"
            )
        create = LinkCreate(
            remote=spec.dst,
            number=spec.pairs,
            min_fidelity=spec.min_fidelity or 0.0,
            max_time_ps=None if spec.max_time_s is None else seconds_to_ps(spec.max_time_s),
            type=spec.type,
            purpose_id=spec.purpose_id,
            priority=spec.priority,
        )
        request = PairsRequest(spec.src, spec.dst, create, seconds_to_ps(spec.start_s))
        self.sim.schedule_at(request.start_ps, self._start_request, request)
        return request

    def fail_node(self, name: str) -> None:
        """Fault: node ``name`` crashes now and loses its memory.

        Its own link entities go down (its requests end in ERROR); each
        neighbour notices after the fiber delay, ends the shared requests
        and reports the kept pairs whose other half was there with EXPIRE.
        """
        if name not in self.link_entities:
            raise TopologyError(f"fail_node: unknown node {name!r}")
        for peer, entity in self.link_entities[name].items():
            entity.link_down(self.sim.now)
            neighbour = self.link_entities[peer][name]
            delay = next(link.delay_ps for link in self.links if entity in link.ends)
            self.sim.schedule(delay, self._peer_failed, neighbour)

    def _peer_failed(self, entity: LinkLayer) -> None:
        entity.peer_failed(self.sim.now)

    def _start_request(self, request: PairsRequest) -> None:
        now = self.sim.now
        if self.tracer is not None:
            self.tracer.record(TraceRecord(now, request.src, "link", "down", request.create))
        self.apps[request.src].start(now, request)
