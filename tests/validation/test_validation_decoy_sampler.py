"""Sampled decoy-state BB84 pulses against the closed forms of ``qstack.qkd.decoy``.

Every statistic below is a count of independent Bernoulli trials (pulses or
clicks), so an observed frequency over N trials has standard error
sqrt(p (1 - p) / N) around its closed-form p. Checks allow 5 standard errors:
a correct sampler fails one with probability ~6e-7 (two-sided normal tail),
and the runs are seeded, so a pass is reproducible.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.qkd import ParityOracle, ToeplitzHash, cascade, estimate_qber, sift, verify_keys
from qstack.qkd.decoy import (
    WcpLink,
    decoy_secret_key_length,
    expected_stats,
    photon_error_rate,
    photon_yield,
)
from qstack.qkd.decoy_sampler import (
    DECOY,
    SIGNAL,
    VACUUM,
    DecoySettings,
    DetectionRecord,
    observed_estimate,
    sample_pulses,
)

# Dark counts high enough that the vacuum class clicks measurably in a short run.
LINK = WcpLink(
    attenuation_db_per_km=0.2, bob_efficiency=0.1, dark_count_yield=2e-3, misalignment=0.02
)
LENGTH_KM = 10.0
SETTINGS = DecoySettings(intensities=(0.5, 0.1, 0.0), class_probabilities=(0.5, 0.25, 0.25))
PULSES = 1_000_000
SIGMAS = 5.0


def within(observed: float, p: float, trials: int) -> bool:
    return abs(observed - p) <= SIGMAS * math.sqrt(p * (1.0 - p) / trials)


@pytest.fixture(scope="module")
def record() -> DetectionRecord:
    return sample_pulses(LINK, LENGTH_KM, SETTINGS, PULSES, np.random.default_rng(2024))


def test_class_frequencies(record: DetectionRecord) -> None:
    for cls, p in enumerate(SETTINGS.class_probabilities):
        assert within(record.sent[cls] / PULSES, p, PULSES)


def test_gains_match_closed_form(record: DetectionRecord) -> None:
    """Q_k = 1 - (1 - Y0) e^(-eta mu_k): clicks per pulse sent in class k."""
    eta = LINK.transmittance(LENGTH_KM)
    for cls, mu in enumerate(SETTINGS.intensities):
        expected = expected_stats(mu, eta, LINK.dark_count_yield, LINK.misalignment)
        observed = record.stats(cls, mu)
        assert within(observed.gain, expected.gain, int(record.sent[cls]))


def test_qbers_match_closed_form(record: DetectionRecord) -> None:
    """E_k over the sifted clicks of class k (vacuum: 1/2, dark counts carry no bit)."""
    eta = LINK.transmittance(LENGTH_KM)
    for cls, mu in enumerate(SETTINGS.intensities):
        expected = expected_stats(mu, eta, LINK.dark_count_yield, LINK.misalignment)
        mask = record.of_class(cls) & (record.alice_bases == record.bob_bases)
        sifted = int(np.count_nonzero(mask))
        assert sifted > 100
        assert within(record.stats(cls, mu).qber, expected.qber, sifted)


def test_photon_number_yields_do_not_depend_on_the_class(record: DetectionRecord) -> None:
    """The decoy premise: Y_n and e_n depend on n only, not on which intensity sent it."""
    eta = LINK.transmittance(LENGTH_KM)
    for cls in (SIGNAL, DECOY, VACUUM):
        for n in (0, 1, 2):
            sent = int(record.sent_by_photons[cls, n])
            if sent < 2000:
                continue
            mask = record.of_class(cls) & (record.photons == n)
            assert within(int(np.count_nonzero(mask)) / sent, photon_yield(n, eta, 2e-3), sent)
            sifted = mask & (record.alice_bases == record.bob_bases)
            k = int(np.count_nonzero(sifted))
            if k >= 200:
                errors = np.count_nonzero(record.alice_bits[sifted] != record.bob_bits[sifted])
                assert within(errors / k, photon_error_rate(n, eta, 2e-3, 0.02), k)


def test_double_clicks_and_sifting(record: DetectionRecord) -> None:
    """P(double) = d (1 - e^(-eta mu)) + d^2 e^(-eta mu); bases agree with p_Z^2 + p_X^2."""
    eta = LINK.transmittance(LENGTH_KM)
    d = LINK.dark_count_probability
    mu = SETTINGS.intensities[SIGNAL]
    unseen = math.exp(-eta * mu)
    doubles = np.count_nonzero(record.double_click & record.of_class(SIGNAL))
    sent = int(record.sent[SIGNAL])
    assert within(doubles / sent, d * (1.0 - unseen) + d * d * unseen, sent)
    clicks = record.index.size
    agree = np.count_nonzero(record.alice_bases == record.bob_bases)
    assert within(agree / clicks, SETTINGS.sifting_probability, clicks)


def test_biased_bases() -> None:
    """With p_Z = 0.9 Alice's Z share is 0.9 and bases agree with 0.82."""
    biased = DecoySettings((0.5, 0.1, 0.0), (0.8, 0.1, 0.1), z_basis_probability=0.9)
    rec = sample_pulses(LINK, LENGTH_KM, biased, 300_000, np.random.default_rng(5))
    clicks = rec.index.size
    assert within(np.count_nonzero(rec.alice_bases == 0) / clicks, 0.9, clicks)
    agree = np.count_nonzero(rec.alice_bases == rec.bob_bases)
    assert within(agree / clicks, 0.82, clicks)


