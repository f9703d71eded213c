"""Sessions that ask for their pairs round by round (``remote_cnot``, ``ghz``, ``sensing``).

Such an application holds the pairs it is given until a multi-qubit
operation has used them, and needs several at once (one per GHZ member, or
a pair beside its data qubits). Asking for all of them in one request
would let the network fill the memories with pairs the application cannot
use yet; so the source issues, per round, one NET_CREATE of one pair per
remote end it needs (:meth:`RoundSession.request`), and the next round
once it can take it. Every request goes through the source's network
service; a request's deadline is what is left of the session's
``max_time_s``.

The base keeps what each end holds (pair id -> qubit), ends the session on
the first NET_ERROR of any of its requests (the source aborts the others),
and frees what an end holds when the session ends there.
"""

from __future__ import annotations

from qstack.fsm.table import Transition
from qstack.layers.app.base import AppHost, Session, fault_rows, timed_out
from qstack.layers.app.service import SessionSetup, SetupError
from qstack.layers.network.messages import NetDone, NetError, NetOk


class RoundSession(Session):
    """A session whose source issues one-pair requests, round by round."""

    def __init__(self, setup: SessionSetup) -> None:
        super().__init__(setup)
        deadline = setup.create.max_time_ps
        self._deadline_ps = None if deadline is None else setup.start_ps + deadline
        self._live: set[str] = set()
        self._held: dict[str, dict[str, int]] = {}
        self._hosts: dict[str, AppHost] = {}
        self._source: AppHost | None = None
        self.rounds = 0
        self.completed = 0
        #: Rounds the session needs (one per pair asked for, unless a subclass adds some).
        self.total_rounds = setup.create.number

    @property
    def delivered(self) -> int:
        """Completed rounds (GHZ states, gates, probes), not pairs."""
        return self.completed

    def complete_round(self, now: int) -> None:
        """One round's product is complete at ``now`` (the last one ends the session)."""
        self.completed += 1
        self.latency_sum_ps += now - self.start_ps
        if self.completed == self.total_rounds:
            self.ended(now)

    # -- at the source ------------------------------------------------------

    def request(self, host: AppHost, now: int, remote: str) -> str:
        """Ask for one pair with ``remote``, within what is left of the deadline
        (once it has passed, the NET_ERROR that follows ends the session)."""
        update: dict[str, object] = {"remote": remote, "number": 1}
        if self._deadline_ps is not None:
            update["max_time_ps"] = max(self._deadline_ps - now, 1)
        self._source = host
        request_id = host.create(now, self, self.create.model_copy(update=update))
        self._live.add(request_id)
        self.request_id = request_id
        return request_id

    # -- what each end holds ---------------------------------------------------

    def hold(self, host: AppHost, pair_id: str, qubit: int) -> None:
        self._hosts[host.node] = host
        self._held.setdefault(host.node, {})[pair_id] = qubit

    def held(self, host: AppHost, pair_id: str) -> int | None:
        return self._held.get(host.node, {}).get(pair_id)

    def take(self, host: AppHost, pair_id: str) -> int:
        """Stop holding ``pair_id``'s qubit (the application now uses it up)."""
        return self._held[host.node].pop(pair_id)

    # -- handlers shared by the round-based sessions --------------------------

    @staticmethod
    def on_request_done(host: AppHost, session: Session, now: int, done: NetDone) -> None:
        assert isinstance(session, RoundSession)
        session._live.discard(done.request_id)

    @staticmethod
    def on_error(host: AppHost, session: Session, now: int, error: NetError) -> None:
        """The first NET_ERROR ends the session: the source aborts its other requests."""
        Session.on_net_error(host, session, now, error)
        RoundSession.on_late_error(host, session, now, error)

    @staticmethod
    def on_late_error(host: AppHost, session: Session, now: int, error: NetError) -> None:
        assert isinstance(session, RoundSession)
        session._live.discard(error.request_id)
        session.wind_up(now)

    def wind_up(self, now: int) -> None:
        """The session has ended (what its ends held is freed): the source
        ends the session's other requests."""
        source = self._source
        live, self._live = sorted(self._live), set()
        if source is not None:
            for request_id in live:
                source.abort(now, request_id, "torn_down", f"the {self.app} session ended")

    def lose(self, host: AppHost, now: int, detail: str) -> None:
        self.fail(host, now, detail)

    def free(self, now: int) -> None:
        """Every end frees what it holds (the session is over everywhere)."""
        for node, held in self._held.items():
            host = self._hosts[node]
            for qubit in held.values():
                host.release(now, qubit)
        self._held.clear()

    def fail(self, host: AppHost, now: int, error: str) -> None:
        """End the session at this end with ``error`` (its table set ``error``)."""
        self.ended(now, error)
        self.wind_up(now)


def require_qubits(setup: SessionSetup, node: str, needed: int, why: str) -> None:
    """Refuse a request whose end ``node`` has fewer than ``needed`` qubits."""
    if setup.hardware is None:
        return
    qubits = setup.hardware.node(node).qubits
    if qubits < needed:
        raise SetupError(
            f"node {node!r} has qubits = {qubits}; this request needs at least {needed} "
            f"there ({why})"
        )


def round_rows(states: tuple[str, ...], ended: tuple[str, ...]) -> tuple[Transition, ...]:
    """Rows every round-based session has: NET_DONE of a request; the first
    NET_ERROR ends it (``expired`` at its deadline); late news after the end
    frees what it brings."""
    return (
        *(Transition(s, NetDone, s, RoundSession.on_request_done) for s in states),
        *(
            row
            for s in states
            for row in (
                Transition(s, NetError, "expired", RoundSession.on_error, timed_out),
                Transition(s, NetError, "error", RoundSession.on_error),
            )
        ),
        *(Transition(s, NetOk, s, Session.release_late) for s in ended),
        *(Transition(s, NetDone, s, Session.ignore) for s in ended),
        *(Transition(s, NetError, s, RoundSession.on_late_error) for s in ended),
        *fault_rows(states),
    )
