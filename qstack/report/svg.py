"""Small SVG charts drawn in Python: histograms, bars, counts over time.

Drawing here rather than in a bundled charting library keeps the page a
few hundred kilobytes, readable without a network and without JavaScript;
colours and fonts come from the page's stylesheet through class names.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Chart sizes in CSS pixels.
WIDTH = 420
HEIGHT = 200
MARGIN_LEFT = 54
MARGIN_RIGHT = 14
MARGIN_TOP = 24
MARGIN_BOTTOM = 40


def esc(text: object) -> str:
    """Text safe inside SVG or HTML, quotes included."""
    return html.escape(str(text), quote=True)


def fmt(value: float) -> str:
    """A number for a person: whole numbers with thousands separators, others
    to four significant digits, an exponent only when very large or small."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3g}"


def tick_labels(ticks: Sequence[float]) -> list[str]:
    """Tick values with as many decimals as their spacing needs."""
    if len(ticks) < 2:
        return [fmt(tick) for tick in ticks]
    step = ticks[1] - ticks[0]
    big = max(abs(tick) for tick in ticks)
    if big >= 1e7 or 0 < big < 1e-3:
        digits = max(0, math.ceil(math.log10(big / step)))
        return [f"{tick:.{digits}e}" for tick in ticks]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return [f"{tick:,.{decimals}f}" for tick in ticks]


def px(value: float) -> str:
    """A coordinate, to a tenth of a pixel."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ticks(low: float, high: float, count: int = 5, least: float = 0.0) -> list[float]:
    """Round tick values covering [low, high], at least ``least`` apart
    (1 for counts)."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = max((high - low) / max(count, 1), least)
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


@dataclass(frozen=True, slots=True)
class Frame:
    """A plot area and the data range it shows."""

    xmin: float
    xmax: float
    ymin: float
    ymax: float
    width: int = WIDTH
    height: int = HEIGHT
    counts: bool = False
    """Whether the y axis counts things (whole ticks only)."""

    def x(self, value: float) -> float:
        span = self.xmax - self.xmin or 1.0
        inner = self.width - MARGIN_LEFT - MARGIN_RIGHT
        return MARGIN_LEFT + (value - self.xmin) / span * inner

    def y(self, value: float) -> float:
        span = self.ymax - self.ymin or 1.0
        inner = self.height - MARGIN_TOP - MARGIN_BOTTOM
        return self.height - MARGIN_BOTTOM - (value - self.ymin) / span * inner

    def axes(self, title: str, xlabel: str, ylabel: str) -> list[str]:
        """Title, axis lines, ticks and labels."""
        bottom, left = self.height - MARGIN_BOTTOM, MARGIN_LEFT
        right = self.width - MARGIN_RIGHT
        out = [
            f'<text class="title" x="{left}" y="14">{esc(title)}</text>',
            f'<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
            f'<line class="axis" x1="{left}" y1="{MARGIN_TOP}" x2="{left}" y2="{bottom}"/>',
        ]
        ticks = nice_ticks(self.xmin, self.xmax)
        for tick, label in zip(ticks, tick_labels(ticks), strict=True):
            x = px(self.x(tick))
            out.append(f'<line class="tick" x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 4}"/>')
            out.append(f'<text class="tl" x="{x}" y="{bottom + 15}">{label}</text>')
        ticks = nice_ticks(self.ymin, self.ymax, 4, 1.0 if self.counts else 0.0)
        for tick, label in zip(ticks, tick_labels(ticks), strict=True):
            y = px(self.y(tick))
            out.append(f'<line class="grid" x1="{left}" y1="{y}" x2="{right}" y2="{y}"/>')
            out.append(f'<text class="tl end" x="{left - 4}" y="{y}">{label}</text>')
        out.append(
            f'<text class="al" x="{(left + right) / 2}" y="{self.height - 6}">{esc(xlabel)}</text>'
        )
        out.append(
            f'<text class="al" transform="translate(12,{(MARGIN_TOP + bottom) / 2}) rotate(-90)">'
            f"{esc(ylabel)}</text>"
        )
        return out


