"""The ``qstack`` command line.

Each command imports what it needs when it is chosen, so that ``qstack -h``
and ``qstack run --help`` answer at once and ``import qstack.cli`` pulls in
neither the simulator nor numpy, pydantic or networkx
(``tests/cli/test_startup.py`` keeps it so).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import IO, TYPE_CHECKING, TextIO

from qstack import __version__

if TYPE_CHECKING:
    from qstack.registry import Registry
    from qstack.reports import RunReport
    from qstack.runner import Progress
    from qstack.scenario import Scenario

EXIT_BAD_INPUT = 2
#: Exit status when qstack itself fails (a bug): never a traceback, one line instead.
EXIT_INTERNAL_ERROR = 1
#: Ctrl-C, as a shell reports a process ended by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130

#: Wall seconds before the progress indicator appears.
PROGRESS_AFTER_S = 1.0

#: ``qstack diagram``'s layers: the keys of ``qstack.diagrams.LAYER_TABLES``,
#: named here so that the parser does not import every lifecycle table.
DIAGRAM_LAYERS = ("app", "link", "network", "physical")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qstack", description="Build, run and conformance-test quantum-network stacks."
    )
    parser.add_argument("--version", action="version", version=f"qstack {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a scenario file (or the built-in default)")
    run.add_argument(
        "file",
        nargs="?",
        help="scenario (.toml or .json; - reads standard input); default: built-in",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument(
        "--trace",
        metavar="FILE",
        help="write the message trace as JSON lines ('-': standard output; the report "
        "then goes to standard error)",
    )
    run.add_argument(
        "--pairs",
        metavar="FILE",
        help="write one CSV row per delivered pair (request, pair_id, time_s, fidelity, "
        "latency_s); the report keeps running statistics only",
    )
    run.add_argument(
        "--plugin",
        metavar="MODULE:CLASS",
        action="append",
        default=[],
        help="make a plug-in class available to this run under the kind and name it "
        "declares (repeatable; the current directory is importable)",
    )
    check = commands.add_parser(
        "check", help="load a scenario and wire its network without running it"
    )
    check.add_argument("file", help="scenario (.toml or .json; - reads standard input)")
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
    diagram.add_argument("layer", choices=DIAGRAM_LAYERS)
    diagram.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")
    diagram.add_argument("--raw", action="store_true", help="one graph, nothing around it")
    diagram.add_argument("--lifecycle", metavar="NAME", help="only this lifecycle (e.g. request)")
    for name, text in DELEGATED.items():
        commands.add_parser(name, help=text, add_help=False)
    return parser


#: Subcommands with parsers of their own, and what ``qstack -h`` says of them.
DELEGATED = {
    "trace": "render a run's message trace as a sequence chart (see: qstack trace -h)",
    "report": "one self-contained HTML page showing a run (see: qstack report -h)",
    "conform": "check a layer implementation against its contract (qstack conform -h)",
    "sweep": "run a scenario over a grid of --set values (qstack sweep -h)",
    "plot": "plot a sweep's results with confidence bands (qstack plot -h)",
}


def _delegate(command: str, argv: list[str]) -> int:
    if command == "trace":
        from qstack.tracing import trace_command

        return trace_command(argv)
    if command == "report":
        from qstack.report import report_command

        return report_command(argv)
    if command == "conform":
        from qstack.conformance.cli import conform_command

        return conform_command(argv)
    from qstack.experiments.cli import plot_command, sweep_command

    return (sweep_command if command == "sweep" else plot_command)(argv)


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
        f"{'request':<28} {'status':<8} {'delivered':>9} {'fidelity':>9} "
        f"{'latency s':>10} {'rate Hz':>10}",
    ]
    for request in report.requests:
        fidelity = "-" if request.fidelity_mean is None else f"{request.fidelity_mean:.5f}"
        latency = "-" if request.latency_mean_s is None else f"{request.latency_mean_s:.4g}"
        rate = "-" if request.rate_hz is None else f"{request.rate_hz:.5g}"
        # Default names ("qkd-0") already say the application.
        name = request.name
        if not name.startswith(request.app):
            name = f"{name} ({request.app})"
        name = f"{name} {request.src}->{request.dst}"
        lines.append(
            f"{name:<28} {request.status:<8} {request.delivered:>9} {fidelity:>9} "
            f"{latency:>10} {rate:>10}"
        )
        if request.error:
            lines.append(f"    {request.error}")
        if request.reroutes and request.path:
            times = "once" if request.reroutes == 1 else f"{request.reroutes} times"
            lines.append(
                f"    routed again {times} after faults; last path {'-'.join(request.path)}"
            )
        summary = request.summary()
        if summary:
            lines.append(f"    {summary}")
    if report.faults:
        lines += ["", f"{'fault':<32} {'at s':>10}"]
        for fault in report.faults:
            target = fault.node if fault.node is not None else f"{fault.a}-{fault.b}"
            what = f"{fault.kind} {target}"
            if fault.probability is not None:
                what += f" p={fault.probability:g}"
            lines.append(f"{what:<32} {fault.at_s:>10.6g}")
    return "\n".join(lines)


def _registry(plugins: list[str]) -> Registry:
    """The run's registry: the built-ins and each ``--plugin`` class."""
    from qstack.registry import PluginLoadError, Registry, load_object
    from qstack.scenario import ScenarioError

    registry = Registry.with_defaults()
    if plugins and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: modules of the current directory
    for spec in plugins:
        try:
            registry.register_class(load_object(spec))
        except (PluginLoadError, ValueError) as error:
            raise ScenarioError(f"--plugin = {spec!r}: {error}") from None
    return registry


