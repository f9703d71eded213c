"""Lifecycles declared once, as data, and compiled three ways.

A :class:`StateTable` lists states and ``(source, trigger, dest)`` rows,
where a trigger is the class of the message or event that causes the step.
From the same rows come a ``transitions`` machine (for the one entity per
layer per node), a :class:`FastTable` (for lifecycles that exist in the
thousands: requests, pairs) and the Mermaid and Graphviz diagrams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transitions import Machine, MachineError


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


@dataclass(frozen=True, slots=True)
class Transition:
    """One row: in ``source``, ``trigger`` moves the lifecycle to ``dest``."""

    source: str
    trigger: type
    dest: str
    note: str = ""

    @property
    def trigger_name(self) -> str:
        return self.trigger.__name__


@dataclass(frozen=True)
class StateTable:
    """A whole lifecycle as one readable table."""

    name: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    final: tuple[str, ...] = ()
    _index: dict[tuple[str, type], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        known = set(self.states)
        if self.initial not in known:
            raise ValueError(f"{self.name}: initial state {self.initial!r} is not a state")
        index: dict[tuple[str, type], str] = {}
        for row in self.transitions:
            for state in (row.source, row.dest):
                if state not in known:
                    raise ValueError(f"{self.name}: {row} names unknown state {state!r}")
            key = (row.source, row.trigger)
            if key in index:
                raise ValueError(f"{self.name}: two rows for {row.trigger_name} in {row.source!r}")
            index[key] = row.dest
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

    def next_state(self, state: str, trigger: type) -> str | None:
        """The destination of ``trigger`` in ``state``, or None if not allowed."""
        return self._index.get((state, trigger))

    def fast(self) -> FastTable:
        return FastTable(self)

    def machine(self, model: Any) -> Machine:
        """A ``transitions`` machine on ``model``: no auto transitions, queued,
        and invalid triggers raise."""
        return Machine(
            model=model,
            states=list(self.states),
            initial=self.initial,
            transitions=[
                {"trigger": row.trigger_name, "source": row.source, "dest": row.dest}
                for row in self.transitions
            ],
            auto_transitions=False,
            queued=True,
            ignore_invalid_triggers=False,
        )

    def mermaid(self) -> str:
        """The lifecycle as a Mermaid ``stateDiagram-v2``."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for row in self.transitions:
            label = row.trigger_name + (f" / {row.note}" if row.note else "")
            lines.append(f"    {row.source} --> {row.dest}: {label}")
        lines.extend(f"    {state} --> [*]" for state in self.final)
        return "\n".join(lines) + "\n"

    def dot(self) -> str:
        """The lifecycle as a Graphviz digraph."""
        lines = [f'digraph "{self.name}" {{', "    rankdir=LR;", '    "__start" [shape=point];']
        lines.extend(f'    "{state}" [shape=doublecircle];' for state in self.final)
        lines.append(f'    "__start" -> "{self.initial}";')
        for row in self.transitions:
            label = row.trigger_name + (f" / {row.note}" if row.note else "")
            lines.append(f'    "{row.source}" -> "{row.dest}" [label="{label}"];')
        lines.append("}")
        return "\n".join(lines) + "\n"


class FastTable:
    """A dict-backed stepper for lifecycles kept as a plain state string."""

    __slots__ = ("_index", "name")

    def __init__(self, table: StateTable) -> None:
        self.name = table.name
        self._index = dict(table._index)

    def step(self, state: str, trigger: type, source: str = "") -> str:
        """The next state, or :class:`ProtocolError` if ``trigger`` is not
        allowed in ``state``."""
        dest = self._index.get((state, trigger))
        if dest is None:
            raise ProtocolError(self.name, state, trigger.__name__, source)
        return dest


def fire(model: Any, lifecycle: str, trigger: type, source: str = "") -> None:
    """Trigger a compiled ``transitions`` machine, turning its refusal into a
    :class:`ProtocolError` that names the lifecycle and the sender."""
    state = str(model.state)
    try:
        model.trigger(trigger.__name__)
    except (MachineError, AttributeError) as error:
        raise ProtocolError(lifecycle, state, trigger.__name__, source) from error
