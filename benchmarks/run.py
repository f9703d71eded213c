"""qstack benchmarks: print a small table of throughput and memory figures.

Usage::

    python benchmarks/run.py            # every figure, full sizes (a few minutes)
    python benchmarks/run.py --quick    # smaller sizes, under 30 seconds
    python benchmarks/run.py --network  # only the network figures (chains, Waxman networks)
    python benchmarks/run.py --json     # one JSON object on stdout instead of the table
    python benchmarks/run.py --profile  # also cProfile the double-click run (top 15 by tottime);
                                        # with --network, the 5-node chain
    python benchmarks/run.py --grid     # also the 100 x 100 grid, 10,000 requests (4 minutes)

Every throughput is also printed per million events per wall-second of a bare
``heapq`` loop measured in the same run (``pr/Mev``), so figures compare across
machines. Start-up time and long chains are in ``benchmarks/scale.py``.

Benchmarks only measure and print; nothing here passes or fails. See
``benchmarks/README.md`` for what each figure means and the targets.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import heapq
import io
import json
import math
import platform
import pstats
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
from scale import (
    bench_startup,
    calibrate,
    double_click_scenario,
    format_long_chains,
    format_startup,
    in_child,
    long_chain_worker,
    per_million_heapq,
)

from qstack import topology
from qstack.network import Network
from qstack.runner import RunReport, run_network
from qstack.scenario import Scenario, parse_scenario
from qstack.sim.kernel import Simulator

# --------------------------------------------------------------------------- sizes


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each workload is and how often it is repeated."""

    kernel_events: int
    kernel_repeats: int
    steady_heap: int
    link_repeats: int
    pairs: dict[str, int]
    memory_pairs: int
    chain_nodes: tuple[int, ...]
    chain_pairs: int
    chain_repeats: int
    waxman_nodes: tuple[int, ...]
    long_chain_nodes: tuple[int, ...]
    #: QKD end to end: pairs pair by pair, and measured directly.
    qkd_pairs: tuple[int, int] = (50_000, 500_000)


FULL = Sizes(
    kernel_events=1_000_000,
    kernel_repeats=5,
    steady_heap=1_000,
    link_repeats=3,
    # The T1/T2 (density-matrix) path is ~20x slower per pair; ask for fewer
    # pairs there so the run still takes about a second.
    pairs={"double-click": 100_000, "abstract": 100_000, "depolarising": 100_000, "t1t2": 3_000},
    memory_pairs=100_000,
    chain_nodes=(3, 5),
    chain_pairs=20_000,
    chain_repeats=3,
    waxman_nodes=(100, 300, 1000),
    long_chain_nodes=(1000, 2000, 4000),
)
QUICK = Sizes(
    kernel_events=200_000,
    kernel_repeats=3,
    steady_heap=1_000,
    link_repeats=3,
    pairs={"double-click": 10_000, "abstract": 10_000, "depolarising": 10_000, "t1t2": 500},
    memory_pairs=10_000,
    chain_nodes=(3, 5),
    chain_pairs=3_000,
    chain_repeats=2,
    waxman_nodes=(100, 300),
    long_chain_nodes=(250, 500),
    qkd_pairs=(5_000, 50_000),
)

# --------------------------------------------------------------------------- timing


@dataclass(slots=True)
class Timing:
    """Wall-clock seconds of repeated runs of one workload."""

    seconds: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@contextmanager
def _collected() -> Iterator[None]:
    """Start each timed region after a full collection.

    The cyclic GC stays enabled while timing, as in a user's run: its cost on
    a large heap of event tuples is part of what a run costs.
    """
    gc.collect()
    yield


def _time_once(setup: Callable[[], Callable[[], None]]) -> float:
    """Run ``setup()`` untimed, then time the callable it returns."""
    work = setup()
    with _collected():
        start = time.perf_counter()
        work()
        return time.perf_counter() - start


def repeat(setup: Callable[[], Callable[[], None]], repeats: int) -> Timing:
    return Timing([_time_once(setup) for _ in range(repeats)])


# --------------------------------------------------------------------------- kernel


def _noop(_: Any) -> None:
    """A callback that does nothing."""


def _delays(n: int, order: str) -> list[int]:
    """Delays in picoseconds for ``n`` events scheduled at time 0.

    ``"random"``: pseudo-random times (fixed seed), the heap's worst case.
    ``"ordered"``: each event 1 ps after the previous, as when a run schedules
    events in time order.
    """
    if order == "ordered":
        return list(range(n))
    rng = random.Random(12345)
    return [rng.randrange(1_000_000_000) for _ in range(n)]


