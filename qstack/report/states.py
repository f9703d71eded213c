"""A lifecycle table drawn as a state diagram, with the transitions a run
took and how often.

Layout: states in columns by their distance from the initial state (a
breadth-first rank), rows ordered by their neighbours' rows; edges are
curves from state to state, parallel edges fanned out, self-loops drawn as
loops above their state. The counts come from TRANSITION trace records.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping

from qstack.fsm.table import StateTable, Transition
from qstack.report.svg import esc, px, svg

COLUMN = 230
ROW = 96
BOX_W = 120
BOX_H = 34
MARGIN = 40
FAN = 30


def _ranks(table: StateTable) -> dict[str, int]:
    """Each state's column: the longest path to it from the initial state,
    over the rows that do not close a cycle (found depth first); states the
    initial one cannot reach come last."""
    forward: dict[str, list[str]] = defaultdict(list)
    for row in table.transitions:
        if row.dest not in forward[row.source] and row.dest != row.source:
            forward[row.source].append(row.dest)
    on_path: set[str] = set()
    done: list[str] = []
    acyclic: dict[str, list[str]] = defaultdict(list)

    def visit(state: str) -> None:
        on_path.add(state)
        for dest in forward[state]:
            if dest in on_path:
                continue  # a row back to a state on the way here: it closes a cycle
            acyclic[state].append(dest)
            if dest not in done and dest not in on_path:
                visit(dest)
        on_path.discard(state)
        done.append(state)

    visit(table.initial)
    rank = {table.initial: 0}
    for state in reversed(done):  # reverse post-order is a topological order
        for dest in acyclic[state]:
            rank[dest] = max(rank.get(dest, 0), rank[state] + 1)
    last = max(rank.values()) + 1
    return {state: rank.get(state, last) for state in table.states}


def layout(table: StateTable) -> dict[str, tuple[float, float]]:
    """Box centres: one column per rank, rows by the mean row of each
    state's predecessors (two sweeps), columns centred on each other."""
    rank = _ranks(table)
    columns: dict[int, list[str]] = defaultdict(list)
    for state in table.states:
        columns[rank[state]].append(state)
    row_of = {state: float(i) for col in columns.values() for i, state in enumerate(col)}
    for _ in range(2):
        for r in sorted(columns)[1:]:
            columns[r].sort(key=lambda state: _mean_row(table, state, rank, row_of))
            for i, state in enumerate(columns[r]):
                row_of[state] = float(i)
    tallest = max(len(col) for col in columns.values())
    return {
        state: (
            MARGIN + BOX_W / 2 + COLUMN * r,
            MARGIN + 30 + ROW * (i + (tallest - len(columns[r])) / 2),
        )
        for r, col in columns.items()
        for i, state in enumerate(col)
    }


def _mean_row(
    table: StateTable, state: str, rank: Mapping[str, int], row_of: Mapping[str, float]
) -> float:
    """The mean row of a state's predecessors in earlier columns."""
    rows = [
        row_of[t.source]
        for t in table.transitions
        if t.dest == state and rank[t.source] < rank[state]
    ]
    return sum(rows) / len(rows) if rows else row_of[state]


