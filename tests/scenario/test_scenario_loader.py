"""Scenario loader: good files load, bad files fail with one clear line per problem."""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from qstack.scenario import (
    ABSTRACT_FIELDS,
    DEFAULT_SCENARIO_TOML,
    PHYSICAL_FIELDS,
    FaultSpec,
    LinkSpec,
    NetworkOptions,
    NetworkSettings,
    NodeSpec,
    RequestSpec,
    RunSettings,
    Scenario,
    ScenarioError,
    StackSettings,
    TopologySpec,
    default_scenario,
    load_scenario,
    parse_scenario,
)

HERE = Path(__file__).parent
BAD = HERE / "bad"
GOOD = HERE / "good"
REPO = HERE.parent.parent

# Each malformed file and the substrings its message must contain: the field
# path, the value given, and what is allowed.
BAD_CASES: dict[str, list[str]] = {
    "unknown_node_in_request.toml": [
        "requests[0].dst = 'bonn'",
        "unknown node",
        "nodes are 'aachen', 'juelich'",
    ],
    "unknown_node_in_link.toml": [
        "links[0].b = 'julich'",
        "unknown node",
        "nodes are 'aachen', 'juelich'",
        "did you mean 'juelich'",
    ],
    "negative_length.toml": ["links[0].length_km = -3.0: must be >= 0"],
    "fidelity_above_one.toml": ["links[0].fidelity = 1.2", "must be <= 1", "0.25 <= fidelity <= 1"],
    "unknown_model.toml": [
        "links[0].model = 'dbl': must be one of 'abstract', 'single-click', 'double-click'"
    ],
    "link_model_typo.toml": [
        "links[0].model = 'double_click'",
        "must be one of",
        "did you mean 'double-click'",
    ],
    "missing_qubits.toml": ["nodes[0].qubits: missing (required)"],
    "qubits_wrong_type.toml": [
        "nodes[0].qubits = 'four': must be an integer",
        "1 <= qubits <= 1000000",
    ],
    "wrong_type_bool.json": ["nodes[0].qubits = True: must be an integer", "not true/false"],
    "duplicate_node.toml": ["nodes[2].name = 'aachen': duplicate node name", "nodes[0]"],
    "zero_qubits.toml": ["nodes[0].qubits = 0: must be >= 1"],
    "duplicate_link.toml": [
        "links[1].b = 'aachen'",
        "duplicate link",
        "links[0] already joins 'aachen' and 'juelich'",
        "at most one link per pair of nodes",
    ],
    "self_link.toml": ["links[0].b = 'aachen'", "must differ from a ('aachen')"],
    "abstract_missing_success_probability.toml": [
        "links[0].success_probability: missing (required when model = 'abstract')"
    ],
    "physical_field_on_abstract.toml": [
        "links[0].detector_efficiency = 0.8",
        "not allowed when model = 'abstract'",
        "'success_probability', 'attempt_duration_s', 'fidelity'",
    ],
    "abstract_field_on_physical.toml": [
        "links[0].success_probability = 0.1",
        "only allowed when model = 'abstract'",
    ],
    "alpha_on_double_click.toml": [
        "links[0].bright_state_alpha = 0.1",
        "only allowed when model = 'single-click'",
    ],
    "t2_above_twice_t1.toml": ["nodes[0].t2_s = 3.0", "must be <= 2 * t1_s = 2.0"],
    "t1_without_t2.toml": ["nodes[0].t2_s: missing", "give both or neither"],
    "memory_t_with_t1.toml": [
        "nodes[0].memory_t_s = 1.0",
        "not allowed together with t1_s and t2_s",
    ],
    "memory_t_with_unit.toml": ["nodes[0].memory_t_s = '1s'", "> 0, or 'inf'"],
    "unknown_top_level_key.toml": ["sed: unknown field", "did you mean 'seed'"],
    "unknown_link_field.json": ["links[0].colour: unknown field", "allowed: a, b, length_km"],
    "toml_syntax_error.toml": ["TOML syntax error", "line 5, column 8", "Expected '='"],
    "json_syntax_error.json": ["JSON syntax error", "line 5, column 3"],
    "json_duplicate_key.json": ["duplicate key 'qubits'"],
    "json_top_level_array.json": ["top level must be a table", "not list"],
    "bad_node_name.toml": ["nodes[0].name = 'Aachen'", "[a-z0-9_-]+"],
    "bad_app_name.toml": [
        "requests[0].app = 'Chat Bot'",
        "must be a name of lower-case letters, digits",
    ],
    "nodes_as_table.toml": ["nodes = {", "must be a list", "[[nodes]]"],
    "too_few_nodes.toml": ["nodes: must have at least 2 entries (1 given)"],
    "min_fidelity_percent.toml": [
        "requests[0].min_fidelity = 90: must be <= 1",
        "0 < min_fidelity <= 1",
    ],
    "empty.toml": [
        "3 problems",
        "nodes: missing (required)",
        "links: missing (required)",
        "requests: missing (required)",
    ],
    "several_problems.toml": [
        "3 problems",
        "links[0].length_km = -1: must be >= 0",
        "links[0].detector_efficiency = 1.5: must be <= 1",
        "requests[0].pairs = 0: must be >= 1",
    ],
    # [topology], [network] and per-request network options
    "topology_unknown_kind.toml": [
        "topology.kind = 'mesh'",
        "must be one of 'chain', 'ring', 'grid', 'waxman', 'file'",
    ],
    "topology_chain_one_node.toml": ["topology.nodes = 1: must be >= 2 for kind = 'chain'"],
    "topology_grid_without_cols.toml": ["topology.cols: missing (required when kind = 'grid')"],
    "topology_negative_spacing.toml": ["topology.spacing_km = -5.0: must be >= 0"],
    "topology_waxman_alpha_zero.toml": ["topology.alpha = 0: must be > 0", "0 < alpha <= 1"],
    "topology_field_of_other_kind.toml": [
        "topology.rows = 3: only allowed when kind = 'grid' (this topology is 'chain')"
    ],
    "topology_link_defaults_bad.toml": [
        "topology.link.detector_efficiency = 1.5: must be <= 1",
        "0 < detector_efficiency <= 1",
    ],
    "topology_missing_graph_file.toml": [
        "topology.path = 'graphs/nowhere.gml': no such file",
        "nowhere.gml",
    ],
    "topology_edge_without_length.toml": [
        "topology (graphs/no_length.gml edge a-b).length_km: missing",
        "required on every edge of a graph file",
    ],
    "topology_bad_node_name_in_file.toml": [
        "topology (graphs/bad_name.json node 'Aachen').name = 'Aachen'",
        "pattern [a-z0-9_-]+",
    ],
    "topology_graph_syntax_error.toml": [
        "topology.path = 'graphs/syntax.gml': GML error",
        "(3, 25)",
    ],
    "topology_name_clash.toml": [
        "nodes[0].name = 'n1': name clash",
        "[topology] also generates a node 'n1'",
        "topology.prefix",
    ],
    "request_not_connected.toml": [
        "requests[0].dst = 'n7': not connected to 'n0' (no path of links)"
    ],
    "network_unknown_key.toml": ["network.routng: unknown field", "did you mean 'routing'"],
    "network_rounds_without_purification.toml": [
        "network.purification_rounds = 2",
        "only allowed when purification is not 'none'",
    ],
    "network_negative_cutoff.toml": ["network.cutoff_s = -0.01: must be > 0"],
    "request_bad_routing_name.toml": [
        "requests[0].routing = 'Shortest Hops'",
        "pattern [a-z0-9_.:-]+",
    ],
}


