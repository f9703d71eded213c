"""The second edition's keys: request names, faults, reroute, node and link keys, new apps."""

from __future__ import annotations

import math
import tomllib
from typing import Any

import pytest

from qstack.scenario import (
    BUILTIN_APPS,
    DEFAULT_SCENARIO_TOML,
    FaultSpec,
    LinkSpec,
    NodeSpec,
    ScenarioError,
    parse_scenario,
)


def _base() -> dict[str, Any]:
    """The default scenario plus a third node: alice - bob - carol."""
    data = tomllib.loads(DEFAULT_SCENARIO_TOML)
    data["nodes"].append({"name": "carol", "qubits": 4})
    data["links"].append({"a": "bob", "b": "carol", "length_km": 5.0, "model": "double-click"})
    return data


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "t.toml")
    return str(info.value)


def _request(**fields: Any) -> dict[str, Any]:
    return {"app": "pairs", "src": "alice", "dst": "carol", "pairs": 3, **fields}


# --------------------------------------------------------------------------- request names


def test_request_names_default_to_app_and_index() -> None:
    data = _base()
    data["requests"] += [
        _request(app="qkd", name="key-1"),
        _request(app="mypkg.apps:chat"),
    ]
    scenario = parse_scenario(data)
    names = [scenario.request_name(i) for i in range(3)]
    assert names == ["pairs-0", "key-1", "mypkg-apps-chat-2"]
    assert scenario.requests[0].name is None and scenario.requests[1].name == "key-1"


@pytest.mark.parametrize(
    ("requests", "expected"),
    [
        (
            [_request(name="a"), _request(name="a")],
            "requests[2].name = 'a': duplicate request name (also requests[1])",
        ),
        (
            [_request(name="pairs-2"), _request()],
            "requests[1].name = 'pairs-2': clashes with the default name of requests[2]",
        ),
        ([_request(name="Big")], "requests[1].name = 'Big': must be lower-case letters"),
    ],
)
def test_request_names_are_unique_and_well_formed(
    requests: list[dict[str, Any]], expected: str
) -> None:
    data = _base()
    data["requests"] += requests
    assert expected in _error(data)


# --------------------------------------------------------------------------- faults


def _faults(*faults: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = _base()
    data["faults"] = list(faults)
    data.update(extra)
    return data


def test_a_fault_schedule_loads_in_order() -> None:
    scenario = parse_scenario(
        _faults(
            {"at_s": 0.5, "kind": "node_up", "node": "bob"},
            {"at_s": 0.2, "kind": "node_down", "node": "bob"},
            {"at_s": 0.3, "kind": "link_down", "a": "carol", "b": "bob"},
            {"at_s": 0.3, "kind": "link_up", "a": "bob", "b": "carol"},
            {"at_s": 0.0, "kind": "classical_loss", "a": "alice", "b": "bob", "probability": 0.1},
        )
    )
    order = [(f.at_s, f.kind) for f in scenario.faults_in_order()]
    assert order == [
        (0.0, "classical_loss"),
        (0.2, "node_down"),
        (0.3, "link_down"),
        (0.3, "link_up"),
        (0.5, "node_up"),
    ]
    assert scenario.faults[2].target() == "link 'carol'-'bob'"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            {"at_s": 1.0, "kind": "node_down"},
            "faults[0].node: missing (required when kind = 'node_down')",
        ),
        (
            {"at_s": 1.0, "kind": "link_up", "a": "alice", "b": "bob", "node": "bob"},
            "faults[0].node = 'bob': only allowed when kind = 'node_down' or 'node_up'",
        ),
        (
            {"at_s": 1.0, "kind": "link_down", "a": "alice", "b": "bob", "probability": 0.5},
            "faults[0].probability = 0.5: only allowed when kind = 'classical_loss'",
        ),
        (
            {"at_s": 1.0, "kind": "classical_loss", "a": "alice", "b": "bob"},
            "faults[0].probability: missing (required when kind = 'classical_loss')",
        ),
        (
            {"at_s": 1.0, "kind": "classical_loss", "a": "alice", "b": "bob", "probability": 1.5},
            "faults[0].probability = 1.5: must be <= 1",
        ),
        ({"at_s": 1.0, "kind": "fire", "node": "bob"}, "faults[0].kind = 'fire': must be one of"),
        ({"at_s": -1.0, "kind": "node_down", "node": "bob"}, "faults[0].at_s = -1.0: must be >= 0"),
        (
            {"at_s": 10.0, "kind": "node_down", "node": "bob"},
            "faults[0].at_s = 10.0: must be < run.until_s = 10.0",
        ),
        (
            {"at_s": 1.0, "kind": "node_down", "node": "dave"},
            "faults[0].node = 'dave': unknown node; nodes are 'alice', 'bob', 'carol'",
        ),
        (
            {"at_s": 1.0, "kind": "link_down", "a": "alice", "b": "carol"},
            "faults[0].b = 'carol': no link joins 'alice' and 'carol'",
        ),
        (
            {"at_s": 1.0, "kind": "link_down", "a": "bob", "b": "bob"},
            "faults[0].b = 'bob': must differ from a",
        ),
        (
            {"at_s": 1.0, "kind": "node_up", "node": "bob"},
            "faults[0].kind = 'node_up': node 'bob' is not down then (no earlier node_down)",
        ),
    ],
)
def test_fault_errors(fault: dict[str, Any], expected: str) -> None:
    assert expected in _error(_faults(fault))


