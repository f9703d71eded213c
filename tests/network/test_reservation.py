"""Memory reservation and admission control (``[network] reservation``,
``specs/network.md`` "Reservation"): no deadlock, memory never promised
twice, every request ends."""

from __future__ import annotations

from typing import Any

import pytest
from _fault_helpers import pairs_request, scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qstack
from qstack.layers.link.egp import LinkLayer
from qstack.layers.link.messages import LinkOk
from qstack.layers.network.admission import reserved_qubits
from qstack.layers.network.qnp import NetworkLayer
from qstack.network import Network
from qstack.runner import run_network
from qstack.scenario import parse_scenario
from qstack.sim.kernel import seconds_to_ps
from qstack.sim.trace import MemoryTracer
from tests.network.test_faults_recovery import assert_clean

#: a-b-c with two qubits at b: a circuit a->c and one c->a each take one of
#: b's qubits with their first link pair, then wait for the other's.
CROSSING = (("a", "b", 5.0), ("b", "c", 5.0))


def crossing(reservation: bool) -> dict[str, Any]:
    data = scenario(
        CROSSING,
        [pairs_request("a", "c", 20, name="east"), pairs_request("c", "a", 20, name="west")],
        qubits=2,
        until_s=5.0,
    )
    data["network"]["reservation"] = reservation
    return data


def run_reserved(data: dict[str, Any]) -> tuple[Network, MemoryTracer, qstack.RunReport]:
    """Run ``data`` with reservation, traced; every request ended, memory free."""
    data["network"]["reservation"] = True
    tracer = MemoryTracer()
    network = Network(parse_scenario(data), tracer=tracer)
    report = run_network(network)
    assert_clean(network, tracer)
    return network, tracer, report


def statuses(report: qstack.RunReport) -> dict[str | None, tuple[str, str | None]]:
    return {r.name: (r.status, r.error) for r in report.requests}


def test_crossing_circuits_deadlock_without_reservation() -> None:
    report = qstack.run(crossing(reservation=False))
    assert {status for status, _ in statuses(report).values()} != {"done"}, statuses(report)
    assert any("stalled" in (error or "") for _, error in statuses(report).values())


def test_reservation_lets_crossing_circuits_finish_one_after_the_other() -> None:
    _, tracer, report = run_reserved(crossing(reservation=True))
    assert statuses(report) == {"east": ("done", None), "west": ("done", None)}
    # the later one was refused at b and admitted once the first had ended
    refusals = [
        r for r in tracer.records if r.message.kind == "TEARDOWN" and r.message.reason == "busy"
    ]
    assert refusals


def test_a_path_that_can_never_hold_the_circuit_is_refused_for_good() -> None:
    data = scenario(CROSSING, [pairs_request("a", "c", 5)], qubits=1, until_s=1.0)
    data["network"]["reservation"] = True
    (request,) = qstack.run(data).requests
    assert request.status == "error"
    assert request.error is not None and "resource_shortage" in request.error
    assert "needs 2 qubits here, the node has 1" in request.error


def test_a_waiting_request_still_times_out() -> None:
    data = scenario(
        CROSSING,
        [
            pairs_request("a", "c", 400, name="long"),
            pairs_request("c", "a", 5, name="short", max_time_s=0.002),
        ],
        qubits=2,
        until_s=5.0,
    )
    data["network"]["reservation"] = True
    report = qstack.run(data)
    short = statuses(report)["short"]
    assert short[0] == "expired" and short[1] is not None and "timeout" in short[1]
    assert "waiting for memory" in short[1]
    assert statuses(report)["long"] == ("done", None)


