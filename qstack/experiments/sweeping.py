"""A sweep: the grid's points, each run ``replicas`` times, as one table of rows.

``plan_sweep`` validates every point before anything runs (a bad value is
an error naming its key, not a failure half-way through), ``execute`` runs
the plan on an engine and hands rows to a store as runs finish, and
``sweep`` is the Python entry point that returns a pandas DataFrame.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from qstack.experiments.document import ScenarioSource, scenario_hash, scenario_source
from qstack.experiments.engines import Engine, make_engine
from qstack.experiments.grid import Axis, derive_seed, grid_axes, grid_points
from qstack.experiments.overrides import OverrideError, apply_overrides, parse_key, parse_value
from qstack.experiments.results import ResultsError, Row, RowStore, open_store
from qstack.experiments.runs import RunResult, RunTask, rows_of
from qstack.registry import Registry
from qstack.scenario import Scenario, ScenarioError, parse_scenario

if TYPE_CHECKING:
    import pandas as pd


class SweepInputError(ScenarioError):
    """A sweep that cannot start or whose input a run refused (exit status 2)."""


class RunFailedError(RuntimeError):
    """A run raised inside the simulator: a bug to report, with the run to reproduce."""


@dataclass(frozen=True)
class Point:
    """One combination of the axes' values, validated."""

    values: tuple[object, ...]
    scenario: Scenario
    scenario_hash: str


@dataclass(frozen=True)
class SweepPlan:
    """Everything a sweep runs, decided before the first run starts."""

    source: ScenarioSource
    axes: tuple[Axis, ...]
    points: tuple[Point, ...]
    replicas: int
    base_seed: int

    @property
    def keys(self) -> list[str]:
        return [axis.key for axis in self.axes]

    def tasks(self) -> list[RunTask]:
        return [
            RunTask(i, r, derive_seed(self.base_seed, i, r), point.scenario)
            for i, point in enumerate(self.points)
            for r in range(self.replicas)
        ]

    def describe(self, point: int) -> str:
        """``links[*].length_km=20, network.routing='x'``: a point as the user set it."""
        values = self.points[point].values
        return ", ".join(f"{k}={v!r}" for k, v in zip(self.keys, values, strict=True))

    def reproduce(self, point: int, seed: int) -> str:
        """The ``qstack run`` command line that repeats one run exactly."""
        words = ["qstack", "run", self.source.name]
        for key, value in zip(self.keys, self.points[point].values, strict=True):
            words += ["--set", f"{key}={_toml(value)}"]
        return shlex.join([*words, "--seed", str(seed)])


def _toml(value: object, bare: bool = True) -> str:
    """A value as ``--set`` reads it back: TOML, with a string left bare when it reads
    back as itself (``fidelity-aware``), quoted otherwise and inside arrays and tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if bare and parse_value(value) == value:
            return value
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item, False) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v, False)}" for k, v in value.items()) + "}"
    return repr(value)


def plan_sweep(
    scenario: str | os.PathLike[str] | Mapping[str, Any] | Scenario | None,
    axes: Sequence[Axis],
    replicas: int = 1,
    base_seed: int | None = None,
) -> SweepPlan:
    """Validate every point of the grid; errors name the point and the key."""
    if replicas < 1:
        raise SweepInputError(f"--replicas = {replicas}: must be >= 1")
    if base_seed is not None and base_seed < 0:
        raise SweepInputError(f"--seed = {base_seed}: must be >= 0")
    seen: Counter[str] = Counter(axis.key for axis in axes)
    for axis in axes:
        if seen[axis.key] > 1:
            raise OverrideError(f"--set {axis.key}: given twice; give one list of values")
        if parse_key(axis.key) == ("seed",):
            raise OverrideError(
                f"--set {axis.key}: the seed is not swept: replica r of point i runs with a seed "
                "derived from (the file's seed, i, r); use --replicas for more runs per point "
                "and --seed to change the base seed"
            )
    source = scenario_source(scenario)
    points: list[Point] = []
    keys = [axis.key for axis in axes]
    for index, values in enumerate(grid_points(axes)):
        document = apply_overrides(source.document, zip(keys, values, strict=True))
        try:
            validated = parse_scenario(document, source.name, source.base_dir)
        except ScenarioError as error:
            where = ", ".join(f"{k}={v!r}" for k, v in zip(keys, values, strict=True))
            raise SweepInputError(f"point {index} ({where}): {error}") from None
        points.append(Point(values, validated, scenario_hash(validated)))
    seed = points[0].scenario.seed if base_seed is None else base_seed
    return SweepPlan(source, tuple(axes), tuple(points), replicas, seed)


@dataclass
class SweepOutcome:
    """What ``execute`` did: rows are in the store."""

    runs: int
    skipped: int
    completed: int = 0
    interrupted: bool = False


def _resumable(plan: SweepPlan, rows: Sequence[Row], where: str) -> tuple[list[Row], set[Any]]:
    """The rows of complete runs of *this* sweep, and those runs; refuse another sweep's file."""
    if rows:
        columns = list(rows[0])
        given = columns[: columns.index("point")] if "point" in columns else columns
        if given != plan.keys:
            raise ResultsError(
                f"{where}: written by a sweep over {given}, not {plan.keys}; "
                "use another --out, or --overwrite"
            )
    by_run: dict[tuple[int, int], list[Row]] = {}
    for row in rows:
        try:
            run = (int(row["point"]), int(row["replica"]))
            seed = int(row["seed"])
        except (KeyError, TypeError, ValueError):
            raise ResultsError(
                f"{where}: not a qstack sweep table (no point/replica/seed)"
            ) from None
        point, replica = run
        if point >= len(plan.points) or replica >= plan.replicas:
            raise ResultsError(
                f"{where}: holds point {point} replica {replica}, which this sweep does not "
                "have (fewer values or replicas?); use another --out, or --overwrite"
            )
        expected = derive_seed(plan.base_seed, point, replica)
        if seed != expected or row.get("scenario_hash") != plan.points[point].scenario_hash:
            raise ResultsError(
                f"{where}: point {point} replica {replica} was run with another scenario or seed "
                "than this sweep gives it (file, --set values or --seed changed?); use another "
                "--out, or --overwrite"
            )
        by_run.setdefault(run, []).append(row)
    complete = {
        run
        for run, found in by_run.items()
        if len(found) == len(plan.points[run[0]].scenario.requests)
    }
    kept = [row for run in sorted(complete) for row in by_run[run]]
    return kept, complete


