"""``qstack conform`` (conform_command) and the pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from qstack.conformance.cli import conform_command

ROOT = Path(__file__).resolve().parents[2]


def test_builtin_passes_and_writes_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "report.xml"
    code = conform_command(
        ["link", "builtin", "--examples", "5", "--only", "link/3.[23]", "--junit", str(junit)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "link/3.2   MUST    PASS" in out and "link/3.1" not in out
    root = ElementTree.parse(junit).getroot()
    assert root.get("tests") == "2" and root.get("failures") == "0"


@pytest.mark.slow
def test_broken_fails_with_counter_example(capsys: pytest.CaptureFixture[str]) -> None:
    code = conform_command(
        [
            "link",
            "tests.conformance.broken.link:LeakyLink",
            "--examples",
            "20",
            "--only",
            "link/3.6",
            "--seed",
            "0",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "link/3.6   MUST    FAIL" in out
    assert "shrunk counter-example" in out and "steps:" in out and "trace" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["link", "nosuchmodule_xyz:Thing"], "cannot import 'nosuchmodule_xyz'"),
        (["link", "qstack.layers.link.egp:Nope"], "has no 'Nope'"),
        (["link", "qstack.layers.link.egp"], "expected 'module:Class'"),
        (["physical", "builtin"], "unknown layer"),
        (["link", "builtin", "--only", "net/*"], "matches no clause"),
        (["link", "--explain", "link/9.9"], "unknown clause"),
        (["link"], "IMPORT_PATH is missing"),
    ],
)
def test_bad_input_exits_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert conform_command(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("qstack conform: ") and needle in err
    assert "Traceback" not in err


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert conform_command(["link", "--explain", "link/3.5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("link/3.5 (SHOULD, link layer)")
    assert "both ends queued it" in out and "mermaid" in out


@pytest.mark.slow
def test_pytest_plugin_generates_one_test_per_clause(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--qstack-impl",
        "tests.conformance.broken.link:SilentLink",
        "--qstack-layer",
        "link",
        "--qstack-examples",
        "10",
        "-p",
        "no:cacheprovider",
        "-q",
        str(tmp_path),
    ]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert "1 failed, 7 passed" in run.stdout, run.stdout + run.stderr
    assert "qstack-conform::link/3.7" in run.stdout
    assert "never answered" in run.stdout
