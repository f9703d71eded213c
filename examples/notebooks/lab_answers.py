"""Reference answers to the labs' exercises: try the exercise before you read on.

Each answer is worked out from the physics with plain ``math``, not taken
from ``qstack.physics.formulas``: the notebooks check it (or your own answer)
against qstack's closed forms and against the simulation, so the two must
be derived independently.
"""

from __future__ import annotations

import math

# -- lab 1: a heralded link and the link layer's queue ---------------------------


def double_click_probability(
    length_km: float, detector_efficiency: float, attenuation_db_per_km: float = 0.2
) -> float:
    """Both photons reach the middle station and are detected (eta each), and only
    the odd-parity half of the two spins' state (one photon per round) heralds (1/2)."""
    eta = detector_efficiency * math.pow(10.0, -attenuation_db_per_km * (length_km / 2.0) / 10.0)
    return eta * eta / 2.0


def attempt_time_s(length_km: float, prep_s: float = 1e-6, km_per_s: float = 2.0e5) -> float:
    """Preparation, the photon's flight to the middle, and the herald's flight back."""
    return prep_s + (length_km / 2.0 + length_km / 2.0) / km_per_s


def time_per_pair_s(p: float, attempt_s: float) -> float:
    """Attempts until the first success are geometric: on average 1/p of them."""
    return attempt_s / p


def herald_rows(pairs: int) -> int:
    """Every pair but the last takes ``queued --> queued: Herald / OK``; the last one
    takes ``queued --> done``."""
    return pairs - 1


def low_priority_latency_s(p: float, attempt_s: float, first: int, second: int) -> float:
    """The second request's j-th pair comes after first + j link pairs, each T/p on
    average; its latency averaged over j = 1..second is (T/p)(first + (second + 1)/2)."""
    return attempt_s / p * (first + (second + 1) / 2.0)


# -- lab 2: a repeater chain, swapping and cutoffs -------------------------------


def _w(fidelity: float) -> float:
    return (4.0 * fidelity - 1.0) / 3.0


def _f(w: float) -> float:
    return (1.0 + 3.0 * w) / 4.0


def chain_fidelity(fidelities: list[float]) -> float:
    """Swapping Werner pairs multiplies their Werner parameters."""
    return _f(math.prod(_w(f) for f in fidelities))


def two_link_mean_slots(p: float) -> float:
    """E[max(X, Y)] = E[X] + E[Y] - E[min(X, Y)]; min(X, Y) is geometric with
    success probability 1 - (1 - p)^2 = p (2 - p)."""
    return 2.0 / p - 1.0 / (p * (2.0 - p))


def two_link_mean_fidelity(fidelity: float, p: float, attempt_s: float, memory_t_s: float) -> float:
    """Each link pair is heralded with w = w(F); the first one then waits D = |X - Y|
    slots for the other, losing z^D with z = e^(-2 T / T_mem) (two qubits, each
    e^(-T/T_mem) a slot). P(D = 0) = p/(2 - p), P(D = k) = 2 p (1-p)^k/(2 - p),
    so E[z^D] = p/(2 - p) (1 + 2 r/(1 - r)) with r = (1 - p) z."""
    z = math.exp(-2.0 * attempt_s / memory_t_s)
    r = (1.0 - p) * z
    mean_z_wait = p / (2.0 - p) * (1.0 + 2.0 * r / (1.0 - r))
    w_link = _w(fidelity)
    return _f(w_link * w_link * mean_z_wait)


def cutoff_floor(fidelity: float, cutoff_s: float, memory_t_s: float) -> float:
    """The oldest pair a swap can use was heralded ``cutoff_s`` ago; the second is
    swapped the moment it is heralded."""
    w = _w(fidelity)
    return _f(w * w * math.exp(-2.0 * cutoff_s / memory_t_s))


# -- lab 3: QKD with an eavesdropper ---------------------------------------------


def intercept_resend_qber(f: float) -> float:
    """Eve measures a fraction f of the pairs, in the wrong basis half of the time; a
    wrong-basis measurement makes Bob's result a coin toss (wrong half the time)."""
    return f * 0.5 * 0.5


def secret_fraction(q: float) -> float:
    """Shor-Preskill: error correction costs h(q), privacy amplification another h(q)."""
    if q <= 0.0:
        return 1.0
    if q >= 0.5:
        return 0.0
    h = -q * math.log2(q) - (1.0 - q) * math.log2(1.0 - q)
    return max(0.0, 1.0 - 2.0 * h)


def abort_threshold() -> float:
    """The QBER where 1 - 2 h(q) reaches 0, by bisection between 0 and 1/2."""
    low, high = 0.0, 0.5
    for _ in range(60):
        middle = (low + high) / 2.0
        h = -middle * math.log2(middle) - (1.0 - middle) * math.log2(1.0 - middle)
        if 1.0 - 2.0 * h > 0.0:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0
