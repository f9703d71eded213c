"""Ground truth: what only the simulator can know about the quantum state.

A protocol acts on what its node was told; it never reads this. Reports
(the true fidelity a delivery primitive carries, a teleported state's
fidelity with what was sent) and the conformance kit do, through this one
explicit door.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from qstack.physics import multiqubit as mq
from qstack.physics.bell import BellDiagonal
from qstack.physics.density import DensityMatrixPair, from_bell_diagonal, partial_trace
from qstack.physics.state import PairState
from qstack.quantum.multi import MultiRecord, reduced_state
from qstack.quantum.pair import PairRecord
from qstack.quantum.store import QuantumStore

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
        when it was consumed; for a qubit whose pair became part of a state
        over more qubits: the pair's fidelity then."""
        record = self._store.registers[node]._slots[qubit]
        if record is None:
            raise LookupError(f"{node}: qubit {qubit} holds no quantum state")
        if isinstance(record, MultiRecord):
            register = self._store.registers[node]
            fidelity = record.entries[record.index(register, qubit)].pair_fidelity
            if fidelity is None:
                raise LookupError(f"{node}: qubit {qubit} was not part of a pair")
            return fidelity
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
        holding = self._store.holding(node, qubit)
        if isinstance(holding, MultiRecord):
            return self.fidelity_with(node, qubit, [(node, qubit)], psi, now)
        record = self._required(node, qubit)
        record.advance(now)
        side = record.side_of(self._store.registers[node], qubit)
        state = record.state
        rho4 = state.rho if isinstance(state, DensityMatrixPair) else _matrix(state)
        rho = partial_trace(rho4, [side], 2)
        return float(np.real(psi.conj() @ rho @ psi))

    def ghz_fidelity(self, node: str, qubit: int, now: int) -> float:
        """Fidelity at ``now`` with the n-qubit GHZ state (|0..0> + |1..1>)/sqrt 2
        of the whole state ``qubit`` is part of: its held qubits as they are
        now, the ones already released as they were then (GHZ is symmetric,
        so the order of the qubits does not matter)."""
        record = self._multi(node, qubit, now)
        return mq.ghz_fidelity(record.rho)

    def fidelity_with(
        self,
        node: str,
        qubit: int,
        parts: Sequence[tuple[str, int]],
        psi: Vector,
        now: int,
    ) -> float:
        """Fidelity at ``now`` with the pure state ``psi`` of the qubits
        ``parts`` ((node, slot) each, in psi's qubit order) of the state
        ``qubit`` of ``node`` is part of; the state's other qubits are traced
        out. A part released already is taken as it was then."""
        record = self._multi(node, qubit, now)
        rho = reduced_state(record, [record.find(n, q) for n, q in parts])
        return float(np.real(psi.conj() @ rho @ psi))

    def _multi(self, node: str, qubit: int, now: int) -> MultiRecord:
        record = self._store.holding(node, qubit)
        if not isinstance(record, MultiRecord):
            raise LookupError(f"{node}: qubit {qubit} holds no state over more than two qubits")
        record.advance(now)
        return record

    def _required(self, node: str, qubit: int) -> PairRecord:
        record = self._store.record(node, qubit)
        if record is None:
            raise LookupError(f"{node}: qubit {qubit} holds no quantum state")
        return record


def _matrix(state: PairState) -> npt.NDArray[np.complex128]:
    assert isinstance(state, BellDiagonal)
    return from_bell_diagonal(state)
