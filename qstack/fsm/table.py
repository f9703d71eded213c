"""Lifecycles declared once, as data, and compiled three ways.

A :class:`StateTable` lists states and rows ``(source, trigger) -> (handler,
dest)``, where a trigger is the class of the message or event that causes
the step (a service primitive or peer message wherever one does), as h2's
``stream.py`` does: the table is the code that runs, not a comment beside
it. From the same rows come a ``transitions`` machine (for the one entity
per layer per node), a :class:`FastTable` (for lifecycles that exist in the
thousands: requests, pairs, circuits, link ends) and the Mermaid and
Graphviz diagrams.

A handler is called as ``handler(entity, target, now, event)``: ``entity``
is the layer entity that owns the lifecycle, ``target`` the object whose
``state`` steps (the entity itself for an entity lifecycle), ``event`` the
trigger instance. The state is set to ``dest`` before the handler runs, so
a step the handler causes on the same target starts from ``dest``. A guard
``guard(entity, target, event) -> bool`` picks between rows sharing a
source and a trigger; the first row whose guard holds (or that has none)
is taken.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from transitions import Machine, MachineError

Handler = Callable[[Any, Any, int, Any], None]
Guard = Callable[[Any, Any, Any], bool]


class Stateful(Protocol):
    """Anything whose lifecycle a table steps: it keeps its state as a string."""

    state: str


class ProtocolError(Exception):
    """An input arrived that the lifecycle does not allow in its state.

    Says which lifecycle, in which state, got which input, and from whom, so
    the party that broke the protocol is named.
    """

    def __init__(self, lifecycle: str, state: str, trigger: str, source: str = "") -> None:
        self.lifecycle = lifecycle
        self.state = state
        self.trigger = trigger
        self.source = source
        by = f" from {source}" if source else ""
        super().__init__(f"{lifecycle}: {trigger}{by} is not allowed in state {state!r}")


def _name(function: Callable[..., Any] | None) -> str:
    if function is None:
        return ""
    return str(getattr(function, "__name__", repr(function))).lstrip("_")


@dataclass(frozen=True, slots=True)
class Transition:
    """One row: in ``source``, ``trigger`` moves the lifecycle to ``dest`` and
    runs ``handler`` (when ``guard`` allows this row)."""

    source: str
    trigger: type
    dest: str
    handler: Handler | None = None
    guard: Guard | None = None
    note: str = ""

    @property
    def trigger_name(self) -> str:
        return self.trigger.__name__

    @property
    def label(self) -> str:
        """The edge label of diagrams: trigger [guard] / action."""
        label = self.trigger_name
        if self.guard is not None:
            label += f" [{_name(self.guard)}]"
        action = self.note or _name(self.handler)
        return label + (f" / {action}" if action else "")


@dataclass(frozen=True)
class StateTable:
    """A whole lifecycle as one readable table."""

    name: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    final: tuple[str, ...] = ()
    _index: dict[tuple[str, type], tuple[Transition, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        known = set(self.states)
        if self.initial not in known:
            raise ValueError(f"{self.name}: initial state {self.initial!r} is not a state")
        index: dict[tuple[str, type], tuple[Transition, ...]] = {}
        for row in self.transitions:
            for state in (row.source, row.dest):
                if state not in known:
                    raise ValueError(f"{self.name}: {row} names unknown state {state!r}")
            key = (row.source, row.trigger)
            earlier = index.get(key, ())
            if earlier and earlier[-1].guard is None:
                raise ValueError(
                    f"{self.name}: two rows for {row.trigger_name} in {row.source!r} "
                    "(only guarded rows may share a source and a trigger)"
                )
            index[key] = (*earlier, row)
        for state in self.final:
            if state not in known:
                raise ValueError(f"{self.name}: final state {state!r} is not a state")
        object.__setattr__(self, "_index", index)

    @property
    def triggers(self) -> tuple[type, ...]:
        """Every trigger class the table mentions, in first-use order."""
        seen: dict[type, None] = {}
        for row in self.transitions:
            seen.setdefault(row.trigger, None)
        return tuple(seen)

    def rows(self, state: str, trigger: type) -> tuple[Transition, ...]:
        """The rows for ``trigger`` in ``state``, in the order guards are tried."""
        return self._index.get((state, trigger), ())

    def next_state(self, state: str, trigger: type) -> str | None:
        """The destination of an unguarded ``trigger`` in ``state``, or None
        if the table has no row for it (guarded rows: the first's)."""
        rows = self.rows(state, trigger)
        return rows[0].dest if rows else None

    def with_handlers(self, replace: dict[Handler, Handler]) -> StateTable:
        """The same lifecycle with some handlers swapped: how a subclass of a
        built-in entity changes one action without copying the table."""
        rows = tuple(
            Transition(
                row.source,
                row.trigger,
                row.dest,
                replace.get(row.handler, row.handler) if row.handler else None,
                row.guard,
                row.note,
            )
            for row in self.transitions
        )
        return StateTable(self.name, self.states, self.initial, rows, self.final)

    def fast(self) -> FastTable:
        return FastTable(self)

    def machine(self, model: Any, entity: Any = None) -> Machine:
        """A ``transitions`` machine on ``model``: no auto transitions, queued,
        invalid triggers raise. Its rows run the same handlers and guards,
        with ``entity`` (default: the model) as the entity argument; trigger
        it with :func:`fire`."""
        owner = model if entity is None else entity

        def bind_handler(handler: Handler) -> Callable[[int, Any], None]:
            return lambda now, event: handler(owner, model, now, event)

        def bind_guard(guard: Guard) -> Callable[[int, Any], bool]:
            return lambda now, event: guard(owner, model, event)

        def refuse(now: int, event: Any) -> None:
            raise ProtocolError(self.name, str(model.state), event.__class__.__name__)

        specs: list[dict[str, Any]] = []
        for row in self.transitions:
            spec: dict[str, Any] = {
                "trigger": row.trigger_name,
                "source": row.source,
                "dest": row.dest,
            }
            if row.handler is not None:
                spec["after"] = bind_handler(row.handler)
            if row.guard is not None:
                spec["conditions"] = bind_guard(row.guard)
            specs.append(spec)
        # Where every row of a (state, trigger) is guarded, one more,
        # internal, row refuses when no guard allows a step.
        for (state, trigger), rows in self._index.items():
            if rows[-1].guard is not None:
                specs.append(
                    {"trigger": trigger.__name__, "source": state, "dest": None, "before": refuse}
                )
        machine = Machine(
            model=model,
            states=list(self.states),
            initial=self.initial,
            transitions=specs,
            auto_transitions=False,
            queued=True,
            ignore_invalid_triggers=False,
        )
        _MACHINE_LIFECYCLES[machine] = self.name
        return machine

    def mermaid(self) -> str:
        """The lifecycle as a Mermaid ``stateDiagram-v2``."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        lines.extend(f"    {row.source} --> {row.dest}: {row.label}" for row in self.transitions)
        lines.extend(f"    {state} --> [*]" for state in self.final)
        return "\n".join(lines) + "\n"

    def dot(self) -> str:
        """The lifecycle as a Graphviz digraph."""
        lines = [f'digraph "{self.name}" {{', "    rankdir=LR;", '    "__start" [shape=point];']
        lines.extend(f'    "{state}" [shape=doublecircle];' for state in self.final)
        lines.append(f'    "__start" -> "{self.initial}";')
        lines.extend(
            f'    "{row.source}" -> "{row.dest}" [label="{row.label}"];' for row in self.transitions
        )
        lines.append("}")
        return "\n".join(lines) + "\n"


TransitionObserver = Callable[[int, Any, Any, str, str, str, type], None]
"""Told of every step a lifecycle takes, for traces: ``(now, entity, target,
lifecycle, source, dest, trigger)``."""


class FastTable:
    """A dict-backed dispatcher for lifecycles kept as a plain state string.

    A (state, trigger) with one unguarded row is one dict lookup to its
    (dest, handler); guarded rows (dest None in the same dict) are tried in
    order. ``observer`` (for a traced run) is told of every step.
    """

    __slots__ = ("_rows", "name", "observer")

    def __init__(self, table: StateTable, observer: TransitionObserver | None = None) -> None:
        self.name = table.name
        #: (state, trigger) -> (dest, handler) for one unguarded row, or
        #: (None, rows) where guards choose.
        self._rows: dict[tuple[str, type], tuple[str | None, Any]] = {}
        for key, rows in table._index.items():
            if len(rows) == 1 and rows[0].guard is None:
                self._rows[key] = (rows[0].dest, rows[0].handler)
            else:
                self._rows[key] = (None, rows)
        self.observer = observer

    def observed(self, observer: TransitionObserver) -> FastTable:
        """The same table (rows shared) telling ``observer`` of every step."""
        copy = FastTable.__new__(FastTable)
        copy.name, copy._rows = self.name, self._rows
        copy.observer = observer
        return copy

    def dispatch(
        self, entity: Any, target: Stateful, now: int, event: Any, source: str = ""
    ) -> None:
        """Take the row for ``event`` in ``target``'s state: set the new state,
        then run the row's handler; :class:`ProtocolError` if no row allows it."""
        state = target.state
        entry = self._rows.get((state, event.__class__))
        if entry is None:
            raise ProtocolError(self.name, state, event.__class__.__name__, source)
        dest, handler = entry
        if dest is None:
            row: Transition
            for row in handler:
                guard = row.guard
                if guard is None or guard(entity, target, event):
                    dest, handler = row.dest, row.handler
                    break
            else:
                raise ProtocolError(self.name, state, event.__class__.__name__, source)
        target.state = dest
        if self.observer is not None:
            self.observer(now, entity, target, self.name, state, dest, event.__class__)
        if handler is not None:
            handler(entity, target, now, event)

    def step(self, state: str, trigger: type, source: str = "") -> str:
        """The next state for an unguarded ``trigger`` (no handler runs), or
        :class:`ProtocolError` if ``trigger`` is not allowed in ``state``."""
        entry = self._rows.get((state, trigger))
        if entry is None:
            raise ProtocolError(self.name, state, trigger.__name__, source)
        dest, rows = entry
        return dest if dest is not None else str(rows[0].dest)


#: The lifecycle each compiled ``transitions`` machine runs.
_MACHINE_LIFECYCLES: weakref.WeakKeyDictionary[Machine, str] = weakref.WeakKeyDictionary()


def observe_machine(machine: Machine, owner: Any, observer: TransitionObserver) -> None:
    """Tell ``observer`` of every step ``machine`` takes, if
    :meth:`StateTable.machine` compiled it (on ``owner``)."""
    lifecycle = _MACHINE_LIFECYCLES.get(machine)
    if lifecycle is None:
        return
    source = [""]

    def before(now: int, event: Any) -> None:
        source[0] = str(owner.state)

    def after(now: int, event: Any) -> None:
        observer(now, owner, owner, lifecycle, source[0], str(owner.state), event.__class__)

    machine.before_state_change = [before]
    machine.after_state_change = [after]


def fire(model: Any, lifecycle: str, event: Any, now: int = 0, source: str = "") -> None:
    """Trigger a compiled ``transitions`` machine with an event instance;
    its refusal (no row, or no guard allowing one) is a
    :class:`ProtocolError` that names the lifecycle and the sender. The
    machine is queued: an event fired from a handler runs after it."""
    state = str(model.state)
    name = event.__class__.__name__
    if not callable(getattr(model, name, None)):
        raise ProtocolError(lifecycle, state, name, source)
    try:
        model.trigger(name, now, event)
    except MachineError as error:
        raise ProtocolError(lifecycle, state, name, source) from error
