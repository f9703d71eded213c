"""Decoy-state BB84 closed forms and estimates against Lo-Ma-Chen / Ma-Qi-Zhao-Lo (2005)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qstack.physics import formulas
from qstack.qkd.decoy import (
    E0,
    GYS_LINK,
    IntensityStats,
    SinglePhotonEstimate,
    WcpLink,
    binary_entropy_clipped,
    decoy_secret_key_length,
    expected_stats,
    gllp_rate,
    ideal_estimate,
    key_rate,
    max_distance_km,
    optimal_intensity,
    photon_error_rate,
    photon_yield,
    vacuum_weak_estimate,
)

Y0, E_DET = GYS_LINK.dark_count_yield, GYS_LINK.misalignment


def poisson(n: int, mu: float) -> float:
    return math.exp(-mu) * mu**n / math.factorial(n)


@given(st.floats(0.0, 2.0), st.floats(1e-6, 1.0), st.floats(0.0, 0.05), st.floats(0.0, 0.2))
def test_gain_and_qber_are_photon_number_sums(mu: float, eta: float, y0: float, e: float) -> None:
    """Q_mu = sum_n P_n Y_n and E_mu Q_mu = sum_n P_n e_n Y_n (Ma et al. 2005).

    The closed forms sum the Poisson series; summing it term by term to n = 60
    (tail below 1e-30 for mu <= 2) must give the same numbers.
    """
    stats = expected_stats(mu, eta, y0, e)
    terms = [(poisson(n, mu), photon_yield(n, eta, y0)) for n in range(61)]
    gain = sum(p * y for p, y in terms)
    errors = sum(p * y * photon_error_rate(n, eta, y0, e) for n, (p, y) in enumerate(terms))
    assert stats.gain == pytest.approx(gain, rel=1e-12, abs=1e-300)
    assert stats.qber * stats.gain == pytest.approx(errors, rel=1e-10, abs=1e-300)


def test_linearised_model_of_ma_et_al_agrees() -> None:
    """Ma et al. write Q = Y0 + 1 - e^(-eta mu), EQ = Y0/2 + e_d (1 - e^(-eta mu)).

    Our exact model keeps the dark-count cross terms: the gains differ by
    Y0 (1 - e^(-eta mu)) (relative < Y0), the error counts by about
    d (1/2 + e_d)(1 - e^(-eta mu)) with d ~ Y0 / 2, i.e. relative < Y0 / e_d = 5.2e-5.
    """
    for length in (0.0, 50.0, 100.0, 150.0):
        eta = GYS_LINK.transmittance(length)
        stats = expected_stats(0.5, eta, Y0, E_DET)
        q = Y0 + 1.0 - math.exp(-eta * 0.5)
        eq = Y0 / 2.0 + E_DET * (1.0 - math.exp(-eta * 0.5))
        assert stats.gain == pytest.approx(q, rel=Y0)
        assert stats.qber * stats.gain == pytest.approx(eq, rel=Y0 / E_DET)


@settings(max_examples=80, deadline=None)
@given(
    st.floats(0.0, 150.0),
    st.floats(0.2, 0.9),
    st.floats(0.01, 0.9),
)
def test_vacuum_weak_bounds_hold(length: float, mu: float, nu_fraction: float) -> None:
    """The vacuum + weak decoy estimates bound Y_1 from below and e_1 from above.

    Fed with the exact expected gains, the estimates must bracket the model's
    true single-photon yield and error rate (up to rounding).
    """
    nu = mu * nu_fraction
    eta = GYS_LINK.transmittance(length)
    signal, decoy = expected_stats(mu, eta, Y0, E_DET), expected_stats(nu, eta, Y0, E_DET)
    bound = vacuum_weak_estimate(signal, decoy, Y0)
    truth = ideal_estimate(mu, eta, Y0, E_DET)
    assert bound.y1 <= truth.y1 * (1.0 + 1e-9)
    if bound.y1 > 0.0:
        assert bound.e1 >= truth.e1 * (1.0 - 1e-9) or bound.e1 == E0


def test_weak_decoy_estimate_tightens_as_nu_vanishes() -> None:
    """With nu -> 0 vacuum + weak decoy approaches infinite decoys (Ma et al. 2005).

    The bias of the Y_1 bound is first order in nu (the neglected i >= 2 terms scale as nu),
    so the gap shrinks about tenfold per tenfold smaller nu.
    """
    eta = GYS_LINK.transmittance(40.0)
    truth = ideal_estimate(0.5, eta, Y0, E_DET)
    signal = expected_stats(0.5, eta, Y0, E_DET)
    gaps = []
    for nu in (0.1, 0.01, 0.001):
        bound = vacuum_weak_estimate(signal, expected_stats(nu, eta, Y0, E_DET), Y0)
        gaps.append((truth.y1 - bound.y1) / truth.y1)
    assert gaps[0] > gaps[1] > gaps[2] > 0.0
    assert gaps[1] / gaps[0] == pytest.approx(0.1, rel=0.3)
    assert gaps[2] < 2e-3


def test_gys_maximum_distance_is_142_km() -> None:
    """Lo, Ma & Chen (2005): with GYS's parameters and infinite decoys, about 142 km.

    Tolerance 0.5 km: the paper gives the figure to the kilometre ("142 km"),
    i.e. it is a rounding of a value in [141.5, 142.5). Our exact model differs
    from their linearised one by O(Y0 eta) relative (see above), which moves
    the root by far less than the bisection tolerance of 1e-3 km.
    """
    distance = max_distance_km(GYS_LINK)
    assert distance == pytest.approx(142.0, abs=0.5)


def test_gys_maximum_distance_with_linearised_model() -> None:
    """An independent implementation of Ma et al.'s linearised infinite-decoy rate.

    Y1 = Y0 + eta, e1 = (Y0/2 + e_d eta) / Y1, Q = Y0 + 1 - e^(-eta mu),
    E Q = Y0/2 + e_d (1 - e^(-eta mu)), R = q{-Q f H2(E) + Y1 mu e^-mu [1 - H2(e1)]},
    maximised over mu on a grid of 0.001; its zero crossing (grid of 0.01 km)
    must agree with ``max_distance_km`` within 0.05 km.
    """

    def rate(length: float) -> float:
        eta = GYS_LINK.transmittance(length)
        best = -math.inf
        for k in range(1, 1001):
            mu = k / 1000.0
            q = Y0 + 1.0 - math.exp(-eta * mu)
            e = (Y0 / 2.0 + E_DET * (1.0 - math.exp(-eta * mu))) / q
            y1 = Y0 + eta
            e1 = (Y0 / 2.0 + E_DET * eta) / y1
            r = 0.5 * (
                -q * 1.22 * binary_entropy_clipped(e)
                + y1 * mu * math.exp(-mu) * (1.0 - binary_entropy_clipped(e1))
            )
            best = max(best, r)
        return best

    lo, hi = 130.0, 150.0
    while hi - lo > 0.01:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if rate(mid) > 0.0 else (lo, mid)
    assert max_distance_km(GYS_LINK) == pytest.approx(lo, abs=0.05)


def test_vacuum_weak_distance_approaches_infinite_decoys() -> None:
    """A finite weak decoy costs distance; nu -> 0 recovers the infinite-decoy 142 km."""
    ideal = max_distance_km(GYS_LINK)
    distances = [max_distance_km(GYS_LINK, nu) for nu in (0.2, 0.1, 0.01)]
    assert distances[0] < distances[1] < distances[2] < ideal
    assert ideal - distances[2] < 0.5


@pytest.mark.parametrize("length", [0.0, 25.0, 50.0, 100.0, 140.0])
def test_key_rate_below_repeaterless_bounds(length: float) -> None:
    """Any key rate per pulse is below PLOB (and so TGW) of the end-to-end transmittance."""
    mu, rate = optimal_intensity(GYS_LINK, length)
    eta = GYS_LINK.transmittance(length)
    assert 0.0 < rate < formulas.plob_bound(eta) < formulas.tgw_bound(eta)
    assert 0.0 < mu < 1.0
    _, weak_rate = optimal_intensity(GYS_LINK, length, 0.1)
    assert weak_rate < rate


def test_gllp_rate_formula() -> None:
    """R = q{-Q f H2(E) + Q1 [1 - H2(e1)]} written out."""
    signal = IntensityStats(0.5, 1e-3, 0.03)
    est = SinglePhotonEstimate(y1=1.5e-3, e1=0.04, q1=4.5e-4)
    expected = 0.5 * (
        -1e-3 * 1.22 * formulas.binary_entropy(0.03) + 4.5e-4 * (1 - formulas.binary_entropy(0.04))
    )
    assert gllp_rate(signal, est, 1.22, 0.5) == pytest.approx(expected, rel=1e-12)
    assert key_rate(GYS_LINK, 30.0, 0.5) == pytest.approx(
        gllp_rate(
            expected_stats(0.5, GYS_LINK.transmittance(30.0), Y0, E_DET),
            ideal_estimate(0.5, GYS_LINK.transmittance(30.0), Y0, E_DET),
            1.22,
            0.5,
        )
    )


def test_decoy_secret_key_length() -> None:
    """n_1 = floor(n Q1 / Q_mu) single-photon bits, n_1 (1 - H2(e1)) - leak - 2 s."""
    signal = IntensityStats(0.5, 1e-3, 0.03)
    est = SinglePhotonEstimate(y1=1.5e-3, e1=0.04, q1=4.5e-4)
    n, leak, s = 100_000, 20_000, 64
    n1 = math.floor(n * 0.45)
    expected = math.floor(n1 * (1 - formulas.binary_entropy(0.04)) - leak - 2 * s)
    assert decoy_secret_key_length(n, signal, est, leak, s) == expected
    assert decoy_secret_key_length(n, signal, SinglePhotonEstimate(0.0, E0, 0.0), leak, s) == 0
    assert decoy_secret_key_length(100, signal, est, leak, s) == 0


def test_bad_parameters_name_the_field() -> None:
    with pytest.raises(ValueError, match="misalignment"):
        WcpLink(0.2, 0.1, 1e-6, 1.5)
    with pytest.raises(ValueError, match="ec_efficiency"):
        WcpLink(0.2, 0.1, 1e-6, 0.01, ec_efficiency=0.9)
    with pytest.raises(ValueError, match="length_km"):
        GYS_LINK.transmittance(-1.0)
    with pytest.raises(ValueError, match="nu < mu"):
        vacuum_weak_estimate(IntensityStats(0.1, 1e-3, 0.03), IntensityStats(0.2, 1e-3, 0.03), 0.0)
    with pytest.raises(ValueError, match="upper_km"):
        max_distance_km(GYS_LINK, upper_km=50.0)
