"""Shared helpers of the network-layer validation and property tests.

Scenario builders (chains of abstract links), a traced run wrapper, trace
queries (NET_OKs, installed paths, link OKs), a memory watcher that samples
every node's memory after every traced message, and the independent
closed forms the tests compare against (written here from the physics, not
taken from ``qstack``, so a shared mistake cannot hide).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from qstack.layers.link.messages import LinkOk
from qstack.layers.network.messages import NetCreate, NetOk, PathInstall
from qstack.network import Network
from qstack.runner import RunReport, run_network
from qstack.scenario import Scenario, parse_scenario
from qstack.sim.trace import MemoryTracer, TraceRecord

#: Significance of every exact statistical test in this directory. About ten
#: such tests run; for fresh seeds a correct implementation would fail one
#: with probability below 10 * 1e-3 = 1 %. The seeds are fixed, so a given
#: commit passes or fails deterministically.
ALPHA = 1e-3

#: Tolerance of values the simulation computes exactly (no sampling).
EXACT = 1e-9

#: Simulated-time limit that never cuts a validation run short (each test
#: asserts its requests ended "done").
LONG_RUN_S = 1.0e4

Bell = tuple[float, float, float, float]


# -- scenarios ------------------------------------------------------------------


def abstract_link(
    a: str,
    b: str,
    fidelity: float,
    *,
    p: float = 0.5,
    duration_s: float = 1e-3,
    length_km: float = 0.0,
) -> dict[str, Any]:
    """One abstract ``[[links]]`` entry between ``a`` and ``b``."""
    return {
        "a": a,
        "b": b,
        "length_km": length_km,
        "model": "abstract",
        "success_probability": p,
        "attempt_duration_s": duration_s,
        "fidelity": fidelity,
    }


def chain_dict(
    fidelities: Sequence[float],
    *,
    pairs: int,
    p: float = 0.5,
    duration_s: float = 1e-3,
    lengths_km: Sequence[float] | None = None,
    end_qubits: int = 1,
    mid_qubits: int = 2,
    memory_t_s: float | None = None,
    network: dict[str, Any] | None = None,
    request: dict[str, Any] | None = None,
    seed: int = 1,
    until_s: float = LONG_RUN_S,
    prefix: str = "n",
) -> dict[str, Any]:
    """A chain ``n0 - n1 - ... - nK`` of abstract links (link i has fidelity
    ``fidelities[i]``) and one ``pairs`` request from n0 to nK."""
    hops = len(fidelities)
    names = [f"{prefix}{i}" for i in range(hops + 1)]
    lengths = list(lengths_km) if lengths_km is not None else [0.0] * hops
    memory: dict[str, Any] = {} if memory_t_s is None else {"memory_t_s": memory_t_s}
    nodes = [
        {"name": name, "qubits": end_qubits if i in (0, hops) else mid_qubits, **memory}
        for i, name in enumerate(names)
    ]
    links = [
        abstract_link(names[i], names[i + 1], f, p=p, duration_s=duration_s, length_km=lengths[i])
        for i, f in enumerate(fidelities)
    ]
    data: dict[str, Any] = {
        "seed": seed,
        "run": {"until_s": until_s},
        "nodes": nodes,
        "links": links,
        "requests": [
            {"app": "pairs", "src": names[0], "dst": names[-1], "pairs": pairs, **(request or {})}
        ],
    }
    if network:
        data["network"] = network
    return data


def disjoint_chains(
    count: int,
    seed: int,
    *,
    p: float,
    duration_s: float,
    repeater: dict[str, Any] | None = None,
    request: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``count`` disjoint zero-length chains a<k> - m<k> - b<k> of abstract links
    (one qubit per link side), one 1-pair request a<k> -> b<k> each: many
    independent samples of a two-link repeater's first pair in one run
    (disjoint components share nothing but the clock; every station and
    node has its own named random stream). ``repeater``: extra keys of each
    m<k>; ``request``: extra keys of each request."""
    nodes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    requests: list[dict[str, Any]] = []
    for k in range(count):
        a, m, b = f"a{k}", f"m{k}", f"b{k}"
        nodes += [
            {"name": a, "qubits": 1},
            {"name": m, "qubits": 2, **(repeater or {})},
            {"name": b, "qubits": 1},
        ]
        links += [
            abstract_link(a, m, 0.95, p=p, duration_s=duration_s),
            abstract_link(m, b, 0.95, p=p, duration_s=duration_s),
        ]
        requests.append({"app": "pairs", "src": a, "dst": b, "pairs": 1, **(request or {})})
    return {
        "seed": seed,
        "run": {"until_s": 1.0e4},
        "nodes": nodes,
        "links": links,
        "requests": requests,
    }


