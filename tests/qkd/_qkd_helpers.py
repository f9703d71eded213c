"""Shared helpers for the QKD post-processing tests."""

from __future__ import annotations

import numpy as np

from qstack.qkd import Bits


def noisy_pair(n: int, qber: float, seed: int) -> tuple[Bits, Bits]:
    """Alice's uniform key and Bob's copy with i.i.d. bit flips at rate ``qber``."""
    rng = np.random.default_rng(seed)
    alice = rng.integers(0, 2, n, dtype=np.uint8)
    bob = alice ^ (rng.random(n) < qber).astype(np.uint8)
    return alice, bob


def raw_bbm92(n: int, qber: float, seed: int) -> tuple[Bits, Bits, Bits, Bits, np.random.Generator]:
    """Raw records of n entangled pairs: random bases, errors at ``qber`` when they match."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    ab = rng.integers(0, 2, n, dtype=np.uint8)
    bb = rng.integers(0, 2, n, dtype=np.uint8)
    flips = (rng.random(n) < qber).astype(np.uint8)
    b = np.where(ab == bb, a ^ flips, rng.integers(0, 2, n, dtype=np.uint8)).astype(np.uint8)
    return a, b, ab, bb, rng