def test_a_repeater_failing_frees_its_reservations_and_the_request_reroutes() -> None:
    """Ring a-b-c-d: b fails under a reserved circuit a->c; the source
    reroutes through d (reserving there), and b comes back with nothing
    reserved; a request queued behind the first one for memory at a still
    gets through."""
    from _fault_helpers import RING

    data = scenario(
        RING,
        [pairs_request("a", "c", 200, name="first"), pairs_request("a", "c", 50, name="second")],
        [
            {"at_s": 0.01, "kind": "node_down", "node": "b"},
            {"at_s": 0.05, "kind": "node_up", "node": "b"},
        ],
        reroute=True,
        qubits=2,
    )
    network, _, report = run_reserved(data)
    assert statuses(report) == {"first": ("done", None), "second": ("done", None)}
    first = next(r for r in report.requests if r.name == "first")
    assert first.reroutes == 1 and first.path == ["a", "d", "c"]
    for entity in network.network_entities.values():
        assert isinstance(entity, NetworkLayer)
        assert not any(entity._reserved.values()) and not entity._admitting, entity.node


def test_a_source_failing_ends_its_waiting_requests() -> None:
    data = scenario(
        CROSSING,
        [pairs_request("a", "c", 300, name="long"), pairs_request("a", "c", 5, name="waiting")],
        [{"at_s": 0.005, "kind": "node_down", "node": "a"}],
        qubits=2,
        until_s=2.0,
    )
    _, tracer, report = run_reserved(data)
    refused = [
        r for r in tracer.records if r.message.kind == "TEARDOWN" and r.message.reason == "busy"
    ]
    assert refused and refused[0].time_ps < seconds_to_ps(0.005)  # "waiting" was waiting
    for request in report.requests:
        assert request.status == "error", request
        assert request.error == "torn_down: node a failed", request.error


# -- properties over random topologies and loads --------------------------------


class _Invariants:
    """Checks, at every link pair handed to a network layer, that the node
    has not promised more memory than it has, nor more of a link's pairs
    than the link may hold there, and that no circuit holds more link pairs
    than it reserved (``rounds + 1`` per side)."""

    def __init__(self, network: Network) -> None:
        self.checked = 0
        self.links = network.link_entities
        for entity in network.network_entities.values():
            assert isinstance(entity, NetworkLayer)
            entity.link_ok = self._checking(entity)  # type: ignore[method-assign]

    def _checking(self, entity: NetworkLayer) -> Any:
        original = entity.link_ok

        def checking(now: int, ok: LinkOk) -> None:
            original(now, ok)
            self.check(entity)

        return checking

    def check(self, entity: NetworkLayer) -> None:
        self.checked += 1
        reserved = entity._reserved
        assert 0 <= sum(reserved.values()) <= entity._memory.size, entity.node
        for peer, count in reserved.items():
            assert 0 <= count <= self.links[entity.node][peer].capacity, (entity.node, peer)
        for circuit in entity._circuits.values():
            if circuit.reserved == 0:
                continue
            assert circuit.reserved == reserved_qubits(circuit)
            per_side = circuit.target_level + 1
            for peer in (circuit.up_peer, circuit.down_peer):
                if peer is None:
                    continue
                link = self.links[entity.node][peer]
                assert isinstance(link, LinkLayer)
                held = sum(
                    1
                    for pair in link._delivered.values()
                    if (peer, pair.ok.origin, pair.ok.create_id) in circuit.link_keys
                )
                assert held <= per_side, (entity.node, circuit.id, peer, held, per_side)


