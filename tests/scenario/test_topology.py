"""[topology] generators and graph files, the connectivity check, [network] options."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from qstack import topology
from qstack.scenario import (
    NetworkOptions,
    RequestSpec,
    Scenario,
    ScenarioError,
    TopologySpec,
    load_scenario,
    parse_scenario,
)

HERE = Path(__file__).parent
GOOD = HERE / "good"

NODE = {"qubits": 4, "memory_t_s": 1.0}
LINK = {"model": "double-click"}


def _data(topo: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A scenario with only a [topology] and one request n0 -> n1."""
    data: dict[str, Any] = {
        "topology": {"node": dict(NODE), "link": dict(LINK), **topo},
        "requests": [{"app": "pairs", "src": "n0", "dst": "n1", "pairs": 1}],
    }
    data.update(extra)
    return data


def _error(data: dict[str, Any], base_dir: Path | None = None) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "t.toml", base_dir)
    return str(info.value)


# --------------------------------------------------------------------------- generators


def test_chain() -> None:
    t = topology.chain(5, 20.0)
    assert t.nodes == ("n0", "n1", "n2", "n3", "n4")
    assert [(e.a, e.b, e.length_km) for e in t.edges] == [
        ("n0", "n1", 20.0),
        ("n1", "n2", 20.0),
        ("n2", "n3", 20.0),
        ("n3", "n4", 20.0),
    ]
    assert nx.is_connected(t.graph())


def test_ring() -> None:
    t = topology.ring(4, 3.5, prefix="q")
    assert t.nodes == ("q0", "q1", "q2", "q3")
    assert {frozenset((e.a, e.b)) for e in t.edges} == {
        frozenset(p) for p in [("q0", "q1"), ("q1", "q2"), ("q2", "q3"), ("q3", "q0")]
    }
    assert all(e.length_km == 3.5 for e in t.edges)


@pytest.mark.parametrize(("rows", "cols"), [(3, 4), (1, 2), (2, 1), (5, 5)])
def test_grid(rows: int, cols: int) -> None:
    t = topology.grid(rows, cols, 10.0)
    assert len(t.nodes) == rows * cols
    assert len(t.edges) == rows * (cols - 1) + cols * (rows - 1)
    assert all(e.length_km == 10.0 for e in t.edges)
    g = t.graph()
    assert nx.is_connected(g)
    # row-major numbering: n{r*cols+c} neighbours n{r*cols+c+1} (same row)
    if cols > 1:
        assert g.has_edge("n0", "n1")
    if rows > 1:
        assert g.has_edge("n0", f"n{cols}")


def test_generators_refuse_impossible_sizes() -> None:
    with pytest.raises(ValueError):
        topology.chain(1, 1.0)
    with pytest.raises(ValueError):
        topology.ring(2, 1.0)
    with pytest.raises(ValueError):
        topology.grid(1, 1, 1.0)
    with pytest.raises(ValueError):
        topology.chain(3, -1.0)


def test_waxman_lengths_are_distances_and_seed_decides() -> None:
    a = topology.waxman(60, 100.0, alpha=0.3, beta=0.6, seed=3)
    b = topology.waxman(60, 100.0, alpha=0.3, beta=0.6, seed=3)
    c = topology.waxman(60, 100.0, alpha=0.3, beta=0.6, seed=4)
    assert a == b
    assert a.edges != c.edges
    assert len(a.nodes) == 60 and a.edges
    for e in a.edges:
        assert e.length_km == pytest.approx(math.dist(a.positions[e.a], a.positions[e.b]))
        assert 0 <= e.length_km <= 100.0 * math.sqrt(2)
    assert all(0 <= x <= 100 and 0 <= y <= 100 for x, y in a.positions.values())
    assert len({frozenset((e.a, e.b)) for e in a.edges}) == len(a.edges)


def test_waxman_large_for_benchmarks() -> None:
    t = topology.waxman(300, 1000.0, seed=1)
    assert len(t.nodes) == 300
    assert t.graph().number_of_edges() == len(t.edges)


