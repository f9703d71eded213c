"""What ``qstack report`` puts on the page, checked without a browser."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest

from qstack.diagrams import find_lifecycle
from qstack.layers.app.qkd import QkdRequestReport
from qstack.layers.app.teleport import TeleportRequestReport
from qstack.network import Network
from qstack.report import report_command
from qstack.report.collect import TimeHistogram, TraceFacts
from qstack.report.page import traced_figures
from qstack.report.requests import match_requests
from qstack.report.sequence import sequence_rows
from qstack.report.summary import scenario_facts, summary_of
from qstack.report.svg import fmt
from qstack.runner import run_network
from qstack.scenario import load_scenario
from qstack.sim.trace import MemoryTracer
from qstack.tracing import lines_from_records, read_trace
from tests.apps._apps_helpers import chain_scenario
from tests.network._fault_helpers import RING, pairs_request
from tests.network._fault_helpers import scenario as ring_scenario
from tests.report._report_helpers import EXAMPLES, TracedRun, record, traced_run


@pytest.fixture(scope="module")
def ajb(tmp_path_factory: pytest.TempPathFactory) -> TracedRun:
    return traced_run("aachen_juelich_bonn.toml", tmp_path_factory.mktemp("ajb"))


def _page(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert report_command(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    written = re.search(r"wrote (.+) \(", out)
    assert written is not None, out
    return Path(written.group(1)).read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(
    "example",
    ["aachen_juelich_bonn.toml", "chain_5.toml", "teleport.toml", "abstract_teaching.json"],
)
def test_figures_from_the_trace_match_the_run_report(example: str) -> None:
    """The page works out each request's delivered pairs, mean fidelity,
    mean latency and rate from the trace alone; they are the runner's
    figures. Both sum the same floats in a different order, so they agree to
    n * 2**-52 relative (n <= a few hundred pairs here): 1e-12 is ample."""
    scenario = load_scenario(EXAMPLES / example)
    tracer = MemoryTracer()
    report = run_network(Network(scenario, None, tracer))
    facts = TraceFacts().add_all(lines_from_records(tracer.records))
    views = match_requests(
        list(facts.requests.values()),
        summary_of(report).requests,
        scenario_facts(scenario).requests,
    )
    assert len(views) == len(report.requests)
    for view, expected in zip(views, report.requests, strict=True):
        assert view.trace is not None and (view.trace.src, view.trace.dst) == (
            expected.src,
            expected.dst,
        )
        figures = traced_figures(view.trace)
        assert figures["pairs delivered"] == expected.delivered > 0
        for name, value in (
            ("mean fidelity", expected.fidelity_mean),
            ("mean latency (s)", expected.latency_mean_s),
            ("rate (pairs/s)", expected.rate_hz),
        ):
            assert value is not None and math.isclose(figures[name] or 0, value, rel_tol=1e-12)


def test_the_sequence_chart_holds_the_first_pairs(ajb: TracedRun) -> None:
    lines = read_trace(ajb.trace)
    first = sequence_rows(lines, first_pairs=3)
    assert first.pairs_shown == 3 and first.cut_ps is not None and not first.stopped_by_rows
    assert first.rows == len(first.columns["t"]) < len(lines)
    assert all(t <= first.cut_ps for t in first.columns["t"])
    delivered = Counter(
        re.search(r"pair_id=(\S+)", text).group(1)  # type: ignore[union-attr]
        for kind, text in zip(first.columns["kind"], first.columns["text"], strict=True)
        if kind == "NET_OK"
    )
    assert sum(count == 2 for count in delivered.values()) == 3
    short = sequence_rows(lines, first_pairs=50, max_rows=20)
    assert short.stopped_by_rows and short.rows == 20 and short.pairs_shown < 50
    assert set(first.requests) == {"aachen#0"}
    assert {first.columns["request"][i] for i in range(first.rows)} <= {"aachen#0", ""}


def test_the_page_is_self_contained(
    ajb: TracedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _page([str(ajb.scenario), "-o", str(tmp_path / "run.html")], capsys)
    assert page.startswith("<!doctype html>")
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    addresses = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert addresses <= {"http://www.w3.org/2000/svg"}, addresses
    data = json.loads(
        re.search(
            r'<script id="seq-data" type="application/json">(.*?)</script>', page, re.S
        ).group(1)
    )  # type: ignore[union-attr]
    assert len(data["t"]) == len(data["text"]) > 0


def test_a_trace_alone_says_what_it_lacks(
    ajb: TracedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alone = _page([str(ajb.trace), "-o", str(tmp_path / "alone.html")], capsys)
    assert "No run report" in alone
    assert "Attempts per link are not known" in alone
    assert "trace: link OK lines" in alone
    assert "TRANSITION records in the trace" in alone
    bare = _page(
        [str(_without_transitions(ajb.trace, tmp_path)), "-o", str(tmp_path / "b.html")], capsys
    )
    assert "This trace has no TRANSITION records" in bare
    assert "The trace has no FAULT records." in alone
    both = _page(
        [str(ajb.trace), "--run-report", str(ajb.run_json), "-o", str(tmp_path / "both.html")],
        capsys,
    )
    assert "No run report" not in both and "Link use from: run report." in both
    link = ajb.report.links[0]
    assert f"{link.attempts:,} attempts" in both


def _with(trace: Path, out: Path, extra: list[str]) -> Path:
    text = trace.read_text(encoding="utf-8")
    out.write_text(text + "\n".join(extra) + "\n", encoding="utf-8")
    return out


def _without_transitions(trace: Path, directory: Path) -> Path:
    """The trace with its TRANSITION records left out (a trace written by a tool that has none)."""
    out = directory / "no-transitions.jsonl"
    kept = [
        line
        for line in trace.read_text(encoding="utf-8").splitlines()
        if '"TRANSITION"' not in line
    ]
    out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return out


def test_transitions_taken_are_drawn_with_their_counts(
    ajb: TracedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    end = read_trace(ajb.trace)[-1].time_ps

    def step(source: str, trigger: str, dest: str, lifecycle: str = "link request") -> str:
        message = {
            "kind": "TRANSITION",
            "lifecycle": lifecycle,
            "instance": "aachen:0",
            "source": source,
            "dest": dest,
            "trigger": trigger,
        }
        return record(end, "aachen", "link", "event", None, message)

    steps = (
        [step("negotiating", "QueueAck", "queued")] * 2
        + [step("queued", "Herald", "queued")] * 5
        + [step("queued", "Herald", "done"), step("a", "B", "c", "no such table")]
    )
    trace = _with(_without_transitions(ajb.trace, tmp_path), tmp_path / "steps.jsonl", steps)
    page = _page([str(trace), "-o", str(tmp_path / "steps.html")], capsys)
    figure = re.search(
        r'<figure class="lifecycle" data-lifecycle="link request">(.*?)</figure>', page, re.S
    )
    assert figure is not None
    drawn = figure.group(1)
    assert "link request: 8 steps" in drawn
    taken = re.findall(r'<g class="edge taken">.*?</g>', drawn)
    assert len(taken) == 3
    assert any("QueueAck \N{MULTIPLICATION SIGN}2" in edge and "QueueAdd" in edge for edge in taken)
    assert any("Herald \N{MULTIPLICATION SIGN}5" in edge for edge in taken)
    assert any("Herald \N{MULTIPLICATION SIGN}1" in edge for edge in taken)
    pairs = {(row.source, row.dest) for row in find_lifecycle("link", "request").transitions}
    assert len(re.findall(r'<g class="edge">', drawn)) == len(pairs) - 3
    assert "11 TRANSITION records" not in page and "9 TRANSITION records in the trace" in page
    assert "lifecycles with no table here: no such table" in page


def test_faults_are_marked_on_the_topology(
    ajb: TracedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    end = read_trace(ajb.trace)[-1].time_ps
    faults = [
        record(
            end,
            "juelich",
            "run",
            "event",
            None,
            {"kind": "FAULT", "fault": "node_down", "node": "juelich"},
        ),
        record(
            end,
            "aachen",
            "run",
            "event",
            None,
            {"kind": "FAULT", "fault": "link_down", "a": "aachen", "b": "juelich"},
        ),
    ]
    trace = _with(ajb.trace, tmp_path / "faults.jsonl", faults)
    page = _page([str(trace), "-o", str(tmp_path / "faults.html")], capsys)
    topology = re.search(r'<svg class="topology".*?</svg>', page, re.S).group(0)  # type: ignore[union-attr]
    assert '<g class="node failed" data-node="juelich">' in topology  # a repeater
    assert 'class="node failed" data-node="aachen"' not in topology
    assert topology.count('<line class="cut"') == 1
    assert "link_down at" in topology and "node_down at" in topology
    assert "2 faults in the trace" in page


def test_a_rerouted_request_shows_the_path_that_served_it_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ring a-b-c-d: a to c goes through b until b fails, then through d."""
    faults = [{"at_s": 0.002, "kind": "node_down", "node": "b"}]
    data = ring_scenario(RING, [pairs_request("a", "c", 100)], faults, reroute=True)
    scenario = tmp_path / "ring.json"
    scenario.write_text(json.dumps(data), encoding="utf-8")
    page = _page([str(scenario), "-o", str(tmp_path / "ring.html")], capsys)
    assert re.search(r"path</th><td[^>]*>a → d → c<", page)
    assert "1 fault in the trace" in page


