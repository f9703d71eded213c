"""Topology generators: chains, rings, grids, Waxman graphs and graph files.

These are plain functions returning node names and edges with lengths, so the
scenario loader (``[topology]`` in a scenario file) and the benchmarks (large
Waxman networks) build networks the same way, without a Scenario in between.
Validation with user-facing messages is the loader's job; the functions here
only refuse arguments that would make no network at all. This module knows
nothing of scenarios: :func:`generate` takes anything shaped like a
``[topology]`` table (:class:`TopologyShape`), so the loader imports this
module and never the other way round.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import networkx as nx

__all__ = [
    "DEFAULT_PREFIX",
    "WAXMAN_ALPHA",
    "WAXMAN_BETA",
    "Edge",
    "GeneratedTopology",
    "TopologyError",
    "TopologyShape",
    "chain",
    "generate",
    "grid",
    "read_graph_file",
    "ring",
    "waxman",
]

#: Generated node names are ``<prefix><index>``: n0, n1, ...
DEFAULT_PREFIX = "n"
#: networkx.waxman_graph defaults (Waxman 1988: p = beta * exp(-d / (alpha * L))).
WAXMAN_ALPHA = 0.1
WAXMAN_BETA = 0.4
_TOO_DEEP = "nested too deeply to read"
#: Largest graph file read (as large as a scenario file may be).
MAX_GRAPH_FILE_BYTES = 256 * 2**20


@dataclass(frozen=True, slots=True)
class Edge:
    """One generated link: its two ends, its fiber length and any extra attributes."""

    a: str
    b: str
    length_km: float
    attrs: Mapping[str, Any] = field(default_factory=dict)
    """Further ``[[links]]`` fields (graph files only; empty for generators)."""


@dataclass(frozen=True, slots=True)
class GeneratedTopology:
    """Node names and edges of a generated or imported network."""

    nodes: tuple[str, ...]
    edges: tuple[Edge, ...]
    node_attrs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Further ``[[nodes]]`` fields per node (graph files only)."""
    positions: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """Node coordinates in km, where the generator placed nodes (Waxman)."""
    source: str = "generated"
    """Where the entries come from, for messages: ``generated`` or the file name."""

    def graph(self) -> nx.Graph:
        """The network as an undirected networkx graph with ``length_km`` on each edge."""
        g = nx.Graph()
        g.add_nodes_from(self.nodes)
        g.add_edges_from((e.a, e.b, {"length_km": e.length_km}) for e in self.edges)
        return g


class TopologyShape(Protocol):
    """What :func:`generate` reads: the shape fields of a ``[topology]`` table.

    ``qstack.scenario.TopologySpec`` has this shape; None means "not given".
    """

    @property
    def kind(self) -> str: ...
    @property
    def nodes(self) -> int | None: ...
    @property
    def rows(self) -> int | None: ...
    @property
    def cols(self) -> int | None: ...
    @property
    def spacing_km(self) -> float | None: ...
    @property
    def area_km(self) -> float | None: ...
    @property
    def alpha(self) -> float | None: ...
    @property
    def beta(self) -> float | None: ...
    @property
    def seed(self) -> int | None: ...
    @property
    def path(self) -> str | None: ...
    @property
    def prefix(self) -> str | None: ...


class TopologyError(ValueError):
    """A graph file that cannot be used; says which file, and which node or edge.

    ``where`` is ``None`` for the file as a whole, else e.g. ``"edge 'a'-'b'"``;
    ``field`` and ``value`` name the attribute at fault when there is one.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        where: str | None = None,
        field: str | None = None,
        value: object = None,
        has_value: bool = False,
    ) -> None:
        self.file = file
        self.reason = reason
        self.where = where
        self.field = field
        self.value = value
        self.has_value = has_value
        super().__init__(self.describe())

    def describe(self) -> str:
        """``net.gml edge 'a'-'b': length_km: missing (required ...)``."""
        text = self.file if self.where is None else f"{self.file} {self.where}"
        if self.field is not None:
            text += f": {self.field}"
            if self.has_value:
                text += f" = {self.value!r}"
        return f"{text}: {self.reason}"


def _names(count: int, prefix: str) -> tuple[str, ...]:
    """``prefix0 .. prefix{count-1}``."""
    return tuple(f"{prefix}{i}" for i in range(count))


def _check_count(what: str, value: int, minimum: int) -> None:
    """Refuse sizes that cannot make a network (the loader reports these nicely first)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, not {value!r}")


