"""Topology and the routing data classes: lookups and input checks."""

from __future__ import annotations

import networkx as nx
import pytest
from _routing_helpers import chain, link, node

from qstack.layers.network.routing import LinkInfo, NodeInfo, RouteRequest, Topology


def test_link_lookup_in_either_order() -> None:
    item = link("a", "b")
    topology = Topology([node("a"), node("b")], [item])
    assert topology.link("a", "b") is item
    assert topology.link("b", "a") is item
    assert topology.graph.edges["b", "a"]["info"] is item


def test_node_neighbours_and_path_links() -> None:
    topology = chain([0.9, 0.8, 0.7])
    assert topology.node("n1") == NodeInfo("n1", 4, None)
    assert topology.neighbours("n1") == ["n0", "n2"]
    assert [item.fidelity for item in topology.path_links(["n3", "n2", "n1"])] == [0.7, 0.8]
    assert "n3" in topology
    assert "n9" not in topology


def test_unknown_node_and_missing_link_are_named() -> None:
    topology = chain([0.9, 0.8])
    with pytest.raises(KeyError, match="'zz'"):
        topology.node("zz")
    with pytest.raises(KeyError, match="'zz'"):
        topology.neighbours("zz")
    with pytest.raises(KeyError, match="no link between 'n0' and 'n2'"):
        topology.link("n0", "n2")


def test_graph_is_frozen() -> None:
    topology = chain([0.9])
    with pytest.raises(nx.NetworkXError):
        topology.graph.add_edge("n0", "x")


@pytest.mark.parametrize(
    ("nodes", "links", "message"),
    [
        (["a", "a"], [], "duplicate node 'a'"),
        (["a", "b"], [("a", "c")], "unknown node 'c'"),
        (["a", "b"], [("a", "b"), ("b", "a")], "duplicate link"),
    ],
)
def test_bad_topologies_are_rejected(
    nodes: list[str], links: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Topology([node(n) for n in nodes], [link(a, b) for a, b in links])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("success_probability", 0.0),
        ("success_probability", 1.5),
        ("cycle_s", 0.0),
        ("fidelity", 1.2),
        ("delay_s", -1.0),
        ("length_km", -1.0),
    ],
)
def test_link_info_checks_name_the_field(field: str, value: float) -> None:
    values: dict[str, float] = {
        "length_km": 1.0,
        "success_probability": 0.5,
        "cycle_s": 1e-3,
        "fidelity": 0.9,
        "delay_s": 0.0,
    }
    values[field] = value
    with pytest.raises(ValueError, match=field):
        LinkInfo("a", "b", **values)


def test_link_needs_two_nodes_and_node_checks() -> None:
    with pytest.raises(ValueError, match="distinct"):
        link("a", "a")
    with pytest.raises(ValueError, match="memory_t_s"):
        NodeInfo("a", 2, 0.0)
    with pytest.raises(ValueError, match="qubits"):
        NodeInfo("a", -1, None)


def test_route_request_checks() -> None:
    assert RouteRequest("a", "b", 0.5).purification == "none"
    with pytest.raises(ValueError, match="distinct"):
        RouteRequest("a", "a", 0.5)
    with pytest.raises(ValueError, match="min_fidelity"):
        RouteRequest("a", "b", 1.5)
    with pytest.raises(ValueError, match="'magic'"):
        RouteRequest("a", "b", 0.5, purification="magic")
    with pytest.raises(ValueError, match="purification_rounds"):
        RouteRequest("a", "b", 0.5, purification="bbpssw", purification_rounds=-1)


def test_data_classes_are_frozen_and_slotted() -> None:
    item = link("a", "b")
    with pytest.raises(AttributeError):
        item.fidelity = 0.5  # type: ignore[misc]
    assert not hasattr(item, "__dict__")
    assert not hasattr(RouteRequest("a", "b", 0.5), "__dict__")
