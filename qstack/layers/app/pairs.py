"""The ``pairs`` application: ask for end-to-end pairs, record, free at once.

It is the simplest user of the network service and the one the benchmarks
and validation tests use: every delivered pair's true fidelity and delivery
times are recorded, and both ends free their qubits as soon as the pair is
reported, so the application never holds memory.
"""

from __future__ import annotations

from qstack.fsm.table import StateTable, Transition
from qstack.layers.app.base import AppHost, Session, common_rows, other_end_done
from qstack.layers.network.messages import NetDone, NetError, NetOk, NetOkBatch


class PairsSession(Session):
    """A ``pairs`` session. A pair counts as delivered once both ends have
    reported it (matched by pair id); its fidelity is the one the source
    reported, its latency runs from the request's start to the later of the
    two reports."""

    app = "pairs"
    takes_batches = True

    @staticmethod
    def on_pair(host: AppHost, session: Session, now: int, ok: NetOk) -> None:
        if ok.qubit is not None:
            host.release(now, ok.qubit)
        session.count(host, now, ok)

    @staticmethod
    def on_batch(host: AppHost, session: Session, now: int, batch: NetOkBatch) -> None:
        session.count_batch(host, now, batch)

    @staticmethod
    def on_done(host: AppHost, session: Session, now: int, done: NetDone) -> None:
        session.ends_done += 1
        session.ended(now)


PAIRS_LIFECYCLE = StateTable(
    name="pairs session",
    states=("running", "done", "error", "expired"),
    initial="running",
    transitions=(
        Transition("running", NetOk, "running", PairsSession.on_pair),
        Transition("running", NetOkBatch, "running", PairsSession.on_batch),
        Transition("running", NetDone, "done", PairsSession.on_done, other_end_done),
        Transition("running", NetDone, "running", Session.note_end_done),
        *common_rows(("running",)),
        *(Transition(s, NetOk, s, PairsSession.on_pair) for s in ("error", "expired")),
        *(Transition(s, NetOkBatch, s, PairsSession.on_batch) for s in ("error", "expired")),
        *(
            Transition(s, message, s, Session.ignore)
            for s in ("error", "expired")
            for message in (NetDone, NetError)
        ),
        Transition("done", NetError, "done", Session.ignore),
    ),
)
PairsSession.table = PAIRS_LIFECYCLE.fast()
