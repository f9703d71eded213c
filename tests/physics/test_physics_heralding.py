"""Heralding models against a brute-force photonic Kraus-operator computation."""

from __future__ import annotations

import numpy as np
import pytest
from _physics_helpers import (
    brute_force_double_click,
    brute_force_single_click,
    round_kraus,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from qstack.physics import (
    AbstractHerald,
    BellDiagonal,
    DoubleClickHerald,
    SingleClickHerald,
    choose_alpha,
    density,
    formulas,
)

TOL = 1e-9
etas = st.floats(0.01, 1.0)
darks = st.one_of(st.just(0.0), st.floats(0.0, 0.3))


@pytest.mark.parametrize(("eta", "d"), [(0.3, 0.0), (0.7, 0.05), (0.0, 0.2), (1.0, 0.5)])
@pytest.mark.parametrize("bright", [0, 1])
def test_reference_rounds_are_complete(eta: float, d: float, bright: int) -> None:
    total = sum(k.conj().T @ k for ops in round_kraus(eta, d, bright).values() for k in ops)
    np.testing.assert_allclose(total, np.eye(4), atol=TOL)


def check_against(
    model: DoubleClickHerald | SingleClickHerald, states: dict[int, density.Matrix]
) -> None:
    total = sum(float(np.trace(rho).real) for rho in states.values())
    assert abs(model.success_probability - total) < TOL
    for index, rho in states.items():
        p = float(np.trace(rho).real)
        assert abs(p - total / 2.0) < TOL  # both heralds equally likely
        expected = density.bell_diagonal_of(rho / p)
        got = model.heralded_state(index)
        np.testing.assert_allclose(got.probabilities(), expected, atol=TOL)
        assert got.fidelity(index) == pytest.approx(model.fidelity, abs=TOL)


@settings(max_examples=60)
@given(etas, darks)
def test_double_click_brute_force(eta: float, d: float) -> None:
    check_against(DoubleClickHerald(eta, d), brute_force_double_click(eta, d))


@settings(max_examples=60)
@given(st.floats(0.01, 1.0), etas, darks)
def test_single_click_brute_force(alpha: float, eta: float, d: float) -> None:
    check_against(SingleClickHerald(alpha, eta, d), brute_force_single_click(alpha, eta, d))


@given(etas)
def test_double_click_without_dark_counts(eta: float) -> None:
    model = DoubleClickHerald(eta, 0.0)
    assert model.success_probability == pytest.approx(eta * eta / 2.0)
    assert model.success_probability == pytest.approx(
        formulas.double_click_success_probability(eta)
    )
    for index in model.outcomes:
        assert model.heralded_state(index).fidelity(index) == pytest.approx(1.0)


@given(st.floats(0.01, 1.0), etas)
def test_single_click_without_dark_counts(alpha: float, eta: float) -> None:
    model = SingleClickHerald(alpha, eta, 0.0)
    assert model.success_probability == pytest.approx(
        formulas.single_click_success_probability(alpha, eta)
    )
    assert model.fidelity == pytest.approx(formulas.single_click_fidelity(alpha, eta))


def test_heralded_state_is_a_new_object() -> None:
    model = DoubleClickHerald(0.5, 0.01)
    first = model.heralded_state(1)
    first.depolarize(0.0)
    assert model.heralded_state(1).probabilities() != first.probabilities()
    assert model.heralded_state(1) is not model.heralded_state(1)


def test_abstract_herald() -> None:
    model = AbstractHerald(0.1, 0.9)
    assert model.outcomes == (0,)
    assert model.success_probability == 0.1
    assert model.heralded_state(0).probabilities() == BellDiagonal.werner(0.9).probabilities()
    with pytest.raises(KeyError):
        model.heralded_state(1)


STEP = 1e-7


@settings(max_examples=50)
@given(st.floats(0.05, 1.0), st.floats(0.0, 0.01), st.floats(0.5, 0.99))
def test_choose_alpha(eta: float, d: float, target: float) -> None:
    grid = np.linspace(1e-4, 0.5, 2000)
    best = max(SingleClickHerald(float(a), eta, d).fidelity for a in grid)
    alpha = choose_alpha(eta, d, target)
    if alpha is None:
        assert best < target + 1e-6
        return
    assert 0.0 < alpha <= 0.5
    assert SingleClickHerald(alpha, eta, d).fidelity >= target
    if alpha < 0.5:
        assert SingleClickHerald(alpha + STEP, eta, d).fidelity < target
    # Largest: no grid point beyond alpha meets the target.
    assert all(
        SingleClickHerald(float(a), eta, d).fidelity < target for a in grid if a > alpha + STEP
    )


def test_choose_alpha_unreachable_and_easy() -> None:
    assert choose_alpha(0.1, 0.2, 0.99) is None
    assert choose_alpha(0.5, 0.0, 0.4) == 0.5
    alpha = choose_alpha(0.5, 0.0, 0.9)
    assert alpha is not None
    # Without dark counts F = 2 (1 - a) / (2 - a eta) = 0.9 has a closed-form root.
    assert alpha == pytest.approx(0.2 / (2.0 - 0.9 * 0.5), rel=1e-9)
