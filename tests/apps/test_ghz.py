"""The ghz application: GHZ states fused at the centre, against the closed forms.

Closed forms (``app_formulas``, derived in ``qstack.physics.ghz``):
perfect links give the GHZ state itself (fidelity 1); Werner links of
parameters w_i with perfect operations, the centre a member, give
F = [prod w_i + prod (1 + w_i)/2] / 2 (``ghz_fusion_fidelity_werner``);
Bell-diagonal links with the centre's gate and measurement errors give
``ghz_fusion_fidelity`` (an exact Pauli-frame sum).

No statistical tolerance is needed: the circuit is Clifford and every noise
a Pauli channel, so each GHZ state is the ideal one with a random Pauli
error whose distribution does not depend on the centre's outcomes (which
are uniform); every state's fidelity is the closed form (1e-9 for rounding),
with perfect memories.
"""

from __future__ import annotations

import pytest

from qstack.layers.app.ghz import GhzCorrection, GhzRequestReport, GhzSession
from qstack.network import Network, TopologyError
from qstack.physics import app_formulas
from qstack.runner import run_network
from qstack.scenario import parse_scenario
from qstack.sim.trace import MemoryTracer
from tests.apps._apps_helpers import all_free, run, star_scenario, werner_link


def _session(network: Network) -> GhzSession:
    session = network.requests[0]
    assert isinstance(session, GhzSession)
    return session


@pytest.mark.slow
@pytest.mark.parametrize("members", [3, 4, 6])
def test_perfect_links_give_the_ghz_state(members: int) -> None:
    network, report = run(star_scenario("ghz", members, 30))
    entry = report.requests[0]
    assert isinstance(entry, GhzRequestReport)
    assert entry.status == "done" and entry.delivered == 30
    assert _session(network).ghz_fidelities == pytest.approx([1.0] * 30, abs=1e-9)
    assert all_free(network)


@pytest.mark.parametrize(("members", "fidelity"), [(3, 0.9), (4, 0.95), (5, 0.8)])
def test_werner_links_give_the_closed_form(members: int, fidelity: float) -> None:
    network, report = run(star_scenario("ghz", members, 30, link=werner_link(fidelity)))
    expected = app_formulas.ghz_fusion_fidelity_werner([fidelity] * (members - 1), True)
    assert _session(network).ghz_fidelities == pytest.approx([expected] * 30, abs=1e-9)
    entry = report.requests[0]
    assert isinstance(entry, GhzRequestReport)
    assert entry.ghz_fidelity_mean == pytest.approx(expected, abs=1e-9)
    assert entry.fidelity_mean == pytest.approx(fidelity, abs=1e-9)  # the link pairs'


def test_gate_and_measurement_errors_at_the_centre() -> None:
    fidelity, gate_error, flip = 0.92, 0.04, 0.03
    node = {"qubits": 4, "gate_error": gate_error, "measurement_error": flip}
    network, _ = run(star_scenario("ghz", 4, 30, link=werner_link(fidelity), node=node))
    rest = (1 - fidelity) / 3
    expected = app_formulas.ghz_fusion_fidelity(
        [[fidelity, rest, rest, rest]] * 3, True, gate_error, flip
    )
    assert _session(network).ghz_fidelities == pytest.approx([expected] * 30, abs=1e-9)


def test_heralded_pairs_need_every_frame_right() -> None:
    # Double-click pairs (Psi+ / Psi-): the members' frame corrections reach
    # their halves after the centre fused them.
    network, _report = run(star_scenario("ghz", 4, 20, link={"model": "double-click"}))
    assert _session(network).ghz_fidelities == pytest.approx([1.0] * 20, abs=1e-9)
    assert all_free(network)


def test_memory_noise_lowers_each_share_until_it_is_complete() -> None:
    network, _report = run(star_scenario("ghz", 3, 10, node={"qubits": 4, "memory_t_s": 1e-3}))
    fidelities = _session(network).ghz_fidelities
    assert len(fidelities) == 10 and max(fidelities) < 0.999


def test_one_correction_per_member_per_state() -> None:
    tracer = MemoryTracer()
    network = Network(parse_scenario(star_scenario("ghz", 4, 5)), tracer=tracer)
    run_network(network)
    sends = [
        r for r in tracer.records if r.direction == "send" and isinstance(r.message, GhzCorrection)
    ]
    assert len(sends) == 3 * 5
    assert {r.node for r in sends} == {"c"}
    assert sorted(r.peer for r in sends) == sorted(["m1", "m2", "m3"] * 5)
    creates = [r for r in tracer.records if r.direction == "down" and r.layer == "network"]
    assert len(creates) == 3 * 5 and {r.message.remote for r in creates} == {"m1", "m2", "m3"}


def test_a_centre_without_a_qubit_per_member_is_refused() -> None:
    scenario = star_scenario("ghz", 5, 3)
    scenario["nodes"][0]["qubits"] = 3  # four other members
    with pytest.raises(TopologyError, match=r"node 'c' has qubits = 3; .*at least 4"):
        Network(parse_scenario(scenario))
