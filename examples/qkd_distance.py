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
  and the figure is, if anything, pessimistic.
- **bits per second** of simulated time (``key_rate_bps`` of the report:
  secret bits / time from the request's start to the end of post-processing).

The yardstick is the PLOB bound -log2(1 - eta), eta = 10^(-0.2 L / 10), the
transmittance of the fiber alone over the **total** distance ``L``: the most
secret key per use of a lossy channel of that length that *any* protocol
without repeaters can reach (Pirandola et al., Nat. Commun. 8, 15043, 2017).
It counts only the fiber (the detectors' inefficiency would lower it), so it
is the generous version of the bound. Beside it the table and the plot give
the earlier, looser TGW bound log2((1 + eta) / (1 - eta)) (Takeoka, Guha and
Wilde, Nat. Commun. 5, 5235, 2014): at most one bit above PLOB, twice PLOB
at long distance. A single link must stay below it. A
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

The runs are a sweep (``qstack.experiments.sweeping``), one per chain length,
over ``topology.spacing_km`` = L / n: they run in parallel on every core
(``--workers``), each with its own seed derived from ``--seed``, the point and
the replica (``--replicas`` runs each point several times), and the plot
shows the mean over replicas with a 95% confidence band.

Run it with ``python examples/qkd_distance.py`` (about 20-30 seconds of work
shared by the cores; ``--quick``: three distances and fewer pairs, a few
seconds). It needs pandas (``pip install 'qstack[pandas]'``) and prints a
table; with the ``plot`` extra (``pip install 'qstack[plot]'``: matplotlib,
pandas, scipy) it also saves a plot to ``--out`` (default
``qkd_distance.png``). Exit status 0, or 1 if a single link ever exceeded the
PLOB bound (which would be a bug).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qstack.experiments import sweep
from qstack.experiments.plot import PlotSpec, save_figure
from qstack.physics.formulas import fiber_transmittance, plob_bound, tgw_bound
from qstack.physics.hardware import Fiber
from qstack.scenario import parse_scenario
from qstack.sim.kernel import seconds_to_ps

ATTENUATION_DB_PER_KM = 0.2
DETECTOR_EFFICIENCY = 0.8
DARK_COUNT_PROBABILITY = 1e-6
QUBITS = 4

SEGMENTS = (1, 2, 4)
DISTANCES_KM = (10.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0)
QUICK_DISTANCES_KM = (25.0, 100.0, 200.0)
PAIRS = 10_000
QUICK_PAIRS = 4_000


def scenario_data(pairs: int, memory_t_s: float, z: float, seed: int) -> dict[str, Any]:
    """A chain n0 - n1 of one link and one qkd request end to end; the sweep sets
    ``topology.nodes``, ``topology.spacing_km`` and the request's ``dst``."""
    return {
        "seed": seed,
        # Simulated time is cheap (failed attempts are skipped, not simulated).
        "run": {"until_s": 1e9},
        "topology": {
            "kind": "chain",
            "nodes": 2,
            "spacing_km": 10.0,
            "node": {"qubits": QUBITS, "memory_t_s": memory_t_s},
            "link": {
                "model": "double-click",
                "attenuation_db_per_km": ATTENUATION_DB_PER_KM,
                "detector_efficiency": DETECTOR_EFFICIENCY,
                "dark_count_probability": DARK_COUNT_PROBABILITY,
            },
        },
        "requests": [
            {"app": "qkd", "src": "n0", "dst": "n1", "pairs": pairs, "z_basis_probability": z}
        ],
    }


def run_chains(
    data: dict[str, Any], distances: tuple[float, ...], replicas: int, workers: int | None
) -> Any:
    """One sweep per chain length; the rows of all of them, with the derived columns."""
    import pandas as pd

    link = parse_scenario(data).links[0]  # every generated link has these defaults
    frames = []
    for segments in SEGMENTS:
        grid = {
            "topology.nodes": [segments + 1],
            "requests[0].dst": [f"n{segments}"],
            "topology.spacing_km": [distance / segments for distance in distances],
        }
        frame = sweep(data, grid, replicas=replicas, workers=workers)
        frame["segments"] = segments
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True)
    rows["distance_km"] = rows["topology.spacing_km"] * rows["segments"]
    # Attempt cycle of one link: preparation plus the photon's and the herald's flight.
    prep_ps = seconds_to_ps(link.attempt_prep_s)
    rows["uses"] = [
        round(sim_s * 1e12) // (prep_ps + Fiber(spacing, 0.0, link.fiber_speed_km_per_s).delay_ps)
        for sim_s, spacing in zip(rows["sim_time_s"], rows["topology.spacing_km"], strict=True)
    ]
    rows["key_bits_per_use"] = rows["secret_key_bits"] / rows["uses"]
    rows["plob"] = [
        plob_bound(fiber_transmittance(d, ATTENUATION_DB_PER_KM)) for d in rows["distance_km"]
    ]
    rows["tgw"] = [
        tgw_bound(fiber_transmittance(d, ATTENUATION_DB_PER_KM)) for d in rows["distance_km"]
    ]
    rows["chain_bound"] = [
        plob_bound(fiber_transmittance(s, ATTENUATION_DB_PER_KM))
        for s in rows["topology.spacing_km"]
    ]
    return rows


def _sci(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.3e}"


def table(rows: Any) -> str:
    header = (
        f"{'L km':>6} {'segs':>4} {'status':<7} {'pairs':>6} {'uses':>11} "
        f"{'sifted':>6} "
        f"{'QBER':>6} {'secret':>6} {'bits/use':>9} {'PLOB(L)':>9} {'TGW(L)':>9} {'chain bd':>9} "
        f"{'use/PLOB':>8} {'bits/s':>9} {'sim s':>9} {'wall s':>6} {'rep':>3}"
    )
    lines = [header, "-" * len(header)]
    for p in rows.sort_values(["segments", "distance_km", "replica"]).itertuples():
        qber = "-" if p.qber != p.qber or p.qber is None else f"{p.qber:.2%}"
        secret = "abort" if p.aborted else f"{p.secret_key_bits}"
        lines.append(
            f"{p.distance_km:6.0f} {p.segments:4d} {p.status:<7} {p.delivered:6d} {p.uses:11d} "
            f"{p.sifted_bits:6d} {qber:>6} {secret:>6} {p.key_bits_per_use:9.3e} {p.plob:9.3e} "
            f"{p.tgw:9.3e} {p.chain_bound:9.3e} {p.key_bits_per_use / p.plob:8.3f} "
            f"{_sci(p.key_rate_bps):>9} {p.sim_time_s:9.3g} {p.wall_time_s:6.2f} {p.replica:3d}"
        )
    return "\n".join(lines)


def plot(rows: Any, out: str, memory_t_s: float) -> bool:
    """Save the two panels to ``out``; False when the plot extra is not installed."""
    lines = rows[["distance_km", "segments", "key_bits_per_use", "key_rate_bps"]]
    per_use = PlotSpec(
        "distance_km", "key_bits_per_use", hue="segments", logy=True,
        plob_db_per_km=ATTENUATION_DB_PER_KM, xlabel="total distance L (km)",
        ylabel="secret bits per channel use",
        title="per use of the L-km channel (one attempt slot)",
    )  # fmt: skip
    per_s = PlotSpec(
        "distance_km", "key_rate_bps", hue="segments", logy=True,
        xlabel="total distance L (km)", ylabel="secret bits per simulated second",
        title="per second of simulated time",
    )  # fmt: skip
    title = (
        f"BBM92 over double-click links (0.2 dB/km, detectors {DETECTOR_EFFICIENCY}, "
        f"dark counts {DARK_COUNT_PROBABILITY:g}, memory T = {memory_t_s:g} s)\n"
        "mean and 95% confidence interval over replicas; points without key left out"
    )
    try:
        save_figure(out, [(lines, per_use), (lines, per_s)], title)
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 distances, fewer pairs")
    parser.add_argument("--pairs", type=int, help="pairs per run (default 10000, --quick 4000)")
    parser.add_argument(
        "--distances", type=float, nargs="+", metavar="KM", help="total distances in km"
    )
    parser.add_argument("--memory-t", type=float, default=1.0, help="memory T in s (default 1)")
    parser.add_argument("--z", type=float, default=0.5, help="z_basis_probability (default 0.5)")
    parser.add_argument("--seed", type=int, default=1, help="base seed of the sweep (default 1)")
    parser.add_argument("--replicas", type=int, default=1, help="runs per point (default 1)")
    parser.add_argument("--workers", type=int, help="parallel runs (default: every core)")
    parser.add_argument("--out", default="qkd_distance.png", help="plot file")
    args = parser.parse_args(argv)
    pairs = args.pairs or (QUICK_PAIRS if args.quick else PAIRS)
    distances = tuple(args.distances or (QUICK_DISTANCES_KM if args.quick else DISTANCES_KM))

    print(
        f"BBM92, {pairs} pairs per run, double-click links at {ATTENUATION_DB_PER_KM} dB/km, "
        f"detector efficiency {DETECTOR_EFFICIENCY}, dark counts {DARK_COUNT_PROBABILITY:g}, "
        f"memory T = {args.memory_t:g} s, z_basis_probability {args.z}"
    )
    print(
        "uses = attempt slots of a link during the run (one slot: one use of every segment, so\n"
        "  one use of the whole L-km channel);\n"
        "bits/use = secret / uses; PLOB(L) = -log2(1 - eta), eta = fiber transmittance over\n"
        "  the total distance L (the repeaterless bound); TGW(L) = log2((1 + eta)/(1 - eta)),\n"
        "  the earlier, looser bound; chain bd = PLOB over one segment\n"
        "  (the chain's own bound); use/PLOB = bits/use / PLOB(L); bits/s = secret bits per\n"
        "  simulated second; rep = replica.\n",
        flush=True,
    )
    data = scenario_data(pairs, args.memory_t, args.z, args.seed)
    rows = run_chains(data, distances, args.replicas, args.workers)
    print(table(rows))
    for p in rows.itertuples():
        if p.aborted or p.status != "done":
            why = p.abort_reason if isinstance(p.abort_reason, str) else p.status
            print(f"  {p.segments} segment(s) at {p.distance_km:g} km, replica {p.replica}: "
                  f"no key ({why})")  # fmt: skip

    singles = rows[rows["segments"] == 1]
    over = singles[singles["key_bits_per_use"] >= singles["plob"]]
    beat = rows[(rows["segments"] > 1) & (rows["key_bits_per_use"] > rows["plob"])]
    print()
    for p in beat.itertuples():
        print(
            f"{p.segments} segments at {p.distance_km:g} km: {p.key_bits_per_use:.3e} bits per "
            f"use exceeds the repeaterless bound {p.plob:.3e} (its chain bound: "
            f"{p.chain_bound:.3e})"
        )
    if beat.empty:
        print("no repeater chain exceeded the repeaterless bound per channel use here")
    if plot(rows, args.out, args.memory_t):
        print(f"plot saved to {args.out}")
    else:
        print("matplotlib is not installed (pip install 'qstack[plot]'): no plot, table only")
    if not over.empty:
        print(f"ERROR: a single link exceeded the PLOB bound at {list(over['distance_km'])} km")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
