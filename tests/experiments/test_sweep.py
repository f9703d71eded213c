"""``qstack sweep`` and ``qstack.experiments.sweeping``: rows, engines, reproduction, plug-ins."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from qstack.experiments import sweep
from qstack.experiments.engines import EngineError
from qstack.layers.network.routing import Route, RouteRefusal, RouteRequest, Topology
from qstack.physics.formulas import swap_werner_fidelity
from qstack.registry import Registry
from qstack.scenario import load_scenario
from tests.experiments._sweep_helpers import (
    cli,
    read_csv_rows,
    run_json,
    tiny_toml,
    without_wall_clock,
)

GRID = ["--set", "links[*].fidelity=0.8,0.9", "--set", "requests[0].pairs=10:30:10"]
RUNS = 2 * 3 * 2  # points x replicas
REQUESTS = 2


def _sweep(
    capsys: pytest.CaptureFixture[str], file: Path, out: Path, *extra: str
) -> list[dict[str, str]]:
    """Sweep GRID twice per point into ``out``; the rows when it is a CSV file."""
    status, _, err = cli(
        capsys, "sweep", str(file), *GRID, "--replicas", "2", "--out", str(out), *extra
    )
    assert status == 0, err
    return read_csv_rows(out) if out.suffix == ".csv" else []


def test_rows_have_the_contract_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _sweep(capsys, tiny_toml(tmp_path), tmp_path / "r.csv", "--workers", "1")
    assert len(rows) == RUNS * REQUESTS
    columns = list(rows[0])
    assert columns[:6] == [
        "links[*].fidelity",
        "requests[0].pairs",
        "point",
        "replica",
        "seed",
        "name",
    ]
    assert {"app", "src", "dst", "status", "delivered", "fidelity_mean", "rate_hz"} <= set(columns)
    assert columns[-4:] == ["sim_time_s", "events", "wall_time_s", "scenario_hash"]
    assert [row["name"] for row in rows[:2]] == ["pairs-0", "pairs-1"]
    assert {row["status"] for row in rows} == {"done"}
    # Replicas of a point share the scenario hash and differ in seed; points differ in hash.
    by_point: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        by_point.setdefault(row["point"], set()).add((row["scenario_hash"], row["seed"]))
    assert len(by_point) == 6
    assert all(len({h for h, _ in runs}) == 1 and len(runs) == 2 for runs in by_point.values())
    assert len({next(iter(runs))[0] for runs in by_point.values()}) == 6


@pytest.mark.slow
def test_rows_do_not_depend_on_the_worker_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tiny_toml(tmp_path)
    one = _sweep(capsys, file, tmp_path / "one.csv", "--workers", "1")
    two = _sweep(capsys, file, tmp_path / "two.csv", "--workers", "2")
    assert without_wall_clock(one) == without_wall_clock(two)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("dask.distributed", reason="the dask extra is part of the test extra")
    file = tiny_toml(tmp_path)
    local = _sweep(capsys, file, tmp_path / "local.csv", "--workers", "1")
    dask = _sweep(capsys, file, tmp_path / "dask.csv", "--engine", "dask", "--workers", "2")
    assert without_wall_clock(local) == without_wall_clock(dask)


@pytest.mark.slow
def test_any_row_reproduces_with_run_set_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tiny_toml(tmp_path)
    out = tmp_path / "r.jsonl"
    status, _, err = cli(capsys, "sweep", str(file), *GRID, "--replicas", "2", "--out", str(out))
    assert status == 0, err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for row in (rows[0], rows[-1], rows[len(rows) // 2 + 1]):
        report = run_json(
            capsys,
            str(file),
            "--set",
            f"links[*].fidelity={row['links[*].fidelity']}",
            "--set",
            f"requests[0].pairs={row['requests[0].pairs']}",
            "--seed",
            str(row["seed"]),
        )
        index = int(row["name"].rsplit("-", 1)[1])
        request = report["requests"][index]
        assert {k: row[k] for k in request} == request  # bit for bit, through JSON
        assert (row["sim_time_s"], row["events"]) == (report["sim_time_s"], report["events"])


def test_table_on_stdout_without_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(
        capsys, "sweep", str(tiny_toml(tmp_path)), "--set", "run.until_s=1,2", "--workers", "1"
    )
    assert status == 0
    header, rule, *lines = out.splitlines()
    assert header.split()[:4] == ["run.until_s", "replica", "name", "status"]
    assert set(rule) == {"-"}
    assert [line.split()[:2] for line in lines[: 2 * REQUESTS]] == [
        ["1", "0"], ["1", "0"], ["2", "0"], ["2", "0"],
    ]  # fmt: skip
    assert "reproduce a row: qstack run" in out and "--seed" in out


@pytest.mark.slow
def test_formats_hold_the_same_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    file = tiny_toml(tmp_path)
    csv_rows = _sweep(capsys, file, tmp_path / "r.csv", "--workers", "1")
    _sweep(capsys, file, tmp_path / "r.jsonl", "--workers", "1")
    _sweep(capsys, file, tmp_path / "r.parquet", "--workers", "1")
    jsonl = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    parquet = pyarrow_parquet.read_table(tmp_path / "r.parquet").to_pylist()
    assert without_wall_clock(jsonl) == without_wall_clock(parquet)
    as_text = [{k: _as_cell(v) for k, v in row.items()} for row in jsonl]
    assert without_wall_clock(as_text) == without_wall_clock(csv_rows)


@pytest.mark.slow
def test_python_api_returns_the_csv_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tiny_toml(tmp_path)
    csv_rows = _sweep(capsys, file, tmp_path / "r.csv", "--workers", "1")
    grid = {"links[*].fidelity": [0.8, 0.9], "requests[0].pairs": "10:30:10"}
    frame = sweep(file, grid, replicas=2, workers=1)
    assert list(frame.columns) == list(csv_rows[0])
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    as_text = [{k: _as_cell(v) for k, v in row.items()} for row in records]
    assert without_wall_clock(as_text) == without_wall_clock(csv_rows)
    # A dict or a Scenario is the same experiment as the file.
    scenario = load_scenario(file)
    for same in (scenario, scenario.model_dump()):
        again = sweep(same, grid, replicas=2, workers=1)
        assert again.drop(columns="wall_time_s").equals(frame.drop(columns="wall_time_s"))


# --------------------------------------------------------------------------- plug-ins


class LongWayRound:
    """A routing strategy of a user's own: always through ``b``, never the direct link."""

    name = "long-way-round"

    def route(self, topology: Topology, request: RouteRequest) -> Route | RouteRefusal:
        return Route((request.src, "b", request.dst), 1.0, 0.0)


