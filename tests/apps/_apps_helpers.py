"""Scenarios for the application tests: a chain of abstract or double-click links."""

from __future__ import annotations

from typing import Any

from qstack.network import Network
from qstack.runner import RunReport, run_network
from qstack.scenario import parse_scenario


def chain_scenario(
    request: dict[str, Any],
    *,
    hops: int = 1,
    link: dict[str, Any] | None = None,
    node: dict[str, Any] | None = None,
    spacing_km: float = 0.0,
    seed: int = 1,
    until_s: float = 100.0,
) -> dict[str, Any]:
    """Nodes n0 .. n<hops> in a chain; the request goes from n0 to the last."""
    link_defaults = link or {
        "model": "abstract",
        "success_probability": 0.5,
        "attempt_duration_s": 1e-6,
        "fidelity": 1.0,
    }
    return {
        "seed": seed,
        "run": {"until_s": until_s},
        "topology": {
            "kind": "chain",
            "nodes": hops + 1,
            "spacing_km": spacing_km,
            "node": node or {"qubits": 4},
            "link": link_defaults,
        },
        "requests": [{"src": "n0", "dst": f"n{hops}", **request}],
    }


def run(scenario: dict[str, Any], seed: int | None = None) -> tuple[Network, RunReport]:
    network = Network(parse_scenario(scenario), seed)
    return network, run_network(network)
