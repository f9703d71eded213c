"""BBPSSW and DEJMPS on the exact path: any two-qubit input states, noisy operations.

The same circuits as ``bell.purify_bbpssw`` / ``bell.purify_dejmps`` (whose
docstrings derive them), run on the 4-qubit density matrix: qubits 0, 1 are
the kept pair (sides a, b), 2, 3 the sacrificed one.  For Bell-diagonal
inputs the two paths agree (a property test checks it); this path also
keeps what a Pauli twirl would erase, e.g. after amplitude damping.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from qstack.physics import multiqubit as mq
from qstack.physics.density import BELL_VECTORS, Matrix, fidelity_pure, werner
from qstack.physics.errors import IDEAL_OPERATIONS, OperationErrors

Scheme = Literal["bbpssw", "dejmps"]

_RX_PLUS: Matrix = np.array([[1, -1j], [-1j, 1]], dtype=np.complex128) / math.sqrt(2.0)
_RX_MINUS: Matrix = _RX_PLUS.conj()


def werner_twirl(rho: Matrix) -> Matrix:
    """The Werner state with rho's Phi+ fidelity (the BBPSSW twirl, a physical operation)."""
    return werner(min(1.0, max(0.0, fidelity_pure(rho, BELL_VECTORS[0]))))


def purify_exact(
    rho_kept: Matrix,
    rho_sacrificed: Matrix,
    scheme: Scheme,
    errors: OperationErrors = IDEAL_OPERATIONS,
) -> tuple[float, Matrix]:
    """(success probability, state of the kept pair) after one purification round.

    BBPSSW twirls both inputs and the output to Werner form; DEJMPS applies
    Rx(pi/2) on side a and Rx(-pi/2) on side b first and returns the output
    in that rotated frame, as the fast path does.  Each side's CNOT is
    followed by the gate-error channel on its two qubits and each Z outcome
    is misreported with the measurement error.  A zero-probability success
    returns (0, I/4).
    """
    if scheme == "bbpssw":
        rho_kept, rho_sacrificed = werner_twirl(rho_kept), werner_twirl(rho_sacrificed)
    elif scheme != "dejmps":
        raise ValueError(f"scheme must be 'bbpssw' or 'dejmps', got {scheme!r}")
    rho = mq.tensor(rho_kept, rho_sacrificed)
    if scheme == "dejmps":
        for qubit, rotation in ((0, _RX_PLUS), (1, _RX_MINUS), (2, _RX_PLUS), (3, _RX_MINUS)):
            rho = mq.apply_unitary(rho, rotation, [qubit])
    for control, target in ((0, 2), (1, 3)):
        rho = mq.apply_unitary(rho, mq.CNOT, [control, target])
        rho = mq.depolarize(rho, [control, target], errors.gate_error)
    flip = errors.measurement_error
    kept: Matrix = np.zeros((4, 4), dtype=np.complex128)
    for reported, branch in enumerate(mq.measure(rho, 3, "Z", flip)):
        kept += mq.measure(branch, 2, "Z", flip)[reported]  # keep when both report the same
    probability = mq.probability_of(kept)
    if probability <= 0.0:
        return 0.0, np.eye(4, dtype=np.complex128) / 4.0
    out = kept / probability
    return probability, werner_twirl(out) if scheme == "bbpssw" else out
