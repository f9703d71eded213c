"""Gate and measurement errors of the nodes in a run, against their closed forms.

Chain n0 - n1 - n2, abstract Werner links F1, F2, perfect memories, zero
length. The repeater n1 swaps with gate error p_g and measurement error p_m;
the ends measure each delivered pair (request type "measure", basis Z or X
chosen independently at each end) with flips f0, f2. The swapped pair is
Bell diagonal with w = w1 w2 (1 - p_g) (w_i = (4 F_i - 1) / 3):

    p_Phi+ = w (1 - p_m)^2 + (1 - w)/4      (``formulas.noisy_swap_probabilities``)

which is NET_OK.fidelity at both ends (the true state before measuring;
computed, not sampled: tolerance 1e-9). Its Z and X correlations are both
c = w (1 - 2 p_m), so on pairs measured in equal bases the error rate is

    QBER = (1 - c (1 - 2 f0)(1 - 2 f2)) / 2    (``formulas.qber_with_measurement_errors``).

Each such pair errs independently with that probability: the count of
errors is exactly binomial (two-sided exact test at ALPHA). Both the
Bell-diagonal path and the density-matrix path (T1/T2 memories with times
so long that the noise is far below the test's resolution: T1 = T2 = 1e9 s)
are run.
"""

from __future__ import annotations

from typing import Any

import pytest
from _network_helpers import ALPHA, EXACT, chain_dict, net_oks, run_traced
from scipy import stats

from qstack.physics import formulas
from qstack.scenario import parse_scenario

F1, F2 = 0.97, 0.94
P_G, P_M = 0.03, 0.02
FLIP_0, FLIP_2 = 0.01, 0.05


def _scenario(pairs: int, dense: bool) -> dict[str, Any]:
    data = chain_dict(
        [F1, F2],
        pairs=pairs,
        p=0.5,
        end_qubits=2,
        mid_qubits=4,
        seed=9,
        request={"type": "measure"},
    )
    n0, n1, n2 = data["nodes"]
    n0["measurement_error"] = FLIP_0
    n1["gate_error"] = P_G
    n1["measurement_error"] = P_M
    n2["measurement_error"] = FLIP_2
    if dense:
        for node in data["nodes"]:
            node.update(t1_s=1e9, t2_s=1e9)
    return data


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dense", "pairs"), [(False, 6000), (True, 1500)], ids=["bell-diagonal", "density-matrix"]
)
def test_qber_and_fidelity_after_a_noisy_swap(dense: bool, pairs: int) -> None:
    traced = run_traced(parse_scenario(_scenario(pairs, dense)))
    assert [r.status for r in traced.network.requests] == ["done"]
    w = formulas.werner_parameter(F1) * formulas.werner_parameter(F2) * (1.0 - P_G)
    fidelity = w * (1.0 - P_M) ** 2 + (1.0 - w) / 4.0
    assert formulas.noisy_swap_probabilities(F1, F2, P_G, P_M)[0] == pytest.approx(fidelity)
    by_pair: dict[str, dict[str, tuple[str, int]]] = {}
    for _, node, ok in net_oks(traced.records):
        assert ok.fidelity == pytest.approx(fidelity, abs=EXACT if not dense else 1e-6)
        assert ok.basis is not None and ok.outcome is not None
        by_pair.setdefault(ok.pair_id, {})[node] = (ok.basis, ok.outcome)
    assert len(by_pair) == pairs
    sifted = [ends for ends in by_pair.values() if ends["n0"][0] == ends["n2"][0]]
    mistakes = sum(ends["n0"][1] != ends["n2"][1] for ends in sifted)
    expected = formulas.qber_with_measurement_errors(w * (1.0 - 2.0 * P_M), FLIP_0, FLIP_2)
    dist = stats.binom(len(sifted), expected)
    pvalue = min(1.0, 2.0 * min(dist.cdf(mistakes), dist.sf(mistakes - 1)))
    assert pvalue > ALPHA, (mistakes / len(sifted), expected)
    # the errors matter at this sample size: the error-free QBER is rejected
    ideal = formulas.qber_from_werner(formulas.swap_werner_fidelity(F1, F2))
    assert stats.binom(len(sifted), ideal).cdf(mistakes - 1) > 1.0 - ALPHA
