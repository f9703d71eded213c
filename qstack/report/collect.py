"""Everything a report draws from a trace, gathered in one pass.

:class:`TraceFacts` reads lines in order and keeps, per request, the times
that make its timeline (start, circuit installed, each pair delivered at
both ends, swaps, discards, its end and why) and its pairs' fidelities and
latencies as numbers; per link, the heralds and attempts the trace shows;
the faults; how often each lifecycle took each transition; and counts of
every message over time. Memory grows with the pairs delivered (three
numbers each) and not with the messages.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from qstack.layers.network.messages import NetOkBatch
from qstack.tracing import LAYER_ORDER, RequestTracker, TraceLine

#: Bins of the message-count histogram (between half this and this many
#: cover the run, whatever its length).
TIME_BINS = 160
Link = tuple[str, str]


def link_of(a: str, b: str) -> Link:
    """A link's key, whichever end names it."""
    return (a, b) if a <= b else (b, a)


@dataclass
class RequestTrace:
    """One network request as its trace lines tell it."""

    request_id: str
    src: str
    dst: str
    start_ps: int
    number: int
    min_fidelity: float
    type: str
    path: tuple[str, ...] | None = None
    installed_ps: int | None = None
    delivered_ps: array[int] = field(default_factory=lambda: array("q"))
    fidelity: array[float] = field(default_factory=lambda: array("d"))
    latency_ps: array[int] = field(default_factory=lambda: array("q"))
    swaps_ps: array[int] = field(default_factory=lambda: array("q"))
    swap_records_ps: array[int] = field(default_factory=lambda: array("q"))
    discards_ps: array[int] = field(default_factory=lambda: array("q"))
    discard_notices_ps: array[int] = field(default_factory=lambda: array("q"))
    purified: Counter[bool] = field(default_factory=Counter)
    end_ps: int | None = None
    outcome: str | None = None
    reason: str | None = None
    detail: str | None = None
    app_last_ps: int | None = None
    _one_end: dict[str, tuple[int, float | None]] = field(default_factory=dict)

    def net_ok(self, line: TraceLine) -> None:
        """A NET_OK at one end; the pair counts once both ends have it."""
        message = line.message
        pair = str(getattr(message, "pair_id", ""))
        fidelity = getattr(message, "fidelity", None) if line.node == self.src else None
        earlier = self._one_end.pop(pair, None)
        if earlier is None:
            self._one_end[pair] = (line.time_ps, fidelity)
            return
        first_time, first_fidelity = earlier
        at_src = first_fidelity if fidelity is None else fidelity
        self.delivered_ps.append(line.time_ps)
        self.latency_ps.append(max(line.time_ps, first_time) - self.start_ps)
        self.fidelity.append(float("nan") if at_src is None else float(at_src))

    def net_ok_batch(self, line: TraceLine) -> None:
        """A NET_OK_BATCH at one end: its pairs, each as the NET_OK the
        per-pair path would have traced at its herald."""
        batch = line.message
        if not isinstance(batch, NetOkBatch):
            return  # an unreadable record was named in a warning already
        for ok in batch.oks():
            self.net_ok(replace(line, time_ps=ok.time_ps, message=ok))

    @property
    def session_end_ps(self) -> int | None:
        """When the request ended: its last NET_DONE / NET_ERROR, or the last
        application message of its session if that came later (QKD's
        post-processing, a teleportation's correction bits)."""
        if self.end_ps is None:
            return None
        return max(self.end_ps, self.app_last_ps or 0)

    def ended(self, line: TraceLine, outcome: str) -> None:
        """NET_DONE or NET_ERROR at one end: the request ends at the last one."""
        self.end_ps = line.time_ps if self.end_ps is None else max(self.end_ps, line.time_ps)
        if outcome == "error" or self.outcome is None:
            self.outcome = outcome
        if outcome == "error":
            self.reason = str(getattr(line.message, "reason", "")) or self.reason
            self.detail = str(getattr(line.message, "detail", "")) or self.detail


@dataclass
class LinkTrace:
    """What the trace says of one link's use."""

    oks: int = 0
    heralds: int = 0
    attempts: int = 0
    attempt_records: int = 0


