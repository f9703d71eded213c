"""Delivered end-to-end fidelity on repeater chains against closed forms.

Abstract links deliver Werner states, memories are perfect, so every
delivered pair's fidelity is deterministic: two Werner pairs of fidelities
F1, F2 swap to F1 F2 + (1 - F1)(1 - F2)/3, and a chain of any length (ASAP
or nested swapping, in whatever order the swaps happen) to the Werner state
whose parameter is the product of the links' parameters. Tolerance 1e-9
(floating point only). A wrong Pauli-frame correction would show as a
fidelity of (1 - F)/3-ish, far outside it.
"""

from __future__ import annotations

import pytest
from _network_helpers import (
    EXACT,
    chain_scenario,
    chain_werner_fidelity,
    net_oks,
    pair_ids_by_end,
    run_traced,
)

from qstack.layers.network.messages import SwapRecord
from qstack.physics import formulas


def _check_all_delivered(
    fidelities: list[float], expected: float, pairs: int, **options: object
) -> None:
    traced = run_traced(chain_scenario(fidelities, pairs=pairs, **options))
    request = traced.network.requests[0]
    assert request.status == "done", request.error
    assert request.delivered == pairs
    assert request.fidelities == pytest.approx([expected] * pairs, abs=EXACT)
    oks = net_oks(traced.records)
    assert len(oks) == 2 * pairs  # once at each end
    for _, _, ok in oks:
        assert ok.bell_index == 0
        assert ok.fidelity == pytest.approx(expected, abs=EXACT)
    src_ids, dst_ids = pair_ids_by_end(traced.records)[oks[0][2].request_id]
    assert src_ids == dst_ids and len(src_ids) == pairs


@pytest.mark.parametrize(
    ("lengths_km", "p"),
    [((0.0, 0.0), 0.5), ((5.0, 12.0), 0.2)],
    ids=["zero-length", "5km-12km"],
)
def test_two_hop_werner_swap(lengths_km: tuple[float, float], p: float) -> None:
    f1, f2 = 0.93, 0.81
    expected = f1 * f2 + (1.0 - f1) * (1.0 - f2) / 3.0
    assert formulas.swap_werner_fidelity(f1, f2) == pytest.approx(expected, abs=1e-15)
    _check_all_delivered([f1, f2], expected, pairs=25, p=p, lengths_km=lengths_km)


@pytest.mark.parametrize(
    "fidelities",
    [[0.97, 0.9, 0.85, 0.93], [0.97, 0.9, 0.85, 0.93, 0.88]],
    ids=["4-links", "5-links"],
)
def test_asap_chain_werner_parameters_multiply(fidelities: list[float]) -> None:
    expected = chain_werner_fidelity(fidelities)
    assert formulas.chain_fidelity(fidelities) == pytest.approx(expected, abs=1e-15)
    _check_all_delivered(
        fidelities,
        expected,
        pairs=15,
        p=0.3,
        end_qubits=2,
        mid_qubits=4,
        lengths_km=[1.0, 3.0, 0.0, 2.0, 7.0][: len(fidelities)],
    )


def test_nested_chain_werner_parameters_multiply() -> None:
    fidelities = [0.96, 0.87, 0.91, 0.83]
    expected = chain_werner_fidelity(fidelities)
    options = {
        "pairs": 15,
        "p": 0.3,
        "end_qubits": 2,
        "mid_qubits": 4,
        "lengths_km": [2.0, 0.0, 4.0, 1.0],
        "network": {"swap_policy": "nested"},
    }
    _check_all_delivered(fidelities, expected, **options)  # type: ignore[arg-type]
    # Nested means nested: n1 and n3 join single links (records span 2
    # links), n2 only joins the two 2-link halves (records span 4 links).
    traced = run_traced(chain_scenario(fidelities, **options))  # type: ignore[arg-type]
    spans: dict[str, set[int]] = {}
    for r in traced.records:
        if r.direction == "send" and isinstance(r.message, SwapRecord):
            spans.setdefault(r.node, set()).add(r.message.links)
    assert spans.get("n1") == {2} and spans.get("n3") == {2}
    assert spans.get("n2") == {4}