def svg(body: Sequence[str], width: int = WIDTH, height: int = HEIGHT, css: str = "chart") -> str:
    """An inline SVG element around ``body``."""
    return (
        f'<svg class="{css}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )


@dataclass(frozen=True, slots=True)
class Mark:
    """A vertical line at ``value`` with a label (a mean, a threshold)."""

    value: float
    label: str
    css: str = "mark"


def histogram(
    values: NDArray[np.float64],
    title: str,
    xlabel: str,
    marks: Sequence[Mark] = (),
    bins: int = 30,
) -> str:
    """Counts of ``values`` in ``bins`` equal bins, with vertical marks."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return empty(title, "no values")
    low, high = float(finite.min()), float(finite.max())
    for mark in marks:
        low, high = min(low, mark.value), max(high, mark.value)
    if high - low <= 1e-9 * max(abs(high), 1.0):  # one value: a narrow window around it
        pad = 1e-6 * max(abs(high), 1.0)
        low, high = low - pad, high + pad
    counts, edges = np.histogram(finite, bins=bins, range=(low, high))
    frame = Frame(low, high, 0, max(int(counts.max()), 1), counts=True)
    body = frame.axes(title, xlabel, "count")
    for count, left, right in zip(counts, edges[:-1], edges[1:], strict=True):
        if count:
            x0, x1, y = frame.x(left), frame.x(right), frame.y(float(count))
            body.append(
                f'<rect class="bar" x="{px(x0)}" y="{px(y)}" width="{px(max(x1 - x0 - 1, 1))}" '
                f'height="{px(frame.y(0) - y)}"><title>{fmt(left)} to {fmt(right)}: '
                f"{count}</title></rect>"
            )
    body += _marks(frame, marks)
    return svg(body)


def _marks(frame: Frame, marks: Sequence[Mark]) -> list[str]:
    out = []
    for index, mark in enumerate(marks):
        x = px(frame.x(mark.value))
        y = MARGIN_TOP + 10 + 12 * index
        out.append(
            f'<line class="{mark.css}" x1="{x}" y1="{MARGIN_TOP}" x2="{x}" '
            f'y2="{frame.height - MARGIN_BOTTOM}"/>'
            f'<text class="ml {mark.css}" x="{x}" y="{y}" dx="3">{esc(mark.label)}</text>'
        )
    return out


def bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    ylabel: str,
    marks: Sequence[tuple[float, str]] = (),
    css: Sequence[str] | None = None,
) -> str:
    """One bar per label; ``marks`` are horizontal lines (a threshold)."""
    top = max([*values, *(value for value, _ in marks), 0.0]) or 1.0
    frame = Frame(0, len(labels), 0, top * 1.1)
    body = frame.axes(title, "", ylabel)[:3]
    ticks = nice_ticks(0, top * 1.1, 4)
    for tick, text in zip(ticks, tick_labels(ticks), strict=True):
        at = px(frame.y(tick))
        body.append(f'<text class="tl end" x="{MARGIN_LEFT - 4}" y="{at}">{text}</text>')
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x0, x1 = frame.x(index + 0.15), frame.x(index + 0.85)
        y = frame.y(value)
        kind = "bar" if css is None else css[index]
        body.append(
            f'<rect class="{kind}" x="{px(x0)}" y="{px(y)}" width="{px(x1 - x0)}" '
            f'height="{px(frame.y(0) - y)}"><title>{esc(label)}: {fmt(value)}</title></rect>'
            f'<text class="tl" x="{px((x0 + x1) / 2)}" y="{px(y - 3)}">{fmt(value)}</text>'
            f'<text class="tl" x="{px((x0 + x1) / 2)}" y="{frame.height - MARGIN_BOTTOM + 15}">'
            f"{esc(label)}</text>"
        )
    for value, label in marks:
        level = px(frame.y(value))
        body.append(
            f'<line class="threshold" x1="{MARGIN_LEFT}" y1="{level}" '
            f'x2="{WIDTH - MARGIN_RIGHT}" y2="{level}"/>'
            f'<text class="ml threshold" x="{WIDTH - MARGIN_RIGHT}" y="{level}" dy="-3" '
            f'text-anchor="end">{esc(label)}</text>'
        )
    return svg(body)


def series(
    centres: NDArray[np.float64],
    values: NDArray[np.float64],
    title: str,
    xlabel: str,
    ylabel: str,
) -> str:
    """A step line of ``values`` at bin ``centres``."""
    if centres.size == 0:
        return empty(title, "no values")
    step = float(centres[1] - centres[0]) if centres.size > 1 else 1.0
    frame = Frame(
        float(centres[0]) - step / 2,
        float(centres[-1]) + step / 2,
        0,
        max(float(values.max()), 1e-300),
    )
    body = frame.axes(title, xlabel, ylabel)
    points = []
    for centre, value in zip(centres, values, strict=True):
        y = px(frame.y(float(value)))
        points += [f"{px(frame.x(centre - step / 2))},{y}", f"{px(frame.x(centre + step / 2))},{y}"]
    body.append(f'<polyline class="line" points="{" ".join(points)}"/>')
    return svg(body)


def empty(title: str, why: str) -> str:
    """A chart's frame that says why there is nothing in it."""
    return svg(
        [
            f'<text class="title" x="{MARGIN_LEFT}" y="14">{esc(title)}</text>',
            f'<text class="none" x="{WIDTH / 2}" y="{HEIGHT / 2}">{esc(why)}</text>',
        ]
    )
