"""Sifting and per-basis QBER estimation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.qkd import QberStats, estimate_qber, sift, statistical_deviation


def test_sift_keeps_matching_bases_only() -> None:
    a = np.array([0, 1, 1, 0, 1], np.uint8)
    b = np.array([0, 0, 1, 1, 1], np.uint8)
    ab = np.array([0, 1, 0, 1, 1], np.uint8)
    bb = np.array([0, 0, 0, 1, 0], np.uint8)
    s = sift(a, b, ab, bb)
    assert s.alice.tolist() == [0, 1, 0]
    assert s.bob.tolist() == [0, 1, 1]
    assert s.bases.tolist() == [0, 0, 1]
    assert len(s) == 3


def test_sift_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        sift([0, 1], [0], [0, 0], [0, 0])
    with pytest.raises(ValueError):
        sift([0, 2], [0, 1], [0, 0], [0, 0])


def test_estimate_counts_per_basis_and_partitions_key() -> None:
    rng = np.random.default_rng(0)
    n = 5000
    a = rng.integers(0, 2, n, dtype=np.uint8)
    bases = rng.integers(0, 2, n, dtype=np.uint8)
    flip_z = (rng.random(n) < 0.02) & (bases == 0)
    flip_x = (rng.random(n) < 0.08) & (bases == 1)
    b = a ^ (flip_z | flip_x).astype(np.uint8)
    est = estimate_qber(a, b, np.random.default_rng(1), bases=bases, sample_fraction=0.2)
    pos = est.sample_positions
    assert pos.size == 1000 == est.stats.sample_size
    err = a[pos] != b[pos]
    assert est.stats.errors_z == int((err & (bases[pos] == 0)).sum())
    assert est.stats.errors_x == int((err & (bases[pos] == 1)).sum())
    assert est.stats.samples_x == int((bases[pos] == 1).sum())
    keep = np.ones(n, bool)
    keep[pos] = False
    assert np.array_equal(est.alice, a[keep]) and np.array_equal(est.bob, b[keep])
    assert est.stats.key_bits_z + est.stats.key_bits_x == n - 1000
    assert est.stats.z < est.stats.x  # 2% vs 8% should separate with 500 samples each


def test_estimate_is_deterministic_and_checks_arguments() -> None:
    a = np.zeros(100, np.uint8)
    e1 = estimate_qber(a, a, np.random.default_rng(5), sample_size=10)
    e2 = estimate_qber(a, a, np.random.default_rng(5), sample_size=10)
    assert np.array_equal(e1.sample_positions, e2.sample_positions)
    assert e1.qber == 0.0 and e1.alice.size == 90
    assert math.isnan(e1.stats.x)  # default bases are all Z
    with pytest.raises(ValueError):
        estimate_qber(a, a, np.random.default_rng(5))
    with pytest.raises(ValueError):
        estimate_qber(a, a, np.random.default_rng(5), sample_size=101)


def test_phase_error_rate_uses_complementary_basis() -> None:
    stats = QberStats(
        errors_z=10, samples_z=100, errors_x=30, samples_x=100, key_bits_z=300, key_bits_x=100
    )
    # Z key bits take e_x = 0.3, X key bits take e_z = 0.1.
    assert stats.phase_error_rate() == pytest.approx((300 * 0.3 + 100 * 0.1) / 400)
    only_z = QberStats(0, 0, 5, 100, key_bits_z=1000, key_bits_x=0)
    assert only_z.phase_error_rate() == pytest.approx(0.05)
    assert only_z.phase_error_rate(eps=1e-10) > 0.05
    no_x_sample = QberStats(0, 100, 0, 0, key_bits_z=1000, key_bits_x=0)
    assert no_x_sample.phase_error_rate() == 0.5


def test_statistical_deviation_hand_value() -> None:
    # n = k = 100, eps = 1/e: sqrt(200 * 101 / (100 * 100^2)) = sqrt(0.0202)
    assert statistical_deviation(100, 100, math.exp(-1)) == pytest.approx(math.sqrt(0.0202))
    assert statistical_deviation(100, 0, 0.01) == math.inf
    assert statistical_deviation(10**6, 10**5, 1e-10) < statistical_deviation(10**6, 10**4, 1e-10)
