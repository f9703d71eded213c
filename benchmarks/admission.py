"""Requests done as load grows, with and without memory reservation.

Issue 13 asks that concurrent circuits never hold each other's memory.
Three ways to run the same load: ``none`` (circuits take memory as pairs
come, no cutoff: they can deadlock), ``cutoff`` (the same with a 10 ms
cutoff, which breaks deadlocks by discarding old pairs) and ``reserve``
(``[network] reservation``, no cutoff). On a Waxman network and a grid,
each load is run once per mode; the table gives the fraction of requests
done, how the others ended, pairs delivered and wall time.

``python benchmarks/admission.py`` prints the table (about a minute);
``--grid-full`` runs the issue's 100 x 100 grid with 10,000 requests in a
child process (wall time, peak memory, fraction done); ``--json`` prints
the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import networkx as nx

from qstack import topology
from qstack.network import Network
from qstack.runner import run_network
from qstack.scenario import Scenario

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from scale import double_click_scenario, in_child

MODES: dict[str, dict[str, Any]] = {
    "none": {},
    "cutoff": {"cutoff_s": 0.01},
    "reserve": {"reservation": True},
}
PAIRS = 10
QUBITS = 4
SEED = 1
WAXMAN = {"nodes": 100, "area_km": 31.6, "alpha": 0.095, "beta": 0.4, "until_s": 1.0}
WAXMAN_LOADS = (10, 25, 50, 100, 200)
GRID = {"side": 20, "spacing_km": 5.0, "reach": 4, "until_s": 2.0}
GRID_LOADS = (25, 50, 100, 200, 400)
FULL_GRID = {"side": 100, "spacing_km": 5.0, "reach": 4, "until_s": 2.0, "requests": 10_000}


def _scenario(
    generated: topology.GeneratedTopology,
    ends: Sequence[tuple[str, str]],
    mode: str,
    until_s: float,
) -> Scenario:
    return double_click_scenario(
        generated,
        ends,
        PAIRS,
        seed=SEED,
        qubits=QUBITS,
        until_s=until_s,
        network=MODES[mode],
        source=f"<benchmark admission {mode}>",
    )


def waxman_load(requests: int) -> tuple[topology.GeneratedTopology, list[tuple[str, str]]]:
    """A 100-node Waxman graph; ``requests`` random pairs of its largest component."""
    generated = topology.waxman(
        WAXMAN["nodes"], WAXMAN["area_km"], WAXMAN["alpha"], WAXMAN["beta"], seed=SEED
    )
    largest = sorted(max(nx.connected_components(generated.graph()), key=len))
    rng = random.Random(SEED)
    return generated, [tuple(rng.sample(largest, 2)) for _ in range(requests)]


def grid_load(
    side: int, spacing_km: float, reach: int, requests: int
) -> tuple[topology.GeneratedTopology, list[tuple[str, str]]]:
    """A side x side grid; each request between two distinct nodes at most
    ``reach`` rows and ``reach`` columns apart."""
    generated = topology.grid(side, side, spacing_km)
    names = generated.nodes
    rng = random.Random(SEED)
    ends = []
    while len(ends) < requests:
        row, col = rng.randrange(side), rng.randrange(side)
        row2 = min(max(row + rng.randint(-reach, reach), 0), side - 1)
        col2 = min(max(col + rng.randint(-reach, reach), 0), side - 1)
        if (row, col) != (row2, col2):
            ends.append((names[row * side + col], names[row2 * side + col2]))
    return generated, ends


def measure(scenario: Scenario) -> dict[str, Any]:
    start = time.perf_counter()
    network = Network(scenario)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    report = run_network(network)
    run_s = time.perf_counter() - start
    endings = Counter(
        request.status
        if request.error is None
        else f"{request.status}:{request.error.split(':', 1)[0]}"
        for request in report.requests
    )
    done = endings.get("done", 0)
    return {
        "requests": len(report.requests),
        "done_fraction": done / len(report.requests),
        "endings": dict(sorted(endings.items())),
        "delivered": sum(request.delivered for request in report.requests),
        "events": report.events,
        "sim_time_s": report.sim_time_s,
        "build_s": build_s,
        "run_s": run_s,
    }


def sweep_loads(name: str, loads: Sequence[int]) -> list[dict[str, Any]]:
    rows = []
    for requests in loads:
        if name == "waxman":
            generated, ends = waxman_load(requests)
            until_s = WAXMAN["until_s"]
        else:
            generated, ends = grid_load(GRID["side"], GRID["spacing_km"], GRID["reach"], requests)
            until_s = GRID["until_s"]
        for mode in MODES:
            row = {"network": name, "load": requests, "mode": mode}
            row.update(measure(_scenario(generated, ends, mode, until_s)))
            rows.append(row)
            print(_line(row), file=sys.stderr, flush=True)
    return rows


def _line(row: dict[str, Any]) -> str:
    others = ", ".join(f"{k} {v}" for k, v in row["endings"].items() if k != "done") or "-"
    return (
        f"  {row['network']:<7} {row['load']:>6} {row['mode']:<8} "
        f"{row['done_fraction']:>6.0%} {row['delivered']:>8} {row['run_s']:>7.2f}  {others}"
    )


def full_grid_worker(_: int) -> dict[str, Any]:
    """The issue's 100 x 100 grid with reservation (in a child: peak RSS is its own)."""
    import resource

    spec = FULL_GRID
    start = time.perf_counter()
    generated, ends = grid_load(spec["side"], spec["spacing_km"], spec["reach"], spec["requests"])
    result = measure(_scenario(generated, ends, "reserve", spec["until_s"]))
    result["wall_s"] = time.perf_counter() - start
    result["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--grid-full", action="store_true", help="also the 100 x 100 grid")
    parser.add_argument("--full-grid-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.full_grid_worker is not None:
        print(json.dumps(full_grid_worker(args.full_grid_worker)))
        return 0
    print(
        f"  {'network':<7} {'load':>6} {'mode':<8} {'done':>6} {'pairs':>8} {'run s':>7}  others",
        file=sys.stderr,
    )
    rows = sweep_loads("waxman", WAXMAN_LOADS) + sweep_loads("grid", GRID_LOADS)
    figures: dict[str, Any] = {"waxman": WAXMAN, "grid": GRID, "pairs": PAIRS, "rows": rows}
    if args.grid_full:
        figures["grid_full"] = in_child(__file__, "--full-grid-worker", 0)
        print(f"100 x 100 grid: {figures['grid_full']}", file=sys.stderr)
    if args.json:
        print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
