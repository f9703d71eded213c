"""Distributed phase estimation with an n-qubit GHZ probe (networked sensors and clocks).

Each of the n sensors holds one qubit of the probe and imprints the same
unknown phase phi on it (|1> -> e^(i phi) |1>, e.g. a clock's detuning over
the interrogation time, as in the clock network of Komar et al., Nature
Physics 10, 582 (2014)).  A GHZ probe (|0..0> + |1..1>)/sqrt 2 collects n phi;
every sensor measures X and the product of the n outcomes (the parity) has
mean <X^(x)n> = V cos(n phi), with V the probe's coherence (1 for a perfect
GHZ state).  N repetitions give the mean parity m; the estimator is
phi_est = arccos(m / V) / n, unambiguous for n phi in [0, pi] (the fringe
is n times narrower than one sensor's: the price of the gain).

Error against the limits: ``formulas.parity_phase_error`` (delta method),
``formulas.standard_quantum_limit`` (N n independent sensors),
``formulas.heisenberg_limit`` (all N n probe uses entangled) and
``formulas.ghz_cramer_rao_bound`` (N perfect n-qubit GHZ probes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qstack.physics import multiqubit as mq
from qstack.physics._validate import check_probability
from qstack.physics.density import Matrix


def _popcounts(n: int) -> npt.NDArray[np.int64]:
    states = np.arange(1 << n)
    return np.array([int(s).bit_count() for s in states], dtype=np.int64)


def imprint_phase(rho: Matrix, phase: float) -> Matrix:
    """Every qubit gets diag(1, e^(i phase)): rho_(xy) -> rho_(xy) e^(i phase (|x| - |y|))."""
    factors = np.exp(1j * phase * _popcounts(mq.qubit_count(rho)))
    out: Matrix = rho * np.outer(factors, factors.conj())
    return out


def sensor_noise(rho: Matrix, depolarizing_keep: float = 1.0, dephasing: float = 0.0) -> Matrix:
    """Each qubit depolarised (kept with ``depolarizing_keep``) and dephased (Z with ``dephasing``).

    Both scale the GHZ coherence |0..0><1..1| by a factor per qubit (keep and
    1 - 2 dephasing), so V = (keep (1 - 2 q))^n (``formulas.ghz_visibility``).
    """
    check_probability("depolarizing_keep", depolarizing_keep)
    check_probability("dephasing", dephasing)
    for qubit in range(mq.qubit_count(rho)):
        rho = mq.dephase(mq.depolarize_qubit(rho, qubit, depolarizing_keep), qubit, dephasing)
    return rho


def parity_expectation(rho: Matrix) -> float:
    """<X^(x)n> = sum_x rho_(x, not x): the mean of the sensors' outcome product."""
    dim = rho.shape[0]
    index = np.arange(dim)
    return float(np.real(rho[index, dim - 1 - index].sum()))


def sample_parities(
    rho: Matrix, repetitions: int, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Each sensor measures X on its qubit of ``repetitions`` fresh probes: the products (+-1).

    The joint outcome (bit 0 = eigenvalue +1) is drawn from the diagonal of
    H^(x)n rho H^(x)n, i.e. from the sensors' true joint statistics.
    """
    n = mq.qubit_count(rho)
    rotated = rho
    for qubit in range(n):
        rotated = mq.apply_unitary(rotated, mq.HADAMARD, [qubit])
    probabilities = np.clip(np.real(np.diag(rotated)), 0.0, None)
    outcomes = rng.choice(1 << n, size=repetitions, p=probabilities / probabilities.sum())
    parities: npt.NDArray[np.int64] = 1 - 2 * (_popcounts(n)[outcomes] & 1)
    return parities


def estimate_phase(mean_parity: float, qubits: int, visibility: float) -> float:
    """arccos(m / V) / n, with m / V clipped to [-1, 1]; the phase in [0, pi / n]."""
    return math.acos(max(-1.0, min(1.0, mean_parity / visibility))) / qubits


@dataclass(frozen=True, slots=True)
class PhaseEstimate:
    """One estimation run: the estimate and the data it came from."""

    estimate: float
    mean_parity: float
    repetitions: int
    qubits: int


def estimate_from_probe(
    probe: Matrix,
    phase: float,
    repetitions: int,
    rng: np.random.Generator,
    visibility: float,
    *,
    depolarizing_keep: float = 1.0,
    dephasing: float = 0.0,
) -> PhaseEstimate:
    """Imprint ``phase`` on ``repetitions`` copies of ``probe``, let the sensors' noise act,
    measure the parities and estimate the phase with the (calibrated) ``visibility``."""
    if repetitions < 1:
        raise ValueError(f"repetitions must be >= 1, got {repetitions!r}")
    state = sensor_noise(imprint_phase(probe, phase), depolarizing_keep, dephasing)
    mean = float(sample_parities(state, repetitions, rng).mean())
    n = mq.qubit_count(probe)
    return PhaseEstimate(estimate_phase(mean, n, visibility), mean, repetitions, n)
