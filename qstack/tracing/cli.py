"""``qstack trace FILE_OR_SCENARIO``: a trace as text or a Mermaid chart.

A .jsonl trace is read line by line and written as it is read (memory flat
in the file's size); a scenario is run now with a memory tracer.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import NoReturn, TypeVar

from qstack.tracing.match import match_messages
from qstack.tracing.reader import TraceError, TraceLine, Warn, iter_trace, lines_from_records
from qstack.tracing.render import (
    LAYER_ORDER,
    MERMAID_MAX_TEXT,
    short_seconds,
    write_mermaid,
    write_text,
)
from qstack.tracing.select import Cut, Selection, parse_window, without_transitions

EXIT_BAD_INPUT = 2
SCENARIO_SUFFIXES = (".toml", ".json")
TRACE_SUFFIXES = (".jsonl", ".ndjson")
T = TypeVar("T")


class UsageError(Exception):
    """A command line argparse refused (its message says why)."""


class CommandParser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of
    printing usage and exiting, so a command prints one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="qstack trace",
        description="Show a message trace (a .jsonl file, or a scenario run now) "
        "as aligned text or a Mermaid sequence diagram. Times are in seconds.",
    )
    parser.add_argument(
        "file", metavar="FILE_OR_SCENARIO", help=".jsonl trace or .toml/.json scenario"
    )
    parser.add_argument("--format", choices=["text", "mermaid"], default="text")
    parser.add_argument("--node", action="append", metavar="N", help="only this node (repeatable)")
    parser.add_argument(
        "--layer", action="append", metavar="L", choices=LAYER_ORDER, help="only this layer"
    )
    parser.add_argument("--request", metavar="ID", help="only request SRC#N or ORIGIN:CREATE_ID")
    parser.add_argument(
        "--first-pairs",
        type=int,
        metavar="N",
        help="stop once N end-to-end pairs are delivered at both ends (of --request if given)",
    )
    parser.add_argument(
        "--window", metavar="START:END", help="only this span of simulated seconds ('0.1:0.2')"
    )
    parser.add_argument("--seed", type=int, help="seed for a scenario (default: the file's)")
    parser.add_argument(
        "--transitions",
        action="store_true",
        help="also show the TRANSITION records (every lifecycle step; hidden by default)",
    )
    return parser


def trace_source(
    path: str, seed: int | None = None, warn: Warn | None = None
) -> Iterable[TraceLine]:
    """The trace of ``path``: read line by line from a .jsonl file, or
    recorded by running a .toml/.json scenario with a memory tracer."""
    suffix = Path(path).suffix.lower()
    if suffix in TRACE_SUFFIXES:
        return iter_trace(path, warn)
    if suffix not in SCENARIO_SUFFIXES:
        raise TraceError(
            f"{path}: expected a .jsonl trace or a .toml/.json scenario "
            f"(suffix {suffix or 'none'!r})"
        )
    # Imported here: building networks pulls in every layer.
    from qstack.network import Network, TopologyError
    from qstack.runner import run_network
    from qstack.scenario import ScenarioError, load_scenario
    from qstack.sim.trace import MemoryTracer

    if seed is not None and seed < 0:
        raise TraceError(f"--seed = {seed}: must be >= 0")
    tracer = MemoryTracer()
    try:
        run_network(Network(load_scenario(path), seed, tracer))
    except (ScenarioError, TopologyError) as error:
        raise TraceError(str(error)) from None
    return lines_from_records(tracer.records)


class _Nodes:
    """Passes lines on and remembers every node they name."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def watch(self, lines: Iterable[TraceLine]) -> Iterator[TraceLine]:
        for line in lines:
            self.seen.add(line.node)
            if line.peer is not None:
                self.seen.add(line.peer)
            yield line


def _peeked(items: Iterator[T]) -> Iterator[T] | None:
    """``items`` again, or None when it is empty (read to its end)."""
    for first in items:
        return chain([first], items)
    return None


def _warn(message: str) -> None:
    print(f"qstack trace: warning: {message}", file=sys.stderr)


def trace_command(argv: Sequence[str]) -> int:
    """``qstack trace FILE_OR_SCENARIO [--format text|mermaid] [--node N ...]
    [--layer L ...] [--request ID] [--first-pairs N] [--window START:END]
    [--seed S] [--transitions]``; exit 2 on bad input."""
    try:
        args = _parser().parse_args(list(argv))
        if args.first_pairs is not None and args.first_pairs < 1:
            raise TraceError(f"--first-pairs = {args.first_pairs}: must be >= 1")
        start_ps, end_ps = parse_window(args.window) if args.window else (0, None)
        request = args.request
        selection = Selection.of(args.node, args.layer, request, start_ps=start_ps)
        network_request = None if selection.request is None else selection.request.network
        cut = Cut(args.first_pairs, end_ps, network_request)
        nodes = _Nodes()
        lines = cut.apply(nodes.watch(trace_source(args.file, args.seed, _warn)))
        if not args.transitions:
            lines = without_transitions(lines)
        size = 0
        if args.format == "mermaid":
            items = _peeked(
                match_messages(selection.verdicts(lines), lambda: cut.cut_ps is not None)
            )
            if items is None:
                _check_nodes(args.node or (), nodes.seen, cut.cut_ps)
            size = write_mermaid(items or iter(()), sys.stdout)
        else:
            rows = _peeked(selection.select(lines))
            if rows is None:
                _check_nodes(args.node or (), nodes.seen, cut.cut_ps)
            write_text(rows or iter(()), sys.stdout)
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0
    except (UsageError, TraceError) as error:
        print(f"qstack trace: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if size > MERMAID_MAX_TEXT:
        _warn(
            f"the diagram has {size:,} characters, over Mermaid's default maxTextSize "
            f"({MERMAID_MAX_TEXT:,}): keep fewer with --first-pairs N, --window START:END, "
            "--node or --request"
        )
    return 0


def _check_nodes(wanted: Iterable[str], seen: set[str], cut_ps: int | None) -> None:
    """Name a ``--node`` the trace never mentions (when nothing was shown)."""
    for node in wanted:
        if seen and node not in seen:
            where = "the trace" if cut_ps is None else f"the trace up to {short_seconds(cut_ps)} s"
            raise TraceError(
                f"--node = {node!r}: not in {where} (nodes: {', '.join(sorted(seen))})"
            )