def _same_file(first: str, second: str) -> bool:
    """Whether two paths name one file (also through links), whether or not both exist."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return os.path.realpath(first) == os.path.realpath(second)


def _check(args: argparse.Namespace) -> int:
    """``qstack check FILE``: load and wire, do not run; say what was found."""
    from qstack.network import Network, TopologyError
    from qstack.scenario import ScenarioError, load_scenario, scenario_source

    try:
        scenario = load_scenario(args.file)
        Network(scenario)
    except (ScenarioError, TopologyError) as error:
        print(f"qstack: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{scenario_source(args.file)}: ok: {_summary(scenario)}")
    return 0


def _summary(scenario: Scenario) -> str:
    counts = (
        (len(scenario.nodes), "node"),
        (len(scenario.links), "link"),
        (len(scenario.requests), "request"),
        (len(scenario.faults), "fault"),
    )
    return ", ".join(f"{n} {what}{'' if n == 1 else 's'}" for n, what in counts)


def _run(args: argparse.Namespace) -> int:
    from qstack.api import TraceTarget, run
    from qstack.network import TopologyError
    from qstack.registry import PluginLoadError
    from qstack.runner import RunInterrupted
    from qstack.scenario import STDIN, ScenarioError, default_scenario, load_scenario
    from qstack.scenario.fields import MAX_SEED

    out = sys.stderr if args.trace == "-" else sys.stdout
    try:
        for option, output in (("--trace", args.trace), ("--pairs", args.pairs)):
            if output and args.file not in (None, STDIN) and _same_file(output, args.file):
                raise ScenarioError(
                    f"{option} = {output!r}: is the scenario file itself; "
                    "writing it would overwrite the scenario"
                )
        if args.overrides:
            from qstack.experiments.cli import load_with_overrides

            scenario = load_with_overrides(args.file, args.overrides)
        else:
            scenario = default_scenario() if args.file is None else load_scenario(args.file)
        if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
            raise ScenarioError(f"--seed = {args.seed}: must be >= 0 and <= {MAX_SEED}")
        registry = _registry(args.plugin)
        with ExitStack() as stack:
            trace: TraceTarget | None = None
            if args.trace == "-":
                trace = sys.stdout
            elif args.trace:
                try:
                    trace = stack.enter_context(open(args.trace, "w", encoding="utf-8"))
                except OSError as error:
                    raise ScenarioError(f"--trace = {args.trace!r}: {error.strerror}") from None
            pairs: IO[str] | None = None
            if args.pairs:
                try:
                    pairs = stack.enter_context(open(args.pairs, "w", encoding="utf-8", newline=""))
                except OSError as error:
                    raise ScenarioError(f"--pairs = {args.pairs!r}: {error.strerror}") from None
            # A redrawn line is for a person watching, never for a log file.
            show_progress = sys.stderr.isatty()
            report = run(
                scenario,
                seed=args.seed,
                registry=registry,
                trace=trace,
                progress=_progress_printer(sys.stderr) if show_progress else None,
                pairs=pairs,
            )
    except (ScenarioError, TopologyError, PluginLoadError) as error:
        print(f"qstack: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunInterrupted as stop:
        if show_progress:
            sys.stderr.write("\n")
        _print_report(stop.report, args.json, out)
        print(f"qstack: {stop}; the report above is partial", file=sys.stderr)
        return EXIT_INTERRUPTED
    if show_progress and report.wall_time_s >= PROGRESS_AFTER_S:
        sys.stderr.write("\n")
    _print_report(report, args.json, out)
    return 0


def _print_report(report: RunReport, as_json: bool, out: TextIO) -> None:
    print(report.model_dump_json() if as_json else format_report(report), file=out)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # outside a run (loading, wiring): nothing to report
        print("qstack: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``qstack run | head``): nothing left to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # the last resort: a bug, never a traceback for the user
        print(_internal_error_line(error), file=sys.stderr)
        return EXIT_INTERNAL_ERROR


def _internal_error_line(error: BaseException) -> str:
    """The one line a user sees when qstack itself fails, with what to report."""
    from qstack.scenario.errors import cut

    try:
        text = " ".join(str(error).split())
    except Exception:  # an exception that cannot even say what it is
        text = ""
    what = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return (
        f"qstack: internal error: {cut(what, 200)} (this is a bug in qstack; please report "
        "it with the command and the input file)"
    )


def _main(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in DELEGATED:
        return _delegate(arguments[0], arguments[1:])
    args = _parser().parse_args(arguments)
    if args.command == "check":
        return _check(args)
    if args.command == "default":
        from qstack.scenario import DEFAULT_SCENARIO_TOML

        print(DEFAULT_SCENARIO_TOML.rstrip("\n"))
        return 0
    if args.command == "diagram":
        from qstack.diagrams import DiagramError, layer_diagram, raw_diagram

        draw = raw_diagram if args.raw else layer_diagram
        try:
            print(draw(args.layer, args.format, args.lifecycle), end="")
        except DiagramError as error:
            print(f"qstack diagram: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return 0
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