def _check_length(spacing_km: float) -> float:
    """Fiber lengths are finite and >= 0."""
    if not math.isfinite(spacing_km) or spacing_km < 0:
        raise ValueError(f"spacing_km must be a finite number >= 0, not {spacing_km!r}")
    return float(spacing_km)


def chain(nodes: int, spacing_km: float, prefix: str = DEFAULT_PREFIX) -> GeneratedTopology:
    """A repeater chain n0 - n1 - ... - n{nodes-1}, every link ``spacing_km`` long."""
    _check_count("nodes", nodes, 2)
    length = _check_length(spacing_km)
    names = _names(nodes, prefix)
    edges = tuple(Edge(names[i], names[i + 1], length) for i in range(nodes - 1))
    return GeneratedTopology(names, edges)


def ring(nodes: int, spacing_km: float, prefix: str = DEFAULT_PREFIX) -> GeneratedTopology:
    """A chain closed into a ring (n{nodes-1} - n0), every link ``spacing_km`` long."""
    _check_count("nodes", nodes, 3)
    length = _check_length(spacing_km)
    names = _names(nodes, prefix)
    edges = tuple(Edge(names[i], names[(i + 1) % nodes], length) for i in range(nodes))
    return GeneratedTopology(names, edges)


def grid(
    rows: int, cols: int, spacing_km: float, prefix: str = DEFAULT_PREFIX
) -> GeneratedTopology:
    """A rows x cols square grid, nodes numbered row-major, neighbours ``spacing_km`` apart."""
    _check_count("rows", rows, 1)
    _check_count("cols", cols, 1)
    if rows * cols < 2:
        raise ValueError("a grid needs rows * cols >= 2")
    length = _check_length(spacing_km)
    names = _names(rows * cols, prefix)
    edges: list[Edge] = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            if c + 1 < cols:
                edges.append(Edge(names[i], names[i + 1], length))
            if r + 1 < rows:
                edges.append(Edge(names[i], names[i + cols], length))
    positions = {
        names[r * cols + c]: (c * length, r * length) for r in range(rows) for c in range(cols)
    }
    return GeneratedTopology(names, tuple(edges), positions=positions)


def waxman(
    nodes: int,
    area_km: float,
    alpha: float = WAXMAN_ALPHA,
    beta: float = WAXMAN_BETA,
    seed: int = 0,
    prefix: str = DEFAULT_PREFIX,
) -> GeneratedTopology:
    """A Waxman random graph: nodes placed uniformly in an area_km x area_km square.

    Two nodes at distance d are joined with probability beta * exp(-d / (alpha * L)),
    L the largest distance between two nodes (networkx.waxman_graph). Each link is
    as long as the straight line between its ends. The same seed gives the same
    graph; the graph may be disconnected.
    """
    _check_count("nodes", nodes, 2)
    if not (math.isfinite(area_km) and area_km > 0):
        raise ValueError(f"area_km must be a finite number > 0, not {area_km!r}")
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not 0 < value <= 1:
            raise ValueError(f"{name} must be in (0, 1], not {value!r}")
    g = nx.waxman_graph(
        nodes, beta=beta, alpha=alpha, domain=(0.0, 0.0, area_km, area_km), seed=seed
    )
    names = _names(nodes, prefix)
    pos: dict[str, tuple[float, float]] = {
        names[i]: (float(g.nodes[i]["pos"][0]), float(g.nodes[i]["pos"][1])) for i in range(nodes)
    }
    edges = tuple(
        Edge(names[lo], names[hi], math.dist(pos[names[lo]], pos[names[hi]]))
        for lo, hi in sorted((min(u, v), max(u, v)) for u, v in g.edges())
    )
    return GeneratedTopology(names, edges, positions=pos)


