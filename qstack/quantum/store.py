"""The one owner of a run's quantum states.

Every qubit's state lives in one :class:`QuantumStore` per run (as
SeQUeNCe's quantum manager does), keyed by qubit handles: a node's
:class:`QubitRegister` and a qubit index. A node's layers get only their
own register, so they can act only on their own qubits: measure, apply a
Pauli, Bell-measure two of them (a swap), purify, teleport into a pair.
Creating a pair across two nodes is the heralding station's act
(:meth:`QuantumStore.entangle`). What a real node could not know (a pair's
true fidelity, who holds the other half) is read through the store's
:class:`~qstack.quantum.oracle.TruthOracle`, for reports and the
conformance kit only.

Memory decoherence is applied lazily: a pair remembers, per side, the time
up to which that side's memory noise has been applied (from that side's
emission for a fresh pair), and brings itself up to date only when someone
touches it. Each pair also carries its reference Bell index (the Bell state
a noiseless run would hold: heralded index, then every swap outcome and
Pauli applied) and the birth (herald) of the oldest link pair it was made
from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from qstack.physics.bell import BellDiagonal
from qstack.physics.density import DensityMatrixPair, from_bell_diagonal, partial_trace
from qstack.physics.errors import IDEAL_OPERATIONS, OperationErrors, bilateral_errors
from qstack.physics.hardware import MemoryNoise
from qstack.physics.state import (
    PairState,
    bell_diagonal_part,
    exchange_qubits,
    swap_states_random,
)
from qstack.physics.teleportation import bell_projections, noisy_bell_projections
from qstack.quantum import multi
from qstack.quantum.batch import Bits, PairBatch
from qstack.quantum.errors import QubitError
from qstack.quantum.multi import MultiRecord
from qstack.quantum.pair import PairRecord, StateRecord

Uniform = Callable[[], float]
Recurrence = Callable[..., tuple[float, BellDiagonal]]
"""A purification round on two Bell-diagonal pairs, ``recurrence(kept,
sacrificed)``: (success probability, the kept pair's state on success). With
noisy local operations it is called with ``errors=`` (an
:class:`~qstack.physics.errors.OperationErrors` for both ends together)."""
Vector = npt.NDArray[np.complex128]

_ZERO = np.array([[1, 0], [0, 0]], dtype=np.complex128)
_MIXED = np.eye(2, dtype=np.complex128) / 2


def _bell_matrix(state: PairState) -> npt.NDArray[np.complex128]:
    assert isinstance(state, BellDiagonal)
    return from_bell_diagonal(state)


Placement = Callable[[int, "QubitRegister", int, StateRecord | None], None]
"""Told of every write into a qubit slot: (now, register, qubit, new record)."""


class QubitRegister:
    """One node's qubits in the store: the only handle its layers get.

    Every operation names qubits of this node only; the far halves of the
    pairs involved change as the physics says, through the store. The
    node's local operations are as good as its hardware: ``errors`` (gate and
    measurement errors) enter every Bell-state measurement, purification
    round and measurement it performs, and a swap succeeds with
    ``swap_success_probability`` (:meth:`try_bell_measure`).
    """

    __slots__ = ("_slots", "_store", "errors", "node", "noise", "size", "swap_success_probability")

    def __init__(
        self,
        store: QuantumStore,
        node: str,
        size: int,
        noise: MemoryNoise,
        errors: OperationErrors = IDEAL_OPERATIONS,
        swap_success_probability: float = 1.0,
    ) -> None:
        if not 0.0 < swap_success_probability <= 1.0:
            raise ValueError(
                f"{node}: swap_success_probability must be in (0, 1], "
                f"got {swap_success_probability!r}"
            )
        self._store = store
        self.node = node
        self.size = size
        self.noise = noise
        self.errors = errors
        self.swap_success_probability = swap_success_probability
        self._slots: list[StateRecord | None] = [None] * size

    def _record(self, qubit: int) -> StateRecord:
        record = self._slots[qubit]
        if record is None:
            raise QubitError(f"{self.node}: qubit {qubit} holds no quantum state")
        return record

    def _pair(self, qubit: int) -> PairRecord:
        record = self._record(qubit)
        if isinstance(record, MultiRecord):
            raise QubitError(
                f"{self.node}: qubit {qubit} is part of a state over more than two qubits; "
                "pair operations cannot take it"
            )
        return record

    def _place(self, now: int, qubit: int, record: StateRecord | None) -> None:
        self._slots[qubit] = record
        placement = self._store.placement
        if placement is not None:
            placement(now, self, qubit, record)

    def holds_state(self, qubit: int) -> bool:
        """Whether ``qubit`` holds part of an entangled or prepared state."""
        return self._slots[qubit] is not None

    def reset(self, now: int, qubit: int) -> None:
        """The qubit is freed: whatever it held is gone from it."""
        slots = self._slots
        record = slots[qubit]
        if record is not None:
            if isinstance(record, MultiRecord):
                record.hand_over(now, self, qubit)
            slots[qubit] = None
            placement = self._store.placement
            if placement is not None:
                placement(now, self, qubit, None)

    # -- operations on this node's qubits ---------------------------------

    def pauli(self, now: int, qubit: int, k: int) -> None:
        """Apply Pauli ``k`` (0 I, 1 X, 2 Z, 3 Y) to ``qubit`` at ``now``."""
        if k:
            record = self._record(qubit)
            if isinstance(record, MultiRecord):
                multi.pauli(record, self, now, qubit, k)
                return
            record.advance(now)
            record.state.pauli(k, record.side_of(self, qubit))
            record.bell_index ^= k

    def measure(self, now: int, qubit: int, basis: str, uniform: Uniform) -> Literal[0, 1]:
        """Measure ``qubit`` in ``basis`` ("Z", "X" or "Y"); returns the bit.

        The first half of a pair measured draws from its marginal; the second
        from the joint distribution conditioned on the first (true) result, so
        the correlations are exactly those of the simulated state; the node's
        ``measurement_error`` then flips the reported bit. A qubit in a state
        over more qubits is measured as :meth:`measure_share` does.
        """
        record = self._record(qubit)
        if isinstance(record, MultiRecord):
            return multi.measure(self, now, qubit, basis, uniform, self.errors.measurement_error)
        record.advance(now)
        side = record.side_of(self, qubit)
        first = record.measured
        outcome: Literal[0, 1]
        if first is None:
            joint = record.state.measurement_probabilities(basis, basis)
            p_one = joint[2] + joint[3] if side == 0 else joint[1] + joint[3]
            outcome = 1 if uniform() < p_one else 0
            record.measured = (side, basis, outcome)
            return self._reported(outcome, uniform)
        first_side, first_basis, first_outcome = first
        if first_side == side:
            raise QubitError(f"{self.node}: qubit {qubit} measured twice")
        if side == 1:
            joint = record.state.measurement_probabilities(first_basis, basis)
            p_zero, p_one = joint[2 * first_outcome], joint[2 * first_outcome + 1]
        else:
            joint = record.state.measurement_probabilities(basis, first_basis)
            p_zero, p_one = joint[first_outcome], joint[2 + first_outcome]
        outcome = 1 if uniform() * (p_zero + p_one) < p_one else 0
        return self._reported(outcome, uniform)

    def measure_batch(
        self, batch: PairBatch, side: int, bases: Bits, rng: np.random.Generator
    ) -> Bits:
        """Measure this node's halves (side ``side``) of a batch of pairs
        never stored (the measure-directly path), pair ``i`` in basis
        ``bases[i]`` (0 Z, 1 X); returns the reported bits, with this node's
        ``measurement_error`` applied as :meth:`measure` does."""
        outcomes = batch.measure(side, bases, rng.random(len(bases)))
        flip = self.errors.measurement_error
        if flip:
            # Not in place: the batch keeps the true outcomes for the other end.
            return outcomes ^ (rng.random(len(bases)) < flip).astype(np.uint8)
        return outcomes

    def _reported(self, outcome: Literal[0, 1], uniform: Uniform) -> Literal[0, 1]:
        """The outcome the node's detector reports: flipped with its
        measurement error (one more uniform, drawn only when the error is
        not 0). The state keeps the true outcome: the flip is classical."""
        flip = self.errors.measurement_error
        if flip and uniform() < flip:
            return 0 if outcome else 1
        return outcome

    def bell_measure(self, now: int, left: int, right: int, rng: np.random.Generator) -> int:
        """Entanglement swap: Bell-measure two local qubits, each half of a
        pair; the two far halves become one pair. Returns the reported
        outcome (the Pauli the far pair is off from the product of the two
        inputs); the node's gate and measurement errors act on the Bell-state
        measurement (``physics.state.swap_states_random``)."""
        pair_left, pair_right = self._pair(left), self._pair(right)
        pair_left.advance(now)
        pair_right.advance(now)
        inner_left = pair_left.side_of(self, left)
        inner_right = pair_right.side_of(self, right)
        state_left = pair_left.state if inner_left == 1 else exchange_qubits(pair_left.state)
        state_right = pair_right.state if inner_right == 0 else exchange_qubits(pair_right.state)
        outcome, state = swap_states_random(state_left, state_right, rng, self.errors)
        outer_left, outer_right = 1 - inner_left, 1 - inner_right
        joined = PairRecord(
            pair_left.pair_id,
            state,
            pair_left.bell_index ^ pair_right.bell_index ^ outcome,
            (pair_left.registers[outer_left], pair_right.registers[outer_right]),
            (pair_left.qubits[outer_left], pair_right.qubits[outer_right]),
            now,
            min(pair_left.born_ps, pair_right.born_ps),
        )
        for side in (0, 1):
            register = joined.registers[side]
            if register is not None:
                register._place(now, joined.qubits[side], joined)
        self._place(now, left, None)
        self._place(now, right, None)
        return outcome

    def try_bell_measure(
        self, now: int, left: int, right: int, rng: np.random.Generator
    ) -> int | None:
        """A swap that may fail: with the node's ``swap_success_probability``
        (one draw from ``rng``, made only when it is below 1) it is
        :meth:`bell_measure`; otherwise both measured qubits are lost, each
        far half is left alone in its reduced state (a failed measurement
        tells nothing), and None is returned."""
        success = self.swap_success_probability
        if success < 1.0 and rng.random() >= success:
            self._lose(now, left)
            self._lose(now, right)
            return None
        return self.bell_measure(now, left, right, rng)

    def _lose(self, now: int, qubit: int) -> None:
        """The qubit's state is gone; the far half keeps its reduced state."""
        record = self._pair(qubit)
        record.advance(now)
        far = 1 - record.side_of(self, qubit)
        state = record.state
        reduced = (
            partial_trace(state.rho, [far], 2) if isinstance(state, DensityMatrixPair) else _MIXED
        )
        self._leave_alone(now, record, far, reduced)
        self._place(now, qubit, None)

    @staticmethod
    def _leave_alone(
        now: int, record: PairRecord, far: int, rho: npt.NDArray[np.complex128]
    ) -> PairRecord | None:
        """Put the far half of ``record`` alone in state ``rho``, carried on
        side 1 of a record whose side 0 is an ancilla in |0>."""
        far_register = record.registers[far]
        if far_register is None:
            return None
        far_qubit = record.qubits[far]
        carrier = DensityMatrixPair(np.kron(_ZERO, rho).astype(np.complex128))
        lone = PairRecord(
            record.pair_id,
            carrier,
            record.bell_index,
            (None, far_register),
            (-1, far_qubit),
            now,
            record.born_ps,
        )
        far_register._place(now, far_qubit, lone)
        return lone

    def purify(
        self,
        now: int,
        kept: int,
        sacrificed: int,
        recurrence: Recurrence,
        uniform: Uniform,
    ) -> bool:
        """One recurrence round on two pairs this node shares with the same
        peer, both already in Phi+'s frame: the two ends' bilateral CNOTs and
        measurements, whose agreement the store samples from the joint state.
        The sacrificed pair is consumed at both ends; on success the kept
        pair holds the purified state (twirled to its Bell diagonal). Both
        ends' gate and measurement errors enter the round
        (``errors.bilateral_errors``)."""
        pair_kept, pair_gone = self._pair(kept), self._pair(sacrificed)
        pair_kept.advance(now)
        pair_gone.advance(now)
        far = pair_kept.registers[1 - pair_kept.side_of(self, kept)]
        far_errors = IDEAL_OPERATIONS if far is None else far.errors
        inputs = (bell_diagonal_part(pair_kept.state), bell_diagonal_part(pair_gone.state))
        if self.errors.noisy or far_errors.noisy:
            errors = bilateral_errors(self.errors, far_errors)
            try:
                probability, out = recurrence(*inputs, errors=errors)
            except TypeError as error:
                if "errors" not in str(error):
                    raise
                name = getattr(recurrence, "__qualname__", repr(recurrence))
                raise QubitError(
                    f"purification recurrence {name} takes no errors= argument, so it cannot "
                    f"model the gate and measurement errors of {self.node} ({self.errors}) "
                    f"and {far.node if far else '-'} ({far_errors})"
                ) from None
        else:
            probability, out = recurrence(*inputs)
        success = uniform() < probability
        if success:
            pair_kept.state = (
                DensityMatrixPair.from_bell_diagonal(out)
                if isinstance(pair_kept.state, DensityMatrixPair)
                else out
            )
            pair_kept.bell_index = 0
            pair_kept.born_ps = min(pair_kept.born_ps, pair_gone.born_ps)
        side = pair_gone.side_of(self, sacrificed)
        far = pair_gone.registers[1 - side]
        if far is not None and far._slots[pair_gone.qubits[1 - side]] is pair_gone:
            far._place(now, pair_gone.qubits[1 - side], None)
        self._place(now, sacrificed, None)
        return success

    def teleport(self, now: int, qubit: int, psi: Vector, rng: np.random.Generator) -> int:
        """Bell-measure a fresh qubit prepared in ``psi`` with the local half
        of the pair in ``qubit``; the far half is left holding the teleported
        state before its correction. Returns the reported Bell outcome (the
        node's gate and measurement errors act on the measurement)."""
        record = self._pair(qubit)
        record.advance(now)
        side = record.side_of(self, qubit)
        state = record.state if side == 0 else exchange_qubits(record.state)
        matrix = state.rho if isinstance(state, DensityMatrixPair) else _bell_matrix(state)
        rho_cab = np.kron(np.outer(psi, psi.conj()), matrix).astype(np.complex128)
        outcomes = bell_projections(rho_cab)
        if self.errors.noisy:
            outcomes = noisy_bell_projections(outcomes, partial_trace(matrix, [1], 2), self.errors)
        u = rng.random()
        outcome = 3
        for k, (probability, _) in enumerate(outcomes):
            u -= probability
            if u < 0.0:
                outcome = k
                break
        lone = self._leave_alone(now, record, 1 - side, outcomes[outcome][1])
        if lone is not None:
            lone.consumed = (record.state, record.bell_index)
        self._place(now, qubit, None)
        return outcome

    # -- operations on states over more qubits (qstack.quantum.multi) ------

    def prepare(self, now: int, qubit: int, psi: Vector) -> None:
        """Put a free qubit (holding no state) in the pure state ``psi``."""
        multi.prepare(self, now, qubit, psi)

    def prepare_purified(self, now: int, qubit: int, reference: str) -> None:
        """Put a free qubit in Phi+ with a noiseless reference no node holds,
        named ``(reference, -1)`` for the oracle (process fidelities)."""
        multi.prepare_purified(self, now, qubit, reference)

    def gate(
        self, now: int, qubits: Sequence[int], unitary: Vector, gate_error: float = 0.0
    ) -> None:
        """A one- or two-qubit gate on this node's qubits; a two-qubit gate is
        followed by depolarising noise of probability ``gate_error``. The
        qubits' states (pairs included) become one exact multi-qubit state."""
        multi.gate(self, now, qubits, unitary, gate_error)

    def measure_share(
        self, now: int, qubit: int, basis: str, uniform: Uniform, flip: float = 0.0
    ) -> Literal[0, 1]:
        """Measure ``qubit`` in ``basis`` ("Z", "X" or "Y"), the outcome
        reported wrong with probability ``flip``; the state of everything it
        is entangled with collapses, and the qubit holds no state after."""
        return multi.measure(self, now, qubit, basis, uniform, flip)


