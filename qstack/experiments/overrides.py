"""``--set KEY=VALUE``: edit a scenario document by dotted path before validation.

A KEY names a place in the scenario *schema* (``run.until_s``,
``links[0].length_km``, ``links[*].length_km`` for every link,
``topology.link.detector_efficiency``); a place the file leaves out is
created, a place the schema does not have is an error naming the key. The
edited document is then validated exactly like a file on disk, so a bad
value gets the loader's own message.

Generated networks: a file with a ``[topology]`` table does not list the
links and nodes it generates, so ``links[*]`` / ``nodes[*]`` cannot reach
them; such keys are refused with a pointer to ``topology.link.<field>`` /
``topology.node.<field>`` (the defaults every generated entry takes) rather
than silently changing only the hand-written entries.
"""

from __future__ import annotations

import copy
import difflib
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from qstack.scenario import Scenario, ScenarioError

__all__ = [
    "OverrideError",
    "apply_overrides",
    "parse_assignment",
    "parse_key",
    "parse_value",
]

WILDCARD = "*"
"""The index that means "every entry of the list"."""

_SEGMENT = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<indices>(?:\[(?:\d+|\*)\])*)")
_INDEX = re.compile(r"\[(\d+|\*)\]")


class OverrideError(ScenarioError):
    """A ``--set`` that names nothing or cannot be applied; the message names the key."""


Token = str | int
"""One part of a key: a field name, a list index, or ``WILDCARD``."""


def parse_key(key: str) -> tuple[Token, ...]:
    """``links[*].length_km`` -> ``("links", "*", "length_km")``; malformed keys are errors."""
    tokens: list[Token] = []
    for part in key.strip().split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise OverrideError(
                f"--set {key}: malformed key {part!r}: write field names joined by '.', "
                "each optionally followed by [index] or [*] (e.g. links[0].length_km)"
            )
        tokens.append(match["name"])
        tokens += [raw if raw == WILDCARD else int(raw) for raw in _INDEX.findall(match["indices"])]
    return tuple(tokens)


def _show_path(tokens: Sequence[Token]) -> str:
    """``("links", 0, "a")`` -> ``links[0].a``."""
    out = ""
    for token in tokens:
        if isinstance(token, int) or token == WILDCARD:
            out += f"[{token}]"
        else:
            out += f".{token}" if out else token
    return out


def parse_value(text: str) -> object:
    """A TOML value (``30``, ``1e-3``, ``true``, ``"x"``, ``[1, 2]``), else the text itself."""
    try:
        parsed = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    return parsed["value"] if set(parsed) == {"value"} else text


