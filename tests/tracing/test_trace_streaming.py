"""``qstack trace`` reads line by line: node filters that keep receipts, the
first pairs, time windows, hostile lines, records it does not know."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from qstack.layers.network.messages import SwapTrace
from qstack.layers.physical.messages import AttemptsTrace, AttemptTrace, HeraldTrace
from qstack.messages import FaultTrace
from qstack.sim.trace import MemoryTracer
from qstack.tracing import (
    Cut,
    Delivery,
    Lost,
    OtherMessage,
    Selection,
    TraceError,
    TraceLine,
    iter_trace,
    lines_from_records,
    match_messages,
    parse_window,
    read_trace,
    render_mermaid,
    render_text,
    trace_command,
    write_mermaid,
    write_text,
)
from qstack.tracing import render as render_module

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AJB = EXAMPLES / "aachen_juelich_bonn.toml"
MERMAID_MAX_TEXT = 50_000  # Mermaid's default maxTextSize


@pytest.fixture(scope="module")
def ajb_lines() -> list[TraceLine]:
    from qstack.network import Network
    from qstack.runner import run_network
    from qstack.scenario import load_scenario

    tracer = MemoryTracer()
    report = run_network(Network(load_scenario(AJB), None, tracer))
    assert report.requests[0].status == "done"
    return lines_from_records(tracer.records)


@pytest.fixture(scope="module")
def ajb_file(tmp_path_factory: pytest.TempPathFactory, ajb_lines: list[TraceLine]) -> Path:
    path = tmp_path_factory.mktemp("ajb") / "run.jsonl"
    path.write_text("".join(_json_line(line) + "\n" for line in ajb_lines), encoding="utf-8")
    return path


def _json_line(line: TraceLine, offset_ps: int = 0) -> str:
    return json.dumps(
        {
            "time_ps": line.time_ps + offset_ps,
            "node": line.node,
            "layer": line.layer,
            "direction": line.direction,
            "peer": line.peer,
            "message": line.message.model_dump(mode="json"),
        },
        separators=(",", ":"),
    )


def _mermaid(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    assert trace_command(argv) == 0
    captured = capsys.readouterr()
    return captured.out.splitlines(), captured.err


def test_a_node_filter_keeps_the_receipts_of_what_the_node_sends(
    ajb_lines: list[TraceLine], capsys: pytest.CaptureFixture[str]
) -> None:
    """The defect: with --node juelich, the 200 SWAP_RECORDs juelich sends
    were drawn at the end as "not received" because the receipts (at aachen
    and bonn) had been filtered away before sends and receipts were paired."""
    sent = [
        line
        for line in ajb_lines
        if line.node == "juelich" and line.kind == "SWAP_RECORD" and line.direction == "send"
    ]
    assert len(sent) == 200
    rows, _ = _mermaid([str(AJB), "--format", "mermaid", "--node", "juelich"], capsys)
    ids = {
        m[2] + " " + m[3]: m[1]
        for row in rows
        if (m := re.match(r"    participant (p\d+) as (\S+) (\S+)$", row))
    }
    swaps = [row for row in rows if " SWAP_RECORD " in row]
    assert not any("not received" in row for row in rows)
    juelich = ids["juelich network"]
    drawn = [row for row in swaps if row.startswith(f"    {juelich}->>")]
    assert len(drawn) == 200
    for row in drawn:
        sent_s, arrived_s = map(float, re.findall(r"\[([0-9.]+) → ([0-9.]+) s\]$", row)[0])
        assert arrived_s > sent_s  # drawn at its receipt, one fiber delay later
    # the receipts come in time order among the other rows, not piled at the end
    times = [float(m) for row in rows if (m := _time_of(row)) is not None]
    assert times == sorted(times)


def _time_of(row: str) -> str | None:
    match = re.search(r"(?:→ )?([0-9.]+) s\]$", row)
    return None if match is None else match.group(1)


def test_first_pairs_fits_mermaids_default_limit(
    ajb_lines: list[TraceLine], capsys: pytest.CaptureFixture[str]
) -> None:
    everything, err = _mermaid([str(AJB), "--format", "mermaid"], capsys)
    assert len("\n".join(everything)) > MERMAID_MAX_TEXT
    assert "over Mermaid's default maxTextSize" in err
    rows, err = _mermaid([str(AJB), "--format", "mermaid", "--first-pairs", "10"], capsys)
    text = "\n".join(rows) + "\n"
    assert len(text) <= MERMAID_MAX_TEXT and err == ""
    delivered = Counter(
        re.search(r"pair_id=(\S+)", row).group(1)  # type: ignore[union-attr]
        for row in rows
        if "NET_OK" in row
    )
    assert sum(count == 2 for count in delivered.values()) == 10
    assert rows[-1].count("NET_OK") == 1  # the cut is the 10th pair's second delivery
    declared = {m.group(1) for row in rows if (m := re.match(r"    participant (p\d+) ", row))}
    used = set(re.findall(r"\bp\d+\b", "\n".join(r for r in rows if "participant" not in r)))
    assert used <= declared


def test_a_cut_names_the_messages_still_in_flight(ajb_lines: list[TraceLine]) -> None:
    cut = Cut(first_pairs=3)
    items = list(match_messages(Selection().verdicts(cut.apply(ajb_lines)), lambda: True))
    lost = [item for item in items if isinstance(item, Lost)]
    assert cut.cut_ps is not None and cut.delivered == 3
    assert all(item.why == "in flight at the cut" for item in lost)
    assert all(item.send.time_ps <= cut.cut_ps for item in lost)


def test_window_keeps_one_span_of_time(
    ajb_file: Path, ajb_lines: list[TraceLine], capsys: pytest.CaptureFixture[str]
) -> None:
    assert trace_command([str(ajb_file), "--window", "0.1:0.2"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    times = [float(row.split()[0]) for row in rows]
    inside = [
        line
        for line in ajb_lines
        if 10**11 <= line.time_ps <= 2 * 10**11 and line.kind != "TRANSITION"
    ]
    assert len(times) == len(inside) > 0 and all(0.1 <= t <= 0.2 for t in times)
    rows, _ = _mermaid([str(ajb_file), "--format", "mermaid", "--window", "0.1:0.2"], capsys)
    arrows = [row for row in rows if "->>" in row]
    assert arrows and all(0.1 <= float(_time_of(row) or -1) <= 0.2 for row in arrows)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [("0.1:0.2", 10**11, 2 * 10**11), (":2", 0, 2 * 10**12), ("0.5:", 5 * 10**11, None)],
)
def test_parse_window(text: str, start: int, end: int | None) -> None:
    assert parse_window(text) == (start, end)


@pytest.mark.parametrize("text", ["", "0.2", "0.2:0.1", "-1:2", "a:b", "nan:1", "0:inf"])
def test_bad_windows_are_refused(text: str) -> None:
    with pytest.raises(TraceError, match=re.escape(f"--window = {text!r}")):
        parse_window(text)


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--first-pairs", "0"], "--first-pairs = 0: must be >= 1"),
        (["--window", "2:1"], "--window = '2:1'"),
        (["--layer", "radio"], "invalid choice"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    ajb_file: Path, argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert trace_command([str(ajb_file), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and problem in captured.err and len(captured.err.splitlines()) == 1


def test_a_cut_last_line_is_a_warning_and_the_rest_is_read(
    ajb_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = ajb_file.read_text(encoding="utf-8")
    cut = tmp_path / "cut.jsonl"
    cut.write_text(text[: len(text) - 40], encoding="utf-8")
    warnings: list[str] = []
    lines = list(iter_trace(cut, warnings.append))
    assert len(lines) == len(text.splitlines()) - 1
    assert len(warnings) == 1 and "cut short" in warnings[0]
    assert f"line {len(lines) + 1}" in warnings[0]
    assert trace_command([str(cut), "--transitions"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == len(lines) + 1
    assert captured.err.startswith("qstack trace: warning: ") and "cut short" in captured.err
    middle = tmp_path / "middle.jsonl"
    rows = text.splitlines()
    rows[5] = rows[5][:30]
    middle.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(TraceError, match="line 6: not JSON"):
        read_trace(middle)


@pytest.mark.parametrize(
    "bomb",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"time_ps":0,"node":"a","layer":"run","direction":"event","peer":null,'
        '"message":{"kind":"X","deep":' + "[" * 5_000 + "]" * 5_000 + "}}",
        '{"time_ps":1' + "0" * 5_000 + "}",
    ],
    ids=["brackets", "deep-field", "huge-integer"],
)
def test_hostile_lines_are_refused_with_their_line_number(
    ajb_file: Path, tmp_path: Path, bomb: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ajb_file.read_text(encoding="utf-8").splitlines()[:3]
    path = tmp_path / "bomb.jsonl"
    path.write_text("\n".join([*rows, bomb, *rows]) + "\n", encoding="utf-8")
    with pytest.raises(TraceError, match=r"bomb\.jsonl: line 4: "):
        read_trace(path)
    assert trace_command([str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 4: " in err and "Traceback" not in err and len(err.splitlines()) == 1


def _record(
    time_ps: int, node: str, layer: str, direction: str, peer: str | None, fields: dict[str, Any]
) -> str:
    return json.dumps(
        {
            "time_ps": time_ps,
            "time_s": time_ps / 1e12,
            "node": node,
            "layer": layer,
            "direction": direction,
            "peer": peer,
            "message": fields,
        }
    )


#: One of each record the redesigned layers add (specs/trace.md), and a kind
#: nobody knows, twice.
NEW_RECORDS: list[tuple[int, str, str, str, str | None, dict[str, Any]]] = [
    (
        0,
        "a",
        "physical",
        "down",
        None,
        {"kind": "ATTEMPT", "link": "a-b", "side": 0, "qubit": 0, "tag": "t"},
    ),
    (
        5,
        "a",
        "physical",
        "event",
        "b",
        {
            "kind": "ATTEMPTS",
            "link": "a-b",
            "attempts": 17,
            "start_ps": 0,
            "end_ps": 5,
            "outcome": "herald",
        },
    ),
    (
        5,
        "a",
        "physical",
        "up",
        None,
        {
            "kind": "HERALD",
            "link": "a-b",
            "pair_id": 3,
            "bell_index": 1,
            "qubit": 0,
            "fidelity": 0.97,
        },
    ),
    (
        6,
        "r",
        "network",
        "event",
        None,
        {
            "kind": "SWAP",
            "request_id": "a#0",
            "circuit": "a#0",
            "left": "x",
            "right": "y",
            "outcome": 2,
        },
    ),
    (
        7,
        "a",
        "link",
        "event",
        None,
        {
            "kind": "TRANSITION",
            "lifecycle": "link request",
            "instance": "a:0",
            "source": "queued",
            "dest": "done",
            "trigger": "LastPairDelivered",
        },
    ),
    (8, "r", "run", "event", None, {"kind": "FAULT", "fault": "node_down", "node": "r"}),
    (9, "r", "network", "event", None, {"kind": "WOBBLE", "size": 2}),
    (9, "r", "network", "event", None, {"kind": "WOBBLE", "size": 3}),
]


def test_planned_and_unknown_records_are_read_as_they_are(tmp_path: Path) -> None:
    """The records the redesigned layers add are read by name with no
    warning; a kind nobody knows is read too, and named once."""
    path = tmp_path / "new.jsonl"
    records = [
        _record(t, node, layer, way, peer, fields)
        for t, node, layer, way, peer, fields in NEW_RECORDS
    ]
    path.write_text("\n".join(records) + "\n", encoding="utf-8")
    warnings: list[str] = []
    lines = read_trace(path, warnings.append)
    assert [line.kind for line in lines] == [fields["kind"] for *_, fields in NEW_RECORDS]
    physical = [line for line in lines if line.layer == "physical"]
    assert [type(line.message) for line in physical] == [AttemptTrace, AttemptsTrace, HeraldTrace]
    assert [type(line.message) for line in lines if line.layer == "run"] == [FaultTrace]
    assert [type(line.message) for line in lines if line.kind == "SWAP"] == [SwapTrace]
    # A TRANSITION on a layer's own line (the run's are on layer run) and
    # unknown kinds are read with their fields as they are.
    others = [line for line in lines if line.layer in ("link", "network") and line.kind != "SWAP"]
    assert others and all(isinstance(line.message, OtherMessage) for line in others)
    assert len(warnings) == 1 and "'WOBBLE'" in warnings[0] and "line 7" in warnings[0]
    assert getattr(lines[1].message, "attempts", None) == 17
    text = render_text(lines)
    assert re.search(r"a +physical +• b +ATTEMPTS +link=a-b attempts=17 start_s=0\.0 ", text)
    assert "fault=node_down node=r" in text
    assert "source=queued trigger=LastPairDelivered dest=done" in text
    assert re.search(r"WOBBLE +size=3$", text, re.MULTILINE)
    diagram = render_mermaid(lines)
    assert re.search(r"Note over p\d+,p\d+: • ATTEMPTS link=a-b attempts=17", diagram)
    assert "participant p0 as a link\n    participant p1 as a physical\n" in diagram


def test_fifo_matching_survives_giving_up_on_old_sends(ajb_lines: list[TraceLine]) -> None:
    """With room for only 2 sends in flight, the oldest are given up on, yet
    every receipt still gets its own send or none, never another's."""
    exact = {
        (item.send.line, item.send.time_ps, item.recv.time_ps)
        for item in match_messages((line, True) for line in ajb_lines)
        if isinstance(item, Delivery) and item.send is not None
    }
    items = list(match_messages(((line, True) for line in ajb_lines), max_in_flight=2))
    tight = [item for item in items if isinstance(item, Delivery)]
    assert {
        (item.send.line, item.send.time_ps, item.recv.time_ps)
        for item in tight
        if item.send is not None
    } <= exact
    given_up = sum(isinstance(item, Lost) and item.why == "not matched" for item in items)
    assert given_up == sum(item.send is None for item in tight) > 0