@pytest.mark.slow
def test_qkd_shows_its_bits_and_qber(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "qkd.json"
    scenario.write_text(
        json.dumps(
            chain_scenario({"app": "qkd", "pairs": 2000, "qber_threshold": 0.09}, hops=1, seed=5)
        ),
        encoding="utf-8",
    )
    tracer = MemoryTracer()
    expected = run_network(Network(load_scenario(scenario), None, tracer)).requests[0]
    assert isinstance(expected, QkdRequestReport)
    page = _page([str(scenario), "-o", str(tmp_path / "qkd.html")], capsys)
    assert "QKD: bits through each stage" in page
    for label, value in (
        ("pairs", expected.delivered),
        ("sifted", expected.sifted_bits),
        ("leaked", expected.leaked_bits),
        ("final", expected.secret_key_bits),
    ):
        assert f"<title>{label}: {fmt(value)}</title>" in page
    assert "Not in the run report: sample." in page
    assert "abort above 0.09" in page and "the scenario&#x27;s 0.09" in page


def test_teleportation_is_set_against_the_closed_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traced = traced_run("teleport.toml", tmp_path)
    page = _page(
        [str(traced.trace), "--run-report", str(traced.run_json), "-o", str(tmp_path / "t.html")],
        capsys,
    )
    request = traced.report.requests[0]
    assert isinstance(request, TeleportRequestReport)
    pair_fidelity = request.fidelity_mean
    measured = request.teleport_fidelity_mean
    assert pair_fidelity is not None and measured is not None
    assert f"<title>(2F+1)/3: {fmt((2 * pair_fidelity + 1) / 3)}</title>" in page
    assert f"<title>simulated: {fmt(measured)}</title>" in page


def test_a_newer_run_report_is_read(
    ajb: TracedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(ajb.run_json.read_text(encoding="utf-8"))
    data["requests"][0] |= {"name": "first", "path": ["aachen", "juelich", "bonn"], "reroutes": 0}
    data["faults"] = []
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(data), encoding="utf-8")
    page = _page(
        [str(ajb.trace), "--run-report", str(newer), "-o", str(tmp_path / "n.html")], capsys
    )
    assert "pairs · aachen → bonn · first · aachen#0" in page


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["missing.jsonl"], "missing.jsonl: no such file"),
        (["run.txt"], "expected a .toml/.json scenario or a .jsonl trace"),
        (["{scenario}", "--run-report", "{run_json}"], "--run-report goes with a .jsonl trace"),
        (["{trace}", "--seed", "3"], "--seed goes with a scenario"),
        (["{trace}", "--run-report", "{trace}"], "--run-report = "),
        (["{trace}", "-o", "{trace}"], "would overwrite an input"),
        (["{trace}", "--first-pairs", "0"], "--first-pairs = 0: must be >= 1"),
        (["{scenario}", "--seed", "-1"], "--seed = -1"),
        (["{bad_trace}"], "bad.jsonl: line 2: not JSON"),
        ([], "required"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    ajb: TracedRun,
    argv: list[str],
    problem: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    bad_trace = tmp_path / "bad.jsonl"
    first, second, *_ = ajb.trace.read_text(encoding="utf-8").splitlines()
    bad_trace.write_text(f"{first}\n{second[:20]}\n{first}\n", encoding="utf-8")
    names = {
        "scenario": str(ajb.scenario),
        "run_json": str(ajb.run_json),
        "trace": str(ajb.trace),
        "bad_trace": str(bad_trace),
    }
    assert report_command([arg.format(**names) for arg in argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("qstack report: ")
    assert problem in captured.err and len(captured.err.splitlines()) == 1
    assert "Traceback" not in captured.err
    assert not list(tmp_path.glob("*.html"))


def test_counts_over_time_keep_every_line_in_a_bounded_histogram() -> None:
    histogram = TimeHistogram(bins=16)
    times = [0, 5, 999, 1_000, 17_000, 10**9, 3 * 10**12]
    for time_ps in times:
        histogram.add("link", time_ps)
    counts = histogram.counts["link"]
    assert len(counts) == 16 and sum(counts) == len(times)
    assert histogram.width_ps * 16 > times[-1] >= histogram.width_ps * 8
    assert counts[times[-1] // histogram.width_ps] == 1


def test_open_hands_the_page_to_the_browser(
    ajb: TracedRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    page = tmp_path / "open.html"
    assert report_command([str(ajb.trace), "-o", str(page), "--open"]) == 0
    assert opened == [page.resolve().as_uri()]