def kernel_storm(n: int, order: str) -> Callable[[], Callable[[], None]]:
    """Schedule ``n`` no-op events at random times, then run them all (timed: both)."""
    delays = _delays(n, order)

    def setup() -> Callable[[], None]:
        sim = Simulator()

        def work() -> None:
            schedule = sim.schedule
            for d in delays:
                schedule(d, _noop)
            sim.run()
            assert sim.events == n

        return work

    return setup


def kernel_storm_run_only(n: int, order: str) -> Callable[[], Callable[[], None]]:
    """As :func:`kernel_storm`, but the scheduling is setup: only ``Simulator.run`` is timed."""
    delays = _delays(n, order)

    def setup() -> Callable[[], None]:
        sim = Simulator()
        schedule = sim.schedule
        for d in delays:
            schedule(d, _noop)

        def work() -> None:
            sim.run()
            assert sim.events == n

        return work

    return setup


def kernel_chain(n: int, width: int) -> Callable[[], Callable[[], None]]:
    """``width`` self-rescheduling chains: each event schedules the next of its chain.

    Chain ``i`` fires at ``i, i + width, i + 2*width, ...`` ps, so the heap stays at
    ``width`` entries and running up to ``n - 1`` ps processes exactly ``n`` events.
    """

    def setup() -> Callable[[], None]:
        sim = Simulator()
        schedule = sim.schedule

        def tick(_: Any) -> None:
            schedule(width, tick)

        for i in range(width):
            schedule(i, tick)

        def work() -> None:
            sim.run(until_ps=n - 1)
            assert sim.events == n, sim.events

        return work

    return setup


def bare_heapq_storm(n: int, order: str) -> Callable[[], Callable[[], None]]:
    """The floor for :func:`kernel_storm`: push ``n`` event tuples, pop and call each."""
    delays = _delays(n, order)

    def setup() -> Callable[[], None]:
        def work() -> None:
            heap: list[tuple[int, int, Callable[[Any], None], Any]] = []
            push = heapq.heappush
            pop = heapq.heappop
            for seq, d in enumerate(delays, 1):
                push(heap, (d, seq, _noop, None))
            while heap:
                _, _, callback, argument = pop(heap)
                callback(argument)

        return work

    return setup


def bare_heapq_chain(n: int, width: int) -> Callable[[], Callable[[], None]]:
    """The floor for :func:`kernel_chain`: pop, call, push one, at a steady heap size."""

    def setup() -> Callable[[], None]:
        def work() -> None:
            heap: list[tuple[int, int, Callable[[Any], None], Any]] = [
                (i, i, _noop, None) for i in range(width)
            ]
            push = heapq.heappush
            pop = heapq.heappop
            seq = width
            for _ in range(n):
                time_ps, _, callback, argument = pop(heap)
                callback(argument)
                seq += 1
                push(heap, (time_ps + width, seq, _noop, None))

        return work

    return setup


# --------------------------------------------------------------------------- link scenarios

LINK_CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # name: (description, extra node fields, link fields)
    "double-click": (
        "20 km double-click, perfect memories",
        {},
        {"length_km": 20.0, "model": "double-click", "attenuation_db_per_km": 0.2},
    ),
    "abstract": (
        "abstract p=0.1, 10 us/attempt, F=0.95",
        {},
        {
            "length_km": 20.0,
            "model": "abstract",
            "success_probability": 0.1,
            "attempt_duration_s": 1e-5,
            "fidelity": 0.95,
        },
    ),
    "depolarising": (
        "20 km double-click, memory_t_s=1",
        {"memory_t_s": 1.0},
        {"length_km": 20.0, "model": "double-click", "attenuation_db_per_km": 0.2},
    ),
    "t1t2": (
        "20 km double-click, T1=1 s, T2=0.5 s",
        {"t1_s": 1.0, "t2_s": 0.5},
        {"length_km": 20.0, "model": "double-click", "attenuation_db_per_km": 0.2},
    ),
}


def link_scenario(case: str, pairs: int) -> Scenario:
    """Two nodes with 10 memory qubits each, one link, one ``pairs`` request."""
    _, node_extra, link = LINK_CASES[case]
    return parse_scenario(
        {
            "seed": 1,
            # Far beyond what any case needs: the run ends when the request is done.
            "run": {"until_s": 1.0e7},
            "nodes": [{"name": name, "qubits": 10, **node_extra} for name in ("alice", "bob")],
            "links": [{"a": "alice", "b": "bob", **link}],
            "requests": [{"app": "pairs", "src": "alice", "dst": "bob", "pairs": pairs}],
        },
        source=f"<benchmark {case}>",
    )


