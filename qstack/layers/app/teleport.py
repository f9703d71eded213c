"""The ``teleport`` application: send qubit states over end-to-end pairs.

The source Bell-measures the input state together with its half of each
delivered pair and sends the two result bits to the destination over the
classical network (with its real delay). The destination, once it holds its
half and the bits, applies the correction. The input travels as a density
matrix through the pair's true state and through the destination memory's
noise while the bits are on their way; the session records the fidelity of
what arrives with what was sent.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from qstack.hardware.memory import EntangledPair
from qstack.layers.app.base import AppHost, AppMessage, SessionRecord
from qstack.layers.network.messages import NetCreate, NetDone, NetError, NetOk
from qstack.physics import density
from qstack.physics.bell import BellDiagonal
from qstack.physics.density import DensityMatrixPair
from qstack.physics.state import PairState, exchange_qubits

Vector = npt.NDArray[np.complex128]
Matrix = npt.NDArray[np.complex128]

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


def _bell_projections(rho_cab: Matrix) -> list[tuple[float, Matrix]]:
    """For each Bell outcome k on qubits (C, A): its probability and the
    normalised state of B (qubit order C, A, B)."""
    tensor = rho_cab.reshape(2, 2, 2, 2, 2, 2)
    results = []
    for k in range(4):
        v = density.BELL_VECTORS[k].reshape(2, 2)
        rho_b = np.einsum("ca,cabdeg,de->bg", v.conj(), tensor, v)
        probability = float(np.real(np.trace(rho_b)))
        results.append((probability, rho_b / probability if probability > 0 else rho_b))
    return results


def _correction_table() -> tuple[int, ...]:
    """The Pauli the receiver applies for each Bell outcome when the pair is
    Phi+: found once by teleporting a generic state through an ideal pair."""
    psi = np.array([0.6, 0.8j], dtype=np.complex128)
    rho_cab = np.kron(np.outer(psi, psi.conj()), density.bell_state(0)).astype(np.complex128)
    table = []
    for _, rho_b in _bell_projections(rho_cab):
        fidelities = []
        for pauli in range(4):
            p = density.pauli_matrix(pauli)
            fidelities.append(float(np.real(psi.conj() @ p @ rho_b @ p.conj().T @ psi)))
        table.append(int(np.argmax(fidelities)))
    return tuple(table)


CORRECTION = _correction_table()


def _matrix(state: PairState) -> Matrix:
    if isinstance(state, DensityMatrixPair):
        return state.rho
    assert isinstance(state, BellDiagonal)
    return density.from_bell_diagonal(state)


class _InFlight:
    """A teleported state whose correction bits may still be travelling:
    the destination qubit's true state, for the notebook."""

    __slots__ = ("end_correction", "measured_ps", "outcome", "psi", "rho_b")

    def __init__(
        self, psi: Vector, rho_b: Matrix, outcome: int, measured_ps: int, end_correction: int
    ) -> None:
        self.psi = psi
        self.rho_b = rho_b
        self.outcome = outcome
        self.measured_ps = measured_ps
        self.end_correction = end_correction


