"""GHZ states fused from Bell pairs at a centre node (exact path).

Protocol.  The centre holds qubit c_i of a pair (c_i, M_i) with each member
M_i, every pair in Phi+ after its Pauli frame is corrected.  It applies
CNOT(c_1 -> c_i) for i = 2..m and measures c_i in Z (outcome s_i); member
M_i applies X^(s_i).  Why: the pairs are sum_b |b_1..b_m>_C |b_1..b_m>_M;
after the CNOTs c_i holds b_i ^ b_1, so s_i fixes b_i = b_1 ^ s_i and X^(s_i)
on M_i leaves sum_b |b>_(c_1) |b>_(M_1) |b..b>_(M_2..M_m), a GHZ state of the
centre's c_1 and the m members.  If the centre is not a member it then
measures c_1 in X (outcome t): <+-|b> = (+-1)^b / sqrt 2 leaves the members
in |0..0> + (-1)^t |1..1>, and M_1 applies Z^t.  One classical message per
member (its correction bits).  With m = 2 and the centre not a member this
is entanglement swapping.

Each CNOT is followed by the gate-error channel on (c_1, c_i) and every
reported outcome is flipped with the measurement error
(``qstack.physics.errors``).  The closed forms are
``formulas.ghz_fusion_fidelity_werner`` and ``formulas.ghz_fusion_fidelity``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qstack.physics import multiqubit as mq
from qstack.physics.density import Matrix
from qstack.physics.errors import IDEAL_OPERATIONS, OperationErrors
from qstack.physics.state import PairState, density_matrix_of

#: Pairs the centre can fuse: the register peaks at c_1, M_1..M_m, c_m (m + 2 qubits).
MAX_PAIRS = mq.MAX_QUBITS - 2


@dataclass(frozen=True, slots=True)
class GhzFusion:
    """One sampled run of the fusion protocol.

    ``state`` is normalised; its qubits are the centre's c_1 (when the
    centre is a member) and then the members in the order of the pairs.
    ``z_outcomes[i]`` is the reported Z outcome of c_(i+2), i.e. the X
    correction member i + 2 applied; ``x_outcome`` the reported X outcome of
    c_1 (the Z correction of member 1) when the centre is not a member.
    ``probability`` is that of the reported outcomes.
    """

    state: Matrix
    z_outcomes: tuple[int, ...]
    x_outcome: int | None
    probability: float


def _pair_matrices(pairs: Sequence[PairState | Matrix]) -> list[Matrix]:
    if not 2 <= len(pairs) <= MAX_PAIRS:
        raise ValueError(f"pairs must hold 2..{MAX_PAIRS} pairs, got {len(pairs)}")
    matrices = []
    for index, pair in enumerate(pairs):
        rho = pair if isinstance(pair, np.ndarray) else density_matrix_of(pair)
        if rho.shape != (4, 4):
            raise ValueError(f"pairs[{index}] must be a two-qubit state, got shape {rho.shape}")
        matrices.append(rho)
    return matrices


def _settle(
    corrected: tuple[Matrix, Matrix], rng: np.random.Generator | None
) -> tuple[Matrix, int, float]:
    """Keep both corrected branches (rng None: the outcome-averaged state) or draw one."""
    if rng is None:
        return corrected[0] + corrected[1], -1, 1.0
    p_zero = mq.probability_of(corrected[0])
    p_one = mq.probability_of(corrected[1])
    outcome = 0 if rng.random() * (p_zero + p_one) < p_zero else 1
    probability = (p_zero, p_one)[outcome]
    return corrected[outcome] / probability, outcome, probability


def _fuse(
    pairs: Sequence[PairState | Matrix],
    centre_is_member: bool,
    errors: OperationErrors,
    rng: np.random.Generator | None,
) -> GhzFusion:
    matrices = _pair_matrices(pairs)
    gate_error, flip = errors.gate_error, errors.measurement_error
    rho = matrices[0]  # qubits c_1, M_1
    z_outcomes: list[int] = []
    probability = 1.0
    for i, pair in enumerate(matrices[1:], start=2):
        rho = mq.tensor(rho, pair)  # c_1, M_1..M_(i-1), c_i (qubit i), M_i (qubit i + 1)
        rho = mq.depolarize(mq.apply_unitary(rho, mq.CNOT, [0, i]), [0, i], gate_error)
        zero, one = mq.measure(rho, i, "Z", flip)  # M_i is now qubit i
        rho, outcome, p = _settle((zero, mq.apply_pauli(one, 1, i)), rng)
        z_outcomes.append(outcome)
        probability *= p
    x_outcome = None
    if not centre_is_member:
        zero, one = mq.measure(rho, 0, "X", flip)  # M_1 is now qubit 0
        rho, x_outcome, p = _settle((zero, mq.apply_pauli(one, 2, 0)), rng)
        probability *= p
    return GhzFusion(rho, tuple(z_outcomes), x_outcome, probability)


def fuse_ghz(
    pairs: Sequence[PairState | Matrix],
    rng: np.random.Generator,
    *,
    centre_is_member: bool = True,
    errors: OperationErrors = IDEAL_OPERATIONS,
) -> GhzFusion:
    """Run the fusion once, drawing the centre's outcomes from their true distribution.

    Each pair's qubit 0 is the centre's half, qubit 1 the member's, and the
    pair must be in the Phi+ frame.  Gives a GHZ state of len(pairs) + 1
    qubits (centre a member) or len(pairs) qubits.
    """
    return _fuse(pairs, centre_is_member, errors, rng)


def fuse_ghz_average(
    pairs: Sequence[PairState | Matrix],
    *,
    centre_is_member: bool = True,
    errors: OperationErrors = IDEAL_OPERATIONS,
) -> Matrix:
    """The fused state averaged over the centre's outcomes (every run corrected).

    Fidelity is linear in the state, so its fidelity with GHZ is the mean
    fidelity of ``fuse_ghz`` runs: the true ``ghz_fidelity_mean``.
    """
    return _fuse(pairs, centre_is_member, errors, None).state
