"""CHSH test on delivered pairs (Clauser, Horne, Shimony and Holt, PRL 23, 880 (1969)).

Each end measures in the X-Z plane at angle theta (observable
cos(theta) Z + sin(theta) X, outcome 0 = eigenvalue +1): side a at 0 or pi/2
(Z or X), side b at pi/4 or -pi/4, the settings chosen uniformly at random
per pair.  For Phi+ (correct the pair's Pauli frame first),
S = E(0, 0) + E(0, 1) + E(1, 0) - E(1, 1) = 2 sqrt 2, and for any
Bell-diagonal state S = sqrt 2 (<XX> + <ZZ>), i.e. 2 sqrt 2 w for a Werner
pair (``formulas.chsh_value``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from qstack.physics.bell import BellDiagonal
from qstack.physics.density import Matrix, draw_joint_outcome
from qstack.physics.state import PairState, density_matrix_of

#: Angles of the settings: side a's (x = 0, 1) and side b's (y = 0, 1).
ANGLES_A = (0.0, math.pi / 2.0)
ANGLES_B = (math.pi / 4.0, -math.pi / 4.0)
#: Sign of E(x, y) in S.
SIGNS = ((1.0, 1.0), (1.0, -1.0))


def _xz_basis(theta_a: float, theta_b: float) -> Matrix:
    """Columns: joint eigenvectors (column 2 * outcome_a + outcome_b) of the two settings.

    The +1 eigenvector of cos(t) Z + sin(t) X is (cos t/2, sin t/2), the -1
    one (-sin t/2, cos t/2).
    """

    def single(theta: float) -> Matrix:
        c, s = math.cos(theta / 2.0), math.sin(theta / 2.0)
        return np.array([[c, -s], [s, c]], dtype=np.complex128)

    basis: Matrix = np.kron(single(theta_a), single(theta_b)).astype(np.complex128)
    return basis


_CHSH_BASES = tuple(tuple(_xz_basis(ta, tb) for tb in ANGLES_B) for ta in ANGLES_A)


def _exact_probabilities(rho: Matrix, basis: Matrix) -> tuple[float, float, float, float]:
    d = np.einsum("ik,ij,jk->k", basis.conj(), rho, basis).real
    return float(d[0]), float(d[1]), float(d[2]), float(d[3])


def _bell_diagonal_probabilities(
    state: BellDiagonal, theta_a: float, theta_b: float
) -> tuple[float, float, float, float]:
    p0, p1, p2, p3 = state.p0, state.p1, state.p2, state.p3
    zz = p0 - p1 + p2 - p3
    xx = p0 + p1 - p2 - p3
    e = math.cos(theta_a) * math.cos(theta_b) * zz + math.sin(theta_a) * math.sin(theta_b) * xx
    same, differ = 0.25 * (1.0 + e), 0.25 * (1.0 - e)
    return same, differ, differ, same


def xz_measurement_probabilities(
    state: PairState, theta_a: float, theta_b: float
) -> tuple[float, float, float, float]:
    """Joint outcome probabilities (2 * outcome_a + outcome_b) for X-Z plane angles.

    Bell-diagonal: the marginals are uniform and the correlation is
    E = cos(ta) cos(tb) <ZZ> + sin(ta) sin(tb) <XX> (the cross terms vanish),
    so P(equal) = (1 + E)/2.  Density matrix: <v_a v_b| rho |v_a v_b> over
    the settings' joint eigenvectors, as ``DensityMatrixPair.measurement_probabilities``
    does for the X, Y and Z bases.
    """
    if isinstance(state, BellDiagonal):
        return _bell_diagonal_probabilities(state, theta_a, theta_b)
    return _exact_probabilities(density_matrix_of(state), _xz_basis(theta_a, theta_b))


def correlation(state: PairState, theta_a: float, theta_b: float) -> float:
    """E(theta_a, theta_b) = P(equal outcomes) - P(different outcomes)."""
    p = xz_measurement_probabilities(state, theta_a, theta_b)
    return p[0] + p[3] - p[1] - p[2]


def chsh_of_state(state: PairState) -> float:
    """The exact S of a pair with the CHSH settings."""
    return sum(
        SIGNS[x][y] * correlation(state, ANGLES_A[x], ANGLES_B[y]) for x in (0, 1) for y in (0, 1)
    )


@dataclass(frozen=True, slots=True)
class ChshShot:
    """One measured pair: the settings x (side a), y (side b) and the outcomes."""

    x: int
    y: int
    a: int
    b: int


def measure_chsh(state: PairState, rng: np.random.Generator) -> ChshShot:
    """Choose both settings uniformly and draw the outcomes from the state's joint statistics."""
    x = 1 if rng.random() < 0.5 else 0
    y = 1 if rng.random() < 0.5 else 0
    if isinstance(state, BellDiagonal):
        probabilities = _bell_diagonal_probabilities(state, ANGLES_A[x], ANGLES_B[y])
    else:
        probabilities = _exact_probabilities(density_matrix_of(state), _CHSH_BASES[x][y])
    joint = draw_joint_outcome(probabilities, rng.random())
    return ChshShot(x, y, joint >> 1, joint & 1)


@dataclass(frozen=True, slots=True)
class ChshEstimate:
    """S estimated from shots, with its standard error and the shots per setting."""

    s: float
    stderr: float
    shots: tuple[tuple[int, int], tuple[int, int]]


@dataclass(slots=True)
class ChshTally:
    """Running counts of shots and of equal outcomes per setting pair.

    E(x, y) is estimated by the mean of (-1)^(a + b) over the n_xy shots with
    those settings, unbiased for every n_xy >= 1; the four means are
    independent given the n_xy, so Var(S_est) = sum (1 - E_xy^2) / n_xy,
    estimated by plugging in the E estimates.
    """

    shots: list[list[int]] = field(default_factory=lambda: [[0, 0], [0, 0]])
    equal: list[list[int]] = field(default_factory=lambda: [[0, 0], [0, 0]])

    def add(self, shot: ChshShot) -> None:
        """Count one measured pair."""
        self.shots[shot.x][shot.y] += 1
        if shot.a == shot.b:
            self.equal[shot.x][shot.y] += 1

    def estimate(self) -> ChshEstimate:
        """S and its standard error; ValueError until every setting pair has a shot."""
        s, variance = 0.0, 0.0
        for x in (0, 1):
            for y in (0, 1):
                n = self.shots[x][y]
                if n == 0:
                    raise ValueError(f"no shot with settings (x={x}, y={y}) yet: S is undefined")
                e = (2.0 * self.equal[x][y] - n) / n
                s += SIGNS[x][y] * e
                variance += (1.0 - e * e) / n
        counts = ((self.shots[0][0], self.shots[0][1]), (self.shots[1][0], self.shots[1][1]))
        return ChshEstimate(s, math.sqrt(variance), counts)