class QuantumStore:
    """Every quantum state of one run, by qubit handle."""

    __slots__ = ("placement", "registers")

    def __init__(self) -> None:
        self.registers: dict[str, QubitRegister] = {}
        self.placement: Placement | None = None

    def register(
        self,
        node: str,
        size: int,
        noise: MemoryNoise,
        errors: OperationErrors = IDEAL_OPERATIONS,
        swap_success_probability: float = 1.0,
    ) -> QubitRegister:
        """Add the qubits of ``node``: its register, the handle its layers get
        (with the node's operation errors and swap success probability)."""
        if node in self.registers:
            raise ValueError(f"node {node!r} already has a register")
        register = QubitRegister(self, node, size, noise, errors, swap_success_probability)
        self.registers[node] = register
        return register

    def entangle(
        self,
        now: int,
        pair_id: int,
        ends: tuple[tuple[QubitRegister, int], tuple[QubitRegister, int]],
        state: PairState,
        bell_index: int,
        born_ps: int,
        emitted_ps: tuple[int, int] | None = None,
    ) -> None:
        """A heralded pair (``pair_id``: its link's number for it): ``state``
        is shared by the two qubits, made at ``born_ps`` (its herald: a pair's
        age, which cutoffs limit, counts from here). Each side's memory noise
        runs from its own emission, ``emitted_ps`` (default: ``born_ps``)."""
        (register_a, qubit_a), (register_b, qubit_b) = ends
        record = PairRecord(
            pair_id,
            state,
            bell_index,
            (register_a, register_b),
            (qubit_a, qubit_b),
            born_ps,
            born_ps,
        )
        if emitted_ps is not None:
            record.updated_ps = [emitted_ps[0], emitted_ps[1]]
        register_a._slots[qubit_a] = record
        register_b._slots[qubit_b] = record
        placement = self.placement
        if placement is not None:
            placement(now, register_a, qubit_a, record)
            placement(now, register_b, qubit_b, record)

    def record(self, node: str, qubit: int) -> PairRecord | None:
        """The pair record in a qubit (for the oracle and tests only); None
        when it holds no state or a share of a state over more qubits."""
        record = self.registers[node]._slots[qubit]
        return None if isinstance(record, MultiRecord) else record

    def holding(self, node: str, qubit: int) -> StateRecord | None:
        """Whatever record a qubit holds (for the oracle and tests only)."""
        return self.registers[node]._slots[qubit]
