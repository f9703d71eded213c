"""Every lifecycle table, by layer, for ``qstack diagram``, the specs and
``qstack report``.

``qstack diagram LAYER`` prints a Markdown page (a heading and a fenced
block per lifecycle); ``--raw`` prints one graph and nothing else, for a
renderer's input: the one lifecycle ``--lifecycle`` picks, or all of the
layer's lifecycles as composite states (Mermaid) or clusters (DOT).
"""

from __future__ import annotations

import re
from typing import Literal

from qstack.fsm.table import StateTable
from qstack.layers.app.base import HOST_LIFECYCLE
from qstack.layers.app.bb84 import BB84_LIFECYCLE
from qstack.layers.app.chsh import CHSH_LIFECYCLE
from qstack.layers.app.ghz import GHZ_LIFECYCLE
from qstack.layers.app.pairs import PAIRS_LIFECYCLE
from qstack.layers.app.qkd import QKD_LIFECYCLE
from qstack.layers.app.remote_cnot import REMOTE_CNOT_LIFECYCLE
from qstack.layers.app.sensing import SENSING_LIFECYCLE
from qstack.layers.app.teleport import TELEPORT_LIFECYCLE
from qstack.layers.link.egp import LINK_ENTITY, PAIR_LIFECYCLE, REQUEST_LIFECYCLE
from qstack.layers.network.qnp import CIRCUIT_LIFECYCLE, NETWORK_ENTITY
from qstack.layers.physical.station import STATION_LIFECYCLE

LAYER_TABLES: dict[str, tuple[StateTable, ...]] = {
    "physical": (STATION_LIFECYCLE,),
    "link": (LINK_ENTITY, REQUEST_LIFECYCLE, PAIR_LIFECYCLE),
    "network": (NETWORK_ENTITY, CIRCUIT_LIFECYCLE),
    "app": (
        HOST_LIFECYCLE,
        PAIRS_LIFECYCLE,
        QKD_LIFECYCLE,
        TELEPORT_LIFECYCLE,
        CHSH_LIFECYCLE,
        REMOTE_CNOT_LIFECYCLE,
        GHZ_LIFECYCLE,
        SENSING_LIFECYCLE,
        BB84_LIFECYCLE,
    ),
}

DiagramFormat = Literal["mermaid", "dot"]


class DiagramError(KeyError):
    """A layer or lifecycle that has no table (a KeyError, as a missing
    ``LAYER_TABLES`` entry was)."""

    def __str__(self) -> str:
        return str(self.args[0])


def _words(name: str) -> str:
    return " ".join(re.split(r"[\s_-]+", name.strip().lower()))


def find_lifecycle(layer: str, name: str) -> StateTable:
    """The table of ``layer`` named ``name`` (case, ``_`` and ``-`` do not
    matter; the layer's name in front may be left out: ``request``)."""
    tables = layer_tables(layer)
    wanted = _words(name)
    for table in tables:
        if wanted in (_words(table.name), _words(table.name).removeprefix(f"{layer} ")):
            return table
    names = ", ".join(repr(table.name) for table in tables)
    raise DiagramError(f"--lifecycle = {name!r}: not a {layer} lifecycle (one of {names})")


def layer_tables(layer: str) -> tuple[StateTable, ...]:
    """A layer's lifecycle tables; :class:`DiagramError` names the layers that have some."""
    if layer not in LAYER_TABLES:
        raise DiagramError(
            f"layer = {layer!r}: has no lifecycle tables (one of {', '.join(LAYER_TABLES)})"
        )
    return LAYER_TABLES[layer]


def layer_diagram(layer: str, fmt: DiagramFormat = "mermaid", lifecycle: str | None = None) -> str:
    """A layer's lifecycles (or one), each headed by its name.

    Mermaid output is a Markdown document with one fenced block per table
    (what GitHub and most editors render); dot output is one digraph each.
    """
    tables = layer_tables(layer) if lifecycle is None else (find_lifecycle(layer, lifecycle),)
    if fmt == "dot":
        return "".join(table.dot() for table in tables)
    return "\n".join(f"## {table.name}\n\n```mermaid\n{table.mermaid()}```\n" for table in tables)


def raw_diagram(layer: str, fmt: DiagramFormat = "mermaid", lifecycle: str | None = None) -> str:
    """One graph and nothing around it: the lifecycle picked, or every
    lifecycle of the layer as a composite state (Mermaid) or a cluster (DOT)."""
    if lifecycle is not None:
        table = find_lifecycle(layer, lifecycle)
        return table.dot() if fmt == "dot" else table.mermaid()
    tables = layer_tables(layer)
    return _dot_clusters(layer, tables) if fmt == "dot" else _mermaid_composite(tables)


def _ident(*parts: str) -> str:
    return "_".join(re.sub(r"\W+", "_", part) for part in parts)


def _mermaid_composite(tables: tuple[StateTable, ...]) -> str:
    lines = ["stateDiagram-v2"]
    for table in tables:
        box = _ident(table.name)
        lines.append(f'    state "{table.name}" as {box} {{')
        lines.extend(f'        state "{s}" as {_ident(table.name, s)}' for s in table.states)
        lines.append(f"        [*] --> {_ident(table.name, table.initial)}")
        for row in table.transitions:
            source, dest = _ident(table.name, row.source), _ident(table.name, row.dest)
            lines.append(f"        {source} --> {dest}: {row.label}")
        lines.extend(f"        {_ident(table.name, s)} --> [*]" for s in table.final)
        lines.append("    }")
    return "\n".join(lines) + "\n"


def _dot_node(table: StateTable, state: str) -> str:
    return f'"{table.name}/{state}"'


def _dot_clusters(layer: str, tables: tuple[StateTable, ...]) -> str:
    lines = [f'digraph "{layer}" {{', "    rankdir=LR;"]
    for index, table in enumerate(tables):
        start = _dot_node(table, "__start")
        lines += [
            f'    subgraph "cluster_{index}" {{',
            f'        label="{table.name}";',
            f"        {start} [shape=point];",
        ]
        for state in table.states:
            shape = "doublecircle" if state in table.final else "ellipse"
            lines.append(f'        {_dot_node(table, state)} [label="{state}", shape={shape}];')
        lines.append(f"        {start} -> {_dot_node(table, table.initial)};")
        for row in table.transitions:
            source, dest = _dot_node(table, row.source), _dot_node(table, row.dest)
            lines.append(f'        {source} -> {dest} [label="{row.label}"];')
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"
