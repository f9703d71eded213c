"""The ``bb84`` application: decoy-state BB84 with weak coherent pulses, and key relay.

Prepare and measure, with no entanglement and no network request: Alice
(``src``) sends ``pairs`` phase-randomised weak coherent pulses over the
fiber to Bob (``dst``), each a signal, weak decoy or vacuum pulse (Lo, Ma &
Chen, PRL 94, 230504 (2005); Ma, Qi, Zhao & Lo, PRA 72, 012326 (2005)) with a
random bit and basis, at ``pulse_rate_hz``; the fiber and Bob's detectors
are the link's own (``qstack.layers.app.bb84_link``). Then, over the
authenticated classical network (Wegman-Carter tags from a pre-shared pool,
as ``qkd``):

1. Alice's last pulse reaches Bob (BB84_PULSES stands for the train: it
   leaves when the train ends and arrives one fiber delay later); Bob
   announces which pulses clicked and his bases (BB84_CLICKS).
2. Alice answers with her bases, the class of every clicked pulse and her
   bits of the decoy and vacuum clicks (BB84_SIFTING), which carry no key.
3. Bob has all he needs: gains and error rates per class, the vacuum + weak
   decoy bounds on the single-photon yield and error, the asymptotic GLLP
   rate; then the signal clicks go through ``qkd``'s chain (sifting, sample,
   Cascade, verification, Toeplitz privacy amplification) to the GLLP length
   ``decoy_secret_key_length``. Bob confirms (BB84_CONFIRM); once Alice has
   it, both hold the key. The error-correction exchanges are counted in
   ``leaked_bits``, not timed.

With ``relay = true`` the ends need not be neighbours: every link of a
path of fewest links runs the protocol at once (the source starts the far
ones with BB84_START), and each trusted node on the way, once it holds its
keys with both neighbours, sends the destination the XOR of the two
(one-time padded, BB84_RELAY) over their common length; the destination,
holding its own key with its neighbour, recovers the source's key with the
first node and tells the source the end-to-end length (BB84_RELAY_DONE).
The relays learn the key: they must be trusted.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import numpy as np
from pydantic import Field

from qstack.fsm.table import StateTable, Transition
from qstack.layers.app.base import AppHost, Session, fault_rows
from qstack.layers.app.bb84_link import Hop
from qstack.layers.app.service import AppMessage, SessionSetup, SetupError
from qstack.qkd._bits import Bits
from qstack.reports import RequestReport
from qstack.scenario.request import DEFAULT_PULSE_RATE_HZ
from qstack.sim.kernel import seconds_to_ps

_BASES = r"^[ZX]*$"


class Bb84Start(AppMessage):
    """The source asks the first node of link ``hop`` to start its pulses (relay)."""

    kind: Literal["BB84_START"] = "BB84_START"
    hop: int = Field(ge=0)


class Bb84Pulses(AppMessage):
    """The end of Alice's pulse train on link ``hop`` (the train itself is quantum)."""

    kind: Literal["BB84_PULSES"] = "BB84_PULSES"
    hop: int = Field(ge=0)
    pulses: int = Field(ge=0)


class Bb84Clicks(AppMessage):
    """Bob's bases, one letter per clicked pulse (in sending order), tagged."""

    kind: Literal["BB84_CLICKS"] = "BB84_CLICKS"
    hop: int = Field(ge=0)
    bases: str = Field(pattern=_BASES)
    tag_sequence: int = Field(ge=0)
    tag_value: int = Field(ge=0, lt=2**64)


class Bb84Sifting(AppMessage):
    """Alice's bases and classes (S, D, V) of the clicked pulses, and her bits
    of the decoy and vacuum clicks (in order), tagged."""

    kind: Literal["BB84_SIFTING"] = "BB84_SIFTING"
    hop: int = Field(ge=0)
    bases: str = Field(pattern=_BASES)
    classes: str = Field(pattern=r"^[SDV]*$")
    decoy_bits: str = Field(pattern=r"^[01]*$")
    tag_sequence: int = Field(ge=0)
    tag_value: int = Field(ge=0, lt=2**64)


class Bb84Confirm(AppMessage):
    """Bob has reconciled and amplified: the key's length (0 if aborted), tagged."""

    kind: Literal["BB84_CONFIRM"] = "BB84_CONFIRM"
    hop: int = Field(ge=0)
    key_bits: int = Field(ge=0)
    tag_sequence: int = Field(ge=0)
    tag_value: int = Field(ge=0, lt=2**64)


Tagged = Bb84Clicks | Bb84Sifting | Bb84Confirm


