"""In-memory harnesses that drive a layer under test and record what it did.

Link layer: the plug-in interface
---------------------------------
A link-layer implementation is anything callable as::

    factory(node=..., peer=..., side=..., memory=..., station=..., settings=...,
            set_timer=..., one_way_delay_ps=..., rng=...) -> LinkEntity

which is exactly the constructor of the built-in
:class:`qstack.layers.link.egp.LinkLayer` (its extra ``user_name`` and
``capacity`` arguments keep their defaults), so a subclass or a class with
the same constructor plugs in as it is (see :class:`LinkLayerFactory`):

* ``node``/``peer``: the two node names; ``side``: 0 for the link's ``a``
  end, 1 for ``b`` (the station side, also the pair side);
* ``memory``: the node's :class:`~qstack.hardware.memory.Memory`;
* ``station``: the :class:`~qstack.layers.physical.station.HeraldingStation`
  (``connect(side, herald)``, ``attempt(side, now, Attempt)``,
  ``cancel(side, now)``);
* ``settings``: ``setting_for(min_fidelity) -> AttemptSetting | None``;
* ``set_timer(delay_ps, callback(now, arg), arg) -> Timer``;
* ``one_way_delay_ps``: the classical delay to the peer; ``rng``: a numpy
  ``Generator`` of its own.

The entity (:class:`LinkEntity`) offers ``bind(user)``, ``connect(send)``,
``create(now, LinkCreate) -> create_id``, ``cancel(now, LinkCancel)`` and
``receive(now, peer_message)``; it reports to the user through
``link_ok/link_error/link_expire`` and hands each kept qubit to the holder
named ``"upper"`` (:data:`UPPER_HOLDER`) before its OK.

Network layer
-------------
:class:`NetworkHarness` builds a chain from a scenario with
:class:`qstack.network.Network`, swapping in a network-layer class with the
built-in :class:`~qstack.layers.network.qnp.NetworkLayer`'s constructor.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

import numpy as np

from qstack.conformance.checks import Violation
from qstack.conformance.clauses import LINK_CLAUSES, NETWORK_CLAUSES, Clause, run_checks
from qstack.conformance.observer import (
    CreateEvent,
    LinkObservations,
    NetCreateEvent,
    NetObservations,
    NetOkTruth,
    ObservedStation,
    OkTruth,
    PairLedger,
    Snapshot,
    bell_fidelities,
    true_state,
)
from qstack.hardware.memory import Memory
from qstack.layers.app.pairs import PairsRequest
from qstack.layers.link.egp import LinkLayer, LinkUser, SetTimer, SettingChooser
from qstack.layers.link.messages import (
    CreateType,
    LinkCancel,
    LinkCreate,
    LinkError,
    LinkExpire,
    LinkOk,
)
from qstack.layers.network.messages import NetCreate, NetOk
from qstack.layers.network.policies import SwapPolicy
from qstack.layers.network.qnp import NetworkLayer
from qstack.layers.network.routing import RoutingStrategy, Topology
from qstack.layers.physical.settings import FixedSetting
from qstack.layers.physical.station import HeraldingStation
from qstack.messages import PeerMessage
from qstack.network import Network
from qstack.physics.hardware import DepolarizingMemory, Fiber, MemoryNoise, PerfectMemory
from qstack.physics.heralding import AbstractHerald, DoubleClickHerald, HeraldingModel
from qstack.scenario import Scenario, parse_scenario
from qstack.sim.channel import ClassicalChannel
from qstack.sim.kernel import Simulator, Timer, TimerCallback, seconds_to_ps
from qstack.sim.random import RandomStreams
from qstack.sim.trace import MemoryTracer, TraceRecord

#: The holder name a link entity hands kept qubits to, in the harness.
UPPER_HOLDER = "upper"

NODES = ("alice", "bob")


class LinkEntity(Protocol):
    """The link-layer service a plug-in offers (what the harness calls)."""

    def bind(self, user: LinkUser) -> None: ...

    def connect(self, send: Callable[[PeerMessage], None]) -> None: ...

    def create(self, now: int, request: LinkCreate) -> int: ...

    def cancel(self, now: int, request: LinkCancel) -> None: ...

    def receive(self, now: int, message: PeerMessage) -> None: ...


class LinkLayerFactory(Protocol):
    """Builds one end of a link: the built-in ``LinkLayer`` class is one."""

    def __call__(
        self,
        *,
        node: str,
        peer: str,
        side: int,
        memory: Memory,
        station: HeraldingStation,
        settings: SettingChooser,
        set_timer: SetTimer,
        one_way_delay_ps: int,
        rng: np.random.Generator,
    ) -> LinkEntity: ...


class NetworkLayerFactory(Protocol):
    """Builds one node's network entity, with the built-in constructor's arguments."""

    def __call__(
        self,
        *,
        node: str,
        memory: Memory,
        links: dict[str, LinkLayer],
        topology: Topology,
        routers: Callable[[str], RoutingStrategy],
        swap_policies: Callable[[str], SwapPolicy],
        send_to: Callable[[str, PeerMessage, int], None],
        set_timer: SetTimer,
        link_delay_ps: Callable[[str, str], int],
        rng: np.random.Generator,
    ) -> NetworkLayer: ...


@dataclass(frozen=True, slots=True)
class LinkParams:
    """The hardware of the harness's one link."""

    model: Literal["abstract", "double-click"] = "abstract"
    length_km: float = 10.0
    success_probability: float = 0.2  # abstract
    fidelity: float = 0.95  # abstract
    attempt_duration_s: float = 1e-4  # abstract
    eta: float = 0.5  # double-click: one arm's efficiency
    dark_count_probability: float = 0.0  # double-click
    qubits: int = 3
    memory_t_s: float | None = None  # depolarising memory time; None: perfect


