"""The measure-directly path at the station: batches of pairs that are
measured where they are made.

An attempt armed for ``pairs`` >= 1 draws the attempt counts of that many
successes at once and schedules only the last one due; at that herald (or
earlier, when a side is about to cancel: :class:`Flush`) the successes so
far are heralded together (HERALD_BATCH). Their pairs are never stored:
:class:`~qstack.quantum.batch.PairBatch` keeps the few states they can be
in, for each side to measure its halves at once. The station mixes this in
(:class:`BatchHeralds`); its lifecycle has the rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from qstack.fsm.table import FastTable
from qstack.hardware.memory import Memory
from qstack.layers.physical.service import Attempt, HeraldBatch, PhysicalUser
from qstack.physics.bell import BellDiagonal
from qstack.physics.heralding import HeraldingModel
from qstack.physics.state import PairState, pauli_noise
from qstack.quantum.batch import BatchStates, PairBatch
from qstack.sim.kernel import Simulator, Timer
from qstack.sim.random import UniformBuffer
from qstack.sim.trace import Tracer

#: A drawn batch: the attempt count at each success, the success times, and
#: the first time whose herald is not made (the link's deadline).
Drawn = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int | None]


@dataclass(frozen=True, slots=True)
class Flush:
    """Event: a side will cancel; the batch's pairs heralded before
    ``before_ps`` are delivered now."""

    before_ps: int


def made_before(times: npt.NDArray[np.int64], until: int | None, before: int | None) -> int:
    """How many of the drawn successes come before ``until`` and ``before``."""
    limits = [t for t in (until, before) if t is not None]
    return int(np.searchsorted(times, min(limits), "left")) if limits else len(times)


class BatchHeralds:
    """The station's batches (see the module docstring)."""

    table: ClassVar[FastTable]
    name: str
    state: str
    cycle_ps: int
    holds_ps: tuple[int, int]
    attempts: int
    successes: int
    intercept_resend: float
    intercepted: int
    _sim: Simulator
    _memories: tuple[Memory, Memory]
    _uniforms: UniformBuffer
    _armed: list[Attempt | None]
    _users: list[PhysicalUser | None]
    _timer: Timer | None
    _model: HeraldingModel | None
    _attempts_drawn: int
    _next_pair_id: int
    _tracer: Tracer | None
    _batch: Drawn | None
    _batch_states: dict[HeraldingModel, BatchStates]
    _due: Callable[[int, object], None]

    def _log_failure_of(self, p: float) -> float:
        raise NotImplementedError

    def _represent(self, state: BellDiagonal) -> PairState:
        raise NotImplementedError

    def _trace_heralds(
        self,
        now: int,
        attempts: int,
        armed: tuple[Attempt | None, Attempt | None],
        heralded: Iterable[tuple[int, int, float]],
    ) -> None:
        raise NotImplementedError

    def _start_batch(self, now: int, model: HeraldingModel, pairs: int, until: int | None) -> None:
        """Draw the attempts of ``pairs`` successes at once (each count
        geometric, as for one pair) and schedule only the last success due
        before the link's deadline and the run's end (HeraldDue); the pairs
        drawn after it are never made (the next batch starts afresh: the
        attempts are memoryless)."""
        log_failure = self._log_failure_of(model.success_probability)
        if log_failure == -math.inf:
            counts = np.ones(pairs, np.int64)
        else:
            counts = 1 + (np.log(1.0 - self._uniforms.array(pairs)) / log_failure).astype(np.int64)
        ends = np.cumsum(counts)
        times = now + ends * self.cycle_ps
        self._batch = (ends, times, until)
        self._attempts_drawn = int(ends[-1])
        horizon = self._sim.horizon_ps
        made = made_before(times, until, horizon + 1 if horizon is not None else None)
        due = int(times[made - 1]) if made else int(times[0])
        self._timer = self._sim.timer(due - now, self._due, None)

    def catch_up(self, now: int) -> None:
        """Deliver the pairs a batch under way has heralded before ``now``
        (HERALD_BATCH) and end it there: before a fault, or a side's CANCEL."""
        if self._batch is not None and self._timer is not None:
            self.table.dispatch(self, self, now, Flush(now))

    def _flush(self, _: BatchHeralds, now: int, flush: Flush) -> None:
        """A side is about to cancel a batch under way: the pairs heralded
        before now are delivered first (HERALD_BATCH), as they would have
        been one by one, and the batch ends there."""
        assert self._batch is not None and self._timer is not None
        self._timer.cancel()
        self._timer = None
        self._herald_batch(now, made_before(self._batch[1], self._batch[2], flush.before_ps))

    def _herald_batch(self, now: int, made: int) -> None:
        """The first ``made`` successes of the batch are heralded: their
        states, Bell indices and fidelities, to both sides at once."""
        assert self._batch is not None
        ends, times, _ = self._batch
        self._batch = None
        self.attempts += int(ends[made - 1])
        self.successes += made
        model = self._model
        assert model is not None
        states = self._batch_states_of(model)
        outcomes = model.outcomes
        if len(outcomes) == 1:
            choice = np.zeros(made, np.intp)
        else:
            choice = (self._uniforms.array(made) * len(outcomes)).astype(np.intp) % len(outcomes)
        bell_indices = np.asarray(outcomes, np.intp)[choice]
        classes = 3 * choice
        if self.intercept_resend:
            intercepted = self._uniforms.array(made) <= self.intercept_resend
            self.intercepted += int(np.count_nonzero(intercepted))
            in_x = self._uniforms.array(made) > 0.5
            classes += intercepted * (1 + in_x)
        first = self._next_pair_id
        self._next_pair_id += made
        batch = HeraldBatch(
            first,
            times[:made],
            PairBatch(states, classes, bell_indices),
            states.fidelities[classes],
        )
        armed = (self._armed[0], self._armed[1])
        self._armed[0] = self._armed[1] = None
        if self._tracer is not None:
            pair_ids = range(first, first + made)
            heralded = zip(pair_ids, bell_indices.tolist(), batch.fidelities.tolist(), strict=True)
            self._trace_heralds(now, int(ends[made - 1]), armed, heralded)
        for user in self._users:
            if user is not None:
                user.herald_batch(now, batch)

    def _batch_states_of(self, model: HeraldingModel) -> BatchStates:
        """The states of the model's pairs when both ends measure them (at
        the herald, after the memories' noise over the emission-to-herald
        time): class 3 k for Bell index ``outcomes[k]``, 3 k + 1 and 3 k + 2
        for the same intercepted by the eavesdropper in Z and in X."""
        known = self._batch_states.get(model)
        if known is None:
            states: list[PairState] = []
            indices: list[int] = []
            for index in model.outcomes:
                for eve in (0, 2, 1):  # no one, Z, X (Pauli codes)
                    state = self._represent(model.heralded_state(index))
                    if eve:
                        pauli_noise(state, eve, 0.5, 1)
                    for side, memory in enumerate(self._memories):
                        memory.noise.apply(state, side, self.holds_ps[side])
                    states.append(state)
                    indices.append(index)
            known = self._batch_states[model] = BatchStates(states, indices)
        return known


def heralds_before(station: BatchHeralds, _: BatchHeralds, flush: Flush) -> bool:
    batch = station._batch
    return batch is not None and made_before(batch[1], batch[2], flush.before_ps) > 0
