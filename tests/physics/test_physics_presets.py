"""The preset format: sourced numbers, scenario key names, and a preset that a run accepts."""

from __future__ import annotations

import math
from typing import Any

import pytest

from qstack.physics import formulas
from qstack.physics.heralding import DoubleClickHerald
from qstack.physics.presets import (
    CATALOGUE,
    MISSING_PRESETS,
    HardwarePreset,
    LinkPreset,
    NodePreset,
    ReportedFigure,
    Source,
    Sourced,
    get_preset,
)
from qstack.runner import run_scenario
from qstack.scenario import LinkSpec, NodeSpec, parse_scenario

# A made-up source for the format tests only: no catalogue entry uses it.
HERE = Source("format test (not a paper)", "this file")


def num(value: float) -> Sourced:
    return Sourced(value, HERE)


def test_a_preset_needs_a_figure_to_reproduce_and_a_scenario_name() -> None:
    node, link = NodePreset(qubits=num(2)), LinkPreset("double-click")
    figure = ReportedFigure("heralded_fidelity", 0.9, 0.01, HERE)
    assert HardwarePreset("ok-name_1", "test", node, link, (figure,)).reported == (figure,)
    with pytest.raises(ValueError, match="reported figure"):
        HardwarePreset("no-figure", "test", node, link, ())
    with pytest.raises(ValueError, match="name"):
        HardwarePreset("Bad Name", "test", node, link, (figure,))


def test_missing_presets_are_explained() -> None:
    assert set(MISSING_PRESETS).isdisjoint(CATALOGUE)
    for name, reason in MISSING_PRESETS.items():
        assert reason.strip()
        with pytest.raises(ValueError, match=name):
            get_preset(name)


def test_unknown_preset_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown preset 'nope'.*known presets"):
        get_preset("nope")


def test_scenario_fields_use_scenario_key_names() -> None:
    """Preset field names are scenario keys, so the fields drop into a node or link entry."""
    node_keys = set(NodeSpec.model_fields)
    link_keys = set(LinkSpec.model_fields)
    second_edition = {
        "gate_error",
        "measurement_error",
        "swap_success_probability",
        "station_km",
        "dark_count_rate_hz",
        "detection_window_s",
    }
    for name in NodePreset.__dataclass_fields__:
        assert name in node_keys | second_edition
    for name in LinkPreset.__dataclass_fields__:
        assert name in link_keys | second_edition


def test_bad_presets_name_the_problem() -> None:
    with pytest.raises(ValueError, match="location"):
        Source("Some paper", " ")
    with pytest.raises(ValueError, match="finite"):
        Sourced(math.nan, HERE)
    with pytest.raises(ValueError, match="memory_t_s or t1_s"):
        NodePreset(memory_t_s=num(1.0), t1_s=num(2.0))
    with pytest.raises(ValueError, match="whole number"):
        NodePreset(qubits=num(2.5))
    with pytest.raises(ValueError, match="success_probability"):
        LinkPreset("double-click", success_probability=num(0.1))
    with pytest.raises(ValueError, match="detector_efficiency"):
        LinkPreset("abstract", detector_efficiency=num(0.5))
    with pytest.raises(ValueError, match="bright_state_alpha"):
        LinkPreset("double-click", bright_state_alpha=num(0.1))


def test_a_preset_runs_as_a_scenario() -> None:
    """Node and link fields of a preset, merged into scenario entries, parse and run,
    and the link then attempts with the double-click closed form's probability.

    eta = emission x 10^(-alpha L / 20) x detector (half the fibre to the station);
    successes over attempts is binomial around eta^2 / 2, so 5 standard errors
    bound the deviation.
    """
    preset = HardwarePreset(
        name="format-test",
        platform="format test",
        node=NodePreset(qubits=num(2), memory_t_s=num(10.0)),
        link=LinkPreset(
            "double-click",
            length_km=num(2.0),
            attenuation_db_per_km=num(0.5),
            detector_efficiency=num(0.8),
            emission_efficiency=num(0.5),
            attempt_prep_s=num(1e-6),
        ),
        reported=(ReportedFigure("heralded_fidelity", 1.0, 0.0, HERE),),
    )
    link: dict[str, Any] = {"a": "a", "b": "b", **preset.link.scenario_fields()}
    nodes = [{"name": n, **preset.node.scenario_fields()} for n in ("a", "b")]
    scenario = parse_scenario(
        {
            "seed": 3,
            "run": {"until_s": 100.0},
            "nodes": nodes,
            "links": [link],
            "requests": [{"app": "pairs", "src": "a", "dst": "b", "pairs": 300}],
        }
    )
    assert scenario.nodes[0].qubits == 2
    assert isinstance(scenario.nodes[0].qubits, int)
    report = run_scenario(scenario)
    stats = report.links[0]
    eta = 0.5 * formulas.fiber_transmittance(1.0, 0.5) * 0.8
    p = DoubleClickHerald(eta).success_probability
    assert p == pytest.approx(eta * eta / 2.0)
    observed = stats.successes / stats.attempts
    assert abs(observed - p) < 5.0 * math.sqrt(p * (1.0 - p) / stats.attempts)