class _User:
    """The harness's upper layer at one node: records every report."""

    def __init__(self, harness: LinkHarness, node: str) -> None:
        self._harness = harness
        self._node = node

    def link_ok(self, now: int, ok: LinkOk) -> None:
        self._harness._on_ok(self._node, now, ok)

    def link_error(self, now: int, error: LinkError) -> None:
        self._harness._record(TraceRecord(now, self._node, "link", "up", error))

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        self._harness._record(TraceRecord(now, self._node, "link", "up", expire))


class LinkHarness:
    """Two link entities, ``alice`` (side 0) and ``bob`` (side 1), on one
    simulated link, driven through CREATE / CANCEL / release / time."""

    def __init__(
        self,
        factory: LinkLayerFactory | type[Any] = LinkLayer,
        params: LinkParams | None = None,
        seed: int = 0,
    ) -> None:
        params = params or LinkParams()
        self.params = params
        self.sim = Simulator()
        streams = RandomStreams(seed)
        self.tracer = MemoryTracer()
        noise: MemoryNoise = (
            PerfectMemory() if params.memory_t_s is None else DepolarizingMemory(params.memory_t_s)
        )
        self.memories = {node: Memory(node, params.qubits, noise) for node in NODES}
        self.ledger = PairLedger(lambda: self.sim.now)
        for memory in self.memories.values():
            self.ledger.watch(memory)
        delay_ps = Fiber(params.length_km).delay_ps
        model: HeraldingModel
        if params.model == "abstract":
            cycle_ps = window_ps = seconds_to_ps(params.attempt_duration_s)
            model = AbstractHerald(params.success_probability, params.fidelity)
        else:
            window_ps = delay_ps
            cycle_ps = seconds_to_ps(1e-6) + window_ps
            model = DoubleClickHerald(params.eta, params.dark_count_probability)
        memories = (self.memories[NODES[0]], self.memories[NODES[1]])
        self.station = ObservedStation(
            self.sim, "alice-bob", memories, cycle_ps, window_ps, streams.stream("station")
        )
        self.settings = FixedSetting(self.station, model, params.model)
        self.obs = LinkObservations(
            nodes=NODES,
            delay_ps=delay_ps,
            cycle_ps=cycle_ps,
            user_holder=UPPER_HOLDER,
            records=self.tracer.records,
            arms=self.station.arms,
            placements=self.ledger.placements,
        )
        self.user_held: dict[str, list[int]] = {node: [] for node in NODES}
        self.entities: dict[str, LinkEntity] = {}
        for side, node in enumerate(NODES):
            self.entities[node] = factory(
                node=node,
                peer=NODES[1 - side],
                side=side,
                memory=self.memories[node],
                station=self.station,
                settings=self.settings,
                set_timer=self._set_timer,
                one_way_delay_ps=delay_ps,
                rng=streams.stream(f"link/{node}"),
            )
        for side, node in enumerate(NODES):
            entity = self.entities[node]
            receiver = self.entities[NODES[1 - side]]
            entity.bind(_User(self, node))
            channel = ClassicalChannel(
                self.sim,
                node,
                NODES[1 - side],
                "link",
                delay_ps,
                self._deliverer(receiver),
                self.tracer,
            )
            entity.connect(channel.send)

    def _deliverer(self, receiver: LinkEntity) -> Callable[[PeerMessage], None]:
        def deliver(message: PeerMessage) -> None:
            receiver.receive(self.sim.now, message)

        return deliver

    def _set_timer(self, delay_ps: int, callback: TimerCallback, argument: object) -> Timer:
        return self.sim.timer(delay_ps, callback, argument)

    def _record(self, record: TraceRecord) -> None:
        self.tracer.record(record)

    @property
    def now(self) -> int:
        return self.sim.now

    @property
    def delay_ps(self) -> int:
        return self.obs.delay_ps

    # -- observation ------------------------------------------------------

    def _on_ok(self, node: str, now: int, ok: LinkOk) -> None:
        index = len(self.tracer.records)
        self._record(TraceRecord(now, node, "link", "up", ok))
        side = NODES.index(node)
        memory = self.memories[node]
        pair = None
        holder = None
        half_here = False
        held_before = False
        if ok.qubit is not None and 0 <= ok.qubit < memory.size:
            pair = memory.pairs[ok.qubit]
            holder = memory.holders[ok.qubit]
            held_before = ok.qubit in self.user_held[node]
            if pair is not None:
                half_here = pair.memories[side] is memory and pair.qubits[side] == ok.qubit
        elif ok.qubit is None:
            herald = self.station.heralds.get(ok.pair_id)
            pair = None if herald is None else herald.pair
        herald = None if pair is None else self.station.heralds.get(pair.pair_id)
        self.obs.oks.append(
            OkTruth(
                record=index,
                node=node,
                side=side,
                time_ps=now,
                ok=ok,
                pair=pair,
                true_fidelity=(
                    None if pair is None else true_state(pair, now).fidelity(ok.bell_index)
                ),
                holder=holder,
                half_here=half_here,
                held_before=held_before,
                stream_start_ps=None if herald is None else herald.stream_start_ps,
            )
        )
        if ok.qubit is not None and holder == UPPER_HOLDER and not held_before:
            self.user_held[node].append(ok.qubit)

    def _snapshot(self) -> None:
        self.obs.now = self.sim.now
        self.obs.snapshots.append(
            Snapshot(
                self.sim.now,
                {n: tuple(m.holders) for n, m in self.memories.items()},
                {n: frozenset(q) for n, q in self.user_held.items()},
            )
        )

    # -- driving ----------------------------------------------------------

    def create(
        self,
        node: str,
        number: int | None = 1,
        min_fidelity: float = 0.0,
        max_time_ps: int | None = None,
        type: CreateType = "keep",
        priority: int = 0,
    ) -> int:
        """Issue CREATE at ``node`` towards the other node; returns its create_id."""
        peer = NODES[1 - NODES.index(node)]
        request = LinkCreate(
            remote=peer,
            number=number,
            min_fidelity=min_fidelity,
            max_time_ps=max_time_ps,
            type=type,
            priority=priority,
        )
        now = self.sim.now
        self._record(TraceRecord(now, node, "link", "down", request))
        event = CreateEvent(now, node, -1, request)
        self.obs.creates.append(event)
        create_id = self.entities[node].create(now, request)
        event.create_id = int(create_id)
        self._snapshot()
        return event.create_id

    def cancel(self, node: str, create_id: int) -> None:
        """Issue CANCEL at ``node`` for its request ``create_id``."""
        peer = NODES[1 - NODES.index(node)]
        request = LinkCancel(remote=peer, create_id=create_id)
        self._record(TraceRecord(self.sim.now, node, "link", "down", request))
        self.entities[node].cancel(self.sim.now, request)
        self._snapshot()

    def release(self, node: str, qubit: int) -> None:
        """The upper layer at ``node`` frees a qubit it was handed."""
        held = self.user_held[node]
        if qubit in held:
            held.remove(qubit)
            if self.memories[node].holders[qubit] == UPPER_HOLDER:
                self.memories[node].release(self.sim.now, qubit, UPPER_HOLDER)
        self._snapshot()

    def release_all(self) -> None:
        """Free every qubit the upper layers hold."""
        for node in NODES:
            for qubit in list(self.user_held[node]):
                self.release(node, qubit)

    def advance(self, dt_ps: int) -> None:
        """Let ``dt_ps`` of simulated time pass."""
        until = self.sim.now + max(dt_ps, 0)
        self.sim.run(until_ps=until)
        self.sim.now = max(self.sim.now, until)
        self._snapshot()

    def open_requests(self) -> list[tuple[str, int]]:
        """(origin, create_id) of requests not yet ended at their origin."""
        ended = set()
        for record in self.tracer.records:
            message = record.message
            if record.direction != "up" or record.node != message.model_dump().get("origin"):
                continue
            if isinstance(message, LinkError):
                ended.add((message.origin, message.create_id))
            elif isinstance(message, LinkOk):
                create = self._create_of(message.origin, message.create_id)
                if create and create.number is not None and message.seq + 1 >= create.number:
                    ended.add((message.origin, message.create_id))
        return [
            (c.node, c.create_id) for c in self.obs.creates if (c.node, c.create_id) not in ended
        ]

    def _create_of(self, origin: str, create_id: int) -> LinkCreate | None:
        for event in self.obs.creates:
            if (event.node, event.create_id) == (origin, create_id):
                return event.create
        return None

    def finish(self, drain_ps: int | None = None) -> None:
        """End the run: free held qubits, CANCEL what is open, wait, mark final."""
        drain = drain_ps or max(seconds_to_ps(0.02), 50 * (self.delay_ps + self.obs.cycle_ps))
        self.release_all()
        for origin, create_id in self.open_requests():
            self.cancel(origin, create_id)
        step = max(drain // 10, 1)
        for _ in range(10):
            self.advance(step)
            self.release_all()
        self.obs.final = True
        self._snapshot()

    def check(self, clauses: tuple[Clause, ...] = LINK_CLAUSES) -> list[Violation]:
        """Violations of ``clauses`` in what was observed so far."""
        return run_checks(clauses, self.obs)


# -- network layer ---------------------------------------------------------


class _ObservingTracer(MemoryTracer):
    """Keeps the trace and, at each NET_OK or NET_CREATE, the ground truth."""

    def __init__(self, obs: NetObservations) -> None:
        super().__init__()
        self.obs = obs
        self.network: Network | None = None
        self.ledger: PairLedger | None = None

    def record(self, record: TraceRecord) -> None:
        network = self.network
        message = record.message
        if network is not None and record.direction == "down" and isinstance(message, NetCreate):
            entity = network.network_entities[record.node]
            request_id = str(getattr(entity, "next_request_id", f"{record.node}#?"))
            self.obs.creates.append(
                NetCreateEvent(record.time_ps, record.node, request_id, message)
            )
        if network is not None and record.direction == "up" and isinstance(message, NetOk):
            fidelities = None
            birth = None
            if message.qubit is not None and self.ledger is not None:
                pair = network.memories[record.node].pairs[message.qubit]
                if pair is not None:
                    fidelities = bell_fidelities(true_state(pair, record.time_ps))
                    birth = self.ledger.birth(pair)
            self.obs.oks.append(
                NetOkTruth(
                    len(self.records), record.node, record.time_ps, message, fidelities, birth
                )
            )
        super().record(record)


def chain_scenario(
    hops: int = 2,
    length_km: float = 5.0,
    success_probability: float = 0.5,
    fidelity: float = 0.97,
    attempt_duration_s: float = 2e-5,
    qubits: int = 4,
    memory_t_s: float | None = None,
    seed: int = 0,
) -> Scenario:
    """A chain n0 - n1 - ... of abstract links, with no request of its own
    (the harness issues them)."""
    names = [f"n{i}" for i in range(hops + 1)]
    node: dict[str, Any] = {"qubits": qubits}
    if memory_t_s is not None:
        node["memory_t_s"] = memory_t_s
    return parse_scenario(
        {
            "seed": seed,
            "run": {"until_s": 1e6},
            "nodes": [{"name": n, **node} for n in names],
            "links": [
                {
                    "a": a,
                    "b": b,
                    "length_km": length_km,
                    "model": "abstract",
                    "success_probability": success_probability,
                    "attempt_duration_s": attempt_duration_s,
                    "fidelity": fidelity,
                }
                for a, b in itertools.pairwise(names)
            ],
            # a placeholder the harness never reaches
            "requests": [
                {"app": "pairs", "src": names[0], "dst": names[-1], "pairs": 1, "start_s": 1e5}
            ],
        },
        "<conformance chain>",
    )


class NetworkHarness:
    """A network built from a scenario with a swappable network layer,
    driven through NET_CREATE and time, observed at every NET_OK."""

    def __init__(
        self,
        scenario: Scenario,
        layer: NetworkLayerFactory | type[Any] = NetworkLayer,
        seed: int = 0,
    ) -> None:
        self.obs = NetObservations(nodes=tuple(n.name for n in scenario.nodes))
        self.tracer = _ObservingTracer(self.obs)
        self.network = Network(
            scenario, seed, self.tracer, network_layer=cast(type[NetworkLayer], layer)
        )
        self.obs.records = self.tracer.records
        self.obs.grace_ps = sum(link.delay_ps for link in self.network.links) + 1
        self.ledger = PairLedger(lambda: self.network.sim.now)
        for memory in self.network.memories.values():
            self.ledger.watch(memory)
        self.tracer.network = self.network
        self.tracer.ledger = self.ledger
        self.requests: list[PairsRequest] = []

    @property
    def now(self) -> int:
        return self.network.sim.now

    def create(self, src: str, request: NetCreate) -> None:
        """Issue NET_CREATE at ``src`` through its ``pairs`` application."""
        now = self.network.sim.now
        pairs = PairsRequest(src, request.remote, request, now)
        self.requests.append(pairs)
        self.tracer.record(TraceRecord(now, src, "network", "down", request))
        self.network.apps[src].start(now, pairs)
        self._observe()

    def advance(self, dt_ps: int) -> None:
        """Let ``dt_ps`` of simulated time pass."""
        sim = self.network.sim
        until = sim.now + max(dt_ps, 0)
        sim.run(until_ps=until)
        sim.now = max(sim.now, until)
        self._observe()

    def idle(self) -> bool:
        """Every request finished and no entity still serving a circuit."""
        return all(r.finished for r in self.requests) and all(
            getattr(e, "state", "idle") != "serving" for e in self.network.network_entities.values()
        )

    def finish(self, limit_ps: int | None = None) -> None:
        """Run until every deadline has passed and all is idle (or a limit), then mark final."""
        sim = self.network.sim
        deadlines = [
            r.start_ps + r.create.max_time_ps for r in self.requests if r.create.max_time_ps
        ]
        horizon = max([sim.now, *deadlines]) + (limit_ps or seconds_to_ps(0.05))
        step = seconds_to_ps(0.001)
        while sim.now < horizon:
            self.advance(min(step, horizon - sim.now))
            if self.idle() and sim.now >= max([0, *deadlines]):
                break
        self.advance(seconds_to_ps(0.005))
        self.obs.final = True
        self._observe()

    def _observe(self) -> None:
        self.obs.now = self.network.sim.now
        self.obs.holders = {n: tuple(m.holders) for n, m in self.network.memories.items()}

    def check(self, clauses: tuple[Clause, ...] = NETWORK_CLAUSES) -> list[Violation]:
        """Violations of ``clauses`` in what was observed so far."""
        return run_checks(clauses, self.obs)
