"""CHSH statistics and the remote CNOT: fast and exact paths, circuits, closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _physics_helpers import bell_diagonals, cnot, density_matrices
from hypothesis import given, settings
from hypothesis import strategies as st

from qstack.physics import BellDiagonal, DensityMatrixPair, app_formulas, density
from qstack.physics import multiqubit as mq
from qstack.physics.chsh import (
    ChshShot,
    ChshTally,
    chsh_of_state,
    correlation,
    xz_measurement_probabilities,
)
from qstack.physics.errors import OperationErrors
from qstack.physics.remote_gate import (
    entanglement_fidelity,
    remote_cnot,
    remote_cnot_average,
    superoperator,
)

TOL = 1e-9
angles = st.floats(-math.pi, math.pi)
small = st.one_of(st.just(0.0), st.floats(0.0, 0.3))
CNOT_CT = cnot(0, 1, 2)


@given(bell_diagonals(), angles, angles)
def test_xz_probabilities_fast_and_exact(bd: BellDiagonal, theta_a: float, theta_b: float) -> None:
    fast = xz_measurement_probabilities(bd, theta_a, theta_b)
    exact = xz_measurement_probabilities(DensityMatrixPair.from_bell_diagonal(bd), theta_a, theta_b)
    np.testing.assert_allclose(fast, exact, atol=TOL)
    assert abs(sum(fast) - 1.0) < TOL


@given(density_matrices(), angles, angles)
def test_xz_probabilities_are_the_projectors(rho: density.Matrix, ta: float, tb: float) -> None:
    """Against <v_a v_b| rho |v_a v_b> with v = eigenvectors of cos t Z + sin t X."""

    def eigenvectors(theta: float) -> list[np.ndarray]:
        c, s = math.cos(theta / 2.0), math.sin(theta / 2.0)
        return [np.array([c, s], dtype=np.complex128), np.array([-s, c], dtype=np.complex128)]

    expected = [
        float(np.real(np.kron(va, vb).conj() @ rho @ np.kron(va, vb)))
        for va in eigenvectors(ta)
        for vb in eigenvectors(tb)
    ]
    np.testing.assert_allclose(
        xz_measurement_probabilities(DensityMatrixPair(rho), ta, tb), expected, atol=TOL
    )


@given(bell_diagonals())
def test_chsh_closed_form(bd: BellDiagonal) -> None:
    expected = app_formulas.chsh_value(bd.probabilities())
    assert abs(chsh_of_state(bd) - expected) < TOL
    assert abs(chsh_of_state(DensityMatrixPair.from_bell_diagonal(bd)) - expected) < TOL


@given(st.floats(0.0, 1.0))
def test_chsh_werner(fidelity: float) -> None:
    w = (4.0 * fidelity - 1.0) / 3.0
    assert abs(chsh_of_state(BellDiagonal.werner(fidelity)) - 2.0 * math.sqrt(2.0) * w) < TOL
    assert abs(app_formulas.chsh_werner(fidelity) - 2.0 * math.sqrt(2.0) * w) < TOL


def test_chsh_limits() -> None:
    assert chsh_of_state(BellDiagonal.pure(0)) == pytest.approx(2.0 * math.sqrt(2.0))
    # Werner pairs violate the classical bound 2 only for w > 1/sqrt 2.
    assert app_formulas.chsh_werner((1.0 + 3.0 / math.sqrt(2.0)) / 4.0) == pytest.approx(2.0)
    assert correlation(BellDiagonal.pure(0), 0.3, 0.3) == pytest.approx(1.0)


def test_tally_needs_every_setting() -> None:
    tally = ChshTally()
    for x, y in ((0, 0), (0, 1), (1, 0)):
        tally.add(ChshShot(x, y, 0, 0))
    with pytest.raises(ValueError, match=r"x=1, y=1"):
        tally.estimate()
    tally.add(ChshShot(1, 1, 0, 1))
    estimate = tally.estimate()
    assert estimate.s == 4.0  # 1 + 1 + 1 - (-1)
    assert estimate.stderr == 0.0
    assert estimate.shots == ((1, 1), (1, 1))


@settings(max_examples=25, deadline=None)
@given(density_matrices(), st.integers(0, 2**32 - 1))
def test_perfect_pair_gives_the_cnot(data: density.Matrix, seed: int) -> None:
    phi_plus = BellDiagonal.pure(0)
    expected = CNOT_CT @ data @ CNOT_CT.conj().T
    np.testing.assert_allclose(remote_cnot_average(data, phi_plus), expected, atol=TOL)
    run = remote_cnot(data, phi_plus, np.random.default_rng(seed))
    np.testing.assert_allclose(run.state, expected, atol=TOL)  # every branch, once corrected
    assert run.m1 in (0, 1) and run.m2 in (0, 1)


@settings(max_examples=25, deadline=None)
@given(bell_diagonals(), small, small)
def test_entanglement_fidelity_closed_form(bd: BellDiagonal, p_g: float, p_m: float) -> None:
    errors = OperationErrors(p_g, p_m)
    exact = entanglement_fidelity(superoperator(bd, errors), CNOT_CT)
    expected = app_formulas.remote_cnot_entanglement_fidelity(bd.probabilities(), p_g, p_m)
    assert abs(exact - expected) < TOL
    pair = DensityMatrixPair.from_bell_diagonal(bd)
    assert abs(entanglement_fidelity(superoperator(pair, errors), CNOT_CT) - expected) < TOL


@settings(max_examples=15, deadline=None)
@given(density_matrices(), density_matrices(), small, small)
def test_any_pair_gives_a_channel(
    pair: density.Matrix, data: density.Matrix, p_g: float, p_m: float
) -> None:
    """Non-Bell-diagonal pairs: the exact path is trace preserving and positive."""
    out = remote_cnot_average(data, DensityMatrixPair(pair), OperationErrors(p_g, p_m))
    assert abs(np.trace(out) - 1.0) < TOL
    assert np.linalg.eigvalsh(out).min() > -TOL
    assert mq.qubit_count(out) == 2


def test_werner_average_gate_fidelity() -> None:
    for fidelity in (1.0, 0.9, 0.25):
        w = (4.0 * fidelity - 1.0) / 3.0
        f_e = app_formulas.remote_cnot_entanglement_fidelity(
            BellDiagonal.werner(fidelity).probabilities()
        )
        assert f_e == pytest.approx(fidelity)
        assert app_formulas.average_gate_fidelity(f_e) == pytest.approx((2.0 + 3.0 * w) / 5.0)
        assert app_formulas.remote_cnot_average_gate_fidelity_werner(fidelity) == pytest.approx(
            (2.0 + 3.0 * w) / 5.0
        )
    # Fully depolarising gates: the completely depolarising channel, F_e = 1/16.
    assert app_formulas.remote_cnot_entanglement_fidelity((1.0, 0.0, 0.0, 0.0), 1.0) == 1 / 16


def test_bad_data_shape() -> None:
    with pytest.raises(ValueError, match="data must be"):
        remote_cnot_average(np.eye(2, dtype=np.complex128) / 2, BellDiagonal.pure(0))
