"""The ``qstack`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import TextIO

from qstack.diagrams import LAYER_TABLES, layer_diagram
from qstack.network import Network, TopologyError
from qstack.runner import (
    Progress,
    QkdRequestReport,
    RunReport,
    TeleportRequestReport,
    run_network,
)
from qstack.scenario import DEFAULT_SCENARIO_TOML, ScenarioError, default_scenario, load_scenario
from qstack.sim.trace import JsonLinesTracer

EXIT_BAD_INPUT = 2

#: Wall seconds before the progress indicator appears.
PROGRESS_AFTER_S = 1.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qstack", description="Build, run and conformance-test quantum-network stacks."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a scenario file (or the built-in default)")
    run.add_argument("file", nargs="?", help="scenario (.toml or .json); default: built-in")
    run.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--trace", metavar="FILE", help="write the message trace as JSON lines")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one value of the file, e.g. links[*].length_km=50 (repeatable)",
    )
    commands.add_parser("default", help="print the built-in scenario as TOML")
    diagram = commands.add_parser("diagram", help="draw a layer's state machines")
    diagram.add_argument("layer", choices=sorted(LAYER_TABLES))
    diagram.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")
    for name, text in (
        ("trace", "render a run's message trace as a sequence chart (see: qstack trace -h)"),
        ("conform", "check a layer implementation against its contract (qstack conform -h)"),
        ("sweep", "run a scenario over a grid of --set values (qstack sweep -h)"),
        ("plot", "plot a sweep's results with confidence bands (qstack plot -h)"),
    ):
        sub = commands.add_parser(name, help=text, add_help=False)
        sub.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _progress_printer(stream: TextIO) -> Progress:
    def show(fraction: float, wall_s: float) -> None:
        if wall_s >= PROGRESS_AFTER_S:
            stream.write(f"\rsimulated {fraction:6.1%} of run.until_s  ({wall_s:.1f} s)")
            stream.flush()

    return show


def format_report(report: RunReport) -> str:
    """The human-readable table ``qstack run`` prints."""
    lines = [
        f"seed {report.seed}   simulated {report.sim_time_s:.6g} s   "
        f"wall {report.wall_time_s:.3f} s   events {report.events}",
        "",
        f"{'link':<24} {'model':<13} {'attempts':>10} {'successes':>10} {'p/attempt':>10}",
    ]
    for link in report.links:
        ratio = link.successes / link.attempts if link.attempts else 0.0
        lines.append(
            f"{link.a + ' - ' + link.b:<24} {link.model:<13} {link.attempts:>10} "
            f"{link.successes:>10} {ratio:>10.4g}"
        )
    lines += [
        "",
        f"{'request':<24} {'status':<8} {'delivered':>9} {'fidelity':>9} "
        f"{'latency s':>10} {'rate Hz':>10}",
    ]
    for request in report.requests:
        fidelity = "-" if request.fidelity_mean is None else f"{request.fidelity_mean:.5f}"
        latency = "-" if request.latency_mean_s is None else f"{request.latency_mean_s:.4g}"
        rate = "-" if request.rate_hz is None else f"{request.rate_hz:.5g}"
        name = f"{request.app} {request.src}->{request.dst}"
        lines.append(
            f"{name:<24} {request.status:<8} {request.delivered:>9} {fidelity:>9} "
            f"{latency:>10} {rate:>10}"
        )
        if request.error:
            lines.append(f"    {request.error}")
        if isinstance(request, QkdRequestReport):
            qber = "-" if request.qber is None else f"{request.qber:.4f}"
            outcome = (
                f"aborted: {request.abort_reason}"
                if request.aborted
                else (
                    f"secret key {request.secret_key_bits} bits, keys match: {request.keys_match}"
                )
            )
            lines.append(
                f"    qkd: sifted {request.sifted_bits} bits, QBER {qber}, "
                f"leaked {request.leaked_bits} bits, {outcome}"
            )
        if isinstance(request, TeleportRequestReport) and request.teleport_fidelity_mean:
            lines.append(
                f"    teleport: {request.teleported} states, "
                f"mean fidelity {request.teleport_fidelity_mean:.5f}"
            )
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    try:
        if args.overrides:
            from qstack.experiments.cli import load_with_overrides

            scenario = load_with_overrides(args.file, args.overrides)
        else:
            scenario = default_scenario() if args.file is None else load_scenario(args.file)
        if args.seed is not None and args.seed < 0:
            raise ScenarioError(f"--seed = {args.seed}: must be >= 0")
        with ExitStack() as stack:
            tracer = None
            if args.trace:
                try:
                    trace_file = stack.enter_context(open(args.trace, "w", encoding="utf-8"))
                except OSError as error:
                    raise ScenarioError(f"--trace = {args.trace!r}: {error.strerror}") from None
                tracer = JsonLinesTracer(trace_file)
            network = Network(scenario, args.seed, tracer)
            # A redrawn line is for a person watching, never for a log file.
            show_progress = sys.stderr.isatty()
            report = run_network(network, _progress_printer(sys.stderr) if show_progress else None)
    except (ScenarioError, TopologyError) as error:
        print(f"qstack: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if show_progress and report.wall_time_s >= PROGRESS_AFTER_S:
        sys.stderr.write("\n")
    if args.json:
        print(report.model_dump_json())
    else:
        print(format_report(report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (``qstack run | head``): nothing left to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in ("sweep", "plot"):  # their own parsers (and -h)
        from qstack.experiments.cli import plot_command, sweep_command

        command = sweep_command if arguments[0] == "sweep" else plot_command
        return command(arguments[1:])
    args = _parser().parse_args(arguments)
    if args.command == "default":
        print(DEFAULT_SCENARIO_TOML.rstrip("\n"))
        return 0
    if args.command == "diagram":
        print(layer_diagram(args.layer, args.format), end="")
        return 0
    if args.command == "trace":
        from qstack.tracing import trace_command

        return trace_command(args.rest)
    if args.command == "conform":
        from qstack.conformance.cli import conform_command

        return conform_command(args.rest)
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
