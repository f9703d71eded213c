"""A pair's state record: the two-qubit state two qubit slots share, and
what every slot of the store holds (a pair, or a share of a larger state).

Kept apart from the store's operations (:mod:`qstack.quantum.store`) so
that the record, which the oracle and the conformance kit read, stands on
its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qstack.physics.state import PairState
from qstack.quantum.multi import MultiRecord

if TYPE_CHECKING:
    from qstack.quantum.store import QubitRegister


class PairRecord:
    """A two-qubit state shared by two qubits (or one qubit and an ancilla).

    Side 0 is the link's ``a`` end when the pair was heralded. A side whose
    register is None is an ancilla fixed in |0> (how a lone qubit, such as
    a teleported state, is carried on the two-qubit path).
    """

    __slots__ = (
        "bell_index",
        "born_ps",
        "consumed",
        "measured",
        "pair_id",
        "qubits",
        "registers",
        "state",
        "updated_ps",
    )

    def __init__(
        self,
        pair_id: int,
        state: PairState,
        bell_index: int,
        registers: tuple[QubitRegister | None, QubitRegister | None],
        qubits: tuple[int, int],
        updated_ps: int,
        born_ps: int,
    ) -> None:
        self.pair_id = pair_id
        self.state = state
        self.bell_index = bell_index
        self.registers = registers
        self.qubits = qubits
        self.updated_ps = [updated_ps, updated_ps]
        self.born_ps = born_ps
        self.measured: tuple[int, str, int] | None = None
        # For a lone qubit left by teleportation: the pair's state when the
        # Bell measurement consumed it (what its delivery is reported against).
        self.consumed: tuple[PairState, int] | None = None

    def advance(self, now: int) -> None:
        """Apply each side's memory noise from its last update to ``now``."""
        updated = self.updated_ps
        if updated[0] == now and updated[1] == now:
            return  # already touched in this picosecond (several ops often are)
        for side in (0, 1):
            dt = now - updated[side]
            if dt:
                register = self.registers[side]
                if register is not None:
                    register.noise.apply(self.state, side, dt)
                updated[side] = now

    def side_of(self, register: QubitRegister, qubit: int) -> int:
        """Which side of the pair ``qubit`` of ``register`` is."""
        return 0 if self.registers[0] is register and self.qubits[0] == qubit else 1


StateRecord = PairRecord | MultiRecord
"""What a qubit slot holds: a pair, or a share of a state over more qubits."""
