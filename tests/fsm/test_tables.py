"""Both compiled forms of every lifecycle table behave identically, and every
(state, input) pair is either a declared transition or a clean ProtocolError."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qstack.fsm import ProtocolError, StateTable, Transition, fire
from qstack.layers.link.egp import LINK_ENTITY, PAIR_LIFECYCLE, REQUEST_LIFECYCLE
from qstack.layers.network.qnp import CIRCUIT_LIFECYCLE, NETWORK_ENTITY

TABLES = [LINK_ENTITY, REQUEST_LIFECYCLE, PAIR_LIFECYCLE, NETWORK_ENTITY, CIRCUIT_LIFECYCLE]


class Unrelated:
    """An input no table mentions."""


class _Model:
    state: str


def _run_fast(table: StateTable, inputs: list[type]) -> list[str]:
    fast = table.fast()
    state = table.initial
    trace = []
    for trigger in inputs:
        try:
            state = fast.step(state, trigger)
            trace.append(state)
        except ProtocolError as error:
            assert error.state == state and error.trigger == trigger.__name__
            trace.append(f"refused {trigger.__name__} in {state}")
    return trace


def _run_machine(table: StateTable, inputs: list[type]) -> list[str]:
    model = _Model()
    table.machine(model)
    trace = []
    for trigger in inputs:
        before = model.state
        try:
            fire(model, table.name, trigger)
            trace.append(model.state)
        except ProtocolError as error:
            assert model.state == before == error.state
            trace.append(f"refused {trigger.__name__} in {before}")
    return trace


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_machine_and_fast_table_agree(table: StateTable, data: st.DataObject) -> None:
    inputs = data.draw(st.lists(st.sampled_from([*table.triggers, Unrelated]), max_size=30))
    assert _run_fast(table, inputs) == _run_machine(table, inputs)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_state_input_pair(table: StateTable) -> None:
    for state in table.states:
        for trigger in [*table.triggers, Unrelated]:
            expected = table.next_state(state, trigger)
            model = _Model()
            table.machine(model)
            model.state = state
            fast = table.fast()
            if expected is None:
                with pytest.raises(ProtocolError, match=trigger.__name__):
                    fast.step(state, trigger)
                with pytest.raises(ProtocolError, match=re.escape(repr(state))):
                    fire(model, table.name, trigger)
            else:
                assert fast.step(state, trigger) == expected
                fire(model, table.name, trigger)
                assert model.state == expected


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_final_states_have_no_way_out(table: StateTable) -> None:
    for row in table.transitions:
        assert row.source not in table.final, row


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_mermaid_lists_every_row(table: StateTable) -> None:
    text = table.mermaid()
    lines = text.strip().splitlines()
    assert lines[0] == "stateDiagram-v2"
    edge = re.compile(r"^    (\[\*\]|\w+) --> (\[\*\]|\w+)(: .+)?$")
    assert all(edge.match(line) for line in lines[1:]), text
    for row in table.transitions:
        assert f"    {row.source} --> {row.dest}: {row.trigger_name}" in text
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