class Bb84Relay(AppMessage):
    """A trusted node's keys with its two neighbours XORed over ``key_bits``."""

    kind: Literal["BB84_RELAY"] = "BB84_RELAY"
    hop: int = Field(ge=1)
    bits: str = Field(pattern=r"^[01]*$")


class Bb84RelayDone(AppMessage):
    """The destination recovered the end-to-end key: its length."""

    kind: Literal["BB84_RELAY_DONE"] = "BB84_RELAY_DONE"
    key_bits: int = Field(ge=0)


class TrainEnd:
    """Alice's last pulse on link ``hop`` leaves (a timer)."""

    __slots__ = ("hop",)

    def __init__(self, hop: int) -> None:
        self.hop = hop


class Deadline:
    """The request's ``max_time_s`` has passed (a timer)."""

    __slots__ = ()


class SourceDown:
    """The source is down when the request is due: no pulse leaves."""

    __slots__ = ()


class Bb84RequestReport(RequestReport):
    """A ``bb84`` request: the decoy analysis and the key (the weakest link's, relayed)."""

    pulses: int
    signal_intensity: float
    decoy_intensity: float
    gain_signal: float | None
    qber_signal: float | None
    gain_decoy: float | None
    qber_decoy: float | None
    gain_vacuum: float | None
    single_photon_yield: float | None
    single_photon_error: float | None
    key_rate_per_pulse: float | None
    sifted_bits: int
    qber: float | None
    leaked_bits: int
    ec_efficiency: float | None
    secret_key_bits: int
    key_rate_bps: float | None
    keys_match: bool | None
    aborted: bool
    abort_reason: str | None
    relay_path: list[str] | None
    hop_secret_key_bits: list[int]

    def summary(self) -> str | None:
        if self.gain_signal is None or self.qber_signal is None:
            return None
        outcome = (
            f"aborted: {self.abort_reason}"
            if self.aborted
            else f"secret key {self.secret_key_bits} bits, keys match: {self.keys_match}"
        )
        rate = "-" if self.key_rate_per_pulse is None else f"{self.key_rate_per_pulse:.3g}"
        return (
            f"bb84: gain {self.gain_signal:.3g}, QBER {self.qber_signal:.4f}, "
            f"asymptotic rate {rate} bits/pulse, {outcome}"
        )


