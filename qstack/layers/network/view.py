"""What a node knows of the network when it routes.

:class:`Topology` is the static graph built once per run from the scenario
(nodes, links and their closed-form figures). :class:`NetworkView` is one
node's view of it at the moment it routes: the topology without the nodes
and links it has been told are down, its own load, and its own seeded
random stream. A routing strategy sees only a view, never the simulator's
ground truth.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What routing needs to know of a node.

    ``memory_t_s`` is the depolarising time constant of its memory in seconds;
    ``None`` means a perfect memory. ``swap_success_probability``: how often
    its Bell-state measurement for a swap succeeds.
    """

    name: str
    qubits: int
    memory_t_s: float | None
    swap_success_probability: float = 1.0

    def __post_init__(self) -> None:
        """Reject bad node data at construction, where the error can name the field."""
        if not self.name:
            raise ValueError("node name must be a non-empty string")
        if self.qubits < 0:
            raise ValueError(f"node {self.name!r}: qubits must be >= 0, got {self.qubits!r}")
        if not 0.0 < self.swap_success_probability <= 1.0:
            raise ValueError(
                f"node {self.name!r}: swap_success_probability must be in (0, 1], "
                f"got {self.swap_success_probability!r}"
            )
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

    __slots__ = ("_nodes", "graph", "lossy_swap_nodes")

    def __init__(self, nodes: Sequence[NodeInfo], links: Sequence[LinkInfo]) -> None:
        self._nodes: dict[str, NodeInfo] = {}
        for node in nodes:
            if node.name in self._nodes:
                raise ValueError(f"duplicate node {node.name!r} in topology")
            self._nodes[node.name] = node
        #: The nodes whose swaps can fail (``swap_success_probability`` < 1).
        self.lossy_swap_nodes = frozenset(
            node.name for node in nodes if node.swap_success_probability < 1.0
        )
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
class NodeLoad:
    """A node's own load: the circuits it is serving (their paths, which it
    learnt when they were installed) and its free memory."""

    circuits: tuple[tuple[str, ...], ...]
    qubits_free: int
    qubits: int

    def link_use(self, a: str, b: str) -> int:
        """How many of this node's circuits run over the link a-b."""
        pair = {a, b}
        return sum(
            1 for path in self.circuits for u, v in itertools.pairwise(path) if {u, v} == pair
        )


class NetworkView(Topology):
    """One node's view of the network when it routes.

    It is a :class:`Topology` (every strategy written for the static graph
    works on it) whose ``graph`` leaves out the nodes and links the node
    has been told are down. ``local`` is the node routing, ``load`` its own
    load, ``rng`` its routing stream (seeded per run and node).
    """

    __slots__ = ("down_links", "down_nodes", "load", "local", "rng", "static")

    static: Topology
    local: str
    down_nodes: frozenset[str]
    down_links: frozenset[frozenset[str]]
    load: NodeLoad
    rng: np.random.Generator

    def __init__(
        self,
        static: Topology,
        local: str,
        load: NodeLoad,
        rng: np.random.Generator,
        down_nodes: Iterable[str] = (),
        down_links: Iterable[frozenset[str]] = (),
    ) -> None:
        self.static = static
        self.local = local
        self.load = load
        self.rng = rng
        self.down_nodes = frozenset(down_nodes)
        self.down_links = frozenset(down_links)
        self._nodes = static._nodes
        self.lossy_swap_nodes = static.lossy_swap_nodes
        if self.down_nodes or self.down_links:
            edges = [tuple(sorted(link)) for link in self.down_links]
            self.graph = nx.restricted_view(static.graph, sorted(self.down_nodes), edges)
        else:
            self.graph = static.graph

    def __repr__(self) -> str:
        return (
            f"NetworkView(local={self.local!r}, {len(self._nodes)} nodes, "
            f"{len(self.down_nodes)} down, {len(self.down_links)} links down)"
        )
