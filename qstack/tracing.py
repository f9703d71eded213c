"""Read, check, filter and draw message traces (``qstack trace``).

A trace is what :class:`qstack.sim.trace.JsonLinesTracer` writes: one JSON
object a line (``specs/trace.md``). :func:`read_trace` validates every line
against the message models, :func:`filter_trace` keeps the lines of some
nodes, layers or one request, and :func:`render_text` /
:func:`render_mermaid` draw them as aligned columns or as a Mermaid
``sequenceDiagram``. :func:`trace_command` is the command line behind
``qstack trace FILE_OR_SCENARIO``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qstack.messages import Message, PeerMessage, Primitive
from qstack.schemas import MESSAGE_MODELS, models_by_kind
from qstack.sim.trace import Direction, TraceRecord

EXIT_BAD_INPUT = 2
TraceFormat = Literal["text", "mermaid"]
#: Layers from the top of the stack down (participant order in diagrams).
LAYER_ORDER = ("app", "network", "link", "physical")
_KINDS: dict[str, dict[str, type[Message]]] = {
    layer: models_by_kind(layer) for layer in MESSAGE_MODELS
}


class TraceError(ValueError):
    """A trace line that is not a valid record, or a bad trace request."""


@dataclass(frozen=True, slots=True)
class TraceLine:
    """One validated trace record; ``line`` is its 1-based line number in
    the file it came from (0 when it was recorded in memory)."""

    line: int
    time_ps: int
    node: str
    layer: str
    direction: Direction
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
    node: str = Field(pattern=r"^[a-z0-9_-]+$")
    layer: str
    direction: Direction
    peer: str | None = Field(pattern=r"^[a-z0-9_-]+$")
    message: dict[str, Any]


def _problems(error: ValidationError, prefix: str = "") -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"])
        parts.append(f"{prefix}{where}: {item['msg']}" if where else f"{prefix}{item['msg']}")
    return "; ".join(parts)


def parse_line(text: str, line: int = 0, source: str = "trace") -> TraceLine:
    """Validate one JSON trace line; :class:`TraceError` names what is wrong."""
    where = f"{source}: line {line}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TraceError(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(data, dict):
        raise TraceError(f"{where}: expected a JSON object, got {type(data).__name__}")
    try:
        envelope = _Envelope.model_validate(data)
    except ValidationError as error:
        raise TraceError(f"{where}: {_problems(error)}") from None
    kinds = _KINDS.get(envelope.layer)
    if kinds is None:
        raise TraceError(
            f"{where}: layer = {envelope.layer!r}: not a traced layer "
            f"(one of {', '.join(sorted(_KINDS))})"
        )
    kind = envelope.message.get("kind")
    model = kinds.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise TraceError(
            f"{where}: message.kind = {kind!r}: not a {envelope.layer} message "
            f"(one of {', '.join(sorted(kinds))})"
        )
    try:
        message = model.model_validate(envelope.message)
    except ValidationError as error:
        raise TraceError(f"{where}: {kind}: {_problems(error, 'message.')}") from None
    peer_message = envelope.direction in ("send", "recv")
    family = PeerMessage if peer_message else Primitive
    if not isinstance(message, family):
        family_name = "a peer message" if peer_message else "a service primitive"
        raise TraceError(
            f"{where}: direction = {envelope.direction!r} needs {family_name}, "
            f"but {kind} is not one"
        )
    if peer_message and envelope.peer is None:
        raise TraceError(f"{where}: direction = {envelope.direction!r} needs a peer node")
    if not peer_message and envelope.peer is not None:
        raise TraceError(f"{where}: direction = {envelope.direction!r} must have peer = null")
    return TraceLine(
        line,
        envelope.time_ps,
        envelope.node,
        envelope.layer,
        envelope.direction,
        envelope.peer,
        message,
    )


def read_trace(path: str | Path) -> list[TraceLine]:
    """Every record of a JSON-lines trace file, validated (blank lines are
    skipped); :class:`TraceError` names the first bad line and its problem."""
    source = str(path)
    try:
        with open(path, encoding="utf-8") as stream:
            lines = []
            for number, text in enumerate(stream, start=1):
                if text.strip():
                    lines.append(parse_line(text, number, source))
    except OSError as error:
        raise TraceError(f"{source}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise TraceError(f"{source}: not UTF-8 text ({error.reason})") from None
    previous = 0
    for item in lines:
        if item.time_ps < previous:
            raise TraceError(
                f"{source}: line {item.line}: time_ps = {item.time_ps} is before the "
                f"previous line's {previous}: records must be in time order"
            )
        previous = item.time_ps
    return lines


def lines_from_records(records: Iterable[TraceRecord]) -> list[TraceLine]:
    """Trace lines from a memory tracer's records."""
    return [TraceLine.from_record(record) for record in records]


