"""One run of a sweep, as a worker does it, and the rows it becomes.

Everything here is sent to worker processes (local or on a Dask cluster) by
pickling, so tasks hold plain data and a ``Registry`` of importable
factories, and the functions live at module level.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qstack.api import run
from qstack.network import TopologyError
from qstack.registry import Registry
from qstack.reports import RunReport
from qstack.scenario import Scenario, ScenarioError

#: Row columns after the swept keys, before the request report's own fields.
LEAD_COLUMNS = ("point", "replica", "seed", "name")
#: Row columns after the request report's fields.
TAIL_COLUMNS = ("sim_time_s", "events", "wall_time_s", "scenario_hash")


@dataclass(frozen=True, slots=True)
class RunTask:
    """Replica ``replica`` of point ``point``: its scenario and its seed."""

    point: int
    replica: int
    seed: int
    scenario: Scenario


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a worker sends back: the ``--json`` request reports plus the run's totals.

    ``requests`` hold each request's report fields with its ``name``;
    ``failure`` is set instead when the run raised (bad input found late, or a bug).
    """

    point: int
    replica: int
    seed: int
    requests: tuple[dict[str, Any], ...] = ()
    sim_time_s: float = 0.0
    events: int = 0
    wall_time_s: float = 0.0
    failure: str | None = None
    bad_input: bool = False


@functools.cache
def _default_registry() -> Registry:
    """The built-ins and the installed entry points, found once per worker
    process: looking through the installed packages takes about 20 ms, more
    than a short run."""
    return Registry.with_defaults()


def run_scenario_with(scenario: Scenario, seed: int, registry: Registry | None) -> RunReport:
    """The one call that runs a scenario; a user's registry decides plug-in names."""
    return run(scenario, seed=seed, registry=_default_registry() if registry is None else registry)


def request_rows(report: RunReport) -> tuple[dict[str, Any], ...]:
    """Each request's ``--json`` fields, ``name`` first (``<app>-<index>`` unless named)."""
    rows = []
    for index, request in enumerate(report.requests):
        fields = request.model_dump(mode="json")
        name = fields.pop("name", None) or f"{request.app}-{index}"
        rows.append({"name": name, **fields})
    return tuple(rows)


def run_task(task: RunTask, registry: Registry | None) -> RunResult:
    """Run one task; a failure comes back as data so the sweep can say which run it was."""
    try:
        report = run_scenario_with(task.scenario, task.seed, registry)
    except (ScenarioError, TopologyError) as error:
        return RunResult(task.point, task.replica, task.seed, failure=str(error), bad_input=True)
    except Exception:
        return RunResult(task.point, task.replica, task.seed, failure=traceback.format_exc())
    return RunResult(
        task.point,
        task.replica,
        task.seed,
        requests=request_rows(report),
        sim_time_s=report.sim_time_s,
        events=report.events,
        wall_time_s=report.wall_time_s,
    )


def run_batch(tasks: Sequence[RunTask], registry: Registry | None) -> list[RunResult]:
    """Run tasks one after the other (a Dask task is a small batch, to spread its overhead)."""
    return [run_task(task, registry) for task in tasks]


def rows_of(
    result: RunResult, keys: Sequence[str], values: Sequence[object], scenario_hash: str
) -> list[dict[str, Any]]:
    """The table rows of one finished run, one per request, columns in their final order."""
    swept = dict(zip(keys, values, strict=True))
    lead = {"point": result.point, "replica": result.replica, "seed": result.seed}
    tail = {
        "sim_time_s": result.sim_time_s,
        "events": result.events,
        "wall_time_s": result.wall_time_s,
        "scenario_hash": scenario_hash,
    }
    return [{**swept, **lead, **request, **tail} for request in result.requests]


def ordered_columns(keys: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Swept keys, the lead columns, report fields in first-seen order, the tail columns."""
    fixed = [*keys, *LEAD_COLUMNS, *TAIL_COLUMNS]
    middle: dict[str, None] = {}
    for row in rows:
        for column in row:
            if column not in fixed:
                middle.setdefault(column)
    return [*keys, *LEAD_COLUMNS, *middle, *TAIL_COLUMNS]
