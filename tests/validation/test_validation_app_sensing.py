"""The sensing application against the analytic GHZ phase-estimation limits.

Closed forms (``app_formulas``, ``qstack.physics.sensing``): an n-member GHZ
probe fused from Werner links of parameter w (perfect memories and
operations) has coherence V = w^(n - 1): only when every link is Phi+ does
|0..0><1..1| survive (a maximally mixed link leaves a member, or the
centre's backbone, without coherence). After the phase the parity of the
n X outcomes is +-1 with mean V cos(n phi). An estimate from N parities
(mean m) is arccos(m / V0) / n; with V0 = V its error has standard
deviation ``parity_phase_error`` = sqrt(1 - V^2 cos^2(n phi)) /
(sqrt(N) n V |sin(n phi)|) to first order (delta method), 1 / (n V sqrt N)
at n phi = pi/2.

Tolerances. A mean of N independent +-1 parities: z_(1 - ALPHA/2)
sqrt((1 - mu^2) / N), mu = V cos(n phi). The mean squared error of K
independent estimates, each nearly normal with variance sigma^2 (N = 25 to
50 parities; the arccos curvature adds O(sigma^2 n^2 V^2 / 3), a few
percent, far inside the interval): K MSE / sigma^2 is chi-square with K
degrees of freedom, tested two-sided at ALPHA.
"""

from __future__ import annotations

import math

import pytest
from _validation_helpers import ALPHA
from scipy import stats

from qstack.layers.app.sensing import SensingRequestReport
from qstack.physics import app_formulas
from tests.apps._apps_helpers import run, star_scenario, werner_link

Z = float(stats.norm.ppf(1 - ALPHA / 2))


def _sensing(
    members: int, probes: int, fidelity: float, seed: int, **fields: object
) -> SensingRequestReport:
    _, report = run(
        star_scenario("sensing", members, probes, link=werner_link(fidelity), seed=seed, **fields)
    )
    entry = report.requests[0]
    assert isinstance(entry, SensingRequestReport)
    assert entry.status == "done", entry.error
    return entry


@pytest.mark.slow
@pytest.mark.parametrize(("members", "fidelity"), [(3, 0.9), (4, 0.95)])
def test_parity_mean_is_v_cos_n_phi(members: int, fidelity: float) -> None:
    w = (4 * fidelity - 1) / 3
    visibility = w ** (members - 1)
    phase = math.pi / (3 * members)  # cos(n phi) = 1/2
    entry = _sensing(members, 1200, fidelity, seed=11, phase=phase, visibility=1.0)
    expected = visibility * math.cos(members * phase)
    assert entry.parity_mean is not None
    assert abs(entry.parity_mean - expected) < Z * math.sqrt((1 - expected**2) / 1200)


def _check_error(entry: SensingRequestReport, sigma: float) -> None:
    assert entry.phase_error_rms is not None
    k = entry.estimates
    statistic = k * entry.phase_error_rms**2 / sigma**2
    chi2 = stats.chi2(k)
    assert chi2.ppf(ALPHA / 2) < statistic < chi2.ppf(1 - ALPHA / 2)


@pytest.mark.slow
@pytest.mark.parametrize("members", [3, 5])
def test_perfect_probes_reach_the_ghz_bound(members: int) -> None:
    # V = 1 at n phi = pi/2: the error is 1 / (n sqrt N), n times below one
    # sensor's and sqrt(n) below the standard quantum limit of n N probes.
    repetitions, estimates = 25, 40
    entry = _sensing(
        members, repetitions * estimates, 1.0, seed=12, repetitions=repetitions, visibility=1.0
    )
    assert entry.estimates == estimates
    assert entry.ghz_limit == pytest.approx(1 / (members * math.sqrt(repetitions)))
    _check_error(entry, entry.ghz_limit)
    assert entry.phase_error_rms is not None
    assert entry.phase_error_rms < entry.standard_quantum_limit


@pytest.mark.slow
def test_noise_erases_the_advantage() -> None:
    # Werner links F = 0.8 (w = 11/15), n = 3: V = w^2 = 0.538, so the error
    # 1 / (n V sqrt N) exceeds the standard quantum limit 1 / sqrt(n N) by
    # 1 / (V sqrt n) = 1.07; the estimator is calibrated to V.
    members, repetitions, estimates, fidelity = 3, 25, 40, 0.8
    visibility = ((4 * fidelity - 1) / 3) ** (members - 1)
    entry = _sensing(
        members,
        repetitions * estimates,
        fidelity,
        seed=13,
        repetitions=repetitions,
        visibility=visibility,
    )
    sigma = app_formulas.parity_phase_error(repetitions, members, visibility)
    assert entry.expected_error == pytest.approx(sigma)
    assert sigma > entry.standard_quantum_limit
    _check_error(entry, sigma)


@pytest.mark.slow
def test_calibration_measures_the_visibility() -> None:
    # Without a given visibility the first `repetitions` probes carry phase 0:
    # their mean parity estimates V (binomial tolerance on N = 400 parities).
    members, fidelity, repetitions = 3, 0.9, 400
    visibility = ((4 * fidelity - 1) / 3) ** (members - 1)
    entry = _sensing(members, repetitions, fidelity, seed=14)
    assert entry.calibration_probes == repetitions
    assert entry.delivered == 2 * repetitions
    assert entry.visibility is not None
    tolerance = Z * math.sqrt((1 - visibility**2) / repetitions)
    assert abs(entry.visibility - visibility) < tolerance
