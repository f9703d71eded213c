"""Secret key rate against distance: one link, and 2- and 4-segment repeater chains.

Every point is a full ``qkd`` run (BBM92 with sifting, QBER sampling, Cascade,
verification and privacy amplification; ``qstack.layers.app.qkd``) over a
chain of equal double-click links that together span the total distance
``L``. Links: 0.2 dB/km, detector efficiency 0.8, dark-count probability
1e-6 per detector per window, the other fields at their defaults. Nodes:
depolarising memories (``--memory-t``, default 1 s), 4 qubits each. The
end nodes measure every end-to-end pair at once; repeaters hold their link
pairs in memory until they can swap.

Two rates are printed for each point:

- **bits per channel use** = final secret bits / ``uses``, where ``uses`` is
  the number of attempt slots of one link that passed during the run:
  simulated time / the link's attempt cycle. One attempt is one use of a
  link's fiber, and the links of a chain attempt in parallel, so one slot is
  one use of every segment, that is one use of the whole ``L`` km. Slots in
  which a link did not attempt (its memory was full, waiting for the other
  links) count as uses too, so ``uses`` is at least the attempts of any link
  (also printed) and the figure is, if anything, pessimistic.
- **bits per second** of simulated time (``key_rate_bps`` of the report:
  secret bits / time from the request's start to the end of post-processing).

The yardstick is the PLOB bound -log2(1 - eta), eta = 10^(-0.2 L / 10), the
transmittance of the fiber alone over the **total** distance ``L``: the most
secret key per use of a lossy channel of that length that *any* protocol
without repeaters can reach (Pirandola et al., Nat. Commun. 8, 15043, 2017).
It counts only the fiber (the detectors' inefficiency would lower it), so it
is the generous version of the bound. A single link must stay below it. A
chain of n segments is not bound by it: its own limit is the repeater bound
-log2(1 - eta^(1/n)) per use of the chain (the bound of its worst segment),
which the table prints as well. Beating the repeaterless bound per channel
use is what a repeater is for; with these memories it happens only where the
segments are short enough that link pairs do not wait long in memory (the
table shows where: the 4-segment chain from about 100 km).

Per channel use says nothing about time: an attempt on a link of length
``l`` takes 1 us of preparation plus ``l / (2e5 km/s)`` (photon to the middle
station and herald back), so a chain's attempts are also shorter. The
bits-per-second column shows what that is worth.

Run it with ``python examples/qkd_distance.py`` (about 20-30 seconds;
``--quick``: three distances and fewer pairs, about 5 seconds). It always prints a table;
with matplotlib installed (``pip install matplotlib``, or the ``plot`` extra
``pip install 'qstack[plot]'``) it also saves a plot to ``--out`` (default
``qkd_distance.png``). Exit status 0, or 1 if a single link ever exceeded the
PLOB bound (which would be a bug).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qstack.layers.app.qkd import QkdRequestReport
from qstack.network import Network
from qstack.physics.formulas import fiber_transmittance, plob_bound
from qstack.runner import run_network
from qstack.scenario import parse_scenario

ATTENUATION_DB_PER_KM = 0.2
DETECTOR_EFFICIENCY = 0.8
DARK_COUNT_PROBABILITY = 1e-6
QUBITS = 4

SEGMENTS = (1, 2, 4)
DISTANCES_KM = (10.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0)
QUICK_DISTANCES_KM = (25.0, 100.0, 200.0)
PAIRS = 10_000
QUICK_PAIRS = 4_000


@dataclass(frozen=True)
class Point:
    """One run: ``segments`` equal links spanning ``distance_km``."""

    segments: int
    distance_km: float
    status: str
    delivered: int
    uses: int
    """Attempt slots of one link during the run (simulated time / attempt cycle)."""
    attempts: int
    """Attempts of the link that made the most."""
    sifted_bits: int
    qber: float | None
    secret_bits: int
    aborted: bool
    abort_reason: str | None
    key_rate_bps: float | None
    sim_time_s: float
    wall_s: float

    @property
    def eta(self) -> float:
        """Fiber transmittance over the whole distance."""
        return fiber_transmittance(self.distance_km, ATTENUATION_DB_PER_KM)

    @property
    def plob(self) -> float:
        """Repeaterless bound per use of the whole distance."""
        return plob_bound(self.eta)

    @property
    def chain_bound(self) -> float:
        """Repeater bound: the worst segment's PLOB bound, per use of the chain."""
        return plob_bound(
            fiber_transmittance(self.distance_km / self.segments, ATTENUATION_DB_PER_KM)
        )

    @property
    def bits_per_use(self) -> float:
        return self.secret_bits / self.uses if self.uses else 0.0


