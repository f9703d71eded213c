"""Shared helpers of the validation-against-theory tests.

Scenario builders for a two-node network, a run wrapper that also returns
the delivery times of every pair, and the exact statistical tests the
tolerances are built on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy import stats

from qstack.layers.link.messages import LinkOk
from qstack.network import Network
from qstack.runner import RunReport, run_network
from qstack.scenario import Scenario, parse_scenario
from qstack.sim.trace import MemoryTracer

#: Significance of every statistical check in this directory.  With ~25 such
#: checks the chance that a correct implementation fails one of them for a
#: fresh choice of seeds is below 25 * 1e-3 = 2.5 %; the seeds are fixed, so a
#: given commit either passes or fails deterministically.
ALPHA = 1e-3

#: Simulated-time limit large enough that no request is cut short: every test
#: asserts its request finished with status "done".
LONG_RUN_S = 1.0e4


def node(name: str, qubits: int = 2, **memory: float) -> dict[str, Any]:
    """One ``[[nodes]]`` entry; ``memory`` takes memory_t_s or t1_s/t2_s."""
    return {"name": name, "qubits": qubits, **memory}


def abstract_link(p: float, duration_s: float, fidelity: float) -> dict[str, Any]:
    return {
        "model": "abstract",
        "length_km": 1.0,
        "success_probability": p,
        "attempt_duration_s": duration_s,
        "fidelity": fidelity,
    }


def two_node_scenario(
    link: dict[str, Any],
    pairs: int,
    *,
    nodes: tuple[dict[str, Any], dict[str, Any]] | None = None,
    min_fidelity: float | None = None,
    seed: int = 1,
    until_s: float = LONG_RUN_S,
) -> Scenario:
    """Nodes "a" and "b", one link between them, one ``pairs`` request a -> b."""
    request: dict[str, Any] = {"app": "pairs", "src": "a", "dst": "b", "pairs": pairs}
    if min_fidelity is not None:
        request["min_fidelity"] = min_fidelity
    a, b = nodes if nodes is not None else (node("a"), node("b"))
    return parse_scenario(
        {
            "seed": seed,
            "run": {"until_s": until_s},
            "nodes": [a, b],
            "links": [{"a": "a", "b": "b", **link}],
            "requests": [request],
        }
    )


@dataclass
class RunResult:
    """What one run gave: the network (stations, requests), the report and the
    times (ps) at which the origin "a" was told of each pair."""

    network: Network
    report: RunReport
    delivery_ps: list[int]


def run(scenario: Scenario, seed: int | None = None) -> RunResult:
    tracer = MemoryTracer()
    network = Network(scenario, seed, tracer)
    report = run_network(network)
    times = [
        r.time_ps
        for r in tracer.records
        if r.node == "a" and r.direction == "up" and isinstance(r.message, LinkOk)
    ]
    return RunResult(network, report, times)


def negative_binomial_pvalue(attempts: int, successes: int, p: float) -> float:
    """Exact two-sided p-value of ``attempts`` attempts for ``successes`` successes.

    The station counts, per success, the attempts up to and including it: a
    Geometric(p) on {1, 2, ...} with mean 1/p and variance (1 - p)/p^2.  Over n
    successes the total A is their sum, so A - n (the failures) is exactly
    NegativeBinomial(n, p) (scipy's ``nbinom`` counts failures).  The
    estimator p_hat = n / A has, by the delta method, standard deviation
    p sqrt((1 - p) / n); instead of a normal approximation we test A itself
    with the exact distribution: p-value = 2 min(P(X <= k), P(X >= k)).
    """
    failures = attempts - successes
    if failures < 0:
        return 0.0
    dist = stats.nbinom(successes, p)
    return float(min(1.0, 2.0 * min(dist.cdf(failures), dist.sf(failures - 1))))


def estimator_sigma(p: float, successes: int) -> float:
    """Delta-method standard deviation of p_hat = n / A (for reporting only)."""
    return p * math.sqrt((1.0 - p) / successes)


def half_arm_efficiency(
    length_km: float,
    emission: float,
    detector: float,
    attenuation_db_per_km: float = 0.2,
) -> float:
    """eta = emission x 10^(-att (L/2) / 10) x detector: one node to the mid-point."""
    return emission * 10.0 ** (-attenuation_db_per_km * (length_km / 2.0) / 10.0) * detector
