"""Requests the network layer must refuse, and a node failing mid-circuit.

- A ``min_fidelity`` no path can reach ends in status "error" with a
  ``fidelity_unreachable`` reason, before any link pair is made.
- Nested swapping on a path of 3 links (not 2^n) ends with "invalid".
- ``network.fail_node`` on a repeater while the circuit is generating,
  holding qubits at the other nodes and with pairs already delivered: the
  request ends with an error, every circuit is torn down and every qubit
  at every other node is free; link capacities hold throughout.
"""

from __future__ import annotations

from _network_helpers import (
    MemoryWatch,
    Traced,
    chain_scenario,
    link_oks,
    net_oks,
    run_traced,
)

from qstack.network import Network
from qstack.runner import run_network
from qstack.scenario import parse_scenario
from qstack.sim.kernel import seconds_to_ps


def _assert_refused(traced: Traced, prefix: str) -> None:
    """The run's one request ended in "error" with ``prefix``, nothing held."""
    request = traced.network.requests[0]
    assert request.status == "error", request.status
    assert request.error is not None and request.error.startswith(prefix), request.error
    assert request.delivered == 0
    assert all(m.free_count == m.size for m in traced.network.memories.values())
    assert all(e.state != "serving" for e in traced.network.network_entities.values())


def test_min_fidelity_no_path_reaches() -> None:
    # Chain: 0.9 and 0.9 swap to 0.813; the ring's other way round is longer
    # (3 links of 0.92: 0.795). Neither reaches 0.95 (nor does any link alone).
    links = [
        ("n0", "n1", 0.9),
        ("n1", "n2", 0.9),
        ("n2", "n3", 0.92),
        ("n3", "n4", 0.92),
        ("n4", "n0", 0.92),
    ]
    data = {
        "seed": 1,
        "run": {"until_s": 10.0},
        "nodes": [{"name": f"n{i}", "qubits": 4} for i in range(5)],
        "links": [
            {
                "a": a,
                "b": b,
                "length_km": 1.0,
                "model": "abstract",
                "success_probability": 0.5,
                "attempt_duration_s": 1e-4,
                "fidelity": f,
            }
            for a, b, f in links
        ],
        "requests": [{"app": "pairs", "src": "n0", "dst": "n2", "pairs": 3, "min_fidelity": 0.95}],
    }
    for routing in ("shortest-hops", "fidelity-aware", "expected-time"):
        data["network"] = {"routing": routing}
        traced = run_traced(parse_scenario(data))
        _assert_refused(traced, "fidelity_unreachable")
        assert link_oks(traced.records) == []  # refused before any link pair
        assert all(s.successes == 0 for s in (link.station for link in traced.network.links))


def test_nested_swapping_on_three_links_is_invalid() -> None:
    traced = run_traced(
        chain_scenario([0.95, 0.95, 0.95], pairs=2, network={"swap_policy": "nested"})
    )
    _assert_refused(traced, "invalid")
    assert net_oks(traced.records) == [] and link_oks(traced.records) == []


def test_nested_on_two_and_four_links_is_accepted() -> None:
    for hops in (2, 4):
        traced = run_traced(
            chain_scenario([0.95] * hops, pairs=2, mid_qubits=2, network={"swap_policy": "nested"})
        )
        assert traced.network.requests[0].status == "done"


def test_repeater_failure_mid_circuit_frees_everything() -> None:
    scenario = chain_scenario(
        [0.95] * 4,
        pairs=200,
        p=0.2,
        duration_s=1e-4,
        lengths_km=[5.0] * 4,
        end_qubits=2,
        mid_qubits=4,
        until_s=5.0,
    )
    watch = MemoryWatch()
    network = Network(scenario, None, watch)
    watch.network = network
    request = network.requests[0]
    others = [name for name in network.memories if name != "n2"]

    def mid_circuit() -> bool:
        """A pair was delivered and three other nodes hold qubits."""
        busy = [n for n in others if network.memories[n].free_count < network.memories[n].size]
        return request.delivered >= 1 and len(busy) >= 3

    network.sim.run(seconds_to_ps(5.0), mid_circuit)
    assert mid_circuit() and request.status == "running"
    failed_at = network.sim.now

    network.fail_node("n2")
    report = run_network(network)

    assert request.status == "error", request.status
    assert request.error is not None and request.error.startswith("torn_down"), request.error
    assert 1 <= request.delivered < 200
    assert report.sim_time_s < 5.0  # ended on its own, not by until_s
    for name in others:
        memory = network.memories[name]
        assert memory.free_count == memory.size, (name, memory.in_use())
        assert network.network_entities[name].state == "idle"
    assert watch.violations == []
    # no pair is delivered after the failure has had time to reach both ends
    path_delay_ps = 4 * 25_000_000  # 4 links of 5 km at 2e5 km/s
    assert all(t <= failed_at + path_delay_ps for t, _, _ in net_oks(watch.records))
