"""A node's quantum memory: which of its qubits is held by whom.

:class:`Memory` is the one allocator of a node's qubits: every allocation,
hand-over and release goes through it, so a qubit is never handed out
twice. What a qubit holds quantumly lives in the run's
:class:`~qstack.quantum.store.QuantumStore`, reached through the node's
:class:`~qstack.quantum.store.QubitRegister` (``memory.qubits``); freeing a
qubit also resets it there.
"""

from __future__ import annotations

from collections.abc import Callable

from qstack.physics.hardware import MemoryNoise
from qstack.quantum.store import QubitRegister


class MemoryOwnershipError(Exception):
    """A qubit was used in a way its owner did not allow."""


class Memory:
    """The memory qubits of one node and who holds each of them."""

    __slots__ = ("_free", "_on_release", "holders", "node", "noise", "qubits", "size")

    def __init__(self, qubits: QubitRegister) -> None:
        if qubits.size < 1:
            raise ValueError(f"memory of {qubits.node}: size = {qubits.size}: must be >= 1")
        self.qubits = qubits
        self.node = qubits.node
        self.size = qubits.size
        self.noise: MemoryNoise = qubits.noise
        self.holders: list[str | None] = [None] * qubits.size
        self._free = list(range(qubits.size - 1, -1, -1))
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
        self.qubits.reset(now, qubit)
        self._free.append(qubit)
        for listener in self._on_release:
            listener(now, qubit)

    def wipe(self, now: int) -> list[int]:
        """Fault: the node lost its memory. Every held qubit is freed, whoever
        holds it (their holders have ended with the node); returns them."""
        lost = [qubit for qubit, holder in enumerate(self.holders) if holder is not None]
        for qubit in lost:
            holder = self.holders[qubit]
            assert holder is not None
            self.release(now, qubit, holder)
        return lost

    def on_release(self, listener: Callable[[int, int], None]) -> None:
        """Call ``listener(now, qubit)`` after every release (to resume waiting work)."""
        self._on_release.append(listener)

    def in_use(self) -> dict[int, str]:
        """Qubits currently held, by holder."""
        return {q: h for q, h in enumerate(self.holders) if h is not None}
