"""Exact path: complex128 density matrices for noise that leaves the Bell-diagonal family.

Qubit 0 is the most significant tensor factor (``np.kron(rho_q0, rho_q1)``),
so for a pair qubit 0 is side "a".  Bell and Pauli indices follow
``qstack.physics.bell``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from qstack.physics._validate import (
    check_index,
    check_non_negative,
    check_positive,
    check_probability,
)
from qstack.physics.bell import BellDiagonal
from qstack.physics.errors import OperationErrors

Matrix = npt.NDArray[np.complex128]

_I2: Matrix = np.eye(2, dtype=np.complex128)
_X: Matrix = np.array([[0, 1], [1, 0]], dtype=np.complex128)
_Z: Matrix = np.array([[1, 0], [0, -1]], dtype=np.complex128)
_Y: Matrix = np.array([[0, -1j], [1j, 0]], dtype=np.complex128)
_PAULIS = (_I2, _X, _Z, _Y)


def pauli_matrix(k: int) -> Matrix:
    """Pauli k in the x + 2 z encoding; k = 3 is the Hermitian Y (= i X Z)."""
    return _PAULIS[check_index("k", k)].copy()


def _bell_vectors() -> tuple[Matrix, Matrix, Matrix, Matrix]:
    phi_plus = np.array([1, 0, 0, 1], dtype=np.complex128) / math.sqrt(2.0)
    vecs = []
    for k in range(4):
        local = np.linalg.matrix_power(_X, k & 1) @ np.linalg.matrix_power(_Z, k >> 1)
        vecs.append(np.kron(_I2, local) @ phi_plus)
    return vecs[0], vecs[1], vecs[2], vecs[3]


BELL_VECTORS = _bell_vectors()
# Columns are the Bell vectors, so B^dagger rho B is rho in the Bell basis.
_BELL_BASIS: Matrix = np.column_stack(BELL_VECTORS)


def _measurement_bases() -> dict[tuple[str, str], Matrix]:
    s = 1.0 / math.sqrt(2.0)
    single = {
        "Z": np.array([[1, 0], [0, 1]], dtype=np.complex128),
        "X": np.array([[s, s], [s, -s]], dtype=np.complex128),
        "Y": np.array([[s, s], [1j * s, -1j * s]], dtype=np.complex128),
    }
    # Column 2 * outcome_a + outcome_b holds the joint eigenvector; outcome 0 = +1.
    return {
        (a, b): np.kron(single[a], single[b]).astype(np.complex128) for a in single for b in single
    }


_MEASUREMENT_BASES = _measurement_bases()


def bell_state(index: int) -> Matrix:
    """|beta_index><beta_index|."""
    v = BELL_VECTORS[check_index("index", index)]
    return np.outer(v, v.conj())


def werner(fidelity: float, index: int = 0) -> Matrix:
    """Werner state with weight ``fidelity`` on beta_index."""
    return from_bell_diagonal(BellDiagonal.werner(fidelity, index))


def from_bell_diagonal(bd: BellDiagonal) -> Matrix:
    """Density matrix of a Bell-diagonal state, to continue it on the exact path."""
    weights = np.array(bd.probabilities(), dtype=np.complex128)
    result: Matrix = (_BELL_BASIS * weights) @ _BELL_BASIS.conj().T
    return result


def bell_diagonal_of(rho: Matrix) -> tuple[float, float, float, float]:
    """Bell-basis diagonal of a two-qubit state (its Pauli-twirled weights)."""
    d = np.einsum("ik,ij,jk->k", _BELL_BASIS.conj(), rho, _BELL_BASIS).real
    return float(d[0]), float(d[1]), float(d[2]), float(d[3])


def _embed(op: Matrix, qubit: int, n_qubits: int) -> Matrix:
    if n_qubits == 2:
        # Same matrix as the Kronecker product below, written by slicing: np.kron
        # costs tens of microseconds, which dominates a 4x4 Kraus application.
        pair: Matrix = np.zeros((4, 4), dtype=np.complex128)
        if qubit == 0:  # op (x) I: op[i, j] at (2 i + b, 2 j + b)
            pair[0::2, 0::2] = op
            pair[1::2, 1::2] = op
        else:  # I (x) op: op[i, j] at (2 b + i, 2 b + j)
            pair[0:2, 0:2] = op
            pair[2:4, 2:4] = op
        return pair
    full: Matrix = np.kron(
        np.kron(np.eye(2**qubit, dtype=np.complex128), op),
        np.eye(2 ** (n_qubits - qubit - 1), dtype=np.complex128),
    )
    return full


def apply_kraus(rho: Matrix, kraus_ops: Sequence[Matrix], qubit: int, n_qubits: int) -> Matrix:
    """sum_K K rho K^dagger with single-qubit Kraus operators acting on ``qubit``."""
    result: Matrix = np.zeros_like(rho)
    for k in kraus_ops:
        full = _embed(k, qubit, n_qubits)
        result += full @ rho @ full.conj().T
    return result


def depolarizing_kraus(lam: float) -> list[Matrix]:
    """rho -> lam rho + (1 - lam) I/2, written as a Pauli mixture."""
    check_probability("lam", lam)
    w0 = math.sqrt((1.0 + 3.0 * lam) / 4.0)
    w = math.sqrt((1.0 - lam) / 4.0)
    return [w0 * _I2, w * _X, w * _Y, w * _Z]


def dephasing_kraus(q: float) -> list[Matrix]:
    """Z with probability q."""
    check_probability("q", q)
    return [math.sqrt(1.0 - q) * _I2, math.sqrt(q) * _Z]


def _amplitude_damping_ops(kept: float) -> list[Matrix]:
    """Amplitude damping from the kept |1> amplitude sqrt(1 - gamma), exact for tiny kept."""
    k0 = np.array([[1, 0], [0, kept]], dtype=np.complex128)
    k1 = np.array([[0, math.sqrt(max(0.0, 1.0 - kept * kept))], [0, 0]], dtype=np.complex128)
    return [k0, k1]


def _phase_damping_ops(kept: float) -> list[Matrix]:
    """Phase damping from the kept coherence factor sqrt(1 - lam), exact for tiny kept."""
    k0 = np.array([[1, 0], [0, kept]], dtype=np.complex128)
    k1 = np.array([[0, 0], [0, math.sqrt(max(0.0, 1.0 - kept * kept))]], dtype=np.complex128)
    return [k0, k1]


def amplitude_damping_kraus(gamma: float) -> list[Matrix]:
    """Decay |1> -> |0> with probability gamma (energy relaxation, T1)."""
    check_probability("gamma", gamma)
    return _amplitude_damping_ops(math.sqrt(1.0 - gamma))


def phase_damping_kraus(lam: float) -> list[Matrix]:
    """Nielsen-Chuang phase damping: coherences scaled by sqrt(1 - lam), populations kept."""
    check_probability("lam", lam)
    return _phase_damping_ops(math.sqrt(1.0 - lam))


def t1t2_kept(t_s: float, t1_s: float, t2_s: float) -> tuple[float, float]:
    """Kept factors (amplitude, extra coherence) of a T1/T2 idle, see :func:`t1t2_kraus`."""
    check_non_negative("t_s", t_s)
    check_positive("t1_s", t1_s)
    check_positive("t2_s", t2_s)
    if t2_s > 2.0 * t1_s:
        raise ValueError(f"t2_s must be <= 2 * t1_s = {2.0 * t1_s!r}, got t2_s={t2_s!r}")
    amplitude_kept = math.exp(-t_s / (2.0 * t1_s))
    coherence_kept = min(1.0, math.exp(-t_s / t2_s + t_s / (2.0 * t1_s)))
    return amplitude_kept, coherence_kept


def t1t2_kraus(t_s: float, t1_s: float, t2_s: float) -> list[Matrix]:
    """Idle for t_s: populations relax as e^(-t/T1), coherences decay as e^(-t/T2).

    Amplitude damping with gamma = 1 - e^(-t/T1) already scales coherences by
    e^(-t/(2 T1)); the rest, e^(-t/T2 + t/(2 T1)), comes from phase damping.
    That factor is <= 1 only when T2 <= 2 T1, the physical bound.  The kept
    factors are passed directly so that long idles keep their tiny coherences.
    """
    amplitude_kept, coherence_kept = t1t2_kept(t_s, t1_s, t2_s)
    return [
        p @ a
        for p in _phase_damping_ops(coherence_kept)
        for a in _amplitude_damping_ops(amplitude_kept)
    ]


class T1T2PairChannel:
    """The :func:`t1t2_kraus` channel on one side of a pair, as a 16x16 superoperator.

    With a = amplitude kept and c = extra coherence kept, the single-qubit map is
    rho00 += (1 - a^2) rho11, rho11 *= a^2, rho01 and rho10 *= a c.  On a pair
    each entry is scaled by the factor for the acted-on qubit's (row, column)
    bits, and (1 - a^2) times the entry with both bits set to 1 is added to
    entries where both are 0.  That sparse map on the row-major vec(rho) is
    written down directly (no Kraus products), so applying it is one 16x16
    matrix-vector product.  Build once per (idle time, side) and reuse.
    """

    __slots__ = ("_superop",)

    def __init__(self, amplitude_kept: float, coherence_kept: float, side: int) -> None:
        if side not in (0, 1):
            raise ValueError(f"side must be 0 or 1, got {side!r}")
        a2 = amplitude_kept * amplitude_kept
        gamma = max(0.0, 1.0 - a2)
        off = amplitude_kept * coherence_kept
        factor = ((1.0, off), (off, a2))
        shift = 1 - side  # bit position of the acted-on qubit in a basis index
        mask = 1 << shift
        superop: Matrix = np.zeros((16, 16), dtype=np.complex128)
        for i in range(4):
            for j in range(4):
                bi, bj = (i >> shift) & 1, (j >> shift) & 1
                superop[4 * i + j, 4 * i + j] = factor[bi][bj]
                if not bi and not bj:
                    superop[4 * i + j, 4 * (i | mask) + (j | mask)] = gamma
        self._superop = superop

    @classmethod
    def for_idle(cls, t_s: float, t1_s: float, t2_s: float, side: int) -> T1T2PairChannel:
        """Channel for idling ``t_s`` seconds under T1/T2 noise on qubit ``side``."""
        amplitude_kept, coherence_kept = t1t2_kept(t_s, t1_s, t2_s)
        return cls(amplitude_kept, coherence_kept, side)

    def apply(self, rho: Matrix) -> Matrix:
        """The channel applied to the 4x4 ``rho`` (a new array; ``rho`` is not changed)."""
        out: Matrix = (self._superop @ rho.reshape(16)).reshape(4, 4)
        return out


def fidelity_pure(rho: Matrix, psi: npt.NDArray[np.complex128]) -> float:
    """<psi|rho|psi> for a normalised state vector psi."""
    return float(np.real(psi.conj() @ rho @ psi))


def partial_trace(rho: Matrix, keep: Sequence[int], n_qubits: int) -> Matrix:
    """Reduced state of the qubits in ``keep``, returned in increasing qubit order."""
    t = rho.reshape((2,) * (2 * n_qubits))
    remaining = n_qubits
    for q in sorted(set(range(n_qubits)) - set(keep), reverse=True):
        t = np.trace(t, axis1=q, axis2=q + remaining)
        remaining -= 1
    dim = 2**remaining
    result: Matrix = t.reshape(dim, dim)
    return result


def _bell_project(rho4: Matrix, qubits: tuple[int, int], outcome: int) -> Matrix:
    """Unnormalised state of the other qubits after projecting ``qubits`` on beta_outcome."""
    n = rho4.shape[0].bit_length() - 1
    rest = [q for q in range(n) if q not in qubits]
    perm = [qubits[0], qubits[1], *rest]
    dim_rest = 2 ** len(rest)
    t = rho4.reshape((2,) * (2 * n)).transpose(perm + [p + n for p in perm])
    t = t.reshape(4, dim_rest, 4, dim_rest)
    v = BELL_VECTORS[check_index("outcome", outcome)]
    post: Matrix = np.einsum("i,irjs,j->rs", v.conj(), t, v)
    return post


def bell_measure(rho4: Matrix, qubits: tuple[int, int], outcome: int) -> tuple[float, Matrix]:
    """Project ``qubits`` (in that order) on beta_outcome.

    Returns the probability and the normalised state of the other qubits
    (increasing order).  Raises ValueError for a zero-probability outcome,
    whose conditional state is undefined.
    """
    post = _bell_project(rho4, qubits, outcome)
    probability = float(np.real(np.trace(post)))
    if probability <= 0.0:
        raise ValueError(f"outcome {outcome} has probability {probability!r}")
    return probability, post / probability


def swap(rho_a: Matrix, rho_b: Matrix, outcome: int) -> tuple[float, Matrix]:
    """Swap pairs (a1, a2) and (b1, b2) by a Bell measurement of (a2, b1).

    Returns the outcome probability and the state of (a1, b2) before correction.
    """
    return bell_measure(np.kron(rho_a, rho_b).astype(np.complex128), (1, 2), outcome)


def swap_outcomes_with_errors(
    rho_a: Matrix, rho_b: Matrix, errors: OperationErrors
) -> list[Matrix]:
    """Unnormalised (a1, b2) states filed under each reported outcome 0..3 of a noisy swap.

    With probability 1 - p_g the measurement is ideal and true outcome m
    leaves the unnormalised state P_m; with p_g both measured qubits are
    maximally mixed first (the CNOT's depolarising channel commutes with the
    H that follows), every true outcome has probability 1/4 and the outer
    qubits keep Tr_(a2)(rho_a) (x) Tr_(b1)(rho_b).  Outcome r is reported for
    true m with probability ``bsm_flip_weights[m ^ r]``.  Each state's trace
    is the probability of reporting its outcome.
    """
    rho4 = np.kron(rho_a, rho_b).astype(np.complex128)
    outer: Matrix = np.kron(partial_trace(rho_a, [0], 2), partial_trace(rho_b, [1], 2)).astype(
        np.complex128
    )
    return report_bell_outcomes([_bell_project(rho4, (1, 2), m) for m in range(4)], outer, errors)


def report_bell_outcomes(
    true_states: Sequence[Matrix], outer: Matrix, errors: OperationErrors
) -> list[Matrix]:
    """What a noisy Bell-state measurement files under each reported outcome 0..3.

    ``true_states[m]`` is the other qubits' unnormalised state after an ideal
    measurement with outcome m, ``outer`` their state when the measured
    qubits are maximally mixed first (gate error, probability p_g: every
    outcome then has probability 1/4). Outcome r is reported for true m with
    probability ``bsm_flip_weights[m ^ r]``. Used by swapping and by
    teleportation alike.
    """
    keep = errors.gate_keep
    mixed = [keep * state + 0.25 * (1.0 - keep) * outer for state in true_states]
    reported: list[Matrix] = []
    for r in range(4):
        total: Matrix = np.zeros(outer.shape, dtype=np.complex128)
        for m, state in enumerate(mixed):
            weight = errors.bsm_flip_weights[m ^ r]
            if weight:
                total += weight * state
        reported.append(total)
    return reported


def swap_with_errors(
    rho_a: Matrix, rho_b: Matrix, outcome: int, errors: OperationErrors
) -> tuple[float, Matrix]:
    """``swap`` by a Bell-state measurement with gate and measurement errors.

    Returns the probability of reporting ``outcome`` and the (uncorrected)
    state filed under it, see ``swap_outcomes_with_errors``.  Raises
    ValueError for a zero-probability outcome.
    """
    total = swap_outcomes_with_errors(rho_a, rho_b, errors)[check_index("outcome", outcome)]
    probability = float(np.real(np.trace(total)))
    if probability <= 0.0:
        raise ValueError(f"outcome {outcome} has probability {probability!r}")
    return probability, total / probability


def draw_joint_outcome(probabilities: Sequence[float], u: float) -> int:
    """Joint outcome 2 * outcome_a + outcome_b for the uniform ``u`` (inverse CDF)."""
    for j in range(3):
        u -= probabilities[j]
        if u < 0.0:
            return j
    return 3


class DensityMatrixPair:
    """Two-qubit state on the exact path; same interface as ``BellDiagonal``.

    Needed when the noise (amplitude damping, T1/T2) leaves the Bell-diagonal
    family and the side a channel acts on matters.  Operations are in place.
    """

    __slots__ = ("rho",)

    def __init__(self, rho: Matrix) -> None:
        self.rho = rho

    @classmethod
    def from_bell_diagonal(cls, bd: BellDiagonal) -> DensityMatrixPair:
        """Continue a fast-path state on the exact path."""
        return cls(from_bell_diagonal(bd))

    @classmethod
    def werner(cls, fidelity: float, index: int = 0) -> DensityMatrixPair:
        """Werner state with weight ``fidelity`` on beta_index."""
        return cls(werner(fidelity, index))

    def fidelity(self, index: int = 0) -> float:
        """Overlap with beta_index."""
        return fidelity_pure(self.rho, BELL_VECTORS[index])

    def probabilities(self) -> tuple[float, float, float, float]:
        """Bell-basis diagonal, i.e. the state after a Pauli twirl."""
        return bell_diagonal_of(self.rho)

    def copy(self) -> DensityMatrixPair:
        """Independent copy; operations mutate in place."""
        return DensityMatrixPair(self.rho.copy())

    def measurement_probabilities(
        self, basis_a: str, basis_b: str
    ) -> tuple[float, float, float, float]:
        """Joint outcome probabilities, ordered by 2 * outcome_a + outcome_b."""
        m = _MEASUREMENT_BASES[basis_a, basis_b]
        d = np.einsum("ik,ij,jk->k", m.conj(), self.rho, m).real
        return float(d[0]), float(d[1]), float(d[2]), float(d[3])

    def measure(self, basis_a: str, basis_b: str, rng: np.random.Generator) -> tuple[int, int]:
        """Sample a joint outcome (bit 0 = eigenvalue +1); the state is not updated."""
        joint = draw_joint_outcome(self.measurement_probabilities(basis_a, basis_b), rng.random())
        return joint >> 1, joint & 1

    def apply_kraus(self, kraus_ops: Sequence[Matrix], side: int) -> None:
        """Apply a single-qubit channel to qubit ``side``."""
        self.rho = apply_kraus(self.rho, kraus_ops, side, 2)

    def depolarize(self, lam: float, side: int) -> None:
        """Depolarise qubit ``side`` keeping fraction ``lam``."""
        self.apply_kraus(depolarizing_kraus(lam), side)

    def dephase(self, q: float, side: int) -> None:
        """Apply Z to qubit ``side`` with probability ``q``."""
        self.apply_kraus(dephasing_kraus(q), side)

    def pauli(self, k: int, side: int) -> None:
        """Apply Pauli k to qubit ``side``."""
        if k:
            full = _embed(_PAULIS[k], side, 2)
            self.rho = full @ self.rho @ full.conj().T

    def amplitude_damp(self, gamma: float, side: int) -> None:
        """Relax qubit ``side`` towards |0> with probability ``gamma``."""
        self.apply_kraus(amplitude_damping_kraus(gamma), side)

    def t1t2(self, t_s: float, t1_s: float, t2_s: float, side: int) -> None:
        """Let qubit ``side`` idle for ``t_s`` under T1/T2 noise."""
        self.rho = T1T2PairChannel.for_idle(t_s, t1_s, t2_s, side).apply(self.rho)

    def apply_t1t2(self, channel: T1T2PairChannel) -> None:
        """Apply a prebuilt T1/T2 idle channel (it knows its side)."""
        self.rho = channel.apply(self.rho)

    def __repr__(self) -> str:
        return f"DensityMatrixPair(probabilities={self.probabilities()!r})"
