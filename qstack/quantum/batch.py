"""Pairs measured where they are made: the measure-directly path.

A link serving a measure-type request that asked for batches never stores
its pairs: each end measures its half as the pair is heralded. Every pair
of such a stream is in one of a few states at that moment (one per heralded
Bell index, and per eavesdropper's intervention where there is one), so a
batch keeps those states and, per pair, which of them it is in, instead of
a record per pair. Each end then measures all its halves at once: the first
end draws from its marginal, the second from the joint distribution given
the first end's true outcome, exactly as :meth:`QubitRegister.measure
<qstack.quantum.store.QubitRegister.measure>` does pair by pair, so the
outcomes have exactly the statistics of measuring the simulated states.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from qstack.physics.state import PairState
from qstack.quantum.errors import QubitError

Bits = npt.NDArray[np.uint8]
Indices = npt.NDArray[np.intp]

#: Basis codes of a batch: 0 is Z, 1 is X (the letters QKD exchanges).
BASIS_LETTERS = ("Z", "X")


class BatchStates:
    """The states a stream's pairs can be in when both ends measure them,
    kept as what measuring and reporting need, worked out once per stream
    model: ``joint[c, a, b]`` the joint outcome probabilities of state ``c``
    measured in bases ``a`` and ``b`` (0 Z, 1 X; ordered by 2 * outcome_a +
    outcome_b), and ``fidelities[c]`` its fidelity with ``indices[c]``."""

    __slots__ = ("fidelities", "joint")

    def __init__(self, states: Sequence[PairState], indices: Sequence[int]) -> None:
        self.joint = np.empty((len(states), 2, 2, 4))
        for c, state in enumerate(states):
            for a, letter_a in enumerate(BASIS_LETTERS):
                for b, letter_b in enumerate(BASIS_LETTERS):
                    self.joint[c, a, b] = state.measurement_probabilities(letter_a, letter_b)
        self.fidelities = np.array(
            [min(state.fidelity(index), 1.0) for state, index in zip(states, indices, strict=True)]
        )


class PairBatch:
    """``classes[i]`` is the index into ``states`` of pair ``i``'s state when
    both ends measure it; ``bell_indices[i]`` is its reference Bell index."""

    __slots__ = ("_first", "bell_indices", "classes", "states")

    def __init__(self, states: BatchStates, classes: Indices, bell_indices: Indices) -> None:
        self.states = states
        self.classes = classes
        self.bell_indices = bell_indices
        #: (side, bases, true outcomes) of the end that measured first.
        self._first: tuple[int, Bits, Bits] | None = None

    def __len__(self) -> int:
        return len(self.classes)

    def measure(self, side: int, bases: Bits, uniforms: npt.NDArray[np.float64]) -> Bits:
        """The true outcomes of measuring side ``side`` of every pair, pair
        ``i`` in basis ``bases[i]`` (0 Z, 1 X), one uniform a pair."""
        joint = self.states.joint
        classes = self.classes
        first = self._first
        if first is None:
            # The marginal of this side: P(1) summed over the other side's
            # outcomes (in any basis: take Z).
            if side == 0:
                p_one = joint[classes, bases, 0, 2] + joint[classes, bases, 0, 3]
            else:
                p_one = joint[classes, 0, bases, 1] + joint[classes, 0, bases, 3]
            outcomes: Bits = (uniforms < p_one).astype(np.uint8)
            self._first = (side, bases, outcomes)
            return outcomes
        first_side, first_bases, first_outcomes = first
        if first_side == side:
            raise QubitError(f"side {side} of a pair batch measured twice")
        # The joint cell index is 2 * outcome_a + outcome_b.
        if side == 1:
            cell = 2 * first_outcomes.astype(np.intp)
            p_zero = joint[classes, first_bases, bases, cell]
            p_one = joint[classes, first_bases, bases, cell + 1]
        else:
            cell = first_outcomes.astype(np.intp)
            p_zero = joint[classes, bases, first_bases, cell]
            p_one = joint[classes, bases, first_bases, cell + 2]
        return (uniforms * (p_zero + p_one) < p_one).astype(np.uint8)
