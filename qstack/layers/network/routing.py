"""Routing strategies of the network layer.

A strategy maps (view, request) to a path, or to an explicit refusal, with
closed-form estimates of the fidelity and time the path can deliver. The
view (:class:`~qstack.layers.network.view.NetworkView`) is what the routing
node knows: the topology without what it was told is down, its own load and
its random stream. The estimates come from ``qstack.physics.formulas`` so
that routing and the validation tests agree on the physics. The built-in
strategies are deterministic: the same view and request give the same
answer regardless of input order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import networkx as nx

from qstack.layers.link.messages import CreateType
from qstack.layers.network.paths import (
    RELATIVE_TOLERANCE,
    greedy_smallest_path,
    hops_within_reach,
    time_weight,
)
from qstack.layers.network.policies import Bbpssw, Dejmps, PurificationScheme
from qstack.layers.network.view import LinkInfo, NetworkView, NodeInfo, NodeLoad, Topology
from qstack.physics.formulas import fidelity_from_werner, werner_parameter

#: Purification schemes routing knows by name without a registry.
BUILTIN_PURIFICATION: dict[str, PurificationScheme] = {"bbpssw": Bbpssw(), "dejmps": Dejmps()}
PURIFICATION_SCHEMES: tuple[str, ...] = ("none", *BUILTIN_PURIFICATION)

RefusalReason = Literal["no_path", "fidelity_unreachable", "resource_shortage"]
REFUSAL_REASONS: tuple[str, ...] = ("no_path", "fidelity_unreachable", "resource_shortage")

FIDELITY_TOLERANCE = 1e-12
"""Fidelities this close count as equal, so float rounding never flips a decision."""


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """An end-to-end pair wanted between ``src`` and ``dst`` with at least ``min_fidelity``.

    ``purification`` / ``purification_rounds`` say how each link pair is
    purified before swapping (a built-in scheme's name, ``"none"``, or a
    scheme object); rounds are ignored when the scheme is ``"none"``. The
    rest describes the request as its source knows it: the network layer's
    request id and the application's name for it, its priority (lower
    first), the pairs it wants and whether they are kept or measured.
    """

    src: str
    dst: str
    min_fidelity: float
    purification: str | PurificationScheme = "none"
    purification_rounds: int = 0
    request_id: str = ""
    name: str | None = None
    priority: int = 0
    pairs: int = 1
    type: CreateType = "keep"

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
    """Why no route is offered: the ends are not connected, no path can reach
    the fidelity, or (a strategy watching load) the usable paths are too busy."""

    reason: RefusalReason
    detail: str


@runtime_checkable
class RoutingStrategy(Protocol):
    """The routing plug-in contract: ``router.route(view, request)``.

    ``view`` is a :class:`NetworkView` (a :class:`Topology`: strategies
    written for the static graph work on it). Implementations must not
    mutate it, must draw randomness only from ``view.rng``, and must return
    a simple path from ``request.src`` to ``request.dst`` over links of the
    view, or a :class:`RouteRefusal`. The network layer checks the answer and
    ends the request with a clear error naming the strategy if it is not.
    """

    @property
    def name(self) -> str:
        """Registry name of the strategy, e.g. ``"shortest-hops"``."""
        ...

    def route(self, view: NetworkView, request: RouteRequest) -> Route | RouteRefusal:
        """Choose a path for ``request`` or say why there is none."""
        ...


def check_route(
    strategy: RoutingStrategy, view: NetworkView, request: RouteRequest
) -> Route | tuple[RefusalReason | Literal["invalid"], str]:
    """Ask ``strategy`` and check its answer: a :class:`Route` whose path is
    a simple path from the source to the destination over links of the
    view, or a refusal with a known reason. Anything else (an exception
    included) comes back as ``("invalid", why)`` naming the strategy."""
    name = str(getattr(strategy, "name", type(strategy).__name__))
    try:
        answer = strategy.route(view, request)
    except Exception as error:  # a plug-in's own failure, named rather than raised
        return "invalid", f"routing strategy {name!r} failed: {type(error).__name__}: {error}"
    if isinstance(answer, RouteRefusal):
        if answer.reason not in REFUSAL_REASONS:
            allowed = ", ".join(REFUSAL_REASONS)
            return (
                "invalid",
                f"routing strategy {name!r} refused with reason {answer.reason!r}; "
                f"allowed: {allowed}",
            )
        return answer.reason, str(answer.detail)
    if not isinstance(answer, Route):
        return (
            "invalid",
            f"routing strategy {name!r} answered {_short(answer)}: "
            "expected a Route or a RouteRefusal",
        )
    problem = _path_problem(view, request, answer)
    if problem is not None:
        return (
            "invalid",
            f"routing strategy {name!r} answered path {_short(answer.path)}: {problem}",
        )
    return answer


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _path_problem(view: NetworkView, request: RouteRequest, route: Route) -> str | None:
    path = route.path
    if not isinstance(path, tuple) or not all(isinstance(node, str) for node in path):
        return "a path is a tuple of node names"
    if len(path) < 2:
        return "a path needs at least two nodes"
    if path[0] != request.src:
        return f"it does not start at the source {request.src!r}"
    if path[-1] != request.dst:
        return f"it does not end at the destination {request.dst!r}"
    if len(set(path)) != len(path):
        return "it visits a node twice"
    for a, b in itertools.pairwise(path):
        if a not in view or b not in view:
            return f"{a if a not in view else b!r} is not a node of the network"
        if not view.graph.has_edge(a, b):
            return f"no usable link between {a!r} and {b!r}"
    if not 0.0 <= route.expected_fidelity <= 1.0:
        return f"expected_fidelity = {route.expected_fidelity!r} is not in [0, 1]"
    return None


# ---------------------------------------------------------------------- estimates


def _check_purification(scheme: str | PurificationScheme, rounds: int) -> None:
    """Name the bad argument instead of failing deep in a formula."""
    if isinstance(scheme, str) and scheme not in PURIFICATION_SCHEMES:
        choices = ", ".join(repr(s) for s in PURIFICATION_SCHEMES)
        raise ValueError(f"unknown purification scheme {scheme!r}; available: {choices}")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise ValueError(f"purification_rounds must be an integer >= 0, got {rounds!r}")


def link_fidelity_after_purification(
    link: LinkInfo, scheme: str | PurificationScheme, rounds: int
) -> float:
    """Fidelity of one link pair after ``rounds`` of recurrence purification,
    conditional on every round succeeding (round r consumes 2^r link pairs):
    the scheme's own closed form (see :mod:`qstack.layers.network.policies`)."""
    _check_purification(scheme, rounds)
    if scheme == "none" or rounds == 0:
        return link.fidelity
    resolved = BUILTIN_PURIFICATION[scheme] if isinstance(scheme, str) else scheme
    return resolved.fidelity_after(link.fidelity, rounds)


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
    purification: str | PurificationScheme = "none",
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


