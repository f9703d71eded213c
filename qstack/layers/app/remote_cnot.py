"""The ``remote_cnot`` application: CNOT gates between a qubit at ``src`` and one at ``dst``.

Gate teleportation (Eisert, Jacobs, Papadopoulos and Plenio, PRA 62,
052317 (2000); ``qstack.physics.remote_gate``), one shared pair and one
classical bit each way per gate:

1. Alice (the source) holds the control c and half a of a pair: CNOT(c -> a),
   measure a in Z (m1), send m1 (REMOTE_CNOT_BIT, step 1).
2. Bob (the destination) holds half b and the target t: once he has both his
   half and m1, X^(m1) on b, CNOT(b -> t), measure b in X (m2), send m2 (step 2).
   His target is then done: he hands it on (releases it).
3. Alice applies Z^(m2) to c: the gate is complete; she hands c on.

Each CNOT is followed by the node's ``gate_error`` channel and each
outcome is flipped with its ``measurement_error``; the qubits wait in the
nodes' memories with their noise. The source asks for one pair per gate
and the next once the previous gate is complete (``qstack.layers.app.rounds``).

What is reported: each data qubit is prepared maximally entangled with a
reference that no node holds (``QubitRegister.prepare_purified``), so the
four qubits (reference of c, c, t, reference of t) end in the Choi state
of the channel the protocol applied; its fidelity with
(I x CNOT x I)|Phi+>|Phi+>, read through the oracle, is that gate's
entanglement (process) fidelity F_e, and (4 F_e + 1) / 5 its average gate
fidelity over pure inputs (``app_formulas.average_gate_fidelity``).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field

from qstack.fsm.table import StateTable, Transition
from qstack.layers.app.base import AppHost, Session
from qstack.layers.app.rounds import RoundSession, require_qubits, round_rows
from qstack.layers.app.service import AppMessage, SessionSetup
from qstack.layers.network.messages import NetOk
from qstack.physics import multiqubit as mq
from qstack.physics.app_formulas import average_gate_fidelity
from qstack.physics.density import Matrix
from qstack.physics.errors import IDEAL_OPERATIONS
from qstack.quantum.multi import REFERENCE_SLOT
from qstack.reports import RequestReport


def _ideal_choi_state() -> Matrix:
    """(I x CNOT x I)(|Phi+> (x) |Phi+>) over (reference of c, c, t, reference of t)."""
    bell = np.zeros(4, dtype=np.complex128)
    bell[0] = bell[3] = 1.0 / math.sqrt(2.0)
    gate = np.kron(np.kron(np.eye(2), mq.CNOT), np.eye(2))
    out: Matrix = (gate @ np.kron(bell, bell)).astype(np.complex128)
    return out


IDEAL_CHOI_STATE = _ideal_choi_state()


class RemoteCnotBit(AppMessage):
    """One classical bit of a gate: step 1, Alice's Z outcome (Bob applies
    X^bit to his half); step 2, Bob's X outcome (Alice applies Z^bit to c)."""

    kind: Literal["REMOTE_CNOT_BIT"] = "REMOTE_CNOT_BIT"
    pair_id: str
    step: Literal[1, 2]
    bit: int = Field(ge=0, le=1)


class RemoteCnotRequestReport(RequestReport):
    """A ``remote_cnot`` request: how well its gates worked."""

    gates: int
    process_fidelity_mean: float | None
    gate_fidelity_mean: float | None

    def summary(self) -> str | None:
        if self.gate_fidelity_mean is None or self.process_fidelity_mean is None:
            return None
        return (
            f"remote_cnot: {self.gates} gates, average gate fidelity "
            f"{self.gate_fidelity_mean:.5f} (process fidelity {self.process_fidelity_mean:.5f})"
        )


