"""The network-layer harness: a real :class:`~qstack.network.Network` with the
network protocol under test on every node, driven through NET_CREATE at the
``pairs`` application and observed at every NET_OK."""

from __future__ import annotations

import itertools
from typing import Any

from qstack.conformance.checks import Violation
from qstack.conformance.clauses import NETWORK_CLAUSES, Clause, run_checks
from qstack.conformance.observer import NetCreateEvent, NetObservations, NetOkTruth, state_at
from qstack.layers.app.pairs import PairsSession
from qstack.layers.app.service import SessionSetup
from qstack.layers.link.service import LinkLayerFactory
from qstack.layers.network.messages import NetCreate, NetOk, NetOkBatch
from qstack.layers.network.service import NetworkLayerFactory
from qstack.network import Network
from qstack.quantum.pair import PairRecord
from qstack.scenario import Scenario, parse_scenario
from qstack.sim.kernel import seconds_to_ps
from qstack.sim.trace import MemoryTracer, TraceRecord


class _ObservingTracer(MemoryTracer):
    """Keeps the trace and, at each NET_OK or NET_CREATE, the ground truth."""

    def __init__(self, obs: NetObservations) -> None:
        super().__init__()
        self.obs = obs
        self.network: Network | None = None

    def record(self, record: TraceRecord) -> None:
        network = self.network
        message = record.message
        if network is not None and record.direction == "down" and isinstance(message, NetCreate):
            entity = network.network_entities[record.node]
            self.obs.creates.append(
                NetCreateEvent(record.time_ps, record.node, entity.next_request_id, message)
            )
        if network is not None and record.direction == "up" and isinstance(message, NetOk):
            self.obs.oks.append(self._truth(network, record, message))
        if record.direction == "up" and isinstance(message, NetOkBatch):
            # Measured where they were made: nothing stored to look at.
            self.obs.oks.extend(
                NetOkTruth(len(self.records), record.node, ok.time_ps, ok, None, None, None, None)
                for ok in message.oks()
            )
        super().record(record)

    def _truth(self, network: Network, record: TraceRecord, ok: NetOk) -> NetOkTruth:
        pair = None if ok.qubit is None else network.store.record(record.node, ok.qubit)
        if pair is None:
            entangled = None if ok.qubit is None else False
            return NetOkTruth(
                len(self.records), record.node, record.time_ps, ok, None, None, None, entangled
            )
        if pair.consumed is not None:
            state, index = pair.consumed
            fidelity = state.fidelity(index)
        else:
            index = pair.bell_index
            fidelity = state_at(pair, record.time_ps).fidelity(index)
        return NetOkTruth(
            len(self.records),
            record.node,
            record.time_ps,
            ok,
            index,
            fidelity,
            pair.born_ps,
            _other_half_held(network, pair, record.node, ok.qubit),
        )


def _other_half_held(network: Network, pair: PairRecord, node: str, qubit: int | None) -> bool:
    """Whether the pair's other half is still in the other end's memory (or
    was used up there, e.g. teleported)."""
    sides = [
        side
        for side in (0, 1)
        if (register := pair.registers[side]) is not None
        and register.node == node
        and pair.qubits[side] == qubit
    ]
    if not sides:
        return False
    here = sides[0]
    far = pair.registers[1 - here]
    if far is None:
        return pair.consumed is not None
    return network.store.record(far.node, pair.qubits[1 - here]) is pair


def chain_scenario(
    hops: int = 2,
    length_km: float = 5.0,
    success_probability: float = 0.5,
    fidelity: float = 0.97,
    attempt_duration_s: float = 2e-5,
    qubits: int = 4,
    memory_t_s: float | None = None,
    seed: int = 0,
    ring: bool = False,
) -> Scenario:
    """A chain n0 - n1 - ... of abstract links (closed into a ring with
    ``ring``, when it has three nodes or more), with no request of its own
    (the harness issues them)."""
    names = [f"n{i}" for i in range(hops + 1)]
    ends = list(itertools.pairwise(names))
    if ring and len(names) >= 3:
        ends.append((names[-1], names[0]))
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
                for a, b in ends
            ],
            # a placeholder the harness never reaches
            "requests": [
                {"app": "pairs", "src": names[0], "dst": names[-1], "pairs": 1, "start_s": 1e5}
            ],
        },
        "<conformance chain>",
    )


class NetworkHarness:
    """A network built from a scenario with the network protocol under test
    on every node, driven through NET_CREATE and time, observed at every
    NET_OK."""

    def __init__(
        self,
        scenario: Scenario,
        layer: NetworkLayerFactory | None = None,
        seed: int = 0,
        link_layer: LinkLayerFactory | None = None,
    ) -> None:
        self.obs = NetObservations(nodes=tuple(n.name for n in scenario.nodes))
        self.tracer = _ObservingTracer(self.obs)
        self.network = Network(
            scenario, seed, self.tracer, link_layer=link_layer, network_layer=layer
        )
        self.obs.records = self.tracer.records
        self.obs.grace_ps = sum(link.delay_ps for link in self.network.links) + 1
        self.tracer.network = self.network
        self.requests: list[PairsSession] = []

    @property
    def now(self) -> int:
        return self.network.sim.now

    def create(self, src: str, request: NetCreate) -> None:
        """Issue NET_CREATE at ``src`` through its ``pairs`` application."""
        network = self.network
        now = network.sim.now
        pairs = PairsSession(
            SessionSetup(
                name=f"harness-{len(self.requests)}",
                src=src,
                dst=request.remote,
                create=request,
                start_ps=now,
                rng=network.streams.stream(f"harness/{len(self.requests)}"),
                options={},
            )
        )
        self.requests.append(pairs)
        network.apps[src].start(now, pairs)
        self._observe()

    # -- faults ---------------------------------------------------------------

    def toggle_node(self, node: str) -> str:
        """Fail ``node``, or bring it back if it is down; says which."""
        network = self.network
        if node in network.classical.down:
            network.recover_node(node)
            done = "node_up"
        else:
            network.fail_node(node)
            done = "node_down"
        self._observe()
        return done

    def toggle_link(self, a: str, b: str) -> str:
        """Cut the fiber a-b, or repair it if it is cut; says which."""
        network = self.network
        if frozenset((a, b)) in network.classical.cut:
            network.repair_link(a, b)
            done = "link_up"
        else:
            network.cut_link(a, b)
            done = "link_down"
        self._observe()
        return done

    def classical_loss(self, a: str, b: str, probability: float) -> None:
        self.network.set_classical_loss(a, b, probability)

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
            e.state != "serving" for e in self.network.network_entities.values()
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
