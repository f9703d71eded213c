"""The fast two-qubit paths (sliced embedding, T1/T2 superoperator) against Kronecker products."""

from __future__ import annotations

import numpy as np
import pytest
from _physics_helpers import I2, kron
from hypothesis import given
from hypothesis import strategies as st

from qstack.physics import DensityMatrixPair, T1T2Memory, density
from qstack.physics.hardware import PS_PER_S

TOL = 1e-12

entries = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)
sides = st.sampled_from([0, 1])


@st.composite
def density_matrices(draw: st.DrawFn) -> density.Matrix:
    """Random full-rank-or-not 4x4 states G G^dagger / tr, with coherences everywhere."""
    raw = draw(st.lists(entries, min_size=32, max_size=32))
    g = (np.array(raw[:16]) + 1j * np.array(raw[16:])).reshape(4, 4)
    rho = g @ g.conj().T
    trace = float(np.real(np.trace(rho)))
    if trace < 1e-3:
        rho = np.eye(4, dtype=np.complex128) + rho
        trace = float(np.real(np.trace(rho)))
    result: density.Matrix = (rho / trace).astype(np.complex128)
    return result


@st.composite
def t1t2_params(draw: st.DrawFn) -> tuple[float, float]:
    """(T1, T2) with T2 <= 2 T1, including the boundary T2 = 2 T1."""
    t1 = draw(st.floats(1e-4, 10.0))
    ratio = draw(st.one_of(st.just(2.0), st.floats(1e-3, 2.0)))
    return t1, min(2.0 * t1, ratio * t1)


idle_times = st.one_of(
    st.just(0.0), st.floats(0.0, 1e-3), st.floats(0.0, 100.0), st.floats(1e3, 1e6)
)


def kron_reference(rho: density.Matrix, ops: list[density.Matrix], side: int) -> density.Matrix:
    """The original exact path: Kraus operators embedded with np.kron."""
    out = np.zeros_like(rho)
    for k in ops:
        full = kron(k, I2) if side == 0 else kron(I2, k)
        out += full @ rho @ full.conj().T
    return out


@given(st.lists(entries, min_size=8, max_size=8), sides)
def test_embed_matches_kron_exactly(raw: list[float], side: int) -> None:
    op = (np.array(raw[:4]) + 1j * np.array(raw[4:])).reshape(2, 2).astype(np.complex128)
    expected = kron(op, I2) if side == 0 else kron(I2, op)
    np.testing.assert_array_equal(density._embed(op, side, 2), expected)


@given(density_matrices(), idle_times, t1t2_params(), sides)
def test_t1t2_fast_path_matches_kraus(
    rho: density.Matrix, t_s: float, t12: tuple[float, float], side: int
) -> None:
    t1_s, t2_s = t12
    ops = density.t1t2_kraus(t_s, t1_s, t2_s)
    expected = kron_reference(rho, ops, side)
    np.testing.assert_allclose(density.apply_kraus(rho, ops, side, 2), expected, rtol=0, atol=TOL)
    pair = DensityMatrixPair(rho.copy())
    pair.t1t2(t_s, t1_s, t2_s, side)
    np.testing.assert_allclose(pair.rho, expected, rtol=0, atol=TOL)
    channel = density.T1T2PairChannel.for_idle(t_s, t1_s, t2_s, side)
    np.testing.assert_allclose(channel.apply(rho), expected, rtol=0, atol=TOL)


@given(density_matrices(), st.integers(0, 10**16), t1t2_params(), sides)
def test_t1t2_memory_cached_matches_kraus(
    rho: density.Matrix, dt_ps: int, t12: tuple[float, float], side: int
) -> None:
    t1_s, t2_s = t12
    memory = T1T2Memory(t1_s, t2_s)
    ops = density.t1t2_kraus(dt_ps / PS_PER_S, t1_s, t2_s)
    expected = kron_reference(rho, ops, side)
    twice = kron_reference(expected, ops, side) if dt_ps else rho
    pair = DensityMatrixPair(rho.copy())
    memory.apply(pair, side, dt_ps)
    np.testing.assert_allclose(pair.rho, expected if dt_ps else rho, rtol=0, atol=TOL)
    memory.apply(pair, side, dt_ps)  # second call uses the cached channel
    np.testing.assert_allclose(pair.rho, twice, rtol=0, atol=TOL)


def test_t1t2_memory_both_sides_and_cache_bound() -> None:
    memory = T1T2Memory(1.0, 0.5)
    rho = density.bell_state(0)
    pair = DensityMatrixPair(rho.copy())
    for dt_ps in range(1, 600):
        memory.apply(pair, dt_ps & 1, dt_ps * 10**6)
        ops = density.t1t2_kraus(dt_ps * 1e-6, 1.0, 0.5)
        rho = kron_reference(rho, ops, dt_ps & 1)
    np.testing.assert_allclose(pair.rho, rho, rtol=0, atol=TOL)
    assert 0 < len(memory._channels) <= 256
    assert memory == T1T2Memory(1.0, 0.5)
    assert hash(memory) == hash(T1T2Memory(1.0, 0.5))


def test_t1t2_channel_input_unchanged_and_side_checked() -> None:
    rho = density.werner(0.9)
    before = rho.copy()
    density.T1T2PairChannel.for_idle(0.3, 1.0, 0.5, 0).apply(rho)
    np.testing.assert_array_equal(rho, before)
    with pytest.raises(ValueError, match="side"):
        density.T1T2PairChannel(0.5, 0.5, 2)
    with pytest.raises(ValueError, match="t2_s"):
        density.T1T2PairChannel.for_idle(1.0, 1.0, 2.5, 0)
