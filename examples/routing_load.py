"""Routing strategies under load: a Waxman network, more and more requests at once.

Every built-in routing strategy, and ``widest-rate`` and ``least-loaded``
from ``examples/custom_routing.py`` (imported, registered by name), serve the
same requests on the same 12-node Waxman network: double-click links of 7 to
109 km (detector efficiency 0.9, dark counts 1e-5), 4 memory qubits per node
with depolarising time T = 1 s, ``cutoff_s = 0.5``. Each request asks for 20
end-to-end pairs; the load is how many requests run at once (1 to 8), taken
in order from a fixed list of node pairs for which the strategies choose
different paths (so that the comparison measures routing, not luck of the
draw).

All but one are load-oblivious: each picks the path that is best for a
request alone (fewest hops, least expected generation time, best estimated
fidelity, fastest slowest link). With one request the fast-path strategies
win; as load grows, the ones that agree on the same fast trunk of links
crowd it: circuits queue for the same link pairs and the memories of the
same repeaters, segments wait, age past the cutoff and are discarded, and
the requests fall behind, while paths spread by hop count share less.
``least-loaded`` sees the circuits its own node already serves (the routing
view's load) and steers new requests away from the links they use.

The runs are one sweep per load (``qstack.experiments.sweeping`` over
``network.routing``, ``--replicas`` seeds each, on every core), so the
figures carry 95% confidence intervals (t-distribution over replicas).
Printed per load and strategy: the share of requests done within
``run.until_s`` (20 s simulated), the throughput (pairs delivered to all
requests together, per simulated second of the run, which ends when the
last request does), and the mean fidelity of the delivered pairs. It
needs pandas and scipy, and draws the two curves to ``--out`` (default
``routing_load.png``) with matplotlib: ``pip install 'qstack[plot]'``.

Run it with ``python examples/routing_load.py`` (``--quick``: loads 1, 4
and 8, two replicas).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from custom_routing import LeastLoaded, WidestRate  # the strategies of custom_routing.py

from qstack.experiments import sweep
from qstack.experiments.plot import PlotSpec, save_figure, t_half_width
from qstack.registry import Registry

#: Node pairs (in this order) on which the four strategies do not all agree.
REQUESTS = [
    ("n0", "n7"), ("n0", "n8"), ("n0", "n11"), ("n1", "n5"),
    ("n1", "n10"), ("n3", "n7"), ("n3", "n8"), ("n4", "n5"),
]  # fmt: skip
LOADS = (1, 2, 4, 6, 8)
QUICK_LOADS = (1, 4, 8)
PAIRS = 20


def scenario(load: int) -> dict[str, Any]:
    """The network, and the first ``load`` requests of ``REQUESTS``."""
    return {
        "seed": 11,  # also the Waxman graph's seed: the same network at every load
        "run": {"until_s": 20.0},
        "topology": {
            "kind": "waxman",
            "nodes": 12,
            "area_km": 120.0,
            "alpha": 0.5,
            "beta": 0.5,
            "node": {"qubits": 4, "memory_t_s": 1.0},
            "link": {
                "model": "double-click",
                "detector_efficiency": 0.9,
                "dark_count_probability": 1e-5,
            },
        },
        "network": {"cutoff_s": 0.5},
        "requests": [
            {"app": "pairs", "src": src, "dst": dst, "pairs": PAIRS} for src, dst in REQUESTS[:load]
        ],
    }


def per_run(loads: tuple[int, ...], replicas: int, workers: int | None) -> Any:
    """One row per run: the load, the strategy, and the means over its requests."""
    import pandas as pd

    registry = Registry.with_defaults()
    registry.register("routing", WidestRate.name, WidestRate)
    registry.register("routing", LeastLoaded.name, LeastLoaded)
    grid = {"network.routing": registry.names("routing")}
    frames = []
    for load in loads:
        rows = sweep(scenario(load), grid, replicas=replicas, workers=workers, registry=registry)
        rows["load"] = load
        rows["done"] = rows["status"] == "done"
        frames.append(rows)
    rows = pd.concat(frames, ignore_index=True)
    runs = rows.groupby(["load", "network.routing", "replica"], as_index=False).agg(
        done=("done", "mean"),
        delivered=("delivered", "sum"),
        sim_time_s=("sim_time_s", "first"),  # the run's, the same on each of its rows
        fidelity=("fidelity_mean", "mean"),
    )
    runs["throughput_hz"] = runs["delivered"] / runs["sim_time_s"]
    return runs


def table(runs: Any) -> str:
    header = (
        f"{'load':>4}  {'strategy':<15} {'done':>6}  {'throughput, pairs/s':>22}  "
        f"{'fidelity':>8}  runs"
    )
    lines = [header, "-" * len(header)]
    for (load, strategy), group in runs.groupby(["load", "network.routing"]):
        rate = group["throughput_hz"]
        half = t_half_width(float(rate.std()), len(rate))
        band = "" if half != half else f" +- {half:6.2f}"
        fidelity = group["fidelity"].mean()
        shown = "-" if fidelity != fidelity else f"{fidelity:.4f}"
        lines.append(
            f"{load:4d}  {strategy:<15} {group['done'].mean():6.0%}  "
            f"{rate.mean():12.2f}{band:>10}  {shown:>8}  {len(group):4d}"
        )
    return "\n".join(lines)


def plot(runs: Any, out: str) -> bool:
    """Throughput and fidelity against load, a line per strategy; False without the plot extra."""
    label = "requests at once"
    throughput = PlotSpec("load", "throughput_hz", hue="network.routing", xlabel=label,
                          ylabel="pairs delivered per second, all requests")  # fmt: skip
    fidelity = PlotSpec("load", "fidelity", hue="network.routing", xlabel=label,
                        ylabel="mean fidelity of delivered pairs")  # fmt: skip
    title = (
        "Routing strategies on a 12-node Waxman network as load grows "
        "(mean and 95% confidence interval over replicas)"
    )
    try:
        save_figure(out, [(runs, throughput), (runs, fidelity)], title)
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="loads 1, 4, 8 and two replicas")
    parser.add_argument("--replicas", type=int, help="runs per point (default 5, --quick 2)")
    parser.add_argument("--workers", type=int, help="parallel runs (default: every core)")
    parser.add_argument("--out", default="routing_load.png", help="plot file")
    args = parser.parse_args(argv)
    loads = QUICK_LOADS if args.quick else LOADS
    replicas = args.replicas or (2 if args.quick else 5)

    print(
        f"{PAIRS} pairs per request, loads {', '.join(map(str, loads))}, {replicas} replicas; "
        "done = share of requests finished; throughput +- the 95% half-width over replicas\n"
    )
    runs = per_run(loads, replicas, args.workers)
    print(table(runs))
    if plot(runs, args.out):
        print(f"\nplot saved to {args.out}")
    else:
        print("\nmatplotlib is not installed (pip install 'qstack[plot]'): no plot, table only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
