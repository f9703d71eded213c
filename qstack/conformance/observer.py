"""Ground truth for the conformance checks, gathered without the layer's help.

The observer never asks the implementation under test what it did; it
watches the shared hardware instead:

* every write into a :class:`~qstack.hardware.memory.Memory`'s ``pairs``
  slots (which pair occupies which qubit, since when), through a recording
  list put in place of ``Memory.pairs`` before the run starts;
* every ATTEMPT / CANCEL / HERALD at a heralding station (link harness);
* the true state of a pair at any instant, computed on a copy (so observing
  never changes the simulation).

Anything that emits the service primitives and uses the shared ``Memory``
and ``EntangledPair`` hardware can be observed this way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, SupportsIndex

from qstack.hardware.memory import EntangledPair, Memory
from qstack.layers.link.messages import LinkCreate, LinkOk
from qstack.layers.network.messages import NetCreate, NetOk
from qstack.layers.physical.station import Attempt, HeraldingStation, HeraldListener
from qstack.physics.state import PairState
from qstack.sim.kernel import Simulator
from qstack.sim.trace import TraceRecord

Clock = Callable[[], int]


def true_state(pair: EntangledPair, now: int) -> PairState:
    """The pair's state at ``now``, memory noise applied to a copy."""
    state = pair.state.copy()
    for side in (0, 1):
        dt = now - pair.updated_ps[side]
        if dt > 0:
            pair.memories[side].noise.apply(state, side, dt)
    return state


def bell_fidelities(state: PairState) -> tuple[float, float, float, float]:
    """Fidelity of ``state`` with each of the four Bell states."""
    return (state.fidelity(0), state.fidelity(1), state.fidelity(2), state.fidelity(3))


@dataclass(frozen=True, slots=True)
class Placement:
    """A pair was written into (or cleared from) a memory slot."""

    time_ps: int
    node: str
    qubit: int
    holder: str | None
    replaced_other: bool  # the slot held a different pair at the time


class _PairSlots(list[EntangledPair | None]):
    """A ``Memory.pairs`` list that reports every write."""

    def __init__(
        self,
        items: list[EntangledPair | None],
        on_write: Callable[[int, EntangledPair | None, EntangledPair | None], None],
    ) -> None:
        super().__init__(items)
        self._on_write = on_write

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, SupportsIndex):
            position = int(index) % len(self)
            self._on_write(position, self[position], value)
        super().__setitem__(index, value)


class PairLedger:
    """Watches memories: which pair sits where, and each pair's birth.

    A pair's birth is when it was first written into a slot; a pair made by
    joining others (a swap) inherits the oldest birth of the pairs it
    replaced in its slots.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._births: dict[int, tuple[EntangledPair, int]] = {}
        self.placements: list[Placement] = []
        self.memories: dict[str, Memory] = {}

    def watch(self, memory: Memory) -> None:
        """Start recording writes into ``memory``'s pair slots."""
        node = memory.node
        self.memories[node] = memory

        def on_write(qubit: int, old: EntangledPair | None, new: EntangledPair | None) -> None:
            now = self._clock()
            if new is not None:
                inherited = self.birth(old) if old is not None else None
                known = self._births.get(id(new))
                candidates = [now if inherited is None else inherited]
                if known is not None:
                    candidates.append(known[1])
                self._births[id(new)] = (new, min(candidates))
            self.placements.append(
                Placement(
                    now,
                    node,
                    qubit,
                    memory.holders[qubit],
                    new is not None and old is not None and old is not new,
                )
            )

        memory.pairs = _PairSlots(list(memory.pairs), on_write)

    def birth(self, pair: EntangledPair) -> int | None:
        """When ``pair`` (or the oldest pair it was made from) appeared."""
        known = self._births.get(id(pair))
        return None if known is None else known[1]


@dataclass(frozen=True, slots=True)
class Arm:
    """A side armed the station (ATTEMPT) with a qubit."""

    time_ps: int
    node: str
    side: int
    qubit: int
    holder: str | None
    slot_has_pair: bool


