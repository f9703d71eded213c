"""Routing strategies of the network layer and the view of the network they route on.

A strategy maps (topology, request) to a path, or to an explicit refusal, with
closed-form estimates of the fidelity and time the path can deliver. The
estimates come from ``qstack.physics.formulas`` so that routing and the
validation tests agree on the physics. Everything here is deterministic: the
same topology and request give the same answer regardless of input order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import networkx as nx

from qstack.physics.formulas import (
    bbpssw,
    dejmps,
    fidelity_from_werner,
    werner_parameter,
)

PurificationScheme = Literal["none", "bbpssw", "dejmps"]
PURIFICATION_SCHEMES: tuple[str, ...] = ("none", "bbpssw", "dejmps")

RefusalReason = Literal["no_path", "fidelity_unreachable"]

FIDELITY_TOLERANCE = 1e-12
"""Fidelities this close count as equal, so float rounding never flips a decision."""

_RELATIVE_TOLERANCE = 1e-12


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What routing needs to know of a node.

    ``memory_t_s`` is the depolarising time constant of its memory in seconds;
    ``None`` means a perfect memory.
    """

    name: str
    qubits: int
    memory_t_s: float | None

    def __post_init__(self) -> None:
        """Reject bad node data at construction, where the error can name the field."""
        if not self.name:
            raise ValueError("node name must be a non-empty string")
        if self.qubits < 0:
            raise ValueError(f"node {self.name!r}: qubits must be >= 0, got {self.qubits!r}")
        if self.memory_t_s is not None and not self.memory_t_s > 0.0:
            raise ValueError(
                f"node {self.name!r}: memory_t_s must be > 0 or None, got {self.memory_t_s!r}"
            )


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """What routing needs to know of a link between nodes ``a`` and ``b``.

    ``success_probability`` is per attempt, ``cycle_s`` the time between
    attempts, ``fidelity`` the Werner-equivalent fidelity of one delivered link
    pair, ``delay_s`` the one-way classical delay between the two ends.
    """

    a: str
    b: str
    length_km: float
    success_probability: float
    cycle_s: float
    fidelity: float
    delay_s: float

    def __post_init__(self) -> None:
        """Reject impossible link data early; a zero rate would make every estimate infinite."""
        where = f"link {self.a!r}-{self.b!r}"
        if self.a == self.b:
            raise ValueError(f"{where}: a link needs two distinct nodes")
        if not self.length_km >= 0.0:
            raise ValueError(f"{where}: length_km must be >= 0, got {self.length_km!r}")
        if not 0.0 < self.success_probability <= 1.0:
            raise ValueError(
                f"{where}: success_probability must be in (0, 1], got {self.success_probability!r}"
            )
        if not self.cycle_s > 0.0:
            raise ValueError(f"{where}: cycle_s must be > 0, got {self.cycle_s!r}")
        if not 0.0 <= self.fidelity <= 1.0:
            raise ValueError(f"{where}: fidelity must be in [0, 1], got {self.fidelity!r}")
        if not self.delay_s >= 0.0:
            raise ValueError(f"{where}: delay_s must be >= 0, got {self.delay_s!r}")

    @property
    def expected_generation_s(self) -> float:
        """Mean time to one link pair: cycle over success probability (geometric attempts)."""
        return self.cycle_s / self.success_probability


