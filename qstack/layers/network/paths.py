"""Optimal paths for the routing strategies: distances to the destination,
then the lexicographically smallest optimal walk along them."""

from __future__ import annotations

import networkx as nx

from qstack.layers.network.view import LinkInfo, Topology

#: Relative tolerance when comparing path costs (float sums of link times).
RELATIVE_TOLERANCE = 1e-12


def greedy_smallest_path(
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
            if cost + there <= here * (1.0 + RELATIVE_TOLERANCE):
                step = neighbour
                break
        if step is None:  # only if rounding defeats the tolerance; fall back to networkx
            weight = time_weight if weighted else None
            tail: list[str] = nx.shortest_path(topology.graph, node, dst, weight=weight)
            return path + tail[1:]
        path.append(step)
        node = step
    return path


def hops_within_reach(graph: nx.Graph, dst: str, src: str) -> dict[str, float]:
    """Hops to ``dst`` of every node no farther from it than ``src``: breadth
    first from dst, stopping once src's level is complete, which is all a
    shortest walk from src needs (a request across a large network explores
    its neighbourhood, not the whole graph)."""
    distance = {dst: 0.0}
    adjacency = graph.adj
    level = [dst]
    hops = 0.0
    while level and src not in distance:
        hops += 1.0
        following = []
        for node in level:
            for neighbour in adjacency[node]:
                if neighbour not in distance:
                    distance[neighbour] = hops
                    following.append(neighbour)
        level = following
    return distance


def _edge_weight(topology: Topology, u: str, v: str) -> float:
    """Expected generation time of the link u-v, the weight ``ExpectedTime`` minimises."""
    return topology.link(u, v).expected_generation_s


def time_weight(u: str, v: str, data: dict[str, LinkInfo]) -> float:
    """networkx weight callback reading the edge's ``LinkInfo``."""
    return data["info"].expected_generation_s
