"""``qstack.run``: one call from a scenario to its report."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from typing import IO, Any

from qstack.layers.link.service import LinkLayerFactory
from qstack.layers.network.service import NetworkLayerFactory
from qstack.network import Network
from qstack.registry import Factory, Registry
from qstack.reports import RunReport
from qstack.runner import Progress, run_network
from qstack.scenario import Scenario, load_scenario, parse_scenario
from qstack.sim.trace import JsonLinesTracer, Tracer

ScenarioSource = Scenario | Mapping[str, Any] | str | os.PathLike[str]
"""A scenario: a loaded one, its document as a dict, or a file's path."""

TraceTarget = Tracer | IO[str] | str | os.PathLike[str]
"""Where a run's message trace goes: a tracer, an open text file, or a path."""

PairsTarget = IO[str] | str | os.PathLike[str]
"""Where a run's per-pair record goes (CSV): an open text file, or a path."""


def scenario_of(source: ScenarioSource) -> Scenario:
    """The validated scenario behind ``source`` (``ScenarioError`` if it is bad)."""
    if isinstance(source, Scenario):
        return source
    if isinstance(source, Mapping):
        return parse_scenario(dict(source), "<dict>")
    return load_scenario(source)


def run(
    scenario: ScenarioSource,
    *,
    seed: int | None = None,
    overrides: Mapping[str, object] | None = None,
    registry: Registry | None = None,
    plugins: Iterable[Factory] = (),
    link_layer: LinkLayerFactory | None = None,
    network_layer: NetworkLayerFactory | None = None,
    trace: TraceTarget | None = None,
    progress: Progress | None = None,
    pairs: PairsTarget | None = None,
) -> RunReport:
    """Build the network of ``scenario`` and run it to its report.

    ``seed`` replaces the scenario's; ``overrides`` set keys as
    ``qstack run --set`` does (``{"links[*].length_km": 50}``, validated like
    a file); ``registry`` resolves the plug-ins the
    scenario names (default: the built-ins and installed entry points), and
    ``plugins`` are classes added to it for this run, each under the kind
    and name it declares (see :func:`qstack.registry.plugin_identity`);
    ``link_layer`` / ``network_layer`` put a protocol class on every link /
    node; ``trace`` receives every primitive and peer message; ``pairs``
    receives one CSV row per delivered pair (``qstack.pairlog.PAIR_COLUMNS``).
    """
    if overrides:
        from qstack.experiments import scenario_with_overrides

        loaded = scenario_with_overrides(scenario, overrides)
    else:
        loaded = scenario_of(scenario)
    chosen = registry if registry is not None else Registry.with_defaults()
    for factory in plugins:
        chosen.register_class(factory)
    with ExitStack() as stack:
        tracer: Tracer | None
        if trace is None or isinstance(trace, Tracer):
            tracer = trace
        elif isinstance(trace, str | os.PathLike):
            tracer = JsonLinesTracer(stack.enter_context(open(trace, "w", encoding="utf-8")))
        else:
            tracer = JsonLinesTracer(trace)
        network = Network(
            loaded, seed, tracer, chosen, link_layer, network_layer, keep_pair_records=False
        )
        if pairs is not None:
            from qstack.pairlog import PairLog

            if isinstance(pairs, str | os.PathLike):
                pairs = stack.enter_context(open(pairs, "w", encoding="utf-8", newline=""))
            PairLog(pairs).attach(network.requests)
        return run_network(network, progress)
