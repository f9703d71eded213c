"""Property tests of the network layer over random small networks.

Random connected topologies (3-7 nodes: a random spanning tree plus up to
three extra links; lengths 0-20 km; abstract links of fidelity >= 0.97 or
double-click links without dark counts, whose heralded Psi+/Psi- pairs are
perfect but need a Pauli-frame correction), 1-4 perfect memory qubits a node,
and 1-3 requests between random distinct nodes (1-4 pairs, keep or measure,
every one with max_time_s so it must end; optional cutoff; optional
BBPSSW/DEJMPS purification with 1-2 rounds; swap ASAP).

Invariants checked on every example:
- every request ends (done / error / expired) and every circuit is torn
  down before run.until_s, after which every memory qubit is free;
- no link ever holds more qubits than its capacity (sampled after every
  traced message);
- each request's NET_OK pair ids are the same set at its source and at its
  destination, each end reports at most ``pairs`` pairs, "done" means all;
- every NET_OK's fidelity (both ends) equals the closed form over the path
  its PATH_INSTALL carried: each link's state (Werner F, or Phi+ for
  double-click) purified per round, then swapped (Bell indices compose by
  XOR) — exact with perfect memories, so a wrong Pauli frame anywhere (a
  link's herald, a swap outcome, a purification) would show.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from _network_helpers import (
    Bell,
    installed_paths,
    net_oks,
    pair_ids_by_end,
    path_fidelity,
    purified,
    request_ids,
    run_watched,
    werner_probabilities,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qstack.scenario import parse_scenario

UNTIL_S = 1.0
MAX_TIME_S = 0.02


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(3, 7))
    names = [f"v{i}" for i in range(n)]
    edges = [(draw(st.integers(0, i - 1)), i) for i in range(1, n)]
    others = [e for e in itertools.combinations(range(n), 2) if e not in edges]
    edges += draw(st.lists(st.sampled_from(others), max_size=3, unique=True))
    nodes = [{"name": name, "qubits": draw(st.integers(1, 4))} for name in names]
    links = []
    for i, j in edges:
        link: dict[str, Any] = {
            "a": names[i],
            "b": names[j],
            "length_km": draw(st.sampled_from([0.0, 20.0]) | st.floats(0.0, 20.0)),
        }
        if draw(st.booleans()):
            link |= {
                "model": "abstract",
                "success_probability": draw(st.floats(0.1, 1.0)),
                "attempt_duration_s": draw(st.sampled_from([1e-5, 1e-4])),
                "fidelity": draw(st.floats(0.97, 1.0)),
            }
        else:
            link["model"] = "double-click"
        links.append(link)
    requests = []
    for _ in range(draw(st.integers(1, 3))):
        src, dst = draw(st.permutations(names))[:2]
        request: dict[str, Any] = {
            "app": "pairs",
            "src": src,
            "dst": dst,
            "pairs": draw(st.integers(1, 4)),
            "max_time_s": draw(st.floats(1e-3, MAX_TIME_S)),
            "start_s": draw(st.sampled_from([0.0, 0.0, 1e-3])),
            "type": draw(st.sampled_from(["keep", "keep", "measure"])),
        }
        cutoff = draw(st.none() | st.floats(2e-4, 5e-3))
        if cutoff is not None:
            request["cutoff_s"] = cutoff
        scheme = draw(st.sampled_from(["none", "none", "bbpssw", "dejmps"]))
        if scheme != "none":
            request["purification"] = scheme
            request["purification_rounds"] = draw(st.integers(1, 2))
        requests.append(request)
    return {
        "seed": draw(st.integers(0, 2**16)),
        "run": {"until_s": UNTIL_S},
        "nodes": nodes,
        "links": links,
        "requests": requests,
    }


def _link_state(link: dict[str, Any]) -> Bell:
    if link["model"] == "abstract":
        return werner_probabilities(link["fidelity"])
    return (1.0, 0.0, 0.0, 0.0)  # double-click, no dark counts: Psi+/Psi- exactly


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_random_networks(data: dict[str, Any]) -> None:
    traced, watch = run_watched(parse_scenario(data))
    network, records = traced.network, traced.records

    # every request ended, every circuit torn down, in time; memory all free
    for request in network.requests:
        assert request.status in ("done", "error", "expired"), request.status
    assert all(entity.state != "serving" for entity in network.network_entities.values())
    assert traced.report.sim_time_s <= UNTIL_S
    for name, memory in network.memories.items():
        assert memory.free_count == memory.size, (name, memory.in_use())
    assert watch.violations == []

    # the same pairs at both ends, never more than asked
    ends = pair_ids_by_end(records)
    ids = request_ids(traced)
    for request, request_id in zip(network.requests, ids, strict=True):
        src_ids, dst_ids = ends.get(request_id, (set(), set()))
        assert src_ids == dst_ids, (request_id, request.status, request.error)
        assert set(request.pair_ids) == src_ids
        assert request.delivered == len(src_ids) <= request.create.number
        if request.status == "done":
            assert request.delivered == request.create.number

    # every reported fidelity is the closed form over the installed path
    states = {frozenset((link["a"], link["b"])): _link_state(link) for link in data["links"]}
    paths = installed_paths(records)
    creates = {i: request.create for request, i in zip(network.requests, ids, strict=True)}
    for _, _, ok in net_oks(records):
        create = creates[ok.request_id]
        path = paths[ok.request_id]
        assert (path[0], path[-1]) == (ok.src, ok.dst)
        rounds = create.purification_rounds if create.purification != "none" else 0
        expected = path_fidelity(
            purified(states[frozenset(hop)], create.purification, rounds)
            for hop in itertools.pairwise(path)
        )
        assert abs(ok.fidelity - expected) < 1e-9, (ok, path, expected)
        assert ok.bell_index == 0
