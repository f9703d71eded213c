"""Field types, bounds and problem records shared by every part of a scenario.

Every number and every name a scenario accepts has a lower and an upper
bound (``specs/scenario.md``, "Bounds", says why each one is where it is),
so that no file, however hostile, can make the loader or the run overflow,
run out of memory or hang. The bounds live here, as constants, and the
annotated types below carry them to the models.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

# --------------------------------------------------------------------------- bounds

#: Longest name of anything (node, request, app, strategy): fits a table column,
#: a file name and a trace line, and keeps pair ids (built from names) short.
MAX_NAME_LENGTH = 64
#: Longest ``[topology] prefix``: ``<prefix><index>`` stays a valid name.
MAX_PREFIX_LENGTH = 32
#: Longest file path (Linux PATH_MAX).
MAX_PATH_LENGTH = 4096
#: Largest seed: fits a signed 64-bit integer column (CSV, Parquet, pandas).
MAX_SEED = 2**63 - 1
#: Longest simulated time (run length, start, timeouts, cutoffs, fault times): 10^9 s,
#: 32 years, room for scripts that set a huge ``until_s`` to mean "until done"; 10^21 ps
#: is still an exact integer on the clock, and float seconds still resolve 0.12 us.
MAX_DURATION_S = 1e9
#: Shortest positive duration: one tick of the picosecond clock (shorter ones round to 0).
MIN_DURATION_S = 1e-12
#: Longest memory time constant (T, T1, T2): 1000x the longest run; "inf" is perfect.
MAX_TIME_CONSTANT_S = 1e12
#: Memory qubits of one node.
MAX_QUBITS_PER_NODE = 10**6
#: Memory qubits of all nodes together (every qubit costs memory when the network is built).
MAX_TOTAL_QUBITS = 10**7
#: Pairs (or qubits, or measurements) one request asks for.
MAX_PAIRS = 10**9
#: Nodes, explicit and generated together.
MAX_NODES = 100_000
#: Links, explicit and generated together.
MAX_LINKS = 1_000_000
#: Entries of ``[[requests]]`` and of ``[[faults]]``.
MAX_REQUESTS = 100_000
MAX_FAULTS = 100_000
#: Longest fiber: 2.5 times round the Earth.
MAX_LENGTH_KM = 1e5
#: Largest fiber attenuation (telecom fiber: 0.2 dB/km).
MAX_ATTENUATION_DB_PER_KM = 1000.0
#: Speed of light in fiber: at least 1 km/s, at most the speed of light in vacuum.
MIN_FIBER_SPEED_KM_PER_S = 1.0
MAX_FIBER_SPEED_KM_PER_S = 299_792.458
#: Largest detector dark-count rate (real detectors: 1 Hz to 100 kHz).
MAX_DARK_COUNT_RATE_HZ = 1e9
#: Longest detection window (real windows: nanoseconds).
MAX_DETECTION_WINDOW_S = 1.0
#: Largest priority and purpose id: fit a signed 32-bit integer.
MAX_TAG = 2**31 - 1
#: Most purification rounds: each round doubles the link pairs a delivered pair costs.
MAX_PURIFICATION_ROUNDS = 10
#: Most members of a GHZ (or sensing) request: the state is simulated exactly, and
#: the fusing centre's record peaks at members + 1 qubits (at most 10 in
#: ``qstack.physics.multiqubit``; a 10-qubit density matrix is 16 MiB).
MAX_GHZ_MEMBERS = 9
#: Waxman square side: its diagonal stays below MAX_LENGTH_KM.
MAX_AREA_KM = 70_000.0
#: Free-form ``options`` tables: entries per table or list, characters per string.
MAX_OPTION_ENTRIES = 1000
MAX_STRING_LENGTH = 4096
#: Deepest nesting of tables and arrays in a document (a scenario needs 4).
MAX_NESTING = 16
#: Largest scenario file: the largest network the bounds allow, written out, is ~100 MiB.
MAX_FILE_BYTES = 256 * 2**20

# --------------------------------------------------------------------------- names

#: Node and request names: short, lower-case, safe in file names, traces and diagrams.
NAME_PATTERN = r"^[a-z0-9_-]+$"
#: Plug-in names (apps, routing strategies, swap policies): plug-ins add their own,
#: so these are open names, resolved (and refused if unknown) by the run's registry.
PLUGIN_NAME_PATTERN = r"^[a-z0-9_.:-]+$"
#: Prefix of generated node names: ``<prefix><index>`` must be a node name.
PREFIX_PATTERN = r"^[a-z0-9_-]*$"

# --------------------------------------------------------------------------- types

# ``strict=True`` so that ``qubits = true`` or ``length_km = "30"`` is an error
# instead of a silent conversion; strict floats still accept ints.
Int0 = Annotated[int, Field(strict=True, ge=0)]
Tag = Annotated[int, Field(strict=True, ge=0, le=MAX_TAG)]
Seed = Annotated[int, Field(strict=True, ge=0, le=MAX_SEED)]
Count = Annotated[int, Field(strict=True)]
"""Sizes whose range depends on other fields (topology shapes): checked by the model."""
Qubits = Annotated[int, Field(strict=True, ge=1, le=MAX_QUBITS_PER_NODE)]
Pairs = Annotated[int, Field(strict=True, ge=1, le=MAX_PAIRS)]
Rounds = Annotated[int, Field(strict=True, ge=0, le=MAX_PURIFICATION_ROUNDS)]
Name = Annotated[
    str, Field(strict=True, pattern=NAME_PATTERN, min_length=1, max_length=MAX_NAME_LENGTH)
]
NodeRef = Annotated[str, Field(strict=True, max_length=MAX_NAME_LENGTH)]
"""A reference to a node by name; whether it names one is checked with the whole scenario."""
PluginName = Annotated[
    str, Field(strict=True, pattern=PLUGIN_NAME_PATTERN, max_length=MAX_NAME_LENGTH)
]
Flag = Annotated[bool, Field(strict=True)]


def _at_least_one_tick(seconds: float) -> float:
    """A positive duration shorter than the clock's tick would round to 0 ps."""
    if seconds < MIN_DURATION_S:
        raise value_error(
            f"must be at least {MIN_DURATION_S:g} s (one tick of the picosecond clock; "
            "a shorter time rounds to 0)"
        )
    return seconds


