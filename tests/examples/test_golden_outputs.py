"""Every example scenario's ``--json`` report is what it was before the
layers were redesigned around the quantum store and dispatching tables:
same seed, same physics, same figures, bit for bit (only wall time differs).

The golden files in ``golden/`` are the reports of qstack 0.1.0 (the version
before the redesign). A deliberate change of behaviour updates them in the
same commit, and the commit says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qstack

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
SCENARIOS = sorted(
    path for path in (ROOT / "examples").iterdir() if path.suffix in (".toml", ".json")
)


def test_every_example_scenario_has_a_golden_report() -> None:
    assert {f"{path.name}.json" for path in SCENARIOS} == {p.name for p in GOLDEN.iterdir()}


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.name)
def test_report_is_unchanged(scenario: Path) -> None:
    report = json.loads(qstack.run(scenario).model_dump_json())
    del report["wall_time_s"]
    golden = json.loads((GOLDEN / f"{scenario.name}.json").read_text(encoding="utf-8"))
    assert report == golden