class Bb84Session(Session):
    """A ``bb84`` session: one link, or (``relay``) every link of a path."""

    app = "bb84"
    report_type = Bb84RequestReport

    @property
    def ends(self) -> tuple[str, ...]:
        """Every node of the path: a relayed session runs at the trusted nodes too."""
        return tuple(self.path)

    def __init__(self, setup: SessionSetup) -> None:
        super().__init__(setup)
        hardware, set_timer = setup.hardware, setup.set_timer
        if hardware is None or set_timer is None:
            raise SetupError("app 'bb84' needs the network's hardware view and timers")
        self._set_timer = set_timer
        options = setup.options
        self.relay: bool = options.get("relay", False)
        path = hardware.path(setup.src, setup.dst) if self.relay else [setup.src, setup.dst]
        self.path = path
        self.pulses = setup.create.number
        rate: float = options.get("pulse_rate_hz", DEFAULT_PULSE_RATE_HZ)
        self._train_ps = max(seconds_to_ps(self.pulses / rate), 1)
        streams = setup.rng.spawn(len(path) - 1)
        self.hops: list[Hop] = []
        for index, (alice, bob) in enumerate(itertools.pairwise(path)):
            spec = hardware.link(alice, bob)
            assert spec is not None, "consecutive nodes of a path are linked"
            self.hops.append(Hop(index, alice, bob, spec, options, streams[index]))
        self._relayed: dict[int, Bits] = {}
        self._confirmed: set[int] = set()
        self.secret_key_bits = 0
        self.keys_match: bool | None = None
        self.key_src: Bits = np.zeros(0, np.uint8)
        self.key_dst: Bits = np.zeros(0, np.uint8)

    # -- the report -------------------------------------------------------------

    def _reported_hop(self) -> Hop:
        """The hop whose figures the report shows: the only one, or the one
        with the shortest key (the relay's bottleneck)."""
        return min(self.hops, key=lambda hop: (len(hop.key_bob), hop.index))

    @property
    def delivered(self) -> int:
        """Pulses Bob detected (on the reported link)."""
        record = self._reported_hop().record
        return 0 if record is None else int(record.index.size)

    def report_fields(self, active_s: float) -> dict[str, Any]:
        hop = self._reported_hop()
        aborted = [h.result.abort_reason for h in self.hops if h.result and h.result.aborted]
        return {
            **hop.report_fields(),
            "latency_mean_s": None,
            "secret_key_bits": self.secret_key_bits,
            "key_rate_bps": self.secret_key_bits / active_s if active_s > 0 else None,
            "keys_match": self.keys_match,
            "aborted": bool(aborted),
            "abort_reason": aborted[0] if aborted else None,
            "relay_path": self.path if self.relay else None,
            "hop_secret_key_bits": [len(h.key_bob) for h in self.hops],
        }

    # -- starting ---------------------------------------------------------------

    def begin(self, host: AppHost, now: int) -> None:
        host.attach(self.name, self)
        if host.state == "down":
            self.table.dispatch(host, self, now, SourceDown())
            return
        deadline = self.create.max_time_ps
        if deadline is not None:
            self._set_timer(deadline, self._fire, (host, Deadline()))
        for hop in self.hops[1:]:
            host.send(hop.alice, Bb84Start(request_id=self.name, hop=hop.index))
        self._start_train(host, self.hops[0])

    def _start_train(self, host: AppHost, hop: Hop) -> None:
        self._set_timer(self._train_ps, self._fire, (host, TrainEnd(hop.index)))

    def _fire(self, now: int, argument: object) -> None:
        """A timer of this session at the node that set it."""
        assert isinstance(argument, tuple)
        host, event = argument
        self.table.dispatch(host, self, now, event)

    # -- lifecycle handlers: (host of the end, session, now, event) -----------

    @staticmethod
    def on_start(host: AppHost, session: Session, now: int, message: Bb84Start) -> None:
        assert isinstance(session, Bb84Session)
        session._start_train(host, session.hops[message.hop])

    @staticmethod
    def on_train_end(host: AppHost, session: Session, now: int, event: TrainEnd) -> None:
        assert isinstance(session, Bb84Session)
        hop = session.hops[event.hop]
        message = Bb84Pulses(request_id=session.name, hop=hop.index, pulses=session.pulses)
        host.send(hop.bob, message)

    @staticmethod
    def on_pulses(host: AppHost, session: Session, now: int, message: Bb84Pulses) -> None:
        """Bob: the train has passed; he announces his clicks and bases."""
        assert isinstance(session, Bb84Session)
        hop = session.hops[message.hop]
        record = hop.detect(message.pulses)
        clicks = Bb84Clicks(
            request_id=session.name,
            hop=hop.index,
            bases=_letters(record.bob_bases),
            tag_sequence=0,
            tag_value=0,
        )
        host.send(hop.alice, hop.bob_auth.sign(clicks))

    @staticmethod
    def on_clicks(host: AppHost, session: Session, now: int, message: Bb84Clicks) -> None:
        """Alice: her bases, the classes of the clicked pulses, her decoy bits."""
        assert isinstance(session, Bb84Session)
        hop = session.hops[message.hop]
        assert hop.record is not None
        record = hop.record
        decoys = record.intensity_class != 0
        sifting = Bb84Sifting(
            request_id=session.name,
            hop=hop.index,
            bases=_letters(record.alice_bases),
            classes="".join("SDV"[c] for c in record.intensity_class.tolist()),
            decoy_bits="".join(map(str, record.alice_bits[decoys].tolist())),
            tag_sequence=0,
            tag_value=0,
        )
        host.send(hop.bob, hop.alice_auth.sign(sifting))

    @staticmethod
    def on_sifting(host: AppHost, session: Session, now: int, message: Bb84Sifting) -> None:
        """Bob: decoy analysis and the key; his confirmation goes to Alice."""
        assert isinstance(session, Bb84Session)
        hop = session.hops[message.hop]
        hop.analyse()
        hop.distill()
        confirm = Bb84Confirm(
            request_id=session.name,
            hop=hop.index,
            key_bits=len(hop.key_bob),
            tag_sequence=0,
            tag_value=0,
        )
        host.send(hop.alice, hop.bob_auth.sign(confirm))
        session._relay_from(host, now, hop.index + 1)

    @staticmethod
    def on_confirm(host: AppHost, session: Session, now: int, message: Bb84Confirm) -> None:
        """Alice holds the hop's key now."""
        assert isinstance(session, Bb84Session)
        session._confirmed.add(message.hop)
        if not session.relay:
            hop = session.hops[0]
            session._finish(now, hop.key_alice, hop.key_bob)
        else:
            session._relay_from(host, now, message.hop)

    def _relay_from(self, host: AppHost, now: int, node_index: int) -> None:
        """The node ``path[node_index]`` may now hold both its keys: a relay
        sends their XOR; the destination checks whether it can finish."""
        if not self.relay:
            return
        if node_index == len(self.path) - 1:
            self._try_recover(host, now)
            return
        if node_index == 0 or node_index not in self._confirmed:
            return
        before, after = self.hops[node_index - 1], self.hops[node_index]
        if before.result is None:
            return  # its key with the node before is not there yet
        length = min(len(before.key_bob), len(after.key_alice))
        xor = before.key_bob[:length] ^ after.key_alice[:length]
        bits = "".join(map(str, xor.tolist()))
        host.send(self.dst, Bb84Relay(request_id=self.name, hop=node_index, bits=bits))

    @staticmethod
    def on_relay(host: AppHost, session: Session, now: int, message: Bb84Relay) -> None:
        assert isinstance(session, Bb84Session)
        session._relayed[message.hop] = np.fromiter(map(int, message.bits), np.uint8)
        session._try_recover(host, now)

    def _try_recover(self, host: AppHost, now: int) -> None:
        """The destination, with every relay's XOR and its own key: the source's key."""
        last = self.hops[-1]
        if len(self._relayed) < len(self.hops) - 1 or last.result is None:
            return
        length = min([len(last.key_bob), *(len(x) for x in self._relayed.values())])
        key = last.key_bob[:length].copy()
        for xor in self._relayed.values():
            key ^= xor[:length]
        self.key_dst = key
        host.send(self.src, Bb84RelayDone(request_id=self.name, key_bits=length))

    @staticmethod
    def on_relay_done(host: AppHost, session: Session, now: int, message: Bb84RelayDone) -> None:
        assert isinstance(session, Bb84Session)
        session._finish(now, session.hops[0].key_alice[: message.key_bits], session.key_dst)

    def _finish(self, now: int, key_src: Bits, key_dst: Bits) -> None:
        self.key_src, self.key_dst = key_src, key_dst
        self.secret_key_bits = len(key_src)
        aborted = any(hop.result is None or hop.result.aborted for hop in self.hops)
        self.keys_match = None if aborted else bool(np.array_equal(key_src, key_dst))
        self.ended(now)

    @staticmethod
    def reject(host: AppHost, session: Session, now: int, message: Tagged) -> None:
        session.ended(now, f"authentication: a {message.kind} message to {host.node} failed it")

    @staticmethod
    def on_deadline(host: AppHost, session: Session, now: int, event: Deadline) -> None:
        session.ended(now, "timeout: max_time_s passed before the key was distilled")

    @staticmethod
    def on_source_down(host: AppHost, session: Session, now: int, event: SourceDown) -> None:
        session.ended(now, f"node_down: {host.node} is down")


