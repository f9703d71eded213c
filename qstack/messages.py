"""Base classes for everything that crosses a layer or node boundary.

Two families: service primitives pass between the layers of one node, peer
PDUs pass between the same layer on two nodes over a classical channel.
Both are frozen Pydantic models with a literal ``kind`` so a JSON trace line
says what it is, and both reject unknown fields.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A validated, immutable, JSON-serialisable message."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Primitive(Message):
    """A service primitive: request, confirmation or indication on one node."""


class PeerMessage(Message):
    """A protocol data unit sent to the peer entity on another node."""
