"""The message sequence chart's rows: the first pairs of a run in full.

A person reads a few hundred rows, not 100,000: the page gets every row up
to the delivery of the ``first_pairs``-th end-to-end pair (at most
``max_rows``), and the whole run only as counts over time
(:class:`qstack.report.collect.TimeHistogram`). The page says which.
Rows are drawn in the page by a little JavaScript, so that the filters
(node, layer, request, time window) redraw them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from qstack.tracing import (
    LAYER_ORDER,
    Cut,
    Delivery,
    Item,
    Note,
    RequestTracker,
    Selection,
    TraceLine,
    describe,
    match_messages,
    short_seconds,
)
from qstack.tracing.select import Owner, installed_link, without_transitions

#: Default: the rows up to the delivery of this many pairs.
FIRST_PAIRS = 10
#: Default: never more rows than this in the page.
MAX_ROWS = 2_000


@dataclass
class SequenceData:
    """Participants and rows, in the columnar form the page's script reads."""

    participants: list[tuple[str, str]]
    columns: dict[str, list[Any]] = field(default_factory=dict)
    rows: int = 0
    first_pairs: int = FIRST_PAIRS
    pairs_shown: int = 0
    cut_ps: int | None = None
    stopped_by_rows: bool = False
    requests: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "participants": [f"{node} {layer}" for node, layer in self.participants],
            "nodes": [node for node, _ in self.participants],
            "layers": [layer for _, layer in self.participants],
            "requests": self.requests,
            **self.columns,
        }


class _Owners:
    """Which network request each line is about: its own id, or for a link
    line, the request whose circuit made that link request."""

    def __init__(self) -> None:
        self._tracker = RequestTracker()
        self._links: dict[tuple[str, str, int], str] = {}
        self.of: dict[int, tuple[TraceLine, Owner]] = {}

    def watch(self, lines: Iterable[TraceLine]) -> Iterator[TraceLine]:
        for line in lines:
            owner = self._tracker.owner(line)
            key = installed_link(line)
            if key is not None and isinstance(owner, str):
                self._links[key] = owner
            self.of[id(line)] = (line, owner)
            yield line

    def request(self, line: TraceLine) -> str:
        _, owner = self.of.get(id(line), (line, None))
        if isinstance(owner, tuple):
            return self._links.get(owner, "")
        return owner or ""


def sequence_rows(
    lines: Iterable[TraceLine],
    node_order: Sequence[str] = (),
    first_pairs: int = FIRST_PAIRS,
    max_rows: int = MAX_ROWS,
) -> SequenceData:
    """The chart's rows: up to the ``first_pairs``-th pair, at most ``max_rows``."""
    cut = Cut(first_pairs=first_pairs)
    owners = _Owners()
    kept = cut.apply(owners.watch(without_transitions(lines)))
    items = list(
        islice(
            match_messages(Selection().verdicts(kept), lambda: cut.cut_ps is not None), max_rows + 1
        )
    )
    stopped_by_rows = len(items) > max_rows
    items = items[:max_rows]
    participants = _participants(items, node_order)
    index = {end: i for i, end in enumerate(participants)}
    columns: dict[str, list[Any]] = {
        name: [] for name in ("t", "at", "sent", "kind", "type", "a", "b", "text", "request")
    }
    for item in items:
        line, a, b, kind, sent = _shape(item, index)
        columns["t"].append(line.time_ps)
        columns["at"].append(short_seconds(line.time_ps))
        columns["sent"].append(sent)
        columns["kind"].append(line.kind)
        columns["type"].append(kind)
        columns["a"].append(a)
        columns["b"].append(b)
        columns["text"].append(describe(line))
        columns["request"].append(owners.request(line))
    requests = sorted({r for r in columns["request"] if r})
    return SequenceData(
        participants,
        columns,
        len(items),
        first_pairs,
        cut.delivered,
        cut.cut_ps,
        stopped_by_rows,
        requests,
    )


def _participants(items: Sequence[Item], node_order: Sequence[str]) -> list[tuple[str, str]]:
    ends: set[tuple[str, str]] = set()
    for item in items:
        line = (
            item.line
            if isinstance(item, Note)
            else (item.recv if isinstance(item, Delivery) else item.send)
        )
        ends.add((line.node, line.layer))
        if line.peer is not None:
            ends.add((line.peer, line.layer))
    order = {node: i for i, node in enumerate(node_order)}

    def rank(end: tuple[str, str]) -> tuple[int, str, int, str]:
        node, layer = end
        layer_rank = LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER)
        return (order.get(node, len(order)), node, layer_rank, layer)

    return sorted(ends, key=rank)


def _shape(item: Item, index: dict[tuple[str, str], int]) -> tuple[TraceLine, int, int, str, str]:
    """(line, from, to, row type, send time): to is -1 for a note; a note
    with a peer (an attempt stream) spans both ends."""
    if isinstance(item, Note):
        line = item.line
        other = -1 if line.peer is None else index[(line.peer, line.layer)]
        return line, index[(line.node, line.layer)], other, f"note-{line.direction}", ""
    if isinstance(item, Delivery):
        line = item.recv
        assert line.peer is not None
        sent = "?" if item.send is None else short_seconds(item.send.time_ps)
        return line, index[(line.peer, line.layer)], index[(line.node, line.layer)], "msg", sent
    line = item.send
    peer = line.peer
    assert peer is not None
    return line, index[(line.node, line.layer)], index[(peer, line.layer)], "lost", item.why