def test_a_node_cannot_go_down_twice_and_file_order_breaks_ties() -> None:
    twice = _faults(
        {"at_s": 0.2, "kind": "link_down", "a": "alice", "b": "bob"},
        {"at_s": 0.2, "kind": "link_down", "a": "bob", "b": "alice"},
    )
    assert (
        "faults[1].kind = 'link_down': link 'bob'-'alice' is already down then "
        "(faults[0] at 0.2 s); bring it up first"
    ) in _error(twice)
    up_first = _faults(
        {"at_s": 0.2, "kind": "node_up", "node": "bob"},
        {"at_s": 0.2, "kind": "node_down", "node": "bob"},
    )
    assert "faults[0].kind = 'node_up'" in _error(up_first)


def test_fault_fields_are_documented_on_the_model() -> None:
    assert set(FaultSpec.model_fields) == {"at_s", "kind", "node", "a", "b", "probability"}


# --------------------------------------------------------------------------- reroute


@pytest.mark.parametrize(
    ("network", "override", "expected"),
    [
        ({}, None, False),
        ({"reroute": True}, None, True),
        ({"reroute": True}, False, False),
        ({}, True, True),
    ],
)
def test_reroute_merges_like_the_other_options(
    network: dict[str, Any], override: bool | None, expected: bool
) -> None:
    data = _base()
    data["network"] = network
    if override is not None:
        data["requests"][0]["reroute"] = override
    assert parse_scenario(data).network_options(0).reroute is expected


def test_reroute_is_a_boolean() -> None:
    data = _base()
    data["network"] = {"reroute": "yes"}
    assert "network.reroute = 'yes': must be true or false" in _error(data)


def test_purification_names_are_plug_in_names() -> None:
    """Any well-formed name loads (schemes are plug-ins: the run's registry
    judges it, see tests/api); a malformed one does not."""
    data = _base()
    data["network"] = {"purification": "my-scheme"}
    assert parse_scenario(data, "t").network.purification == "my-scheme"
    data["network"] = {"purification": "My Scheme!"}
    assert "network.purification = 'My Scheme!'" in _error(data)


# --------------------------------------------------------------------------- node and link keys


def test_node_keys_defaults_and_ranges() -> None:
    node = NodeSpec(name="a", qubits=1)
    assert (node.swap_success_probability, node.gate_error, node.measurement_error) == (1, 0, 0)
    data = _base()
    data["nodes"][0].update(swap_success_probability=0, gate_error=1.5, measurement_error=0.6)
    message = _error(data)
    assert "nodes[0].swap_success_probability = 0: must be > 0" in message
    assert "nodes[0].gate_error = 1.5: must be <= 1" in message
    assert "nodes[0].measurement_error = 0.6: must be <= 0.5" in message


def test_station_position() -> None:
    link = LinkSpec(a="a", b="b", length_km=30.0, model="double-click")
    assert link.station_position_km == 15.0
    placed = LinkSpec(a="a", b="b", length_km=30.0, model="double-click", station_km=30.0)
    assert placed.station_position_km == 30.0
    data = _base()
    data["links"][0]["station_km"] = 20.5
    assert "links[0].station_km = 20.5: must be <= length_km = 20.0" in _error(data)
    data["links"][0] = {**data["links"][0], "model": "abstract", "station_km": 1.0}
    assert "links[0].station_km = 1.0: not allowed when model = 'abstract'" in _error(data)


