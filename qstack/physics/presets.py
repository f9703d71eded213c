"""Hardware presets: published platform parameters, every number with its source.

A preset is plain typed data in the vocabulary of qstack's scenario files: a
``NodePreset`` holds node keys (``qubits``, ``memory_t_s`` or ``t1_s`` /
``t2_s``, ``gate_error``, ``measurement_error``, ``swap_success_probability``),
a ``LinkPreset`` the link model and its keys (``detector_efficiency``,
``emission_efficiency``, ``dark_count_rate_hz`` with ``detection_window_s``,
``bright_state_alpha``, ``attempt_prep_s``, ``station_km``, or the abstract
model's ``success_probability`` / ``attempt_duration_s`` / ``fidelity``).
Every value is a ``Sourced`` number: the value, the paper and the table,
figure or page it was read from. A key the paper does not give is left out
(None) and the scenario's default or the user's own value applies; a preset
never fills a gap with a guess.

``reported`` lists figures the paper measured (a heralded-entanglement rate or
fidelity) that qstack's physics must reproduce from the preset's parameters:
each preset comes with a test that runs the paper's setting and compares.

``CATALOGUE`` holds the presets whose numbers have been read from the papers.
It is empty in this version: see ``MISSING_PRESETS`` for what is left out and why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Literal

LinkModelName = Literal["abstract", "single-click", "double-click"]

_INTEGER_KEYS = frozenset({"qubits"})
_NAME = re.compile(r"[a-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a number comes from: the paper and the place in it."""

    paper: str
    """Authors, journal, volume, page (year), e.g. "Pompili et al., Science 372, 259 (2021)"."""
    location: str
    """Table, figure, equation or page, e.g. "Table S4" or "Fig. 2c"."""

    def __post_init__(self) -> None:
        for name in ("paper", "location"):
            if not getattr(self, name).strip():
                raise ValueError(f"Source.{name} must name the paper and where in it, got ''")


@dataclass(frozen=True, slots=True)
class Sourced:
    """A number as a paper reports it."""

    value: float
    source: Source

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"Sourced.value must be finite, got {self.value!r}")


def _present(preset: object) -> dict[str, float | int]:
    """The scenario keys a preset gives, with their values (None fields left out)."""
    out: dict[str, float | int] = {}
    for f in fields(preset):  # type: ignore[arg-type]
        item = getattr(preset, f.name)
        if isinstance(item, Sourced):
            out[f.name] = int(item.value) if f.name in _INTEGER_KEYS else item.value
    return out


@dataclass(frozen=True, slots=True)
class NodePreset:
    """Node keys of a scenario (SCENARIO.md names); None: the paper does not give it."""

    qubits: Sourced | None = None
    memory_t_s: Sourced | None = None
    t1_s: Sourced | None = None
    t2_s: Sourced | None = None
    gate_error: Sourced | None = None
    measurement_error: Sourced | None = None
    swap_success_probability: Sourced | None = None

    def __post_init__(self) -> None:
        if self.memory_t_s is not None and (self.t1_s is not None or self.t2_s is not None):
            raise ValueError("NodePreset: give memory_t_s or t1_s/t2_s, not both")
        if self.qubits is not None and not float(self.qubits.value).is_integer():
            raise ValueError(f"NodePreset.qubits must be a whole number, got {self.qubits.value!r}")

    def scenario_fields(self) -> dict[str, float | int]:
        """The keys this preset sets on a ``[[nodes]]`` entry."""
        return _present(self)


