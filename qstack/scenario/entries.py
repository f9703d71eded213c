"""The ``[run]`` table and the ``[[nodes]]`` and ``[[links]]`` entries."""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails

from qstack.physics.hardware import Fiber
from qstack.physics.heralding import DoubleClickHerald, SingleClickHerald
from qstack.scenario.coexistence import (
    CLASSICAL_FIELDS,
    Bandwidth,
    ClassicalDirection,
    LaunchPower,
    RamanCoefficient,
    Wavelength,
    classical_problems,
    noise_per_window,
    raman_photons_per_window,
)
from qstack.scenario.fields import (
    CONFIG,
    ERR_MISSING,
    ERR_VALUE,
    MIN_DURATION_S,
    Alpha,
    Attenuation,
    DarkCount,
    DarkCountRate,
    DetectionWindow,
    Duration,
    FiberSpeed,
    FlipProb,
    Fraction,
    Instant,
    LengthKm,
    Name,
    NodeRef,
    Prob,
    Qubits,
    TimeConstant,
    WernerFidelity,
    problem,
    quoted,
    raise_problems,
    value_error,
)
from qstack.scenario.presets import with_link_preset, with_node_preset

LinkModel = Literal["abstract", "single-click", "double-click"]
#: Heralded-entanglement models a link may use.
LINK_MODELS: tuple[str, ...] = typing.get_args(LinkModel)

#: A single-click link without ``bright_state_alpha`` chooses alpha itself, searching
#: (0, 0.5] (``qstack.physics.heralding.choose_alpha``: 200 golden-section steps from
#: 0.5 never go below 1e-43); it must be able to herald at every alpha it may try.
SMALLEST_SEARCHED_ALPHA = 1e-50


class RunSettings(BaseModel):
    """The ``[run]`` table: how long to simulate."""

    model_config = CONFIG

    until_s: Duration = 10.0
    """Simulated seconds at most; the run ends earlier once every request is finished."""


class NodeSpec(BaseModel):
    """One ``[[nodes]]`` entry: a node, its quantum memory and its local operations.

    Perfect memory is represented by ``memory_t_s = None`` (and no T1/T2); the
    string ``"inf"`` and a float infinity in the file are normalised to None, so
    there is one spelling of "no decoherence" for the code that uses this.
    """

    model_config = CONFIG

    name: Name
    qubits: Qubits
    preset: Name | None = None
    """A hardware preset (``qstack.physics.presets``) whose node keys fill in the ones not given."""
    memory_t_s: TimeConstant | None = None
    t1_s: TimeConstant | None = None
    t2_s: TimeConstant | None = None
    swap_success_probability: Prob = 1.0
    """A failed swap loses both segments (their qubits are freed)."""
    gate_error: Fraction = 0.0
    """Depolarising probability of each two-qubit gate."""
    measurement_error: FlipProb = 0.0
    """Probability that a measurement outcome is flipped."""

    @model_validator(mode="before")
    @classmethod
    def _one_memory_model(cls, data: Any) -> Any:
        """Fill in the preset's keys, then reject memory_t_s together with
        T1/T2: two noise models for one memory.

        Done on the raw input so that ``memory_t_s = "inf"`` plus ``t1_s`` is
        caught too (after normalisation it would look like an omitted field).
        """
        data = with_node_preset(cls.__name__, data)
        if isinstance(data, Mapping):
            given = data.get("memory_t_s")
            other = [k for k in ("t1_s", "t2_s") if data.get(k) is not None]
            if given is not None and other:
                reason = (
                    f"not allowed together with {' and '.join(other)}; give either "
                    "memory_t_s (depolarising) or t1_s and t2_s (amplitude/phase damping)"
                )
                raise_problems(cls.__name__, [problem(ERR_VALUE, ("memory_t_s",), given, reason)])
        return data

    @field_validator("memory_t_s", mode="before")
    @classmethod
    def _inf_is_perfect(cls, value: object) -> object:
        """Accept "inf" (or a float infinity) as documented spellings of a perfect memory."""
        if isinstance(value, str):
            if value.strip().lower() in ("inf", "infinity"):
                return None
            raise value_error("must be a number of seconds > 0, or 'inf' for a perfect memory")
        if isinstance(value, float) and value == math.inf:
            return None
        return value

    @model_validator(mode="after")
    def _t1_t2_consistent(self) -> Self:
        """T1/T2 come as a pair, and physics requires T2 <= 2*T1."""
        problems: list[InitErrorDetails] = []
        both = "give both or neither"
        if self.t1_s is not None and self.t2_s is None:
            reason = f"missing (required when t1_s is given; {both})"
            problems.append(problem(ERR_MISSING, ("t2_s",), None, reason))
        elif self.t2_s is not None and self.t1_s is None:
            reason = f"missing (required when t2_s is given; {both})"
            problems.append(problem(ERR_MISSING, ("t1_s",), None, reason))
        elif self.t1_s is not None and self.t2_s is not None and self.t2_s > 2 * self.t1_s:
            reason = f"must be <= 2 * t1_s = {2 * self.t1_s!r} (T2 <= 2*T1)"
            problems.append(problem(ERR_VALUE, ("t2_s",), self.t2_s, reason))
        raise_problems(type(self).__name__, problems)
        return self


