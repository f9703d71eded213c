"""Teleportation over the stack against closed forms."""

from __future__ import annotations

import math

import pytest

from qstack.layers.app.teleport import TeleportSession
from qstack.physics import formulas
from tests.apps._apps_helpers import chain_scenario, run


def _session(network: object) -> TeleportSession:
    session = network.requests[0]  # type: ignore[attr-defined]
    assert isinstance(session, TeleportSession)
    return session


@pytest.mark.parametrize("fidelity", [1.0, 0.9, 0.7])
@pytest.mark.parametrize("states", ["haar", "cardinal"])
def test_werner_pair_gives_two_f_plus_one_over_three(fidelity: float, states: str) -> None:
    # A Werner pair teleports every input with fidelity (1 + w)/2 = (2F + 1)/3:
    # the channel is depolarising, so the mean over Haar inputs has that value too.
    link = {
        "model": "abstract",
        "success_probability": 0.5,
        "attempt_duration_s": 1e-6,
        "fidelity": fidelity,
    }
    network, report = run(
        chain_scenario({"app": "teleport", "pairs": 60, "states": states}, link=link)
    )
    session = _session(network)
    assert report.requests[0].status == "done"
    assert len(session.teleport_fidelities) == 60
    expected = (2 * fidelity + 1) / 3
    assert session.teleport_fidelities == pytest.approx([expected] * 60, abs=1e-9)
    assert report.requests[0].teleport_fidelity_mean == pytest.approx(expected, abs=1e-9)  # type: ignore[union-attr]


@pytest.mark.parametrize("hops", [1, 3])
def test_perfect_heralded_pairs_teleport_perfectly(hops: int) -> None:
    # Double-click pairs arrive as Psi+ or Psi-: the Pauli frame and the
    # teleportation correction must both be right for fidelity 1.
    link = {"model": "double-click", "attenuation_db_per_km": 0.2}
    network, report = run(
        chain_scenario(
            {"app": "teleport", "pairs": 40, "states": "haar"},
            hops=hops,
            link=link,
            spacing_km=5.0,
        )
    )
    session = _session(network)
    assert report.requests[0].status == "done"
    assert session.teleport_fidelities == pytest.approx([1.0] * 40, abs=1e-9)
    assert all(m.free_count == m.size for m in network.memories.values())


def test_memory_decoherence_while_the_bits_travel() -> None:
    # One hop of L km with an abstract link (its fidelity is the delivered
    # pair's), memories of time constant T: the pair has w0 = w at delivery;
    # the receiver's qubit then waits the classical delay D for the two bits,
    # depolarising: F = (1 + w0 e^(-D/T)) / 2.
    tau, memory_t, length_km, fidelity = 1e-5, 0.01, 10.0, 0.95
    link = {
        "model": "abstract",
        "success_probability": 0.5,
        "attempt_duration_s": tau,
        "fidelity": fidelity,
    }
    network, report = run(
        chain_scenario(
            {"app": "teleport", "pairs": 30},
            link=link,
            node={"qubits": 30, "memory_t_s": memory_t},
            spacing_km=length_km,
        )
    )
    delay = length_km / 2.0e5
    w0 = formulas.werner_parameter(fidelity)
    expected = (1 + w0 * math.exp(-delay / memory_t)) / 2
    session = _session(network)
    assert report.requests[0].status == "done"
    assert session.teleport_fidelities == pytest.approx([expected] * 30, abs=1e-9)
