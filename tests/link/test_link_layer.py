"""The built-in link layer over two nodes, driven through its own service:
CREATE / CANCEL down, OK / ERROR / EXPIRE up, with a recording user bound
in place of the network layer."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from qstack.layers.link.egp import LinkLayer
from qstack.layers.link.messages import (
    LinkCancel,
    LinkCreate,
    LinkError,
    LinkExpire,
    LinkOk,
    LinkStatus,
)
from qstack.network import Network
from qstack.scenario import parse_scenario
from qstack.sim.kernel import PS_PER_S
from qstack.sim.trace import MemoryTracer, TraceRecord
from tests.builders import two_node_scenario

#: The scenario's own request starts long after these tests end.
LATE = [{"app": "pairs", "src": "alice", "dst": "bob", "pairs": 1, "start_s": 100.0}]
PEERS = {"alice": "bob", "bob": "alice"}


class Recorder:
    """A user of the link service that records everything it is told and
    either frees each pair at once or keeps it until told to let go."""

    holder = "network"  # the holder name the link hands qubits to

    def __init__(self, network: Network, node: str, tracer: MemoryTracer, keep: bool) -> None:
        self.node = node
        self.memory = network.memories[node]
        self.tracer = tracer
        self.keep = keep
        self.oks: list[LinkOk] = []
        self.errors: list[LinkError] = []
        self.expires: list[LinkExpire] = []
        self.statuses: list[LinkStatus] = []
        self.held: list[int] = []

    def link_ok(self, now: int, ok: LinkOk) -> None:
        self.tracer.record(TraceRecord(now, self.node, "link", "up", ok))
        self.oks.append(ok)
        if ok.qubit is None:
            return
        assert ok.qubit not in self.held
        if self.keep:
            self.held.append(ok.qubit)
        else:
            self.memory.release(now, ok.qubit, self.holder)

    def link_error(self, now: int, error: LinkError) -> None:
        self.tracer.record(TraceRecord(now, self.node, "link", "up", error))
        self.errors.append(error)

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        self.expires.append(expire)

    def link_status(self, now: int, status: LinkStatus) -> None:
        self.statuses.append(status)

    def release_all(self, now: int) -> None:
        for qubit in self.held:
            self.memory.release(now, qubit, self.holder)
        self.held.clear()


class Harness:
    """Two link entities, alice (the link's a end, queue master) and bob."""

    def __init__(self, keep: bool = False, **scenario: Any) -> None:
        scenario.setdefault("requests", LATE)
        self.tracer = MemoryTracer()
        self.network = Network(parse_scenario(two_node_scenario(**scenario)), tracer=self.tracer)
        self.users = {
            node: Recorder(self.network, node, self.tracer, keep) for node in ("alice", "bob")
        }
        for node, user in self.users.items():
            self.entity(node).bind(user)

    def entity(self, node: str) -> LinkLayer:
        return self.network.link_entities[node][PEERS[node]]

    def create(self, node: str, **fields: Any) -> int:
        fields.setdefault("number", 1)
        return self.entity(node).create(
            self.network.sim.now, LinkCreate(remote=PEERS[node], **fields)
        )

    def run(self, until_s: float) -> None:
        self.network.sim.run(until_ps=round(until_s * PS_PER_S))

    @property
    def now(self) -> int:
        return self.network.sim.now

    def memory_free(self) -> bool:
        return all(m.free_count == m.size for m in self.network.memories.values())


@pytest.mark.parametrize("origin", ["alice", "bob"])
def test_both_ends_report_the_same_pairs(origin: str) -> None:
    harness = Harness()
    harness.create(origin, number=30)
    harness.run(1.0)
    at_a, at_b = harness.users["alice"].oks, harness.users["bob"].oks
    assert len(at_a) == len(at_b) == 30
    for ok_a, ok_b in zip(at_a, at_b, strict=True):
        assert (ok_a.pair_id, ok_a.bell_index, ok_a.seq, ok_a.time_ps) == (
            ok_b.pair_id,
            ok_b.bell_index,
            ok_b.seq,
            ok_b.time_ps,
        )
        assert ok_a.origin == ok_b.origin == origin
        assert ok_a.fidelity == pytest.approx(ok_b.fidelity, abs=1e-12)
    assert [ok.seq for ok in at_a] == list(range(30))
    assert harness.memory_free()


def test_attempts_start_only_after_both_ends_queued_the_request() -> None:
    harness = Harness()
    harness.create("alice", number=5)
    harness.run(1.0)
    delay = harness.network.links[0].delay_ps
    first_ok = harness.users["alice"].oks[0].time_ps
    # The master's own request: QUEUE_ADD out and QUEUE_ACK back first.
    assert first_ok >= 2 * delay + harness.network.links[0].station.cycle_ps


def test_priority_orders_service() -> None:
    harness = Harness()
    harness.create("alice", number=10, priority=5)
    harness.create("bob", number=10, priority=0)
    harness.run(1.0)
    order = [ok.origin for ok in harness.users["alice"].oks]
    # Both requests are queued before the first pair: the urgent one goes first.
    assert order == ["bob"] * 10 + ["alice"] * 10


def test_unreachable_fidelity_is_refused_at_once() -> None:
    harness = Harness()
    harness.create("alice", number=5, min_fidelity=0.96)  # the link gives 0.95
    assert [e.reason for e in harness.users["alice"].errors] == ["unsupported_fidelity"]
    assert "min_fidelity = 0.96" in harness.users["alice"].errors[0].detail
    harness.run(1.0)
    assert harness.users["bob"].errors == [] and harness.users["alice"].oks == []
    assert harness.network.links[0].station.attempts == 0


def test_timeout_ends_the_request_at_both_ends_and_frees_memory() -> None:
    harness = Harness(link={"success_probability": 0.01})
    harness.create("alice", number=1000, max_time_ps=round(0.05 * PS_PER_S))
    harness.run(1.0)
    delivered = len(harness.users["alice"].oks)
    assert 0 < delivered < 1000
    errors = [(n, e) for n, u in harness.users.items() for e in u.errors]
    assert sorted(n for n, _ in errors) == ["alice", "bob"]
    assert {e.reason for _, e in errors} == {"timeout"}
    assert {e.delivered for _, e in errors} == {delivered}
    assert harness.memory_free()
    # Attempts stop at the deadline: none is counted past it (100 us cycles).
    assert harness.network.links[0].station.attempts <= 0.05 / 1e-4 + 1


def test_generation_waits_for_memory_and_resumes_on_release() -> None:
    harness = Harness(keep=True, qubits=3)
    harness.create("alice", number=7)
    harness.run(1.0)
    alice, bob = harness.users["alice"], harness.users["bob"]
    assert len(alice.held) == len(bob.held) == 3
    assert harness.network.memories["alice"].free_count == 0
    for user in (alice, bob):
        user.release_all(harness.now)
    harness.run(2.0)
    assert len(alice.held) == 3  # four more wanted, memory for three
    for user in (alice, bob):
        user.release_all(harness.now)
    harness.run(3.0)
    assert len(alice.held) == len(bob.held) == 1
    assert harness.network.links[0].station.successes == 7


def test_cut_fiber_ends_requests_frees_memory_and_serves_again_once_repaired() -> None:
    harness = Harness(link={"success_probability": 0.001})
    harness.create("alice", number=5)
    harness.run(0.001)  # queued and attempting
    assert not harness.memory_free()
    harness.network.cut_link("alice", "bob")
    assert harness.memory_free()
    for user in harness.users.values():
        assert [e.reason for e in user.errors] == ["link_down"]
        assert [(s.up, s.cause) for s in user.statuses] == [(False, "cut")]
    assert harness.entity("alice").state == "down"
    # A CREATE on a link that is down is answered with ERROR, not queued.
    harness.create("alice")
    assert harness.users["alice"].errors[-1].reason == "link_down"
    harness.network.repair_link("alice", "bob")
    for user in harness.users.values():
        assert [(s.up, s.cause) for s in user.statuses][-1] == (True, "repaired")
    assert harness.entity("alice").state == "idle"
    harness.create("bob", number=2, min_fidelity=0.0)
    harness.run(harness.now / PS_PER_S + 30.0)
    assert len(harness.users["alice"].oks) == len(harness.users["bob"].oks) == 2


def test_a_link_stays_down_until_every_cause_clears() -> None:
    harness = Harness()
    harness.network.cut_link("alice", "bob")
    harness.network.fail_node("bob")
    harness.run(0.1)
    harness.network.repair_link("alice", "bob")
    assert harness.entity("alice").state == "down"  # bob is still down
    harness.network.recover_node("bob")
    harness.run(0.2)
    assert harness.entity("alice").state == harness.entity("bob").state == "idle"
    causes = [(s.up, s.cause) for s in harness.users["alice"].statuses]
    assert causes == [
        (False, "cut"),
        (False, "peer_failed"),
        (True, "repaired"),
        (True, "peer_recovered"),
    ]


def test_failed_peer_expires_kept_pairs_and_ends_requests() -> None:
    harness = Harness(keep=True, qubits=3)
    harness.create("alice", number=10)
    harness.run(1.0)
    bob = harness.users["bob"]
    held_before = list(bob.held)
    assert len(held_before) == 3  # memory-bound: 3 kept, 7 still wanted
    harness.network.fail_node("alice")
    harness.run(2.0)
    assert sorted(e.qubit for e in bob.expires) == sorted(held_before)
    assert len({e.pair_id for e in bob.expires}) == 3
    assert [e.reason for e in bob.errors] == ["link_down"]
    assert "node alice failed" in bob.errors[0].detail
    assert harness.entity("bob").state == "down"
    bob.release_all(harness.now)  # the layer above frees the expired qubits
    assert harness.network.memories["bob"].free_count == 3


def test_released_pairs_cannot_expire() -> None:
    harness = Harness()
    harness.create("alice", number=5)
    harness.run(1.0)
    harness.network.fail_node("alice")
    harness.run(2.0)
    assert harness.users["bob"].expires == []


def test_measure_directly_gives_correlations_of_the_heralded_state() -> None:
    # Perfect double-click pairs are Psi+ or Psi-: Z outcomes always differ;
    # X outcomes agree for Psi+ and differ for Psi-.
    link = {
        "model": "double-click",
        "success_probability": None,
        "attempt_duration_s": None,
        "fidelity": None,
    }
    harness = Harness(link=link, qubits=1)
    harness.create("alice", number=400, type="measure")
    harness.run(5.0)
    bases: Counter[tuple[str, str]] = Counter()
    pairs = zip(harness.users["alice"].oks, harness.users["bob"].oks, strict=True)
    for at_a, at_b in pairs:
        assert at_a.qubit is None and at_b.qubit is None
        assert at_a.basis is not None and at_b.basis is not None
        bases[(at_a.basis, at_b.basis)] += 1
        if at_a.basis == at_b.basis == "Z":
            assert at_a.outcome != at_b.outcome
        if at_a.basis == at_b.basis == "X":
            assert (at_a.outcome == at_b.outcome) == (at_a.bell_index == 1)
    assert sum(bases.values()) == 400
    assert len(bases) == 4  # each end picks its own basis
    assert harness.memory_free()


def test_trace_records_are_json() -> None:
    harness = Harness()
    harness.create("bob", number=2)
    harness.run(1.0)
    kinds = Counter(
        (r.node, r.direction, r.message.model_dump()["kind"]) for r in harness.tracer.records
    )
    assert kinds[("bob", "send", "QUEUE_ADD")] == kinds[("alice", "recv", "QUEUE_ADD")] == 1
    assert kinds[("alice", "send", "QUEUE_ACK")] == 1
    assert kinds[("alice", "up", "OK")] == kinds[("bob", "up", "OK")] == 2
    for record in harness.tracer.records:
        line = record.to_json()
        assert line["message"]["kind"] == record.message.model_dump()["kind"]


@pytest.mark.parametrize("canceller", ["alice", "bob"])
def test_cancel_of_a_continuous_request_ends_both_ends_together(canceller: str) -> None:
    harness = Harness(keep=True, qubits=50)
    create_id = harness.create(canceller, number=None)
    harness.run(0.005)  # tens of pairs at p = 0.2 and 0.1 ms attempts
    cancel = LinkCancel(remote=PEERS[canceller], create_id=create_id)
    harness.entity(canceller).cancel(harness.now, cancel)
    harness.run(1.0)
    held = {node: len(user.held) for node, user in harness.users.items()}
    assert held["alice"] == held["bob"] > 10
    errors = [e for user in harness.users.values() for e in user.errors]
    assert [e.reason for e in errors] == ["cancelled", "cancelled"]
    assert {e.delivered for e in errors} == {held["alice"]}
    ids = [[ok.pair_id for ok in user.oks] for user in harness.users.values()]
    assert ids[0] == ids[1]
    assert harness.network.memories["alice"].free_count == 50 - held["alice"]


def test_capacity_bounds_the_qubits_a_link_fills() -> None:
    harness = Harness(keep=True, qubits=6)
    for node in ("alice", "bob"):
        harness.entity(node).capacity = 2
    harness.create("alice", number=5)
    harness.run(1.0)
    alice, bob = harness.users["alice"], harness.users["bob"]
    assert len(alice.held) == len(bob.held) == 2
    assert harness.network.memories["alice"].free_count == 4
    for user in (alice, bob):
        user.release_all(harness.now)
    harness.run(2.0)
    assert len(alice.held) == 2
