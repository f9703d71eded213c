"""Imperfect local operations of a node: gate and measurement errors.

The model is the one of Dür, Briegel, Cirac and Zoller, "Quantum repeaters
based on entanglement purification", PRA 59, 169 (1999): a two-qubit gate
is the ideal gate followed by the two-qubit depolarising channel
rho -> (1 - p_g) rho + p_g I/4 (x) Tr_{gate qubits}(rho) on the qubits it acted
on, and a single-qubit measurement reports the wrong outcome with
probability p_m (their eta = 1 - p_m).  Single-qubit gates are perfect.

Both noises are Pauli channels: the depolarising channel is the uniform
mixture of the 16 two-qubit Paulis with weight p_g, and a flipped outcome
of a Z (X) measurement is an X (Z) error just before an ideal one.  That is
why every Bell-diagonal operation stays Bell-diagonal with them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from qstack.physics._validate import check_probability


@dataclass(frozen=True, slots=True)
class OperationErrors:
    """A node's ``gate_error`` p_g and ``measurement_error`` p_m, with derived weights.

    ``bsm_flip_weights[f]`` is the probability that a Bell-state measurement
    (CNOT, H, two Z measurements) reports outcome m ^ f when the true one is
    m: the target's outcome carries the X bit (f = 1), the control's the Z
    bit (f = 2), each flipped independently with p_m.
    """

    gate_error: float = 0.0
    measurement_error: float = 0.0
    gate_keep: float = field(init=False, repr=False, compare=False)
    parity_flip: float = field(init=False, repr=False, compare=False)
    bsm_flip_weights: tuple[float, float, float, float] = field(
        init=False, repr=False, compare=False
    )
    noisy: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        p_g = check_probability("gate_error", self.gate_error)
        p_m = check_probability("measurement_error", self.measurement_error)
        keep_m = 1.0 - p_m
        object.__setattr__(self, "gate_keep", 1.0 - p_g)
        # Two independent flips change the parity of two outcomes iff exactly one happens.
        object.__setattr__(self, "parity_flip", 2.0 * p_m * keep_m)
        object.__setattr__(
            self,
            "bsm_flip_weights",
            (keep_m * keep_m, p_m * keep_m, p_m * keep_m, p_m * p_m),
        )
        object.__setattr__(self, "noisy", p_g > 0.0 or p_m > 0.0)


#: Perfect local operations.
IDEAL_OPERATIONS = OperationErrors()


def flip_pauli(basis: str) -> int:
    """Pauli (x + 2 z encoding) equivalent to flipping a ``basis`` measurement's outcome.

    A Z (or Y) outcome flips under X, an X outcome under Z: applying that
    Pauli with probability p_m before an ideal measurement is a measurement
    whose outcome is flipped with probability p_m.
    """
    if basis in ("Z", "Y"):
        return 1
    if basis == "X":
        return 2
    raise ValueError(f"basis must be one of 'X', 'Y', 'Z', got {basis!r}")


def bilateral_errors(a: OperationErrors, b: OperationErrors) -> OperationErrors:
    """One ``OperationErrors`` standing for two ends' errors in a bilateral round.

    A purification round (``bell._bilateral_cnot_with_errors``) depends on the
    errors only through the chance g that neither end's CNOT depolarised,
    g = (1 - p_g,a)(1 - p_g,b), and the chance e that the two reported
    outcomes' parity is wrong, 1 - 2 e = (1 - 2 p_m,a)(1 - 2 p_m,b). Equal
    ends give the same numbers with p_g and p_m of either; otherwise the
    equivalent p_g = 1 - sqrt(g) and p_m = (1 - sqrt(1 - 2 e)) / 2 (p_m <= 1/2).
    """
    if a == b:
        return a
    parity = (1.0 - 2.0 * a.measurement_error) * (1.0 - 2.0 * b.measurement_error)
    if parity < 0.0:
        raise ValueError(
            "bilateral_errors needs measurement_error <= 0.5 at both ends, got "
            f"{a.measurement_error!r} and {b.measurement_error!r}"
        )
    keep = a.gate_keep * b.gate_keep
    return OperationErrors(1.0 - math.sqrt(keep), 0.5 * (1.0 - math.sqrt(parity)))