class TimeHistogram:
    """Counts per layer in equal time bins that widen (pairs merged) as the
    run goes on, so that :data:`TIME_BINS` bins always cover it."""

    def __init__(self, bins: int = TIME_BINS) -> None:
        self.bins = bins
        self.width_ps = 1_000
        self.counts: dict[str, list[int]] = {}

    def add(self, layer: str, time_ps: int) -> None:
        while time_ps >= self.width_ps * self.bins:
            self.width_ps *= 2
            for counts in self.counts.values():
                counts[:] = [a + b for a, b in zip(counts[::2], counts[1::2], strict=True)]
                counts.extend([0] * (self.bins - len(counts)))
        counts = self.counts.setdefault(layer, [0] * self.bins)
        counts[time_ps // self.width_ps] += 1

    def used(self) -> int:
        """Bins up to the last one with a count."""
        last = 0
        for counts in self.counts.values():
            last = max([last, *(i + 1 for i, c in enumerate(counts) if c)])
        return last


class TraceFacts:
    """Feed every line in order with :meth:`add`."""

    def __init__(self) -> None:
        self.lines = 0
        self.last_ps = 0
        self.nodes: dict[str, None] = {}
        self.requests: dict[str, RequestTrace] = {}
        self.links: dict[Link, LinkTrace] = {}
        self.link_names: dict[str, Link] = {}
        self.heralds_by_name: Counter[str] = Counter()
        self.faults: list[tuple[int, dict[str, Any]]] = []
        self.transitions: Counter[tuple[str, str, str, str]] = Counter()
        self.kinds: Counter[tuple[str, str, str]] = Counter()
        self.over_time = TimeHistogram()
        self._tracker = RequestTracker()

    def add_all(self, lines: Iterable[TraceLine]) -> TraceFacts:
        for line in lines:
            self.add(line)
        return self

    def add(self, line: TraceLine) -> None:
        self.lines += 1
        self.last_ps = line.time_ps
        self.nodes.setdefault(line.node, None)
        if line.peer is not None:
            self.nodes.setdefault(line.peer, None)
        self.kinds[(line.layer, line.kind, line.direction)] += 1
        self.over_time.add(line.layer, line.time_ps)
        owner = self._tracker.owner(line)
        kind = line.kind
        if kind == "NET_CREATE" and line.direction == "down" and isinstance(owner, str):
            self._new_request(owner, line)
        elif isinstance(owner, str) and owner in self.requests:
            self._request_line(self.requests[owner], line)
        if line.layer == "link":
            self._link_line(line)
        elif line.layer == "physical":
            self._physical_line(line)
        elif kind == "FAULT":
            fields = line.message.model_dump(mode="json")
            self.faults.append((line.time_ps, fields))
        if kind == "TRANSITION":
            message = line.message
            key = tuple(
                str(getattr(message, name, ""))
                for name in ("lifecycle", "source", "trigger", "dest")
            )
            self.transitions[(key[0], key[1], key[2], key[3])] += 1

    def _new_request(self, request_id: str, line: TraceLine) -> None:
        message = line.message
        self.requests[request_id] = RequestTrace(
            request_id,
            line.node,
            str(getattr(message, "remote", "")),
            line.time_ps,
            int(getattr(message, "number", 0)),
            float(getattr(message, "min_fidelity", 0.0)),
            str(getattr(message, "type", "keep")),
        )

    def _request_line(self, request: RequestTrace, line: TraceLine) -> None:
        kind, message = line.kind, line.message
        sent = line.direction == "send"
        if line.layer == "app":
            request.app_last_ps = line.time_ps
        elif kind == "NET_OK":
            request.net_ok(line)
        elif kind == "NET_OK_BATCH":
            request.net_ok_batch(line)
        elif kind == "NET_DONE":
            request.ended(line, "done")
        elif kind == "NET_ERROR":
            request.ended(line, "error")
        elif kind == "PATH_INSTALL" and sent and line.node == request.src:
            # The source installs a new circuit when it routes again after a
            # fault: the last one is the path that served the request.
            request.path = tuple(getattr(message, "path", ()))
        elif kind == "PATH_READY" and line.direction == "recv" and line.node == request.src:
            request.installed_ps = request.installed_ps or line.time_ps
        elif kind == "SWAP_RECORD" and sent:
            request.swap_records_ps.append(line.time_ps)
        elif kind == "SWAP":
            request.swaps_ps.append(line.time_ps)
        elif kind == "DISCARD":
            request.discards_ps.append(line.time_ps)
        elif kind == "SEGMENT_DISCARDED" and sent:
            request.discard_notices_ps.append(line.time_ps)
        elif (kind == "PURIFY_OUTCOME" and sent) or kind == "PURIFY":
            request.purified[bool(getattr(message, "success", False))] += 1
        elif kind == "TEARDOWN" and sent and not getattr(message, "completed", True):
            request.reason = request.reason or str(getattr(message, "reason", "") or "")

    def _link_line(self, line: TraceLine) -> None:
        if line.peer is not None:
            self.links.setdefault(link_of(line.node, line.peer), LinkTrace())
        elif line.kind == "OK":
            remote = str(getattr(line.message, "remote", ""))
            self.links.setdefault(link_of(line.node, remote), LinkTrace()).oks += 1

    def _physical_line(self, line: TraceLine) -> None:
        name = str(getattr(line.message, "link", ""))
        if line.kind == "ATTEMPTS" and line.peer is not None:
            key = link_of(line.node, line.peer)
            self.link_names[name] = key
            stats = self.links.setdefault(key, LinkTrace())
            stats.attempts += int(getattr(line.message, "attempts", 0))
            stats.attempt_records += 1
        elif line.kind == "HERALD":
            self.heralds_by_name[name] += 1

    def finish(self, known_links: Iterable[Link] = ()) -> TraceFacts:
        """Give heralds to their links (a herald names its link ``a-b``; node
        names may hold ``-``, so names are matched against known links)."""
        for a, b in known_links:
            self.link_names.setdefault(f"{a}-{b}", link_of(a, b))
        for name, count in self.heralds_by_name.items():
            key = self.link_names.get(name)
            if key is not None:
                self.links.setdefault(key, LinkTrace()).heralds += count
        return self

    def layers(self) -> list[str]:
        """The layers the trace has, from the top of the stack down."""
        seen = {layer for layer, _, _ in self.kinds}
        known = [layer for layer in LAYER_ORDER if layer in seen]
        return known + sorted(seen - set(known))
