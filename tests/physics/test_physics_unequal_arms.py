"""Heralding through an off-centre station: brute force, closed forms, timing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _physics_helpers import brute_force_double_click, brute_force_single_click
from hypothesis import given, settings
from hypothesis import strategies as st
from test_physics_heralding import check_against

from qstack.physics import DoubleClickHerald, Fiber, SingleClickHerald, choose_alpha, formulas
from qstack.physics.hardware import StationGeometry
from qstack.physics.heralding import balanced_alpha

TOL = 1e-9
etas = st.floats(0.01, 1.0)
darks = st.one_of(st.just(0.0), st.floats(0.0, 0.3))
alphas = st.floats(0.01, 1.0)


@settings(max_examples=60)
@given(etas, etas, darks)
def test_double_click_unequal_brute_force(eta_a: float, eta_b: float, d: float) -> None:
    check_against(DoubleClickHerald(eta_a, d, eta_b), brute_force_double_click(eta_a, d, eta_b))


@settings(max_examples=60)
@given(alphas, alphas, etas, etas, darks)
def test_single_click_unequal_brute_force(
    alpha_a: float, alpha_b: float, eta_a: float, eta_b: float, d: float
) -> None:
    check_against(
        SingleClickHerald(alpha_a, eta_a, d, eta_b, alpha_b),
        brute_force_single_click(alpha_a, eta_a, d, eta_b, alpha_b),
    )


@given(etas, darks, alphas)
def test_equal_arms_through_the_general_formula(eta: float, d: float, alpha: float) -> None:
    """eta_b = eta takes the unequal-arm code and gives the equal-arm numbers."""
    for old, new in (
        (DoubleClickHerald(eta, d), DoubleClickHerald(eta, d, eta)),
        (SingleClickHerald(alpha, eta, d), SingleClickHerald(alpha, eta, d, eta, alpha)),
    ):
        assert abs(old.success_probability - new.success_probability) < 1e-12
        for index in old.outcomes:
            np.testing.assert_allclose(
                old.heralded_state(index).probabilities(),
                new.heralded_state(index).probabilities(),
                atol=1e-12,
            )


@given(etas, etas)
def test_double_click_unequal_closed_form(eta_a: float, eta_b: float) -> None:
    model = DoubleClickHerald(eta_a, 0.0, eta_b)
    expected = formulas.double_click_success_probability(eta_a, eta_b)
    assert abs(model.success_probability - expected) < TOL
    assert abs(model.fidelity - 1.0) < TOL  # the arm imbalance cancels over two rounds


@given(alphas, alphas, etas, etas)
def test_single_click_unequal_closed_form(
    alpha_a: float, alpha_b: float, eta_a: float, eta_b: float
) -> None:
    model = SingleClickHerald(alpha_a, eta_a, 0.0, eta_b, alpha_b)
    p, fidelity = formulas.single_click_unequal(alpha_a, alpha_b, eta_a, eta_b)
    assert abs(model.success_probability - p) < TOL
    assert abs(model.fidelity - fidelity) < TOL


@given(st.floats(0.01, 0.5), etas, etas, darks)
def test_balanced_bright_states_remove_the_leak(
    alpha: float, eta_a: float, eta_b: float, d: float
) -> None:
    """Balanced populations make the one-photon branch maximally entangled:
    without dark counts nothing reaches the other Psi, and the fidelity is at
    least that of the same alpha at both nodes (the weaker arm keeps alpha)."""
    model = SingleClickHerald.balanced(alpha, eta_a, eta_b, d)
    weak_alpha = model.alpha if eta_a <= eta_b else model.alpha_b
    assert weak_alpha == alpha
    if d == 0.0:
        assert model.heralded_state(1).p3 < TOL
    strong = model.alpha_b if eta_a <= eta_b else model.alpha
    assert strong is not None and strong <= alpha + 1e-15
    assert balanced_alpha(alpha, min(eta_a, eta_b), max(eta_a, eta_b)) == strong


@settings(max_examples=30)
@given(st.floats(0.05, 1.0), st.floats(0.05, 1.0), st.floats(0.0, 0.01), st.floats(0.5, 0.99))
def test_choose_alpha_unequal(eta_a: float, eta_b: float, d: float, target: float) -> None:
    grid = np.linspace(1e-4, 0.5, 1000)

    def fid(a: float) -> float:
        return SingleClickHerald.balanced(a, eta_a, eta_b, d).fidelity

    best = max(fid(float(a)) for a in grid)
    alpha = choose_alpha(eta_a, d, target, eta_b=eta_b)
    if alpha is None:
        assert best < target + 1e-6
        return
    assert 0.0 < alpha <= 0.5
    assert fid(alpha) >= target
    assert all(fid(float(a)) < target for a in grid if a > alpha + 1e-7)


def test_centred_station_matches_the_old_link() -> None:
    """Mid-point geometry: the windows are the fiber delay and the arm
    efficiencies the half-fiber ones, exactly as the network builds them today."""
    for length in (0.0, 1.0, 25.0, 30.3, 123.456):
        geometry = StationGeometry.midpoint(length)
        timing = geometry.timing(preparation_ps=5_000)
        delay = Fiber(length).delay_ps
        assert timing.window_a_ps == timing.window_b_ps == delay
        assert timing.cycle_ps == 5_000 + delay
        assert timing.emission_offset_a_ps == timing.emission_offset_b_ps == 0
        half = Fiber(length / 2, 0.2).transmittance
        assert geometry.arm_efficiencies(0.2, 0.8, 0.9) == (0.8 * half * 0.9, 0.8 * half * 0.9)


def test_off_centre_timing() -> None:
    """QL2020-like arms of 10 km and 15 km: photons meet at the station, the
    herald reaches each node one arm later, the cycle waits for the far node."""
    speed = 2.0e5
    timing = StationGeometry(25.0, 10.0).timing(preparation_ps=1_000, speed_km_per_s=speed)
    ps_per_km = 1e12 / speed  # 5 us per km
    assert timing.window_a_ps == round(20 * ps_per_km)
    assert timing.window_b_ps == round(30 * ps_per_km)
    assert timing.cycle_ps == 1_000 + round(30 * ps_per_km)
    assert timing.emission_offset_a_ps == round(5 * ps_per_km)
    assert timing.emission_offset_b_ps == 0
    # Photons arrive together; each window is emission -> herald at that node.
    meet_a = timing.emission_offset_a_ps + round(10 * ps_per_km)
    meet_b = timing.emission_offset_b_ps + round(15 * ps_per_km)
    assert meet_a == meet_b
    assert meet_a + round(10 * ps_per_km) - timing.emission_offset_a_ps == timing.window_a_ps
    eta_a, eta_b = StationGeometry(25.0, 10.0).arm_efficiencies(0.2, 1.0, 1.0)
    assert eta_a == pytest.approx(10 ** (-0.2), rel=1e-12)
    assert eta_b == pytest.approx(10 ** (-0.3), rel=1e-12)


def test_bad_station_is_named() -> None:
    with pytest.raises(ValueError, match="station_km"):
        StationGeometry(10.0, 12.0)
    with pytest.raises(ValueError, match="station_km"):
        StationGeometry(10.0, -1.0)
    with pytest.raises(ValueError, match="eta_b"):
        DoubleClickHerald(0.5, 0.0, 1.5)
    with pytest.raises(ValueError, match="preparation_ps"):
        StationGeometry(10.0, 5.0).timing(-1)


def test_unequal_single_click_is_not_symmetric() -> None:
    """Equal populations on unequal arms leak onto the other Psi; the leak
    (sqrt x - sqrt y)^2 / (2 P) is what the closed form predicts."""
    alpha, eta_a, eta_b = 0.1, 0.5, 0.05
    model = SingleClickHerald(alpha, eta_a, 0.0, eta_b)
    x = alpha * (1 - alpha) * eta_a
    y = (1 - alpha) * alpha * eta_b
    leak = (math.sqrt(x) - math.sqrt(y)) ** 2 / (2.0 * model.success_probability)
    assert model.heralded_state(1).p3 == pytest.approx(leak, rel=1e-12)
    assert leak > 0.01
