"""TRANSITION trace records: every step a run's lifecycle tables take.

A traced run gives each layer entity (and each application session) its own
copies of its lifecycle tables, with an observer that writes one TRANSITION
line per step, so that a trace says which rows of each table the run took
and how often (``qstack report`` draws them). Untraced runs keep the shared
tables and pay nothing.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine

from qstack.fsm.table import FastTable, TransitionObserver, observe_machine
from qstack.messages import TransitionTrace
from qstack.sim.trace import Tracer, TraceRecord


def instance_name(target: Any, default: str) -> str:
    """A short name of what a lifecycle steps: a circuit's or request's id,
    a link request's ``origin#create_id``, a pair's id, else ``default``."""
    for attribute in ("id", "request_id", "name"):
        value = getattr(target, attribute, None)
        if isinstance(value, str):
            return value
    origin, create_id = getattr(target, "origin", None), getattr(target, "create_id", None)
    if isinstance(origin, str) and isinstance(create_id, int):
        return f"{origin}#{create_id}"
    ok = getattr(target, "ok", None)
    pair_id = getattr(ok, "pair_id", None)
    if isinstance(pair_id, int):
        return f"pair {pair_id}"
    return default


def trace_lifecycles(owner: object, node: str, tracer: Tracer) -> None:
    """Make every lifecycle ``owner`` runs (its fast tables and its
    ``transitions`` machines) write TRANSITION lines at ``node`` (a table
    dispatched by another entity, as a session's is by each end's host, is
    recorded at that entity's node). They are records of the run, not
    messages of a layer: layer ``run``; the lifecycle's name says whose."""

    def observer(
        now: int, entity: Any, target: Any, lifecycle: str, source: str, dest: str, trigger: type
    ) -> None:
        where = getattr(entity, "node", None)
        at = where if isinstance(where, str) else node
        if target is entity:  # the entity's own lifecycle: named by where it runs
            peer = getattr(entity, "peer", None)
            instance = f"{at}-{peer}" if isinstance(peer, str) else at
        else:
            instance = instance_name(target, at)
        record = TransitionTrace(
            lifecycle=lifecycle,
            instance=instance,
            source=source,
            trigger=trigger.__name__,
            dest=dest,
        )
        tracer.record(TraceRecord(now, at, "run", "event", record))

    _observe(owner, observer)


def _observe(owner: object, observer: TransitionObserver) -> None:
    if not hasattr(owner, "__dict__"):
        return  # a protocol of slots only keeps its tables to itself
    for cls in type(owner).__mro__:
        for attribute, value in vars(cls).items():
            if isinstance(value, FastTable) and attribute not in vars(owner):
                setattr(owner, attribute, value.observed(observer))
    for value in list(vars(owner).values()):
        if isinstance(value, Machine):
            observe_machine(value, owner, observer)