# --------------------------------------------------------------------------- in a scenario


def test_chain_topology_in_a_scenario() -> None:
    sc = parse_scenario(_data({"kind": "chain", "nodes": 5, "spacing_km": 20.0}))
    assert [n.name for n in sc.nodes] == ["n0", "n1", "n2", "n3", "n4"]
    assert all(n.qubits == 4 and n.memory_t_s == 1.0 for n in sc.nodes)
    first = sc.links[0]
    assert (first.a, first.b, first.length_km, first.model) == ("n0", "n1", 20.0, "double-click")
    assert len(sc.links) == 4
    assert sc.topology is not None and sc.topology.kind == "chain"


def test_grid_and_ring_counts() -> None:
    grid = parse_scenario(_data({"kind": "grid", "rows": 3, "cols": 4, "spacing_km": 1}))
    assert (len(grid.nodes), len(grid.links)) == (12, 17)
    assert grid.nodes[-1].name == "n11"
    ring = parse_scenario(_data({"kind": "ring", "nodes": 6, "spacing_km": 0}))
    assert (len(ring.nodes), len(ring.links)) == (6, 6)
    assert all(lk.length_km == 0.0 for lk in ring.links)


def test_waxman_seed_defaults_to_the_scenario_seed() -> None:
    topo = {"kind": "waxman", "nodes": 30, "area_km": 50.0, "alpha": 0.5, "beta": 1.0}
    one = parse_scenario(_data(topo, seed=9))
    again = parse_scenario(_data(topo, seed=9))
    explicit = parse_scenario(_data({**topo, "seed": 9}, seed=0))
    other = parse_scenario(_data(topo, seed=10))
    assert one.links == again.links == explicit.links
    assert one.links != other.links
    expected = topology.waxman(30, 50.0, alpha=0.5, beta=1.0, seed=9)
    assert [(lk.a, lk.b, lk.length_km) for lk in one.links] == [
        (e.a, e.b, e.length_km) for e in expected.edges
    ]


def test_explicit_nodes_and_links_merge_with_generated_ones() -> None:
    sc = load_scenario(GOOD / "chain_topology.toml")
    assert [n.name for n in sc.nodes] == ["lab", "r0", "r1", "r2", "r3"]
    assert [(lk.a, lk.b) for lk in sc.links] == [
        ("lab", "r0"),
        ("r0", "r1"),
        ("r1", "r2"),
        ("r2", "r3"),
    ]
    assert sc.nodes[0].qubits == 2 and sc.nodes[1].qubits == 6
    assert sc.links[1].detector_efficiency == 0.8 and sc.links[0].detector_efficiency == 0.9


def test_dump_keeps_only_explicit_entries_and_loads_equal() -> None:
    sc = load_scenario(GOOD / "chain_topology.toml")
    dumped = sc.model_dump()
    assert [n["name"] for n in dumped["nodes"]] == ["lab"]
    assert len(dumped["links"]) == 1
    assert dumped["topology"]["kind"] == "chain" and "rows" not in dumped["topology"]
    assert parse_scenario(dumped) == sc


def test_topology_replaces_nodes_and_links_but_totals_are_checked() -> None:
    message = _error(
        _data({"kind": "waxman", "nodes": 2, "area_km": 100.0, "alpha": 0.01, "beta": 0.01})
    )
    assert "links: must have at least 1 entries in total (0 in [[links]] + 0 from [topology])" in (
        message
    )


def test_direct_construction_with_a_topology() -> None:
    """Benchmarks and tests build scenarios in code; the topology expands there too."""
    sc = Scenario(
        topology=TopologySpec(
            kind="waxman",
            nodes=40,
            area_km=200.0,
            beta=1.0,
            alpha=1.0,
            node={"qubits": 2},
            link={"model": "double-click"},
        ),
        requests=[RequestSpec(app="pairs", src="n0", dst="n39", pairs=1)],
    )
    assert len(sc.nodes) == 40