class Topology:
    """Read-only network graph for routing, built once per run.

    Nodes and edges are inserted in sorted order so that every networkx
    traversal (and thus every strategy) is independent of the order the
    scenario listed them in. The graph is frozen: strategies cannot mutate it.
    Edge attribute ``"info"`` holds the ``LinkInfo``; node attribute ``"info"``
    the ``NodeInfo``.
    """

    __slots__ = ("_nodes", "graph")

    def __init__(self, nodes: Sequence[NodeInfo], links: Sequence[LinkInfo]) -> None:
        self._nodes: dict[str, NodeInfo] = {}
        for node in nodes:
            if node.name in self._nodes:
                raise ValueError(f"duplicate node {node.name!r} in topology")
            self._nodes[node.name] = node
        graph = nx.Graph()
        for name in sorted(self._nodes):
            graph.add_node(name, info=self._nodes[name])
        seen: set[frozenset[str]] = set()
        for link in sorted(links, key=lambda item: tuple(sorted((item.a, item.b)))):
            for end in (link.a, link.b):
                if end not in self._nodes:
                    raise ValueError(f"link {link.a!r}-{link.b!r} names unknown node {end!r}")
            key = frozenset((link.a, link.b))
            if key in seen:
                raise ValueError(f"duplicate link between {link.a!r} and {link.b!r}")
            seen.add(key)
            graph.add_edge(link.a, link.b, info=link)
        self.graph: nx.Graph = nx.freeze(graph)

    def node(self, name: str) -> NodeInfo:
        """The node called ``name``; ``KeyError`` naming it if there is none."""
        try:
            return self._nodes[name]
        except KeyError:
            raise KeyError(f"unknown node {name!r}") from None

    def link(self, a: str, b: str) -> LinkInfo:
        """The link between ``a`` and ``b`` in either order, as it was declared."""
        if not self.graph.has_edge(a, b):
            raise KeyError(f"no link between {a!r} and {b!r}")
        info: LinkInfo = self.graph.edges[a, b]["info"]
        return info

    def neighbours(self, name: str) -> list[str]:
        """Names of the nodes linked to ``name``, sorted."""
        self.node(name)
        return sorted(self.graph.neighbors(name))

    def path_links(self, path: Sequence[str]) -> list[LinkInfo]:
        """The links along ``path`` in order; ``KeyError`` if two consecutive nodes are unlinked."""
        return [self.link(u, v) for u, v in itertools.pairwise(path)]

    @property
    def nodes(self) -> tuple[NodeInfo, ...]:
        """All nodes, sorted by name."""
        return tuple(self._nodes[name] for name in sorted(self._nodes))

    @property
    def links(self) -> tuple[LinkInfo, ...]:
        """All links, in the graph's (sorted) edge order."""
        return tuple(data["info"] for _, _, data in self.graph.edges(data=True))

    def __contains__(self, name: object) -> bool:
        """``name in topology``: whether a node of that name exists."""
        return name in self._nodes

    def __repr__(self) -> str:
        """Sizes only: a topology can have thousands of nodes."""
        return f"Topology({len(self._nodes)} nodes, {self.graph.number_of_edges()} links)"


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """An end-to-end pair wanted between ``src`` and ``dst`` with at least ``min_fidelity``.

    ``purification`` / ``purification_rounds`` say how each link pair is
    purified before swapping; rounds are ignored when the scheme is ``"none"``.
    """

    src: str
    dst: str
    min_fidelity: float
    purification: str = "none"
    purification_rounds: int = 0

    def __post_init__(self) -> None:
        """An impossible request is an error at the boundary, not a silent refusal later."""
        if self.src == self.dst:
            raise ValueError(f"route request needs two distinct nodes, got {self.src!r} twice")
        if not 0.0 <= self.min_fidelity <= 1.0:
            raise ValueError(f"min_fidelity must be in [0, 1], got {self.min_fidelity!r}")
        _check_purification(self.purification, self.purification_rounds)


@dataclass(frozen=True, slots=True)
class Route:
    """A chosen path with the strategy's closed-form estimates for it.

    ``expected_fidelity`` is an upper bound (see ``estimate_path_fidelity``) and
    ``expected_time_s`` an approximation (see ``estimate_path_time``).
    """

    path: tuple[str, ...]
    expected_fidelity: float
    expected_time_s: float

    @property
    def hops(self) -> int:
        """Number of links on the path."""
        return len(self.path) - 1


@dataclass(frozen=True, slots=True)
class RouteRefusal:
    """Why no route is offered: the ends are not connected, or no path can reach the fidelity."""

    reason: RefusalReason
    detail: str


