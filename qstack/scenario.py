"""Typed scenario files (TOML or JSON) for qstack.

A scenario file is a public contract (see ``/work/shared/SCENARIO.md`` and
``specs/scenario.md``): users write it by hand, keep it with their papers and
expect it to keep loading. So this module validates every field strictly and
turns every problem into one line that names the field, the value given and
what is allowed, never a Pydantic traceback.

Public API: :class:`Scenario` and its parts, :class:`ScenarioError`,
:func:`load_scenario`, :func:`parse_scenario`, :func:`default_scenario` and
:data:`DEFAULT_SCENARIO_TOML`.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import annotated_types
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = [
    "ABSTRACT_FIELDS",
    "AVAILABLE_APPS",
    "DEFAULT_SCENARIO_TOML",
    "LINK_MODELS",
    "PHYSICAL_FIELDS",
    "LinkSpec",
    "NodeSpec",
    "RequestSpec",
    "RunSettings",
    "Scenario",
    "ScenarioError",
    "default_scenario",
    "load_scenario",
    "parse_scenario",
]

# --------------------------------------------------------------------------- types

#: Node names: short, lower-case, safe in file names, traces and diagrams.
NODE_NAME_PATTERN = r"^[a-z0-9_-]+$"

LinkModel = Literal["abstract", "single-click", "double-click"]
#: Heralded-entanglement models a link may use.
LINK_MODELS: tuple[str, ...] = typing.get_args(LinkModel)

AppName = Literal["pairs"]
#: Applications this version can run; the contract lists more ("qkd", "teleport").
AVAILABLE_APPS: tuple[str, ...] = typing.get_args(AppName)

# ``strict=True`` so that ``qubits = true`` or ``length_km = "30"`` is an error
# instead of a silent conversion; strict floats still accept ints.
_Int0 = Annotated[int, Field(strict=True, ge=0)]
_Int1 = Annotated[int, Field(strict=True, ge=1)]
_Name = Annotated[str, Field(strict=True)]
_PosFloat = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]
_NonNegFloat = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
_Prob = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=1)]
_DarkCount = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, lt=1)]
_Alpha = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=0.5)]
_WernerFidelity = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.25, le=1)]

_CONFIG = ConfigDict(frozen=True, extra="forbid")

# Error types of our own; the formatter below knows how to print them.
_ERR_VALUE = "qstack_value"  # "<path> = <value>: <msg>"
_ERR_MISSING = "qstack_missing"  # "<path>: <msg>" (there is no value to show)


def _problem(kind: str, loc: tuple[str | int, ...], value: object, msg: str) -> InitErrorDetails:
    """One problem found by a model validator, at ``loc`` relative to that model."""
    # The message travels in the context so that braces in it are never
    # taken as format fields by pydantic-core.
    return InitErrorDetails(
        type=PydanticCustomError(kind, "{reason}", {"reason": msg}),
        loc=loc,
        input=value,
    )


def _raise_problems(model: str, problems: Sequence[InitErrorDetails]) -> None:
    """Report all problems a validator found at once (pydantic-core merges them)."""
    if problems:
        raise ValidationError.from_exception_data(model, list(problems))


def _q(values: Sequence[object]) -> str:
    """``'a', 'b', 'c'``: how allowed values are listed in messages."""
    return ", ".join(repr(v) for v in values)


# --------------------------------------------------------------------------- models


class RunSettings(BaseModel):
    """The ``[run]`` table: how long to simulate."""

    model_config = _CONFIG

    until_s: _PosFloat = 10.0
    """Simulated seconds at most; the run ends earlier once every request is finished."""


class NodeSpec(BaseModel):
    """One ``[[nodes]]`` entry: a node and its quantum memory.

    Perfect memory is represented by ``memory_t_s = None`` (and no T1/T2); the
    string ``"inf"`` and a float infinity in the file are normalised to None, so
    there is one spelling of "no decoherence" for the code that uses this.
    """

    model_config = _CONFIG

    name: Annotated[str, Field(strict=True, pattern=NODE_NAME_PATTERN)]
    qubits: _Int1
    memory_t_s: _PosFloat | None = None
    t1_s: _PosFloat | None = None
    t2_s: _PosFloat | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_memory_model(cls, data: Any) -> Any:
        """Reject memory_t_s together with T1/T2: two noise models for one memory.

        Done on the raw input so that ``memory_t_s = "inf"`` plus ``t1_s`` is
        caught too (after normalisation it would look like an omitted field).
        """
        if isinstance(data, Mapping):
            given = data.get("memory_t_s")
            other = [k for k in ("t1_s", "t2_s") if data.get(k) is not None]
            if given is not None and other:
                _raise_problems(
                    cls.__name__,
                    [
                        _problem(
                            _ERR_VALUE,
                            ("memory_t_s",),
                            given,
                            f"not allowed together with {' and '.join(other)}; give either "
                            "memory_t_s (depolarising) or t1_s and t2_s (amplitude/phase damping)",
                        )
                    ],
                )
        return data

    @field_validator("memory_t_s", mode="before")
    @classmethod
    def _inf_is_perfect(cls, value: object) -> object:
        """Accept "inf" (or a float infinity) as documented spellings of a perfect memory."""
        if isinstance(value, str):
            if value.strip().lower() in ("inf", "infinity"):
                return None
            raise PydanticCustomError(
                _ERR_VALUE,
                "{reason}",
                {"reason": "must be a number of seconds > 0, or 'inf' for a perfect memory"},
            )
        if isinstance(value, float) and value == math.inf:
            return None
        return value

    @model_validator(mode="after")
    def _t1_t2_consistent(self) -> Self:
        """T1/T2 come as a pair, and physics requires T2 <= 2*T1."""
        problems: list[InitErrorDetails] = []
        if self.t1_s is not None and self.t2_s is None:
            problems.append(
                _problem(
                    _ERR_MISSING,
                    ("t2_s",),
                    None,
                    "missing (required when t1_s is given; give both or neither)",
                )
            )
        elif self.t2_s is not None and self.t1_s is None:
            problems.append(
                _problem(
                    _ERR_MISSING,
                    ("t1_s",),
                    None,
                    "missing (required when t2_s is given; give both or neither)",
                )
            )
        elif self.t1_s is not None and self.t2_s is not None and self.t2_s > 2 * self.t1_s:
            problems.append(
                _problem(
                    _ERR_VALUE,
                    ("t2_s",),
                    self.t2_s,
                    f"must be <= 2 * t1_s = {2 * self.t1_s!r} (T2 <= 2*T1)",
                )
            )
        _raise_problems(type(self).__name__, problems)
        return self


#: Fields that only the physical (single-/double-click) models use.
PHYSICAL_FIELDS: tuple[str, ...] = (
    "attenuation_db_per_km",
    "detector_efficiency",
    "emission_efficiency",
    "dark_count_probability",
    "bright_state_alpha",
    "fiber_speed_km_per_s",
    "attempt_prep_s",
)
#: Fields that only (and always) the abstract model uses.
ABSTRACT_FIELDS: tuple[str, ...] = ("success_probability", "attempt_duration_s", "fidelity")


class LinkSpec(BaseModel):
    """One ``[[links]]`` entry: a fiber between two nodes with a heralding station midway.

    Which fields apply depends on ``model``; a field of the other family is an
    error rather than ignored, so a wrong ``model`` never silently changes the
    physics. ``model_dump()`` leaves out the fields that do not apply, so a
    dumped link loads again.
    """

    model_config = _CONFIG

    a: _Name
    b: _Name
    length_km: _NonNegFloat
    model: LinkModel
    # physical models
    attenuation_db_per_km: _NonNegFloat = 0.2
    detector_efficiency: _Prob = 0.9
    emission_efficiency: _Prob = 1.0
    dark_count_probability: _DarkCount = 0.0
    bright_state_alpha: _Alpha | None = None
    fiber_speed_km_per_s: _PosFloat = 2.0e5
    attempt_prep_s: _NonNegFloat = 1e-6
    # abstract model
    success_probability: _Prob | None = None
    attempt_duration_s: _PosFloat | None = None
    fidelity: _WernerFidelity | None = None

    @model_validator(mode="after")
    def _fields_match_model(self) -> Self:
        """Check a != b and that exactly the fields of the chosen model are given."""
        problems: list[InitErrorDetails] = []
        if self.a == self.b:
            problems.append(
                _problem(
                    _ERR_VALUE,
                    ("b",),
                    self.b,
                    f"must differ from a ({self.a!r}): a link joins two different nodes",
                )
            )
        if self.model == "abstract":
            for name in PHYSICAL_FIELDS:
                if name in self.model_fields_set:
                    problems.append(
                        _problem(
                            _ERR_VALUE,
                            (name,),
                            getattr(self, name),
                            "not allowed when model = 'abstract' (physical-model field); "
                            f"the abstract model takes {_q(ABSTRACT_FIELDS)}",
                        )
                    )
            for name in ABSTRACT_FIELDS:
                if getattr(self, name) is None:
                    problems.append(
                        _problem(
                            _ERR_MISSING,
                            (name,),
                            None,
                            "missing (required when model = 'abstract')",
                        )
                    )
        else:
            for name in ABSTRACT_FIELDS:
                value = getattr(self, name)
                if value is not None:
                    problems.append(
                        _problem(
                            _ERR_VALUE,
                            (name,),
                            value,
                            f"only allowed when model = 'abstract' (this link is {self.model!r})",
                        )
                    )
            if self.bright_state_alpha is not None and self.model != "single-click":
                problems.append(
                    _problem(
                        _ERR_VALUE,
                        ("bright_state_alpha",),
                        self.bright_state_alpha,
                        f"only allowed when model = 'single-click' (this link is {self.model!r})",
                    )
                )
        _raise_problems(type(self).__name__, problems)
        return self

    @model_serializer(mode="wrap")
    def _dump_relevant(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out the other model's fields, so that a dump validates again."""
        data: dict[str, Any] = handler(self)
        drop = PHYSICAL_FIELDS if self.model == "abstract" else ABSTRACT_FIELDS
        return {k: v for k, v in data.items() if k not in drop}


