"""Draw trace lines for a person: aligned text or a Mermaid sequence diagram.

Both write as they read. Times are in seconds (to the nanosecond), fields
that hold picoseconds (``start_ps``) are shown in seconds too
(``start_s=0.0003``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, islice
from typing import Any, TextIO

from pydantic import BaseModel

from qstack.tracing.match import Delivery, Item, Note, match_messages
from qstack.tracing.reader import TraceLine
from qstack.tracing.select import PS_PER_S, link_key

#: Layers from the top of the stack down (participant order in diagrams).
LAYER_ORDER = ("app", "network", "link", "physical", "run")
#: Rows read before the text columns' widths are fixed.
TEXT_WIDTH_ROWS = 1_000
#: Diagram items read before the participants are declared (in node order,
#: layers top down); a participant first seen later is declared on first use.
MERMAID_HEAD_ITEMS = 20_000
#: Mermaid's default ``maxTextSize``: a longer diagram is not drawn.
MERMAID_MAX_TEXT = 50_000

#: The fields shown for each kind, after the kind (a request id first when
#: the message carries one); a field a record does not have is left out.
#: Kinds not listed show their scalar fields.
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "CREATE": ("remote", "number", "min_fidelity", "max_time_ps", "type"),
    "CANCEL": ("link", "remote", "create_id"),
    "OK": ("pair_id", "seq", "bell_index", "qubit", "fidelity", "basis", "outcome"),
    "OK_BATCH": ("first_pair_id", "first_seq", "bases", "outcomes"),
    "ERROR": ("reason", "delivered", "detail"),
    "EXPIRE": ("pair_id", "qubit"),
    "QUEUE_ADD": ("qseq", "start_ps", "deadline_ps"),
    "QUEUE_ACK": ("qseq", "start_ps"),
    "QUEUE_REJECT": ("reason", "detail"),
    "QUEUE_CANCEL": ("end_ps",),
    "NET_CREATE": ("remote", "number", "min_fidelity", "max_time_ps", "type"),
    "NET_OK": ("pair_id", "seq", "bell_index", "qubit", "fidelity", "basis", "outcome"),
    "NET_OK_BATCH": ("first_seq", "bases", "outcomes"),
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
    "ATTEMPT": ("link", "qubit", "tag"),
    "HERALD": ("link", "pair_id", "bell_index", "qubit", "fidelity"),
    "ATTEMPTS": ("link", "attempts", "start_ps", "end_ps", "outcome"),
    "SWAP": ("left", "right", "outcome"),
    "PURIFY": ("kept", "sacrificed", "success"),
    "CORRECTION": ("pair_id", "pauli"),
    "DISCARD": ("handle", "reason"),
    "TRANSITION": ("lifecycle", "instance", "source", "trigger", "dest"),
    "FAULT": ("fault", "node", "a", "b", "probability"),
}
#: Basis strings longer than this are shown cut, with their length.
BASES_SHOWN = 16


def seconds(time_ps: int) -> str:
    """Picoseconds as seconds with nine decimals (exact, to the nanosecond)."""
    whole, rest = divmod(time_ps, PS_PER_S)
    return f"{whole}.{rest // 1000:09d}"


def short_seconds(time_ps: int) -> str:
    """:func:`seconds` without trailing zeros (``0.0003``)."""
    text = seconds(time_ps).rstrip("0")
    return text + "0" if text.endswith(".") else text


def _bases(value: str) -> str:
    """A string of one letter a pair (QKD bases, a batch's outcomes), cut
    to its first :data:`BASES_SHOWN` letters with the full count after it
    (``ZXXZ…(2000)``)."""
    if len(value) <= BASES_SHOWN:
        return value
    return f"{value[:BASES_SHOWN]}…({len(value)})"


#: Fields shown in a form of their own rather than as their value.
FIELD_FORMATS: dict[str, Callable[[Any], str]] = {
    "bases": _bases,
    "outcomes": _bases,
    "tag_value": lambda value: f"{value:#018x}",
}


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, tuple | list):
        return ">".join(str(item) for item in value)
    return str(value)


def _field(name: str, value: object) -> str:
    if name in FIELD_FORMATS:
        return f"{name}={FIELD_FORMATS[name](value)}"
    if name.endswith("_ps") and isinstance(value, int) and not isinstance(value, bool):
        return f"{name[:-3]}_s={short_seconds(value)}"
    return f"{name}={_value(value)}"


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
            if name not in ("kind", "request_id", "circuit")
            and not isinstance(value, BaseModel | dict | list)
        )
    for name in fields:
        value = getattr(message, name, None)
        if value is not None:
            words.append(_field(name, value))
    return " ".join(words)


def _arrow(line: TraceLine) -> str:
    if line.direction == "send":
        return f"→ {line.peer}"
    if line.direction == "recv":
        return f"← {line.peer}"
    if line.direction == "event":
        return "•" if line.peer is None else f"• {line.peer}"
    return "↑" if line.direction == "up" else "↓"


def write_text(lines: Iterable[TraceLine], out: TextIO) -> int:
    """Aligned columns, one row per line: time (s), node, layer, direction
    arrow (with the peer), kind and key fields. Column widths are fixed by
    the first :data:`TEXT_WIDTH_ROWS` rows. Returns the rows written."""
    header = ("time s", "node", "layer", "dir", "kind", "fields")
    rows = (
        (seconds(line.time_ps), line.node, line.layer, _arrow(line), line.kind, describe(line))
        for line in lines
    )
    head = list(islice(rows, TEXT_WIDTH_ROWS))
    widths = [max(len(row[i]) for row in [header, *head]) for i in range(5)]
    count = 0
    for row in chain([header], head, rows):
        cells = [row[0].rjust(widths[0])] + [row[i].ljust(widths[i]) for i in range(1, 5)]
        out.write("  ".join([*cells, row[5]]).rstrip() + "\n")
        count += 1
    return count - 1


def render_text(lines: Iterable[TraceLine]) -> str:
    """:func:`write_text` into a string."""
    out = io.StringIO()
    write_text(lines, out)
    return out.getvalue()


_MERMAID_ESCAPES = str.maketrans({"#": "#35;", ";": "#59;", "\n": " "})


def _escape(text: str) -> str:
    """Text safe inside a Mermaid message or note (entity codes for # and ;)."""
    return text.translate(_MERMAID_ESCAPES)


def _label(line: TraceLine) -> str:
    return _escape(f"{line.kind} {describe(line)}".rstrip())


def _ends(item: Item) -> list[tuple[str, str]]:
    """The (node, layer) participants an item is drawn on."""
    if isinstance(item, Note):
        line = item.line
        ends = [(line.node, line.layer)]
        return ends if line.peer is None else [*ends, (line.peer, line.layer)]
    line = item.recv if isinstance(item, Delivery) else item.send
    assert line.peer is not None
    sender, receiver = (
        (line.peer, line.node) if line.direction == "recv" else (line.node, line.peer)
    )
    return [(sender, line.layer), (receiver, line.layer)]


def _rank(layer: str) -> tuple[int, str]:
    return (LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER), layer)


def participant_order(rows: Iterable[Sequence[tuple[str, str]]]) -> list[tuple[str, str]]:
    """(node, layer) participants of rows' ends: nodes in order of
    appearance, each node's layers from the top of the stack down."""
    nodes: dict[str, None] = {}
    layers: dict[str, set[str]] = {}
    for ends in rows:
        for node, layer in ends:
            nodes.setdefault(node, None)
            layers.setdefault(node, set()).add(layer)
    return [(node, layer) for node in nodes for layer in sorted(layers[node], key=_rank)]


#: A diagram row before participants have ids: its ends, "->>", "-x" or
#: "Note" (with the participants it spans), and its text.
_Row = tuple[list[tuple[str, str]], str, str]


def _mermaid_row(item: Item) -> _Row:
    ends = _ends(item)
    if isinstance(item, Note):
        line = item.line
        arrow = {"up": "↑", "down": "↓"}.get(line.direction, "•")
        return ends, "Note", f"{arrow} {_label(line)} [{short_seconds(line.time_ps)} s]"
    if isinstance(item, Delivery):
        at = short_seconds(item.recv.time_ps)
        span = f"? → {at}" if item.send is None else f"{short_seconds(item.send.time_ps)} → {at}"
        return ends, "->>", f"{_label(item.recv)} [{span} s]"
    sent = short_seconds(item.send.time_ps)
    return ends, "-x", f"{_label(item.send)} [sent {sent} s, {item.why}]"


def write_mermaid(items: Iterable[Item], out: TextIO) -> int:
    """A Mermaid ``sequenceDiagram``: one participant per (node, layer), an
    arrow per peer message drawn when it arrives (labelled with its send and
    arrival times), ``-x`` for one with no receipt (and why), a note per
    primitive (↑ ↓) or event (•). The first :data:`MERMAID_HEAD_ITEMS` rows
    are held to declare participants in order. Returns the characters written."""
    rows = (_mermaid_row(item) for item in items)
    head = list(islice(rows, MERMAID_HEAD_ITEMS))
    ids: dict[tuple[str, str], str] = {}
    written = 0

    def emit(text: str) -> None:
        nonlocal written
        out.write(text + "\n")
        written += len(text) + 1

    def declare(node: str, layer: str) -> None:
        ids[(node, layer)] = f"p{len(ids)}"
        emit(f"    participant {ids[(node, layer)]} as {node} {layer}")

    emit("sequenceDiagram")
    for node, layer in participant_order([ends for ends, _, _ in head]):
        declare(node, layer)
    for ends, arrow, text in chain(head, rows):
        for end in ends:
            if end not in ids:
                declare(*end)
        named = [ids[end] for end in ends]
        if arrow == "Note":
            emit(f"    Note over {','.join(named)}: {text}")
        else:
            emit(f"    {named[0]}{arrow}{named[1]}: {text}")
    return written


def render_mermaid(lines: Iterable[TraceLine]) -> str:
    """:func:`write_mermaid` of every line into a string."""
    out = io.StringIO()
    write_mermaid(match_messages((line, True) for line in lines), out)
    return out.getvalue()
