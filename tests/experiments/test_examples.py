"""The sweep examples run as a user runs them: a fresh interpreter, exit status, output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = {"expected-time", "fidelity-aware", "shortest-hops", "widest-rate"}


@pytest.mark.slow
def test_routing_load_compares_every_strategy_at_every_load(tmp_path: Path) -> None:
    out = tmp_path / "load.png"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "routing_load.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows: dict[tuple[int, str], list[str]] = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 6 and words[0].isdigit() and words[1] in STRATEGIES:
            rows[(int(words[0]), words[1])] = words
    assert set(rows) == {(load, s) for load in (1, 4, 8) for s in STRATEGIES}, result.stdout
    for (load, _), words in rows.items():
        done, throughput, runs = words[2], float(words[3]), int(words[-1])
        assert runs == 2
        assert throughput >= 0
        if load == 1:  # one request alone on the network: every strategy serves it
            assert done == "100%" and throughput > 0, words
    assert out.is_file() and out.stat().st_size > 0
