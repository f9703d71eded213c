"""A uniform buffer that is its generator's only user gives the same draws
whatever its block size (what lets stations and link entities keep small
blocks), and hands out plain floats."""

from __future__ import annotations

import numpy as np

from qstack.sim.random import OWN_STREAM_BLOCK, UniformBuffer


def test_block_size_does_not_change_the_draws() -> None:
    small = UniformBuffer(np.random.default_rng(7), OWN_STREAM_BLOCK)
    large = UniformBuffer(np.random.default_rng(7))
    expected = np.random.default_rng(7).random(3 * 4096 + 5).tolist()
    assert [small.random() for _ in expected] == expected
    assert [large.random() for _ in expected] == expected


def test_draws_are_floats_in_the_unit_interval() -> None:
    buffer = UniformBuffer(np.random.default_rng(1), OWN_STREAM_BLOCK)
    draws = [buffer.open_unit() for _ in range(1000)]
    assert all(type(draw) is float and 0.0 < draw <= 1.0 for draw in draws)
