"""QKD throughput: post-processing alone, and end to end with the pairs simulated.

Usage::

    python benchmarks/qkd.py              # both parts (about 30 seconds)
    python benchmarks/qkd.py --bits 200000 --repeats 5
    python benchmarks/qkd.py --no-e2e     # only the post-processing figures
    python benchmarks/qkd.py --e2e-only --e2e-pairs 100000
    python benchmarks/qkd.py --e2e-only --profile   # cProfile one end-to-end run

**Post-processing.** For each QBER a 1-Mbit sifted block (Alice's uniform
bits, Bob's with i.i.d. flips; half Z, half X) goes through the classical
chain of ``qstack.qkd``: QBER sampling (10%), Cascade, 64-bit verification
and Toeplitz privacy amplification. The figure is sifted bits / wall time of
that chain (best of the repeats; the median is shown too). Generating the
block is not timed. Target: at least 1 Mbit of sifted key per wall-second.

**End to end.** A ``qkd`` scenario run through ``qstack.runner.run_network``:
two nodes, 10 qubits each, perfect memories, one 10 km double-click link
(0.2 dB/km, other fields default), one request, once with
``z_basis_probability`` 0.5 and once with 0.9, on two paths: pair by pair
(each pair stored, then measured; ``--e2e-pairs``, default 50,000: two to
three wall-seconds) and measured directly (``[network] measure_directly``:
measured as heralded, in batches; ``--direct-pairs``, default 500,000).
Building the network is not timed. The figures are pairs, sifted bits and
final key bits per wall-second of the run, and the run's time split into
simulating the pairs (kernel, physical, link and network layers, the app
recording each measurement) and post-processing (the classical phase of the
``qkd`` app: building, authenticating and checking the two basis messages,
and ``distill``: sifting, sampling, Cascade, verification, privacy
amplification). Target (issue 13): at least 100,000 final key bits per
wall-second at z = 0.5 and at 0.9.

Only measures and prints; nothing fails.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from run import bare_heapq_chain
from scale import calibrate, per_million_heapq

import qstack.layers.app.qkd as qkd_app
from qstack.layers.app.qkd import QKD_LIFECYCLE, QkdRequestReport, QkdSession
from qstack.network import Network
from qstack.qkd import (
    ParityOracle,
    ToeplitzHash,
    cascade,
    estimate_qber,
    secret_key_length,
    verify_keys,
)
from qstack.qkd._bits import Bits
from qstack.runner import run_network
from qstack.scenario import Scenario, parse_scenario

E2E_TARGET_BITS_PER_S = 100_000
#: The name ``QkdSession.distill_key`` looks ``distill`` up by, in its module.
_DISTILL = "distill"


@dataclass
class Run:
    total_s: float
    stages: dict[str, float]
    secret_bits: int
    ec_efficiency: float
    keys_match: bool


def sifted_block(n: int, qber: float, seed: int) -> tuple[Bits, Bits, Bits]:
    """A sifted block: Alice's bits, Bob's noisy copy, the (common) bases."""
    rng = np.random.default_rng(seed)
    alice = rng.integers(0, 2, n, dtype=np.uint8)
    bob = alice ^ (rng.random(n) < qber).astype(np.uint8)
    bases = rng.integers(0, 2, n, dtype=np.uint8)
    return alice, bob, bases


def run_chain(alice: Bits, bob: Bits, bases: Bits, rng: np.random.Generator) -> Run:
    """Sample, Cascade, verify, amplify; time each stage."""
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    est = estimate_qber(alice, bob, rng, bases=bases, sample_fraction=0.1)
    t1 = time.perf_counter()
    ec = cascade(est.bob, ParityOracle(est.alice), est.qber, rng)
    t2 = time.perf_counter()
    check = verify_keys(est.alice, ec.key, rng)
    t3 = time.perf_counter()
    n = int(est.alice.size)
    length = secret_key_length(n, est.stats.phase_error_rate(), ec.leaked_bits + 64)
    pa = ToeplitzHash.random(rng, n, length)
    key_a, key_b = pa(est.alice), pa(ec.key)
    t4 = time.perf_counter()
    stages = {"sample": t1 - t0, "cascade": t2 - t1, "verify": t3 - t2, "amplify": t4 - t3}
    return Run(
        total_s=t4 - t0,
        stages=stages,
        secret_bits=length,
        ec_efficiency=ec.efficiency,
        keys_match=check.match and bool(np.array_equal(key_a, key_b)),
    )


# --------------------------------------------------------------------------- end to end


@dataclass
class E2eRun:
    wall_s: float
    classical_s: float
    """Wall time in the qkd app's classical phase (basis messages and distill)."""
    distill_s: float
    """Part of ``classical_s`` spent in ``distill``."""
    build_s: float
    delivered: int
    sifted_bits: int
    secret_bits: int
    qber: float | None
    status: str
    keys_match: bool | None
    aborted: bool
    sim_time_s: float
    events: int

    @property
    def simulation_s(self) -> float:
        return self.wall_s - self.classical_s


