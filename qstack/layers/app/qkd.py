"""The ``qkd`` application: BBM92 (entanglement-based BB84) over the network.

Both ends measure each delivered pair at once, each in a basis of its own
choosing (Z with probability ``z_basis_probability``, else X): the network
layer does it for measure-type requests. Then the classical phase, over the
authenticated classical network with its real delays:

1. the destination (Bob) sends his bases to the source (Alice), tagged;
2. Alice checks the tag, sifts, and answers with her bases, tagged;
3. Bob checks the tag; both sides estimate the QBER on a random sample
   (then discarded), correct errors with Cascade, verify with a hash, and
   shrink the key by privacy amplification to the length the bound allows
   (``qstack.qkd``). The error-correction and verification exchanges are
   counted bit by bit in the leakage but are not timed one by one.

The session aborts, with no key, when the QBER is above the threshold or a
message fails authentication (Wegman-Carter tags keyed from a pre-shared
key pool, replenished from the key produced).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from qstack.layers.app.base import AppHost, AppMessage, SessionRecord
from qstack.layers.network.messages import NetCreate, NetDone, NetError, NetOk
from qstack.qkd.auth import Authenticator, KeyPool, Tag
from qstack.qkd.pipeline import distill

DEFAULT_QBER_THRESHOLD = 0.11
#: Bits of pre-shared key each end starts with (enough for a few tags).
PRESHARED_KEY_BITS = 4096

ClassicalAttack = Literal["none", "tamper", "forge"]
Bits = npt.NDArray[np.uint8]


class QkdBases(AppMessage):
    """One end's measurement bases, in the order of the sorted pair ids,
    with its Wegman-Carter tag (message number and 64-bit value)."""

    kind: Literal["QKD_BASES"] = "QKD_BASES"
    bases: str
    tag_sequence: int = Field(ge=0)
    tag_value: int = Field(ge=0, lt=2**64)


def _authenticated_bytes(message: QkdBases) -> bytes:
    return message.model_dump_json(exclude={"tag_sequence", "tag_value"}).encode()


class _End:
    """What one end of the session knows."""

    def __init__(self, preshared: Bits) -> None:
        self.results: dict[str, tuple[str, int]] = {}
        self._arrays: tuple[Bits, Bits] | None = None
        self.auth = Authenticator(KeyPool(preshared.copy()))

    def arrays(self) -> tuple[Bits, Bits]:
        """Bases (1 = X) and bits in the order of the sorted pair ids, which
        both ends share; built once, when the measurements are complete."""
        if self._arrays is None:
            ids = sorted(self.results)
            results = self.results
            bases = np.fromiter((results[i][0] == "X" for i in ids), np.uint8, len(ids))
            bits = np.fromiter((results[i][1] for i in ids), np.uint8, len(ids))
            self._arrays = (bases, bits)
        return self._arrays

    def sign(self, message: QkdBases) -> QkdBases:
        tag = self.auth.tag(_authenticated_bytes(message))
        return message.model_copy(update={"tag_sequence": tag.sequence, "tag_value": tag.value})

    def check(self, message: QkdBases) -> bool:
        tag = Tag(message.tag_sequence, message.tag_value)
        return self.auth.verify(_authenticated_bytes(message), tag)


class QkdSession(SessionRecord):
    """A ``qkd`` session between the source (Alice) and destination (Bob)."""

    app = "qkd"

    def __init__(
        self,
        src: str,
        dst: str,
        create: NetCreate,
        start_ps: int,
        rng: np.random.Generator,
        qber_threshold: float,
        classical_attack: ClassicalAttack,
    ) -> None:
        super().__init__(src, dst, create, start_ps)
        self._rng = rng
        self.qber_threshold = qber_threshold
        self.classical_attack = classical_attack
        preshared = rng.integers(0, 2, PRESHARED_KEY_BITS, dtype=np.uint8)
        self._alice = _End(preshared)
        self._bob = _End(preshared)
        self.sifted_bits = 0
        self.qber: float | None = None
        self.qber_z: float | None = None
        self.qber_x: float | None = None
        self.leaked_bits = 0
        self.ec_efficiency: float | None = None
        self.secret_key_bits = 0
        self.keys_match: bool | None = None
        self.aborted = False
        self.abort_reason: str | None = None
        self.key_alice: Bits = np.zeros(0, np.uint8)
        self.key_bob: Bits = np.zeros(0, np.uint8)

    def _end(self, host: AppHost) -> _End:
        return self._alice if host.node == self.src else self._bob

    def net_ok(self, host: AppHost, now: int, ok: NetOk) -> None:
        self.count(host, now, ok)
        assert ok.basis is not None and ok.outcome is not None, "QKD measures every pair"
        self._end(host).results[ok.pair_id] = (ok.basis, ok.outcome)

    def net_done(self, host: AppHost, now: int, done: NetDone) -> None:
        self.ends_done += 1
        if host.node != self.dst:
            return
        bases, _ = self._bob.arrays()
        message = self._bob.sign(
            QkdBases(request_id=self.request_id, bases=_as_text(bases), tag_sequence=0, tag_value=0)
        )
        if self.classical_attack == "forge":
            # An impostor sends bases of its own with a guessed tag first.
            fake = "".join("ZX"[int(b)] for b in self._rng.integers(0, 2, len(message.bases)))
            forged = message.model_copy(
                update={"bases": fake, "tag_value": int(self._rng.integers(0, 2**63))}
            )
            host.send(self.src, forged)
        if self.classical_attack == "tamper":
            flipped = "X" if message.bases[:1] == "Z" else "Z"
            message = message.model_copy(update={"bases": flipped + message.bases[1:]})
        host.send(self.src, message)

    def net_error(self, host: AppHost, now: int, error: NetError) -> None:
        self.fail(now, error)

    def receive(self, host: AppHost, now: int, message: AppMessage) -> None:
        assert isinstance(message, QkdBases)
        if self.finished:
            return
        end = self._end(host)
        if not end.check(message):
            self.aborted = True
            self.abort_reason = f"a {message.kind} message to {host.node} failed authentication"
            self.finish(now, "error", f"authentication: {self.abort_reason}")
            return
        if host.node == self.src:
            bases, _ = self._alice.arrays()
            reply = self._alice.sign(
                QkdBases(
                    request_id=self.request_id, bases=_as_text(bases), tag_sequence=0, tag_value=0
                )
            )
            host.send(self.dst, reply)
        else:
            self._distill(now)

    def _distill(self, now: int) -> None:
        alice_bases, alice_bits = self._alice.arrays()
        bob_bases, bob_bits = self._bob.arrays()
        result = distill(
            alice_bits,
            bob_bits,
            alice_bases,
            bob_bases,
            self._rng,
            qber_threshold=self.qber_threshold,
        )
        self.sifted_bits = result.sifted_bits
        stats = result.qber
        self.qber = stats.overall if stats.sample_size else None
        self.qber_z = stats.z if stats.samples_z else None
        self.qber_x = stats.x if stats.samples_x else None
        self.leaked_bits = result.leaked_bits
        self.ec_efficiency = result.ec_efficiency
        self.aborted = result.aborted
        self.abort_reason = result.abort_reason
        self.keys_match = result.keys_match if not result.aborted else None
        key_alice, key_bob = result.final_key_alice, result.final_key_bob
        if not result.aborted:
            # The authentication key spent is replenished from the new key
            # first (never used twice); the rest is the session's key.
            spent = min(self._alice.auth.pool.consumed, len(key_alice))
            self._alice.auth.pool.add(key_alice[:spent])
            self._bob.auth.pool.add(key_bob[:spent])
            self.key_alice, self.key_bob = key_alice[spent:], key_bob[spent:]
        self.secret_key_bits = len(self.key_alice)
        self.finish(now, "done", None)


def _as_text(bases: Bits) -> str:
    return "".join("X" if b else "Z" for b in bases.tolist())
