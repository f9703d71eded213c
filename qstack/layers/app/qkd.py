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

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from qstack.fsm.table import StateTable, Transition
from qstack.layers.app.authentication import MessageAuth
from qstack.layers.app.base import AppHost, Session, common_rows
from qstack.layers.app.service import AppMessage, SessionSetup
from qstack.layers.network.messages import NetDone, NetError, NetOk, NetOkBatch
from qstack.messages import BASES, DIGITS, from_text
from qstack.qkd.pipeline import distill
from qstack.reports import RequestReport

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


class _End:
    """What one end of the session knows: pairs measured one by one (by
    pair id) and batches of pairs measured directly (in delivery order)."""

    def __init__(self, preshared: Bits) -> None:
        self.results: dict[str, tuple[str, int]] = {}
        self.batches: list[NetOkBatch] = []
        self._arrays: tuple[Bits, Bits] | None = None
        self.auth = MessageAuth(preshared)

    def arrays(self) -> tuple[Bits, Bits]:
        """Bases (1 = X) and bits in an order both ends share, built once,
        when the measurements are complete: that of the sorted pair ids, or,
        when every pair came in batches, the batches' (both ends get the
        same batches in the same order)."""
        if self._arrays is None:
            if not self.results:
                bases = from_text("".join(b.bases for b in self.batches), BASES)
                bits = from_text("".join(b.outcomes for b in self.batches), DIGITS)
                self._arrays = (bases, bits)
                return self._arrays
            results = dict(self.results)
            for batch in self.batches:
                outcomes = [int(bit) for bit in batch.outcomes]
                results.update(
                    zip(batch.pair_ids, zip(batch.bases, outcomes, strict=True), strict=True)
                )
            ids = sorted(results)
            bases = np.fromiter((results[i][0] == "X" for i in ids), np.uint8, len(ids))
            bits = np.fromiter((results[i][1] for i in ids), np.uint8, len(ids))
            self._arrays = (bases, bits)
        return self._arrays


class QkdRequestReport(RequestReport):
    """A ``qkd`` request: the key it produced (SCENARIO.md's qkd fields)."""

    sifted_bits: int
    qber: float | None
    qber_z: float | None
    qber_x: float | None
    leaked_bits: int
    ec_efficiency: float | None
    secret_key_bits: int
    key_rate_bps: float | None
    key_bits_per_pair: float | None
    keys_match: bool | None
    aborted: bool
    abort_reason: str | None

    def summary(self) -> str | None:
        qber = "-" if self.qber is None else f"{self.qber:.4f}"
        outcome = (
            f"aborted: {self.abort_reason}"
            if self.aborted
            else f"secret key {self.secret_key_bits} bits, keys match: {self.keys_match}"
        )
        return (
            f"qkd: sifted {self.sifted_bits} bits, QBER {qber}, "
            f"leaked {self.leaked_bits} bits, {outcome}"
        )


