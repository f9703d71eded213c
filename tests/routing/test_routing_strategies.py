"""Built-in routing strategies: which path each picks, refusals, and determinism."""

from __future__ import annotations

import random

import pytest
from _routing_helpers import (
    CLEAN_PATH,
    FAST_PATH,
    SHORT_PATH,
    chain,
    diamond,
    grid,
    link,
    node,
    topology_of,
)

from qstack.layers.network.routing import (
    ExpectedTime,
    FidelityAware,
    Route,
    RouteRefusal,
    RouteRequest,
    RoutingStrategy,
    ShortestHops,
    Topology,
    estimate_path_fidelity,
    estimate_path_time,
)

STRATEGIES: list[RoutingStrategy] = [ShortestHops(), ExpectedTime(), FidelityAware()]


def routed(strategy: RoutingStrategy, topology: Topology, request: RouteRequest) -> Route:
    """Route and insist on success, so a refusal fails with its reason."""
    result = strategy.route(topology, request)
    assert isinstance(result, Route), result
    return result


def test_builtins_satisfy_the_protocol() -> None:
    for strategy in STRATEGIES:
        assert isinstance(strategy, RoutingStrategy)
    assert [s.name for s in STRATEGIES] == ["shortest-hops", "expected-time", "fidelity-aware"]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [(ShortestHops(), SHORT_PATH), (ExpectedTime(), FAST_PATH), (FidelityAware(), CLEAN_PATH)],
    ids=lambda value: getattr(value, "name", "path"),
)
def test_diamond_strategies_disagree_as_designed(
    strategy: RoutingStrategy, expected: tuple[str, ...]
) -> None:
    topology = diamond()
    route = routed(strategy, topology, RouteRequest("s", "d", 0.0))
    assert route.path == expected
    assert route.expected_fidelity == estimate_path_fidelity(topology, expected)
    assert route.expected_time_s == estimate_path_time(topology, expected)


def test_diamond_fidelity_ranking_is_what_the_design_claims() -> None:
    topology = diamond()
    short, fast, clean = (
        estimate_path_fidelity(topology, path) for path in (SHORT_PATH, FAST_PATH, CLEAN_PATH)
    )
    assert clean > short > fast


@pytest.mark.parametrize(("k", "expected"), [(1, SHORT_PATH), (2, SHORT_PATH), (3, CLEAN_PATH)])
def test_fidelity_aware_only_looks_at_k_shortest(k: int, expected: tuple[str, ...]) -> None:
    route = routed(FidelityAware(k=k), diamond(), RouteRequest("s", "d", 0.0))
    assert route.path == expected


def test_fidelity_aware_rejects_bad_k() -> None:
    with pytest.raises(ValueError, match="k >= 1"):
        FidelityAware(k=0)


def test_fidelity_aware_refuses_with_best_figure() -> None:
    topology = diamond()
    best = estimate_path_fidelity(topology, CLEAN_PATH)
    result = FidelityAware().route(topology, RouteRequest("s", "d", 0.99))
    assert isinstance(result, RouteRefusal)
    assert result.reason == "fidelity_unreachable"
    assert f"{best:.6f}" in result.detail
    assert "s - g1 - g2 - g3 - d" in result.detail


def test_fidelity_aware_meets_threshold_only_clean_path_reaches() -> None:
    topology = diamond()
    short = estimate_path_fidelity(topology, SHORT_PATH)
    route = routed(FidelityAware(), topology, RouteRequest("s", "d", short + 0.01))
    assert route.path == CLEAN_PATH


def test_simple_strategies_refuse_when_their_path_falls_short() -> None:
    topology = diamond()
    for strategy, path in ((ShortestHops(), SHORT_PATH), (ExpectedTime(), FAST_PATH)):
        figure = estimate_path_fidelity(topology, path)
        result = strategy.route(topology, RouteRequest("s", "d", figure + 0.001))
        assert isinstance(result, RouteRefusal)
        assert result.reason == "fidelity_unreachable"
        assert f"{figure:.6f}" in result.detail
        # exactly at the figure is still a route: the threshold is inclusive
        assert isinstance(strategy.route(topology, RouteRequest("s", "d", figure)), Route)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