def e2e_scenario(pairs: int, z: float, seed: int = 1, direct: bool = False) -> Scenario:
    """Two nodes, one 10 km double-click link, one qkd request (measured
    directly, in batches, with ``direct``)."""
    return parse_scenario(
        {
            "seed": seed,
            "run": {"until_s": 1e6},
            "network": {"measure_directly": direct},
            "nodes": [{"name": "alice", "qubits": 10}, {"name": "bob", "qubits": 10}],
            "links": [{"a": "alice", "b": "bob", "length_km": 10.0, "model": "double-click"}],
            "requests": [
                {
                    "app": "qkd",
                    "src": "alice",
                    "dst": "bob",
                    "pairs": pairs,
                    "z_basis_probability": z,
                }
            ],
        },
        source="<benchmarks/qkd.py>",
    )


@contextmanager
def _timed_classical_phase(totals: dict[str, float]) -> Iterator[None]:
    """Add the wall time of the qkd app's classical phase to ``totals``.

    The classical phase is everything after the last pair: Bob builds and
    tags his basis message (``send_bases``), Alice checks it and answers
    (``reply_bases``), Bob checks hers and distils (``distill_key``), and
    within it ``distill``. The session's lifecycle table runs wrapped
    handlers for the duration (a handful of calls per run, so the wrapping
    costs nothing measurable); the table is restored afterwards.
    """
    handlers = (QkdSession.send_bases, QkdSession.reply_bases, QkdSession.distill_key)
    original_table = QkdSession.table
    # ``distill_key`` calls the module's global ``distill``: replace that name.
    original_distill = getattr(qkd_app, _DISTILL)

    def timed(function: Callable[..., Any], key: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[key] = totals.get(key, 0.0) + time.perf_counter() - started

        return wrapper

    try:
        wrapped = {handler: timed(handler, "classical") for handler in handlers}
        QkdSession.table = QKD_LIFECYCLE.with_handlers(wrapped).fast()
        setattr(qkd_app, _DISTILL, timed(original_distill, "distill"))
        yield
    finally:
        QkdSession.table = original_table
        setattr(qkd_app, _DISTILL, original_distill)


def run_e2e(pairs: int, z: float, seed: int = 1, direct: bool = False) -> E2eRun:
    scenario = e2e_scenario(pairs, z, seed, direct)
    gc.collect()
    started = time.perf_counter()
    network = Network(scenario)
    build_s = time.perf_counter() - started
    totals: dict[str, float] = {}
    with _timed_classical_phase(totals):
        report = run_network(network)
    request = report.requests[0]
    assert isinstance(request, QkdRequestReport)
    return E2eRun(
        wall_s=report.wall_time_s,
        classical_s=totals.get("classical", 0.0),
        distill_s=totals.get("distill", 0.0),
        build_s=build_s,
        delivered=request.delivered,
        sifted_bits=request.sifted_bits,
        secret_bits=request.secret_key_bits,
        qber=request.qber,
        status=request.status,
        keys_match=request.keys_match,
        aborted=request.aborted,
        sim_time_s=report.sim_time_s,
        events=report.events,
    )


def e2e_main(pairs: int, direct_pairs: int, repeats: int, zs: list[float]) -> None:
    calibration = calibrate(_heapq_seconds)
    print(
        f"\nend to end: 10 km double-click link, best of {repeats} (network build not timed); "
        f"bare heapq loop {calibration['events_per_s']:,.0f} events per wall-second (b/Mev: key "
        "bits per million of these); per pair: each pair stored, then measured; direct: "
        "measured as heralded, in batches ([network] measure_directly)"
    )
    header = (
        f"{'path':<8} {'pairs':>8} {'z':>4} {'pairs/s':>8} {'sifted/s':>9} {'key b/s':>8} "
        f"{'b/Mev':>6} {'median':>7} {'wall s':>7} {'sim s':>6} {'post s':>7} {'distill':>8} "
        f"{'post %':>6} {'key/pair':>8} {'QBER':>6} {'status':<6} ok"
    )
    print(header)
    for path, count, direct in (("per pair", pairs, False), ("direct", direct_pairs, True)):
        for z in zs:
            runs = [run_e2e(count, z, 1 + r, direct) for r in range(repeats)]
            _print_e2e(path, count, z, runs, calibration)
    print(f"target {E2E_TARGET_BITS_PER_S:,} final key bits per wall-second, z = 0.5 and 0.9")


def _print_e2e(
    path: str, pairs: int, z: float, runs: list[E2eRun], calibration: dict[str, float]
) -> None:
    best = max(runs, key=lambda x: x.secret_bits / x.wall_s)
    median = statistics.median(x.secret_bits / x.wall_s for x in runs)
    qber = "-" if best.qber is None else f"{best.qber:.2%}"
    ok = all(x.keys_match and not x.aborted for x in runs)
    rate = best.secret_bits / best.wall_s
    met = "met" if rate >= E2E_TARGET_BITS_PER_S else "NOT met"
    print(
        f"{path:<8} {pairs:>8,} {z:4.2f} {best.delivered / best.wall_s:8,.0f} "
        f"{best.sifted_bits / best.wall_s:9,.0f} {rate:8,.0f} "
        f"{per_million_heapq(rate, calibration):6,.0f} "
        f"{median:7,.0f} {best.wall_s:7.3f} "
        f"{best.simulation_s:6.3f} {best.classical_s:7.3f} {best.distill_s:8.3f} "
        f"{best.classical_s / best.wall_s:6.1%} {best.secret_bits / best.delivered:8.3f} "
        f"{qber:>6} {best.status:<6} {'yes' if ok else 'NO'}  target {met}"
    )


def _heapq_seconds(events: int) -> float:
    work = bare_heapq_chain(events, 1_000)()
    gc.collect()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def e2e_profile(pairs: int, z: float, direct: bool, top: int = 15) -> None:
    """One end-to-end run under cProfile: where the wall time goes."""
    network = Network(e2e_scenario(pairs, z, direct=direct))
    profiler = cProfile.Profile()
    profiler.enable()
    run_network(network)
    profiler.disable()
    path = "measured directly" if direct else "pair by pair"
    print(
        f"\ncProfile of one end-to-end run ({pairs:,} pairs {path}, z {z}), top {top} by tottime:"
    )
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=1_000_000, help="sifted block size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--qber", type=float, nargs="+", default=[0.02, 0.05])
    parser.add_argument("--e2e-pairs", type=int, default=50_000, help="pairs per end-to-end run")
    parser.add_argument(
        "--direct-pairs",
        type=int,
        default=500_000,
        help="pairs per end-to-end run measured directly (in batches)",
    )
    parser.add_argument(
        "--e2e-z", type=float, nargs="+", default=[0.5, 0.9], help="z_basis_probability values"
    )
    parser.add_argument("--e2e-repeats", type=int, default=3)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--no-e2e", action="store_true", help="only post-processing")
    group.add_argument("--e2e-only", action="store_true", help="only end to end")
    parser.add_argument("--profile", action="store_true", help="cProfile one end-to-end run")
    args = parser.parse_args(argv)
    if not args.e2e_only:
        post_processing_main(args.bits, args.repeats, args.qber)
    if not args.no_e2e:
        e2e_main(args.e2e_pairs, args.direct_pairs, args.e2e_repeats, args.e2e_z)
        if args.profile:
            e2e_profile(args.e2e_pairs, args.e2e_z[0], direct=False)
            e2e_profile(args.direct_pairs, args.e2e_z[0], direct=True)
    return 0


