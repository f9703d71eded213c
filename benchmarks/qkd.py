"""QKD post-processing throughput: sifted bits per wall-second.

Usage::

    python benchmarks/qkd.py              # 1-Mbit sifted block at QBER 2% and 5%
    python benchmarks/qkd.py --bits 200000 --repeats 5

For each QBER a 1-Mbit sifted block (Alice's uniform bits, Bob's with i.i.d.
flips; half Z, half X) goes through the classical chain of
``qstack.qkd``: QBER sampling (10%), Cascade, 64-bit verification and Toeplitz
privacy amplification. The figure is sifted bits / wall time of that chain
(best of the repeats; the median is shown too). Generating the block is not
timed. Target: at least 1 Mbit of sifted key per wall-second. Only measures
and prints; nothing fails.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

from qstack.qkd import (
    ParityOracle,
    ToeplitzHash,
    cascade,
    estimate_qber,
    secret_key_length,
    verify_keys,
)
from qstack.qkd._bits import Bits


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=1_000_000, help="sifted block size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--qber", type=float, nargs="+", default=[0.02, 0.05])
    args = parser.parse_args(argv)

    print(f"qstack.qkd: {args.bits:,} sifted bits, best of {args.repeats}")
    header = (
        f"{'QBER':>5} {'Mbit/s best':>11} {'median':>7} {'sample':>7} {'cascade':>8} "
        f"{'verify':>7} {'amplify':>8} {'f_EC':>6} {'secret':>9} ok"
    )
    print(header)
    for qber in args.qber:
        alice, bob, bases = sifted_block(args.bits, qber, seed=1)
        runs = []
        for r in range(args.repeats):
            gc.collect()
            runs.append(run_chain(alice, bob, bases, np.random.default_rng(100 + r)))
        best = min(runs, key=lambda x: x.total_s)
        median = statistics.median(x.total_s for x in runs)
        st = best.stages
        print(
            f"{qber:5.2%} {args.bits / best.total_s / 1e6:11.2f} {args.bits / median / 1e6:7.2f} "
            f"{st['sample']:6.3f}s {st['cascade']:7.3f}s {st['verify']:6.3f}s "
            f"{st['amplify']:7.3f}s {best.ec_efficiency:6.3f} {best.secret_bits:9,} "
            f"{'yes' if all(x.keys_match for x in runs) else 'NO'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
