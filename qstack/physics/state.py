"""The pair-state interface shared by the fast (Bell-diagonal) and exact paths."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from qstack.physics import bell, density
from qstack.physics.bell import BellDiagonal
from qstack.physics.density import DensityMatrixPair
from qstack.physics.errors import OperationErrors, flip_pauli


class PairState(Protocol):
    """What the stack may do to a two-qubit pair without knowing its representation.

    ``side`` 0 is node "a" (qubit 0) and 1 is node "b"; Bell-diagonal states
    ignore it.  All channels act in place.
    """

    def fidelity(self, index: int = 0) -> float:
        """Overlap with Bell state ``index``."""
        ...

    def probabilities(self) -> tuple[float, float, float, float]:
        """Bell-basis diagonal."""
        ...

    def copy(self) -> PairState:
        """Independent copy."""
        ...

    def depolarize(self, lam: float, side: int) -> None:
        """Depolarise one qubit keeping fraction ``lam``."""
        ...

    def dephase(self, q: float, side: int) -> None:
        """Z on one qubit with probability ``q``."""
        ...

    def pauli(self, k: int, side: int) -> None:
        """Pauli ``k`` on one qubit."""
        ...

    def measurement_probabilities(
        self, basis_a: str, basis_b: str
    ) -> tuple[float, float, float, float]:
        """Joint outcome probabilities ordered by 2 * outcome_a + outcome_b."""
        ...

    def measure(self, basis_a: str, basis_b: str, rng: np.random.Generator) -> tuple[int, int]:
        """Sample a joint single-qubit measurement."""
        ...


def density_matrix_of(state: PairState) -> density.Matrix:
    """The state's 4x4 density matrix (qubit 0 = side a), whatever its representation."""
    if isinstance(state, DensityMatrixPair):
        return state.rho
    if isinstance(state, BellDiagonal):
        return density.from_bell_diagonal(state)
    raise TypeError(f"unsupported pair state {type(state).__name__}")


def swap_states(
    a: PairState, b: PairState, outcome: int, errors: OperationErrors | None = None
) -> PairState:
    """Swap with a given Bell outcome, staying on the fast path when both inputs allow it.

    The result is the uncorrected state of the outer qubits; a density-matrix
    input promotes the result to ``DensityMatrixPair``.  ``errors`` makes the
    Bell-state measurement noisy (``bell.swap_with_errors``); None or
    noiseless errors give exactly the ideal swap.
    """
    noisy = errors is not None and errors.noisy
    if isinstance(a, BellDiagonal) and isinstance(b, BellDiagonal):
        if noisy:
            assert errors is not None
            return bell.swap_with_errors(a, b, outcome, errors)
        return bell.swap(a, b, outcome)
    if noisy:
        assert errors is not None
        return DensityMatrixPair(
            density.swap_with_errors(density_matrix_of(a), density_matrix_of(b), outcome, errors)[1]
        )
    return DensityMatrixPair(density.swap(density_matrix_of(a), density_matrix_of(b), outcome)[1])


def _outcome_branches(
    a: PairState, b: PairState, errors: OperationErrors | None
) -> list[tuple[float, int, density.Matrix]]:
    """(probability, reported outcome, state) for every possible outcome, exact path."""
    rho_a, rho_b = density_matrix_of(a), density_matrix_of(b)
    possible: list[tuple[float, int, density.Matrix]] = []
    if errors is not None:
        for outcome, unnormalised in enumerate(
            density.swap_outcomes_with_errors(rho_a, rho_b, errors)
        ):
            probability = float(np.real(np.trace(unnormalised)))
            if probability > 0.0:
                possible.append((probability, outcome, unnormalised / probability))
        return possible
    rho4 = np.kron(rho_a, rho_b).astype(np.complex128)
    for outcome in range(4):
        try:
            probability, rho = density.bell_measure(rho4, (1, 2), outcome)
        except ValueError:  # zero-probability outcome
            continue
        possible.append((probability, outcome, rho))
    return possible


