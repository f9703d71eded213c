"""Toeplitz hashing, the secret key length formula, and key verification."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from _qkd_helpers import noisy_pair
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import toeplitz
from scipy.stats import binomtest

from qstack.qkd import (
    ToeplitzHash,
    binary_entropy,
    secret_key_length,
    toeplitz_hash,
    verify_keys,
)
from qstack.qkd.privacy import _fast_length


def explicit(seed: np.ndarray, x: np.ndarray, m: int) -> np.ndarray:
    """T[i, j] = seed[i - j + n - 1]: first column seed[n-1:], first row seed[n-1::-1]."""
    n = x.size
    t = toeplitz(seed[n - 1 : n - 1 + m], seed[n - 1 :: -1])
    assert t.shape == (m, n)
    product: np.ndarray = (t.astype(np.int64) @ x.astype(np.int64)) % 2
    return product


@pytest.mark.parametrize(
    ("n", "m"), [(1, 1), (5, 3), (16, 16), (40, 7), (7, 40), (257, 100), (50, 300), (300, 257)]
)
def test_toeplitz_equals_matrix_product(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 1000 + m)
    for _ in range(5):
        seed = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
        x = rng.integers(0, 2, n, dtype=np.uint8)
        assert np.array_equal(toeplitz_hash(x, seed, m), explicit(seed, x, m))


def test_toeplitz_is_linear() -> None:
    rng = np.random.default_rng(1)
    h = ToeplitzHash.random(rng, 1000, 300)
    x = rng.integers(0, 2, 1000, dtype=np.uint8)
    y = rng.integers(0, 2, 1000, dtype=np.uint8)
    assert np.array_equal(h(x ^ y), h(x) ^ h(y))
    assert not h(np.zeros(1000, np.uint8)).any()


@pytest.mark.slow
@pytest.mark.parametrize("m", [2, 4])
def test_toeplitz_collision_rate_is_two_to_minus_m(m: int) -> None:
    rng = np.random.default_rng(m)
    n, trials = 24, 6000
    x = rng.integers(0, 2, n, dtype=np.uint8)
    y = x.copy()
    y[[3, 17]] ^= 1
    collisions = 0
    for _ in range(trials):
        h = ToeplitzHash.random(rng, n, m)
        collisions += int(np.array_equal(h(x), h(y)))
    assert binomtest(collisions, trials, 2.0**-m).pvalue > 1e-4


def test_toeplitz_megabit_fast_and_exact() -> None:
    rng = np.random.default_rng(2)
    n, m = 1_000_000, 600_000
    x = rng.integers(0, 2, n, dtype=np.uint8)
    start = time.perf_counter()
    h = ToeplitzHash.random(rng, n, m)
    y = h(x)
    assert time.perf_counter() - start < 1.0
    seed = h.seed.astype(np.int64)
    for i in (0, 1, 12345, m - 1):
        row = seed[i : i + n][::-1]  # T[i, j] = seed[i - j + n - 1]
        assert y[i] == int(row @ x) % 2


def test_toeplitz_rejects_bad_seed_and_handles_empty() -> None:
    with pytest.raises(ValueError):
        ToeplitzHash(np.zeros(5, np.uint8), 4, 3)
    assert ToeplitzHash.random(np.random.default_rng(0), 10, 0)(np.ones(10, np.uint8)).size == 0
    assert [_fast_length(s) for s in (1, 7, 11, 1001)] == [1, 8, 12, 1024]


H_025 = 0.8112781244591328  # h(1/4) = 1/2 + (3/4) log2(4/3)


def test_secret_key_length_hand_values() -> None:
    assert secret_key_length(1000, 0.0, 100, security_bits=10) == 1000 - 100 - 20
    # 1000 (1 - h(1/4)) - 0 - 20 = 168.72...
    assert secret_key_length(1000, 0.25, 0, security_bits=10) == 168
    assert math.isclose(1000 * (1 - H_025) - 20, 168.7218755, rel_tol=1e-9)
    assert math.isclose(binary_entropy(0.25), H_025, rel_tol=1e-12)
    # 10^6 (1 - h(0.02)) - 160000 - 128, h(0.02) = 0.14144054254182067
    assert secret_key_length(10**6, 0.02, 160_000) == math.floor(
        10**6 * (1 - 0.14144054254182067) - 160_000 - 128
    )


def test_secret_key_length_zero_above_threshold() -> None:
    n = 10**6
    for e in (0.115, 0.12, 0.2):
        # Cascade-like leakage 1.15 n h(e): no key beyond ~11%.
        leak = int(1.15 * n * (-e * math.log2(e) - (1 - e) * math.log2(1 - e)))
        assert secret_key_length(n, e, leak) == 0
    assert secret_key_length(n, 0.5, 0) == 0
    assert secret_key_length(n, 0.7, 0) == 0
    assert secret_key_length(0, 0.01, 0) == 0


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 10**7),
    e=st.floats(0.0, 1.0),
    leak=st.integers(0, 10**7),
    sec=st.integers(0, 200),
    k=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_secret_key_length_never_negative(
    n: int, e: float, leak: int, sec: int, k: int | None
) -> None:
    length = secret_key_length(n, e, leak, security_bits=sec, sample_size=k)
    assert 0 <= length <= n


def test_finite_size_smaller_than_asymptotic() -> None:
    n, e, leak = 10**6, 0.03, 200_000
    asym = secret_key_length(n, e, leak)
    prev = 0
    for k in (10**3, 10**4, 10**5, 10**6):
        fin = secret_key_length(n, e, leak, sample_size=k)
        assert prev <= fin < asym
        prev = fin
    assert secret_key_length(n, e, leak, sample_size=0) == 0


def test_verify_keys() -> None:
    alice, bob = noisy_pair(50_000, 0.0, 1)
    res = verify_keys(alice, bob, np.random.default_rng(0))
    assert res.match and res.leaked_bits == 64
    bob = bob.copy()
    bob[12_345] ^= 1
    for seed in range(50):
        assert not verify_keys(alice, bob, np.random.default_rng(seed)).match
    assert not verify_keys(alice, bob[:-1], np.random.default_rng(0)).match
    # With a 4-bit tag, two different keys collide about 1/16 of the time.
    small_a, small_b = alice[:64], bob[:64].copy()
    small_b[5] ^= 1
    hits = sum(
        verify_keys(small_a, small_b, np.random.default_rng(s), tag_bits=4).match
        for s in range(3000)
    )
    assert binomtest(hits, 3000, 1 / 16).pvalue > 1e-4