@dataclass(slots=True)
class RunResult:
    """One measured workload: a link case or a chain."""

    name: str
    description: str
    pairs: int
    repeats: list[float]
    best_s: float
    median_s: float
    build_s: float
    events: int
    delivered: int
    status: str
    sim_time_s: float
    fidelity_mean: float | None
    rate_hz: float | None
    pairs_per_s_best: float
    pairs_per_s_median: float
    events_per_pair: float
    events_per_s_best: float


def _timed_runs(scenario: Scenario, repeats: int) -> tuple[list[float], list[float], RunReport]:
    """Build and run ``scenario`` ``repeats`` times; build and run timed apart."""
    times: list[float] = []
    build_times: list[float] = []
    report = None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        network = Network(scenario)
        build_times.append(time.perf_counter() - start)
        with _collected():
            start = time.perf_counter()
            report = run_network(network)
            times.append(time.perf_counter() - start)
        del network
    assert report is not None
    return times, build_times, report


def _measure(
    name: str, description: str, scenario: Scenario, pairs: int, repeats: int
) -> RunResult:
    """Time ``repeats`` runs of a one-request scenario and derive the rates."""
    times, build_times, report = _timed_runs(scenario, repeats)
    request = report.requests[0]
    best = min(times)
    median = statistics.median(times)
    return RunResult(
        name=name,
        description=description,
        pairs=pairs,
        repeats=times,
        best_s=best,
        median_s=median,
        build_s=min(build_times),
        events=report.events,
        delivered=request.delivered,
        status=request.status,
        sim_time_s=report.sim_time_s,
        fidelity_mean=request.fidelity_mean,
        rate_hz=request.rate_hz,
        pairs_per_s_best=_rate(request.delivered, best),
        pairs_per_s_median=_rate(request.delivered, median),
        events_per_pair=report.events / request.delivered if request.delivered else float("nan"),
        events_per_s_best=_rate(report.events, best),
    )


def bench_link(case: str, pairs: int, repeats: int) -> RunResult:
    return _measure(case, LINK_CASES[case][0], link_scenario(case, pairs), pairs, repeats)


# --------------------------------------------------------------------------- memory


