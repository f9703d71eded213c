"""Raman noise from classical light sharing the fibre, in a run, against the formula.

Reference. Classical light of power P launched into an arm of length L
scatters, per km and per nm of the receiver's filter, rho P(z) into the
quantum band; the scattered light reaches the station with the quantum
channel's loss. The test integrates that numerically along the arm
(``scipy.integrate.quad``, independent of ``physics.raman``'s closed forms):

    co-propagating:      P_n = rho dl P int_0^L e^(-a_c z) e^(-a_q (L - z)) dz,
    counter-propagating: P_n = rho dl P int_0^L e^(-a_c z) e^(-a_q z) dz

(z from where the classical light enters; a in 1/km = dB/km x ln(10)/10),
and turns the power into photons per window: m = P_n lambda / (h c) x
window x detector efficiency, summed over both arms. The link's
``raman_photons_per_window`` must equal it (relative 1e-9).

In a run. Each detector fires by noise with d = 1 - (1 - d0) e^(-m / 2) (the
unpolarised Raman light spreads evenly over the two detectors; d0 the dark
counts). With almost no light from the nodes (emission 1e-4), a
double-click herald needs a dark click in both rounds: the success
probability per attempt is then almost exactly (2 d (1 - d))^2 (computed
with every branch by ``DoubleClickHerald``). The attempts per success of a
run are geometric, so their total over N successes is exactly negative
binomial: an exact two-sided test at ALPHA checks the simulated rate, and
so the Raman photon count, against the formula. The same test rejects the
run's count as coming from the dark counts alone, and from half or twice
the Raman light.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from _validation_helpers import ALPHA, negative_binomial_pvalue, node, run, two_node_scenario
from scipy import integrate

from qstack.physics.heralding import DoubleClickHerald
from qstack.scenario import LinkSpec, ScenarioError, parse_scenario

PLANCK = 6.62607015e-34
LIGHT = 299_792_458.0
LENGTH_KM = 30.0
PAIRS = 400


def _link(direction: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "double-click",
        "length_km": LENGTH_KM,
        "detector_efficiency": 0.8,
        "emission_efficiency": 1e-4,
        "dark_count_probability": 1e-3,
        "detection_window_s": 2e-9,
        "classical_launch_power_dbm": 0.0,
        "classical_wavelength_nm": 1550.0,
        "quantum_wavelength_nm": 1310.0,
        "classical_direction": direction,
        "attenuation_db_per_km": 0.33,
        "classical_attenuation_db_per_km": 0.2,
        "filter_bandwidth_nm": 0.5,
        # An input of this test, not a measured coefficient: qstack ships none.
        "raman_coefficient_per_km_nm": 1.5e-9,
        **extra,
    }


def _photons(link: dict[str, Any], arm_km: float) -> float:
    neper = math.log(10.0) / 10.0
    a_c = link["classical_attenuation_db_per_km"] * neper
    a_q = link["attenuation_db_per_km"] * neper
    power_w = 1e-3 * 10.0 ** (link["classical_launch_power_dbm"] / 10.0)
    if link["classical_direction"] == "co-propagating":
        integral, _ = integrate.quad(
            lambda z: math.exp(-a_c * z - a_q * (arm_km - z)), 0.0, arm_km, epsabs=0, epsrel=1e-12
        )
    else:
        integral, _ = integrate.quad(
            lambda z: math.exp(-(a_c + a_q) * z), 0.0, arm_km, epsabs=0, epsrel=1e-12
        )
    noise_w = link["raman_coefficient_per_km_nm"] * link["filter_bandwidth_nm"] * power_w * integral
    energy = PLANCK * LIGHT / (link["quantum_wavelength_nm"] * 1e-9)
    return noise_w / energy * link["detection_window_s"] * link["detector_efficiency"]


def _spec(link: dict[str, Any]) -> LinkSpec:
    return LinkSpec.model_validate({"a": "a", "b": "b", **link})


@pytest.mark.parametrize("direction", ["co-propagating", "counter-propagating"])
@pytest.mark.parametrize("station_km", [None, 10.0])
def test_raman_photons_per_window_match_the_integral(
    direction: str, station_km: float | None
) -> None:
    link = _link(direction)
    arms = (LENGTH_KM / 2, LENGTH_KM / 2)
    if station_km is not None:
        link["station_km"] = station_km
        arms = (station_km, LENGTH_KM - station_km)
    expected = sum(_photons(link, arm) for arm in arms)
    spec = _spec(link)
    assert spec.raman_photons_per_window == pytest.approx(expected, rel=1e-9)
    d0 = link["dark_count_probability"]
    assert spec.noise_per_window == pytest.approx(1 - (1 - d0) * math.exp(-expected / 2), rel=1e-12)


@pytest.mark.parametrize("direction", ["co-propagating", "counter-propagating"])
def test_heralding_rate_in_a_run_counts_the_raman_photons(direction: str) -> None:
    link = _link(direction)
    photons = 2 * _photons(link, LENGTH_KM / 2)
    eta = link["emission_efficiency"] * 10 ** (-0.033 * LENGTH_KM / 2) * 0.8

    def noise(mean_photons: float) -> float:
        return 1.0 - (1.0 - link["dark_count_probability"]) * math.exp(-mean_photons / 2.0)

    def success(mean_photons: float) -> float:
        return DoubleClickHerald(eta, noise(mean_photons)).success_probability

    p = success(photons)
    d = noise(photons)
    assert p == pytest.approx((2 * d * (1 - d)) ** 2, rel=0.01)  # the regime: noise heralds
    result = run(two_node_scenario(link, PAIRS, nodes=(node("a"), node("b")), seed=12))
    station = result.network.links[0].station
    assert result.network.requests[0].status == "done"
    assert station.successes == PAIRS
    assert negative_binomial_pvalue(station.attempts, station.successes, p) > ALPHA
    for wrong in (0.0, photons / 2, 2 * photons):
        assert negative_binomial_pvalue(station.attempts, station.successes, success(wrong)) < ALPHA


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"raman_coefficient_per_km_nm": None}, r"raman_coefficient_per_km_nm: missing.*ships no"),
        ({"filter_bandwidth_nm": None}, "filter_bandwidth_nm: missing"),
        ({"detection_window_s": None}, "detection_window_s: missing"),
        (
            {"classical_launch_power_dbm": None},
            r"classical_wavelength_nm = 1550\.0: only allowed together with "
            "classical_launch_power_dbm",
        ),
        ({"classical_launch_power_dbm": 31.0}, r"classical_launch_power_dbm = 31\.0"),
        ({"classical_direction": "sideways"}, "classical_direction = 'sideways'"),
        (
            {"raman_coefficient_per_km_nm": 1e-3, "classical_launch_power_dbm": 30.0},
            r"classical_launch_power_dbm = 30\.0: the Raman light makes every detection window",
        ),
    ],
)
def test_bad_classical_light_is_named(change: dict[str, Any], message: str) -> None:
    link = {k: v for k, v in {**_link("co-propagating"), **change}.items() if v is not None}
    data = {
        "nodes": [{"name": "a", "qubits": 1}, {"name": "b", "qubits": 1}],
        "links": [{"a": "a", "b": "b", **link}],
        "requests": [{"app": "pairs", "src": "a", "dst": "b", "pairs": 1}],
    }
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)


def test_abstract_links_take_no_classical_light() -> None:
    data = {
        "nodes": [{"name": "a", "qubits": 1}, {"name": "b", "qubits": 1}],
        "links": [
            {
                "a": "a",
                "b": "b",
                "length_km": 1.0,
                "model": "abstract",
                "success_probability": 0.1,
                "attempt_duration_s": 1e-5,
                "fidelity": 0.9,
                "classical_launch_power_dbm": 0.0,
            }
        ],
        "requests": [{"app": "pairs", "src": "a", "dst": "b", "pairs": 1}],
    }
    with pytest.raises(ScenarioError, match=r"classical_launch_power_dbm.*not allowed when model"):
        parse_scenario(data)
