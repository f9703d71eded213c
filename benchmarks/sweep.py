"""Sweep engines: overhead per run, and parallel efficiency on 2 workers.

Usage::

    python benchmarks/sweep.py            # 100 runs of about 10 ms, best of 5 repeats
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
  1.0 being ideal (the goal is at least 0.85). For Dask, one local cluster
  per worker count serves the repeats; its start-up (with the workers'
  imports) is shown apart, and the efficiency with and without it;
- utilisation on 2 workers: the runs' own wall time (measured inside the
  workers) / (2 x the sweep's time): how much of the workers' time went to
  runs. On a machine whose cores are also busy with other work, runs get
  slower and the efficiency drops, but the utilisation still shows the
  engine's own cost.

Benchmarks only measure and print; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from qstack.experiments.engines import DaskEngine, LocalEngine
from qstack.experiments.grid import Axis
from qstack.experiments.results import RowStore
from qstack.experiments.runs import RunResult, RunTask, run_task
from qstack.experiments.sweeping import SweepPlan, execute, plan_sweep
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


@dataclass(frozen=True)
class Timing:
    """One sweep: its wall time, and the wall time its runs took inside the workers."""

    wall_s: float
    busy_s: float

    def utilisation(self, workers: int) -> float:
        """Share of the workers' time spent in runs: the engine's own cost, apart from
        CPU contention (a busy machine slows the runs, not this share)."""
        return self.busy_s / (workers * self.wall_s)


def best_of(repeats: int, measure: Callable[[], Timing]) -> Timing:
    return min((measure() for _ in range(repeats)), key=lambda timing: timing.wall_s)


def serial(plan: SweepPlan) -> Timing:
    """The runs in a plain loop, sharing one registry as the engines do."""
    tasks = plan.tasks()
    started = time.perf_counter()
    registry = Registry.with_defaults()
    busy = sum(run_task(task, registry).wall_time_s for task in tasks)
    return Timing(time.perf_counter() - started, busy)


def _busy(store: RowStore) -> float:
    runs = {(row["point"], row["replica"]): row["wall_time_s"] for row in store.rows}
    return sum(runs.values())


def local(plan: SweepPlan, workers: int) -> Timing:
    store = RowStore(plan.keys)
    started = time.perf_counter()
    execute(plan, LocalEngine(workers, None), store)
    return Timing(time.perf_counter() - started, _busy(store))


class _KeepOpen:
    """The engine without ``close``, so that repeats reuse one Dask cluster."""

    def __init__(self, engine: DaskEngine) -> None:
        self.engine = engine

    def results(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]:
        return self.engine.results(tasks)

    def close(self) -> None:
        """Left open for the next repeat."""


def dask(plan: SweepPlan, workers: int, repeats: int) -> tuple[float, Timing]:
    """Start-up of a LocalCluster of ``workers`` processes (wall s, with the workers'
    imports), and the best of ``repeats`` sweeps on it."""
    started = time.perf_counter()
    engine = DaskEngine(workers, None, None)
    up = time.perf_counter() - started

    def once() -> Timing:
        store = RowStore(plan.keys)
        started = time.perf_counter()
        execute(plan, _KeepOpen(engine), store)
        return Timing(time.perf_counter() - started, _busy(store))

    try:
        return up, best_of(repeats, once)
    finally:
        engine.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="runs in the sweep (default 100)")
    parser.add_argument("--pairs", type=int, default=200, help="pairs per run (default 200)")
    parser.add_argument("--repeats", type=int, default=5, help="best of (default 5)")
    parser.add_argument("--no-dask", action="store_true", help="only the local engine")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)

    plan = make_plan(args.pairs, args.runs)
    runs = len(plan.tasks())
    serial(plan)  # warm caches and imports
    base = best_of(args.repeats, lambda: serial(plan)).wall_s
    figures: dict[str, Any] = {
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "runs": runs,
        "serial_s": base,
        "run_ms": 1e3 * base / runs,
    }

    def engine_figures(one: Timing, two: Timing) -> dict[str, float]:
        return {
            "workers_1_s": one.wall_s,
            "overhead_per_run_ms": 1e3 * (one.wall_s - base) / runs,
            "workers_2_s": two.wall_s,
            "efficiency_2": base / (2 * two.wall_s),
            "utilisation_2": two.utilisation(2),
        }

    figures["local"] = engine_figures(
        best_of(args.repeats, lambda: local(plan, 1)), best_of(args.repeats, lambda: local(plan, 2))
    )
    if not args.no_dask:
        _, one = dask(plan, 1, args.repeats)
        up_2, two = dask(plan, 2, args.repeats)
        figures["dask"] = engine_figures(one, two)
        figures["dask"]["cluster_start_s"] = up_2
        figures["dask"]["efficiency_2_with_start"] = base / (2 * (up_2 + two.wall_s))
    if args.json:
        print(json.dumps(figures))
        return 0
    print(
        f"{runs} runs of {figures['run_ms']:.1f} ms (serial loop: {base:.2f} s), best of "
        f"{args.repeats}; {figures['cores']} cores, load average {figures['load_average']}"
    )
    print(f"{'engine':<8} {'1 worker s':>10} {'overhead/run ms':>16} {'2 workers s':>12} "
          f"{'efficiency':>10} {'utilisation':>11}")  # fmt: skip
    for name in ("local", "dask"):
        if name in figures:
            f = figures[name]
            print(
                f"{name:<8} {f['workers_1_s']:10.2f} {f['overhead_per_run_ms']:16.2f} "
                f"{f['workers_2_s']:12.2f} {f['efficiency_2']:10.1%} {f['utilisation_2']:11.1%}"
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
