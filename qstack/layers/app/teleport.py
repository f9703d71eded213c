"""The ``teleport`` application: send qubit states over end-to-end pairs.

The source Bell-measures the input state together with its half of each
delivered pair (a store operation on its own qubit) and sends the two
result bits to the destination over the classical network (with its real
delay). The far half then holds the teleported state, in the destination's
memory, with its noise, until the bits arrive and the destination applies
the correction. The session records the fidelity of what arrives with what
was sent, read from the run's oracle (a report figure).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from qstack.fsm.table import StateTable, Transition
from qstack.layers.app.base import AppHost, Session, common_rows, other_end_done
from qstack.layers.app.service import AppMessage, SessionSetup
from qstack.layers.network.messages import NetDone, NetError, NetOk
from qstack.physics.teleportation import CORRECTION
from qstack.reports import RequestReport

Vector = npt.NDArray[np.complex128]

_S = 1.0 / math.sqrt(2.0)
#: The six cardinal states: Z, X and Y eigenstates.
CARDINAL_STATES: tuple[Vector, ...] = tuple(
    np.array(v, dtype=np.complex128)
    for v in ([1, 0], [0, 1], [_S, _S], [_S, -_S], [_S, 1j * _S], [_S, -1j * _S])
)


class TeleportCorrection(AppMessage):
    """The source's Bell-measurement result for one pair."""

    kind: Literal["TELEPORT_CORRECTION"] = "TELEPORT_CORRECTION"
    pair_id: str
    outcome: int = Field(ge=0, le=3)


class TeleportRequestReport(RequestReport):
    """A ``teleport`` request: how faithfully the states arrived."""

    teleported: int
    teleport_fidelity_mean: float | None

    def summary(self) -> str | None:
        if not self.teleport_fidelity_mean:
            return None
        return (
            f"teleport: {self.teleported} states, mean fidelity {self.teleport_fidelity_mean:.5f}"
        )


