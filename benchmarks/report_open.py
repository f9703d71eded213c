"""How long a ``qstack report`` page of a large run takes to open.

Usage::

    python benchmarks/report_open.py                 # about 100,000 trace lines
    python benchmarks/report_open.py --pairs 2000 --repeats 3

The run is ``examples/aachen_juelich_bonn.toml`` (a repeater between two
links) with its request raised to ``--pairs`` pairs (10,000 by default,
which gives about 100,000 trace lines: primitives, peer messages and
application lines). The page is built in process (not timed in the
figures below, but printed) and opened ``--repeats`` times in headless
Chromium, each time in a fresh browser. The figures: wall time from the
navigation to the load event (the page parsed, its script run, the
sequence chart drawn), and to the first frame painted after it.

Needs Debian's ``chromium`` (or ``QSTACK_CHROMIUM``). Only measures and
prints; nothing fails.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tomllib
from pathlib import Path

from qstack.network import Network
from qstack.report.browser import Chromium
from qstack.report.page import Sources, build_page
from qstack.report.summary import scenario_facts, summary_of
from qstack.runner import run_network
from qstack.scenario import parse_scenario
from qstack.sim.trace import MemoryTracer
from qstack.tracing import lines_from_records

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "aachen_juelich_bonn.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["requests"][0]["pairs"] = args.pairs
    data["run"]["until_s"] = 10_000.0
    scenario = parse_scenario(data, str(EXAMPLE), EXAMPLE.parent)
    tracer = MemoryTracer()
    started = time.perf_counter()
    report = run_network(Network(scenario, None, tracer))
    ran = time.perf_counter() - started
    lines = lines_from_records(tracer.records)
    started = time.perf_counter()
    page = build_page(
        Sources(EXAMPLE.name, lambda: lines, summary_of(report), scenario_facts(scenario))
    )
    built = time.perf_counter() - started
    print(
        f"run: {args.pairs:,} pairs, {len(lines):,} trace lines, {ran:.1f} s; "
        f"page: {len(page.encode()) / 1024:,.0f} KiB, built in {built:.1f} s"
    )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "run.html"
        path.write_text(page, encoding="utf-8")
        loads, paints = [], []
        for _ in range(args.repeats):
            with Chromium() as browser:
                opened = browser.open(path.as_uri())
                if opened.errors:
                    print("errors:", opened.errors)
                loads.append(opened.load_s)
                paints.append(opened.painted_s)
    print(
        f"open (load event): median {statistics.median(loads):.3f} s, "
        f"max {max(loads):.3f} s over {args.repeats} fresh browsers"
    )
    print(
        f"open (first frame after load): median {statistics.median(paints):.3f} s, "
        f"max {max(paints):.3f} s"
    )


if __name__ == "__main__":
    main()