def _max_rss_bytes() -> int:
    """Peak resident set size of this process so far, in bytes.

    On Linux this is ``VmHWM`` from ``/proc/self/status``: ``ru_maxrss`` is
    kept across ``execve``, so in a child started by a big parent it would
    report the parent's peak. Elsewhere ``ru_maxrss`` (KiB on Linux, bytes on
    macOS).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def memory_worker(pairs: int) -> dict[str, Any]:
    """Run in a fresh process: max RSS of one untraced run, then tracemalloc
    peak of another; each keeping running statistics only, as ``qstack run``."""
    scenario = link_scenario("double-click", pairs)
    gc.collect()
    rss_before = _max_rss_bytes()
    report = run_network(Network(scenario, keep_pair_records=False))
    rss_after = _max_rss_bytes()
    del report
    gc.collect()

    tracemalloc.start()
    network = Network(scenario, keep_pair_records=False)
    report = run_network(network)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "case": "double-click",
        "pairs": pairs,
        "delivered": report.requests[0].delivered,
        "tracemalloc_peak_bytes": peak,
        "tracemalloc_end_bytes": current,
        "max_rss_bytes": rss_after,
        "max_rss_before_run_bytes": rss_before,
    }


def bench_memory(pairs: int) -> dict[str, Any]:
    """Measure memory in a child process, so the kernel benchmarks' heaps don't count."""
    return in_child(__file__, "--memory-worker", pairs)


# --------------------------------------------------------------------------- network: chains

CHAIN_SPACING_KM = 20.0
CHAIN_QUBITS = 4


def chain_scenario(nodes: int, pairs: int) -> Scenario:
    """``n0 - ... - n{nodes-1}``, 20 km double-click links, one end-to-end request, swap asap."""
    return parse_scenario(
        {
            "seed": 1,
            "run": {"until_s": 1.0e7},
            "topology": {
                "kind": "chain",
                "nodes": nodes,
                "spacing_km": CHAIN_SPACING_KM,
                "node": {"qubits": CHAIN_QUBITS},
                "link": {"model": "double-click", "attenuation_db_per_km": 0.2},
            },
            "network": {"routing": "shortest-hops", "swap_policy": "asap"},
            "requests": [{"app": "pairs", "src": "n0", "dst": f"n{nodes - 1}", "pairs": pairs}],
        },
        source=f"<benchmark chain {nodes}>",
    )


def bench_chain(nodes: int, pairs: int, repeats: int) -> RunResult:
    """End-to-end pairs per wall-second over a chain (build timed separately)."""
    description = f"{nodes}-node chain, {nodes - 1} x {CHAIN_SPACING_KM:g} km, asap"
    return _measure(str(nodes), description, chain_scenario(nodes, pairs), pairs, repeats)


# --------------------------------------------------------------------------- network: Waxman

#: Waxman graphs at a constant node density (1,000 nodes on 100 km x 100 km) with
#: alpha chosen per size so that the mean degree stays near 4 (beta = 0.4).
#: nodes -> (area_km, alpha)
WAXMAN_PARAMS: dict[int, tuple[float, float]] = {
    100: (31.6, 0.12),
    300: (54.8, 0.06),
    1000: (100.0, 0.03),
}
WAXMAN_BETA = 0.4
WAXMAN_SEED = 1
WAXMAN_REQUESTS = 100
WAXMAN_PAIRS = 1_000
WAXMAN_QUBITS = 4
WAXMAN_UNTIL_S = 1.0
WAXMAN_CUTOFF_S = 0.01


def waxman_params(nodes: int) -> tuple[float, float]:
    """(area_km, alpha) for ``nodes``; other sizes keep the density, and roughly the degree."""
    if nodes in WAXMAN_PARAMS:
        return WAXMAN_PARAMS[nodes]
    return 100.0 * math.sqrt(nodes / 1000), 0.030 * math.sqrt(1000 / nodes)


def waxman_scenario(nodes: int) -> tuple[Scenario, dict[str, Any]]:
    """The Waxman benchmark network and its requests, plus facts about the graph.

    Requests join random pairs of the largest connected component (a Waxman
    graph may be disconnected, and a request across components is an error).
    """
    area_km, alpha = waxman_params(nodes)
    generated = topology.waxman(nodes, area_km, alpha, WAXMAN_BETA, seed=WAXMAN_SEED)
    graph = generated.graph()
    components: list[set[str]] = list(nx.connected_components(graph))
    largest: set[str] = max(components, key=len)
    component = sorted(largest)
    rng = random.Random(WAXMAN_SEED)
    ends = [tuple(rng.sample(component, 2)) for _ in range(WAXMAN_REQUESTS)]
    hops = [nx.shortest_path_length(graph, src, dst) for src, dst in ends]
    lengths = [edge.length_km for edge in generated.edges]
    scenario = double_click_scenario(
        generated,
        ends,
        WAXMAN_PAIRS,
        seed=WAXMAN_SEED,
        qubits=WAXMAN_QUBITS,
        until_s=WAXMAN_UNTIL_S,
        # Without reservation, concurrent circuits with few qubits per node
        # can hold memory each other waits for; the cutoff frees it
        # (benchmarks/admission.py compares with reservation).
        network={"cutoff_s": WAXMAN_CUTOFF_S},
        source=f"<benchmark waxman {nodes}>",
    )
    facts = {
        "nodes": nodes,
        "area_km": area_km,
        "alpha": alpha,
        "beta": WAXMAN_BETA,
        "graph_seed": WAXMAN_SEED,
        "links": len(generated.edges),
        "mean_degree": 2 * len(generated.edges) / nodes,
        "largest_component": len(component),
        "link_km_mean": statistics.fmean(lengths) if lengths else 0.0,
        "link_km_max": max(lengths, default=0.0),
        "requests": WAXMAN_REQUESTS,
        "pairs_per_request": WAXMAN_PAIRS,
        "request_hops_mean": statistics.fmean(hops),
        "request_hops_max": max(hops),
        "qubits": WAXMAN_QUBITS,
        "until_s": WAXMAN_UNTIL_S,
        "cutoff_s": WAXMAN_CUTOFF_S,
    }
    return scenario, facts


def waxman_worker(nodes: int) -> dict[str, Any]:
    """Run in a fresh process: time generation, build and run; peak RSS of the whole."""
    gc.collect()
    rss_start = _max_rss_bytes()
    start = time.perf_counter()
    scenario, result = waxman_scenario(nodes)
    result["generate_s"] = time.perf_counter() - start
    gc.collect()
    start = time.perf_counter()
    network = Network(scenario)
    result["build_s"] = time.perf_counter() - start
    result["max_rss_after_build_bytes"] = _max_rss_bytes()
    with _collected():
        start = time.perf_counter()
        report = run_network(network)
        run_s = time.perf_counter() - start
    statuses = {status: 0 for status in ("done", "error", "expired", "running")}
    for request in report.requests:
        statuses[request.status] += 1
    delivered = sum(request.delivered for request in report.requests)
    fidelity_sum = sum(
        request.fidelity_mean * request.delivered
        for request in report.requests
        if request.fidelity_mean is not None
    )
    errors = sorted({request.error for request in report.requests if request.error})
    result.update(
        run_s=run_s,
        events=report.events,
        events_per_s=_rate(report.events, run_s),
        sim_time_s=report.sim_time_s,
        statuses=statuses,
        delivered=delivered,
        delivered_per_s=_rate(delivered, run_s),
        fidelity_mean=fidelity_sum / delivered if delivered else None,
        errors=errors[:5],
        max_rss_start_bytes=rss_start,
        max_rss_bytes=_max_rss_bytes(),
    )
    return result


def bench_waxman(nodes: int) -> dict[str, Any]:
    """One Waxman size in a child process, so peak memory is that size's alone."""
    return in_child(__file__, "--waxman-worker", nodes)


