"""The one wiring path: how a link's hardware and its two link entities, and a
node's network entity, are built and connected.

:class:`qstack.network.Network` and the conformance harnesses both build
through these functions, so a layer that passes ``qstack conform`` gets in
a network exactly what it got in the harness ("conformant" means "usable").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qstack.hardware.memory import Memory
from qstack.layers.link.messages import (
    LinkCancel,
    LinkCreate,
    LinkError,
    LinkExpire,
    LinkOk,
    LinkOkBatch,
    LinkStatus,
)
from qstack.layers.link.service import (
    LinkContext,
    LinkEntity,
    LinkLayerFactory,
    LinkService,
    LinkUser,
    SettingChooser,
)
from qstack.layers.network.messages import (
    NetCreate,
    NetDone,
    NetError,
    NetErrorReason,
    NetExpire,
    NetOk,
    NetOkBatch,
)
from qstack.layers.network.service import NetworkService, NetworkUser
from qstack.layers.physical.settings import BrightStateSetting, FixedSetting
from qstack.layers.physical.station import HeraldingStation
from qstack.messages import PeerMessage, Primitive
from qstack.physics.errors import IDEAL_OPERATIONS, OperationErrors
from qstack.physics.hardware import (
    DepolarizingMemory,
    Fiber,
    MemoryNoise,
    PerfectMemory,
    StationGeometry,
    T1T2Memory,
)
from qstack.physics.heralding import AbstractHerald, DoubleClickHerald, SingleClickHerald
from qstack.quantum.oracle import TruthOracle
from qstack.quantum.store import QuantumStore
from qstack.scenario import LinkSpec, NodeSpec
from qstack.sim.channel import ClassicalChannel
from qstack.sim.classical import ClassicalNetwork
from qstack.sim.kernel import Simulator, Timer, seconds_to_ps
from qstack.sim.lifecycles import trace_lifecycles
from qstack.sim.random import RandomStreams
from qstack.sim.trace import Tracer, TraceRecord


def memory_noise(spec: NodeSpec) -> MemoryNoise:
    """The decoherence model a node's memory qubits follow."""
    if spec.t1_s is not None and spec.t2_s is not None:
        return T1T2Memory(spec.t1_s, spec.t2_s)
    if spec.memory_t_s is not None:
        return DepolarizingMemory(spec.memory_t_s)
    return PerfectMemory()


def operation_errors(spec: NodeSpec) -> OperationErrors:
    """The node's gate and measurement errors, as its register applies them."""
    if spec.gate_error == 0.0 and spec.measurement_error == 0.0:
        return IDEAL_OPERATIONS
    return OperationErrors(spec.gate_error, spec.measurement_error)


def build_memory(store: QuantumStore, spec: NodeSpec) -> Memory:
    """A node's qubits in the run's store (with the node's operation errors
    and swap success probability), and their allocator."""
    return Memory(
        store.register(
            spec.name,
            spec.qubits,
            memory_noise(spec),
            operation_errors(spec),
            spec.swap_success_probability,
        )
    )


def link_name(a: str, b: str) -> str:
    return f"{a}-{b}"


@dataclass(slots=True)
class Link:
    """One built link: the station, its attempt settings and the link entity at each end."""

    spec: LinkSpec
    station: HeraldingStation
    settings: SettingChooser
    ends: tuple[LinkEntity, LinkEntity]
    delay_ps: int


@dataclass(frozen=True, slots=True)
class Run:
    """What every part of one run is wired to: the kernel, the quantum
    store and its oracle, the random streams and the tracer."""

    sim: Simulator
    store: QuantumStore
    oracle: TruthOracle
    streams: RandomStreams
    tracer: Tracer | None
    classical: ClassicalNetwork

    def set_timer(
        self, delay_ps: int, callback: Callable[[int, object], None], argument: object
    ) -> Timer:
        return self.sim.timer(delay_ps, callback, argument)


