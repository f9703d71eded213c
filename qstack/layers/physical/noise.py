"""What the station's detectors see besides the photons they wait for."""

from __future__ import annotations

from qstack.physics.hardware import StationGeometry
from qstack.scenario import LinkSpec


def detector_noise_per_window(spec: LinkSpec, geometry: StationGeometry) -> float:
    """Probability that one detector of the station fires by noise in a window."""
    return spec.dark_count_per_window
