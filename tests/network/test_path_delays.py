"""A path's cumulative delays are summed once per run and shared by the
nodes of the path (memory linear in path length), and equal what a node
summing them itself (a context without ``path_delays_ps``) gets."""

from __future__ import annotations

import dataclasses

from qstack.layers.network.core import NetworkCore
from qstack.layers.network.service import path_delays_ps
from qstack.network import Network
from qstack.scenario import parse_scenario


def _chain(nodes: int) -> Network:
    return Network(
        parse_scenario(
            {
                "seed": 1,
                "run": {"until_s": 1.0},
                "topology": {
                    "kind": "chain",
                    "nodes": nodes,
                    "spacing_km": 10.0,
                    "node": {"qubits": 2},
                    "link": {"model": "double-click"},
                },
                "requests": [{"app": "pairs", "src": "n0", "dst": f"n{nodes - 1}", "pairs": 1}],
            },
            "<test>",
        )
    )


def test_delays_add_up_the_links() -> None:
    delays = {frozenset(("a", "b")): 5, frozenset(("b", "c")): 7}
    assert path_delays_ps(lambda x, y: delays[frozenset((x, y))], ("a", "b", "c")) == (0, 5, 12)
    assert path_delays_ps(lambda x, y: 1, ("a",)) == (0,)


def test_nodes_of_a_path_share_one_answer() -> None:
    network = _chain(4)
    path = tuple(f"n{i}" for i in range(4))
    entities = [network.network_entities[node] for node in path]
    assert all(isinstance(entity, NetworkCore) for entity in entities)
    answers = [entity._path_delays_ps(path) for entity in entities]  # type: ignore[attr-defined]
    assert all(answer is answers[0] for answer in answers)
    link_delay = network.link_entities["n0"]["n1"]
    assert answers[0][-1] == 3 * link_delay._delay_ps  # type: ignore[attr-defined]


def test_a_context_without_shared_delays_sums_them_itself() -> None:
    network = _chain(3)
    path = ("n0", "n1", "n2")
    entity = network.network_entities["n1"]
    assert isinstance(entity, NetworkCore)
    context = dataclasses.replace(entity.context, path_delays_ps=None)
    alone = type(entity)(context)
    assert alone._path_delays_ps(path) == entity._path_delays_ps(path)
