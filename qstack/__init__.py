"""qstack: build, run and conformance-test quantum-internet protocol stacks.

The Python API (everything else is internal and may move)::

    import qstack

    report = qstack.run("examples/chain_5.toml", seed=3)      # a file, a dict or a Scenario
    print(report.requests[0].fidelity_mean)

    scenario = qstack.load_scenario("my.toml")                 # validated, or ScenarioError
    registry = qstack.Registry.with_defaults()
    registry.register("routing", "my-routing", MyRouting)       # plug-ins, per run
    report = qstack.run(scenario, registry=registry, trace="run.jsonl")

    network = qstack.Network(scenario)                         # wired, not yet run
    report = qstack.run_network(network)

Running: :func:`run`, :class:`Network`, :func:`run_network`; experiments:
:func:`sweep` (a grid of ``--set`` values and replicas, as a pandas DataFrame).
Scenarios: :func:`load_scenario`, :func:`parse_scenario`, :class:`Scenario`,
:class:`ScenarioError`.
Plug-ins: :class:`Registry`.
Reports: :class:`RunReport`, :class:`LinkReport`, :class:`RequestReport`,
:class:`QkdRequestReport`, :class:`TeleportRequestReport`.
Layer boundaries (the service Protocols a protocol of your own implements or
uses): :class:`PhysicalService`, :class:`LinkService`, :class:`LinkEntity`,
:class:`LinkContext`, :class:`NetworkService`, :class:`NetworkEntity`,
:class:`NetworkContext`, :class:`RoutingStrategy`, :class:`SwapPolicy`,
:class:`PurificationScheme`, :class:`Session` and :class:`SessionSetup`
(applications), :class:`AppHostService`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: Public name -> the module that defines it (imported on first use, so
#: ``import qstack`` stays cheap).
_EXPORTS: dict[str, str] = {
    "run": "qstack.api",
    "sweep": "qstack.experiments",
    "Network": "qstack.network",
    "run_network": "qstack.runner",
    "load_scenario": "qstack.scenario",
    "parse_scenario": "qstack.scenario",
    "Scenario": "qstack.scenario",
    "ScenarioError": "qstack.scenario",
    "Registry": "qstack.registry",
    "RunReport": "qstack.reports",
    "LinkReport": "qstack.reports",
    "RequestReport": "qstack.reports",
    "QkdRequestReport": "qstack.layers.app.qkd",
    "TeleportRequestReport": "qstack.layers.app.teleport",
    "PhysicalService": "qstack.layers.physical.service",
    "LinkService": "qstack.layers.link.service",
    "LinkEntity": "qstack.layers.link.service",
    "LinkContext": "qstack.layers.link.service",
    "NetworkService": "qstack.layers.network.service",
    "NetworkEntity": "qstack.layers.network.service",
    "NetworkContext": "qstack.layers.network.service",
    "RoutingStrategy": "qstack.layers.network.routing",
    "SwapPolicy": "qstack.layers.network.policies",
    "PurificationScheme": "qstack.layers.network.policies",
    "Session": "qstack.layers.app.base",
    "SessionSetup": "qstack.layers.app.service",
    "AppHostService": "qstack.layers.app.service",
}

__all__ = [
    "AppHostService",
    "LinkContext",
    "LinkEntity",
    "LinkReport",
    "LinkService",
    "Network",
    "NetworkContext",
    "NetworkEntity",
    "NetworkService",
    "PhysicalService",
    "PurificationScheme",
    "QkdRequestReport",
    "Registry",
    "RequestReport",
    "RoutingStrategy",
    "RunReport",
    "Scenario",
    "ScenarioError",
    "Session",
    "SessionSetup",
    "SwapPolicy",
    "TeleportRequestReport",
    "__version__",
    "load_scenario",
    "parse_scenario",
    "run",
    "run_network",
    "sweep",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qstack' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from qstack.api import run
    from qstack.experiments import sweep
    from qstack.layers.app.base import Session
    from qstack.layers.app.qkd import QkdRequestReport
    from qstack.layers.app.service import AppHostService, SessionSetup
    from qstack.layers.app.teleport import TeleportRequestReport
    from qstack.layers.link.service import LinkContext, LinkEntity, LinkService
    from qstack.layers.network.policies import PurificationScheme, SwapPolicy
    from qstack.layers.network.routing import RoutingStrategy
    from qstack.layers.network.service import NetworkContext, NetworkEntity, NetworkService
    from qstack.layers.physical.service import PhysicalService
    from qstack.network import Network
    from qstack.registry import Registry
    from qstack.reports import LinkReport, RequestReport, RunReport
    from qstack.runner import run_network
    from qstack.scenario import Scenario, ScenarioError, load_scenario, parse_scenario
