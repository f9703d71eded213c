"""The points of a sweep and the seed of every run.

An axis is a key and its values: a comma list (``10,20,30``, each read as a
TOML value or else as a string) or a range ``START:STOP:STEP``. Ranges are
computed by index in decimal arithmetic, ``START + k * STEP``, so
``0.1:0.3:0.1`` gives 0.1, 0.2, 0.3 exactly as written, never
0.30000000000000004, and STOP is included when it falls on the grid.
Several axes make the cartesian product, the first axis varying slowest.

Replica ``r`` of point ``i`` runs with a seed drawn from
``numpy.random.SeedSequence(base_seed, spawn_key=(i, r))``: it depends on
nothing else, so a sweep gives the same rows on any engine and worker count.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np

from qstack.experiments.overrides import OverrideError, parse_value

#: Most values one range may produce (a typo such as 0:1e6:1e-6 is refused, not run).
MAX_RANGE_VALUES = 100_000


@dataclass(frozen=True)
class Axis:
    """One swept key and its values, in order."""

    key: str
    values: tuple[object, ...]


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside brackets, braces and quotes (``[1,2],[3,4]`` is two values)."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for position, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def _number(text: str) -> int | Decimal | None:
    """A TOML integer (kept exact) or a finite TOML float as a Decimal of its digits."""
    try:
        value = tomllib.loads(f"v = {text}").get("v")
    except tomllib.TOMLDecodeError:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int):
        return value
    if not math.isfinite(value):
        return None
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return Decimal(repr(value))


def _range_values(key: str, text: str, parts: Sequence[str]) -> tuple[object, ...] | None:
    """Values of ``START:STOP:STEP``, or None when ``text`` is not a numeric range."""
    numbers = [_number(part) for part in parts]
    if len(parts) != 3 or any(n is None for n in numbers):
        return None
    start, stop, step = (Decimal(n) for n in numbers if n is not None)
    where = f"--set {key}={text}"
    if step == 0:
        raise OverrideError(f"{where}: STEP must not be 0")
    span = (stop - start) / step
    if span < 0:
        raise OverrideError(
            f"{where}: empty range (STEP {'> 0' if step > 0 else '< 0'} never reaches STOP "
            "from START)"
        )
    count = int(span.to_integral_value(rounding="ROUND_FLOOR")) + 1
    if count > MAX_RANGE_VALUES:
        raise OverrideError(f"{where}: {count} values; at most {MAX_RANGE_VALUES} per range")
    exact = [start + k * step for k in range(count)]
    if all(isinstance(n, int) for n in numbers):
        return tuple(int(v) for v in exact)
    return tuple(float(v) for v in exact)


def parse_axis(key: str, text: str) -> Axis:
    """``KEY`` and ``V1,V2,...`` or ``START:STOP:STEP`` -> the axis."""
    stripped = text.strip()
    values = _range_values(key, stripped, stripped.split(":"))
    if values is None:
        values = tuple(parse_value(part) for part in _split_top_level(stripped))
    return Axis(key, values)


def axis_from_values(key: str, values: object) -> Axis:
    """An axis given from Python: a list of values as they are, or a string as on the CLI."""
    if isinstance(values, str):
        return parse_axis(key, values)
    if isinstance(values, Sequence):
        if not values:
            raise OverrideError(f"grid[{key!r}]: no values")
        return Axis(key, tuple(values))
    return Axis(key, (values,))


def grid_axes(grid: Mapping[str, object]) -> list[Axis]:
    """The axes of a ``{key: values}`` mapping, in its order."""
    return [axis_from_values(key, values) for key, values in grid.items()]


def grid_points(axes: Sequence[Axis]) -> list[tuple[object, ...]]:
    """The cartesian product of the axes' values, the first axis varying slowest."""
    return list(itertools.product(*(axis.values for axis in axes)))


def derive_seed(base_seed: int, point: int, replica: int) -> int:
    """The seed of replica ``replica`` of point ``point``: a 63-bit integer from
    ``SeedSequence(base_seed, spawn_key=(point, replica))`` (fits int64 columns)."""
    sequence = np.random.SeedSequence(entropy=base_seed, spawn_key=(point, replica))
    return int(sequence.generate_state(1, np.uint64)[0]) >> 1