class QkdSession(Session):
    """A ``qkd`` session between the source (Alice) and destination (Bob).

    Lifecycle: ``running`` while pairs are measured; ``sifting`` once Bob
    has all of his and sent his bases; ``done`` when the key is distilled,
    ``error`` when a message fails authentication or the network fails the
    request (``expired`` at its deadline)."""

    app = "qkd"
    pair_type = "measure"
    takes_batches = True
    report_type = QkdRequestReport

    def __init__(self, setup: SessionSetup) -> None:
        super().__init__(setup)
        rng = setup.rng
        self._rng = rng
        self.qber_threshold: float = setup.options.get("qber_threshold") or DEFAULT_QBER_THRESHOLD
        self.classical_attack: ClassicalAttack = setup.options.get("classical_attack") or "none"
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
        self._alice_done = False
        self._early_bases: QkdBases | None = None

    def _end(self, host: AppHost) -> _End:
        return self._alice if host.node == self.src else self._bob

    def forget_pair(self, host: AppHost, now: int, pair_id: str) -> None:
        self._end(host).results.pop(pair_id, None)

    def report_fields(self, active_s: float) -> dict[str, Any]:
        delivered = self.delivered
        return {
            "sifted_bits": self.sifted_bits,
            "qber": self.qber,
            "qber_z": self.qber_z,
            "qber_x": self.qber_x,
            "leaked_bits": self.leaked_bits,
            "ec_efficiency": self.ec_efficiency,
            "secret_key_bits": self.secret_key_bits,
            "key_rate_bps": self.secret_key_bits / active_s if active_s > 0 else None,
            "key_bits_per_pair": self.secret_key_bits / delivered if delivered else None,
            "keys_match": self.keys_match,
            "aborted": self.aborted,
            "abort_reason": self.abort_reason,
        }

    # -- lifecycle handlers: (host of the end, session, now, event) -----------

    @staticmethod
    def on_measured(host: AppHost, session: Session, now: int, ok: NetOk) -> None:
        assert isinstance(session, QkdSession)
        session.count(host, now, ok)
        assert ok.basis is not None and ok.outcome is not None, "QKD measures every pair"
        session._end(host).results[ok.pair_id] = (ok.basis, ok.outcome)

    @staticmethod
    def on_measured_batch(host: AppHost, session: Session, now: int, batch: NetOkBatch) -> None:
        assert isinstance(session, QkdSession)
        session.count_batch(host, now, batch)
        session._end(host).batches.append(batch)

    @staticmethod
    def send_bases(host: AppHost, session: Session, now: int, done: NetDone) -> None:
        """Bob has measured every pair: his bases go to Alice, tagged."""
        assert isinstance(session, QkdSession)
        session.ends_done += 1
        bob = session._bob
        bases, _ = bob.arrays()
        message = bob.auth.sign(
            QkdBases(
                request_id=session.request_id, bases=_as_text(bases), tag_sequence=0, tag_value=0
            )
        )
        rng = session._rng
        if session.classical_attack == "forge":
            # An impostor sends bases of its own with a guessed tag first.
            fake = "".join("ZX"[int(b)] for b in rng.integers(0, 2, len(message.bases)))
            forged = message.model_copy(
                update={"bases": fake, "tag_value": int(rng.integers(0, 2**63))}
            )
            host.send(session.src, forged)
        if session.classical_attack == "tamper":
            flipped = "X" if message.bases[:1] == "Z" else "Z"
            message = message.model_copy(update={"bases": flipped + message.bases[1:]})
        host.send(session.src, message)

    @staticmethod
    def note_done(host: AppHost, session: Session, now: int, done: NetDone) -> None:
        """An end has all its pairs; Alice answers bases that came before."""
        assert isinstance(session, QkdSession)
        session.ends_done += 1
        if host.node == session.src:
            session._alice_done = True
            early, session._early_bases = session._early_bases, None
            if early is not None:
                QkdSession.reply_bases(host, session, now, early)

    @staticmethod
    def reply_bases(host: AppHost, session: Session, now: int, message: QkdBases) -> None:
        """Alice checked Bob's tag: once she has all her own pairs (Bob's
        bases can overtake the last of them on a shorter fiber path), she
        answers with her bases."""
        assert isinstance(session, QkdSession)
        if not session._alice_done:
            session._early_bases = message
            return
        bases, _ = session._alice.arrays()
        reply = session._alice.auth.sign(
            QkdBases(
                request_id=session.request_id, bases=_as_text(bases), tag_sequence=0, tag_value=0
            )
        )
        host.send(session.dst, reply)

    @staticmethod
    def reject(host: AppHost, session: Session, now: int, message: QkdBases) -> None:
        assert isinstance(session, QkdSession)
        session.aborted = True
        session.abort_reason = f"a {message.kind} message to {host.node} failed authentication"
        session.ended(now, f"authentication: {session.abort_reason}")

    @staticmethod
    def distill_key(host: AppHost, session: Session, now: int, message: QkdBases) -> None:
        """Bob checked Alice's tag: sample, correct, verify, amplify."""
        assert isinstance(session, QkdSession)
        alice_bases, alice_bits = session._alice.arrays()
        bob_bases, bob_bits = session._bob.arrays()
        result = distill(
            alice_bits,
            bob_bits,
            alice_bases,
            bob_bases,
            session._rng,
            qber_threshold=session.qber_threshold,
        )
        session.sifted_bits = result.sifted_bits
        stats = result.qber
        session.qber = stats.overall if stats.sample_size else None
        session.qber_z = stats.z if stats.samples_z else None
        session.qber_x = stats.x if stats.samples_x else None
        session.leaked_bits = result.leaked_bits
        session.ec_efficiency = result.ec_efficiency
        session.aborted = result.aborted
        session.abort_reason = result.abort_reason
        session.keys_match = result.keys_match if not result.aborted else None
        key_alice, key_bob = result.final_key_alice, result.final_key_bob
        if not result.aborted:
            # The authentication key spent is replenished from the new key
            # first (never used twice); the rest is the session's key.
            spent = min(session._alice.auth.pool.consumed, len(key_alice))
            session._alice.auth.pool.add(key_alice[:spent])
            session._bob.auth.pool.add(key_bob[:spent])
            session.key_alice, session.key_bob = key_alice[spent:], key_bob[spent:]
        session.secret_key_bits = len(session.key_alice)
        session.ended(now)


def _at_bob(host: AppHost, session: Session, done: NetDone) -> bool:
    return host.node == session.dst


def _forged(host: AppHost, session: Session, message: QkdBases) -> bool:
    assert isinstance(session, QkdSession)
    return not session._end(host).auth.check(message)


def _at_alice(host: AppHost, session: Session, message: QkdBases) -> bool:
    return host.node == session.src


_Q = QkdSession
_ENDED = ("done", "error", "expired")

QKD_LIFECYCLE = StateTable(
    name="qkd session",
    states=("running", "sifting", "done", "error", "expired"),
    initial="running",
    transitions=(
        *(Transition(s, NetOk, s, _Q.on_measured) for s in ("running", "sifting")),
        *(Transition(s, NetOkBatch, s, _Q.on_measured_batch) for s in ("running", "sifting")),
        Transition("running", NetDone, "sifting", _Q.send_bases, _at_bob, "QKD_BASES"),
        *(Transition(s, NetDone, s, _Q.note_done) for s in ("running", "sifting")),
        *(Transition(s, QkdBases, "error", _Q.reject, _forged) for s in ("running", "sifting")),
        Transition("sifting", QkdBases, "sifting", _Q.reply_bases, _at_alice, "QKD_BASES"),
        Transition("sifting", QkdBases, "done", _Q.distill_key, note="key"),
        *common_rows(("running", "sifting")),
        *(
            Transition(s, message, s, Session.ignore)
            for s in _ENDED
            for message in (NetOk, NetOkBatch, NetDone, NetError, QkdBases)
        ),
    ),
)
QkdSession.table = QKD_LIFECYCLE.fast()


def _as_text(bases: Bits) -> str:
    return "".join("X" if b else "Z" for b in bases.tolist())
