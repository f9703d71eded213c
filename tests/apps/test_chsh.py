"""The chsh application over the stack: its protocol and its S against the closed form.

Tolerance: the session's S is the CHSH estimator of ``ChshTally`` over the
delivered pairs, unbiased given the per-setting shot counts, with the
reported standard error sqrt(sum (1 - E_xy^2) / n_xy) (a plug-in of the
exact variance; with thousands of shots its relative error is O(1/sqrt(n)),
about 2 %). S is a sum of four independent means of bounded terms, close to
normal, so |S - S_theory| < z_(1 - ALPHA/2) stderr fails with probability
about ALPHA for a correct implementation.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from scipy import stats

from qstack.layers.app.chsh import ChshRequestReport, ChshResults, ChshSession
from qstack.network import Network
from qstack.physics import app_formulas
from qstack.runner import run_network
from qstack.scenario import parse_scenario
from qstack.sim.trace import MemoryTracer
from tests.apps._apps_helpers import all_free, chain_scenario, run, werner_link

ALPHA = 1e-3
Z = float(stats.norm.ppf(1 - ALPHA / 2))


def _report(report: Any) -> ChshRequestReport:
    entry = report.requests[0]
    assert isinstance(entry, ChshRequestReport)
    assert entry.status == "done", entry.error
    return entry


def _check(entry: ChshRequestReport, expected: float) -> None:
    assert entry.chsh_s is not None and entry.chsh_s_stderr is not None
    assert abs(entry.chsh_s - expected) < Z * entry.chsh_s_stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fidelity", "seed"), [(1.0, 1), (0.9, 2), pytest.param(0.7, 3, marks=pytest.mark.slow)]
)
def test_werner_pairs_give_two_root_two_w(fidelity: float, seed: int) -> None:
    # One hop of Werner pairs of fidelity F, perfect memories: S = 2 sqrt 2 w,
    # w = (4F - 1)/3 (app_formulas.chsh_werner).
    network, report = run(
        chain_scenario({"app": "chsh", "pairs": 3000}, link=werner_link(fidelity), seed=seed)
    )
    entry = _report(report)
    assert entry.chsh_shots == 3000 == entry.delivered
    _check(entry, app_formulas.chsh_werner(fidelity))
    assert all_free(network)


@pytest.mark.slow
def test_measurement_errors_scale_every_correlation() -> None:
    # A flipped outcome at one end with probability p multiplies every
    # correlator E(x, y) by 1 - 2p; both ends: S = 2 sqrt 2 w (1 - 2 p_a)(1 - 2 p_b).
    fidelity, p = 0.95, 0.05
    _network, report = run(
        chain_scenario(
            {"app": "chsh", "pairs": 3000},
            link=werner_link(fidelity),
            node={"qubits": 4, "measurement_error": p},
            seed=4,
        )
    )
    _check(_report(report), app_formulas.chsh_werner(fidelity) * (1 - 2 * p) ** 2)


@pytest.mark.slow
def test_heralded_pairs_over_two_hops_violate_maximally() -> None:
    # Double-click pairs arrive as Psi+ / Psi- and swaps add frames: S = 2 sqrt 2
    # only if every frame correction reached the qubits the ends measure.
    network, report = run(
        chain_scenario(
            {"app": "chsh", "pairs": 1500},
            hops=2,
            link={"model": "double-click"},
            spacing_km=2.0,
            seed=5,
        )
    )
    _check(_report(report), 2 * math.sqrt(2))
    assert all_free(network)


def test_destination_sends_its_results_once_after_its_net_done() -> None:
    tracer = MemoryTracer()
    network = Network(
        parse_scenario(chain_scenario({"app": "chsh", "pairs": 40}, spacing_km=5.0)),
        tracer=tracer,
    )
    run_network(network)
    sends = [
        r for r in tracer.records if r.direction == "send" and isinstance(r.message, ChshResults)
    ]
    assert len(sends) == 1
    send = sends[0]
    assert (send.node, send.peer) == ("n1", "n0")
    done_at_dst = [
        r.time_ps
        for r in tracer.records
        if r.node == "n1" and r.direction == "up" and r.message.kind == "NET_DONE"
    ]
    assert done_at_dst == [send.time_ps]
    assert len(send.message.settings) == len(send.message.outcomes) == 40


def test_same_seed_same_result_and_the_ends_draw_their_own_settings() -> None:
    scenario = chain_scenario({"app": "chsh", "pairs": 200}, link=werner_link(0.9), seed=9)
    first, second = run(scenario)[0], run(scenario)[0]
    a, b = first.requests[0], second.requests[0]
    assert isinstance(a, ChshSession) and isinstance(b, ChshSession)
    assert a._ends[0].results == b._ends[0].results
    assert a._ends[1].results == b._ends[1].results
    settings_a = [x for x, _ in a._ends[0].results.values()]
    settings_b = [y for y, _ in a._ends[1].results.values()]
    assert settings_a != settings_b