class ShortestHops:
    """Fewest links; ties go to the lexicographically smallest path.

    The classic baseline: cheap and predictable, blind to loss and noise.
    """

    name = "shortest-hops"

    def route(self, topology: Topology, request: RouteRequest) -> Route | RouteRefusal:
        """Breadth-first distances from dst, then the smallest-named shortest walk from src."""
        _check_endpoints(topology, request)
        distance = hops_within_reach(topology.graph, request.dst, request.src)
        if request.src not in distance:
            return _no_path(request)
        path = greedy_smallest_path(topology, request.src, request.dst, distance, False)
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
            topology.graph, request.dst, weight=time_weight
        )
        if request.src not in distance:
            return _no_path(request)
        path = greedy_smallest_path(topology, request.src, request.dst, distance, True)
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
        ties = [path for path, time_s in top if time_s <= fastest * (1.0 + RELATIVE_TOLERANCE)]
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
    "NetworkView",
    "NodeInfo",
    "NodeLoad",
    "PurificationScheme",
    "RefusalReason",
    "Route",
    "RouteRefusal",
    "RouteRequest",
    "RoutingStrategy",
    "ShortestHops",
    "Topology",
    "check_route",
    "estimate_path_fidelity",
    "estimate_path_time",
    "link_fidelity_after_purification",
]
