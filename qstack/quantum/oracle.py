"""Ground truth: what only the simulator can know about the quantum state.

A protocol acts on what its node was told; it never reads this. Reports
(the true fidelity a delivery primitive carries, a teleported state's
fidelity with what was sent) and the conformance kit do, through this one
explicit door.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qstack.physics.bell import BellDiagonal
from qstack.physics.density import DensityMatrixPair, from_bell_diagonal, partial_trace
from qstack.physics.state import PairState
from qstack.quantum.store import PairRecord, QuantumStore

Vector = npt.NDArray[np.complex128]


class TruthOracle:
    """Read access to every state of a run's :class:`QuantumStore`."""

    __slots__ = ("_store",)

    def __init__(self, store: QuantumStore) -> None:
        self._store = store

    def record(self, node: str, qubit: int) -> PairRecord | None:
        """The state record in ``node``'s ``qubit``, if it holds one."""
        return self._store.record(node, qubit)

    def fidelity(self, node: str, qubit: int, now: int) -> float:
        """True fidelity at ``now`` of the pair in ``qubit`` with its reference
        Bell state: the state both ends hold once the Pauli corrections they
        know of are applied. Brings the pair's lazy noise up to ``now`` (as
        touching it would), so a report reading it is part of the run. For a
        qubit whose pair was consumed by teleportation: the pair's fidelity
        when it was consumed."""
        record = self._store.registers[node]._slots[qubit]
        if record is None:
            raise LookupError(f"{node}: qubit {qubit} holds no quantum state")
        if record.consumed is not None:
            state, index = record.consumed
            return state.fidelity(index)
        record.advance(now)
        return record.state.fidelity(record.bell_index)

    def state(self, node: str, qubit: int, now: int) -> PairState | None:
        """A copy of the pair's state at ``now``, memory noise applied to the
        copy only: observing never changes the simulation."""
        record = self._store.record(node, qubit)
        if record is None:
            return None
        state = record.state.copy()
        for side in (0, 1):
            register = record.registers[side]
            dt = now - record.updated_ps[side]
            if register is not None and dt > 0:
                register.noise.apply(state, side, dt)
        return state

    def qubit_fidelity(self, node: str, qubit: int, psi: Vector, now: int) -> float:
        """Fidelity at ``now`` of the one-qubit state in ``qubit`` with the
        pure state ``psi`` (e.g. a teleported state with the one sent)."""
        record = self._required(node, qubit)
        record.advance(now)
        side = record.side_of(self._store.registers[node], qubit)
        state = record.state
        rho4 = state.rho if isinstance(state, DensityMatrixPair) else _matrix(state)
        rho = partial_trace(rho4, [side], 2)
        return float(np.real(psi.conj() @ rho @ psi))

    def _required(self, node: str, qubit: int) -> PairRecord:
        record = self._store.record(node, qubit)
        if record is None:
            raise LookupError(f"{node}: qubit {qubit} holds no quantum state")
        return record


def _matrix(state: PairState) -> npt.NDArray[np.complex128]:
    assert isinstance(state, BellDiagonal)
    return from_bell_diagonal(state)
