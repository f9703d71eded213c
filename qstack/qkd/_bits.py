"""Shared bit-array types and helpers for the QKD post-processing library."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Bits = npt.NDArray[np.uint8]
"""A key or basis string: one uint8 per bit, values 0 or 1."""

Index = npt.NDArray[np.intp]
"""An array of positions into a bit array."""


def as_bits(values: npt.ArrayLike, name: str = "bits") -> Bits:
    """Return ``values`` as a 1-D uint8 array of 0/1, rejecting anything else early.

    Validating at the API boundary keeps the vectorised code free of checks.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(f"{name} must contain only 0 and 1")
    return arr.astype(np.uint8, copy=False)


def random_bits(rng: np.random.Generator, n: int) -> Bits:
    """Draw ``n`` uniform bits from ``rng`` (the only source of randomness used)."""
    if n < 0:
        raise ValueError(f"cannot draw a negative number of bits ({n})")
    return rng.integers(0, 2, size=n, dtype=np.uint8)


def binary_entropy(p: float) -> float:
    """Shannon binary entropy h(p) in bits; h(0) = h(1) = 0."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


def bits_to_int(bits: Bits) -> int:
    """Read a bit array as a big-endian unsigned integer (first bit most significant)."""
    value = 0
    if bits.size:
        pad = (-bits.size) % 8
        packed = np.packbits(np.concatenate([np.zeros(pad, np.uint8), bits]))
        value = int.from_bytes(packed.tobytes(), "big")
    return value
