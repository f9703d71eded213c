"""Failed swaps, gate errors and measurement errors against their closed forms.

* Waiting time on 3 nodes with link success p per slot and swap success a:
  E[T] = (3 - 2 p) / (a p (2 - p)) (``formulas.swap_asap_mean_slots``) against
  the exact absorbing Markov chain of the protocol, solved as a linear system.
* QKD on a swapped pair: pairs are swapped with a noisy Bell measurement,
  frame-corrected by the reported outcome and measured with flipped
  outcomes; the observed QBER is tested against
  (1 - w1 w2 (1 - p_g)(1 - 2 p_m)(1 - 2 p_a)(1 - 2 p_b)) / 2 with the exact
  binomial test (each pair's error is an independent Bernoulli of that mean).
"""

from __future__ import annotations

import numpy as np
import pytest
from _validation_helpers import ALPHA
from scipy import stats

from qstack.physics import BellDiagonal, DensityMatrixPair, formulas, swap_states_random
from qstack.physics.errors import OperationErrors
from qstack.physics.state import PairState, measure_with_errors


def markov_mean_slots(p: float, a: float) -> float:
    """Expected slots to absorption of the two-link protocol, from its transition matrix.

    Transient states: 0 = no link held, 1 = one link held (by symmetry which
    one does not matter).  Per slot each missing link succeeds with p; when
    both are held the swap happens in that slot and succeeds with a (absorb),
    else both links are lost (back to state 0).  E = (I - Q)^-1 1.
    """
    q = 1.0 - p
    both_then_fail = p * p * (1.0 - a)
    transient = np.array(
        [
            [q * q + both_then_fail, 2.0 * p * q],
            [p * (1.0 - a), q],
        ]
    )
    expected = np.linalg.solve(np.eye(2) - transient, np.ones(2))
    return float(expected[0])


@pytest.mark.parametrize("p", [0.01, 0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("a", [0.05, 0.5, 0.9, 1.0])
def test_waiting_time_with_swap_success(p: float, a: float) -> None:
    expected = markov_mean_slots(p, a)
    assert abs(formulas.swap_asap_mean_slots(p, a) - expected) <= 1e-9 * expected
    if a == 1.0:
        assert formulas.swap_asap_mean_slots(p, a) == formulas.swap_asap_mean_slots(p)


def test_waiting_time_monte_carlo() -> None:
    """The protocol simulated slot by slot: sample mean within z_(1 - ALPHA/2)
    standard errors (sample standard deviation over 20,000 runs) of the closed form."""
    rng = np.random.default_rng(17)
    p, a, runs = 0.3, 0.6, 20_000
    times = np.empty(runs)
    for run in range(runs):
        slots, held = 0, [False, False]
        while True:
            slots += 1
            for link in (0, 1):
                if not held[link] and rng.random() < p:
                    held[link] = True
            if held[0] and held[1]:
                if rng.random() < a:
                    break
                held = [False, False]
        times[run] = slots
    z = stats.norm.ppf(1.0 - ALPHA / 2.0)
    sigma = times.std(ddof=1) / np.sqrt(runs)
    assert abs(times.mean() - formulas.swap_asap_mean_slots(p, a)) < z * sigma


#: Pairs per run: the exact path costs ~100 times more per swap.
PAIRS = {"bell": 40_000, "density": 4_000}


def observed_qber(
    left: PairState,
    right: PairState,
    errors: OperationErrors,
    basis: str,
    flips: tuple[float, float],
    pairs: int,
    rng: np.random.Generator,
) -> int:
    mistakes = 0
    for _ in range(pairs):
        outcome, state = swap_states_random(left, right, rng, errors)
        state.pauli(outcome, 1)  # the far end applies the reported frame correction
        a, b = measure_with_errors(state, basis, basis, rng, *flips)
        mistakes += a != b
    return mistakes


@pytest.mark.slow
@pytest.mark.parametrize(
    ("representation", "basis", "seed"),
    [("bell", "Z", 1), ("bell", "X", 2), ("density", "Z", 3)],
)
def test_qber_after_noisy_swap(representation: str, basis: str, seed: int) -> None:
    f1, f2 = 0.97, 0.95
    p_g, p_m = 0.02, 0.03
    flips = (0.01, 0.04)
    errors = OperationErrors(p_g, p_m)
    left: PairState = BellDiagonal.werner(f1)
    right: PairState = BellDiagonal.werner(f2)
    if representation == "density":
        left = DensityMatrixPair.werner(f1)
        right = DensityMatrixPair.werner(f2)
    pairs = PAIRS[representation]
    mistakes = observed_qber(left, right, errors, basis, flips, pairs, np.random.default_rng(seed))
    xx, _, zz = formulas.chain_correlations_with_errors([f1, f2], p_g, p_m)
    expected = formulas.qber_with_measurement_errors(zz if basis == "Z" else xx, *flips)
    dist = stats.binom(pairs, expected)
    pvalue = min(1.0, 2.0 * min(dist.cdf(mistakes), dist.sf(mistakes - 1)))
    assert pvalue > ALPHA, (mistakes / pairs, expected, pvalue)
    # The errors matter at this sample size: the error-free QBER is rejected.
    ideal = formulas.qber_from_werner(formulas.swap_werner_fidelity(f1, f2))
    assert stats.binom(pairs, ideal).cdf(mistakes - 1) > 1.0 - ALPHA
