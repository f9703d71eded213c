"""The ``[topology]`` table: a generated network, and its expansion into nodes and links."""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails

from qstack import topology as generators
from qstack.scenario.entries import LinkSpec, NodeSpec
from qstack.scenario.errors import describe, field_path, relocate, show
from qstack.scenario.fields import (
    CONFIG,
    ERR_MISSING,
    ERR_TEXT,
    ERR_VALUE,
    MAX_LINKS,
    MAX_NODES,
    MAX_PATH_LENGTH,
    MAX_PREFIX_LENGTH,
    PREFIX_PATTERN,
    AreaKm,
    Count,
    DefaultsFor,
    LengthKm,
    Prob,
    Seed,
    problem,
    raise_problems,
    too_deep,
)

TopologyKind = Literal["chain", "ring", "grid", "waxman", "file"]
#: Kinds of generated network a ``[topology]`` table can describe.
TOPOLOGY_KINDS: tuple[str, ...] = typing.get_args(TopologyKind)

#: Upper bounds on generated networks, so a typo cannot hang the loader
#: (Waxman looks at every pair of nodes).
MAX_GENERATED_NODES = MAX_NODES
MAX_WAXMAN_NODES = 10_000

#: Which shape fields each kind takes (kind, node and link apply to all).
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "chain": ("nodes", "spacing_km", "prefix"),
    "ring": ("nodes", "spacing_km", "prefix"),
    "grid": ("rows", "cols", "spacing_km", "prefix"),
    "waxman": ("nodes", "area_km", "alpha", "beta", "seed", "prefix"),
    "file": ("path",),
}
_KIND_REQUIRED: dict[str, tuple[str, ...]] = {
    "chain": ("nodes", "spacing_km"),
    "ring": ("nodes", "spacing_km"),
    "grid": ("rows", "cols", "spacing_km"),
    "waxman": ("nodes", "area_km"),
    "file": ("path",),
}
_MIN_NODES = {"chain": 2, "ring": 3, "waxman": 2}
_SHAPE_FIELDS = tuple(dict.fromkeys(f for fields in _KIND_FIELDS.values() for f in fields))

_NODE_DEFAULTS = DefaultsFor(
    NodeSpec,
    {"name": "not allowed here: generated nodes are named <prefix><index> (or by the graph file)"},
)
_LINK_DEFAULTS = DefaultsFor(
    LinkSpec,
    dict.fromkeys(("a", "b"), "not allowed here: the topology decides which nodes each link joins")
    | {
        "length_km": "not allowed here: generated links get their length from the topology "
        "(spacing_km, Waxman distances, or length_km in the graph file)"
    },
)