def post_processing_main(bits: int, repeats: int, qbers: list[float]) -> None:
    print(f"post-processing, qstack.qkd: {bits:,} sifted bits, best of {repeats}")
    header = (
        f"{'QBER':>5} {'Mbit/s best':>11} {'median':>7} {'sample':>7} {'cascade':>8} "
        f"{'verify':>7} {'amplify':>8} {'f_EC':>6} {'secret':>9} ok"
    )
    print(header)
    for qber in qbers:
        alice, bob, bases = sifted_block(bits, qber, seed=1)
        runs = []
        for r in range(repeats):
            gc.collect()
            runs.append(run_chain(alice, bob, bases, np.random.default_rng(100 + r)))
        best = min(runs, key=lambda x: x.total_s)
        median = statistics.median(x.total_s for x in runs)
        st = best.stages
        print(
            f"{qber:5.2%} {bits / best.total_s / 1e6:11.2f} {bits / median / 1e6:7.2f} "
            f"{st['sample']:6.3f}s {st['cascade']:7.3f}s {st['verify']:6.3f}s "
            f"{st['amplify']:7.3f}s {best.ec_efficiency:6.3f} {best.secret_bits:9,} "
            f"{'yes' if all(x.keys_match for x in runs) else 'NO'}"
        )


if __name__ == "__main__":
    sys.exit(main())
