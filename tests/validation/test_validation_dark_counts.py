"""Double-click (Barrett-Kok) with dark counts: fidelity and success probability.

The expected values are derived here from the physics, independently of
``qstack.physics.heralding``.  Per round the two detectors behind the beam
splitter are not photon-number resolving; a round is "good" when exactly one
of them clicks.  With d the dark-count probability per detector per window:

* a round carrying one photon is good when the photon is detected (eta) and
  the other detector stays dark (1 - d) [a dark count on the hit detector is
  invisible], or the photon is lost (1 - eta) and exactly one detector has a
  dark count, 2 d (1 - d);
* a round carrying no photon is good with probability 2 d (1 - d);
* a round carrying two photons (which bunch on one detector) is good when at
  least one is detected and the other detector is dark, or both are lost and
  exactly one dark count happens.

Odd spin parity (probability 1/2) puts one photon in each round; the heralded
Psi is exact only when both rounds saw their real photon, and it is an even
Psi+/Psi- mixture when a lost photon revealed which spin emitted.  Even
parity (1/2) puts no photon in one round and two in the other, and projects
on |00>/|11>: zero overlap with either Psi.
"""

from __future__ import annotations

import pytest
from _validation_helpers import (
    ALPHA,
    estimator_sigma,
    half_arm_efficiency,
    negative_binomial_pvalue,
    run,
    two_node_scenario,
)

PAIRS = 20_000


def barrett_kok(eta: float, d: float) -> tuple[float, float]:
    """(success probability, heralded fidelity) from the branch analysis above."""
    one_dark = 2.0 * d * (1.0 - d)
    real = eta * (1.0 - d)  # one-photon round, good because of the photon
    fake = (1.0 - eta) * one_dark  # one-photon round, good only by a dark count
    # odd parity: (real + fake)^2 splits into real^2 (exact Psi) and the rest
    # (which-path known: half on the heralded Psi, half on the other)
    odd_exact = real * real
    odd_mixed = (real + fake) ** 2 - odd_exact
    two_photons = (1.0 - (1.0 - eta) ** 2) * (1.0 - d) + (1.0 - eta) ** 2 * one_dark
    even = one_dark * two_photons
    success = 0.5 * (odd_exact + odd_mixed) + 0.5 * even
    fidelity = 0.5 * (odd_exact + 0.5 * odd_mixed) / success
    return success, fidelity


@pytest.mark.slow
@pytest.mark.parametrize(("length_km", "d"), [(20.0, 0.05), (40.0, 0.01)])
def test_double_click_dark_counts(length_km: float, d: float) -> None:
    emission, detector = 1.0, 0.9
    link = {
        "model": "double-click",
        "length_km": length_km,
        "emission_efficiency": emission,
        "detector_efficiency": detector,
        "dark_count_probability": d,
    }
    result = run(two_node_scenario(link, PAIRS, seed=41))
    station = result.network.links[0].station
    request = result.network.requests[0]
    assert request.status == "done"
    eta = half_arm_efficiency(length_km, emission, detector)
    p, fidelity = barrett_kok(eta, d)

    # Fidelity: deterministic (perfect memories, twirled heralded state); both
    # Psi outcomes have the same fidelity with the reported Bell state.
    assert fidelity < 1.0
    worst = max(abs(f - fidelity) for f in request.fidelities)
    assert worst <= 1e-12, (fidelity, worst)

    # Success probability: exact negative-binomial test at ALPHA of the
    # attempt count against p(d).
    pvalue = negative_binomial_pvalue(station.attempts, station.successes, p)
    p_hat = station.successes / station.attempts
    assert pvalue > ALPHA, (p_hat, p, pvalue)

    # ... and it rose above the dark-count-free eta^2 / 2 by more than the
    # noise: the same exact test rejects p0 = eta^2/2 (one-sided would do; the
    # two-sided p-value at p0 is required below ALPHA).
    p0 = eta * eta / 2.0
    assert p > p0 + 6.0 * estimator_sigma(p, PAIRS)  # the design has the power to see it
    assert p_hat > p0
    assert negative_binomial_pvalue(station.attempts, station.successes, p0) < ALPHA


def test_branch_derivation_limits() -> None:
    """Sanity of the reference itself: d = 0 gives eta^2/2 and fidelity 1."""
    for eta in (0.1, 0.5, 1.0):
        p, f = barrett_kok(eta, 0.0)
        assert p == pytest.approx(eta * eta / 2.0, rel=1e-15)
        assert f == pytest.approx(1.0, rel=1e-15)
