"""Closed forms in ``formulas`` against the state operations that they summarise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qstack.physics import (
    BellDiagonal,
    DensityMatrixPair,
    DepolarizingMemory,
    density,
    formulas,
    purify_bbpssw,
    purify_dejmps,
    swap,
)

TOL = 1e-9
fidelities = st.floats(0.0, 1.0)


@given(fidelities)
def test_werner_parameter_inverse(f: float) -> None:
    assert formulas.fidelity_from_werner(formulas.werner_parameter(f)) == pytest.approx(f)


@given(fidelities, fidelities)
def test_swap_werner_formula(f1: float, f2: float) -> None:
    out = swap(BellDiagonal.werner(f1), BellDiagonal.werner(f2), 0)
    assert abs(out.fidelity() - formulas.swap_werner_fidelity(f1, f2)) < TOL
    rest = (1.0 - out.fidelity()) / 3.0
    assert out.probabilities()[1:] == pytest.approx((rest, rest, rest), abs=TOL)


@given(st.lists(fidelities, min_size=1, max_size=6))
def test_chain_werner_parameters_multiply(fs: list[float]) -> None:
    state = BellDiagonal.werner(fs[0])
    for f in fs[1:]:
        state = swap(state, BellDiagonal.werner(f), 0)
    w = math.prod(formulas.werner_parameter(f) for f in fs)
    assert abs(formulas.werner_parameter(state.fidelity()) - w) < TOL
    assert abs(formulas.chain_fidelity(fs) - state.fidelity()) < TOL


@given(fidelities, st.floats(0.0, 10.0), st.floats(1e-3, 10.0))
def test_depolarizing_memory_both_sides(f: float, t_s: float, memory_t_s: float) -> None:
    memory = DepolarizingMemory(memory_t_s)
    dt_ps = round(t_s * 1e12)
    fast = BellDiagonal.werner(f)
    exact = DensityMatrixPair.werner(f)
    for side in (0, 1):
        memory.apply(fast, side, dt_ps)
        memory.apply(exact, side, dt_ps)
    expected = formulas.depolarized_fidelity(f, dt_ps * 1e-12, memory_t_s)
    assert abs(fast.fidelity() - expected) < TOL
    assert abs(exact.fidelity() - expected) < TOL
    w = formulas.werner_parameter(f) * math.exp(-2.0 * dt_ps * 1e-12 / memory_t_s)
    assert abs(formulas.werner_parameter(fast.fidelity()) - w) < TOL


@given(fidelities)
def test_bbpssw_formula(f: float) -> None:
    p, f_out = formulas.bbpssw(f)
    p_state, out = purify_bbpssw(BellDiagonal.werner(f), BellDiagonal.werner(f))
    assert abs(p - p_state) < TOL
    assert abs(f_out - out.fidelity()) < TOL


def test_bbpssw_improves_above_half() -> None:
    assert formulas.bbpssw(0.75)[1] > 0.75
    assert formulas.bbpssw(0.4)[1] < 0.4


@given(st.lists(st.floats(0.01, 1.0), min_size=4, max_size=4))
def test_dejmps_formula(raw: list[float]) -> None:
    total = sum(raw)
    p = (raw[0] / total, raw[1] / total, raw[2] / total, raw[3] / total)
    n, out = formulas.dejmps(p)
    n_state, state = purify_dejmps(BellDiagonal(*p), BellDiagonal(*p))
    assert abs(n - n_state) < TOL
    np.testing.assert_allclose(out, state.probabilities(), atol=TOL)


@given(
    st.floats(0.0, 5.0),
    st.floats(0.1, 5.0),
    st.floats(0.05, 1.0),
)
def test_t1t2_single_qubit_decay(t_s: float, t1_s: float, t2_ratio: float) -> None:
    t2_s = 2.0 * t1_s * t2_ratio
    # |psi> = a|0> + b|1> with both population and coherence.
    psi = np.array([math.sqrt(0.3), math.sqrt(0.7) * 1j], dtype=np.complex128)
    rho = np.outer(psi, psi.conj())
    out = density.apply_kraus(rho, density.t1t2_kraus(t_s, t1_s, t2_s), 0, 1)
    assert abs(out[1, 1].real - 0.7 * math.exp(-t_s / t1_s)) < TOL
    assert abs(out[0, 1] - rho[0, 1] * math.exp(-t_s / t2_s)) < TOL
    assert abs(np.trace(out) - 1.0) < TOL
    plus = np.array([[0.5, 0.5], [0.5, 0.5]], dtype=np.complex128)
    out_plus = density.apply_kraus(plus, density.t1t2_kraus(t_s, t1_s, t2_s), 0, 1)
    assert abs(out_plus[0, 1].real - 0.5 * math.exp(-t_s / t2_s)) < TOL


def test_qber_and_key_fraction() -> None:
    for f in (1.0, 0.95, 0.8):
        state = BellDiagonal.werner(f)
        for basis in ("Z", "X"):
            p = state.measurement_probabilities(basis, basis)
            assert p[1] + p[2] == pytest.approx(formulas.qber_from_werner(f))
    assert formulas.bb84_secret_fraction(0.0) == 1.0
    assert formulas.bb84_secret_fraction(0.12) == 0.0  # beyond the ~11% threshold
    assert formulas.binary_entropy(0.5) == 1.0
    assert formulas.binary_entropy(0.0) == 0.0


def test_link_formulas() -> None:
    assert formulas.fiber_transmittance(50.0, 0.2) == pytest.approx(0.1)
    assert formulas.plob_bound(0.5) == pytest.approx(1.0)
    assert formulas.plob_bound(1.0) == math.inf
    assert formulas.mean_attempts(0.25) == 4.0
    assert formulas.double_click_success_probability(0.5) == 0.125
    assert formulas.single_click_fidelity(0.0, 0.3) == 1.0


@pytest.mark.parametrize("p", [0.01, 0.1, 0.5, 0.9, 1.0])
def test_swap_asap_mean_slots(p: float) -> None:
    # E[max(X, Y)] = sum_{n >= 0} P(max > n) = sum_n 1 - (1 - (1 - p)^n)^2.
    q = 1.0 - p
    n = np.arange(0, 20_000)
    expected = float(np.sum(1.0 - (1.0 - q**n) ** 2))
    assert formulas.swap_asap_mean_slots(p) == pytest.approx(expected, rel=1e-9)


def test_swap_asap_monte_carlo() -> None:
    rng = np.random.default_rng(3)
    p, n = 0.2, 50_000
    samples = np.maximum(rng.geometric(p, n), rng.geometric(p, n))
    sigma = samples.std() / math.sqrt(n)
    assert abs(samples.mean() - formulas.swap_asap_mean_slots(p)) < 4.0 * sigma
