"""Sweep axes (comma lists, ranges), their product, and the seed of every run."""

from __future__ import annotations

import numpy as np
import pytest

from qstack.experiments import OverrideError, derive_seed
from qstack.experiments.grid import Axis, axis_from_values, grid_points, parse_axis


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("10:50:10", (10, 20, 30, 40, 50)),
        ("10:45:10", (10, 20, 30, 40)),  # STOP off the grid: not included
        ("0.1:0.3:0.1", (0.1, 0.2, 0.3)),  # by index in decimal: 0.3, not 0.30000000000000004
        ("0:1:0.3", (0.0, 0.3, 0.6, 0.9)),
        ("1:0:-0.25", (1.0, 0.75, 0.5, 0.25, 0.0)),
        ("1e-3:3e-3:1e-3", (0.001, 0.002, 0.003)),
        ("5:5:1", (5,)),
        ("10,20,30", (10, 20, 30)),
        ("0.5, 1e-2 ,inf", (0.5, 0.01, float("inf"))),
        ("shortest-hops,fidelity-aware", ("shortest-hops", "fidelity-aware")),
        ("mypkg:strategy", ("mypkg:strategy",)),  # two colons' worth of name, not a range
        ('[1, 2],[3, 4],"a,b"', ([1, 2], [3, 4], "a,b")),
    ],
)
def test_axis_values(text: str, values: tuple[object, ...]) -> None:
    axis = parse_axis("k", text)
    assert axis.values == values
    assert [type(v) for v in axis.values] == [type(v) for v in values]


def test_many_steps_land_on_the_written_decimals() -> None:
    # Repeated addition drifts (0.1 added 30 times is 3.0000000000000013); by index it does not.
    values = parse_axis("k", "0:3:0.1").values
    assert len(values) == 31
    assert values[-1] == 3.0
    assert all(v == float(f"{k / 10:.1f}") for k, v in enumerate(values))


@pytest.mark.parametrize(
    ("text", "message"),
    [("1:5:0", "STEP must not be 0"), ("5:1:1", "empty range"), ("0:1e9:1", "at most")],
)
def test_bad_ranges(text: str, message: str) -> None:
    with pytest.raises(OverrideError, match=message):
        parse_axis("run.until_s", text)


def test_python_values_are_taken_as_given() -> None:
    assert axis_from_values("k", [1, "2"]).values == (1, "2")
    assert axis_from_values("k", "1:3:1").values == (1, 2, 3)
    assert axis_from_values("k", 7).values == (7,)
    with pytest.raises(OverrideError, match="no values"):
        axis_from_values("k", [])


def test_product_first_axis_slowest() -> None:
    axes = [Axis("a", (1, 2)), Axis("b", ("x", "y", "z"))]
    assert grid_points(axes) == [
        (1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z"),
    ]  # fmt: skip
    assert grid_points([]) == [()]


def test_seeds_come_from_the_seed_sequence_of_base_point_replica() -> None:
    expected = int(
        np.random.SeedSequence(entropy=7, spawn_key=(3, 1)).generate_state(1, np.uint64)[0]
    )
    assert derive_seed(7, 3, 1) == expected >> 1
    seeds = {derive_seed(7, i, r) for i in range(50) for r in range(20)}
    assert len(seeds) == 1000  # distinct runs, distinct seeds
    assert all(0 <= s < 2**63 for s in seeds)
    assert derive_seed(8, 3, 1) != derive_seed(7, 3, 1)
