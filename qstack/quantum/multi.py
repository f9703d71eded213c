"""States over more than two qubits: the store's exact record for multipartite protocols.

A :class:`MultiRecord` holds one density matrix over the qubits it spans
(``qstack.physics.multiqubit``, at most ``MAX_QUBITS``). It appears only when
a node does something a pair record cannot express: a gate on a qubit
whose state is a pair (the pair is *promoted*: its 4x4 state becomes the
record's matrix), a two-qubit gate across qubits of two records (they are
*merged*: their tensor product), a measurement that must collapse the
state (an application's own measurement), or a fresh qubit prepared in a
given state. Until then pairs stay pair records, so the Bell-diagonal fast
path and every pair operation are untouched.

Each qubit of a record is an *entry*: its node and slot, the register
holding it, the time up to which its memory noise was applied (lazily, as
for pairs), and the fidelity the pair it came from had when it was
promoted (what a later delivery report of that pair reads, as for a pair
consumed by teleportation).

Releasing a qubit (``QubitRegister.reset``) *hands over* its share: the
entry stays in the matrix as it was at that moment, with no more memory
noise, and its register is forgotten. What happens to a handed-over qubit
cannot change the other qubits' statistics, so keeping it changes nothing
for them; it lets the oracle read the joint state each holder had when it
was done with its share (a GHZ state's members, a remote gate's outputs).
A measurement collapses: the measured qubit leaves the record, and the
others keep the state of the outcome drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from qstack.physics import multiqubit as mq
from qstack.physics.density import DensityMatrixPair, Matrix, partial_trace
from qstack.physics.hardware import MemoryNoise, PerfectMemory
from qstack.physics.state import density_matrix_of
from qstack.quantum.errors import QubitError

if TYPE_CHECKING:
    from qstack.quantum.pair import PairRecord
    from qstack.quantum.store import QubitRegister

Uniform = Callable[[], float]

#: The slot by which the oracle names a reference qubit (``prepare_purified``).
REFERENCE_SLOT = -1

_S_DAGGER: Matrix = np.array([[1, 0], [0, -1j]], dtype=np.complex128)
#: Maps the Y eigenstates |+i>, |-i> to |0>, |1>: a Y measurement is this, then Z.
_Y_TO_Z: Matrix = (mq.HADAMARD @ _S_DAGGER).astype(np.complex128)


def idle_superoperator(noise: MemoryNoise, dt_ps: int) -> Matrix:
    """The 4x4 superoperator (row-major vec) of ``dt_ps`` of ``noise`` on one qubit.

    Read off the memory model itself: the model acts on one side of a pair
    and linearly, so its images of |i><j| (x) |0><0| give the single-qubit
    channel, whatever the model is (depolarising, T1/T2, a plug-in's).
    """
    columns = []
    for i in (0, 1):
        for j in (0, 1):
            probe: Matrix = np.zeros((4, 4), dtype=np.complex128)
            probe[2 * i, 2 * j] = 1.0
            pair = DensityMatrixPair(probe)
            noise.apply(pair, 0, dt_ps)
            columns.append(pair.rho.reshape(2, 2, 2, 2)[:, 0, :, 0].reshape(4))
    out: Matrix = np.column_stack(columns)
    return out


def apply_qubit_channel(rho: Matrix, superoperator: Matrix, qubit: int) -> Matrix:
    """A single-qubit channel (4x4 superoperator on row-major vec) on ``qubit`` of ``rho``."""
    n = mq.qubit_count(rho)
    t = np.moveaxis(rho.reshape((2,) * (2 * n)), (qubit, n + qubit), (0, 1))
    shape = t.shape
    t = (superoperator @ t.reshape(4, -1)).reshape(shape)
    out: Matrix = np.ascontiguousarray(np.moveaxis(t, (0, 1), (qubit, n + qubit))).reshape(
        rho.shape
    )
    return out


class QubitEntry:
    """One qubit of a :class:`MultiRecord`."""

    __slots__ = ("node", "pair_fidelity", "register", "slot", "updated_ps")

    def __init__(
        self,
        node: str,
        register: QubitRegister | None,
        slot: int,
        updated_ps: int,
        pair_fidelity: float | None,
    ) -> None:
        self.node = node
        self.register = register  # None once the qubit was released (handed over)
        self.slot = slot
        self.updated_ps = updated_ps
        self.pair_fidelity = pair_fidelity


class MultiRecord:
    """A state over any number of qubits (entry i is qubit i of ``rho``)."""

    __slots__ = ("entries", "rho")

    def __init__(self, rho: Matrix, entries: list[QubitEntry]) -> None:
        self.rho = rho
        self.entries = entries

    def index(self, register: QubitRegister, qubit: int) -> int:
        """Position of the live qubit ``qubit`` of ``register`` in the record."""
        for i, entry in enumerate(self.entries):
            if entry.register is register and entry.slot == qubit:
                return i
        raise QubitError(f"{register.node}: qubit {qubit} is not part of this state")

    def find(self, node: str, slot: int) -> int:
        """Position of the qubit that ``node`` holds (or last held) in ``slot``.

        A live qubit first; else the one handed over last (a slot may have
        been released and used again by a later share of the same state).
        """
        found = -1
        for i, entry in enumerate(self.entries):
            if entry.node == node and entry.slot == slot:
                if entry.register is not None:
                    return i
                found = i
        if found < 0:
            raise LookupError(f"{node}: qubit {slot} is not part of this state")
        return found

    def advance(self, now: int) -> None:
        """Apply each live qubit's memory noise from its last update to ``now``."""
        for i, entry in enumerate(self.entries):
            register = entry.register
            dt = now - entry.updated_ps
            if register is not None and dt > 0:
                if not isinstance(register.noise, PerfectMemory):
                    channel = idle_superoperator(register.noise, dt)
                    self.rho = apply_qubit_channel(self.rho, channel, i)
                entry.updated_ps = now

    def place(self, now: int) -> None:
        """Point every live qubit's slot at this record."""
        for entry in self.entries:
            if entry.register is not None:
                entry.register._place(now, entry.slot, self)

    def hand_over(self, now: int, register: QubitRegister, qubit: int) -> None:
        """The holder released the qubit: keep its share as it is now, without noise."""
        self.advance(now)
        self.entries[self.index(register, qubit)].register = None


def _promote(record: PairRecord, now: int) -> MultiRecord:
    """The pair as a multi-qubit record (sides no longer held, and ancillas, traced out)."""
    if record.measured is not None:
        raise QubitError("a pair measured by the network layer cannot take further operations")
    record.advance(now)
    fidelity = (
        record.consumed[0].fidelity(record.consumed[1])
        if record.consumed is not None
        else record.state.fidelity(record.bell_index)
    )
    entries: list[QubitEntry] = []
    kept: list[int] = []
    for side in (0, 1):
        register = record.registers[side]
        slot = record.qubits[side]
        if register is not None and register._slots[slot] is record:
            entries.append(QubitEntry(register.node, register, slot, now, fidelity))
            kept.append(side)
    rho = density_matrix_of(record.state).copy()
    if len(kept) < 2:
        rho = partial_trace(rho, kept, 2)
    multi = MultiRecord(rho, entries)
    multi.place(now)
    return multi


def share_of(register: QubitRegister, qubit: int, now: int) -> MultiRecord:
    """The multi-qubit record holding ``qubit`` (a pair there is promoted), up to ``now``."""
    record = register._record(qubit)
    multi = record if isinstance(record, MultiRecord) else _promote(record, now)
    multi.advance(now)
    return multi


def _merge(first: MultiRecord, second: MultiRecord, node: str, now: int) -> MultiRecord:
    size = len(first.entries) + len(second.entries)
    if size > mq.MAX_QUBITS:
        raise QubitError(
            f"{node}: a two-qubit gate would join {size} qubits in one state; "
            f"at most {mq.MAX_QUBITS} can be simulated exactly"
        )
    merged = MultiRecord(mq.tensor(first.rho, second.rho), first.entries + second.entries)
    merged.place(now)
    return merged


def prepare(register: QubitRegister, now: int, qubit: int, psi: Matrix) -> None:
    """A fresh qubit in the pure state ``psi`` (a free slot: it holds no state yet)."""
    if register._slots[qubit] is not None:
        raise QubitError(f"{register.node}: qubit {qubit} already holds a state")
    vector = np.asarray(psi, dtype=np.complex128)
    if vector.shape != (2,) or not math.isclose(float(np.linalg.norm(vector)), 1.0, abs_tol=1e-9):
        raise ValueError(f"psi must be a normalised one-qubit vector, got {psi!r}")
    entry = QubitEntry(register.node, register, qubit, now, None)
    MultiRecord(np.outer(vector, vector.conj()), [entry]).place(now)


def prepare_purified(register: QubitRegister, now: int, qubit: int, reference: str) -> None:
    """A fresh qubit maximally entangled (Phi+) with a reference qubit that no node holds.

    The reference is an entry with no register (as a handed-over qubit),
    named ``(reference, -1)`` for the oracle: no memory noise and no
    operation reach it. Whatever then acts on the qubit, the joint state is
    the channel's Choi state, from which the oracle reads its process
    fidelity (Choi-Jamiolkowski); a bookkeeping device, not hardware.
    """
    if register._slots[qubit] is not None:
        raise QubitError(f"{register.node}: qubit {qubit} already holds a state")
    bell = np.zeros(4, dtype=np.complex128)
    bell[0] = bell[3] = 1.0 / math.sqrt(2.0)
    entries = [
        QubitEntry(reference, None, REFERENCE_SLOT, now, None),
        QubitEntry(register.node, register, qubit, now, None),
    ]
    MultiRecord(np.outer(bell, bell.conj()), entries).place(now)


def gate(
    register: QubitRegister,
    now: int,
    qubits: Sequence[int],
    unitary: Matrix,
    gate_error: float,
) -> None:
    """``unitary`` on one or two of the node's qubits (in the unitary's qubit order).

    A two-qubit gate is followed by the depolarising gate-error channel
    (``qstack.physics.errors``); one-qubit gates are perfect.
    """
    if len(qubits) not in (1, 2) or len(set(qubits)) != len(qubits):
        raise ValueError(f"qubits must be one or two distinct qubits, got {list(qubits)!r}")
    if unitary.shape != (1 << len(qubits),) * 2:
        raise ValueError(f"a gate on {len(qubits)} qubit(s) needs a matching unitary")
    record = share_of(register, qubits[0], now)
    if len(qubits) == 2:
        other = share_of(register, qubits[1], now)
        if other is not record:
            record = _merge(record, other, register.node, now)
    indices = [record.index(register, q) for q in qubits]
    rho = mq.apply_unitary(record.rho, unitary, indices)
    if len(qubits) == 2:
        rho = mq.depolarize(rho, indices, gate_error)
    record.rho = rho


def pauli(record: MultiRecord, register: QubitRegister, now: int, qubit: int, k: int) -> None:
    """Pauli ``k`` (x + 2 z) on ``qubit``."""
    record.advance(now)
    record.rho = mq.apply_pauli(record.rho, k, record.index(register, qubit))


def measure(
    register: QubitRegister,
    now: int,
    qubit: int,
    basis: str,
    uniform: Uniform,
    flip: float,
) -> Literal[0, 1]:
    """Measure ``qubit`` in Z, X or Y, reporting the wrong outcome with probability ``flip``.

    The outcome is drawn from the state's true statistics; the qubit leaves
    the state (its slot holds nothing after) and the rest collapse to the
    branch of the reported outcome.
    """
    record = share_of(register, qubit, now)
    index = record.index(register, qubit)
    rho = record.rho
    if basis == "Y":
        rho, basis = mq.apply_unitary(rho, _Y_TO_Z, [index]), "Z"
    zero, one = mq.measure(rho, index, basis, flip)
    p_zero, p_one = mq.probability_of(zero), mq.probability_of(one)
    outcome: Literal[0, 1] = 1 if uniform() * (p_zero + p_one) < p_one else 0
    branch, probability = (one, p_one) if outcome else (zero, p_zero)
    record.rho = branch / probability
    del record.entries[index]
    register._place(now, qubit, None)
    return outcome


def reduced_state(record: MultiRecord, positions: Sequence[int]) -> Matrix:
    """The state of the record's qubits at ``positions``, in that order (the rest traced out)."""
    n = len(record.entries)
    reduced = partial_trace(record.rho, sorted(positions), n)
    order = sorted(positions)
    return mq.permute_qubits(reduced, [order.index(p) for p in positions])
