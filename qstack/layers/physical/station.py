"""Physical layer: heralded entanglement attempts through a mid-point station.

Service (:mod:`qstack.layers.physical.service`), per node side: ATTEMPT and
CANCEL; indication: HERALD. Attempts only happen while both sides are
armed with the same tag.

Failed attempts are not simulated one by one. When both sides are armed,
the number of attempts up to and including the first success is drawn from
its geometric distribution and only the success is scheduled; cancelling
counts the attempts begun so far. A test checks the distribution of
attempts and success times against an attempt-by-attempt reference.

The station's lifecycle is :data:`STATION_LIFECYCLE` below, stepped by a
fast table (there is one station per link, so thousands in a large
network).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from typing import ClassVar, Literal

import numpy as np

from qstack.fsm.table import FastTable, StateTable, Transition
from qstack.hardware.memory import Memory
from qstack.layers.physical.batching import (
    BatchHeralds,
    Drawn,
    Flush,
    heralds_before,
    made_before,
)
from qstack.layers.physical.messages import (
    AttemptCancelTrace,
    AttemptsTrace,
    AttemptTrace,
    HeraldTrace,
)
from qstack.layers.physical.service import (
    Attempt,
    AttemptSetting,
    Cancel,
    Herald,
    PhysicalUser,
)
from qstack.messages import Primitive
from qstack.physics.bell import BellDiagonal
from qstack.physics.density import DensityMatrixPair
from qstack.physics.heralding import HeraldingModel
from qstack.physics.state import PairState, pauli_noise
from qstack.quantum.batch import BatchStates
from qstack.quantum.oracle import TruthOracle
from qstack.quantum.store import QuantumStore
from qstack.sim.kernel import Simulator, Timer
from qstack.sim.random import OWN_STREAM_BLOCK, UniformBuffer
from qstack.sim.trace import Direction, Tracer, TraceRecord


class HeraldDue:
    """Event: the drawn number of attempts has elapsed; the last succeeded."""

    __slots__ = ()


HERALD_DUE = HeraldDue()


_CANCEL = (Cancel(0), Cancel(1))


def geometric_from_uniform(u: float, log_failure: float) -> int:
    """Attempts up to and including the first success, by inversion.

    ``log_failure`` is ln(1 - p); for p = 1 pass ``-math.inf``.
    """
    if log_failure == -math.inf:
        return 1
    return 1 + int(math.log(u) / log_failure)


class HeraldingStation(BatchHeralds):
    """The two ends' emitters, the fiber and the mid-point detectors of one link.

    ``cycle_ps`` is the time between attempt starts (local preparation plus
    the photon's flight to the station and the herald's flight back);
    ``window_ps`` is how long the memory qubits hold the state before the
    herald is delivered (the time from emission to herald). ``holds_ps``,
    for a station off the middle, gives that time per side: each side's
    memory holds the state from its own emission until the herald is
    delivered to both (when the farther side learns it); the default is
    ``window_ps`` for both.
    """

    #: The lifecycle the station steps (a subclass may compile its own).
    table: ClassVar[FastTable]

    def __init__(
        self,
        sim: Simulator,
        name: str,
        memories: tuple[Memory, Memory],
        store: QuantumStore,
        oracle: TruthOracle,
        cycle_ps: int,
        window_ps: int,
        rng: np.random.Generator,
        intercept_resend: float = 0.0,
        tracer: Tracer | None = None,
        *,
        holds_ps: tuple[int, int] | None = None,
    ) -> None:
        holds = (window_ps, window_ps) if holds_ps is None else holds_ps
        if cycle_ps < 0 or min(window_ps, *holds) < 0 or max(window_ps, *holds) > max(cycle_ps, 0):
            raise ValueError(
                f"{name}: cycle_ps = {cycle_ps}, window_ps = {window_ps}, holds_ps = {holds}: "
                "need 0 <= window_ps, holds_ps <= cycle_ps"
            )
        self.name = name
        self.state = STATION_LIFECYCLE.initial
        self.cycle_ps = cycle_ps
        self.window_ps = window_ps
        self.holds_ps = holds
        self.attempts = 0
        self.successes = 0
        self.intercept_resend = intercept_resend
        self.intercepted = 0
        self._sim = sim
        self._memories = memories
        self._store = store
        self._oracle = oracle
        self._dense = any(memory.noise.needs_density_matrix for memory in memories)
        # Small blocks: a long chain has a station per link, and the stream
        # is the station's own (block sizes do not change its draws).
        self._uniforms = UniformBuffer(rng, OWN_STREAM_BLOCK)
        self._armed: list[Attempt | None] = [None, None]
        self._users: list[PhysicalUser | None] = [None, None]
        self._timer: Timer | None = None
        self._model: HeraldingModel | None = None
        self._started_ps = 0
        self._attempts_drawn = 0
        self._log_failure: dict[float, float] = {}
        self._next_pair_id = 0
        #: The batch under way (the measure-directly path); None: one pair.
        self._batch: Drawn | None = None
        #: Per heralding model: the states a batch's pairs are in when both
        #: ends measure them (per Bell index, then per eavesdropper's
        #: intervention), and their fidelities.
        self._batch_states: dict[HeraldingModel, BatchStates] = {}
        self._tracer = tracer
        self.ports = (StationPort(self, 0), StationPort(self, 1))

    @property
    def running(self) -> bool:
        """True while both sides are armed and attempts are under way."""
        return self._timer is not None

    def attempts_until(self, now: int) -> int:
        """Attempts made up to ``now``, including those of a stream still running."""
        return self.attempts + (self._begun(now) if self._timer is not None else 0)

    def _begun(self, now: int) -> int:
        """Attempts of the running stream begun by ``now`` (at most the drawn count)."""
        begun = 0 if self.cycle_ps == 0 else -(-(now - self._started_ps) // self.cycle_ps)
        return min(begun, self._attempts_drawn)

    def delivered_fidelity(self, heralded: BellDiagonal, index: int) -> float:
        """Fidelity with Bell state ``index`` that a pair heralded in state
        ``heralded`` has when the herald reaches both nodes."""
        state = self._represent(heralded.copy())
        for side, memory in enumerate(self._memories):
            memory.noise.apply(state, side, self.holds_ps[side])
        return state.fidelity(index)

    def expected_fidelity(self, model: HeraldingModel) -> float:
        """Fidelity at delivery of every pair heralded by ``model`` on this link."""
        index = model.outcomes[0]
        return self.delivered_fidelity(model.heralded_state(index), index)

    def _represent(self, state: BellDiagonal) -> PairState:
        """The Bell-diagonal fast path, unless a memory's noise leaves it."""
        return DensityMatrixPair.from_bell_diagonal(state) if self._dense else state

    def _intercept(self, state: PairState) -> None:
        """An eavesdropper measures the photon bound for node b in Z or X
        (at random) and resends one in the state it found: on average over
        its results that is the channel rho -> (rho + P rho P) / 2 on b's
        qubit, P = Z for a Z measurement, X for an X one."""
        self.intercepted += 1
        pauli = 2 if self._uniforms.open_unit() <= 0.5 else 1
        pauli_noise(state, pauli, 0.5, 1)

    # -- traces (only when the run is traced) --------------------------------

    def _trace(self, now: int, side: int, direction: Direction, message: Primitive) -> None:
        assert self._tracer is not None
        node = self._memories[side].node
        self._tracer.record(TraceRecord(now, node, "physical", direction, message))

    def _trace_stream(
        self, now: int, attempts: int, outcome: Literal["herald", "cancelled"]
    ) -> None:
        self._trace(
            now,
            0,
            "event",
            AttemptsTrace(
                link=self.name,
                attempts=attempts,
                start_ps=self._started_ps,
                end_ps=now,
                outcome=outcome,
            ),
        )

    # -- lifecycle handlers -------------------------------------------------

    def _arm(self, _: HeraldingStation, now: int, attempt: Attempt) -> None:
        if self._tracer is not None:
            self._trace_attempt(now, attempt)
        self._armed[attempt.side] = attempt

    def _trace_heralds(
        self,
        now: int,
        attempts: int,
        armed: tuple[Attempt | None, Attempt | None],
        heralded: Iterable[tuple[int, int, float]],
    ) -> None:
        """The stream's ATTEMPTS line, then HERALD up at both sides for each
        (pair id, Bell index, fidelity) heralded now."""
        self._trace_stream(now, attempts, "herald")
        for pair_id, index, fidelity in heralded:
            for side, attempt in enumerate(armed):
                assert attempt is not None
                self._trace(
                    now,
                    side,
                    "up",
                    HeraldTrace(
                        link=self.name,
                        pair_id=pair_id,
                        bell_index=index,
                        qubit=attempt.qubit,
                        fidelity=fidelity,
                    ),
                )

    def _trace_attempt(self, now: int, attempt: Attempt) -> None:
        self._trace(
            now,
            attempt.side,
            "down",
            AttemptTrace(
                link=self.name, side=attempt.side, qubit=attempt.qubit, tag=str(attempt.tag)
            ),
        )

    def _arm_and_start(self, _: HeraldingStation, now: int, attempt: Attempt) -> None:
        if self._tracer is not None:
            self._trace_attempt(now, attempt)
        self._armed[attempt.side] = attempt
        self._model = attempt.setting.model
        self._started_ps = now
        other = self._armed[1 - attempt.side]
        assert other is not None
        pairs = min(attempt.pairs, other.pairs)
        if pairs:
            until = attempt.until_ps if other.until_ps is None else other.until_ps
            self._start_batch(now, attempt.setting.model, pairs, until)
        else:
            self._start_stream(now, attempt.setting.model)

    def _start_stream(self, now: int, model: HeraldingModel) -> None:
        """Both sides are armed alike: draw how many attempts it takes and
        schedule only the successful one (HeraldDue)."""
        log_failure = self._log_failure_of(model.success_probability)
        attempts = geometric_from_uniform(self._uniforms.open_unit(), log_failure)
        self._attempts_drawn = attempts
        self._timer = self._sim.timer(attempts * self.cycle_ps, self._due, None)

    def _log_failure_of(self, p: float) -> float:
        log_failure = self._log_failure.get(p)
        if log_failure is None:
            log_failure = -math.inf if p >= 1.0 else math.log1p(-p)
            self._log_failure[p] = log_failure
        return log_failure

    def _disarm(self, _: HeraldingStation, now: int, cancel: Cancel) -> None:
        if self._tracer is not None:
            self._trace(
                now, cancel.side, "down", AttemptCancelTrace(link=self.name, side=cancel.side)
            )
        self._armed[cancel.side] = None

    def _stop(self, _: HeraldingStation, now: int, cancel: Cancel) -> None:
        timer = self._timer
        assert timer is not None
        timer.cancel()
        self._timer = None
        self._batch = None
        begun = self._begun(now)
        self.attempts += begun
        if self._tracer is not None:
            self._trace_stream(now, begun, "cancelled")
        self._disarm(self, now, cancel)

    def _due(self, now: int, _: object) -> None:
        self.table.dispatch(self, self, now, HERALD_DUE)

    def _herald(self, _: HeraldingStation, now: int, __: HeraldDue) -> None:
        self._timer = None
        if self._batch is not None:
            times, until = self._batch[1], self._batch[2]
            self._herald_batch(now, max(made_before(times, until, now + 1), 1))
            return
        self.attempts += self._attempts_drawn
        self.successes += 1
        model = self._model
        assert model is not None
        outcomes = model.outcomes
        index = (
            outcomes[0]
            if len(outcomes) == 1
            else outcomes[int(self._uniforms.open_unit() * len(outcomes)) % len(outcomes)]
        )
        armed_a, armed_b = self._armed
        assert armed_a is not None and armed_b is not None
        state = self._represent(model.heralded_state(index))
        if self.intercept_resend and self._uniforms.open_unit() <= self.intercept_resend:
            self._intercept(state)
        memory_a, memory_b = self._memories
        pair_id = self._next_pair_id
        self._next_pair_id += 1
        hold_a, hold_b = self.holds_ps
        self._store.entangle(
            now,
            pair_id,
            ((memory_a.qubits, armed_a.qubit), (memory_b.qubits, armed_b.qubit)),
            state,
            index,
            now,
            (now - hold_a, now - hold_b),
        )
        herald = Herald(pair_id, index, self._oracle.fidelity(memory_a.node, armed_a.qubit, now))
        self._armed[0] = self._armed[1] = None
        if self._tracer is not None:
            heralded = ((pair_id, index, min(herald.fidelity, 1.0)),)
            self._trace_heralds(now, self._attempts_drawn, (armed_a, armed_b), heralded)
        for user in self._users:
            if user is not None:
                user.herald(now, herald)


