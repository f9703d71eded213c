"""Hostile input: bounds, links that can never herald, nesting, huge integers, long messages."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from qstack import topology
from qstack.network import Network
from qstack.physics.heralding import SingleClickHerald, choose_alpha
from qstack.runner import run_network
from qstack.scenario import (
    DEFAULT_SCENARIO_TOML,
    RunSettings,
    ScenarioError,
    load_scenario,
    loading,
    parse_scenario,
)
from qstack.scenario.entries import SMALLEST_SEARCHED_ALPHA
from qstack.scenario.errors import MAX_LINE_LENGTH, MAX_PROBLEMS_SHOWN, show


def _base() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_SCENARIO_TOML)


def _error(data: dict[str, Any]) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "t.toml")
    return info.value


# (section, field, largest or smallest allowed value, the next one out, the message)
BOUNDS: list[tuple[str, str, object, object, str]] = [
    ("requests", "name", "a" * 64, "a" * 65, "must be at most 64 characters (65 given)"),
    ("nodes", "qubits", 10**6, 10**6 + 1, "must be <= 1000000"),
    ("nodes", "memory_t_s", 1e12, 1.1e12, "must be <= 1000000000000"),
    ("links", "length_km", 100.0, 1e5 + 1, "must be <= 100000"),
    ("links", "attenuation_db_per_km", 1.0, 1000.5, "must be <= 1000"),
    ("links", "fiber_speed_km_per_s", 299_792.458, 3e5, "must be <= 299792.458"),
    ("links", "fiber_speed_km_per_s", 1.0, 0.5, "must be >= 1"),
    ("links", "attempt_prep_s", 1e9, 1.5e9, "must be <= 1000000000"),
    ("requests", "pairs", 10**9, 10**9 + 1, "must be <= 1000000000"),
    ("requests", "priority", 2**31 - 1, 2**31, "must be <= 2147483647"),
    ("requests", "purpose_id", 2**31 - 1, 2**31, "must be <= 2147483647"),
    ("requests", "max_time_s", 1e-12, 1e-13, "must be at least 1e-12 s"),
    ("requests", "start_s", 1e9, 2e9, "must be <= 1000000000"),
    ("requests", "cutoff_s", 1e9, 1e10, "must be <= 1000000000"),
    ("requests", "purification_rounds", 0, 11, "must be <= 10"),
    ("requests", "routing", "r" * 64, "r" * 65, "must be at most 64 characters"),
    ("requests", "app", "a" * 64, "a" * 65, "must be at most 64 characters"),
]


@pytest.mark.parametrize(("section", "field", "ok", "bad", "expected"), BOUNDS)
def test_every_bound_holds_at_its_edge(
    section: str, field: str, ok: object, bad: object, expected: str
) -> None:
    data = _base()
    data[section][0][field] = ok
    parse_scenario(data)
    data[section][0][field] = bad
    assert expected in str(_error(data))


@pytest.mark.parametrize(
    ("key", "ok", "bad", "expected"),
    [
        ("seed", 2**63 - 1, 2**63, "seed = 9223372036854775808: must be <= 9223372036854775807"),
        ("run", {"until_s": 1e9}, {"until_s": 1.01e9}, "run.until_s = 1010000000.0: must be <="),
        ("run", {"until_s": 1e-12}, {"until_s": 1e-300}, "one tick of the picosecond clock"),
    ],
)
def test_top_level_bounds(key: str, ok: object, bad: object, expected: str) -> None:
    data = _base()
    data[key] = ok
    parse_scenario(data)
    data[key] = bad
    assert expected in str(_error(data))


def test_node_names_are_bounded() -> None:
    data = _base()
    name = "n" * 64
    data["nodes"][0]["name"] = data["links"][0]["a"] = data["requests"][0]["src"] = name
    parse_scenario(data)
    data["nodes"][0]["name"] += "x"
    assert "nodes[0].name = 'nnnn" in str(_error(data))
    assert "must be at most 64 characters (65 given)" in str(_error(data))


def test_attenuation_at_its_bound_on_a_short_link() -> None:
    parse_scenario(_link(attenuation_db_per_km=1000.0, length_km=0.01))


def test_total_qubits_are_bounded() -> None:
    data = _base()
    data["nodes"] = [{"name": f"n{i}", "qubits": 10**6} for i in range(11)]
    data["links"] = [{"a": "n0", "b": "n1", "length_km": 1.0, "model": "double-click"}]
    data["requests"] = [{"app": "pairs", "src": "n0", "dst": "n1", "pairs": 1}]
    assert "the nodes hold 11000000 qubits together; at most 10000000" in str(_error(data))


def test_generated_names_and_prefix_are_bounded() -> None:
    data = _base()
    del data["nodes"], data["links"]
    data["topology"] = {
        "kind": "chain",
        "nodes": 2,
        "spacing_km": 1.0,
        "prefix": "p" * 33,
        "node": {"qubits": 2},
        "link": {"model": "double-click"},
    }
    assert "topology.prefix" in str(_error(data))


# --------------------------------------------------------------------------- heralding


def _link(**fields: object) -> dict[str, Any]:
    data = _base()
    data["links"][0].update(fields)
    return data


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"length_km": 1e5}, "the double-click link alice-bob can never herald"),
        ({"detector_efficiency": 1e-300}, "the double-click link alice-bob can never herald"),
        (
            {"model": "single-click", "emission_efficiency": 1e-300, "bright_state_alpha": 1e-30},
            "the single-click link alice-bob can never herald",
        ),
        (
            {"model": "single-click", "detector_efficiency": 1e-280},
            "at alpha = 1e-50 (the smallest it may choose)",
        ),
    ],
)
def test_links_that_can_never_herald_are_refused_naming_the_link(
    fields: dict[str, object], expected: str
) -> None:
    message = str(_error(_link(**fields)))
    assert message.startswith("t.toml: links[0]: ")
    assert expected in message and "success probability per attempt 0" in message


def test_dark_counts_alone_still_herald() -> None:
    """With d > 0 a double-click attempt can succeed on dark counts: not refused."""
    parse_scenario(_link(length_km=1e5, dark_count_probability=1e-3))


def test_a_tiny_but_nonzero_probability_is_accepted_and_runs() -> None:
    """1e-200 per attempt: nothing is delivered, but the run is honest, not refused."""
    scenario = parse_scenario(_link(detector_efficiency=1e-100))
    report = run_network(Network(scenario.model_copy(update={"run": RunSettings(until_s=1e-3)})))
    assert report.requests[0].delivered == 0


def test_the_smallest_searched_alpha_covers_what_the_choice_tries() -> None:
    """choose_alpha never evaluates an alpha below the floor the loader checks at.

    Its golden-section search starts on (0, 0.5] and shrinks the bracket by the
    golden ratio 200 times: the smallest point it can reach is
    0.5 * 0.382 * 0.618^199 ~ 1e-42 > 1e-50. Checked by recording every alpha it
    builds a model for, on a link whose fidelity peaks at alpha -> 0.
    """
    tried: list[float] = []

    def delivered(state: Any, index: int) -> float:
        del index
        return float(state.p1)

    original = SingleClickHerald.__init__

    def spy(self: SingleClickHerald, alpha: float, *args: Any, **kwargs: Any) -> None:
        tried.append(alpha)
        original(self, alpha, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SingleClickHerald, "__init__", spy)
        choose_alpha(1e-3, 0.0, 0.999999, delivered)
    assert tried and min(tried) > SMALLEST_SEARCHED_ALPHA


def test_a_single_click_link_just_above_the_floor_runs_with_a_fidelity_target() -> None:
    """eta = 1e-270 heralds at every alpha the choice can try: loads and runs, no exception."""
    data = _link(model="single-click", detector_efficiency=1e-270)
    data["requests"][0]["min_fidelity"] = 0.9
    scenario = parse_scenario(data)
    short = scenario.model_copy(update={"run": RunSettings(until_s=1e-3)})
    assert run_network(Network(short)).requests[0].delivered == 0


# --------------------------------------------------------------------------- documents


def _load_error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


def _deep_json(depth: int) -> str:
    return '{"seed": 1, "x": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [17, 100_000])
def test_nesting_too_deep_is_a_clear_error_in_json(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text(_deep_json(depth))
    message = str(_load_error(path))
    assert "nested too deeply" in message and message.count("\n") == 0


@pytest.mark.parametrize("depth", [17, 100_000])
def test_nesting_too_deep_is_a_clear_error_in_toml(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * depth + "]" * depth + "\n")
    assert "nested too deeply" in str(_load_error(path))


def test_files_are_read_up_to_a_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "MAX_FILE_BYTES", 64)
    monkeypatch.setattr(topology, "MAX_GRAPH_FILE_BYTES", 64)
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * 63)
    assert "larger than 0 MiB" in str(_load_error(path))
    (tmp_path / "g.json").write_text('{"nodes": [], "edges": []}' + " " * 64)
    with pytest.raises(topology.TopologyError, match="larger than 0 MiB"):
        topology.read_graph_file(tmp_path / "g.json")


def test_nesting_from_code_is_caught_too() -> None:
    data: dict[str, Any] = _base()
    inner: dict[str, Any] = data
    for _ in range(20):
        inner["k"] = {}
        inner = inner["k"]
    assert "k.k.k" in str(_error(data)) and "nested too deeply" in str(_error(data))


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_integers_over_4300_digits_are_a_clear_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"huge{suffix}"
    digits = "9" * 5000
    path.write_text(f"seed = {digits}\n" if suffix == ".toml" else f'{{"seed": {digits}}}')
    message = str(_load_error(path))
    assert "more than 4300 digits" in message


def test_huge_integers_from_code_are_shown_by_their_size() -> None:
    data = _base()
    data["seed"] = 10**5000
    assert "seed = <an integer of about 5001 digits>: must be <=" in str(_error(data))


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("deep.json", '{"nodes": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
        ("huge.json", '{"nodes": [{"id": ' + "7" * 5000 + "}], " + '"edges": []}', "4300 digits"),
        ("deep.gml", "graph [ a " + "[ a " * 5000 + "]" * 5001, "nested too deeply"),
    ],
)
def test_hostile_graph_files_are_clear_errors(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    (tmp_path / name).write_text(text)
    data = _base()
    del data["nodes"], data["links"]
    data["topology"] = {"kind": "file", "path": name}
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "t.toml", tmp_path)
    assert expected in str(info.value) and "topology.path" in str(info.value)


def test_graph_file_attributes_nested_too_deeply(tmp_path: Path) -> None:
    graph = {"nodes": [{"id": "a", "x": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}, {"id": "b"}]}
    graph["edges"] = [{"source": "a", "target": "b", "length_km": 1}]
    (tmp_path / "g.json").write_text(json.dumps(graph))
    data = _base()
    del data["nodes"], data["links"]
    data["requests"][0].update(src="a", dst="b")
    data["topology"] = {"kind": "file", "path": "g.json", "node": {"qubits": 2}}
    data["topology"]["link"] = {"model": "double-click"}
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "t.toml", tmp_path)
    assert "topology (g.json node 'a').x" in str(info.value)
    assert "nested too deeply" in str(info.value)


# --------------------------------------------------------------------------- messages


def test_error_lines_are_cut_to_a_readable_length() -> None:
    data = _base()
    data["requests"][0]["app"] = "chat" * 100_000
    err = _error(data)
    assert len(str(err)) <= MAX_LINE_LENGTH
    assert "requests[0].app = 'chatchat" in str(err)


def test_the_number_of_problem_lines_is_bounded() -> None:
    data = _base()
    data["nodes"] = [{"name": f"n{i}", "qubits": -1} for i in range(500)]
    err = _error(data)
    lines = str(err).splitlines()
    assert lines[0] == "t.toml: 500 problems:"
    assert len(lines) == 1 + MAX_PROBLEMS_SHOWN + 1
    assert lines[-1] == f"t.toml: ... and {500 - MAX_PROBLEMS_SHOWN} more problems not shown"


def test_odd_keys_are_quoted_so_a_message_stays_one_line() -> None:
    data = _base()
    data["links"][0]["bad\nkey\x1b[31m"] = 1
    message = str(_error(data))
    assert "\n" not in message and "\x1b" not in message
    assert "links[0]['bad\\nkey\\x1b[31m']: unknown field" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-3.0, "-3.0"),
        (
            "x" * 1000,
            "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'",
        ),
        (10**400, "<an integer of about 401 digits>"),
        (math.nan, "nan"),
    ],
)
def test_values_are_shown_bounded(value: object, expected: str) -> None:
    assert show(value) == expected


def test_deeply_nested_values_are_shown_without_recursion() -> None:
    value: object = 1
    for _ in range(100_000):
        value = [value]
    assert show(value) == "[[[[...]]]]"
