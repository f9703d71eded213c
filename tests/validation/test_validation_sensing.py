"""GHZ phase estimation against its closed forms and the analytic limits.

Three layers, each with its own tolerance:

1. The density matrix's parity mean <X^(x)n> after phase and noise equals
   V cos(n phi), V = (lam (1 - 2 q))^n: exact algebra, 1e-9.
2. The estimator's true standard deviation, computed exactly by summing over
   the Binomial(N, (1 + V cos n phi)/2) number of +1 parities, against the
   delta-method closed form.  With g(m) = arccos(m / V) / n, g'' = 0 at the
   working point n phi = pi/2 and the next Taylor term makes the variance
   g'^2 sigma^2 (1 + (g'''/g') sigma^2) with g'''/g' = 1 / V^2 and
   sigma^2 = 1/N: the standard deviation is high by 1 / (2 V^2 N) to first
   order, and the test allows twice that, 1 / (V^2 N).
3. Simulated runs (per-sensor outcomes drawn from the density matrix) against
   that exact distribution: R independent estimates; the sample variance is
   tested with the chi-square quantiles of R - 1 degrees of freedom at the
   directory's ALPHA (each estimate is a smooth function of an average of N
   = 400 bounded terms, close to normal), and the sample mean with
   z_(1 - ALPHA/2) standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _validation_helpers import ALPHA
from scipy import stats

from qstack.physics import app_formulas
from qstack.physics import multiqubit as mq
from qstack.physics.sensing import (
    estimate_from_probe,
    estimate_phase,
    imprint_phase,
    parity_expectation,
    sensor_noise,
)

NOISES = [(1.0, 0.0), (0.97, 0.0), (1.0, 0.02), (0.95, 0.03)]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize(("keep", "dephasing"), NOISES)
def test_parity_signal(n: int, keep: float, dephasing: float) -> None:
    v = app_formulas.ghz_visibility(n, keep, dephasing)
    for phase in (0.0, 0.3, math.pi / (2 * n), 1.1):
        state = sensor_noise(imprint_phase(mq.ghz_state(n), phase), keep, dephasing)
        assert abs(parity_expectation(state) - v * math.cos(n * phase)) < 1e-9


def exact_estimator_moments(
    repetitions: int, n: int, visibility: float, phase: float
) -> tuple[float, float]:
    """Mean and standard deviation of arccos(m / V) / n over the exact binomial law of m."""
    p_plus = 0.5 * (1.0 + visibility * math.cos(n * phase))
    k = np.arange(repetitions + 1)
    weights = stats.binom.pmf(k, repetitions, p_plus)
    estimates = np.array(
        [estimate_phase((2.0 * j - repetitions) / repetitions, n, visibility) for j in k]
    )
    mean = float(weights @ estimates)
    return mean, float(math.sqrt(weights @ (estimates - mean) ** 2))


@pytest.mark.parametrize(("n", "keep"), [(1, 1.0), (3, 1.0), (4, 0.95), (6, 0.98)])
@pytest.mark.parametrize("repetitions", [400, 2000])
def test_delta_method_against_exact_law(n: int, keep: float, repetitions: int) -> None:
    v = app_formulas.ghz_visibility(n, keep)
    phase = math.pi / (2 * n)
    mean, sd = exact_estimator_moments(repetitions, n, v, phase)
    closed = app_formulas.parity_phase_error(repetitions, n, v)
    assert closed == pytest.approx(app_formulas.parity_phase_error(repetitions, n, v, phase))
    assert abs(sd / closed - 1.0) < 1.0 / (v * v * repetitions)
    assert abs(mean - phase) < 1e-12  # arccos is antisymmetric about the working point


@pytest.mark.slow
@pytest.mark.parametrize(("n", "keep", "dephasing", "seed"), [(1, 1.0, 0.0, 1), (4, 0.97, 0.01, 2)])
def test_simulated_estimates_follow_the_exact_law(
    n: int, keep: float, dephasing: float, seed: int
) -> None:
    repetitions, runs = 400, 1500
    v = app_formulas.ghz_visibility(n, keep, dephasing)
    phase = math.pi / (2 * n)
    rng = np.random.default_rng(seed)
    probe = mq.ghz_state(n)
    estimates = np.array(
        [
            estimate_from_probe(
                probe, phase, repetitions, rng, v, depolarizing_keep=keep, dephasing=dephasing
            ).estimate
            for _ in range(runs)
        ]
    )
    mean, sd = exact_estimator_moments(repetitions, n, v, phase)
    statistic = (runs - 1) * estimates.var(ddof=1) / sd**2
    chi2 = stats.chi2(runs - 1)
    assert chi2.ppf(ALPHA / 2.0) < statistic < chi2.ppf(1.0 - ALPHA / 2.0)
    z = stats.norm.ppf(1.0 - ALPHA / 2.0)
    assert abs(estimates.mean() - mean) < z * sd / math.sqrt(runs)


def test_scaling_between_the_limits() -> None:
    """Perfect GHZ probes reach 1 / (n sqrt N): Heisenberg scaling in n, a factor
    sqrt(n) below the SQL and sqrt(N) above the all-entangled limit; noise V^n
    erases the gain once n V < sqrt(n) (against unentangled sensors of the same
    per-qubit noise, whose error is the SQL / lam)."""
    repetitions = 1000
    for n in range(1, 7):
        ghz = app_formulas.parity_phase_error(repetitions, n, 1.0)
        assert ghz == pytest.approx(app_formulas.ghz_cramer_rao_bound(repetitions, n))
        sql = app_formulas.standard_quantum_limit(repetitions, n)
        hl = app_formulas.heisenberg_limit(repetitions, n)
        assert hl <= ghz <= sql
        assert ghz == pytest.approx(sql / math.sqrt(n))
        assert ghz == pytest.approx(hl * math.sqrt(repetitions))
    keep = 0.8
    advantage = []
    for n in range(1, 7):
        noisy_ghz = app_formulas.parity_phase_error(
            repetitions, n, app_formulas.ghz_visibility(n, keep)
        )
        product = app_formulas.parity_phase_error(repetitions * n, 1, keep)
        advantage.append(product / noisy_ghz)
    # product / ghz = sqrt(n) lam^(n - 1) (1 at n = 1): for lam = 0.8 a gain for
    # n = 2..4, a loss from n = 5 on.
    assert [a > 1.0 for a in advantage[1:]] == [True, True, True, False, False]
    for n, a in enumerate(advantage, start=1):
        assert a == pytest.approx(math.sqrt(n) * keep ** (n - 1))


def test_bad_repetitions() -> None:
    with pytest.raises(ValueError, match="repetitions"):
        estimate_from_probe(mq.ghz_state(2), 0.1, 0, np.random.default_rng(1), 1.0)
