"""Time to the first end-to-end pair on a two-link repeater, swap-ASAP.

Setup: chain a - m - b of zero length (no classical delay), abstract links
with success probability p per attempt slot, one memory qubit per link side
(end nodes 1 qubit, the repeater 2, so each link entity holds 1), perfect
memories. Both links start attempting at t = 1 ps; each retries every slot
until it succeeds and then waits; the repeater swaps as soon as both hold a
pair, and with no delay the source is told in the same picosecond. So the
number of slots to the first pair is M = max(G1, G2), G1, G2 iid
Geometric(p) on {1, 2, ...}:

    P(M <= k) = (1 - q^k)^2,  E M = (3 - 2p)/(p (2 - p)),
    Var M = 2(1+q)/(1-q)^2 - (1+q^2)/(1-q^2)^2 - (E M)^2   (q = 1 - p).

Samples: N = 2000 independent first pairs, gathered efficiently as 20 runs of
100 disjoint chains each (disjoint components share nothing but the clock;
every station has its own named random stream). Tests, each at alpha = 1e-3:
a z-test of the sample mean with the exact variance (CLT; with N = 2000 and
a geometric-like tail the normal approximation is excellent), and a
chi-square goodness-of-fit of the slot counts against the exact pmf (bins
with expected count >= 5, the tail lumped).
"""

from __future__ import annotations

import math

import pytest
from _network_helpers import (
    ALPHA,
    disjoint_chains,
    first_pairs_at_source,
    max_geometric_moments,
    max_geometric_pmf,
    run_traced,
    two_sided_normal_quantile,
)
from scipy import stats

from qstack.physics import formulas
from qstack.scenario import parse_scenario
from qstack.sim.kernel import seconds_to_ps

P = 0.3
DURATION_S = 1e-3
CHAINS_PER_RUN = 100
RUNS = 20
START_PS = 1


@pytest.fixture(scope="module")
def slot_counts() -> list[int]:
    """Slots to the first pair, one per chain, N = CHAINS_PER_RUN * RUNS."""
    cycle_ps = seconds_to_ps(DURATION_S)
    counts: list[int] = []
    for seed in range(RUNS):
        scenario = disjoint_chains(CHAINS_PER_RUN, 1000 + seed, p=P, duration_s=DURATION_S)
        for time_ps in first_pairs_at_source(run_traced(parse_scenario(scenario))):
            slots, rest = divmod(time_ps - START_PS, cycle_ps)
            assert rest == 0, f"delivery at {time_ps} ps is not on a slot boundary"
            counts.append(slots)
    return counts


def _tail(k: int) -> float:
    """P(M > k) = 1 - (1 - q^k)^2."""
    return 1.0 - (1.0 - (1.0 - P) ** k) ** 2


def test_moments_closed_form() -> None:
    """The closed forms used below agree with the pmf summed out, and with
    qstack's own ``swap_asap_mean_slots``."""
    mean, var = max_geometric_moments(P)
    ks = range(1, 400)
    assert sum(max_geometric_pmf(k, P) for k in ks) == pytest.approx(1.0, abs=1e-12)
    assert sum(k * max_geometric_pmf(k, P) for k in ks) == pytest.approx(mean, rel=1e-12)
    second = sum(k * k * max_geometric_pmf(k, P) for k in ks)
    assert second - mean**2 == pytest.approx(var, rel=1e-10)
    assert mean == pytest.approx((3 - 2 * P) / (P * (2 - P)), rel=1e-12)
    assert formulas.swap_asap_mean_slots(P) == pytest.approx(mean, rel=1e-12)


@pytest.mark.slow
def test_mean_slots_to_first_pair(slot_counts: list[int]) -> None:
    mean, var = max_geometric_moments(P)  # 4.706, 8.66 at p = 0.3
    n = len(slot_counts)
    sample_mean = sum(slot_counts) / n
    sigma = math.sqrt(var / n)  # 0.070 slots for N = 2000
    z = (sample_mean - mean) / sigma
    assert abs(z) < two_sided_normal_quantile(ALPHA), (
        f"mean {sample_mean:.4f} slots vs (3-2p)/(p(2-p)) = {mean:.4f}, z = {z:.2f}"
    )
    assert min(slot_counts) >= 1


@pytest.mark.slow
def test_slot_distribution_is_max_of_two_geometrics(slot_counts: list[int]) -> None:
    n = len(slot_counts)
    # Bins 1, ..., K and "more than K", each expecting at least 5 counts.
    last = 1
    while min(n * max_geometric_pmf(last + 1, P), n * _tail(last + 1)) >= 5.0:
        last += 1
    observed = [sum(1 for c in slot_counts if c == k) for k in range(1, last + 1)]
    expected = [n * max_geometric_pmf(k, P) for k in range(1, last + 1)]
    observed.append(sum(1 for c in slot_counts if c > last))
    expected.append(n * _tail(last))
    assert sum(expected) == pytest.approx(n, rel=1e-9)
    assert min(expected) >= 5.0
    result = stats.chisquare(observed, expected)
    assert result.pvalue > ALPHA, (
        f"chi2 = {result.statistic:.1f} on {len(observed) - 1} dof, p = {result.pvalue:.2e}"
    )
