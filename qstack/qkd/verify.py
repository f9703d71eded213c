"""Key verification: compare reconciled keys through a short universal hash.

Alice draws a fresh Toeplitz seed (public), announces the t-bit hash of her
key, and Bob compares it with the hash of his. Toeplitz hashing is universal,
so two different keys collide with probability exactly 2^-t over the seed
(see ``qstack.qkd.privacy``); the t announced bits count as leaked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qstack.qkd._bits import as_bits
from qstack.qkd.privacy import ToeplitzHash


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of one verification round."""

    match: bool
    leaked_bits: int
    """The hash bits Alice announced (t)."""


def verify_keys(
    alice_key: npt.ArrayLike,
    bob_key: npt.ArrayLike,
    rng: np.random.Generator,
    tag_bits: int = 64,
) -> VerifyResult:
    """Decide whether the keys are equal; wrong with probability <= 2^-tag_bits.

    Keys of different lengths never match (and leak nothing: the lengths are public).
    """
    a = as_bits(alice_key, "alice_key")
    b = as_bits(bob_key, "bob_key")
    if tag_bits < 1:
        raise ValueError(f"tag_bits must be >= 1, got {tag_bits}")
    if a.size != b.size:
        return VerifyResult(match=False, leaked_bits=0)
    if a.size == 0:
        return VerifyResult(match=True, leaked_bits=0)
    h = ToeplitzHash.random(rng, int(a.size), tag_bits)
    return VerifyResult(match=bool(np.array_equal(h(a), h(b))), leaked_bits=tag_bits)
