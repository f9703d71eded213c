"""From pydantic's validation errors to one readable line per problem.

Every problem becomes ``<source>: <path> = <value>: <what is allowed>``; lines
are cut to :data:`MAX_LINE_LENGTH` characters and at most
:data:`MAX_PROBLEMS_SHOWN` problems are listed, so no input can flood a
terminal, and values are shown with a bounded ``repr`` that never fails.
"""

from __future__ import annotations

import difflib
import re
import reprlib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails

from qstack.scenario.fields import (
    ERR_MISSING,
    ERR_TEXT,
    ERR_VALUE,
    OWN_ERRORS,
    PLUGIN_NAME_PATTERN,
    PREFIX_PATTERN,
    DefaultsFor,
    problem,
    quoted,
)

#: Longest line of an error message (longer ones end in "...").
MAX_LINE_LENGTH = 300
#: Most problems listed in one message (then a line says how many more there are).
MAX_PROBLEMS_SHOWN = 50


def cut(line: str, limit: int = MAX_LINE_LENGTH) -> str:
    """``line`` shortened to ``limit`` characters, ending in "..." when it was longer."""
    return line if len(line) <= limit else line[: limit - 3] + "..."


class ScenarioError(Exception):
    """A scenario that cannot be used; ``str(err)`` is the whole message for the user.

    ``problems`` holds one line per problem (the message minus the count line).
    Every line is at most :data:`MAX_LINE_LENGTH` characters long.
    """

    def __init__(self, message: str, problems: Sequence[str] | None = None) -> None:
        message = "\n".join(cut(line) for line in message.splitlines()) or message
        super().__init__(message)
        self.message = message
        self.problems: tuple[str, ...] = (
            tuple(cut(line) for line in problems) if problems else (message,)
        )

    def __str__(self) -> str:
        return self.message

    @classmethod
    def from_lines(cls, source: str, lines: Sequence[str]) -> ScenarioError:
        """One message from problem lines (each without the ``<source>: `` prefix)."""
        shown = [f"{source}: {line}" for line in lines[:MAX_PROBLEMS_SHOWN]]
        if len(lines) > len(shown):
            shown.append(f"{source}: ... and {len(lines) - len(shown)} more problems not shown")
        if len(shown) == 1:
            return cls(shown[0], shown)
        return cls("\n".join([f"{source}: {len(lines)} problems:", *shown]), shown)


_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlong = 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = 6
_REPR.maxdict = 4
_REPR.maxlevel = 3


