"""Hypothesis: on random connected graphs every strategy returns a valid simple path."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qstack.layers.network.routing import (
    ExpectedTime,
    FidelityAware,
    LinkInfo,
    NodeInfo,
    Route,
    RouteRequest,
    RoutingStrategy,
    ShortestHops,
    Topology,
    estimate_path_fidelity,
    estimate_path_time,
)

STRATEGIES: list[RoutingStrategy] = [ShortestHops(), ExpectedTime(), FidelityAware(k=4)]


@st.composite
def connected_topologies(draw: st.DrawFn) -> Topology:
    """A random spanning tree plus random extra links, with random link figures."""
    count = draw(st.integers(2, 9))
    names = [f"v{i}" for i in range(count)]
    pairs = {(draw(st.integers(0, i - 1)), i) for i in range(1, count)}
    all_pairs = [(i, j) for i in range(count) for j in range(i + 1, count)]
    pairs |= set(draw(st.lists(st.sampled_from(all_pairs), max_size=2 * count)))
    nodes = [
        NodeInfo(name, draw(st.integers(1, 4)), draw(st.none() | st.floats(1e-3, 10.0)))
        for name in names
    ]
    links = [
        LinkInfo(
            names[i],
            names[j],
            length_km=draw(st.floats(0.0, 100.0)),
            success_probability=draw(st.floats(1e-4, 1.0)),
            cycle_s=draw(st.floats(1e-6, 1e-2)),
            fidelity=draw(st.floats(0.5, 1.0)),
            delay_s=draw(st.floats(0.0, 1e-3)),
        )
        for i, j in sorted(pairs)
    ]
    order = draw(st.permutations(range(len(links))))
    return Topology(nodes, [links[k] for k in order])


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    connected_topologies(),
    st.data(),
    st.sampled_from(["none", "bbpssw", "dejmps"]),
    st.integers(0, 2),
)
def test_every_strategy_returns_a_linked_simple_path(
    topology: Topology, data: st.DataObject, scheme: str, rounds: int
) -> None:
    names = [item.name for item in topology.nodes]
    src, dst = data.draw(st.permutations(names))[:2]
    request = RouteRequest(src, dst, 0.0, purification=scheme, purification_rounds=rounds)
    for strategy in STRATEGIES:
        result = strategy.route(topology, request)
        assert isinstance(result, Route), (strategy.name, result)
        path = result.path
        assert path[0] == src
        assert path[-1] == dst
        assert len(set(path)) == len(path)
        assert all(topology.graph.has_edge(u, v) for u, v in itertools.pairwise(path))
        assert result.expected_fidelity == pytest.approx(
            estimate_path_fidelity(topology, path, scheme, rounds)
        )
        assert result.expected_time_s == pytest.approx(estimate_path_time(topology, path))
        assert result.expected_time_s > 0.0
        assert 0.25 <= result.expected_fidelity <= 1.0


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(connected_topologies(), st.data())
def test_strategies_are_optimal_for_their_own_criterion(
    topology: Topology, data: st.DataObject
) -> None:
    names = [item.name for item in topology.nodes]
    src, dst = data.draw(st.permutations(names))[:2]
    request = RouteRequest(src, dst, 0.0)
    graph = topology.graph

    hops = ShortestHops().route(topology, request)
    assert isinstance(hops, Route)
    assert hops.hops == nx.shortest_path_length(graph, src, dst)

    timed = ExpectedTime().route(topology, request)
    assert isinstance(timed, Route)
    total = sum(item.expected_generation_s for item in topology.path_links(timed.path))
    best = nx.dijkstra_path_length(
        graph, src, dst, weight=lambda u, v, d: d["info"].expected_generation_s
    )
    assert total == pytest.approx(best, rel=1e-9)

    aware = FidelityAware(k=4)
    chosen = aware.route(topology, request)
    assert isinstance(chosen, Route)
    for path in aware.candidates(topology, request):
        assert chosen.expected_fidelity >= estimate_path_fidelity(topology, path) - 1e-12