def scenario_data(
    segments: int, distance_km: float, pairs: int, memory_t_s: float, z: float, seed: int
) -> dict[str, Any]:
    """A chain n0 - ... - n<segments> of equal links, one qkd request end to end."""
    return {
        "seed": seed,
        # Simulated time is cheap (failed attempts are skipped, not simulated).
        "run": {"until_s": 1e9},
        "topology": {
            "kind": "chain",
            "nodes": segments + 1,
            "spacing_km": distance_km / segments,
            "node": {"qubits": QUBITS, "memory_t_s": memory_t_s},
            "link": {
                "model": "double-click",
                "attenuation_db_per_km": ATTENUATION_DB_PER_KM,
                "detector_efficiency": DETECTOR_EFFICIENCY,
                "dark_count_probability": DARK_COUNT_PROBABILITY,
            },
        },
        "requests": [
            {
                "app": "qkd",
                "src": "n0",
                "dst": f"n{segments}",
                "pairs": pairs,
                "z_basis_probability": z,
            }
        ],
    }


def run_point(
    segments: int, distance_km: float, pairs: int, memory_t_s: float, z: float, seed: int
) -> Point:
    scenario = parse_scenario(
        scenario_data(segments, distance_km, pairs, memory_t_s, z, seed),
        source=f"<qkd_distance {segments} x {distance_km / segments:g} km>",
    )
    started = time.perf_counter()
    network = Network(scenario)
    report = run_network(network)
    wall = time.perf_counter() - started
    # Equal links have equal cycles; with unequal ones the shortest cycle counts.
    cycle_ps = min(link.station.cycle_ps for link in network.links)
    slots = round(report.sim_time_s * 1e12) // cycle_ps
    request = report.requests[0]
    assert isinstance(request, QkdRequestReport)
    return Point(
        segments=segments,
        distance_km=distance_km,
        status=request.status,
        delivered=request.delivered,
        uses=slots,
        attempts=max(link.attempts for link in report.links),
        sifted_bits=request.sifted_bits,
        qber=request.qber,
        secret_bits=request.secret_key_bits,
        aborted=request.aborted,
        abort_reason=request.abort_reason,
        key_rate_bps=request.key_rate_bps,
        sim_time_s=report.sim_time_s,
        wall_s=wall,
    )


def _sci(value: float | None) -> str:
    return "-" if value is None else f"{value:.3e}"


def table(points: list[Point]) -> str:
    header = (
        f"{'L km':>6} {'segs':>4} {'status':<7} {'pairs':>6} {'uses':>11} {'attempts':>11} "
        f"{'sifted':>6} "
        f"{'QBER':>6} {'secret':>6} {'bits/use':>9} {'PLOB(L)':>9} {'chain bd':>9} "
        f"{'use/PLOB':>8} {'bits/s':>9} {'sim s':>9} {'wall s':>6}"
    )
    lines = [header, "-" * len(header)]
    for p in points:
        qber = "-" if p.qber is None else f"{p.qber:.2%}"
        secret = "abort" if p.aborted else f"{p.secret_bits}"
        lines.append(
            f"{p.distance_km:6.0f} {p.segments:4d} {p.status:<7} {p.delivered:6d} {p.uses:11d} "
            f"{p.attempts:11d} "
            f"{p.sifted_bits:6d} {qber:>6} {secret:>6} {p.bits_per_use:9.3e} {p.plob:9.3e} "
            f"{p.chain_bound:9.3e} {p.bits_per_use / p.plob:8.3f} {_sci(p.key_rate_bps):>9} "
            f"{p.sim_time_s:9.3g} {p.wall_s:6.2f}"
        )
    return "\n".join(lines)


