"""The guarantees the specs list without a conformance clause, checked on
real runs (specs/physical.md, link.md, network.md, application.md)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from qstack.fsm import ProtocolError
from qstack.hardware.memory import Memory
from qstack.layers.app.pairs import PAIRS_LIFECYCLE, PairsSession
from qstack.layers.link.messages import LinkOk
from qstack.layers.network.messages import NetOk, PathInstall
from qstack.layers.physical.service import AttemptSetting
from qstack.layers.physical.station import HeraldingStation
from qstack.network import Network
from qstack.physics.hardware import PerfectMemory
from qstack.physics.heralding import AbstractHerald
from qstack.quantum.oracle import TruthOracle
from qstack.quantum.store import QuantumStore
from qstack.runner import run_network
from qstack.scenario import parse_scenario
from qstack.sim.kernel import Simulator
from qstack.sim.trace import MemoryTracer, TraceRecord


def _chain(requests: list[dict[str, Any]], hops: int = 2, qubits: int = 4) -> dict[str, Any]:
    return {
        "seed": 11,
        "run": {"until_s": 50.0},
        "topology": {
            "kind": "chain",
            "nodes": hops + 1,
            "spacing_km": 5.0,
            "node": {"qubits": qubits, "memory_t_s": 0.5},
            "link": {"model": "double-click"},
        },
        "requests": requests,
    }


def _run(data: dict[str, Any]) -> tuple[Network, list[TraceRecord]]:
    tracer = MemoryTracer()
    network = Network(parse_scenario(data), tracer=tracer)
    run_network(network)
    return network, tracer.records


REQUESTS = [
    {"app": "pairs", "src": "n0", "dst": "n2", "pairs": 40},
    {"app": "qkd", "src": "n2", "dst": "n0", "pairs": 200},
]


@pytest.fixture(scope="module")
def traced() -> tuple[Network, list[TraceRecord]]:
    return _run(_chain(REQUESTS))


def test_physical_attempts_need_both_sides_armed_with_equal_tags() -> None:
    sim = Simulator()
    store = QuantumStore()
    memories = (
        Memory(store.register("a", 2, PerfectMemory())),
        Memory(store.register("b", 2, PerfectMemory())),
    )
    station = HeraldingStation(
        sim, "a-b", memories, store, TruthOracle(store), 10, 5, np.random.default_rng(0)
    )
    side_a, side_b = station.ports
    setting = AttemptSetting(AbstractHerald(1.0, 0.9), 0.9, "abstract")
    side_a.attempt(0, 0, "one", setting)
    side_b.attempt(0, 0, "two", setting)
    assert not station.running  # tags differ: no attempts
    with pytest.raises(ProtocolError, match="heralding station: Attempt is not allowed"):
        side_a.attempt(0, 1, "one", setting)  # this side is armed already
    side_b.cancel(0)
    side_b.attempt(0, 0, "one", setting)
    assert station.running


def test_link_pair_ids_count_up_once_each_and_ok_times_are_delivery_times(
    traced: tuple[Network, list[TraceRecord]],
) -> None:
    _, records = traced
    ids: dict[tuple[str, str], list[int]] = defaultdict(list)
    for record in records:
        if isinstance(record.message, LinkOk):
            assert record.message.time_ps == record.time_ps
            ids[(record.node, record.message.remote)].append(record.message.pair_id)
    assert ids
    for end, pair_ids in ids.items():
        assert pair_ids == list(range(len(pair_ids))), end  # 0, 1, 2, ... each once


def test_net_ok_fields_follow_the_request_type(
    traced: tuple[Network, list[TraceRecord]],
) -> None:
    network, records = traced
    kinds = {request.request_id: request.create.type for request in network.requests}
    seen = set()
    for record in records:
        ok = record.message
        if isinstance(ok, NetOk):
            assert ok.time_ps == record.time_ps
            seen.add(kinds[ok.request_id])
            if kinds[ok.request_id] == "keep":
                assert ok.qubit is not None and ok.basis is None and ok.outcome is None
            else:
                assert ok.qubit is None and ok.basis in ("Z", "X") and ok.outcome in (0, 1)
    assert seen == {"keep", "measure"}


def test_network_messages_stay_on_the_circuit_path(
    traced: tuple[Network, list[TraceRecord]],
) -> None:
    _, records = traced
    paths: dict[str, tuple[str, ...]] = {}
    for record in records:
        message = record.message
        if record.layer != "network" or record.direction != "send":
            continue
        if isinstance(message, PathInstall):
            paths.setdefault(message.circuit, message.path)
            path = message.path
            assert path.index(record.peer or "") == path.index(record.node) + 1  # hop by hop
        circuit = getattr(message, "circuit", None)
        assert circuit is not None
        path = paths[circuit]
        assert record.node in path and record.peer in path, (record.node, record.peer, path)
    assert paths


def test_pairs_app_frees_each_qubit_when_it_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[int] = []
    original = PairsSession.on_pair

    def checking(host: Any, session: Any, now: int, ok: NetOk) -> None:
        original(host, session, now, ok)
        if ok.qubit is not None:
            assert host.memory.holders[ok.qubit] is None
            checked.append(ok.qubit)

    table = PAIRS_LIFECYCLE.with_handlers({original: checking}).fast()
    monkeypatch.setattr(PairsSession, "table", table)
    _run(_chain([REQUESTS[0]]))
    assert len(checked) == 2 * 40  # both ends, every pair


def test_fidelity_and_latency_means_are_what_the_spec_says(
    traced: tuple[Network, list[TraceRecord]],
) -> None:
    network, records = traced
    request = network.requests[0]
    at_source: dict[str, tuple[int, float]] = {}
    at_destination: dict[str, int] = {}
    for record in records:
        ok = record.message
        if isinstance(ok, NetOk) and ok.request_id == request.request_id:
            if record.node == request.src:
                at_source[ok.pair_id] = (record.time_ps, ok.fidelity)
            else:
                at_destination[ok.pair_id] = record.time_ps
    both = sorted(set(at_source) & set(at_destination))
    assert len(both) == request.delivered == 40
    fidelity_mean = statistics.fmean(at_source[p][1] for p in both)
    latency_ps = statistics.fmean(
        max(at_source[p][0], at_destination[p]) - request.start_ps for p in both
    )
    assert request.fidelity_mean == pytest.approx(fidelity_mean, abs=1e-12)
    assert request.latency_sum_ps / request.delivered == pytest.approx(latency_ps, rel=1e-12)
