"""Swaps that fail: the repeater's ``swap_success_probability`` in a run.

A failed swap (Bell-state measurement) loses both segments: the repeater
frees its two qubits and tells both partners (SEGMENT_DISCARDED, as for a
cutoff), who free theirs, and the links start again.

Waiting time. Chain a - m - b of zero length, abstract links with success
probability p per slot, one qubit per link side, perfect memories, swap
success a at m. A round lasts M = max(G1, G2) slots (G1, G2 iid
Geometric(p), as in ``test_network_swap_asap_time``); it ends in a swap that
succeeds with probability a, else both links restart at once (zero delay:
the partners hear in the same picosecond). So T = M_1 + ... + M_N with N ~
Geometric(a) independent of the M_i:

    E T = E M / a = (3 - 2p) / (a p (2 - p))   (``formulas.swap_asap_mean_slots``),
    Var T = Var M / a + (1 - a) (E M)^2 / a^2   (compound geometric sum).

N = 2000 first pairs (20 runs of 100 disjoint chains); a z-test of the
sample mean with that exact variance at ALPHA (CLT).

Failure frequency. Every swap the repeater makes is an independent draw:
over a run of many pairs the number of failed swaps F among all swaps S is
exactly Binomial(S, 1 - a) (two-sided exact test at ALPHA).
"""

from __future__ import annotations

import math

import pytest
from _network_helpers import (
    ALPHA,
    chain_dict,
    disjoint_chains,
    first_pairs_at_source,
    max_geometric_moments,
    run_traced,
    two_sided_normal_quantile,
)
from scipy import stats

from qstack.layers.network.messages import SegmentDiscarded, SwapRecord
from qstack.physics import formulas
from qstack.scenario import parse_scenario
from qstack.sim.kernel import seconds_to_ps

P = 0.3
SWAP_SUCCESS = 0.5
DURATION_S = 1e-3
CHAINS_PER_RUN = 100
RUNS = 20
START_PS = 1


@pytest.mark.slow
def test_mean_slots_to_first_pair_with_failing_swaps() -> None:
    cycle_ps = seconds_to_ps(DURATION_S)
    counts: list[int] = []
    for seed in range(RUNS):
        scenario = disjoint_chains(
            CHAINS_PER_RUN,
            2000 + seed,
            p=P,
            duration_s=DURATION_S,
            repeater={"swap_success_probability": SWAP_SUCCESS},
        )
        for time_ps in first_pairs_at_source(run_traced(parse_scenario(scenario))):
            slots, rest = divmod(time_ps - START_PS, cycle_ps)
            assert rest == 0, f"delivery at {time_ps} ps is not on a slot boundary"
            counts.append(slots)
    mean_m, var_m = max_geometric_moments(P)
    a = SWAP_SUCCESS
    mean = mean_m / a
    var = var_m / a + (1.0 - a) * mean_m**2 / a**2
    assert mean == pytest.approx(formulas.swap_asap_mean_slots(P, a), rel=1e-12)
    n = len(counts)
    sample_mean = sum(counts) / n
    z = (sample_mean - mean) / math.sqrt(var / n)  # sigma: 0.18 slots at N = 2000
    assert abs(z) < two_sided_normal_quantile(ALPHA), (
        f"mean {sample_mean:.3f} slots vs (3-2p)/(a p (2-p)) = {mean:.3f}, z = {z:.2f}"
    )


@pytest.mark.slow
def test_failed_swaps_are_binomial_and_both_partners_are_told() -> None:
    pairs = 400
    data = chain_dict([0.95, 0.95], pairs=pairs, p=0.5, end_qubits=2, mid_qubits=4, seed=4)
    data["nodes"][1]["swap_success_probability"] = SWAP_SUCCESS
    traced = run_traced(parse_scenario(data))
    assert [r.status for r in traced.network.requests] == ["done"]
    discards = [
        r
        for r in traced.records
        if r.direction == "send" and isinstance(r.message, SegmentDiscarded)
    ]
    records = [
        r for r in traced.records if r.direction == "send" and isinstance(r.message, SwapRecord)
    ]
    assert all(r.node == "n1" for r in discards + records)
    # each swap tells both partners: two messages per swap, one to each end
    assert len(discards) % 2 == 0 and len(records) % 2 == 0
    assert {r.peer for r in discards} == {"n0", "n2"}
    failed, swapped = len(discards) // 2, len(records) // 2
    assert swapped >= pairs
    dist = stats.binom(failed + swapped, 1.0 - SWAP_SUCCESS)
    pvalue = min(1.0, 2.0 * min(dist.cdf(failed), dist.sf(failed - 1)))
    assert pvalue > ALPHA, (failed, swapped)
    # every qubit is free at the end
    for memory in traced.network.memories.values():
        assert memory.in_use() == {}
