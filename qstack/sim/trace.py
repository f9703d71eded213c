"""Message traces: every primitive and peer message, one JSON object a line.

A trace record says when (integer ps), where (node and layer), which way the
message went and the message itself, so a run can be re-read, checked
against the layer contracts and drawn as a sequence chart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any, Literal, Protocol, runtime_checkable

from qstack.messages import Message

Direction = Literal["up", "down", "send", "recv", "event"]


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One traced message; ``peer`` is the other node for send/recv."""

    time_ps: int
    node: str
    layer: str
    direction: Direction
    message: Message
    peer: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "time_ps": self.time_ps,
            "node": self.node,
            "layer": self.layer,
            "direction": self.direction,
            "peer": self.peer,
            "message": self.message.model_dump(mode="json"),
        }


@runtime_checkable
class Tracer(Protocol):
    """Receives every traced message of a run, in time order."""

    def record(self, record: TraceRecord) -> None: ...


class MemoryTracer:
    """Keeps the records in a list, for tests and the conformance checks."""

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []

    def record(self, record: TraceRecord) -> None:
        self.records.append(record)


class JsonLinesTracer:
    """Writes each record as one JSON line to an open text file."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def record(self, record: TraceRecord) -> None:
        self._stream.write(json.dumps(record.to_json(), separators=(",", ":")))
        self._stream.write("\n")
