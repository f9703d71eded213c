"""Ground truth for the conformance checks, gathered without the layer's help.

The observer never asks the implementation under test what it did; it
watches the shared hardware instead:

* every write into a qubit of the run's :class:`~qstack.quantum.store.QuantumStore`
  (which state occupies which qubit, since when), through the store's
  placement hook;
* every ATTEMPT / CANCEL / HERALD at a heralding station, from the
  physical layer's trace records;
* the true state of a pair at any instant, read through the run's oracle
  on a copy (so observing never changes the simulation).

Anything that emits the service primitives and acts through the store can
be observed this way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from qstack.hardware.memory import Memory
from qstack.layers.link.messages import LinkCreate, LinkOk
from qstack.layers.network.messages import NetCreate, NetOk
from qstack.layers.physical.messages import AttemptCancelTrace, AttemptTrace, HeraldTrace
from qstack.physics.state import PairState
from qstack.quantum.pair import PairRecord, StateRecord
from qstack.quantum.store import QuantumStore, QubitRegister
from qstack.sim.trace import TraceRecord

Clock = Callable[[], int]


def state_at(record: PairRecord, now: int) -> PairState:
    """The record's state at ``now``, memory noise applied to a copy."""
    state = record.state.copy()
    for side in (0, 1):
        register = record.registers[side]
        dt = now - record.updated_ps[side]
        if register is not None and dt > 0:
            register.noise.apply(state, side, dt)
    return state


def bell_fidelities(state: PairState) -> tuple[float, float, float, float]:
    """Fidelity of ``state`` with each of the four Bell states."""
    return (state.fidelity(0), state.fidelity(1), state.fidelity(2), state.fidelity(3))


@dataclass(frozen=True, slots=True)
class Placement:
    """A state was written into (or cleared from) a qubit."""

    time_ps: int
    node: str
    qubit: int
    holder: str | None
    replaced_other: bool  # the qubit held a different state at the time


class Ledger:
    """Watches a run's store: every write into a qubit."""

    def __init__(self, store: QuantumStore, memories: Mapping[str, Memory], clock: Clock) -> None:
        self._memories = memories
        self._clock = clock
        self.placements: list[Placement] = []
        self._current: dict[tuple[str, int], StateRecord] = {}
        store.placement = self._placed

    def _placed(
        self, now: int, register: QubitRegister, qubit: int, record: StateRecord | None
    ) -> None:
        key = (register.node, qubit)
        old = self._current.pop(key, None)
        if record is not None:
            self._current[key] = record
        self.placements.append(
            Placement(
                now,
                register.node,
                qubit,
                self._memories[register.node].holders[qubit],
                record is not None and old is not None and old is not record,
            )
        )


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
    were last armed before it (when the successful attempts began).
    ``record`` is None for a pair measured where it was made (a batch):
    its true fidelity at the herald is then ``fidelity``, the station's."""

    time_ps: int
    pair_id: int
    bell_index: int
    record: PairRecord | None
    stream_start_ps: int | None
    fidelity: float


class StationWatch:
    """Arms and heralds of one link's station, from its trace records."""

    def __init__(self, store: QuantumStore, memories: Mapping[str, Memory]) -> None:
        self._store = store
        self._memories = memories
        self.arms: list[Arm] = []
        self.heralds: dict[int, Herald] = {}
        self._armed_at: list[int | None] = [None, None]

    def observe(self, record: TraceRecord) -> None:
        message = record.message
        if isinstance(message, AttemptTrace):
            memory = self._memories[record.node]
            qubit = message.qubit
            valid = 0 <= qubit < memory.size
            self.arms.append(
                Arm(
                    record.time_ps,
                    record.node,
                    message.side,
                    qubit,
                    memory.holders[qubit] if valid else None,
                    valid and memory.qubits.holds_state(qubit),
                )
            )
            self._armed_at[message.side] = record.time_ps
        elif isinstance(message, AttemptCancelTrace):
            self._armed_at[message.side] = None
        elif isinstance(message, HeraldTrace) and message.pair_id not in self.heralds:
            starts = self._armed_at
            start = None if None in starts else max(s for s in starts if s is not None)
            self.heralds[message.pair_id] = Herald(
                record.time_ps,
                message.pair_id,
                message.bell_index,
                self._store.record(record.node, message.qubit),
                start,
                message.fidelity,
            )
            self._armed_at = [None, None]

    def herald_of(self, record: PairRecord | None) -> Herald | None:
        """The herald that made ``record``, if it is a link pair."""
        if record is None:
            return None
        herald = self.heralds.get(record.pair_id)
        return herald if herald is not None and herald.record is record else None


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
    herald: Herald | None  # the herald of the pair behind the OK, if one can be found
    true_fidelity: float | None  # with the OK's bell_index, at the OK
    holder: str | None  # holder of the OK'd qubit at the OK
    half_here: bool  # the pair's half at this node is the OK'd qubit
    held_before: bool  # the upper layer already held this qubit


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
    """The true state behind a NET_OK at the moment it was reported:
    ``reference_index`` is the Bell state a noiseless run would hold (every
    swap outcome and correction applied so far), ``fidelity`` the true
    fidelity with it."""

    record: int
    node: str
    time_ps: int
    ok: NetOk
    reference_index: int | None
    fidelity: float | None
    birth_ps: int | None
    #: A kept pair: its other half is held at the other end (or was used up
    #: there already). None for a measured pair.
    entangled: bool | None = None


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
