"""The distill pipeline end to end."""

from __future__ import annotations

import math

import numpy as np
from _qkd_helpers import raw_bbm92
from hypothesis import given, settings
from hypothesis import strategies as st

from qstack.qkd import binary_entropy, distill, secret_key_length


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), qber=st.floats(0.0, 0.10))
def test_keys_equal_when_not_aborted(seed: int, qber: float) -> None:
    a, b, ab, bb, rng = raw_bbm92(60_000, qber, seed)
    r = distill(a, b, ab, bb, rng)
    if r.aborted:
        assert r.final_key_alice.size == r.final_key_bob.size == 0
        assert not r.keys_match
        return
    assert r.keys_match
    assert np.array_equal(r.final_key_alice, r.final_key_bob)
    assert r.final_key_alice.size == r.secret_key_bits
    n = r.reconciled_bits
    assert r.secret_key_bits == secret_key_length(n, r.qber.phase_error_rate(), r.leaked_bits)
    assert r.secret_key_bits <= max(0, n * (1 - binary_entropy(r.e_phase)) - r.leaked_bits)


def test_typical_round_numbers() -> None:
    a, b, ab, bb, rng = raw_bbm92(200_000, 0.03, 1)
    r = distill(a, b, ab, bb, rng)
    assert not r.aborted and r.keys_match
    assert abs(r.sifted_bits - 100_000) < 1500
    assert r.sample_size == round(0.1 * r.sifted_bits)
    assert abs(r.qber.overall - 0.03) < 0.01
    assert 1.0 < r.ec_efficiency < 1.3
    assert r.leaked_bits == r.ec_leaked_bits + 64
    assert 0.3 * r.reconciled_bits < r.secret_key_bits < 0.6 * r.reconciled_bits


def test_abort_above_threshold() -> None:
    for seed, qber in ((1, 0.13), (2, 0.15), (3, 0.25)):
        a, b, ab, bb, rng = raw_bbm92(40_000, qber, seed)
        r = distill(a, b, ab, bb, rng)
        assert r.aborted and r.abort_reason is not None and "threshold" in r.abort_reason
        assert r.final_key_alice.size == 0 and r.secret_key_bits == 0
        assert not r.keys_match


def test_abort_when_verification_fails() -> None:
    a, b, ab, bb, rng = raw_bbm92(40_000, 0.08, 4)
    r = distill(a, b, ab, bb, rng, cascade_passes=1)  # one pass leaves errors behind
    assert r.aborted and r.abort_reason == "verification failed"
    assert r.leaked_bits == r.ec_leaked_bits + 64


def test_deterministic_and_finite_size_shorter() -> None:
    a, b, ab, bb, _ = raw_bbm92(100_000, 0.02, 5)
    r1 = distill(a, b, ab, bb, np.random.default_rng(9))
    r2 = distill(a, b, ab, bb, np.random.default_rng(9))
    assert np.array_equal(r1.final_key_alice, r2.final_key_alice)
    fin = distill(a, b, ab, bb, np.random.default_rng(9), finite_size=True, eps_pe=1e-10)
    assert fin.keys_match and 0 < fin.secret_key_bits < r1.secret_key_bits
    assert fin.e_phase > r1.e_phase


def test_degenerate_inputs() -> None:
    empty = np.zeros(0, np.uint8)
    r = distill(empty, empty, empty, empty, np.random.default_rng(0))
    assert r.aborted and r.sifted_bits == 0
    a, b, ab, bb, rng = raw_bbm92(400, 0.0, 6)
    small = distill(a, b, ab, bb, rng)
    assert not small.aborted and small.secret_key_bits == 0 and small.keys_match
    assert math.isnan(small.ec_efficiency)
