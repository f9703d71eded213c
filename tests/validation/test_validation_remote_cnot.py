"""Remote CNOT fidelity over random input states against the closed form.

Inputs are Haar-random two-qubit pure states (normalised complex Gaussian
vectors); each is sent through one sampled run of the protocol (outcomes
drawn from their true distribution, the corrections applied) and scored by
<psi| CNOT^dag rho_out CNOT |psi>.  The mean over pure inputs of that
fidelity is the average gate fidelity F_avg = (d F_e + 1)/(d + 1) with d = 4
(Horodecki et al. 1999; Nielsen 2002), F_e from
``app_formulas.remote_cnot_entanglement_fidelity``.  Each score lies in
[0, 1]; the sample mean of K runs is tested against F_avg with
z_(1 - ALPHA/2) sample standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _validation_helpers import ALPHA
from scipy import stats

from qstack.physics import BellDiagonal, app_formulas
from qstack.physics.errors import OperationErrors
from qstack.physics.remote_gate import remote_cnot

CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=np.complex128)
RUNS = 3000


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fidelity", "gate_error", "measurement_error", "seed"),
    [(0.9, 0.0, 0.0, 1), (0.75, 0.0, 0.0, 2), (0.95, 0.03, 0.02, 3)],
)
def test_average_gate_fidelity_over_random_inputs(
    fidelity: float, gate_error: float, measurement_error: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    pair = BellDiagonal.werner(fidelity)
    errors = OperationErrors(gate_error, measurement_error)
    scores = np.empty(RUNS)
    for run in range(RUNS):
        psi = rng.normal(size=4) + 1j * rng.normal(size=4)
        psi /= np.linalg.norm(psi)
        out = remote_cnot(np.outer(psi, psi.conj()), pair, rng, errors).state
        target = CNOT @ psi
        scores[run] = float(np.real(target.conj() @ out @ target))
    f_e = app_formulas.remote_cnot_entanglement_fidelity(
        pair.probabilities(), gate_error, measurement_error
    )
    expected = app_formulas.average_gate_fidelity(f_e)
    if gate_error == measurement_error == 0.0:
        assert expected == pytest.approx(
            app_formulas.remote_cnot_average_gate_fidelity_werner(fidelity)
        )
    z = stats.norm.ppf(1.0 - ALPHA / 2.0)
    assert abs(scores.mean() - expected) < z * scores.std(ddof=1) / math.sqrt(RUNS)
