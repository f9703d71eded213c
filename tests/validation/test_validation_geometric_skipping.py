"""Geometric skipping of failed attempts vs an attempt-by-attempt reference.

The station draws the number of attempts to the first success from its
geometric distribution and schedules only the success.  The reference
below schedules every attempt as its own event with a Bernoulli(p) draw.
Both are run over many seeds (disjoint seed ranges, so the samples are
independent); from the delivery times at the origin we take the gaps
between consecutive pairs, which must be whole numbers of cycles: the number
of attempts of each pair after the first.

Tests, each at ALPHA = 1e-3:
* chi-square test of homogeneity on the 2 x K table of binned attempt counts
  (discrete data, so no KS); bins are 1, 2, ... with a merged tail, chosen so
  every expected count under the geometric law is >= 5 in both samples;
* each sample's total attempts against the exact NegativeBinomial law,
  i.e. each sample mean against 1/p;
* the station's own ``attempts`` counter agrees with the time spent.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from _validation_helpers import (
    ALPHA,
    abstract_link,
    negative_binomial_pvalue,
    run,
    two_node_scenario,
)
from scipy import stats

import qstack.wiring
from qstack.hardware.memory import Memory
from qstack.layers.physical.station import HeraldingStation
from qstack.physics.heralding import HeraldingModel
from qstack.quantum.oracle import TruthOracle
from qstack.quantum.store import QuantumStore
from qstack.sim.kernel import Simulator
from qstack.sim.trace import Tracer

SEEDS = 10
PAIRS_PER_SEED = 3_000
MIN_EXPECTED = 5.0


class AttemptByAttemptStation(HeraldingStation):
    """Reference station: one scheduled event and one Bernoulli(p) draw per attempt.

    It keeps the base class's bookkeeping contract: ``_attempts_drawn`` is the
    number of attempts begun so far (what CANCEL and the herald count),
    ``_started_ps`` the start of the run of attempts and ``_timer`` the next
    pending event (so ``running`` and CANCEL work unchanged); a success goes
    through the station's lifecycle like the base class's (``_due``).
    """

    def __init__(
        self,
        sim: Simulator,
        name: str,
        memories: tuple[Memory, Memory],
        store: QuantumStore,
        oracle: TruthOracle,
        cycle_ps: int,
        window_ps: int,
        rng: np.random.Generator,
        intercept_resend: float = 0.0,
        tracer: Tracer | None = None,
    ) -> None:
        super().__init__(
            sim, name, memories, store, oracle, cycle_ps, window_ps, rng, intercept_resend, tracer
        )
        self._reference_rng = np.random.default_rng(rng.integers(2**63))

    def _start_stream(self, now: int, model: HeraldingModel) -> None:
        self._attempts_drawn = 1
        self._timer = self._sim.timer(self.cycle_ps, self._attempt_ends, model)

    def _attempt_ends(self, now: int, model: Any) -> None:
        if self._reference_rng.random() < model.success_probability:
            self._due(now, None)
            return
        self._attempts_drawn += 1
        self._timer = self._sim.timer(self.cycle_ps, self._attempt_ends, model)


def _gaps_in_cycles(
    scenario_link: dict[str, Any], seeds: range, station_type: type[HeraldingStation]
) -> tuple[list[int], list[int]]:
    """Attempts of every pair after the first (from delivery gaps), and each
    run's ``attempts`` counter."""
    sample: list[int] = []
    totals: list[int] = []
    for seed in seeds:
        result = run(two_node_scenario(scenario_link, PAIRS_PER_SEED), seed)
        request = result.network.requests[0]
        assert request.status == "done"
        station = result.network.links[0].station
        assert type(station) is station_type
        cycle = station.cycle_ps
        times = result.delivery_ps
        assert len(times) == PAIRS_PER_SEED == station.successes
        gaps = np.diff(np.asarray(times, dtype=np.int64))
        assert np.all(gaps % cycle == 0), "a pair was delivered off the attempt grid"
        counts = (gaps // cycle).tolist()
        assert min(counts) >= 1
        # the counter includes the first pair's attempts, which the gaps miss
        assert station.attempts > sum(counts)
        sample.extend(counts)
        totals.append(station.attempts)
    return sample, totals


def _bins(p: float, n_small: int) -> int:
    """Largest K such that bins 1..K-1 and the tail {>= K} all expect >= 5."""
    k = 1
    while True:
        nxt = n_small * p * (1.0 - p) ** k  # expected count in bin k + 1
        tail_after = n_small * (1.0 - p) ** (k + 1)  # expected count in {>= k + 2}
        if nxt < MIN_EXPECTED or tail_after < MIN_EXPECTED:
            return k + 1
        k += 1


def _table(sample: list[int], k: int) -> np.ndarray:
    clipped = np.minimum(np.asarray(sample), k)
    return np.bincount(clipped, minlength=k + 1)[1:]


LINKS = {
    "abstract p=0.1": (abstract_link(0.1, 1e-6, 0.9), 0.1),
    "double-click 20 km": (
        {"model": "double-click", "length_km": 20.0},
        0.5 * (0.9 * 10.0 ** (-0.2 * 10.0 / 10.0)) ** 2,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LINKS))
def test_geometric_matches_attempt_by_attempt(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    link, p = LINKS[name]
    fast, fast_totals = _gaps_in_cycles(link, range(1, 1 + SEEDS), HeraldingStation)
    monkeypatch.setattr(qstack.wiring, "HeraldingStation", AttemptByAttemptStation)
    slow, slow_totals = _gaps_in_cycles(link, range(1001, 1001 + SEEDS), AttemptByAttemptStation)
    monkeypatch.undo()

    # Each run's attempts counter, over PAIRS_PER_SEED successes, follows the
    # exact NB law; pooled over the seeds too.  (A missing or extra attempt
    # per pair shifts the mean by 1, i.e. by >10 standard deviations here:
    # sd of the mean of 30,000 geometrics at p = 0.1 is 0.95/0.1/173 = 0.055.)
    for label, totals in (("geometric", fast_totals), ("reference", slow_totals)):
        n = PAIRS_PER_SEED * len(totals)
        pvalue = negative_binomial_pvalue(sum(totals), n, p)
        assert pvalue > ALPHA, f"{label}: mean {sum(totals) / n:.4f} vs 1/p {1 / p:.4f}"

    # Sample means of the gap counts against 1/p, with the exact NB test.
    for label, sample in (("geometric", fast), ("reference", slow)):
        pvalue = negative_binomial_pvalue(sum(sample), len(sample), p)
        mean = sum(sample) / len(sample)
        sd_mean = math.sqrt(1.0 - p) / p / math.sqrt(len(sample))
        assert pvalue > ALPHA, f"{label}: mean {mean:.4f} vs {1 / p:.4f} (sd {sd_mean:.4f})"

    # Distribution of attempts per pair (equivalently of the time between
    # consecutive deliveries, which is that count times the fixed cycle):
    # chi-square homogeneity test of the two samples.
    k = _bins(p, min(len(fast), len(slow)))
    table = np.vstack([_table(fast, k), _table(slow, k)])
    chi2, pvalue, dof, expected = stats.chi2_contingency(table, correction=False)
    assert expected.min() >= MIN_EXPECTED * 0.5  # sanity of the binning (observed margins)
    assert pvalue > ALPHA, f"chi2 = {chi2:.1f} on {dof} dof, p = {pvalue:.2e}"

    # Both against the exact geometric pmf (goodness of fit, same bins).
    probs = np.array([p * (1.0 - p) ** (j - 1) for j in range(1, k)] + [(1.0 - p) ** (k - 1)])
    for label, sample in (("geometric", fast), ("reference", slow)):
        observed = _table(sample, k)
        gof = stats.chisquare(observed, probs * len(sample))
        assert gof.pvalue > ALPHA, f"{label}: chi2 = {gof.statistic:.1f}, p = {gof.pvalue:.2e}"