class RequestSpec(BaseModel):
    """One ``[[requests]]`` entry: what an application asks the network for."""

    model_config = _CONFIG

    app: AppName
    src: _Name
    dst: _Name
    pairs: _Int1
    min_fidelity: _Prob | None = None
    max_time_s: _PosFloat | None = None
    start_s: _NonNegFloat = 0.0
    type: Literal["keep", "measure"] = "keep"
    priority: _Int0 = 0
    purpose_id: _Int0 = 0

    @field_validator("app", mode="before")
    @classmethod
    def _app_available(cls, value: object) -> object:
        """Say plainly that an app is missing from this version (the list will grow)."""
        if isinstance(value, str) and value not in AVAILABLE_APPS:
            raise PydanticCustomError(
                _ERR_VALUE,
                "{reason}",
                {
                    "reason": f"app {value!r} is not available in this version; "
                    f"available: {_q(AVAILABLE_APPS)}"
                },
            )
        return value

    @model_validator(mode="after")
    def _two_ends(self) -> Self:
        """A request joins two different nodes."""
        if self.src == self.dst:
            _raise_problems(
                type(self).__name__,
                [_problem(_ERR_VALUE, ("dst",), self.dst, f"must differ from src ({self.src!r})")],
            )
        return self


class Scenario(BaseModel):
    """A whole scenario file: seed, run settings, topology and requests."""

    model_config = _CONFIG

    seed: _Int0 = 0
    run: RunSettings = Field(default_factory=RunSettings)
    nodes: list[NodeSpec] = Field(min_length=2)
    links: list[LinkSpec] = Field(min_length=1)
    requests: list[RequestSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        """Names are unique, and links and requests only name nodes that exist."""
        problems: list[InitErrorDetails] = []
        first_index: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            if node.name in first_index:
                problems.append(
                    _problem(
                        _ERR_VALUE,
                        ("nodes", i, "name"),
                        node.name,
                        f"duplicate node name (also nodes[{first_index[node.name]}])",
                    )
                )
            else:
                first_index[node.name] = i
        names = list(first_index)

        pairs_seen: dict[frozenset[str], int] = {}
        for i, link in enumerate(self.links):
            known = True
            for end in ("a", "b"):
                value = getattr(link, end)
                if value not in first_index:
                    known = False
                    problems.append(
                        _problem(_ERR_VALUE, ("links", i, end), value, _unknown_node(value, names))
                    )
            pair = frozenset((link.a, link.b))
            if known and pair in pairs_seen:
                j = pairs_seen[pair]
                problems.append(
                    _problem(
                        _ERR_VALUE,
                        ("links", i, "b"),
                        link.b,
                        f"duplicate link: links[{j}] already joins {self.links[j].a!r} "
                        f"and {self.links[j].b!r}; at most one link per pair of nodes",
                    )
                )
            elif known:
                pairs_seen[pair] = i

        for i, req in enumerate(self.requests):
            for end in ("src", "dst"):
                value = getattr(req, end)
                if value not in first_index:
                    problems.append(
                        _problem(
                            _ERR_VALUE, ("requests", i, end), value, _unknown_node(value, names)
                        )
                    )
        _raise_problems(type(self).__name__, problems)
        return self


def _unknown_node(value: str, names: list[str]) -> str:
    """Explain an unknown node name, listing the nodes (or a guess when there are many)."""
    close = difflib.get_close_matches(value, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if len(names) <= 12:
        return f"unknown node; nodes are {_q(names)}{hint}"
    return f"unknown node ({len(names)} nodes are defined){hint}"


# --------------------------------------------------------------------------- errors


class ScenarioError(Exception):
    """A scenario that cannot be used; ``str(err)`` is the whole message for the user.

    ``problems`` holds one line per problem (the message minus the count line).
    """

    def __init__(self, message: str, problems: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems: tuple[str, ...] = tuple(problems) if problems else (message,)

    def __str__(self) -> str:
        return self.message


def _path(loc: tuple[str | int, ...]) -> str:
    """``('links', 0, 'length_km')`` -> ``links[0].length_km``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _show(value: object) -> str:
    """The value as the user should recognise it, cut short when it is big."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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


def _lookup(loc: tuple[str | int, ...]) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """Find the model holding the field at ``loc`` and its FieldInfo, for better messages."""
    current: type[BaseModel] | None = Scenario
    info: FieldInfo | None = None
    owner: type[BaseModel] | None = None
    for part in loc:
        if isinstance(part, int):
            continue  # list index: the element type was found with the field
        if current is None or part not in current.model_fields:
            return current, None
        owner, info = current, current.model_fields[part]
        current = next(
            (
                t
                for t in _unwrap(info.annotation)
                if isinstance(t, type) and issubclass(t, BaseModel)
            ),
            None,
        )
    return owner, info


def _constraints(info: FieldInfo) -> list[object]:
    """All annotated-types constraints of a field, wherever pydantic keeps them."""
    found: list[object] = list(info.metadata)
    found += _unwrap(info.annotation)
    return found


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
_LIST_FIELDS = {"nodes", "links", "requests"}


def _describe(err: Mapping[str, Any]) -> str:
    """One pydantic error dict -> ``<path> = <value>: <what is allowed>``."""
    kind: str = err["type"]
    loc: tuple[str | int, ...] = tuple(err["loc"])
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    value = err.get("input")
    path = _path(loc)
    name = str(loc[-1]) if loc else "value"
    owner, info = _lookup(loc)
    with_value = f"{path} = {_show(value)}"

    if kind == _ERR_MISSING:
        return f"{path}: {ctx['reason']}"
    if kind == _ERR_VALUE:
        return f"{with_value}: {ctx['reason']}"
    if kind == "missing":
        return f"{path}: missing (required)"
    if kind == "extra_forbidden":
        allowed = list(owner.model_fields) if owner is not None and info is None else []
        close = difflib.get_close_matches(name, allowed, n=1)
        if close:
            return f"{path}: unknown field; did you mean {close[0]!r}?"
        return (
            f"{path}: unknown field; allowed: {', '.join(allowed)}"
            if allowed
            else (f"{path}: unknown field")
        )
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
        if full:
            text += f" (allowed: {full})"
        return text
    if kind == "literal_error":
        choices = (
            [
                a
                for t in _unwrap(info.annotation)
                if typing.get_origin(t) is Literal
                for a in typing.get_args(t)
            ]
            if info is not None
            else []
        )
        if not choices:
            return f"{with_value}: must be {ctx.get('expected', 'one of the allowed values')}"
        text = f"{with_value}: must be one of {_q(choices)}"
        if isinstance(value, str):
            close = difflib.get_close_matches(value, [str(c) for c in choices], n=1)
            if close:
                text += f"; did you mean {close[0]!r}?"
        return text
    if kind == "string_pattern_mismatch":
        return (
            f"{with_value}: must be lower-case letters, digits, '_' or '-' only "
            "(pattern [a-z0-9_-]+)"
        )
    if kind == "list_type":
        hint = (
            f" (in TOML, write each entry as a [[{name}]] table)"
            if loc and loc[-1] in _LIST_FIELDS
            else ""
        )
        return f"{with_value}: must be a list{hint}"
    if kind == "too_short":
        need = ctx.get("min_length")
        got = ctx.get("actual_length")
        return f"{path}: must have at least {need} entries ({got} given)"
    if kind in _TABLE_ERRORS:
        return f"{with_value}: must be a table (in JSON, an object)"
    # Anything not foreseen: pydantic's short message, never its URL.
    return f"{with_value}: {err.get('msg', 'invalid value')}"


def _format_errors(error: ValidationError, source: str) -> ScenarioError:
    """Turn a ValidationError into the one-line-per-problem ScenarioError."""
    lines: list[str] = []
    for err in error.errors(include_url=False):
        line = f"{source}: {_describe(err)}"
        if line not in lines:
            lines.append(line)
    if len(lines) == 1:
        return ScenarioError(lines[0], lines)
    head = f"{source}: {len(lines)} problems:"
    return ScenarioError("\n".join([head, *lines]), lines)


# --------------------------------------------------------------------------- loading


def parse_scenario(data: Mapping[str, object], source: str = "<scenario>") -> Scenario:
    """Validate already-parsed data (from TOML, JSON or code) into a Scenario.

    ``source`` prefixes every message, normally the file name.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(
            f"{source}: the top level must be a table (in JSON, an object), "
            f"not {type(data).__name__}"
        )
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise _format_errors(exc, source) from None


_TOML_POS = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")


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


def _parse_text(text: str, is_json: bool, source: str) -> object:
    """Parse TOML or JSON text, turning syntax errors into a ScenarioError."""
    if is_json:
        try:
            return json.loads(text, object_pairs_hook=_no_duplicates)
        except _DuplicateKeyError as exc:
            raise ScenarioError(f"{source}: JSON error: duplicate key {exc.args[0]!r}") from None
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                f"{source}: JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        match = _TOML_POS.match(msg)
        if match:
            raise ScenarioError(
                f"{source}: TOML syntax error at line {match['line']}, column {match['col']}: "
                f"{match['msg']}"
            ) from None
        raise ScenarioError(f"{source}: TOML syntax error: {msg}") from None


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file: ``.json`` is JSON, anything else is TOML.

    Every failure (missing file, syntax, validation) is a ScenarioError.
    """
    source = os.fspath(path)
    file = Path(source)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{source}: is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{source}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{source}: not UTF-8 text (bad byte at offset {exc.start}); "
            "scenario files must be UTF-8"
        ) from None
    data = _parse_text(text, file.suffix.lower() == ".json", source)
    if not isinstance(data, Mapping):
        raise ScenarioError(
            f"{source}: the top level must be a table (in JSON, an object), "
            f"not {type(data).__name__}"
        )
    return parse_scenario(data, source)


# --------------------------------------------------------------------------- default

DEFAULT_SCENARIO_TOML = """\
# qstack default scenario: two nodes, one 20 km double-click link, 1000 pairs.
seed = 1

[run]
until_s = 10.0

[[nodes]]
name = "alice"
qubits = 10
memory_t_s = 1.0

[[nodes]]
name = "bob"
qubits = 10
memory_t_s = 1.0

[[links]]
a = "alice"
b = "bob"
length_km = 20.0
model = "double-click"

[[requests]]
app = "pairs"
src = "alice"
dst = "bob"
pairs = 1000
"""
"""The default scenario as a file a user can dump and edit (equal to default_scenario())."""


def default_scenario() -> Scenario:
    """The scenario ``qstack run`` uses without a file (a fresh object each call)."""
    return Scenario(
        seed=1,
        run=RunSettings(until_s=10.0),
        nodes=[
            NodeSpec(name="alice", qubits=10, memory_t_s=1.0),
            NodeSpec(name="bob", qubits=10, memory_t_s=1.0),
        ],
        links=[LinkSpec(a="alice", b="bob", length_km=20.0, model="double-click")],
        requests=[RequestSpec(app="pairs", src="alice", dst="bob", pairs=1000)],
    )
