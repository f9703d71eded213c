"""Hostile scenario files made from the examples, and what qstack does with each.

A Hypothesis strategy (:func:`hostile_files`) takes a scenario from
``examples/`` and breaks it the ways people and programs break files: wrong
types, missing and extra keys, NaN, infinities, huge and negative numbers,
unicode, duplicated entries, self-loops, deep nesting, long strings and
syntax errors. :func:`judge` puts one file through ``qstack check`` and, when
it loads, a short simulated run, and says how it went. The test suite
(``tests/fuzz/test_fuzz_scenarios.py``) runs a few hundred files;
``benchmarks/fuzz_scenarios.py`` runs 10,000 and counts the outcomes.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import math
import re
import tomllib
import traceback
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from qstack.cli import EXIT_BAD_INPUT, main
from qstack.network import Network, TopologyError
from qstack.runner import run_network
from qstack.scenario import RunSettings, ScenarioError, load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: Simulated seconds a file that loads is run for: enough to wire, attempt and
#: deliver a few pairs, short enough for hundreds of files a minute.
SHORT_RUN_S = 1e-3
#: Longest stderr line qstack may print: the 300-character limit plus "qstack: ".
MAX_STDERR_LINE = 310
#: Most stderr lines: the count line, 50 problems and the "more problems" line.
MAX_STDERR_LINES = 52

Document = dict[str, Any]


def example_documents() -> list[tuple[str, Document]]:
    """Every example scenario file, parsed: (file name, document)."""
    out: list[tuple[str, Document]] = []
    for path in sorted(EXAMPLES.iterdir()):
        if path.suffix == ".toml":
            out.append((path.name, tomllib.loads(path.read_text())))
        elif path.suffix == ".json":
            out.append((path.name, json.loads(path.read_text())))
    return out


# --------------------------------------------------------------------------- writing


def _toml_key(key: str) -> str:
    return json.dumps(key)  # a quoted key is always valid TOML; JSON escapes are TOML's


def _toml_value(value: object) -> str:
    """A TOML inline value (tables inline): enough to write any mutated document."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = (f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None)
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def to_toml(document: Document) -> str:
    """The document as TOML, one top-level key a line (TOML has no null: None is left out)."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in document.items() if v is not None]
    return _expand_deep("\n".join(lines) + "\n")


def to_json(document: Document) -> str:
    """The document as JSON (NaN and infinities as Python's json writes them)."""
    return _expand_deep(json.dumps(document, indent=1))


# --------------------------------------------------------------------------- values

_EDGE_NUMBERS: list[object] = [
    0,
    -1,
    1,
    2,
    -(10**30),
    10**30,
    2**31,
    2**63,
    2**64,
    10**6 + 1,
    10**9,
    0.0,
    -0.0,
    1e-300,
    5e-324,
    1e-12,
    1e6,
    1e9,
    1.8e308,
    -1.8e308,
    math.nan,
    math.inf,
    -math.inf,
    0.5,
    1.0 + 1e-15,
]


def _deep(depth: int) -> str:
    """A placeholder the writers turn into ``depth`` nested arrays (no recursion anywhere)."""
    return f"<deep {depth}>"


_DEEP = re.compile(r'"<deep (\d+)>"')


def _expand_deep(text: str) -> str:
    return _DEEP.sub(lambda m: "[" * int(m[1]) + "1" + "]" * int(m[1]), text)


def hostile_values() -> st.SearchStrategy[object]:
    """Values no field expects, and values at and beyond every bound."""
    return st.one_of(
        st.sampled_from(_EDGE_NUMBERS),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.text(max_size=12),
        st.sampled_from(["", "inf", "Infinity", "NaN", "a-b", "n0", "alice", "double-click"]),
        st.integers(min_value=60, max_value=200_000).map(lambda n: "x" * n),
        st.lists(st.integers(), max_size=4),
        st.dictionaries(st.text(max_size=6), st.integers(), max_size=3),
        st.integers(min_value=10, max_value=3000).map(_deep),
    )


# --------------------------------------------------------------------------- mutations


def _containers(document: object) -> list[object]:
    """Every table and array in the document (the document itself first)."""
    out: list[object] = []
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            out.append(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return out


_KINDS = (
    *("number",) * 4,
    *("name",) * 2,
    *("set",) * 2,
    *("extra",) * 2,
    "delete",
    "duplicate",
    "self-loop",
    "rename",
    "swap",
    "fault",
)
#: Keys an "extra" mutation adds: unknown ones, and the second edition's, in the wrong place too.
_NEW_KEYS = (
    "faults",
    "name",
    "members",
    "options",
    "reroute",
    "station_km",
    "dark_count_rate_hz",
    "detection_window_s",
    "swap_success_probability",
    "gate_error",
    "measurement_error",
    "purification",
    "routing",
    "app",
)


def _numbers(value: float) -> st.SearchStrategy[object]:
    """Numbers near and far from ``value``: bounds, signs, scales, the other numeric type."""
    scaled = [value * 10.0**k for k in (-300, -12, -3, 3, 6, 12, 300)]
    if isinstance(value, float):
        other_type: float = int(value) if math.isfinite(value) else 0
    else:
        other_type = float(value) if abs(value) < 2**1000 else math.inf
    return st.one_of(
        st.sampled_from([*_EDGE_NUMBERS, -value, other_type, *scaled]),
        st.floats(),
        st.integers(min_value=-(10**40), max_value=10**40),
    )


def _fault(names: list[str]) -> st.SearchStrategy[dict[str, object]]:
    """A plausible ``[[faults]]`` entry, about the file's own nodes."""
    node = st.sampled_from(names)
    return st.fixed_dictionaries(
        {
            "at_s": st.one_of(st.floats(0, 20), st.sampled_from([0.0, -1.0, 1e9])),
            "kind": st.sampled_from(
                ["node_down", "node_up", "link_down", "link_up", "classical_loss", "meteor"]
            ),
        },
        optional={"node": node, "a": node, "b": node, "probability": st.floats(-1, 2)},
    )


def _node_names(document: Document) -> list[str]:
    nodes = document.get("nodes")
    names = (
        [n["name"] for n in nodes if isinstance(n, dict) and isinstance(n.get("name"), str)]
        if isinstance(nodes, list)
        else []
    )
    return names or ["n0", "n1", "n2"]


@st.composite
def _mutate(draw: st.DrawFn, document: Document) -> None:
    """Break ``document`` in place, one way (chosen and parametrised by Hypothesis)."""
    target: Any = draw(st.sampled_from(_containers(document)))
    keys: list[Any] = list(target) if isinstance(target, dict) else list(range(len(target)))
    kind = draw(st.sampled_from(_KINDS))
    if kind == "fault":
        document.setdefault("faults", [])
        if isinstance(document["faults"], list):
            document["faults"].append(draw(_fault(_node_names(document))))
        return
    if kind == "extra":
        value = draw(hostile_values())
        if isinstance(target, dict):
            target[draw(st.one_of(st.text(max_size=10), st.sampled_from(_NEW_KEYS)))] = value
        else:
            target.append(value)
        return
    if not keys:
        return
    key = draw(st.sampled_from(keys))
    current = target[key]
    if kind == "number" and isinstance(current, int | float) and not isinstance(current, bool):
        target[key] = draw(_numbers(current))
    elif kind == "name" and isinstance(current, str):
        target[key] = draw(st.sampled_from([*_node_names(document), "", "x" * 65, "ünï", "A"]))
    elif kind == "set":
        target[key] = draw(hostile_values())
    elif kind == "delete":
        del target[key]
    elif kind == "duplicate" and isinstance(target, list):
        target.append(copy.deepcopy(current))
    elif kind == "self-loop" and isinstance(target, dict) and "a" in target:
        target["b"] = target["a"]
    elif kind == "rename" and isinstance(target, dict):
        target[key + draw(st.sampled_from(["_", "s", "\u00e9", " ", "\u200b"]))] = target.pop(key)
    elif kind == "swap" and len(keys) > 1:
        other = draw(st.sampled_from(keys))
        target[key], target[other] = target[other], current


def _text_mutation(text: str, kind: str, position: int) -> str:
    """Break the text itself: syntax errors, huge integers, deep nesting, bad bytes."""
    at = position % (len(text) + 1)
    if kind == "cut":
        return text[:at]
    if kind == "delete":
        return text[:at] + text[at + 1 :]
    if kind == "insert":
        return text[:at] + '[{"=,\n'[position % 6] + text[at:]
    if kind == "digits":
        return text[:at] + "9" * 5000 + text[at:]
    if kind == "nesting":
        return text[:at] + "[" * 5000 + text[at:]
    if kind == "duplicate-line":
        lines = text.splitlines(keepends=True)
        line = lines[position % len(lines)] if lines else ""
        return text + line
    return text


@dataclasses.dataclass(frozen=True)
class HostileFile:
    """One mutated example: where it came from, what was done, and the bytes to write."""

    origin: str
    suffix: str
    text: str

    def write(self, directory: Path, name: str = "hostile") -> Path:
        """Write the file (text errors kept as they are, surrogates escaped)."""
        path = directory / f"{name}{self.suffix}"
        path.write_bytes(self.text.encode("utf-8", "surrogatepass"))
        return path


@st.composite
def hostile_files(draw: st.DrawFn) -> HostileFile:
    """An example scenario with one to three mutations, as TOML or JSON text."""
    name, document = draw(st.sampled_from(example_documents()))
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        draw(_mutate(document))
    as_json = draw(st.booleans())
    text = to_json(document) if as_json else to_toml(document)
    text_kind = draw(
        st.sampled_from(
            ["none"] * 6 + ["cut", "delete", "insert", "digits", "nesting", "duplicate-line"]
        )
    )
    text = _text_mutation(text, text_kind, draw(st.integers(min_value=0, max_value=10**6)))
    return HostileFile(name, ".json" if as_json else ".toml", text)


# --------------------------------------------------------------------------- judging


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What qstack did with one file."""

    outcome: str
    """``rejected`` (exit 2), ``accepted`` (exit 0 and a short run), ``traceback``."""
    exit_status: int
    stderr: str
    cause: str = ""
    """For a traceback: the exception type and the innermost qstack frame."""


def _cause(error: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "/qstack/" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__} at {where}"


def load_and_wire(path: Path) -> None:
    """What ``qstack check`` does, without its last resort: a bug raises here."""
    try:
        Network(load_scenario(path))
    except (ScenarioError, TopologyError):
        return


def short_run(path: Path) -> None:
    """Run a scenario that loads for :data:`SHORT_RUN_S` simulated seconds at most."""
    scenario = load_scenario(path)
    until = min(scenario.run.until_s, SHORT_RUN_S)
    run_network(Network(scenario.model_copy(update={"run": RunSettings(until_s=until)})))


def judge(path: Path) -> Verdict:
    """``qstack check FILE``; when it loads, a short run too; any exception is a traceback."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        status = main(["check", str(path)])
    stderr = err.getvalue()
    if status == EXIT_BAD_INPUT:
        return Verdict("rejected", status, stderr)
    try:
        if status != 0:
            load_and_wire(path)  # reproduce the failure the last resort caught
            return Verdict("traceback", status, stderr, "not reproduced outside the CLI")
        short_run(path)
    except Exception as error:
        return Verdict("traceback", status, stderr, _cause(error))
    return Verdict("accepted", status, stderr)