def _triangle() -> dict[str, Any]:
    """a - c directly, or a - b - c; abstract Werner links of fidelity 0.9, perfect memories."""
    link = {"model": "abstract", "length_km": 1.0, "success_probability": 0.5,
            "attempt_duration_s": 1e-4, "fidelity": 0.9}  # fmt: skip
    return {
        "seed": 2,
        "run": {"until_s": 5.0},
        "nodes": [{"name": n, "qubits": 2} for n in ("a", "b", "c")],
        "links": [{"a": x, "b": y, **link} for x, y in (("a", "c"), ("a", "b"), ("b", "c"))],
        "requests": [{"app": "pairs", "src": "a", "dst": "c", "pairs": 10}],
    }


def test_a_users_strategy_runs_in_worker_processes() -> None:
    registry = Registry.with_defaults()
    registry.register("routing", LongWayRound.name, LongWayRound)
    grid = {"network.routing": ["shortest-hops", LongWayRound.name]}
    frame = sweep(_triangle(), grid, replicas=2, workers=2, registry=registry)
    assert set(frame["status"]) == {"done"}
    fidelity = dict(zip(frame["network.routing"], frame["fidelity_mean"], strict=True))
    # Perfect memories: the direct link delivers its Werner state unchanged, and
    # the two-link path the swapped Werner state, F1 F2 + (1 - F1)(1 - F2) / 3,
    # exactly (up to float rounding): the worker used the user's strategy.
    assert math.isclose(fidelity["shortest-hops"], 0.9, rel_tol=1e-12)
    assert math.isclose(fidelity[LongWayRound.name], swap_werner_fidelity(0.9, 0.9), rel_tol=1e-12)


