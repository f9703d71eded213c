"""Raman noise formulas against direct integration of the scattering along the fibre."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from qstack.physics.raman import (
    DIRECTIONS,
    NEPER_PER_DB,
    Direction,
    RamanSetup,
    dbm_to_watts,
    noise_dark_count_probability,
    photon_energy_j,
    raman_coefficient_from_noise,
    raman_noise_power,
)

RHO = 3e-9  # 1/(km nm): an arbitrary test value; the formulas are linear in rho
RTOL = 1e-7


def transported_noise(
    launch_w: float,
    rho: float,
    band_nm: float,
    length_km: float,
    direction: Direction,
    a_c_db: float,
    a_q_db: float,
) -> float:
    """Noise at the receiver from the transport equation, solved numerically.

    The quantum channel runs from z = 0 to its receiver at z = L; the noise N(z)
    travelling with it obeys dN/dz = -a_q N + rho dlambda P_c(z), N(0) = 0, where
    the classical power is P e^(-a_c z) (launched at 0) or P e^(-a_c (L - z))
    (launched at L). An ODE solve, independent of the closed forms' integrals.
    """
    a_c, a_q = a_c_db * NEPER_PER_DB, a_q_db * NEPER_PER_DB

    def classical(z: float) -> float:
        if direction == "co-propagating":
            return launch_w * math.exp(-a_c * z)
        return launch_w * math.exp(-a_c * (length_km - z))

    def rhs(z: float, n: np.ndarray) -> np.ndarray:
        return np.array([-a_q * n[0] + rho * band_nm * classical(z)])

    sol = solve_ivp(rhs, (0.0, length_km), [0.0], rtol=1e-11, atol=1e-30)
    return float(sol.y[0, -1])


@settings(max_examples=60, deadline=None)
@given(
    st.floats(1e-4, 0.1),
    st.floats(0.1, 150.0),
    st.sampled_from(DIRECTIONS),
    st.floats(0.0, 0.5),
    st.floats(0.0, 0.5),
    st.floats(0.05, 2.0),
)
def test_closed_forms_match_transport_equation(
    launch_w: float, length_km: float, direction: Direction, a_c: float, a_q: float, band: float
) -> None:
    closed = raman_noise_power(launch_w, RHO, band, length_km, direction, a_c, a_q)
    numeric = transported_noise(launch_w, RHO, band, length_km, direction, a_c, a_q)
    assert closed == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("length_km", [1.0, 25.0, 100.0])
def test_equal_attenuations_give_eraerds_forms(length_km: float) -> None:
    """Eraerds et al., NJP 12, 063027 (2010), equal attenuations a at both wavelengths.

    P_f = P rho L dl e^(-a L) and P_b = P rho dl (1 - e^(-2 a L)) / (2 a).
    """
    p, band, alpha_db = 1e-3, 0.6, 0.21
    a = alpha_db * NEPER_PER_DB
    forward = p * RHO * length_km * band * math.exp(-a * length_km)
    backward = p * RHO * band * (1.0 - math.exp(-2.0 * a * length_km)) / (2.0 * a)
    co = raman_noise_power(p, RHO, band, length_km, "co-propagating", alpha_db, alpha_db)
    counter = raman_noise_power(p, RHO, band, length_km, "counter-propagating", alpha_db, alpha_db)
    assert co == pytest.approx(forward, rel=RTOL)
    assert counter == pytest.approx(backward, rel=RTOL)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_short_fibre_limit_is_linear(direction: Direction) -> None:
    """As L -> 0 both directions tend to P rho dlambda L (noise has no length to decay over).

    The first correction is -(a_c + a_q) L / 2 relative (expand either closed form),
    and a_c + a_q < 0.14 / km here, so a relative tolerance of L (in km) is ample.
    """
    for length_km in (1e-3, 1e-6):
        power = raman_noise_power(1e-3, RHO, 1.0, length_km, direction, 0.2, 0.35)
        assert power / length_km == pytest.approx(1e-3 * RHO, rel=length_km)
    assert raman_noise_power(1e-3, RHO, 1.0, 0.0, direction, 0.2, 0.35) == 0.0


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_lossless_limit(direction: Direction) -> None:
    """alpha -> 0: every scattered photon arrives, P rho dlambda L; the limit is continuous."""
    exact = raman_noise_power(1e-3, RHO, 1.0, 80.0, direction, 0.0, 0.0)
    assert exact == pytest.approx(1e-3 * RHO * 80.0, rel=RTOL)
    nearly = raman_noise_power(1e-3, RHO, 1.0, 80.0, direction, 1e-9, 1e-9)
    assert nearly == pytest.approx(exact, rel=1e-8)


def test_backward_saturates_forward_peaks() -> None:
    """Counter-propagating noise saturates at P rho dl / (2a); co-propagating peaks at L = 1/a."""
    alpha_db = 0.2
    a = alpha_db * NEPER_PER_DB
    far = raman_noise_power(1e-3, RHO, 1.0, 1000.0, "counter-propagating", alpha_db, alpha_db)
    assert far == pytest.approx(1e-3 * RHO / (2.0 * a), rel=1e-12)
    lengths = np.linspace(1.0, 100.0, 991)
    co = [
        raman_noise_power(1e-3, RHO, 1.0, x, "co-propagating", alpha_db, alpha_db) for x in lengths
    ]
    assert lengths[int(np.argmax(co))] == pytest.approx(1.0 / a, abs=0.1)


def test_equal_attenuation_is_the_continuous_limit_of_unequal() -> None:
    """(1 - e^(-dL))/d -> L as d -> 0: no jump where the two attenuations meet."""
    equal = raman_noise_power(1e-3, RHO, 1.0, 50.0, "co-propagating", 0.2, 0.2)
    near = raman_noise_power(1e-3, RHO, 1.0, 50.0, "co-propagating", 0.2 + 1e-10, 0.2)
    assert near == pytest.approx(equal, rel=1e-9)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_coefficient_from_noise_inverts_the_formula(direction: Direction) -> None:
    noise = raman_noise_power(2e-3, RHO, 0.8, 30.0, direction, 0.2, 0.33)
    rho = raman_coefficient_from_noise(noise, 2e-3, 0.8, 30.0, direction, 0.2, 0.33)
    assert rho == pytest.approx(RHO, rel=RTOL)


def test_dbm_and_photon_counts() -> None:
    assert dbm_to_watts(0.0) == pytest.approx(1e-3)
    assert dbm_to_watts(20.0) == pytest.approx(0.1)
    setup = RamanSetup(
        launch_power_w=dbm_to_watts(10.0),
        classical_wavelength_nm=1550.0,
        quantum_wavelength_nm=1310.0,
        length_km=30.0,
        rho_per_km_nm=RHO,
        direction="co-propagating",
        filter_bandwidth_nm=0.2,
        detection_window_s=1e-9,
        detector_efficiency=0.8,
        receiver_transmittance=0.5,
        attenuation_classical_db_per_km=0.2,
        attenuation_quantum_db_per_km=0.33,
    )
    expected = setup.noise_power_w / photon_energy_j(1310.0) * 1e-9 * 0.8 * 0.5
    assert setup.noise_photons_per_window == pytest.approx(expected, rel=RTOL)
    assert photon_energy_j(1550.0) == pytest.approx(6.62607015e-34 * 299792458.0 / 1550e-9)


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ValueError, match="direction"):
        raman_noise_power(1e-3, RHO, 1.0, 1.0, "sideways", 0.2, 0.2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="length_km"):
        raman_noise_power(1e-3, RHO, 1.0, -1.0, "co-propagating", 0.2, 0.2)
    with pytest.raises(ValueError, match="detector_efficiency"):
        RamanSetup(1e-3, 1550.0, 1310.0, 1.0, RHO, "co-propagating", 1.0, 1e-9, 1.5)
    with pytest.raises(ValueError, match="detectors"):
        noise_dark_count_probability(0.1, 0)


def test_noise_dark_count_probability_against_sampling() -> None:
    """Poisson noise split over two detectors plus intrinsic dark counts, sampled per window.

    Each window: N ~ Poisson(m) noise photons, each to detector 0 or 1 with
    probability 1/2; detector 0 also fires by itself with probability p_dc. Its
    click frequency over W windows is binomial around d, so 5 standard errors
    sqrt(d (1 - d) / W) bound the deviation (two-sided miss rate ~6e-7).
    """
    rng = np.random.default_rng(12)
    m, p_dc, windows = 0.3, 0.01, 400_000
    photons = rng.poisson(m, windows)
    to_zero = rng.binomial(photons, 0.5)
    fired = (to_zero > 0) | (rng.random(windows) < p_dc)
    d = noise_dark_count_probability(m, detectors=2, intrinsic_dark_count_probability=p_dc)
    tolerance = 5.0 * math.sqrt(d * (1.0 - d) / windows)
    assert abs(fired.mean() - d) < tolerance
    assert noise_dark_count_probability(0.0, 2, p_dc) == pytest.approx(p_dc)
