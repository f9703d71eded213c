"""Wegman-Carter authentication and the key pool."""

from __future__ import annotations

import numpy as np
import pytest

from qstack.qkd import Authenticator, KeyPool, KeyPoolExhausted, Tag, poly_hash
from qstack.qkd.auth import _KeyedMultiplier, gf64_mul


def pair(bits: int = 4096, seed: int = 0) -> tuple[Authenticator, Authenticator]:
    shared = np.random.default_rng(seed).integers(0, 2, bits, dtype=np.uint8)
    alice_pool = KeyPool(shared)
    bob_pool = alice_pool.copy()  # each end holds its own copy of the pre-shared key
    return Authenticator(alice_pool), Authenticator(bob_pool)


def test_gf64_arithmetic() -> None:
    assert gf64_mul(1 << 63, 2) == 0x1B  # x^64 reduces to x^4 + x^3 + x + 1
    rng = np.random.default_rng(0)
    for _ in range(50):
        a, b, c = (int(v) for v in rng.integers(0, 2**64, 3, dtype=np.uint64))
        mul = _KeyedMultiplier(a)
        assert mul(b) == gf64_mul(a, b) == gf64_mul(b, a)
        assert gf64_mul(a, b ^ c) == gf64_mul(a, b) ^ gf64_mul(a, c)


def test_poly_hash_distinguishes_padding_and_length() -> None:
    key = 0x123456789ABCDEF1
    assert poly_hash(b"abc", key) != poly_hash(b"abc\0", key)
    assert poly_hash(b"", key) != poly_hash(b"\0" * 8, key)


def test_honest_messages_verify_in_both_directions() -> None:
    alice, bob = pair()
    for i in range(10):
        msg = f"parities round {i}".encode()
        assert bob.verify(msg, alice.tag(msg))
        reply = b"ack" * i
        assert alice.verify(reply, bob.tag(reply))
    assert alice.sequence == bob.sequence == 20
    assert alice.pool.consumed == bob.pool.consumed == 64 + 20 * 64


def test_tampering_fails() -> None:
    alice, bob = pair()
    msg = bytes(range(200))
    tag = alice.tag(msg)
    for byte in range(0, 200, 7):
        for bit in range(8):
            tampered = bytearray(msg)
            tampered[byte] ^= 1 << bit
            assert not bob.verify(bytes(tampered), tag)
    assert not bob.verify(msg, Tag(tag.sequence, tag.value ^ 1))
    assert not bob.verify(msg + b"\0", tag)
    assert bob.verify(msg, tag)  # forgeries did not burn the slot


def test_replayed_tag_fails_on_another_message() -> None:
    alice, bob = pair()
    m1, m2 = b"first message", b"second message"
    t1 = alice.tag(m1)
    assert bob.verify(m1, t1)
    assert not bob.verify(m1, t1)  # replay of the same message
    assert not bob.verify(m2, t1)  # old tag on a new message
    t2 = alice.tag(m2)
    assert not bob.verify(m2, Tag(t2.sequence, t1.value))
    assert bob.verify(m2, t2)


def test_forgery_without_key_fails() -> None:
    rng = np.random.default_rng(9)
    for seed in range(200):
        alice, bob = pair(seed=seed)
        alice.tag(b"genuine")  # intercepted; the attacker substitutes a guess
        guess = Tag(0, int(rng.integers(0, 2**64, dtype=np.uint64)))
        assert not bob.verify(b"forged", guess)


def test_lost_message_resynchronises() -> None:
    alice, bob = pair()
    alice.tag(b"lost in transit")  # slot 0, never delivered
    assert not bob.verify(b"fake", Tag(0, 42))  # bob waits on slot 0
    t = bob.tag(b"bob gives up and speaks")  # abandons slot 0, uses slot 1
    assert t.sequence == 1
    assert alice.verify(b"bob gives up and speaks", t)


def test_pool_exhaustion_and_replenishment() -> None:
    alice, bob = pair(bits=64 + 2 * 64)
    for _ in range(2):
        msg = b"m"
        assert bob.verify(msg, alice.tag(msg))
    with pytest.raises(KeyPoolExhausted, match="need 64 bits, 0 available"):
        alice.tag(b"one too many")
    fresh = np.random.default_rng(3).integers(0, 2, 128, dtype=np.uint8)
    alice.pool.add(fresh)
    bob.pool.add(fresh)
    assert alice.pool.available == 128
    # alice's failed attempt consumed nothing, so both ends are still in step
    assert bob.verify(b"again", alice.tag(b"again"))


def test_key_pool_fifo() -> None:
    pool = KeyPool([1, 0, 1])
    pool.add(np.array([1, 1], np.uint8))
    assert pool.take(2).tolist() == [1, 0]
    assert pool.take(3).tolist() == [1, 1, 1]
    assert pool.available == 0 and pool.consumed == 5
    with pytest.raises(KeyPoolExhausted):
        pool.take(1)
    with pytest.raises(KeyPoolExhausted):
        Authenticator(KeyPool())
