"""Gate and measurement errors: fast path, exact path, circuits and closed forms agree."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _physics_helpers import (
    bell_diagonals,
    density_matrices,
    noisy_swap_circuit,
    purification_circuit,
    twirl,
)
from hypothesis import assume, given
from hypothesis import strategies as st

from qstack.physics import (
    BellDiagonal,
    DensityMatrixPair,
    density,
    formulas,
    purify_bbpssw,
    purify_dejmps,
    swap,
    swap_random,
    swap_states,
    swap_states_random,
)
from qstack.physics.bell import swap_with_errors
from qstack.physics.errors import IDEAL_OPERATIONS, OperationErrors, flip_pauli
from qstack.physics.purification import purify_exact
from qstack.physics.state import (
    apply_measurement_flip,
    measure_with_errors,
    measurement_probabilities_with_errors,
)

TOL = 1e-9
BASES = ("Z", "X", "Y")
probabilities = st.floats(0.0, 1.0)
small = st.one_of(st.just(0.0), st.floats(0.0, 0.5))
outcomes = st.sampled_from(range(4))


@st.composite
def operation_errors(draw: st.DrawFn) -> OperationErrors:
    return OperationErrors(draw(small), draw(small))


def assert_same(bd: BellDiagonal, rho: density.Matrix) -> None:
    np.testing.assert_allclose(rho, density.from_bell_diagonal(bd), atol=TOL)


@given(bell_diagonals(), bell_diagonals(), outcomes, operation_errors())
def test_noisy_swap_fast_and_exact_agree(
    a: BellDiagonal, b: BellDiagonal, outcome: int, errors: OperationErrors
) -> None:
    fast = swap_with_errors(a, b, outcome, errors)
    p, rho = density.swap_with_errors(
        density.from_bell_diagonal(a), density.from_bell_diagonal(b), outcome, errors
    )
    assert abs(p - 0.25) < TOL  # Bell-diagonal inputs: every reported outcome 1/4
    assert_same(fast, rho)
    dispatched = swap_states(DensityMatrixPair.from_bell_diagonal(a), b, outcome, errors)
    assert isinstance(dispatched, DensityMatrixPair)
    assert_same(fast, dispatched.rho)


@pytest.mark.slow
@given(density_matrices(), density_matrices(), outcomes, operation_errors())
def test_noisy_swap_exact_path_against_circuit(
    rho_a: density.Matrix, rho_b: density.Matrix, outcome: int, errors: OperationErrors
) -> None:
    """Any input states (not Bell-diagonal): the exact path is the gate-level circuit."""
    p_circuit, rho_circuit = noisy_swap_circuit(
        rho_a, rho_b, outcome, errors.gate_error, errors.measurement_error
    )
    assume(p_circuit > 1e-6)
    p, rho = density.swap_with_errors(rho_a, rho_b, outcome, errors)
    assert abs(p - p_circuit) < TOL
    np.testing.assert_allclose(rho, rho_circuit, atol=1e-8)


@pytest.mark.slow
@given(bell_diagonals(), bell_diagonals(), outcomes)
def test_noiseless_errors_change_nothing(a: BellDiagonal, b: BellDiagonal, outcome: int) -> None:
    """Zero errors take the ideal code path: results equal bit for bit."""
    for errors in (None, IDEAL_OPERATIONS, OperationErrors(0.0, 0.0)):
        out = swap_states(a, b, outcome, errors)
        assert isinstance(out, BellDiagonal)
        assert out.probabilities() == swap(a, b, outcome).probabilities()
        # assert_array_equal: bit-equal, and NaN equal to NaN (degenerate inputs).
        for scheme in (purify_bbpssw, purify_dejmps):
            np.testing.assert_array_equal(
                scheme(a, b, errors)[1].probabilities(), scheme(a, b)[1].probabilities()
            )
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    m1, s1 = swap_states_random(a, b, rng1, IDEAL_OPERATIONS)
    m2, s2 = swap_random(a, b, rng2)
    assert m1 == m2 and s1.probabilities() == s2.probabilities()


@given(bell_diagonals(), bell_diagonals(), operation_errors())
def test_noisy_swap_random_draws_like_the_ideal_one(
    a: BellDiagonal, b: BellDiagonal, errors: OperationErrors
) -> None:
    """The reported outcome stays uniform, so it is drawn with the same uniform."""
    m1, state = swap_states_random(a, b, np.random.default_rng(9), errors)
    m2, _ = swap_random(a, b, np.random.default_rng(9))
    assert m1 == m2
    assert state.probabilities() == swap_with_errors(a, b, m1, errors).probabilities()


@pytest.mark.slow
def test_noisy_swap_random_exact_path_follows_outcome_distribution() -> None:
    rng = np.random.default_rng(21)
    errors = OperationErrors(0.1, 0.05)
    a = DensityMatrixPair.werner(0.9)
    a.amplitude_damp(0.6, 1)
    b = DensityMatrixPair.werner(0.8)
    b.amplitude_damp(0.6, 0)
    expected = [density.swap_with_errors(a.rho, b.rho, m, errors)[0] for m in range(4)]
    assert abs(sum(expected) - 1.0) < TOL
    assert max(expected) - min(expected) > 0.03  # genuinely non-uniform
    n = 4000
    counts = np.zeros(4)
    for _ in range(n):
        m, state = swap_states_random(a, b, rng, errors)
        counts[m] += 1
        assert isinstance(state, DensityMatrixPair)
    # 4 sigma per cell: a correct sampler fails with probability < 4 * 6.3e-5.
    for count, p in zip(counts, expected, strict=True):
        assert abs(count / n - p) <= 4.0 * np.sqrt(p * (1.0 - p) / n)


@given(probabilities, probabilities, outcomes, small, small)
def test_noisy_swap_werner_closed_form(
    f1: float, f2: float, outcome: int, p_g: float, p_m: float
) -> None:
    errors = OperationErrors(p_g, p_m)
    out = swap_with_errors(BellDiagonal.werner(f1), BellDiagonal.werner(f2), outcome, errors)
    out.pauli(outcome)  # the frame correction for the reported outcome
    expected = formulas.noisy_swap_probabilities(f1, f2, p_g, p_m)
    np.testing.assert_allclose(out.probabilities(), expected, atol=TOL)
    # Twirled Werner parameter of Dür et al. (1999): w1 w2 p (4 eta^2 - 1) / 3.
    w = formulas.werner_parameter(out.fidelity())
    w_dur = (
        formulas.werner_parameter(f1)
        * formulas.werner_parameter(f2)
        * (1.0 - p_g)
        * (4.0 * (1.0 - p_m) ** 2 - 1.0)
        / 3.0
    )
    assert abs(w - w_dur) < TOL


@given(st.lists(probabilities, min_size=1, max_size=6), small, small, st.randoms())
def test_chain_with_errors_any_swap_order(
    fs: list[float], p_g: float, p_m: float, order: object
) -> None:
    """Swap the links in a random order (merging neighbours): same closed form."""
    errors = OperationErrors(p_g, p_m)
    segments = [BellDiagonal.werner(f) for f in fs]
    while len(segments) > 1:
        i = order.randrange(len(segments) - 1)  # type: ignore[attr-defined]
        joined = swap_with_errors(segments[i], segments[i + 1], 0, errors)
        segments[i : i + 2] = [joined]
    state = segments[0]
    xx, yy, zz = formulas.chain_correlations_with_errors(fs, p_g, p_m)
    for basis, expected in (("X", xx), ("Y", yy), ("Z", zz)):
        p = state.measurement_probabilities(basis, basis)
        assert abs((p[0] + p[3] - p[1] - p[2]) - expected) < TOL
    assert abs(state.fidelity() - formulas.chain_fidelity_with_errors(fs, p_g, p_m)) < TOL
    if p_g == 0.0 and p_m == 0.0:
        assert abs(state.fidelity() - formulas.chain_fidelity(fs)) < TOL


@pytest.mark.slow
@given(bell_diagonals(), bell_diagonals(), operation_errors())
def test_noisy_dejmps_against_circuit(
    a: BellDiagonal, b: BellDiagonal, errors: OperationErrors
) -> None:
    p_fast, out = purify_dejmps(a, b, errors)
    assume(p_fast > 1e-6)
    p, rho = purification_circuit(
        density.from_bell_diagonal(a),
        density.from_bell_diagonal(b),
        rotate=True,
        gate_error=errors.gate_error,
        measurement_error=errors.measurement_error,
    )
    assert abs(p - p_fast) < TOL
    assert_same(out, rho)


@pytest.mark.slow
@given(bell_diagonals(), bell_diagonals(), operation_errors())
def test_noisy_bbpssw_against_circuit(
    a: BellDiagonal, b: BellDiagonal, errors: OperationErrors
) -> None:
    p, rho = purification_circuit(
        twirl(density.from_bell_diagonal(a)),
        twirl(density.from_bell_diagonal(b)),
        rotate=False,
        gate_error=errors.gate_error,
        measurement_error=errors.measurement_error,
    )
    p_fast, out = purify_bbpssw(a, b, errors)
    assert abs(p - p_fast) < TOL
    assert_same(out, twirl(rho))


@given(probabilities, small, small)
def test_bbpssw_with_errors_formula(f: float, p_g: float, p_m: float) -> None:
    p, f_out = formulas.bbpssw_with_errors(f, p_g, p_m)
    p_state, out = purify_bbpssw(
        BellDiagonal.werner(f), BellDiagonal.werner(f), OperationErrors(p_g, p_m)
    )
    assert abs(p - p_state) < TOL
    assert abs(f_out - out.fidelity()) < TOL
    if p_g == 0.0 and p_m == 0.0:
        assert formulas.bbpssw_with_errors(f, 0.0, 0.0) == pytest.approx(formulas.bbpssw(f))


@given(bell_diagonals(), small, small)
def test_dejmps_with_errors_formula(bd: BellDiagonal, p_g: float, p_m: float) -> None:
    p_state, out = purify_dejmps(bd, bd.copy(), OperationErrors(p_g, p_m))
    assume(p_state > 1e-6)
    p, f_out = formulas.dejmps_with_errors(bd.probabilities(), p_g, p_m)
    assert abs(p - p_state) < TOL
    assert abs(f_out - out.fidelity()) < TOL


def test_purification_errors_lower_the_gain() -> None:
    ideal = formulas.bbpssw(0.8)[1]
    assert formulas.bbpssw_with_errors(0.8, 0.02, 0.01)[1] < ideal
    # Fully depolarising gates leave nothing but the maximally mixed state.
    assert formulas.bbpssw_with_errors(0.8, 1.0, 0.0) == pytest.approx((0.5, 0.25))


@given(bell_diagonals(), st.sampled_from(BASES), st.sampled_from(BASES), small, small)
def test_measurement_errors_fast_exact_and_channel(
    bd: BellDiagonal, basis_a: str, basis_b: str, flip_a: float, flip_b: float
) -> None:
    fast = measurement_probabilities_with_errors(bd, basis_a, basis_b, flip_a, flip_b)
    pair = DensityMatrixPair.from_bell_diagonal(bd)
    exact = measurement_probabilities_with_errors(pair, basis_a, basis_b, flip_a, flip_b)
    np.testing.assert_allclose(fast, exact, atol=TOL)
    # A flipped outcome is the Pauli channel flip_pauli(basis) before an ideal measurement.
    for state in (bd.copy(), pair.copy()):
        apply_measurement_flip(state, basis_a, flip_a, 0)
        apply_measurement_flip(state, basis_b, flip_b, 1)
        np.testing.assert_allclose(
            state.measurement_probabilities(basis_a, basis_b), fast, atol=TOL
        )
    if basis_a == basis_b:
        p = bd.measurement_probabilities(basis_a, basis_a)
        c = p[0] + p[3] - p[1] - p[2]
        qber = formulas.qber_with_measurement_errors(c, flip_a, flip_b)
        assert abs(fast[1] + fast[2] - qber) < TOL


def test_measure_with_errors_draws_like_measure_without_flips() -> None:
    bd = BellDiagonal(0.7, 0.1, 0.15, 0.05)
    rng1, rng2 = np.random.default_rng(3), np.random.default_rng(3)
    for basis_a, basis_b in itertools.product(BASES, BASES):
        assert measure_with_errors(bd, basis_a, basis_b, rng1, 0.0, 0.0) == bd.measure(
            basis_a, basis_b, rng2
        )


def test_bad_error_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="gate_error"):
        OperationErrors(1.5, 0.0)
    with pytest.raises(ValueError, match="measurement_error"):
        OperationErrors(0.0, -0.1)
    with pytest.raises(ValueError, match="basis"):
        flip_pauli("W")


@pytest.mark.slow
@given(
    bell_diagonals(), bell_diagonals(), operation_errors(), st.sampled_from(["bbpssw", "dejmps"])
)
def test_purification_fast_and_exact_paths_agree(
    a: BellDiagonal, b: BellDiagonal, errors: OperationErrors, scheme: str
) -> None:
    fast_scheme = purify_bbpssw if scheme == "bbpssw" else purify_dejmps
    p_fast, fast = fast_scheme(a, b, errors)
    assume(p_fast > 1e-6)
    p, rho = purify_exact(
        density.from_bell_diagonal(a),
        density.from_bell_diagonal(b),
        "bbpssw" if scheme == "bbpssw" else "dejmps",
        errors,
    )
    assert abs(p - p_fast) < TOL
    assert_same(fast, rho)


@pytest.mark.slow
@given(density_matrices(), density_matrices(), operation_errors())
def test_exact_dejmps_against_circuit_for_any_state(
    rho_a: density.Matrix, rho_b: density.Matrix, errors: OperationErrors
) -> None:
    p_circuit, rho_circuit = purification_circuit(
        rho_a, rho_b, True, errors.gate_error, errors.measurement_error
    )
    assume(p_circuit > 1e-6)
    p, rho = purify_exact(rho_a, rho_b, "dejmps", errors)
    assert abs(p - p_circuit) < TOL
    np.testing.assert_allclose(rho, rho_circuit, atol=1e-8)


def test_purify_exact_rejects_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="scheme"):
        purify_exact(density.werner(0.9), density.werner(0.9), "nope")  # type: ignore[arg-type]
