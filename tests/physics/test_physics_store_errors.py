"""A node's gate and measurement errors inside the quantum store.

Every operation a node performs through its ``QubitRegister`` carries the
node's errors: the Bell-state measurement of a swap and of teleportation,
the bilateral CNOTs and measurements of a purification round (both ends'
errors), and the measurement of a pair half. Each is checked against an
independent gate-level circuit (``_physics_helpers``) on the Bell-diagonal
fast path and the density-matrix exact path alike, and a measurement's
flips against the closed-form QBER with an exact binomial test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _physics_helpers import (
    I2,
    cnot,
    depolarize_pair_reference,
    kron,
    noisy_swap_circuit,
    twirl,
    z_outcome_weights,
)
from scipy import stats

from qstack.physics import BellDiagonal, DensityMatrixPair, density, formulas
from qstack.physics.errors import IDEAL_OPERATIONS, OperationErrors, bilateral_errors
from qstack.physics.hardware import PerfectMemory
from qstack.physics.state import PairState, density_matrix_of
from qstack.quantum.store import QuantumStore, QubitError, QubitRegister

ALPHA = 1e-3
TOL = 1e-10


def _store(
    errors: dict[str, OperationErrors], swap_success: float = 1.0
) -> tuple[QuantumStore, dict[str, QubitRegister]]:
    store = QuantumStore()
    registers = {
        name: store.register(name, 4, PerfectMemory(), e, swap_success)
        for name, e in errors.items()
    }
    return store, registers


def _pair(
    store: QuantumStore,
    regs: dict[str, QubitRegister],
    a: str,
    qa: int,
    b: str,
    qb: int,
    state: PairState,
    pair_id: int = 0,
) -> None:
    store.entangle(0, pair_id, ((regs[a], qa), (regs[b], qb)), state, 0, 0)


def _state(make_dense: bool, fidelity: float) -> PairState:
    return DensityMatrixPair.werner(fidelity) if make_dense else BellDiagonal.werner(fidelity)


@pytest.mark.parametrize("dense", [False, True], ids=["bell-diagonal", "density-matrix"])
@pytest.mark.parametrize("seed", range(6))
def test_swap_carries_the_repeaters_errors(dense: bool, seed: int) -> None:
    """The swapped pair is the gate-level circuit's state for the reported outcome."""
    errors = OperationErrors(0.07, 0.04)
    store, regs = _store({"a": IDEAL_OPERATIONS, "r": errors, "b": IDEAL_OPERATIONS})
    _pair(store, regs, "a", 0, "r", 0, _state(dense, 0.93), 0)
    _pair(store, regs, "r", 1, "b", 0, _state(dense, 0.88), 1)
    outcome = regs["r"].bell_measure(5, 0, 1, np.random.default_rng(seed))
    record = store.record("a", 0)
    assert record is not None and record is store.record("b", 0)
    expected = noisy_swap_circuit(density.werner(0.93), density.werner(0.88), outcome, 0.07, 0.04)
    np.testing.assert_allclose(density_matrix_of(record.state), expected[1], atol=TOL)


def test_ideal_errors_draw_exactly_as_before() -> None:
    """Explicit zero errors are the ideal store, draw for draw and bit for bit."""
    results = []
    for errors in (IDEAL_OPERATIONS, OperationErrors(0.0, 0.0)):
        store, regs = _store({"a": errors, "r": errors, "b": errors})
        rng = np.random.default_rng(3)
        _pair(store, regs, "a", 0, "r", 0, BellDiagonal.werner(0.9), 0)
        _pair(store, regs, "r", 1, "b", 0, BellDiagonal.werner(0.8), 1)
        outcome = regs["r"].bell_measure(0, 0, 1, rng)
        record = store.record("a", 0)
        assert record is not None
        bits = (regs["a"].measure(0, 0, "Z", rng.random), regs["b"].measure(0, 0, "Z", rng.random))
        results.append((outcome, record.state.probabilities(), bits, rng.random()))
    assert results[0] == results[1]


def _teleport_circuit(
    psi: np.ndarray, pair: density.Matrix, outcome: int, errors: OperationErrors
) -> tuple[float, density.Matrix]:
    """The noisy Bell measurement of (C, A) as the swap circuit with C on a |0> carrier."""
    carrier = np.kron(np.diag([1.0, 0.0]), np.outer(psi, psi.conj())).astype(np.complex128)
    p, rho = noisy_swap_circuit(carrier, pair, outcome, errors.gate_error, errors.measurement_error)
    return p, density.partial_trace(rho, [1], 2)


