"""Reading, validating, filtering and drawing message traces."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from qstack.network import Network
from qstack.runner import run_network
from qstack.scenario import parse_scenario
from qstack.sim.trace import JsonLinesTracer, MemoryTracer
from qstack.tracing import (
    RequestId,
    TraceError,
    TraceLine,
    filter_trace,
    lines_from_records,
    read_trace,
    render_mermaid,
    render_text,
    trace_command,
)


def _chain(pairs: int = 3) -> dict[str, object]:
    """alice - bob - carol on abstract links, one request end to end."""
    link = {
        "length_km": 10.0,
        "model": "abstract",
        "success_probability": 0.3,
        "attempt_duration_s": 1e-4,
        "fidelity": 0.95,
    }
    return {
        "seed": 11,
        "run": {"until_s": 5.0},
        "nodes": [{"name": name, "qubits": 4} for name in ("alice", "bob", "carol")],
        "links": [{"a": "alice", "b": "bob", **link}, {"a": "bob", "b": "carol", **link}],
        "requests": [{"app": "pairs", "src": "alice", "dst": "carol", "pairs": pairs}],
    }


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trace") / "run.jsonl"
    with open(path, "w", encoding="utf-8") as stream:
        report = run_network(Network(parse_scenario(_chain()), None, JsonLinesTracer(stream)))
    assert report.requests[0].status == "done"
    return path


@pytest.fixture(scope="module")
def lines(trace_file: Path) -> list[TraceLine]:
    return read_trace(trace_file)


def test_read_trace_validates_every_line(trace_file: Path, lines: list[TraceLine]) -> None:
    raw = [json.loads(text) for text in trace_file.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(raw) > 0
    for number, (line, data) in enumerate(zip(lines, raw, strict=True), start=1):
        assert line.line == number
        assert line.message.model_dump(mode="json") == data["message"]
        assert (line.time_ps, line.node, line.layer, line.direction, line.peer) == (
            data["time_ps"],
            data["node"],
            data["layer"],
            data["direction"],
            data["peer"],
        )
    kinds = Counter(line.kind for line in lines)
    assert kinds["NET_CREATE"] == 1 and kinds["NET_DONE"] == 2 and kinds["NET_OK"] == 6
    assert kinds["SWAP_RECORD"] > 0 and kinds["QUEUE_ADD"] == 4  # 2 hops: send + recv


def test_memory_tracer_gives_the_same_lines(lines: list[TraceLine]) -> None:
    tracer = MemoryTracer()
    run_network(Network(parse_scenario(_chain()), None, tracer))
    memory = lines_from_records(tracer.records)
    assert [(m.time_ps, m.node, m.message) for m in memory] == [
        (f.time_ps, f.node, f.message) for f in lines
    ]


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda text: text[: len(text) // 2], "not JSON"),
        (lambda text: text.replace('"fidelity":', '"fidelity":"high","x":'), "message."),
        (lambda text: text.replace('"direction":"up"', '"direction":"sideways"'), "direction"),
        (lambda text: text.replace('"layer":"link"', '"layer":"radio"'), "layer = 'radio'"),
        (lambda text: text.replace('"peer":null', '"peer":"bob"'), "peer = null"),
        (lambda text: "[1, 2]", "expected a JSON object"),
    ],
)
def test_a_corrupted_line_is_named_with_its_problem(
    trace_file: Path, tmp_path: Path, mutate: object, problem: str
) -> None:
    texts = trace_file.read_text(encoding="utf-8").splitlines()
    index = next(i for i, text in enumerate(texts) if '"kind":"OK"' in text)
    assert callable(mutate)
    texts[index] = mutate(texts[index])
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(texts) + "\n", encoding="utf-8")
    with pytest.raises(TraceError) as caught:
        read_trace(bad)
    message = str(caught.value)
    assert f"bad.jsonl: line {index + 1}: " in message
    assert problem in message
    assert "\n" not in message


def test_out_of_order_and_missing_files_are_refused(trace_file: Path, tmp_path: Path) -> None:
    texts = trace_file.read_text(encoding="utf-8").splitlines()
    last = len(texts)
    swapped = tmp_path / "swapped.jsonl"
    swapped.write_text("\n".join([*texts[1:], texts[0]]) + "\n", encoding="utf-8")
    if json.loads(texts[0])["time_ps"] < json.loads(texts[-1])["time_ps"]:
        with pytest.raises(TraceError, match=f"line {last}: time_ps = .* time order"):
            read_trace(swapped)
    with pytest.raises(TraceError, match=r"missing\.jsonl"):
        read_trace(tmp_path / "missing.jsonl")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n" + texts[0] + "\n\n", encoding="utf-8")
    assert [line.line for line in read_trace(blank)] == [2]


def test_filter_by_node_and_layer(lines: list[TraceLine]) -> None:
    bob = filter_trace(lines, nodes=["bob"])
    assert bob and all(line.node == "bob" for line in bob)
    network = filter_trace(lines, layers=["network"])
    assert network and all(line.layer == "network" for line in network)
    both = filter_trace(lines, nodes=["alice", "carol"], layers=["link"])
    assert {line.node for line in both} == {"alice", "carol"}
    assert all(line.layer == "link" for line in both)
    assert filter_trace(lines) == lines


def test_filter_by_request(lines: list[TraceLine]) -> None:
    request = filter_trace(lines, request="alice#0")
    assert request[0].kind == "NET_CREATE"
    kinds = Counter(line.kind for line in request)
    assert kinds["NET_OK"] == 6 and kinds["NET_DONE"] == 2
    assert kinds["OK"] > 0  # the circuit's link requests come along
    only_network = filter_trace(lines, request="alice#0", with_links=False)
    assert {line.layer for line in only_network} == {"network"}
    assert filter_trace(lines, request="carol#0") == []

    link = filter_trace(lines, request="alice:0")
    assert link and all(line.layer == "link" for line in link)
    assert {line.node for line in link} == {"alice", "bob"}
    oks = [line for line in link if line.kind == "OK"]
    assert oks and all(getattr(line.message, "origin", None) == "alice" for line in oks)
    assert filter_trace(lines, request="alice:bob:0") == link
    assert filter_trace(lines, request="alice:carol:0") == []
    hop2 = filter_trace(lines, request="bob:carol:0")
    assert {line.node for line in hop2} == {"bob", "carol"}


@pytest.mark.parametrize("text", ["", "alice", "alice#x", "#3", ":3", "a:b:c:1", "alice:"])
def test_bad_request_ids_are_refused(text: str) -> None:
    with pytest.raises(TraceError, match="--request"):
        RequestId.parse(text)


def test_render_text_aligns_columns(lines: list[TraceLine]) -> None:
    text = render_text(lines)
    rows = text.splitlines()
    assert len(rows) == len(lines) + 1
    assert rows[0].split()[:3] == ["time", "s", "node"]
    node_column = rows[0].index("node")
    kind_column = rows[0].index("kind")
    for row, line in zip(rows[1:], lines, strict=True):
        assert row[node_column:].startswith(line.node)
        assert row[kind_column:].startswith(line.kind)
    assert "→ bob" in text and "← alice" in text and "↑" in text and "↓" in text
    ok = next(row for row in rows if " NET_OK " in row)
    assert "alice#0" in ok and "fidelity=" in ok


def test_render_mermaid_structure(lines: list[TraceLine]) -> None:
    diagram = render_mermaid(lines)
    rows = diagram.splitlines()
    assert rows[0] == "sequenceDiagram"
    participants = [row for row in rows if row.startswith("    participant ")]
    pairs = {(line.node, line.layer) for line in lines}
    assert len(participants) == len(pairs)
    assert {layer for _, layer in pairs} == {"physical", "link", "network", "run"}
    assert "    participant p0 as alice network" in participants
    arrows = [row for row in rows if re.match(r"^    p\d+-(>>|x)p\d+: ", row)]
    sends = sum(line.direction == "send" for line in lines)
    recvs = sum(line.direction == "recv" for line in lines)
    assert sends == recvs == len(arrows)
    notes = [row for row in rows if row.startswith("    Note over ")]
    assert len(notes) == sum(line.direction in ("up", "down", "event") for line in lines)
    assert len(rows) == 1 + len(participants) + len(arrows) + len(notes)
    assert all("#0" not in row for row in rows), "'#' is escaped for Mermaid"
    assert any("alice#35;0" in row for row in rows)
    assert re.search(r"\[[0-9.]+ → [0-9.]+ s\]$", arrows[0])


def test_mermaid_marks_messages_never_received(lines: list[TraceLine]) -> None:
    only_sends = [line for line in lines if line.direction != "recv"]
    diagram = render_mermaid(only_sends)
    crossed = [row for row in diagram.splitlines() if re.match(r"^    p\d+-xp\d+: ", row)]
    assert len(crossed) == sum(line.direction == "send" for line in lines)
    assert all("not received" in row for row in crossed)


def test_trace_command_on_a_trace_file(
    trace_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert trace_command([str(trace_file), "--node", "bob", "--layer", "network"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) > 1 and all(" bob " in row and "network" in row for row in out[1:])
    assert trace_command([str(trace_file), "--format", "mermaid", "--request", "alice#0"]) == 0
    assert capsys.readouterr().out.startswith("sequenceDiagram\n")


def test_trace_command_runs_a_scenario(
    tmp_path: Path, lines: list[TraceLine], capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "chain.json"
    scenario.write_text(json.dumps(_chain()), encoding="utf-8")
    assert trace_command([str(scenario)]) == 0
    out = capsys.readouterr().out
    assert out == render_text([line for line in lines if line.kind != "TRANSITION"])
    assert trace_command([str(scenario), "--transitions"]) == 0
    assert capsys.readouterr().out == render_text(lines)


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["missing.jsonl"], "missing.jsonl"),
        (["run.txt"], "expected a .jsonl trace or a .toml/.json scenario"),
        (["{trace}", "--format", "svg"], "invalid choice"),
        (["{trace}", "--request", "nonsense"], "--request = 'nonsense'"),
        (["{trace}", "--node", "zoe"], "--node = 'zoe': not in the trace"),
        (["{bad_scenario}"], "nodes"),
        ([], "required"),
    ],
)
def test_trace_command_bad_input_exits_2_with_one_line(
    argv: list[str],
    problem: str,
    trace_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad_scenario = tmp_path / "bad.json"
    bad_scenario.write_text(json.dumps({"nodes": "no"}), encoding="utf-8")
    names = {"trace": str(trace_file), "bad_scenario": str(bad_scenario)}
    args = [arg.format(**names) for arg in argv]
    assert trace_command(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("qstack trace: ")
    assert problem in captured.err
