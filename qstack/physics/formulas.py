"""Closed-form results used to cross-check the state operations.

All functions are pure and take durations in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from qstack.physics._validate import (
    check_distribution,
    check_non_negative,
    check_positive,
    check_probability,
)


def werner_parameter(fidelity: float) -> float:
    """w in rho = w |Phi+><Phi+| + (1 - w) I/4; from F = w + (1 - w)/4."""
    return (4.0 * fidelity - 1.0) / 3.0


def fidelity_from_werner(w: float) -> float:
    """F = (1 + 3 w) / 4, the inverse of ``werner_parameter``."""
    return (1.0 + 3.0 * w) / 4.0


def swap_werner_fidelity(f1: float, f2: float) -> float:
    """Fidelity after swapping two Werner pairs: F1 F2 + (1 - F1)(1 - F2)/3.

    Swapping multiplies Werner parameters (the I/4 part stays I/4), and
    (1 + 3 w1 w2)/4 expands to this expression.
    """
    return f1 * f2 + (1.0 - f1) * (1.0 - f2) / 3.0


def chain_fidelity(fidelities: Iterable[float]) -> float:
    """Fidelity after swapping a chain of Werner links: Werner parameters multiply."""
    w = 1.0
    count = 0
    for f in fidelities:
        w *= werner_parameter(f)
        count += 1
    if count == 0:
        raise ValueError("fidelities must contain at least one link, got none")
    return fidelity_from_werner(w)


def depolarized_fidelity(fidelity: float, t_s: float, memory_t_s: float) -> float:
    """Werner pair with both qubits stored for t in depolarising memory of time T.

    Each side multiplies w by e^(-t/T), so w -> w e^(-2t/T).
    """
    check_non_negative("t_s", t_s)
    check_positive("memory_t_s", memory_t_s)
    return fidelity_from_werner(werner_parameter(fidelity) * math.exp(-2.0 * t_s / memory_t_s))


def bbpssw(fidelity: float) -> tuple[float, float]:
    """(success probability, output fidelity) of one BBPSSW round on two Werner pairs.

    Bennett et al., PRL 76, 722 (1996): with e = (1 - F)/3,
    p = F^2 + 2 F e + 5 e^2 and F' = (F^2 + e^2) / p.
    """
    e = (1.0 - fidelity) / 3.0
    p = fidelity * fidelity + 2.0 * fidelity * e + 5.0 * e * e
    return p, (fidelity * fidelity + e * e) / p


def dejmps(
    probabilities: tuple[float, float, float, float],
) -> tuple[float, tuple[float, float, float, float]]:
    """One DEJMPS round on two copies of a Bell-diagonal state (Deutsch et al., PRL 77, 2818).

    In the paper's notation A, B, C, D = p_Phi+, p_Psi-, p_Psi+, p_Phi-
    (our indices 0, 3, 1, 2): N = (A + B)^2 + (C + D)^2, A' = (A^2 + B^2)/N,
    B' = 2 C D / N, C' = (C^2 + D^2)/N, D' = 2 A B / N.  Returns N and the
    output in our index order.
    """
    p0, p1, p2, p3 = check_distribution("probabilities", probabilities)
    n = (p0 + p3) ** 2 + (p1 + p2) ** 2
    return n, (
        (p0 * p0 + p3 * p3) / n,
        (p1 * p1 + p2 * p2) / n,
        2.0 * p0 * p3 / n,
        2.0 * p1 * p2 / n,
    )


def double_click_success_probability(eta: float) -> float:
    """Barrett-Kok without dark counts: both photons must arrive (eta^2), odd parity (1/2)."""
    return eta * eta / 2.0


def single_click_success_probability(alpha: float, eta: float) -> float:
    """Single-click without dark counts: P(at least one photon detected).

    2 alpha (1 - alpha) eta + alpha^2 (1 - (1 - eta)^2) = alpha eta (2 - alpha eta).
    """
    return alpha * eta * (2.0 - alpha * eta)


def single_click_fidelity(alpha: float, eta: float) -> float:
    """Single-click without dark counts: one-photon share of successes, 2(1 - a)/(2 - a eta)."""
    return 2.0 * (1.0 - alpha) / (2.0 - alpha * eta)


def fiber_transmittance(length_km: float, alpha_db_per_km: float) -> float:
    """10^(-alpha L / 10)."""
    return math.pow(10.0, -alpha_db_per_km * length_km / 10.0)


def binary_entropy(p: float) -> float:
    """h(p) = -p log2 p - (1 - p) log2 (1 - p), with h(0) = h(1) = 0."""
    check_probability("p", p)
    if p in (0.0, 1.0):
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


def qber_from_werner(fidelity: float) -> float:
    """Error rate in Z (or X) of a Werner pair: two of the three non-target states flip it."""
    return 2.0 * (1.0 - fidelity) / 3.0


def bb84_secret_fraction(qber: float) -> float:
    """Asymptotic BB84 / BBM92 key fraction with equal X and Z error rates (Shor-Preskill)."""
    return max(0.0, 1.0 - 2.0 * binary_entropy(qber))


def plob_bound(eta: float) -> float:
    """Repeaterless secret-key capacity -log2(1 - eta) per channel use (Pirandola et al. 2017)."""
    return -math.log2(1.0 - eta) if eta < 1.0 else math.inf


def tgw_bound(eta: float) -> float:
    """Takeoka-Guha-Wilde upper bound log2((1 + eta)/(1 - eta)) per channel use.

    Takeoka, Guha & Wilde, Nat. Commun. 5, 5235 (2014): the squashed-entanglement
    bound on the secret-key capacity of a pure-loss channel of transmittance eta.
    It exceeds PLOB by log2(1 + eta) (at most one bit) and is twice PLOB to first
    order in eta (2 eta / ln 2 against eta / ln 2).
    """
    check_probability("eta", eta)
    if eta >= 1.0:
        return math.inf
    return (math.log1p(eta) - math.log1p(-eta)) / math.log(2.0)


def mean_attempts(p: float) -> float:
    """Mean of a geometric number of attempts with success probability p."""
    return 1.0 / p


def swap_asap_mean_slots(p: float) -> float:
    """Mean slots until both links of a two-link repeater hold a pair, then swap at once.

    One memory per side: each link retries every slot until it succeeds and
    then waits, so the time is max(X, Y) of two independent geometric(p)
    variables.  E[max] = E[X] + E[Y] - E[min] = 2/p - 1/(1 - (1 - p)^2)
    = (3 - 2 p) / (p (2 - p)).
    """
    return (3.0 - 2.0 * p) / (p * (2.0 - p))
