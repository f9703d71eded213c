"""Application-layer lines (QKD_BASES, TELEPORT_CORRECTION) in message traces."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from qstack.layers.app.qkd import QkdBases
from qstack.layers.app.teleport import TeleportCorrection
from qstack.network import Network
from qstack.runner import RunReport, run_network
from qstack.scenario import parse_scenario
from qstack.sim.trace import JsonLinesTracer
from qstack.tracing import (
    TraceError,
    TraceLine,
    filter_trace,
    read_trace,
    render_mermaid,
    render_text,
    trace_command,
)
from tests.apps._apps_helpers import chain_scenario


def _traced(tmp: Path, scenario: dict[str, Any]) -> tuple[Path, RunReport]:
    path = tmp / "run.jsonl"
    with open(path, "w", encoding="utf-8") as stream:
        report = run_network(Network(parse_scenario(scenario), None, JsonLinesTracer(stream)))
    return path, report


@pytest.fixture(scope="module")
def qkd_trace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunReport]:
    scenario = chain_scenario({"app": "qkd", "pairs": 300}, hops=2, spacing_km=10.0, seed=3)
    return _traced(tmp_path_factory.mktemp("qkd"), scenario)


@pytest.fixture(scope="module")
def teleport_trace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunReport]:
    scenario = chain_scenario(
        {"app": "teleport", "pairs": 5, "states": "cardinal"}, hops=2, spacing_km=10.0, seed=4
    )
    return _traced(tmp_path_factory.mktemp("teleport"), scenario)


def _app(lines: list[TraceLine]) -> list[TraceLine]:
    return [line for line in lines if line.layer == "app"]


def _check_channel(app: list[TraceLine]) -> None:
    """Every app send has its recv later, at the peer, with the same message."""
    sends = [line for line in app if line.direction == "send"]
    recvs = [line for line in app if line.direction == "recv"]
    assert len(sends) == len(recvs) > 0
    for sent, got in zip(sends, recvs, strict=True):
        assert (got.node, got.peer) == (sent.peer, sent.node)
        assert got.message == sent.message
        assert got.time_ps > sent.time_ps  # 10 km fibers: a real delay


def test_qkd_bases_are_traced_read_back_and_tagged_in_turn(
    qkd_trace: tuple[Path, RunReport],
) -> None:
    path, report = qkd_trace
    request = report.requests[0]
    assert request.status == "done" and request.delivered == 300
    lines = read_trace(path)
    app = _app(lines)
    _check_channel(app)
    assert [(line.node, line.direction, line.peer) for line in app] == [
        ("n2", "send", "n0"),  # Bob's bases first
        ("n0", "recv", "n2"),
        ("n0", "send", "n2"),  # then Alice's answer
        ("n2", "recv", "n0"),
    ]
    messages = [line.message for line in app if line.direction == "send"]
    assert all(isinstance(message, QkdBases) for message in messages)
    bob, alice = (m for m in messages if isinstance(m, QkdBases))
    assert (bob.tag_sequence, alice.tag_sequence) == (0, 1)
    assert len(bob.bases) == len(alice.bases) == 300
    assert set(bob.bases + alice.bases) <= {"Z", "X"}
    assert bob.request_id == alice.request_id == "n0#0"
    # Bob sends once both ends are done: after his NET_DONE.
    done = next(line for line in lines if line.kind == "NET_DONE" and line.node == "n2")
    assert app[0].time_ps >= done.time_ps
    raw = [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]
    assert sum(item["layer"] == "app" for item in raw) == 4


def test_teleport_corrections_name_delivered_pairs(
    teleport_trace: tuple[Path, RunReport],
) -> None:
    path, report = teleport_trace
    assert report.requests[0].status == "done"
    lines = read_trace(path)
    app = _app(lines)
    _check_channel(app)
    sends = [line for line in app if line.direction == "send"]
    assert len(sends) == 5
    assert all((line.node, line.peer) == ("n0", "n2") for line in sends)
    corrections = [line.message for line in sends]
    assert all(isinstance(m, TeleportCorrection) for m in corrections)
    delivered = {
        str(getattr(line.message, "pair_id", ""))
        for line in lines
        if line.kind == "NET_OK" and line.node == "n0"
    }
    assert {str(getattr(m, "pair_id", "")) for m in corrections} == delivered
    assert all(0 <= int(getattr(m, "outcome", -1)) <= 3 for m in corrections)
    # Each correction leaves when the source's NET_OK for its pair is handled.
    for sent in sends:
        ok = next(
            line
            for line in lines
            if line.kind == "NET_OK"
            and line.node == "n0"
            and getattr(line.message, "pair_id", None) == getattr(sent.message, "pair_id", None)
        )
        assert sent.time_ps == ok.time_ps


def test_request_and_layer_filters_keep_app_lines(
    qkd_trace: tuple[Path, RunReport], teleport_trace: tuple[Path, RunReport]
) -> None:
    for path, _ in (qkd_trace, teleport_trace):
        lines = read_trace(path)
        app = _app(lines)
        assert filter_trace(lines, layers=["app"]) == app
        request = filter_trace(lines, request="n0#0")
        assert [line for line in request if line.layer == "app"] == app
        assert filter_trace(lines, request="n0#0", with_links=False)[-1] in request
        assert not [line for line in filter_trace(lines, request="n0#1") if line.layer == "app"]
        assert not [line for line in filter_trace(lines, request="n0:0") if line.layer == "app"]
        assert filter_trace(lines, nodes=["n1"], layers=["app"]) == []


def test_render_text_shows_app_lines(
    qkd_trace: tuple[Path, RunReport], teleport_trace: tuple[Path, RunReport]
) -> None:
    qkd = render_text(_app(read_trace(qkd_trace[0])))
    rows = qkd.splitlines()
    assert len(rows) == 5
    assert re.search(r" n2 +app +→ n0 +QKD_BASES +n0#0 bases=[ZX]{16}…\(300\) ", rows[1])
    assert "tag_sequence=0" in rows[1] and "tag_sequence=1" in rows[3]
    assert re.search(r"tag_value=0x[0-9a-f]{16}$", rows[1])
    assert "← n2" in rows[2]
    teleport = render_text(_app(read_trace(teleport_trace[0])))
    correction = next(row for row in teleport.splitlines() if "→ n2" in row)
    assert re.search(r"TELEPORT_CORRECTION +n0#0 pair_id=\S+ outcome=[0-3]$", correction)


def test_render_mermaid_draws_app_participants_and_arrows(
    qkd_trace: tuple[Path, RunReport], teleport_trace: tuple[Path, RunReport]
) -> None:
    for path, kind, arrows in (
        (qkd_trace[0], "QKD_BASES", 2),
        (teleport_trace[0], "TELEPORT_CORRECTION", 5),
    ):
        lines = read_trace(path)
        rows = render_mermaid(lines).splitlines()
        participants = [row for row in rows if row.startswith("    participant ")]
        # app comes first among each node's layers
        n0 = [row.split(" as ")[1] for row in participants if " as n0 " in row]
        assert n0[0] == "n0 app" and "n0 network" in n0
        assert not any(row.endswith(" as n1 app") for row in participants)
        drawn = [row for row in rows if re.match(rf"^    p\d+->>p\d+: {kind} n0#35;0 ", row)]
        assert len(drawn) == arrows
        assert all(re.search(r"\[[0-9.]+ → [0-9.]+ s\]$", row) for row in drawn)
        only_app = render_mermaid(_app(lines)).splitlines()
        assert only_app[0] == "sequenceDiagram"
        assert {row.split(" as ")[1] for row in only_app[1:3]} == {"n0 app", "n2 app"}
        assert all(row.startswith("    participant p") for row in only_app[1:3])


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('"outcome":', '"outcome":7,"was":', "message."),
        ('"layer":"app"', '"layer":"application"', "layer = 'application'"),
        ('"direction":"send"', '"direction":"up"', "needs a service primitive"),
        ('"kind":"TELEPORT_CORRECTION"', '"kind":"NET_OK"', "NET_OK is a network message"),
    ],
)
def test_bad_app_lines_are_refused(
    teleport_trace: tuple[Path, RunReport], tmp_path: Path, old: str, new: str, problem: str
) -> None:
    texts = teleport_trace[0].read_text(encoding="utf-8").splitlines()
    index = next(i for i, text in enumerate(texts) if '"kind":"TELEPORT_CORRECTION"' in text)
    texts[index] = texts[index].replace(old, new, 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(texts) + "\n", encoding="utf-8")
    with pytest.raises(TraceError, match=re.escape(f"line {index + 1}: ")) as caught:
        read_trace(bad)
    assert problem in str(caught.value)


def test_trace_command_filters_the_app_layer(
    qkd_trace: tuple[Path, RunReport], capsys: pytest.CaptureFixture[str]
) -> None:
    assert trace_command([str(qkd_trace[0]), "--layer", "app", "--request", "n0#0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and all(" app " in row for row in out[1:])
    assert Counter(row.split()[3] for row in out[1:]) == {"→": 2, "←": 2}