@runtime_checkable
class RoutingStrategy(Protocol):
    """The routing plug-in contract: ``router.route(topology, request)``.

    Implementations must be deterministic, must not mutate the topology, and
    must return a simple path from ``request.src`` to ``request.dst``.
    """

    @property
    def name(self) -> str:
        """Registry name of the strategy, e.g. ``"shortest-hops"``."""
        ...

    def route(self, topology: Topology, request: RouteRequest) -> Route | RouteRefusal:
        """Choose a path for ``request`` or say why there is none."""
        ...


# ---------------------------------------------------------------------- estimates


def _check_purification(scheme: str, rounds: int) -> None:
    """Name the bad argument instead of failing deep in a formula."""
    if scheme not in PURIFICATION_SCHEMES:
        choices = ", ".join(repr(s) for s in PURIFICATION_SCHEMES)
        raise ValueError(f"unknown purification scheme {scheme!r}; available: {choices}")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise ValueError(f"purification_rounds must be an integer >= 0, got {rounds!r}")


def link_fidelity_after_purification(link: LinkInfo, scheme: str, rounds: int) -> float:
    """Fidelity of one link pair after ``rounds`` of recurrence purification.

    Each round combines two pairs that went through the previous round, so
    round r consumes 2^r link pairs. BBPSSW twirls back to a Werner state and
    uses the closed form each round; DEJMPS starts from the Werner-diagonal
    state of the link fidelity and keeps the full Bell-diagonal state between
    rounds. The figure is conditional on every round succeeding.
    """
    _check_purification(scheme, rounds)
    fidelity = link.fidelity
    if scheme == "none" or rounds == 0:
        return fidelity
    if scheme == "bbpssw":
        for _ in range(rounds):
            _, fidelity = bbpssw(fidelity)
        return fidelity
    other = (1.0 - fidelity) / 3.0
    state = (fidelity, other, other, other)
    for _ in range(rounds):
        _, state = dejmps(state)
        total = math.fsum(state)
        state = (state[0] / total, state[1] / total, state[2] / total, state[3] / total)
    return state[0]


def _path_delay_s(links: Sequence[LinkInfo]) -> float:
    """Total one-way classical delay along the path."""
    return math.fsum(link.delay_s for link in links)


def _check_path(topology: Topology, path: Sequence[str]) -> list[LinkInfo]:
    """Links of a path of at least one hop, or a clear error."""
    if len(path) < 2:
        raise ValueError(f"a path needs at least two nodes, got {tuple(path)!r}")
    return topology.path_links(path)


def estimate_path_fidelity(
    topology: Topology,
    path: Sequence[str],
    purification: str = "none",
    rounds: int = 0,
) -> float:
    """Best-case fidelity of the end-to-end pair delivered over ``path``.

    Swapping Werner pairs multiplies their Werner parameters, so w is the
    product over the (purified) link pairs. On a path with repeaters the
    source's qubit then waits at least for a swap record from the first
    repeater, one first-hop delay, in depolarising memory:
    w *= e^(-t/T_src). This is an upper bound: it ignores the time link
    pairs wait for each other, memory decoherence elsewhere, and gate and
    measurement noise.
    """
    links = _check_path(topology, path)
    w = math.prod(
        werner_parameter(link_fidelity_after_purification(link, purification, rounds))
        for link in links
    )
    memory_t_s = topology.node(path[0]).memory_t_s
    if len(links) > 1 and memory_t_s is not None:
        w *= math.exp(-links[0].delay_s / memory_t_s)
    return fidelity_from_werner(w)


def estimate_path_time(topology: Topology, path: Sequence[str]) -> float:
    """Approximate expected time to the first end-to-end pair over ``path``, in seconds.

    Links are generated in parallel and all must hold a pair at once, so the
    wait is the maximum of n geometric waits. Approximated by treating every
    link as the slowest one (mean cycle_s / p) and the waits as exponential,
    whose maximum has mean H_n times the single mean (H_n the n-th harmonic
    number). Exact for one link, accurate for p << 1, pessimistic when p is
    close to 1. The classical delay of the path (swap outcomes travelling) is
    added. Purification overhead is not included.
    """
    links = _check_path(topology, path)
    slowest_s = max(link.expected_generation_s for link in links)
    harmonic = math.fsum(1.0 / k for k in range(1, len(links) + 1))
    return slowest_s * harmonic + _path_delay_s(links)


