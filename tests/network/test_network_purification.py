"""Link-level purification (BBPSSW, DEJMPS) against closed forms.

Fidelity (deterministic, tolerance 1e-9): abstract links give Werner pairs
of fidelity F and memories are perfect, so every purified link pair has
the same state: BBPSSW (twirled) F' = (F^2 + e^2)/(F^2 + 2Fe + 5e^2),
e = (1-F)/3, applied once per round; DEJMPS maps the Bell-diagonal
(A, B, C, D) = (Phi+, Psi-, Psi+, Phi-) to ((A^2+B^2), 2CD, (C^2+D^2), 2AB)/N,
N = (A+B)^2 + (C+D)^2 (not Werner after one round, so two rounds differ
from BBPSSW). Over two hops the purified link states are then swapped:
Pauli errors compose by XOR of Bell indices, F = sum_k p_k q_k.

Success probability (exact tests at alpha = 1e-3), 1 hop, 1 round: each
purification attempt consumes two link pairs and succeeds with
p_s = F^2 + 2Fe + 5e^2, independently, so for N delivered pairs the number
A of attempts has A - N ~ NegativeBinomial(N, p_s), and the number of
successful attempts among A is exactly N. The station's link-pair count S
is 2A plus the pairs made but unused when the circuit closes (0 to 2 with
two qubits a side), so S/N estimates 2/p_s with standard deviation
2 sqrt(1 - p_s)/(p_s sqrt N) (+ at most 2/N of leftovers).
"""

from __future__ import annotations

import math

import pytest
from _network_helpers import (
    ALPHA,
    EXACT,
    bbpssw_round,
    chain_scenario,
    dejmps_round,
    negative_binomial_pvalue,
    path_fidelity,
    purified,
    run_traced,
    werner_probabilities,
)

from qstack.layers.network.messages import PurifyOutcome
from qstack.physics import formulas


def test_independent_forms_match_qstack_formulas() -> None:
    for f in (0.6, 0.75, 0.9, 0.99):
        p, out = bbpssw_round(werner_probabilities(f))
        assert (p, out[0]) == pytest.approx(formulas.bbpssw(f), abs=1e-14)
        n, state = dejmps_round(werner_probabilities(f))
        n_q, state_q = formulas.dejmps(werner_probabilities(f))
        assert n == pytest.approx(n_q, abs=1e-14)
        assert state == pytest.approx(state_q, abs=1e-14)
        # one round on Werner input: DEJMPS and BBPSSW agree in fidelity
        assert state[0] == pytest.approx(out[0], abs=1e-14)


CASES = [
    # (scheme, rounds, link fidelities, lengths)
    ("bbpssw", 1, (0.8,), (0.0,)),
    ("bbpssw", 2, (0.8,), (3.0,)),
    ("bbpssw", 1, (0.85, 0.75), (0.0, 0.0)),
    ("bbpssw", 2, (0.85, 0.75), (2.0, 5.0)),
    ("dejmps", 1, (0.8,), (0.0,)),
    ("dejmps", 2, (0.8,), (3.0,)),
    ("dejmps", 1, (0.85, 0.75), (0.0, 0.0)),
    ("dejmps", 2, (0.85, 0.75), (2.0, 5.0)),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scheme", "rounds", "fidelities", "lengths"),
    CASES,
    ids=[f"{s}-{r}round-{len(f)}hop" for s, r, f, _ in CASES],
)
def test_purified_fidelity(
    scheme: str, rounds: int, fidelities: tuple[float, ...], lengths: tuple[float, ...]
) -> None:
    links = [purified(werner_probabilities(f), scheme, rounds) for f in fidelities]
    expected = path_fidelity(links)
    if scheme == "bbpssw":  # twirled: Werner in, Werner out, then Werner swap
        per_link = []
        for f in fidelities:
            for _ in range(rounds):
                f = formulas.bbpssw(f)[1]
            per_link.append(f)
        assert expected == pytest.approx(formulas.chain_fidelity(per_link), abs=1e-14)
    elif len(fidelities) == 1:
        state = werner_probabilities(fidelities[0])
        for _ in range(rounds):
            state = formulas.dejmps(state)[1]
        assert expected == pytest.approx(state[0], abs=1e-14)
    qubits = rounds + 1  # a link side must hold rounds + 1 pairs at once
    traced = run_traced(
        chain_scenario(
            list(fidelities),
            pairs=20,
            p=0.5,
            lengths_km=lengths,
            end_qubits=qubits,
            mid_qubits=2 * qubits,
            network={"purification": scheme, "purification_rounds": rounds},
        )
    )
    request = traced.network.requests[0]
    assert request.status == "done", request.error
    assert request.delivered == 20
    assert request.fidelities == pytest.approx([expected] * 20, abs=EXACT)
    if rounds == 2 and len(fidelities) == 1:
        # two DEJMPS rounds beat two BBPSSW rounds here: the cases differ
        other = "dejmps" if scheme == "bbpssw" else "bbpssw"
        alternative = purified(werner_probabilities(fidelities[0]), other, 2)[0]
        assert abs(alternative - expected) > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize(("scheme", "seed"), [("bbpssw", 11), ("dejmps", 12)])
def test_purification_success_probability(scheme: str, seed: int) -> None:
    f = 0.7
    p_success = formulas.bbpssw(f)[0]  # 0.68 at F = 0.7; DEJMPS on Werner: the same
    assert dejmps_round(werner_probabilities(f))[0] == pytest.approx(p_success, abs=1e-14)
    pairs = 600
    traced = run_traced(
        chain_scenario(
            [f],
            pairs=pairs,
            p=0.5,
            end_qubits=2,
            network={"purification": scheme, "purification_rounds": 1},
            seed=seed,
        )
    )
    request = traced.network.requests[0]
    assert request.status == "done", request.error
    assert request.delivered == pairs
    outcomes = [
        r.message
        for r in traced.records
        if r.direction == "send" and isinstance(r.message, PurifyOutcome)
    ]
    attempts = len(outcomes)
    successes = sum(o.success for o in outcomes)
    assert successes == pairs  # one successful round per delivered pair, no more
    p_value = negative_binomial_pvalue(attempts, pairs, p_success)
    assert p_value > ALPHA, f"{attempts} rounds for {pairs} successes, p = {p_value:.2e}"
    link_pairs = traced.report.links[0].successes
    assert 0 <= link_pairs - 2 * attempts <= 2  # leftovers: at most one per qubit
    per_pair = link_pairs / pairs
    sigma = 2.0 * math.sqrt(1.0 - p_success) / (p_success * math.sqrt(pairs))
    assert abs(per_pair - 2.0 / p_success) <= 4.0 * sigma + 2.0 / pairs, (
        f"{per_pair:.3f} link pairs per delivered pair vs 2/p = {2 / p_success:.3f}"
    )
