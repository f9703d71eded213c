"""Privacy amplification by Toeplitz hashing, and the secret key length.

Toeplitz matrices with a uniformly random first row and column form a
universal family: for any x != x', Pr_T[T x = T x'] = 2^-m (Krawczyk,
CRYPTO '94; Mansour, Nisan & Tiwari, STOC '90), which is what the leftover
hash lemma needs (Impagliazzo, Levin & Luby 1989; Renner, PhD thesis, ETH
Zurich 2005, quant-ph/0512258).

Convention: the m x n matrix is ``T[i, j] = seed[i - j + n - 1]`` for a seed of
n + m - 1 bits, so ``T @ x`` is the slice ``[n - 1, n + m - 1)`` of the full
convolution ``seed * x``. It is computed with a real FFT (values are
integer sums of at most n ones, far inside float64's exact range), checked
for rounding, and reduced mod 2: O((n + m) log(n + m)). Short outputs
(m <= 256, e.g. verification tags) use bit-packed row parities instead,
O(n m / 64), which beats an FFT of length n there.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from qstack.qkd._bits import Bits, as_bits, binary_entropy, random_bits
from qstack.qkd.sifting import statistical_deviation

_MAX_ROUNDING_ERROR = 0.25
_PACKED_MAX_ROWS = 256


def _fast_length(size: int) -> int:
    """Smallest 2^a 3^b 5^c >= size: FFT lengths pocketfft handles quickly."""
    best = 1 << max(size - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < size:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


class ToeplitzHash:
    """A fixed Toeplitz matrix (from a public seed) applied to n-bit keys.

    The seed's spectrum is computed once, so hashing both parties' keys with the
    same seed costs one forward and one inverse FFT each.
    """

    def __init__(self, seed: npt.ArrayLike, n: int, m: int) -> None:
        if n < 0 or m < 0:
            raise ValueError(f"n and m must be non-negative, got n={n}, m={m}")
        s = as_bits(seed, "seed")
        if n and m and s.size != n + m - 1:
            raise ValueError(f"seed must have n + m - 1 = {n + m - 1} bits, got {s.size}")
        self.n = n
        self.m = m
        self._seed = s
        self._packed: list[npt.NDArray[np.uint8]] | None = None
        self._spectrum: npt.NDArray[np.complex128] | None = None
        self._length = 0
        if n and m and m <= _PACKED_MAX_ROWS:
            self._packed = self._pack_shifts(s, n, m)
        elif n and m:
            self._length = _fast_length(n + m - 1)
            self._spectrum = np.fft.rfft(s.astype(np.float64), self._length)

    @staticmethod
    def _pack_shifts(seed: Bits, n: int, m: int) -> list[npt.NDArray[np.uint8]]:
        """The reversed seed packed at the 8 bit offsets, so every row is a byte slice.

        With r = seed[::-1], output i is parity(r[o : o + n] & x) for o = m - 1 - i;
        r[8q + b :][: n] starts at byte q of the packing of r[b:].
        """
        nbytes = -(-n // 64) * 8  # whole 64-bit words
        r = seed[::-1]
        out = []
        for b in range(8):
            buf = np.zeros(8 * ((m - 1) // 8 + 1 + nbytes), dtype=np.uint8)
            tail = r[b:]
            buf[: tail.size] = tail
            out.append(np.packbits(buf))
        return out

    @classmethod
    def random(cls, rng: np.random.Generator, n: int, m: int) -> ToeplitzHash:
        """Draw a fresh seed of n + m - 1 bits from ``rng``."""
        return cls(random_bits(rng, n + m - 1 if n and m else 0), n, m)

    @property
    def seed(self) -> Bits:
        return self._seed

    def __call__(self, key: npt.ArrayLike) -> Bits:
        x = as_bits(key, "key")
        if x.size != self.n:
            raise ValueError(f"key has {x.size} bits, hash expects {self.n}")
        if self._packed is not None:
            return self._packed_product(x)
        if self._spectrum is None:
            return np.zeros(self.m, dtype=np.uint8)
        conv = np.fft.irfft(
            self._spectrum * np.fft.rfft(x.astype(np.float64), self._length), self._length
        )[self.n - 1 : self.n - 1 + self.m]
        rounded = np.rint(conv)
        if self.m and float(np.abs(conv - rounded).max()) > _MAX_ROUNDING_ERROR:
            raise ArithmeticError("FFT rounding error too large for an exact Toeplitz product")
        out: Bits = (rounded.astype(np.int64) & 1).astype(np.uint8)
        return out

    def _packed_product(self, x: Bits) -> Bits:
        assert self._packed is not None
        words = -(-self.n // 64)
        xb = np.zeros(words * 64, dtype=np.uint8)
        xb[: self.n] = x
        xw = np.packbits(xb).view(np.uint64)
        out = np.zeros(self.m, dtype=np.uint8)
        for o in range(self.m):
            q, b = divmod(o, 8)
            row = self._packed[b][q : q + 8 * words].view(np.uint64)
            out[self.m - 1 - o] = int(np.bitwise_xor.reduce(row & xw)).bit_count() & 1
        return out


def toeplitz_hash(key: npt.ArrayLike, seed: npt.ArrayLike, m: int) -> Bits:
    """Hash an n-bit key to m bits with the Toeplitz matrix given by ``seed``."""
    x = as_bits(key, "key")
    return ToeplitzHash(seed, int(x.size), m)(x)


def secret_key_length(
    n: int,
    e_phase: float,
    leaked_bits: int,
    security_bits: int = 64,
    *,
    sample_size: int | None = None,
    eps_pe: float | None = None,
) -> int:
    """Number of secret bits extractable from n reconciled bits.

    Asymptotic (Shor-Preskill rate with the leftover-hash-lemma penalty)::

        l = floor(n (1 - h(e_phase)) - leaked_bits - 2 log2(1 / eps_pa)),

    with eps_pa = 2^-security_bits, so the last term is ``2 * security_bits``;
    ``leaked_bits`` is everything disclosed about the key (reconciliation parities
    and verification hash). Clamped at 0; e_phase >= 0.5 gives 0.

    Finite-size option: with ``sample_size`` k (and ``eps_pe``, default
    eps_pa), e_phase is replaced by the upper bound e_phase + sqrt((n + k)(k + 1)
    ln(1/eps_pe) / (n k^2)) on the phase error rate of the n unseen bits
    (Tomamichel, Lim, Gisin & Renner, Nat. Commun. 3, 634 (2012), Serfling bound).
    """
    if n < 0 or leaked_bits < 0 or security_bits < 0:
        raise ValueError("n, leaked_bits and security_bits must be non-negative")
    if math.isnan(e_phase) or e_phase < 0:
        raise ValueError(f"e_phase must be a rate in [0, 1], got {e_phase}")
    if n == 0:
        return 0
    e = e_phase
    if sample_size is not None:
        eps = 2.0**-security_bits if eps_pe is None else eps_pe
        e += statistical_deviation(n, sample_size, eps)
    if e >= 0.5:
        return 0
    length = n * (1.0 - binary_entropy(e)) - leaked_bits - 2 * security_bits
    return max(0, math.floor(length))


def amplify(key: npt.ArrayLike, m: int, seed: npt.ArrayLike) -> Bits:
    """Compress a reconciled key to its m-bit secret with the shared public seed."""
    return toeplitz_hash(key, seed, m)
