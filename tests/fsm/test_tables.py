"""Both compiled forms of every lifecycle table behave identically, every
(state, input) pair is either a declared transition or a clean
ProtocolError, and the tables are what the layers dispatch through.

The compiled forms are compared on *probes* of the real tables: the same
states and rows, each handler replaced by one that records which row ran
and each guard by one that answers from a shared list of decisions, so both
forms see exactly the same guard answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qstack.diagrams import LAYER_TABLES
from qstack.fsm import ProtocolError, StateTable, Transition, fire
from qstack.layers.link.egp import LINK_ENTITY, LinkLayer

TABLES = [table for tables in LAYER_TABLES.values() for table in tables]


class Unrelated:
    """An input no table mentions."""


def _event(trigger: type) -> Any:
    """An instance of ``trigger`` (its fields do not matter to a probe)."""
    construct = getattr(trigger, "model_construct", None)
    return construct() if construct is not None else object.__new__(trigger)


class _Probe:
    """The entity and lifecycle target of a probe table."""

    def __init__(self, initial: str) -> None:
        self.state = initial
        self.ran: list[int] = []
        self.decisions: Iterator[bool] = iter(())


def _probe(table: StateTable) -> StateTable:
    def handler(index: int) -> Callable[[Any, Any, int, Any], None]:
        return lambda entity, target, now, event: target.ran.append(index)

    def guard(entity: Any, target: Any, event: Any) -> bool:
        return next(target.decisions, True)

    rows = tuple(
        Transition(row.source, row.trigger, row.dest, handler(i), guard if row.guard else None)
        for i, row in enumerate(table.transitions)
    )
    return StateTable(table.name, table.states, table.initial, rows, table.final)


def _run_fast(table: StateTable, inputs: list[type], decisions: list[bool]) -> list[str]:
    probe = _probe(table)
    fast = probe.fast()
    target = _Probe(probe.initial)
    target.decisions = iter(decisions)
    trace = []
    for trigger in inputs:
        before = target.state
        try:
            fast.dispatch(target, target, 0, _event(trigger))
            trace.append(f"{target.state} after row {target.ran[-1]}")
        except ProtocolError as error:
            assert error.state == before == target.state
            assert error.trigger == trigger.__name__
            trace.append(f"refused {trigger.__name__} in {before}")
    return trace


def _run_machine(table: StateTable, inputs: list[type], decisions: list[bool]) -> list[str]:
    probe = _probe(table)
    target = _Probe(probe.initial)
    target.decisions = iter(decisions)
    probe.machine(target)
    trace = []
    for trigger in inputs:
        before = target.state
        try:
            fire(target, table.name, _event(trigger))
            trace.append(f"{target.state} after row {target.ran[-1]}")
        except ProtocolError as error:
            assert target.state == before == error.state
            trace.append(f"refused {trigger.__name__} in {before}")
    return trace


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_machine_and_fast_table_agree(table: StateTable, data: st.DataObject) -> None:
    inputs = data.draw(st.lists(st.sampled_from([*table.triggers, Unrelated]), max_size=30))
    decisions = data.draw(st.lists(st.booleans(), max_size=60))
    assert _run_fast(table, inputs, decisions) == _run_machine(table, inputs, decisions)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_state_input_pair(table: StateTable) -> None:
    """A declared row runs (its handler, its destination) or the input is
    refused with a ProtocolError naming the lifecycle, state and input, in
    both compiled forms; guarded rows are tried in order."""
    probe = _probe(table)
    fast = probe.fast()
    for state in table.states:
        for trigger in [*table.triggers, Unrelated]:
            rows = table.rows(state, trigger)
            for taken in range(len(rows)):
                # guards answer no until the row under test
                decisions = [False] * taken + [True]
                expected = (rows[taken].dest, table.transitions.index(rows[taken]))
                target = _Probe(state)
                target.decisions = iter(decisions)
                fast.dispatch(target, target, 0, _event(trigger))
                assert (target.state, target.ran[-1]) == expected
                model = _Probe(state)
                model.decisions = iter(decisions)
                probe.machine(model)
                model.state = state
                fire(model, table.name, _event(trigger))
                assert (model.state, model.ran[-1]) == expected
            if rows and rows[-1].guard is None:
                continue
            target = _Probe(state)
            target.decisions = iter([False] * len(rows))
            with pytest.raises(ProtocolError, match=trigger.__name__) as refused:
                fast.dispatch(target, target, 0, _event(trigger))
            assert refused.value.lifecycle == table.name and refused.value.state == state
            model = _Probe(state)
            model.decisions = iter([False] * len(rows))
            probe.machine(model)
            model.state = state
            with pytest.raises(ProtocolError, match=re.escape(repr(state))):
                fire(model, table.name, _event(trigger))


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_final_states_have_no_way_out(table: StateTable) -> None:
    for row in table.transitions:
        assert row.source not in table.final, row


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_state_is_reachable(table: StateTable) -> None:
    reached = {table.initial}
    frontier = [table.initial]
    while frontier:
        state = frontier.pop()
        for row in table.transitions:
            if row.source == state and row.dest not in reached:
                reached.add(row.dest)
                frontier.append(row.dest)
    assert reached == set(table.states)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_mermaid_lists_every_row(table: StateTable) -> None:
    text = table.mermaid()
    lines = text.strip().splitlines()
    assert lines[0] == "stateDiagram-v2"
    edge = re.compile(r"^    (\[\*\]|\w+) --> (\[\*\]|\w+)(: .+)?$")
    assert all(edge.match(line) for line in lines[1:]), text
    for row in table.transitions:
        assert f"    {row.source} --> {row.dest}: {row.label}" in text
    assert f"    [*] --> {table.initial}" in text


def test_dot_is_a_digraph() -> None:
    text = LINK_ENTITY.dot()
    assert text.startswith('digraph "link entity" {') and text.rstrip().endswith("}")
    assert text.count("->") == len(LINK_ENTITY.transitions) + 1


def test_bad_tables_are_refused() -> None:
    class Go:
        pass

    with pytest.raises(ValueError, match="unknown state 'nowhere'"):
        StateTable("t", ("a",), "a", (Transition("a", Go, "nowhere"),))
    with pytest.raises(ValueError, match="two rows for Go"):
        StateTable("t", ("a", "b"), "a", (Transition("a", Go, "b"), Transition("a", Go, "a")))
    with pytest.raises(ValueError, match="initial state"):
        StateTable("t", ("a",), "z", ())


def test_protocol_error_names_the_sender() -> None:
    error = ProtocolError("link request", "done", "QueueAck", "bob")
    assert str(error) == "link request: QueueAck from bob is not allowed in state 'done'"


def test_the_layers_dispatch_through_their_tables() -> None:
    """The link entity's compiled table is the one built from LINK_ENTITY:
    swapping a handler in the table changes what the entity does."""
    calls: list[str] = []

    def refuse(entity: Any, target: Any, now: int, event: Any) -> None:
        calls.append(type(event).__name__)

    class Quiet(LinkLayer):
        entity_table = LINK_ENTITY.with_handlers({LinkLayer._on_create: refuse}).fast()

    from qstack.conformance.harness import LinkHarness

    harness = LinkHarness(Quiet)
    harness.create("alice", number=1)
    harness.advance(10**9)
    assert calls == ["LinkCreate"]
    assert not harness.obs.oks