# -- filtering ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestId:
    """A parsed ``--request``: a NET request ``src#n`` or a link request
    ``origin:create_id`` (optionally ``origin:remote:create_id``)."""

    network: str | None = None
    origin: str | None = None
    remote: str | None = None
    create_id: int | None = None

    @classmethod
    def parse(cls, text: str) -> RequestId:
        """Parse a request id; :class:`TraceError` if it is neither form."""
        if "#" in text and ":" not in text:
            node, _, number = text.partition("#")
            if node and number.isdigit():
                return cls(network=text)
        parts = text.split(":")
        if len(parts) in (2, 3) and parts[-1].isdigit() and all(parts[:-1]):
            remote = parts[1] if len(parts) == 3 else None
            return cls(origin=parts[0], remote=remote, create_id=int(parts[-1]))
        raise TraceError(
            f"--request = {text!r}: expected a network request id SRC#N (e.g. 'alice#0') "
            "or a link request id ORIGIN:CREATE_ID (e.g. 'alice:3', or 'alice:bob:3')"
        )


LinkKey = tuple[str, str, int]


def link_key(line: TraceLine) -> LinkKey | None:
    """``(origin, origin's remote, create_id)`` of a link message that names
    its request (not CREATE / CANCEL, which do not carry the id)."""
    message = line.message
    origin = getattr(message, "origin", None)
    create_id = getattr(message, "create_id", None)
    if line.layer != "link" or not isinstance(origin, str) or not isinstance(create_id, int):
        return None
    if line.peer is not None:
        other = line.peer
    else:
        remote = getattr(message, "remote", None)
        if not isinstance(remote, str):
            return None
        other = remote
    origin_remote = other if line.node == origin else line.node
    return (origin, origin_remote, create_id)


def _request_ids(lines: Sequence[TraceLine]) -> list[str | LinkKey | None]:
    """For each line, the request it belongs to: a NET request id, a link
    key, or None. CREATE / NET_CREATE get the id their entity gave them
    (ids count up per node, per link entity for the link layer); network
    and application messages name theirs (``request_id`` or ``circuit``)."""
    net_counter: dict[str, int] = defaultdict(int)
    link_counter: dict[tuple[str, str], int] = defaultdict(int)
    result: list[str | LinkKey | None] = []
    for line in lines:
        message = line.message
        kind = line.kind
        if kind == "NET_CREATE" and line.direction == "down":
            result.append(f"{line.node}#{net_counter[line.node]}")
            net_counter[line.node] += 1
        elif kind == "CREATE" and line.direction == "down":
            remote = str(getattr(message, "remote", ""))
            number = link_counter[(line.node, remote)]
            link_counter[(line.node, remote)] += 1
            result.append((line.node, remote, number))
        elif kind == "CANCEL" and line.direction == "down":
            remote = str(getattr(message, "remote", ""))
            result.append((line.node, remote, int(getattr(message, "create_id", -1))))
        elif line.layer in ("network", "app"):
            circuit = getattr(message, "request_id", None) or getattr(message, "circuit", None)
            result.append(circuit if isinstance(circuit, str) else None)
        else:
            result.append(link_key(line))
    return result


