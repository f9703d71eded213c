"""The conformance kit: the built-in layers pass, each broken layer fails
on the clause it breaks (not by crashing), with a shrunk counter-example."""

from __future__ import annotations

import pytest

from qstack.conformance import LINK_CLAUSES, NETWORK_CLAUSES, run_contract
from qstack.conformance.clauses import select
from qstack.conformance.harness import LinkHarness, LinkParams
from tests.conformance.broken import link as broken_link
from tests.conformance.broken import network as broken_network


def test_clause_ids_are_stable() -> None:
    assert [(c.id, c.level) for c in LINK_CLAUSES] == [
        ("link/3.1", "MUST"),
        ("link/3.2", "MUST"),
        ("link/3.3", "MUST"),
        ("link/3.4", "MUST"),
        ("link/3.5", "SHOULD"),
        ("link/3.6", "MUST"),
        ("link/3.7", "MUST"),
        ("link/3.8", "SHOULD"),
    ]
    assert [c.id for c in NETWORK_CLAUSES] == [f"net/4.{i}" for i in range(1, 10)]


def test_select_by_glob_and_prefix() -> None:
    assert [c.id for c in select("link", "link/3.[12]")] == ["link/3.1", "link/3.2"]
    assert [c.id for c in select("link", "link/3.4")] == ["link/3.4"]
    assert len(select("link", "link")) == 8
    assert select("network", "link/3.1") == ()


@pytest.mark.slow
@pytest.mark.parametrize("layer", ["link", "network"])
def test_builtin_layers_conform(layer: str) -> None:
    report = run_contract(layer, max_examples=15, seed=1)  # type: ignore[arg-type]
    assert report.ok(strict=True), report.table(strict=True)
    assert all(r.counterexample is None for r in report.results)


BROKEN = [
    ("link", broken_link.MismatchedPairIdLink, "link/3.2"),
    ("link", broken_link.LeakyLink, "link/3.6"),
    ("link", broken_link.SilentLink, "link/3.7"),
    ("link", broken_link.InflatedFidelityLink, "link/3.4"),
    ("link", broken_link.OverpromisingLink, "link/3.4"),
    ("network", broken_network.UncorrectedNetworkLayer, "net/4.4"),
    ("network", broken_network.SplitPairIdNetworkLayer, "net/4.2"),
    ("network", broken_network.CarriesOnWhenDownNetworkLayer, "net/4.8"),
    ("link", broken_link.NoFlowControlLink, "link/3.8"),
    ("network", broken_network.TellsBusyNetworkLayer, "net/4.9"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("layer", "cls", "clause_id"), BROKEN, ids=[cls.__name__ for _, cls, _ in BROKEN]
)
def test_broken_layer_fails_its_clause(layer: str, cls: type, clause_id: str) -> None:
    """The contract is a random search: with 120 examples a planted bug is
    found for most seeds (net/4.8's, the hardest, for 9 in 10 of seeds 0-9),
    so up to three seeds are tried, the first that finds it kept; a kit that
    finds a bug with probability p per seed misses all three with (1 - p)^3."""
    for seed in (0, 1, 2):
        report = run_contract(layer, cls, max_examples=120, seed=seed, only=clause_id)  # type: ignore[arg-type]
        result = report.result(clause_id)
        if result.status == "fail":
            break
    assert result.status == "fail", report.table()
    example = result.counterexample
    assert example is not None and example.error is None
    assert example.steps and example.trace
    assert example.violations and all(v.clause == clause_id for v in example.violations)
    assert not report.ok(strict=True)  # a broken SHOULD fails a strict run only


@pytest.mark.slow
def test_silent_link_slips_past_the_deadline_clause() -> None:
    """Dropping only requests without max_time: link/3.1 cannot see it, link/3.7 does."""
    report = run_contract("link", broken_link.SilentLink, max_examples=15, seed=2)
    failing = {r.clause.id for r in report.results if not r.passed}
    assert failing == {"link/3.7"}, report.table()


def test_overpromising_link_is_caught_directly() -> None:
    harness = LinkHarness(broken_link.OverpromisingLink, LinkParams(fidelity=0.8), seed=0)
    harness.create("alice", number=2, min_fidelity=0.9)
    harness.advance(10_000_000_000)
    found = harness.check()
    assert {v.clause for v in found} == {"link/3.4"}
    assert any("min_fidelity 0.9" in v.explanation for v in found)
    assert any("true fidelity" in v.explanation for v in found)


def test_builtin_harness_run_has_no_violation_and_frees_memory() -> None:
    harness = LinkHarness(params=LinkParams(qubits=2), seed=3)
    harness.create("alice", number=3)
    harness.create("bob", number=2, type="measure", max_time_ps=2_000_000_000)
    harness.create("bob", number=None, priority=1)
    harness.advance(5_000_000_000)
    harness.finish()
    assert harness.check() == []
    assert all(m.free_count == m.size for m in harness.memories.values())
    kinds = {r.message.model_dump()["kind"] for r in harness.tracer.records}
    assert {"CREATE", "OK", "ERROR", "CANCEL", "QUEUE_ADD"} <= kinds


@pytest.mark.slow
def test_junit_report_is_xml() -> None:
    from xml.etree import ElementTree

    report = run_contract("link", broken_link.LeakyLink, max_examples=20, only="link/3.6")
    root = ElementTree.fromstring(report.junit_xml())
    assert root.get("failures") == "1"
    (case,) = root.iter("testcase")
    failure = case.find("failure")
    assert failure is not None and "link/3.6" in (failure.get("message") or "")
    assert "steps:" in (failure.text or "")