def _load_error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


def test_every_bad_file_has_a_case() -> None:
    """A fixture without expectations would be silently untested."""
    on_disk = {p.name for p in BAD.iterdir() if p.is_file()}
    assert on_disk == set(BAD_CASES)
    assert len(on_disk) >= 16


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_file_message(name: str) -> None:
    """The message names the file, the field, the value and what is allowed."""
    message = str(_load_error(BAD / name))
    assert message.startswith(str(BAD / name) + ": ")
    for part in BAD_CASES[name]:
        assert part in message, f"{part!r} not in:\n{message}"


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_file_message_shape(name: str) -> None:
    """One line per problem, a count line first when there are several, no Pydantic noise."""
    err = _load_error(BAD / name)
    message = str(err)
    lines = message.splitlines()
    source = str(BAD / name)
    assert all(line.startswith(f"{source}: ") for line in lines)
    if len(lines) > 1:
        assert lines[0] == f"{source}: {len(lines) - 1} problems:"
        assert list(err.problems) == lines[1:]
    else:
        assert err.problems == (message,)
    lowered = message.lower()
    for noise in ("pydantic", "for further information", "http", "traceback", "input should"):
        assert noise not in lowered, message


def test_missing_file() -> None:
    err = _load_error(HERE / "no_such_file.toml")
    assert str(err) == f"{HERE / 'no_such_file.toml'}: no such file"


