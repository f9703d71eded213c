"""Fibres, detectors, memory noise and constructor validation."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from qstack.physics import (
    AbstractHerald,
    BellDiagonal,
    DensityMatrixPair,
    DepolarizingMemory,
    Detector,
    DoubleClickHerald,
    Fiber,
    PerfectMemory,
    SingleClickHerald,
    T1T2Memory,
    choose_alpha,
    density,
    formulas,
)

TOL = 1e-9


def test_fiber() -> None:
    fiber = Fiber(50.0)
    assert fiber.transmittance == pytest.approx(0.1)
    assert fiber.transmittance == pytest.approx(formulas.fiber_transmittance(50.0, 0.2))
    assert fiber.delay_ps == 250_000_000
    assert isinstance(fiber.delay_ps, int)
    assert Fiber(0.0).transmittance == 1.0


def test_memories_skip_zero_time_and_flags() -> None:
    assert not PerfectMemory().needs_density_matrix
    assert not DepolarizingMemory(1.0).needs_density_matrix
    assert T1T2Memory(1.0, 1.5).needs_density_matrix
    state = BellDiagonal.werner(0.9)
    DepolarizingMemory(1e-3).apply(state, 0, 0)
    PerfectMemory().apply(state, 1, 10**9)
    assert state.fidelity() == 0.9
    pair = DensityMatrixPair.werner(0.9)
    T1T2Memory(1e-3, 1e-3).apply(pair, 0, 0)
    assert pair.fidelity() == pytest.approx(0.9)


def test_depolarizing_memory_one_side() -> None:
    state = BellDiagonal.werner(0.9)
    DepolarizingMemory(2.0).apply(state, 1, 10**12)
    lam = math.exp(-0.5)
    assert state.fidelity() == pytest.approx(lam * 0.9 + (1.0 - lam) / 4.0, abs=TOL)


def test_t1t2_memory_acts_on_one_side() -> None:
    pair = DensityMatrixPair.from_bell_diagonal(BellDiagonal.pure(0))
    T1T2Memory(1.0, 0.5).apply(pair, 1, 10**12)
    expected = density.apply_kraus(density.bell_state(0), density.t1t2_kraus(1.0, 1.0, 0.5), 1, 2)
    np.testing.assert_allclose(pair.rho, expected, atol=TOL)
    reduced_b = density.partial_trace(pair.rho, [1], 2)
    assert reduced_b[1, 1].real == pytest.approx(0.5 * math.exp(-1.0))
    reduced_a = density.partial_trace(pair.rho, [0], 2)
    np.testing.assert_allclose(reduced_a, np.eye(2) / 2.0, atol=TOL)


def test_t1t2_memory_rejects_bell_diagonal() -> None:
    with pytest.raises(TypeError, match="DensityMatrixPair"):
        T1T2Memory(1.0, 1.0).apply(BellDiagonal.werner(0.9), 0, 5)


@pytest.mark.parametrize(
    ("build", "name", "value"),
    [
        (lambda: BellDiagonal.werner(1.2), "fidelity", "1.2"),
        (lambda: BellDiagonal.werner(0.9, 4), "index", "4"),
        (lambda: BellDiagonal.twirled_from((0.5, 0.5, 0.5, -0.5)), "probabilities", "-0.5"),
        (lambda: BellDiagonal.twirled_from((0.5, 0.5, 0.5, 0.0)), "probabilities", "1.5"),
        (lambda: density.werner(-0.1), "fidelity", "-0.1"),
        (lambda: density.t1t2_kraus(-1.0, 1.0, 1.0), "t_s", "-1.0"),
        (lambda: density.t1t2_kraus(1.0, 1.0, 2.5), "t2_s", "2.5"),
        (lambda: density.depolarizing_kraus(1.5), "lam", "1.5"),
        (lambda: density.dephasing_kraus(-0.5), "q", "-0.5"),
        (lambda: density.amplitude_damping_kraus(2.0), "gamma", "2.0"),
        (lambda: T1T2Memory(1.0, 3.0), "t2_s", "3.0"),
        (lambda: T1T2Memory(-1.0, 1.0), "t1_s", "-1.0"),
        (lambda: DepolarizingMemory(-2.0), "t_s", "-2.0"),
        (lambda: Fiber(-1.0), "length_km", "-1.0"),
        (lambda: Detector(efficiency=1.1), "efficiency", "1.1"),
        (lambda: Detector(dark_count_probability=-0.1), "dark_count_probability", "-0.1"),
        (lambda: AbstractHerald(1.5, 0.9), "success_probability", "1.5"),
        (lambda: AbstractHerald(0.5, 1.5), "fidelity", "1.5"),
        (lambda: DoubleClickHerald(1.2, 0.0), "eta", "1.2"),
        (lambda: DoubleClickHerald(0.0, 0.0), "DoubleClickHerald", "probability 0"),
        (lambda: SingleClickHerald(0.1, 0.5, 1.5), "dark_count_probability", "1.5"),
        (lambda: SingleClickHerald(-0.1, 0.5), "alpha", "-0.1"),
        (lambda: choose_alpha(0.5, 0.0, 1.1), "min_fidelity", "1.1"),
        (lambda: formulas.depolarized_fidelity(0.9, -1.0, 1.0), "t_s", "-1.0"),
        (lambda: formulas.chain_fidelity([]), "fidelities", "none"),
    ],
)
def test_bad_input_names_parameter_and_value(
    build: Callable[[], object], name: str, value: str
) -> None:
    with pytest.raises(ValueError) as info:
        build()
    assert name in str(info.value)
    assert value in str(info.value)


def test_zero_probability_bell_outcome() -> None:
    product = np.zeros((16, 16), dtype=np.complex128)
    product[0, 0] = 1.0  # |0000>
    with pytest.raises(ValueError, match="probability"):
        density.bell_measure(product, (1, 2), 1)