class TeleportSession(Session):
    """A ``teleport`` session: ``create.number`` states, one per pair."""

    app = "teleport"
    pair_type = "keep"
    report_type = TeleportRequestReport

    def __init__(self, setup: SessionSetup) -> None:
        super().__init__(setup)
        self.states: Literal["haar", "cardinal"] = setup.options.get("states") or "haar"
        self._rng = setup.rng
        self.teleport_fidelities: list[float] = []
        self._sent = 0
        self._in_flight: dict[str, Vector] = {}  # pair id -> the state sent
        self._arrived: dict[str, int] = {}  # pair id -> destination qubit
        self._bits: dict[str, int] = {}
        self._receiver: AppHost | None = None  # the destination's host
        self._receiver_done = False

    @property
    def teleport_fidelity_mean(self) -> float | None:
        fids = self.teleport_fidelities
        return sum(fids) / len(fids) if fids else None

    def report_fields(self, active_s: float) -> dict[str, Any]:
        return {
            "teleported": len(self.teleport_fidelities),
            "teleport_fidelity_mean": self.teleport_fidelity_mean,
        }

    def _next_input(self) -> Vector:
        if self.states == "cardinal":
            psi = CARDINAL_STATES[self._sent % len(CARDINAL_STATES)]
        else:
            z = self._rng.normal(size=2) + 1j * self._rng.normal(size=2)
            psi = (z / np.linalg.norm(z)).astype(np.complex128)
        self._sent += 1
        return psi

    def free(self, now: int) -> None:
        """Halves at the destination still waiting for their bits are freed."""
        if self._receiver is not None:
            for qubit in self._arrived.values():
                self._receiver.release(now, qubit)
        self._arrived.clear()

    # -- lifecycle handlers: (host of the end, session, now, event) -----------

    @staticmethod
    def on_pair(host: AppHost, session: Session, now: int, ok: NetOk) -> None:
        assert isinstance(session, TeleportSession)
        session.count(host, now, ok)
        assert ok.qubit is not None, "teleportation needs kept pairs"
        if host.node == session.src:
            session._send_state(host, now, ok.pair_id, ok.qubit)
        else:
            session._receiver = host
            session._arrived[ok.pair_id] = ok.qubit
            session._try_receive(host, now, ok.pair_id)

    def _send_state(self, host: AppHost, now: int, pair_id: str, qubit: int) -> None:
        psi = self._next_input()
        outcome = host.qubits.teleport(now, qubit, psi, self._rng)
        self._in_flight[pair_id] = psi
        host.release(now, qubit)
        host.send(
            self.dst,
            TeleportCorrection(request_id=self.request_id, pair_id=pair_id, outcome=outcome),
        )

    @staticmethod
    def on_bits(host: AppHost, session: Session, now: int, message: TeleportCorrection) -> None:
        assert isinstance(session, TeleportSession)
        session._bits[message.pair_id] = message.outcome
        session._try_receive(host, now, message.pair_id)
        if session._receiver_done:
            session._drop_unpaired()

    def _try_receive(self, host: AppHost, now: int, pair_id: str) -> None:
        """Correct and score a state once both its half and its bits are here."""
        if pair_id not in self._arrived or pair_id not in self._bits:
            return
        qubit = self._arrived.pop(pair_id)
        outcome = self._bits.pop(pair_id)
        psi = self._in_flight.pop(pair_id)
        host.qubits.pauli(now, qubit, CORRECTION[outcome])
        fidelity = host.truth.qubit_fidelity(host.node, qubit, psi, now)
        self.teleport_fidelities.append(min(max(fidelity, 0.0), 1.0))
        host.release(now, qubit)

    def _drop_unpaired(self) -> None:
        """Once the destination has every pair it will get, bits for a pair
        it never got (a fault lost it on the way) are a state lost."""
        for pair_id in [p for p in self._bits if p not in self._arrived]:
            del self._bits[pair_id]
            del self._in_flight[pair_id]

    @staticmethod
    def on_done(host: AppHost, session: Session, now: int, done: NetDone) -> None:
        assert isinstance(session, TeleportSession)
        session.ends_done += 1
        if host.node == session.dst:
            session._receiver_done = True
            session._drop_unpaired()


def _arrived_all(host: AppHost, session: Session, event: object) -> bool:
    """This input completes the session: both ends done, no state in flight."""
    assert isinstance(session, TeleportSession)
    in_flight = session._in_flight
    if isinstance(event, NetDone):
        if not other_end_done(host, session, event):
            return False
        if host.node == session.dst:  # bits for pairs that never came are dropped
            return all(pair_id in session._bits for pair_id in in_flight)
        return not in_flight
    assert isinstance(event, TeleportCorrection)
    return session.ends_done == 2 and len(in_flight) == 1 and event.pair_id in in_flight


def _finished(host: AppHost, session: Session, now: int, event: object) -> None:
    if isinstance(event, NetDone):
        TeleportSession.on_done(host, session, now, event)
    else:
        assert isinstance(event, TeleportCorrection)
        TeleportSession.on_bits(host, session, now, event)
    session.ended(now)


_T = TeleportSession

TELEPORT_LIFECYCLE = StateTable(
    name="teleport session",
    states=("running", "done", "error", "expired"),
    initial="running",
    transitions=(
        Transition("running", NetOk, "running", _T.on_pair, note="TELEPORT_CORRECTION"),
        Transition("running", TeleportCorrection, "done", _finished, _arrived_all),
        Transition("running", TeleportCorrection, "running", _T.on_bits),
        Transition("running", NetDone, "done", _finished, _arrived_all),
        Transition("running", NetDone, "running", _T.on_done),
        *common_rows(("running",)),
        *(Transition(s, NetOk, s, Session.release_late) for s in ("done", "error", "expired")),
        *(
            Transition(s, message, s, Session.ignore)
            for s in ("done", "error", "expired")
            for message in (NetDone, NetError, TeleportCorrection)
        ),
    ),
)
TeleportSession.table = TELEPORT_LIFECYCLE.fast()