class RemoteCnotSession(RoundSession):
    """A ``remote_cnot`` session: ``pairs`` gates, control at ``src``, target at ``dst``."""

    app = "remote_cnot"
    pair_type = "keep"
    report_type = RemoteCnotRequestReport

    def __init__(self, setup: SessionSetup) -> None:
        super().__init__(setup)
        for node in (setup.src, setup.dst):
            require_qubits(setup, node, 2, "a pair's half and a data qubit")
        hardware = setup.hardware
        self._errors = tuple(
            IDEAL_OPERATIONS if hardware is None else hardware.operation_errors(node)
            for node in (setup.src, setup.dst)
        )
        self._streams = setup.rng.spawn(2)
        self._bits: dict[str, int] = {}  # at Bob: pair id -> m1
        self._targets: dict[str, int] = {}  # pair id -> Bob's target qubit (for the report)
        self.process_fidelities: list[float] = []

    def report_fields(self, active_s: float) -> dict[str, Any]:
        fids = self.process_fidelities
        mean = sum(fids) / len(fids) if fids else None
        return {
            "gates": len(fids),
            "process_fidelity_mean": mean,
            "gate_fidelity_mean": None if mean is None else average_gate_fidelity(mean),
        }

    def _reference(self, pair_id: str, role: str) -> str:
        return f"{self.name}/{pair_id}/{role}"

    def begin(self, host: AppHost, now: int) -> None:
        self.rounds = 1
        self.request(host, now, self.dst)

    # -- lifecycle handlers: (host of the end, session, now, event) -----------

    @staticmethod
    def on_pair(host: AppHost, session: Session, now: int, ok: NetOk) -> None:
        assert isinstance(session, RemoteCnotSession)
        session.count(host, now, ok)
        assert ok.qubit is not None, "remote_cnot keeps its pairs"
        if host.node == session.src:
            session._control_step(host, now, ok.pair_id, ok.qubit)
        else:
            session.hold(host, ok.pair_id, ok.qubit)
            session._target_step(host, now, ok.pair_id)

    def _control_step(self, host: AppHost, now: int, pair_id: str, half: int) -> None:
        """Alice: CNOT(c -> a), measure a in Z, send m1."""
        control = host.allocate()
        assert control is not None, "guarded by _blocked"
        qubits = host.qubits
        errors, rng = self._errors[0], self._streams[0]
        qubits.prepare_purified(now, control, self._reference(pair_id, "control"))
        qubits.gate(now, [control, half], mq.CNOT, errors.gate_error)
        m1 = qubits.measure_share(now, half, "Z", rng.random, errors.measurement_error)
        host.release(now, half)
        self.hold(host, pair_id, control)
        message = RemoteCnotBit(request_id=self.request_id, pair_id=pair_id, step=1, bit=m1)
        host.send(self.dst, message)

    def _target_step(self, host: AppHost, now: int, pair_id: str) -> None:
        """Bob, once he has his half and m1: X^(m1), CNOT(b -> t), measure b in X, send m2."""
        if self.held(host, pair_id) is None or pair_id not in self._bits:
            return
        half = self.take(host, pair_id)
        target = host.allocate()
        assert target is not None, "guarded by _blocked"
        qubits = host.qubits
        errors, rng = self._errors[1], self._streams[1]
        qubits.prepare_purified(now, target, self._reference(pair_id, "target"))
        qubits.pauli(now, half, self._bits.pop(pair_id))
        qubits.gate(now, [half, target], mq.CNOT, errors.gate_error)
        m2 = qubits.measure_share(now, half, "X", rng.random, errors.measurement_error)
        host.release(now, half)
        host.release(now, target)  # the target's share of the gate is done: handed on
        self._targets[pair_id] = target
        message = RemoteCnotBit(request_id=self.request_id, pair_id=pair_id, step=2, bit=m2)
        host.send(self.src, message)

    @staticmethod
    def on_bit(host: AppHost, session: Session, now: int, message: RemoteCnotBit) -> None:
        assert isinstance(session, RemoteCnotSession)
        if message.step == 1:
            session._bits[message.pair_id] = message.bit
            session._target_step(host, now, message.pair_id)
            return
        control = session.take(host, message.pair_id)
        host.qubits.pauli(now, control, 2 * message.bit)
        parts = [
            (session._reference(message.pair_id, "control"), REFERENCE_SLOT),
            (session.src, control),
            (session.dst, session._targets.pop(message.pair_id)),
            (session._reference(message.pair_id, "target"), REFERENCE_SLOT),
        ]
        fidelity = host.truth.fidelity_with(host.node, control, parts, IDEAL_CHOI_STATE, now)
        session.process_fidelities.append(min(max(fidelity, 0.0), 1.0))
        host.release(now, control)
        session.complete_round(now)
        if session.completed < session.total_rounds:
            session.rounds += 1
            session.request(host, now, session.dst)

    @staticmethod
    def no_free_qubit(host: AppHost, session: Session, now: int, event: object) -> None:
        """No free qubit for a data qubit: the session ends with an error."""
        assert isinstance(session, RemoteCnotSession)
        if isinstance(event, NetOk):
            session.count(host, now, event)
            assert event.qubit is not None
            session.hold(host, event.pair_id, event.qubit)
        session.fail(host, now, f"resource_shortage: no free qubit at {host.node} for a data qubit")


def _blocked(host: AppHost, session: Session, event: object) -> bool:
    """This input needs a data qubit now and the node has none free."""
    assert isinstance(session, RemoteCnotSession)
    if host.memory.free_count:
        return False
    if host.node == session.src:
        return isinstance(event, NetOk)
    if isinstance(event, NetOk):
        return event.pair_id in session._bits
    assert isinstance(event, RemoteCnotBit)
    return event.step == 1 and session.held(host, event.pair_id) is not None


def _last_gate(host: AppHost, session: Session, message: RemoteCnotBit) -> bool:
    assert isinstance(session, RemoteCnotSession)
    return message.step == 2 and session.completed + 1 == session.total_rounds


_R = RemoteCnotSession
_ENDED = ("done", "error", "expired")

REMOTE_CNOT_LIFECYCLE = StateTable(
    name="remote_cnot session",
    states=("running", "done", "error", "expired"),
    initial="running",
    transitions=(
        Transition("running", NetOk, "error", _R.no_free_qubit, _blocked),
        Transition("running", NetOk, "running", _R.on_pair, note="REMOTE_CNOT_BIT"),
        Transition("running", RemoteCnotBit, "error", _R.no_free_qubit, _blocked),
        Transition("running", RemoteCnotBit, "done", _R.on_bit, _last_gate, "gate done"),
        Transition("running", RemoteCnotBit, "running", _R.on_bit, note="REMOTE_CNOT_BIT"),
        *round_rows(("running",), _ENDED),
        *(Transition(s, RemoteCnotBit, s, Session.ignore) for s in _ENDED),
    ),
)
RemoteCnotSession.table = REMOTE_CNOT_LIFECYCLE.fast()
