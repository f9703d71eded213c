"""The network-layer contract (``specs/network.md``) as checks over a
run's observations: one ``check_net_*`` per clause."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from qstack.conformance.checks import FIDELITY_TOLERANCE, Violation
from qstack.conformance.observer import NetObservations
from qstack.layers.network.messages import (
    NetCreate,
    NetDone,
    NetError,
    NetExpire,
    NetOk,
    NetOkBatch,
)
from qstack.messages import FaultTrace
from qstack.sim.trace import TraceRecord


def _net_ups(obs: NetObservations) -> list[TraceRecord]:
    """NET_OK, NET_ERROR and NET_DONE going up, a NET_OK_BATCH as its NET_OKs
    (each at its pair's time, as the per-pair path reports them)."""
    ups: list[TraceRecord] = []
    for r in obs.records:
        if r.direction != "up":
            continue
        if isinstance(r.message, NetOk | NetError | NetDone):
            ups.append(r)
        elif isinstance(r.message, NetOkBatch):
            ups.extend(replace(r, time_ps=ok.time_ps, message=ok) for ok in r.message.oks())
    return ups


def _net_ends(obs: NetObservations) -> dict[str, dict[str, tuple[int, str]]]:
    """Per request id: node -> (time, "done" | "error") of its first ending."""
    ends: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
    for record in _net_ups(obs):
        message = record.message
        if isinstance(message, NetDone | NetError):
            how = "done" if isinstance(message, NetDone) else "error"
            ends[message.request_id].setdefault(record.node, (record.time_ps, how))
    return ends


def check_net_4_1(obs: NetObservations) -> list[Violation]:
    """Every NET_CREATE ends in NET_DONE at both ends or NET_ERROR within max_time."""
    out: list[Violation] = []
    ends = _net_ends(obs)
    reporters: dict[str, set[str]] = defaultdict(set)
    for record in _net_ups(obs):
        reporters[record.message.request_id].add(record.node)  # type: ignore[attr-defined]
    for create in obs.creates:
        max_time = create.create.max_time_ps
        deadline = None if max_time is None else create.time_ps + max_time
        ended = ends.get(create.request_id, {})
        src, dst = create.node, create.create.remote
        must = {src} | reporters.get(create.request_id, set())
        if ended.get(src, (0, ""))[1] == "done":
            must.add(dst)
        # the far end cannot hear before one end-to-end delay what the
        # source did by the deadline
        limits = {
            node: None if deadline is None else deadline + (0 if node == src else obs.grace_ps)
            for node in obs.nodes
        }
        for node in sorted(must):
            limit = limits.get(node, deadline)
            if node in ended:
                when, _ = ended[node]
                if limit is not None and when > limit:
                    out.append(
                        Violation(
                            "net/4.1",
                            when,
                            node,
                            f"NET_CREATE {create.request_id}",
                            f"ended {when - limit} ps after its deadline ({limit} ps)",
                        )
                    )
            elif limit is not None and obs.now > limit:
                out.append(
                    Violation(
                        "net/4.1",
                        limit,
                        node,
                        f"NET_CREATE {create.request_id}",
                        "max_time_ps passed with neither NET_DONE nor NET_ERROR here",
                    )
                )
        for record in _net_ups(obs):
            message = record.message
            if (
                isinstance(message, NetOk)
                and message.request_id == create.request_id
                and limits.get(record.node) is not None
                and record.time_ps > (limits.get(record.node) or 0)
            ):
                out.append(
                    Violation(
                        "net/4.1",
                        record.time_ps,
                        record.node,
                        f"NET_OK {message.pair_id}",
                        f"delivered after the request's deadline ({limits.get(record.node)} ps)",
                    )
                )
    return out


def check_net_4_2(obs: NetObservations) -> list[Violation]:
    """Both ends report the same set of pair_ids (for requests done at both ends)."""
    out: list[Violation] = []
    ends = _net_ends(obs)
    ids: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    expired: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record in _net_ups(obs):
        message = record.message
        if isinstance(message, NetOk):
            ids[message.request_id][record.node].append(message.pair_id)
    for record in obs.records:
        message = record.message
        if record.direction == "up" and isinstance(message, NetExpire):
            expired[message.request_id][record.node].add(message.pair_id)
    for create in obs.creates:
        src, dst = create.node, create.create.remote
        per_node = ids.get(create.request_id, {})
        for node, reported in per_node.items():
            if len(set(reported)) != len(reported):
                out.append(
                    Violation(
                        "net/4.2",
                        obs.now,
                        node,
                        f"NET_CREATE {create.request_id}",
                        "the same pair_id was reported twice at one end",
                    )
                )
        ended = ends.get(create.request_id, {})
        if ended.get(src, (0, ""))[1] == "done" and ended.get(dst, (0, ""))[1] == "done":
            taken_back = expired.get(create.request_id, {})
            at_src = set(per_node.get(src, [])) - taken_back.get(src, set())
            at_dst = set(per_node.get(dst, [])) - taken_back.get(dst, set())
            if at_src != at_dst:
                only_src = sorted(at_src - at_dst)[:3]
                only_dst = sorted(at_dst - at_src)[:3]
                out.append(
                    Violation(
                        "net/4.2",
                        max(ended[src][0], ended[dst][0]),
                        dst,
                        f"NET_CREATE {create.request_id}",
                        f"pair ids differ: only at {src}: {only_src}; only at {dst}: {only_dst}",
                    )
                )
    return out


def check_net_4_3(obs: NetObservations) -> list[Violation]:
    """Every request's memory is freed when it ends (judged once all have ended)."""
    if not obs.final:
        return []
    ends = _net_ends(obs)
    if any(c.node not in ends.get(c.request_id, {}) for c in obs.creates):
        return []  # some request never ended: net/4.1 says so
    out: list[Violation] = []
    for node, holders in obs.holders.items():
        for qubit, holder in enumerate(holders):
            if holder is not None:
                out.append(
                    Violation(
                        "net/4.3",
                        obs.now,
                        node,
                        f"qubit {qubit}",
                        f"still held by {holder!r} after every request ended",
                    )
                )
    return out


def check_net_4_4(obs: NetObservations) -> list[Violation]:
    """Delivered pairs are Phi+ after correction: bell_index 0, the
    destination's qubit in the Bell state a noiseless run would give Phi+
    (its correction applied), and the true fidelity with that state."""
    out: list[Violation] = []
    for truth in obs.oks:
        ok = truth.ok
        if ok.bell_index != 0:
            out.append(
                Violation(
                    "net/4.4",
                    truth.time_ps,
                    truth.node,
                    f"NET_OK {ok.pair_id}",
                    f"bell_index = {ok.bell_index}: end-to-end pairs are delivered as Phi+ (0)",
                )
            )
        if truth.node == ok.dst and truth.reference_index not in (None, 0):
            out.append(
                Violation(
                    "net/4.4",
                    truth.time_ps,
                    truth.node,
                    f"NET_OK {ok.pair_id}",
                    f"the pair is in Bell state {truth.reference_index}, not Phi+: the "
                    "destination delivered it without the right Pauli-frame correction",
                )
            )
        if truth.fidelity is not None and abs(truth.fidelity - ok.fidelity) > FIDELITY_TOLERANCE:
            out.append(
                Violation(
                    "net/4.4",
                    truth.time_ps,
                    truth.node,
                    f"NET_OK {ok.pair_id}",
                    f"fidelity = {ok.fidelity:.9f} but the pair's true fidelity with Phi+ "
                    f"(after the destination's correction) is {truth.fidelity:.9f}",
                )
            )
    return out


def check_net_4_5(obs: NetObservations) -> list[Violation]:
    """No delivered pair is older than the request's cutoff."""
    out: list[Violation] = []
    cutoffs = {c.request_id: c.create.cutoff_ps for c in obs.creates}
    for truth in obs.oks:
        cutoff = cutoffs.get(truth.ok.request_id)
        if cutoff is None or truth.birth_ps is None:
            continue
        age = truth.time_ps - truth.birth_ps
        if age > cutoff:
            out.append(
                Violation(
                    "net/4.5",
                    truth.time_ps,
                    truth.node,
                    f"NET_OK {truth.ok.pair_id}",
                    f"delivered at age {age} ps > cutoff_ps {cutoff}",
                )
            )
    return out


def check_net_4_6(obs: NetObservations) -> list[Violation]:
    """A kept pair handed up is entangled across the request's two ends: its
    other half is held at the other end, unless that end was given the pair
    first (its application may have used it up since)."""
    reports: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for truth in obs.oks:
        reports[truth.ok.pair_id].append((truth.record, truth.node))
    out: list[Violation] = []
    for truth in obs.oks:
        if truth.entangled is not False:
            continue
        earlier = reports[truth.ok.pair_id]
        if any(node != truth.node and record < truth.record for record, node in earlier):
            continue
        out.append(
            Violation(
                "net/4.6",
                truth.time_ps,
                truth.node,
                f"NET_OK {truth.ok.pair_id}",
                f"qubit {truth.ok.qubit} is not entangled with the other end any more "
                "(its other half was lost: freed, or its node failed)",
            )
        )
    return out


def check_net_4_7(obs: NetObservations) -> list[Violation]:
    """Each end of a request ends it once: NET_DONE or NET_ERROR, never both."""
    out: list[Violation] = []
    first: dict[tuple[str, str], str] = {}
    for record in _net_ups(obs):
        message = record.message
        if not isinstance(message, NetDone | NetError):
            continue
        key = (message.request_id, record.node)
        if key in first:
            out.append(
                Violation(
                    "net/4.7",
                    record.time_ps,
                    record.node,
                    f"request {message.request_id}",
                    f"{message.kind} after {first[key]}: the request had ended here",
                )
            )
        else:
            first[key] = message.kind
    return out


def check_net_4_9(obs: NetObservations) -> list[Violation]:
    """No NET_ERROR carries ``busy``: refusals for memory stay inside the layer."""
    return [
        Violation(
            "net/4.9",
            record.time_ps,
            record.node,
            f"NET_ERROR {record.message.request_id}",
            "reported busy to the application (the source should have tried again)",
        )
        for record in _net_ups(obs)
        if isinstance(record.message, NetError) and record.message.reason == "busy"
    ]


def check_net_4_8(obs: NetObservations) -> list[Violation]:
    """A node that is down reports nothing and holds nothing until it is
    back: no primitive goes up there from its failure on, but the failure's
    own NET_ERRORs (at that instant, to its applications) and the NET_ERROR
    that refuses a NET_CREATE issued there."""
    out: list[Violation] = []
    down_since: dict[str, int] = {}
    refused: set[tuple[str, int]] = set()  # NET_CREATEs issued at a down node
    for record in obs.records:
        message = record.message
        if isinstance(message, FaultTrace) and message.node is not None:
            if message.fault == "node_down":
                down_since[message.node] = record.time_ps
            else:
                down_since.pop(message.node, None)
            continue
        since = down_since.get(record.node)
        if since is None:
            continue
        if record.direction == "down" and isinstance(message, NetCreate):
            refused.add((record.node, record.time_ps))
        elif record.direction == "up":
            if isinstance(message, NetError) and (
                record.time_ps == since or (record.node, record.time_ps) in refused
            ):
                continue
            out.append(
                Violation(
                    "net/4.8",
                    record.time_ps,
                    record.node,
                    type(message).__name__,
                    f"reported while the node is down (it failed at {since} ps)",
                )
            )
    for node in down_since:
        held = [q for q, holder in enumerate(obs.holders.get(node, ())) if holder is not None]
        if held:
            out.append(
                Violation(
                    "net/4.8",
                    obs.now,
                    node,
                    f"qubits {held[:5]}",
                    "held at a node that is down (its memory was lost)",
                )
            )
    return out
