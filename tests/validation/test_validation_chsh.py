"""The CHSH estimator from sampled shots against S of the state.

Each replicate measures K pairs with settings drawn per pair and estimates
S = sum_xy sign_xy E_xy by per-setting means; given the shot counts each
mean is unbiased, so E[S_est] = S exactly (a setting without shots has
probability 4 (3/4)^K, below 1e-40 here).  Over R independent replicates
the mean of S_est is tested against S with z_(1 - ALPHA/2) standard errors
(sample standard deviation / sqrt R; S_est is an average of bounded terms,
close to normal).  The reported standard error is a plug-in of
Var(S_est) = sum (1 - E_xy^2) / n_xy: the replicates' sample variance is
tested against the mean reported variance with the chi-square quantiles of
R - 1 degrees of freedom (the mean of R plug-ins fluctuates by a relative
O(1 / sqrt(R K)), negligible beside the chi-square's sqrt(2 / R)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _validation_helpers import ALPHA
from scipy import stats

from qstack.physics import BellDiagonal, DensityMatrixPair, app_formulas
from qstack.physics.chsh import ChshTally, chsh_of_state, measure_chsh
from qstack.physics.state import PairState


def replicate(state: PairState, shots: int, runs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    estimates, errors = np.empty(runs), np.empty(runs)
    for run in range(runs):
        tally = ChshTally()
        for _ in range(shots):
            tally.add(measure_chsh(state, rng))
        estimate = tally.estimate()
        estimates[run], errors[run] = estimate.s, estimate.stderr
    return estimates, errors


def check(estimates: np.ndarray, errors: np.ndarray, expected: float) -> None:
    runs = estimates.size
    z = stats.norm.ppf(1.0 - ALPHA / 2.0)
    assert abs(estimates.mean() - expected) < z * estimates.std(ddof=1) / math.sqrt(runs)
    statistic = (runs - 1) * estimates.var(ddof=1) / np.mean(errors**2)
    chi2 = stats.chi2(runs - 1)
    assert chi2.ppf(ALPHA / 2.0) < statistic < chi2.ppf(1.0 - ALPHA / 2.0)


@pytest.mark.slow
@pytest.mark.parametrize(("fidelity", "seed"), [(1.0, 1), (0.9, 2), (0.7, 3)])
def test_estimator_unbiased_on_werner_pairs(fidelity: float, seed: int) -> None:
    estimates, errors = replicate(BellDiagonal.werner(fidelity), shots=400, runs=1000, seed=seed)
    check(estimates, errors, app_formulas.chsh_werner(fidelity))


@pytest.mark.slow
def test_estimator_on_a_non_bell_diagonal_pair() -> None:
    """Exact path: an amplitude-damped pair, S from its density matrix."""
    pair = DensityMatrixPair.werner(0.95)
    pair.amplitude_damp(0.2, 1)
    estimates, errors = replicate(pair, shots=200, runs=600, seed=4)
    check(estimates, errors, chsh_of_state(pair))
