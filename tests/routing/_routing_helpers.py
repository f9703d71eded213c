"""Small topologies the routing tests share."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from qstack.layers.network.routing import LinkInfo, NodeInfo, Topology


def node(name: str, memory_t_s: float | None = None, qubits: int = 4) -> NodeInfo:
    """A node with enough qubits to swap; perfect memory unless told."""
    return NodeInfo(name=name, qubits=qubits, memory_t_s=memory_t_s)


def link(
    a: str,
    b: str,
    *,
    p: float = 0.1,
    fidelity: float = 0.95,
    cycle_s: float = 1e-3,
    delay_s: float = 0.0,
    length_km: float = 10.0,
) -> LinkInfo:
    """A link whose figures default to something unremarkable."""
    return LinkInfo(
        a=a,
        b=b,
        length_km=length_km,
        success_probability=p,
        cycle_s=cycle_s,
        fidelity=fidelity,
        delay_s=delay_s,
    )


def topology_of(links: Sequence[LinkInfo], extra_nodes: Sequence[str] = ()) -> Topology:
    """Topology whose nodes are those the links name (plus any isolated extras)."""
    names = sorted({end for item in links for end in (item.a, item.b)} | set(extra_nodes))
    return Topology([node(name) for name in names], links)


def chain(
    fidelities: Sequence[float],
    *,
    p: float = 0.1,
    delay_s: float = 0.0,
    memory_t_s: float | None = None,
) -> Topology:
    """Chain n0 - n1 - ... with one link per fidelity; every node has the same memory."""
    links = [
        link(f"n{i}", f"n{i + 1}", p=p, fidelity=f, delay_s=delay_s)
        for i, f in enumerate(fidelities)
    ]
    nodes = [node(f"n{i}", memory_t_s) for i in range(len(fidelities) + 1)]
    return Topology(nodes, links)


def grid(rows: int, cols: int) -> Topology:
    """rows x cols grid of identical links, nodes named r<i>c<j>."""
    links: list[LinkInfo] = []
    for i, j in itertools.product(range(rows), range(cols)):
        if i + 1 < rows:
            links.append(link(f"r{i}c{j}", f"r{i + 1}c{j}"))
        if j + 1 < cols:
            links.append(link(f"r{i}c{j}", f"r{i}c{j + 1}"))
    return topology_of(links)


SHORT_PATH = ("s", "m", "d")
FAST_PATH = ("s", "f1", "f2", "d")
CLEAN_PATH = ("s", "g1", "g2", "g3", "d")


def diamond() -> Topology:
    """Three s-d paths built so that each built-in strategy prefers a different one.

    short (2 hops): slow (p = 0.01) and middling fidelity;
    fast (3 hops): quick (p = 0.9) but noisy (F = 0.85);
    clean (4 hops): moderately quick (p = 0.1) and very clean (F = 0.995).
    """
    links: list[LinkInfo] = []
    for path, p, fidelity in (
        (SHORT_PATH, 0.01, 0.97),
        (FAST_PATH, 0.9, 0.85),
        (CLEAN_PATH, 0.1, 0.995),
    ):
        links.extend(link(u, v, p=p, fidelity=fidelity) for u, v in itertools.pairwise(path))
    return topology_of(links)