def test_dark_count_rate_gives_a_probability_per_window() -> None:
    """P(at least one dark count in W) = 1 - exp(-R W) for Poisson counts at rate R."""
    link = LinkSpec(
        a="a",
        b="b",
        length_km=1.0,
        model="double-click",
        dark_count_rate_hz=100.0,
        detection_window_s=1e-6,
    )
    assert link.dark_count_per_window == pytest.approx(-math.expm1(-1e-4), rel=1e-15)
    assert "dark_count_probability" not in link.model_dump()
    assert LinkSpec.model_validate(link.model_dump()) == link


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"dark_count_rate_hz": 10.0}, "links[0].detection_window_s: missing (required when"),
        ({"detection_window_s": 1e-9}, "links[0].dark_count_rate_hz: missing (required when"),
        (
            {"dark_count_rate_hz": 10.0, "detection_window_s": 1e-9, "dark_count_probability": 0.0},
            "links[0].dark_count_probability = 0.0: not allowed together with dark_count_rate_hz",
        ),
        (
            {"dark_count_rate_hz": 1e9, "detection_window_s": 1.0},
            "every window would see a dark count",
        ),
        ({"dark_count_rate_hz": 1e10, "detection_window_s": 1e-9}, "must be <= 1000000000"),
        ({"dark_count_rate_hz": 1.0, "detection_window_s": 2.0}, "must be <= 1"),
    ],
)
def test_dark_count_rate_errors(fields: dict[str, Any], expected: str) -> None:
    data = _base()
    data["links"][0].update(fields)
    assert expected in _error(data)


# --------------------------------------------------------------------------- apps


@pytest.mark.parametrize("app", [a for a in BUILTIN_APPS if a not in ("ghz", "sensing", "bb84")])
def test_built_in_apps_load(app: str) -> None:
    data = _base()
    data["requests"] = [_request(app=app)]
    assert parse_scenario(data).requests[0].app == app


def test_any_well_formed_app_name_loads_with_its_options() -> None:
    data = _base()
    data["requests"] = [_request(app="mypkg.apps:chat", options={"rounds": 3, "mode": {"x": [1]}})]
    assert parse_scenario(data).requests[0].options == {"rounds": 3, "mode": {"x": [1]}}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (_request(app="qkd", options={}), "requests[0].options = {}: only for plug-in apps"),
        (
            _request(app="mine", states="haar"),
            "requests[0].states = 'haar': only for app = 'teleport'",
        ),
        (
            _request(app="mine", qber_threshold=0.1),
            "requests[0].qber_threshold = 0.1: only for app = 'qkd' (this request has app = 'mine",
        ),
        (_request(app="my app"), "requests[0].app = 'my app': must be a name of lower-case"),
        (_request(app="mine", options={"k": "v" * 5000}), "a string of 5000 characters"),
        (_request(app="mine", options={"k": list(range(1001))}), "1001 entries (at most 1000)"),
    ],
)
def test_app_field_errors(entry: dict[str, Any], expected: str) -> None:
    data = _base()
    data["requests"] = [entry]
    assert expected in _error(data)


def test_ghz_members() -> None:
    data = _base()
    data["requests"] = [_request(app="ghz", members=["alice", "bob", "carol"])]
    assert parse_scenario(data).requests[0].members == ["alice", "bob", "carol"]


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        (None, "requests[0].members: missing (required when app = 'ghz'"),
        (["alice", "carol"], "requests[0].members: must have at least 3 entries (2 given)"),
        ([f"m{i}" for i in range(10)], "must have at most 9 entries (10 given)"),
        (["alice", "carol", "alice"], "requests[0].members[2] = 'alice': listed twice"),
        (["alice", "carol", "dave"], "requests[0].members[2] = 'dave': unknown node"),
    ],
)
def test_ghz_member_errors(members: list[str] | None, expected: str) -> None:
    data = _base()
    data["requests"] = [_request(app="ghz", members=members)]
    assert expected in _error(data)


def test_ghz_members_must_be_connected() -> None:
    data = _base()
    data["nodes"].append({"name": "eve", "qubits": 2})
    data["requests"] = [_request(app="ghz", members=["alice", "carol", "eve"])]
    assert "requests[0].members[2] = 'eve': not connected to 'alice'" in _error(data)


def test_ghz_src_and_dst_are_members() -> None:
    data = _base()
    data["nodes"].append({"name": "dave", "qubits": 2})
    data["links"].append({"a": "carol", "b": "dave", "length_km": 1.0, "model": "double-click"})
    data["requests"] = [_request(app="ghz", members=["bob", "carol", "dave"])]
    assert "requests[0].src = 'alice': must be one of the members (bob, carol, dave)" in _error(
        data
    )


def test_bb84_runs_between_neighbours() -> None:
    data = _base()
    data["requests"] = [_request(app="bb84", dst="bob")]
    parse_scenario(data)
    data["requests"] = [_request(app="bb84")]
    assert (
        "requests[0].dst = 'carol': app 'bb84' runs between two neighbours: no link joins "
        "'alice' and 'carol'"
    ) in _error(data)
