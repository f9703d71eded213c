"""Hostile scenario files: a clean error (exit 2) or a working network, never a traceback.

Each file is an example from ``examples/`` broken one to three ways (see
``tests/fuzz/mutations.py``). ``qstack check`` must exit 0 or 2; with 2, its
stderr is the short, bounded message of ``specs/scenario.md`` ("Errors");
with 0, the network is built and runs for a millisecond of simulated time
without an exception. ``benchmarks/fuzz_scenarios.py`` runs 10,000 of these.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.mutations import (
    MAX_STDERR_LINE,
    MAX_STDERR_LINES,
    HostileFile,
    example_documents,
    hostile_files,
    judge,
    load_and_wire,
    to_json,
    to_toml,
)


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostile_files())
def test_hostile_file_is_refused_cleanly_or_runs(hostile: HostileFile) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = hostile.write(Path(directory))
        verdict = judge(path)
        if verdict.outcome == "traceback":
            load_and_wire(path)  # shows the traceback the CLI's last resort caught
        assert verdict.outcome != "traceback", (verdict.cause, verdict.stderr)
    lines = verdict.stderr.splitlines()
    if verdict.outcome == "rejected":
        assert verdict.exit_status == 2
        assert lines and lines[0].startswith("qstack: ")
        assert len(lines) <= MAX_STDERR_LINES
        assert all(len(line) <= MAX_STDERR_LINE for line in lines), verdict.stderr
    else:
        assert (verdict.exit_status, verdict.stderr) == (0, "")


@pytest.mark.slow
def test_the_writers_round_trip_every_example(tmp_path: Path) -> None:
    """Unmutated examples written by the fuzz writers load and run: the writers are faithful."""
    for name, document in example_documents():
        for suffix, text in ((".toml", to_toml(document)), (".json", to_json(document))):
            path = HostileFile(name, suffix, text).write(tmp_path, Path(name).stem)
            verdict = judge(path)
            assert verdict.outcome == "accepted", (name, suffix, verdict)
