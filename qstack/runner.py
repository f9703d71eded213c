"""Run a network and report what happened, in the shape of SCENARIO.md."""

from __future__ import annotations

import time
from collections.abc import Callable

from qstack.layers.link.service import LinkLayerFactory
from qstack.layers.network.service import NetworkLayerFactory
from qstack.network import Network
from qstack.registry import Registry
from qstack.reports import LinkReport, RunReport
from qstack.scenario import Scenario
from qstack.sim.kernel import ps_to_seconds, seconds_to_ps
from qstack.sim.trace import Tracer

#: Slices of simulated time between progress reports.
PROGRESS_SLICES = 200

Progress = Callable[[float, float], None]


def run_network(network: Network, progress: Progress | None = None) -> RunReport:
    """Run until every request has finished or ``run.until_s`` has passed.

    ``progress(sim_fraction, wall_seconds)`` is called between slices of
    simulated time when given.
    """
    started = time.perf_counter()
    sim = network.sim
    until_ps = seconds_to_ps(network.scenario.run.until_s)
    requests = network.requests

    entities = list(network.network_entities.values())

    serving_hint = 0
    first_open = 0
    request_count = len(requests)

    def all_finished() -> bool:
        """Every request ended and every circuit torn down (memory freed).
        Asked after every event: the first request not known to have ended
        (a request that has ended stays so, so the pointer only moves on),
        then a scan from the entity last seen serving (tear-down frees the
        nodes of a long path one by one: the scan stays short)."""
        nonlocal serving_hint, first_open
        while first_open < request_count:
            if not requests[first_open].finished:
                return False
            first_open += 1
        count = len(entities)
        for step in range(count):
            index = (serving_hint + step) % count
            if entities[index].state == "serving":
                serving_hint = index
                return False
        return True

    try:
        while True:
            if progress is None:
                sim.run(until_ps, all_finished)
            else:
                step = max(until_ps // PROGRESS_SLICES, 1)
                horizon = sim.now
                while horizon < until_ps and not all_finished() and sim.pending:
                    horizon = min(horizon + step, until_ps)
                    sim.run(horizon, all_finished, until_ps)
                    progress(sim.now / until_ps, time.perf_counter() - started)
            if sim.pending or all_finished() or not _abort_stalled(network):
                break
    except KeyboardInterrupt:
        raise RunInterrupted(report_of(network, started)) from None
    return report_of(network, started)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: ``report`` is what the run had done by then
    (unfinished requests are ``running``)."""

    def __init__(self, report: RunReport) -> None:
        super().__init__(f"interrupted at simulated {report.sim_time_s:.6g} s")
        self.report = report


def report_of(network: Network, started: float) -> RunReport:
    """The run's report as of now (``started``: its wall-clock start)."""
    sim = network.sim
    return RunReport(
        seed=network.seed,
        sim_time_s=ps_to_seconds(sim.now),
        wall_time_s=time.perf_counter() - started,
        events=sim.events,
        links=[
            LinkReport(
                a=link.spec.a,
                b=link.spec.b,
                model=link.spec.model,
                attempts=link.station.attempts_until(sim.now),
                successes=link.station.successes,
            )
            for link in network.links
        ],
        requests=[
            request.report(
                sim.now,
                network.network_entities[request.src].route_of(request.request_id)
                if request.request_id
                else None,
            )
            for request in network.requests
        ],
        faults=list(network.faults),
    )


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    tracer: Tracer | None = None,
    progress: Progress | None = None,
    registry: Registry | None = None,
    link_layer: LinkLayerFactory | None = None,
    network_layer: NetworkLayerFactory | None = None,
) -> RunReport:
    """Build the network of ``scenario`` and run it."""
    network = Network(scenario, seed, tracer, registry, link_layer, network_layer)
    return run_network(network, progress)


def _abort_stalled(network: Network) -> bool:
    """Nothing is left to happen but requests are unfinished: their circuits
    hold memory that the others wait for. End them explicitly (which frees
    that memory) rather than report them as running forever."""
    now = network.sim.now
    aborted = False
    for request in network.requests:
        if not request.finished and request.request_id:
            network.network_entities[request.src].abort(
                now,
                request.request_id,
                "stalled",
                "no event could make progress: circuits hold the memory others wait for "
                "(set [network] reservation = true, or cutoff_s, or give the nodes more qubits)",
            )
            aborted = True
    return aborted
