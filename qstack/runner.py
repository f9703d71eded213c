"""Run a scenario and report what happened, in the shape of SCENARIO.md."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from qstack.layers.app.pairs import PairsRequest
from qstack.network import Network
from qstack.scenario import Scenario
from qstack.sim.kernel import ps_to_seconds, seconds_to_ps
from qstack.sim.trace import Tracer

#: Slices of simulated time between progress reports.
PROGRESS_SLICES = 200


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LinkReport(_Report):
    a: str
    b: str
    model: str
    attempts: int
    successes: int


class RequestReport(_Report):
    app: str
    src: str
    dst: str
    status: Literal["done", "error", "expired", "running"]
    error: str | None
    delivered: int
    fidelity_mean: float | None
    latency_mean_s: float | None
    rate_hz: float | None


class RunReport(_Report):
    """The ``qstack run --json`` object."""

    seed: int
    sim_time_s: float
    wall_time_s: float
    events: int
    links: list[LinkReport]
    requests: list[RequestReport]


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

    def all_finished() -> bool:
        """Every request ended and every circuit torn down (memory freed)."""
        return all(request.finished for request in requests) and all(
            entity.state != "serving" for entity in entities
        )

    if progress is None:
        sim.run(until_ps, all_finished)
    else:
        step = max(until_ps // PROGRESS_SLICES, 1)
        horizon = 0
        while horizon < until_ps and not all_finished() and sim.pending:
            horizon = min(horizon + step, until_ps)
            sim.run(horizon, all_finished)
            progress(sim.now / until_ps, time.perf_counter() - started)
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
        requests=[_request_report(request, sim.now) for request in requests],
    )


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    tracer: Tracer | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Build the network of ``scenario`` and run it."""
    return run_network(Network(scenario, seed, tracer), progress)


def _request_report(request: PairsRequest, now: int) -> RequestReport:
    end_ps = request.end_ps if request.end_ps is not None else now
    active_s = ps_to_seconds(end_ps - request.start_ps)
    delivered = request.delivered
    return RequestReport(
        app="pairs",
        src=request.src,
        dst=request.dst,
        status=request.status,
        error=request.error,
        delivered=delivered,
        fidelity_mean=request.fidelity_sum / delivered if delivered else None,
        latency_mean_s=ps_to_seconds(request.latency_sum_ps) / delivered if delivered else None,
        rate_hz=delivered / active_s if active_s > 0 else None,
    )