def execute(
    plan: SweepPlan,
    engine: Engine,
    store: RowStore,
    resume: bool = False,
    progress: TextIO | None = None,
    where: str = "results",
) -> SweepOutcome:
    """Run the plan's tasks (those not done yet, with ``resume``), store rows as runs finish.

    Rows reach the store run by run; Ctrl-C stops the engine and keeps them.
    A run refused for bad input, or crashing, stops the sweep after storing
    what finished (``SweepInputError`` / ``RunFailedError``).
    """
    tasks = plan.tasks()
    done: set[Any] = set()
    if resume:
        kept, done = _resumable(plan, store.existing(), where)
        store.keep(kept)
    pending = [task for task in tasks if (task.point, task.replica) not in done]
    outcome = SweepOutcome(runs=len(tasks), skipped=len(tasks) - len(pending))
    bar = _progress_bar(len(tasks), outcome.skipped, progress)
    try:
        for result in engine.results(pending):
            _take(plan, result, store)
            outcome.completed += 1
            if bar is not None:
                bar.update()
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        engine.close()
        if bar is not None:
            bar.close()
        store.finish()
    return outcome


def _take(plan: SweepPlan, result: RunResult, store: RowStore) -> None:
    if result.failure is not None:
        if result.bad_input:
            raise SweepInputError(
                f"point {result.point} ({plan.describe(result.point)}): {result.failure}"
            )
        raise RunFailedError(
            f"point {result.point} replica {result.replica} failed; reproduce with\n  "
            f"{plan.reproduce(result.point, result.seed)}\n{result.failure}"
        )
    point = plan.points[result.point]
    store.add(rows_of(result, plan.keys, point.values, point.scenario_hash))


def _progress_bar(total: int, initial: int, stream: TextIO | None) -> Any:
    """A tqdm bar on ``stream`` when it is a terminal, else None (nothing in logs or pipes)."""
    if stream is None or not stream.isatty():
        return None
    from tqdm import tqdm

    # No monitor thread: worker processes may be forked after the bar starts.
    bar_class: Any = type("SweepBar", (tqdm,), {"monitor_interval": 0})
    return bar_class(total=total, initial=initial, unit="run", file=stream, dynamic_ncols=True)


def sweep(
    scenario: str | os.PathLike[str] | Mapping[str, Any] | Scenario,
    grid: Mapping[str, object],
    replicas: int = 1,
    engine: str = "local",
    workers: int | None = None,
    *,
    registry: Registry | None = None,
    scheduler: str | None = None,
    seed: int | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Run ``scenario`` at every point of ``grid``, ``replicas`` times each; one row per request.

    ``scenario``: a file path, a dict or a ``Scenario``. ``grid``: ``{key: values}``
    with keys as for ``--set`` and values a list, or a string read as on the
    command line (``"10:50:10"``, ``"a,b"``). ``engine``: ``"local"`` (processes,
    ``workers`` of them, default every core) or ``"dask"`` (``scheduler``
    address, or a local cluster). ``registry``: plug-ins the runs may name;
    its factories must be importable classes so workers can unpickle them.
    ``out`` also writes the rows to a file, as ``qstack sweep --out`` does.

    Returns a pandas DataFrame with the columns of the CSV, sorted by point
    and replica. Raises ``ScenarioError`` subclasses for bad input.
    """
    import pandas as pd

    plan = plan_sweep(scenario, grid_axes(grid), replicas, seed)
    store = open_store(plan.keys, out, resume, overwrite)
    runner = make_engine(engine, workers, registry, scheduler)
    stream = sys.stderr if progress else None
    outcome = execute(plan, runner, store, resume, stream, os.fspath(out or "results"))
    if outcome.interrupted:
        raise KeyboardInterrupt
    return pd.DataFrame(store.rows, columns=store.columns())
