"""``qstack plot``: a sweep's rows as lines, the mean over replicas with a 95% band.

The band is the confidence interval of the mean from the t-distribution,
``mean +- t(0.975, n - 1) * s / sqrt(n)`` with ``s`` the sample standard
deviation of the ``n`` replicas at that point (no band where ``n = 1``):
replicas are few, so the normal quantile 1.96 would be too narrow.

One line per value of ``--hue``; rows that differ in something else (another
swept key, another request of the same run) are never averaged together:
they get their own lines, and the note printed says so.

``--plob`` adds the repeaterless PLOB bound ``-log2(1 - eta)``, ``eta =
10^(-a L / 10)`` (Pirandola et al., Nat. Commun. 8, 15043, 2017) against the
x axis read as a fiber length ``L`` in km, and beside it the earlier TGW
bound ``log2((1 + eta) / (1 - eta))`` (Takeoka, Guha and Wilde, Nat. Commun.
5, 5235, 2014; at most one bit above PLOB, twice it at long distance):
meaningful when y is a key rate per channel use.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from qstack.physics.formulas import fiber_transmittance, plob_bound, tgw_bound

#: Figure formats ``-o`` may end in.
FIGURE_FORMATS = (".png", ".svg", ".pdf")
CONFIDENCE = 0.95
DEFAULT_ATTENUATION_DB_PER_KM = 0.2
#: Points of the PLOB curve across the x range.
PLOB_SAMPLES = 200


class PlotError(ValueError):
    """Bad plot input (a column that is not there, a format we do not write)."""


def plot_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qstack plot",
        description="Plot a sweep's results: the mean over replicas with a 95% confidence band "
        "(t-distribution).",
    )
    parser.add_argument(
        "results", help="rows written by qstack sweep --out (.csv, .jsonl, .parquet)"
    )
    parser.add_argument("--x", required=True, metavar="KEY", help="x axis: a swept key")
    parser.add_argument("--y", required=True, metavar="FIELD", help="y axis: a row field")
    parser.add_argument("--hue", metavar="KEY", help="one line per value of this column")
    parser.add_argument("--request", metavar="NAME", help="only this request's rows")
    parser.add_argument("--logx", action="store_true", help="logarithmic x axis")
    parser.add_argument("--logy", action="store_true", help="logarithmic y axis")
    parser.add_argument(
        "--plob",
        nargs="?",
        type=float,
        const=DEFAULT_ATTENUATION_DB_PER_KM,
        metavar="DB_PER_KM",
        help="draw the PLOB and TGW bounds (x: length in km; y: key per channel use); "
        f"fiber attenuation default {DEFAULT_ATTENUATION_DB_PER_KM} dB/km",
    )
    parser.add_argument(
        "-o", "--output", required=True, type=Path, help=f"figure ({', '.join(FIGURE_FORMATS)})"
    )
    return parser


def read_results(path: str | os.PathLike[str]) -> Any:
    """A results file as a pandas DataFrame."""
    import pandas as pd

    file = Path(path)
    if not file.exists():
        raise PlotError(f"{file}: no such file")
    readers = {".csv": pd.read_csv, ".jsonl": partial(pd.read_json, lines=True)}
    readers[".parquet"] = pd.read_parquet
    reader = readers.get(file.suffix.lower())
    if reader is None:
        raise PlotError(f"{file}: must end in .csv, .jsonl or .parquet")
    try:
        return reader(file)
    except (ValueError, OSError, ImportError) as error:  # parsers' errors are ValueErrors
        raise PlotError(f"{file}: cannot read it: {error}") from None


def t_half_width(std: float, n: int) -> float:
    """Half the width of the 95% confidence interval of a mean of ``n`` samples."""
    from scipy.stats import t

    if n < 2 or not math.isfinite(std):
        return math.nan
    return float(t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * std / math.sqrt(n)


def summarise(frame: Any, x: str, y: str, groups: Sequence[str]) -> Any:
    """Per line and x: the mean of y, the replicas counted, the 95% half-width."""
    stats = (
        frame.groupby([*groups, x], sort=True, dropna=False)[y]
        .agg(["mean", "std", "count"])
        .reset_index()
    )
    stats["half_width"] = [
        t_half_width(s, int(n)) for s, n in zip(stats["std"], stats["count"], strict=True)
    ]
    return stats


def _line_groups(frame: Any, x: str, hue: str | None) -> tuple[list[str], list[str]]:
    """Columns that split lines: hue, other swept keys that vary, the request name."""
    columns = list(frame.columns)
    swept = columns[: columns.index("point")] if "point" in columns else []
    groups = [hue] if hue else []
    extra = [k for k in swept if k not in (x, hue) and frame[k].nunique(dropna=False) > 1]
    if "name" in columns and hue != "name" and frame["name"].nunique() > 1:
        extra.append("name")
    return [*groups, *extra], extra


@dataclass(frozen=True)
class PlotSpec:
    """What one panel shows: x and y columns, lines by ``hue``, axes and labels."""

    x: str
    y: str
    hue: str | None = None
    logx: bool = False
    logy: bool = False
    plob_db_per_km: float | None = None
    """Draw the PLOB and TGW bounds for this fiber attenuation (x: a length in km)."""
    request: str | None = None
    """Only the rows of this request (its ``name``)."""
    xlabel: str | None = None
    ylabel: str | None = None
    title: str | None = None


def save_figure(
    out: str | os.PathLike[str],
    panels: Sequence[tuple[Any, PlotSpec]],
    title: str | None = None,
) -> str:
    """One figure with a panel per (rows, spec), side by side, saved to ``out``.

    Returns the notes for the user (rows left out, lines split), one per panel.
    """
    from matplotlib.figure import Figure

    out_path = Path(out)
    if out_path.suffix.lower() not in FIGURE_FORMATS:
        raise PlotError(f"-o {out}: must end in {', '.join(FIGURE_FORMATS)}")
    figure = Figure(figsize=(6 * len(panels) + 1, 4.5 + 0.4 * (title is not None)))
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    notes = [draw(ax, frame, spec) for ax, (frame, spec) in zip(axes, panels, strict=True)]
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(out_path, dpi=120)
    return "; ".join(note for note in notes if note)


def draw(axes: Any, frame: Any, spec: PlotSpec) -> str:
    """Draw the lines of ``frame`` (sweep rows) on matplotlib ``axes``; returns notes."""
    import pandas as pd

    x, y, hue = spec.x, spec.y, spec.hue
    for option, column in (("--x", x), ("--y", y), ("--hue", hue)):
        if column is not None and column not in frame.columns:
            raise PlotError(
                f"{option} {column}: no such column; columns: {', '.join(map(str, frame.columns))}"
            )
    notes: list[str] = []
    if spec.request is not None:
        names = sorted(set(frame["name"])) if "name" in frame.columns else []
        if spec.request not in names:
            raise PlotError(
                f"--request {spec.request}: no such request; requests: {', '.join(names)}"
            )
        frame = frame[frame["name"] == spec.request]
    values = pd.to_numeric(frame[y], errors="coerce")
    if values.notna().sum() == 0:
        raise PlotError(f"--y {y}: no numeric values in that column")
    missing = int(values.isna().sum())
    if missing:
        notes.append(f"{missing} rows without a number in {y} are left out")
    frame = frame.assign(**{y: values})[values.notna()]
    groups, extra = _line_groups(frame, x, hue)
    if extra:
        notes.append(f"separate lines for each {', '.join(extra)} (not averaged together)")
    stats = summarise(frame, x, y, groups)
    if spec.logy and (stats["mean"] <= 0).any():
        notes.append(f"{int((stats['mean'] <= 0).sum())} points with a mean <= 0 are left out "
                     "of the log axis")  # fmt: skip
        stats = stats[stats["mean"] > 0]
    for label, line in stats.groupby(groups, sort=True) if groups else [((), stats)]:
        keys = label if isinstance(label, tuple) else (label,)
        text = ", ".join(f"{g}={v}" for g, v in zip(groups, keys, strict=True)) or y
        drawn = axes.plot(line[x], line["mean"], marker="o", label=text)
        band = line["half_width"].notna()
        if band.any():
            axes.fill_between(
                line[x][band],
                (line["mean"] - line["half_width"])[band],
                (line["mean"] + line["half_width"])[band],
                alpha=0.25,
                color=drawn[0].get_color(),
                linewidth=0,
            )
    if spec.plob_db_per_km is not None:
        _plob_line(axes, stats[x], x, spec.plob_db_per_km)
    axes.set(xlabel=spec.xlabel or x, ylabel=spec.ylabel or f"{y} (mean, 95% CI)", title=spec.title)
    if spec.logx:
        axes.set_xscale("log")
    if spec.logy:
        axes.set_yscale("log")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    return "; ".join(notes)


def _plob_line(axes: Any, xs: Any, x: str, attenuation_db_per_km: float) -> None:
    if not x.endswith("_km"):
        raise PlotError(f"--plob: x must be a length in km (a column ending in _km), not {x!r}")
    if attenuation_db_per_km <= 0:
        raise PlotError(f"--plob {attenuation_db_per_km}: the attenuation must be > 0 dB/km")
    low, high = float(min(xs)), float(max(xs))
    lengths = [low + (high - low) * k / (PLOB_SAMPLES - 1) for k in range(PLOB_SAMPLES)]
    lengths = [length for length in lengths if length > 0]
    etas = [fiber_transmittance(length, attenuation_db_per_km) for length in lengths]
    axes.plot(
        lengths,
        [plob_bound(eta) for eta in etas],
        "k--",
        label=f"PLOB bound -log2(1-eta), {attenuation_db_per_km:g} dB/km",
    )
    axes.plot(
        lengths,
        [tgw_bound(eta) for eta in etas],
        "k:",
        label=f"TGW bound log2((1+eta)/(1-eta)), {attenuation_db_per_km:g} dB/km",
    )


def plot_file(results: str | os.PathLike[str], spec: PlotSpec, out: str | os.PathLike[str]) -> str:
    """``qstack plot``: read the rows, draw, save; returns the notes."""
    try:
        import matplotlib  # noqa: F401
        import pandas  # noqa: F401
        import scipy  # noqa: F401
    except ImportError as error:
        raise PlotError(
            f"plotting needs matplotlib, pandas and scipy ({error.name} is missing): "
            "pip install 'qstack[plot]'"
        ) from None
    return save_figure(out, [(read_results(results), spec)])
