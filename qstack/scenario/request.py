"""``[[requests]]`` entries and the network-layer options (``[network]`` and per request)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import InitErrorDetails

from qstack.scenario.fields import (
    CONFIG,
    ERR_MISSING,
    ERR_VALUE,
    MAX_GHZ_MEMBERS,
    MAX_NAME_LENGTH,
    MAX_OPTION_ENTRIES,
    MAX_STRING_LENGTH,
    Duration,
    Flag,
    FlipProb,
    Instant,
    Name,
    NodeRef,
    OpenProb,
    Pairs,
    PluginName,
    Prob,
    QberThreshold,
    Rounds,
    Tag,
    problem,
    raise_problems,
    value_error,
)

#: Applications qstack itself provides; a plug-in app may use any other well-formed
#: name, and the run's registry refuses names it does not know.
BUILTIN_APPS: tuple[str, ...] = (
    "pairs",
    "qkd",
    "teleport",
    "chsh",
    "ghz",
    "remote_cnot",
    "bb84",
    "sensing",
)

#: Request fields that belong to built-in applications (any other app: an error).
APP_FIELDS: dict[str, tuple[str, ...]] = {
    "qkd": ("z_basis_probability", "qber_threshold", "classical_attack"),
    "teleport": ("states",),
    "ghz": ("members",),
    "sensing": ("members", "phase", "repetitions", "visibility"),
    "bb84": (
        "signal_intensity",
        "decoy_intensity",
        "decoy_probability",
        "vacuum_probability",
        "misalignment",
        "pulse_rate_hz",
        "relay",
    ),
}
#: Apps whose requests name their ``members``.
MEMBER_APPS: tuple[str, ...] = ("ghz", "sensing")
#: Defaults of the bb84 fields (qstack's choices, documented in specs/scenario.md).
DEFAULT_DECOY_INTENSITY = 0.1
DEFAULT_DECOY_PROBABILITY = 0.1
DEFAULT_VACUUM_PROBABILITY = 0.1
DEFAULT_PULSE_RATE_HZ = 1e9
#: Largest mean photon number per pulse a bb84 request may ask for.
MAX_PULSE_INTENSITY = 10.0
MAX_PULSE_RATE_HZ = 1e12

#: The built-in purification schemes ("none" turns purification off). Schemes
#: are plug-ins: any well-formed name loads, and the run refuses a name its
#: registry does not hold, listing the ones it does.
PURIFICATIONS: tuple[str, ...] = ("none", "bbpssw", "dejmps")

#: Built-in defaults of the network-layer options.
DEFAULT_ROUTING = "shortest-hops"
DEFAULT_SWAP_POLICY = "asap"
DEFAULT_PURIFICATION = "none"

Members = Annotated[list[NodeRef], Field(min_length=3, max_length=MAX_GHZ_MEMBERS)]
Intensity = Annotated[float, Field(gt=0, le=MAX_PULSE_INTENSITY, strict=True, allow_inf_nan=False)]
PulseRate = Annotated[float, Field(gt=0, le=MAX_PULSE_RATE_HZ, strict=True, allow_inf_nan=False)]
Phase = Annotated[float, Field(ge=0, le=math.pi, strict=True, allow_inf_nan=False)]
Repetitions = Annotated[int, Field(strict=True, ge=1)]


def default_request_name(app: str, index: int) -> str:
    """``<app>-<index>``, with the '.' and ':' a plug-in app name may hold made '-'."""
    return f"{re.sub(r'[.:]', '-', app)}-{index}"


def _option_problem(value: object, where: str) -> str | None:
    """The first bound a free-form ``options`` value breaks, if any (walked without recursion)."""
    stack: list[tuple[object, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str) and len(item) > MAX_STRING_LENGTH:
            return f"{path}: a string of {len(item)} characters (at most {MAX_STRING_LENGTH})"
        if isinstance(item, Mapping | list) and len(item) > MAX_OPTION_ENTRIES:
            return f"{path}: {len(item)} entries (at most {MAX_OPTION_ENTRIES})"
        if isinstance(item, Mapping):
            for key, inner in item.items():
                if not isinstance(key, str) or len(key) > MAX_NAME_LENGTH:
                    return f"{path}: a key longer than {MAX_NAME_LENGTH} characters"
                stack.append((inner, f"{path}.{key}"))
        elif isinstance(item, list):
            stack.extend((inner, f"{path}[{i}]") for i, inner in enumerate(item))
    return None


class RequestSpec(BaseModel):
    """One ``[[requests]]`` entry: what an application asks the network for."""

    model_config = CONFIG

    name: Name | None = None
    """None: the default name ``<app>-<index>`` (see ``Scenario.request_name``)."""
    app: PluginName
    src: NodeRef
    dst: NodeRef
    pairs: Pairs
    min_fidelity: Prob | None = None
    max_time_s: Duration | None = None
    start_s: Instant = 0.0
    type: Literal["keep", "measure"] = "keep"
    priority: Tag = 0
    purpose_id: Tag = 0
    # network-layer overrides; None: as in [network] (see Scenario.network_options)
    routing: PluginName | None = None
    swap_policy: PluginName | None = None
    cutoff_s: Duration | None = None
    purification: PluginName | None = None
    purification_rounds: Rounds | None = None
    reroute: Flag | None = None
    # qkd only
    z_basis_probability: OpenProb | None = None
    qber_threshold: QberThreshold | None = None
    classical_attack: Literal["none", "tamper", "forge"] | None = None
    # teleport only
    states: Literal["haar", "cardinal"] | None = None
    # ghz and sensing
    members: Members | None = None
    # sensing only
    phase: Phase | None = None
    repetitions: Repetitions | None = None
    visibility: Prob | None = None
    # bb84 only
    signal_intensity: Intensity | None = None
    decoy_intensity: Intensity | None = None
    decoy_probability: OpenProb | None = None
    vacuum_probability: OpenProb | None = None
    misalignment: FlipProb | None = None
    pulse_rate_hz: PulseRate | None = None
    relay: Flag | None = None
    # plug-in apps only: their own options, validated by the plug-in
    options: dict[str, Any] | None = None

    @field_validator("options")
    @classmethod
    def _options_bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """Free-form, but bounded like everything else in a file."""
        found = None if value is None else _option_problem(value, "options")
        if found is not None:
            raise value_error(f"too large: {found}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Two ends; rounds need a protocol; app fields belong to their app."""
        problems: list[InitErrorDetails] = []
        if self.src == self.dst:
            reason = f"must differ from src ({self.src!r})"
            problems.append(problem(ERR_VALUE, ("dst",), self.dst, reason))
        if self.purification == "none":
            problems += rounds_without_protocol(self.purification_rounds, "this request")
        problems += self._foreign_field_problems()
        if self.options is not None and self.app in BUILTIN_APPS:
            own = APP_FIELDS.get(self.app)
            reason = (
                f"only for plug-in apps; the built-in app {self.app!r} takes no options table"
                + (f" (its own fields: {', '.join(own)})" if own else "")
            )
            problems.append(problem(ERR_VALUE, ("options",), self.options, reason))
        if self.app in MEMBER_APPS:
            problems += self._members_problems()
        if self.app == "sensing":
            problems += self._sensing_problems()
        if self.app == "bb84":
            problems += self._bb84_problems()
        raise_problems(type(self).__name__, problems)
        return self

    def _foreign_field_problems(self) -> list[InitErrorDetails]:
        """Fields of the built-in apps given with another app."""
        owners: dict[str, list[str]] = {}
        for app, names in APP_FIELDS.items():
            for name in names:
                owners.setdefault(name, []).append(app)
        out: list[InitErrorDetails] = []
        for name, apps in owners.items():
            value = getattr(self, name)
            if value is not None and self.app not in apps:
                which = " or ".join(repr(app) for app in apps)
                reason = f"only for app = {which} (this request has app = {self.app!r})"
                out.append(problem(ERR_VALUE, (name,), value, reason))
        return out

    def _sensing_problems(self) -> list[InitErrorDetails]:
        """The phase lies on the probe's fringe; repetitions divide the probes."""
        out: list[InitErrorDetails] = []
        sensors = len(self.members or ())
        if self.phase is not None and sensors and self.phase > math.pi / sensors:
            reason = (
                f"must be <= pi / {sensors} = {math.pi / sensors!r} (pi / the number of "
                "members: the GHZ fringe cos(n phase) is ambiguous beyond it)"
            )
            out.append(problem(ERR_VALUE, ("phase",), self.phase, reason))
        if self.repetitions is not None and self.pairs % self.repetitions:
            reason = (
                f"must divide pairs = {self.pairs} (each estimate uses repetitions probes "
                "of the pairs GHZ probes)"
            )
            out.append(problem(ERR_VALUE, ("repetitions",), self.repetitions, reason))
        return out

    def _bb84_problems(self) -> list[InitErrorDetails]:
        """A weak decoy below the signal; the three intensity classes' probabilities."""
        out: list[InitErrorDetails] = []
        decoy = self.decoy_intensity or DEFAULT_DECOY_INTENSITY
        if self.signal_intensity is not None and not decoy < self.signal_intensity:
            reason = f"must be above decoy_intensity = {decoy!r} (the weak decoy)"
            out.append(problem(ERR_VALUE, ("signal_intensity",), self.signal_intensity, reason))
        weak = self.decoy_probability or DEFAULT_DECOY_PROBABILITY
        vacuum = self.vacuum_probability or DEFAULT_VACUUM_PROBABILITY
        if weak + vacuum >= 1.0:
            reason = (
                f"decoy_probability + vacuum_probability = {weak + vacuum!r} must be < 1 "
                "(the rest of the pulses are signal pulses)"
            )
            field = "vacuum_probability" if self.vacuum_probability else "decoy_probability"
            out.append(problem(ERR_VALUE, (field,), getattr(self, field), reason))
        return out

    def _members_problems(self) -> list[InitErrorDetails]:
        """GHZ: three or more distinct members, src and dst among them."""
        if self.members is None:
            reason = f"missing (required when app = {self.app!r}: the nodes sharing each GHZ state)"
            return [problem(ERR_MISSING, ("members",), None, reason)]
        out: list[InitErrorDetails] = []
        seen: set[str] = set()
        for i, member in enumerate(self.members):
            if member in seen:
                reason = "listed twice; members must be distinct nodes"
                out.append(problem(ERR_VALUE, ("members", i), member, reason))
            seen.add(member)
        for end in ("src", "dst"):
            value = getattr(self, end)
            if value not in seen:
                reason = f"must be one of the members ({', '.join(self.members)})"
                out.append(problem(ERR_VALUE, (end,), value, reason))
        return out