def filter_trace(
    lines: Sequence[TraceLine],
    nodes: Iterable[str] | None = None,
    layers: Iterable[str] | None = None,
    request: str | None = None,
    with_links: bool = True,
) -> list[TraceLine]:
    """The lines at one of ``nodes``, in one of ``layers``, about ``request``.

    ``request`` is a NET request id (``"alice#0"``: its NET_CREATE, the
    primitives and peer messages naming it, the application messages of its
    session (their ``request_id``), and with ``with_links`` the link
    requests its circuit made, named by its PATH_INSTALLs) or a link request
    id (``"alice:3"``: every link message of request 3 created at alice,
    on any of alice's links; ``"alice:bob:3"``: on the link to bob only).
    """
    node_set = None if nodes is None else set(nodes)
    layer_set = None if layers is None else set(layers)
    keep = [
        (node_set is None or line.node in node_set)
        and (layer_set is None or line.layer in layer_set)
        for line in lines
    ]
    if request is not None:
        wanted = RequestId.parse(request)
        ids = _request_ids(lines)
        if wanted.network is not None:
            links: set[LinkKey] = set()
            if with_links:
                for line, owner in zip(lines, ids, strict=True):
                    if owner == wanted.network and line.kind == "PATH_INSTALL" and line.peer:
                        create_id = int(getattr(line.message, "upstream_create_id", -1))
                        links.add((line.node, line.peer, create_id))
            keep = [
                k and (owner == wanted.network or owner in links)
                for k, owner in zip(keep, ids, strict=True)
            ]
        else:
            keep = [
                k and isinstance(owner, tuple) and _link_matches(wanted, owner)
                for k, owner in zip(keep, ids, strict=True)
            ]
    return [line for line, k in zip(lines, keep, strict=True) if k]


def _link_matches(wanted: RequestId, key: LinkKey) -> bool:
    origin, remote, create_id = key
    return (
        origin == wanted.origin
        and create_id == wanted.create_id
        and (wanted.remote is None or remote == wanted.remote)
    )


# -- rendering ----------------------------------------------------------------

#: The fields shown for each kind, after the kind (a request id first when
#: the message carries one). Kinds not listed show their scalar fields.
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "CREATE": ("remote", "number", "min_fidelity", "max_time_ps", "type"),
    "CANCEL": ("remote", "create_id"),
    "OK": ("pair_id", "seq", "bell_index", "qubit", "fidelity", "basis", "outcome"),
    "ERROR": ("reason", "delivered", "detail"),
    "EXPIRE": ("pair_id", "qubit"),
    "QUEUE_ADD": ("qseq", "start_ps", "deadline_ps"),
    "QUEUE_ACK": ("qseq", "start_ps"),
    "QUEUE_REJECT": ("reason", "detail"),
    "QUEUE_CANCEL": ("end_ps",),
    "NET_CREATE": ("remote", "number", "min_fidelity", "max_time_ps", "type"),
    "NET_OK": ("pair_id", "seq", "bell_index", "qubit", "fidelity", "basis", "outcome"),
    "NET_ERROR": ("reason", "delivered", "detail"),
    "NET_DONE": ("delivered",),
    "PATH_INSTALL": ("path", "upstream_create_id"),
    "PATH_READY": (),
    "TEARDOWN": ("completed", "reason"),
    "SWAP_RECORD": ("handle", "partner", "partner_handle", "links", "frame"),
    "SEGMENT_DISCARDED": ("handle",),
    "PURIFY_OUTCOME": ("kept", "sacrificed", "success"),
    "PAIR_COMMIT": ("pair_id", "dst_handle", "keep"),
    "QKD_BASES": ("bases", "tag_sequence", "tag_value"),
    "TELEPORT_CORRECTION": ("pair_id", "outcome"),
}
#: Basis strings longer than this are shown cut, with their length.
BASES_SHOWN = 16


def _bases(value: str) -> str:
    """A QKD basis string, cut to its first :data:`BASES_SHOWN` letters
    with the full count after it (``ZXXZ…(2000)``)."""
    if len(value) <= BASES_SHOWN:
        return value
    return f"{value[:BASES_SHOWN]}…({len(value)})"


#: Fields shown in a form of their own rather than as their value.
FIELD_FORMATS: dict[str, Callable[[Any], str]] = {
    "bases": _bases,
    "tag_value": lambda value: f"{value:#018x}",
}


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, tuple | list):
        return ">".join(str(item) for item in value)
    return str(value)


