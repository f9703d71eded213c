"""The remote_cnot application: gate teleportation against its closed form.

The formula (``app_formulas.remote_cnot_entanglement_fidelity``, derived in
``qstack.physics.remote_gate``): a Bell-diagonal pair with weights p_k
(k = x + 2 z) puts Z_c^z X_t^x after the CNOT; flipped outcomes add X_t
(Alice's Z outcome) and Z_c (Bob's X outcome); each noisy CNOT leaves the
identity with probability 1/8. So the entanglement (process) fidelity is

    F_e = (1 - p_g)^2 p_0' + p_g (1 - p_g) / 4 + p_g^2 / 16,
    p_0' = (1 - p_m)^2 p_0 + p_m (1 - p_m) (p_1 + p_2) + p_m^2 p_3,

and the average gate fidelity (4 F_e + 1) / 5. For a Werner pair of
fidelity F with perfect operations, F_e = F and the average gate fidelity
(2 + 3 w) / 5.

No statistical tolerance is needed: every error is a Pauli channel and the
outcomes m1, m2 are uniform whatever the error, so each measurement branch
carries the same error distribution and every gate's process fidelity
equals F_e exactly; the test allows 1e-9 for rounding.
"""

from __future__ import annotations

import pytest

from qstack.layers.app.remote_cnot import RemoteCnotRequestReport, RemoteCnotSession
from qstack.network import Network, TopologyError
from qstack.physics import app_formulas
from qstack.scenario import parse_scenario
from tests.apps._apps_helpers import all_free, chain_scenario, run, werner_link


@pytest.mark.parametrize(
    ("fidelity", "gate_error", "measurement_error"),
    [(1.0, 0.0, 0.0), (0.9, 0.0, 0.0), (0.8, 0.0, 0.0), (0.9, 0.03, 0.02)],
)
def test_each_gate_has_the_closed_form_fidelity(
    fidelity: float, gate_error: float, measurement_error: float
) -> None:
    node = {"qubits": 3, "gate_error": gate_error, "measurement_error": measurement_error}
    network, report = run(
        chain_scenario(
            {"app": "remote_cnot", "pairs": 50},
            link=werner_link(fidelity),
            node=node,
            spacing_km=2.0,
        )
    )
    entry = report.requests[0]
    assert isinstance(entry, RemoteCnotRequestReport)
    assert entry.status == "done", entry.error
    rest = (1.0 - fidelity) / 3.0
    process = app_formulas.remote_cnot_entanglement_fidelity(
        [fidelity, rest, rest, rest], gate_error, measurement_error
    )
    session = network.requests[0]
    assert isinstance(session, RemoteCnotSession)
    assert session.process_fidelities == pytest.approx([process] * 50, abs=1e-9)
    assert entry.gates == entry.delivered == 50
    assert entry.gate_fidelity_mean == pytest.approx((4 * process + 1) / 5, abs=1e-9)
    if gate_error == measurement_error == 0.0:
        w = (4 * fidelity - 1) / 3
        assert entry.gate_fidelity_mean == pytest.approx((2 + 3 * w) / 5, abs=1e-9)
    assert all_free(network)


def test_heralded_pairs_over_two_hops_give_a_perfect_gate() -> None:
    network, report = run(
        chain_scenario(
            {"app": "remote_cnot", "pairs": 20},
            hops=2,
            link={"model": "double-click"},
            spacing_km=3.0,
        )
    )
    entry = report.requests[0]
    assert isinstance(entry, RemoteCnotRequestReport)
    assert entry.status == "done"
    assert entry.process_fidelity_mean == pytest.approx(1.0, abs=1e-9)
    assert all_free(network)


def test_memory_noise_only_lowers_the_gate_fidelity() -> None:
    # Data qubits wait for the classical bits in noisy memory: F_e < 1.
    _network, report = run(
        chain_scenario(
            {"app": "remote_cnot", "pairs": 10},
            link=werner_link(1.0),
            node={"qubits": 3, "memory_t_s": 1e-3},
            spacing_km=20.0,
        )
    )
    entry = report.requests[0]
    assert isinstance(entry, RemoteCnotRequestReport)
    assert entry.process_fidelity_mean is not None and entry.process_fidelity_mean < 0.99


def test_an_end_without_room_for_a_data_qubit_is_refused() -> None:
    request = {"app": "remote_cnot", "pairs": 3}
    scenario = parse_scenario(chain_scenario(request, node={"qubits": 1}))
    refusal = r"requests\[0\]: node 'n0' has qubits = 1; .*at least 2"
    with pytest.raises(TopologyError, match=refusal):
        Network(scenario)
