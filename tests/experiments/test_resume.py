"""An interrupted sweep keeps the rows it finished, and ``--resume`` runs only the rest."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.experiments._sweep_helpers import cli, read_csv_rows, tiny_toml, without_wall_clock

GRID = ["--set", "links[*].fidelity=0.8,0.9", "--replicas", "3", "--workers", "1"]
ROWS_PER_RUN = 2
ROOT = Path(__file__).resolve().parents[2]


def _reference(capsys: pytest.CaptureFixture[str], file: Path, out: Path) -> None:
    status, _, err = cli(capsys, "sweep", str(file), *GRID, "--out", str(out))
    assert status == 0, err


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_killed_sweep_resumes_where_it_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    file = tiny_toml(tmp_path)
    reference = tmp_path / f"reference{suffix}"
    _reference(capsys, file, reference)
    lines = _lines(reference)
    header = lines[:1] if suffix == ".csv" else []
    body = lines[len(header) :]
    # What a process killed mid-sweep leaves: two whole runs, then one row of a
    # third run (its other row never written), then half a line.
    kept = 2 * ROWS_PER_RUN
    partial = tmp_path / f"partial{suffix}"
    partial.write_text(
        "".join([*header, *body[:kept], body[kept], body[kept + 1][:10]]), encoding="utf-8"
    )

    status, _, err = cli(capsys, "sweep", str(file), *GRID, "--out", str(partial), "--resume")
    assert status == 0, err
    assert "(2 were there already)" in err
    assert _lines(partial)[: len(header) + kept] == lines[: len(header) + kept]  # not run again
    if suffix == ".csv":
        assert without_wall_clock(read_csv_rows(partial)) == without_wall_clock(
            read_csv_rows(reference)
        )
    else:
        resumed = [json.loads(line) for line in _lines(partial)]
        assert without_wall_clock(resumed) == without_wall_clock(
            [json.loads(line) for line in lines]
        )


def test_a_killed_parquet_sweep_resumes_from_its_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    file = tiny_toml(tmp_path)
    reference = tmp_path / "reference.jsonl"
    _reference(capsys, file, reference)
    out = tmp_path / "r.parquet"
    journal = tmp_path / "r.parquet.partial.jsonl"
    journal.write_text("".join(_lines(reference)[: 3 * ROWS_PER_RUN]), encoding="utf-8")
    status, _, err = cli(capsys, "sweep", str(file), *GRID, "--out", str(out))
    assert status == 2 and "exists; pass --resume" in err
    status, _, err = cli(capsys, "sweep", str(file), *GRID, "--out", str(out), "--resume")
    assert status == 0, err
    assert not journal.exists()
    rows = pyarrow_parquet.read_table(out).to_pylist()
    expected = [json.loads(line) for line in _lines(reference)]
    assert without_wall_clock(rows) == without_wall_clock(expected)


def _wait_for_rows(path: Path, process: subprocess.Popen[str], rows: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and len(_lines(path)) > rows:
            return
        time.sleep(0.01)
    raise AssertionError("the sweep ended or stalled before writing rows")


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_sweep_process_keeps_its_rows_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: signal.Signals
) -> None:
    file = tiny_toml(tmp_path)
    out = tmp_path / "r.csv"
    # 2 points x 40 replicas of 200 pairs: long enough to be stopped part way.
    argv = ["sweep", str(file), "--set", "links[*].fidelity=0.8,0.9", "--set",
            "requests[0].pairs=200", "--replicas", "40", "--workers", "2",
            "--out", str(out)]  # fmt: skip
    log = tmp_path / "stderr.txt"
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "qstack.cli", *argv],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
        _wait_for_rows(out, process, 2 * ROWS_PER_RUN)
        process.send_signal(how)
        process.wait(timeout=60)
    err = log.read_text(encoding="utf-8")
    if how == signal.SIGINT:
        assert process.returncode == 130, err
        assert f"their rows are in {out}: add --resume to finish" in err
    else:
        assert process.returncode == -signal.SIGKILL
    finished = {(row["point"], row["replica"]) for row in read_csv_rows(out)}
    assert 2 <= len(finished) < 80

    status, _, err = cli(capsys, *argv, "--resume")
    assert status == 0, err
    assert f"({len(finished)} were there already)" in err
    reference = tmp_path / "reference.csv"
    status, _, err = cli(capsys, *argv[:-1], str(reference))
    assert status == 0, err
    assert without_wall_clock(read_csv_rows(out)) == without_wall_clock(read_csv_rows(reference))


def test_resume_refuses_another_sweeps_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tiny_toml(tmp_path)
    out = tmp_path / "r.csv"
    _reference(capsys, file, out)
    before = out.read_text(encoding="utf-8")
    other = ["--set", "links[*].fidelity=0.8,0.95", "--replicas", "3", "--workers", "1"]
    status, _, err = cli(capsys, "sweep", str(file), *other, "--out", str(out), "--resume")
    assert status == 2
    assert "point 1 replica 0 was run with another scenario or seed" in err
    status, _, err = cli(
        capsys, "sweep", str(file), "--set", "run.until_s=1", "--out", str(out), "--resume"
    )
    assert status == 2 and "written by a sweep over ['links[*].fidelity']" in err
    assert out.read_text(encoding="utf-8") == before
