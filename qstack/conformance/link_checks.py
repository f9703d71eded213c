"""The link-layer contract (``specs/link.md``) as checks over a run's
observations: one ``check_link_*`` per clause."""

from __future__ import annotations

from collections import defaultdict

from qstack.conformance.checks import FIDELITY_TOLERANCE, Violation
from qstack.conformance.observer import CreateEvent, LinkObservations
from qstack.layers.link.messages import LinkError, LinkOk
from qstack.sim.trace import TraceRecord

RequestKey = tuple[str, int]


def _link_ups(obs: LinkObservations) -> list[tuple[int, TraceRecord]]:
    return [
        (index, record)
        for index, record in enumerate(obs.records)
        if record.direction == "up" and isinstance(record.message, LinkOk | LinkError)
    ]


def _ends(obs: LinkObservations) -> dict[RequestKey, dict[str, int]]:
    """For each request, the time it ended at each node that ended it."""
    creates = {(c.node, c.create_id): c for c in obs.creates}
    ends: dict[RequestKey, dict[str, int]] = defaultdict(dict)
    for _, record in _link_ups(obs):
        message = record.message
        assert isinstance(message, LinkOk | LinkError)
        key = (message.origin, message.create_id)
        create = creates.get(key)
        last = (
            isinstance(message, LinkOk)
            and create is not None
            and create.create.number is not None
            and message.seq + 1 >= create.create.number
        )
        if (isinstance(message, LinkError) or last) and record.node not in ends[key]:
            ends[key][record.node] = record.time_ps
    return ends


def _reporters(obs: LinkObservations) -> dict[RequestKey, set[str]]:
    seen: dict[RequestKey, set[str]] = defaultdict(set)
    for _, record in _link_ups(obs):
        message = record.message
        assert isinstance(message, LinkOk | LinkError)
        seen[(message.origin, message.create_id)].add(record.node)
    return seen


def _short(message: LinkOk | LinkError) -> str:
    if isinstance(message, LinkOk):
        return f"OK({message.origin}#{message.create_id} seq={message.seq})"
    return f"ERROR({message.origin}#{message.create_id} {message.reason})"


def check_link_3_1(obs: LinkObservations) -> list[Violation]:
    """Every CREATE ends (all OKs, ERROR, or cancelled) by its max_time."""
    out: list[Violation] = []
    ends = _ends(obs)
    deadlines = {
        (c.node, c.create_id): c.time_ps + c.create.max_time_ps
        for c in obs.creates
        if c.create.max_time_ps is not None
    }
    created = {(c.node, c.create_id): c.time_ps for c in obs.creates}
    for _, record in _link_ups(obs):
        message = record.message
        assert isinstance(message, LinkOk | LinkError)
        key = (message.origin, message.create_id)
        deadline = deadlines.get(key)
        if deadline is None:
            continue
        if record.node != message.origin:
            # the peer cannot hear of the request before one classical delay
            deadline = max(deadline, created[key] + obs.delay_ps)
        if record.time_ps > deadline:
            out.append(
                Violation(
                    "link/3.1",
                    record.time_ps,
                    record.node,
                    _short(message),
                    f"reported {record.time_ps - deadline} ps after the request's deadline "
                    f"({deadline} ps)",
                )
            )
    for create in obs.creates:
        key = (create.node, create.create_id)
        deadline = deadlines.get(key)
        if deadline is not None and obs.now > deadline and create.node not in ends[key]:
            out.append(
                Violation(
                    "link/3.1",
                    deadline,
                    create.node,
                    f"CREATE({create.node}#{create.create_id})",
                    f"max_time_ps = {create.create.max_time_ps} passed and the request has "
                    "neither all its OKs nor an ERROR",
                )
            )
    return out


