"""n-qubit toolkit and GHZ fusion: full-matrix references, closed forms, both paths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _physics_helpers import (
    HADAMARD,
    bell_diagonals,
    cnot,
    density_matrices,
    depolarize_pair_reference,
    ghz_fusion_reference,
    pauli_on,
    z_outcome_weights,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from qstack.physics import BellDiagonal, DensityMatrixPair, app_formulas, density, formulas
from qstack.physics import multiqubit as mq
from qstack.physics.errors import OperationErrors
from qstack.physics.ghz import MAX_PAIRS, fuse_ghz, fuse_ghz_average

TOL = 1e-9
small = st.one_of(st.just(0.0), st.floats(0.0, 0.3))


@settings(max_examples=40)
@given(density_matrices(3), st.permutations([0, 1, 2]))
def test_apply_unitary_against_full_matrix(rho: density.Matrix, order: list[int]) -> None:
    control, target, _ = order
    u = cnot(control, target, 3)
    np.testing.assert_allclose(
        mq.apply_unitary(rho, mq.CNOT, [control, target]), u @ rho @ u.conj().T, atol=TOL
    )
    h = pauli_on({target: HADAMARD}, 3)
    np.testing.assert_allclose(
        mq.apply_unitary(rho, mq.HADAMARD, [target]), h @ rho @ h.conj().T, atol=TOL
    )


@settings(max_examples=40)
@given(density_matrices(3), st.permutations([0, 1, 2]), st.floats(0.0, 1.0))
def test_depolarize_against_pauli_average(rho: density.Matrix, order: list[int], p: float) -> None:
    q1, q2, _ = order
    np.testing.assert_allclose(
        mq.depolarize(rho, [q1, q2], p), depolarize_pair_reference(rho, q1, q2, p, 3), atol=TOL
    )


@settings(max_examples=40)
@given(density_matrices(3), st.sampled_from([0, 1, 2]), st.floats(0.0, 0.5), st.booleans())
def test_measure_against_povm(rho: density.Matrix, qubit: int, flip: float, x_basis: bool) -> None:
    basis = "X" if x_basis else "Z"
    branches = mq.measure(rho, qubit, basis, flip)
    rotated = rho
    if x_basis:
        h = pauli_on({qubit: HADAMARD}, 3)
        rotated = h @ rho @ h.conj().T
    rest = [q for q in range(3) if q != qubit]
    for reported, branch in enumerate(branches):
        povm = pauli_on({qubit: z_outcome_weights(flip, reported)}, 3)
        np.testing.assert_allclose(branch, density.partial_trace(povm @ rotated, rest, 3), atol=TOL)
    assert abs(sum(mq.probability_of(b) for b in branches) - 1.0) < TOL


def test_toolkit_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="rho must be"):
        mq.qubit_count(np.eye(3, dtype=np.complex128))
    with pytest.raises(ValueError, match="basis"):
        mq.measure(mq.ghz_state(2), 0, "Y")
    with pytest.raises(ValueError, match="n must be"):
        mq.ghz_vector(0)


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(
    st.lists(density_matrices(2), min_size=2, max_size=3),
    st.booleans(),
    small,
    small,
    st.integers(0, 2**32 - 1),
)
def test_fusion_against_full_circuit(
    pairs: list[density.Matrix], member: bool, p_g: float, p_m: float, seed: int
) -> None:
    """Any pair states: the sequential exact path is the all-at-once circuit,
    branch by branch (sampled run) and on average."""
    errors = OperationErrors(p_g, p_m)
    reference = ghz_fusion_reference(pairs, member, p_g, p_m)
    average = sum((p * rho for p, rho in reference.values()), np.zeros_like(pairs[0][:1, :1]))
    np.testing.assert_allclose(
        fuse_ghz_average(pairs, centre_is_member=member, errors=errors), average, atol=1e-8
    )
    run = fuse_ghz(pairs, np.random.default_rng(seed), centre_is_member=member, errors=errors)
    key = run.z_outcomes + (() if run.x_outcome is None else (run.x_outcome,))
    p, rho = reference[key]
    assert abs(run.probability - p) < TOL
    np.testing.assert_allclose(run.state, rho, atol=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize("member", [True, False])
@pytest.mark.parametrize("m", [2, 3, 4, 5, 6])
def test_perfect_links_give_ghz(m: int, member: bool) -> None:
    pairs = [BellDiagonal.pure(0)] * m
    n = m + 1 if member else m
    average = fuse_ghz_average(pairs, centre_is_member=member)
    assert mq.qubit_count(average) == n
    assert abs(mq.ghz_fidelity(average) - 1.0) < TOL
    rng = np.random.default_rng(m)
    for _ in range(5):  # every branch, once corrected, is the GHZ state itself
        run = fuse_ghz(pairs, rng, centre_is_member=member)
        assert abs(mq.ghz_fidelity(run.state) - 1.0) < TOL
    fidelities = [1.0] * m
    assert abs(app_formulas.ghz_fusion_fidelity_werner(fidelities, member) - 1.0) < TOL
    links = [(1.0, 0.0, 0.0, 0.0)] * m
    assert abs(app_formulas.ghz_fusion_fidelity(links, member) - 1.0) < TOL


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=5), st.booleans())
def test_werner_links_closed_form(fidelities: list[float], member: bool) -> None:
    expected = app_formulas.ghz_fusion_fidelity_werner(fidelities, member)
    pairs = [BellDiagonal.werner(f) for f in fidelities]
    assert abs(mq.ghz_fidelity(fuse_ghz_average(pairs, centre_is_member=member)) - expected) < TOL
    links = [pair.probabilities() for pair in pairs]
    assert abs(app_formulas.ghz_fusion_fidelity(links, member) - expected) < TOL


@settings(max_examples=30, deadline=None)
@given(st.lists(bell_diagonals(), min_size=2, max_size=4), st.booleans(), small, small)
def test_noisy_fusion_closed_form(
    links: list[BellDiagonal], member: bool, p_g: float, p_m: float
) -> None:
    """Bell-diagonal links and both error kinds: Pauli-frame sum = density-matrix path."""
    state = fuse_ghz_average(links, centre_is_member=member, errors=OperationErrors(p_g, p_m))
    expected = app_formulas.ghz_fusion_fidelity(
        [s.probabilities() for s in links], member, p_g, p_m
    )
    assert abs(mq.ghz_fidelity(state) - expected) < TOL


def test_closed_form_special_cases() -> None:
    # One link with the centre as member: the Werner fidelity itself.
    assert app_formulas.ghz_fusion_fidelity_werner([0.8], True) == pytest.approx(0.8)
    # Two links, centre not a member: entanglement swapping.
    assert app_formulas.ghz_fusion_fidelity_werner([0.9, 0.8], False) == pytest.approx(
        formulas.swap_werner_fidelity(0.9, 0.8)
    )
    # Maximally mixed links: the maximally mixed n-qubit state, fidelity 2^-n.
    assert app_formulas.ghz_fusion_fidelity_werner([0.25] * 3, True) == pytest.approx(2.0**-4)
    assert app_formulas.ghz_fusion_fidelity_werner([0.25] * 3, False) == pytest.approx(2.0**-3)
    with pytest.raises(ValueError, match="fidelities"):
        app_formulas.ghz_fusion_fidelity_werner([], True)


def test_fusion_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="pairs must hold"):
        fuse_ghz_average([BellDiagonal.pure(0)])
    with pytest.raises(ValueError, match="pairs must hold"):
        fuse_ghz_average([BellDiagonal.pure(0)] * (MAX_PAIRS + 1))
    with pytest.raises(ValueError, match=r"pairs\[1\]"):
        fuse_ghz_average([BellDiagonal.pure(0), np.eye(2, dtype=np.complex128) / 2])


@pytest.mark.slow
def test_sampled_runs_average_to_the_exact_state() -> None:
    """Mean GHZ fidelity of sampled runs vs the averaged state's: the per-run
    fidelity lies in [0, 1]; over 2,000 runs the mean is within
    z_(1 - 1e-3/2) = 3.29 sample standard errors of the truth."""
    pairs = [DensityMatrixPair.werner(0.9), DensityMatrixPair.werner(0.8)]
    for pair in pairs:  # damping at the centre: outcome-dependent branches
        pair.amplitude_damp(0.5, 0)
    errors = OperationErrors(0.05, 0.02)
    exact = mq.ghz_fidelity(fuse_ghz_average(pairs, errors=errors))
    rng = np.random.default_rng(8)
    samples = np.array(
        [mq.ghz_fidelity(fuse_ghz(pairs, rng, errors=errors).state) for _ in range(2000)]
    )
    assert samples.std() > 0.01  # the branches genuinely differ
    assert abs(samples.mean() - exact) < 3.29 * samples.std(ddof=1) / math.sqrt(samples.size)
