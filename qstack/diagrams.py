"""Every lifecycle table, by layer, for ``qstack diagram`` and the specs."""

from __future__ import annotations

from typing import Literal

from qstack.fsm.table import StateTable
from qstack.layers.app.base import HOST_LIFECYCLE
from qstack.layers.app.pairs import PAIRS_LIFECYCLE
from qstack.layers.app.qkd import QKD_LIFECYCLE
from qstack.layers.app.teleport import TELEPORT_LIFECYCLE
from qstack.layers.link.egp import LINK_ENTITY, PAIR_LIFECYCLE, REQUEST_LIFECYCLE
from qstack.layers.network.qnp import CIRCUIT_LIFECYCLE, NETWORK_ENTITY
from qstack.layers.physical.station import STATION_LIFECYCLE

LAYER_TABLES: dict[str, tuple[StateTable, ...]] = {
    "physical": (STATION_LIFECYCLE,),
    "link": (LINK_ENTITY, REQUEST_LIFECYCLE, PAIR_LIFECYCLE),
    "network": (NETWORK_ENTITY, CIRCUIT_LIFECYCLE),
    "app": (HOST_LIFECYCLE, PAIRS_LIFECYCLE, QKD_LIFECYCLE, TELEPORT_LIFECYCLE),
}

DiagramFormat = Literal["mermaid", "dot"]


def layer_diagram(layer: str, fmt: DiagramFormat = "mermaid") -> str:
    """All of a layer's lifecycles, each headed by its name.

    Mermaid output is a Markdown document with one fenced block per table
    (what GitHub and most editors render); dot output is one digraph each.
    """
    tables = LAYER_TABLES[layer]
    if fmt == "dot":
        return "".join(table.dot() for table in tables)
    return "\n".join(f"## {table.name}\n\n```mermaid\n{table.mermaid()}```\n" for table in tables)
