"""Single-click links without a configured alpha choose it per request.

The link must use the largest bright-state parameter alpha (the fastest
rate) whose delivered fidelity still meets the request's min_fidelity.  The
delivered fidelity of single-click falls with alpha on the side that matters,
so that alpha delivers exactly min_fidelity (up to the root finder): every
pair's fidelity must lie in [min_fidelity, min_fidelity + 1e-9].  Whether the
*largest* such alpha was taken (and not, with dark counts, the crossing on
the rising side near alpha = 0) is then checked through the rate: the
measured success probability must match the one of our alpha with an exact
negative-binomial test at ALPHA = 1e-3 (see _validation_helpers).

The single-click model used for the expectations is re-derived here.  Each
node emits a photon with probability alpha; a success is exactly one click:
* one photon (2 alpha (1 - alpha)): detected with the other detector dark,
  eta (1 - d) -> the heralded Psi; lost with exactly one dark count,
  (1 - eta) 2 d (1 - d) -> Psi+/Psi- half each;
* two photons (alpha^2): bunch on one detector; it clicks if either is
  detected and the other detector is dark, or both are lost and one dark
  count happens -> |11>, no Psi overlap;
* no photon ((1 - alpha)^2): one dark count, 2 d (1 - d) -> |00>.
Depolarising memories of time T act on the (Bell-diagonal) heralded state
for the window t = L/c per side: F -> 1/4 + (F - 1/4) e^(-2t/T).
"""

from __future__ import annotations

import math

import pytest
from _validation_helpers import (
    ALPHA,
    half_arm_efficiency,
    negative_binomial_pvalue,
    node,
    run,
    two_node_scenario,
)
from scipy import optimize

from qstack.sim.kernel import PS_PER_S

LENGTH_KM = 20.0
DETECTOR = 0.9
PAIRS = 5_000
ETA = half_arm_efficiency(LENGTH_KM, 1.0, DETECTOR)


def single_click(alpha: float, eta: float, d: float) -> tuple[float, float]:
    """(success probability, heralded fidelity with the heralded Psi)."""
    one_dark = 2.0 * d * (1.0 - d)
    one = 2.0 * alpha * (1.0 - alpha)
    good = one * eta * (1.0 - d)
    mixed = one * (1.0 - eta) * one_dark
    two = alpha * alpha * ((1.0 - (1.0 - eta) ** 2) * (1.0 - d) + (1.0 - eta) ** 2 * one_dark)
    none = (1.0 - alpha) ** 2 * one_dark
    total = good + mixed + two + none
    return total, (good + 0.5 * mixed) / total


def after_memory(f: float, window_s: float, memory_t_s: float | None) -> float:
    if memory_t_s is None:
        return f
    return 0.25 + (f - 0.25) * math.exp(-2.0 * window_s / memory_t_s)


def largest_alpha(
    min_fidelity: float, eta: float, d: float, window_s: float, memory_t_s: float | None
) -> float | None:
    """Our own answer: the peak of the delivered fidelity by bounded scalar
    minimisation, then the crossing on the falling side by Brent's method."""

    def delivered(alpha: float) -> float:
        return after_memory(single_click(alpha, eta, d)[1], window_s, memory_t_s)

    peak = optimize.minimize_scalar(
        lambda a: -delivered(a), bounds=(1e-12, 0.5), method="bounded", options={"xatol": 1e-14}
    ).x
    if delivered(peak) < min_fidelity:
        return None
    if delivered(0.5) >= min_fidelity:
        return 0.5
    return float(
        optimize.brentq(lambda a: delivered(a) - min_fidelity, peak, 0.5, xtol=1e-15, rtol=1e-15)
    )


def _link(d: float) -> dict[str, object]:
    return {
        "model": "single-click",
        "length_km": LENGTH_KM,
        "detector_efficiency": DETECTOR,
        "dark_count_probability": d,
    }


CASES = {
    "perfect memory, no dark counts": (0.0, None, 0.95),
    "perfect memory, dark counts": (1e-3, None, 0.9),
    "depolarising memory": (0.0, 1e-3, 0.8),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_chosen_alpha_is_the_largest_meeting_min_fidelity(case: str) -> None:
    d, memory_t, min_fidelity = CASES[case]
    memory = {} if memory_t is None else {"memory_t_s": memory_t}
    scenario = two_node_scenario(
        _link(d),
        PAIRS,
        nodes=(node("a", **memory), node("b", **memory)),
        min_fidelity=min_fidelity,
        seed=71,
    )
    result = run(scenario)
    request = result.network.requests[0]
    station = result.network.links[0].station
    assert request.status == "done", request.error
    window_s = station.window_ps / PS_PER_S
    alpha = largest_alpha(min_fidelity, ETA, d, window_s, memory_t)
    assert alpha is not None and 0.0 < alpha < 0.5

    # Fidelity: at least the minimum, and no more than rounding above it.
    low, high = min(request.fidelities), max(request.fidelities)
    assert low >= min_fidelity, (low, min_fidelity)
    assert high <= min_fidelity + 1e-9, (high, min_fidelity)

    # Rate: the success probability of our alpha (exact NB test at ALPHA).
    p = single_click(alpha, ETA, d)[0]
    pvalue = negative_binomial_pvalue(station.attempts, station.successes, p)
    assert pvalue > ALPHA, (station.successes / station.attempts, p, alpha, pvalue)


UNREACHABLE = {
    # window 1e-4 s, T = 1e-3 s: at best 1/4 + 3/4 e^(-0.2) = 0.864
    "memory caps fidelity": (0.0, 1e-3, 0.9),
    # dark counts cap the single-click fidelity below 1 (peak ~0.97 here)
    "dark counts cap fidelity": (1e-3, None, 0.999),
}


@pytest.mark.parametrize("case", list(UNREACHABLE))
def test_unreachable_min_fidelity_is_an_error(case: str) -> None:
    d, memory_t, min_fidelity = UNREACHABLE[case]
    memory = {} if memory_t is None else {"memory_t_s": memory_t}
    scenario = two_node_scenario(
        _link(d),
        10,
        nodes=(node("a", **memory), node("b", **memory)),
        min_fidelity=min_fidelity,
        seed=72,
    )
    window_s = round(LENGTH_KM / 2.0e5 * PS_PER_S) / PS_PER_S
    assert largest_alpha(min_fidelity, ETA, d, window_s, memory_t) is None  # truly unreachable
    result = run(scenario)
    request = result.network.requests[0]
    assert request.status == "error"
    assert request.error is not None and request.error.startswith("fidelity_unreachable")
    assert request.delivered == 0


def test_fixed_setting_unreachable_min_fidelity_is_an_error() -> None:
    """Same contract on a fixed-setting link (double-click with dark counts)."""
    link = {"model": "double-click", "length_km": LENGTH_KM, "dark_count_probability": 0.05}
    result = run(two_node_scenario(link, 10, min_fidelity=0.9, seed=73))
    request = result.network.requests[0]
    assert request.status == "error"
    assert request.error is not None and request.error.startswith("fidelity_unreachable")