#: Fields that only the physical (single-/double-click) models use.
PHYSICAL_FIELDS: tuple[str, ...] = (
    "attenuation_db_per_km",
    "detector_efficiency",
    "emission_efficiency",
    "dark_count_probability",
    "dark_count_rate_hz",
    "detection_window_s",
    "bright_state_alpha",
    "fiber_speed_km_per_s",
    "attempt_prep_s",
    "station_km",
    *CLASSICAL_FIELDS,
)
#: Fields that only (and always) the abstract model uses.
ABSTRACT_FIELDS: tuple[str, ...] = ("success_probability", "attempt_duration_s", "fidelity")


class LinkSpec(BaseModel):
    """One ``[[links]]`` entry: a fiber between two nodes with a heralding station on it.

    Which fields apply depends on ``model``; a field of the other family is an
    error rather than ignored, so a wrong ``model`` never silently changes the
    physics. ``model_dump()`` leaves out the fields that do not apply, so a
    dumped link loads again. A physical link whose parameters can never herald
    (its success probability per attempt is 0 in floating point) is refused.
    """

    model_config = CONFIG

    a: NodeRef
    b: NodeRef
    length_km: LengthKm
    model: LinkModel
    # a hardware preset (qstack.physics.presets) whose link keys fill in the ones not given
    preset: Name | None = None
    # an intercept-resend eavesdropper measuring this fraction of the link's
    # pairs in a random basis (Z or X) at the station; any model
    intercept_resend: Fraction = 0.0
    # physical models
    attenuation_db_per_km: Attenuation = 0.2
    detector_efficiency: Prob = 0.9
    emission_efficiency: Prob = 1.0
    dark_count_probability: DarkCount = 0.0
    dark_count_rate_hz: DarkCountRate | None = None
    detection_window_s: DetectionWindow | None = None
    bright_state_alpha: Alpha | None = None
    fiber_speed_km_per_s: FiberSpeed = 2.0e5
    attempt_prep_s: Instant = 1e-6
    station_km: LengthKm | None = None
    # classical light sharing the fibre (physical models; qstack.scenario.coexistence)
    classical_launch_power_dbm: LaunchPower | None = None
    classical_wavelength_nm: Wavelength = 1550.0
    quantum_wavelength_nm: Wavelength = 1550.0
    classical_direction: ClassicalDirection = "co-propagating"
    classical_attenuation_db_per_km: Attenuation | None = None
    filter_bandwidth_nm: Bandwidth | None = None
    raman_coefficient_per_km_nm: RamanCoefficient | None = None
    # abstract model
    success_probability: Prob | None = None
    attempt_duration_s: Duration | None = None
    fidelity: WernerFidelity | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_in_preset(cls, data: Any) -> Any:
        """The preset's link keys, under the ones the entry gives itself."""
        return with_link_preset(cls.__name__, data)

    @property
    def station_position_km(self) -> float:
        """Distance from ``a`` to the heralding station (default: the middle)."""
        return self.length_km / 2 if self.station_km is None else self.station_km

    @property
    def dark_count_per_window(self) -> float:
        """Dark-count probability per detector per window, from whichever form was given.

        A rate R over a window W gives ``1 - exp(-R W)`` (Poisson dark counts).
        """
        if self.dark_count_rate_hz is None or self.detection_window_s is None:
            return self.dark_count_probability
        return -math.expm1(-self.dark_count_rate_hz * self.detection_window_s)

    @property
    def raman_photons_per_window(self) -> float:
        """Mean Raman photons from the classical light counted per detection window
        at the station, both arms together (0 without classical light)."""
        return raman_photons_per_window(self)

    @property
    def noise_per_window(self) -> float:
        """Probability that a station detector fires without a photon from the
        nodes in a window: dark counts and Raman light together (what the
        heralding models take as their dark-count probability)."""
        return noise_per_window(self)

    @model_validator(mode="after")
    def _fields_match_model(self) -> Self:
        """Check a != b, that exactly the fields of the chosen model are given, and heralding."""
        problems: list[InitErrorDetails] = []
        if self.a == self.b:
            reason = f"must differ from a ({self.a!r}): a link joins two different nodes"
            problems.append(problem(ERR_VALUE, ("b",), self.b, reason))
        if self.model == "abstract":
            problems += self._abstract_problems()
        else:
            problems += self._physical_problems()
        raise_problems(type(self).__name__, problems)
        return self

    def _abstract_problems(self) -> list[InitErrorDetails]:
        out: list[InitErrorDetails] = []
        for name in PHYSICAL_FIELDS:
            if name in self.model_fields_set:
                reason = (
                    "not allowed when model = 'abstract' (physical-model field); "
                    f"the abstract model takes {quoted(ABSTRACT_FIELDS)}"
                )
                out.append(problem(ERR_VALUE, (name,), getattr(self, name), reason))
        for name in ABSTRACT_FIELDS:
            if getattr(self, name) is None:
                reason = "missing (required when model = 'abstract')"
                out.append(problem(ERR_MISSING, (name,), None, reason))
        return out

    def _physical_problems(self) -> list[InitErrorDetails]:
        out: list[InitErrorDetails] = []
        for name in ABSTRACT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                reason = f"only allowed when model = 'abstract' (this link is {self.model!r})"
                out.append(problem(ERR_VALUE, (name,), value, reason))
        if self.bright_state_alpha is not None and self.model != "single-click":
            reason = f"only allowed when model = 'single-click' (this link is {self.model!r})"
            out.append(problem(ERR_VALUE, ("bright_state_alpha",), self.bright_state_alpha, reason))
        if self.station_km is not None and self.station_km > self.length_km:
            reason = f"must be <= length_km = {self.length_km!r} (the station is on the fiber)"
            out.append(problem(ERR_VALUE, ("station_km",), self.station_km, reason))
        out += self._dark_count_problems()
        out += classical_problems(self, self.model_fields_set)
        delay_s = self.length_km / self.fiber_speed_km_per_s
        if self.attempt_prep_s + delay_s < MIN_DURATION_S:
            reason = (
                f"an attempt must take at least 1 ps: attempt_prep_s + length_km / "
                f"fiber_speed_km_per_s is {self.attempt_prep_s + delay_s!r} s"
            )
            out.append(problem(ERR_VALUE, ("attempt_prep_s",), self.attempt_prep_s, reason))
        if not out:
            out += self._heralding_problems()
        return out

    def _dark_count_problems(self) -> list[InitErrorDetails]:
        """The rate form needs both keys and excludes the probability form; a
        window alone serves the classical light's Raman noise."""
        rate, window = self.dark_count_rate_hz, self.detection_window_s
        if rate is None and window is None:
            return []
        if rate is None and self.classical_launch_power_dbm is not None:
            return []
        if rate is None or window is None:
            given = "dark_count_rate_hz" if window is None else "detection_window_s"
            missing = "detection_window_s" if window is None else "dark_count_rate_hz"
            reason = f"missing (required when {given} is given; give both or neither)"
            return [problem(ERR_MISSING, (missing,), None, reason)]
        if "dark_count_probability" in self.model_fields_set:
            reason = (
                "not allowed together with dark_count_rate_hz and detection_window_s; "
                "give either a probability per window or a rate and a window"
            )
            return [
                problem(ERR_VALUE, ("dark_count_probability",), self.dark_count_probability, reason)
            ]
        if self.dark_count_per_window >= 1.0:
            reason = (
                f"with detection_window_s = {window!r} every window would see a dark count "
                f"(1 - exp(-rate * window) rounds to 1); it must stay below 1"
            )
            return [problem(ERR_VALUE, ("dark_count_rate_hz",), rate, reason)]
        return []

    def _heralding_problems(self) -> list[InitErrorDetails]:
        """Refuse parameters whose success probability per attempt is 0: nothing would happen.

        Computed with the models of ``qstack.physics.heralding`` at the arms'
        efficiency as the network builds it (emission x fiber to the station x
        detector, the station in the middle; with ``station_km`` elsewhere the
        product of the two arms is the same).
        """
        half = Fiber(self.length_km / 2, self.attenuation_db_per_km)
        eta = self.emission_efficiency * half.transmittance * self.detector_efficiency
        dark = self.noise_per_window
        try:
            if self.model == "double-click":
                DoubleClickHerald(eta, dark)
            else:
                alpha = self.bright_state_alpha or SMALLEST_SEARCHED_ALPHA
                SingleClickHerald(alpha, eta, dark)
        except ValueError:
            searched = self.model == "single-click" and self.bright_state_alpha is None
            at = (
                f" at alpha = {SMALLEST_SEARCHED_ALPHA:g} (the smallest it may choose)"
                if searched
                else ""
            )
            reason = (
                f"the {self.model} link {self.a}-{self.b} can never herald: success "
                f"probability per attempt 0{at}; arm efficiency emission x fiber x detector "
                f"= {eta:.3g}, noise (dark-count) probability {dark:.3g}"
            )
            return [problem(ERR_MISSING, (), None, reason)]
        return []

    @model_serializer(mode="wrap")
    def _dump_relevant(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out the other model's fields (and the unused dark-count form, and
        the classical-light keys without classical light): a dump loads."""
        data: dict[str, Any] = handler(self)
        drop = set(PHYSICAL_FIELDS if self.model == "abstract" else ABSTRACT_FIELDS)
        if self.dark_count_rate_hz is not None:
            drop.add("dark_count_probability")
        if self.classical_launch_power_dbm is None:
            drop.update(CLASSICAL_FIELDS)
        return {k: v for k, v in data.items() if k not in drop}