def first_pairs_at_source(traced: Traced) -> list[int]:
    """When each request's source was given its first pair (all requests done)."""
    assert all(r.status == "done" for r in traced.network.requests)
    first: dict[str, int] = {}
    for time_ps, node, ok in net_oks(traced.records):
        if node == ok.src:
            first.setdefault(ok.request_id, time_ps)
    assert len(first) == len(traced.network.requests)
    return list(first.values())


def chain_scenario(fidelities: Sequence[float], **options: Any) -> Scenario:
    """``chain_dict`` parsed into a scenario."""
    return parse_scenario(chain_dict(fidelities, **options))


# -- runs ---------------------------------------------------------------------------


@dataclass
class Traced:
    """A finished run: the network, its report and every traced message."""

    network: Network
    report: RunReport
    records: list[TraceRecord]


def run_traced(scenario: Scenario, seed: int | None = None) -> Traced:
    """Build the network of ``scenario`` with a memory tracer and run it."""
    tracer = MemoryTracer()
    network = Network(scenario, seed, tracer)
    report = run_network(network)
    return Traced(network, report, tracer.records)


def net_oks(records: Iterable[TraceRecord]) -> list[tuple[int, str, NetOk]]:
    """(time, node, NET_OK) of every NET_OK handed up, in trace order."""
    return [
        (r.time_ps, r.node, r.message)
        for r in records
        if r.layer == "network" and r.direction == "up" and isinstance(r.message, NetOk)
    ]


def link_oks(records: Iterable[TraceRecord]) -> list[tuple[int, str, LinkOk]]:
    """(time, node, link OK) of every link pair handed to the network layer."""
    return [
        (r.time_ps, r.node, r.message)
        for r in records
        if r.layer == "link" and r.direction == "up" and isinstance(r.message, LinkOk)
    ]


def installed_paths(records: Iterable[TraceRecord]) -> dict[str, tuple[str, ...]]:
    """Circuit id -> the path its PATH_INSTALL carried."""
    paths: dict[str, tuple[str, ...]] = {}
    for r in records:
        if isinstance(r.message, PathInstall):
            paths[r.message.circuit] = r.message.path
    return paths


def pair_ids_by_end(
    records: Iterable[TraceRecord],
) -> dict[str, tuple[set[str], set[str]]]:
    """Request id -> (pair ids NET_OK'd at its source, at its destination)."""
    ends: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for _, node, ok in net_oks(records):
        src_ids, dst_ids = ends[ok.request_id]
        if node == ok.src:
            src_ids.add(ok.pair_id)
        else:
            assert node == ok.dst, f"NET_OK of {ok.request_id} at {node}, neither end"
            dst_ids.add(ok.pair_id)
    return dict(ends)


def request_ids(traced: Traced) -> list[str]:
    """The network-layer request id of each of ``network.requests``, in order.

    Read from the request when it carries one, else from the trace: the
    k-th NET_CREATE a node issues gets the id its network layer announced,
    "<node>#<k>", and the traced NET_CREATE is the request's own object.
    """
    issued: dict[int, str] = {}
    count: dict[str, int] = defaultdict(int)
    for r in traced.records:
        if r.layer == "network" and r.direction == "down" and isinstance(r.message, NetCreate):
            issued[id(r.message)] = f"{r.node}#{count[r.node]}"
            count[r.node] += 1
    ids = []
    for request in traced.network.requests:
        known = getattr(request, "request_id", "")
        ids.append(known or issued[id(request.create)])
    return ids


