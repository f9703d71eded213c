"""The bb84 application against Lo, Ma & Chen (PRL 94, 230504 (2005)) with GYS's hardware.

Closed forms: ``qstack.qkd.decoy`` (the channel model of Ma, Qi, Zhao & Lo,
PRA 72, 012326 (2005), which the pulse sampler draws from exactly): the
signal's gain Q_mu = 1 - (1 - Y0) e^(-eta mu) and error rate E_mu, and the
GLLP rate from the vacuum + weak decoy bounds, with GYS's parameters
(Gobby, Yuan & Shields, APL 84, 3762 (2004): alpha 0.21 dB/km, eta_Bob
4.5 %, Y0 1.7e-6, e_detector 3.3 %, f = 1.22); their maximum distance,
about 142 km with infinite decoys (``tests/qkd/test_qkd_decoy.py``), is
where the rate vanishes.

Tolerances, all two-sided at ALPHA:
- gain: clicks of the n_S signal pulses are binomial, sd sqrt(Q (1 - Q) / n_S);
- QBER: errors of the sifted signal clicks are binomial given their number
  n_sift, sd sqrt(E (1 - E) / n_sift);
- key rate: R is a smooth function of five independent observed figures
  (Q_mu, E_mu, Q_nu, E_nu, Y0), so by the delta method its sd is
  sqrt(sum (dR/dx_i)^2 var(x_i)), with the binomial variances above (E's
  over the expected number of sifted clicks) and the derivatives taken
  numerically on the closed form at the expected values.
"""

from __future__ import annotations

import math

import pytest
from _validation_helpers import ALPHA
from scipy import stats

from qstack.layers.app.bb84_link import NO_KEY_SIGNAL_INTENSITY
from qstack.qkd import decoy
from qstack.qkd.decoy import IntensityStats, gllp_rate, vacuum_weak_estimate
from tests.apps._apps_helpers import bb84_chain as chain
from tests.apps._apps_helpers import bb84_report as _entry
from tests.apps._apps_helpers import run_traced as _run

Z = float(stats.norm.ppf(1 - ALPHA / 2))
GYS = decoy.GYS_LINK
Y0, E_DETECTOR = GYS.dark_count_yield, GYS.misalignment
#: Class probabilities and weak decoy of the bb84 defaults (signal, decoy, vacuum).
CLASSES = (0.8, 0.1, 0.1)
NU = 0.1


def _rate(figures: list[float], mu: float) -> float:
    q_mu, e_mu, q_nu, e_nu, y0 = figures
    signal, weak = IntensityStats(mu, q_mu, e_mu), IntensityStats(NU, q_nu, e_nu)
    estimate = vacuum_weak_estimate(signal, weak, y0)
    return gllp_rate(signal, estimate, GYS.ec_efficiency, GYS.sifting_factor)


def _rate_sd(figures: list[float], mu: float, pulses: int) -> float:
    q_mu, e_mu, q_nu, e_nu, y0 = figures
    n_s, n_d, n_v = (pulses * p for p in CLASSES)
    sift = GYS.sifting_factor
    variances = [
        q_mu * (1 - q_mu) / n_s,
        e_mu * (1 - e_mu) / (n_s * q_mu * sift),
        q_nu * (1 - q_nu) / n_d,
        e_nu * (1 - e_nu) / (n_d * q_nu * sift),
        y0 * (1 - y0) / n_v,
    ]
    total = 0.0
    for i, variance in enumerate(variances):
        step = math.sqrt(variance) * 1e-3
        up, down = list(figures), list(figures)
        up[i] += step
        down[i] -= step
        slope = (_rate(up, mu) - _rate(down, mu)) / (2 * step)
        total += slope * slope * variance
    return math.sqrt(total)


def _check(length_km: float, pulses: int, seed: int) -> float:
    entry = _entry(_run(chain(length_km, pulses, seed=seed))[1])
    assert entry.status == "done", entry.error
    mu = entry.signal_intensity
    assert mu == pytest.approx(decoy.optimal_intensity(GYS, length_km, NU)[0])
    eta = GYS.transmittance(length_km)
    signal = decoy.expected_stats(mu, eta, Y0, E_DETECTOR)
    weak = decoy.expected_stats(NU, eta, Y0, E_DETECTOR)
    n_signal = pulses * CLASSES[0]
    assert entry.gain_signal is not None and entry.qber_signal is not None
    gain_sd = math.sqrt(signal.gain * (1 - signal.gain) / n_signal)
    assert abs(entry.gain_signal - signal.gain) < Z * gain_sd
    n_sift = entry.gain_signal * n_signal * GYS.sifting_factor
    qber_sd = math.sqrt(signal.qber * (1 - signal.qber) / n_sift)
    assert abs(entry.qber_signal - signal.qber) < Z * qber_sd
    figures = [signal.gain, signal.qber, weak.gain, weak.qber, Y0]
    expected_rate = decoy.key_rate(GYS, length_km, mu, NU)
    assert _rate(figures, mu) == pytest.approx(expected_rate, rel=1e-12)
    assert entry.key_rate_per_pulse is not None
    assert abs(entry.key_rate_per_pulse - expected_rate) < Z * _rate_sd(figures, mu, pulses)
    return expected_rate


@pytest.mark.slow
def test_gain_qber_and_rate_at_25_km() -> None:
    assert _check(25.0, 10**7, seed=21) > 0


@pytest.mark.slow
def test_gain_qber_and_rate_at_100_km() -> None:
    assert _check(100.0, 10**8, seed=22) > 0


@pytest.mark.slow
def test_no_key_beyond_the_maximum_distance() -> None:
    # At 160 km (beyond the ~140 km of the vacuum + weak decoy protocol with
    # nu = 0.1, and the 142 km of infinite decoys) the closed-form rate is
    # negative at every intensity: the signal's gain and QBER still match the
    # model, and no key is made.
    length = 160.0
    assert decoy.max_distance_km(GYS, NU) < length
    assert decoy.optimal_intensity(GYS, length, NU)[1] < 0
    entry = _entry(_run(chain(length, 10**8, seed=23))[1])
    assert entry.secret_key_bits == 0
    assert entry.signal_intensity == NO_KEY_SIGNAL_INTENSITY  # no intensity gives a key
    eta = GYS.transmittance(length)
    signal = decoy.expected_stats(entry.signal_intensity, eta, Y0, E_DETECTOR)
    n_signal = 10**8 * CLASSES[0]
    assert entry.gain_signal is not None and entry.qber_signal is not None
    assert abs(entry.gain_signal - signal.gain) < Z * math.sqrt(signal.gain / n_signal)
    n_sift = entry.gain_signal * n_signal * GYS.sifting_factor
    assert abs(entry.qber_signal - signal.qber) < Z * math.sqrt(
        signal.qber * (1 - signal.qber) / n_sift
    )