@pytest.mark.slow
def test_streaming_memory_is_flat_in_the_trace_length(
    ajb_lines: list[TraceLine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Peak memory of reading, choosing and drawing a trace 8 times longer
    stays within a margin of the shorter one's (the bounded buffers are made
    small so that both traces pass them)."""
    monkeypatch.setattr(render_module, "TEXT_WIDTH_ROWS", 50)
    monkeypatch.setattr(render_module, "MERMAID_HEAD_ITEMS", 50)
    span = ajb_lines[-1].time_ps + 1

    def peak(copies: int) -> int:
        path = tmp_path / f"x{copies}.jsonl"
        with open(path, "w", encoding="utf-8") as out:
            for copy in range(copies):
                out.writelines(_json_line(line, copy * span) + "\n" for line in ajb_lines)
        sink = io.StringIO()
        tracemalloc.start()
        try:
            write_text(Selection.of(nodes=["juelich"]).select(iter_trace(path)), _Null())
            selection = Selection.of(nodes=["juelich"])
            write_mermaid(match_messages(selection.verdicts(iter_trace(path))), _Null())
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            sink.close()

    short, long = peak(1), peak(8)
    assert long < 1.3 * short, (short, long)


class _Null(io.StringIO):
    """A text sink that keeps nothing."""

    def write(self, text: str) -> int:
        return len(text)
