"""The measure-directly path against the per-pair path it stands in for.

With ``[network] measure_directly`` a one-hop measure-type request has both
ends measure each pair as it is heralded, in batches drawn at once. It must
give the statistics of the per-pair path (which stores each pair, corrects
the destination's qubit and measures it), so each test runs the same
scenario both ways, on different seeds, and compares samples:

- the joint distribution of (Alice's basis, Bob's basis, Alice's bit, Bob's
  bit): a chi-square test of homogeneity over its 16 cells;
- the times between consecutive pairs: a two-sample Kolmogorov-Smirnov test;
- the fidelities: the same few values (one per state a pair can be in), in
  the same proportions (chi-square).

Each test rejects a true null hypothesis with probability ``ALPHA``; the
seeds are fixed, so the suite is deterministic, and the chance that a
correct implementation fails some seed is ALPHA per test. The noisy case
was chosen so that an error in one rule shows: measuring the first end's
reported (rather than true) bit, or dropping the Pauli-frame correction,
moves 16-cell counts by far more than a chi-square test at this size lets
pass (the first gave p = 5e-11 with 10,000 pairs when it was a bug here).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

from qstack.layers.app.qkd import QkdSession
from qstack.layers.link.egp import LinkLayer
from qstack.layers.link.messages import LinkCreate
from qstack.network import Network
from qstack.report.collect import TraceFacts
from qstack.report.page import traced_figures
from qstack.runner import RunReport, run_network
from qstack.scenario import parse_scenario
from qstack.sim.trace import MemoryTracer
from qstack.tracing import lines_from_records

ALPHA = 1e-3

#: Every rule the path has to get right at once: two Bell indices (double
#: click heralds Psi+ and Psi-, so the correction flips Z outcomes always and
#: X outcomes for one of them), memory noise over the herald time, an
#: eavesdropper at the station, detector errors at both ends, unequal bases.
NOISY_LINK = {
    "model": "double-click",
    "length_km": 10.0,
    "detector_efficiency": 0.8,
    "intercept_resend": 0.3,
}
NOISY_NODE = {"memory_t_s": 2e-4, "measurement_error": 0.05}
#: Amplitude and phase damping take the pairs off the Bell-diagonal family:
#: the exact (density-matrix) path.
DENSE_NODE = {"t1_s": 1e-4, "t2_s": 5e-5, "measurement_error": 0.02}


def _scenario(
    direct: bool,
    pairs: int,
    *,
    link: dict[str, Any] | None = None,
    node: dict[str, Any] | None = None,
    hops: int = 1,
    z: float = 0.5,
    max_time_s: float | None = None,
    until_s: float = 60.0,
    faults: tuple[dict[str, Any], ...] = (),
    app: str = "qkd",
) -> dict[str, Any]:
    names = ["alice", *(f"r{i}" for i in range(1, hops)), "bob"]
    request: dict[str, Any] = {"app": app, "src": "alice", "dst": "bob", "pairs": pairs}
    if app == "qkd":
        request |= {"z_basis_probability": z, "qber_threshold": 0.45}
    else:
        request |= {"type": "measure"}
    if max_time_s is not None:
        request["max_time_s"] = max_time_s
    return {
        "run": {"until_s": until_s},
        "network": {"measure_directly": direct},
        "nodes": [{"name": name, "qubits": 4, **(node or {})} for name in names],
        "links": [{"a": a, "b": b, **(link or NOISY_LINK)} for a, b in itertools.pairwise(names)],
        "requests": [request],
        "faults": list(faults),
    }


class Run:
    """One run, with every counted pair's (id, time, fidelity)."""

    def __init__(self, scenario: dict[str, Any], seed: int, tracer: MemoryTracer | None = None):
        self.network = Network(parse_scenario(scenario), seed, tracer)
        self.session = self.network.requests[0]
        self.pairs: list[tuple[str, int, float]] = []
        self.session.pair_sink = lambda _, pair_id, time_ps, fidelity, __: self.pairs.append(
            (pair_id, time_ps, fidelity)
        )
        self.report: RunReport = run_network(self.network)

    @property
    def qkd(self) -> QkdSession:
        assert isinstance(self.session, QkdSession)
        return self.session

    def cells(self) -> np.ndarray:
        """Counts of (basis_a, basis_b, bit_a, bit_b), index 8 a + 4 b + 2 x + y
        (both ends' arrays list the same pairs in the same order)."""
        bases_a, bits_a = self.qkd._alice.arrays()
        bases_b, bits_b = self.qkd._bob.arrays()
        codes = 8 * bases_a + 4 * bases_b + 2 * bits_a + bits_b
        return np.bincount(codes.astype(np.intp), minlength=16)

    def gaps_ps(self) -> np.ndarray:
        return np.diff(np.sort(np.array([time_ps for _, time_ps, _ in self.pairs])))

    def successes(self) -> int:
        return sum(link.station.successes for link in self.network.links)


