"""``qstack conform LAYER IMPORT_PATH``: check a layer implementation.

Exit status: 0 when every MUST clause holds (``--strict``: every SHOULD
too), 1 when one does not, 2 for bad input (unknown layer or clause, an
import path that does not resolve).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from qstack.conformance.clauses import CLAUSES, LAYERS, Layer, clause, select
from qstack.conformance.contracts import run_contract

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

BUILTIN = "builtin"


class ConformError(Exception):
    """Bad input to ``qstack conform``: printed as one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qstack conform",
        description="Check a layer implementation against its contract (specs/<layer>.md).",
    )
    parser.add_argument("layer", help=f"the layer: {' or '.join(LAYERS)}")
    parser.add_argument(
        "import_path",
        nargs="?",
        help="module:Class of the implementation, or 'builtin' for the built-in layer",
    )
    parser.add_argument("--strict", action="store_true", help="SHOULD clauses must hold too")
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    parser.add_argument(
        "--only", metavar="PATTERN", help="clauses to check: a glob (link/3.*) or an id prefix"
    )
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (default 0)")
    parser.add_argument(
        "--examples", type=int, default=30, help="random runs per clause (default 30)"
    )
    parser.add_argument(
        "--explain", metavar="ID", help="print a clause's level and text, and the layer diagram"
    )
    return parser


def resolve(layer: str, import_path: str) -> Any:
    """The class (or factory) named by ``import_path`` for ``layer``."""
    if import_path == BUILTIN:
        if layer == "link":
            from qstack.layers.link.egp import LinkLayer

            return LinkLayer
        from qstack.layers.network.qnp import NetworkLayer

        return NetworkLayer
    module_name, colon, attribute = import_path.partition(":")
    if not colon or not module_name or not attribute:
        raise ConformError(
            f"IMPORT_PATH = {import_path!r}: expected 'module:Class' (or 'module.sub:Class', "
            "or 'builtin')"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: modules of the current directory
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConformError(
            f"IMPORT_PATH = {import_path!r}: cannot import {module_name!r}: {error}"
        ) from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ConformError(
                f"IMPORT_PATH = {import_path!r}: module {module_name!r} has no {attribute!r}"
            )
        target = getattr(target, part)
    if not callable(target):
        raise ConformError(f"IMPORT_PATH = {import_path!r}: {attribute!r} is not a class")
    return target


def _explain(layer: Layer, clause_id: str) -> str:
    item = clause(clause_id)
    lines = [f"{item.id} ({item.level}, {item.layer} layer)", "", item.text]
    try:
        from qstack.diagrams import layer_diagram

        lines += ["", layer_diagram(item.layer)]
    except (ImportError, KeyError):
        pass
    if item.layer != layer:
        lines.insert(1, f"(note: {item.id} belongs to the {item.layer} layer, not {layer})")
    return "\n".join(lines)


def _layer(name: str) -> Layer:
    for layer in LAYERS:
        if layer == name:
            return layer
    raise ConformError(f"LAYER = {name!r}: unknown layer; known: {', '.join(LAYERS)}")


def conform_command(argv: Sequence[str] | None = None) -> int:
    """Run ``qstack conform`` with ``argv`` (the words after ``conform``)."""
    args = _parser().parse_args(list(argv) if argv is not None else None)
    try:
        layer = _layer(args.layer)
        if args.explain:
            try:
                print(_explain(layer, args.explain))
            except KeyError as error:
                raise ConformError(str(error.args[0])) from None
            return EXIT_OK
        if args.import_path is None:
            raise ConformError("IMPORT_PATH is missing: give module:Class, or 'builtin'")
        if args.examples < 1:
            raise ConformError(f"--examples = {args.examples}: must be >= 1")
        if args.seed < 0:
            raise ConformError(f"--seed = {args.seed}: must be >= 0")
        if args.only is not None and not select(layer, args.only):
            known = ", ".join(c.id for c in CLAUSES[layer])
            raise ConformError(f"--only = {args.only!r}: matches no clause; known: {known}")
        factory = resolve(layer, args.import_path)
        junit = None
        if args.junit:
            try:
                junit = open(args.junit, "w", encoding="utf-8")  # noqa: SIM115
            except OSError as error:
                raise ConformError(f"--junit = {args.junit!r}: {error.strerror}") from None
    except ConformError as error:
        print(f"qstack conform: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = run_contract(layer, factory, args.examples, args.seed, args.only)
    if args.import_path != BUILTIN:
        report.implementation = args.import_path
    print(report.table(args.strict))
    if junit is not None:
        with junit:
            junit.write(report.junit_xml(args.strict))
    return EXIT_OK if report.ok(args.strict) else EXIT_FAILED


def main() -> None:
    """Entry point for ``python -m qstack.conformance.cli``."""
    sys.exit(conform_command(sys.argv[1:]))


if __name__ == "__main__":
    main()
