"""Conformant means usable: a link protocol that passes the kit runs in a
network unchanged, because the harness and the network build link ends
through the same code with the same context. Checked on the built-in link
layer, on a subclass of it (``examples/custom_link.py``) and on one written
from the documented service alone (``examples/protocol_link.py``)."""

from __future__ import annotations

import pytest

import qstack
from examples.custom_link import FirstComeLink
from examples.protocol_link import FifoLink
from qstack.conformance import run_contract
from qstack.layers.link.egp import LinkLayer
from qstack.layers.link.service import LinkLayerFactory

PROTOCOLS: list[LinkLayerFactory] = [LinkLayer, FirstComeLink, FifoLink]

CHAIN = {
    "seed": 4,
    "topology": {
        "kind": "chain",
        "nodes": 5,
        "spacing_km": 10.0,
        "node": {"qubits": 4},
        "link": {"model": "double-click"},
    },
    "requests": [
        {"app": "pairs", "src": "n0", "dst": "n4", "pairs": 60},
        {"app": "pairs", "src": "n3", "dst": "n1", "pairs": 40, "start_s": 0.01},
        {"app": "qkd", "src": "n1", "dst": "n4", "pairs": 200},
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda p: p.__name__)
def test_a_conformant_link_protocol_runs_in_a_five_node_network(
    protocol: LinkLayerFactory,
) -> None:
    report = run_contract("link", protocol, max_examples=8, seed=1)
    assert report.ok(), report.table()
    run = qstack.run(CHAIN, link_layer=protocol)
    assert [request.status for request in run.requests] == ["done", "done", "done"]
    assert [request.delivered for request in run.requests] == [60, 40, 200]