def _homogeneous(first: np.ndarray, second: np.ndarray) -> float:
    """p-value of the chi-square test that two count vectors share one
    distribution (cells empty in both are left out)."""
    table = np.array([first, second])
    table = table[:, table.sum(axis=0) > 0]
    return float(stats.chi2_contingency(table).pvalue)


def _both_ways(pairs: int, seed: int, **options: Any) -> tuple[Run, Run]:
    per_pair = Run(_scenario(False, pairs, **options), seed)
    direct = Run(_scenario(True, pairs, **options), seed + 1000)
    return per_pair, direct


def _same_statistics(per_pair: Run, direct: Run) -> None:
    assert per_pair.report.requests[0].status == direct.report.requests[0].status == "done"
    assert _homogeneous(per_pair.cells(), direct.cells()) > ALPHA
    assert stats.ks_2samp(per_pair.gaps_ps(), direct.gaps_ps()).pvalue > ALPHA
    fidelities = [np.array([f for _, _, f in run.pairs]) for run in (per_pair, direct)]
    values = np.unique(np.concatenate(fidelities))
    counts = [np.array([np.sum(f == v) for v in values]) for f in fidelities]
    # The same states, so the same fidelity values, to the last bit.
    assert set(np.unique(fidelities[0])) == set(np.unique(fidelities[1]))
    assert _homogeneous(counts[0], counts[1]) > ALPHA


def test_the_ends_outcomes_match_the_per_pair_path() -> None:
    _same_statistics(*_both_ways(3_000, 11, node=NOISY_NODE, z=0.7))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("node", "z"),
    [(NOISY_NODE, 0.7), (NOISY_NODE, 0.5), (DENSE_NODE, 0.5)],
    ids=["noisy-z0.7", "noisy-z0.5", "density-matrix"],
)
def test_the_ends_outcomes_match_the_per_pair_path_at_size(node: dict[str, Any], z: float) -> None:
    _same_statistics(*_both_ways(15_000, 21, node=node, z=z))


def test_the_qber_is_the_closed_form_of_the_simulated_states() -> None:
    """An intercept-resend eavesdropper on a fraction f of perfect pairs
    makes a QBER of f / 4 in both bases (Bennett, Brassard and Mermin's
    BBM92 with Eve measuring in a random basis); within 4 standard
    deviations of the binomial sifted sample."""
    fraction = 0.4
    link = {
        "model": "abstract",
        "length_km": 1.0,
        "success_probability": 0.3,
        "attempt_duration_s": 1e-6,
        "fidelity": 1.0,
    }
    run = Run(
        _scenario(True, 40_000, link={**link, "intercept_resend": fraction}),
        5,
    )
    expected = fraction / 4
    cells = run.cells()
    for block in (cells[0:4], cells[12:16]):
        n = int(block.sum())
        observed = (block[1] + block[2]) / n
        assert abs(observed - expected) <= 4 * math.sqrt(expected * (1 - expected) / n)
    assert run.qkd.keys_match


def test_a_deadline_ends_the_batch_with_every_pair_heralded_before_it() -> None:
    max_time_s = 2e-3
    run = Run(_scenario(True, 100_000, max_time_s=max_time_s), 3)
    request = run.report.requests[0]
    assert request.status == "expired"
    times = [time_ps for _, time_ps, _ in run.pairs]
    assert times and max(times) < round(max_time_s * 1e12)
    # Every pair heralded was delivered at both ends: none lost, none half-counted.
    assert request.delivered == len(run.pairs) == run.successes() > 0
    assert not run.session._first_batches


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "link_down", "a": "alice", "b": "bob"},
        {"kind": "node_down", "node": "bob"},
    ],
    ids=["fiber-cut", "node-down"],
)
def test_a_fault_delivers_the_pairs_heralded_before_it(fault: dict[str, Any]) -> None:
    cut_s = 1e-3
    cut = {"at_s": cut_s, **fault}
    run = Run(_scenario(True, 100_000, faults=(cut,)), 4)
    assert run.report.requests[0].status == "error"
    times = [time_ps for _, time_ps, _ in run.pairs]
    assert times and max(times) < round(cut_s * 1e12)
    assert run.report.requests[0].delivered == run.successes() > 0
    assert not run.session._first_batches


def test_the_end_of_the_run_cuts_the_batch() -> None:
    until_s = 1.5e-3
    run = Run(_scenario(True, 100_000, until_s=until_s, app="pairs"), 6)
    assert run.report.requests[0].status == "running"
    assert max(time_ps for _, time_ps, _ in run.pairs) <= round(until_s * 1e12)
    assert run.report.requests[0].delivered == run.successes() > 0


def test_longer_paths_take_the_per_pair_path_unchanged() -> None:
    """Over two hops there is a repeater to store pairs: the request is
    served pair by pair, the same run bit for bit as without the option."""
    link = {"model": "double-click", "length_km": 5.0}
    reports = [Run(_scenario(direct, 200, hops=2, link=link), 9).report for direct in (False, True)]
    assert reports[0].model_dump(exclude={"wall_time_s"}) == reports[1].model_dump(
        exclude={"wall_time_s"}
    )


