"""Faults during a run: nodes that fail and come back, cut and repaired
fibers, lossy classical links, rerouting (``specs/network.md``, "Faults").

Every test ends with the same checks: every request ended, no qubit is held
at any node that is up, no network entity still serves a circuit, and the
two ends of every request that completed hold the same pairs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from _fault_helpers import RING, chain, pairs_request, scenario

import qstack
from examples.custom_link import FirstComeLink
from examples.protocol_link import FifoLink
from qstack.layers.link.egp import LinkLayer
from qstack.layers.link.service import LinkLayerFactory
from qstack.layers.network.messages import NetDone, NetError, NetExpire, NetOk, NetOkBatch
from qstack.network import FaultError, Network
from qstack.runner import run_network
from qstack.scenario import parse_scenario
from qstack.sim.classical import RETRANSMIT_MARGIN_PS, ClassicalNetwork
from qstack.sim.kernel import Simulator, seconds_to_ps
from qstack.sim.trace import MemoryTracer


def run(
    data: dict[str, Any], link_layer: LinkLayerFactory | None = None
) -> tuple[Network, MemoryTracer, qstack.RunReport]:
    tracer = MemoryTracer()
    network = Network(parse_scenario(data), tracer=tracer, link_layer=link_layer)
    report = run_network(network)
    assert_clean(network, tracer)
    return network, tracer, report


def assert_clean(network: Network, tracer: MemoryTracer) -> None:
    """Every request ended, memory is free and both ends agree."""
    for request in network.requests:
        assert request.finished, (request.name, request.state)
    for name, memory in network.memories.items():
        assert memory.free_count == memory.size, (name, memory.in_use())
        assert network.network_entities[name].state != "serving", name
    ended: dict[tuple[str, str], str] = {}
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in tracer.records:
        message = record.message
        if record.direction != "up":
            continue
        key = (getattr(message, "request_id", ""), record.node)
        if isinstance(message, NetOk):
            pairs[key].add(message.pair_id)
        elif isinstance(message, NetOkBatch):
            pairs[key].update(message.pair_ids)
        elif isinstance(message, NetExpire):
            pairs[key].discard(message.pair_id)
        elif isinstance(message, NetDone | NetError):
            # net/4.1: an end ends once, and NET_DONE is final.
            assert key not in ended, f"{key} ended twice: {ended[key]} then {message.kind}"
            ended[key] = message.kind
    for request in network.requests:
        src, dst = (request.request_id, request.src), (request.request_id, request.dst)
        if ended.get(src) == ended.get(dst) == "NET_DONE":
            assert pairs[src] == pairs[dst], request.name
            assert len(pairs[src]) == request.create.number
            assert request.delivered == request.create.number


def by_name(report: qstack.RunReport) -> dict[str, Any]:
    return {request.name: request for request in report.requests}


# -- node failures and rerouting -----------------------------------------------


@pytest.mark.slow
def test_ring_reroutes_around_a_failed_repeater() -> None:
    requests = [
        pairs_request("a", "c", 150, name="bulk"),
        {"app": "qkd", "src": "a", "dst": "c", "pairs": 600, "name": "key"},
    ]
    faults = [{"at_s": 0.01, "kind": "node_down", "node": "b"}]
    network, _, report = run(scenario(RING, requests, faults, reroute=True))
    requests_by_name = by_name(report)
    for name in ("bulk", "key"):
        request = requests_by_name[name]
        assert request.status == "done", request.error
        assert request.path == ["a", "d", "c"]
        assert request.reroutes == 1
    assert requests_by_name["key"].keys_match is True
    assert [(f.kind, f.node) for f in report.faults] == [("node_down", "b")]
    assert network.network_entities["b"].state == "down"


def test_without_reroute_a_broken_circuit_ends_the_request() -> None:
    faults = [{"at_s": 0.01, "kind": "node_down", "node": "b"}]
    _, _, report = run(scenario(RING, [pairs_request("a", "c", 150)], faults))
    (request,) = report.requests
    assert request.status == "error"
    assert request.error is not None and request.error.startswith("torn_down")
    assert "b" in request.error
    assert request.path == ["a", "b", "c"] and request.reroutes == 0


def test_routing_leaves_out_what_the_source_was_told_is_down() -> None:
    faults = [{"at_s": 0.01, "kind": "node_down", "node": "b"}]
    requests = [pairs_request("a", "c", 20, start_s=0.02)]
    _, _, report = run(scenario(RING, requests, faults))
    (request,) = report.requests
    assert request.status == "done" and request.path == ["a", "d", "c"]
    assert request.reroutes == 0


def test_a_request_to_a_node_the_source_was_told_is_down_has_no_path() -> None:
    """Found by the random fault schedules: the routing strategy was asked
    anyway, failed on a destination missing from its view, and the request
    ended ``invalid`` naming a KeyError."""
    faults = [{"at_s": 0.01, "kind": "node_down", "node": "c"}]
    requests = [pairs_request("a", "c", 20, start_s=0.05)]
    _, _, report = run(scenario(RING, requests, faults))
    (request,) = report.requests
    assert request.status == "error"
    assert request.error == "no_path: no path to 'c': a was told it is down"


def test_a_request_from_a_failed_node_gets_net_error_and_the_run_goes_on() -> None:
    faults = [{"at_s": 0.01, "kind": "node_down", "node": "b"}]
    requests = [
        pairs_request("b", "d", 10, start_s=0.02, name="from-b"),
        pairs_request("a", "c", 20, start_s=0.02, name="around-b"),
    ]
    _, tracer, report = run(scenario(RING, requests, faults))
    requests_by_name = by_name(report)
    failed = requests_by_name["from-b"]
    assert failed.status == "error" and failed.error == "torn_down: node b is down"
    assert requests_by_name["around-b"].status == "done"
    errors = [r for r in tracer.records if isinstance(r.message, NetError)]
    assert [(r.node, r.time_ps) for r in errors] == [("b", seconds_to_ps(0.02))]


def test_a_node_that_comes_back_is_routed_through_again() -> None:
    faults = [
        {"at_s": 0.01, "kind": "node_down", "node": "b"},
        {"at_s": 0.05, "kind": "node_up", "node": "b"},
    ]
    requests = [pairs_request("a", "c", 20, start_s=0.1), pairs_request("b", "d", 10, start_s=0.1)]
    network, _, report = run(scenario(RING, requests, faults))
    first, second = report.requests
    assert first.status == second.status == "done"
    assert first.path == ["a", "b", "c"]
    assert network.network_entities["b"].state == "idle"
    assert [f.kind for f in report.faults] == ["node_down", "node_up"]


def test_a_failed_end_ends_its_sessions_and_frees_every_memory() -> None:
    """The destination fails while the teleport session holds halves there."""
    data = scenario(
        chain(3), [{"app": "teleport", "src": "n0", "dst": "n2", "pairs": 400}], qubits=3
    )
    network = Network(parse_scenario(data), tracer=(tracer := MemoryTracer()))
    session = network.requests[0]
    network.sim.run(seconds_to_ps(10.0), lambda: session.delivered >= 50)
    network.fail_node("n2")
    run_network(network)
    assert_clean(network, tracer)
    assert session.status == "error" and session.error == "torn_down: node n2 failed"


def test_destination_failing_during_qkd_post_processing_ends_the_session_cleanly() -> None:
    """Net/4.1: NET_DONE is final; the session ends on its own terms."""
    data = scenario(chain(2, km=50.0), [{"app": "qkd", "src": "n0", "dst": "n1", "pairs": 200}])
    tracer = MemoryTracer()
    network = Network(parse_scenario(data), tracer=tracer)
    session = network.requests[0]
    network.sim.run(seconds_to_ps(10.0), lambda: session.state == "sifting")
    network.fail_node("n1")  # Bob's bases are on their way to Alice
    run_network(network)
    assert_clean(network, tracer)
    assert session.status == "error" and session.error == "node n1 failed"
    assert session.secret_key_bits == 0  # type: ignore[attr-defined]


def test_an_application_message_that_cannot_arrive_ends_its_session() -> None:
    """The fiber is cut while Bob's bases travel: Alice's answer has no way
    to Bob, her transport gives up and her end of the session ends."""
    data = scenario(chain(2, km=50.0), [{"app": "qkd", "src": "n0", "dst": "n1", "pairs": 200}])
    tracer = MemoryTracer()
    network = Network(parse_scenario(data), tracer=tracer)
    session = network.requests[0]
    network.sim.run(seconds_to_ps(10.0), lambda: session.state == "sifting")
    network.cut_link("n0", "n1")
    run_network(network)
    assert_clean(network, tracer)
    assert session.status == "error"
    assert session.error == "lost contact: n1 could not be reached (QKD_BASES)"


# -- fibers ----------------------------------------------------------------------


def test_a_cut_fiber_is_routed_around_and_used_again_once_repaired() -> None:
    faults = [
        {"at_s": 0.01, "kind": "link_down", "a": "b", "b": "c"},
        {"at_s": 0.2, "kind": "link_up", "a": "b", "b": "c"},
    ]
    requests = [
        pairs_request("a", "c", 150, name="cut-under-it"),
        pairs_request("a", "c", 20, start_s=0.3, name="after-repair"),
    ]
    _, _, report = run(scenario(RING, requests, faults, reroute=True))
    requests_by_name = by_name(report)
    rerouted = requests_by_name["cut-under-it"]
    assert rerouted.status == "done" and rerouted.path == ["a", "d", "c"]
    assert rerouted.reroutes == 1
    later = requests_by_name["after-repair"]
    assert later.status == "done" and later.path == ["a", "b", "c"]


def test_a_cut_with_no_way_around_ends_the_rerouted_request() -> None:
    faults = [{"at_s": 0.005, "kind": "link_down", "a": "n1", "b": "n2"}]
    _, _, report = run(scenario(chain(3), [pairs_request("n0", "n2", 500)], faults, reroute=True))
    (request,) = report.requests
    assert request.status == "error"
    assert request.error is not None and "no way around it" in request.error


@pytest.mark.parametrize(
    "faults",
    [
        # Cut and repaired at the same instant: the link's messages then in
        # flight are lost; both ends hear each other again before serving.
        [
            {"at_s": 0.01, "kind": "link_down", "a": "b", "b": "c"},
            {"at_s": 0.01, "kind": "link_up", "a": "b", "b": "c"},
        ],
        # Back before its neighbours can notice it failed (the fibers' delay
        # is 50 us): they learn both, in order, and nothing it held survives.
        [
            {"at_s": 0.01, "kind": "node_down", "node": "b"},
            {"at_s": 0.01001, "kind": "node_up", "node": "b"},
        ],
    ],
    ids=["cut-and-repaired-at-once", "back-within-a-fiber-delay"],
)
def test_faults_shorter_than_a_fiber_delay_end_cleanly(faults: list[dict[str, Any]]) -> None:
    _, _, report = run(scenario(RING, [pairs_request("a", "c", 150)], faults, reroute=True))
    (request,) = report.requests
    assert request.status == "done" and request.reroutes == 1


@pytest.mark.parametrize("protocol", [LinkLayer, FirstComeLink, FifoLink], ids=lambda p: p.__name__)
def test_every_link_protocol_of_the_examples_survives_faults(protocol: LinkLayerFactory) -> None:
    """The fault service (``LinkEntity.fault`` / ``undeliverable``) is part of
    the link Protocol: a protocol written from it alone rides out failures."""
    faults = [
        {"at_s": 0.005, "kind": "node_down", "node": "b"},
        {"at_s": 0.02, "kind": "node_up", "node": "b"},
        {"at_s": 0.025, "kind": "link_down", "a": "c", "b": "d"},
        {"at_s": 0.04, "kind": "link_up", "a": "c", "b": "d"},
    ]
    requests = [pairs_request("a", "c", 400), pairs_request("d", "b", 50, start_s=0.03)]
    _, _, report = run(scenario(RING, requests, faults, reroute=True), link_layer=protocol)
    assert [request.status for request in report.requests] == ["done", "done"]
    assert report.requests[0].reroutes == 2


def test_pairs_stored_across_a_cut_fiber_survive_it() -> None:
    """A cut stops heralds; it does not touch what the memories hold."""
    network = Network(parse_scenario(scenario(chain(2), [pairs_request("n0", "n1", 1)])))
    memory = network.memories["n0"]
    qubit = memory.allocate("app")
    assert qubit is not None
    network.cut_link("n0", "n1")
    assert memory.holders[qubit] == "app"


# -- faults from Python ------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda n: n.fail_node("zz"), "fail_node: unknown node 'zz'"),
        (lambda n: n.recover_node("a"), "recover_node: node 'a' is up"),
        (lambda n: (n.fail_node("a"), n.fail_node("a")), "fail_node: node 'a' is down already"),
        (lambda n: n.cut_link("a", "c"), "cut_link: no link joins 'a' and 'c'"),
        (lambda n: n.repair_link("a", "b"), "repair_link: the link 'a'-'b' is not cut"),
        (
            lambda n: n.set_classical_loss("a", "b", 1.0),
            "set_classical_loss: probability = 1.0: must be in [0, 1)",
        ),
    ],
)
def test_impossible_faults_are_refused_by_name(action: Any, message: str) -> None:
    network = Network(parse_scenario(scenario(RING, [pairs_request("a", "c", 1)])))
    with pytest.raises(FaultError) as caught:
        action(network)
    assert str(caught.value).startswith(message)


def test_faults_are_traced_and_reported_in_order() -> None:
    faults = [
        {"at_s": 0.001, "kind": "classical_loss", "a": "a", "b": "b", "probability": 0.2},
        {"at_s": 0.002, "kind": "link_down", "a": "c", "b": "d"},
        {"at_s": 0.003, "kind": "link_up", "a": "c", "b": "d"},
    ]
    _, tracer, report = run(scenario(RING, [pairs_request("a", "c", 5, start_s=0.004)], faults))
    traced = [r for r in tracer.records if r.message.kind == "FAULT"]
    assert [(r.time_ps, r.message.kind) for r in traced] == [
        (seconds_to_ps(t), "FAULT") for t in (0.001, 0.002, 0.003)
    ]
    assert [(f.at_s, f.kind, f.a, f.b, f.probability) for f in report.faults] == [
        (0.001, "classical_loss", "a", "b", 0.2),
        (0.002, "link_down", "c", "d", None),
        (0.003, "link_up", "c", "d", None),
    ]


# -- classical loss ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("loss", [0.1, 0.3])
def test_classical_loss_on_every_link_of_a_chain_is_survived(loss: float) -> None:
    links = chain(5)
    faults = [
        {"at_s": 0.0, "kind": "classical_loss", "a": a, "b": b, "probability": loss}
        for a, b, _ in links
    ]
    requests = [
        pairs_request("n0", "n4", 60, name="end-to-end"),
        pairs_request("n1", "n3", 60, name="middle"),
        {"app": "qkd", "src": "n0", "dst": "n2", "pairs": 300, "name": "key"},
    ]
    data = scenario(links, requests, faults, qubits=6)
    _, _, report = run(data)
    for request in report.requests:
        assert request.status == "done", (request.name, request.error)
    assert by_name(report)["key"].keys_match is True
    # The same scenario and seed give the same results, bit for bit.
    again = run(data)[2]
    assert again.model_dump(exclude={"wall_time_s"}) == report.model_dump(exclude={"wall_time_s"})


def test_lossy_hop_delays_follow_the_resend_law() -> None:
    """One hop of delay d losing each try with probability p: a message
    arrives after d + K (2d + m), K the failed tries, geometric with
    E[K] = p/(1-p) and Var[K] = p/(1-p)^2. Messages are sent one after the
    other arrived, so their delays are independent; the mean of n of them
    is within 5 standard errors of the law's."""
    sim = Simulator()
    network = ClassicalNetwork(sim, np.random.default_rng(11))
    delay, p, n = 50_000_000, 0.3, 4000
    network.add_link("x", "y", delay)
    network.set_loss("x", "y", p)
    delays: list[int] = []

    def arrived(sent_ps: int) -> None:
        delays.append(sim.now - sent_ps)
        if len(delays) < n:
            network.send("x", "y", ("x", "y"), delay, arrived, sim.now)

    network.send("x", "y", ("x", "y"), delay, arrived, sim.now)
    sim.run(until_ps=10**16)
    assert len(delays) == n
    resend = 2 * delay + RETRANSMIT_MARGIN_PS
    expected = delay + p / (1 - p) * resend
    standard_error = math.sqrt(p) / (1 - p) * resend / math.sqrt(n)
    assert abs(float(np.mean(delays)) - expected) < 5 * standard_error
    assert all((d - delay) % resend == 0 for d in delays)


def test_messages_arrive_in_order_and_once_even_when_resent() -> None:
    sim = Simulator()
    network = ClassicalNetwork(sim, np.random.default_rng(5))
    network.add_link("x", "y", 1_000)
    network.set_loss("x", "y", 0.5)
    got: list[int] = []
    for index in range(500):
        network.send("x", "y", ("x", "y"), 1_000, got.append, index)
    sim.run(until_ps=10**12)
    assert got == list(range(500))
