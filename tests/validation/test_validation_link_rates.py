"""Success probability per attempt and delivered fidelity, against closed forms.

Each run asks for n pairs on one link and reads the station's ``attempts``
and ``successes``.  Statistics (see ``negative_binomial_pvalue``): attempts
per success are Geometric(p) on {1, 2, ...}, so the total number of failures
over n successes is exactly NegativeBinomial(n, p); the check is an exact
two-sided test at ALPHA = 1e-3.  For scale, the estimator p_hat = n / A has
standard deviation p sqrt((1 - p)/n) (delta method), quoted in the messages.
"""

from __future__ import annotations

import itertools

import pytest
from _validation_helpers import (
    ALPHA,
    abstract_link,
    estimator_sigma,
    half_arm_efficiency,
    negative_binomial_pvalue,
    run,
    two_node_scenario,
)

from qstack.sim.kernel import seconds_to_ps

PAIRS = 20_000


def _check_rate(attempts: int, successes: int, p: float) -> None:
    assert successes == PAIRS
    p_hat = successes / attempts
    pvalue = negative_binomial_pvalue(attempts, successes, p)
    sigma = estimator_sigma(p, successes)
    assert pvalue > ALPHA, (
        f"p_hat = {p_hat:.6f} vs p = {p:.6f} ({(p_hat - p) / sigma:+.2f} sigma, "
        f"sigma = {sigma:.2e}): exact NB p-value {pvalue:.2e} < {ALPHA}"
    )


# ---------------------------------------------------------------- abstract model


@pytest.mark.slow
@pytest.mark.parametrize("p", [0.5, 0.1, 0.01])
def test_abstract_success_probability_and_fidelity(p: float) -> None:
    fidelity = 0.87
    result = run(two_node_scenario(abstract_link(p, 1e-6, fidelity), PAIRS, seed=11))
    station = result.network.links[0].station
    request = result.network.requests[0]
    assert request.status == "done"
    assert request.delivered == PAIRS
    _check_rate(station.attempts, station.successes, p)
    # Perfect memories: the heralded Werner state is delivered untouched, so
    # the reported fidelity is the configured one exactly (no tolerance).
    assert len(request.fidelities) == PAIRS
    assert all(f == fidelity for f in request.fidelities), set(request.fidelities)


def test_abstract_attempts_match_elapsed_time() -> None:
    """Attempts are counted as the time spent attempting: pairs are freed at
    once and attempts restart at each herald, so the time between the first
    and last delivery is (attempts of pairs 2..n) x attempt duration exactly."""
    duration_s = 2e-6
    result = run(two_node_scenario(abstract_link(0.2, duration_s, 0.9), 2_000, seed=5))
    station = result.network.links[0].station
    cycle = seconds_to_ps(duration_s)
    assert station.cycle_ps == cycle
    assert station.window_ps == 0  # fidelity is the delivered state's: no noise before delivery
    times = result.delivery_ps
    assert len(times) == 2_000
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g > 0 and g % cycle == 0 for g in gaps)
    later_attempts = sum(gaps) // cycle
    first_attempts = station.attempts - later_attempts
    assert first_attempts >= 1
    # The first pair's attempts began once both ends knew of the request:
    # after the QUEUE_ADD / QUEUE_ACK round trip, within 2 one-way delays (+1 ps).
    attempts_began = times[0] - first_attempts * cycle
    delay = result.network.links[0].delay_ps
    assert delay <= attempts_began <= 2 * delay + 1


# ---------------------------------------------------------------- physical models

EMISSION = 0.8
DETECTOR = 0.9
LENGTHS_KM = [5.0, 40.0]


@pytest.mark.slow
@pytest.mark.parametrize("length_km", LENGTHS_KM)
def test_double_click_success_probability(length_km: float) -> None:
    link = {
        "model": "double-click",
        "length_km": length_km,
        "emission_efficiency": EMISSION,
        "detector_efficiency": DETECTOR,
    }
    result = run(two_node_scenario(link, PAIRS, seed=21))
    station = result.network.links[0].station
    request = result.network.requests[0]
    assert request.status == "done"
    eta = half_arm_efficiency(length_km, EMISSION, DETECTOR)
    # Barrett-Kok without dark counts: both photons detected (eta^2) and odd
    # spin parity (1/2).
    _check_rate(station.attempts, station.successes, eta * eta / 2.0)
    # ... and then the heralded Psi is exact: fidelity 1 (perfect memories).
    assert all(abs(f - 1.0) <= 1e-12 for f in request.fidelities)
    # Timing: cycle = prep + L/c, window = L/c (emission to herald at both ends).
    flight = round(length_km / 2.0e5 * 1e12)
    assert station.window_ps == flight
    assert station.cycle_ps == seconds_to_ps(1e-6) + flight


@pytest.mark.slow
@pytest.mark.parametrize("length_km", LENGTHS_KM)
def test_single_click_success_probability_fixed_alpha(length_km: float) -> None:
    alpha = 0.1
    link = {
        "model": "single-click",
        "length_km": length_km,
        "emission_efficiency": EMISSION,
        "detector_efficiency": DETECTOR,
        "bright_state_alpha": alpha,
    }
    result = run(two_node_scenario(link, PAIRS, seed=31))
    station = result.network.links[0].station
    request = result.network.requests[0]
    assert request.status == "done"
    eta = half_arm_efficiency(length_km, EMISSION, DETECTOR)
    # At least one photon detected: 1 - (1 - alpha eta)^2 = alpha eta (2 - alpha eta).
    _check_rate(station.attempts, station.successes, 1.0 - (1.0 - alpha * eta) ** 2)
    # Without dark counts the success is a one-photon event (correct Psi) with
    # probability 2 alpha (1 - alpha) eta out of the total above.
    expected_f = 2.0 * alpha * (1.0 - alpha) * eta / (1.0 - (1.0 - alpha * eta) ** 2)
    assert all(abs(f - expected_f) <= 1e-12 for f in request.fidelities)