# --------------------------------------------------------------------------- profile


def profile_scenario(scenario: Scenario, top: int = 15) -> str:
    """cProfile one run of ``scenario`` (build untimed); the ``top`` functions by tottime."""
    network = Network(scenario)
    profiler = cProfile.Profile()
    profiler.enable()
    run_network(network)
    profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats(pstats.SortKey.TIME).print_stats(top)
    return buffer.getvalue()


def profile_double_click(pairs: int, top: int = 15) -> str:
    """cProfile one double-click run; the ``top`` functions by tottime as text."""
    return profile_scenario(link_scenario("double-click", pairs), top)


def profile_chain(nodes: int, pairs: int, top: int = 15) -> str:
    """cProfile one end-to-end run over a chain; the ``top`` functions by tottime."""
    return profile_scenario(chain_scenario(nodes, pairs), top)


# --------------------------------------------------------------------------- output


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def run_core(sizes: Sizes, log: Callable[[str], None]) -> dict[str, Any]:
    """Kernel, link and memory figures."""
    n = sizes.kernel_events
    w = sizes.steady_heap
    kernel_cases: list[tuple[str, str, Callable[[], Callable[[], None]]]] = [
        ("storm_random", "schedule all, run: random times", kernel_storm(n, "random")),
        ("storm_ordered", "schedule all, run: ordered times", kernel_storm(n, "ordered")),
        ("run_only_random", "run only (pre-scheduled): random", kernel_storm_run_only(n, "random")),
        (
            "run_only_ordered",
            "run only (pre-scheduled): ordered",
            kernel_storm_run_only(n, "ordered"),
        ),
        ("chain", f"each event schedules next, heap {w}", kernel_chain(n, w)),
        (
            "heapq_storm_random",
            "bare heapq push all, pop+call: random",
            bare_heapq_storm(n, "random"),
        ),
        (
            "heapq_storm_ordered",
            "bare heapq push all, pop+call: ordered",
            bare_heapq_storm(n, "ordered"),
        ),
        ("heapq_chain", f"bare heapq pop+call+push, heap {w}", bare_heapq_chain(n, w)),
    ]
    kernel: dict[str, Any] = {}
    for key, description, setup in kernel_cases:
        log(f"kernel {key} ...")
        timing = repeat(setup, sizes.kernel_repeats)
        kernel[key] = {
            "description": description,
            "events": n,
            "repeats": timing.seconds,
            "best_s": timing.best,
            "median_s": timing.median,
            "events_per_s_best": _rate(n, timing.best),
            "events_per_s_median": _rate(n, timing.median),
        }

    link: dict[str, Any] = {}
    for case, pairs in sizes.pairs.items():
        log(f"link {case} ({pairs:,} pairs) ...")
        link[case] = asdict(bench_link(case, pairs, sizes.link_repeats))

    log("qkd end to end ...")
    qkd = bench_qkd(sizes)
    log(f"memory ({sizes.memory_pairs:,} pairs, child process) ...")
    memory = bench_memory(sizes.memory_pairs)
    log("start-up times (child processes) ...")
    return {
        "kernel": kernel,
        "link": link,
        "qkd": qkd,
        "memory": memory,
        "startup": bench_startup(),
    }