@dataclass(frozen=True, slots=True)
class Herald:
    """The station heralded a pair; ``stream_start_ps`` is when both sides
    were last armed before it (when the successful attempts began)."""

    time_ps: int
    pair: EntangledPair
    stream_start_ps: int | None


class ObservedStation(HeraldingStation):
    """A heralding station that reports every ATTEMPT and HERALD."""

    def __init__(
        self,
        sim: Simulator,
        name: str,
        memories: tuple[Memory, Memory],
        cycle_ps: int,
        window_ps: int,
        rng: Any,
    ) -> None:
        super().__init__(sim, name, memories, cycle_ps, window_ps, rng)
        self.arms: list[Arm] = []
        self.heralds: dict[int, Herald] = {}
        self._armed_at: list[int | None] = [None, None]

    def connect(self, side: int, listener: HeraldListener) -> None:
        def observed(now: int, pair: EntangledPair) -> None:
            if pair.pair_id not in self.heralds:
                starts = self._armed_at
                start = None if None in starts else max(s for s in starts if s is not None)
                self.heralds[pair.pair_id] = Herald(now, pair, start)
            listener(now, pair)

        super().connect(side, observed)

    def attempt(self, side: int, now: int, attempt: Attempt) -> None:
        memory = self._memories[side]
        qubit = attempt.qubit
        valid = 0 <= qubit < memory.size
        self.arms.append(
            Arm(
                now,
                memory.node,
                side,
                qubit,
                memory.holders[qubit] if valid else None,
                valid and memory.pairs[qubit] is not None,
            )
        )
        self._armed_at[side] = now
        super().attempt(side, now, attempt)

    def _herald(self, now: int, model: Any) -> None:
        super()._herald(now, model)
        self._armed_at = [None, None]

    def cancel(self, side: int, now: int) -> None:
        self._armed_at[side] = None
        super().cancel(side, now)


@dataclass(slots=True)
class CreateEvent:
    """A CREATE issued by the harness at ``node`` (its origin)."""

    time_ps: int
    node: str
    create_id: int
    create: LinkCreate


@dataclass(slots=True)
class OkTruth:
    """What was really there when an OK was reported."""

    record: int  # index of the OK in the trace
    node: str
    side: int
    time_ps: int
    ok: LinkOk
    pair: EntangledPair | None  # the pair behind the OK, if one can be found
    true_fidelity: float | None  # with the OK's bell_index, at the OK
    holder: str | None  # holder of the OK'd qubit at the OK
    half_here: bool  # the pair's half at this node is the OK'd qubit
    held_before: bool  # the upper layer already held this qubit
    stream_start_ps: int | None


@dataclass(slots=True)
class Snapshot:
    """Memory holders after one harness step."""

    time_ps: int
    holders: dict[str, tuple[str | None, ...]]
    user_held: dict[str, frozenset[int]]


@dataclass(slots=True)
class LinkObservations:
    """Everything the link checks look at."""

    nodes: tuple[str, str]
    delay_ps: int
    cycle_ps: int
    user_holder: str
    records: list[TraceRecord] = field(default_factory=list)
    creates: list[CreateEvent] = field(default_factory=list)
    oks: list[OkTruth] = field(default_factory=list)
    arms: list[Arm] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    now: int = 0
    final: bool = False


@dataclass(slots=True)
class NetCreateEvent:
    """A NET_CREATE issued at ``node``."""

    time_ps: int
    node: str
    request_id: str
    create: NetCreate


@dataclass(slots=True)
class NetOkTruth:
    """The true state behind a NET_OK at the moment it was reported."""

    record: int
    node: str
    time_ps: int
    ok: NetOk
    fidelities: tuple[float, float, float, float] | None  # with each Bell state
    birth_ps: int | None


@dataclass(slots=True)
class NetObservations:
    """Everything the network checks look at."""

    nodes: tuple[str, ...]
    grace_ps: int = 0  # longest classical delay between two nodes (sum over links)
    records: list[TraceRecord] = field(default_factory=list)
    creates: list[NetCreateEvent] = field(default_factory=list)
    oks: list[NetOkTruth] = field(default_factory=list)
    holders: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    now: int = 0
    final: bool = False
