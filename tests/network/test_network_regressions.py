"""Minimal reproductions of network-layer bugs found by these tests.

An open bug is ``xfail(strict=True)``: the suite stays green while the bug
is there and turns red (XPASS) once it is fixed, so the mark gets removed.
A fixed one stays as a plain regression test.
"""

from __future__ import annotations

import pytest
from _network_helpers import chain_scenario, link_oks, net_oks, pair_ids_by_end, run_traced

from qstack.scenario import parse_scenario


def _one_hop_double_click(src: str, dst: str) -> dict[str, object]:
    return {
        "seed": 0,
        "nodes": [{"name": "a", "qubits": 1}, {"name": "b", "qubits": 1}],
        "links": [{"a": "a", "b": "b", "length_km": 0.0, "model": "double-click"}],
        "requests": [{"app": "pairs", "src": src, "dst": dst, "pairs": 3}],
    }


def test_one_hop_source_on_link_side_a_is_fine() -> None:
    """Control for the bug below: same link, request a -> b."""
    traced = run_traced(parse_scenario(_one_hop_double_click("a", "b")))
    assert traced.network.requests[0].fidelities == pytest.approx([1.0] * 3, abs=1e-9)


def test_one_hop_destination_on_link_side_a_frame() -> None:
    """Regression (bug at commit 3278131, fixed in the working tree by
    ``EntangledPair.heralded_index``): on a 1-hop circuit whose destination
    is the link's ``a`` end (side 0), the station called side 0's herald
    listener first; the destination delivered at once and applied its Pauli
    correction to the shared pair (``_deliver_at_destination`` -> ``_pauli``,
    also ``pair.bell_index ^= k``); side 1's link layer then reported the
    corrected ``pair.bell_index``, the two LINK_OKs disagreed (3 vs 0) and
    the source reported every (perfect) pair with fidelity 0.0."""
    traced = run_traced(parse_scenario(_one_hop_double_click("b", "a")))
    oks = link_oks(traced.records)
    first_pair = [ok.bell_index for _, _, ok in oks if ok.pair_id == 0]
    assert len(set(first_pair)) == 1, f"the two ends report Bell indices {first_pair}"
    assert traced.network.requests[0].fidelities == pytest.approx([1.0] * 3, abs=1e-9)


def test_timeout_between_the_two_ends_deliveries() -> None:
    """Regression: every node used to apply the deadline on its own while
    each end delivered as soon as the last swap record reached it; here the
    record reaches the source at 1.01 ms and the destination, 100 km further,
    at 1.51 ms, so with max_time 1.2 ms the source delivered a pair the
    destination then dropped. With a deadline the source now commits each
    pair and the destination waits for the commits sent before it."""
    traced = run_traced(
        chain_scenario(
            [0.95, 0.95],
            pairs=1,
            p=1.0,
            duration_s=1e-5,
            lengths_km=[0.0, 100.0],
            request={"max_time_s": 1.2e-3},
        )
    )
    # The source delivered its pair at 1.01 ms, before the deadline, and
    # committed it; the destination delivers it when the commit arrives.
    assert traced.network.requests[0].status == "done"
    src_ids, dst_ids = pair_ids_by_end(traced.records)["n0#0"]
    at_source = [node for _, node, _ in net_oks(traced.records)]
    assert src_ids == dst_ids, f"source delivered {src_ids}, destination {dst_ids} ({at_source})"
