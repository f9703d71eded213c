"""Memory decoherence at delivery, against independent closed forms.

A double-click link without fibre loss whose one-way delay is t (length 1 km,
fibre speed 1/t km/s) makes every pair sit in both memories for exactly t
before delivery (each side's window from emission to herald, station in the
middle), and the "pairs" app frees it at once. The delivered fidelity is
therefore a deterministic function of (heralded state, t, memory), checked
for every pair to 1e-9 (float rounding of a few exp/matrix products is
~1e-15). The heralded state is Bell diagonal (Psi+ or Psi-, with dark counts
mixed in); its two forms are mirror images under a Z on one side, which
commutes with both memory channels, so one closed form serves both heralds.

An abstract link's ``fidelity`` is that of the delivered state: with the
same memories, every pair is delivered with exactly that fidelity.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from _validation_helpers import abstract_link, node, run, two_node_scenario

from qstack.physics.density import BELL_VECTORS, from_bell_diagonal
from qstack.physics.heralding import DoubleClickHerald
from qstack.sim.kernel import PS_PER_S

PAIRS = 200
TOL = 1e-9
DETECTOR = 0.9


def _delay_link(t_s: float, dark: float) -> dict[str, Any]:
    """Lossless double-click link whose herald reaches the nodes t_s after emission."""
    return {
        "model": "double-click",
        "length_km": 1.0,
        "fiber_speed_km_per_s": 1.0 / t_s,
        "attenuation_db_per_km": 0.0,
        "detector_efficiency": DETECTOR,
        "dark_count_probability": dark,
    }


@pytest.mark.parametrize(
    ("t_s", "t_a", "t_b", "dark"),
    [
        (1e-3, 0.05, 0.05, 0.02),
        (2e-2, 0.05, 0.2, 0.05),
        (1e-4, 1.0, 3e-4, 0.0),
    ],
)
def test_depolarising_memory_fidelity(t_s: float, t_a: float, t_b: float, dark: float) -> None:
    scenario = two_node_scenario(
        _delay_link(t_s, dark),
        PAIRS,
        nodes=(node("a", memory_t_s=t_a), node("b", memory_t_s=t_b)),
        seed=3,
    )
    result = run(scenario)
    request = result.network.requests[0]
    assert request.status == "done"
    held_s = result.network.links[0].station.window_ps / PS_PER_S
    assert held_s == pytest.approx(t_s, rel=1e-9)
    # Depolarising a qubit keeps the state with weight e^(-t/T) and otherwise
    # replaces it by I/2; a Bell-diagonal pair has maximally mixed halves, so
    # rho -> e^(-t/T) rho + (1 - e^(-t/T)) I/4 per side: F - 1/4 shrinks by
    # e^(-t/T_a - t/T_b).
    heralded = DoubleClickHerald(DETECTOR, dark).fidelity
    expected = 0.25 + (heralded - 0.25) * math.exp(-held_s / t_a - held_s / t_b)
    assert len(request.fidelities) == PAIRS
    worst = max(abs(f - expected) for f in request.fidelities)
    assert worst <= TOL, (expected, worst)


def _t1t2_channel(rho: np.ndarray, qubit: int, t: float, t1: float, t2: float) -> np.ndarray:
    """Apply T1/T2 idling to one qubit of a two-qubit density matrix.

    Written as the action on matrix units rather than with Kraus operators:
    |1><1| -> e^(-t/T1) |1><1| + (1 - e^(-t/T1)) |0><0| (decay to |0>),
    |0><0| -> |0><0|, and |0><1|, |1><0| -> e^(-t/T2) times themselves.
    """
    keep = math.exp(-t / t1)
    coh = math.exp(-t / t2)
    r = rho.reshape(2, 2, 2, 2).copy()  # indices: row q0, row q1, col q0, col q1
    r = np.moveaxis(r, (qubit, 2 + qubit), (0, 1))  # the acted-on qubit's row, col first
    out = np.zeros_like(r)
    out[0, 0] = r[0, 0] + (1.0 - keep) * r[1, 1]
    out[1, 1] = keep * r[1, 1]
    out[0, 1] = coh * r[0, 1]
    out[1, 0] = coh * r[1, 0]
    out = np.moveaxis(out, (0, 1), (qubit, 2 + qubit))
    return out.reshape(4, 4)


@pytest.mark.parametrize(
    ("t_s", "t1", "t2", "dark"),
    [
        (1e-3, 0.01, 0.005, 0.02),
        (5e-3, 0.02, 0.04, 0.05),
        (2e-4, 1e-3, 1e-4, 0.0),
    ],
)
def test_t1_t2_memory_fidelity(t_s: float, t1: float, t2: float, dark: float) -> None:
    scenario = two_node_scenario(
        _delay_link(t_s, dark),
        PAIRS,
        nodes=(node("a", t1_s=t1, t2_s=t2), node("b", t1_s=t1, t2_s=t2)),
        seed=4,
    )
    result = run(scenario)
    request = result.network.requests[0]
    assert request.status == "done"
    held_s = result.network.links[0].station.window_ps / PS_PER_S
    rho = from_bell_diagonal(DoubleClickHerald(DETECTOR, dark).heralded_state(1))
    for qubit in (0, 1):
        rho = _t1t2_channel(rho, qubit, held_s, t1, t2)
    psi = BELL_VECTORS[1]
    expected = float(np.real(psi.conj() @ rho @ psi))
    if dark == 0.0:
        # By hand for a pure Psi+: with a = e^(-t/T1), c = e^(-t/T2) the
        # populations |01>, |10> keep a each and the coherence |01><10| keeps
        # c^2, so F = (a + c^2) / 2.
        a, c = math.exp(-held_s / t1), math.exp(-held_s / t2)
        assert expected == pytest.approx((a + c * c) / 2.0, abs=1e-14)
    worst = max(abs(f - expected) for f in request.fidelities)
    assert len(request.fidelities) == PAIRS
    assert worst <= TOL, (expected, worst)


@pytest.mark.parametrize("memory", [{"memory_t_s": 1e-3}, {"t1_s": 1e-3, "t2_s": 5e-4}])
def test_abstract_fidelity_is_the_delivered_state(memory: dict[str, float]) -> None:
    """The abstract model's attempt duration is a pure delay: however noisy the
    memories, each pair reaches both ends with exactly the configured fidelity."""
    fidelity = 0.93
    scenario = two_node_scenario(
        abstract_link(0.3, 1e-3, fidelity),
        PAIRS,
        nodes=(node("a", **memory), node("b", **memory)),
        seed=5,
    )
    result = run(scenario)
    request = result.network.requests[0]
    assert request.status == "done"
    assert result.network.links[0].station.window_ps == 0
    assert len(request.fidelities) == PAIRS
    assert max(abs(f - fidelity) for f in request.fidelities) <= TOL
