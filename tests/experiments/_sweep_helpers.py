"""Tiny scenarios and command-line wrappers the experiments tests share."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from qstack.cli import main

#: Columns that differ between two runs of the same row.
WALL_CLOCK = {"wall_time_s"}


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


TINY_TOML = """\
seed = 11

[run]
until_s = 2.0

[[nodes]]
name = "alice"
qubits = 2
memory_t_s = 0.5

[[nodes]]
name = "bob"
qubits = 2
memory_t_s = 0.5

[[links]]
a = "alice"
b = "bob"
length_km = 5.0
model = "abstract"
success_probability = 0.2
attempt_duration_s = 1e-4
fidelity = 0.95

[[requests]]
app = "pairs"
src = "alice"
dst = "bob"
pairs = 20

[[requests]]
app = "pairs"
src = "bob"
dst = "alice"
pairs = 10
priority = 1
"""


def tiny_toml(directory: Path, name: str = "tiny.toml") -> Path:
    path = directory / name
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``qstack ARGV`` in this process: (exit status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    """``qstack run ARGV --json`` as a dict, without the wall time."""
    status, out, err = cli(capsys, "run", *argv, "--json")
    assert status == 0, err
    report: dict[str, Any] = json.loads(out)
    report.pop("wall_time_s")
    return report


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def without_wall_clock(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in WALL_CLOCK} for row in rows]