class TopologySpec(BaseModel):
    """The ``[topology]`` table: a network to generate instead of (or besides) listing it.

    Shape fields left as None are "not given"; :mod:`qstack.topology` supplies
    the documented defaults (prefix "n", Waxman alpha/beta of networkx). The
    ``node`` and ``link`` tables hold defaults for every generated node/link.
    """

    model_config = CONFIG

    kind: TopologyKind
    nodes: Count | None = None
    rows: Count | None = None
    cols: Count | None = None
    spacing_km: LengthKm | None = None
    area_km: AreaKm | None = None
    alpha: Prob | None = None
    beta: Prob | None = None
    seed: Seed | None = None
    path: Annotated[str, Field(strict=True, min_length=1, max_length=MAX_PATH_LENGTH)] | None = None
    prefix: (
        Annotated[str, Field(strict=True, pattern=PREFIX_PATTERN, max_length=MAX_PREFIX_LENGTH)]
        | None
    ) = None
    node: Annotated[dict[str, Any], _NODE_DEFAULTS] = Field(default_factory=dict)
    link: Annotated[dict[str, Any], _LINK_DEFAULTS] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fits_kind(self) -> Self:
        """Each kind takes its own fields, in its own ranges; defaults must be valid."""
        kind = self.kind
        problems: list[InitErrorDetails] = []
        for name in _SHAPE_FIELDS:
            value = getattr(self, name)
            if value is not None and name not in _KIND_FIELDS[kind]:
                users = " or ".join(repr(k) for k, fields in _KIND_FIELDS.items() if name in fields)
                reason = f"only allowed when kind = {users} (this topology is {kind!r})"
                problems.append(problem(ERR_VALUE, (name,), value, reason))
        for name in _KIND_REQUIRED[kind]:
            if getattr(self, name) is None:
                reason = f"missing (required when kind = {kind!r})"
                problems.append(problem(ERR_MISSING, (name,), None, reason))
        problems += self._size_problems()
        if self.path is not None and not self.path.lower().endswith((".gml", ".json")):
            reason = "must end in .gml (GML) or .json (networkx node-link JSON)"
            problems.append(problem(ERR_VALUE, ("path",), self.path, reason))
        keep_missing = kind != "file"  # a graph file's attributes may fill them in
        problems += _defaults_problems("node", self.node, _NODE_DEFAULTS, keep_missing)
        problems += _defaults_problems("link", self.link, _LINK_DEFAULTS, keep_missing)
        raise_problems(type(self).__name__, problems)
        return self

    def _size_problems(self) -> list[InitErrorDetails]:
        """Node counts: at least what the shape needs, at most what the loader will build."""
        kind = self.kind
        out: list[InitErrorDetails] = []
        cap = MAX_WAXMAN_NODES if kind == "waxman" else MAX_GENERATED_NODES
        if kind in _MIN_NODES and self.nodes is not None:
            low = _MIN_NODES[kind]
            if not low <= self.nodes <= cap:
                bound = f">= {low}" if self.nodes < low else f"<= {cap}"
                reason = f"must be {bound} for kind = {kind!r}"
                out.append(problem(ERR_VALUE, ("nodes",), self.nodes, reason))
        if kind == "grid":
            for name in ("rows", "cols"):
                value = getattr(self, name)
                if value is not None and not 1 <= value <= cap:
                    bound = ">= 1" if value < 1 else f"<= {cap}"
                    out.append(problem(ERR_VALUE, (name,), value, f"must be {bound}"))
            if self.rows is not None and self.cols is not None and not out:
                size = self.rows * self.cols
                shape = f"a {self.rows} x {self.cols} grid"
                if not 2 <= size <= cap:
                    reason = (
                        f"rows * cols must be >= 2 ({shape} has no link)"
                        if size < 2
                        else f"rows * cols must be <= {cap} ({shape} has {size} nodes)"
                    )
                    out.append(problem(ERR_VALUE, ("cols",), self.cols, reason))
        return out

    @model_serializer(mode="wrap")
    def _dump_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out fields not given, so that a dump validates again for its kind."""
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


def _defaults_problems(
    field: str, table: Mapping[str, Any], marker: DefaultsFor, keep_missing: bool
) -> list[InitErrorDetails]:
    """Validate a defaults table on its own, as one node/link with placeholder ends.

    Checking it once gives one message at ``topology.<field>.<key>`` instead of
    the same message for every generated entry. Missing fields are only kept
    when nothing else (a graph file) can supply them.
    """
    problems: list[InitErrorDetails] = []
    placeholders: dict[str, object] = {"name": "x", "a": "x", "b": "y", "length_km": 0.0}
    sample = {k: v for k, v in placeholders.items() if k in marker.reserved}
    for key, value in table.items():
        if key in marker.reserved:
            problems.append(problem(ERR_VALUE, (field, key), value, marker.reserved[key]))
        else:
            sample[key] = value
    try:
        marker.model.model_validate(sample)
    except ValidationError as exc:
        missing = {"missing", ERR_MISSING}
        problems += relocate(
            exc, (field,), marker.model, lambda e: keep_missing or e["type"] not in missing
        )
    return problems


@dataclasses.dataclass
class Expansion:
    """A validated topology spec and the nodes and links it generated."""

    spec: TopologySpec
    nodes: list[NodeSpec]
    links: list[LinkSpec]
    origin: str
    """``generated`` or the graph file as named in ``path``."""

    def clash(self, what: str, name: str) -> str:
        """Why an explicit node or link collides with a generated one."""
        if self.spec.kind == "file":
            return f"the [topology] graph file {self.origin!r} also has {what} {name}"
        return f"[topology] also generates {what} {name}"


#: Problems reported for generated entries before the rest is cut short.
MAX_GENERATED_PROBLEMS = 20


def expand_topology(
    data: Mapping[str, Any], base_dir: str | os.PathLike[str] | None
) -> tuple[Expansion | None, list[InitErrorDetails]]:
    """Validate ``[topology]``, generate its network and validate every generated entry."""
    try:
        spec = TopologySpec.model_validate(data["topology"])
    except ValidationError as exc:
        return None, relocate(exc, ("topology",), TopologySpec)
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        seed = 0  # the seed's own error is reported by the field validation
    try:
        generated = generators.generate(spec, seed, base_dir)
    except generators.TopologyError as exc:
        return None, [_graph_file_problem(spec, exc)]
    size = _graph_size_problem(spec, generated)
    if size is not None:
        return None, [size]

    is_file = spec.kind == "file"
    origin = spec.path if is_file and spec.path is not None else "generated"
    lines: list[str] = []
    nodes: list[NodeSpec] = []
    for name in generated.nodes:
        attrs = generated.node_attrs.get(name, {})
        where = (
            f"topology ({origin} node {show(name)})"
            if is_file
            else f"topology (generated node {name})"
        )
        if "name" in attrs:
            lines.append(
                f"{where}.name = {show(attrs['name'])}: not allowed as a node attribute "
                "(the node id is the name)"
            )
            continue
        deep = too_deep(attrs)
        if deep is not None:
            lines.append(f"{where}.{field_path(deep)}: nested too deeply")
            continue
        try:
            nodes.append(NodeSpec.model_validate({**spec.node, **attrs, "name": name}))
        except ValidationError as exc:
            lines += [
                describe(e, NodeSpec, where, ("name",)) for e in exc.errors(include_url=False)
            ]
    links: list[LinkSpec] = []
    for edge in generated.edges:
        where = f"topology ({origin} {'edge' if is_file else 'link'} {edge.a}-{edge.b})"
        reserved = [k for k in ("a", "b") if k in edge.attrs]
        if reserved:
            lines += [
                f"{where}.{k} = {show(edge.attrs[k])}: not allowed as an edge attribute "
                "(the edge's ends are the link's ends)"
                for k in reserved
            ]
            continue
        deep = too_deep(edge.attrs)
        if deep is not None:
            lines.append(f"{where}.{field_path(deep)}: nested too deeply")
            continue
        entry = {**spec.link, **edge.attrs, "a": edge.a, "b": edge.b, "length_km": edge.length_km}
        try:
            links.append(LinkSpec.model_validate(entry))
        except ValidationError as exc:
            lines += [
                describe(e, LinkSpec, where, ("a", "b")) for e in exc.errors(include_url=False)
            ]
    shown = lines[:MAX_GENERATED_PROBLEMS]
    if len(lines) > len(shown):
        shown.append(
            f"topology: {len(lines) - len(shown)} more problems in generated nodes and links "
            "not shown"
        )
    problems = [problem(ERR_TEXT, ("topology",), None, line) for line in shown]
    return Expansion(spec, nodes, links, origin), problems


def _graph_file_problem(spec: TopologySpec, exc: generators.TopologyError) -> InitErrorDetails:
    """A graph file that cannot be read, or a node or edge in it that is wrong."""
    if exc.where is None:
        return problem(ERR_VALUE, ("topology", "path"), spec.path, exc.reason)
    text = f"topology ({exc.file} {exc.where})"
    if exc.field is not None:
        text += f".{exc.field}"
        if exc.has_value:
            text += f" = {show(exc.value)}"
    return problem(ERR_TEXT, ("topology",), exc.value, f"{text}: {exc.reason}")


def _graph_size_problem(
    spec: TopologySpec, generated: generators.GeneratedTopology
) -> InitErrorDetails | None:
    """A graph file (or a dense Waxman graph) with more nodes or links than a scenario may have."""
    for what, count, cap in (
        ("nodes", len(generated.nodes), MAX_NODES),
        ("links", len(generated.edges), MAX_LINKS),
    ):
        if count > cap:
            field = "path" if spec.kind == "file" else "kind"
            reason = f"gives {count} {what}; a scenario may have at most {cap}"
            return problem(ERR_VALUE, ("topology", field), getattr(spec, field), reason)
    return None
