"""Read a JSON-lines trace one line at a time, every line checked.

Memory stays flat in the file's size: :func:`iter_trace` holds one line at a
time (at most :data:`MAX_LINE_BYTES`). A line whose layer and kind name a
message model is validated against it; a record kind the reader does not
know (a newer qstack's, or a third party's) is read with its fields as they
are (:class:`OtherMessage`) and named once in a warning, never refused. A
cut last line (the writer stopped mid-line) is a warning and is skipped;
deeply nested JSON is refused with its line number before Python's parser
would recurse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qstack.messages import Message, PeerMessage, Primitive
from qstack.schemas import MESSAGE_MODELS, models_by_kind
from qstack.sim.trace import TraceRecord

#: ``event``: something a layer did on its own (a swap, a transition), not a
#: message between layers or nodes.
TraceDirection = Literal["up", "down", "send", "recv", "event"]
#: Longest line read (a QKD_BASES line carries one letter per pair).
MAX_LINE_BYTES = 64 * 2**20
#: Deepest JSON nesting accepted (a record nests three levels at most).
MAX_DEPTH = 64
#: Record kinds the redesigned layers emit, read by name with their fields as
#: they are until they have message models (``specs/trace.md``).
NAMED_KINDS: dict[str, frozenset[str]] = {
    "physical": frozenset({"ATTEMPT", "CANCEL", "HERALD", "ATTEMPTS"}),
}
#: Kinds any layer may carry.
ANY_LAYER_KINDS = frozenset({"TRANSITION"})

Warn = Callable[[str], None]
_KINDS: dict[str, dict[str, type[Message]]] = {
    layer: models_by_kind(layer) for layer in MESSAGE_MODELS
}
#: The layer of each modelled kind, to refuse one put on another layer.
_LAYER_OF: dict[str, str] = {kind: layer for layer, kinds in _KINDS.items() for kind in kinds}
_NAME = r"^[a-z0-9_-]+$"


class TraceError(ValueError):
    """A trace line that cannot be read, or a bad trace request."""


class OtherMessage(Message):
    """A record kind without a message model here: its fields as written."""

    model_config = ConfigDict(frozen=True, extra="allow")

    kind: str = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class TraceLine:
    """One checked trace record; ``line`` is its 1-based line number in the
    file it came from (0 when it was recorded in memory)."""

    line: int
    time_ps: int
    node: str
    layer: str
    direction: TraceDirection
    peer: str | None
    message: Message

    @property
    def kind(self) -> str:
        """The message's ``kind``."""
        return str(getattr(self.message, "kind", type(self.message).__name__))

    @classmethod
    def from_record(cls, record: TraceRecord, line: int = 0) -> TraceLine:
        """A trace line from a record kept by a memory tracer."""
        return cls(
            line,
            record.time_ps,
            record.node,
            record.layer,
            record.direction,
            record.peer,
            record.message,
        )


class _Envelope(BaseModel):
    """Everything of a trace line but the message's own fields."""

    model_config = ConfigDict(extra="forbid", strict=True)

    time_ps: int = Field(ge=0)
    time_s: float | None = Field(default=None, ge=0)
    node: str = Field(pattern=_NAME)
    layer: str = Field(pattern=_NAME)
    direction: TraceDirection
    peer: str | None = Field(pattern=_NAME)
    message: dict[str, Any]


def _problems(error: ValidationError, prefix: str = "") -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"])
        parts.append(f"{prefix}{where}: {item['msg']}" if where else f"{prefix}{item['msg']}")
    return "; ".join(parts)


