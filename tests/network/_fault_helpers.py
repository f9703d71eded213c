"""Scenario builders of the fault tests (and of the report's rerouting
test): small networks of abstract links, requests, fault schedules."""

from __future__ import annotations

from typing import Any

#: A ring a-b-c-d-a: a to c is shortest through b (2 x 10 km) and the long
#: way round through d (2 x 15 km).
RING = (("a", "b", 10.0), ("b", "c", 10.0), ("c", "d", 15.0), ("d", "a", 15.0))


def scenario(
    links: tuple[tuple[str, str, float], ...],
    requests: list[dict[str, Any]],
    faults: list[dict[str, Any]] | None = None,
    *,
    reroute: bool = False,
    qubits: int = 4,
    seed: int = 3,
    until_s: float = 30.0,
) -> dict[str, Any]:
    names = sorted({end for a, b, _ in links for end in (a, b)})
    return {
        "seed": seed,
        "run": {"until_s": until_s},
        "network": {"reroute": reroute},
        "nodes": [{"name": name, "qubits": qubits} for name in names],
        "links": [
            {
                "a": a,
                "b": b,
                "length_km": km,
                "model": "abstract",
                "success_probability": 0.4,
                "attempt_duration_s": 2e-5,
                "fidelity": 0.99,
            }
            for a, b, km in links
        ],
        "requests": requests,
        "faults": faults or [],
    }


def chain(n: int, km: float = 5.0) -> tuple[tuple[str, str, float], ...]:
    return tuple((f"n{i}", f"n{i + 1}", km) for i in range(n - 1))


def pairs_request(src: str, dst: str, pairs: int, **extra: Any) -> dict[str, Any]:
    return {"app": "pairs", "src": src, "dst": dst, "pairs": pairs, **extra}