@pytest.mark.parametrize("dense", [False, True], ids=["bell-diagonal", "density-matrix"])
@pytest.mark.parametrize("seed", range(4))
def test_teleportation_carries_the_senders_errors(dense: bool, seed: int) -> None:
    errors = OperationErrors(0.1, 0.05)
    psi = np.array([0.6, 0.8j], dtype=np.complex128)
    store, regs = _store({"s": errors, "r": IDEAL_OPERATIONS})
    _pair(store, regs, "s", 0, "r", 0, _state(dense, 0.9))
    outcome = regs["s"].teleport(1, 0, psi, np.random.default_rng(seed))
    record = store.record("r", 0)
    assert record is not None and record.registers[0] is None
    _, expected = _teleport_circuit(psi, density.werner(0.9), outcome, errors)
    received = density.partial_trace(density_matrix_of(record.state), [1], 2)
    np.testing.assert_allclose(received, expected, atol=TOL)


@pytest.mark.slow
def test_teleportation_outcome_frequencies() -> None:
    """Outcomes are drawn from the noisy measurement's reported probabilities:
    chi-square goodness of fit (p > ALPHA) over 4000 teleportations of a state
    whose ideal outcome distribution is far from uniform (pure pair, biased input)."""
    errors = OperationErrors(0.2, 0.1)
    psi = np.array([math.sqrt(0.9), math.sqrt(0.1)], dtype=np.complex128)
    pair = np.outer(density.BELL_VECTORS[0], density.BELL_VECTORS[0].conj())
    rng = np.random.default_rng(11)
    counts = [0, 0, 0, 0]
    runs = 4000
    for _ in range(runs):
        store, regs = _store({"s": errors, "r": IDEAL_OPERATIONS})
        _pair(store, regs, "s", 0, "r", 0, DensityMatrixPair(pair.copy()))
        counts[regs["s"].teleport(0, 0, psi, rng)] += 1
    expected = [runs * _teleport_circuit(psi, pair, k, errors)[0] for k in range(4)]
    assert sum(expected) == pytest.approx(runs)
    assert stats.chisquare(counts, expected).pvalue > ALPHA


@pytest.mark.parametrize("basis", ["Z", "X"])
def test_measurement_flips_give_the_closed_form_qber(basis: str) -> None:
    """Each end flips its reported bit with its own p_m: on a Werner pair the error
    rate is (1 - c (1 - 2 p_a)(1 - 2 p_b)) / 2 (``formulas.qber_with_measurement_errors``);
    each pair's error is an independent Bernoulli, so the count is exactly binomial."""
    fidelity, flip_a, flip_b, pairs = 0.95, 0.03, 0.08, 20_000
    store, regs = _store({"a": OperationErrors(0.0, flip_a), "b": OperationErrors(0.0, flip_b)})
    rng = np.random.default_rng(5)
    mistakes = 0
    for k in range(pairs):
        _pair(store, regs, "a", 0, "b", 0, BellDiagonal.werner(fidelity), k)
        mistakes += regs["a"].measure(0, 0, basis, rng.random) != regs["b"].measure(
            0, 0, basis, rng.random
        )
        regs["a"].reset(0, 0)
        regs["b"].reset(0, 0)
    correlation = 1.0 - 2.0 * formulas.qber_from_werner(fidelity)
    expected = formulas.qber_with_measurement_errors(correlation, flip_a, flip_b)
    dist = stats.binom(pairs, expected)
    pvalue = min(1.0, 2.0 * min(dist.cdf(mistakes), dist.sf(mistakes - 1)))
    assert pvalue > ALPHA, (mistakes / pairs, expected)


def _bilateral_circuit(
    rho_a: density.Matrix, rho_b: density.Matrix, a: OperationErrors, b: OperationErrors
) -> tuple[float, density.Matrix]:
    """BBPSSW's bilateral CNOT round with each side's own errors (qubits: 0 = kept on
    side a, 1 = kept on side b, 2 = sacrificed on a, 3 = sacrificed on b)."""
    rho = np.kron(twirl(rho_a), twirl(rho_b))
    for (control, target), errors in (((0, 2), a), ((1, 3), b)):
        u = cnot(control, target, 4)
        rho = depolarize_pair_reference(u @ rho @ u.conj().T, control, target, errors.gate_error, 4)
    keep = sum(
        (
            kron(
                I2,
                I2,
                z_outcome_weights(a.measurement_error, r),
                z_outcome_weights(b.measurement_error, r),
            )
            for r in (0, 1)
        ),
        np.zeros((16, 16), dtype=np.complex128),
    )
    post = keep @ rho
    p = float(np.real(np.trace(post)))
    return p, twirl(density.partial_trace(post, [0, 1], 4) / p)