def bench_qkd(sizes: Sizes) -> list[dict[str, Any]]:
    """10 km QKD end to end (benchmarks/qkd.py's run): pair by pair and
    measured directly, z = 0.5 and 0.9, best of the link repeats."""
    from qkd import run_e2e  # benchmarks/qkd.py imports this module: import it late

    rows: list[dict[str, Any]] = []
    per_pair, direct_pairs = sizes.qkd_pairs
    for path, pairs, direct in (("per pair", per_pair, False), ("direct", direct_pairs, True)):
        for z in (0.5, 0.9):
            runs = [run_e2e(pairs, z, 1 + r, direct) for r in range(sizes.link_repeats)]
            best = max(runs, key=lambda run: run.secret_bits / run.wall_s)
            rows.append(
                {
                    "path": path,
                    "z": z,
                    "pairs": pairs,
                    "wall_s": best.wall_s,
                    "pairs_per_s": best.delivered / best.wall_s,
                    "key_bits_per_s": best.secret_bits / best.wall_s,
                    "keys_match": all(run.keys_match and not run.aborted for run in runs),
                }
            )
    return rows


def run_network_figures(sizes: Sizes, log: Callable[[str], None]) -> dict[str, Any]:
    """End-to-end chains and Waxman networks of growing size."""
    chain: dict[str, Any] = {}
    for nodes in sizes.chain_nodes:
        log(f"chain {nodes} nodes ({sizes.chain_pairs:,} pairs) ...")
        chain[str(nodes)] = asdict(bench_chain(nodes, sizes.chain_pairs, sizes.chain_repeats))
    waxman: dict[str, Any] = {}
    for nodes in sizes.waxman_nodes:
        log(f"waxman {nodes} nodes, {WAXMAN_REQUESTS} requests (child process) ...")
        waxman[str(nodes)] = bench_waxman(nodes)
    long_chains = []
    for nodes in sizes.long_chain_nodes:
        log(f"long chain {nodes} nodes, one pair (child process) ...")
        long_chains.append(in_child(__file__, "--long-chain-worker", nodes))
    return {"chain": chain, "waxman": waxman, "long_chains": long_chains}


def bench_grid() -> dict[str, Any]:
    """The 100 x 100 grid of ``benchmarks/admission.py`` (10,000 concurrent
    requests, reservation) in a child process: wall time, peak RSS, done."""
    return in_child(str(Path(__file__).with_name("admission.py")), "--full-grid-worker", 0)


def format_grid(
    grid: dict[str, Any], calibration: dict[str, Any], add: Callable[[str], None]
) -> None:
    pairs_per_s = grid["delivered"] / grid["run_s"]
    add(
        "100 x 100 grid (5 km double-click links, 4 qubits per node), 10,000 concurrent requests "
        "of 10 pairs at most 4 rows/columns apart, [network] reservation, 2 simulated s"
    )
    add("  (target: < 5 min wall, < 4 GB, >= 90 % of requests done)")
    add(
        f"  wall {grid['wall_s']:.1f} s (build {grid['build_s']:.1f} s, "
        f"run {grid['run_s']:.1f} s), "
        f"peak RSS {grid['max_rss_bytes'] / MIB:,.0f} MiB, done {grid['done_fraction']:.1%}, "
        f"{grid['events']:,} events ({grid['events'] / grid['run_s']:,.0f} ev/s), "
        f"{pairs_per_s:,.0f} pairs/s ({per_million_heapq(pairs_per_s, calibration):,.0f} pr/Mev)"
    )


def run_all(
    sizes: Sizes,
    quick: bool,
    log: Callable[[str], None],
    core: bool = True,
    network: bool = True,
    grid: bool = False,
) -> dict[str, Any]:
    """Every figure asked for: ``core`` (kernel, link, memory), ``network``
    (chains, Waxman), ``grid`` (the 100 x 100 grid, about 4 minutes)."""
    results: dict[str, Any] = {
        "quick": quick,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }
    log("calibration: bare heapq loop ...")
    results["calibration"] = calibrate(lambda n: _time_once(bare_heapq_chain(n, sizes.steady_heap)))
    if core:
        results.update(run_core(sizes, log))
    if network:
        results.update(run_network_figures(sizes, log))
    if grid:
        log("100 x 100 grid, 10,000 requests (child process, about 4 minutes) ...")
        results["grid"] = bench_grid()
    return results


MIB = 1024 * 1024


def _fidelity(value: float | None) -> str:
    return f"{value:.4f}" if value is not None else "-"


