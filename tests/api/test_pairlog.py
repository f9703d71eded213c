"""The per-pair record (``qstack run --pairs``, ``qstack.run(pairs=...)``)
and the running statistics the report keeps instead of per-pair lists."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import qstack
from qstack.cli import main
from qstack.pairlog import PAIR_COLUMNS
from qstack.sim.kernel import ps_to_seconds

ROOT = Path(__file__).resolve().parents[2]
CHAIN = ROOT / "examples" / "chain_5.toml"


QKD = ROOT / "examples" / "qkd.toml"


@pytest.mark.parametrize(
    ("scenario", "overrides"),
    [
        (CHAIN, {}),
        # Pairs measured directly are counted a batch at a time, at their heralds.
        (QKD, {"network.measure_directly": True, "requests[0].pairs": 5000}),
    ],
    ids=["chain", "qkd-measured-directly"],
)
def test_one_row_per_counted_pair_agreeing_with_the_report(
    scenario: Path, overrides: dict[str, object]
) -> None:
    out = io.StringIO()
    report = qstack.run(scenario, pairs=out, overrides=overrides)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == PAIR_COLUMNS
    for request in report.requests:
        mine = [row for row in rows if row["request"] == request.name]
        assert len(mine) == request.delivered > 0
        assert len({row["pair_id"] for row in mine}) == len(mine)
        # the running sum adds the pairs in the order they were counted,
        # which is the order of the rows: the same mean, bit for bit
        assert sum(float(row["fidelity"]) for row in mine) / len(mine) == request.fidelity_mean
        latency = sum(float(row["latency_s"]) for row in mine) / len(mine)
        assert latency == pytest.approx(request.latency_mean_s, rel=1e-12)
        times = [float(row["time_s"]) for row in mine]
        assert times == sorted(times) and times[-1] <= report.sim_time_s


def test_the_record_does_not_change_the_run() -> None:
    plain = json.loads(qstack.run(CHAIN).model_dump_json())
    recorded = json.loads(qstack.run(CHAIN, pairs=io.StringIO()).model_dump_json())
    for report in (plain, recorded):
        del report["wall_time_s"]
    assert plain == recorded


def test_cli_writes_the_file_and_refuses_to_overwrite_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "pairs.csv"
    assert main(["run", "--pairs", str(target)]) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(PAIR_COLUMNS) and len(lines) == 1 + 1000
    scenario = tmp_path / "s.json"
    scenario.write_text((ROOT / "examples" / "abstract_teaching.json").read_text())
    capsys.readouterr()
    assert main(["run", str(scenario), "--pairs", str(scenario)]) == 2
    assert "--pairs" in capsys.readouterr().err
    assert scenario.read_text() == (ROOT / "examples" / "abstract_teaching.json").read_text()


def test_latency_in_the_record_is_seconds_from_the_start() -> None:
    out = io.StringIO()
    qstack.run(CHAIN, pairs=out)
    first = next(csv.DictReader(io.StringIO(out.getvalue())))
    # chain_5's first request starts at t = 0: latency = time
    assert float(first["latency_s"]) == float(first["time_s"]) > ps_to_seconds(1)


def test_a_network_keeps_pair_records_unless_asked_not_to() -> None:
    scenario = qstack.load_scenario(CHAIN)
    kept = qstack.Network(scenario)
    flat = qstack.Network(scenario, keep_pair_records=False)
    reports = [qstack.run_network(network) for network in (kept, flat)]
    session, flat_session = kept.requests[0], flat.requests[0]
    assert len(session.pair_ids) == len(session.fidelities) == session.delivered > 0
    assert flat_session.delivered == session.delivered
    assert (
        flat_session.fidelity_mean == session.fidelity_mean == reports[1].requests[0].fidelity_mean
    )
    with pytest.raises(RuntimeError, match="running statistics only"):
        _ = flat_session.fidelities


def test_a_pairs_file_that_cannot_be_written_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no" / "such" / "dir" / "pairs.csv"
    assert main(["run", "--pairs", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qstack: --pairs = ") and str(target) in err and "Traceback" not in err
