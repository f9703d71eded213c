"""Memory decoherence at delivery, against independent closed forms.

An abstract link with attempt_duration_s = t makes every pair sit in both
memories for exactly t before delivery (the window of the abstract model is
the whole attempt), and the "pairs" app frees it at once.  The delivered
fidelity is therefore a deterministic function of (F, t, memory), checked for
every pair to 1e-9 (float rounding of a few exp/matrix products is ~1e-15).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _validation_helpers import abstract_link, node, run, two_node_scenario

from qstack.sim.kernel import PS_PER_S

PAIRS = 200
TOL = 1e-9


def _werner_w(f: float) -> float:
    return (4.0 * f - 1.0) / 3.0


@pytest.mark.parametrize(
    ("t_s", "t_a", "t_b", "fidelity"),
    [
        (1e-3, 0.05, 0.05, 0.95),
        (2e-2, 0.05, 0.2, 0.9),
        (1e-4, 1.0, 3e-4, 1.0),
    ],
)
def test_depolarising_memory_fidelity(t_s: float, t_a: float, t_b: float, fidelity: float) -> None:
    scenario = two_node_scenario(
        abstract_link(0.3, t_s, fidelity),
        PAIRS,
        nodes=(node("a", memory_t_s=t_a), node("b", memory_t_s=t_b)),
        seed=3,
    )
    result = run(scenario)
    request = result.network.requests[0]
    assert request.status == "done"
    held_s = result.network.links[0].station.window_ps / PS_PER_S
    assert held_s == pytest.approx(t_s, rel=1e-12)
    # Depolarising a qubit keeps the state with weight e^(-t/T) and otherwise
    # replaces it by I/2; on a Werner pair that multiplies w by e^(-t/T) per
    # side (the I/4 part is invariant), so w -> w e^(-t/T_a - t/T_b).
    w = _werner_w(fidelity) * math.exp(-held_s / t_a - held_s / t_b)
    expected = (1.0 + 3.0 * w) / 4.0
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


def _werner_phi_plus(f: float) -> np.ndarray:
    w = _werner_w(f)
    phi = np.array([1.0, 0.0, 0.0, 1.0]) / math.sqrt(2.0)
    return w * np.outer(phi, phi) + (1.0 - w) * np.eye(4) / 4.0


@pytest.mark.parametrize(
    ("t_s", "t1", "t2", "fidelity"),
    [
        (1e-3, 0.01, 0.005, 0.95),
        (5e-3, 0.02, 0.04, 0.85),
        (2e-4, 1e-3, 1e-4, 1.0),
    ],
)
def test_t1_t2_memory_fidelity(t_s: float, t1: float, t2: float, fidelity: float) -> None:
    scenario = two_node_scenario(
        abstract_link(0.3, t_s, fidelity),
        PAIRS,
        nodes=(node("a", t1_s=t1, t2_s=t2), node("b", t1_s=t1, t2_s=t2)),
        seed=4,
    )
    result = run(scenario)
    request = result.network.requests[0]
    assert request.status == "done"
    held_s = result.network.links[0].station.window_ps / PS_PER_S
    rho = _werner_phi_plus(fidelity)
    for qubit in (0, 1):
        rho = _t1t2_channel(rho, qubit, held_s, t1, t2)
    phi = np.array([1.0, 0.0, 0.0, 1.0]) / math.sqrt(2.0)
    expected = float(phi @ rho @ phi)
    # Cross-check of the matrix calculation by hand: with a = e^(-t/T1),
    # c = e^(-t/T2), q = (1 + w)/4 = rho_00,00 = rho_11,11 and r = (1 - w)/4,
    # F = [q (1 + (1 - a)^2 + a^2) + 2 (1 - a) r] / 2 + c^2 w / 2.
    a, c, w = math.exp(-held_s / t1), math.exp(-held_s / t2), _werner_w(fidelity)
    q, r = (1.0 + w) / 4.0, (1.0 - w) / 4.0
    by_hand = (q * (1.0 + (1.0 - a) ** 2 + a * a) + 2.0 * (1.0 - a) * r) / 2.0 + c * c * w / 2.0
    assert expected == pytest.approx(by_hand, abs=1e-14)
    worst = max(abs(f - expected) for f in request.fidelities)
    assert len(request.fidelities) == PAIRS
    assert worst <= TOL, (expected, worst)
