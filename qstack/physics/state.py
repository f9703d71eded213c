"""The pair-state interface shared by the fast (Bell-diagonal) and exact paths."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from qstack.physics import bell, density
from qstack.physics.bell import BellDiagonal
from qstack.physics.density import DensityMatrixPair


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


def _as_matrix(state: PairState) -> density.Matrix:
    if isinstance(state, DensityMatrixPair):
        return state.rho
    if isinstance(state, BellDiagonal):
        return density.from_bell_diagonal(state)
    raise TypeError(f"unsupported pair state {type(state).__name__}")


def swap_states(a: PairState, b: PairState, outcome: int) -> PairState:
    """Swap with a given Bell outcome, staying on the fast path when both inputs allow it.

    The result is the uncorrected state of the outer qubits; a density-matrix
    input promotes the result to ``DensityMatrixPair``.
    """
    if isinstance(a, BellDiagonal) and isinstance(b, BellDiagonal):
        return bell.swap(a, b, outcome)
    return DensityMatrixPair(density.swap(_as_matrix(a), _as_matrix(b), outcome)[1])


def swap_states_random(
    a: PairState, b: PairState, rng: np.random.Generator
) -> tuple[int, PairState]:
    """Swap with the Bell outcome sampled from its true distribution.

    Bell-diagonal inputs give uniform outcomes; otherwise all four outcomes
    are computed exactly and one is drawn.
    """
    if isinstance(a, BellDiagonal) and isinstance(b, BellDiagonal):
        return bell.swap_random(a, b, rng)
    rho4 = np.kron(_as_matrix(a), _as_matrix(b)).astype(np.complex128)
    possible: list[tuple[float, int, density.Matrix]] = []
    for outcome in range(4):
        try:
            probability, rho = density.bell_measure(rho4, (1, 2), outcome)
        except ValueError:  # zero-probability outcome
            continue
        possible.append((probability, outcome, rho))
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