def rounds_without_protocol(rounds: int | None, whose: str) -> list[InitErrorDetails]:
    """``purification_rounds > 0`` while purification is 'none' is a contradiction."""
    if rounds is None or rounds == 0:
        return []
    reason = (
        f"only allowed when purification is not 'none' ({whose} has purification = "
        "'none'; set purification = 'bbpssw' or 'dejmps', or drop purification_rounds)"
    )
    return [problem(ERR_VALUE, ("purification_rounds",), rounds, reason)]


def _check_rounds(model: BaseModel, purification: str, rounds: int | None, whose: str) -> None:
    """Raise when ``rounds`` are asked for with purification 'none'."""
    if purification == "none":
        raise_problems(type(model).__name__, rounds_without_protocol(rounds, whose))


class NetworkOptions(BaseModel):
    """The network-layer options one request runs with: [network] merged with its overrides.

    All values are resolved (no "inherit"), so the network layer reads them
    without knowing where they were set. Routing and swap-policy names are
    resolved by the run, which reports unknown ones (plug-ins may add names).
    """

    model_config = CONFIG

    routing: PluginName = DEFAULT_ROUTING
    swap_policy: PluginName = DEFAULT_SWAP_POLICY
    cutoff_s: Duration | None = None
    purification: PluginName = DEFAULT_PURIFICATION
    purification_rounds: Rounds = 0
    reroute: Flag = False
    """After a fault breaks its circuit, route again around what is down."""
    reservation: Flag = False
    """Reserve each circuit's memory along its path before it starts."""
    measure_directly: Flag = False
    """Measure-type pairs over one hop are measured as heralded, in batches."""

    @model_validator(mode="after")
    def _rounds_need_protocol(self) -> Self:
        """No purification rounds without a purification protocol."""
        _check_rounds(self, self.purification, self.purification_rounds, "these options")
        return self