@pytest.mark.parametrize(
    ("end_a", "end_b"),
    [
        (OperationErrors(0.05, 0.02), OperationErrors(0.05, 0.02)),
        (OperationErrors(0.1, 0.0), OperationErrors(0.0, 0.06)),
        (OperationErrors(0.02, 0.3), OperationErrors(0.15, 0.01)),
        (IDEAL_OPERATIONS, OperationErrors(0.2, 0.1)),
    ],
)
@pytest.mark.parametrize("dense", [False, True], ids=["bell-diagonal", "density-matrix"])
def test_purification_carries_both_ends_errors(
    end_a: OperationErrors, end_b: OperationErrors, dense: bool
) -> None:
    """The store's round (one call at end a, both ends' errors through
    ``bilateral_errors``) equals the gate-level circuit with each end's own
    errors: success probability and kept state. The success draw compares one
    uniform with that probability, so u just below / above it decides."""
    from qstack.layers.network.policies import Bbpssw

    expected_p, expected_rho = _bilateral_circuit(
        density.werner(0.9), density.werner(0.85), end_a, end_b
    )
    for u, success in ((expected_p - 1e-9, True), (expected_p + 1e-9, False)):
        store, regs = _store({"a": end_a, "b": end_b})
        _pair(store, regs, "a", 0, "b", 0, _state(dense, 0.9), 0)
        _pair(store, regs, "a", 1, "b", 1, _state(dense, 0.85), 1)
        assert regs["a"].purify(0, 0, 1, Bbpssw().recurrence, lambda u=u: u) is success
        assert store.record("a", 1) is None and store.record("b", 1) is None
        if success:
            record = store.record("a", 0)
            assert record is not None and record is store.record("b", 0)
            np.testing.assert_allclose(density_matrix_of(record.state), expected_rho, atol=TOL)


def test_bilateral_errors_keep_what_the_round_depends_on() -> None:
    a, b = OperationErrors(0.1, 0.2), OperationErrors(0.3, 0.05)
    both = bilateral_errors(a, b)
    assert both.gate_keep**2 == pytest.approx(a.gate_keep * b.gate_keep, rel=1e-14)
    assert both.parity_flip == pytest.approx(
        a.measurement_error + b.measurement_error - 2 * a.measurement_error * b.measurement_error,
        rel=1e-14,
    )
    assert bilateral_errors(a, a) is a
    with pytest.raises(ValueError, match=r"measurement_error <= 0\.5"):
        bilateral_errors(OperationErrors(0.0, 0.7), b)


def test_a_scheme_without_errors_is_refused_by_name() -> None:
    def plain(kept: BellDiagonal, sacrificed: BellDiagonal) -> tuple[float, BellDiagonal]:
        return 1.0, kept

    store, regs = _store({"a": OperationErrors(0.1, 0.0), "b": IDEAL_OPERATIONS})
    _pair(store, regs, "a", 0, "b", 0, BellDiagonal.werner(0.9), 0)
    _pair(store, regs, "a", 1, "b", 1, BellDiagonal.werner(0.9), 1)
    refusal = r"plain takes no errors= argument.*of a \(OperationErrors\(gate_error=0\.1"
    with pytest.raises(QubitError, match=refusal):
        regs["a"].purify(0, 0, 1, plain, lambda: 0.5)


@pytest.mark.parametrize("dense", [False, True], ids=["bell-diagonal", "density-matrix"])
def test_a_failed_swap_leaves_each_far_half_alone(dense: bool) -> None:
    """On failure both measured qubits are gone and each far half keeps its
    reduced state (the maximally mixed state of a Werner pair's half)."""
    store, regs = _store(
        {"a": IDEAL_OPERATIONS, "r": IDEAL_OPERATIONS, "b": IDEAL_OPERATIONS}, swap_success=0.5
    )
    _pair(store, regs, "a", 0, "r", 0, _state(dense, 0.9), 0)
    _pair(store, regs, "r", 1, "b", 0, _state(dense, 0.8), 1)

    class Fails:
        def random(self) -> float:
            return 0.75  # >= 0.5: the swap fails

    assert regs["r"].try_bell_measure(1, 0, 1, Fails()) is None  # type: ignore[arg-type]
    assert store.record("r", 0) is None and store.record("r", 1) is None
    for node in ("a", "b"):
        record = store.record(node, 0)
        assert record is not None and record.registers[0] is None
        np.testing.assert_allclose(
            density.partial_trace(density_matrix_of(record.state), [1], 2), I2 / 2, atol=TOL
        )


def test_swap_success_draws_once_per_swap_and_only_below_one() -> None:
    """p = 1 draws nothing extra (bit for bit as before); p < 1 draws one uniform
    first, and succeeds exactly when it is below p."""
    for success, draws in ((1.0, 1), (0.6, 2)):
        store, regs = _store(
            {"a": IDEAL_OPERATIONS, "r": IDEAL_OPERATIONS, "b": IDEAL_OPERATIONS}, success
        )
        _pair(store, regs, "a", 0, "r", 0, BellDiagonal.werner(0.9), 0)
        _pair(store, regs, "r", 1, "b", 0, BellDiagonal.werner(0.9), 1)
        rng, twin = np.random.default_rng(2), np.random.default_rng(2)
        first = twin.random()
        outcome = regs["r"].try_bell_measure(0, 0, 1, rng)
        assert (outcome is not None) == (success == 1.0 or first < success)
        # the twin advanced by exactly the draws the swap made
        for _ in range(draws - 1):
            twin.random()
        assert rng.random() == twin.random()
    with pytest.raises(ValueError, match="swap_success_probability"):
        QuantumStore().register("x", 1, PerfectMemory(), IDEAL_OPERATIONS, 0.0)