Duration = Annotated[
    float,
    Field(gt=0, le=MAX_DURATION_S, strict=True, allow_inf_nan=False),
    AfterValidator(_at_least_one_tick),
]
"""A positive simulated time in seconds, at least one clock tick."""
Instant = Annotated[float, Field(ge=0, le=MAX_DURATION_S, strict=True, allow_inf_nan=False)]
"""A simulated time in seconds from the start of the run (0 allowed)."""
TimeConstant = Annotated[
    float, Field(gt=0, le=MAX_TIME_CONSTANT_S, strict=True, allow_inf_nan=False)
]
LengthKm = Annotated[float, Field(ge=0, le=MAX_LENGTH_KM, strict=True, allow_inf_nan=False)]
Attenuation = Annotated[
    float, Field(ge=0, le=MAX_ATTENUATION_DB_PER_KM, strict=True, allow_inf_nan=False)
]
FiberSpeed = Annotated[
    float,
    Field(
        ge=MIN_FIBER_SPEED_KM_PER_S, le=MAX_FIBER_SPEED_KM_PER_S, strict=True, allow_inf_nan=False
    ),
]
AreaKm = Annotated[float, Field(gt=0, le=MAX_AREA_KM, strict=True, allow_inf_nan=False)]
DarkCountRate = Annotated[
    float, Field(ge=0, le=MAX_DARK_COUNT_RATE_HZ, strict=True, allow_inf_nan=False)
]
DetectionWindow = Annotated[
    float,
    Field(gt=0, le=MAX_DETECTION_WINDOW_S, strict=True, allow_inf_nan=False),
    AfterValidator(_at_least_one_tick),
]
Prob = Annotated[float, Field(gt=0, le=1, strict=True, allow_inf_nan=False)]
"""A probability that must not be 0 (an efficiency, a success probability)."""
DarkCount = Annotated[float, Field(ge=0, lt=1, strict=True, allow_inf_nan=False)]
OpenProb = Annotated[float, Field(gt=0, lt=1, strict=True, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, strict=True, allow_inf_nan=False)]
FlipProb = Annotated[float, Field(ge=0, le=0.5, strict=True, allow_inf_nan=False)]
Alpha = Annotated[float, Field(gt=0, le=0.5, strict=True, allow_inf_nan=False)]
WernerFidelity = Annotated[float, Field(ge=0.25, le=1, strict=True, allow_inf_nan=False)]
QberThreshold = Annotated[float, Field(gt=0, lt=0.5, strict=True, allow_inf_nan=False)]

#: Every model: frozen, and an unknown key is an error, never ignored.
CONFIG = ConfigDict(frozen=True, extra="forbid")

# --------------------------------------------------------------------------- problems

# Error types of our own; the formatter (qstack.scenario.errors) prints them.
ERR_VALUE = "qstack_value"  # "<path> = <value>: <msg>"
ERR_MISSING = "qstack_missing"  # "<path>: <msg>" (there is no value to show)
ERR_TEXT = "qstack_text"  # the whole line after "<source>: " (generated entries)
OWN_ERRORS = (ERR_VALUE, ERR_MISSING, ERR_TEXT)


def problem(kind: str, loc: tuple[str | int, ...], value: object, msg: str) -> InitErrorDetails:
    """One problem found by a model validator, at ``loc`` relative to that model."""
    # The message travels in the context so that braces in it are never
    # taken as format fields by pydantic-core.
    return InitErrorDetails(
        type=PydanticCustomError(kind, "{reason}", {"reason": msg}),
        loc=loc,
        input=value,
    )


def value_error(msg: str) -> PydanticCustomError:
    """A field validator's refusal, printed as ``<path> = <value>: <msg>``."""
    return PydanticCustomError(ERR_VALUE, "{reason}", {"reason": msg})


def raise_problems(model: str, problems: Sequence[InitErrorDetails]) -> None:
    """Report all problems a validator found at once (pydantic-core merges them)."""
    if problems:
        raise ValidationError.from_exception_data(model, list(problems))


def quoted(values: Sequence[object]) -> str:
    """``'a', 'b', 'c'``: how allowed values are listed in messages."""
    return ", ".join(repr(v) for v in values)


@dataclasses.dataclass(frozen=True)
class DefaultsFor:
    """Marks a table of defaults for another model's fields, so messages can cite its ranges."""

    model: type[BaseModel]
    reserved: dict[str, str]
    """Fields of ``model`` the generator sets itself -> why they are not allowed here."""

    def __hash__(self) -> int:
        return hash(self.model)


def too_deep(value: object, limit: int = MAX_NESTING) -> tuple[str | int, ...] | None:
    """Where the first table or array nested more than ``limit`` levels deep is, if any.

    The top-level table is level 1. Walked with an explicit stack, so any depth
    the parsers could read is measured without recursion.
    """
    stack: list[tuple[object, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, loc = stack.pop()
        children: Iterable[tuple[str | int, object]]
        if isinstance(item, Mapping):
            children = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        if len(loc) >= limit:
            return loc
        stack.extend((v, (*loc, k)) for k, v in children if isinstance(v, Mapping | list))
    return None
