"""In-memory harnesses that drive a layer under test and record what it did.

Both harnesses build through the same code as :class:`qstack.network.Network`
(:mod:`qstack.wiring`): a link protocol gets exactly the
:class:`~qstack.layers.link.service.LinkContext` a network gives it, and a
network protocol runs in a real :class:`~qstack.network.Network`. So a
layer that passes the kit runs in a network unchanged.

Link layer: a link protocol is any class built from one ``LinkContext`` that
offers :class:`~qstack.layers.link.service.LinkEntity` (see
``specs/link.md``); the harness is the layer above both ends: it issues
CREATE / CANCEL, holds the qubits handed up (to the holder ``"upper"``,
:data:`UPPER_HOLDER`) and frees them.

The network layer's harness is :mod:`qstack.conformance.network_harness`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from qstack.conformance.checks import Violation
from qstack.conformance.clauses import LINK_CLAUSES, Clause, run_checks
from qstack.conformance.observer import (
    CreateEvent,
    Herald,
    Ledger,
    LinkObservations,
    OkTruth,
    Snapshot,
    StationWatch,
    state_at,
)
from qstack.layers.link.egp import LinkLayer
from qstack.layers.link.messages import (
    CreateType,
    LinkCancel,
    LinkCreate,
    LinkError,
    LinkExpire,
    LinkOk,
    LinkOkBatch,
    LinkStatus,
)
from qstack.layers.link.service import LinkLayerFactory
from qstack.physics.hardware import Fiber
from qstack.quantum.oracle import TruthOracle
from qstack.quantum.store import QuantumStore
from qstack.scenario import Scenario, parse_scenario
from qstack.sim.classical import ClassicalNetwork
from qstack.sim.kernel import Simulator, seconds_to_ps
from qstack.sim.random import RandomStreams
from qstack.sim.trace import MemoryTracer, TraceRecord
from qstack.wiring import Run, build_link, build_memory

#: The holder name a link entity hands kept qubits to, in the harness.
UPPER_HOLDER = "upper"

NODES = ("alice", "bob")


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

    def scenario(self, seed: int) -> Scenario:
        """The two-node scenario of this link (its requests are the harness's)."""
        link: dict[str, Any] = {"a": NODES[0], "b": NODES[1], "length_km": self.length_km}
        if self.model == "abstract":
            link.update(
                model="abstract",
                success_probability=self.success_probability,
                fidelity=self.fidelity,
                attempt_duration_s=self.attempt_duration_s,
            )
        else:
            # eta is one arm: emission (1) x fiber to the station x detector
            arm = Fiber(self.length_km / 2).transmittance
            link.update(
                model="double-click",
                detector_efficiency=min(self.eta / arm, 1.0),
                dark_count_probability=self.dark_count_probability,
            )
        node: dict[str, Any] = {"qubits": self.qubits}
        if self.memory_t_s is not None:
            node["memory_t_s"] = self.memory_t_s
        return parse_scenario(
            {
                "seed": seed,
                "nodes": [{"name": name, **node} for name in NODES],
                "links": [link],
                "requests": [{"app": "pairs", "src": NODES[0], "dst": NODES[1], "pairs": 1}],
            },
            "<conformance link>",
        )


class _User:
    """The harness's upper layer at one node: records every report."""

    def __init__(self, harness: LinkHarness, node: str) -> None:
        self._harness = harness
        self._node = node

    def link_ok(self, now: int, ok: LinkOk) -> None:
        self._harness._on_ok(self._node, now, ok)

    def link_ok_batch(self, now: int, batch: LinkOkBatch) -> None:
        for ok in batch.oks():
            self._harness._on_ok(self._node, ok.time_ps, ok)

    def link_error(self, now: int, error: LinkError) -> None:
        self._harness._record(TraceRecord(now, self._node, "link", "up", error))

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        self._harness._record(TraceRecord(now, self._node, "link", "up", expire))

    def link_status(self, now: int, status: LinkStatus) -> None:
        self._harness._record(TraceRecord(now, self._node, "link", "up", status))


class _LinkTracer(MemoryTracer):
    """Keeps the trace and feeds the station's records to its watch."""

    def __init__(self) -> None:
        super().__init__()
        self.watch: StationWatch | None = None

    def record(self, record: TraceRecord) -> None:
        if self.watch is not None and record.layer == "physical":
            self.watch.observe(record)
        super().record(record)


class LinkHarness:
    """Two link entities, ``alice`` (side 0) and ``bob`` (side 1), on one
    simulated link, driven through CREATE / CANCEL / release / time."""

    def __init__(
        self,
        factory: LinkLayerFactory | None = None,
        params: LinkParams | None = None,
        seed: int = 0,
    ) -> None:
        params = params or LinkParams()
        self.params = params
        scenario = params.scenario(seed)
        self.sim = Simulator()
        self.tracer = _LinkTracer()
        self.store = QuantumStore()
        self.oracle = TruthOracle(self.store)
        streams = RandomStreams(seed)
        classical = ClassicalNetwork(self.sim, streams.stream("classical"))
        run = Run(self.sim, self.store, self.oracle, streams, self.tracer, classical)
        self.memories = {spec.name: build_memory(self.store, spec) for spec in scenario.nodes}
        self.ledger = Ledger(self.store, self.memories, lambda: self.sim.now)
        self.watch = StationWatch(self.store, self.memories)
        self.tracer.watch = self.watch
        memories = (self.memories[NODES[0]], self.memories[NODES[1]])
        self.link = build_link(
            run,
            scenario.links[0],
            memories,
            factory or LinkLayer,
            (params.qubits, params.qubits),
            UPPER_HOLDER,
        )
        self.station = self.link.station
        self.obs = LinkObservations(
            nodes=NODES,
            delay_ps=self.link.delay_ps,
            cycle_ps=self.station.cycle_ps,
            user_holder=UPPER_HOLDER,
            records=self.tracer.records,
            arms=self.watch.arms,
            placements=self.ledger.placements,
        )
        self.user_held: dict[str, list[int]] = {node: [] for node in NODES}
        self.entities = dict(zip(NODES, self.link.ends, strict=True))
        for node, entity in self.entities.items():
            entity.bind(_User(self, node))

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
        record = None
        holder = None
        half_here = False
        held_before = False
        if ok.qubit is not None and 0 <= ok.qubit < memory.size:
            record = self.store.record(node, ok.qubit)
            holder = memory.holders[ok.qubit]
            held_before = ok.qubit in self.user_held[node]
            if record is not None:
                half_here = record.side_of(memory.qubits, ok.qubit) == side
        measured = self.watch.heralds.get(ok.pair_id) if ok.qubit is None else None
        if measured is not None:
            record = measured.record
        if measured is not None and record is None:
            # Measured where it was made (a batch): nothing stored to look at.
            herald: Herald | None = measured
            true_fidelity: float | None = measured.fidelity
        else:
            herald = self.watch.herald_of(record)
            true_fidelity = (
                None if record is None else state_at(record, now).fidelity(ok.bell_index)
            )
        self.obs.oks.append(
            OkTruth(
                record=index,
                node=node,
                side=side,
                time_ps=now,
                ok=ok,
                herald=herald,
                true_fidelity=true_fidelity,
                holder=holder,
                half_here=half_here,
                held_before=held_before,
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
        window: int | None = None,
        batched: bool = False,
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
            window=window,
            batched=batched,
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
            if record.direction != "up" or not isinstance(message, LinkOk | LinkError):
                continue
            if record.node != message.origin:
                continue
            if isinstance(message, LinkError):
                ended.add((message.origin, message.create_id))
            else:
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