# --------------------------------------------------------------------------- graph files


def _node_name(file: str, raw: object, index: int) -> str:
    """A node id as a name: strings as they are, integers as decimal text."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    raise TopologyError(
        file,
        "node ids must be strings or integers",
        where=f"node #{index}",
        field="id",
        value=raw,
        has_value=True,
    )


def _length(file: str, where: str, attrs: dict[str, Any]) -> float:
    """Take the required ``length_km`` out of an edge's attributes, checked."""
    if "length_km" not in attrs:
        raise TopologyError(
            file, "missing (required on every edge of a graph file)", where, "length_km"
        )
    value = attrs.pop("length_km")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TopologyError(file, "must be a number (km)", where, "length_km", value, True)
    if not math.isfinite(value):
        raise TopologyError(file, "must be a finite number", where, "length_km", value, True)
    if value < 0:
        raise TopologyError(file, "must be >= 0", where, "length_km", value, True)
    return float(value)


def _from_records(
    file: str,
    nodes: list[tuple[object, dict[str, Any]]],
    edges: list[tuple[object, object, dict[str, Any]]],
) -> GeneratedTopology:
    """Turn (id, attrs) nodes and (source, target, attrs) edges into a topology."""
    by_id: dict[object, str] = {}
    node_attrs: dict[str, dict[str, Any]] = {}
    for index, (raw_id, attrs) in enumerate(nodes):
        name = _node_name(file, raw_id, index)
        if name in node_attrs:
            raise TopologyError(file, "duplicate node", where=f"node {name!r}")
        by_id[raw_id] = name
        node_attrs[name] = attrs
    seen: set[frozenset[str]] = set()
    out: list[Edge] = []
    for index, (src, dst, attrs) in enumerate(edges):
        ends: list[str] = []
        for end in (src, dst):
            if end not in by_id:
                raise TopologyError(
                    file, f"edge #{index} names an unknown node {end!r}", where=f"edge #{index}"
                )
            ends.append(by_id[end])
        a, b = ends
        where = f"edge {a}-{b}"
        pair = frozenset((a, b))
        if pair in seen:
            raise TopologyError(
                file, "duplicate edge (at most one link per pair of nodes)", where=where
            )
        seen.add(pair)
        length = _length(file, where, attrs)
        out.append(Edge(a, b, length, attrs))
    return GeneratedTopology(tuple(node_attrs), tuple(out), node_attrs, source=file)


def _read_gml(file: str, text: str) -> GeneratedTopology:
    """GML: a node's ``label`` is its name, or its ``id`` when it has no label."""
    try:
        g = nx.parse_gml(text, label="id")
    except RecursionError:
        raise TopologyError(file, f"GML error: {_TOO_DEEP}") from None
    except (nx.NetworkXError, ValueError) as exc:
        raise TopologyError(file, f"GML error: {exc}") from None
    ids: dict[object, object] = {}
    nodes: list[tuple[object, dict[str, Any]]] = []
    for node_id, data in g.nodes(data=True):
        attrs = dict(data)
        ids[node_id] = attrs.pop("label", node_id)
        nodes.append((ids[node_id], attrs))
    edges = [(ids[u], ids[v], dict(d)) for u, v, d in g.edges(data=True)]
    return _from_records(file, nodes, edges)


