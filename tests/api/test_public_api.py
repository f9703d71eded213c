"""``import qstack`` gives a user what they need, and the command line's
basic manners: --version, help for every subcommand, '-' for a trace on
standard output, --plugin."""

from __future__ import annotations

import io
import json
import pydoc
import subprocess
import sys
from pathlib import Path

import pytest

import qstack
from qstack.cli import DELEGATED, main
from qstack.sim.trace import MemoryTracer
from tests.builders import two_node_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_every_public_name_resolves_and_help_shows_the_api() -> None:
    for name in qstack.__all__:
        assert getattr(qstack, name) is not None, name
    text = pydoc.render_doc(qstack, renderer=pydoc.plaintext)
    for name in ("run", "load_scenario", "parse_scenario", "Network", "Registry", "RunReport"):
        assert name in text, name
    assert "LinkService" in text and "NetworkService" in text


def test_import_is_lazy() -> None:
    """``import qstack`` alone loads none of the simulator (start-up stays cheap)."""
    code = "import sys, qstack; print('qstack.network' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_run_takes_a_dict_a_scenario_or_a_file(tmp_path: Path) -> None:
    document = two_node_scenario()
    from_dict = qstack.run(document)
    from_scenario = qstack.run(qstack.parse_scenario(document, "test"))
    path = tmp_path / "s.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    from_file = qstack.run(path)
    reports = [r.model_dump(exclude={"wall_time_s"}) for r in (from_dict, from_scenario, from_file)]
    assert reports[0] == reports[1] == reports[2]
    assert from_dict.requests[0].status == "done"
    other = qstack.run(document, seed=99).model_dump(exclude={"wall_time_s"})
    assert other["seed"] == 99 and other != reports[0]


def test_run_traces_to_a_path_a_stream_or_a_tracer(tmp_path: Path) -> None:
    document = two_node_scenario(
        requests=[{"app": "pairs", "src": "alice", "dst": "bob", "pairs": 3}]
    )
    path = tmp_path / "run.jsonl"
    qstack.run(document, trace=path)
    stream = io.StringIO()
    qstack.run(document, trace=stream)
    tracer = MemoryTracer()
    qstack.run(document, trace=tracer)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == stream.getvalue().splitlines()
    assert len(lines) == len(tracer.records) > 10
    assert {json.loads(line)["layer"] for line in lines} == {"physical", "link", "network", "run"}


def test_version_and_help_for_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert (
        done.value.code == 0 and capsys.readouterr().out.strip() == f"qstack {qstack.__version__}"
    )
    for command in ("run", "default", "diagram", *DELEGATED):
        try:
            status = main([command, "-h"])
        except SystemExit as done:
            status = int(done.code or 0)
        assert status == 0, command
        assert f"usage: qstack {command}" in capsys.readouterr().out, command


def test_trace_dash_writes_the_trace_to_stdout_and_the_report_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(two_node_scenario()), encoding="utf-8")
    assert main(["run", str(path), "--trace", "-", "--json"]) == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert records and all("message" in record for record in records)
    assert json.loads(captured.err)["requests"][0]["status"] == "done"


PLUGIN = """
from qstack.layers.network.routing import ShortestHops


class Detour(ShortestHops):
    name = "detour"
"""


def test_plugin_option_makes_a_class_available(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_detour.py").write_text(PLUGIN, encoding="utf-8")
    scenario = two_node_scenario()
    scenario["network"] = {"routing": "detour"}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(path), "--json"]) == 2
    assert "unknown routing strategy 'detour'" in capsys.readouterr().err
    assert main(["run", str(path), "--json", "--plugin", "my_detour:Detour"]) == 0
    assert json.loads(capsys.readouterr().out)["requests"][0]["status"] == "done"
    assert main(["run", str(path), "--plugin", "my_detour:Nothing"]) == 2
    assert "--plugin = 'my_detour:Nothing'" in capsys.readouterr().err
    assert main(["run", str(path), "--plugin", "json:dumps"]) == 2
    assert "needs a 'name'" in capsys.readouterr().err


def test_unknown_purification_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = two_node_scenario()
    scenario["network"] = {"purification": "foo"}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "network.purification = 'foo'" in err
    assert "unknown purification scheme 'foo'; available: 'bbpssw', 'dejmps'" in err


def test_stack_names_the_link_and_network_protocols(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every plug-in kind is named the same way, the layers' protocols included."""
    from examples.protocol_link import FifoLink

    scenario = two_node_scenario()
    scenario["stack"] = {"link": "fifo"}
    with pytest.raises(Exception, match=r"stack.link = 'fifo': unknown link protocol 'fifo'"):
        qstack.run(scenario)
    report = qstack.run(scenario, plugins=[FifoLink])
    assert report.requests[0].status == "done"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    monkeypatch.chdir(ROOT)
    assert main(["run", str(path), "--json", "--plugin", "examples.protocol_link:FifoLink"]) == 0
    assert json.loads(capsys.readouterr().out)["requests"][0]["status"] == "done"
    scenario["stack"] = {"network": "nope"}
    path.write_text(json.dumps(scenario), encoding="utf-8")
    assert main(["run", str(path)]) == 2
    assert "stack.network = 'nope': unknown network protocol 'nope'; available: 'qnp'" in (
        capsys.readouterr().err
    )
