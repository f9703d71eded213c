"""Applications on top of the network service.

Each node has one :class:`AppHost`, the network layer's user. A request in
a scenario becomes a *session* of one application (``pairs``, ``qkd``,
``teleport``, or a plug-in); the host hands every primitive of a request to
its session's lifecycle table, with itself (that end's host) as the entity.
A session keeps the two ends' states apart: an end acts only on what its
node was told by its network layer or by the other end's messages, which
travel over the classical network with its real delay.

Lifecycles: the host's own (up or down; a ``transitions`` machine, one per
node) and each session's (a fast table per application, declared next to
its class; handlers are ``handler(host, session, now, event)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

from qstack.fsm.table import FastTable, StateTable, Transition, fire
from qstack.hardware.memory import Memory
from qstack.layers.app.service import AppMessage, QubitTruth, SessionSetup
from qstack.layers.link.messages import CreateType
from qstack.layers.network.messages import (
    NetCreate,
    NetDone,
    NetError,
    NetErrorReason,
    NetExpire,
    NetOk,
    NetOkBatch,
)
from qstack.layers.network.service import NetworkService
from qstack.quantum.store import QubitRegister
from qstack.reports import RequestReport
from qstack.sim.kernel import ps_to_seconds

SessionStatus = Literal["running", "done", "error", "expired"]
#: The states in which a session has ended (its report's status).
ENDED: tuple[SessionStatus, ...] = ("done", "error", "expired")

SendApp = Callable[[str, str, AppMessage], None]
_Item = TypeVar("_Item")
PairSink = Callable[["Session", str, int, float, int], None]
"""Told of each pair a session counts: (session, pair id, when both ends had
it (ps), its source-reported fidelity, its latency from the request's start (ps))."""


class Session:
    """One request's application, both ends of it, and what every session
    reports: status, timing, pairs delivered at both ends, their
    source-reported fidelity and latency.

    A subclass sets ``app`` (its scenario name), ``table`` (its lifecycle,
    with states ``running`` ... ``done`` / ``error`` / ``expired``),
    optionally ``pair_type`` and ``report_type``, and adds its report
    fields in :meth:`report_fields`.
    """

    app: ClassVar[str] = ""
    pair_type: ClassVar[CreateType | None] = None
    #: The session's table takes NET_OK_BATCH, so its measure-type request
    #: may take the measure-directly path (``[network] measure_directly``).
    takes_batches: ClassVar[bool] = False
    report_type: ClassVar[type[RequestReport]] = RequestReport
    table: ClassVar[FastTable]

    def __init__(self, setup: SessionSetup) -> None:
        self.setup = setup
        self.name = setup.name
        self.src = setup.src
        self.dst = setup.dst
        self.create = setup.create
        self.start_ps = setup.start_ps
        self.request_id = ""
        self.state = "running"
        self.error: str | None = None
        self.end_ps: int | None = None
        self.latency_sum_ps = 0
        # Running statistics of the pairs counted (both ends reported them),
        # which the report uses (the sum adds in delivery order, as a list's
        # sum would); the per-pair lists are kept unless the run asks for
        # running statistics only (``qstack.run``: flat memory however many
        # pairs it delivers).
        self.pairs_counted = 0
        self.fidelity_sum = 0.0
        self._pair_ids: list[str] | None = []
        self._fidelities: list[float] | None = []
        #: Called with each pair counted (``qstack run --pairs``), if set.
        self.pair_sink: PairSink | None = None
        self.ends_done = 0
        self._first_report: dict[str, tuple[int, float | None]] = {}
        self._first_batches: dict[str, NetOkBatch] = {}

    @property
    def ends(self) -> tuple[str, ...]:
        """The nodes the session runs at (its two ends; more for some apps)."""
        return (self.src, self.dst)

    @property
    def status(self) -> SessionStatus:
        state = self.state
        return state if state in ENDED else "running"

    @property
    def finished(self) -> bool:
        return self.state in ENDED

    @property
    def delivered(self) -> int:
        """Pairs reported at both ends."""
        return self.pairs_counted

    def keep_statistics_only(self) -> None:
        """Keep no per-pair record (``pair_ids``, ``fidelities``): a long
        run's memory then does not grow with the pairs it delivers."""
        self._pair_ids = self._fidelities = None

    @property
    def pair_ids(self) -> list[str]:
        """The ids of the pairs counted, in the order they were."""
        return self._per_pair(self._pair_ids)

    @property
    def fidelities(self) -> list[float]:
        """The source-reported fidelity of each pair counted, in order."""
        return self._per_pair(self._fidelities)

    def _per_pair(self, record: list[_Item] | None) -> list[_Item]:
        if record is None:
            raise RuntimeError(
                f"{self.name}: this run keeps running statistics only, no per-pair record "
                "(build the Network with keep_pair_records=True, or write them with "
                "qstack.run(..., pairs=FILE))"
            )
        return record

    @property
    def fidelity_mean(self) -> float | None:
        """Mean source-reported fidelity of the delivered pairs."""
        return self.fidelity_sum / self.pairs_counted if self.pairs_counted else None

    def count(self, host: AppHost, now: int, ok: NetOk) -> None:
        """One end reported a pair; count it once both have."""
        source_fidelity = ok.fidelity if host.node == self.src else None
        first = self._first_report.pop(ok.pair_id, None)
        if first is None:
            self._first_report[ok.pair_id] = (now, source_fidelity)
            return
        first_time, first_fidelity = first
        fidelity = source_fidelity if source_fidelity is not None else first_fidelity
        assert fidelity is not None, f"pair {ok.pair_id} reported twice by one end"
        self.pairs_counted += 1
        self.fidelity_sum += fidelity
        if self._pair_ids is not None and self._fidelities is not None:
            self._pair_ids.append(ok.pair_id)
            self._fidelities.append(fidelity)
        latency_ps = max(now, first_time) - self.start_ps
        self.latency_sum_ps += latency_ps
        if self.pair_sink is not None:
            self.pair_sink(self, ok.pair_id, max(now, first_time), fidelity, latency_ps)

    def count_batch(self, host: AppHost, now: int, batch: NetOkBatch) -> None:
        """One end reported a batch of pairs; count them once both have, as
        :meth:`count` does pair by pair (each delivered at its herald)."""
        first = self._first_batches.pop(batch.pair_ids[0], None)
        if first is None:
            self._first_batches[batch.pair_ids[0]] = batch
            return
        fidelities = batch.fidelities if host.node == self.src else first.fidelities
        self.pairs_counted += batch.count
        total = self.fidelity_sum
        for fidelity in fidelities:
            total += fidelity
        self.fidelity_sum = total
        if self._pair_ids is not None and self._fidelities is not None:
            self._pair_ids.extend(batch.pair_ids)
            self._fidelities.extend(fidelities)
        start = self.start_ps
        self.latency_sum_ps += sum(batch.times_ps) - start * batch.count
        sink = self.pair_sink
        if sink is not None:
            for pair_id, time_ps, fidelity in zip(
                batch.pair_ids, batch.times_ps, fidelities, strict=True
            ):
                sink(self, pair_id, time_ps, fidelity, time_ps - start)

    def ended(self, now: int, error: str | None = None) -> None:
        """Record when (and why) the session ended; its table set the status.
        What the session's ends still hold is freed."""
        self.end_ps = now
        self.error = error
        self.free(now)

    def free(self, now: int) -> None:
        """Release the qubits the session's ends still hold (none for the base)."""

    def forget_pair(self, host: AppHost, now: int, pair_id: str) -> None:
        """NET_EXPIRE at ``host``'s end: drop what the session kept of the pair
        (nothing for the base; a session still holding its qubit frees it)."""

    def report(self, now: int, route: tuple[tuple[str, ...], int] | None = None) -> RequestReport:
        """The session's line of the run report, as of ``now``; ``route``: the
        path that served it last and its reroutes (the source's network layer
        knows them)."""
        end_ps = self.end_ps if self.end_ps is not None else now
        active_s = ps_to_seconds(end_ps - self.start_ps)
        delivered = self.delivered
        fields: dict[str, Any] = {
            "name": self.name,
            "app": self.app,
            "src": self.src,
            "dst": self.dst,
            "status": self.status,
            "error": self.error,
            "delivered": delivered,
            "fidelity_mean": self.fidelity_mean,
            "latency_mean_s": (
                ps_to_seconds(self.latency_sum_ps) / delivered if delivered else None
            ),
            "rate_hz": delivered / active_s if active_s > 0 else None,
            "path": None if route is None else list(route[0]),
            "reroutes": 0 if route is None else route[1],
        }
        fields.update(self.report_fields(active_s))
        return self.report_type(**fields)

    def report_fields(self, active_s: float) -> dict[str, Any]:
        """The application's own report fields (none for the base)."""
        return {}

    def begin(self, host: AppHost, now: int) -> None:
        """Start at the source (``host``): by default, the request's one NET_CREATE.

        A subclass may issue several (:meth:`AppHost.create`) or none (then
        it routes its messages with :meth:`AppHost.attach`)."""
        self.request_id = host.create(now, self, self.create)

    # -- handlers every application's table uses ------------------------------

    @staticmethod
    def on_net_error(host: AppHost, session: Session, now: int, error: NetError) -> None:
        session.ended(now, f"{error.reason}: {error.detail}")

    @staticmethod
    def on_lost(host: AppHost, session: Session, now: int, lost: LostContact) -> None:
        session.lose(host, now, lost.detail)

    def lose(self, host: AppHost, now: int, detail: str) -> None:
        """End the session: ``host``'s end lost contact with it."""
        self.ended(now, detail)

    @staticmethod
    def on_expire(host: AppHost, session: Session, now: int, expire: NetExpire) -> None:
        session._first_report.pop(expire.pair_id, None)
        session.forget_pair(host, now, expire.pair_id)

    @staticmethod
    def ignore(host: AppHost, session: Session, now: int, event: object) -> None:
        """Late news for a session that has ended: nothing to act on."""

    @staticmethod
    def note_end_done(host: AppHost, session: Session, now: int, done: NetDone) -> None:
        session.ends_done += 1

    @staticmethod
    def release_late(host: AppHost, session: Session, now: int, ok: NetOk) -> None:
        """A pair for a session that has ended: free its qubit, nothing else."""
        if ok.qubit is not None:
            host.release(now, ok.qubit)


def timed_out(host: AppHost, session: Session, error: NetError) -> bool:
    """The network ended the request at its deadline (status ``expired``)."""
    return error.reason == "timeout"


def other_end_done(host: AppHost, session: Session, done: NetDone) -> bool:
    """This NET_DONE is the second of the two ends'."""
    return session.ends_done == 1


def common_rows(states: tuple[str, ...]) -> tuple[Transition, ...]:
    """The rows of a session with one network request, given its live
    ``states``: a network error ends a live session (``expired`` at the
    deadline, ``error`` otherwise); and the :func:`fault_rows`."""
    return (
        *(
            row
            for state in states
            for row in (
                Transition(state, NetError, "expired", Session.on_net_error, timed_out),
                Transition(state, NetError, "error", Session.on_net_error),
            )
        ),
        *fault_rows(states),
    )


def fault_rows(states: tuple[str, ...]) -> tuple[Transition, ...]:
    """The rows every application has, given its live ``states``: an end
    that lost contact with the session (its node failed, or a message to
    another end could not be delivered) ends it in ``error``; NET_EXPIRE
    takes a pair back in any state; the ended states take late news of lost
    contact."""
    return (
        *(Transition(state, LostContact, "error", Session.on_lost) for state in states),
        *(Transition(state, LostContact, state, Session.ignore) for state in ENDED),
        *(
            Transition(state, NetExpire, state, Session.on_expire, note="forget the pair")
            for state in (*states, *ENDED)
        ),
    )


@dataclass(frozen=True, slots=True)
class LostContact:
    """An end of a session cannot go on: its node failed, or the classical
    network could not deliver a message to the other end."""

    detail: str


# -- the host ----------------------------------------------------------------


class SessionStart:
    """A session's request is due to start at this node (its source)."""

    __slots__ = ("session",)

    def __init__(self, session: Session) -> None:
        self.session = session


class NodeDown:
    """Fault: the node failed."""

    __slots__ = ()


class NodeUp:
    """Fault over: the node is back."""

    __slots__ = ()


class AppHost:
    """The application entity of one node: starts sessions and hands every
    primitive of a request to its session's table."""

    holder = "app"

    def __init__(
        self,
        node: str,
        memory: Memory,
        network: NetworkService,
        sessions: dict[str, Session],
        send_app: SendApp,
        truth: QubitTruth,
    ) -> None:
        self.node = node
        self.state = "up"
        self.memory = memory
        self.truth = truth
        self._network = network
        self._sessions = sessions
        self._send_app = send_app
        self._machine = HOST_LIFECYCLE.machine(self)

    @property
    def qubits(self) -> QubitRegister:
        return self.memory.qubits

    def start(self, now: int, session: Session) -> None:
        """Start the session at this node (its source): its NET_CREATE(s)."""
        fire(self, HOST_LIFECYCLE.name, SessionStart(session), now)

    def create(self, now: int, session: Session, request: NetCreate) -> str:
        """Issue a NET_CREATE for ``session`` (a session may issue several);
        its primitives will reach the session. Returns the request id."""
        request_id = self._network.next_request_id
        self._sessions[request_id] = session
        self._network.create(now, request)
        return request_id

    def abort(self, now: int, request_id: str, reason: NetErrorReason, detail: str) -> None:
        """End a request this node issued, everywhere on its path."""
        self._network.abort(now, request_id, reason, detail)

    def attach(self, key: str, session: Session) -> None:
        """Hand application messages whose ``request_id`` is ``key`` to
        ``session`` (for a session that issues no network request)."""
        self._sessions[key] = session

    def node_failed(self, now: int) -> None:
        """Fault: the node crashed; every session with an end here ends."""
        fire(self, HOST_LIFECYCLE.name, NodeDown(), now)

    def node_recovered(self, now: int) -> None:
        """Fault over: the node is back; new sessions can start here."""
        fire(self, HOST_LIFECYCLE.name, NodeUp(), now)

    def undeliverable(self, now: int, target: str, message: AppMessage) -> None:
        """A message to the session's other end could not be delivered."""
        session = self._sessions[message.request_id]
        kind = getattr(message, "kind", type(message).__name__)
        lost = LostContact(f"lost contact: {target} could not be reached ({kind})")
        session.table.dispatch(self, session, now, lost)

    def send(self, to: str, message: AppMessage) -> None:
        """Send a message to the application on node ``to``."""
        self._send_app(self.node, to, message)

    def release(self, now: int, qubit: int) -> None:
        self.memory.release(now, qubit, self.holder)

    def allocate(self) -> int | None:
        """A free qubit for the application's own use (None: none is free)."""
        return self.memory.allocate(self.holder)

    def net_ok(self, now: int, ok: NetOk) -> None:
        session = self._sessions[ok.request_id]
        session.table.dispatch(self, session, now, ok)

    def net_ok_batch(self, now: int, batch: NetOkBatch) -> None:
        session = self._sessions[batch.request_id]
        session.table.dispatch(self, session, now, batch)

    def net_done(self, now: int, done: NetDone) -> None:
        session = self._sessions[done.request_id]
        session.table.dispatch(self, session, now, done)

    def net_error(self, now: int, error: NetError) -> None:
        session = self._sessions[error.request_id]
        session.table.dispatch(self, session, now, error)

    def net_expire(self, now: int, expire: NetExpire) -> None:
        session = self._sessions[expire.request_id]
        session.table.dispatch(self, session, now, expire)

    def receive(self, now: int, message: AppMessage) -> None:
        session = self._sessions[message.request_id]
        session.table.dispatch(self, session, now, message)

    def _start(self, _: AppHost, now: int, start: SessionStart) -> None:
        start.session.begin(self, now)

    def _crashed(self, _: AppHost, now: int, event: NodeDown) -> None:
        lost = LostContact(f"node {self.node} failed")
        sessions = {id(session): session for session in self._sessions.values()}
        for session in sessions.values():
            if self.node in session.ends:
                session.table.dispatch(self, session, now, lost)


HOST_LIFECYCLE = StateTable(
    name="application host",
    states=("up", "down"),
    initial="up",
    transitions=(
        Transition("up", SessionStart, "up", AppHost._start, note="NET_CREATE"),
        Transition("down", SessionStart, "down", AppHost._start, note="NET_ERROR comes back"),
        Transition("up", NodeDown, "down", AppHost._crashed, note="sessions end"),
        Transition("down", NodeUp, "up"),
    ),
)