def check_link_3_2(obs: LinkObservations) -> list[Violation]:
    """Both ends report the same pair_id, bell_index, seq and time for each pair."""
    out: list[Violation] = []
    per_end: dict[RequestKey, dict[str, list[tuple[TraceRecord, LinkOk]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for _, record in _link_ups(obs):
        if isinstance(record.message, LinkOk):
            ok = record.message
            per_end[(ok.origin, ok.create_id)][record.node].append((record, ok))
    a, b = obs.nodes
    for key, ends in per_end.items():
        for node, reports in ends.items():
            for position, (record, ok) in enumerate(reports):
                if ok.seq != position:
                    out.append(
                        Violation(
                            "link/3.2",
                            record.time_ps,
                            node,
                            _short(ok),
                            f"seq = {ok.seq} for the request's pair number {position} "
                            "at this end (seq counts 0, 1, 2, ...)",
                        )
                    )
                if ok.time_ps != record.time_ps:
                    out.append(
                        Violation(
                            "link/3.2",
                            record.time_ps,
                            node,
                            _short(ok),
                            f"time_ps = {ok.time_ps} but reported at {record.time_ps}",
                        )
                    )
        at_a, at_b = ends.get(a, []), ends.get(b, [])
        for (rec_a, ok_a), (rec_b, ok_b) in zip(at_a, at_b, strict=False):
            mine = (ok_a.pair_id, ok_a.bell_index, ok_a.seq, ok_a.time_ps)
            theirs = (ok_b.pair_id, ok_b.bell_index, ok_b.seq, ok_b.time_ps)
            if mine != theirs:
                late = rec_a if rec_a.time_ps >= rec_b.time_ps else rec_b
                out.append(
                    Violation(
                        "link/3.2",
                        late.time_ps,
                        late.node,
                        _short(ok_a),
                        f"(pair_id, bell_index, seq, time_ps) = {mine} at {a} but {theirs} at {b}",
                    )
                )
        if obs.final and len(at_a) != len(at_b):
            longer = at_a if len(at_a) > len(at_b) else at_b
            record, ok = longer[min(len(at_a), len(at_b))]
            out.append(
                Violation(
                    "link/3.2",
                    record.time_ps,
                    record.node,
                    _short(ok),
                    f"{len(at_a)} OK(s) at {a} but {len(at_b)} at {b} for request "
                    f"{key[0]}#{key[1]}",
                )
            )
    for truth in obs.oks:
        ok = truth.ok
        herald = truth.herald
        if herald is None:
            if ok.qubit is None:
                out.append(
                    Violation(
                        "link/3.2",
                        truth.time_ps,
                        truth.node,
                        _short(ok),
                        f"pair_id = {ok.pair_id}: the station heralded no pair with this id",
                    )
                )
            continue
        if (ok.pair_id, ok.bell_index) != (herald.pair_id, herald.bell_index):
            out.append(
                Violation(
                    "link/3.2",
                    truth.time_ps,
                    truth.node,
                    _short(ok),
                    f"reports pair_id = {ok.pair_id}, bell_index = {ok.bell_index}; the pair "
                    f"in qubit {ok.qubit} is pair {herald.pair_id}, heralded in Bell state "
                    f"{herald.bell_index}",
                )
            )
    return out


def check_link_3_3(obs: LinkObservations) -> list[Violation]:
    """No memory qubit is held by two pairs/holders at once; every OK'd qubit
    is one the reporting end holds."""
    out: list[Violation] = []
    for arm in obs.arms:
        if arm.holder is None or arm.holder == obs.user_holder or arm.slot_has_pair:
            what = (
                "a free qubit"
                if arm.holder is None
                else "a qubit of the upper layer"
                if arm.holder == obs.user_holder
                else "a qubit that still holds a pair"
            )
            out.append(
                Violation(
                    "link/3.3",
                    arm.time_ps,
                    arm.node,
                    f"ATTEMPT(qubit {arm.qubit})",
                    f"attempted into {what} (holder {arm.holder!r})",
                )
            )
    for placement in obs.placements:
        if placement.replaced_other:
            out.append(
                Violation(
                    "link/3.3",
                    placement.time_ps,
                    placement.node,
                    f"HERALD(qubit {placement.qubit})",
                    "a new pair was put into a qubit still holding another pair",
                )
            )
    for truth in obs.oks:
        ok = truth.ok
        if ok.qubit is None:
            continue
        problem = None
        if truth.held_before:
            problem = f"qubit {ok.qubit} was already handed up for an earlier pair still held"
        elif truth.holder != obs.user_holder:
            problem = (
                f"qubit {ok.qubit} is held by {truth.holder!r}, not handed to the upper "
                f"layer ({obs.user_holder!r})"
            )
        elif truth.herald is None or not truth.half_here:
            problem = f"qubit {ok.qubit} does not hold this end's half of a pair"
        if problem is not None:
            out.append(Violation("link/3.3", truth.time_ps, truth.node, _short(ok), problem))
    return out


def check_link_3_4(obs: LinkObservations) -> list[Violation]:
    """OK.fidelity is the true fidelity of the pair and meets min_fidelity."""
    out: list[Violation] = []
    creates = {(c.node, c.create_id): c for c in obs.creates}
    for truth in obs.oks:
        ok = truth.ok
        if truth.true_fidelity is not None and (
            abs(ok.fidelity - min(truth.true_fidelity, 1.0)) > FIDELITY_TOLERANCE
        ):
            out.append(
                Violation(
                    "link/3.4",
                    truth.time_ps,
                    truth.node,
                    _short(ok),
                    f"fidelity = {ok.fidelity:.9f} but the pair's true fidelity with Bell "
                    f"state {ok.bell_index} is {truth.true_fidelity:.9f}",
                )
            )
        create = creates.get((ok.origin, ok.create_id))
        if create is None:
            continue
        wanted = create.create.min_fidelity
        lowest = min(ok.fidelity, truth.true_fidelity if truth.true_fidelity is not None else 1.0)
        if lowest + FIDELITY_TOLERANCE < wanted:
            out.append(
                Violation(
                    "link/3.4",
                    truth.time_ps,
                    truth.node,
                    _short(ok),
                    f"delivered at fidelity {lowest:.6f} < min_fidelity {wanted}",
                )
            )
    return out


def check_link_3_5(obs: LinkObservations) -> list[Violation]:
    """Attempts and OKs for a request only after both ends could have queued it."""
    out: list[Violation] = []
    creates = {(c.node, c.create_id): c for c in obs.creates}
    for truth in obs.oks:
        ok = truth.ok
        create = creates.get((ok.origin, ok.create_id))
        if create is None:
            continue
        earliest = create.time_ps + obs.delay_ps
        start = None if truth.herald is None else truth.herald.stream_start_ps
        if truth.time_ps < earliest or (start is not None and start < earliest):
            when = truth.time_ps if start is None or truth.time_ps < earliest else start
            out.append(
                Violation(
                    "link/3.5",
                    truth.time_ps,
                    truth.node,
                    _short(ok),
                    f"attempts for this pair began at {when} ps, before the peer could know of "
                    f"the request (CREATE at {create.time_ps} ps + {obs.delay_ps} ps delay)",
                )
            )
    return out


def _live(obs: LinkObservations) -> tuple[bool, int]:
    """Whether some request may still be live, and when the last one ended."""
    ends = _ends(obs)
    reporters = _reporters(obs)
    last = 0
    for create in obs.creates:
        key = (create.node, create.create_id)
        ended = ends.get(key, {})
        if create.node not in ended or any(n not in ended for n in reporters.get(key, ())):
            return True, obs.now
        last = max(last, *ended.values())
    return False, last


def check_link_3_6(obs: LinkObservations) -> list[Violation]:
    """After a request ends every qubit it used is freed or handed up."""
    out: list[Violation] = []
    for snap in obs.snapshots:
        for node, holders in snap.holders.items():
            for qubit, holder in enumerate(holders):
                if holder == obs.user_holder and qubit not in snap.user_held[node]:
                    out.append(
                        Violation(
                            "link/3.6",
                            snap.time_ps,
                            node,
                            f"qubit {qubit}",
                            "held for the upper layer without an OK handing it up",
                        )
                    )
    live, last_end = _live(obs)
    quiet = 2 * obs.delay_ps + 2 * obs.cycle_ps + 1
    if obs.snapshots and (obs.final or (not live and obs.now - last_end >= quiet)):
        snap = obs.snapshots[-1]
        for node, holders in snap.holders.items():
            for qubit, holder in enumerate(holders):
                if holder is not None and holder != obs.user_holder:
                    out.append(
                        Violation(
                            "link/3.6",
                            snap.time_ps,
                            node,
                            f"qubit {qubit}",
                            f"still held by {holder!r} after every request ended"
                            + (f" (last at {last_end} ps)" if not obs.final else ""),
                        )
                    )
    return out


def check_link_3_7(obs: LinkObservations) -> list[Violation]:
    """Every CREATE gets an answer: all its OKs or an ERROR (judged at the end)."""
    if not obs.final:
        return []
    out: list[Violation] = []
    ends = _ends(obs)
    reporters = _reporters(obs)
    for create in obs.creates:
        key = (create.node, create.create_id)
        ended = ends.get(key, {})
        for node in sorted({create.node} | reporters.get(key, set())):
            if node not in ended:
                out.append(
                    Violation(
                        "link/3.7",
                        obs.now,
                        node,
                        _create_label(create),
                        "never answered: no ERROR and not all of its OKs, even after CANCEL "
                        "and a long wait",
                    )
                )
    return out


def check_link_3_8(obs: LinkObservations) -> list[Violation]:
    """A request with a window never has more than ``window`` of its kept
    pairs held at an end: after each step, the qubits the layer above holds
    are counted by the request whose OK last handed them up (the layer above
    frees them only between steps, so the count peaks at a step's end)."""
    windows = {
        (c.node, c.create_id): (c, c.create.window)
        for c in obs.creates
        if c.create.window is not None and c.create.type == "keep"
    }
    if not windows:
        return []
    out: list[Violation] = []
    handed: list[tuple[int, str, int, RequestKey]] = [
        (record.time_ps, record.node, record.message.qubit, request)
        for _, record in _link_ups(obs)
        if isinstance(record.message, LinkOk)
        and record.message.qubit is not None
        and (request := (record.message.origin, record.message.create_id)) in windows
    ]
    owner: dict[tuple[str, int], RequestKey] = {}
    reported: set[tuple[RequestKey, str]] = set()
    position = 0
    for snapshot in obs.snapshots:
        while position < len(handed) and handed[position][0] <= snapshot.time_ps:
            _, node, qubit, key = handed[position]
            owner[(node, qubit)] = key
            position += 1
        for node, held in snapshot.user_held.items():
            counts: dict[RequestKey, int] = defaultdict(int)
            for qubit in held:
                holder = owner.get((node, qubit))
                if holder is not None:
                    counts[holder] += 1
            for key, count in counts.items():
                create, window = windows[key]
                if count > window and (key, node) not in reported:
                    reported.add((key, node))
                    out.append(
                        Violation(
                            "link/3.8",
                            snapshot.time_ps,
                            node,
                            _create_label(create),
                            f"{count} of its pairs held here at once, window {window}",
                        )
                    )
    return out


def _create_label(create: CreateEvent) -> str:
    return f"CREATE({create.node}#{create.create_id} number={create.create.number})"
