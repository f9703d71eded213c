"""What a report knows besides the trace: the run report (``qstack run
--json``) and, when the input was a scenario, the scenario itself.

The run report is read through lenient views (fields a page does not use,
or that a newer qstack adds, are ignored; fields a page uses but a report
lacks are None), so a ``run.json`` from another version still draws what
it can.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from qstack.scenario import Scenario

#: QBER above which a QKD session aborts when the scenario does not say.
DEFAULT_QBER_THRESHOLD = 0.11


class ReportError(ValueError):
    """Input a report cannot be made from; the message names it."""


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class LinkSummary(_View):
    """A link's line of the run report."""

    a: str
    b: str
    model: str | None = None
    attempts: int | None = None
    successes: int | None = None


class RequestSummary(_View):
    """A request's line of the run report, the app-specific fields included."""

    app: str
    src: str
    dst: str
    status: str
    error: str | None = None
    delivered: int = 0
    fidelity_mean: float | None = None
    latency_mean_s: float | None = None
    rate_hz: float | None = None
    name: str | None = None
    path: list[str] | None = None
    sifted_bits: int | None = None
    sample_bits: int | None = None
    qber: float | None = None
    qber_z: float | None = None
    qber_x: float | None = None
    leaked_bits: int | None = None
    secret_key_bits: int | None = None
    keys_match: bool | None = None
    aborted: bool | None = None
    abort_reason: str | None = None
    teleported: int | None = None
    teleport_fidelity_mean: float | None = None


class RunSummary(_View):
    """The run report as a page reads it."""

    seed: int | None = None
    sim_time_s: float | None = None
    wall_time_s: float | None = None
    events: int | None = None
    links: list[LinkSummary] = []
    requests: list[RequestSummary] = []


def summary_of(report: BaseModel) -> RunSummary:
    """The view of an in-process run report."""
    return RunSummary.model_validate(report.model_dump(mode="json"))


def read_summary(path: str | Path) -> RunSummary:
    """A ``qstack run --json`` file; :class:`ReportError` names the problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ReportError(f"--run-report = {source!r}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ReportError(f"--run-report = {source!r}: not UTF-8 text") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ReportError(f"--run-report = {source!r}: not JSON ({str(error)[:120]})") from None
    try:
        return RunSummary.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ReportError(
            f"--run-report = {source!r}: {where}: {first['msg']} "
            "(expected the output of qstack run --json)"
        ) from None


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """What the scenario asked of one request."""

    app: str
    src: str
    dst: str
    pairs: int
    start_s: float
    min_fidelity: float | None
    qber_threshold: float


@dataclass(frozen=True)
class ScenarioFacts:
    """The parts of a scenario a page draws: nodes, fiber lengths, where
    nodes sit when the topology gives positions, and the requests' plans."""

    seed: int
    nodes: tuple[str, ...]
    lengths_km: dict[tuple[str, str], float]
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    layout: str = "seeded"
    requests: tuple[RequestPlan, ...] = ()


def scenario_facts(scenario: Scenario, base_dir: str | Path | None = None) -> ScenarioFacts:
    """Nodes, links, node positions (from the scenario's ``[topology]``
    where it places nodes: chain, ring, grid, Waxman) and request plans."""
    positions, layout = _positions(scenario, base_dir)
    requests = tuple(
        RequestPlan(
            spec.app,
            spec.src,
            spec.dst,
            spec.pairs,
            spec.start_s,
            spec.min_fidelity,
            DEFAULT_QBER_THRESHOLD if spec.qber_threshold is None else spec.qber_threshold,
        )
        for spec in scenario.requests
    )
    return ScenarioFacts(
        scenario.seed,
        tuple(node.name for node in scenario.nodes),
        {(link.a, link.b): link.length_km for link in scenario.links},
        positions,
        layout,
        requests,
    )


def _positions(
    scenario: Scenario, base_dir: str | Path | None
) -> tuple[dict[str, tuple[float, float]], str]:
    """Coordinates the topology gives, and where they came from."""
    spec = scenario.topology
    if spec is None:
        return {}, "seeded"
    from qstack import topology

    try:
        generated = topology.generate(spec, scenario.seed, base_dir)
    except (topology.TopologyError, ValueError):
        return {}, "seeded"
    if generated.positions:
        return dict(generated.positions), f"{spec.kind} coordinates"
    names = generated.nodes
    if spec.kind == "chain":
        return {name: (float(i), 0.0) for i, name in enumerate(names)}, "chain"
    if spec.kind == "ring":
        count = len(names)
        return {
            name: (math.cos(2 * math.pi * i / count), math.sin(2 * math.pi * i / count))
            for i, name in enumerate(names)
        }, "ring"
    return {}, "seeded"
