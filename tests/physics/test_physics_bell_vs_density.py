"""The fast Bell-diagonal path and the exact density-matrix path must agree."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from _physics_helpers import bell_diagonals, purification_circuit, twirl
from hypothesis import assume, given
from hypothesis import strategies as st

from qstack.physics import (
    BellDiagonal,
    DensityMatrixPair,
    density,
    purify_bbpssw,
    purify_dejmps,
    swap,
    swap_random,
    swap_states,
    swap_states_random,
)

TOL = 1e-9
BASES = ("Z", "X", "Y")
sides = st.sampled_from((0, 1))
unit = st.floats(0.0, 1.0)


def assert_same(bd: BellDiagonal, rho: density.Matrix) -> None:
    """The density matrix is exactly the Bell-diagonal state (off-diagonals included)."""
    np.testing.assert_allclose(rho, density.from_bell_diagonal(bd), atol=TOL)


@given(bell_diagonals())
def test_construction_round_trip(bd: BellDiagonal) -> None:
    rho = density.from_bell_diagonal(bd)
    np.testing.assert_allclose(density.bell_diagonal_of(rho), bd.probabilities(), atol=TOL)
    assert abs(np.trace(rho) - 1.0) < TOL
    assert np.all(np.linalg.eigvalsh(rho) > -TOL)
    pair = DensityMatrixPair(rho)
    for k in range(4):
        assert abs(pair.fidelity(k) - bd.fidelity(k)) < TOL


@given(unit, st.sampled_from(range(4)))
def test_werner_constructions_agree(fidelity: float, index: int) -> None:
    bd = BellDiagonal.werner(fidelity, index)
    assert_same(bd, density.werner(fidelity, index))
    assert_same(bd, DensityMatrixPair.werner(fidelity, index).rho)
    assert abs(bd.fidelity(index) - fidelity) < TOL


def test_bell_states_match_convention() -> None:
    s = 1.0 / math.sqrt(2.0)
    expected = {
        0: [s, 0, 0, s],  # Phi+
        1: [0, s, s, 0],  # Psi+
        2: [s, 0, 0, -s],  # Phi-
        3: [0, s, -s, 0],  # Psi-
    }
    for k, vec in expected.items():
        v = np.array(vec, dtype=np.complex128)
        np.testing.assert_allclose(density.bell_state(k), np.outer(v, v), atol=TOL)
        assert BellDiagonal.pure(k).fidelity(k) == 1.0


@given(bell_diagonals(), unit, sides)
def test_depolarize(bd: BellDiagonal, lam: float, side: int) -> None:
    pair = DensityMatrixPair.from_bell_diagonal(bd)
    bd.depolarize(lam, side)
    pair.depolarize(lam, side)
    assert_same(bd, pair.rho)


@given(bell_diagonals(), unit, sides)
def test_dephase(bd: BellDiagonal, q: float, side: int) -> None:
    pair = DensityMatrixPair.from_bell_diagonal(bd)
    bd.dephase(q, side)
    pair.dephase(q, side)
    assert_same(bd, pair.rho)


@given(bell_diagonals(), st.sampled_from(range(4)), sides)
def test_pauli(bd: BellDiagonal, k: int, side: int) -> None:
    before = bd.probabilities()
    pair = DensityMatrixPair.from_bell_diagonal(bd)
    bd.pauli(k, side)
    pair.pauli(k, side)
    assert_same(bd, pair.rho)
    assert bd.probabilities() == tuple(before[i ^ k] for i in range(4))


@given(bell_diagonals(), bell_diagonals(), st.sampled_from(range(4)))
def test_swap(a: BellDiagonal, b: BellDiagonal, outcome: int) -> None:
    probability, rho = density.swap(
        density.from_bell_diagonal(a), density.from_bell_diagonal(b), outcome
    )
    assert abs(probability - 0.25) < TOL
    assert_same(swap(a, b, outcome), rho)


@given(bell_diagonals(), bell_diagonals())
def test_swap_pure_bell_states_xor(a: BellDiagonal, b: BellDiagonal) -> None:
    for i, j, m in itertools.product(range(4), repeat=3):
        assert swap(BellDiagonal.pure(i), BellDiagonal.pure(j), m).fidelity(i ^ j ^ m) == 1.0


@given(bell_diagonals(), bell_diagonals(), st.sampled_from(range(4)))
def test_swap_states_dispatch(a: BellDiagonal, b: BellDiagonal, outcome: int) -> None:
    fast = swap_states(a, b, outcome)
    assert isinstance(fast, BellDiagonal)
    exact = swap_states(DensityMatrixPair.from_bell_diagonal(a), b, outcome)
    assert isinstance(exact, DensityMatrixPair)
    assert_same(fast, exact.rho)


@given(bell_diagonals(), st.sampled_from(BASES), st.sampled_from(BASES))
def test_measurement_probabilities(bd: BellDiagonal, basis_a: str, basis_b: str) -> None:
    fast = bd.measurement_probabilities(basis_a, basis_b)
    exact = DensityMatrixPair.from_bell_diagonal(bd).measurement_probabilities(basis_a, basis_b)
    np.testing.assert_allclose(fast, exact, atol=TOL)
    assert abs(sum(fast) - 1.0) < TOL


def test_bell_state_correlations() -> None:
    # <ZZ>, <XX>, <YY> of Phi+, Psi+, Phi-, Psi-.
    expected = {"Z": (1, -1, 1, -1), "X": (1, 1, -1, -1), "Y": (-1, 1, 1, -1)}
    for basis, signs in expected.items():
        for k in range(4):
            p = BellDiagonal.pure(k).measurement_probabilities(basis, basis)
            assert p[0] + p[3] - p[1] - p[2] == pytest.approx(signs[k])


SAMPLES = 20_000


def assert_sampled(
    sample: list[tuple[int, int]], expected: tuple[float, float, float, float]
) -> None:
    counts = np.bincount([2 * a + b for a, b in sample], minlength=4)
    for count, p in zip(counts, expected, strict=True):
        sigma = math.sqrt(max(p * (1.0 - p), 1e-12) / SAMPLES)
        assert abs(count / SAMPLES - p) <= 4.0 * sigma + 1e-12


@pytest.mark.slow
@pytest.mark.parametrize(("basis_a", "basis_b"), list(itertools.product(BASES, BASES)))
def test_measure_sampling(basis_a: str, basis_b: str) -> None:
    rng = np.random.default_rng(1234)
    bd = BellDiagonal(0.7, 0.05, 0.15, 0.1)
    pair = DensityMatrixPair.from_bell_diagonal(bd)
    # Exact path on a non-Bell-diagonal state as well.
    damped = pair.copy()
    damped.amplitude_damp(0.3, 0)
    for state in (bd, pair, damped):
        expected = state.measurement_probabilities(basis_a, basis_b)
        assert_sampled([state.measure(basis_a, basis_b, rng) for _ in range(SAMPLES)], expected)


def test_swap_random_outcomes_uniform() -> None:
    rng = np.random.default_rng(7)
    a, b = BellDiagonal(0.7, 0.05, 0.15, 0.1), BellDiagonal.werner(0.8)
    outcomes = []
    for _ in range(SAMPLES):
        m, state = swap_random(a, b, rng)
        outcomes.append(m)
        assert state.probabilities() == swap(a, b, m).probabilities()
    counts = np.bincount(outcomes, minlength=4) / SAMPLES
    assert np.all(np.abs(counts - 0.25) <= 4.0 * math.sqrt(0.25 * 0.75 / SAMPLES))


def test_swap_states_random_follows_exact_distribution() -> None:
    rng = np.random.default_rng(11)
    a = DensityMatrixPair.werner(0.9)
    a.amplitude_damp(0.6, 1)
    b = DensityMatrixPair.werner(0.8)
    b.amplitude_damp(0.6, 0)
    expected = [density.swap(a.rho, b.rho, m)[0] for m in range(4)]
    assert max(expected) - min(expected) > 0.05  # genuinely non-uniform
    n = 4000
    counts = np.zeros(4)
    for _ in range(n):
        m, state = swap_states_random(a, b, rng)
        counts[m] += 1
        assert isinstance(state, DensityMatrixPair)
    for count, p in zip(counts, expected, strict=True):
        assert abs(count / n - p) <= 4.0 * math.sqrt(p * (1.0 - p) / n)


@pytest.mark.slow
@given(bell_diagonals(), bell_diagonals())
def test_bbpssw_against_circuit(a: BellDiagonal, b: BellDiagonal) -> None:
    rho_a = twirl(density.from_bell_diagonal(a))
    rho_b = twirl(density.from_bell_diagonal(b))
    p, rho = purification_circuit(rho_a, rho_b, rotate=False)
    p_fast, out = purify_bbpssw(a, b)
    assert abs(p - p_fast) < TOL
    assert_same(out, twirl(rho))


@pytest.mark.slow
@given(bell_diagonals(), bell_diagonals())
def test_dejmps_against_circuit(a: BellDiagonal, b: BellDiagonal) -> None:
    assume(purify_dejmps(a, b)[0] > 1e-6)
    p, rho = purification_circuit(
        density.from_bell_diagonal(a), density.from_bell_diagonal(b), rotate=True
    )
    p_fast, out = purify_dejmps(a, b)
    assert abs(p - p_fast) < TOL
    assert_same(out, rho)


def test_twirl_reference_gives_werner() -> None:
    rho = density.from_bell_diagonal(BellDiagonal(0.6, 0.3, 0.1, 0.0))
    np.testing.assert_allclose(twirl(rho), density.werner(0.6), atol=TOL)


def test_copy_is_independent() -> None:
    bd = BellDiagonal.werner(0.9)
    pair = DensityMatrixPair.werner(0.9)
    bd_copy, pair_copy = bd.copy(), pair.copy()
    bd_copy.depolarize(0.5)
    pair_copy.depolarize(0.5, 0)
    assert bd.fidelity() == pytest.approx(0.9)
    assert pair.fidelity() == pytest.approx(0.9)


def test_dejmps_impossible_success() -> None:
    p, out = purify_dejmps(BellDiagonal.pure(3), BellDiagonal.pure(2))
    assert p == 0.0
    assert out.probabilities() == (0.25, 0.25, 0.25, 0.25)