@pytest.mark.parametrize(
    ("topo", "expected"),
    [
        ({"kind": "ring", "nodes": 2, "spacing_km": 1}, "topology.nodes = 2: must be >= 3"),
        (
            {"kind": "grid", "rows": 0, "cols": 3, "spacing_km": 1},
            "topology.rows = 0: must be >= 1",
        ),
        ({"kind": "chain", "nodes": 3}, "topology.spacing_km: missing (required when kind"),
        ({"kind": "waxman", "nodes": 3}, "topology.area_km: missing (required when kind"),
        ({"kind": "chain", "nodes": 3, "spacing_km": 1, "prefix": "N"}, "topology.prefix = 'N'"),
        ({"kind": "chain", "nodes": 2.0, "spacing_km": 1}, "topology.nodes = 2.0: must be an"),
        ({"kind": "file", "path": "x.txt"}, "topology.path = 'x.txt': must end in .gml"),
        ({"kind": "chain", "nodes": 10**9, "spacing_km": 1}, "must be <= 100000"),
        ({"kind": "waxman", "nodes": 3, "area_km": 1, "beta": 1.5}, "topology.beta = 1.5"),
    ],
)
def test_topology_field_errors(topo: dict[str, Any], expected: str) -> None:
    assert expected in _error(_data(topo))


def test_defaults_tables_are_checked_once() -> None:
    data = _data({"kind": "chain", "nodes": 50, "spacing_km": 1})
    data["topology"]["node"] = {"qubits": 0, "name": "x", "colour": 1}
    data["topology"]["link"] = {"model": "abstract", "a": "n0"}
    message = _error(data)
    assert "topology.node.qubits = 0: must be >= 1" in message
    assert "topology.node.name = 'x': not allowed here" in message
    assert "topology.node.colour: unknown field; allowed: qubits," in message
    assert "topology.link.a = 'n0': not allowed here" in message
    assert "topology.link.success_probability: missing (required when model = 'abstract')" in (
        message
    )
    assert "topology (generated" not in message  # one message per default, not per node
    missing = _error(
        _data({"kind": "chain", "nodes": 3, "spacing_km": 1})
        | {"topology": {"kind": "chain", "nodes": 3, "spacing_km": 1}}
    )
    assert "topology.node.qubits: missing (required)" in missing
    assert "topology.link.model: missing (required)" in missing


def test_duplicate_link_between_explicit_and_generated() -> None:
    data = _data(
        {"kind": "chain", "nodes": 3, "spacing_km": 1},
        links=[{"a": "n1", "b": "n0", "length_km": 2, "model": "double-click"}],
    )
    assert (
        "links[0].b = 'n0': duplicate link: [topology] also generates a link between 'n0' and "
        "'n1'" in _error(data)
    )


def test_explicit_link_to_generated_node_must_name_an_existing_one() -> None:
    data = _data(
        {"kind": "chain", "nodes": 3, "spacing_km": 1},
        nodes=[{"name": "x", "qubits": 1}],
        links=[{"a": "x", "b": "n9", "length_km": 2, "model": "double-click"}],
    )
    assert "links[0].b = 'n9': unknown node; nodes are 'x', 'n0', 'n1', 'n2'" in _error(data)


# --------------------------------------------------------------------------- graph files

GML = """graph [
  node [ id 0 label "aachen" qubits 8 ]
  node [ id 1 label "juelich" ]
  node [ id 2 label "bonn" memory_t_s 0.25 ]
  node [ id 3 label "koeln" ]
  edge [ source 0 target 1 length_km 30 ]
  edge [ source 1 target 2 length_km 60.5 model "abstract"
         success_probability 0.5 attempt_duration_s 0.001 fidelity 0.9 ]
]
"""


def _file_data(path: str, src: str = "aachen", dst: str = "bonn") -> dict[str, Any]:
    return {
        "topology": {"kind": "file", "path": path, "node": dict(NODE), "link": dict(LINK)},
        "requests": [{"app": "pairs", "src": src, "dst": dst, "pairs": 1}],
    }