def describe(line: TraceLine) -> str:
    """The message's id and key fields, as ``name=value`` words."""
    message = line.message
    words = []
    key = link_key(line)
    if key is not None:
        words.append(f"{key[0]}:{key[2]}")
    for name in ("request_id", "circuit"):
        value = getattr(message, name, None)
        if isinstance(value, str):
            words.append(value)
    fields = KEY_FIELDS.get(line.kind)
    if fields is None:
        fields = tuple(
            name
            for name, value in message
            if name != "kind" and not isinstance(value, BaseModel | dict | list)
        )
    for name in fields:
        value = getattr(message, name, None)
        if value is not None:
            shown = FIELD_FORMATS[name](value) if name in FIELD_FORMATS else _value(value)
            words.append(f"{name}={shown}")
    return " ".join(words)


def time_unit(lines: Sequence[TraceLine]) -> tuple[str, int, int]:
    """``(unit, ps per unit, decimals)``: µs for traces under 1 ms, else ms."""
    last = max((line.time_ps for line in lines), default=0)
    if last < 1_000_000_000:
        return ("µs", 1_000_000, 3)
    return ("ms", 1_000_000_000, 6)


def format_time(time_ps: int, unit: tuple[str, int, int]) -> str:
    """``time_ps`` in ``unit``, with the unit's decimals."""
    _, scale, decimals = unit
    return f"{time_ps / scale:.{decimals}f}"


def _arrow(line: TraceLine) -> str:
    if line.direction == "send":
        return f"→ {line.peer}"
    if line.direction == "recv":
        return f"← {line.peer}"
    return "↑" if line.direction == "up" else "↓"


def render_text(lines: Sequence[TraceLine]) -> str:
    """Aligned columns: time, node, layer, direction arrow (with the peer),
    message kind and its key fields; one row per line."""
    unit = time_unit(lines)
    header = (f"time {unit[0]}", "node", "layer", "dir", "kind", "fields")
    rows = [
        (
            format_time(line.time_ps, unit),
            line.node,
            line.layer,
            _arrow(line),
            line.kind,
            describe(line),
        )
        for line in lines
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
    out = []
    for row in [header, *rows]:
        cells = [row[0].rjust(widths[0])] + [row[i].ljust(widths[i]) for i in range(1, 5)]
        out.append("  ".join([*cells, row[5]]).rstrip())
    return "\n".join(out) + "\n"


_MERMAID_ESCAPES = str.maketrans({"#": "#35;", ";": "#59;", "\n": " "})


def _escape(text: str) -> str:
    """Text safe inside a Mermaid message or note (entity codes for # and ;)."""
    return text.translate(_MERMAID_ESCAPES)


def _participant_order(lines: Sequence[TraceLine]) -> list[tuple[str, str]]:
    nodes: dict[str, None] = {}
    layers: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        nodes.setdefault(line.node, None)
        layers[line.node].add(line.layer)
        if line.peer is not None:
            nodes.setdefault(line.peer, None)
            layers[line.peer].add(line.layer)

    def rank(layer: str) -> tuple[int, str]:
        return (LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER), layer)

    return [(node, layer) for node in nodes for layer in sorted(layers[node], key=rank)]


def render_mermaid(lines: Sequence[TraceLine]) -> str:
    """A Mermaid ``sequenceDiagram``: one participant per (node, layer),
    an arrow per peer message (each recv matched with the earliest unmatched
    send on the same channel, drawn when it arrives), a note per primitive
    going up or down. A send never received ends in a cross at the end; a
    recv whose send is not in the lines is drawn from its sender alone."""
    unit = time_unit(lines)
    ids: dict[tuple[str, str], str] = {}
    out = ["sequenceDiagram"]
    for index, (node, layer) in enumerate(_participant_order(lines)):
        ids[(node, layer)] = f"p{index}"
        out.append(f"    participant p{index} as {node} {layer}")
    in_flight: dict[tuple[str, str, str], deque[TraceLine]] = defaultdict(deque)
    for line in lines:
        at = f"{format_time(line.time_ps, unit)} {unit[0]}"
        here = ids[(line.node, line.layer)]
        label = _escape(f"{line.kind} {describe(line)}".rstrip())
        if line.direction == "send":
            assert line.peer is not None
            in_flight[(line.node, line.peer, line.layer)].append(line)
        elif line.direction == "recv":
            assert line.peer is not None
            queue = in_flight[(line.peer, line.node, line.layer)]
            sent = queue.popleft() if queue else None
            span = at if sent is None else f"{format_time(sent.time_ps, unit)} → {at}"
            there = ids[(line.peer, line.layer)]
            out.append(f"    {there}->>{here}: {label} [{span}]")
        else:
            arrow = "↑" if line.direction == "up" else "↓"
            out.append(f"    Note over {here}: {arrow} {label} [{at}]")
    unmatched = sorted(
        (sent for queue in in_flight.values() for sent in queue), key=lambda s: s.time_ps
    )
    for sent in unmatched:
        assert sent.peer is not None
        label = _escape(f"{sent.kind} {describe(sent)}".rstrip())
        at = f"{format_time(sent.time_ps, unit)} {unit[0]}"
        out.append(
            f"    {ids[(sent.node, sent.layer)]}-x{ids[(sent.peer, sent.layer)]}: "
            f"{label} [sent {at}, not received]"
        )
    return "\n".join(out) + "\n"