def _boundary(centre: tuple[float, float], toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from a box's centre toward a point leaves the box."""
    (x, y), (tx, ty) = centre, toward
    dx, dy = tx - x, ty - y
    if dx == 0 and dy == 0:
        return x, y
    scale = min(
        (BOX_W / 2) / abs(dx) if dx else math.inf,
        (BOX_H / 2) / abs(dy) if dy else math.inf,
    )
    return x + dx * scale, y + dy * scale


def state_diagram(table: StateTable, taken: Mapping[tuple[str, str, str], int]) -> str:
    """The table as an SVG element; ``taken[(source, trigger, dest)]`` is
    how often the run took that row (rows taken are drawn bold, with their count)."""
    at = layout(table)
    width = int(max(x for x, _ in at.values()) + BOX_W / 2 + MARGIN + 60)
    height = int(max(y for _, y in at.values()) + BOX_H / 2 + ROW / 2)
    body = [
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>'
    ]
    groups: dict[tuple[str, str], list[Transition]] = defaultdict(list)
    for row in table.transitions:
        groups[(row.source, row.dest)].append(row)
    rank = _ranks(table)
    for (source, dest), rows in groups.items():
        counts = [taken.get((r.source, r.trigger_name, r.dest), 0) for r in rows]
        both_ways = source != dest and (dest, source) in groups
        body.append(_edge(rows, counts, at, rank, both_ways))
    ix, iy = at[table.initial]
    body.append(
        f'<circle class="start" cx="{px(ix - BOX_W / 2 - 26)}" cy="{px(iy)}" r="6"/>'
        f'<line class="edge" x1="{px(ix - BOX_W / 2 - 20)}" y1="{px(iy)}" '
        f'x2="{px(ix - BOX_W / 2)}" y2="{px(iy)}" marker-end="url(#arrow)"/>'
    )
    visits = Counter[str]()
    for (_, _, dest), count in taken.items():
        visits[dest] += count
    for state, (x, y) in at.items():
        css = (
            "state" + (" final" if state in table.final else "") + (" hit" if visits[state] else "")
        )
        body.append(
            f'<g class="{css}"><title>{esc(state)}: entered {visits[state]:,} times</title>'
            f'<rect x="{px(x - BOX_W / 2)}" y="{px(y - BOX_H / 2)}" width="{BOX_W}" '
            f'height="{BOX_H}" rx="10"/>'
            + (
                f'<rect class="inner" x="{px(x - BOX_W / 2 + 3)}" y="{px(y - BOX_H / 2 + 3)}" '
                f'width="{BOX_W - 6}" height="{BOX_H - 6}" rx="8"/>'
                if state in table.final
                else ""
            )
            + f'<text x="{px(x)}" y="{px(y + 4)}">{esc(state)}</text></g>'
        )
    return svg(body, width, height, "states")


def _edge(
    rows: list[Transition],
    counts: list[int],
    at: Mapping[str, tuple[float, float]],
    rank: Mapping[str, int],
    both_ways: bool,
) -> str:
    """One path for every row from one state to another, labelled with each
    row's trigger (and how often it was taken)."""
    source, dest = rows[0].source, rows[0].dest
    css = "edge taken" if any(counts) else "edge"
    labels = [
        row.trigger_name + (f" \N{MULTIPLICATION SIGN}{count:,}" if count else "")
        for row, count in zip(rows, counts, strict=True)
    ]
    title = "; ".join(
        f"{source} → {dest}: {row.label} (taken {count:,} times)"
        for row, count in zip(rows, counts, strict=True)
    )
    sx, sy = at[source]
    dx, dy = at[dest]
    half_w, half_h = BOX_W / 2, BOX_H / 2
    if source == dest:  # a loop above the state
        lift = 36
        d = (
            f"M{px(sx - 18)},{px(sy - half_h)} C{px(sx - 44)},{px(sy - half_h - lift)} "
            f"{px(sx + 44)},{px(sy - half_h - lift)} {px(sx + 18)},{px(sy - half_h)}"
        )
        lx, ly = sx, sy - half_h - lift * 0.75 - 4 - 11 * (len(labels) - 1)
    elif rank[source] == rank[dest]:  # same column: around its right side
        reach = half_w + 34 + 10 * abs(dy - sy) / ROW
        d = (
            f"M{px(sx + half_w)},{px(sy)} C{px(sx + reach)},{px(sy)} "
            f"{px(dx + reach)},{px(dy)} {px(dx + half_w)},{px(dy)}"
        )
        lx, ly = sx + half_w + 0.75 * (reach - half_w) + 4, (sy + dy) / 2
    else:
        bend = FAN if both_ways else 0.0
        length = math.hypot(dx - sx, dy - sy) or 1.0
        nx, ny = -(dy - sy) / length, (dx - sx) / length
        cx, cy = (sx + dx) / 2 + nx * bend, (sy + dy) / 2 + ny * bend
        skipped = abs(rank[dest] - rank[source]) - 1
        if skipped > 0:  # bow away from the columns in between
            cy += (1.0 if dy >= sy else -1.0) * 0.8 * ROW * skipped
        x0, y0 = _boundary((sx, sy), (cx, cy))
        x1, y1 = _boundary((dx, dy), (cx, cy))
        d = f"M{px(x0)},{px(y0)} Q{px(cx)},{px(cy)} {px(x1)},{px(y1)}"
        lx, ly = 0.25 * x0 + 0.5 * cx + 0.25 * x1, 0.25 * y0 + 0.5 * cy + 0.25 * y1
    anchor = "start" if rank[source] == rank[dest] and source != dest else "middle"
    first = ly - 5.5 * (len(labels) - 1) + 3
    spans = "".join(
        f'<tspan x="{px(lx)}" y="{px(first + 11 * k)}">{esc(label)}</tspan>'
        for k, label in enumerate(labels)
    )
    return (
        f'<g class="{css}"><title>{esc(title)}</title><path d="{d}" marker-end="url(#arrow)"/>'
        f'<text text-anchor="{anchor}">{spans}</text></g>'
    )


def lifecycle_counts(
    table: StateTable, transitions: Mapping[tuple[str, str, str, str], int]
) -> dict[tuple[str, str, str], int]:
    """The run's TRANSITION counts of ``table``, keyed (source, trigger, dest)."""
    return {
        (source, trigger, dest): count
        for (lifecycle, source, trigger, dest), count in transitions.items()
        if lifecycle == table.name
    }
