"""Assemble the report page: one HTML file, its stylesheet and script
inlined, every figure an inline SVG. It opens from disk with no network."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from qstack.diagrams import LAYER_TABLES
from qstack.report.collect import RequestTrace, TraceFacts, link_of
from qstack.report.messages import counts_over_time, kinds_table, sequence_intro, sequence_json
from qstack.report.requests import (
    RequestView,
    distributions,
    match_requests,
    qkd_panel,
    teleport_panel,
    timeline_svg,
)
from qstack.report.sequence import FIRST_PAIRS, MAX_ROWS, SequenceData, sequence_rows
from qstack.report.states import lifecycle_counts, state_diagram
from qstack.report.summary import RunSummary, ScenarioFacts
from qstack.report.svg import esc, fmt
from qstack.report.topology import LinkUse, topology_svg
from qstack.tracing import TraceLine

#: Shown for a figure a source does not give.
NONE = "\N{EN DASH}"


@dataclass
class Sources:
    """What the page is made from. ``lines()`` gives the trace afresh each
    time it is called (the page reads it twice: the first pairs in full,
    then the whole run as counts)."""

    name: str
    lines: Callable[[], Iterable[TraceLine]]
    summary: RunSummary | None = None
    scenario: ScenarioFacts | None = None
    warnings: list[str] = field(default_factory=list)
    first_pairs: int = FIRST_PAIRS
    max_rows: int = MAX_ROWS


def _asset(name: str) -> str:
    return resources.files("qstack.report").joinpath("assets", name).read_text(encoding="utf-8")


def build_page(sources: Sources) -> str:
    """The whole HTML page."""
    scenario, summary = sources.scenario, sources.summary
    known_links = list(scenario.lengths_km) if scenario is not None else []
    if summary is not None:
        known_links += [(link.a, link.b) for link in summary.links]
    node_order = list(scenario.nodes) if scenario is not None else []
    sequence = sequence_rows(sources.lines(), node_order, sources.first_pairs, sources.max_rows)
    facts = TraceFacts().add_all(sources.lines()).finish(known_links)
    provenance: list[str] = []
    views = match_requests(
        list(facts.requests.values()),
        summary.requests if summary is not None else [],
        scenario.requests if scenario is not None else (),
    )
    sections = [
        _topology_section(facts, sources, provenance, views),
        _requests_section(facts, views, provenance, summary is not None),
        _messages_section(facts, sequence),
        _states_section(facts),
        _about_section(sources, facts, provenance),
    ]
    return _document(sources, facts, sections, sequence_json(sequence))


def _document(sources: Sources, facts: TraceFacts, sections: Sequence[str], data: str) -> str:
    summary = sources.summary
    meta = [f"from {esc(sources.name)}"]
    if summary is not None and summary.seed is not None:
        meta.append(f"seed {summary.seed}")
    simulated = summary.sim_time_s if summary is not None else None
    meta.append(f"simulated {fmt(simulated if simulated is not None else facts.last_ps / 1e12)} s")
    if summary is not None and summary.events is not None:
        meta.append(f"{summary.events:,} events")
    meta.append(f"{facts.lines:,} trace lines")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>qstack report: {esc(sources.name)}</title><style>{_asset('report.css')}</style>"
        "</head><body><header><h1>qstack report</h1>"
        f'<p class="meta">{" · ".join(meta)}</p><nav><a href="#topology">Topology</a>'
        '<a href="#requests">Requests</a><a href="#messages">Messages</a>'
        '<a href="#states">State machines</a><a href="#about">About this page</a></nav>'
        f"</header><main>{''.join(sections)}</main>"
        f'<script id="seq-data" type="application/json">{data}</script>'
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )


def _link_uses(facts: TraceFacts, sources: Sources, provenance: list[str]) -> list[LinkUse]:
    """Each link with its attempts and heralded pairs, from the best source."""
    scenario, summary = sources.scenario, sources.summary
    lengths = {
        link_of(a, b): km for (a, b), km in (scenario.lengths_km.items() if scenario else [])
    }
    from_report = {link_of(link.a, link.b): link for link in (summary.links if summary else [])}
    keys = list(dict.fromkeys([*lengths, *from_report, *facts.links]))
    uses = []
    sources_used = set()
    for key in keys:
        traced = facts.links.get(key)
        reported = from_report.get(key)
        if reported is not None and reported.successes is not None:
            attempts, successes, source = reported.attempts, reported.successes, "run report"
        elif traced is not None and traced.heralds:
            attempts = traced.attempts if traced.attempt_records else None
            successes, source = traced.heralds // 2, "trace: HERALD lines"
        elif traced is not None and traced.oks:
            attempts, successes = None, traced.oks // 2
            source = "trace: link OK lines (pairs delivered by the link layer)"
        else:
            attempts, successes, source = None, None, "no record of its use"
        sources_used.add(source)
        a, b = (reported.a, reported.b) if reported is not None else key
        model = reported.model if reported is not None else None
        uses.append(LinkUse(a, b, attempts, successes, source, model, lengths.get(key)))
    provenance.append("Link use from: " + "; ".join(sorted(sources_used)) + ".")
    if not any(use.attempts is not None for use in uses):
        provenance.append(
            "Attempts per link are not known: the trace has no ATTEMPTS records and no run "
            "report gives them."
        )
    return uses


def _topology_section(
    facts: TraceFacts, sources: Sources, provenance: list[str], views: Sequence[RequestView]
) -> str:
    scenario = sources.scenario
    nodes = list(dict.fromkeys([*(scenario.nodes if scenario else ()), *facts.nodes]))
    links = _link_uses(facts, sources, provenance)
    nodes = list(dict.fromkeys([*nodes, *(n for link in links for n in (link.a, link.b))]))
    positions = scenario.positions if scenario is not None else {}
    summary = sources.summary
    if scenario is not None:
        seed = scenario.seed
    else:
        seed = summary.seed if summary is not None and summary.seed is not None else 0
    layout = (
        scenario.layout if scenario is not None and positions else f"spring layout, seed {seed}"
    )
    provenance.append(f"Node positions: {layout}.")
    endpoints = {n for v in views if v.trace for n in (v.trace.src, v.trace.dst)}
    faults = facts.faults
    fault_note = (
        f"{len(faults)} fault{'' if len(faults) == 1 else 's'} in the trace: what they hit "
        "is marked in red, whether or "
        "not it came back (hover for what happened and when)."
        if faults
        else "The trace has no FAULT records."
    )
    return (
        '<section id="topology"><h2>Topology</h2>'
        f"{topology_svg(nodes, links, positions, seed, endpoints, faults)}"
        '<p class="note">Links are coloured and thickened by the pairs they heralded (hover '
        "for attempts and lengths); request end nodes are yellow. "
        f"{fault_note}</p></section>"
    )


def _requests_section(
    facts: TraceFacts, views: Sequence[RequestView], provenance: list[str], has_report: bool
) -> str:
    if not has_report:
        provenance.append(
            "No run report: request status, QKD and teleportation figures come from a run "
            "report (give --run-report run.json); the timelines and distributions come from "
            "the trace."
        )
    parts = ['<section id="requests"><h2>Requests</h2>']
    for view in views:
        parts.append(
            f'<article class="request" id="request-{view.index}"><h3>{esc(view.title)}</h3>'
        )
        parts.append(_request_table(view))
        if view.trace is not None:
            parts.append(timeline_svg(view.trace, facts.last_ps))
        else:
            parts.append('<p class="note">This request has no NET_CREATE in the trace.</p>')
        parts.append(f'<div class="charts">{"".join(distributions(view))}</div>')
        summary = view.summary
        if summary is not None and summary.app == "qkd":
            parts.append(f'<div class="charts">{"".join(qkd_panel(summary, view.plan))}</div>')
        if summary is not None and summary.app == "teleport":
            parts.append(
                f'<div class="charts">{"".join(teleport_panel(summary, view.trace))}</div>'
            )
        parts.append("</article>")
    if not views:
        parts.append('<p class="note">No requests in the trace or the run report.</p>')
    parts.append("</section>")
    return "".join(parts)


def _request_table(view: RequestView) -> str:
    """The request's figures from the trace beside the run report's."""
    trace, summary = view.trace, view.summary
    rows = []
    if summary is not None:
        status = esc(summary.status)
        error = f" ({esc(summary.error)})" if summary.error else ""
        rows.append(
            f'<tr><th>status</th><td colspan="2" class="status-{status}">{status}{error}</td></tr>'
        )
    elif trace is not None:
        outcome = trace.outcome or "running"
        why = (
            f" ({esc(trace.reason or '')} {esc(trace.detail or '')})"
            if trace.outcome == "error"
            else ""
        )
        rows.append(f'<tr><th>end (trace)</th><td colspan="2">{esc(outcome)}{why}</td></tr>')
    if trace is not None and trace.path:
        rows.append(f'<tr><th>path</th><td colspan="2">{esc(" → ".join(trace.path))}</td></tr>')
    if trace is not None and trace.purified:
        kept, failed = trace.purified[True], trace.purified[False]
        rows.append(
            f'<tr><th>purification</th><td colspan="2">{kept:,} rounds kept a pair, '
            f"{failed:,} failed</td></tr>"
        )
    traced = traced_figures(trace)
    reported = {
        "pairs delivered": None if summary is None else float(summary.delivered),
        "mean fidelity": None if summary is None else summary.fidelity_mean,
        "mean latency (s)": None if summary is None else summary.latency_mean_s,
        "rate (pairs/s)": None if summary is None else summary.rate_hz,
    }
    rows.append(
        '<tr><th></th><th class="num">from the trace</th><th class="num">run report</th></tr>'
    )
    for name, value in reported.items():
        mine = traced.get(name)
        rows.append(
            f'<tr><th>{name}</th><td class="num">{NONE if mine is None else fmt(mine)}</td>'
            f'<td class="num">{NONE if value is None else fmt(value)}</td></tr>'
        )
    return f'<table class="figures">{"".join(rows)}</table>'


def traced_figures(trace: RequestTrace | None) -> dict[str, float | None]:
    """The run report's request figures, worked out from the trace alone
    (the page shows both, so that any difference is seen)."""
    if trace is None or not trace.delivered_ps:
        return {}
    delivered = len(trace.delivered_ps)
    end = trace.session_end_ps if trace.session_end_ps is not None else trace.delivered_ps[-1]
    active_s = (end - trace.start_ps) / 1e12
    fidelity = np.asarray(trace.fidelity)
    return {
        "pairs delivered": float(delivered),
        "mean fidelity": float(np.nanmean(fidelity)) if np.isfinite(fidelity).any() else None,
        "mean latency (s)": float(np.mean(trace.latency_ps)) / 1e12,
        "rate (pairs/s)": delivered / active_s if active_s > 0 else None,
    }


def _messages_section(facts: TraceFacts, sequence_data: SequenceData) -> str:
    return (
        '<section id="messages"><h2>Messages</h2>'
        f"{sequence_intro(sequence_data, facts)}"
        '<form id="seq-filters"><fieldset id="seq-nodes"><legend>nodes</legend></fieldset>'
        '<fieldset id="seq-layers"><legend>layers</legend></fieldset>'
        '<label>request <select id="seq-request"><option value="">all</option></select></label>'
        '<label>from <input id="seq-from" type="text" placeholder="start s"></label>'
        '<label>to <input id="seq-to" type="text" placeholder="end s"></label>'
        '<label>rows per page <select id="seq-page"><option>100</option><option selected>200'
        "</option><option>500</option></select></label>"
        '<button type="button" id="seq-prev">◀ earlier</button>'
        '<button type="button" id="seq-next">later ▶</button></form>'
        '<p id="seq-info" class="note"></p><div id="seq-chart"></div>'
        "<h3>Every message of the run</h3>"
        f"{counts_over_time(facts)}{kinds_table(facts)}</section>"
    )


def _states_section(facts: TraceFacts) -> str:
    has = bool(facts.transitions)
    parts = ['<section id="states"><h2>State machines</h2>']
    if has:
        total = sum(facts.transitions.values())
        parts.append(
            f'<p class="note">{total:,} TRANSITION records in the trace: the steps taken are '
            "drawn bold with how often (hover for the note of each row).</p>"
        )
    else:
        parts.append(
            '<p class="note">This trace has no TRANSITION records, so which transitions the '
            "run took is not known: the diagrams show the lifecycles as declared.</p>"
        )
    for layer, tables in LAYER_TABLES.items():
        parts.append(f"<h3>{esc(layer)} layer</h3>")
        for table in tables:
            counts = lifecycle_counts(table, facts.transitions)
            taken = sum(counts.values())
            caption = f"{esc(table.name)}" + (f": {taken:,} steps" if has else "")
            parts.append(
                f'<figure class="lifecycle" data-lifecycle="{esc(table.name)}">'
                f"<figcaption>{caption}</figcaption>{state_diagram(table, counts)}</figure>"
            )
    known = {table.name for tables in LAYER_TABLES.values() for table in tables}
    other = sorted({key[0] for key in facts.transitions} - known)
    if other:
        parts.append(
            f'<p class="note">TRANSITION records of lifecycles with no table here: '
            f"{esc(', '.join(other))}.</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _about_section(sources: Sources, facts: TraceFacts, provenance: list[str]) -> str:
    items = [f"<li>{esc(item)}</li>" for item in provenance]
    items.append(
        "<li>Fidelities are the true fidelities of the simulated pairs at delivery, as the "
        "source reported them (NET_OK); latency runs from the request's NET_CREATE to the "
        "pair's delivery at both ends.</li>"
    )
    items += [f'<li class="warning">{esc(w)}</li>' for w in sources.warnings]
    return (
        '<section id="about"><h2>About this page</h2>'
        f'<ul class="provenance">{"".join(items)}</ul>'
        '<p class="note">Made by <code>qstack report</code>: figures drawn as SVG in Python, '
        "the sequence chart by a short script in the page; no network is needed.</p></section>"
    )