# ------------------------------------------------------------------- strategies


def _check_endpoints(topology: Topology, request: RouteRequest) -> None:
    """Unknown endpoints are a scenario error, not a routing outcome."""
    for role, name in (("src", request.src), ("dst", request.dst)):
        if name not in topology:
            raise KeyError(f"route request {role} names unknown node {name!r}")


def _no_path(request: RouteRequest) -> RouteRefusal:
    """The refusal every strategy gives for disconnected endpoints."""
    return RouteRefusal(
        "no_path", f"no path between {request.src!r} and {request.dst!r}: they are not connected"
    )


def _connected(topology: Topology, request: RouteRequest) -> bool:
    """Whether src and dst share a connected component."""
    return bool(nx.has_path(topology.graph, request.src, request.dst))


def _format_path(path: Sequence[str]) -> str:
    """Render a path for messages."""
    return " - ".join(path)


def _finish(
    topology: Topology, request: RouteRequest, path: Sequence[str], strategy: str
) -> Route | RouteRefusal:
    """Attach the estimates to a chosen path, refusing it if even the upper bound falls short.

    Every strategy therefore keeps the same contract: a ``Route`` never
    promises less than the requested minimum fidelity.
    """
    fidelity = estimate_path_fidelity(
        topology, path, request.purification, request.purification_rounds
    )
    if fidelity < request.min_fidelity - FIDELITY_TOLERANCE:
        return RouteRefusal(
            "fidelity_unreachable",
            f"{strategy}: estimated fidelity {fidelity:.6f} on path {_format_path(path)} "
            f"is below the requested {request.min_fidelity:.6f}",
        )
    return Route(tuple(path), fidelity, estimate_path_time(topology, path))


def _greedy_smallest_path(
    topology: Topology, src: str, dst: str, distance: dict[str, float], weighted: bool
) -> list[str]:
    """Lexicographically smallest optimal path, walking from ``src`` along shrinking distance.

    ``distance`` holds each node's optimal distance to ``dst``; at each step the
    smallest-named neighbour that stays on an optimal path is taken, which gives
    the lexicographically smallest optimal path in linear time.
    """
    path = [src]
    node = src
    while node != dst:
        here = distance[node]
        step: str | None = None
        for neighbour in topology.neighbours(node):
            there = distance.get(neighbour)
            if there is None or not there < here:
                continue
            cost = _edge_weight(topology, node, neighbour) if weighted else 1.0
            if cost + there <= here * (1.0 + _RELATIVE_TOLERANCE):
                step = neighbour
                break
        if step is None:  # only if rounding defeats the tolerance; fall back to networkx
            weight = _time_weight if weighted else None
            tail: list[str] = nx.shortest_path(topology.graph, node, dst, weight=weight)
            return path + tail[1:]
        path.append(step)
        node = step
    return path


def _edge_weight(topology: Topology, u: str, v: str) -> float:
    """Expected generation time of the link u-v, the weight ``ExpectedTime`` minimises."""
    return topology.link(u, v).expected_generation_s


def _time_weight(u: str, v: str, data: dict[str, LinkInfo]) -> float:
    """networkx weight callback reading the edge's ``LinkInfo``."""
    return data["info"].expected_generation_s


class ShortestHops:
    """Fewest links; ties go to the lexicographically smallest path.

    The classic baseline: cheap and predictable, blind to loss and noise.
    """

    name = "shortest-hops"

    def route(self, topology: Topology, request: RouteRequest) -> Route | RouteRefusal:
        """Breadth-first distances from dst, then the smallest-named shortest walk from src."""
        _check_endpoints(topology, request)
        hops: dict[str, int] = nx.single_source_shortest_path_length(topology.graph, request.dst)
        if request.src not in hops:
            return _no_path(request)
        distance = {node: float(d) for node, d in hops.items()}
        path = _greedy_smallest_path(topology, request.src, request.dst, distance, False)
        return _finish(topology, request, path, self.name)

    def __repr__(self) -> str:
        """Name the strategy in traces and error messages."""
        return "ShortestHops()"