def plot(points: list[Point], out: Path, memory_t_s: float) -> bool:
    """Save the two panels to ``out``; False when matplotlib is not installed."""
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
        matplotlib.use("Agg")  # no display needed
        plt: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        return False
    fig, (per_use, per_s) = plt.subplots(1, 2, figsize=(12, 4.8))
    fine = [i * 2.0 for i in range(1, 1 + int(max(p.distance_km for p in points) / 2) + 5)]
    per_use.plot(
        fine,
        [plob_bound(fiber_transmittance(d, ATTENUATION_DB_PER_KM)) for d in fine],
        "k-",
        label="PLOB bound -log2(1-eta), eta of the whole distance",
    )
    for segments, marker in zip(SEGMENTS, "osD", strict=True):
        mine = [p for p in points if p.segments == segments and p.secret_bits > 0]
        repeaters = "1 repeater" if segments == 2 else f"{segments - 1} repeaters"
        label = "single link" if segments == 1 else f"{segments} segments ({repeaters})"
        per_use.plot(
            [p.distance_km for p in mine], [p.bits_per_use for p in mine], marker + "-", label=label
        )
        per_s.plot(
            [p.distance_km for p in mine],
            [p.key_rate_bps or 0.0 for p in mine],
            marker + "-",
            label=label,
        )
    per_use.set(
        yscale="log",
        xlabel="total distance L (km)",
        ylabel="secret bits per channel use",
        title="per use of the L-km channel (one attempt slot)",
    )
    per_s.set(
        yscale="log",
        xlabel="total distance L (km)",
        ylabel="secret bits per simulated second",
        title="per second of simulated time",
    )
    for axes in (per_use, per_s):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    fig.suptitle(
        f"BBM92 over double-click links (0.2 dB/km, detectors {DETECTOR_EFFICIENCY}, "
        f"dark counts {DARK_COUNT_PROBABILITY:g}, memory T = {memory_t_s:g} s); "
        "points without key are left out"
    )
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 distances, fewer pairs (~5 s)")
    parser.add_argument("--pairs", type=int, help="pairs per run (default 10000, --quick 4000)")
    parser.add_argument(
        "--distances", type=float, nargs="+", metavar="KM", help="total distances in km"
    )
    parser.add_argument("--memory-t", type=float, default=1.0, help="memory T in s (default 1)")
    parser.add_argument("--z", type=float, default=0.5, help="z_basis_probability (default 0.5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("qkd_distance.png"), help="plot file")
    args = parser.parse_args(argv)
    pairs = args.pairs or (QUICK_PAIRS if args.quick else PAIRS)
    distances = args.distances or (QUICK_DISTANCES_KM if args.quick else DISTANCES_KM)

    print(
        f"BBM92, {pairs} pairs per run, double-click links at {ATTENUATION_DB_PER_KM} dB/km, "
        f"detector efficiency {DETECTOR_EFFICIENCY}, dark counts {DARK_COUNT_PROBABILITY:g}, "
        f"memory T = {args.memory_t:g} s, z_basis_probability {args.z}"
    )
    print(
        "uses = attempt slots of a link during the run (one slot: one use of every segment, so\n"
        "  one use of the whole L-km channel); attempts = attempts of the busiest link;\n"
        "bits/use = secret / uses; PLOB(L) = -log2(1 - eta), eta = fiber transmittance over\n"
        "  the total distance L (the repeaterless bound); chain bd = the same over one segment\n"
        "  (the chain's own bound); use/PLOB = bits/use / PLOB(L); bits/s = secret bits per\n"
        "  simulated second.\n",
        flush=True,
    )
    points = [
        run_point(segments, distance, pairs, args.memory_t, args.z, args.seed)
        for segments in SEGMENTS
        for distance in distances
    ]
    print(table(points))
    for p in points:
        if p.aborted or p.status != "done":
            why = p.abort_reason or p.status
            print(f"  {p.segments} segment(s) at {p.distance_km:g} km: no key ({why})")

    over = [p for p in points if p.segments == 1 and p.bits_per_use >= p.plob]
    beat = [p for p in points if p.segments > 1 and p.bits_per_use > p.plob]
    print()
    for p in beat:
        print(
            f"{p.segments} segments at {p.distance_km:g} km: {p.bits_per_use:.3e} bits per use "
            f"exceeds the repeaterless bound {p.plob:.3e} (its chain bound: {p.chain_bound:.3e})"
        )
    if not beat:
        print("no repeater chain exceeded the repeaterless bound per channel use here")
    if plot(points, args.out, args.memory_t):
        print(f"plot saved to {args.out}")
    else:
        print("matplotlib is not installed (pip install matplotlib): no plot, table only")
    if over:
        print(f"ERROR: a single link exceeded the PLOB bound at {[p.distance_km for p in over]} km")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