# -- memory -------------------------------------------------------------------------


@dataclass
class MemoryWatch:
    """A tracer that, after every traced message, checks every node's memory.

    For each node it attributes every held qubit to one link: a qubit held
    by ``link/<peer>`` (armed for an attempt) to that link, any other held
    qubit to the link whose OK last reported it. The qubits attributed to a
    link may never exceed that link entity's capacity, nor a node's held
    qubits its size. Violations are collected (not raised inside the run).
    """

    records: list[TraceRecord] = field(default_factory=list)
    network: Network | None = None
    violations: list[str] = field(default_factory=list)
    peak: dict[str, int] = field(default_factory=dict)
    _owner: dict[tuple[str, int], str] = field(default_factory=dict)

    def record(self, record: TraceRecord) -> None:
        self.records.append(record)
        message = record.message
        if (
            record.layer == "link"
            and record.direction == "up"
            and isinstance(message, LinkOk)
            and message.qubit is not None
        ):
            self._owner[(record.node, message.qubit)] = message.remote
        if self.network is not None:
            self._check(record)

    def _check(self, record: TraceRecord) -> None:
        assert self.network is not None
        for node, memory in self.network.memories.items():
            per_link: dict[str, int] = defaultdict(int)
            held = 0
            for qubit, holder in enumerate(memory.holders):
                if holder is None:
                    continue
                held += 1
                if holder.startswith("link/"):
                    per_link[holder.removeprefix("link/")] += 1
                else:
                    owner = self._owner.get((node, qubit))
                    if owner is None:
                        self.violations.append(
                            f"{record.time_ps}: {node} qubit {qubit} held by {holder!r} "
                            "but no link OK ever reported it"
                        )
                        continue
                    per_link[owner] += 1
            self.peak[node] = max(self.peak.get(node, 0), held)
            if held > memory.size:
                self.violations.append(f"{record.time_ps}: {node} holds {held} > {memory.size}")
            for peer, count in per_link.items():
                capacity = self.network.link_entities[node][peer].capacity
                if count > capacity:
                    self.violations.append(
                        f"{record.time_ps}: {node} holds {count} qubits for link to {peer}, "
                        f"capacity {capacity}"
                    )


def run_watched(scenario: Scenario, seed: int | None = None) -> tuple[Traced, MemoryWatch]:
    """Like ``run_traced``, with a ``MemoryWatch`` sampling after every message."""
    watch = MemoryWatch()
    network = Network(scenario, seed, watch)
    watch.network = network
    report = run_network(network)
    return Traced(network, report, watch.records), watch


# -- physics, written out independently ---------------------------------------------


def werner_probabilities(fidelity: float) -> Bell:
    """Bell-diagonal probabilities (Phi+, Psi+, Phi-, Psi-) of a Werner state."""
    e = (1.0 - fidelity) / 3.0
    return (fidelity, e, e, e)


def werner_w(fidelity: float) -> float:
    """Werner parameter w of F = w + (1 - w)/4."""
    return (4.0 * fidelity - 1.0) / 3.0


def chain_werner_fidelity(fidelities: Iterable[float]) -> float:
    """Swapping Werner pairs multiplies their Werner parameters."""
    w = math.prod(werner_w(f) for f in fidelities)
    return (1.0 + 3.0 * w) / 4.0


def swap_bell(p: Bell, q: Bell) -> Bell:
    """Bell-diagonal state after swapping two Bell-diagonal pairs, Pauli frame
    corrected: the Pauli errors of the two pairs compose, and Bell indices
    (x bit = bit 0, z bit = bit 1) compose by XOR."""
    out = [0.0, 0.0, 0.0, 0.0]
    for i in range(4):
        for j in range(4):
            out[i ^ j] += p[i] * q[j]
    return (out[0], out[1], out[2], out[3])