def _letters(bases: Bits) -> str:
    return "".join("X" if b else "Z" for b in bases.tolist())


def _forged(host: AppHost, session: Session, message: Tagged) -> bool:
    assert isinstance(session, Bb84Session)
    return not session.hops[message.hop].auth(host.node).check(message)


def _single_link(host: AppHost, session: Session, message: Bb84Confirm) -> bool:
    assert isinstance(session, Bb84Session)
    return not session.relay


_B = Bb84Session
_ENDED = ("done", "error", "expired")
_MESSAGES: tuple[type, ...] = (
    Bb84Start,
    TrainEnd,
    Bb84Pulses,
    Bb84Clicks,
    Bb84Sifting,
    Bb84Confirm,
    Bb84Relay,
    Bb84RelayDone,
    Deadline,
    SourceDown,
)

BB84_LIFECYCLE = StateTable(
    name="bb84 session",
    states=("running", "done", "error", "expired"),
    initial="running",
    transitions=(
        Transition("running", Bb84Start, "running", _B.on_start, note="pulses"),
        Transition("running", TrainEnd, "running", _B.on_train_end, note="BB84_PULSES"),
        Transition("running", Bb84Pulses, "running", _B.on_pulses, note="BB84_CLICKS"),
        Transition("running", Bb84Clicks, "error", _B.reject, _forged),
        Transition("running", Bb84Clicks, "running", _B.on_clicks, note="BB84_SIFTING"),
        Transition("running", Bb84Sifting, "error", _B.reject, _forged),
        Transition("running", Bb84Sifting, "running", _B.on_sifting, note="BB84_CONFIRM"),
        Transition("running", Bb84Confirm, "error", _B.reject, _forged),
        Transition("running", Bb84Confirm, "done", _B.on_confirm, _single_link, "key"),
        Transition("running", Bb84Confirm, "running", _B.on_confirm, note="BB84_RELAY"),
        Transition("running", Bb84Relay, "running", _B.on_relay, note="BB84_RELAY_DONE"),
        Transition("running", Bb84RelayDone, "done", _B.on_relay_done, note="key"),
        Transition("running", Deadline, "expired", _B.on_deadline),
        Transition("running", SourceDown, "error", _B.on_source_down),
        *fault_rows(("running",)),
        *(Transition(s, message, s, Session.ignore) for s in _ENDED for message in _MESSAGES),
    ),
)
Bb84Session.table = BB84_LIFECYCLE.fast()
