"""The command line as a user meets it: output shapes, errors, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qstack.cli import main
from qstack.scenario import DEFAULT_SCENARIO_TOML, load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in {".toml", ".json"})

REQUEST_KEYS = {
    "app", "src", "dst", "status", "error", "delivered", "fidelity_mean", "latency_mean_s",
    "rate_hz",
}  # fmt: skip


def _run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["run", *argv, "--json"]) == 0
    out, _ = capsys.readouterr()
    assert out.count("\n") == 1, "one JSON object, nothing else, on stdout"
    result: dict[str, object] = json.loads(out)
    return result


def test_default_run_json_has_the_contract_fields(capsys: pytest.CaptureFixture[str]) -> None:
    result = _run_json(capsys)
    assert set(result) >= {"seed", "sim_time_s", "wall_time_s", "events", "links", "requests"}
    links = result["links"]
    requests = result["requests"]
    assert isinstance(links, list) and isinstance(requests, list)
    assert set(links[0]) >= {"a", "b", "attempts", "successes"}
    assert set(requests[0]) >= REQUEST_KEYS
    assert requests[0]["status"] == "done" and requests[0]["delivered"] == 1000


def test_same_seed_same_output_other_seed_other_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = _run_json(capsys, "--seed", "5")
    second = _run_json(capsys, "--seed", "5")
    third = _run_json(capsys, "--seed", "6")
    for result in (first, second, third):
        result.pop("wall_time_s")
    assert first == second
    assert first["seed"] == 5
    assert first["links"] != third["links"]


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 0
    out, _ = capsys.readouterr()
    assert "alice - bob" in out and "double-click" in out and "done" in out


def test_default_command_prints_the_default_scenario(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["default"]) == 0
    out, _ = capsys.readouterr()
    assert out == DEFAULT_SCENARIO_TOML.rstrip("\n") + "\n"
    path = tmp_path / "default.toml"
    path.write_text(out)
    load_scenario(path)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "does-not-exist.toml"], "does-not-exist.toml"),
        (["run", "--seed", "-4"], "--seed = -4: must be >= 0"),
        (["run", "--trace", "/nonexistent-dir/t.jsonl"], "--trace = '/nonexistent-dir/t.jsonl'"),
    ],
)
def test_bad_invocations_exit_2_with_one_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert expected in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_bad_scenario_exits_2_naming_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(DEFAULT_SCENARIO_TOML.replace("length_km = 20.0", "length_km = -3.0"))
    assert main(["run", str(path), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "links[0].length_km = -3.0: must be >= 0" in err


def test_request_between_unconnected_nodes_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = DEFAULT_SCENARIO_TOML + '\n[[nodes]]\nname = "carol"\nqubits = 2\n'
    text += '\n[[requests]]\napp = "pairs"\nsrc = "alice"\ndst = "carol"\npairs = 1\n'
    path = tmp_path / "three.toml"
    path.write_text(text)
    assert main(["run", str(path)]) == 2
    _, err = capsys.readouterr()
    assert "requests[1].dst = 'carol': not connected to 'alice'" in err


def test_trace_file_is_json_lines(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trace = tmp_path / "run.jsonl"
    assert main(["run", "--trace", str(trace), "--json"]) == 0
    capsys.readouterr()
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    kinds = {(line["node"], line["direction"], line["message"]["kind"]) for line in lines}
    assert ("alice", "down", "NET_CREATE") in kinds
    assert ("alice", "send", "PATH_INSTALL") in kinds and ("bob", "recv", "PATH_INSTALL") in kinds
    assert ("alice", "send", "QUEUE_ADD") in kinds and ("bob", "recv", "QUEUE_ADD") in kinds
    assert ("alice", "up", "OK") in kinds and ("bob", "up", "OK") in kinds
    assert ("alice", "up", "NET_OK") in kinds and ("bob", "up", "NET_OK") in kinds
    times = [line["time_ps"] for line in lines]
    assert times == sorted(times)


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_run(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    result = _run_json(capsys, str(path))
    requests = result["requests"]
    assert isinstance(requests, list)
    assert all(request["status"] == "done" for request in requests)


@pytest.mark.slow
def test_console_entry_point_never_shows_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"seed": 1, "nodes": [}')
    proc = subprocess.run(
        [sys.executable, "-m", "qstack.cli", "run", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "bad.json" in proc.stderr and "Traceback" not in proc.stderr


def test_progress_reporting_does_not_change_the_run() -> None:
    from qstack.network import Network
    from qstack.runner import run_network
    from qstack.scenario import default_scenario

    fractions: list[float] = []
    with_progress = run_network(
        Network(default_scenario()), lambda fraction, _: fractions.append(fraction)
    )
    without = run_network(Network(default_scenario()))
    assert fractions and fractions == sorted(fractions)
    assert with_progress.model_dump(exclude={"wall_time_s"}) == without.model_dump(
        exclude={"wall_time_s"}
    )


def test_unknown_routing_strategy_is_named_with_the_choices(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "routing.toml"
    path.write_text(DEFAULT_SCENARIO_TOML + '\n[network]\nrouting = "telepathy"\n')
    assert main(["run", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "network.routing = 'telepathy': unknown routing strategy 'telepathy'" in err
    assert "'shortest-hops'" in err and "Traceback" not in err
