"""Checks that relate entries to each other: names, links, paths, request names, faults.

They run once every entry is valid on its own, on the scenario's lists (the
generated nodes and links included), and return problems located in the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import networkx as nx
from pydantic_core import InitErrorDetails

from qstack.scenario.entries import LinkSpec, NodeSpec
from qstack.scenario.faults import FaultSpec
from qstack.scenario.fields import ERR_VALUE, MAX_TOTAL_QUBITS, problem, quoted
from qstack.scenario.request import NetworkSettings, RequestSpec, default_request_name
from qstack.scenario.topology_spec import Expansion


def unknown_node(value: str, names: Sequence[str]) -> str:
    """Explain an unknown node name, listing the nodes (or a guess when there are many)."""
    close = difflib.get_close_matches(value, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if len(names) <= 12:
        return f"unknown node; nodes are {quoted(names)}{hint}"
    return f"unknown node ({len(names)} nodes are defined){hint}"


def node_problems(
    nodes: Sequence[NodeSpec], expansion: Expansion | None
) -> tuple[list[InitErrorDetails], dict[str, int]]:
    """Unique names (explicit ones, and against generated ones); the total of qubits.

    Also returns each name's first index.
    """
    problems: list[InitErrorDetails] = []
    own = len(nodes) - (len(expansion.nodes) if expansion is not None else 0)
    first: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if node.name not in first:
            first[node.name] = i
        elif i < own:
            reason = f"duplicate node name (also nodes[{first[node.name]}])"
            problems.append(problem(ERR_VALUE, ("nodes", i, "name"), node.name, reason))
        elif expansion is not None:  # generated names are unique among themselves
            rename = (
                "rename one of them"
                if expansion.spec.kind == "file"
                else "rename this node or change topology.prefix"
            )
            reason = f"name clash: {expansion.clash('a node', repr(node.name))}; {rename}"
            j = first[node.name]
            problems.append(problem(ERR_VALUE, ("nodes", j, "name"), node.name, reason))
    total = sum(node.qubits for node in nodes)
    if total > MAX_TOTAL_QUBITS:
        reason = f"the nodes hold {total} qubits together; at most {MAX_TOTAL_QUBITS} are allowed"
        problems.append(problem(ERR_VALUE, ("nodes",), f"{len(nodes)} nodes", reason))
    return problems, first


def link_problems(
    links: Sequence[LinkSpec], names: Sequence[str], expansion: Expansion | None
) -> list[InitErrorDetails]:
    """Links join existing nodes, at most one per pair of nodes."""
    problems: list[InitErrorDetails] = []
    known_names = set(names)
    own = len(links) - (len(expansion.links) if expansion is not None else 0)
    seen: dict[frozenset[str], int] = {}
    for i, link in enumerate(links):
        known = True
        for end in ("a", "b"):
            value = getattr(link, end)
            if value not in known_names:
                known = False
                reason = unknown_node(value, names)
                problems.append(problem(ERR_VALUE, ("links", i, end), value, reason))
        pair = frozenset((link.a, link.b))
        if not known:
            continue
        if pair not in seen:
            seen[pair] = i
            continue
        j = seen[pair]
        if i < own:
            reason = (
                f"duplicate link: links[{j}] already joins {links[j].a!r} and {links[j].b!r}; "
                "at most one link per pair of nodes"
            )
            problems.append(problem(ERR_VALUE, ("links", i, "b"), link.b, reason))
        elif expansion is not None:
            ends = f"between {link.a!r} and {link.b!r}"
            reason = f"duplicate link: {expansion.clash('a link', ends)}; at most one link per pair"
            problems.append(problem(ERR_VALUE, ("links", j, "b"), links[j].b, reason))
    return problems


def components(names: Sequence[str], links: Sequence[LinkSpec]) -> dict[str, int]:
    """Each node's connected component, as an index."""
    graph = nx.Graph()
    graph.add_nodes_from(names)
    graph.add_edges_from((link.a, link.b) for link in links)
    out: dict[str, int] = {}
    for index, members in enumerate(nx.connected_components(graph)):
        out.update(dict.fromkeys(members, index))
    return out


def request_problems(
    requests: Sequence[RequestSpec],
    names: Sequence[str],
    component: dict[str, int],
    links: Sequence[LinkSpec],
    network: NetworkSettings,
) -> list[InitErrorDetails]:
    """Requests name existing, connected nodes; names are unique; app-specific rules.

    ``component`` is empty when the links themselves have problems (then
    connectivity is not judged yet).
    """
    problems: list[InitErrorDetails] = []
    known_names = set(names)
    neighbours = {frozenset((link.a, link.b)) for link in links}
    for i, req in enumerate(requests):
        before = len(problems)
        for field, value in _request_nodes(req):
            if value not in known_names:
                reason = unknown_node(value, names)
                problems.append(problem(ERR_VALUE, ("requests", i, *field), value, reason))
            elif component and req.src in known_names and component[value] != component[req.src]:
                reason = f"not connected to {req.src!r} (no path of links)"
                problems.append(problem(ERR_VALUE, ("requests", i, *field), value, reason))
        ends_ok = len(problems) == before
        if (
            req.app == "bb84"
            and not req.relay
            and ends_ok
            and frozenset((req.src, req.dst)) not in neighbours
        ):
            reason = (
                f"app 'bb84' runs between two neighbours: no link joins {req.src!r} and "
                f"{req.dst!r} (prepare-and-measure BB84 sends its pulses over one fiber; "
                "set relay = true to relay keys through trusted nodes)"
            )
            problems.append(problem(ERR_VALUE, ("requests", i, "dst"), req.dst, reason))
        if req.purification is None and network.purification == "none" and req.purification_rounds:
            reason = (
                "only allowed when purification is not 'none' (this request inherits "
                "purification = 'none' from [network]; set purification here or in [network])"
            )
            loc = ("requests", i, "purification_rounds")
            problems.append(problem(ERR_VALUE, loc, req.purification_rounds, reason))
    return problems + _name_problems(requests)