def parse_assignment(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` -> (key, raw value), split at the first ``=`` and stripped."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise OverrideError(f"--set {text}: expected KEY=VALUE (e.g. run.until_s=5)")
    return key.strip(), value.strip()


# --------------------------------------------------------------------------- the schema


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a schema place holds: a table of model fields, a free table, a list, a value.

    ``models`` holds every model a table may be (a union of entry types takes
    the fields of any of them; validation then checks the one it is).
    """

    kind: Literal["model", "table", "list", "value"]
    models: tuple[type[BaseModel], ...] = ()
    item: _Shape | None = None


def _parts(annotation: object) -> list[object]:
    """The types and metadata inside Optional / Annotated / unions, flattened."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        return [*_parts(base), *meta]
    if origin in (typing.Union, types.UnionType):
        return [part for arg in typing.get_args(annotation) for part in _parts(arg)]
    return [annotation]


def _shape(annotation: object, metadata: Sequence[object] = ()) -> _Shape:
    """The shape of a field from its annotation (and pydantic's metadata for it)."""
    parts = [*_parts(annotation), *metadata]
    models = tuple(p for p in parts if isinstance(p, type) and issubclass(p, BaseModel))
    if models:
        return _Shape("model", models)
    for part in parts:
        origin = typing.get_origin(part)
        if origin is list:
            (item,) = typing.get_args(part) or (Any,)
            return _Shape("list", item=_shape(item))
        if origin is dict or part is dict:
            # A table of defaults for another model's fields (``[topology.link]``)
            # carries that model in its metadata; otherwise any key goes.
            for meta in parts:
                target = getattr(meta, "model", None)
                if isinstance(target, type) and issubclass(target, BaseModel):
                    return _Shape("model", (target,))
            return _Shape("table")
    return _Shape("value")


def _is_index(token: Token) -> bool:
    return isinstance(token, int) or token == WILDCARD


def _field_shape(models: Sequence[type[BaseModel]], name: str, key: str, where: str) -> _Shape:
    for model in models:
        info = model.model_fields.get(name)
        if info is not None:
            return _shape(info.annotation, info.metadata)
    fields = list(dict.fromkeys(field for model in models for field in model.model_fields))
    close = difflib.get_close_matches(name, fields, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; its fields: {', '.join(fields)}"
    owner = where or "the scenario"
    raise OverrideError(f"--set {key}: names nothing: {owner} has no field {name!r}{hint}")


def _check_schema(key: str, tokens: Sequence[Token]) -> None:
    """Refuse a key whose path the scenario schema does not have."""
    shape = _Shape("model", (Scenario,))
    for position, token in enumerate(tokens):
        where = _show_path(tokens[:position])
        if _is_index(token):
            if shape.kind != "list":
                raise OverrideError(f"--set {key}: {where} is not a list; it takes no [index]")
            assert shape.item is not None
            shape = shape.item
            continue
        assert isinstance(token, str)
        if shape.kind == "list":
            rest = _show_path(tokens[position:])
            raise OverrideError(
                f"--set {key}: {where} is a list: write {where}[0].{rest} for one entry "
                f"or {where}[*].{rest} for every entry"
            )
        if shape.kind == "value":
            raise OverrideError(f"--set {key}: names nothing: {where} is a value, not a table")
        if shape.kind == "table":  # free keys
            shape = _Shape("value")
            continue
        shape = _field_shape(shape.models, token, key, where)


# --------------------------------------------------------------------------- the document


_GENERATED_HINT = {
    "links": "topology.link.{field} (the default of every generated link)",
    "nodes": "topology.node.{field} (the default of every generated node)",
}
_GENERATED_LENGTH_HINT = (
    "set the topology's shape instead (topology.spacing_km for chain, ring and grid; "
    "topology.area_km for waxman; length_km in a graph file)"
)


def _refuse_generated(key: str, tokens: Sequence[Token], document: Mapping[str, Any]) -> None:
    """``links[*]`` / ``nodes[*]`` (or any entry) where ``[topology]`` generates that list."""
    head = tokens[0]
    if document.get("topology") is None or head not in _GENERATED_HINT or len(tokens) < 2:
        return
    listed = document.get(str(head))
    if tokens[1] != WILDCARD and isinstance(listed, list) and listed:
        return  # an entry the file lists itself
    field = str(tokens[2]) if len(tokens) > 2 else "<field>"
    hint = (
        _GENERATED_LENGTH_HINT
        if (head, field) == ("links", "length_km")
        else "use --set " + _GENERATED_HINT[str(head)].format(field=field) + " instead"
    )
    raise OverrideError(
        f"--set {key}: this file's {head} are generated by [topology], which "
        f"{_show_path(tokens[:2])} cannot reach; {hint}"
    )


Slot = tuple[dict[str, Any] | list[Any], Token]


def _slots(key: str, tokens: Sequence[Token], document: dict[str, Any]) -> list[Slot]:
    """Every (container, field-or-index) the key writes to, creating missing tables."""
    cursors: list[Any] = [document]
    for position, token in enumerate(tokens[:-1]):
        where = _show_path(tokens[: position + 1])
        following = tokens[position + 1]
        reached: list[Any] = []
        for cursor in cursors:
            if _is_index(token):
                reached += [cursor[i] for i in _indices(key, token, cursor, where)]
                continue
            child = cursor.get(token)
            if child is None and not _is_index(following):
                child = cursor[token] = {}  # a table the file leaves out
            if _is_index(following) and not isinstance(child, list):
                raise OverrideError(f"--set {key}: names nothing: the file has no {where} list")
            if not _is_index(following) and not isinstance(child, dict):
                raise OverrideError(f"--set {key}: {where} in the file is not a table")
            reached.append(child)
        cursors = reached
    last = tokens[-1]
    if not _is_index(last):
        return [(cursor, last) for cursor in cursors]
    where = _show_path(tokens)
    return [(cursor, i) for cursor in cursors for i in _indices(key, last, cursor, where)]


def _indices(key: str, token: Token, entries: list[Any], where: str) -> range | list[int]:
    if token == WILDCARD:
        if not entries:
            raise OverrideError(f"--set {key}: names nothing: {where} is empty in the file")
        return range(len(entries))
    assert isinstance(token, int)
    if token >= len(entries):
        count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
        raise OverrideError(
            f"--set {key}: names nothing: index {token} is out of range "
            f"(the file has {count}, indices from 0)"
        )
    return [token]


def apply_overrides(
    document: Mapping[str, Any], overrides: Iterable[tuple[str, object]]
) -> dict[str, Any]:
    """A copy of ``document`` with each (key, value) set, in order (later keys win).

    A key the schema lacks, an index past the end, or ``[*]`` over a list the
    file does not have is an ``OverrideError`` naming the key. Values are set
    as given (the command line reads them with :func:`parse_value` first).
    """
    edited: dict[str, Any] = copy.deepcopy(dict(document))
    for key, value in overrides:
        tokens = parse_key(key)
        _check_schema(key, tokens)
        _refuse_generated(key, tokens, edited)
        for container, slot in _slots(key, tokens, edited):
            if isinstance(container, list):
                assert isinstance(slot, int)
                container[slot] = copy.deepcopy(value)
            else:
                container[str(slot)] = copy.deepcopy(value)
    return edited
