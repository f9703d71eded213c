"""Runs and traces the report tests share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qstack.network import Network
from qstack.runner import RunReport, run_network
from qstack.scenario import load_scenario
from qstack.sim.trace import JsonLinesTracer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass(frozen=True)
class TracedRun:
    """A scenario run with its trace written to a file and its run report."""

    scenario: Path
    trace: Path
    run_json: Path
    report: RunReport


def traced_run(example: str, directory: Path) -> TracedRun:
    """Run ``examples/<example>`` with a JSON-lines tracer, as
    ``qstack run FILE --trace T --json`` would, keeping both outputs."""
    scenario = EXAMPLES / example
    trace = directory / f"{scenario.stem}.jsonl"
    with open(trace, "w", encoding="utf-8") as stream:
        report = run_network(Network(load_scenario(scenario), None, JsonLinesTracer(stream)))
    run_json = directory / f"{scenario.stem}.run.json"
    run_json.write_text(report.model_dump_json(), encoding="utf-8")
    return TracedRun(scenario, trace, run_json, report)


def record(
    time_ps: int, node: str, layer: str, direction: str, peer: str | None, message: dict[str, Any]
) -> str:
    """One trace line as the tracer writes it."""
    return json.dumps(
        {
            "time_ps": time_ps,
            "node": node,
            "layer": layer,
            "direction": direction,
            "peer": peer,
            "message": message,
        },
        separators=(",", ":"),
    )