def test_directory_is_not_a_file() -> None:
    assert "is a directory" in str(_load_error(BAD))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "k\xf6ln"\n'.encode("latin-1"))
    assert "not UTF-8" in str(_load_error(path))


def test_parse_scenario_rejects_non_mapping() -> None:
    with pytest.raises(ScenarioError, match="top level must be a table"):
        parse_scenario([1, 2], "x.json")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- good files


def test_toml_and_json_forms_are_equal() -> None:
    toml = load_scenario(GOOD / "three_nodes.toml")
    json_ = load_scenario(str(GOOD / "three_nodes.json"))
    assert toml == json_


def test_three_nodes_values() -> None:
    sc = load_scenario(GOOD / "three_nodes.toml")
    assert sc.seed == 7
    assert sc.run.until_s == 10.0
    assert [n.name for n in sc.nodes] == ["aachen", "juelich", "bonn"]
    assert sc.nodes[0].memory_t_s == 1.0
    assert sc.nodes[1].t1_s == 2.0 and sc.nodes[1].t2_s == 0.5
    assert sc.nodes[1].memory_t_s is None
    assert sc.nodes[2].memory_t_s is None  # "inf": a perfect memory
    assert sc.links[1].length_km == 60.0 and isinstance(sc.links[1].length_km, float)
    assert sc.links[1].bright_state_alpha == 0.1
    req = sc.requests[0]
    assert (req.min_fidelity, req.max_time_s, req.start_s) == (0.8, 5.0, 0.5)
    assert (req.type, req.priority, req.purpose_id) == ("measure", 1, 3)
    assert sc.requests[1].type == "keep"


def test_defaults() -> None:
    sc = load_scenario(GOOD / "minimal.json")
    assert sc.seed == 0
    assert sc.run == RunSettings(until_s=10.0)
    link = sc.links[0]
    assert link.attenuation_db_per_km == 0.2
    assert link.detector_efficiency == 0.9
    assert link.emission_efficiency == 1.0
    assert link.dark_count_probability == 0.0
    assert link.bright_state_alpha is None
    assert link.fiber_speed_km_per_s == 2.0e5
    assert link.attempt_prep_s == 1e-6
    assert all(getattr(link, f) is None for f in ABSTRACT_FIELDS)
    req = sc.requests[0]
    assert req.min_fidelity is None and req.max_time_s is None
    assert (req.start_s, req.type, req.priority, req.purpose_id) == (0.0, "keep", 0, 0)


def test_abstract_link() -> None:
    link = load_scenario(GOOD / "abstract.toml").links[0]
    assert (link.success_probability, link.attempt_duration_s, link.fidelity) == (1.0, 1e-3, 0.25)


@pytest.mark.parametrize("name", sorted(p.name for p in GOOD.iterdir()))
def test_dump_loads_again(name: str) -> None:
    """A dumped scenario (e.g. kept with results) is itself a valid scenario."""
    sc = load_scenario(GOOD / name)
    assert parse_scenario(sc.model_dump()) == sc
    assert parse_scenario(tomllib.loads(DEFAULT_SCENARIO_TOML)) == default_scenario()


def test_dump_of_abstract_link_has_no_physical_fields() -> None:
    dumped = load_scenario(GOOD / "abstract.toml").links[0].model_dump()
    assert not set(PHYSICAL_FIELDS) & set(dumped)


def test_json_infinity_is_a_perfect_memory(tmp_path: Path) -> None:
    text = (GOOD / "minimal.json").read_text()
    text = text.replace('"memory_t_s": null', '"memory_t_s": Infinity')
    path = tmp_path / "inf.json"
    path.write_text(text)
    assert load_scenario(path).nodes[1].memory_t_s is None


def test_default_scenario_matches_toml(tmp_path: Path) -> None:
    path = tmp_path / "default.toml"
    path.write_text(DEFAULT_SCENARIO_TOML)
    assert load_scenario(path) == default_scenario()
    sc = default_scenario()
    assert sc.seed == 1 and sc.run.until_s == 10.0
    assert [(n.name, n.qubits, n.memory_t_s) for n in sc.nodes] == [
        ("alice", 10, 1.0),
        ("bob", 10, 1.0),
    ]
    assert [(lk.a, lk.b, lk.length_km, lk.model) for lk in sc.links] == [
        ("alice", "bob", 20.0, "double-click")
    ]
    assert [(r.app, r.src, r.dst, r.pairs) for r in sc.requests] == [
        ("pairs", "alice", "bob", 1000)
    ]


