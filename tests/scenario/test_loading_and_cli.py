"""Reading documents (files and standard input), `qstack check`, and the CLI's guards."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import qstack.scenario
from qstack.cli import main
from qstack.scenario import (
    DEFAULT_SCENARIO_TOML,
    ScenarioError,
    load_scenario,
    parse_scenario,
    read_scenario_document,
    scenario_base_dir,
    scenario_source,
)

REPO = Path(__file__).resolve().parents[2]


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


def test_read_scenario_document_is_the_document_before_validation(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(DEFAULT_SCENARIO_TOML.replace("memory_t_s = 1.0", 'memory_t_s = "inf"'))
    document = read_scenario_document(path)
    assert document == tomllib.loads(path.read_text())
    assert "network" not in document and document["nodes"][0]["memory_t_s"] == "inf"
    assert parse_scenario(document, str(path), tmp_path) == load_scenario(path)


def test_read_scenario_document_checks_syntax_and_shape(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(ScenarioError, match="top level must be a table"):
        read_scenario_document(path)


@pytest.mark.parametrize(
    "text", [DEFAULT_SCENARIO_TOML, json.dumps(tomllib.loads(DEFAULT_SCENARIO_TOML))]
)
def test_standard_input_is_toml_or_json(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    _stdin(monkeypatch, "\n  " + text)
    assert load_scenario("-").requests[0].pairs == 1000
    assert (scenario_source("-"), scenario_base_dir("-")) == ("<stdin>", Path.cwd())


def test_standard_input_errors_name_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, '{"seed": -1}')
    with pytest.raises(ScenarioError) as info:
        load_scenario("-")
    lines = str(info.value).splitlines()
    assert lines[0] == "<stdin>: 4 problems:"
    assert "<stdin>: seed = -1: must be >= 0 (allowed: 0 <= seed <= 9223372036854775807)" in lines


def test_qstack_run_reads_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, DEFAULT_SCENARIO_TOML.replace("pairs = 1000", "pairs = 5"))
    assert main(["run", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["requests"][0]["delivered"] == 5


def test_qstack_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = REPO / "examples" / "chain_5.toml"
    assert main(["check", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: ok: 5 nodes, 4 links, 2 requests, 0 faults\n"
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_SCENARIO_TOML.replace("qubits = 10", "qubits = 0", 1))
    assert main(["check", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"qstack: {bad}: nodes[0].qubits = 0: must be >= 1 " + (
        "(allowed: 1 <= qubits <= 1000000)\n"
    )


def test_check_wires_the_network_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown routing strategy is only found when the network is built."""
    path = tmp_path / "routing.toml"
    path.write_text(DEFAULT_SCENARIO_TOML + '\n[network]\nrouting = "telepathy"\n')
    assert main(["check", str(path)]) == 2
    assert "unknown routing strategy 'telepathy'" in capsys.readouterr().err


def test_trace_never_overwrites_the_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "v.json"
    path.write_text(json.dumps(tomllib.loads(DEFAULT_SCENARIO_TOML)))
    before = path.read_text()
    alias = tmp_path / "alias.json"
    alias.symlink_to(path)
    for trace in (str(path), str(alias), str(tmp_path / "." / "v.json")):
        assert main(["run", str(path), "--trace", trace]) == 2
        err = capsys.readouterr().err
        assert "is the scenario file itself; writing it would overwrite the scenario" in err
    assert path.read_text() == before


def test_the_last_resort_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(path: object) -> None:
        raise RuntimeError("boom\nwith a second line")

    # The command line imports the loader when a command runs, so it sees this one.
    monkeypatch.setattr(qstack.scenario, "load_scenario", broken)
    assert main(["run", "x.toml"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("qstack: internal error: RuntimeError: boom with a second line")
    assert "this is a bug in qstack; please report it" in err


def test_seed_option_is_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--seed", str(2**63)]) == 2
    assert "--seed = 9223372036854775808: must be >= 0 and <= 9223372036854775807" in (
        capsys.readouterr().err
    )


def test_topology_does_not_import_the_scenario_package() -> None:
    code = "import sys, qstack.topology; print('qstack.scenario' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