def _read_node_link(file: str, text: str) -> GeneratedTopology:
    """networkx node-link JSON: ``{"nodes": [{"id": ...}], "edges" or "links": [...]}``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TopologyError(
            file, f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise TopologyError(file, f"JSON error: {_TOO_DEEP}") from None
    except ValueError as exc:
        digits = "digits" in str(exc)  # int() refusing more than sys.get_int_max_str_digits()
        reason = "an integer has more than 4300 digits" if digits else str(exc)
        raise TopologyError(file, f"JSON error: {reason}") from None
    if not isinstance(data, dict):
        raise TopologyError(file, "node-link JSON must be an object with 'nodes' and 'edges'")
    key = "edges" if "edges" in data else "links"
    raw_nodes, raw_edges = data.get("nodes"), data.get(key, [])
    if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
        raise TopologyError(
            file, "node-link JSON needs a list 'nodes' and a list 'edges' (or 'links')"
        )
    nodes: list[tuple[object, dict[str, Any]]] = []
    for index, entry in enumerate(raw_nodes):
        if not isinstance(entry, dict) or "id" not in entry:
            raise TopologyError(file, "must be an object with an 'id'", where=f"node #{index}")
        attrs = dict(entry)
        nodes.append((attrs.pop("id"), attrs))
    edges: list[tuple[object, object, dict[str, Any]]] = []
    for index, entry in enumerate(raw_edges):
        if not isinstance(entry, dict) or "source" not in entry or "target" not in entry:
            raise TopologyError(
                file, "must be an object with 'source' and 'target'", where=f"edge #{index}"
            )
        attrs = dict(entry)
        src, dst = attrs.pop("source"), attrs.pop("target")
        attrs.pop("key", None)  # multigraph edge key: parallel edges are refused anyway
        edges.append((src, dst, attrs))
    return _from_records(file, nodes, edges)


def read_graph_file(path: str | os.PathLike[str], label: str | None = None) -> GeneratedTopology:
    """Read a GML (``.gml``) or networkx node-link JSON (``.json``) graph file.

    Node ids become node names; every edge needs ``length_km``. Other node and
    edge attributes are returned as they are (``node_attrs``, ``Edge.attrs``)
    for the caller to check. Raises TopologyError naming the file and the node
    or edge at fault (``label``, default the path as given, names the file).
    """
    file = Path(path)
    label = os.fspath(path) if label is None else label
    suffix = file.suffix.lower()
    if suffix not in (".gml", ".json"):
        raise TopologyError(label, "must be a .gml (GML) or .json (networkx node-link) file")
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_GRAPH_FILE_BYTES + 1)
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise TopologyError(label, f"no such file ({file})") from None
    except UnicodeDecodeError:
        raise TopologyError(label, "not UTF-8 text") from None
    except OSError as exc:
        raise TopologyError(label, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_GRAPH_FILE_BYTES:
        raise TopologyError(label, f"larger than {MAX_GRAPH_FILE_BYTES // 2**20} MiB")
    return _read_gml(label, text) if suffix == ".gml" else _read_node_link(label, text)


def generate(
    spec: TopologyShape, seed: int = 0, base_dir: str | os.PathLike[str] | None = None
) -> GeneratedTopology:
    """Build the topology a validated ``[topology]`` table describes.

    ``seed`` is used by Waxman when the spec has none (the scenario's seed);
    ``base_dir`` is where a relative graph-file path starts (default: the
    current directory).
    """
    prefix = DEFAULT_PREFIX if spec.prefix is None else spec.prefix
    if spec.kind in ("chain", "ring"):
        if spec.nodes is None or spec.spacing_km is None:
            raise ValueError(f"{spec.kind} needs nodes and spacing_km")
        make = chain if spec.kind == "chain" else ring
        return make(spec.nodes, spec.spacing_km, prefix)
    if spec.kind == "grid":
        if spec.rows is None or spec.cols is None or spec.spacing_km is None:
            raise ValueError("grid needs rows, cols and spacing_km")
        return grid(spec.rows, spec.cols, spec.spacing_km, prefix)
    if spec.kind == "waxman":
        if spec.nodes is None or spec.area_km is None:
            raise ValueError("waxman needs nodes and area_km")
        return waxman(
            spec.nodes,
            spec.area_km,
            WAXMAN_ALPHA if spec.alpha is None else spec.alpha,
            WAXMAN_BETA if spec.beta is None else spec.beta,
            seed if spec.seed is None else spec.seed,
            prefix,
        )
    if spec.path is None:
        raise ValueError("file needs path")
    path = Path(spec.path)
    if not path.is_absolute():
        path = Path(base_dir if base_dir is not None else Path.cwd()) / path
    return read_graph_file(path, spec.path)