def test_gml_file(tmp_path: Path) -> None:
    (tmp_path / "net.gml").write_text(GML)
    sc = parse_scenario(_file_data("net.gml"), base_dir=tmp_path)
    assert [n.name for n in sc.nodes] == ["aachen", "juelich", "bonn", "koeln"]
    assert [n.qubits for n in sc.nodes] == [8, 4, 4, 4]  # attribute beats [topology.node]
    assert sc.nodes[2].memory_t_s == 0.25
    assert [(lk.a, lk.b, lk.length_km, lk.model) for lk in sc.links] == [
        ("aachen", "juelich", 30.0, "double-click"),
        ("juelich", "bonn", 60.5, "abstract"),
    ]
    assert sc.links[1].fidelity == 0.9


def test_gml_file_relative_to_the_scenario_file(tmp_path: Path) -> None:
    (tmp_path / "graphs").mkdir()
    (tmp_path / "graphs" / "net.gml").write_text(GML)
    scenario = tmp_path / "sc.toml"
    scenario.write_text(
        '[topology]\nkind = "file"\npath = "graphs/net.gml"\n[topology.node]\nqubits = 2\n'
        '[topology.link]\nmodel = "double-click"\n'
        '[[requests]]\napp = "pairs"\nsrc = "aachen"\ndst = "juelich"\npairs = 1\n'
    )
    sc = load_scenario(scenario)
    assert len(sc.nodes) == 4
    assert parse_scenario(sc.model_dump(), base_dir=tmp_path) == sc


def test_node_link_json_file(tmp_path: Path) -> None:
    g = nx.Graph()
    g.add_node("a", qubits=2)
    g.add_node(7)
    g.add_edge("a", 7, length_km=5.0, detector_efficiency=0.5)
    g.add_edge(7, "c", length_km=0)
    (tmp_path / "net.json").write_text(json.dumps(nx.node_link_data(g)))
    sc = parse_scenario(_file_data("net.json", "a", "c"), base_dir=tmp_path)
    assert [n.name for n in sc.nodes] == ["a", "7", "c"]
    assert sc.nodes[0].qubits == 2 and sc.nodes[1].qubits == 4
    assert [(lk.a, lk.b, lk.length_km) for lk in sc.links] == [("a", "7", 5.0), ("7", "c", 0.0)]
    assert sc.links[0].detector_efficiency == 0.5


def test_old_style_node_link_with_links_key(tmp_path: Path) -> None:
    data = {
        "nodes": [{"id": "a"}, {"id": "b"}],
        "links": [{"source": "a", "target": "b", "length_km": 1}],
    }
    (tmp_path / "old.json").write_text(json.dumps(data))
    sc = parse_scenario(_file_data("old.json", "a", "b"), base_dir=tmp_path)
    assert len(sc.links) == 1


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "n.gml",
            GML.replace("length_km 30 ", ""),
            "topology (n.gml edge aachen-juelich)"
            ".length_km: missing (required on every edge of a graph file)",
        ),
        (
            "n.gml",
            GML.replace("length_km 30", 'length_km "far"'),
            "topology (n.gml edge aachen-juelich).length_km = 'far': must be a number",
        ),
        (
            "n.gml",
            GML.replace("length_km 30", "length_km -1"),
            "topology (n.gml edge aachen-juelich).length_km = -1: must be >= 0",
        ),
        (
            "n.gml",
            GML.replace('"koeln"', '"Koeln"'),
            "topology (n.gml node 'Koeln').name = 'Koeln': must be lower-case",
        ),
        (
            "n.gml",
            GML.replace("qubits 8", "qubits 0"),
            "topology (n.gml node 'aachen').qubits = 0: must be >= 1",
        ),
        (
            "n.gml",
            GML.replace("qubits 8", "qbits 8"),
            "topology (n.gml node 'aachen').qbits: unknown field; did you mean 'qubits'?",
        ),
        (
            "n.gml",
            GML.replace("fidelity 0.9", "fidelity 1.5"),
            "topology (n.gml edge juelich-bonn).fidelity = 1.5: must be <= 1",
        ),
        (
            "n.gml",
            GML.replace("graph [", "graph [ multigraph 1 ").replace(
                "]\n]", "]\n edge [ source 1 target 0 length_km 3 ]\n]"
            ),
            "topology (n.gml edge aachen-juelich): duplicate edge",
        ),
        ("n.gml", "graph [ node [ id 0 label", "topology.path = 'n.gml': GML error"),
        ("n.json", "{", "topology.path = 'n.json': JSON syntax error at line 1"),
        (
            "n.json",
            '{"nodes": [{"id": 1.5}], "edges": []}',
            "topology (n.json node #0).id = 1.5: node ids must be strings or integers",
        ),
    ],
)
def test_bad_graph_files(tmp_path: Path, name: str, text: str, expected: str) -> None:
    (tmp_path / name).write_text(text)
    assert expected in _error(_file_data(name), tmp_path)


