"""Figures for ``benchmarks/run.py`` that issue 13 asks for beyond throughput:
the calibration against a bare ``heapq`` loop, start-up time, and one
request across a long chain (wall time and peak memory by path length).

Each long chain and each start-up command is measured in a fresh child
process (peak RSS of that process alone; nothing cached by this one). Only
measures and prints.

``python benchmarks/scale.py [TREE ...]`` prints the start-up figures alone,
for this working tree or for each TREE given (another checkout of qstack, its
``qstack`` package put first on the path), the trees taking turns so that a
busy machine slows them alike: before/after figures from one run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qstack.network import Network
from qstack.runner import run_network
from qstack.scenario import Scenario, parse_scenario
from qstack.topology import GeneratedTopology

#: Events in the calibration loop (a bare heapq pop, call, push at a heap of 1,000).
CALIBRATION_EVENTS = 300_000
CALIBRATION_REPEATS = 3
#: The working tree these benchmarks belong to.
ROOT = Path(__file__).resolve().parents[1]
STARTUP_REPEATS = 5
#: Start-up commands, each timed as the wall time of a fresh interpreter:
#: the interpreter alone, the package alone (its public names are imported on
#: first use), what ``qstack`` imports before it parses its arguments, the
#: help of ``qstack run``, and a whole run of the built-in scenario (1,000
#: pairs between two nodes, about 0.05 s of it the run itself).
STARTUP_COMMANDS: dict[str, tuple[str, ...]] = {
    "python -c pass": ("-c", "pass"),
    "import qstack": ("-c", "import qstack"),
    "import qstack.cli": ("-c", "import qstack.cli"),
    "qstack run --help": ("-m", "qstack", "run", "--help"),
    "qstack run (built-in scenario)": ("-m", "qstack", "run"),
}


def double_click_scenario(
    generated: GeneratedTopology,
    ends: Sequence[tuple[str, str]],
    pairs: int,
    *,
    seed: int,
    qubits: int,
    until_s: float,
    network: dict[str, Any],
    source: str,
) -> Scenario:
    """A generated topology as explicit nodes and double-click links (as
    long as its edges), with one ``pairs`` request per (src, dst) in ``ends``."""
    return parse_scenario(
        {
            "seed": seed,
            "run": {"until_s": until_s},
            "network": network,
            "nodes": [{"name": name, "qubits": qubits} for name in generated.nodes],
            "links": [
                {"a": edge.a, "b": edge.b, "length_km": edge.length_km, "model": "double-click"}
                for edge in generated.edges
            ],
            "requests": [
                {"app": "pairs", "src": src, "dst": dst, "pairs": pairs} for src, dst in ends
            ],
        },
        source=source,
    )


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


def _wall_seconds(arguments: Sequence[str], tree: Path) -> float:
    """Wall time of ``python ARGUMENTS`` in a fresh interpreter running ``tree``'s qstack."""
    path = [str(tree), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *arguments], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def _commit(tree: Path) -> str:
    out = subprocess.run(
        ["git", "-C", str(tree), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    return out.stdout.strip() or "?"


def bench_startup(trees: Sequence[Path] = (ROOT,)) -> list[dict[str, Any]]:
    """Best wall seconds of every start-up command, for each tree; the trees
    and commands take turns, repeat after repeat."""
    best = [dict.fromkeys(STARTUP_COMMANDS, math.inf) for _ in trees]
    for _ in range(STARTUP_REPEATS):
        for command, arguments in STARTUP_COMMANDS.items():
            for seconds, tree in zip(best, trees, strict=True):
                seconds[command] = min(seconds[command], _wall_seconds(arguments, tree))
    return [
        {"tree": str(tree), "commit": _commit(tree), "best_s": seconds}
        for tree, seconds in zip(trees, best, strict=True)
    ]


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


def format_startup(startup: list[dict[str, Any]], add: Callable[[str], None]) -> None:
    add(f"Start-up: wall time of a fresh interpreter, best of {STARTUP_REPEATS}")
    add("  (target: import qstack.cli and qstack run --help in < 0.3 s)")
    for column, tree in enumerate(startup, 1):
        add(f"  [{column}] {tree['tree']} at {tree['commit']}")
    add(f"  {'':<32}" + "".join(f"{f'[{column}] s':>10}" for column in range(1, len(startup) + 1)))
    for command in STARTUP_COMMANDS:
        add(f"  {command:<32}" + "".join(f"{tree['best_s'][command]:>10.3f}" for tree in startup))


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="qstack start-up figures, tree by tree.")
    parser.add_argument(
        "trees", nargs="*", type=Path, help="qstack working trees to compare (default: this one)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = parser.parse_args(argv)
    startup = bench_startup([tree.resolve() for tree in args.trees] or [ROOT])
    if args.json:
        print(json.dumps({"startup": startup}, indent=2))
    else:
        format_startup(startup, print)
    return 0


if __name__ == "__main__":
    sys.exit(main())