def build_station(
    run: Run, spec: LinkSpec, memories: tuple[Memory, Memory]
) -> tuple[HeraldingStation, SettingChooser, int]:
    """The heralding station of a link, its attempt settings and its one-way delay."""
    name = link_name(spec.a, spec.b)
    fiber = Fiber(spec.length_km, spec.attenuation_db_per_km, spec.fiber_speed_km_per_s)
    delay_ps = fiber.delay_ps
    geometry = StationGeometry(spec.length_km, spec.station_position_km)
    holds_ps: tuple[int, int] | None = None
    if spec.model == "abstract":
        # The abstract model's fidelity is that of the delivered state: the
        # attempt's duration is a pure delay, with no memory noise before delivery.
        assert spec.attempt_duration_s is not None
        cycle_ps = seconds_to_ps(spec.attempt_duration_s)
        window_ps = 0
    else:
        timing = geometry.timing(seconds_to_ps(spec.attempt_prep_s), spec.fiber_speed_km_per_s)
        holds_ps = (
            timing.window_a_ps + timing.emission_offset_a_ps,
            timing.window_b_ps + timing.emission_offset_b_ps,
        )
        window_ps = max(holds_ps)
        cycle_ps = timing.cycle_ps
    # Per-side hold times only for a station off the middle, so that station
    # classes written before them still build every centred link.
    unequal = {} if holds_ps is None or holds_ps[0] == holds_ps[1] else {"holds_ps": holds_ps}
    station = HeraldingStation(
        run.sim,
        name,
        memories,
        run.store,
        run.oracle,
        cycle_ps,
        window_ps,
        run.streams.stream(f"station/{name}"),
        spec.intercept_resend,
        run.tracer,
        **unequal,
    )
    if run.tracer is not None:
        trace_lifecycles(station, spec.a, run.tracer)
    settings: SettingChooser
    if spec.model == "abstract":
        assert spec.success_probability is not None and spec.fidelity is not None
        model = AbstractHerald(spec.success_probability, spec.fidelity)
        settings = FixedSetting(station, model, "abstract")
    else:
        eta, eta_other = geometry.arm_efficiencies(
            spec.attenuation_db_per_km, spec.emission_efficiency, spec.detector_efficiency
        )
        # Equal arms keep the one-efficiency arithmetic of the models, bit for bit.
        eta_b = None if eta_other == eta else eta_other
        dark = spec.noise_per_window
        if spec.model == "double-click":
            settings = FixedSetting(station, DoubleClickHerald(eta, dark, eta_b), "double-click")
        elif spec.bright_state_alpha is not None:
            alpha = spec.bright_state_alpha
            model_sc = SingleClickHerald(alpha, eta, dark, eta_b)
            settings = FixedSetting(station, model_sc, f"single-click alpha={alpha:.6g}")
        else:
            settings = BrightStateSetting(station, eta, dark, eta_b)
    return station, settings, delay_ps


def build_link(
    run: Run,
    spec: LinkSpec,
    memories: tuple[Memory, Memory],
    factory: LinkLayerFactory,
    capacities: tuple[int, int],
    upper_holder: str,
) -> Link:
    """A link's station and both its link entities, built by ``factory``
    from a :class:`LinkContext` each and connected by classical channels
    with the fiber's delay. The layer above binds itself to each end."""
    station, settings, delay_ps = build_station(run, spec, memories)
    run.classical.add_link(spec.a, spec.b, delay_ps)
    ends = tuple(
        factory(
            LinkContext(
                node=node,
                peer=peer,
                side=side,
                memory=memories[side],
                physical=station.ports[side],
                settings=settings,
                set_timer=run.set_timer,
                one_way_delay_ps=delay_ps,
                rng=run.streams.stream(f"link/{node}/{peer}"),
                upper_holder=upper_holder,
                capacity=capacities[side],
            )
        )
        for side, (node, peer) in enumerate(((spec.a, spec.b), (spec.b, spec.a)))
    )
    pair = (ends[0], ends[1])
    if run.tracer is not None:
        trace_lifecycles(pair[0], spec.a, run.tracer)
        trace_lifecycles(pair[1], spec.b, run.tracer)
    _connect(run, pair[0], pair[1], spec.a, spec.b, delay_ps)
    _connect(run, pair[1], pair[0], spec.b, spec.a, delay_ps)
    return Link(spec, station, settings, pair, delay_ps)


