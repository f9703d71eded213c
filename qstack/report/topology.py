"""The network drawn: nodes where the topology puts them (or a seeded
layout), links coloured by how many pairs they made, faults marked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from qstack.report.svg import esc, fmt, px, svg

WIDTH = 760
HEIGHT = 420
MIN_HEIGHT = 170
MARGIN = 56
#: Above this many nodes, names are in tooltips only.
LABELLED_NODES = 60
LIGHT = (198, 219, 239)
DARK = (8, 48, 107)


@dataclass(frozen=True, slots=True)
class LinkUse:
    """A link and what is known of its use; None where nothing says."""

    a: str
    b: str
    attempts: int | None
    successes: int | None
    source: str
    model: str | None = None
    length_km: float | None = None


def layout(
    nodes: Sequence[str],
    links: Iterable[tuple[str, str]],
    positions: Mapping[str, tuple[float, float]],
    seed: int,
) -> tuple[dict[str, tuple[float, float]], int]:
    """Positions in the drawing's pixels, and the drawing's height (a flat
    network gets a flat drawing): the given positions where every node has
    one, else a spring layout seeded by ``seed`` (given ones held fixed)."""
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(links)
    known = {name: positions[name] for name in nodes if name in positions}
    if len(known) < len(nodes):
        placed = nx.spring_layout(
            graph, pos=known or None, fixed=list(known) or None, seed=seed, iterations=100
        )
        known = {name: (float(x), float(y)) for name, (x, y) in placed.items()}
    xs = [known[name][0] for name in nodes]
    ys = [known[name][1] for name in nodes]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
    height = int(min(HEIGHT, max(MIN_HEIGHT, scale * (max(ys) - min(ys)) + 2 * MARGIN)))
    off_x = (WIDTH - scale * (max(xs) - min(xs))) / 2
    off_y = (height - scale * (max(ys) - min(ys))) / 2
    placed = {
        name: (
            off_x + (known[name][0] - min(xs)) * scale,
            off_y + (max(ys) - known[name][1]) * scale,
        )
        for name in nodes
    }
    return placed, height


def _colour(fraction: float) -> str:
    channels = (round(lo + (hi - lo) * fraction) for lo, hi in zip(LIGHT, DARK, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*channels)


def _link_title(link: LinkUse) -> str:
    words = [f"{link.a} \N{EN DASH} {link.b}"]
    if link.length_km is not None:
        words.append(f"{fmt(link.length_km)} km")
    if link.model:
        words.append(link.model)
    if link.attempts is not None:
        words.append(f"{link.attempts:,} attempts")
    if link.successes is not None:
        words.append(f"{link.successes:,} pairs heralded")
    if link.attempts and link.successes is not None:
        words.append(f"p/attempt {fmt(link.successes / link.attempts)}")
    return ", ".join(words) + f" ({link.source})"


def _fault_notes(
    faults: Sequence[tuple[int, Mapping[str, Any]]],
) -> tuple[dict[str, list[str]], dict[tuple[str, str], list[str]]]:
    """Fault descriptions per node and per link."""
    nodes: dict[str, list[str]] = {}
    links: dict[tuple[str, str], list[str]] = {}
    for time_ps, fields in faults:
        what = f"{fields.get('fault', 'fault')} at {fmt(time_ps / 1e12)} s"
        if fields.get("probability") is not None:
            what += f" (p = {fields['probability']})"
        if "node" in fields and fields["node"] is not None:
            nodes.setdefault(str(fields["node"]), []).append(what)
        elif "a" in fields and "b" in fields:
            a, b = sorted((str(fields["a"]), str(fields["b"])))
            links.setdefault((a, b), []).append(what)
    return nodes, links


def topology_svg(
    nodes: Sequence[str],
    links: Sequence[LinkUse],
    positions: Mapping[str, tuple[float, float]],
    seed: int,
    endpoints: Iterable[str] = (),
    faults: Sequence[tuple[int, Mapping[str, Any]]] = (),
) -> str:
    """The topology as an SVG element."""
    at, height = layout(nodes, [(link.a, link.b) for link in links], positions, seed)
    node_faults, link_faults = _fault_notes(faults)
    most = max((link.successes or 0 for link in links), default=0) or 1
    body: list[str] = []
    for link in links:
        (x1, y1), (x2, y2) = at[link.a], at[link.b]
        ends = f'x1="{px(x1)}" y1="{px(y1)}" x2="{px(x2)}" y2="{px(y2)}"'
        title = _link_title(link)
        cut = link_faults.get((min(link.a, link.b), max(link.a, link.b)), [])
        if cut:
            title += "; " + "; ".join(cut)
        if link.successes is None:
            body.append(f'<line class="link unknown" {ends}><title>{esc(title)}</title></line>')
        else:
            fraction = link.successes / most
            body.append(
                f'<line class="link" {ends} stroke="{_colour(fraction)}" '
                f'stroke-width="{px(2.5 + 6 * fraction)}"><title>{esc(title)}</title></line>'
            )
        if cut:
            body.append(f'<line class="cut" {ends}><title>{esc(title)}</title></line>')
    special = set(endpoints)
    labelled = len(nodes) <= LABELLED_NODES
    for name in nodes:
        x, y = at[name]
        notes = node_faults.get(name, [])
        css = "node" + (" endpoint" if name in special else "") + (" failed" if notes else "")
        title = name + ("; " + "; ".join(notes) if notes else "")
        body.append(
            f'<g class="{css}" data-node="{esc(name)}"><title>{esc(title)}</title>'
            f'<circle cx="{px(x)}" cy="{px(y)}" r="9"/>'
        )
        if notes:
            body.append(
                f'<path class="cross" d="M{px(x - 7)},{px(y - 7)}L{px(x + 7)},{px(y + 7)}'
                f'M{px(x + 7)},{px(y - 7)}L{px(x - 7)},{px(y + 7)}"/>'
            )
        if labelled:
            body.append(f'<text class="nl" x="{px(x)}" y="{px(y + 24)}">{esc(name)}</text>')
        body.append("</g>")
    body += _legend(most, any(link.successes is None for link in links), height)
    return svg(body, WIDTH, height, "topology")


def _legend(most: int, unknown: bool, height: int) -> list[str]:
    y = height - 14
    out = [
        '<defs><linearGradient id="use-ramp">'
        f'<stop offset="0" stop-color="{_colour(0)}"/><stop offset="1" stop-color="{_colour(1)}"/>'
        "</linearGradient></defs>",
        f'<rect x="12" y="{y - 8}" width="120" height="8" fill="url(#use-ramp)"/>',
        f'<text class="tl start" x="12" y="{y + 10}">0</text>',
        f'<text class="tl end" x="132" y="{y + 10}">{most:,} pairs heralded</text>',
    ]
    if unknown:
        out.append(
            f'<line class="link unknown" x1="250" y1="{y - 4}" x2="290" y2="{y - 4}"/>'
            f'<text class="tl start" x="296" y="{y}">use not known</text>'
        )
    return out
