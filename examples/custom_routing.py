"""A routing strategy of your own, registered by name and compared with the built-ins.

The strategy here, ``widest-rate``, picks the path whose *slowest* link is as
fast as possible (the "widest" or maximum-bottleneck path), with link rate =
success probability per attempt / time per attempt. With repeaters swapping
as soon as they can, every end-to-end pair uses one pair of every link on its
path, so in steady state the slowest link caps the rate. The built-ins ask
other questions:

- ``shortest-hops``: fewest links;
- ``expected-time``: least *sum* of the links' expected generation times
  (the time to a first pair, not the long-run rate);
- ``fidelity-aware``: best estimated end-to-end fidelity.

The network is hand-built so that the four strategies choose four different
paths from ``a`` to ``z`` (abstract links, so each link's rate and fidelity
are set directly)::

    P1  a - z                     1 link:  10 Hz, F 0.90
    P2  a - b - z                 2 links: 100 Hz each, F 0.90
    P3  a - c1 - c2 - z           3 links: 1000, 1000 and 67 Hz, F 0.97
    P4  a - d1 - d2 - d3 - z      4 links: 50 Hz each, F 0.995

Run it with ``python examples/custom_routing.py``; it prints one row per
strategy and exits with status 1 if any request did not finish "done".
Nothing in qstack changes: a strategy is any object with a ``name`` and a
``route(view, request)`` method, and a run finds it through the
``Registry`` passed to ``Network``. The view is what the routing node knows
(a ``Topology`` without what it was told is down, plus its own load and
random stream); ``least-loaded``, the second strategy here, uses the load,
and ``examples/routing_load.py`` compares it with the others as load grows.
"""

from __future__ import annotations

import itertools
import sys
from collections import deque
from typing import Any

import networkx as nx

from qstack.layers.network.routing import (
    LinkInfo,
    NetworkView,
    Route,
    RouteRefusal,
    RouteRequest,
    Topology,
    estimate_path_fidelity,
    estimate_path_time,
)
from qstack.network import Network
from qstack.registry import Registry
from qstack.runner import run_network
from qstack.scenario import Scenario, parse_scenario

# --------------------------------------------------------------------------- the strategy


def link_rate_hz(link: LinkInfo) -> float:
    """Link pairs per second while the link keeps trying: p / cycle."""
    return link.success_probability / link.cycle_s


class WidestRate:
    """Maximise the slowest link's rate; ties go to fewer hops, then the smaller path.

    1. Add links fastest first until ``src`` and ``dst`` are joined (a
       union-find, as in Kruskal's algorithm): the rate of the link that
       joined them is the best bottleneck any path can have.
    2. Among the paths that use only links at least that fast, take one with
       the fewest hops, and of those the lexicographically smallest, so the
       answer never depends on the order links were listed in.
    3. Refuse, like the built-ins, when even the estimated (best-case)
       fidelity of that path is below the request's minimum.
    """

    name = "widest-rate"

    def route(self, topology: Topology, request: RouteRequest) -> Route | RouteRefusal:
        for end in (request.src, request.dst):
            topology.node(end)  # KeyError naming an unknown node, as the built-ins do
        bottleneck = self._bottleneck(topology, request.src, request.dst)
        if bottleneck is None:
            return RouteRefusal("no_path", f"no path between {request.src!r} and {request.dst!r}")
        path = self._fewest_hops(topology, request.src, request.dst, bottleneck)
        fidelity = estimate_path_fidelity(
            topology, path, request.purification, request.purification_rounds
        )
        if fidelity < request.min_fidelity:
            return RouteRefusal(
                "fidelity_unreachable",
                f"{self.name}: estimated fidelity {fidelity:.4f} on {' - '.join(path)} "
                f"is below the requested {request.min_fidelity:.4f}",
            )
        return Route(path, fidelity, estimate_path_time(topology, path))

    @staticmethod
    def _bottleneck(topology: Topology, src: str, dst: str) -> float | None:
        """The largest r such that links of rate >= r join src and dst, or None."""
        parent: dict[str, str] = {}

        def root(node: str) -> str:
            parent.setdefault(node, node)
            while parent[node] != node:
                parent[node] = parent[parent[node]]  # path halving
                node = parent[node]
            return node

        by_rate = sorted(topology.links, key=lambda link: (-link_rate_hz(link), link.a, link.b))
        for link in by_rate:
            parent[root(link.a)] = root(link.b)
            if root(src) == root(dst):
                return link_rate_hz(link)
        return None

    @staticmethod
    def _fewest_hops(topology: Topology, src: str, dst: str, bottleneck: float) -> tuple[str, ...]:
        """Breadth-first hop counts to dst over fast-enough links, then the smallest walk."""

        def fast_neighbours(node: str) -> list[str]:
            return [
                other
                for other in topology.neighbours(node)  # sorted by name
                if link_rate_hz(topology.link(node, other)) >= bottleneck
            ]

        hops = {dst: 0}
        queue = deque([dst])
        while queue:
            node = queue.popleft()
            for other in fast_neighbours(node):
                if other not in hops:
                    hops[other] = hops[node] + 1
                    queue.append(other)
        path = [src]
        while path[-1] != dst:
            here = hops[path[-1]]
            path.append(next(n for n in fast_neighbours(path[-1]) if hops.get(n) == here - 1))
        return tuple(path)

    def __repr__(self) -> str:
        return "WidestRate()"


