"""Reading scenario files (TOML or JSON, a path or standard input) and validating them.

Reading and validating are separate steps so that a caller can change the
document in between (``qstack run --set KEY=VALUE``): :func:`read_scenario_document`
gives the raw document, :func:`parse_scenario` validates a document, and
:func:`load_scenario` does both. Every failure is a :class:`ScenarioError`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from qstack.scenario.errors import ScenarioError, field_path, format_errors
from qstack.scenario.fields import MAX_FILE_BYTES, MAX_NESTING, too_deep
from qstack.scenario.model import Scenario

#: The path that means "standard input".
STDIN = "-"
#: How standard input is named in messages.
STDIN_SOURCE = "<stdin>"

_TOML_POS = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_TOO_DEEP = (
    f"nested too deeply (tables and arrays more than {MAX_NESTING} levels deep; a scenario needs 4)"
)
_TOO_MANY_DIGITS = (
    "an integer has more than 4300 digits (Python's limit for reading integers); no field "
    "takes one that large"
)


def scenario_source(path: str | os.PathLike[str]) -> str:
    """How messages name the file at ``path`` (``<stdin>`` for ``-``)."""
    source = os.fspath(path)
    return STDIN_SOURCE if source == STDIN else source


def scenario_base_dir(path: str | os.PathLike[str]) -> Path:
    """Where relative paths in the file at ``path`` start: its directory (stdin: the cwd)."""
    source = os.fspath(path)
    return Path.cwd() if source == STDIN else Path(source).parent


class _DuplicateKeyError(ValueError):
    """A JSON object with the same key twice (json keeps the last one silently)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` that refuses duplicate keys instead of dropping one."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _parse_json(text: str, source: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKeyError as exc:
        raise ScenarioError(f"{source}: JSON error: duplicate key {exc.args[0]!r}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{source}: JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ScenarioError(f"{source}: {_TOO_DEEP}") from None
    except ValueError as exc:
        raise _value_error(source, "JSON", exc) from None


def _value_error(source: str, language: str, exc: ValueError) -> ScenarioError:
    """A parser's plain ValueError: int() refusing a huge literal, or something unforeseen."""
    if "digits" in str(exc):  # more than sys.get_int_max_str_digits()
        return ScenarioError(f"{source}: {_TOO_MANY_DIGITS}")
    return ScenarioError(f"{source}: {language} error: {exc}")


def _parse_toml(text: str, source: str) -> object:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POS.match(str(exc))
        if match:
            raise ScenarioError(
                f"{source}: TOML syntax error at line {match['line']}, column {match['col']}: "
                f"{match['msg']}"
            ) from None
        raise ScenarioError(f"{source}: TOML syntax error: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: {_TOO_DEEP}") from None
    except ValueError as exc:
        raise _value_error(source, "TOML", exc) from None


def _read_bytes(path: str, source: str) -> bytes:
    """The file's bytes, at most MAX_FILE_BYTES of them (so /dev/zero cannot fill memory)."""
    try:
        if path == STDIN:
            raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as file:
                raw = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{source}: is a directory, not a scenario file") from None
    except (OSError, AttributeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ScenarioError(f"{source}: cannot read: {reason}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{source}: larger than {MAX_FILE_BYTES // 2**20} MiB; a scenario file is at most that"
        )
    return raw


def read_scenario_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The document in the file at ``path`` as read, before validation.

    ``.json`` files are JSON, any other file TOML; ``-`` reads standard input,
    which is JSON when its first non-blank character is ``{`` and TOML
    otherwise. Syntax errors, nesting deeper than ``MAX_NESTING`` levels, a
    top level that is not a table and unreadable files are ScenarioErrors.
    Validate the result with ``parse_scenario(document, scenario_source(path),
    scenario_base_dir(path))``.
    """
    name = os.fspath(path)
    source = scenario_source(name)
    raw = _read_bytes(name, source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{source}: not UTF-8 text (bad byte at offset {exc.start}); "
            "scenario files must be UTF-8"
        ) from None
    is_json = (
        text.lstrip().startswith("{") if name == STDIN else Path(name).suffix.lower() == ".json"
    )
    data = _parse_json(text, source) if is_json else _parse_toml(text, source)
    return check_document(data, source)


def check_document(data: object, source: str) -> dict[str, Any]:
    """A top-level table, nested at most ``MAX_NESTING`` levels: else a ScenarioError."""
    if not isinstance(data, Mapping):
        raise ScenarioError(
            f"{source}: the top level must be a table (in JSON, an object), "
            f"not {type(data).__name__}"
        )
    deep = too_deep(data)
    if deep is not None:
        raise ScenarioError(f"{source}: {field_path(deep)}: {_TOO_DEEP}")
    return dict(data)


def parse_scenario(
    data: Mapping[str, object],
    source: str = "<scenario>",
    base_dir: str | os.PathLike[str] | None = None,
) -> Scenario:
    """Validate already-parsed data (from TOML, JSON or code) into a Scenario.

    ``source`` prefixes every message, normally the file name; ``base_dir`` is
    where relative paths in the data start (a ``[topology]`` graph file),
    default the current directory.
    """
    document = check_document(data, source)
    try:
        context = {"base_dir": None if base_dir is None else Path(base_dir)}
        return Scenario.model_validate(document, context=context)
    except ValidationError as exc:
        raise format_errors(exc, source, Scenario) from None


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file (``-``: standard input); see read_scenario_document.

    Every failure (missing file, syntax, validation) is a ScenarioError.
    """
    document = read_scenario_document(path)
    return parse_scenario(document, scenario_source(path), scenario_base_dir(path))
