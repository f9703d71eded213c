"""Physics of qstack: pair states, noise, hardware and heralding models.

Two interchangeable pair representations share the ``PairState`` protocol:
``BellDiagonal`` (fast, four floats) and ``DensityMatrixPair`` (exact).
"""

from qstack.physics import app_formulas, density, formulas
from qstack.physics.bell import (
    BELL_NAMES,
    BellDiagonal,
    purify_bbpssw,
    purify_dejmps,
    swap,
    swap_random,
)
from qstack.physics.density import DensityMatrixPair
from qstack.physics.hardware import (
    DepolarizingMemory,
    Detector,
    Fiber,
    MemoryNoise,
    PerfectMemory,
    T1T2Memory,
)
from qstack.physics.heralding import (
    AbstractHerald,
    DoubleClickHerald,
    HeraldingModel,
    SingleClickHerald,
    choose_alpha,
)
from qstack.physics.state import PairState, swap_states, swap_states_random

__all__ = [
    "BELL_NAMES",
    "AbstractHerald",
    "BellDiagonal",
    "DensityMatrixPair",
    "DepolarizingMemory",
    "Detector",
    "DoubleClickHerald",
    "Fiber",
    "HeraldingModel",
    "MemoryNoise",
    "PairState",
    "PerfectMemory",
    "SingleClickHerald",
    "T1T2Memory",
    "app_formulas",
    "choose_alpha",
    "density",
    "formulas",
    "purify_bbpssw",
    "purify_dejmps",
    "swap",
    "swap_random",
    "swap_states",
    "swap_states_random",
]
