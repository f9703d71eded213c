"""``preset = "NAME"`` on nodes and links: the preset fills in, the entry wins.

The catalogue is empty in this version (no paper's tables could be read), so
these tests put a made-up preset into it for their own duration; its source
says it is not a paper, and it is never shipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import pytest

from qstack.physics import presets
from qstack.physics.presets import (
    HardwarePreset,
    LinkPreset,
    NodePreset,
    ReportedFigure,
    Source,
    Sourced,
)
from qstack.scenario import ScenarioError, parse_scenario

HERE = Source("format test (not a paper)", "this file")


def num(value: float) -> Sourced:
    return Sourced(value, HERE)


TEST_PRESET = HardwarePreset(
    "test-platform",
    "test",
    NodePreset(qubits=num(3), memory_t_s=num(0.5), gate_error=num(0.01)),
    LinkPreset(
        "double-click",
        length_km=num(2.0),
        detector_efficiency=num(0.7),
        dark_count_rate_hz=num(50.0),
        detection_window_s=num(1e-8),
    ),
    (ReportedFigure("heralded_fidelity", 0.9, 0.0, HERE),),
)


@pytest.fixture(autouse=True)
def _catalogue(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(presets, "CATALOGUE", MappingProxyType({"test-platform": TEST_PRESET}))
    yield


def _scenario(node: dict[str, Any], link: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [{"name": "a", **node}, {"name": "b", "qubits": 1}],
        "links": [{"a": "a", "b": "b", **link}],
        "requests": [{"app": "pairs", "src": "a", "dst": "b", "pairs": 1}],
    }


def test_preset_fills_in_and_explicit_keys_win() -> None:
    scenario = parse_scenario(
        _scenario(
            {"preset": "test-platform", "gate_error": 0.05},
            {"preset": "test-platform", "length_km": 10.0},
        )
    )
    node, link = scenario.nodes[0], scenario.links[0]
    assert (node.qubits, node.memory_t_s, node.gate_error) == (3, 0.5, 0.05)
    assert link.model == "double-click"
    assert (link.length_km, link.detector_efficiency) == (10.0, 0.7)
    assert (link.dark_count_rate_hz, link.detection_window_s) == (50.0, 1e-8)
    # a dump names the preset and the merged keys, and loads to the same scenario
    assert parse_scenario(scenario.model_dump()) == scenario


def test_the_entrys_own_choice_drops_the_presets_other_side() -> None:
    scenario = parse_scenario(
        _scenario(
            {"preset": "test-platform", "t1_s": 1.0, "t2_s": 0.5},
            {"preset": "test-platform", "dark_count_probability": 1e-6},
        )
    )
    node, link = scenario.nodes[0], scenario.links[0]
    assert (node.memory_t_s, node.t1_s, node.t2_s) == (None, 1.0, 0.5)
    assert (link.dark_count_probability, link.dark_count_rate_hz) == (1e-6, None)
    abstract = parse_scenario(
        _scenario(
            {"qubits": 1},
            {
                "preset": "test-platform",
                "model": "abstract",
                "success_probability": 0.1,
                "attempt_duration_s": 1e-5,
                "fidelity": 0.9,
            },
        )
    ).links[0]
    assert (abstract.model, abstract.length_km) == ("abstract", 2.0)


def test_unknown_preset_is_named_with_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match=r"nodes\[0\]\.preset = 'nope': unknown preset"):
        parse_scenario(_scenario({"qubits": 1, "preset": "nope"}, {"preset": "test-platform"}))
    with pytest.raises(ScenarioError, match=r"links\[0\]\.preset = 'quantum-dot'.*Stockill"):
        parse_scenario(_scenario({"qubits": 1}, {"preset": "quantum-dot", "length_km": 1.0}))


def test_preset_runs() -> None:
    import qstack

    report = qstack.run(_scenario({"preset": "test-platform"}, {"preset": "test-platform"}))
    assert report.requests[0].status == "done"
