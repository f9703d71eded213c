"""A dark-count rate seen through detection windows against the per-window probability.

Dark counts are simulated as what they are, a Poisson process in time:
exponential gaps of mean 1 / rate laid end to end.  The windows tile the
time axis; a window "sees" a dark count when at least one event falls in it.
Disjoint windows of a Poisson process are independent, so the number of
windows with a count is exactly Binomial(n, p) with
p = ``formulas.dark_count_probability(rate, window)`` = 1 - exp(-rate window)
if the formula is right; the test is the exact two-sided binomial test at
the directory's significance ALPHA.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _validation_helpers import ALPHA
from scipy import stats

from qstack.physics import formulas
from qstack.physics.hardware import Detector

WINDOWS = 200_000


def simulate_windows_with_counts(
    rate_hz: float, window_s: float, windows: int, rng: np.random.Generator
) -> int:
    horizon = windows * window_s
    expected_events = rate_hz * horizon
    # Enough gaps to pass the horizon with overwhelming probability (mean + 10 sigma + 10).
    n_gaps = int(expected_events + 10.0 * math.sqrt(expected_events) + 10)
    times = np.cumsum(rng.exponential(1.0 / rate_hz, n_gaps))
    assert times[-1] > horizon
    times = times[times < horizon]
    return int(np.unique((times // window_s).astype(np.int64)).size)


@pytest.mark.parametrize(
    ("rate_hz", "window_s", "seed"),
    [(100.0, 1e-3, 1), (500.0, 1e-3, 2), (1e4, 1e-6, 3), (3e5, 2e-6, 4)],
)
def test_rate_and_window_give_the_poisson_probability(
    rate_hz: float, window_s: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    hits = simulate_windows_with_counts(rate_hz, window_s, WINDOWS, rng)
    p = formulas.dark_count_probability(rate_hz, window_s)
    dist = stats.binom(WINDOWS, p)
    pvalue = min(1.0, 2.0 * min(dist.cdf(hits), dist.sf(hits - 1)))
    assert pvalue > ALPHA, (hits / WINDOWS, p, pvalue)
    # The naive rate x window overestimates once two counts per window matter;
    # the design has the power to tell them apart where they differ by > 6 sigma.
    naive = rate_hz * window_s
    sigma = math.sqrt(p * (1.0 - p) / WINDOWS)
    if naive - p > 6.0 * sigma:
        naive_dist = stats.binom(WINDOWS, min(naive, 1.0))
        assert naive_dist.cdf(hits) < ALPHA


def test_detector_from_rate() -> None:
    detector = Detector.from_dark_count_rate(0.9, 500.0, 1e-6)
    assert detector.dark_count_probability == pytest.approx(-math.expm1(-5e-4), rel=1e-15)
    assert formulas.dark_count_probability(0.0, 1.0) == 0.0
    assert formulas.dark_count_probability(1e9, 1.0) == 1.0
    with pytest.raises(ValueError, match="dark_count_rate_hz"):
        formulas.dark_count_probability(-1.0, 1e-6)
    with pytest.raises(ValueError, match="detection_window_s"):
        formulas.dark_count_probability(1.0, -1e-6)