@st.composite
def loads(draw: st.DrawFn) -> dict[str, Any]:
    """A random connected topology (a random tree plus extra edges), 2-5
    qubits per node, and 2-8 concurrent pair requests, some purified or
    with a cutoff, all at time 0."""
    size = draw(st.integers(3, 7))
    names = [f"n{i}" for i in range(size)]
    edges = {tuple(sorted((names[i], names[draw(st.integers(0, i - 1))]))) for i in range(1, size)}
    index = st.integers(0, size - 1)
    extra = draw(st.lists(st.tuples(index, index), max_size=4))
    edges |= {tuple(sorted((names[a], names[b]))) for a, b in extra if a != b}
    links = tuple((a, b, draw(st.sampled_from([2.0, 5.0, 10.0]))) for a, b in sorted(edges))
    requests = []
    for index in range(draw(st.integers(2, 8))):
        src, dst = draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True))
        extra_fields: dict[str, Any] = draw(
            st.sampled_from(
                [{}, {}, {"cutoff_s": 0.002}, {"purification": "dejmps", "purification_rounds": 1}]
            )
        )
        requests.append(
            pairs_request(src, dst, draw(st.integers(1, 12)), name=f"r{index}", **extra_fields)
        )
    data = scenario(links, requests, qubits=4, seed=draw(st.integers(0, 1000)), until_s=60.0)
    for node in data["nodes"]:
        node["qubits"] = draw(st.integers(2, 5))
    data["network"]["reservation"] = True
    return data


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(loads())
def test_reservation_never_deadlocks_and_never_overcommits(data: dict[str, Any]) -> None:
    tracer = MemoryTracer()
    network = Network(parse_scenario(data), tracer=tracer)
    invariants = _Invariants(network)
    report = run_network(network)
    # every request ends, and the only errors are ones reservation cannot
    # avoid (a node too small for the circuit), never a stall
    for request in report.requests:
        assert request.status in ("done", "error"), (request.name, request.status, request.error)
        if request.status == "error":
            assert request.error is not None and "resource_shortage" in request.error, request
    assert_clean(network, tracer)
    for entity in network.network_entities.values():
        assert isinstance(entity, NetworkLayer)
        assert not any(entity._reserved.values()) and not entity._admitting, entity.node
    # the invariants were looked at whenever a pair was made
    assert invariants.checked > 0 or all(r.delivered == 0 for r in report.requests)


@st.composite
def faulty_loads(draw: st.DrawFn) -> dict[str, Any]:
    """A load as above, plus a random schedule of node failures and
    recoveries and fiber cuts and repairs, with or without rerouting."""
    data = draw(loads())
    names = [node["name"] for node in data["nodes"]]
    edges = [(link["a"], link["b"]) for link in data["links"]]
    down: set[str] = set()
    cut: set[tuple[str, str]] = set()
    faults = []
    at_s = 0.0
    for _ in range(draw(st.integers(1, 5))):
        at_s += draw(st.sampled_from([0.0005, 0.002, 0.01]))
        kind = draw(st.sampled_from(["node_down", "node_up", "link_down", "link_up"]))
        if kind == "node_down" and len(down) < len(names):
            node = draw(st.sampled_from(sorted(set(names) - down)))
            down.add(node)
            faults.append({"at_s": at_s, "kind": kind, "node": node})
        elif kind == "node_up" and down:
            node = draw(st.sampled_from(sorted(down)))
            down.discard(node)
            faults.append({"at_s": at_s, "kind": kind, "node": node})
        elif kind == "link_down" and len(cut) < len(edges):
            a, b = draw(st.sampled_from(sorted(set(edges) - cut)))
            cut.add((a, b))
            faults.append({"at_s": at_s, "kind": kind, "a": a, "b": b})
        elif kind == "link_up" and cut:
            a, b = draw(st.sampled_from(sorted(cut)))
            cut.discard((a, b))
            faults.append({"at_s": at_s, "kind": kind, "a": a, "b": b})
    data["faults"] = faults
    data["network"]["reroute"] = draw(st.booleans())
    return data


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(faulty_loads())
def test_reservation_with_faults_every_request_ends_and_frees_everything(
    data: dict[str, Any],
) -> None:
    network, _, report = run_reserved(data)
    for request in report.requests:
        # a fault may end a request (torn_down, no_path), never a stall
        assert request.status in ("done", "error"), (request.name, request.status)
        assert request.error is None or not request.error.startswith("stalled"), request.error
    for entity in network.network_entities.values():
        assert isinstance(entity, NetworkLayer)
        assert not any(entity._reserved.values()) and not entity._admitting, entity.node
