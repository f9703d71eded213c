"""The whole scenario: its parts, the generated topology, and the checks across entries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import networkx as nx
from pydantic import (
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails

from qstack.scenario import references
from qstack.scenario.entries import LinkSpec, NodeSpec, RunSettings
from qstack.scenario.errors import relocate
from qstack.scenario.faults import FaultSpec
from qstack.scenario.fields import (
    CONFIG,
    ERR_MISSING,
    MAX_FAULTS,
    MAX_LINKS,
    MAX_NODES,
    MAX_REQUESTS,
    Seed,
    problem,
    raise_problems,
)
from qstack.scenario.request import (
    NetworkOptions,
    NetworkSettings,
    RequestSpec,
    StackSettings,
    default_request_name,
)
from qstack.scenario.topology_spec import Expansion, TopologySpec, expand_topology


class Scenario(BaseModel):
    """A whole scenario file: seed, run settings, topology, requests, faults, network options.

    ``nodes`` and ``links`` hold every node and link, the ones a ``[topology]``
    generated included (after the explicit ones); ``topology`` keeps the spec.
    """

    model_config = CONFIG

    seed: Seed = 0
    run: RunSettings = Field(default_factory=RunSettings)
    nodes: list[NodeSpec] = Field(default_factory=list, max_length=MAX_NODES)
    links: list[LinkSpec] = Field(default_factory=list, max_length=MAX_LINKS)
    requests: list[RequestSpec] = Field(min_length=1, max_length=MAX_REQUESTS)
    faults: list[FaultSpec] = Field(default_factory=list, max_length=MAX_FAULTS)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    stack: StackSettings = Field(default_factory=StackSettings)
    topology: TopologySpec | None = None

    # How many of nodes/links (at the end of each list) the topology generated;
    # a dump leaves them out, since loading the dump generates them again.
    _generated: tuple[int, int] = PrivateAttr(default=(0, 0))

    @model_validator(mode="wrap")
    @classmethod
    def _expand_and_check(
        cls, data: Any, handler: ModelWrapValidatorHandler[Self], info: ValidationInfo
    ) -> Self:
        """Generate the topology's nodes and links, validate all, then check references.

        Cross-reference checks (duplicates, unknown nodes, connectivity, the
        fault schedule) run once every entry is valid on its own.
        """
        if not isinstance(data, Mapping):
            return handler(data)  # an instance, or a type error pydantic reports
        data = dict(data)
        context = info.context if isinstance(info.context, Mapping) else {}
        problems: list[InitErrorDetails] = []
        expansion: Expansion | None = None
        has_topology = data.get("topology") is not None
        if has_topology:
            expansion, problems = expand_topology(data, context.get("base_dir"))
            data["topology"] = expansion.spec if expansion is not None else None
        if not problems:
            problems += _merge_generated(data, expansion, has_topology)
        try:
            scenario = handler(data)
        except ValidationError as exc:
            raise_problems(cls.__name__, [*problems, *relocate(exc, (), Scenario)])
            raise
        raise_problems(cls.__name__, problems)
        raise_problems(cls.__name__, scenario._reference_problems(expansion))
        if expansion is not None:
            scenario._generated = (len(expansion.nodes), len(expansion.links))
        return scenario

    def _reference_problems(self, expansion: Expansion | None) -> list[InitErrorDetails]:
        """Names are unique, entries name existing nodes, requests can be routed, faults fit."""
        problems, first = references.node_problems(self.nodes, expansion)
        names = list(first)
        link_problems = references.link_problems(self.links, names, expansion)
        problems += link_problems
        component = (
            references.components(names, self.links) if not problems else {}
        )  # connectivity is only judged on a valid set of nodes and links
        problems += references.request_problems(
            self.requests, names, component, self.links, self.network
        )
        if not link_problems:
            problems += references.fault_problems(self.faults, names, self.links, self.run.until_s)
        return problems

    @model_serializer(mode="wrap")
    def _dump_explicit(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out generated nodes and links: loading the dump generates them again."""
        data: dict[str, Any] = handler(self)
        gen_nodes, gen_links = self._generated
        if self.topology is not None:
            for key, count in (("nodes", gen_nodes), ("links", gen_links)):
                entries = data.get(key)
                if isinstance(entries, list) and count:
                    data[key] = entries[: len(entries) - count]
        return data

    def network_options(self, request_index: int) -> NetworkOptions:
        """The network-layer options of ``requests[request_index]``: [network] plus overrides."""
        return self.network.options_for(self.requests[request_index])

    def request_name(self, request_index: int) -> str:
        """The name of ``requests[request_index]``: as given, else ``<app>-<index>``."""
        request = self.requests[request_index]
        return request.name or default_request_name(request.app, request_index)

    def faults_in_order(self) -> list[FaultSpec]:
        """The faults by time; faults at the same time in file order."""
        return sorted(self.faults, key=lambda fault: fault.at_s)

    def graph(self) -> nx.Graph:
        """All nodes and links as an undirected networkx graph (``length_km`` on edges)."""
        g = nx.Graph()
        g.add_nodes_from(node.name for node in self.nodes)
        g.add_edges_from((link.a, link.b, {"length_km": link.length_km}) for link in self.links)
        return g


def _merge_generated(
    data: dict[str, Any], expansion: Expansion | None, has_topology: bool
) -> list[InitErrorDetails]:
    """Append the generated nodes and links to the explicit ones; check the totals."""
    problems: list[InitErrorDetails] = []
    for key, minimum in (("nodes", 2), ("links", 1)):
        if key not in data and not has_topology:
            problems.append(problem(ERR_MISSING, (key,), None, "missing (required)"))
            continue
        given = data.get(key, [])
        if not isinstance(given, list) or (has_topology and expansion is None):
            continue  # a type error for pydantic, or totals not known yet
        extra: list[NodeSpec] | list[LinkSpec] = []
        if expansion is not None:
            extra = expansion.nodes if key == "nodes" else expansion.links
            data[key] = [*given, *extra]
        total = len(given) + len(extra)
        if total < minimum:
            where = (
                f" in total ({len(given)} in [[{key}]] + {len(extra)} from [topology])"
                if has_topology
                else f" ({total} given)"
            )
            reason = f"must have at least {minimum} entries{where}"
            problems.append(problem(ERR_MISSING, (key,), None, reason))
    return problems