# --------------------------------------------------------------------------- details


def _base() -> dict[str, object]:
    return tomllib.loads(DEFAULT_SCENARIO_TOML)


def _error(data: dict[str, object]) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "t.toml")
    return str(info.value)


@pytest.mark.parametrize(
    ("section", "field", "value", "expected"),
    [
        ("links", "length_km", True, "links[0].length_km = True: must be a number"),
        ("links", "length_km", "30", "links[0].length_km = '30': must be a number"),
        ("links", "length_km", math.nan, "links[0].length_km = nan: must be a finite number"),
        ("nodes", "qubits", 4.0, "nodes[0].qubits = 4.0: must be an integer"),
        ("links", "dark_count_probability", 1.0, "must be < 1"),
        ("links", "detector_efficiency", 0, "must be > 0 (allowed: 0 < detector_efficiency <= 1)"),
        ("links", "fiber_speed_km_per_s", 0, "must be >= 1 (allowed: 1 <= fiber_speed_km_per_s"),
        ("links", "attempt_prep_s", -1e-9, "must be >= 0"),
        ("requests", "type", "store", "must be one of 'keep', 'measure'"),
        ("requests", "priority", -1, "requests[0].priority = -1: must be >= 0"),
        ("requests", "max_time_s", 0, "requests[0].max_time_s = 0: must be > 0"),
        ("requests", "app", 3, "requests[0].app = 3: must be a string"),
        ("nodes", "name", "", "nodes[0].name = ''"),
    ],
)
def test_field_errors(section: str, field: str, value: object, expected: str) -> None:
    data = _base()
    entries = data[section]
    assert isinstance(entries, list)
    entries[0][field] = value
    assert expected in _error(data)


def test_single_click_alpha_range() -> None:
    data = _base()
    data["links"] = [
        {
            "a": "alice",
            "b": "bob",
            "length_km": 1,
            "model": "single-click",
            "bright_state_alpha": 0.6,
        }
    ]
    assert "bright_state_alpha = 0.6: must be <= 0.5 (allowed: 0 < bright_state_alpha <= 0.5)" in (
        _error(data)
    )


def test_src_equals_dst() -> None:
    data = _base()
    data["requests"] = [{"app": "pairs", "src": "bob", "dst": "bob", "pairs": 1}]
    assert "requests[0].dst = 'bob': must differ from src ('bob')" in _error(data)


def test_unknown_node_in_a_large_network_suggests_instead_of_listing() -> None:
    data = _base()
    data["nodes"] = [{"name": f"n{i}", "qubits": 1} for i in range(50)]
    data["links"] = [{"a": "n0", "b": "n1", "length_km": 1, "model": "double-click"}]
    data["requests"] = [{"app": "pairs", "src": "n0", "dst": "n100", "pairs": 1}]
    message = _error(data)
    assert "requests[0].dst = 'n100': unknown node (50 nodes are defined)" in message
    assert "n49" not in message


def test_models_are_frozen() -> None:
    sc = default_scenario()
    with pytest.raises(ValidationError):
        sc.seed = 3


def test_direct_construction_validates_too() -> None:
    """Code that builds scenarios gets the same checks as files do."""
    with pytest.raises(ValidationError):
        Scenario(
            nodes=[NodeSpec(name="a", qubits=1), NodeSpec(name="b", qubits=1)],
            links=[LinkSpec(a="a", b="c", length_km=1, model="double-click")],
            requests=[RequestSpec(app="pairs", src="a", dst="b", pairs=1)],
        )


def test_spec_documents_every_field() -> None:
    """specs/scenario.md must list every accepted field (the contract says so)."""
    spec = (REPO / "specs" / "scenario.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_0-9]+)` \|", spec, flags=re.MULTILINE))
    for model in (
        Scenario,
        RunSettings,
        NodeSpec,
        LinkSpec,
        RequestSpec,
        NetworkSettings,
        NetworkOptions,
        TopologySpec,
        FaultSpec,
        StackSettings,
    ):
        missing = set(model.model_fields) - documented
        assert not missing, f"{model.__name__}: {missing} not in specs/scenario.md"