def test_the_same_seed_gives_the_same_run() -> None:
    first, second = (Run(_scenario(True, 2_000, node=NOISY_NODE), 8) for _ in range(2))
    assert first.report.model_dump(exclude={"wall_time_s"}) == second.report.model_dump(
        exclude={"wall_time_s"}
    )
    assert first.pairs == second.pairs


def test_a_progress_display_does_not_change_the_run() -> None:
    """``qstack run`` on a terminal runs in slices to show progress; a batch
    is cut where the whole run ends, not at a slice, so the draws are the same."""
    scenario = parse_scenario(_scenario(True, 3_000, until_s=0.5))
    reports = [
        run_network(Network(scenario, 7), progress=progress).model_dump(exclude={"wall_time_s"})
        for progress in (None, lambda fraction, wall_s: None)
    ]
    assert reports[0] == reports[1]


def test_the_trace_holds_the_batches_and_gives_the_same_figures() -> None:
    """A traced run records OK_BATCH and NET_OK_BATCH; the report page
    reads each pair out of them, so its figures are the runner's (1e-12:
    the same floats summed in another order)."""
    tracer = MemoryTracer()
    run = Run(_scenario(True, 1_500), 2, tracer)
    kinds = {record.message.kind for record in tracer.records}  # type: ignore[attr-defined]
    assert {"OK_BATCH", "NET_OK_BATCH"} <= kinds and "NET_OK" not in kinds
    facts = TraceFacts().add_all(lines_from_records(tracer.records))
    (trace,) = facts.requests.values()
    figures = traced_figures(trace)
    expected = run.report.requests[0]
    assert figures["pairs delivered"] == expected.delivered == 1_500
    for name, value in (
        ("mean fidelity", expected.fidelity_mean),
        ("mean latency (s)", expected.latency_mean_s),
        ("rate (pairs/s)", expected.rate_hz),
    ):
        assert value is not None and math.isclose(figures[name] or 0, value, rel_tol=1e-12)


class PairByPairLink(LinkLayer):
    """A link protocol that serves batched requests pair by pair, as the
    link contract allows (OK_BATCH is a may)."""

    def create(self, now: int, request: LinkCreate) -> int:
        return super().create(now, request.model_copy(update={"batched": False}))


def test_a_link_that_reports_pair_by_pair_is_served_all_the_same() -> None:
    scenario = parse_scenario(_scenario(True, 500))
    network = Network(scenario, 4, link_layer=PairByPairLink)
    report = run_network(network)
    (request,) = report.requests
    assert request.status == "done" and request.delivered == 500
    session = network.requests[0]
    assert isinstance(session, QkdSession) and session.keys_match


def test_a_single_pair_is_a_batch_of_one() -> None:
    run = Run(_scenario(True, 1, app="pairs"), 12)
    assert run.report.requests[0].status == "done"
    assert run.report.requests[0].delivered == len(run.pairs) == 1


def test_only_measure_requests_may_be_batched() -> None:
    with pytest.raises(ValidationError, match="batched = true needs type = 'measure'"):
        LinkCreate(remote="bob", number=1, type="keep", batched=True)


def _pair_times(network: Network) -> list[list[int]]:
    """Each request's pair times, as counted."""
    times: list[list[int]] = [[] for _ in network.requests]
    for index, session in enumerate(network.requests):
        session.pair_sink = lambda _, __, time_ps, ___, ____, mine=times[index]: mine.append(
            time_ps
        )
    return times


def test_a_request_of_better_priority_does_not_wait_for_a_batch() -> None:
    """Priority holds as pair by pair: once a request of a better priority
    is ready, a batch under way for a worse one delivers what it has
    heralded and the link serves the better request until it is done."""
    data = _scenario(True, 20_000)
    data["requests"][0]["priority"] = 1
    data["requests"].append(
        {"app": "pairs", "src": "alice", "dst": "bob", "pairs": 20, "start_s": 0.1}
    )
    network = Network(parse_scenario(data), 5)
    times = _pair_times(network)
    report = run_network(network)
    assert [request.status for request in report.requests] == ["done", "done"]
    bulk, urgent = times
    assert len(urgent) == 20 and len(bulk) == 20_000
    assert not [t for t in bulk if urgent[0] <= t <= urgent[-1]]
    # Served at once: its 20 pairs take 20 geometric attempt counts of the
    # link's cycle, mean 20 cycle / p and standard deviation
    # sqrt(20 (1 - p)) cycle / p, after the queue's set-up (two one-way
    # delays); within 6 standard deviations of that, and far below the
    # 1,024 pairs of the batch under way it would otherwise wait for.
    link = network.links[0]
    setting = link.settings.setting_for(0.0)
    assert setting is not None
    p = setting.model.success_probability
    cycle = link.station.cycle_ps
    mean, sd = 20 * cycle / p, math.sqrt(20 * (1 - p)) * cycle / p
    assert urgent[-1] - round(0.1e12) <= 2 * link.delay_ps + 1 + mean + 6 * sd
    assert mean + 6 * sd < 1_024 * cycle / p / 4
