"""The messages section: the sequence chart of the first pairs (drawn in
the page by its script) and every message of the run as counts."""

from __future__ import annotations

import json

from qstack.report.collect import TraceFacts
from qstack.report.sequence import SequenceData
from qstack.report.svg import MARGIN_TOP, Frame, esc, fmt, px, svg
from qstack.tracing import LAYER_ORDER

#: Kinds listed in the counts table, most frequent first.
KINDS_LISTED = 40


def sequence_json(data: SequenceData) -> str:
    """The chart's data as JSON safe inside a ``<script>`` element."""
    return json.dumps(data.as_json(), separators=(",", ":")).replace("</", "<\\/")


def sequence_intro(data: SequenceData, facts: TraceFacts) -> str:
    """What the chart holds, said plainly: which rows and why not more."""
    if data.rows == 0:
        return "<p>The trace has no lines to draw.</p>"
    last = data.columns["at"][-1]
    if data.stopped_by_rows:
        why = (
            f"the first {data.rows:,} rows (the page's limit; {data.pairs_shown} of the first "
            f"{data.first_pairs} pairs were delivered by then)"
        )
    elif data.cut_ps is not None:
        why = f"every row up to the delivery of pair {data.first_pairs} at both ends"
    else:
        why = "every row of the run"
    return (
        f"<p>The chart holds {why}: {data.rows:,} rows, up to {esc(last)} s. "
        f"The run's trace has {facts.lines:,} lines in all; all of them are counted in "
        "<em>Every message of the run</em> below. Choose nodes, layers, a request or a "
        "time window to redraw it; arrows are drawn when a message arrives, labelled with "
        "its send and arrival times.</p>"
    )


def counts_over_time(facts: TraceFacts) -> str:
    """Trace lines per time bin, stacked by layer."""
    histogram = facts.over_time
    used = histogram.used()
    if used == 0:
        return ""
    layers = facts.layers()
    width_s = histogram.width_ps / 1e12
    totals = [
        sum(histogram.counts.get(layer, [0] * used)[i] for layer in layers) for i in range(used)
    ]
    frame = Frame(0, used * width_s, 0, max(max(totals), 1), width=760, height=220, counts=True)
    body = frame.axes(
        f"trace lines per {fmt(width_s)} s, by layer ({facts.lines:,} in all)",
        "simulated time (s)",
        "lines",
    )
    for i in range(used):
        base = 0
        for layer in layers:
            count = histogram.counts.get(layer, [0] * used)[i]
            if not count:
                continue
            y0, y1 = frame.y(base), frame.y(base + count)
            x0, x1 = frame.x(i * width_s), frame.x((i + 1) * width_s)
            body.append(
                f'<rect class="layer-{esc(layer)}" x="{px(x0)}" y="{px(y1)}" '
                f'width="{px(max(x1 - x0 - 0.3, 0.3))}" height="{px(y0 - y1)}">'
                f"<title>{esc(layer)}: {count:,} lines, {fmt(i * width_s)} to "
                f"{fmt((i + 1) * width_s)} s</title></rect>"
            )
            base += count
    for index, layer in enumerate(layers):
        x = 420 + 70 * index
        top = MARGIN_TOP - 20
        body.append(
            f'<rect class="layer-{esc(layer)}" x="{x}" y="{top}" width="10" height="10"/>'
            f'<text class="tl start" x="{x + 14}" y="{top + 9}">{esc(layer)}</text>'
        )
    return svg(body, 760, 220)


def kinds_table(facts: TraceFacts) -> str:
    """Lines per (layer, kind, direction), the most frequent first."""
    rows = sorted(
        facts.kinds.items(),
        key=lambda item: (-item[1], _layer_rank(item[0][0]), item[0][1], item[0][2]),
    )
    shown = rows[:KINDS_LISTED]
    body = "".join(
        f"<tr><td>{esc(layer)}</td><td>{esc(kind)}</td><td>{esc(direction)}</td>"
        f'<td class="num">{count:,}</td></tr>'
        for (layer, kind, direction), count in shown
    )
    more = (
        f'<p class="note">{len(rows) - len(shown)} rarer kinds not listed.</p>'
        if len(rows) > len(shown)
        else ""
    )
    return (
        '<table class="counts"><thead><tr><th>layer</th><th>kind</th><th>direction</th>'
        f"<th>lines</th></tr></thead><tbody>{body}</tbody></table>{more}"
    )


def _layer_rank(layer: str) -> int:
    return LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER)
