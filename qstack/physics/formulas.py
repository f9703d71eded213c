"""Closed-form results used to cross-check the state operations.

All functions are pure and take durations in seconds.  Closed forms of the
applications built on several pairs (GHZ, sensing, CHSH, remote gates) are
in ``qstack.physics.app_formulas``.
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


def _werner_product(fidelities: Iterable[float]) -> tuple[float, int]:
    """(product of the links' Werner parameters, number of links); at least one link."""
    w = 1.0
    count = 0
    for f in fidelities:
        w *= werner_parameter(f)
        count += 1
    if count == 0:
        raise ValueError("fidelities must contain at least one link, got none")
    return w, count


def chain_fidelity(fidelities: Iterable[float]) -> float:
    """Fidelity after swapping a chain of Werner links: Werner parameters multiply."""
    return fidelity_from_werner(_werner_product(fidelities)[0])


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


def double_click_success_probability(eta: float, eta_b: float | None = None) -> float:
    """Barrett-Kok without dark counts: both photons must arrive (eta^2), odd parity (1/2).

    Unequal arms: each spin sends one photon through each arm over the two
    rounds, so the probability is eta_a eta_b / 2 and the state stays exact.
    """
    if eta_b is None:
        return eta * eta / 2.0
    return eta * eta_b / 2.0


def single_click_success_probability(alpha: float, eta: float) -> float:
    """Single-click without dark counts: P(at least one photon detected).

    2 alpha (1 - alpha) eta + alpha^2 (1 - (1 - eta)^2) = alpha eta (2 - alpha eta).
    """
    return alpha * eta * (2.0 - alpha * eta)


def single_click_fidelity(alpha: float, eta: float) -> float:
    """Single-click without dark counts: one-photon share of successes, 2(1 - a)/(2 - a eta)."""
    return 2.0 * (1.0 - alpha) / (2.0 - alpha * eta)


def single_click_unequal(
    alpha_a: float, alpha_b: float, eta_a: float, eta_b: float
) -> tuple[float, float]:
    """(success probability, heralded fidelity) of single-click with unequal arms, no dark counts.

    With x = alpha_a (1 - alpha_b) eta_a and y = (1 - alpha_a) alpha_b eta_b
    (one photon emitted and detected, from a or from b), a click projects
    the spins on sqrt(x)|10> +- sqrt(y)|01>; two emitted photons click with
    alpha_a alpha_b (1 - (1 - eta_a)(1 - eta_b)).  So
    P = x + y + alpha_a alpha_b (1 - (1 - eta_a)(1 - eta_b)) and
    F = (sqrt x + sqrt y)^2 / (2 P); equal arms give ``single_click_*``.
    """
    x = alpha_a * (1.0 - alpha_b) * eta_a
    y = (1.0 - alpha_a) * alpha_b * eta_b
    p = x + y + alpha_a * alpha_b * (1.0 - (1.0 - eta_a) * (1.0 - eta_b))
    return p, (math.sqrt(x) + math.sqrt(y)) ** 2 / (2.0 * p)


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


def swap_asap_mean_slots(p: float, swap_success_probability: float = 1.0) -> float:
    """Mean slots until a two-link repeater (3 nodes) delivers an end-to-end pair.

    One memory per side: each link retries every slot until it succeeds and
    then waits, so one round lasts max(X, Y) of two independent geometric(p)
    variables.  E[max] = E[X] + E[Y] - E[min] = 2/p - 1/(1 - (1 - p)^2)
    = (3 - 2 p) / (p (2 - p)).  The swap then succeeds with probability a;
    a failure loses both links and a new, independent round starts, so the
    number of rounds is geometric(a) and E[T] = (3 - 2 p) / (a p (2 - p))
    (Wald's identity).  This is the two-segment rate of Shchukin, Schmidt and
    van Loock, arXiv:1710.06214, with deterministic swaps the case a = 1.
    """
    return (3.0 - 2.0 * p) / (p * (2.0 - p)) / swap_success_probability


# -- gate and measurement errors (model: qstack.physics.errors) ---------------------


def noisy_swap_probabilities(
    f1: float, f2: float, gate_error: float, measurement_error: float
) -> tuple[float, float, float, float]:
    """Bell-diagonal state after swapping Werner pairs F1, F2 with a noisy Bell measurement.

    Ideal swapping multiplies Werner parameters: w = w1 w2.  The CNOT's
    depolarising channel randomises the outcome and leaves I/4 with
    probability p_g: w -> w (1 - p_g).  A flipped outcome bit applies a wrong
    X (target bit) or Z (control bit) correction, each with p_m, to the
    Phi+ part: weights (1 - p_m)^2, p_m (1 - p_m), p_m (1 - p_m), p_m^2 on
    Phi+, Psi+, Phi-, Psi-; the I/4 part adds (1 - w)/4 to each.  Twirled, the
    Werner parameter is w (4 (1 - p_m)^2 - 1) / 3, the entanglement-swapping
    result of Dür, Briegel, Cirac and Zoller, PRA 59, 169 (1999) with their
    p = 1 - p_g and eta = 1 - p_m.
    """
    w = werner_parameter(f1) * werner_parameter(f2) * (1.0 - gate_error)
    m = measurement_error
    rest = (1.0 - w) / 4.0
    return (
        w * (1.0 - m) ** 2 + rest,
        w * m * (1.0 - m) + rest,
        w * m * (1.0 - m) + rest,
        w * m * m + rest,
    )


def chain_correlations_with_errors(
    fidelities: Iterable[float], gate_error: float, measurement_error: float
) -> tuple[float, float, float]:
    """Correlations (<XX>, <YY>, <ZZ>) after swapping a chain of Werner links, noisy swaps.

    Swapping Bell-diagonal states multiplies the correlations <XX>, <ZZ> and
    -<YY> of its inputs (a Werner link has (w, -w, w)), whatever the order of
    the swaps.  Each noisy swap multiplies all three by (1 - p_g), and <XX>,
    <ZZ> by (1 - 2 p_m) (one flipped bit each) and <YY> by (1 - 2 p_m)^2
    (either bit).  With W = prod w_i and k = links - 1 swaps:
    <XX> = <ZZ> = W (1 - p_g)^k (1 - 2 p_m)^k, <YY> = -W (1 - p_g)^k (1 - 2 p_m)^(2k).
    """
    w, count = _werner_product(fidelities)
    swaps = count - 1
    w *= (1.0 - gate_error) ** swaps
    flip = (1.0 - 2.0 * measurement_error) ** swaps
    return w * flip, -w * flip * flip, w * flip


def chain_fidelity_with_errors(
    fidelities: Iterable[float], gate_error: float, measurement_error: float
) -> float:
    """Phi+ fidelity (1 + <XX> - <YY> + <ZZ>) / 4 of ``chain_correlations_with_errors``."""
    xx, yy, zz = chain_correlations_with_errors(fidelities, gate_error, measurement_error)
    return (1.0 + xx - yy + zz) / 4.0


def qber_with_measurement_errors(correlation: float, flip_a: float, flip_b: float) -> float:
    """Error rate of a basis whose correlation <sigma (x) sigma> is c, outcomes flipped.

    P(outcomes differ) = (1 - c) / 2; independent flips with probabilities
    f_a, f_b multiply c by (1 - 2 f_a)(1 - 2 f_b).  With c = w this is the
    QBER of a Werner pair, (1 - w (1 - 2 f_a)(1 - 2 f_b)) / 2.
    """
    return 0.5 * (1.0 - correlation * (1.0 - 2.0 * flip_a) * (1.0 - 2.0 * flip_b))


def _noisy_recurrence(
    kept: float, other: float, n: float, gate_error: float, measurement_error: float
) -> tuple[float, float]:
    """(success probability, kept Phi+ weight) of a noisy bilateral-CNOT round.

    ``kept`` / ``other`` are the Phi+ source weights on agreeing / disagreeing
    target parities, ``n`` the ideal success probability.  With
    g = (1 - p_g)^2 and e = 2 p_m (1 - p_m): weight g ((1 - e) kept + e other)
    + (1 - g)/8, probability g ((1 - e) n + e (1 - n)) + (1 - g)/2.
    """
    g = (1.0 - gate_error) ** 2
    e = 2.0 * measurement_error * (1.0 - measurement_error)
    probability = g * ((1.0 - e) * n + e * (1.0 - n)) + (1.0 - g) / 2.0
    return probability, g * ((1.0 - e) * kept + e * other) + (1.0 - g) / 8.0


def bbpssw_with_errors(
    fidelity: float, gate_error: float, measurement_error: float
) -> tuple[float, float]:
    """(success probability, output fidelity) of BBPSSW on two Werner pairs, noisy operations.

    Model of Dür et al., PRA 59, 169 (1999) (see ``qstack.physics.errors``).
    With e = (1 - F)/3 the ideal round keeps F^2 + e^2 on Phi+ out of
    N = F^2 + 2 F e + 5 e^2 (``bbpssw``); runs where the target pairs
    disagree carry F e + e^2 on Phi+.  Depolarising after each side's CNOT
    (joint weight g = (1 - p_g)^2 survives) and misread parities (e = 2 p_m (1 - p_m))
    mix the two, see ``_noisy_recurrence``.
    """
    e = (1.0 - fidelity) / 3.0
    n = fidelity * fidelity + 2.0 * fidelity * e + 5.0 * e * e
    p, kept = _noisy_recurrence(
        fidelity * fidelity + e * e, fidelity * e + e * e, n, gate_error, measurement_error
    )
    return p, kept / p


def dejmps_with_errors(
    probabilities: tuple[float, float, float, float],
    gate_error: float,
    measurement_error: float,
) -> tuple[float, float]:
    """(success probability, output Phi+ weight) of DEJMPS on two copies, noisy operations.

    Paper notation A, B, C, D = p_Phi+, p_Psi-, p_Psi+, p_Phi- (Deutsch et al.,
    PRL 77, 2818 (1996)): the ideal round keeps A^2 + B^2 on Phi+ out of
    N = (A + B)^2 + (C + D)^2; rounds whose targets disagree leave A C + B D
    on Phi+ (after the rotations: source Phi+ / Phi- with target Psi+ / Psi-,
    equal phase bits).  Noise as in ``bbpssw_with_errors``.
    """
    a_, c_, d_, b_ = check_distribution("probabilities", probabilities)
    n = (a_ + b_) ** 2 + (c_ + d_) ** 2
    p, kept = _noisy_recurrence(
        a_ * a_ + b_ * b_, a_ * c_ + b_ * d_, n, gate_error, measurement_error
    )
    return p, kept / p


def dark_count_probability(rate_hz: float, window_s: float) -> float:
    """Probability of at least one dark count in a window: 1 - exp(-rate * window).

    Dark counts of a detector form a Poisson process of rate r, so the
    number in a window of length t is Poisson(r t) and P(>= 1) = 1 - e^(-r t).
    """
    check_non_negative("dark_count_rate_hz", rate_hz)
    check_non_negative("detection_window_s", window_s)
    return -math.expm1(-rate_hz * window_s)