# -- command line -------------------------------------------------------------

SCENARIO_SUFFIXES = (".toml", ".json")
TRACE_SUFFIXES = (".jsonl", ".ndjson")


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="qstack trace",
        description="Show a message trace (a .jsonl file, or a scenario run now) "
        "as aligned text or a Mermaid sequence diagram.",
    )
    parser.add_argument(
        "file", metavar="FILE_OR_SCENARIO", help=".jsonl trace or .toml/.json scenario"
    )
    parser.add_argument("--format", choices=["text", "mermaid"], default="text")
    parser.add_argument("--node", action="append", metavar="N", help="only this node (repeatable)")
    parser.add_argument(
        "--layer",
        action="append",
        metavar="L",
        choices=sorted(MESSAGE_MODELS),
        help="only this layer (repeatable)",
    )
    parser.add_argument("--request", metavar="ID", help="only request SRC#N or ORIGIN:CREATE_ID")
    parser.add_argument("--seed", type=int, help="seed for a scenario (default: the file's)")
    return parser


def trace_lines(path: str, seed: int | None = None) -> list[TraceLine]:
    """The trace of ``path``: read from a .jsonl file, or recorded by running
    a .toml/.json scenario with a memory tracer."""
    suffix = Path(path).suffix.lower()
    if suffix in TRACE_SUFFIXES:
        return read_trace(path)
    if suffix not in SCENARIO_SUFFIXES:
        raise TraceError(
            f"{path}: expected a .jsonl trace or a .toml/.json scenario "
            f"(suffix {suffix or 'none'!r})"
        )
    # Imported here: building networks pulls in every layer.
    from qstack.network import Network, TopologyError
    from qstack.runner import run_network
    from qstack.scenario import ScenarioError, load_scenario
    from qstack.sim.trace import MemoryTracer

    if seed is not None and seed < 0:
        raise TraceError(f"--seed = {seed}: must be >= 0")
    tracer = MemoryTracer()
    try:
        run_network(Network(load_scenario(path), seed, tracer))
    except (ScenarioError, TopologyError) as error:
        raise TraceError(str(error)) from None
    return lines_from_records(tracer.records)


def trace_command(argv: Sequence[str]) -> int:
    """``qstack trace FILE_OR_SCENARIO [--format text|mermaid] [--node N ...]
    [--layer L ...] [--request ID] [--seed S]``; exit 2 on bad input."""
    try:
        args = _parser().parse_args(list(argv))
        lines = trace_lines(args.file, args.seed)
        known = {line.node for line in lines} | {line.peer for line in lines if line.peer}
        for node in args.node or ():
            if lines and node not in known:
                raise TraceError(
                    f"--node = {node!r}: not in the trace (nodes: {', '.join(sorted(known))})"
                )
        chosen = filter_trace(lines, args.node, args.layer, args.request)
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0
    except _UsageError as error:
        print(f"qstack trace: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TraceError as error:
        print(f"qstack trace: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    render = render_mermaid if args.format == "mermaid" else render_text
    sys.stdout.write(render(chosen))
    return 0


if __name__ == "__main__":
    sys.exit(trace_command(sys.argv[1:]))