@dataclass(frozen=True, slots=True)
class LinkPreset:
    """Link model and keys of a scenario (SCENARIO.md names); None: not given by the paper."""

    model: LinkModelName
    length_km: Sourced | None = None
    station_km: Sourced | None = None
    attenuation_db_per_km: Sourced | None = None
    detector_efficiency: Sourced | None = None
    emission_efficiency: Sourced | None = None
    dark_count_rate_hz: Sourced | None = None
    detection_window_s: Sourced | None = None
    bright_state_alpha: Sourced | None = None
    attempt_prep_s: Sourced | None = None
    success_probability: Sourced | None = None
    attempt_duration_s: Sourced | None = None
    fidelity: Sourced | None = None

    def __post_init__(self) -> None:
        abstract = ("success_probability", "attempt_duration_s", "fidelity")
        physical = (
            "attenuation_db_per_km",
            "detector_efficiency",
            "emission_efficiency",
            "dark_count_rate_hz",
            "detection_window_s",
            "bright_state_alpha",
            "attempt_prep_s",
        )
        if self.model not in ("abstract", "single-click", "double-click"):
            raise ValueError(f"LinkPreset.model must be a qstack link model, got {self.model!r}")
        wrong = physical if self.model == "abstract" else abstract
        given = [name for name in wrong if getattr(self, name) is not None]
        if given:
            raise ValueError(f"LinkPreset: {given} not allowed with model {self.model!r}")
        if self.bright_state_alpha is not None and self.model != "single-click":
            raise ValueError("LinkPreset: bright_state_alpha only applies to single-click")

    def scenario_fields(self) -> dict[str, object]:
        """``model`` plus the keys this preset sets on a ``[[links]]`` entry."""
        out: dict[str, object] = {"model": self.model}
        out.update(_present(self))
        return out


@dataclass(frozen=True, slots=True)
class ReportedFigure:
    """A figure of merit the paper measured, which a test reproduces from the preset."""

    quantity: Literal["heralded_fidelity", "entanglement_rate_hz"]
    value: float
    uncertainty: float
    """The paper's one-standard-deviation uncertainty on ``value`` (0 if it gives none)."""
    source: Source


@dataclass(frozen=True, slots=True)
class HardwarePreset:
    """One platform as one paper (or a stated set of papers) reports it."""

    name: str
    platform: str
    node: NodePreset
    link: LinkPreset
    reported: tuple[ReportedFigure, ...]

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"HardwarePreset.name must match [a-z0-9_-]+, got {self.name!r}")
        if not self.reported:
            raise ValueError(
                f"HardwarePreset {self.name!r}: give at least one reported figure to reproduce"
            )


#: Presets whose every number was read from the cited paper.
CATALOGUE: Mapping[str, HardwarePreset] = MappingProxyType({})

#: Platforms the task asked for that are not in the catalogue, and why.
MISSING_PRESETS: Mapping[str, str] = MappingProxyType(
    {
        "nv-delft-2021": (
            "NV centres (Pompili et al., Science 372, 259 (2021); Hermans et al., Nature 605, "
            "663 (2022)): the tables and methods holding the link and memory parameters "
            "could not be read (the searchable copies stop after the abstract); the abstracts "
            "give no numbers to reproduce. The related arXiv:1712.07567 (Humphreys et al.) "
            "reads only to its abstract: entangling rates up to 39 Hz and fidelity above 0.5 "
            "at every 100 ms cycle, but no attempt-level parameters (bright-state population, "
            "detection probability, attempt duration); arXiv:2111.11332 likewise."
        ),
        "trapped-ion": (
            "Trapped ions (Krutyanskiy et al., PRL 130, 050803 (2023)): the preprint's abstract "
            "(Zenodo record 7031041) gives fidelity 88.2 % and success probability 4e-5, but "
            "not the attempt duration or the photon efficiencies, so neither figure can be "
            "reproduced from the other parameters."
        ),
        "siv-harvard-2024": (
            "SiV in nanophotonic cavities (Knaut et al., Nature 629, 573 (2024); "
            "arXiv:2310.01316): only the abstract and introduction were readable (40 km "
            "spools, 35 km deployed loop, 1350 nm); no efficiencies, rates or fidelities."
        ),
        "ensemble-hefei-2024": (
            "Atomic-ensemble memories (Liu et al., Nature 629, 579 (2024)): only the "
            "abstract was readable (three nodes, 12.5 km); no rates or fidelities. The "
            "earlier absorptive-memory link (arXiv:2101.04945) reads only to its abstract: "
            "fidelity 80.4 +- 2.2 %, but no rate, efficiencies or storage time to build from."
        ),
        "quantum-dot": (
            "Quantum dots (e.g. Stockill et al., PRL 119, 010503 (2017)): the readable "
            "abstract stops before its figures."
        ),
    }
)


def get_preset(name: str) -> HardwarePreset:
    """The catalogue entry ``name``; a clear error naming the known presets otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE)) or "none yet"
        reason = MISSING_PRESETS.get(name)
        detail = f" ({reason})" if reason else ""
        raise ValueError(f"unknown preset {name!r}{detail}; known presets: {known}") from None