def _connect(
    run: Run, sender: LinkEntity, receiver: LinkEntity, node: str, peer: str, delay_ps: int
) -> None:
    sim = run.sim

    def deliver(message: PeerMessage) -> None:
        receiver.receive(sim.now, message)

    def undeliverable(message: PeerMessage) -> None:
        sender.undeliverable(sim.now, message)

    channel = ClassicalChannel(
        sim, run.classical, node, peer, "link", delay_ps, deliver, undeliverable, run.tracer
    )
    sender.connect(channel.send)


# -- traces of the primitives crossing a layer boundary ----------------------


class _Traced:
    """Records every primitive going up to a layer before handing it on."""

    def __init__(self, node: str, layer: str, tracer: Tracer) -> None:
        self._node = node
        self._layer = layer
        self._tracer = tracer

    def _record(self, now: int, message: Primitive) -> None:
        self._tracer.record(TraceRecord(now, self._node, self._layer, "up", message))


class TracedLinkUser(_Traced):
    """A link entity's user that traces OK / ERROR / EXPIRE going up."""

    def __init__(self, node: str, inner: LinkUser, tracer: Tracer) -> None:
        super().__init__(node, "link", tracer)
        self._inner = inner

    def link_ok(self, now: int, ok: LinkOk) -> None:
        self._record(now, ok)
        self._inner.link_ok(now, ok)

    def link_ok_batch(self, now: int, batch: LinkOkBatch) -> None:
        self._record(now, batch)
        self._inner.link_ok_batch(now, batch)

    def link_error(self, now: int, error: LinkError) -> None:
        self._record(now, error)
        self._inner.link_error(now, error)

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        self._record(now, expire)
        self._inner.link_expire(now, expire)

    def link_status(self, now: int, status: LinkStatus) -> None:
        self._record(now, status)
        self._inner.link_status(now, status)


class TracedLinkService:
    """A link service that traces CREATE / CANCEL going down."""

    def __init__(self, node: str, inner: LinkService, tracer: Tracer) -> None:
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


class TracedNetworkUser(_Traced):
    """A network entity's user that traces every primitive going up."""

    def __init__(self, node: str, inner: NetworkUser, tracer: Tracer) -> None:
        super().__init__(node, "network", tracer)
        self._inner = inner

    @property
    def holder(self) -> str:
        return self._inner.holder

    def net_ok(self, now: int, ok: NetOk) -> None:
        self._record(now, ok)
        self._inner.net_ok(now, ok)

    def net_ok_batch(self, now: int, batch: NetOkBatch) -> None:
        self._record(now, batch)
        self._inner.net_ok_batch(now, batch)

    def net_error(self, now: int, error: NetError) -> None:
        self._record(now, error)
        self._inner.net_error(now, error)

    def net_done(self, now: int, done: NetDone) -> None:
        self._record(now, done)
        self._inner.net_done(now, done)

    def net_expire(self, now: int, expire: NetExpire) -> None:
        self._record(now, expire)
        self._inner.net_expire(now, expire)


class TracedNetworkService:
    """A node's network service as its applications use it, tracing every
    NET_CREATE going down (a session may issue several, or none)."""

    def __init__(self, node: str, inner: NetworkService, tracer: Tracer) -> None:
        self._node = node
        self._inner = inner
        self._tracer = tracer

    @property
    def next_request_id(self) -> str:
        return self._inner.next_request_id

    def create(self, now: int, request: NetCreate) -> str:
        self._tracer.record(TraceRecord(now, self._node, "network", "down", request))
        return self._inner.create(now, request)

    def abort(self, now: int, request_id: str, reason: NetErrorReason, detail: str) -> None:
        self._inner.abort(now, request_id, reason, detail)


def bind_link_user(link: Link, side: int, user: LinkUser, tracer: Tracer | None) -> None:
    """Bind the layer above to one end of a link (traced when tracing)."""
    node = (link.spec.a, link.spec.b)[side]
    link.ends[side].bind(user if tracer is None else TracedLinkUser(node, user, tracer))


def link_service(node: str, entity: LinkEntity, tracer: Tracer | None) -> LinkService:
    """One end of a link as the layer above uses it (traced when tracing)."""
    return entity if tracer is None else TracedLinkService(node, entity, tracer)