def bbpssw_round(p: Bell) -> tuple[float, Bell]:
    """One BBPSSW round on two copies of ``p`` (twirled to Werner first and
    after): success probability F^2 + 2 F e + 5 e^2, F' = (F^2 + e^2)/success."""
    f = p[0]
    e = (1.0 - f) / 3.0
    success = f * f + 2.0 * f * e + 5.0 * e * e
    return success, werner_probabilities((f * f + e * e) / success)


def dejmps_round(p: Bell) -> tuple[float, Bell]:
    """One DEJMPS round on two copies of ``p`` = (Phi+, Psi+, Phi-, Psi-).

    Deutsch et al. with A, B, C, D = Phi+, Psi-, Psi+, Phi-:
    N = (A + B)^2 + (C + D)^2, A' = (A^2 + B^2)/N, B' = 2CD/N,
    C' = (C^2 + D^2)/N, D' = 2AB/N.
    """
    a, c, d, b = p
    n = (a + b) ** 2 + (c + d) ** 2
    return n, ((a * a + b * b) / n, (c * c + d * d) / n, 2.0 * a * b / n, 2.0 * c * d / n)


def purified(p: Bell, scheme: str, rounds: int) -> Bell:
    """``p`` after ``rounds`` rounds of ``scheme`` ("none", "bbpssw", "dejmps")."""
    for _ in range(rounds if scheme != "none" else 0):
        p = (bbpssw_round if scheme == "bbpssw" else dejmps_round)(p)[1]
    return p


def path_fidelity(links: Iterable[Bell]) -> float:
    """Fidelity with Phi+ of the end-to-end pair swapped from ``links``."""
    state: Bell = (1.0, 0.0, 0.0, 0.0)
    for link in links:
        state = swap_bell(state, link)
    return state[0]


def max_geometric_pmf(k: int, p: float) -> float:
    """P(max(G1, G2) = k), G1, G2 iid Geometric(p) on {1, 2, ...}:
    P(max <= k) = (1 - q^k)^2."""
    q = 1.0 - p
    return (1.0 - q**k) ** 2 - (1.0 - q ** (k - 1)) ** 2


def max_geometric_moments(p: float) -> tuple[float, float]:
    """Mean and variance of max(G1, G2).

    P(M >= k) = 1 - (1 - q^(k-1))^2 = 2 q^(k-1) - q^(2(k-1)), so with
    sum_{j>=0} r^j = 1/(1-r) and sum_{j>=0} (2j+1) r^j = (1+r)/(1-r)^2:
    E M = 2/(1-q) - 1/(1-q^2) = (3 - 2p)/(p (2 - p)),
    E M^2 = sum_k (2k-1) P(M >= k) = 2 (1+q)/(1-q)^2 - (1+q^2)/(1-q^2)^2.
    """
    q = 1.0 - p
    mean = 2.0 / (1.0 - q) - 1.0 / (1.0 - q * q)
    second = 2.0 * (1.0 + q) / (1.0 - q) ** 2 - (1.0 + q * q) / (1.0 - q * q) ** 2
    return mean, second - mean * mean


def two_sided_normal_quantile(alpha: float = ALPHA) -> float:
    """z with P(|Z| > z) = alpha."""
    return float(stats.norm.isf(alpha / 2.0))


def negative_binomial_pvalue(trials: int, successes: int, p: float) -> float:
    """Exact two-sided p-value of needing ``trials`` Bernoulli(p) trials for
    ``successes`` successes (the failures are NegativeBinomial(successes, p))."""
    failures = trials - successes
    if failures < 0:
        return 0.0
    dist = stats.nbinom(successes, p)
    return float(min(1.0, 2.0 * min(dist.cdf(failures), dist.sf(failures - 1))))
