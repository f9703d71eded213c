"""Quantum memories and the entangled pairs they hold.

A node's :class:`Memory` is the one owner of its qubits: every allocation
and release goes through it, so a qubit is never handed out twice.
Decoherence is applied lazily: a pair remembers when each of its halves was
last brought up to date, and :meth:`EntangledPair.advance` applies the
memories' noise for the time since, only when someone looks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from qstack.physics.hardware import MemoryNoise
from qstack.physics.state import PairState


class MemoryOwnershipError(Exception):
    """A qubit was used in a way its owner did not allow."""


class EntangledPair:
    """Two memory qubits on two nodes sharing one two-qubit state.

    Side 0 is the link's ``a`` node, side 1 its ``b`` node. ``updated_ps``
    holds, per side, the time up to which that side's memory noise has been
    applied to ``state``.
    """

    __slots__ = (
        "bell_index",
        "end_correction",
        "herald_fidelity",
        "heralded_index",
        "measured",
        "memories",
        "pair_id",
        "qubits",
        "state",
        "updated_ps",
    )

    def __init__(
        self,
        pair_id: int,
        state: PairState,
        bell_index: int,
        memories: tuple[Memory, Memory],
        qubits: tuple[int, int],
        created_ps: int,
    ) -> None:
        self.pair_id = pair_id
        self.state = state
        self.bell_index = bell_index
        self.memories = memories
        self.qubits = qubits
        self.updated_ps = [created_ps, created_ps]
        self.measured: tuple[int, str, int] | None = None
        # What the herald announced, fixed at creation: both link ends
        # report these even if an upper layer acts on the pair in between.
        self.heralded_index = bell_index
        self.herald_fidelity = 0.0
        # The Pauli-frame correction an end node applied at delivery: the
        # other end, delivering later, measures fidelity against it.
        self.end_correction = 0

    def advance(self, now: int) -> None:
        """Apply each side's memory noise from its last update to ``now``."""
        updated = self.updated_ps
        for side in (0, 1):
            dt = now - updated[side]
            if dt:
                self.memories[side].noise.apply(self.state, side, dt)
                updated[side] = now

    def fidelity(self, now: int) -> float:
        """True fidelity with the reported Bell state at time ``now``."""
        self.advance(now)
        return self.state.fidelity(self.bell_index)

    def measure_side(
        self, now: int, side: int, basis: str, uniform: Callable[[], float]
    ) -> Literal[0, 1]:
        """Measure one half in ``basis`` ("Z", "X" or "Y"); returns the bit.

        The first half measured draws from its marginal; the second from the
        joint distribution conditioned on the first result, so the pair's
        correlations are exactly those of the simulated state.
        """
        self.advance(now)
        first = self.measured
        if first is None:
            joint = self.state.measurement_probabilities(basis, basis)
            p_one = joint[2] + joint[3] if side == 0 else joint[1] + joint[3]
            outcome: Literal[0, 1] = 1 if uniform() < p_one else 0
            self.measured = (side, basis, outcome)
            return outcome
        first_side, first_basis, first_outcome = first
        if first_side == side:
            raise MemoryOwnershipError(f"pair {self.pair_id}: side {side} measured twice")
        if side == 1:
            joint = self.state.measurement_probabilities(first_basis, basis)
            p_zero, p_one = joint[2 * first_outcome], joint[2 * first_outcome + 1]
        else:
            joint = self.state.measurement_probabilities(basis, first_basis)
            p_zero, p_one = joint[first_outcome], joint[2 + first_outcome]
        return 1 if uniform() * (p_zero + p_one) < p_one else 0


class Memory:
    """The memory qubits of one node and who holds each of them."""

    __slots__ = ("_free", "_on_release", "holders", "node", "noise", "pairs", "size")

    def __init__(self, node: str, size: int, noise: MemoryNoise) -> None:
        if size < 1:
            raise ValueError(f"memory of {node}: size = {size}: must be >= 1")
        self.node = node
        self.size = size
        self.noise = noise
        self.holders: list[str | None] = [None] * size
        self.pairs: list[EntangledPair | None] = [None] * size
        self._free = list(range(size - 1, -1, -1))
        self._on_release: list[Callable[[int, int], None]] = []

    @property
    def free_count(self) -> int:
        return len(self._free)

    def allocate(self, holder: str) -> int | None:
        """Hand a free qubit to ``holder``; None when all are taken."""
        free = self._free
        if not free:
            return None
        qubit = free.pop()
        self.holders[qubit] = holder
        return qubit

    def transfer(self, qubit: int, holder: str, from_holder: str) -> None:
        """Pass a qubit from one holder to another (e.g. link to application)."""
        if self.holders[qubit] != from_holder:
            raise MemoryOwnershipError(
                f"{self.node}: qubit {qubit} is held by {self.holders[qubit]!r}, "
                f"not {from_holder!r}"
            )
        self.holders[qubit] = holder

    def release(self, now: int, qubit: int, holder: str) -> None:
        """Free a qubit at time ``now``; only its holder may, and only once."""
        if self.holders[qubit] != holder:
            raise MemoryOwnershipError(
                f"{self.node}: {holder!r} released qubit {qubit}, "
                f"which is held by {self.holders[qubit]!r}"
            )
        self.holders[qubit] = None
        self.pairs[qubit] = None
        self._free.append(qubit)
        for listener in self._on_release:
            listener(now, qubit)

    def on_release(self, listener: Callable[[int, int], None]) -> None:
        """Call ``listener(now, qubit)`` after every release (to resume waiting work)."""
        self._on_release.append(listener)

    def in_use(self) -> dict[int, str]:
        """Qubits currently held, by holder."""
        return {q: h for q, h in enumerate(self.holders) if h is not None}
