"""Physics of qstack: pair states, noise, hardware and heralding models.

Two interchangeable pair representations share the ``PairState`` protocol:
``BellDiagonal`` (fast, four floats) and ``DensityMatrixPair`` (exact).
Multipartite protocols (GHZ fusion, remote CNOT, sensing) run on the small
n-qubit density matrices of ``multiqubit``.
"""

from qstack.physics import (
    app_formulas,
    chsh,
    density,
    formulas,
    ghz,
    multiqubit,
    purification,
    remote_gate,
    sensing,
)
from qstack.physics.bell import (
    BELL_NAMES,
    BellDiagonal,
    purify_bbpssw,
    purify_dejmps,
    swap,
    swap_random,
    swap_random_with_errors,
    swap_with_errors,
)
from qstack.physics.density import DensityMatrixPair
from qstack.physics.errors import IDEAL_OPERATIONS, OperationErrors
from qstack.physics.hardware import (
    DepolarizingMemory,
    Detector,
    Fiber,
    HeraldTiming,
    MemoryNoise,
    PerfectMemory,
    StationGeometry,
    T1T2Memory,
)
from qstack.physics.heralding import (
    AbstractHerald,
    DoubleClickHerald,
    HeraldingModel,
    SingleClickHerald,
    choose_alpha,
)
from qstack.physics.state import (
    PairState,
    measure_with_errors,
    measurement_probabilities_with_errors,
    swap_states,
    swap_states_random,
)

__all__ = [
    "BELL_NAMES",
    "IDEAL_OPERATIONS",
    "AbstractHerald",
    "BellDiagonal",
    "DensityMatrixPair",
    "DepolarizingMemory",
    "Detector",
    "DoubleClickHerald",
    "Fiber",
    "HeraldTiming",
    "HeraldingModel",
    "MemoryNoise",
    "OperationErrors",
    "PairState",
    "PerfectMemory",
    "SingleClickHerald",
    "StationGeometry",
    "T1T2Memory",
    "app_formulas",
    "choose_alpha",
    "chsh",
    "density",
    "formulas",
    "ghz",
    "measure_with_errors",
    "measurement_probabilities_with_errors",
    "multiqubit",
    "purification",
    "purify_bbpssw",
    "purify_dejmps",
    "remote_gate",
    "sensing",
    "swap",
    "swap_random",
    "swap_random_with_errors",
    "swap_states",
    "swap_states_random",
    "swap_with_errors",
]
