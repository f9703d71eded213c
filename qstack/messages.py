"""Base classes for everything that crosses a layer or node boundary.

Two families: service primitives pass between the layers of one node, peer
PDUs pass between the same layer on two nodes over a classical channel.
Both are frozen Pydantic models with a literal ``kind`` so a JSON trace line
says what it is, and both reject unknown fields.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

_new = object.__new__
_setattr = object.__setattr__


class Message(BaseModel):
    """A validated, immutable, JSON-serialisable message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Each field's default, in declaration order (``PydanticUndefined`` for
    #: a required field or one with a default factory), for :meth:`trusted`.
    _trusted_template: ClassVar[dict[str, Any]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._trusted_template = {name: info.default for name, info in cls.model_fields.items()}

    @classmethod
    def trusted(cls, **fields: Any) -> Self:
        """Build without validation, for the per-pair hot paths whose values
        already have exactly the fields' types: the result equals
        ``cls(**fields)`` and dumps the same (a test compares the two along
        real runs), at about half the cost. Every required field, and every
        field with a default factory, must be given."""
        message = _new(cls)
        _setattr(message, "__dict__", {**cls._trusted_template, **fields})
        _set_fields_set(message, set(fields))
        _set_extra(message, None)
        _set_private(message, None)
        return message


# BaseModel's slots, set directly (cheaper than object.__setattr__ by name).
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


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


# -- per-pair columns of a batch primitive (the measure-directly path) -------

#: A batch primitive carries small per-pair values as one character a pair:
#: compact, readable in a trace, and turned into arrays without a loop.
Column = npt.NDArray[np.uint8]


def to_text(codes: npt.NDArray[np.integer[Any]], alphabet: bytes) -> str:
    """Codes 0, 1, ... as the letters of ``alphabet`` ("ZX" for bases, "01..." for digits)."""
    letters: bytes = np.frombuffer(alphabet, np.uint8)[codes].tobytes()
    return letters.decode("ascii")


def from_text(text: str, alphabet: bytes) -> Column:
    """The codes of ``text``'s letters in ``alphabet`` (the inverse of :func:`to_text`)."""
    return _decoding(alphabet)[np.frombuffer(text.encode("ascii"), np.uint8)]


@functools.cache
def _decoding(alphabet: bytes) -> Column:
    """Byte value -> code, for the letters of ``alphabet`` (built once)."""
    table = np.zeros(256, np.uint8)
    table[np.frombuffer(alphabet, np.uint8)] = np.arange(len(alphabet), dtype=np.uint8)
    return table


BASES = b"ZX"
DIGITS = b"0123"
#: The column types of a batch primitive: bases (Z/X), bits, Bell indices.
BasesColumn = Annotated[str, Field(pattern=r"^[ZX]+$")]
BitsColumn = Annotated[str, Field(pattern=r"^[01]+$")]
BellIndicesColumn = Annotated[str, Field(pattern=r"^[0-3]+$")]