class StackSettings(BaseModel):
    """The ``[stack]`` table: the protocol each layer runs, by plug-in name
    (the built-ins, or a package's or ``--plugin``'s; the run refuses a name
    its registry does not hold)."""

    model_config = CONFIG

    link: PluginName = "egp"
    network: PluginName = "qnp"


class NetworkSettings(BaseModel):
    """The ``[network]`` table: network-layer defaults for every request.

    ``purification_rounds = None`` means "not given": 0 rounds without a
    purification protocol, 1 round with one.
    """

    model_config = CONFIG

    routing: PluginName = DEFAULT_ROUTING
    swap_policy: PluginName = DEFAULT_SWAP_POLICY
    cutoff_s: Duration | None = None
    purification: PluginName = DEFAULT_PURIFICATION
    purification_rounds: Rounds | None = None
    reroute: Flag = False
    reservation: Flag = False
    """Every circuit reserves its memory along its path before it starts
    (admission control): concurrent circuits never wait for each other's
    memory. Network-wide, so that no circuit takes memory unreserved."""
    measure_directly: Flag = False
    """A measure-type request over one hop without purification (QKD between
    neighbours) has both ends measure each pair as it is heralded, never
    storing it, and takes its pairs in batches drawn at once: the same
    statistics, many times faster. Applies to applications that take
    batches (``qkd``, ``pairs``)."""

    @model_validator(mode="after")
    def _rounds_need_protocol(self) -> Self:
        """No purification rounds without a purification protocol."""
        _check_rounds(self, self.purification, self.purification_rounds, "[network]")
        return self

    def options_for(self, request: RequestSpec) -> NetworkOptions:
        """Merge a request's overrides into these defaults, key by key.

        A request that turns purification on inherits [network]'s rounds only
        when [network] purifies too; otherwise one round.
        """
        purification = request.purification or self.purification
        rounds = 0
        if purification != "none":
            inherited = self.purification_rounds if self.purification != "none" else None
            rounds = next((r for r in (request.purification_rounds, inherited) if r is not None), 1)
        return NetworkOptions(
            routing=request.routing or self.routing,
            swap_policy=request.swap_policy or self.swap_policy,
            cutoff_s=request.cutoff_s if request.cutoff_s is not None else self.cutoff_s,
            purification=purification,
            purification_rounds=rounds,
            reroute=self.reroute if request.reroute is None else request.reroute,
            reservation=self.reservation,
            measure_directly=self.measure_directly,
        )
