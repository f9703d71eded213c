"""Applications on top of the network service.

Each node has one :class:`AppHost`, the network layer's user. A request in
a scenario becomes a *session* of one application (``pairs``, ``qkd``,
``teleport``); the host hands every primitive of a request to its session.
A session keeps the two ends' states apart: an end acts only on what its
node was told by its network layer or by the other end's messages, which
travel over the classical network with its real delay.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Literal

from pydantic import Field

from qstack.hardware.memory import Memory
from qstack.layers.network.messages import NetCreate, NetDone, NetError, NetOk
from qstack.layers.network.qnp import NetworkLayer
from qstack.messages import PeerMessage

SessionStatus = Literal["running", "done", "error", "expired"]


class AppMessage(PeerMessage):
    """A message between the two ends of one application session."""

    request_id: str = Field(min_length=1)


SendApp = Callable[[str, str, AppMessage], None]


class AppHost:
    """The application entity of one node: routes primitives to sessions."""

    holder = "app"

    def __init__(
        self,
        node: str,
        memory: Memory,
        network: NetworkLayer,
        sessions: dict[str, SessionRecord],
        send_app: SendApp,
    ) -> None:
        self.node = node
        self.memory = memory
        self._network = network
        self._sessions = sessions
        self._send_app = send_app

    def start(self, now: int, session: SessionRecord) -> None:
        """Issue the session's NET_CREATE from this node (its source)."""
        session.request_id = self._network.next_request_id
        self._sessions[session.request_id] = session
        self._network.create(now, session.create)

    def send(self, to: str, message: AppMessage) -> None:
        """Send a message to the application on node ``to``."""
        self._send_app(self.node, to, message)

    def release(self, now: int, qubit: int) -> None:
        self.memory.release(now, qubit, self.holder)

    def net_ok(self, now: int, ok: NetOk) -> None:
        self._sessions[ok.request_id].net_ok(self, now, ok)

    def net_done(self, now: int, done: NetDone) -> None:
        self._sessions[done.request_id].net_done(self, now, done)

    def net_error(self, now: int, error: NetError) -> None:
        self._sessions[error.request_id].net_error(self, now, error)

    def receive(self, now: int, message: AppMessage) -> None:
        self._sessions[message.request_id].receive(self, now, message)


class SessionRecord(ABC):
    """One request's application, both ends of it, and what every session
    reports: status, timing, pairs delivered at both ends, their
    source-reported fidelity and latency."""

    app = ""

    def __init__(self, src: str, dst: str, create: NetCreate, start_ps: int) -> None:
        self.src = src
        self.dst = dst
        self.create = create
        self.start_ps = start_ps
        self.request_id = ""
        self.status: SessionStatus = "running"
        self.error: str | None = None
        self.end_ps: int | None = None
        self.latency_sum_ps = 0
        self.fidelities: list[float] = []
        self.pair_ids: list[str] = []
        self.ends_done = 0
        self._first_report: dict[str, tuple[int, float | None]] = {}

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @property
    def delivered(self) -> int:
        """Pairs reported at both ends."""
        return len(self.pair_ids)

    @property
    def fidelity_mean(self) -> float | None:
        """Mean source-reported fidelity of the delivered pairs."""
        return sum(self.fidelities) / len(self.fidelities) if self.fidelities else None

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
        self.fidelities.append(fidelity)
        self.pair_ids.append(ok.pair_id)
        self.latency_sum_ps += max(now, first_time) - self.start_ps

    def finish(self, now: int, status: SessionStatus, error: str | None) -> None:
        if self.finished:
            return  # the other end reported the same ending already
        self.status = status
        self.error = error
        self.end_ps = now

    def fail(self, now: int, error: NetError) -> None:
        status: SessionStatus = "expired" if error.reason == "timeout" else "error"
        self.finish(now, status, f"{error.reason}: {error.detail}")

    @abstractmethod
    def net_ok(self, host: AppHost, now: int, ok: NetOk) -> None: ...

    @abstractmethod
    def net_done(self, host: AppHost, now: int, done: NetDone) -> None: ...

    @abstractmethod
    def net_error(self, host: AppHost, now: int, error: NetError) -> None: ...

    def receive(self, host: AppHost, now: int, message: AppMessage) -> None:
        """A message from the other end (apps without messages get none)."""
        raise TypeError(f"{self.app} session: unexpected {type(message).__name__}")