def test_missing_graph_file(tmp_path: Path) -> None:
    message = _error(_file_data("nowhere.gml"), tmp_path)
    assert message.startswith("t.toml: topology.path = 'nowhere.gml': no such file")


def test_read_graph_file_without_a_scenario(tmp_path: Path) -> None:
    (tmp_path / "net.gml").write_text(GML)
    t = topology.read_graph_file(tmp_path / "net.gml")
    assert t.nodes == ("aachen", "juelich", "bonn", "koeln")
    assert t.edges[1].attrs["model"] == "abstract"
    assert "length_km" not in t.edges[0].attrs
    with pytest.raises(topology.TopologyError, match="no such file"):
        topology.read_graph_file(tmp_path / "none.json")


def test_many_bad_generated_entries_are_cut_short(tmp_path: Path) -> None:
    nodes = "".join(f'node [ id {i} label "N{i}" ]\n' for i in range(40))
    (tmp_path / "big.gml").write_text(f"graph [\n{nodes}]\n")
    message = _error(_file_data("big.gml"), tmp_path)
    assert "topology: 20 more problems in generated nodes and links not shown" in message
    assert len(message.splitlines()) == 1 + 21


# --------------------------------------------------------------------------- connectivity


def test_requests_may_join_any_two_connected_nodes() -> None:
    sc = parse_scenario(
        _data({"kind": "chain", "nodes": 6, "spacing_km": 1})
        | {"requests": [{"app": "pairs", "src": "n0", "dst": "n5", "pairs": 1}]}
    )
    assert sc.requests[0].dst == "n5"


def test_disconnected_request_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "net.gml").write_text(GML)
    message = _error(_file_data("net.gml", "aachen", "koeln"), tmp_path)
    assert (
        message == "t.toml: requests[0].dst = 'koeln': not connected to 'aachen' (no path of links)"
    )


def test_disconnected_without_topology() -> None:
    data: dict[str, Any] = {
        "nodes": [{"name": n, "qubits": 1} for n in ("a", "b", "c", "d")],
        "links": [
            {"a": "a", "b": "b", "length_km": 1, "model": "double-click"},
            {"a": "c", "b": "d", "length_km": 1, "model": "double-click"},
        ],
        "requests": [
            {"app": "pairs", "src": "a", "dst": "b", "pairs": 1},
            {"app": "pairs", "src": "b", "dst": "d", "pairs": 1},
        ],
    }
    assert _error(data) == "t.toml: requests[1].dst = 'd': not connected to 'b' (no path of links)"


# --------------------------------------------------------------------------- [network]


def test_network_defaults() -> None:
    sc = parse_scenario(_data({"kind": "chain", "nodes": 2, "spacing_km": 1}))
    assert sc.network_options(0) == NetworkOptions(
        routing="shortest-hops",
        swap_policy="asap",
        cutoff_s=None,
        purification="none",
        purification_rounds=0,
    )


