"""Scenario dictionaries that tests build on."""

from __future__ import annotations

from typing import Any


def two_node_scenario(
    *,
    link: dict[str, Any] | None = None,
    requests: list[dict[str, Any]] | None = None,
    qubits: int = 4,
    node_extra: dict[str, Any] | None = None,
    until_s: float = 10.0,
    seed: int = 3,
) -> dict[str, Any]:
    """Two nodes ``alice`` (the link's a end) and ``bob`` with one link."""
    link_spec = {
        "a": "alice",
        "b": "bob",
        "length_km": 10.0,
        "model": "abstract",
        "success_probability": 0.2,
        "attempt_duration_s": 1e-4,
        "fidelity": 0.95,
    }
    link_spec.update(link or {})
    node = {"qubits": qubits, **(node_extra or {})}
    return {
        "seed": seed,
        "run": {"until_s": until_s},
        "nodes": [{"name": "alice", **node}, {"name": "bob", **node}],
        "links": [link_spec],
        "requests": requests or [{"app": "pairs", "src": "alice", "dst": "bob", "pairs": 20}],
    }
