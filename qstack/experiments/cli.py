"""The command-line handlers: ``qstack run --set``, ``qstack sweep`` and ``qstack plot``.

``qstack/cli.py`` only forwards to these, so the experiments package owns
its options, messages and exit statuses: 0 done, 1 a run crashed (a bug,
reported with the command that reproduces it), 2 bad input, 130 interrupted
(the finished rows are kept; ``--resume`` continues).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from qstack.cli import EXIT_BAD_INPUT, EXIT_INTERRUPTED
from qstack.experiments import scenario_with_overrides
from qstack.experiments.engines import ENGINES, EngineError, make_engine
from qstack.experiments.grid import parse_axis
from qstack.experiments.overrides import parse_assignment, parse_value
from qstack.experiments.results import FORMATS, ResultsError, open_store
from qstack.experiments.sweeping import RunFailedError, execute, plan_sweep
from qstack.scenario import Scenario, ScenarioError

EXIT_RUN_FAILED = 1

#: Columns of the stdout table (when present), after the swept keys.
TABLE_COLUMNS = (
    "replica",
    "name",
    "status",
    "delivered",
    "fidelity_mean",
    "latency_mean_s",
    "rate_hz",
    "qber",
    "secret_key_bits",
    "teleport_fidelity_mean",
)


def load_with_overrides(file: str | None, assignments: Sequence[str]) -> Scenario:
    """``qstack run FILE --set KEY=VALUE ...``: the file (or the built-in) edited, validated."""
    pairs = [parse_assignment(text) for text in assignments]
    return scenario_with_overrides(file, [(key, parse_value(value)) for key, value in pairs])


def _sweep_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qstack sweep",
        description="Run a scenario over a grid of --set values, several replicas per point; "
        "one row per (point, replica, request).",
    )
    parser.add_argument("file", help="scenario (.toml or .json)")
    parser.add_argument(
        "--set",
        dest="axes",
        action="append",
        default=[],
        metavar="KEY=VALUES",
        help="a swept key: a comma list (10,20,30) or a range START:STOP:STEP; "
        "several --set make the cartesian product",
    )
    parser.add_argument("--replicas", type=int, default=1, help="runs per point (default 1)")
    parser.add_argument(
        "--workers",
        type=int,
        help="parallel runs (default: this machine's cores; with --scheduler the cluster's)",
    )
    parser.add_argument("--engine", choices=ENGINES, default="local", help="default: local")
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler (tcp://host:8786); --engine dask"
    )
    parser.add_argument(
        "--out", metavar="FILE", help=f"write the rows ({', '.join(FORMATS)}); else a table"
    )
    parser.add_argument("--resume", action="store_true", help="skip the runs --out already holds")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument(
        "--seed", type=int, help="base seed of the derived seeds (default: the file's seed)"
    )
    return parser


def sweep_command(argv: Sequence[str]) -> int:
    """``qstack sweep``: returns the exit status."""
    args = _sweep_parser().parse_args(list(argv))
    try:
        axes = [parse_axis(*parse_assignment(text)) for text in args.axes]
        plan = plan_sweep(args.file, axes, args.replicas, args.seed)
        if args.resume and args.out is None:
            raise ResultsError("--resume needs --out (the file of the sweep to continue)")
        store = open_store(plan.keys, args.out, args.resume, args.overwrite)
        engine = make_engine(args.engine, args.workers, None, args.scheduler)
        outcome = execute(plan, engine, store, args.resume, sys.stderr, str(args.out))
    except (ScenarioError, ResultsError, EngineError) as error:
        print(f"qstack: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunFailedError as error:
        print(f"qstack: {error}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except KeyboardInterrupt:  # while validating the points or starting a cluster
        print("qstack: interrupted before any run finished", file=sys.stderr)
        return EXIT_INTERRUPTED
    done = outcome.skipped + outcome.completed
    if args.out is None:
        print(format_table(store.rows, plan.keys))
    else:
        print(
            f"{len(store.rows)} rows from {done} of {outcome.runs} runs in {args.out}"
            + (f" ({outcome.skipped} were there already)" if outcome.skipped else ""),
            file=sys.stderr,
        )
    if outcome.interrupted:
        kept = f"; their rows are in {args.out}: add --resume to finish" if args.out else ""
        print(f"qstack: interrupted after {done} of {outcome.runs} runs{kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if store.rows and args.out is None:
        row = store.rows[0]
        print(
            "\nreproduce a row: "
            + plan.reproduce(int(row["point"]), int(row["seed"]))
            + "\nevery column: --out FILE (.csv, .jsonl, .parquet)"
        )
    return 0


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    return str(value)


def format_table(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> str:
    """The rows as aligned text: swept keys, then the main fields that any row has."""
    present = {column for row in rows for column in row}
    columns = [*keys, *(c for c in TABLE_COLUMNS if c in present)]
    cells = [[_text(row.get(column)) for column in columns] for row in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(row.get(c), int | float) or row.get(c) is None for row in rows)
        for c in columns
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    header = line(columns)
    return "\n".join([header, "-" * len(header), *(line(values) for values in cells)])


def plot_command(argv: Sequence[str]) -> int:
    """``qstack plot``: returns the exit status."""
    from qstack.experiments.plot import PlotError, PlotSpec, plot_file, plot_parser

    args = plot_parser().parse_args(list(argv))
    spec = PlotSpec(args.x, args.y, args.hue, args.logx, args.logy, args.plob, args.request)
    try:
        note = plot_file(args.results, spec, args.output)
    except PlotError as error:
        print(f"qstack: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if note:
        print(note, file=sys.stderr)
    print(f"plot saved to {os.fspath(args.output)}", file=sys.stderr)
    return 0