class LeastLoaded:
    """Spread the load this node knows of: among the ``k`` shortest paths (by
    hops), the one whose busiest link carries the fewest of this node's own
    circuits; ties go to fewer of them in all, then fewer hops, then the
    smaller path.

    A node knows the circuits it serves, because it took part in installing
    each (``view.load``: their paths); it knows nothing of other nodes'
    circuits. That is enough for a source that starts many requests: it
    stops piling them onto one trunk.
    """

    name = "least-loaded"

    def __init__(self, k: int = 8) -> None:
        self.k = k

    def route(self, view: NetworkView, request: RouteRequest) -> Route | RouteRefusal:
        if not nx.has_path(view.graph, request.src, request.dst):
            return RouteRefusal("no_path", f"no path between {request.src!r} and {request.dst!r}")
        paths = itertools.islice(
            nx.shortest_simple_paths(view.graph, request.src, request.dst), self.k
        )
        load = view.load

        def crowding(path: list[str]) -> tuple[int, int, int, list[str]]:
            uses = [load.link_use(a, b) for a, b in itertools.pairwise(path)]
            return (max(uses), sum(uses), len(path), path)

        path = tuple(min(paths, key=crowding))
        fidelity = estimate_path_fidelity(
            view, path, request.purification, request.purification_rounds
        )
        if fidelity < request.min_fidelity:
            return RouteRefusal(
                "fidelity_unreachable",
                f"{self.name}: estimated fidelity {fidelity:.4f} on {' - '.join(path)} "
                f"is below the requested {request.min_fidelity:.4f}",
            )
        return Route(path, fidelity, estimate_path_time(view, path))


# --------------------------------------------------------------------------- the network


def abstract_link(a: str, b: str, rate_hz: float, fidelity: float) -> dict[str, Any]:
    """An abstract link 2 km long with the given rate (p = 0.01 per attempt) and fidelity."""
    probability = 0.01
    return {
        "a": a,
        "b": b,
        "length_km": 2.0,
        "model": "abstract",
        "success_probability": probability,
        "attempt_duration_s": probability / rate_hz,
        "fidelity": fidelity,
    }


LINKS = [
    abstract_link("a", "z", 10.0, 0.90),  # P1: direct, but slow
    abstract_link("a", "b", 100.0, 0.90),  # P2: two links, fast and noisy
    abstract_link("b", "z", 100.0, 0.90),
    abstract_link("a", "c1", 1000.0, 0.97),  # P3: two very fast links, one slow-ish
    abstract_link("c1", "c2", 1000.0, 0.97),
    abstract_link("c2", "z", 66.7, 0.97),
    abstract_link("a", "d1", 50.0, 0.995),  # P4: four clean links
    abstract_link("d1", "d2", 50.0, 0.995),
    abstract_link("d2", "d3", 50.0, 0.995),
    abstract_link("d3", "z", 50.0, 0.995),
]
NODES = sorted({end for link in LINKS for end in (link["a"], link["b"])})
PAIRS = 100


def scenario(routing: str) -> Scenario:
    """The same network and request for every strategy; only ``[network] routing`` differs."""
    return parse_scenario(
        {
            "seed": 5,
            "run": {"until_s": 60.0},
            "nodes": [{"name": name, "qubits": 8, "memory_t_s": 10.0} for name in NODES],
            "links": LINKS,
            "network": {"routing": routing},
            "requests": [{"app": "pairs", "src": "a", "dst": "z", "pairs": PAIRS}],
        },
        source=f"<custom_routing {routing}>",
    )


def main() -> int:
    registry = Registry.with_defaults()
    registry.register("routing", WidestRate.name, WidestRate)
    strategies = [*registry.names("routing")]
    # Built-ins first, ours last (names() is sorted).
    strategies.sort(key=lambda name: (name == WidestRate.name, name))

    header = (
        f"{'strategy':<16} {'path of request 0':<22} {'status':<8} {'delivered':>9} "
        f"{'F mean':>7} {'rate Hz':>8}"
    )
    print(f"{PAIRS} pairs a -> z over each strategy's path (abstract links, memory T = 10 s)")
    print(header)
    print("-" * len(header))
    all_done = True
    for name in strategies:
        network = Network(scenario(name), registry=registry)
        # Routing is deterministic, so asking the run's own strategy instance
        # gives the path the network layer installed for the request.
        request = network.scenario.requests[0]
        route = network.plugin("routing", name).route(
            network.topology, RouteRequest(request.src, request.dst, request.min_fidelity or 0.0)
        )
        path = " ".join(route.path) if isinstance(route, Route) else f"refused: {route.reason}"
        report = run_network(network).requests[0]
        fidelity = f"{report.fidelity_mean:.4f}" if report.fidelity_mean is not None else "-"
        rate = f"{report.rate_hz:.1f}" if report.rate_hz is not None else "-"
        print(
            f"{name:<16} {path:<22} {report.status:<8} {report.delivered:>9} "
            f"{fidelity:>7} {rate:>8}"
        )
        all_done = all_done and report.status == "done"
    return 0 if all_done else 1


if __name__ == "__main__":
    sys.exit(main())
