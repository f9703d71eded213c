"""Cascade reconciliation: correctness, leakage, and the honest-exchange model."""

from __future__ import annotations

import numpy as np
import pytest
from _qkd_helpers import noisy_pair

from qstack.qkd import ParityOracle, binary_entropy, cascade, reconcile
from qstack.qkd._bits import Bits, Index


@pytest.mark.parametrize("qber", [0.01, 0.02, 0.03, 0.05, 0.08, 0.10])
def test_cascade_corrects_random_keys(qber: float) -> None:
    failures = 0
    for seed in range(25):
        alice, bob = noisy_pair(20_000, qber, seed)
        res = reconcile(alice, bob, qber, np.random.default_rng(1000 + seed))
        failures += int(not np.array_equal(res.key, alice))
        assert res.errors_corrected >= int((alice != bob).sum()) - 2
    assert failures <= 1  # residual errors are rare; verification catches them


@pytest.mark.parametrize("qber", [0.02, 0.03, 0.05])
def test_cascade_efficiency_plausible(qber: float) -> None:
    alice, bob = noisy_pair(200_000, qber, 7)
    res = reconcile(alice, bob, qber, np.random.default_rng(8))
    assert np.array_equal(res.key, alice)
    assert 1.0 <= res.efficiency <= 1.3
    n = alice.size
    e = (alice != bob).mean()
    assert res.efficiency == pytest.approx(res.leaked_bits / (n * binary_entropy(e)))


class RecordingAlice:
    """Wraps Alice's oracle, exposing only the public-channel calls and logging answers."""

    def __init__(self, key: Bits) -> None:
        self._inner = ParityOracle(key)
        self.answers: list[Bits] = []

    def add_permutation(self, permutation: Index) -> int:
        return self._inner.add_permutation(permutation)

    def parities(self, permutation_id: int, starts: Index, ends: Index) -> Bits:
        out = self._inner.parities(permutation_id, starts, ends)
        self.answers.append(out.copy())
        return out


class ReplayAlice:
    """Has no key at all: replays recorded answers in order."""

    def __init__(self, answers: list[Bits]) -> None:
        self._answers = list(answers)
        self._count = 0

    def add_permutation(self, permutation: Index) -> int:
        self._count += 1
        return self._count - 1

    def parities(self, permutation_id: int, starts: Index, ends: Index) -> Bits:
        out = self._answers.pop(0)
        assert out.size == starts.size == ends.size
        return out


def test_bob_learns_only_parity_answers() -> None:
    alice, bob = noisy_pair(30_000, 0.04, 3)
    bob_before = bob.copy()
    spy = RecordingAlice(alice)
    res = cascade(bob, spy, 0.04, np.random.default_rng(11))
    assert np.array_equal(res.key, alice)
    assert np.array_equal(bob, bob_before)  # input untouched
    # Every disclosed parity is counted, by both sides.
    answered = sum(a.size for a in spy.answers)
    assert res.leaked_bits == answered == spy._inner.leaked_bits
    # Bob's output is a function of his key and the answers alone: a key-less replay
    # with the same public randomness gives the same result.
    replay = cascade(bob, ReplayAlice(spy.answers), 0.04, np.random.default_rng(11))
    assert np.array_equal(replay.key, res.key)
    assert replay.leaked_bits == res.leaked_bits


def test_parity_oracle_answers_range_parities() -> None:
    rng = np.random.default_rng(0)
    key = rng.integers(0, 2, 100, dtype=np.uint8)
    oracle = ParityOracle(key)
    perm = rng.permutation(100).astype(np.intp)
    pid = oracle.add_permutation(perm)
    starts = np.array([0, 10, 50], np.intp)
    ends = np.array([10, 37, 100], np.intp)
    got = oracle.parities(pid, starts, ends)
    want = [int(key[perm[s:e]].sum() % 2) for s, e in zip(starts, ends, strict=True)]
    assert got.tolist() == want
    assert oracle.leaked_bits == 3


def test_cascade_edge_cases() -> None:
    empty = np.zeros(0, np.uint8)
    res = reconcile(empty, empty, 0.05, np.random.default_rng(0))
    assert res.key.size == 0 and res.leaked_bits == 0
    alice, _ = noisy_pair(1000, 0.0, 1)
    res = reconcile(alice, alice, 0.0, np.random.default_rng(0))
    assert np.array_equal(res.key, alice) and res.errors_corrected == 0
    assert np.isnan(res.efficiency)
    alice, bob = noisy_pair(5000, 0.03, 2)
    a = reconcile(alice, bob, 0.03, np.random.default_rng(4), passes=6, block_size=16)
    b = reconcile(alice, bob, 0.03, np.random.default_rng(4), passes=6, block_size=16)
    assert a.block_sizes == (16, 32, 64, 128, 256, 512)
    assert np.array_equal(a.key, b.key) and a.leaked_bits == b.leaked_bits
    with pytest.raises(ValueError):
        reconcile(alice, bob[:-1], 0.03, np.random.default_rng(0))