def _request_nodes(req: RequestSpec) -> list[tuple[tuple[str | int, ...], str]]:
    """Every node a request names, with its location: src, dst and any GHZ members."""
    out: list[tuple[tuple[str | int, ...], str]] = [(("src",), req.src), (("dst",), req.dst)]
    others = enumerate(req.members or [])
    return out + [(("members", k), m) for k, m in others if m not in (req.src, req.dst)]


def _name_problems(requests: Sequence[RequestSpec]) -> list[InitErrorDetails]:
    """Request names (given, or the default ``<app>-<index>``) are unique."""
    problems: list[InitErrorDetails] = []
    owner: dict[str, int] = {}
    for i, req in enumerate(requests):
        name = req.name if req.name is not None else default_request_name(req.app, i)
        if name not in owner:
            owner[name] = i
            continue
        j = owner[name]
        if req.name is not None and requests[j].name is not None:
            reason = f"duplicate request name (also requests[{j}])"
            problems.append(problem(ERR_VALUE, ("requests", i, "name"), name, reason))
        else:
            named, default = (i, j) if req.name is not None else (j, i)
            reason = (
                f"clashes with the default name of requests[{default}] "
                f"(<app>-<index>); name requests[{default}] too, or choose another name"
            )
            problems.append(problem(ERR_VALUE, ("requests", named, "name"), name, reason))
    return problems


def fault_problems(
    faults: Sequence[FaultSpec],
    names: Sequence[str],
    links: Sequence[LinkSpec],
    until_s: float,
) -> list[InitErrorDetails]:
    """Faults hit existing nodes and links, within the run, in an order that makes sense.

    Faults at the same ``at_s`` happen in file order. A node or link goes
    down before it comes up, and does not go down twice without coming up.
    """
    problems: list[InitErrorDetails] = []
    known_names = set(names)
    pairs = {frozenset((link.a, link.b)) for link in links}
    valid: list[int] = []
    for i, fault in enumerate(faults):
        ok = True
        if fault.at_s >= until_s:
            reason = f"must be < run.until_s = {until_s!r} (a fault happens within the run)"
            problems.append(problem(ERR_VALUE, ("faults", i, "at_s"), fault.at_s, reason))
        for field in ("node", "a", "b"):
            value = getattr(fault, field)
            if value is not None and value not in known_names:
                ok = False
                reason = unknown_node(value, names)
                problems.append(problem(ERR_VALUE, ("faults", i, field), value, reason))
        ends = frozenset((fault.a or "", fault.b or ""))
        if ok and fault.node is None and ends not in pairs:
            ok = False
            reason = f"no link joins {fault.a!r} and {fault.b!r}"
            problems.append(problem(ERR_VALUE, ("faults", i, "b"), fault.b, reason))
        if ok:
            valid.append(i)
    return problems + _schedule_problems(faults, valid)


def _schedule_problems(faults: Sequence[FaultSpec], indices: list[int]) -> list[InitErrorDetails]:
    """Down before up, never down twice in a row, for each node and each link."""
    problems: list[InitErrorDetails] = []
    down_since: dict[str, int] = {}
    for i in sorted(indices, key=lambda k: (faults[k].at_s, k)):
        fault = faults[i]
        if fault.kind == "classical_loss":
            continue
        target = fault.target() if fault.node is not None else _link_key(fault)
        going_down = fault.kind.endswith("_down")
        if going_down and target in down_since:
            j = down_since[target]
            reason = (
                f"{fault.target()} is already down then (faults[{j}] at "
                f"{faults[j].at_s!r} s); bring it up first"
            )
            problems.append(problem(ERR_VALUE, ("faults", i, "kind"), fault.kind, reason))
        elif going_down:
            down_since[target] = i
        elif target not in down_since:
            reason = f"{fault.target()} is not down then (no earlier {fault.kind[:-3]}_down)"
            problems.append(problem(ERR_VALUE, ("faults", i, "kind"), fault.kind, reason))
        else:
            del down_since[target]
    return problems


def _link_key(fault: FaultSpec) -> str:
    """One key for a link whichever way round the fault names its ends."""
    ends = sorted((fault.a or "", fault.b or ""))
    return f"link {ends[0]!r}-{ends[1]!r}"
