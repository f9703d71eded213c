"""Spontaneous Raman noise from classical light sharing the fibre with a quantum channel.

Classical light of power P(z) scatters, per unit length and per nm of the
quantum receiver's filter, rho P(z) into the quantum channel's wavelength
(rho: the effective Raman cross-section of the wavelength pair, in 1/(km nm)).
The scattered light then travels to the quantum receiver with the quantum
channel's loss. Integrating along the fibre with the quantum receiver at z = L
and attenuations a_c (classical) and a_q (quantum) in 1/km:

* co-propagating (classical launched with the quantum signal, at z = 0):
  P_f = P rho dlambda e^(-a_q L) (1 - e^(-(a_c - a_q) L)) / (a_c - a_q);
* counter-propagating (classical launched at the quantum receiver, z = L):
  P_b = P rho dlambda (1 - e^(-(a_c + a_q) L)) / (a_c + a_q).

With a_c = a_q = a these are Eraerds et al.'s expressions (New J. Phys. 12,
063027 (2010)): P_f = P rho L dlambda e^(-a L) and
P_b = P rho dlambda (1 - e^(-2 a L)) / (2 a). Both grow as P rho dlambda L for
short or lossless fibre.

rho depends on the fibre and on both wavelengths (strongly on their
separation, and on which side of the classical line the quantum channel sits:
the anti-Stokes side is weaker). qstack ships no default rho: give the value
measured for your fibre and wavelength pair (Eraerds et al. 2010 report
C-band measurements), or turn your own noise measurement into rho with
``raman_coefficient_from_noise``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from qstack.physics._validate import check_non_negative, check_positive, check_probability

PLANCK_J_S = 6.62607015e-34
LIGHT_M_PER_S = 299_792_458.0
#: Natural-log attenuation per dB: a [1/km] = alpha [dB/km] * ln(10) / 10.
NEPER_PER_DB = math.log(10.0) / 10.0

Direction = Literal["co-propagating", "counter-propagating"]
DIRECTIONS: tuple[Direction, ...] = ("co-propagating", "counter-propagating")


def dbm_to_watts(power_dbm: float) -> float:
    """P [W] = 1 mW * 10^(dBm / 10)."""
    return 1e-3 * math.pow(10.0, power_dbm / 10.0)


def _span(rate_per_km: float, length_km: float) -> float:
    """(1 - e^(-r L)) / r, and its limit L at r = 0, without cancellation for small r L."""
    if rate_per_km == 0.0:
        return length_km
    return -math.expm1(-rate_per_km * length_km) / rate_per_km


def raman_noise_power(
    launch_power_w: float,
    rho_per_km_nm: float,
    bandwidth_nm: float,
    length_km: float,
    direction: Direction,
    attenuation_classical_db_per_km: float,
    attenuation_quantum_db_per_km: float,
) -> float:
    """Raman noise power in W arriving at the quantum receiver (module docstring formulas)."""
    check_non_negative("launch_power_w", launch_power_w)
    check_non_negative("rho_per_km_nm", rho_per_km_nm)
    check_non_negative("bandwidth_nm", bandwidth_nm)
    check_non_negative("length_km", length_km)
    a_c = check_non_negative("attenuation_classical_db_per_km", attenuation_classical_db_per_km)
    a_q = check_non_negative("attenuation_quantum_db_per_km", attenuation_quantum_db_per_km)
    a_c *= NEPER_PER_DB
    a_q *= NEPER_PER_DB
    scale = launch_power_w * rho_per_km_nm * bandwidth_nm
    if direction == "co-propagating":
        return scale * math.exp(-a_q * length_km) * _span(a_c - a_q, length_km)
    if direction == "counter-propagating":
        return scale * _span(a_c + a_q, length_km)
    raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")


def raman_coefficient_from_noise(
    noise_power_w: float,
    launch_power_w: float,
    bandwidth_nm: float,
    length_km: float,
    direction: Direction,
    attenuation_classical_db_per_km: float,
    attenuation_quantum_db_per_km: float,
) -> float:
    """rho in 1/(km nm) from a measured noise power: the inverse of ``raman_noise_power``."""
    check_positive("launch_power_w", launch_power_w)
    check_positive("bandwidth_nm", bandwidth_nm)
    check_positive("length_km", length_km)
    check_non_negative("noise_power_w", noise_power_w)
    unit = raman_noise_power(
        launch_power_w,
        1.0,
        bandwidth_nm,
        length_km,
        direction,
        attenuation_classical_db_per_km,
        attenuation_quantum_db_per_km,
    )
    return noise_power_w / unit


def photon_energy_j(wavelength_nm: float) -> float:
    """h c / lambda."""
    check_positive("wavelength_nm", wavelength_nm)
    return PLANCK_J_S * LIGHT_M_PER_S / (wavelength_nm * 1e-9)


@dataclass(frozen=True, slots=True)
class RamanSetup:
    """A quantum channel sharing ``length_km`` of fibre with one classical channel.

    ``rho_per_km_nm`` is the effective Raman cross-section of this fibre for
    the (classical, quantum) wavelength pair. ``receiver_transmittance`` is
    everything between the fibre end and the detector (filter insertion loss,
    optics); ``detector_efficiency`` and ``detection_window_s`` are the quantum
    detector's. The classical wavelength is recorded with the setup because
    rho is only meaningful for the pair.
    """

    launch_power_w: float
    classical_wavelength_nm: float
    quantum_wavelength_nm: float
    length_km: float
    rho_per_km_nm: float
    direction: Direction
    filter_bandwidth_nm: float
    detection_window_s: float
    detector_efficiency: float = 1.0
    receiver_transmittance: float = 1.0
    attenuation_classical_db_per_km: float = 0.2
    attenuation_quantum_db_per_km: float = 0.2

    def __post_init__(self) -> None:
        check_non_negative("launch_power_w", self.launch_power_w)
        check_positive("classical_wavelength_nm", self.classical_wavelength_nm)
        check_positive("quantum_wavelength_nm", self.quantum_wavelength_nm)
        check_non_negative("length_km", self.length_km)
        check_non_negative("rho_per_km_nm", self.rho_per_km_nm)
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        check_non_negative("filter_bandwidth_nm", self.filter_bandwidth_nm)
        check_non_negative("detection_window_s", self.detection_window_s)
        check_probability("detector_efficiency", self.detector_efficiency)
        check_probability("receiver_transmittance", self.receiver_transmittance)
        check_non_negative("attenuation_classical_db_per_km", self.attenuation_classical_db_per_km)
        check_non_negative("attenuation_quantum_db_per_km", self.attenuation_quantum_db_per_km)

    @property
    def noise_power_w(self) -> float:
        """Raman power inside the filter band at the fibre's quantum end."""
        return raman_noise_power(
            self.launch_power_w,
            self.rho_per_km_nm,
            self.filter_bandwidth_nm,
            self.length_km,
            self.direction,
            self.attenuation_classical_db_per_km,
            self.attenuation_quantum_db_per_km,
        )

    @property
    def noise_photons_per_window(self) -> float:
        """Mean number of detected Raman photons per detection window (all detectors)."""
        rate = self.noise_power_w / photon_energy_j(self.quantum_wavelength_nm)
        return (
            rate * self.detection_window_s * self.receiver_transmittance * self.detector_efficiency
        )


def noise_dark_count_probability(
    mean_photons: float, detectors: int = 2, intrinsic_dark_count_probability: float = 0.0
) -> float:
    """Probability that one detector fires in a window from noise and its own dark counts.

    Raman light is broadband and unpolarised, so its photons spread evenly over
    the ``detectors`` detectors behind the filter and arrive independently
    (Poisson): one detector sees mean m / detectors and stays silent with
    probability e^(-m / detectors). It fires if either that noise or its
    intrinsic dark count p_dc does: d = 1 - (1 - p_dc) e^(-m / detectors).
    This d is the per-window dark-count probability the heralding and decoy
    models take.
    """
    check_non_negative("mean_photons", mean_photons)
    if detectors < 1:
        raise ValueError(f"detectors must be >= 1, got {detectors!r}")
    check_probability("intrinsic_dark_count_probability", intrinsic_dark_count_probability)
    return 1.0 - (1.0 - intrinsic_dark_count_probability) * math.exp(-mean_photons / detectors)
