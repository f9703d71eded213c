"""Ctrl-C during ``qstack run``: the partial report, a line saying so, exit 130."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

LONG_RUN = """
seed = 1
[run]
until_s = 1000.0
[[nodes]]
name = "a"
qubits = 2
[[nodes]]
name = "b"
qubits = 2
[[links]]
a = "a"
b = "b"
length_km = 20
model = "double-click"
[[requests]]
app = "pairs"
src = "a"
dst = "b"
pairs = 1000000
"""


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_prints_the_partial_report_and_exits_130(tmp_path: Path) -> None:
    scenario = tmp_path / "long.toml"
    scenario.write_text(LONG_RUN, encoding="utf-8")
    # The trace goes to stdout, the report to stderr: the first trace line
    # says the run has started, so the interrupt lands inside it.
    process = subprocess.Popen(
        [sys.executable, "-m", "qstack", "run", str(scenario), "--json", "--trace", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert json.loads(first)["layer"]
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    report_line, message = err.strip().splitlines()[-2:]
    report = json.loads(report_line)
    (request,) = report["requests"]
    assert request["status"] == "running" and request["delivered"] < 1000000
    assert message.startswith("qstack: interrupted at simulated ")
    assert message.endswith("the report above is partial")
