"""Hardware parameters: fibres, detectors and quantum-memory noise."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from qstack.physics._validate import check_non_negative, check_positive, check_probability
from qstack.physics.density import DensityMatrixPair, T1T2PairChannel
from qstack.physics.formulas import dark_count_probability
from qstack.physics.state import PairState

PS_PER_S = 1e12


@dataclass(frozen=True, slots=True)
class Fiber:
    """Optical fibre link segment."""

    length_km: float
    attenuation_db_per_km: float = 0.2
    speed_km_per_s: float = 2.0e5

    def __post_init__(self) -> None:
        check_non_negative("length_km", self.length_km)
        check_non_negative("attenuation_db_per_km", self.attenuation_db_per_km)
        check_positive("speed_km_per_s", self.speed_km_per_s)

    @property
    def transmittance(self) -> float:
        """Photon survival probability 10^(-alpha L / 10)."""
        return math.pow(10.0, -self.attenuation_db_per_km * self.length_km / 10.0)

    @property
    def delay_ps(self) -> int:
        """One-way propagation delay on the integer picosecond clock."""
        return round(self.length_km / self.speed_km_per_s * PS_PER_S)


@dataclass(frozen=True, slots=True)
class Detector:
    """Single-photon detector; dark counts are per detection window."""

    efficiency: float = 1.0
    dark_count_probability: float = 0.0

    def __post_init__(self) -> None:
        check_probability("efficiency", self.efficiency)
        check_probability("dark_count_probability", self.dark_count_probability)

    @classmethod
    def from_dark_count_rate(
        cls, efficiency: float, dark_count_rate_hz: float, detection_window_s: float
    ) -> Detector:
        """A detector whose dark counts are a Poisson process of the given rate,
        seen through windows of the given length (``formulas.dark_count_probability``)."""
        return cls(efficiency, dark_count_probability(dark_count_rate_hz, detection_window_s))


@dataclass(frozen=True, slots=True)
class StationGeometry:
    """Where the heralding station sits on a link: ``station_km`` from node a.

    The arms are L_a = station_km and L_b = length_km - station_km; the
    default station is the mid-point.
    """

    length_km: float
    station_km: float

    def __post_init__(self) -> None:
        check_non_negative("length_km", self.length_km)
        check_non_negative("station_km", self.station_km)
        if self.station_km > self.length_km:
            raise ValueError(
                f"station_km must be <= length_km = {self.length_km!r}, got {self.station_km!r}"
            )

    @classmethod
    def midpoint(cls, length_km: float) -> StationGeometry:
        """The station in the middle (arms of length_km / 2 each)."""
        return cls(length_km, length_km / 2.0)

    @property
    def arms_km(self) -> tuple[float, float]:
        """(L_a, L_b)."""
        return self.station_km, self.length_km - self.station_km

    def arm_efficiencies(
        self,
        attenuation_db_per_km: float,
        emission_efficiency: float,
        detector_efficiency: float,
    ) -> tuple[float, float]:
        """Single-photon efficiency of each arm: emission x 10^(-alpha L_x / 10) x detector."""
        check_non_negative("attenuation_db_per_km", attenuation_db_per_km)
        check_probability("emission_efficiency", emission_efficiency)
        check_probability("detector_efficiency", detector_efficiency)
        arm_a, arm_b = self.arms_km
        return (
            emission_efficiency
            * Fiber(arm_a, attenuation_db_per_km).transmittance
            * detector_efficiency,
            emission_efficiency
            * Fiber(arm_b, attenuation_db_per_km).transmittance
            * detector_efficiency,
        )

    def timing(self, preparation_ps: int, speed_km_per_s: float = 2.0e5) -> HeraldTiming:
        """Per-side windows and the attempt cycle (see ``HeraldTiming``)."""
        check_positive("speed_km_per_s", speed_km_per_s)
        if preparation_ps < 0:
            raise ValueError(f"preparation_ps must be >= 0, got {preparation_ps!r}")
        arm_a, arm_b = self.arms_km
        far = max(arm_a, arm_b)
        # 2.0 * (L / 2) == L exactly, so a centred station gives Fiber(L).delay_ps.
        window_a = round(2.0 * arm_a / speed_km_per_s * PS_PER_S)
        window_b = round(2.0 * arm_b / speed_km_per_s * PS_PER_S)
        return HeraldTiming(
            window_a_ps=window_a,
            window_b_ps=window_b,
            cycle_ps=preparation_ps + max(window_a, window_b),
            emission_offset_a_ps=round((far - arm_a) / speed_km_per_s * PS_PER_S),
            emission_offset_b_ps=round((far - arm_b) / speed_km_per_s * PS_PER_S),
        )


@dataclass(frozen=True, slots=True)
class HeraldTiming:
    """When things happen in one attempt through an off-centre station.

    The two photons must meet at the station, so the node on the shorter
    arm emits |L_b - L_a| / c after the other (``emission_offset_*_ps``, 0 on
    the longer arm).  The herald leaves the station when both photons
    arrived, so from its own emission node x holds its qubit for the photon's
    flight out and the herald's flight back, 2 L_x / c (``window_*_ps``).  The next attempt can
    start once the farther node has heard: ``cycle_ps`` = preparation + the
    longer round trip 2 max(L_a, L_b) / c.  With the station in the middle
    both windows equal the link's one-way delay L / c.
    """

    window_a_ps: int
    window_b_ps: int
    cycle_ps: int
    emission_offset_a_ps: int
    emission_offset_b_ps: int


class MemoryNoise(Protocol):
    """Decoherence of a stored qubit, applied lazily for the elapsed idle time."""

    @property
    def needs_density_matrix(self) -> bool:
        """True when the noise leaves the Bell-diagonal family."""
        ...

    def apply(self, state: PairState, side: int, dt_ps: int) -> None:
        """Apply ``dt_ps`` picoseconds of storage noise to qubit ``side`` of ``state``."""
        ...


@dataclass(frozen=True, slots=True)
class PerfectMemory:
    """Noise-free storage."""

    needs_density_matrix: ClassVar[bool] = False

    def apply(self, state: PairState, side: int, dt_ps: int) -> None:
        """Nothing happens to a perfectly stored qubit."""


@dataclass(frozen=True, slots=True)
class DepolarizingMemory:
    """Depolarising storage: the qubit is kept with weight e^(-t/T), else replaced by I/2."""

    t_s: float
    _inv_t_ps: float = field(init=False, repr=False, compare=False)

    needs_density_matrix: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_positive("t_s", self.t_s)
        object.__setattr__(self, "_inv_t_ps", 1.0 / (self.t_s * PS_PER_S))

    def apply(self, state: PairState, side: int, dt_ps: int) -> None:
        """Depolarise with lam = e^(-dt/T)."""
        if dt_ps:
            state.depolarize(math.exp(-dt_ps * self._inv_t_ps), side)


# Distinct (dt_ps, side) channels a T1T2Memory keeps; runs reuse a few idle times.
_T1T2_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class T1T2Memory:
    """Amplitude damping (T1) plus dephasing (T2); requires the exact path."""

    t1_s: float
    t2_s: float
    # Channels built per (dt_ps, side): runs idle for the same dt_ps many times.
    _channels: dict[tuple[int, int], T1T2PairChannel] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    needs_density_matrix: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_positive("t1_s", self.t1_s)
        check_positive("t2_s", self.t2_s)
        if self.t2_s > 2.0 * self.t1_s:
            raise ValueError(
                f"t2_s must be <= 2 * t1_s = {2.0 * self.t1_s!r}, got t2_s={self.t2_s!r}"
            )

    def apply(self, state: PairState, side: int, dt_ps: int) -> None:
        """T1/T2 decay of qubit ``side`` over ``dt_ps``; the state must be a density matrix."""
        if not dt_ps:
            return
        if not isinstance(state, DensityMatrixPair):
            raise TypeError(f"T1T2Memory needs a DensityMatrixPair, got {type(state).__name__}")
        key = (dt_ps, side)
        channel = self._channels.get(key)
        if channel is None:
            channel = T1T2PairChannel.for_idle(dt_ps / PS_PER_S, self.t1_s, self.t2_s, side)
            if len(self._channels) >= _T1T2_CACHE_SIZE:
                self._channels.clear()
            self._channels[key] = channel
        state.apply_t1t2(channel)