class ExpectedTime:
    """Least total expected generation time, edge weight cycle_s / success_probability.

    Prefers fast links even over more hops; ties go to the lexicographically
    smallest path.
    """

    name = "expected-time"

    def route(self, topology: Topology, request: RouteRequest) -> Route | RouteRefusal:
        """Dijkstra distances from dst, then the smallest-named optimal walk from src."""
        _check_endpoints(topology, request)
        distance: dict[str, float] = nx.single_source_dijkstra_path_length(
            topology.graph, request.dst, weight=_time_weight
        )
        if request.src not in distance:
            return _no_path(request)
        path = _greedy_smallest_path(topology, request.src, request.dst, distance, True)
        return _finish(topology, request, path, self.name)

    def __repr__(self) -> str:
        """Name the strategy in traces and error messages."""
        return "ExpectedTime()"


class FidelityAware:
    """Best estimated fidelity among the ``k`` shortest simple paths by hops.

    Limiting the search to k short paths keeps it cheap on large graphs while
    still letting a longer clean path beat a short noisy one. Ties on fidelity
    go to the shorter expected time, then fewer hops, then the smaller path.
    """

    name = "fidelity-aware"

    __slots__ = ("k",)

    def __init__(self, k: int = 8) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"fidelity-aware routing needs k >= 1 candidate paths, got {k!r}")
        self.k = k

    def candidates(self, topology: Topology, request: RouteRequest) -> list[tuple[str, ...]]:
        """Up to ``k`` shortest simple paths by hops (Yen's algorithm via networkx)."""
        paths: Iterator[list[str]] = nx.shortest_simple_paths(
            topology.graph, request.src, request.dst
        )
        return [tuple(path) for path in itertools.islice(paths, self.k)]

    def route(self, topology: Topology, request: RouteRequest) -> Route | RouteRefusal:
        """Score every candidate, keep those meeting min_fidelity, pick the best."""
        _check_endpoints(topology, request)
        if not _connected(topology, request):
            return _no_path(request)
        scored = [
            (
                estimate_path_fidelity(
                    topology, path, request.purification, request.purification_rounds
                ),
                path,
            )
            for path in self.candidates(topology, request)
        ]
        best_fidelity = max(fidelity for fidelity, _ in scored)
        if best_fidelity < request.min_fidelity - FIDELITY_TOLERANCE:
            best_path = min(
                (path for fidelity, path in scored if fidelity == best_fidelity),
                key=lambda p: (len(p), p),
            )
            return RouteRefusal(
                "fidelity_unreachable",
                f"{self.name}: best estimated fidelity {best_fidelity:.6f} "
                f"(path {_format_path(best_path)}, among {len(scored)} candidate paths) "
                f"is below the requested {request.min_fidelity:.6f}",
            )
        top = [
            (path, estimate_path_time(topology, path))
            for fidelity, path in scored
            if fidelity >= best_fidelity - FIDELITY_TOLERANCE
        ]
        fastest = min(time_s for _, time_s in top)
        ties = [path for path, time_s in top if time_s <= fastest * (1.0 + _RELATIVE_TOLERANCE)]
        path = min(ties, key=lambda p: (len(p), p))
        fidelity = next(f for f, p in scored if p == path)
        return Route(path, fidelity, dict(top)[path])

    def __repr__(self) -> str:
        """Name the strategy and its k in traces and error messages."""
        return f"FidelityAware(k={self.k})"


__all__ = [
    "PURIFICATION_SCHEMES",
    "ExpectedTime",
    "FidelityAware",
    "LinkInfo",
    "NodeInfo",
    "PurificationScheme",
    "RefusalReason",
    "Route",
    "RouteRefusal",
    "RouteRequest",
    "RoutingStrategy",
    "ShortestHops",
    "Topology",
    "estimate_path_fidelity",
    "estimate_path_time",
    "link_fidelity_after_purification",
]