@pytest.mark.slow
def test_a_users_strategy_runs_on_a_dask_cluster() -> None:
    pytest.importorskip("dask.distributed", reason="the dask extra is part of the test extra")
    registry = Registry.with_defaults()
    registry.register("routing", LongWayRound.name, LongWayRound)
    grid = {"network.routing": ["shortest-hops", LongWayRound.name]}
    local = sweep(_triangle(), grid, replicas=2, workers=1, registry=registry)
    dask = sweep(_triangle(), grid, replicas=2, engine="dask", workers=2, registry=registry)
    assert dask.drop(columns="wall_time_s").equals(local.drop(columns="wall_time_s"))
    assert set(dask["status"]) == {"done"}


def test_a_registry_workers_cannot_unpickle_is_a_clear_error() -> None:
    registry = Registry.with_defaults()
    registry.register("routing", "inline", lambda: LongWayRound())
    with pytest.raises(EngineError, match="cannot be sent to worker processes"):
        sweep(_triangle(), {"network.routing": ["inline"]}, workers=2, registry=registry)
    # One worker runs in this process: nothing to pickle.
    frame = sweep(_triangle(), {"network.routing": ["inline"]}, workers=1, registry=registry)
    assert set(frame["status"]) == {"done"}


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--set", "links[*].fidelity=0.9,1.5"], "point 1 (links[*].fidelity=1.5)"),
        (["--set", "links[*].fidelity=0.9,1.5"], "links[0].fidelity = 1.5: must be <= 1"),
        (["--set", "links[*].fidelty=0.9"], "--set links[*].fidelty: names nothing"),
        (["--set", "network.routing=nope"], "network.routing = 'nope': unknown routing"),
        (["--set", "seed=1,2"], "the seed is not swept"),
        (["--set", "run.until_s=1:2:0"], "STEP must not be 0"),
        (["--set", "run.until_s=1", "--set", "run.until_s=2"], "given twice"),
        (["--replicas", "0"], "--replicas = 0: must be >= 1"),
        (["--workers", "0"], "--workers = 0: must be >= 1"),
        (["--out", "r.txt"], "must end in .csv, .jsonl, .parquet"),
        (["--resume"], "--resume needs --out"),
        (["--scheduler", "tcp://x:1"], "--scheduler is for --engine dask"),
    ],
)
def test_bad_sweeps_exit_2_with_the_key_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    status, out, err = cli(capsys, "sweep", str(tiny_toml(tmp_path)), *argv)
    assert (status, out) == (2, ""), err
    assert expected in err


def test_an_existing_out_is_never_clobbered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tiny_toml(tmp_path)
    out = tmp_path / "r.csv"
    out.write_text("precious\n", encoding="utf-8")
    status, _, err = cli(capsys, "sweep", str(file), "--out", str(out))
    assert status == 2 and "exists; pass --resume" in err
    assert out.read_text(encoding="utf-8") == "precious\n"
    status, _, err = cli(capsys, "sweep", str(file), "--out", str(out), "--overwrite")
    assert status == 0, err
    assert len(read_csv_rows(out)) == REQUESTS


def _as_cell(value: object) -> str:
    """What a CSV cell holds: nothing for None, JSON for a list (a path)."""
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, list) else str(value)
