"""The built-in link layer end to end over two nodes: the service contract."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from qstack.layers.app.pairs import PairsRequest
from qstack.layers.link.messages import LinkCancel, LinkCreate, LinkError, LinkExpire, LinkOk
from qstack.network import Network
from qstack.runner import run_network
from qstack.scenario import parse_scenario
from qstack.sim.trace import MemoryTracer
from tests.builders import two_node_scenario


def _build(**kwargs: object) -> tuple[Network, MemoryTracer]:
    tracer = MemoryTracer()
    return Network(parse_scenario(two_node_scenario(**kwargs)), tracer=tracer), tracer  # type: ignore[arg-type]


def _oks(tracer: MemoryTracer) -> dict[str, list[LinkOk]]:
    by_node: dict[str, list[LinkOk]] = defaultdict(list)
    for record in tracer.records:
        if isinstance(record.message, LinkOk):
            by_node[record.node].append(record.message)
    return by_node


def _errors(tracer: MemoryTracer) -> list[tuple[str, LinkError]]:
    return [(r.node, r.message) for r in tracer.records if isinstance(r.message, LinkError)]


def _all_memory_free(network: Network) -> bool:
    return all(memory.free_count == memory.size for memory in network.memories.values())


@pytest.mark.parametrize("src, dst", [("alice", "bob"), ("bob", "alice")])
def test_both_ends_report_the_same_pairs(src: str, dst: str) -> None:
    network, tracer = _build(requests=[{"app": "pairs", "src": src, "dst": dst, "pairs": 30}])
    report = run_network(network)
    assert report.requests[0].status == "done"
    oks = _oks(tracer)
    assert len(oks["alice"]) == len(oks["bob"]) == 30
    for at_a, at_b in zip(oks["alice"], oks["bob"], strict=True):
        assert (at_a.pair_id, at_a.bell_index, at_a.seq) == (
            at_b.pair_id,
            at_b.bell_index,
            at_b.seq,
        )
        assert at_a.time_ps == at_b.time_ps
        assert at_a.origin == at_b.origin == src
        assert at_a.fidelity == pytest.approx(at_b.fidelity, abs=1e-12)
    assert sorted(ok.seq for ok in oks[src]) == list(range(30))
    assert _all_memory_free(network)


def test_attempts_start_only_after_both_ends_queued_the_request() -> None:
    network, tracer = _build()
    run_network(network)
    delay = network.links[0].delay_ps
    first_ok = min(ok.time_ps for ok in _oks(tracer)["alice"])
    # origin is the master: QUEUE_ADD out and QUEUE_ACK back, then one attempt at least.
    assert first_ok >= 2 * delay + network.links[0].station.cycle_ps


def test_priority_orders_service() -> None:
    requests = [
        {"app": "pairs", "src": "alice", "dst": "bob", "pairs": 10, "priority": 5},
        {"app": "pairs", "src": "bob", "dst": "alice", "pairs": 10, "priority": 0},
    ]
    network, tracer = _build(requests=requests)
    report = run_network(network)
    assert [r.status for r in report.requests] == ["done", "done"]
    order = [ok.origin for ok in _oks(tracer)["alice"]]
    # Both requests are queued before the first pair: the urgent one goes first.
    assert order == ["bob"] * 10 + ["alice"] * 10


def test_unreachable_fidelity_is_refused_at_once() -> None:
    network, tracer = _build(
        requests=[{"app": "pairs", "src": "alice", "dst": "bob", "pairs": 5, "min_fidelity": 0.96}]
    )
    report = run_network(network)
    request = report.requests[0]
    assert request.status == "error" and request.delivered == 0
    assert request.error is not None and request.error.startswith("unsupported_fidelity")
    errors = _errors(tracer)
    assert [(node, e.reason) for node, e in errors] == [("alice", "unsupported_fidelity")]
    assert report.links[0].attempts == 0


def test_timeout_ends_the_request_at_both_ends_and_frees_memory() -> None:
    network, tracer = _build(
        link={"success_probability": 0.01},
        requests=[
            {"app": "pairs", "src": "alice", "dst": "bob", "pairs": 1000, "max_time_s": 0.05}
        ],
    )
    report = run_network(network)
    request = report.requests[0]
    assert request.status == "expired"
    assert 0 < request.delivered < 1000
    errors = _errors(tracer)
    assert sorted(node for node, _ in errors) == ["alice", "bob"]
    assert {e.reason for _, e in errors} == {"timeout"}
    assert {e.delivered for _, e in errors} == {request.delivered}
    assert report.sim_time_s == pytest.approx(0.05, abs=1e-9)
    assert _all_memory_free(network)
    # Attempts stop at the deadline: none is counted past it.
    station = network.links[0].station
    assert station.attempts <= 0.05 / 1e-4 + 1


class HoldingUser:
    """A user that keeps every pair until told to let go."""

    holder = "app/pairs"

    def __init__(self, network: Network, node: str) -> None:
        self.memory = network.memories[node]
        self.held: list[int] = []
        self.errors: list[LinkError] = []

    def link_ok(self, now: int, ok: LinkOk) -> None:
        assert ok.qubit is not None and ok.qubit not in self.held
        self.held.append(ok.qubit)

    def link_error(self, now: int, error: LinkError) -> None:
        self.errors.append(error)

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        raise AssertionError(expire)

    def release_all(self, now: int) -> None:
        for qubit in self.held:
            self.memory.release(now, qubit, self.holder)
        self.held.clear()


def test_generation_waits_for_memory_and_resumes_on_release() -> None:
    # The scenario's own request starts long after this test ends.
    late = [{"app": "pairs", "src": "alice", "dst": "bob", "pairs": 1, "start_s": 100.0}]
    network, _ = _build(qubits=3, requests=late)
    users = {}
    for node in ("alice", "bob"):
        users[node] = HoldingUser(network, node)
        for entity in network.link_entities[node].values():
            entity.bind(users[node])
    link = network.link_entities["alice"]["bob"]
    link.create(0, LinkCreate(remote="bob", number=7))
    network.sim.run(until_ps=10**12)
    assert len(users["alice"].held) == len(users["bob"].held) == 3
    assert network.memories["alice"].free_count == 0
    for user in users.values():
        user.release_all(network.sim.now)
    network.sim.run(until_ps=2 * 10**12)
    assert len(users["alice"].held) == 3  # four more wanted, memory for three
    for user in users.values():
        user.release_all(network.sim.now)
    network.sim.run(until_ps=3 * 10**12)
    assert len(users["alice"].held) == len(users["bob"].held) == 1
    assert network.links[0].station.successes == 7


def test_link_down_ends_requests_and_frees_memory() -> None:
    network, tracer = _build(link={"success_probability": 0.001})
    network.sim.run(until_ps=10**9)  # requests queued and attempting
    assert not _all_memory_free(network)
    for entity in (network.link_entities["alice"]["bob"], network.link_entities["bob"]["alice"]):
        entity.link_down(network.sim.now)
    assert _all_memory_free(network)
    assert {(n, e.reason) for n, e in _errors(tracer)} == {
        ("alice", "link_down"),
        ("bob", "link_down"),
    }
    assert network.requests[0].status == "error"
    entity = network.link_entities["alice"]["bob"]
    assert entity.state == "down"
    # A CREATE on a link that is down is answered with ERROR, not queued.
    late = PairsRequest("alice", "bob", LinkCreate(remote="bob", number=1), network.sim.now)
    network.apps["alice"].start(network.sim.now, late)
    assert _errors(tracer)[-1][1].reason == "link_down"
    assert late.status == "error"


def test_measure_directly_gives_correlations_of_the_heralded_state() -> None:
    # Perfect double-click pairs are Psi+ or Psi-: Z outcomes always differ;
    # X outcomes agree for Psi+ and differ for Psi-.
    network, tracer = _build(
        link={
            "model": "double-click",
            "success_probability": None,
            "attempt_duration_s": None,
            "fidelity": None,
        },
        requests=[{"app": "pairs", "src": "alice", "dst": "bob", "pairs": 400, "type": "measure"}],
        qubits=1,
    )
    report = run_network(network)
    assert report.requests[0].status == "done"
    oks = _oks(tracer)
    bases: Counter[tuple[str, str]] = Counter()
    for at_a, at_b in zip(oks["alice"], oks["bob"], strict=True):
        assert at_a.qubit is None and at_b.qubit is None
        assert at_a.basis is not None and at_b.basis is not None
        bases[(at_a.basis, at_b.basis)] += 1
        if at_a.basis == at_b.basis == "Z":
            assert at_a.outcome != at_b.outcome
        if at_a.basis == at_b.basis == "X":
            assert (at_a.outcome == at_b.outcome) == (at_a.bell_index == 1)
    assert len(bases) == 4  # each end picks its own basis
    assert _all_memory_free(network)


def test_trace_records_are_json() -> None:
    network, tracer = _build(requests=[{"app": "pairs", "src": "bob", "dst": "alice", "pairs": 2}])
    run_network(network)
    kinds = Counter((r.node, r.direction, r.message.model_dump()["kind"]) for r in tracer.records)
    assert kinds[("bob", "down", "CREATE")] == 1
    assert kinds[("bob", "send", "QUEUE_ADD")] == kinds[("alice", "recv", "QUEUE_ADD")] == 1
    assert kinds[("alice", "send", "QUEUE_ACK")] == 1
    assert kinds[("alice", "up", "OK")] == kinds[("bob", "up", "OK")] == 2
    for record in tracer.records:
        line = record.to_json()
        assert line["message"]["kind"] == record.message.model_dump()["kind"]


def test_failed_peer_expires_kept_pairs_and_ends_requests() -> None:
    late = [{"app": "pairs", "src": "alice", "dst": "bob", "pairs": 1, "start_s": 100.0}]
    network, _ = _build(qubits=3, requests=late)
    holder = HoldingUser(network, "bob")
    network.link_entities["bob"]["alice"].bind(holder)
    network.link_entities["alice"]["bob"].bind(HoldingUser(network, "alice"))
    network.link_entities["alice"]["bob"].create(0, LinkCreate(remote="bob", number=10))
    network.sim.run(until_ps=10**12)
    assert len(holder.held) == 3  # memory-bound: 3 kept, 7 still wanted
    held_before = list(holder.held)
    expired: list[LinkExpire] = []
    holder.link_expire = lambda now, expire: expired.append(expire)  # type: ignore[method-assign]
    network.fail_node("alice")
    network.sim.run(until_ps=2 * 10**12)
    assert sorted(e.qubit for e in expired) == sorted(held_before)
    assert len({e.pair_id for e in expired}) == 3
    assert [e.reason for e in holder.errors] == ["link_down"]
    assert "node alice failed" in holder.errors[0].detail
    assert network.link_entities["bob"]["alice"].state == "down"
    # bob's layer above frees the expired qubits; nothing else holds memory there.
    holder.release_all(network.sim.now)
    assert network.memories["bob"].free_count == 3


def test_released_pairs_cannot_expire() -> None:
    network, _ = _build(requests=[{"app": "pairs", "src": "alice", "dst": "bob", "pairs": 5}])
    run_network(network)
    expired: list[LinkExpire] = []
    app = network.apps["bob"]
    app.link_expire = lambda now, expire: expired.append(expire)  # type: ignore[method-assign]
    network.fail_node("alice")
    network.sim.run()
    assert expired == []


def _bind_holders(network: Network) -> dict[str, HoldingUser]:
    users = {}
    for node in ("alice", "bob"):
        users[node] = HoldingUser(network, node)
        for entity in network.link_entities[node].values():
            entity.bind(users[node])
    return users


LATE = [{"app": "pairs", "src": "alice", "dst": "bob", "pairs": 1, "start_s": 100.0}]


@pytest.mark.parametrize("canceller", ["alice", "bob"])
def test_cancel_of_a_continuous_request_ends_both_ends_together(canceller: str) -> None:
    network, tracer = _build(qubits=50, requests=LATE)
    users = _bind_holders(network)
    peer = "bob" if canceller == "alice" else "alice"
    entity = network.link_entities[canceller][peer]
    create_id = entity.create(0, LinkCreate(remote=peer, number=None))
    network.sim.run(until_ps=5 * 10**9)  # 5 ms: tens of pairs at p = 0.2, 0.1 ms cycles
    entity.cancel(network.sim.now, LinkCancel(remote=peer, create_id=create_id))
    network.sim.run(until_ps=10**12)
    held = {node: len(user.held) for node, user in users.items()}
    assert held["alice"] == held["bob"] > 10
    errors = [e for user in users.values() for e in user.errors]
    assert [e.reason for e in errors] == ["cancelled", "cancelled"]
    assert {e.delivered for e in errors} == {held["alice"]}
    oks = _oks(tracer)
    assert [ok.pair_id for ok in oks["alice"]] == [ok.pair_id for ok in oks["bob"]]
    assert network.memories["alice"].free_count == 50 - held["alice"]


def test_capacity_bounds_the_qubits_a_link_fills() -> None:
    network, _ = _build(qubits=6, requests=LATE)
    users = _bind_holders(network)
    for node in ("alice", "bob"):
        network.link_entities[node]["bob" if node == "alice" else "alice"].capacity = 2
    network.link_entities["alice"]["bob"].create(0, LinkCreate(remote="bob", number=5))
    network.sim.run(until_ps=10**12)
    assert len(users["alice"].held) == len(users["bob"].held) == 2
    assert network.memories["alice"].free_count == 4
    for user in users.values():
        user.release_all(network.sim.now)
    network.sim.run(until_ps=2 * 10**12)
    assert len(users["alice"].held) == 2
