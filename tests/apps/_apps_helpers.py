"""Scenarios for the application tests: a chain of abstract or double-click links."""

from __future__ import annotations

import math
from typing import Any

from qstack.layers.app.bb84 import Bb84RequestReport
from qstack.network import Network
from qstack.runner import RunReport, run_network
from qstack.scenario import parse_scenario
from qstack.sim.trace import MemoryTracer


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


def werner_link(fidelity: float) -> dict[str, Any]:
    """An abstract link delivering Werner pairs of ``fidelity`` (p = 0.5 per 1 us attempt)."""
    return {
        "model": "abstract",
        "success_probability": 0.5,
        "attempt_duration_s": 1e-6,
        "fidelity": fidelity,
    }


def star_scenario(
    app: str,
    members: int,
    pairs: int,
    *,
    link: dict[str, Any] | None = None,
    node: dict[str, Any] | None = None,
    seed: int = 1,
    until_s: float = 100.0,
    **fields: Any,
) -> dict[str, Any]:
    """A centre ``c`` linked to members m1 .. m<members - 1> (link i is i km
    long, so the members hear from the centre at different times); one
    ``app`` request over all of them, ``c`` the source (with two qubits per
    member: one per link for the pairs, and room for the link layer)."""
    link_defaults = link or werner_link(1.0)
    others = [f"m{i}" for i in range(1, members)]
    node_fields = {"qubits": 4, **(node or {})}
    return {
        "seed": seed,
        "run": {"until_s": until_s},
        "nodes": [{"name": "c", **node_fields, "qubits": 2 * members}]
        + [{"name": m, **node_fields} for m in others],
        "links": [
            {"a": "c", "b": m, "length_km": float(i), **link_defaults}
            for i, m in enumerate(others, start=1)
        ],
        "requests": [
            {
                "app": app,
                "src": "c",
                "dst": others[0],
                "pairs": pairs,
                "members": ["c", *others],
                **fields,
            }
        ],
    }


def all_free(network: Network) -> bool:
    """No qubit of any node is held (every application freed what it used)."""
    return all(memory.free_count == memory.size for memory in network.memories.values())


#: Gobby, Yuan & Shields's hardware as Ma et al. use it (qstack.qkd.decoy.GYS_LINK):
#: alpha 0.21 dB/km, eta_Bob 4.5 %, Y0 = 1.7e-6 for both detectors together.
GYS_LINK_FIELDS = {
    "model": "double-click",
    "attenuation_db_per_km": 0.21,
    "detector_efficiency": 0.045,
    "dark_count_probability": 1 - math.sqrt(1 - 1.7e-6),
}


def bb84_chain(
    length_km: float, pulses: int, nodes: int = 2, seed: int = 5, **fields: Any
) -> dict[str, Any]:
    """A chain n0 - n1 - ... of GYS links; one bb84 request (e_detector 3.3 %)
    from n0 to the last node."""
    return {
        "seed": seed,
        "run": {"until_s": 100.0},
        "nodes": [{"name": f"n{i}", "qubits": 2} for i in range(nodes)],
        "links": [
            {"a": f"n{i}", "b": f"n{i + 1}", "length_km": length_km, **GYS_LINK_FIELDS}
            for i in range(nodes - 1)
        ],
        "requests": [
            {
                "app": "bb84",
                "src": "n0",
                "dst": f"n{nodes - 1}",
                "pairs": pulses,
                "misalignment": 0.033,
                **fields,
            }
        ],
    }


def run_traced(
    scenario: dict[str, Any], tracer: MemoryTracer | None = None
) -> tuple[Network, RunReport]:
    network = Network(parse_scenario(scenario), tracer=tracer)
    return network, run_network(network)


def bb84_report(report: RunReport) -> Bb84RequestReport:
    entry = report.requests[0]
    assert isinstance(entry, Bb84RequestReport)
    return entry
