"""Figures for ``benchmarks/run.py`` that issue 13 asks for beyond throughput:
the calibration against a bare ``heapq`` loop, start-up (import) time, and
one request across a long chain (wall time and peak memory by path length).

Each long chain and each import is measured in a fresh child process (peak
RSS of that process alone; imports not already cached by this one). Only
measures and prints.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from qstack.network import Network
from qstack.runner import run_network
from qstack.scenario import Scenario

#: Events in the calibration loop (a bare heapq pop, call, push at a heap of 1,000).
CALIBRATION_EVENTS = 300_000
CALIBRATION_REPEATS = 3
IMPORT_REPEATS = 3
#: What ``qstack run`` imports before it reads a scenario, and the package alone.
IMPORTS = ("qstack.cli", "qstack")


def calibrate(timed: Callable[[int], float]) -> dict[str, Any]:
    """Bare heapq events per wall-second (best of the repeats); ``timed(n)``
    runs the loop of ``n`` events and returns its wall seconds. Every
    throughput is also shown per million of these events, so that figures
    from different machines (or a busy one) compare."""
    best = min(timed(CALIBRATION_EVENTS) for _ in range(CALIBRATION_REPEATS))
    return {"events": CALIBRATION_EVENTS, "best_s": best, "events_per_s": CALIBRATION_EVENTS / best}


def per_million_heapq(rate: float, calibration: dict[str, Any]) -> float:
    """``rate`` (per wall-second) per million bare heapq events per wall-second."""
    return rate / calibration["events_per_s"] * 1e6


def import_seconds(module: str) -> float:
    """Best wall time of ``import module`` in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(IMPORT_REPEATS)
    ]
    return min(times)


def bench_imports() -> dict[str, float]:
    return {module: import_seconds(module) for module in IMPORTS}


def long_chain_worker(scenario: Scenario, max_rss_bytes: Callable[[], int]) -> dict[str, Any]:
    """In a fresh process: build and run a long chain of one request; peak
    RSS of the whole."""
    rss_before = max_rss_bytes()
    start = time.perf_counter()
    network = Network(scenario)
    build_s = time.perf_counter() - start
    rss_built = max_rss_bytes()
    start = time.perf_counter()
    report = run_network(network)
    run_s = time.perf_counter() - start
    return {
        "nodes": len(scenario.nodes),
        "build_s": build_s,
        "run_s": run_s,
        "events": report.events,
        "status": report.requests[0].status,
        "max_rss_before_bytes": rss_before,
        "max_rss_built_bytes": rss_built,
        "max_rss_bytes": max_rss_bytes(),
    }


def in_child(script: str, flag: str, argument: int) -> dict[str, Any]:
    """Run ``script flag argument`` in a fresh interpreter; its JSON answer."""
    out = subprocess.run(
        [sys.executable, script, flag, str(argument)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def format_imports(imports: dict[str, float], add: Callable[[str], None]) -> None:
    add(f"Start-up: wall time of the import in a fresh interpreter, best of {IMPORT_REPEATS}")
    add("  (target: qstack run starts in < 0.3 s)")
    for module, seconds in imports.items():
        add(f"  import {module:<30} {seconds:8.3f} s")


def format_long_chains(chains: list[dict[str, Any]], add: Callable[[str], None]) -> None:
    mib = 1024 * 1024
    add("One request of 1 pair across a long chain (as the chains above); a child process each")
    add("  (target: 10,000 nodes in < 60 s and < 1 GB, memory linear in path length)")
    add(
        f"  {'nodes':>6} {'build s':>8} {'run s':>7} {'events':>8} {'RSS MiB':>8} "
        f"{'built':>8} {'run +MiB':>8} {'KiB/node':>8}  status"
    )
    for entry in chains:
        run_growth = (entry["max_rss_bytes"] - entry["max_rss_built_bytes"]) / mib
        per_node = (entry["max_rss_bytes"] - entry["max_rss_before_bytes"]) / 1024 / entry["nodes"]
        add(
            f"  {entry['nodes']:>6,} {entry['build_s']:>8.2f} {entry['run_s']:>7.2f} "
            f"{entry['events']:>8,} {entry['max_rss_bytes'] / mib:>8.1f} "
            f"{entry['max_rss_built_bytes'] / mib:>8.1f} {run_growth:>8.1f} {per_node:>8.1f}"
            f"  {entry['status']}"
        )