def test_same_seed_same_record_across_batches() -> None:
    """Bit-for-bit reproducible, including a run longer than one batch (2^20 pulses)."""
    runs = [
        sample_pulses(LINK, LENGTH_KM, SETTINGS, 1_100_000, np.random.default_rng(9))
        for _ in range(2)
    ]
    for name in ("index", "intensity_class", "alice_bits", "bob_bits", "bob_bases"):
        assert np.array_equal(getattr(runs[0], name), getattr(runs[1], name))
    assert np.array_equal(runs[0].sent, runs[1].sent)
    assert int(runs[0].sent.sum()) == 1_100_000
    assert runs[0].index.max() >= 1 << 20


def test_signal_bits_through_the_post_processing_chain() -> None:
    """Signal clicks -> sifting -> QBER sample -> Cascade -> verification -> decoy key length
    -> Toeplitz hashing: both ends hold the same, non-empty key."""
    link = WcpLink(0.2, 0.1, 2e-5, 0.02)
    settings = DecoySettings((0.5, 0.1, 0.0), (0.6, 0.2, 0.2))
    rng = np.random.default_rng(77)
    rec = sample_pulses(link, LENGTH_KM, settings, 2_000_000, rng)
    a_bits, b_bits, a_bases, b_bases = rec.key_material(SIGNAL)
    sifted = sift(a_bits, b_bits, a_bases, b_bases)
    est = estimate_qber(sifted.alice, sifted.bob, rng, bases=sifted.bases, sample_fraction=0.1)
    ec = cascade(est.bob, ParityOracle(est.alice), max(est.qber, 0.01), rng)
    check = verify_keys(est.alice, ec.key, rng)
    assert check.match
    mu = settings.intensities[SIGNAL]
    length = decoy_secret_key_length(
        int(est.alice.size),
        rec.stats(SIGNAL, mu),
        observed_estimate(rec, settings),
        ec.leaked_bits + check.leaked_bits,
    )
    assert length > 0
    pa = ToeplitzHash.random(rng, int(est.alice.size), length)
    assert np.array_equal(pa(est.alice), pa(ec.key))


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(ValueError, match="mu > nu"):
        DecoySettings((0.1, 0.5, 0.0), (0.5, 0.25, 0.25))
    with pytest.raises(ValueError, match="vacuum"):
        DecoySettings((0.5, 0.1, 0.05), (0.5, 0.25, 0.25))
    with pytest.raises(ValueError, match="sum to 1"):
        DecoySettings((0.5, 0.1, 0.0), (0.5, 0.25, 0.2))
    with pytest.raises(ValueError, match="pulses"):
        sample_pulses(LINK, 1.0, SETTINGS, -1, np.random.default_rng(0))