class TeleportSession(SessionRecord):
    """A ``teleport`` session: ``create.number`` states, one per pair."""

    app = "teleport"

    def __init__(
        self,
        src: str,
        dst: str,
        create: NetCreate,
        start_ps: int,
        states: Literal["haar", "cardinal"],
        rng: np.random.Generator,
    ) -> None:
        super().__init__(src, dst, create, start_ps)
        self.states = states
        self._rng = rng
        self.teleport_fidelities: list[float] = []
        self._sent = 0
        self._in_flight: dict[str, _InFlight] = {}
        self._arrived: dict[str, int] = {}  # pair id -> destination qubit
        self._bits: dict[str, int] = {}

    @property
    def teleport_fidelity_mean(self) -> float | None:
        fids = self.teleport_fidelities
        return sum(fids) / len(fids) if fids else None

    def _next_input(self) -> Vector:
        if self.states == "cardinal":
            psi = CARDINAL_STATES[self._sent % len(CARDINAL_STATES)]
        else:
            z = self._rng.normal(size=2) + 1j * self._rng.normal(size=2)
            psi = (z / np.linalg.norm(z)).astype(np.complex128)
        self._sent += 1
        return psi

    def net_ok(self, host: AppHost, now: int, ok: NetOk) -> None:
        self.count(host, now, ok)
        assert ok.qubit is not None, "teleportation needs kept pairs"
        if host.node == self.src:
            self._send_state(host, now, ok)
        else:
            self._arrived[ok.pair_id] = ok.qubit
            self._try_receive(host, now, ok.pair_id)

    def _send_state(self, host: AppHost, now: int, ok: NetOk) -> None:
        assert ok.qubit is not None
        pair = host.memory.pairs[ok.qubit]
        assert pair is not None
        pair.advance(now)
        state = pair.state if _side(host, pair, ok.qubit) == 0 else exchange_qubits(pair.state)
        psi = self._next_input()
        rho_cab = np.kron(np.outer(psi, psi.conj()), _matrix(state)).astype(np.complex128)
        outcomes = _bell_projections(rho_cab)
        u = self._rng.random()
        outcome = 3
        for k, (probability, _) in enumerate(outcomes):
            u -= probability
            if u < 0.0:
                outcome = k
                break
        self._in_flight[ok.pair_id] = _InFlight(
            psi, outcomes[outcome][1], outcome, now, pair.end_correction
        )
        host.release(now, ok.qubit)
        host.send(
            self.dst,
            TeleportCorrection(request_id=self.request_id, pair_id=ok.pair_id, outcome=outcome),
        )

    def receive(self, host: AppHost, now: int, message: AppMessage) -> None:
        assert isinstance(message, TeleportCorrection)
        self._bits[message.pair_id] = message.outcome
        self._try_receive(host, now, message.pair_id)

    def _try_receive(self, host: AppHost, now: int, pair_id: str) -> None:
        """Correct and score a state once both its half and its bits are here."""
        if pair_id not in self._arrived or pair_id not in self._bits:
            return
        qubit = self._arrived.pop(pair_id)
        outcome = self._bits.pop(pair_id)
        flight = self._in_flight.pop(pair_id)
        pair = host.memory.pairs[qubit]
        assert pair is not None
        # Memory noise on the destination qubit while the bits travelled.
        carrier = DensityMatrixPair(np.kron(_ZERO, flight.rho_b).astype(np.complex128))
        host.memory.noise.apply(carrier, 1, now - flight.measured_ps)
        rho = density.partial_trace(carrier.rho, [1], 2)
        # The destination's own frame correction, if it came after the
        # source measured, then the teleportation correction.
        for pauli in (pair.end_correction ^ flight.end_correction, CORRECTION[outcome]):
            if pauli:
                p = density.pauli_matrix(pauli)
                rho = p @ rho @ p.conj().T
        psi = flight.psi
        fidelity = float(np.real(psi.conj() @ rho @ psi))
        self.teleport_fidelities.append(min(max(fidelity, 0.0), 1.0))
        host.release(now, qubit)
        if self.ends_done == 2 and not self._in_flight:
            self.finish(now, "done", None)

    def net_done(self, host: AppHost, now: int, done: NetDone) -> None:
        self.ends_done += 1
        if self.ends_done == 2 and not self._in_flight:
            self.finish(now, "done", None)

    def net_error(self, host: AppHost, now: int, error: NetError) -> None:
        self.fail(now, error)


_ZERO = np.array([[1, 0], [0, 0]], dtype=np.complex128)


def _side(host: AppHost, pair: EntangledPair, qubit: int) -> int:
    return 0 if pair.memories[0] is host.memory and pair.qubits[0] == qubit else 1
