"""Wegman-Carter authentication of the classical channel with QKD key.

Tag = H_k(message) XOR pad, where H_k is the polynomial hash over GF(2^64)
keyed by a 64-bit k (the message is cut into 64-bit coefficients and a length
block is appended, so different messages give different non-zero
polynomials of degree <= L), and the pad is 64 fresh key bits per tag.
In characteristic 2 this family is (L / 2^64)-almost-XOR-universal, so a
forged or altered message is accepted with probability <= L / 2^64 per try
(Wegman & Carter, J. Comput. Syst. Sci. 22, 265 (1981); Krawczyk, CRYPTO '94;
Shoup, CRYPTO '96). The hash key can be reused because every pad is used once.

Key bits come from a ``KeyPool`` at each end; the two pools start equal
(pre-shared key) and are replenished with generated key. Tags carry a
sequence number shared by both directions: the ends must tag and verify in
the same order, as a request/response protocol does, so that both take the
same pool bits for each message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qstack.qkd._bits import Bits, as_bits, bits_to_int

GF64_BITS = 64
_MASK = (1 << 64) - 1
_REDUCTION = 0x1B
"""x^64 = x^4 + x^3 + x + 1 in GF(2)[x] / (x^64 + x^4 + x^3 + x + 1), irreducible."""


class KeyPoolExhausted(RuntimeError):
    """Raised when a pool has fewer key bits than a tag or hash key needs."""


class KeyPool:
    """Secret key bits at one end, consumed first-in first-out, never reused."""

    def __init__(self, bits: npt.ArrayLike | None = None) -> None:
        self._bits: Bits = np.zeros(0, np.uint8) if bits is None else as_bits(bits).copy()
        self._offset = 0
        self.consumed = 0
        """Bits taken so far (for accounting)."""

    @property
    def available(self) -> int:
        return int(self._bits.size) - self._offset

    def add(self, bits: npt.ArrayLike) -> None:
        """Append fresh key bits (e.g. part of the last distilled key)."""
        new = as_bits(bits)
        self._bits = np.concatenate([self._bits[self._offset :], new])
        self._offset = 0

    def take(self, n: int) -> Bits:
        """Remove and return the next ``n`` bits; raise ``KeyPoolExhausted`` if short."""
        if n < 0:
            raise ValueError(f"cannot take a negative number of bits ({n})")
        if n > self.available:
            raise KeyPoolExhausted(f"key pool exhausted: need {n} bits, {self.available} available")
        out = self._bits[self._offset : self._offset + n].copy()
        self._offset += n
        self.consumed += n
        return out

    def copy(self) -> KeyPool:
        """An independent pool with the same remaining bits (the other end's copy)."""
        return KeyPool(self._bits[self._offset :])


def gf64_mul(a: int, b: int) -> int:
    """Product in GF(2^64) by shift-and-add (reference; the hash uses tables).

    Operands are reduced to their low 64 bits first.
    """
    a &= _MASK
    b &= _MASK
    result = 0
    while b:
        if b & 1:
            result ^= a
        b >>= 1
        carry = a >> 63
        a = (a << 1) & _MASK
        if carry:
            a ^= _REDUCTION
    return result


class _KeyedMultiplier:
    """Multiplication by a fixed GF(2^64) element via eight 256-entry byte tables."""

    def __init__(self, key: int) -> None:
        singles = []
        v = key & _MASK
        for _ in range(64):
            singles.append(v)
            carry = v >> 63
            v = (v << 1) & _MASK
            if carry:
                v ^= _REDUCTION
        self._tables: list[list[int]] = []
        for j in range(8):
            table = [0] * 256
            for byte in range(1, 256):
                low = byte & -byte
                table[byte] = table[byte ^ low] ^ singles[8 * j + low.bit_length() - 1]
            self._tables.append(table)

    def __call__(self, a: int) -> int:
        t = self._tables
        return (
            t[0][a & 255]
            ^ t[1][(a >> 8) & 255]
            ^ t[2][(a >> 16) & 255]
            ^ t[3][(a >> 24) & 255]
            ^ t[4][(a >> 32) & 255]
            ^ t[5][(a >> 40) & 255]
            ^ t[6][(a >> 48) & 255]
            ^ t[7][a >> 56]
        )


def _coefficients(message: bytes) -> list[int]:
    """Injective encoding: zero-padded 64-bit big-endian blocks, then the byte length."""
    padded = message + b"\0" * (-len(message) % 8)
    blocks: list[int] = np.frombuffer(padded, dtype=">u8").tolist()
    blocks.append(len(message) & _MASK)
    return blocks


def poly_hash(message: bytes, key: int) -> int:
    """sum_i c_i key^(L - i + 1) over GF(2^64) for the message's L coefficients."""
    return _poly_hash(message, _KeyedMultiplier(key & _MASK))


def _poly_hash(message: bytes, mul: _KeyedMultiplier) -> int:
    acc = 0
    for c in _coefficients(message):
        acc = mul(acc ^ c)
    return acc


@dataclass(frozen=True)
class Tag:
    """A Wegman-Carter tag: the shared message sequence number and the 64-bit value."""

    sequence: int
    value: int


class Authenticator:
    """One end of the authenticated classical channel.

    Construction takes the 64-bit hash key from the pool (both ends do this
    first, so they hold the same key); each message then uses 64 pad bits.
    """

    HASH_KEY_BITS = GF64_BITS
    PAD_BITS = GF64_BITS

    def __init__(self, pool: KeyPool) -> None:
        self.pool = pool
        self._mul = _KeyedMultiplier(bits_to_int(pool.take(self.HASH_KEY_BITS)))
        self._sequence = 0
        self._pending_pad: int | None = None

    @property
    def sequence(self) -> int:
        """Sequence number of the next message (sent or received)."""
        return self._sequence

    def _take_pad(self) -> int:
        return bits_to_int(self.pool.take(self.PAD_BITS))

    def tag(self, message: bytes) -> Tag:
        """Authenticate an outgoing message, consuming 64 pad bits.

        If this end was still waiting for the peer's message in the current slot (it
        never verified), that slot is abandoned first: the peer already spent it.
        """
        pad = self._take_pad()  # first, so an exhausted pool leaves the state untouched
        if self._pending_pad is not None:
            self._pending_pad = None
            self._sequence += 1
        tag = Tag(self._sequence, _poly_hash(message, self._mul) ^ pad)
        self._sequence += 1
        return tag

    def verify(self, message: bytes, tag: Tag) -> bool:
        """Check an incoming message; replays and out-of-order tags are rejected.

        The slot's pad is taken on the first attempt and kept until a message
        verifies, so injected forgeries neither burn key nor desynchronise the ends.
        """
        if tag.sequence != self._sequence:
            return False
        if self._pending_pad is None:
            self._pending_pad = self._take_pad()
        if _poly_hash(message, self._mul) ^ self._pending_pad != tag.value:
            return False
        self._pending_pad = None
        self._sequence += 1
        return True
