"""Physical layer: heralded entanglement attempts through a mid-point station.

Service, per node side: ATTEMPT (keep attempting into this qubit, for this
tag, with this setting) and CANCEL; indication: HERALD (a pair now exists).
Attempts only happen while both sides are armed with the same tag, as a
real station only heralds when both photons arrive in the same window.

Failed attempts are not simulated one by one. When both sides are armed,
the number of attempts up to and including the first success is drawn from
its geometric distribution and only the success is scheduled; cancelling
counts the attempts begun so far. A test checks the distribution of
attempts and success times against an attempt-by-attempt reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

from qstack.hardware.memory import EntangledPair, Memory
from qstack.physics.bell import BellDiagonal
from qstack.physics.density import DensityMatrixPair
from qstack.physics.heralding import HeraldingModel
from qstack.physics.state import PairState, pauli_noise
from qstack.sim.kernel import Simulator, Timer
from qstack.sim.random import UniformBuffer


@dataclass(frozen=True, slots=True)
class AttemptSetting:
    """How both sides attempt for one request, agreed through the queue.

    ``expected_fidelity`` is computed from the model's heralded state after
    both memories' noise over the emission-to-herald window, i.e. the
    fidelity every pair of this setting has at delivery.
    """

    model: HeraldingModel
    expected_fidelity: float
    label: str


@dataclass(slots=True)
class Attempt:
    """ATTEMPT request of one side: attempt for ``tag`` into ``qubit``."""

    tag: Hashable
    qubit: int
    setting: AttemptSetting


HeraldListener = Callable[[int, EntangledPair], None]


def geometric_from_uniform(u: float, log_failure: float) -> int:
    """Attempts up to and including the first success, by inversion.

    ``log_failure`` is ln(1 - p); for p = 1 pass ``-math.inf``.
    """
    if log_failure == -math.inf:
        return 1
    return 1 + int(math.log(u) / log_failure)


class HeraldingStation:
    """The two ends' emitters, the fiber and the mid-point detectors of one link.

    ``cycle_ps`` is the time between attempt starts (local preparation plus
    the photon's flight to the station and the herald's flight back);
    ``window_ps`` is how long the memory qubits hold the state before the
    herald reaches them (the time from emission to herald).
    """

    def __init__(
        self,
        sim: Simulator,
        name: str,
        memories: tuple[Memory, Memory],
        cycle_ps: int,
        window_ps: int,
        rng: np.random.Generator,
        intercept_resend: float = 0.0,
    ) -> None:
        if cycle_ps < 0 or window_ps < 0 or window_ps > max(cycle_ps, 0):
            raise ValueError(
                f"{name}: cycle_ps = {cycle_ps}, window_ps = {window_ps}: "
                "need 0 <= window_ps <= cycle_ps"
            )
        self.name = name
        self.cycle_ps = cycle_ps
        self.window_ps = window_ps
        self.attempts = 0
        self.successes = 0
        self.intercept_resend = intercept_resend
        self.intercepted = 0
        self._sim = sim
        self._memories = memories
        self._dense = any(memory.noise.needs_density_matrix for memory in memories)
        self._uniforms = UniformBuffer(rng)
        self._armed: list[Attempt | None] = [None, None]
        self._listeners: list[HeraldListener | None] = [None, None]
        self._timer: Timer | None = None
        self._started_ps = 0
        self._attempts_drawn = 0
        self._next_pair_id = 0
        self._log_failure: dict[float, float] = {}

    def connect(self, side: int, listener: HeraldListener) -> None:
        """Register the side's HERALD indication handler."""
        self._listeners[side] = listener

    @property
    def running(self) -> bool:
        """True while both sides are armed and attempts are under way."""
        return self._timer is not None

    def attempt(self, side: int, now: int, attempt: Attempt) -> None:
        """ATTEMPT: arm ``side``; attempts start once both sides agree."""
        if self._armed[side] is not None:
            raise RuntimeError(f"{self.name}: side {side} is already attempting")
        self._armed[side] = attempt
        other = self._armed[1 - side]
        if other is not None and other.tag == attempt.tag:
            self._start(now, attempt.setting.model)

    def cancel(self, side: int, now: int) -> None:
        """CANCEL: disarm ``side``; attempts under way stop and are counted."""
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None
            self.attempts += self._begun(now)
        self._armed[side] = None

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
            memory.noise.apply(state, side, self.window_ps)
        return state.fidelity(index)

    def expected_fidelity(self, model: HeraldingModel) -> float:
        """Fidelity at delivery of every pair heralded by ``model`` on this link."""
        index = model.outcomes[0]
        return self.delivered_fidelity(model.heralded_state(index), index)

    def _intercept(self, state: PairState) -> None:
        """An eavesdropper measures the photon bound for node b in Z or X
        (at random) and resends one in the state it found: on average over
        its results that is the channel rho -> (rho + P rho P) / 2 on b's
        qubit, P = Z for a Z measurement, X for an X one."""
        self.intercepted += 1
        pauli = 2 if self._uniforms.open_unit() <= 0.5 else 1
        pauli_noise(state, pauli, 0.5, 1)

    def _represent(self, state: BellDiagonal) -> PairState:
        """The Bell-diagonal fast path, unless a memory's noise leaves it."""
        return DensityMatrixPair.from_bell_diagonal(state) if self._dense else state

    def _start(self, now: int, model: HeraldingModel) -> None:
        p = model.success_probability
        log_failure = self._log_failure.get(p)
        if log_failure is None:
            log_failure = -math.inf if p >= 1.0 else math.log1p(-p)
            self._log_failure[p] = log_failure
        attempts = geometric_from_uniform(self._uniforms.open_unit(), log_failure)
        self._attempts_drawn = attempts
        self._started_ps = now
        self._timer = self._sim.timer(attempts * self.cycle_ps, self._herald, model)

    def _herald(self, now: int, model: HeraldingModel) -> None:
        self._timer = None
        self.attempts += self._attempts_drawn
        self.successes += 1
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
        pair = EntangledPair(
            self._next_pair_id,
            state,
            index,
            self._memories,
            (armed_a.qubit, armed_b.qubit),
            now - self.window_ps,
        )
        self._next_pair_id += 1
        pair.herald_fidelity = pair.fidelity(now)
        self._memories[0].pairs[armed_a.qubit] = pair
        self._memories[1].pairs[armed_b.qubit] = pair
        self._armed[0] = self._armed[1] = None
        for listener in self._listeners:
            if listener is not None:
                listener(now, pair)
