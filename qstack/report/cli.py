"""``qstack report FILE_OR_TRACE -o run.html [--open]``."""

from __future__ import annotations

import argparse
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path

from qstack.report.page import Sources, build_page
from qstack.report.sequence import FIRST_PAIRS, MAX_ROWS
from qstack.report.summary import ReportError, read_summary, scenario_facts, summary_of
from qstack.tracing import TraceError, TraceLine, iter_trace, lines_from_records
from qstack.tracing.cli import SCENARIO_SUFFIXES, TRACE_SUFFIXES, CommandParser, UsageError

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="qstack report",
        description="One self-contained HTML page showing a run: topology, each request's "
        "timeline and distributions, the message sequence chart, the state machines. "
        "Give a scenario (run now) or a .jsonl trace (with --run-report for the figures "
        "only a run report has).",
    )
    parser.add_argument(
        "file", metavar="FILE_OR_TRACE", help=".toml/.json scenario or .jsonl trace"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="the page (default: NAME.html here)")
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    parser.add_argument(
        "--run-report", metavar="JSON", help="with a trace: the run's `qstack run --json` output"
    )
    parser.add_argument("--seed", type=int, help="seed for a scenario (default: the file's)")
    parser.add_argument(
        "--first-pairs",
        type=int,
        default=FIRST_PAIRS,
        metavar="N",
        help=f"sequence chart: the messages up to the N-th pair (default {FIRST_PAIRS})",
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=MAX_ROWS,
        metavar="N",
        help=f"sequence chart: at most N rows (default {MAX_ROWS})",
    )
    return parser


def _scenario_sources(path: str, seed: int | None, sources: Sources) -> Sources:
    """Run the scenario now with a memory tracer."""
    from qstack.network import Network, TopologyError
    from qstack.runner import run_network
    from qstack.scenario import ScenarioError, load_scenario
    from qstack.sim.trace import MemoryTracer

    if seed is not None and seed < 0:
        raise ReportError(f"--seed = {seed}: must be >= 0")
    tracer = MemoryTracer()
    try:
        scenario = load_scenario(path)
        report = run_network(Network(scenario, seed=seed, tracer=tracer))
    except (ScenarioError, TopologyError) as error:
        raise ReportError(str(error)) from None
    lines: list[TraceLine] = lines_from_records(tracer.records)
    sources.lines = lambda: lines
    sources.summary = summary_of(report)
    sources.scenario = scenario_facts(scenario, Path(path).parent)
    return sources


def make_sources(args: argparse.Namespace) -> Sources:
    """What the page is made from, by the input's kind."""
    path: str = args.file
    suffix = Path(path).suffix.lower()
    for name, value, least in (
        ("--first-pairs", args.first_pairs, 1),
        ("--max-rows", args.max_rows, 1),
    ):
        if value < least:
            raise ReportError(f"{name} = {value}: must be >= {least}")
    sources = Sources(
        Path(path).name, lambda: (), first_pairs=args.first_pairs, max_rows=args.max_rows
    )
    if suffix in SCENARIO_SUFFIXES:
        if args.run_report is not None:
            raise ReportError(
                "--run-report goes with a .jsonl trace; a scenario is run now and makes its own"
            )
        return _scenario_sources(path, args.seed, sources)
    if suffix not in TRACE_SUFFIXES:
        raise ReportError(
            f"{path}: expected a .toml/.json scenario or a .jsonl trace "
            f"(suffix {suffix or 'none'!r})"
        )
    if args.seed is not None:
        raise ReportError("--seed goes with a scenario; a trace was recorded with its own")
    if not Path(path).is_file():
        raise ReportError(f"{path}: no such file")

    def warn(message: str) -> None:
        if message not in sources.warnings:
            sources.warnings.append(message)

    sources.lines = lambda: iter_trace(path, warn)
    if args.run_report is not None:
        sources.summary = read_summary(args.run_report)
    return sources


def report_command(argv: Sequence[str]) -> int:
    """``qstack report FILE_OR_TRACE [-o FILE] [--open] [--run-report JSON]
    [--seed S] [--first-pairs N] [--max-rows N]``; exit 2 on bad input."""
    try:
        args = _parser().parse_args(list(argv))
        output = Path(args.output) if args.output else Path(Path(args.file).stem + ".html")
        inputs = [Path(args.file)] + ([Path(args.run_report)] if args.run_report else [])
        if any(output.resolve() == item.resolve() for item in inputs):
            raise ReportError(f"-o = {str(output)!r}: would overwrite an input")
        sources = make_sources(args)
        page = build_page(sources)
        try:
            output.write_text(page, encoding="utf-8")
        except OSError as error:
            raise ReportError(f"-o = {str(output)!r}: {error.strerror or error}") from None
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0
    except (UsageError, ReportError, TraceError) as error:
        print(f"qstack report: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in sources.warnings:
        print(f"qstack report: warning: {warning}", file=sys.stderr)
    print(f"qstack report: wrote {output} ({len(page.encode('utf-8')) / 1024:,.0f} KiB)")
    if args.open:
        webbrowser.open(output.resolve().as_uri())
    return 0