def _format_core(results: dict[str, Any], add: Callable[[str], None]) -> None:
    n_kernel = next(iter(results["kernel"].values()))["events"]
    add(f"Kernel, {n_kernel:,} no-op events (target >= 1,000,000 events per wall-second)")
    add(f"  {'workload':<40} {'best ev/s':>12} {'median ev/s':>12} {'best s':>8}")
    for entry in results["kernel"].values():
        add(
            f"  {entry['description']:<40} {entry['events_per_s_best']:>12,.0f} "
            f"{entry['events_per_s_median']:>12,.0f} {entry['best_s']:>8.3f}"
        )
    add("")
    add("Link layer + pairs app (target: 20 km double-click >= 30,000 pairs per wall-second)")
    add(
        f"  {'case':<38} {'pairs':>8} {'best pr/s':>10} {'pr/Mev':>7} {'med pr/s':>10} "
        f"{'ev/pair':>8} {'best ev/s':>11} {'best s':>7} {'F mean':>7}"
    )
    for entry in results["link"].values():
        status = "" if entry["status"] == "done" else f"  [{entry['status']}]"
        ratio = per_million_heapq(entry["pairs_per_s_best"], results["calibration"])
        add(
            f"  {entry['description']:<38} {entry['delivered']:>8,} "
            f"{entry['pairs_per_s_best']:>10,.0f} {ratio:>7,.0f} "
            f"{entry['pairs_per_s_median']:>10,.0f} "
            f"{entry['events_per_pair']:>8.3f} {entry['events_per_s_best']:>11,.0f} "
            f"{entry['best_s']:>7.3f} {_fidelity(entry['fidelity_mean']):>7}{status}"
        )
    add("")
    add(
        "QKD end to end, 10 km double-click (target: >= 100,000 final key bits per "
        "wall-second at z = 0.5 and 0.9); direct: [network] measure_directly"
    )
    add(
        f"  {'path':<10} {'z':>4} {'pairs':>8} {'pairs/s':>9} {'key b/s':>9} {'b/Mev':>7} "
        f"{'wall s':>7} keys"
    )
    for row in results["qkd"]:
        ratio = per_million_heapq(row["key_bits_per_s"], results["calibration"])
        add(
            f"  {row['path']:<10} {row['z']:4.2f} {row['pairs']:>8,} {row['pairs_per_s']:>9,.0f} "
            f"{row['key_bits_per_s']:>9,.0f} {ratio:>7,.0f} {row['wall_s']:>7.3f} "
            f"{'match' if row['keys_match'] else 'DIFFER'}"
        )
    add("")
    memory = results["memory"]
    add(f"Memory, {memory['pairs']:,}-pair 20 km double-click run (separate process)")
    add(f"  tracemalloc peak      {memory['tracemalloc_peak_bytes'] / MIB:8.1f} MiB")
    add(f"  tracemalloc at end    {memory['tracemalloc_end_bytes'] / MIB:8.1f} MiB")
    add(
        f"  max RSS               {memory['max_rss_bytes'] / MIB:8.1f} MiB "
        f"({memory['max_rss_before_run_bytes'] / MIB:.1f} MiB before the run)"
    )
    add("")
    format_startup(results["startup"], add)


def _format_network(results: dict[str, Any], add: Callable[[str], None]) -> None:
    add(
        "Network layer, end to end over a chain "
        f"({CHAIN_QUBITS} qubits per node, double-click, perfect memories; "
        "target: 5-node chain >= 5,000 pairs per wall-second)"
    )
    add(
        f"  {'case':<38} {'pairs':>8} {'best pr/s':>10} {'pr/Mev':>7} {'med pr/s':>10} "
        f"{'ev/pair':>8} {'best ev/s':>11} {'best s':>7} {'F mean':>7} {'sim Hz':>7}"
    )
    for entry in results["chain"].values():
        status = "" if entry["status"] == "done" else f"  [{entry['status']}]"
        sim_rate = entry["rate_hz"]
        ratio = per_million_heapq(entry["pairs_per_s_best"], results["calibration"])
        add(
            f"  {entry['description']:<38} {entry['delivered']:>8,} "
            f"{entry['pairs_per_s_best']:>10,.0f} {ratio:>7,.0f} "
            f"{entry['pairs_per_s_median']:>10,.0f} "
            f"{entry['events_per_pair']:>8.3f} {entry['events_per_s_best']:>11,.0f} "
            f"{entry['best_s']:>7.3f} {_fidelity(entry['fidelity_mean']):>7} "
            f"{(f'{sim_rate:.0f}' if sim_rate is not None else '-'):>7}{status}"
        )
    add("")
    format_long_chains(results["long_chains"], add)
    add("")
    waxman = list(results["waxman"].values())
    if not waxman:
        return
    first = waxman[0]
    add(
        f"Waxman networks, {first['requests']} concurrent requests between random nodes of the "
        f"largest component, {first['pairs_per_request']:,} pairs each, "
        f"run.until_s = {first['until_s']:g}, cutoff_s = {first['cutoff_s']:g}"
    )
    add(
        f"  (beta {first['beta']:g}, graph seed {first['graph_seed']}, {first['qubits']} qubits "
        "per node, double-click links as long as the straight line; one child process per "
        "size; target: 1,000 nodes within 2 minutes)"
    )
    add(
        f"  {'nodes':>6} {'area km':>7} {'alpha':>6} {'links':>6} {'deg':>5} {'hops':>5} "
        f"{'gen s':>6} {'build s':>7} {'run s':>7} {'events':>9} {'ev/s':>8} {'sim s':>7} "
        f"{'pairs':>7} {'F mean':>7} {'RSS MiB':>7}  done/err/exp/run"
    )
    for entry in waxman:
        counts = entry["statuses"]
        add(
            f"  {entry['nodes']:>6,} {entry['area_km']:>7.1f} {entry['alpha']:>6.3f} "
            f"{entry['links']:>6,} {entry['mean_degree']:>5.2f} {entry['request_hops_mean']:>5.1f} "
            f"{entry['generate_s']:>6.2f} {entry['build_s']:>7.2f} {entry['run_s']:>7.2f} "
            f"{entry['events']:>9,} {entry['events_per_s']:>8,.0f} {entry['sim_time_s']:>7.4f} "
            f"{entry['delivered']:>7,} {_fidelity(entry['fidelity_mean']):>7} "
            f"{entry['max_rss_bytes'] / MIB:>7.1f}  "
            f"{counts['done']}/{counts['error']}/{counts['expired']}/{counts['running']}"
        )
    stalled = [
        entry["nodes"]
        for entry in waxman
        if entry["statuses"]["running"] and entry["sim_time_s"] < entry["until_s"] - 1e-9
    ]
    if stalled:
        add(
            "  note: at "
            + ", ".join(f"{n:,}" for n in stalled)
            + " nodes the run ran out of events before until_s with requests still running: "
            "circuits wait on each other's memory (see README)"
        )


