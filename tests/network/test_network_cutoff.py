"""Cutoffs with depolarising memories: no delivered pair is too old, and
memory stays within every link's capacity.

Age. A link pair is made when its herald reaches the nodes (the link OK,
traced at both ends); an end-to-end pair's age is measured from its oldest
link pair. On a 2-hop chain the NET_OK pair id "<link>#<id>~<link>#<id>"
names both link pairs, so the age at delivery at *both* ends is
reconstructed exactly from the trace and must not exceed the cutoff.

Fidelity consequence (any number of hops). In a depolarising memory of time
T a Werner pair stored t on both sides keeps w e^(-2t/T). Every qubit of a
delivered pair was stored at most the cutoff after its herald, and an
abstract link's fidelity is that of the pair it delivers (no noise before
the herald). So every delivered fidelity is at least the chain fidelity of
links aged exactly the cutoff:
chain_fidelity([depolarized_fidelity(F_i, cutoff, T)]). This is a
deterministic bound (tolerance 1e-9).

Memory: a ``MemoryWatch`` tracer checks after every traced message that the
qubits each link holds (armed or delivered, until freed) never exceed that
link's capacity, and at the end every qubit is free.
"""

from __future__ import annotations

import pytest
from _network_helpers import (
    EXACT,
    chain_scenario,
    link_oks,
    net_oks,
    pair_ids_by_end,
    run_watched,
)

from qstack.layers.network.messages import SegmentDiscarded
from qstack.physics import formulas
from qstack.sim.kernel import seconds_to_ps

T_S = 0.02
CUTOFF_S = 2e-3
DURATION_S = 1e-4


def _fidelity_floor(fidelities: list[float]) -> float:
    aged = [formulas.depolarized_fidelity(f, CUTOFF_S, T_S) for f in fidelities]
    return formulas.chain_fidelity(aged)


@pytest.mark.parametrize(
    ("end_qubits", "mid_qubits"), [(1, 2), (2, 4)], ids=["1-qubit-links", "2-qubit-links"]
)
def test_two_hop_no_pair_older_than_cutoff(end_qubits: int, mid_qubits: int) -> None:
    fidelities = [0.95, 0.9]
    pairs = 60
    traced, watch = run_watched(
        chain_scenario(
            fidelities,
            pairs=pairs,
            p=0.05,
            duration_s=DURATION_S,
            lengths_km=[2.0, 40.0],
            end_qubits=end_qubits,
            mid_qubits=mid_qubits,
            memory_t_s=T_S,
            network={"cutoff_s": CUTOFF_S},
            seed=5,
        )
    )
    network = traced.network
    request = network.requests[0]
    assert request.status == "done", request.error
    assert request.delivered == pairs
    # the cutoff did act: segments were discarded along the way
    assert any(isinstance(r.message, SegmentDiscarded) for r in traced.records)

    made: dict[str, int] = {}  # "<a>-<b>#<id>" -> first link OK time at either end
    for time_ps, node, ok in link_oks(traced.records):
        a, b = (node, ok.remote) if ok.origin == node else (ok.remote, node)
        handle = f"{a}-{b}#{ok.pair_id}"
        made[handle] = min(made.get(handle, time_ps), time_ps)
    delivered_at: dict[str, list[int]] = {}
    for time_ps, _, ok in net_oks(traced.records):
        delivered_at.setdefault(ok.pair_id, []).append(time_ps)
    cutoff_ps = seconds_to_ps(CUTOFF_S)
    ages = []
    for pair_id in request.pair_ids:
        halves = pair_id.split("~")
        assert len(halves) == 2 and all(h in made for h in halves), pair_id
        birth = min(made[h] for h in halves)
        assert len(delivered_at[pair_id]) == 2
        ages.append(max(delivered_at[pair_id]) - birth)
    assert max(ages) <= cutoff_ps, f"oldest delivered pair {max(ages)} ps > cutoff {cutoff_ps}"

    floor = _fidelity_floor(fidelities)
    for _, _, ok in net_oks(traced.records):
        assert ok.fidelity >= floor - EXACT
    assert watch.violations == []
    for memory in network.memories.values():
        assert memory.free_count == memory.size


def test_four_hop_fidelity_floor_and_memory() -> None:
    fidelities = [0.97, 0.95, 0.96, 0.94]
    pairs = 20
    traced, watch = run_watched(
        chain_scenario(
            fidelities,
            pairs=pairs,
            p=0.2,
            duration_s=DURATION_S,
            lengths_km=[1.0, 5.0, 0.0, 10.0],
            end_qubits=2,
            mid_qubits=4,
            memory_t_s=T_S,
            network={"cutoff_s": CUTOFF_S},
            seed=9,
        )
    )
    network = traced.network
    request = network.requests[0]
    assert request.status == "done", request.error
    assert request.delivered == pairs
    floor = _fidelity_floor(fidelities)
    oks = net_oks(traced.records)
    assert len(oks) == 2 * pairs
    assert min(ok.fidelity for _, _, ok in oks) >= floor - EXACT
    src_ids, dst_ids = pair_ids_by_end(traced.records)[oks[0][2].request_id]
    assert src_ids == dst_ids == set(request.pair_ids)
    assert watch.violations == []
    assert watch.peak["n2"] >= 2  # the watch did see the repeaters busy
    for memory in network.memories.values():
        assert memory.free_count == memory.size