def test_network_table_and_request_overrides() -> None:
    sc = load_scenario(GOOD / "chain_topology.toml")
    first, second = sc.network_options(0), sc.network_options(1)
    assert (first.routing, first.swap_policy, first.cutoff_s) == ("expected-time", "nested", 0.02)
    assert (first.purification, first.purification_rounds) == ("bbpssw", 1)  # rounds omitted: 1
    assert (second.routing, second.swap_policy, second.cutoff_s) == ("expected-time", "asap", 0.02)
    assert (second.purification, second.purification_rounds) == ("dejmps", 2)


@pytest.mark.parametrize(
    ("network", "overrides", "expected"),
    [
        ({}, {"purification": "bbpssw"}, ("bbpssw", 1)),
        ({"purification": "dejmps", "purification_rounds": 3}, {}, ("dejmps", 3)),
        (
            {"purification": "dejmps", "purification_rounds": 3},
            {"purification": "bbpssw"},
            ("bbpssw", 3),
        ),
        (
            {"purification": "dejmps", "purification_rounds": 3},
            {"purification": "none"},
            ("none", 0),
        ),
        ({"purification": "dejmps"}, {"purification_rounds": 0}, ("dejmps", 0)),
        ({"purification": "none", "purification_rounds": 0}, {}, ("none", 0)),
    ],
)
def test_purification_merging(
    network: dict[str, Any], overrides: dict[str, Any], expected: tuple[str, int]
) -> None:
    data = _data({"kind": "chain", "nodes": 2, "spacing_km": 1}, network=network)
    data["requests"][0].update(overrides)
    options = parse_scenario(data).network_options(0)
    assert (options.purification, options.purification_rounds) == expected


def test_plugin_names_are_accepted_and_options_are_frozen() -> None:
    data = _data(
        {"kind": "chain", "nodes": 2, "spacing_km": 1},
        network={"routing": "mypkg.routing:greedy", "swap_policy": "my-policy_2"},
    )
    options = parse_scenario(data).network_options(0)
    assert options.routing == "mypkg.routing:greedy"
    with pytest.raises(ValueError):
        options.routing = "x"


@pytest.mark.parametrize(
    ("where", "values", "expected"),
    [
        ("network", {"cutoff_s": 0}, "network.cutoff_s = 0: must be > 0"),
        ("network", {"purification_rounds": -1}, "network.purification_rounds = -1: must be >= 0"),
        ("network", {"routing": 3}, "network.routing = 3: must be a string"),
        ("network", {"routing": ""}, "network.routing = '': must be a name"),
        ("request", {"cutoff_s": -1.0}, "requests[0].cutoff_s = -1.0: must be > 0"),
        (
            "request",
            {"purification": "none", "purification_rounds": 1},
            "requests[0].purification_rounds = 1: only allowed when purification is not 'none'",
        ),
        (
            "request",
            {"purification_rounds": 2},
            "requests[0].purification_rounds = 2: only allowed when purification is not 'none' "
            "(this request inherits purification = 'none' from [network]",
        ),
        ("request", {"swap_policy": "ASAP"}, "requests[0].swap_policy = 'ASAP'"),
        ("request", {"routng": "x"}, "requests[0].routng: unknown field; did you mean 'routing'?"),
    ],
)
def test_network_option_errors(where: str, values: dict[str, Any], expected: str) -> None:
    data = _data({"kind": "chain", "nodes": 2, "spacing_km": 1})
    if where == "network":
        data["network"] = values
    else:
        data["requests"][0].update(values)
    assert expected in _error(data)


def test_network_table_in_toml() -> None:
    text = """
[topology]
kind = "ring"
nodes = 3
spacing_km = 1.0
[topology.node]
qubits = 1
[topology.link]
model = "abstract"
success_probability = 0.5
attempt_duration_s = 0.001
fidelity = 0.9
[network]
cutoff_s = 0.01
[[requests]]
app = "pairs"
src = "n0"
dst = "n2"
pairs = 1
cutoff_s = 0.5
"""
    sc = parse_scenario(tomllib.loads(text))
    assert sc.network.cutoff_s == 0.01
    assert sc.network_options(0).cutoff_s == 0.5
    assert all(lk.model == "abstract" for lk in sc.links)