def _side_free(station: HeraldingStation, _: HeraldingStation, attempt: Attempt) -> bool:
    return station._armed[attempt.side] is None


def _tags_match(station: HeraldingStation, _: HeraldingStation, attempt: Attempt) -> bool:
    other = station._armed[1 - attempt.side]
    return station._armed[attempt.side] is None and other is not None and other.tag == attempt.tag


def _armed_side(station: HeraldingStation, _: HeraldingStation, cancel: Cancel) -> bool:
    return station._armed[cancel.side] is not None


def _other_armed(station: HeraldingStation, _: HeraldingStation, cancel: Cancel) -> bool:
    return station._armed[cancel.side] is not None and station._armed[1 - cancel.side] is not None


STATION_LIFECYCLE = StateTable(
    name="heralding station",
    states=("idle", "armed", "attempting"),
    initial="idle",
    transitions=(
        Transition("idle", Attempt, "armed", HeraldingStation._arm),
        Transition("armed", Attempt, "attempting", HeraldingStation._arm_and_start, _tags_match),
        Transition("armed", Attempt, "armed", HeraldingStation._arm, _side_free),
        Transition("armed", Cancel, "armed", HeraldingStation._disarm, _other_armed),
        Transition("armed", Cancel, "idle", HeraldingStation._disarm, _armed_side),
        Transition("attempting", Cancel, "armed", HeraldingStation._stop),
        Transition("attempting", HeraldDue, "idle", HeraldingStation._herald, note="HERALD"),
        Transition(
            "attempting",
            Flush,
            "idle",
            HeraldingStation._flush,
            heralds_before,
            note="HERALD_BATCH so far",
        ),
        Transition("attempting", Flush, "attempting", note="nothing heralded yet"),
    ),
)
HeraldingStation.table = STATION_LIFECYCLE.fast()


class StationPort:
    """One side of the station: the physical service a link entity uses."""

    __slots__ = ("_attempt", "_station", "side")

    def __init__(self, station: HeraldingStation, side: int) -> None:
        self._station = station
        self.side = side
        self._attempt: Attempt | None = None

    @property
    def running(self) -> bool:
        return self._station._timer is not None

    def attach(self, user: PhysicalUser) -> None:
        self._station._users[self.side] = user

    def attempt(
        self,
        now: int,
        qubit: int,
        tag: Hashable,
        setting: AttemptSetting,
        pairs: int = 0,
        until_ps: int | None = None,
    ) -> None:
        event = self._attempt
        if event is None:
            event = self._attempt = Attempt(self.side, tag, qubit, setting, pairs, until_ps)
        else:
            event.tag = tag
            event.qubit = qubit
            event.setting = setting
            event.pairs = pairs
            event.until_ps = until_ps
        station = self._station
        station.table.dispatch(station, station, now, event)

    def cancel(self, now: int) -> None:
        station = self._station
        station.table.dispatch(station, station, now, _CANCEL[self.side])

    def flush(self, now: int) -> None:
        """Before cancelling a batch under way: deliver the pairs heralded so far."""
        self._station.catch_up(now)
