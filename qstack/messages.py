"""Base classes for everything that crosses a layer or node boundary.

Two families: service primitives pass between the layers of one node, peer
PDUs pass between the same layer on two nodes over a classical channel.
Both are frozen Pydantic models with a literal ``kind`` so a JSON trace line
says what it is, and both reject unknown fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A validated, immutable, JSON-serialisable message."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Primitive(Message):
    """A service primitive: request, confirmation or indication on one node."""


class PeerMessage(Message):
    """A protocol data unit sent to the peer entity on another node."""


FaultKind = Literal["node_down", "node_up", "link_down", "link_up", "classical_loss"]
"""What can happen to the network during a run (``[[faults]]`` kinds)."""


class FaultTrace(Message):
    """A trace record of a fault the run applied (layer ``run``): ``fault``
    is its kind; ``node``, or the link ``a``-``b`` (and the loss
    ``probability``), what it hit."""

    kind: Literal["FAULT"] = "FAULT"
    fault: FaultKind
    node: str | None = None
    a: str | None = None
    b: str | None = None
    probability: float | None = None


class TransitionTrace(Message):
    """A trace record of one step of a lifecycle table (any layer): the
    ``instance`` of ``lifecycle`` went from ``source`` to ``dest`` on
    ``trigger`` (the class of the message or event that caused it)."""

    kind: Literal["TRANSITION"] = "TRANSITION"
    lifecycle: str
    instance: str
    source: str
    trigger: str
    dest: str


class Unbound:
    """Stands in for a layer's user until the wiring binds one: any call
    says plainly which entity was used before it was wired."""

    __slots__ = ("_entity",)

    def __init__(self, entity: str) -> None:
        self._entity = entity

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"{self._entity}: no user bound (wanted {name!r})")
