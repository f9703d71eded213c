"""Wegman-Carter tags on application messages (``qkd``, ``bb84``).

Each end of a session holds a :class:`MessageAuth` over its copy of the
pre-shared key pool (``qstack.qkd.auth``). A tagged message carries its
``tag_sequence`` and 64-bit ``tag_value``; the tag covers the message's JSON
without those two fields.
"""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

from qstack.qkd._bits import Bits
from qstack.qkd.auth import Authenticator, KeyPool, Tag

_TAG_FIELDS = {"tag_sequence", "tag_value"}


class TaggedMessage(Protocol):
    """A message with a Wegman-Carter tag (a Pydantic model with the two fields)."""

    @property
    def tag_sequence(self) -> int: ...

    @property
    def tag_value(self) -> int: ...

    def model_dump_json(self, *, exclude: set[str]) -> str: ...

    def model_copy(self, *, update: dict[str, Any]) -> Self: ...


M = TypeVar("M", bound=TaggedMessage)


def _authenticated_bytes(message: TaggedMessage) -> bytes:
    return message.model_dump_json(exclude=_TAG_FIELDS).encode()


class MessageAuth:
    """One end's tagging and checking, over its own copy of the pre-shared key."""

    def __init__(self, preshared: Bits) -> None:
        self.auth = Authenticator(KeyPool(preshared.copy()))

    @property
    def pool(self) -> KeyPool:
        return self.auth.pool

    def sign(self, message: M) -> M:
        """The message with this end's next tag."""
        tag = self.auth.tag(_authenticated_bytes(message))
        return message.model_copy(update={"tag_sequence": tag.sequence, "tag_value": tag.value})

    def check(self, message: TaggedMessage) -> bool:
        """Whether the message's tag is the next one and matches its content."""
        tag = Tag(message.tag_sequence, message.tag_value)
        return self.auth.verify(_authenticated_bytes(message), tag)