def format_table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    add(
        f"qstack benchmarks ({'quick' if results['quick'] else 'full'}; "
        f"{results['implementation']} {results['python']}, {results['platform']})"
    )
    calibration = results["calibration"]
    add(
        f"Calibration: bare heapq loop {calibration['events_per_s']:,.0f} events per wall-second "
        "(pr/Mev, b/Mev: per million of these)"
    )
    add("")
    if "kernel" in results:
        _format_core(results, add)
        add("")
    if "chain" in results:
        _format_network(results, add)
    if "grid" in results:
        add("")
        format_grid(results["grid"], calibration, add)
    return "\n".join(lines).rstrip("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (well under 30 s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.add_argument(
        "--network",
        action="store_true",
        help="only the network figures (end-to-end chains, Waxman networks)",
    )
    parser.add_argument(
        "--grid",
        action="store_true",
        help="also the 100 x 100 grid with 10,000 concurrent requests (about 4 minutes)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile one run and print the top 15 functions by tottime "
        "(the double-click link run; with --network the 5-node chain)",
    )
    parser.add_argument("--memory-worker", type=int, metavar="PAIRS", help=argparse.SUPPRESS)
    parser.add_argument("--waxman-worker", type=int, metavar="NODES", help=argparse.SUPPRESS)
    parser.add_argument("--long-chain-worker", type=int, metavar="NODES", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_worker is not None:
        print(json.dumps(memory_worker(args.memory_worker)))
        return 0
    if args.waxman_worker is not None:
        print(json.dumps(waxman_worker(args.waxman_worker)))
        return 0
    if args.long_chain_worker is not None:
        scenario = chain_scenario(args.long_chain_worker, 1)
        print(json.dumps(long_chain_worker(scenario, _max_rss_bytes)))
        return 0

    sizes = QUICK if args.quick else FULL

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = run_all(sizes, args.quick, log, core=not args.network, network=True, grid=args.grid)
    profile_text: str | None = None
    profile_title = ""
    if args.profile:
        if args.network:
            nodes = max(sizes.chain_nodes)
            profile_title = f"{nodes}-node chain, {sizes.chain_pairs:,} pairs"
            log(f"profile {profile_title} ...")
            profile_text = profile_chain(nodes, sizes.chain_pairs)
            results["profile_chain_top15"] = profile_text
        else:
            pairs = sizes.pairs["double-click"]
            profile_title = f"double-click run, {pairs:,} pairs"
            log(f"profile {profile_title} ...")
            profile_text = profile_double_click(pairs)
            results["profile_double_click_top15"] = profile_text

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(format_table(results))
        if profile_text is not None:
            print()
            print(f"cProfile, {profile_title}")
            print(profile_text.rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