def show(value: object) -> str:
    """The value as the user should recognise it: ``repr``, cut short when it is big."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        digits = int(value.bit_length() * 0.30103) + 1
        return f"<an integer of about {digits} digits>"
    try:
        return cut(_REPR.repr(value), 100)
    except (ValueError, RecursionError):
        return f"<a {type(value).__name__}>"


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def field_path(loc: tuple[str | int, ...]) -> str:
    """``('links', 0, 'length_km')`` -> ``links[0].length_km``; odd keys are quoted."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            out += f"[{show(part)}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _num(value: object) -> str:
    """A bound as written in the docs: ``0`` and ``1``, not ``0.0`` and ``1.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _unwrap(annotation: object) -> list[object]:
    """Flatten ``Optional``/``Annotated``/``list`` layers into the types and metadata inside."""
    out: list[object] = [annotation]
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *meta = typing.get_args(annotation)
        out += _unwrap(base)
        for m in meta:
            out.append(m)
            if isinstance(m, FieldInfo):
                out += m.metadata
    elif origin in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            out += _unwrap(arg)
    return out


def _constraints(info: FieldInfo) -> list[object]:
    """All annotated-types constraints of a field, wherever pydantic keeps them."""
    return [*info.metadata, *_unwrap(info.annotation)]


def _lookup(
    loc: tuple[str | int, ...], root: type[BaseModel]
) -> tuple[type[BaseModel] | None, FieldInfo | None, tuple[str, ...]]:
    """Find the model holding the field at ``loc`` and its FieldInfo, for better messages.

    Also returns the field names not allowed at that place (a defaults table
    such as ``[topology.node]`` takes a model's fields minus a few).
    """
    current: type[BaseModel] | None = root
    info: FieldInfo | None = None
    owner: type[BaseModel] | None = None
    hidden: tuple[str, ...] = ()
    for part in loc:
        if isinstance(part, int):
            continue  # list index: the element type was found with the field
        if current is None or part not in current.model_fields:
            return current, None, hidden
        owner, info = current, current.model_fields[part]
        current, hidden = None, ()
        for t in _constraints(info):
            if isinstance(t, DefaultsFor):
                current, hidden = t.model, tuple(t.reserved)
                break
            if isinstance(t, type) and issubclass(t, BaseModel):
                current = t
                break
    return owner, info, hidden


def _range(name: str, info: FieldInfo | None) -> tuple[str, bool]:
    """The allowed range of a numeric field, e.g. ``0 < success_probability <= 1``.

    Also says whether the range has both a lower and an upper bound.
    """
    if info is None:
        return "", False
    lower = upper = ""
    for c in _constraints(info):
        if isinstance(c, annotated_types.Gt):
            lower = f"{_num(c.gt)} < "
        elif isinstance(c, annotated_types.Ge):
            lower = f"{_num(c.ge)} <= "
        elif isinstance(c, annotated_types.Lt):
            upper = f" < {_num(c.lt)}"
        elif isinstance(c, annotated_types.Le):
            upper = f" <= {_num(c.le)}"
    if lower and not upper:  # "qubits >= 1" reads better than "1 <= qubits"
        bound, op = lower.split()
        return f"{name} {'>' if op == '<' else '>='} {bound}", False
    if upper and not lower:
        return f"{name}{upper}", False
    if lower and upper:
        return f"{lower}{name}{upper}", True
    return "", False


_KIND = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "string_type": "a string",
    "bool_type": "true or false",
}
_BOUND = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}
_TABLE_ERRORS = {"model_type", "model_attributes_type", "dict_type"}
_LIST_FIELDS = {"nodes", "links", "requests", "faults"}
_NAME_RULE = "lower-case letters, digits, '_' or '-' only (pattern [a-z0-9_-]+)"
_PATTERNS = {
    PLUGIN_NAME_PATTERN: "a name of lower-case letters, digits, '_', '.', ':' or '-' only "
    "(pattern [a-z0-9_.:-]+)",
    PREFIX_PATTERN: "lower-case letters, digits, '_' or '-' only "
    "(pattern [a-z0-9_-]*; generated names are <prefix><index>)",
}


def describe(
    err: Mapping[str, Any],
    root: type[BaseModel],
    prefix: str = "",
    hide: tuple[str, ...] = (),
) -> str:
    """One pydantic error dict -> ``<path> = <value>: <what is allowed>``.

    ``root`` is the model ``loc`` starts from; ``prefix`` replaces the path up
    to there, e.g. ``topology (generated node n3)``; ``hide`` are fields not
    to suggest there.
    """
    kind: str = err["type"]
    loc: tuple[str | int, ...] = tuple(err["loc"])
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    value = err.get("input")
    where = field_path(loc)
    if prefix:
        where = f"{prefix}.{where}" if loc else prefix
    name = str(loc[-1]) if loc else "value"
    owner, info, hidden = _lookup(loc, root)
    with_value = f"{where} = {show(value)}"

    if kind == ERR_TEXT:
        return str(ctx["reason"])
    if kind == ERR_MISSING:
        return f"{where}: {ctx['reason']}"
    if kind == ERR_VALUE:
        return f"{with_value}: {ctx['reason']}"
    if kind == "missing":
        return f"{where}: missing (required)"
    if kind == "extra_forbidden":
        allowed = (
            [f for f in owner.model_fields if f not in hidden and f not in hide]
            if owner is not None and info is None
            else []
        )
        close = difflib.get_close_matches(name, allowed, n=1)
        if close:
            return f"{where}: unknown field; did you mean {close[0]!r}?"
        return f"{where}: unknown field" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    if kind in _BOUND:
        limit = next(iter(ctx.values()))
        text = f"{with_value}: must be {_BOUND[kind]} {_num(limit)}"
        full, two_sided = _range(name, info)
        return f"{text} (allowed: {full})" if two_sided else text
    if kind in _KIND:
        text = f"{with_value}: must be {_KIND[kind]}"
        if isinstance(value, bool) and kind != "bool_type":
            text += ", not true/false"
        full, _ = _range(name, info)
        return f"{text} (allowed: {full})" if full else text
    if kind == "literal_error":
        return _literal(with_value, value, info, ctx)
    if kind == "string_pattern_mismatch":
        return f"{with_value}: must be {_PATTERNS.get(ctx.get('pattern', ''), _NAME_RULE)}"
    if kind == "string_too_long":
        return (
            f"{with_value}: must be at most {ctx.get('max_length')} characters "
            f"({len(value) if isinstance(value, str) else '?'} given)"
        )
    if kind == "list_type":
        hint = f" (in TOML, write each entry as a [[{name}]] table)" if name in _LIST_FIELDS else ""
        return f"{with_value}: must be a list{hint}"
    if kind == "too_short":
        return (
            f"{where}: must have at least {ctx.get('min_length')} entries "
            f"({ctx.get('actual_length')} given)"
        )
    if kind == "too_long":
        return (
            f"{where}: must have at most {ctx.get('max_length')} entries "
            f"({ctx.get('actual_length')} given)"
        )
    if kind in _TABLE_ERRORS:
        return f"{with_value}: must be a table (in JSON, an object)"
    # Anything not foreseen: pydantic's short message, never its URL.
    return f"{with_value}: {err.get('msg', 'invalid value')}"


def _literal(with_value: str, value: object, info: FieldInfo | None, ctx: Mapping[str, Any]) -> str:
    """``must be one of 'a', 'b'; did you mean 'a'?``"""
    literals = (
        [t for t in _unwrap(info.annotation) if typing.get_origin(t) is Literal] if info else []
    )
    choices = [choice for t in literals for choice in typing.get_args(t)]
    if not choices:
        return f"{with_value}: must be {ctx.get('expected', 'one of the allowed values')}"
    text = f"{with_value}: must be one of {quoted(choices)}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [str(c) for c in choices], n=1)
        if close:
            text += f"; did you mean {close[0]!r}?"
    return text


def relocate(
    error: ValidationError,
    prefix: tuple[str | int, ...],
    root: type[BaseModel],
    keep: Callable[[Mapping[str, Any]], bool] | None = None,
) -> list[InitErrorDetails]:
    """Re-raise a nested validation's problems at ``prefix`` + their own location.

    Used where a validator validates a part itself (the topology, defaults
    tables) or merges its own problems with pydantic's; ``root`` is the
    model the new locations start from.
    """
    out: list[InitErrorDetails] = []
    for err in error.errors(include_url=False):
        if keep is not None and not keep(err):
            continue
        loc = (*prefix, *err["loc"])
        ctx = err.get("ctx") or {}
        kind = err["type"]
        if kind in OWN_ERRORS:
            out.append(problem(kind, loc, err.get("input"), str(ctx["reason"])))
            continue
        details = InitErrorDetails(type=kind, loc=loc, input=err.get("input"))
        if ctx:
            details["ctx"] = dict(ctx)
        try:  # pydantic-core knows its own error types; anything else goes as text
            ValidationError.from_exception_data("check", [details])
        except (TypeError, KeyError, ValueError):
            text = describe({**err, "loc": loc}, root)
            details = problem(ERR_TEXT, loc, err.get("input"), text)
        out.append(details)
    return out


def format_errors(error: ValidationError, source: str, root: type[BaseModel]) -> ScenarioError:
    """Turn a ValidationError into the one-line-per-problem ScenarioError."""
    lines: list[str] = []
    seen: set[str] = set()
    for err in error.errors(include_url=False):
        line = describe(err, root)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return ScenarioError.from_lines(source, lines)
