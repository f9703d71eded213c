"""Small n-qubit density matrices: gates, noise and measurements for multipartite protocols.

The exact path for what involves more than one pair at a time: GHZ states
fused from Bell pairs, gate teleportation, sensing probes.  Qubit 0 is the
most significant tensor factor, as in ``qstack.physics.density``.  Gates
act by tensor contraction on the (2,) * 2n view of rho, so a k-qubit gate
costs O(4^n 2^k) instead of building 2^n x 2^n operators.  Protocols keep n
small by measuring qubits away as they go; ``MAX_QUBITS`` guards against
accidents (a 10-qubit state is already 16 MiB).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qstack.physics.density import Matrix, partial_trace, pauli_matrix

MAX_QUBITS = 10

HADAMARD: Matrix = np.array([[1, 1], [1, -1]], dtype=np.complex128) / math.sqrt(2.0)
CNOT: Matrix = np.array(
    [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=np.complex128
)


def qubit_count(rho: Matrix) -> int:
    """n for a 2^n x 2^n state (ValueError for anything else)."""
    dim = int(rho.shape[0])
    n = dim.bit_length() - 1
    if rho.ndim != 2 or rho.shape[1] != dim or dim != 1 << n or n > MAX_QUBITS:
        raise ValueError(
            f"rho must be a 2^n x 2^n matrix with n <= {MAX_QUBITS}, got shape {rho.shape}"
        )
    return n


def tensor(*states: Matrix) -> Matrix:
    """Joint state of independent registers, in the order given."""
    out: Matrix = np.ones((1, 1), dtype=np.complex128)
    for state in states:
        out = np.kron(out, state).astype(np.complex128)
    qubit_count(out)
    return out


def permute_qubits(rho: Matrix, order: Sequence[int]) -> Matrix:
    """The same state with qubit i of the result being qubit ``order[i]`` of ``rho``."""
    n = qubit_count(rho)
    if sorted(order) != list(range(n)):
        raise ValueError(f"order must be a permutation of 0..{n - 1}, got {list(order)!r}")
    axes = [*order, *(n + q for q in order)]
    out: Matrix = np.ascontiguousarray(rho.reshape((2,) * (2 * n)).transpose(axes)).reshape(
        rho.shape
    )
    return out


def apply_unitary(rho: Matrix, u: Matrix, qubits: Sequence[int]) -> Matrix:
    """U rho U^dagger with the 2^k x 2^k ``u`` acting on ``qubits`` (in u's qubit order)."""
    n = qubit_count(rho)
    k = len(qubits)
    dim = 1 << n
    t = rho.reshape((2,) * (2 * n))
    gate = u.reshape((2,) * (2 * k))
    inputs = list(range(k, 2 * k))
    # Rows: contract u's inputs with the row axes; u's outputs come first, move them back.
    t = np.moveaxis(np.tensordot(gate, t, axes=(inputs, list(qubits))), range(k), list(qubits))
    # Columns: (rho U^dagger)_(ab) = sum_c rho_(ac) conj(U_(bc)).
    cols = [n + q for q in qubits]
    t = np.moveaxis(
        np.tensordot(t, gate.conj(), axes=(cols, inputs)), range(2 * n - k, 2 * n), cols
    )
    out: Matrix = np.ascontiguousarray(t).reshape(dim, dim)
    return out


def apply_pauli(rho: Matrix, k: int, qubit: int) -> Matrix:
    """Pauli k (x + 2 z encoding) on ``qubit``; k = 0 returns rho itself."""
    if k == 0:
        return rho
    return apply_unitary(rho, pauli_matrix(k), [qubit])


def replace_with_mixed(rho: Matrix, qubit: int) -> Matrix:
    """Tr_qubit(rho) with ``qubit`` put back maximally mixed (I/2) in its place."""
    n = qubit_count(rho)
    reduced = partial_trace(rho, [q for q in range(n) if q != qubit], n)
    t = np.multiply.outer(reduced.reshape((2,) * (2 * n - 2)), np.eye(2, dtype=np.complex128) / 2.0)
    t = np.moveaxis(t, [2 * n - 2, 2 * n - 1], [qubit, n + qubit])
    out: Matrix = np.ascontiguousarray(t).reshape(rho.shape)
    return out


def depolarize(rho: Matrix, qubits: Sequence[int], probability: float) -> Matrix:
    """rho -> (1 - p) rho + p I/2^k (x) Tr_qubits(rho): the gate-error channel."""
    if probability == 0.0:
        return rho
    mixed = rho
    for q in qubits:
        mixed = replace_with_mixed(mixed, q)
    out: Matrix = (1.0 - probability) * rho + probability * mixed
    return out


def depolarize_qubit(rho: Matrix, qubit: int, keep: float) -> Matrix:
    """One qubit kept with weight ``keep``, else replaced by I/2 (memory model of qstack)."""
    return depolarize(rho, [qubit], 1.0 - keep)


def dephase(rho: Matrix, qubit: int, probability: float) -> Matrix:
    """Z on ``qubit`` with ``probability``."""
    if probability == 0.0:
        return rho
    out: Matrix = (1.0 - probability) * rho + probability * apply_pauli(rho, 2, qubit)
    return out


def measure(rho: Matrix, qubit: int, basis: str = "Z", flip: float = 0.0) -> tuple[Matrix, Matrix]:
    """Measure ``qubit`` in Z or X, reporting the wrong outcome with probability ``flip``.

    Returns the unnormalised states of the other qubits (``qubit`` removed,
    the rest in increasing order) for reported outcomes 0 (eigenvalue +1)
    and 1; each trace is that outcome's probability.
    """
    n = qubit_count(rho)
    if basis == "X":
        rho = apply_unitary(rho, HADAMARD, [qubit])
    elif basis != "Z":
        raise ValueError(f"basis must be 'Z' or 'X', got {basis!r}")
    t = rho.reshape((2,) * (2 * n))
    dim = 1 << (n - 1)
    true_states: list[Matrix] = []
    for outcome in (0, 1):
        block = np.take(np.take(t, outcome, axis=n + qubit), outcome, axis=qubit)
        true_states.append(np.ascontiguousarray(block, dtype=np.complex128).reshape(dim, dim))
    keep = 1.0 - flip
    zero: Matrix = keep * true_states[0] + flip * true_states[1]
    one: Matrix = keep * true_states[1] + flip * true_states[0]
    return zero, one


def probability_of(unnormalised: Matrix) -> float:
    """Trace of an unnormalised branch: the probability of reaching it."""
    return float(np.real(np.trace(unnormalised)))


def ghz_vector(n: int) -> Matrix:
    """(|0...0> + |1...1>) / sqrt 2 on n qubits (n = 1 gives |+>)."""
    if not 1 <= n <= MAX_QUBITS:
        raise ValueError(f"n must be in 1..{MAX_QUBITS}, got {n!r}")
    v: Matrix = np.zeros(1 << n, dtype=np.complex128)
    v[0] = v[-1] = 1.0 / math.sqrt(2.0)
    return v


def ghz_state(n: int) -> Matrix:
    """|GHZ_n><GHZ_n|."""
    v = ghz_vector(n)
    out: Matrix = np.outer(v, v.conj())
    return out


def ghz_fidelity(rho: Matrix) -> float:
    """<GHZ_n| rho |GHZ_n>, the fidelity with the ideal GHZ state."""
    v = ghz_vector(qubit_count(rho))
    return float(np.real(v.conj() @ rho @ v))
