"""Each request drawn: its timeline, its pairs' fidelity, latency and rate,
and what its application made of them (QKD's bits and QBER, teleportation
against the closed form)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qstack.report.collect import RequestTrace
from qstack.report.summary import DEFAULT_QBER_THRESHOLD, RequestPlan, RequestSummary
from qstack.report.svg import (
    Mark,
    bars,
    empty,
    esc,
    fmt,
    histogram,
    nice_ticks,
    px,
    series,
    svg,
    tick_labels,
)

PS_PER_S = 1e12
WIDTH = 760
LANE = 26
LEFT = 150
RIGHT = 20
#: Above this many events a lane shows counts per bin instead of one tick each.
TICKS = 300
LANE_BINS = 120


@dataclass(frozen=True, slots=True)
class RequestView:
    """One request, from whichever sources have it."""

    index: int
    trace: RequestTrace | None
    summary: RequestSummary | None
    plan: RequestPlan | None

    @property
    def title(self) -> str:
        head = self.summary or self.plan
        app = head.app if head is not None else "request"
        src = head.src if head is not None else self.trace.src if self.trace else "?"
        dst = head.dst if head is not None else self.trace.dst if self.trace else "?"
        name = self.summary.name if self.summary is not None and self.summary.name else None
        ident = self.trace.request_id if self.trace is not None else None
        words = [app, f"{src} → {dst}"] + [w for w in (name, ident) if w]
        return " · ".join(words)


def match_requests(
    traces: Sequence[RequestTrace],
    summaries: Sequence[RequestSummary],
    plans: Sequence[RequestPlan],
) -> list[RequestView]:
    """Pair the run report's requests (and the scenario's, same order) with
    the trace's network requests: by source and destination, in the order
    the requests started (the scenario's ``start_s`` when it is known, else
    the report's order). Trace requests left over are listed after."""
    count = max(len(summaries), len(plans))
    order = sorted(range(count), key=lambda i: (plans[i].start_s if i < len(plans) else 0.0, i))
    free = list(traces)
    found: dict[int, RequestTrace | None] = {}
    for i in order:
        head = summaries[i] if i < len(summaries) else plans[i]
        match = next((t for t in free if (t.src, t.dst) == (head.src, head.dst)), None)
        if match is not None:
            free.remove(match)
        found[i] = match
    views = [
        RequestView(
            i,
            found[i],
            summaries[i] if i < len(summaries) else None,
            plans[i] if i < len(plans) else None,
        )
        for i in range(count)
    ]
    return views + [RequestView(count + k, t, None, None) for k, t in enumerate(free)]


def _seconds(values: Sequence[int] | NDArray[np.int64]) -> NDArray[np.float64]:
    return np.asarray(values, dtype=np.float64) / PS_PER_S


@dataclass(frozen=True, slots=True)
class _Axis:
    """Seconds to pixels along a timeline."""

    start: float
    end: float

    def __call__(self, value: float) -> float:
        return LEFT + (value - self.start) / (self.end - self.start) * (WIDTH - LEFT - RIGHT)


def timeline_svg(trace: RequestTrace, last_ps: int) -> str:
    """Lanes over the request's life: the circuit (setting up, active, its
    end), pairs delivered at both ends, swaps, discarded segments."""
    end_ps = trace.session_end_ps if trace.session_end_ps is not None else last_ps
    start, end = trace.start_ps / PS_PER_S, max(end_ps, trace.start_ps + 1) / PS_PER_S
    lanes: list[tuple[str, NDArray[np.float64]]] = [("pairs", _seconds(trace.delivered_ps))]
    for name, events in (
        ("swaps", trace.swaps_ps),
        ("swap records", trace.swap_records_ps),
        ("discards", trace.discards_ps),
        ("discard notices", trace.discard_notices_ps),
    ):
        if events:
            lanes.append((name, _seconds(events)))
    x = _Axis(start, end)
    body = ['<text class="lane-name" x="4" y="40">circuit</text>', *_circuit(trace, x)]
    for lane, (name, times) in enumerate(lanes, start=1):
        y = 28 + LANE * lane
        body.append(
            f'<text class="lane-name" x="4" y="{y + 12}">{esc(name)} ({times.size:,})</text>'
        )
        body += _events(times, y, x)
    axis_y = 28 + LANE * (len(lanes) + 1)
    body.append(
        f'<line class="axis" x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}"/>'
    )
    ticks = nice_ticks(start, end, 8)
    for tick, text in zip(ticks, tick_labels(ticks), strict=True):
        at = px(x(tick))
        body.append(
            f'<line class="tick" x1="{at}" y1="{axis_y}" x2="{at}" y2="{axis_y + 4}"/>'
            f'<text class="tl" x="{at}" y="{axis_y + 16}">{text}</text>'
        )
    dense = any(times.size > TICKS for _, times in lanes)
    body.append(
        f'<text class="al end" x="{WIDTH - RIGHT}" y="{axis_y + 32}">simulated time (s)'
        f"{'; many events: bar height = events per bin' if dense else ''}</text>"
    )
    return svg(body, WIDTH, axis_y + 40, "timeline")


def _circuit(trace: RequestTrace, x: _Axis) -> list[str]:
    """The circuit's lane: setting up until PATH_READY reaches the source,
    then active (or failing) until the request's end, and the end marked."""
    installed = None if trace.installed_ps is None else trace.installed_ps / PS_PER_S
    active_from = installed if installed is not None else x.end
    out = [
        f'<rect class="setup" x="{px(x(x.start))}" y="28" '
        f'width="{px(max(x(active_from) - x(x.start), 1))}" height="16"><title>setting up: '
        f"{fmt(x.start)} to {fmt(active_from)} s</title></rect>"
    ]
    if installed is not None:
        state = "failed" if trace.outcome == "error" else "active"
        out.append(
            f'<rect class="{state}" x="{px(x(installed))}" y="28" '
            f'width="{px(max(x(x.end) - x(installed), 1))}" height="16"><title>circuit installed '
            f"at {fmt(installed)} s (PATH_READY at the source)</title></rect>"
        )
    if trace.outcome is None:
        text, css = f"still running when the trace ends ({fmt(x.end)} s)", "running"
    elif trace.outcome == "done":
        text, css = f"done at {fmt(x.end)} s: {len(trace.delivered_ps):,} pairs", "done"
    else:
        why = f"{trace.reason or ''} {trace.detail or ''}".strip()
        text, css = f"error at {fmt(x.end)} s: {why}", "error"
    at = x(x.end)
    anchor = "end" if at > WIDTH / 2 else "start"
    out.append(
        f'<path class="end-mark {css}" d="M{px(at)},20 l6,8 l-6,8 l-6,-8 z">'
        f"<title>{esc(text)}</title></path>"
        f'<text class="end-text {css}" x="{px(at)}" y="16" text-anchor="{anchor}">'
        f"{esc(text[:110])}</text>"
    )
    return out


def _events(times: NDArray[np.float64], y: float, x: _Axis) -> list[str]:
    """One tick per event, or bars of events per bin when there are many."""
    if times.size <= TICKS:
        return [
            f'<line class="event" x1="{px(x(t))}" y1="{y}" x2="{px(x(t))}" y2="{y + 16}"/>'
            for t in times
        ]
    counts, edges = np.histogram(times, bins=LANE_BINS, range=(x.start, x.end))
    top = max(int(counts.max()), 1)
    out = []
    for count, left, right in zip(counts, edges[:-1], edges[1:], strict=True):
        if count:
            h = 16 * count / top
            out.append(
                f'<rect class="density" x="{px(x(left))}" y="{px(y + 16 - h)}" '
                f'width="{px(max(x(right) - x(left) - 0.5, 0.5))}" height="{px(h)}">'
                f"<title>{fmt(left)} to {fmt(right)} s: {count}</title></rect>"
            )
    return out


def distributions(view: RequestView) -> list[str]:
    """Fidelity, latency and rate of the request's pairs."""
    trace = view.trace
    if trace is None or not trace.fidelity:
        why = "the trace has no pairs of this request" if trace is not None else "not in the trace"
        return [empty("fidelity of the delivered pairs", why)]
    fidelity = np.asarray(trace.fidelity, dtype=np.float64)
    marks = [Mark(float(np.nanmean(fidelity)), f"mean {np.nanmean(fidelity):.5f}")]
    minimum = view.plan.min_fidelity if view.plan is not None else trace.min_fidelity
    if minimum:
        marks.append(Mark(minimum, f"min_fidelity {fmt(minimum)}", "threshold"))
    latency = _seconds(trace.latency_ps)
    delivered = _seconds(trace.delivered_ps)
    charts = [
        histogram(fidelity, "fidelity of the delivered pairs (at the source)", "fidelity", marks),
        histogram(
            latency,
            "latency: request start → pair at both ends",
            "seconds",
            [Mark(float(latency.mean()), f"mean {fmt(float(latency.mean()))} s")],
        ),
    ]
    start = trace.start_ps / PS_PER_S
    end = max(float(delivered.max()), start + 1e-12)
    bins = int(min(60, max(5, delivered.size // 10)))
    counts, edges = np.histogram(delivered, bins=bins, range=(start, end))
    width = (end - start) / bins
    centres = (edges[:-1] + edges[1:]) / 2
    charts.append(
        series(
            centres,
            counts / width,
            f"delivery rate ({bins} bins of {fmt(width)} s)",
            "seconds",
            "pairs / s",
        )
    )
    return charts


def qkd_panel(summary: RequestSummary, plan: RequestPlan | None) -> list[str]:
    """Bits through each stage, and the QBER against the abort threshold."""
    stages: list[tuple[str, float]] = [("pairs", float(summary.delivered))]
    missing = []
    for label, value in (
        ("sifted", summary.sifted_bits),
        ("sample", summary.sample_bits),
        ("leaked", summary.leaked_bits),
        ("final", summary.secret_key_bits),
    ):
        if value is None:
            missing.append(label)
        else:
            stages.append((label, float(value)))
    threshold = plan.qber_threshold if plan is not None else DEFAULT_QBER_THRESHOLD
    qbers = [
        (label, value)
        for label, value in (("QBER", summary.qber), ("Z", summary.qber_z), ("X", summary.qber_x))
        if value is not None
    ]
    source = (
        "the scenario's" if plan is not None else "the default (the run report does not give it):"
    )
    charts = [
        bars(
            [label for label, _ in stages],
            [value for _, value in stages],
            "QKD: bits through each stage",
            "bits",
        )
    ]
    if qbers:
        charts.append(
            bars(
                [label for label, _ in qbers],
                [value for _, value in qbers],
                "QBER (sample estimate) against the abort threshold",
                "error rate",
                [(threshold, f"abort above {fmt(threshold)}")],
                ["bar bad" if value > threshold else "bar" for _, value in qbers],
            )
        )
    notes = [f"Abort threshold: {source} {fmt(threshold)}."]
    if missing:
        notes.append(f"Not in the run report: {', '.join(missing)}.")
    if summary.aborted:
        notes.append(f"Aborted: {summary.abort_reason or 'no reason given'}.")
    elif summary.keys_match is not None:
        notes.append("The two ends' keys match." if summary.keys_match else "The keys differ!")
    return [*charts, *(f'<p class="note">{esc(note)}</p>' for note in notes)]


def teleport_panel(summary: RequestSummary, trace: RequestTrace | None) -> list[str]:
    """Mean teleportation fidelity against (2F+1)/3 of the pairs' fidelity F."""
    pair_fidelity = summary.fidelity_mean
    if pair_fidelity is None and trace is not None and trace.fidelity:
        pair_fidelity = float(np.nanmean(np.asarray(trace.fidelity)))
    measured = summary.teleport_fidelity_mean
    if pair_fidelity is None or measured is None:
        return [empty("teleportation fidelity", "no teleported states in the run report")]
    closed = (2 * pair_fidelity + 1) / 3
    return [
        bars(
            ["simulated", "(2F+1)/3"],
            [measured, closed],
            "teleportation: mean fidelity of the states received",
            "fidelity",
        ),
        f'<p class="note">F = {pair_fidelity:.6f}, the mean fidelity of the pairs used '
        f"(at delivery); (2F+1)/3 = {closed:.6f} is the average fidelity of teleporting "
        "through such a pair (Horodecki et al., PRA 60, 1888, 1999). The simulated mean "
        f"({measured:.6f}) also carries the destination memory's decoherence while the "
        "two classical bits travel.</p>",
    ]