def test_no_path_between_components(strategy: RoutingStrategy) -> None:
    topology = topology_of([link("a", "b"), link("c", "d")], extra_nodes=["lonely"])
    for dst in ("c", "lonely"):
        result = strategy.route(topology, RouteRequest("a", dst, 0.0))
        assert isinstance(result, RouteRefusal)
        assert result.reason == "no_path"
        assert repr(dst) in result.detail


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
def test_unknown_endpoint_is_an_error_naming_it(strategy: RoutingStrategy) -> None:
    with pytest.raises(KeyError, match="ghost"):
        strategy.route(chain([0.9]), RouteRequest("n0", "ghost", 0.0))


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
def test_chain_takes_the_whole_chain(strategy: RoutingStrategy) -> None:
    route = routed(strategy, chain([0.9, 0.95, 0.97, 0.99]), RouteRequest("n0", "n4", 0.0))
    assert route.path == ("n0", "n1", "n2", "n3", "n4")
    assert route.hops == 4


def ring(fast_side: str) -> Topology:
    """Ring n0..n5; the n1 side and the n5 side both reach n3 in three hops."""
    names = [f"n{i}" for i in range(6)]
    links = []
    for i, name in enumerate(names):
        other = names[(i + 1) % 6]
        on_fast_side = (fast_side == "n5") == (i >= 3)
        links.append(link(name, other, p=0.5 if on_fast_side else 0.05))
    return topology_of(links)


def test_ring_shortest_hops_breaks_tie_lexicographically() -> None:
    route = routed(ShortestHops(), ring("n5"), RouteRequest("n0", "n3", 0.0))
    assert route.path == ("n0", "n1", "n2", "n3")


@pytest.mark.parametrize("strategy", [ExpectedTime(), FidelityAware()], ids=lambda s: s.name)
def test_ring_equal_fidelity_goes_to_faster_side(strategy: RoutingStrategy) -> None:
    assert routed(strategy, ring("n5"), RouteRequest("n0", "n3", 0.0)).path == (
        "n0",
        "n5",
        "n4",
        "n3",
    )
    assert routed(strategy, ring("n1"), RouteRequest("n0", "n3", 0.0)).path == (
        "n0",
        "n1",
        "n2",
        "n3",
    )


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
def test_grid_ties_go_to_smallest_path(strategy: RoutingStrategy) -> None:
    route = routed(strategy, grid(3, 3), RouteRequest("r0c0", "r2c2", 0.0))
    assert route.path == ("r0c0", "r0c1", "r0c2", "r1c2", "r2c2")


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
def test_answer_does_not_depend_on_input_order(strategy: RoutingStrategy) -> None:
    reference = grid(4, 4)
    request = RouteRequest("r0c1", "r3c2", 0.0)
    expected = strategy.route(reference, request)
    shuffler = random.Random(7)
    for _ in range(5):
        nodes = list(reference.nodes)
        links = list(reference.links)
        shuffler.shuffle(nodes)
        shuffler.shuffle(links)
        flipped = [link(item.b, item.a) if shuffler.random() < 0.5 else item for item in links]
        assert strategy.route(Topology(nodes, flipped), request) == expected


def test_strategies_do_not_mutate_topology() -> None:
    topology = diamond()
    before = (topology.nodes, topology.links)
    for strategy in STRATEGIES:
        strategy.route(topology, RouteRequest("s", "d", 0.0))
    assert (topology.nodes, topology.links) == before


def test_purification_can_make_a_request_reachable() -> None:
    topology = chain([0.9, 0.9])
    plain = estimate_path_fidelity(topology, ("n0", "n1", "n2"))
    target = plain + 0.05
    refused = FidelityAware().route(topology, RouteRequest("n0", "n2", target))
    assert isinstance(refused, RouteRefusal)
    route = routed(
        FidelityAware(),
        topology,
        RouteRequest("n0", "n2", target, purification="dejmps", purification_rounds=2),
    )
    assert route.expected_fidelity > target


def test_memory_decoherence_steers_fidelity_aware() -> None:
    # Same links on both sides, but the delays differ: the end memories decohere
    # while the slower side's swap outcomes travel, so the quick side wins.
    links = [
        link("s", "a", delay_s=1e-3),
        link("a", "d", delay_s=1e-3),
        link("s", "b", delay_s=1e-5),
        link("b", "d", delay_s=1e-5),
    ]
    nodes = [node("s", 0.01), node("d", 0.01), node("a"), node("b")]
    topology = Topology(nodes, links)
    assert routed(ShortestHops(), topology, RouteRequest("s", "d", 0.0)).path == ("s", "a", "d")
    assert routed(FidelityAware(), topology, RouteRequest("s", "d", 0.0)).path == ("s", "b", "d")
