"""Run a scenario and report what happened, in the shape of SCENARIO.md."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from qstack.layers.app.base import SessionRecord
from qstack.layers.app.qkd import QkdSession
from qstack.layers.app.teleport import TeleportSession
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


class QkdRequestReport(RequestReport):
    """A ``qkd`` request: the key it produced (SCENARIO.md's qkd fields)."""

    sifted_bits: int
    qber: float | None
    qber_z: float | None
    qber_x: float | None
    leaked_bits: int
    ec_efficiency: float | None
    secret_key_bits: int
    key_rate_bps: float | None
    key_bits_per_pair: float | None
    keys_match: bool | None
    aborted: bool
    abort_reason: str | None


class TeleportRequestReport(RequestReport):
    """A ``teleport`` request: how faithfully the states arrived."""

    teleported: int
    teleport_fidelity_mean: float | None


AnyRequestReport = QkdRequestReport | TeleportRequestReport | RequestReport


class RunReport(_Report):
    """The ``qstack run --json`` object."""

    seed: int
    sim_time_s: float
    wall_time_s: float
    events: int
    links: list[LinkReport]
    requests: list[AnyRequestReport]


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

    while True:
        if progress is None:
            sim.run(until_ps, all_finished)
        else:
            step = max(until_ps // PROGRESS_SLICES, 1)
            horizon = sim.now
            while horizon < until_ps and not all_finished() and sim.pending:
                horizon = min(horizon + step, until_ps)
                sim.run(horizon, all_finished)
                progress(sim.now / until_ps, time.perf_counter() - started)
        if sim.pending or all_finished() or not _abort_stalled(network):
            break
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
                "(set cutoff_s, or give the nodes more qubits)",
            )
            aborted = True
    return aborted


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    tracer: Tracer | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Build the network of ``scenario`` and run it."""
    return run_network(Network(scenario, seed, tracer), progress)


def _request_report(request: SessionRecord, now: int) -> AnyRequestReport:
    end_ps = request.end_ps if request.end_ps is not None else now
    active_s = ps_to_seconds(end_ps - request.start_ps)
    delivered = request.delivered
    base = RequestReport(
        app=request.app,
        src=request.src,
        dst=request.dst,
        status=request.status,
        error=request.error,
        delivered=delivered,
        fidelity_mean=request.fidelity_mean,
        latency_mean_s=ps_to_seconds(request.latency_sum_ps) / delivered if delivered else None,
        rate_hz=delivered / active_s if active_s > 0 else None,
    )
    common = base.model_dump()
    if isinstance(request, QkdSession):
        return QkdRequestReport(
            **common,
            sifted_bits=request.sifted_bits,
            qber=request.qber,
            qber_z=request.qber_z,
            qber_x=request.qber_x,
            leaked_bits=request.leaked_bits,
            ec_efficiency=request.ec_efficiency,
            secret_key_bits=request.secret_key_bits,
            key_rate_bps=request.secret_key_bits / active_s if active_s > 0 else None,
            key_bits_per_pair=request.secret_key_bits / delivered if delivered else None,
            keys_match=request.keys_match,
            aborted=request.aborted,
            abort_reason=request.abort_reason,
        )
    if isinstance(request, TeleportSession):
        return TeleportRequestReport(
            **common,
            teleported=len(request.teleport_fidelities),
            teleport_fidelity_mean=request.teleport_fidelity_mean,
        )
    return base
