"""Typed scenario files (TOML or JSON) for qstack.

A scenario file is a public contract (``specs/scenario.md``): users write it
by hand, keep it with their papers and expect it to keep loading. So every
field is validated strictly, every number and name is bounded, and every
problem becomes one line that names the field, the value given and what is
allowed, never a Pydantic traceback.

The package's parts: :mod:`~qstack.scenario.fields` (types and bounds),
:mod:`~qstack.scenario.entries` (run, nodes, links),
:mod:`~qstack.scenario.request` (requests and network options),
:mod:`~qstack.scenario.faults`, :mod:`~qstack.scenario.topology_spec`
(``[topology]``), :mod:`~qstack.scenario.references` (checks across entries),
:mod:`~qstack.scenario.model` (:class:`Scenario`),
:mod:`~qstack.scenario.errors` (the message formatter) and
:mod:`~qstack.scenario.loading` (files and standard input).
"""

from qstack.scenario.default import DEFAULT_SCENARIO_TOML, default_scenario
from qstack.scenario.entries import (
    ABSTRACT_FIELDS,
    LINK_MODELS,
    PHYSICAL_FIELDS,
    LinkSpec,
    NodeSpec,
    RunSettings,
)
from qstack.scenario.errors import ScenarioError
from qstack.scenario.faults import FAULT_KINDS, FaultSpec
from qstack.scenario.loading import (
    STDIN,
    load_scenario,
    parse_scenario,
    read_scenario_document,
    scenario_base_dir,
    scenario_source,
)
from qstack.scenario.model import Scenario
from qstack.scenario.request import (
    BUILTIN_APPS,
    PURIFICATIONS,
    NetworkOptions,
    NetworkSettings,
    RequestSpec,
    StackSettings,
)
from qstack.scenario.topology_spec import TOPOLOGY_KINDS, TopologySpec

__all__ = [
    "ABSTRACT_FIELDS",
    "BUILTIN_APPS",
    "DEFAULT_SCENARIO_TOML",
    "FAULT_KINDS",
    "LINK_MODELS",
    "PHYSICAL_FIELDS",
    "PURIFICATIONS",
    "STDIN",
    "TOPOLOGY_KINDS",
    "FaultSpec",
    "LinkSpec",
    "NetworkOptions",
    "NetworkSettings",
    "NodeSpec",
    "RequestSpec",
    "RunSettings",
    "Scenario",
    "ScenarioError",
    "StackSettings",
    "TopologySpec",
    "default_scenario",
    "load_scenario",
    "parse_scenario",
    "read_scenario_document",
    "scenario_base_dir",
    "scenario_source",
]
