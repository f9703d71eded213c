"""Decoy-state BB84 with weak coherent pulses: closed forms, decoy estimates, GLLP key rate.

References:
- Lo, Ma & Chen, PRL 94, 230504 (2005): the decoy-state idea and the GLLP rate
  R = q {-Q_mu f(E_mu) H2(E_mu) + Q_1 [1 - H2(e_1)]} per pulse.
- Ma, Qi, Zhao & Lo, PRA 72, 012326 (2005): the channel model and the
  vacuum + weak decoy lower bound on Y_1 and upper bound on e_1.
- Gottesman, Lo, Lutkenhaus & Preskill, Quant. Inf. Comput. 4, 325 (2004) (GLLP):
  only the single-photon part of the signal carries key.
- Gobby, Yuan & Shields, APL 84, 3762 (2004) (GYS): the hardware of ``GYS_LINK``.

The model (the one ``qstack.qkd.decoy_sampler`` draws pulses from, so closed
forms and samples agree exactly): Alice sends a phase-randomised coherent pulse
of mean photon number mu (Poisson photon number). Each photon reaches a click
independently with probability eta = eta_Bob 10^(-alpha L / 10), so an n-photon
pulse is seen with eta_n = 1 - (1 - eta)^n. A seen pulse fires the detector of
the wrong bit value with probability e_detector (misalignment acts on the whole
pulse). Each of Bob's two detectors also fires by itself with probability d per
pulse, where 1 - (1 - d)^2 = Y0; a double click gets a random bit. Then

    Y_n = 1 - (1 - Y0)(1 - eta_n),   Q_mu = 1 - (1 - Y0) e^(-eta mu),
    E_mu Q_mu = (Y0 / 2) e^(-eta mu) + g (1 - e^(-eta mu)),   g = e_detector (1 - d) + d / 2.

Ma et al. linearise in the dark counts (Q_mu = Y0 + 1 - e^(-eta mu),
E_mu Q_mu = Y0/2 + e_detector (1 - e^(-eta mu))); the two differ by
O(Y0 / e_detector) relative, about 1e-5 with GYS's numbers: far below anything
a curve or a test resolves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from qstack.physics._validate import check_non_negative, check_positive, check_probability
from qstack.qkd.privacy import secret_key_length

#: Error rate of a click that carries no signal photon: its bit value is random.
E0 = 0.5
#: Largest signal intensity the optimiser considers (mean photons per pulse).
MAX_SIGNAL_INTENSITY = 1.0
_GOLDEN = 0.5 * (math.sqrt(5.0) - 1.0)
_SEARCH_STEPS = 120


def binary_entropy_clipped(p: float) -> float:
    """H2(p) with p clipped to [0, 1/2]: an error rate above 1/2 carries no more than 1/2."""
    p = min(max(p, 0.0), 0.5)
    if p == 0.0:
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


@dataclass(frozen=True, slots=True)
class WcpLink:
    """A prepare-and-measure BB84 link with weak coherent pulses and threshold detectors.

    ``bob_efficiency`` is eta_Bob, everything on Bob's side (optics and detector
    efficiency); ``dark_count_yield`` is Y0, the probability that Bob clicks on a
    vacuum pulse (both detectors together); ``misalignment`` is e_detector;
    ``ec_efficiency`` is f(E) >= 1 of error correction; ``sifting_factor`` is q,
    the fraction of detections kept after basis comparison (1/2 for BB84 with
    equal basis probabilities).
    """

    attenuation_db_per_km: float
    bob_efficiency: float
    dark_count_yield: float
    misalignment: float
    ec_efficiency: float = 1.22
    sifting_factor: float = 0.5

    def __post_init__(self) -> None:
        check_non_negative("attenuation_db_per_km", self.attenuation_db_per_km)
        check_probability("bob_efficiency", self.bob_efficiency)
        check_probability("dark_count_yield", self.dark_count_yield)
        check_probability("misalignment", self.misalignment)
        if not self.ec_efficiency >= 1.0:
            raise ValueError(f"ec_efficiency must be >= 1, got {self.ec_efficiency!r}")
        check_probability("sifting_factor", self.sifting_factor)

    def transmittance(self, length_km: float) -> float:
        """eta = eta_Bob 10^(-alpha L / 10): probability one photon is detected."""
        check_non_negative("length_km", length_km)
        return self.bob_efficiency * math.pow(10.0, -self.attenuation_db_per_km * length_km / 10.0)

    @property
    def dark_count_probability(self) -> float:
        """d per detector per pulse, from 1 - (1 - d)^2 = Y0."""
        return _per_detector(self.dark_count_yield)


def _per_detector(y0: float) -> float:
    """d with 1 - (1 - d)^2 = Y0: each of two detectors fires alone with probability d."""
    return 1.0 - math.sqrt(1.0 - y0)


#: The GYS experiment's parameters as Ma, Qi, Zhao & Lo (2005) use them
#: (Gobby, Yuan & Shields, APL 84, 3762 (2004)): alpha 0.21 dB/km,
#: e_detector 3.3 %, Y0 1.7e-6, eta_Bob 4.5 %, f(E) 1.22, q 1/2.
GYS_LINK = WcpLink(
    attenuation_db_per_km=0.21,
    bob_efficiency=0.045,
    dark_count_yield=1.7e-6,
    misalignment=0.033,
    ec_efficiency=1.22,
    sifting_factor=0.5,
)


def _seen(n: int, eta: float) -> float:
    """eta_n = 1 - (1 - eta)^n, accurate also when n eta is tiny."""
    if n == 0:
        return 0.0
    return 1.0 if eta >= 1.0 else -math.expm1(n * math.log1p(-eta))


def photon_yield(n: int, eta: float, y0: float) -> float:
    """Y_n = 1 - (1 - Y0)(1 - eta)^n: probability an n-photon pulse makes Bob click."""
    return y0 + (1.0 - y0) * _seen(n, eta)


def _signal_error(e_detector: float, y0: float) -> float:
    """g: error probability of a seen pulse, including a dark click in the other detector."""
    d = _per_detector(y0)
    return e_detector * (1.0 - d) + 0.5 * d


def photon_error_rate(n: int, eta: float, y0: float, e_detector: float) -> float:
    """e_n: bit error rate of clicks caused by n-photon pulses (0 if they never click)."""
    seen = _seen(n, eta)
    errors = (1.0 - seen) * y0 * E0 + seen * _signal_error(e_detector, y0)
    clicks = photon_yield(n, eta, y0)
    return errors / clicks if clicks > 0.0 else 0.0


@dataclass(frozen=True, slots=True)
class IntensityStats:
    """Gain (clicks per pulse) and QBER (errors per sifted click) at one intensity."""

    mu: float
    gain: float
    qber: float


def expected_stats(mu: float, eta: float, y0: float, e_detector: float) -> IntensityStats:
    """Closed-form Q_mu and E_mu of the model in the module docstring."""
    check_non_negative("mu", mu)
    seen = -math.expm1(-eta * mu)
    q = y0 + (1.0 - y0) * seen
    errors = E0 * y0 * (1.0 - seen) + _signal_error(e_detector, y0) * seen
    return IntensityStats(mu, q, errors / q if q > 0.0 else 0.0)


@dataclass(frozen=True, slots=True)
class SinglePhotonEstimate:
    """What the decoy analysis says about single-photon pulses at the signal intensity.

    ``y1`` is a lower bound on Y_1, ``e1`` an upper bound on e_1 and ``q1`` =
    y1 mu e^(-mu) the single-photon gain of the signal (exact values for the
    infinite-decoy limit).
    """

    y1: float
    e1: float
    q1: float


def ideal_estimate(mu: float, eta: float, y0: float, e_detector: float) -> SinglePhotonEstimate:
    """Infinite decoys: Y_1 and e_1 are known exactly (Lo, Ma & Chen 2005)."""
    y1 = photon_yield(1, eta, y0)
    return SinglePhotonEstimate(
        y1, photon_error_rate(1, eta, y0, e_detector), y1 * mu * math.exp(-mu)
    )


def vacuum_weak_estimate(
    signal: IntensityStats, decoy: IntensityStats, vacuum_gain: float
) -> SinglePhotonEstimate:
    """Vacuum + weak decoy bounds (Ma, Qi, Zhao & Lo 2005).

    With signal mu and weak decoy nu < mu, and Y0 = the vacuum pulses' gain:
    Y_1 >= mu / (mu nu - nu^2) [Q_nu e^nu - Q_mu e^mu nu^2/mu^2 - (mu^2 - nu^2)/mu^2 Y0],
    e_1 <= (E_nu Q_nu e^nu - e0 Y0) / (Y_1 nu). Why: Q_k e^k = sum_n Y_n k^n / n!, and
    nu^n <= nu^2 mu^(n-2) for n >= 2 bounds the decoy's multi-photon part by
    nu^2 / mu^2 times the signal's; dropping the (non-negative) multi-photon
    errors bounds e_1. A non-positive Y_1 bound means no single-photon yield can
    be certified: the estimate is then Y_1 = 0, e_1 = 1/2.
    """
    mu, nu = signal.mu, decoy.mu
    if not 0.0 < nu < mu:
        raise ValueError(f"the decoy intensity must satisfy 0 < nu < mu, got nu={nu!r}, mu={mu!r}")
    y0 = vacuum_gain
    ratio = nu * nu / (mu * mu)
    y1 = (
        mu
        / (mu * nu - nu * nu)
        * (decoy.gain * math.exp(nu) - signal.gain * math.exp(mu) * ratio - (1.0 - ratio) * y0)
    )
    if y1 <= 0.0:
        return SinglePhotonEstimate(0.0, E0, 0.0)
    e1 = (decoy.qber * decoy.gain * math.exp(nu) - E0 * y0) / (y1 * nu)
    return SinglePhotonEstimate(y1, min(max(e1, 0.0), E0), y1 * mu * math.exp(-mu))


def gllp_rate(
    signal: IntensityStats,
    estimate: SinglePhotonEstimate,
    ec_efficiency: float,
    sifting_factor: float,
) -> float:
    """R = q {-Q_mu f H2(E_mu) + Q_1 [1 - H2(e_1)]} secret bits per pulse (may be negative).

    A negative value means no key; it is returned as is so that root finders
    see the sign change at the maximum distance.
    """
    ec = signal.gain * ec_efficiency * binary_entropy_clipped(signal.qber)
    single = estimate.q1 * (1.0 - binary_entropy_clipped(estimate.e1))
    return sifting_factor * (single - ec)


def key_rate(link: WcpLink, length_km: float, mu: float, decoy_mu: float | None = None) -> float:
    """Asymptotic key rate per pulse at signal intensity ``mu``.

    ``decoy_mu=None`` is the infinite-decoy limit; a number is the vacuum + weak
    decoy protocol with that weak intensity, its bounds evaluated on the
    expected (noise-free) gains and error rates.
    """
    check_positive("mu", mu)
    eta = link.transmittance(length_km)
    y0, e_det = link.dark_count_yield, link.misalignment
    signal = expected_stats(mu, eta, y0, e_det)
    if decoy_mu is None:
        estimate = ideal_estimate(mu, eta, y0, e_det)
    else:
        decoy = expected_stats(decoy_mu, eta, y0, e_det)
        estimate = vacuum_weak_estimate(signal, decoy, y0)
    return gllp_rate(signal, estimate, link.ec_efficiency, link.sifting_factor)


def _maximise(f: Callable[[float], float], lo: float, hi: float) -> tuple[float, float]:
    """Golden-section search for the maximum of a unimodal f on [lo, hi]."""
    a, b = lo, hi
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(_SEARCH_STEPS):
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = f(d)
    return (c, fc) if fc >= fd else (d, fd)


def optimal_intensity(
    link: WcpLink, length_km: float, decoy_mu: float | None = None
) -> tuple[float, float]:
    """(mu, R): the signal intensity in (nu, 1] maximising the key rate, and that rate."""
    lo = 0.0 if decoy_mu is None else decoy_mu

    def rate(mu: float) -> float:
        # the search may land on the open end (rounding); no signal at or below nu
        return key_rate(link, length_km, mu, decoy_mu) if mu > lo else -math.inf

    return _maximise(rate, lo, MAX_SIGNAL_INTENSITY)


def max_distance_km(
    link: WcpLink, decoy_mu: float | None = None, upper_km: float = 500.0, tol_km: float = 1e-3
) -> float:
    """Largest fibre length with a positive key rate at the optimal signal intensity.

    Bisection on the sign of the optimised rate, which falls with length; the
    result is within ``tol_km`` of the root. Raises if no key exists at 0 km or
    if the rate is still positive at ``upper_km``.
    """
    if optimal_intensity(link, 0.0, decoy_mu)[1] <= 0.0:
        raise ValueError("no positive key rate even at length 0: check the link parameters")
    if optimal_intensity(link, upper_km, decoy_mu)[1] > 0.0:
        raise ValueError(f"key rate still positive at upper_km={upper_km!r}; raise upper_km")
    lo, hi = 0.0, upper_km
    while hi - lo > tol_km:
        mid = 0.5 * (lo + hi)
        if optimal_intensity(link, mid, decoy_mu)[1] > 0.0:
            lo = mid
        else:
            hi = mid
    return lo


def decoy_secret_key_length(
    sifted_signal_bits: int,
    signal: IntensityStats,
    estimate: SinglePhotonEstimate,
    leaked_bits: int,
    security_bits: int = 64,
) -> int:
    """GLLP key length for a block of sifted signal bits, from the decoy estimates.

    The asymptotic GLLP formula applied to the block: the single-photon share of
    the signal clicks is Q_1 / Q_mu, so n_1 = floor(n Q_1 / Q_mu) bits carry key
    at phase error e_1, and ``secret_key_length`` subtracts what reconciliation
    leaked and 2 ``security_bits`` for hashing. No finite-size correction on the
    decoy estimates themselves: this is the asymptotic rate times the block.
    """
    if sifted_signal_bits < 0:
        raise ValueError(f"sifted_signal_bits must be >= 0, got {sifted_signal_bits!r}")
    if signal.gain <= 0.0 or estimate.q1 <= 0.0:
        return 0
    share = min(estimate.q1 / signal.gain, 1.0)
    n1 = math.floor(sifted_signal_bits * share)
    return secret_key_length(n1, estimate.e1, leaked_bits, security_bits)
