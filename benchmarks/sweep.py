"""Sweep engines: overhead per run, and parallel efficiency on 2 workers.

Usage::

    python benchmarks/sweep.py            # 100 runs of about 30 ms, best of 3 repeats
    python benchmarks/sweep.py --runs 200 --repeats 5 --pairs 400
    python benchmarks/sweep.py --no-dask  # only the local engine
    python benchmarks/sweep.py --json     # one JSON object on stdout

The workload is a sweep of short runs: two nodes, one abstract link, one
``pairs`` request (``--pairs``), 10 points x 10 replicas. Measured, each as
the best of ``--repeats`` wall times (the least disturbed by other load):

- ``serial``: the same runs in a plain loop in this process, no sweep machinery;
- each engine with 1 worker: overhead per run = (its time - serial) / runs,
  i.e. planning, seeds, scheduling, pickling and rows;
- each engine with 2 workers: parallel efficiency = serial / (2 x its time),
  1.0 being ideal (the goal is at least 0.85). For Dask, the local cluster's
  start-up is shown apart, and the efficiency with and without it.

Benchmarks only measure and print; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from qstack.experiments.engines import DaskEngine, LocalEngine
from qstack.experiments.grid import Axis
from qstack.experiments.results import RowStore
from qstack.experiments.runs import run_task
from qstack.experiments.sweep import SweepPlan, execute, plan_sweep
from qstack.registry import Registry

POINTS = 10


def scenario(pairs: int) -> dict[str, Any]:
    """Two nodes, an abstract link (p = 0.1 per 0.1 ms attempt), one request."""
    return {
        "seed": 1,
        "run": {"until_s": 100.0},
        "nodes": [{"name": "a", "qubits": 2}, {"name": "b", "qubits": 2}],
        "links": [
            {
                "a": "a",
                "b": "b",
                "length_km": 1.0,
                "model": "abstract",
                "success_probability": 0.1,
                "attempt_duration_s": 1e-4,
                "fidelity": 0.95,
            }
        ],
        "requests": [{"app": "pairs", "src": "a", "dst": "b", "pairs": pairs}],
    }


def make_plan(pairs: int, runs: int) -> SweepPlan:
    fidelities = tuple(0.9 + 0.005 * i for i in range(POINTS))
    replicas = max(1, runs // POINTS)
    return plan_sweep(scenario(pairs), [Axis("links[*].fidelity", fidelities)], replicas)


def best_of(repeats: int, measure: Callable[[], float]) -> float:
    return min(measure() for _ in range(repeats))


def serial(plan: SweepPlan) -> float:
    """The runs in a plain loop, sharing one registry as the engines do."""
    tasks = plan.tasks()
    started = time.perf_counter()
    registry = Registry.with_defaults()
    for task in tasks:
        run_task(task, registry)
    return time.perf_counter() - started


def local(plan: SweepPlan, workers: int) -> float:
    started = time.perf_counter()
    execute(plan, LocalEngine(workers, None), RowStore(plan.keys))
    return time.perf_counter() - started


def dask(plan: SweepPlan, workers: int) -> tuple[float, float]:
    """(cluster start-up, sweep) wall seconds on a LocalCluster of ``workers`` processes."""
    started = time.perf_counter()
    engine = DaskEngine(workers, None, None)
    up = time.perf_counter() - started
    started = time.perf_counter()
    execute(plan, engine, RowStore(plan.keys))  # closes the engine (and the cluster)
    return up, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="runs in the sweep (default 100)")
    parser.add_argument("--pairs", type=int, default=200, help="pairs per run (default 200)")
    parser.add_argument("--repeats", type=int, default=3, help="best of (default 3)")
    parser.add_argument("--no-dask", action="store_true", help="only the local engine")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)

    plan = make_plan(args.pairs, args.runs)
    runs = len(plan.tasks())
    serial(plan)  # warm caches and imports
    base = best_of(args.repeats, lambda: serial(plan))
    figures: dict[str, Any] = {
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "runs": runs,
        "serial_s": base,
        "run_ms": 1e3 * base / runs,
    }
    local_1 = best_of(args.repeats, lambda: local(plan, 1))
    local_2 = best_of(args.repeats, lambda: local(plan, 2))
    figures["local"] = {
        "workers_1_s": local_1,
        "overhead_per_run_ms": 1e3 * (local_1 - base) / runs,
        "workers_2_s": local_2,
        "efficiency_2": base / (2 * local_2),
    }
    if not args.no_dask:
        one = [dask(plan, 1) for _ in range(args.repeats)]
        two = [dask(plan, 2) for _ in range(args.repeats)]
        dask_1 = min(s for _, s in one)
        dask_2 = min(s for _, s in two)
        start_2 = min(u + s for u, s in two)
        figures["dask"] = {
            "cluster_start_s": min(u for u, _ in two),
            "workers_1_s": dask_1,
            "overhead_per_run_ms": 1e3 * (dask_1 - base) / runs,
            "workers_2_s": dask_2,
            "efficiency_2": base / (2 * dask_2),
            "efficiency_2_with_start": base / (2 * start_2),
        }
    if args.json:
        print(json.dumps(figures))
        return 0
    print(
        f"{runs} runs of {figures['run_ms']:.1f} ms (serial loop: {base:.2f} s), best of "
        f"{args.repeats}; {figures['cores']} cores, load average {figures['load_average']}"
    )
    print(f"{'engine':<8} {'1 worker s':>10} {'overhead/run ms':>16} {'2 workers s':>12} "
          f"{'efficiency':>10}")  # fmt: skip
    for name in ("local", "dask"):
        if name in figures:
            f = figures[name]
            print(
                f"{name:<8} {f['workers_1_s']:10.2f} {f['overhead_per_run_ms']:16.2f} "
                f"{f['workers_2_s']:12.2f} {f['efficiency_2']:10.1%}"
            )
    if "dask" in figures:
        f = figures["dask"]
        print(
            f"dask local cluster start-up: {f['cluster_start_s']:.2f} s; efficiency on 2 workers "
            f"counting it: {f['efficiency_2_with_start']:.1%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
