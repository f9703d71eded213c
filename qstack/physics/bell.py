"""Bell-diagonal two-qubit states: the fast path for per-pair bookkeeping.

Conventions: |beta_k> = (I (x) X^x Z^z)|Phi+> with k = x + 2 z, so index
0 = Phi+, 1 = Psi+, 2 = Phi-, 3 = Psi-.  Pauli index k uses the same
encoding (0 = I, 1 = X, 2 = Z, 3 = Y ~ XZ) and, applied to either qubit,
maps the weight of beta_i to beta_(i ^ k).  Qubit 0 is side "a".

The methods do no validation: they run once per pair per event.  Use the
classmethods (which validate) to build states from user input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qstack.physics._validate import check_distribution, check_index, check_probability
from qstack.physics.errors import OperationErrors

BELL_NAMES = ("PHI_PLUS", "PSI_PLUS", "PHI_MINUS", "PSI_MINUS")

# Correlation <sigma (x) sigma> of beta_k for each measurement basis.  ZZ is -1
# exactly when the X bit is set, XX when the Z bit is set, and YY = -XX * ZZ
# because Y = i X Z and (i)^2 = -1 comes out of the two tensor factors.
CORRELATION_SIGNS: dict[str, tuple[float, float, float, float]] = {
    "Z": (1.0, -1.0, 1.0, -1.0),
    "X": (1.0, 1.0, -1.0, -1.0),
    "Y": (-1.0, 1.0, 1.0, -1.0),
}


class BellDiagonal:
    """Mixture sum_k p_k |beta_k><beta_k|, stored as four slotted floats.

    Every operation of the stack that is covariant under local Paulis maps
    Bell-diagonal states to Bell-diagonal states, so four numbers suffice.
    The ``side`` arguments exist only so this class and
    ``DensityMatrixPair`` are interchangeable; for Bell-diagonal states the
    result does not depend on the side.
    """

    __slots__ = ("p0", "p1", "p2", "p3")

    def __init__(self, p0: float, p1: float, p2: float, p3: float) -> None:
        self.p0 = p0
        self.p1 = p1
        self.p2 = p2
        self.p3 = p3

    # -- constructors (validating) -------------------------------------------------

    @classmethod
    def werner(cls, fidelity: float, index: int = 0) -> BellDiagonal:
        """Werner state: weight ``fidelity`` on beta_index, the rest spread evenly."""
        check_probability("fidelity", fidelity)
        check_index("index", index)
        rest = (1.0 - fidelity) / 3.0
        p = [rest, rest, rest, rest]
        p[index] = float(fidelity)
        return cls(p[0], p[1], p[2], p[3])

    @classmethod
    def pure(cls, index: int) -> BellDiagonal:
        """The Bell state beta_index."""
        return cls.werner(1.0, index)

    @classmethod
    def twirled_from(cls, probabilities: Sequence[float]) -> BellDiagonal:
        """State left by a Pauli twirl of any state with these Bell-basis weights.

        The twirl keeps the Bell-basis diagonal and removes everything else, so
        the weights are all that is needed.
        """
        p = check_distribution("probabilities", probabilities)
        return cls(p[0], p[1], p[2], p[3])

    # -- queries -------------------------------------------------------------------

    def fidelity(self, index: int = 0) -> float:
        """Overlap with beta_index."""
        return (self.p0, self.p1, self.p2, self.p3)[index]

    def probabilities(self) -> tuple[float, float, float, float]:
        """Bell-basis weights (p_Phi+, p_Psi+, p_Phi-, p_Psi-)."""
        return (self.p0, self.p1, self.p2, self.p3)

    def copy(self) -> BellDiagonal:
        """Independent copy; operations mutate in place."""
        return BellDiagonal(self.p0, self.p1, self.p2, self.p3)

    def measurement_probabilities(
        self, basis_a: str, basis_b: str
    ) -> tuple[float, float, float, float]:
        """Joint outcome probabilities, ordered by 2 * outcome_a + outcome_b.

        Bell-diagonal states have maximally mixed marginals and a diagonal
        correlation matrix, so different bases give uniform outcomes and equal
        bases give P(equal) = (1 + c) / 2 with c = sum_k sign_k p_k.
        """
        signs = CORRELATION_SIGNS[basis_a]
        if basis_a != basis_b:
            if basis_b not in CORRELATION_SIGNS:
                raise KeyError(basis_b)
            return (0.25, 0.25, 0.25, 0.25)
        c = signs[0] * self.p0 + signs[1] * self.p1 + signs[2] * self.p2 + signs[3] * self.p3
        same = 0.25 * (1.0 + c)
        differ = 0.25 * (1.0 - c)
        return (same, differ, differ, same)

    def measure(self, basis_a: str, basis_b: str, rng: np.random.Generator) -> tuple[int, int]:
        """Sample a joint outcome (bit 0 = eigenvalue +1); the state is not updated.

        Outcome a is uniform; b equals a with probability (1 + c) / 2 when the
        bases agree and is independent uniform otherwise.
        """
        signs = CORRELATION_SIGNS[basis_a]
        a = 1 if rng.random() < 0.5 else 0
        if basis_a != basis_b:
            if basis_b not in CORRELATION_SIGNS:
                raise KeyError(basis_b)
            return a, 1 if rng.random() < 0.5 else 0
        c = signs[0] * self.p0 + signs[1] * self.p1 + signs[2] * self.p2 + signs[3] * self.p3
        if rng.random() < 0.5 * (1.0 + c):
            return a, a
        return a, 1 - a

    # -- in-place channels ---------------------------------------------------------

    def depolarize(self, lam: float, side: int = 0) -> None:
        """Depolarise one qubit keeping fraction ``lam``: p_i -> lam p_i + (1 - lam)/4."""
        mix = 0.25 * (1.0 - lam)
        self.p0 = lam * self.p0 + mix
        self.p1 = lam * self.p1 + mix
        self.p2 = lam * self.p2 + mix
        self.p3 = lam * self.p3 + mix

    def dephase(self, q: float, side: int = 0) -> None:
        """Apply Z to one qubit with probability ``q`` (mixes i with i ^ 2)."""
        keep = 1.0 - q
        p0, p1, p2, p3 = self.p0, self.p1, self.p2, self.p3
        self.p0 = keep * p0 + q * p2
        self.p1 = keep * p1 + q * p3
        self.p2 = keep * p2 + q * p0
        self.p3 = keep * p3 + q * p1

    def pauli(self, k: int, side: int = 0) -> None:
        """Apply Pauli k to one qubit: weight of beta_i moves to beta_(i ^ k)."""
        if k == 1:
            self.p0, self.p1, self.p2, self.p3 = self.p1, self.p0, self.p3, self.p2
        elif k == 2:
            self.p0, self.p1, self.p2, self.p3 = self.p2, self.p3, self.p0, self.p1
        elif k == 3:
            self.p0, self.p1, self.p2, self.p3 = self.p3, self.p2, self.p1, self.p0

    def __repr__(self) -> str:
        return f"BellDiagonal({self.p0!r}, {self.p1!r}, {self.p2!r}, {self.p3!r})"


def swap(a: BellDiagonal, b: BellDiagonal, outcome: int) -> BellDiagonal:
    """Entanglement swap of pairs (a1, a2) and (b1, b2), Bell measurement on (a2, b1).

    For inputs beta_i and beta_j, outcome m leaves (a1, b2) in beta_(i ^ j ^ m)
    (move the Paulis through the identity |Phi+>|Phi+> = 1/2 sum_m
    |beta_m>|beta_m>, up to phases), so r_k = sum_i a_i b_(i ^ k ^ m).  The
    returned state is before any Pauli correction; applying Pauli ``outcome``
    maps it back to the frame where r_k = sum_i a_i b_(i ^ k).
    """
    a0, a1, a2, a3 = a.p0, a.p1, a.p2, a.p3
    c0, c1, c2, c3 = b.p0, b.p1, b.p2, b.p3
    if outcome == 1:
        c0, c1, c2, c3 = c1, c0, c3, c2
    elif outcome == 2:
        c0, c1, c2, c3 = c2, c3, c0, c1
    elif outcome == 3:
        c0, c1, c2, c3 = c3, c2, c1, c0
    return BellDiagonal(
        a0 * c0 + a1 * c1 + a2 * c2 + a3 * c3,
        a0 * c1 + a1 * c0 + a2 * c3 + a3 * c2,
        a0 * c2 + a1 * c3 + a2 * c0 + a3 * c1,
        a0 * c3 + a1 * c2 + a2 * c1 + a3 * c0,
    )


def swap_random(
    a: BellDiagonal, b: BellDiagonal, rng: np.random.Generator
) -> tuple[int, BellDiagonal]:
    """Sample the Bell-measurement outcome and return it with the uncorrected state.

    For every pair of Bell-state components each outcome has probability 1/4
    (see ``swap``), so for Bell-diagonal inputs the outcome is uniform and
    independent of the inputs.
    """
    outcome = int(rng.random() * 4.0)
    return outcome, swap(a, b, outcome)


def apply_bell_measurement_errors(state: BellDiagonal, errors: OperationErrors) -> None:
    """Noise a Bell-state measurement with gate and measurement errors leaves on the swapped pair.

    The measurement is CNOT (a2 -> b1), H on a2, Z on both.  The CNOT's
    depolarising channel commutes with the perfect H, so with probability
    p_g both measured qubits are maximally mixed: the outcome is then uniform
    and independent of the outer pair, which is left in Tr(rho_a) (x)
    Tr(rho_b) = I/4 for Bell-diagonal inputs.  A flipped outcome bit makes
    the frame correction wrong by X (target bit) or Z (control bit), so the
    state filed under the reported outcome carries Pauli f with probability
    ``bsm_flip_weights[f]``.  In place: p -> Pauli mixture of (keep p + (1 - keep)/4).
    """
    keep = errors.gate_keep
    mix = 0.25 * (1.0 - keep)
    p0 = keep * state.p0 + mix
    p1 = keep * state.p1 + mix
    p2 = keep * state.p2 + mix
    p3 = keep * state.p3 + mix
    q0, q1, q2, q3 = errors.bsm_flip_weights
    state.p0 = q0 * p0 + q1 * p1 + q2 * p2 + q3 * p3
    state.p1 = q0 * p1 + q1 * p0 + q2 * p3 + q3 * p2
    state.p2 = q0 * p2 + q1 * p3 + q2 * p0 + q3 * p1
    state.p3 = q0 * p3 + q1 * p2 + q2 * p1 + q3 * p0


def swap_with_errors(
    a: BellDiagonal, b: BellDiagonal, outcome: int, errors: OperationErrors
) -> BellDiagonal:
    """``swap`` by a noisy Bell-state measurement reporting ``outcome`` (uncorrected state).

    Werner inputs w1, w2 give a Bell-diagonal (not Werner) output with
    w = w1 w2 (1 - p_g): p_Phi+ = w (1 - p_m)^2 + (1 - w)/4, p_Psi+ = p_Phi- =
    w p_m (1 - p_m) + (1 - w)/4, p_Psi- = w p_m^2 + (1 - w)/4 (see
    ``formulas.noisy_swap_probabilities``).
    """
    out = swap(a, b, outcome)
    apply_bell_measurement_errors(out, errors)
    return out


def swap_random_with_errors(
    a: BellDiagonal, b: BellDiagonal, rng: np.random.Generator, errors: OperationErrors
) -> tuple[int, BellDiagonal]:
    """``swap_random`` with a noisy Bell-state measurement.

    The true outcome is uniform (see ``swap_random``), so is one mixed with
    a uniform outcome (gate error), and flipping bits of a uniform outcome
    keeps it uniform: the reported outcome is drawn exactly as ``swap_random``
    draws it.
    """
    outcome = int(rng.random() * 4.0)
    return outcome, swap_with_errors(a, b, outcome, errors)


def _twirl_to_werner(fidelity: float) -> BellDiagonal:
    rest = (1.0 - fidelity) / 3.0
    return BellDiagonal(fidelity, rest, rest, rest)


def _bilateral_cnot_with_errors(
    a: tuple[float, float, float, float],
    b: tuple[float, float, float, float],
    errors: OperationErrors,
) -> tuple[float, BellDiagonal]:
    """Bilateral CNOT (a = source, b = target), noisy gates, noisy Z measurements of b.

    A CNOT maps Bell indices (x1, z1), (x2, z2) to source (x1, z1 ^ z2) and
    target (x1 ^ x2, z2); the target's two Z outcomes differ iff its x bit
    is set.  Each side's CNOT is followed by depolarising of its two qubits
    (one of each pair): with probability p_g a uniform Pauli on each, which
    makes both pairs' indices uniform and independent, so the joint index
    distribution Q becomes g Q + (1 - g)/16 with g = (1 - p_g)^2.  The
    outcomes' parity is misreported with e = 2 p_m (1 - p_m).  Kept (reported
    equal) weight of source index s: g [(1 - e) K_s + e M_s] + (1 - g)/8, K
    from the x1 == x2 terms and M from the x1 != x2 terms; success
    probability g [(1 - e) N + e (1 - N)] + (1 - g)/2 with N = sum K.
    """
    a0, a1, a2, a3 = a
    b0, b1, b2, b3 = b
    g = errors.gate_keep * errors.gate_keep
    e = errors.parity_flip
    same, differ = g * (1.0 - e), g * e
    floor = 0.125 * (1.0 - g)
    kept = (
        same * (a0 * b0 + a2 * b2) + differ * (a0 * b1 + a2 * b3) + floor,
        same * (a1 * b1 + a3 * b3) + differ * (a1 * b0 + a3 * b2) + floor,
        same * (a0 * b2 + a2 * b0) + differ * (a0 * b3 + a2 * b1) + floor,
        same * (a1 * b3 + a3 * b1) + differ * (a1 * b2 + a3 * b0) + floor,
    )
    n = kept[0] + kept[1] + kept[2] + kept[3]
    if n <= 0.0:
        return 0.0, BellDiagonal(0.25, 0.25, 0.25, 0.25)
    inv = 1.0 / n
    return n, BellDiagonal(kept[0] * inv, kept[1] * inv, kept[2] * inv, kept[3] * inv)


def purify_bbpssw(
    a: BellDiagonal, b: BellDiagonal, errors: OperationErrors | None = None
) -> tuple[float, BellDiagonal]:
    """BBPSSW recurrence (Bennett et al., PRL 76, 722 (1996)) towards Phi+.

    Both inputs are twirled to Werner form around Phi+ (weight p0 kept), then
    bilateral CNOT (a = source, b = target), Z measurement of the target and
    post-selection on equal outcomes, and the kept pair is twirled again.
    The CNOTs map (x1, z1), (x2, z2) to source (x1, z1 ^ z2), target
    (x1 ^ x2, z2); agreement means x1 == x2 and the source is Phi+ iff also
    z1 == z2.  Returns (success probability, output Werner state).

    With noisy ``errors`` the CNOTs and measurements follow
    ``_bilateral_cnot_with_errors``; the output is twirled as before.
    """
    f1, f2 = a.p0, b.p0
    e1, e2 = (1.0 - f1) / 3.0, (1.0 - f2) / 3.0
    if errors is not None and errors.noisy:
        p, out = _bilateral_cnot_with_errors((f1, e1, e1, e1), (f2, e2, e2, e2), errors)
        return p, _twirl_to_werner(out.p0)
    p_success = (f1 + e1) * (f2 + e2) + 4.0 * e1 * e2
    return p_success, _twirl_to_werner((f1 * f2 + e1 * e2) / p_success)


def purify_dejmps(
    a: BellDiagonal, b: BellDiagonal, errors: OperationErrors | None = None
) -> tuple[float, BellDiagonal]:
    """DEJMPS recurrence (Deutsch et al., PRL 77, 2818 (1996)) on Bell-diagonal pairs.

    Side a applies Rx(pi/2) = exp(-i pi X / 4) and side b Rx(-pi/2) to both
    pairs, then bilateral CNOT (a = source, b = target), Z measurement of the
    target, keep on equal outcomes.  The rotation fixes Phi+ (0), takes Psi-
    (3) to Phi- (2) and Psi+ / Phi- (1, 2) to Psi+ / Psi-, so with the paper's
    A, B, C, D = p0, p3, p1, p2 the output (left in the rotated frame, as in
    the paper) is
    p0' = (a0 b0 + a3 b3) / N, p1' = (a1 b1 + a2 b2) / N,
    p2' = (a0 b3 + a3 b0) / N, p3' = (a1 b2 + a2 b1) / N,
    N = (a0 + a3)(b0 + b3) + (a1 + a2)(b1 + b2) = success probability.
    N is 0 only when one input lies in {Phi+, Psi-} and the other in
    {Psi+, Phi-}; the output is then undefined and returned maximally mixed.

    With noisy ``errors`` the (perfect) rotations permute the indices (0, 1,
    2, 3) -> (0, 1, 3, 2) and the rest follows ``_bilateral_cnot_with_errors``.
    """
    a0, a1, a2, a3 = a.p0, a.p1, a.p2, a.p3
    b0, b1, b2, b3 = b.p0, b.p1, b.p2, b.p3
    if errors is not None and errors.noisy:
        return _bilateral_cnot_with_errors((a0, a1, a3, a2), (b0, b1, b3, b2), errors)
    n = (a0 + a3) * (b0 + b3) + (a1 + a2) * (b1 + b2)
    if n <= 0.0:
        return 0.0, BellDiagonal(0.25, 0.25, 0.25, 0.25)
    inv = 1.0 / n
    return n, BellDiagonal(
        (a0 * b0 + a3 * b3) * inv,
        (a1 * b1 + a2 * b2) * inv,
        (a0 * b3 + a3 * b0) * inv,
        (a1 * b2 + a2 * b1) * inv,
    )