def swap_states_random(
    a: PairState, b: PairState, rng: np.random.Generator, errors: OperationErrors | None = None
) -> tuple[int, PairState]:
    """Swap with the Bell outcome sampled from its true distribution.

    Bell-diagonal inputs give uniform outcomes (also with ``errors``, see
    ``bell.swap_random_with_errors``); otherwise all four outcomes are
    computed exactly and one is drawn.  None or noiseless ``errors`` give
    exactly the ideal swap, draw for draw.
    """
    noisy = errors is not None and errors.noisy
    if isinstance(a, BellDiagonal) and isinstance(b, BellDiagonal):
        if noisy:
            assert errors is not None
            return bell.swap_random_with_errors(a, b, rng, errors)
        return bell.swap_random(a, b, rng)
    possible = _outcome_branches(a, b, errors if noisy else None)
    u = rng.random() * sum(p for p, _, _ in possible)
    for probability, outcome, rho in possible:
        u -= probability
        if u < 0.0:
            return outcome, DensityMatrixPair(rho)
    _, outcome, rho = possible[-1]  # only reached through rounding of u
    return outcome, DensityMatrixPair(rho)


def exchange_qubits(state: PairState) -> PairState:
    """The same state with its two qubits' roles exchanged (side 0 <-> 1).

    Every Bell state is symmetric under the exchange up to a sign, so a
    Bell-diagonal state is returned as it is.
    """
    if isinstance(state, DensityMatrixPair):
        rho = state.rho.reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4)
        return DensityMatrixPair(np.ascontiguousarray(rho))
    return state


def bell_diagonal_part(state: PairState) -> BellDiagonal:
    """The state after a Pauli twirl: its Bell-basis diagonal (a physical
    operation that keeps every Bell-state fidelity)."""
    if isinstance(state, BellDiagonal):
        return state
    return BellDiagonal(*state.probabilities())


def pauli_noise(state: PairState, k: int, q: float, side: int) -> None:
    """Apply Pauli ``k`` to qubit ``side`` with probability ``q`` (in place).

    Measuring a qubit in the Z (X) basis and forgetting the result is this
    channel with k = Z (X) and q = 1/2: an intercept-resend eavesdropper.
    """
    if isinstance(state, BellDiagonal):
        p = state.probabilities()
        mixed = [(1.0 - q) * p[i] + q * p[i ^ k] for i in range(4)]
        state.p0, state.p1, state.p2, state.p3 = mixed
        return
    if isinstance(state, DensityMatrixPair):
        flipped = state.copy()
        flipped.pauli(k, side)
        state.rho = (1.0 - q) * state.rho + q * flipped.rho
        return
    raise TypeError(f"unsupported pair state {type(state).__name__}")


def measurement_probabilities_with_errors(
    state: PairState, basis_a: str, basis_b: str, flip_a: float, flip_b: float
) -> tuple[float, float, float, float]:
    """Joint outcome probabilities (2 * outcome_a + outcome_b) when side a's outcome
    is flipped with probability ``flip_a`` and side b's with ``flip_b``.

    For equal bases on a Bell-diagonal state the correlation c = <sigma (x) sigma>
    becomes c (1 - 2 flip_a)(1 - 2 flip_b), so the QBER is
    (1 - c (1 - 2 flip_a)(1 - 2 flip_b)) / 2 (``formulas.qber_with_measurement_errors``).
    """
    p00, p01, p10, p11 = state.measurement_probabilities(basis_a, basis_b)
    keep_a, keep_b = 1.0 - flip_a, 1.0 - flip_b
    # Flip side b, then side a: each mixes the outcome with its complement.
    q00, q01 = keep_b * p00 + flip_b * p01, keep_b * p01 + flip_b * p00
    q10, q11 = keep_b * p10 + flip_b * p11, keep_b * p11 + flip_b * p10
    return (
        keep_a * q00 + flip_a * q10,
        keep_a * q01 + flip_a * q11,
        keep_a * q10 + flip_a * q00,
        keep_a * q11 + flip_a * q01,
    )


def measure_with_errors(
    state: PairState,
    basis_a: str,
    basis_b: str,
    rng: np.random.Generator,
    flip_a: float,
    flip_b: float,
) -> tuple[int, int]:
    """``state.measure`` whose reported outcomes are flipped with ``flip_a`` / ``flip_b``.

    Draws the true outcomes first, then one uniform per side with a nonzero
    flip probability, so zero flips draw exactly what ``measure`` draws.
    """
    a, b = state.measure(basis_a, basis_b, rng)
    if flip_a and rng.random() < flip_a:
        a ^= 1
    if flip_b and rng.random() < flip_b:
        b ^= 1
    return a, b


def apply_measurement_flip(state: PairState, basis: str, flip: float, side: int) -> None:
    """The Pauli channel that a measurement error on ``side`` in ``basis`` is equivalent to.

    Applying it (in place) and then measuring ideally gives the statistics
    of ``measurement_probabilities_with_errors``.
    """
    pauli_noise(state, flip_pauli(basis), flip, side)