_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` nests deeper than ``limit`` (brackets inside
    strings do not count); stops reading as soon as it does, so a nesting
    bomb is refused without being read to its end."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def _known_unknown(layer: str, kind: str) -> bool:
    """A kind read by name (planned records), so no warning is due."""
    return kind in ANY_LAYER_KINDS or kind in NAMED_KINDS.get(layer, ())


def parse_line(
    text: str,
    line: int = 0,
    source: str = "trace",
    warn: Warn | None = None,
    warned: set[tuple[str, str]] | None = None,
) -> TraceLine:
    """Check one JSON trace line; :class:`TraceError` names what is wrong.

    A (layer, kind) without a message model is read as an
    :class:`OtherMessage`; unless it is one of :data:`NAMED_KINDS`, ``warn``
    hears of it once per pair (``warned`` remembers which were named). A
    modelled kind on another layer than its own is refused.
    """
    where = f"{source}: line {line}"
    if too_deep(text):
        raise TraceError(f"{where}: JSON nested deeper than {MAX_DEPTH} levels: refused")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TraceError(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
    except (ValueError, RecursionError) as error:  # e.g. an integer of 5,000 digits
        raise TraceError(f"{where}: not readable JSON ({str(error)[:120]})") from None
    if not isinstance(data, dict):
        raise TraceError(f"{where}: expected a JSON object, got {type(data).__name__}")
    try:
        envelope = _Envelope.model_validate(data)
    except ValidationError as error:
        raise TraceError(f"{where}: {_problems(error)}") from None
    kind = envelope.message.get("kind")
    if not isinstance(kind, str) or not kind:
        raise TraceError(f"{where}: message.kind = {kind!r}: must be a non-empty string")
    model = _KINDS.get(envelope.layer, {}).get(kind)
    peer_message = envelope.direction in ("send", "recv")
    if peer_message and envelope.peer is None:
        raise TraceError(f"{where}: direction = {envelope.direction!r} needs a peer node")
    home = _LAYER_OF.get(kind)
    if model is None and home is not None and not _known_unknown(envelope.layer, kind):
        raise TraceError(
            f"{where}: layer = {envelope.layer!r}: {kind} is a {home} message "
            f"(the {home} layer's kinds: {', '.join(sorted(_KINDS[home]))})"
        )
    if model is None:
        if warn is not None and not _known_unknown(envelope.layer, kind):
            seen = set() if warned is None else warned
            if (envelope.layer, kind) not in seen:
                seen.add((envelope.layer, kind))
                warn(
                    f"{where}: {envelope.layer} record {kind!r} is not one this qstack "
                    "knows: shown with its fields as they are"
                )
        try:
            message: Message = OtherMessage.model_validate(envelope.message)
        except ValidationError as error:
            raise TraceError(f"{where}: {kind}: {_problems(error, 'message.')}") from None
    else:
        try:
            message = model.model_validate(envelope.message)
        except ValidationError as error:
            raise TraceError(f"{where}: {kind}: {_problems(error, 'message.')}") from None
        _check_family(where, envelope, kind, message)
    return TraceLine(
        line,
        envelope.time_ps,
        envelope.node,
        envelope.layer,
        envelope.direction,
        envelope.peer,
        message,
    )


def _check_family(where: str, envelope: _Envelope, kind: str, message: Message) -> None:
    """A modelled message goes the way its family does: peer messages are
    sent and received, primitives go up or down with no peer."""
    if envelope.direction == "event":
        return
    peer_message = envelope.direction in ("send", "recv")
    family = PeerMessage if peer_message else Primitive
    if not isinstance(message, family):
        family_name = "a peer message" if peer_message else "a service primitive"
        raise TraceError(
            f"{where}: direction = {envelope.direction!r} needs {family_name}, "
            f"but {kind} is not one"
        )
    if not peer_message and envelope.peer is not None:
        raise TraceError(f"{where}: direction = {envelope.direction!r} must have peer = null")


def iter_trace(path: str | Path, warn: Warn | None = None) -> Iterator[TraceLine]:
    """Every record of a JSON-lines trace file, checked, one at a time.

    Blank lines are skipped. A last line without its end of line that is not
    JSON was cut short: ``warn`` hears of it and it is skipped. Anything else
    wrong raises :class:`TraceError` naming the line.
    """
    source = str(path)
    warned: set[tuple[str, str]] = set()
    previous = 0
    try:
        with open(path, "rb") as stream:
            number = 0
            while True:
                raw = stream.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                number += 1
                if len(raw) > MAX_LINE_BYTES:
                    raise TraceError(
                        f"{source}: line {number}: longer than {MAX_LINE_BYTES} bytes: refused"
                    )
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise TraceError(
                        f"{source}: line {number}: not UTF-8 text ({error.reason})"
                    ) from None
                if not text.strip():
                    continue
                try:
                    item = parse_line(text, number, source, warn, warned)
                except TraceError:
                    if raw.endswith(b"\n") or not _cut_short(text):
                        raise
                    if warn is not None:
                        warn(
                            f"{source}: line {number}: the last line is cut short "
                            "(the trace's writer stopped mid-line): skipped"
                        )
                    return
                if item.time_ps < previous:
                    raise TraceError(
                        f"{source}: line {number}: time_ps = {item.time_ps} is before the "
                        f"previous line's {previous}: records must be in time order"
                    )
                previous = item.time_ps
                yield item
    except OSError as error:
        raise TraceError(f"{source}: {error.strerror or error}") from None


def _cut_short(text: str) -> bool:
    """Whether a last line is an unfinished JSON object."""
    if too_deep(text):
        return False
    try:
        json.loads(text)
    except ValueError:
        return text.lstrip().startswith("{")
    return False


def read_trace(path: str | Path, warn: Warn | None = None) -> list[TraceLine]:
    """Every record of a trace file in a list (for small traces; the
    command line streams with :func:`iter_trace`)."""
    return list(iter_trace(path, warn))


def lines_from_records(records: Iterable[TraceRecord]) -> list[TraceLine]:
    """Trace lines from a memory tracer's records."""
    return [TraceLine.from_record(record) for record in records]
