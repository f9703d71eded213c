"""``qstack run FILE --set KEY=VALUE``: the same as editing the file, or a clear error."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from qstack.experiments import OverrideError, apply_overrides, scenario_with_overrides
from qstack.experiments.overrides import parse_key, parse_value
from qstack.scenario import load_scenario
from tests.experiments._sweep_helpers import TINY_TOML, cli, run_json, tiny_toml, write_json

ROOT = Path(__file__).resolve().parents[2]
CHAIN = ROOT / "examples" / "chain_5.toml"


def _edit(document: dict[str, Any], key: str, value: object) -> None:
    """Edit the document by hand, as a user would edit the file."""
    if key == "seed":
        document["seed"] = value
    elif key == "run.until_s":
        document["run"]["until_s"] = value
    elif key == "links[0].length_km":
        document["links"][0]["length_km"] = value
    elif key == "links[*].fidelity":
        for link in document["links"]:
            link["fidelity"] = value
    elif key == "nodes[*].qubits":
        for node in document["nodes"]:
            node["qubits"] = value
    elif key == "network.routing":
        document["network"] = {"routing": value}
    elif key == "requests[1].pairs":
        document["requests"][1]["pairs"] = value
    else:
        raise AssertionError(key)


EDITS = [
    ("seed", "5", 5),
    ("run.until_s", "0.5", 0.5),
    ("links[0].length_km", "30", 30),
    ("links[*].fidelity", "0.8", 0.8),
    ("nodes[*].qubits", "1", 1),
    ("network.routing", "fidelity-aware", "fidelity-aware"),  # no [network] table in the file
    ("requests[1].pairs", "3", 3),
]


@pytest.mark.slow
@pytest.mark.parametrize(("key", "text", "value"), EDITS)
def test_set_equals_editing_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, text: str, value: object
) -> None:
    original = tiny_toml(tmp_path)
    edited = tomllib.loads(TINY_TOML)
    _edit(edited, key, value)
    edited_file = write_json(tmp_path / "edited.json", edited)

    assert scenario_with_overrides(original, {key: value}) == load_scenario(edited_file)
    overridden = run_json(capsys, str(original), "--set", f"{key}={text}")
    assert overridden == run_json(capsys, str(edited_file))


def test_later_sets_win_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tiny_toml(tmp_path)
    both = ["--set", "links[*].fidelity=0.7", "--set", "links[0].fidelity=0.9"]
    assert run_json(capsys, str(file), *both) == run_json(
        capsys, str(file), "--set", "links[0].fidelity=0.9"
    )


def test_a_bad_value_gets_the_message_the_edited_file_gets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = tiny_toml(tmp_path)
    edited = tomllib.loads(TINY_TOML)
    edited["links"][0]["length_km"] = -3
    status, out, err = cli(capsys, "run", str(original), "--set", "links[0].length_km=-3")
    assert (status, out) == (2, "")
    # The same file edited by hand, under the same name: the same message.
    original.write_text(json.dumps(edited), encoding="utf-8")
    assert cli(capsys, "run", str(original.rename(tmp_path / "tiny.json")))[2] == err.replace(
        "tiny.toml", "tiny.json"
    )
    assert "links[0].length_km = -3: must be >= 0" in err


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ("run.until_s=-1", "run.until_s = -1: must be > 0"),
        ("links[*].length_km=far", "links[0].length_km = 'far': must be a number"),
        ("nodes[0].qubits=2.5", "nodes[0].qubits = 2.5: must be an integer"),
        ("links[0].model=dbl", "links[0].model = 'dbl': must be one of"),
        ("network.routing=no-such-strategy", "network.routing = 'no-such-strategy'"),
    ],
)
def test_bad_values_exit_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], assignment: str, expected: str
) -> None:
    status, out, err = cli(capsys, "run", str(tiny_toml(tmp_path)), "--set", assignment)
    assert (status, out) == (2, ""), err
    assert expected in err


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ("links[0].lenght_km=3", "no field 'lenght_km'; did you mean 'length_km'?"),
        ("links[2].length_km=3", "index 2 is out of range (the file has 1 entry"),
        ("requests[7].pairs=3", "index 7 is out of range (the file has 2 entries"),
        ("colour=red", "the scenario has no field 'colour'"),
        ("run.until_s.x=1", "run.until_s is a value, not a table"),
        ("links.length_km=3", "links is a list: write links[0].length_km"),
        ("run[0].until_s=1", "run is not a list"),
        ("links[x].length_km=3", "malformed key"),
        ("run.until_s", "expected KEY=VALUE"),
        ("=3", "expected KEY=VALUE"),
    ],
)
def test_keys_that_name_nothing_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], assignment: str, expected: str
) -> None:
    status, out, err = cli(capsys, "run", str(tiny_toml(tmp_path)), "--set", assignment)
    assert (status, out) == (2, ""), err
    assert expected in err
    assert f"--set {assignment.partition('=')[0] or assignment}" in err


def test_values_are_toml_else_strings() -> None:
    assert parse_value("30") == 30
    assert parse_value("1e-3") == 1e-3
    assert parse_value("true") is True
    assert parse_value('"30"') == "30"
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value("{ a = 1 }") == {"a": 1}
    assert parse_value("fidelity-aware") == "fidelity-aware"
    assert parse_value("") == ""
    assert parse_value("1\nx = 2") == "1\nx = 2"  # one value, not a document
    assert parse_key("links[*].length_km") == ("links", "*", "length_km")


def test_topology_defaults_are_settable_and_generated_lists_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    document = tomllib.loads(CHAIN.read_text(encoding="utf-8"))
    edited = copy.deepcopy(document)
    edited["topology"]["link"]["detector_efficiency"] = 0.5
    edited["topology"]["spacing_km"] = 25.0
    overrides = {"topology.link.detector_efficiency": 0.5, "topology.spacing_km": 25.0}
    assert scenario_with_overrides(CHAIN, overrides) == load_scenario(
        write_json(tmp_path / "chain.json", edited)
    )

    for key, hint in [
        ("links[*].length_km", "topology.spacing_km"),
        ("links[*].detector_efficiency", "--set topology.link.detector_efficiency"),
        ("nodes[*].qubits", "--set topology.node.qubits"),
        ("links[0].fidelity", "--set topology.link.fidelity"),
    ]:
        with pytest.raises(OverrideError) as caught:
            apply_overrides(document, [(key, 1)])
        assert f"--set {key}: this file's" in str(caught.value)
        assert hint in str(caught.value)
    status, _, err = cli(capsys, "run", str(CHAIN), "--set", "nodes[*].qubits=2")
    assert status == 2 and "generated by [topology]" in err


def test_overrides_leave_the_document_untouched() -> None:
    document = tomllib.loads(TINY_TOML)
    before = copy.deepcopy(document)
    apply_overrides(document, [("links[*].fidelity", 0.5), ("network.routing", "x")])
    assert document == before
