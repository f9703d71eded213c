"""The cutoff's boundary: a segment aged exactly ``cutoff_ps`` is still used.

net/4.5 and specs/network.md say segments *older* than the cutoff are
discarded. With attempt slots of length tau and a cutoff of c tau, a link
pair may therefore wait c slots for its partner: the repeater swaps it with
a partner heralded c slots after it, and the pair is discarded one
picosecond later otherwise.

Reference: the waiting time of a two-link repeater with that cutoff, as an
absorbing Markov chain solved in the test. Chain a - m - b of zero length,
abstract links with success probability p per slot, one qubit per link side,
perfect memories, cutoff c tau, first end-to-end pair of a 1-pair request.

Derivation. Count slots from the start; each link that is not holding a
pair attempts once per slot. States at a slot's end: "none" (no pair held),
or (X, j): link X holds a pair of age j slots (0 <= j < c) and the other
link Y attempts. From "none": both succeed (p^2) -> done; one (p q each) ->
(X, 0); neither -> none. From (X, j), with k = j + 1 the age at this slot's
end: Y succeeds with p; for k < c the swap is done; for k = c it is done iff
the pair may still be used at age exactly c tau (below); otherwise X's pair
is discarded and Y's is held, (Y, 0). Y fails with q: (X, k), or for k = c
X's pair is discarded and both attempt again, "none".

The picosecond matters. A pair discarded at birth + c tau + 1 ps frees its
qubits then, and its link restarts its slots 1 ps later than before: each
discard of link A's pair shifts A's slot grid by +1 ps relative to B's.
Let delta = (B's offset) - (A's offset) in ps (0 at the start; -1 per
discard on A, +1 per discard on B; always far smaller than tau). Y's success
c slots after X's pair was born comes at age c tau + (offset_Y - offset_X),
which is <= c tau iff offset_Y <= offset_X: for X = A iff delta <= 0, for X = B
iff delta >= 0. (When Y's herald and X's discard fall in the same
picosecond, the repeater never swaps a segment older than the cutoff, so the
event order does not matter.) The chain's states are therefore (X, j, delta)
and (none, delta), delta truncated to |delta| <= 60 (reaching it needs 60
discards in a row of the same link before the first pair: probability below
0.5^60 here). E T and the pmf of T follow from the transient matrix Q:
E T = ((I - Q)^-1 1)_start, P(T = t) = (e_start Q^(t-1)) (1 - Q 1).

Tests at ALPHA, N = 2000 first pairs (20 runs of 100 disjoint chains): a
chi-square goodness of fit of the slot counts against that pmf (bins with
expected count >= 5, tail lumped), a z-test of the mean with the chain's
variance, and two neighbouring models are rejected by the same chi-square
test: c - 1 usable slots (what discarding at age exactly c tau, the old
boundary, leaves) and the chain without the picosecond drift. A smaller run checks every delivered
pair's age from the trace: never above the cutoff, and exactly the cutoff
for some.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from _network_helpers import (
    ALPHA,
    disjoint_chains,
    first_pairs_at_source,
    link_oks,
    net_oks,
    run_traced,
    two_sided_normal_quantile,
)
from scipy import sparse, stats
from scipy.sparse.linalg import spsolve

from qstack.scenario import parse_scenario
from qstack.sim.kernel import seconds_to_ps

P = 0.3
C = 2
DURATION_S = 1e-3
CHAINS_PER_RUN = 100
RUNS = 20
START_PS = 1
DRIFT_LIMIT = 60


def transient_matrix(p: float, c: int, drift: bool) -> tuple[sparse.csr_matrix, int]:
    """Q over the transient states (see the module docstring) and the start state's index.

    ``drift`` False: the chain as if no picosecond shift ever happened (delta
    stays 0), the textbook slotted model; c = its usable slots.
    """
    q = 1.0 - p
    deltas = range(-DRIFT_LIMIT, DRIFT_LIMIT + 1) if drift else range(1)
    states: list[tuple[str, int, int]] = [("none", 0, d) for d in deltas]
    states += [(x, j, d) for x in "AB" for j in range(c) for d in deltas]
    index = {s: i for i, s in enumerate(states)}
    matrix = sparse.lil_matrix((len(states), len(states)))

    def clamp(d: int) -> int:
        return max(-DRIFT_LIMIT, min(DRIFT_LIMIT, d)) if drift else 0

    for state, i in index.items():
        held, age, delta = state
        if held == "none":
            matrix[i, index[("A", 0, delta)]] += p * q
            matrix[i, index[("B", 0, delta)]] += q * p
            matrix[i, i] += q * q
            continue
        other = "B" if held == "A" else "A"
        after = clamp(delta - 1 if held == "A" else delta + 1)
        usable_at_c = (delta <= 0) if held == "A" else (delta >= 0)
        k = age + 1
        if k < c:
            matrix[i, index[(held, k, delta)]] += q  # the partner's success: done
            continue
        matrix[i, index[("none", 0, after)]] += q
        if drift and not usable_at_c:
            matrix[i, index[(other, 0, after)]] += p
    return matrix.tocsr(), index[("none", 0, 0)]


def chain_pmf(p: float, c: int, drift: bool, horizon: int) -> npt.NDArray[np.float64]:
    matrix, start = transient_matrix(p, c, drift)
    absorb = 1.0 - np.asarray(matrix.sum(axis=1)).ravel()
    v = np.zeros(matrix.shape[0])
    v[start] = 1.0
    out = np.empty(horizon)
    for t in range(horizon):
        out[t] = v @ absorb
        v = matrix.T @ v
    return out


def chain_moments(p: float, c: int, drift: bool) -> tuple[float, float]:
    """(E T, Var T): with N = (I - Q)^-1, E = N 1 and E T^2 = (2 N - I) E."""
    matrix, start = transient_matrix(p, c, drift)
    system = (sparse.identity(matrix.shape[0], format="csc") - matrix).tocsc()
    mean = spsolve(system, np.ones(matrix.shape[0]))
    second = 2.0 * spsolve(system, mean) - mean
    return float(mean[start]), float(second[start] - mean[start] ** 2)


def _chains(count: int, seed: int) -> dict[str, Any]:
    cutoff = {"cutoff_s": C * DURATION_S}
    return disjoint_chains(count, seed, p=P, duration_s=DURATION_S, request=cutoff)


def _chi2_pvalue(counts: npt.NDArray[np.int64], pmf: npt.NDArray[np.float64]) -> float:
    n = len(counts)
    last = 1
    while n * pmf[last] >= 5.0 and n * (1.0 - pmf[: last + 1].sum()) >= 5.0:
        last += 1
    observed = [int(np.sum(counts == k)) for k in range(1, last + 1)]
    observed.append(int(np.sum(counts > last)))
    expected = [*(n * pmf[:last]), n * (1.0 - pmf[:last].sum())]
    return float(stats.chisquare(observed, expected).pvalue)


@pytest.mark.slow
def test_reference_chain_limits() -> None:
    """Without a cutoff the chain is the max of two geometrics; a huge cutoff
    approaches it; the drift only ever costs time."""
    no_cutoff = (3 - 2 * P) / (P * (2 - P))
    assert chain_moments(P, 200, drift=False)[0] == pytest.approx(no_cutoff, rel=1e-9)
    assert chain_moments(P, 200, drift=True)[0] == pytest.approx(no_cutoff, rel=1e-9)
    with_drift, without = chain_moments(P, C, True)[0], chain_moments(P, C, False)[0]
    assert without < with_drift < chain_moments(P, C - 1, False)[0]
    pmf = chain_pmf(P, C, True, 400)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.arange(1, 401) @ pmf == pytest.approx(with_drift, rel=1e-9)


@pytest.mark.slow
def test_waiting_time_with_cutoff_matches_the_chain() -> None:
    cycle_ps = seconds_to_ps(DURATION_S)
    slots: list[int] = []
    for seed in range(RUNS):
        traced = run_traced(parse_scenario(_chains(CHAINS_PER_RUN, 5000 + seed)))
        # deliveries sit on the slot grid up to the few picoseconds of drift
        slots += [round((t - START_PS) / cycle_ps) for t in first_pairs_at_source(traced)]
    counts = np.array(slots)
    assert _chi2_pvalue(counts, chain_pmf(P, C, True, 400)) > ALPHA
    mean, var = chain_moments(P, C, True)
    z = (counts.mean() - mean) / math.sqrt(var / len(counts))
    assert abs(z) < two_sided_normal_quantile(ALPHA), (counts.mean(), mean, z)
    # c - 1 usable slots (the old boundary's count) and the drift-free chain are rejected
    assert _chi2_pvalue(counts, chain_pmf(P, C - 1, False, 400)) < ALPHA
    assert _chi2_pvalue(counts, chain_pmf(P, C, False, 400)) < ALPHA


@pytest.mark.slow
def test_no_pair_older_than_the_cutoff_and_some_exactly_that_old() -> None:
    """Ages from the trace: a NET_OK's pair id names its two link pairs
    (``<a>-<m>#<id>~<m>-<b>#<id>``), born at their link OKs."""
    traced = run_traced(parse_scenario(_chains(100, 77)))
    cutoff_ps = seconds_to_ps(C * DURATION_S)
    births: dict[str, int] = {}
    for time, node, ok in link_oks(traced.records):
        births.setdefault(f"{node}-{ok.remote}#{ok.pair_id}", time)
        births.setdefault(f"{ok.remote}-{node}#{ok.pair_id}", time)
    ages = [
        time - min(births[half] for half in ok.pair_id.split("~"))
        for time, _, ok in net_oks(traced.records)
    ]
    assert len(ages) == 2 * 100  # both ends of every chain
    assert max(ages) <= cutoff_ps
    assert cutoff_ps in ages
