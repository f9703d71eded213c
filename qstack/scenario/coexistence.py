"""Classical light sharing a link's fibre: the link keys and the noise they give.

A link may carry classical traffic in the same fibre as its quantum photons.
Its spontaneous Raman scattering puts noise photons into the quantum
channel's band (``qstack.physics.raman``), which the heralding station's
detectors count like dark counts. Each arm of the link (node to station) is
a fibre carrying the classical light with ``classical_launch_power_dbm``:
launched at the node and travelling with the quantum photons to the station
("co-propagating"), or launched at the station towards the node
("counter-propagating"). The Raman coefficient of the fibre for the
wavelength pair must be given: qstack ships none (see ``physics.raman``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Protocol

from pydantic import Field
from pydantic_core import InitErrorDetails

from qstack.physics.hardware import StationGeometry
from qstack.physics.raman import RamanSetup, dbm_to_watts, noise_dark_count_probability
from qstack.scenario.fields import ERR_MISSING, ERR_VALUE, problem

#: Launch power bounds: -60 dBm (1 nW) to 30 dBm (1 W, far above any telecom channel).
MIN_LAUNCH_POWER_DBM = -60.0
MAX_LAUNCH_POWER_DBM = 30.0
#: Wavelengths: 400 nm to 2500 nm (visible to beyond the telecom U-band).
MIN_WAVELENGTH_NM = 400.0
MAX_WAVELENGTH_NM = 2500.0
#: Receiver filter bandwidth: up to 100 nm (wider passes the whole telecom band).
MAX_FILTER_BANDWIDTH_NM = 100.0
#: Raman coefficient: measured values in silica fibre are orders of magnitude below 1e-3.
MAX_RAMAN_COEFFICIENT_PER_KM_NM = 1e-3
#: Detectors behind the station's beam splitter (the Raman light spreads over both).
STATION_DETECTORS = 2

LaunchPower = Annotated[
    float,
    Field(ge=MIN_LAUNCH_POWER_DBM, le=MAX_LAUNCH_POWER_DBM, strict=True, allow_inf_nan=False),
]
Wavelength = Annotated[
    float, Field(ge=MIN_WAVELENGTH_NM, le=MAX_WAVELENGTH_NM, strict=True, allow_inf_nan=False)
]
Bandwidth = Annotated[
    float, Field(gt=0, le=MAX_FILTER_BANDWIDTH_NM, strict=True, allow_inf_nan=False)
]
RamanCoefficient = Annotated[
    float, Field(ge=0, le=MAX_RAMAN_COEFFICIENT_PER_KM_NM, strict=True, allow_inf_nan=False)
]
ClassicalDirection = Literal["co-propagating", "counter-propagating"]

#: Keys that describe the classical light; all but the power need the power.
CLASSICAL_FIELDS: tuple[str, ...] = (
    "classical_launch_power_dbm",
    "classical_wavelength_nm",
    "quantum_wavelength_nm",
    "classical_direction",
    "classical_attenuation_db_per_km",
    "filter_bandwidth_nm",
    "raman_coefficient_per_km_nm",
)
#: Keys required once classical light is on (no default could be right for them).
CLASSICAL_REQUIRED: tuple[str, ...] = (
    "filter_bandwidth_nm",
    "raman_coefficient_per_km_nm",
    "detection_window_s",
)


class ClassicalLink(Protocol):
    """What the noise computation reads from a ``[[links]]`` entry (a ``LinkSpec``)."""

    @property
    def length_km(self) -> float: ...
    @property
    def station_position_km(self) -> float: ...
    @property
    def attenuation_db_per_km(self) -> float: ...
    @property
    def detector_efficiency(self) -> float: ...
    @property
    def dark_count_per_window(self) -> float: ...
    @property
    def detection_window_s(self) -> float | None: ...
    @property
    def classical_launch_power_dbm(self) -> float | None: ...
    @property
    def classical_wavelength_nm(self) -> float: ...
    @property
    def quantum_wavelength_nm(self) -> float: ...
    @property
    def classical_direction(self) -> ClassicalDirection: ...
    @property
    def classical_attenuation_db_per_km(self) -> float | None: ...
    @property
    def filter_bandwidth_nm(self) -> float | None: ...
    @property
    def raman_coefficient_per_km_nm(self) -> float | None: ...


def raman_arm_setup(link: ClassicalLink, arm_km: float) -> RamanSetup | None:
    """One arm's classical light as ``physics.raman`` takes it (None: no light)."""
    power = link.classical_launch_power_dbm
    if power is None:
        return None
    assert link.filter_bandwidth_nm is not None
    assert link.raman_coefficient_per_km_nm is not None
    assert link.detection_window_s is not None
    classical = link.classical_attenuation_db_per_km
    return RamanSetup(
        launch_power_w=dbm_to_watts(power),
        classical_wavelength_nm=link.classical_wavelength_nm,
        quantum_wavelength_nm=link.quantum_wavelength_nm,
        length_km=arm_km,
        rho_per_km_nm=link.raman_coefficient_per_km_nm,
        direction=link.classical_direction,
        filter_bandwidth_nm=link.filter_bandwidth_nm,
        detection_window_s=link.detection_window_s,
        detector_efficiency=link.detector_efficiency,
        attenuation_classical_db_per_km=(
            link.attenuation_db_per_km if classical is None else classical
        ),
        attenuation_quantum_db_per_km=link.attenuation_db_per_km,
    )


def raman_photons_per_window(link: ClassicalLink) -> float:
    """Mean Raman photons the station's detectors count per detection window,
    both arms together (0 without classical light)."""
    if link.classical_launch_power_dbm is None:
        return 0.0
    total = 0.0
    for arm in StationGeometry(link.length_km, link.station_position_km).arms_km:
        setup = raman_arm_setup(link, arm)
        assert setup is not None
        total += setup.noise_photons_per_window
    return total


def noise_per_window(link: ClassicalLink) -> float:
    """Probability that one station detector fires without a photon from the
    nodes in a window: its dark counts or the Raman light
    (``raman.noise_dark_count_probability`` over the station's two
    detectors). Without classical light: ``dark_count_per_window``."""
    intrinsic = link.dark_count_per_window
    if link.classical_launch_power_dbm is None:
        return intrinsic
    photons = raman_photons_per_window(link)
    return noise_dark_count_probability(photons, STATION_DETECTORS, intrinsic)


def classical_problems(link: ClassicalLink, given: set[str]) -> list[InitErrorDetails]:
    """Classical keys need the power; the power needs the keys no default fits."""
    if link.classical_launch_power_dbm is None:
        return [
            problem(
                ERR_VALUE,
                (name,),
                getattr(link, name),
                "only allowed together with classical_launch_power_dbm "
                "(the classical light sharing the fibre)",
            )
            for name in CLASSICAL_FIELDS[1:]
            if name in given
        ]
    missing = [
        problem(
            ERR_MISSING,
            (name,),
            None,
            "missing (required when classical_launch_power_dbm is given"
            + (
                ": qstack ships no Raman coefficient; give the one measured for this "
                "fibre and wavelength pair)"
                if name == "raman_coefficient_per_km_nm"
                else ")"
            ),
        )
        for name in CLASSICAL_REQUIRED
        if getattr(link, name) is None
    ]
    if missing:
        return missing
    noise = noise_per_window(link)
    if not noise < 1.0:
        reason = (
            f"the Raman light makes every detection window click (noise probability "
            f"{noise!r} per window); it must stay below 1"
        )
        power = link.classical_launch_power_dbm
        return [problem(ERR_VALUE, ("classical_launch_power_dbm",), power, reason)]
    return []
