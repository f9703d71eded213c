"""Remote CNOT by gate teleportation: one shared pair and one classical bit each way.

Protocol of Eisert, Jacobs, Papadopoulos and Plenio, PRA 62, 052317 (2000).
Alice holds the control c and half a of a pair, Bob the target t and half
b, the pair in Phi+ (frame corrected).  Register order: c, a, b, t.

1. Alice applies CNOT(c -> a) and measures a in Z (m1), sends m1.
2. Bob applies X^(m1) to b, then CNOT(b -> t), measures b in X (m2), sends m2.
3. Alice applies Z^(m2) to c.

Why: alpha|0>_c + beta|1>_c with Phi+_(ab) becomes, after step 1 and the
correction, alpha|0>_c|0>_b + beta|1>_c|1>_b; Bob's CNOT then acts on t
exactly as CNOT(c -> t) would, and measuring b in X leaves c's phase
(-1)^(m2 c), which Alice's Z^(m2) removes.  Gate and measurement errors
follow ``qstack.physics.errors``; ``app_formulas.remote_cnot_entanglement_fidelity``
is the closed form for Bell-diagonal pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qstack.physics import multiqubit as mq
from qstack.physics.density import Matrix
from qstack.physics.errors import IDEAL_OPERATIONS, OperationErrors
from qstack.physics.state import PairState, density_matrix_of


@dataclass(frozen=True, slots=True)
class RemoteCnotRun:
    """One sampled run: the two classical bits sent and the data qubits' state (c, t)."""

    m1: int
    m2: int
    state: Matrix


def _branches(
    data: Matrix, pair: PairState, errors: OperationErrors
) -> list[tuple[int, int, Matrix]]:
    """(m1, m2, unnormalised corrected state of (c, t)) for the four reported outcomes."""
    if data.shape != (4, 4):
        raise ValueError(
            f"data must be a two-qubit state (control, target), got shape {data.shape}"
        )
    gate_error, flip = errors.gate_error, errors.measurement_error
    # ``data`` is (c, t) and the pair (a, b); reorder (c, t, a, b) to (c, a, b, t).
    rho = mq.permute_qubits(mq.tensor(data, density_matrix_of(pair)), [0, 2, 3, 1])
    alice = mq.depolarize(mq.apply_unitary(rho, mq.CNOT, [0, 1]), [0, 1], gate_error)
    out = []
    for m1, state in enumerate(mq.measure(alice, 1, "Z", flip)):  # now c, b, t
        state = mq.apply_pauli(state, m1, 1)  # X^(m1) on b (Pauli index 1 is X)
        bob = mq.depolarize(mq.apply_unitary(state, mq.CNOT, [1, 2]), [1, 2], gate_error)
        for m2, final in enumerate(mq.measure(bob, 1, "X", flip)):  # now c, t
            out.append((m1, m2, mq.apply_pauli(final, 2 * m2, 0)))  # Z^(m2) on c
    return out


def remote_cnot_average(
    data: Matrix, pair: PairState, errors: OperationErrors = IDEAL_OPERATIONS
) -> Matrix:
    """The (c, t) state averaged over the outcomes: the channel the protocol applies."""
    total: Matrix = np.zeros((4, 4), dtype=np.complex128)
    for _, _, state in _branches(data, pair, errors):
        total += state
    return total


def remote_cnot(
    data: Matrix,
    pair: PairState,
    rng: np.random.Generator,
    errors: OperationErrors = IDEAL_OPERATIONS,
) -> RemoteCnotRun:
    """Run the protocol once, drawing m1 and m2 from their true joint distribution."""
    branches = _branches(data, pair, errors)
    weights = [mq.probability_of(state) for _, _, state in branches]
    u = rng.random() * sum(weights)
    chosen = len(branches) - 1
    for index, weight in enumerate(weights):
        u -= weight
        if u < 0.0:
            chosen = index
            break
    m1, m2, state = branches[chosen]
    return RemoteCnotRun(m1, m2, state / weights[chosen])


def superoperator(pair: PairState, errors: OperationErrors = IDEAL_OPERATIONS) -> Matrix:
    """16 x 16 matrix S of the channel on row-major vec(rho): vec(E(rho)) = S vec(rho).

    Built from the images of the basis matrices |i><j| (the protocol is
    linear in the data state, measurements and corrections included).
    """
    columns = []
    for k in range(16):
        basis: Matrix = np.zeros(16, dtype=np.complex128)
        basis[k] = 1.0
        columns.append(remote_cnot_average(basis.reshape(4, 4), pair, errors).reshape(16))
    out: Matrix = np.column_stack(columns)
    return out


def entanglement_fidelity(channel: Matrix, unitary: Matrix) -> float:
    """<Phi| (U^dag E (x) I)(|Phi><Phi|) |Phi> = (1/d^2) sum_ij <i| U^dag E(|i><j|) U |j>.

    ``channel`` is the superoperator on row-major vec(rho) of a d-dimensional system.
    """
    d = unitary.shape[0]
    total = 0.0j
    for i in range(d):
        for j in range(d):
            image = (channel[:, i * d + j]).reshape(d, d)
            total += (unitary.conj().T @ image @ unitary)[i, j]
    return float(np.real(total)) / float(d * d)
