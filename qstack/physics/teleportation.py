"""Teleporting one qubit through a pair: the Bell measurement and its corrections.

Qubit order C (the input), A (the sender's half), B (the receiver's half).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qstack.physics import density
from qstack.physics.errors import OperationErrors

Matrix = npt.NDArray[np.complex128]
Vector = npt.NDArray[np.complex128]


def bell_projections(rho_cab: Matrix) -> list[tuple[float, Matrix]]:
    """For each Bell outcome k on qubits (C, A): its probability and the
    normalised state of B."""
    tensor = rho_cab.reshape(2, 2, 2, 2, 2, 2)
    results = []
    for k in range(4):
        v = density.BELL_VECTORS[k].reshape(2, 2)
        rho_b = np.einsum("ca,cabdeg,de->bg", v.conj(), tensor, v)
        probability = float(np.real(np.trace(rho_b)))
        results.append((probability, rho_b / probability if probability > 0 else rho_b))
    return results


def noisy_bell_projections(
    outcomes: list[tuple[float, Matrix]], reduced_b: Matrix, errors: OperationErrors
) -> list[tuple[float, Matrix]]:
    """``bell_projections`` as a Bell-state measurement with gate and
    measurement errors reports them: (probability of reporting k, B's state
    filed under k). ``reduced_b`` is B's state when the measured qubits are
    depolarised (``density.report_bell_outcomes``)."""
    true = [probability * rho for probability, rho in outcomes]
    noisy = []
    for rho in density.report_bell_outcomes(true, reduced_b, errors):
        probability = float(np.real(np.trace(rho)))
        noisy.append((probability, rho / probability if probability > 0 else rho))
    return noisy


def _correction_table() -> tuple[int, ...]:
    """The Pauli the receiver applies for each Bell outcome when the pair is
    Phi+: found once by teleporting a generic state through an ideal pair."""
    psi = np.array([0.6, 0.8j], dtype=np.complex128)
    rho_cab = np.kron(np.outer(psi, psi.conj()), density.bell_state(0)).astype(np.complex128)
    table = []
    for _, rho_b in bell_projections(rho_cab):
        fidelities = []
        for pauli in range(4):
            p = density.pauli_matrix(pauli)
            fidelities.append(float(np.real(psi.conj() @ p @ rho_b @ p.conj().T @ psi)))
        table.append(int(np.argmax(fidelities)))
    return tuple(table)


#: The receiver's Pauli for each Bell outcome (through a Phi+ pair).
CORRECTION: tuple[int, ...] = _correction_table()
