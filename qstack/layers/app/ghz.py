"""The ``ghz`` application: GHZ states shared by ``members``, fused at ``src``.

The source is the fusing centre and one of the members (SCENARIO.md). Per
GHZ state (a *round*) it asks its network service for one pair with every
other member, one NET_CREATE each (``qstack.layers.app.rounds``), and
fuses them once it holds all of them (``qstack.physics.ghz``): with its
halves c_1 (the first other member's pair, in ``members`` order) .. c_m,
it applies CNOT(c_1 -> c_i) and measures c_i in Z (s_i) for i >= 2, with its
node's gate and measurement errors, and sends each member its correction
(GHZ_CORRECTION: X^(s_i); 0 for the first). c_1 is the centre's share of
the GHZ state. A member holding both its half and its correction applies
it; its share is then complete. The next round starts as soon as the
centre has fused (its qubits are free again).

Each holder hands its share on (releases it) as soon as it is complete:
the centre at the fusion, a member after its correction. The reported
``ghz_fidelity_mean`` is the true fidelity with the ideal GHZ state of the
members' joint state, each share taken as it was when its holder was done
with it (memory noise included up to then), read through the oracle when
the last share is complete.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from qstack.fsm.table import StateTable, Transition
from qstack.layers.app.base import AppHost, Session
from qstack.layers.app.rounds import RoundSession, require_qubits, round_rows
from qstack.layers.app.service import AppMessage, SessionSetup
from qstack.layers.network.messages import NetOk
from qstack.physics import multiqubit as mq
from qstack.physics.errors import IDEAL_OPERATIONS
from qstack.reports import RequestReport


class GhzCorrection(AppMessage):
    """The centre's correction for a member's half of one GHZ state: X^bit."""

    kind: Literal["GHZ_CORRECTION"] = "GHZ_CORRECTION"
    pair_id: str
    round: int = Field(ge=0)
    bit: int = Field(ge=0, le=1)


class GhzRequestReport(RequestReport):
    """A ``ghz`` request: the GHZ states shared (``delivered``) and how good they were."""

    members: list[str]
    ghz_fidelity_mean: float | None

    def summary(self) -> str | None:
        if self.ghz_fidelity_mean is None:
            return None
        return (
            f"ghz: {self.delivered} states of {len(self.members)} members, "
            f"mean fidelity {self.ghz_fidelity_mean:.5f}"
        )


class _Round:
    """One GHZ state in the making: the centre's halves, then the shares still open."""

    __slots__ = ("halves", "open_shares")

    def __init__(self) -> None:
        self.halves: dict[str, tuple[str, int]] = {}  # member -> (pair id, qubit) at the centre
        self.open_shares = 0


class GhzSession(RoundSession):
    """A ``ghz`` session: ``pairs`` GHZ states over ``members``, ``src`` the centre.

    :meth:`share_complete` and :meth:`centre_share` say what is done with a
    completed share; ``sensing`` overrides them.
    """

    app = "ghz"
    pair_type = "keep"
    report_type: ClassVar[type[RequestReport]] = GhzRequestReport

    @property
    def ends(self) -> tuple[str, ...]:
        return tuple(self.members)

    def __init__(self, setup: SessionSetup) -> None:
        super().__init__(setup)
        members: list[str] = list(setup.options["members"])
        self.members = members
        self.others = [m for m in members if m != setup.src]
        require_qubits(setup, setup.src, len(self.others), "one pair with every other member")
        hardware = setup.hardware
        self._errors = {
            node: IDEAL_OPERATIONS if hardware is None else hardware.operation_errors(node)
            for node in members
        }
        self._streams: dict[str, np.random.Generator] = dict(
            zip(members, setup.rng.spawn(len(members)), strict=True)
        )
        self._rounds: dict[int, _Round] = {}
        self._round_of: dict[str, int] = {}  # pair id -> round (at the centre)
        # at a member whose half is still on its way: pair id -> (X bit, round)
        self._corrections: dict[str, tuple[int, int]] = {}
        self.ghz_fidelities: list[float] = []

    def report_fields(self, active_s: float) -> dict[str, Any]:
        fids = self.ghz_fidelities
        return {
            "members": self.members,
            "ghz_fidelity_mean": sum(fids) / len(fids) if fids else None,
        }

    def begin(self, host: AppHost, now: int) -> None:
        self._next_round(host, now)

    def _next_round(self, host: AppHost, now: int) -> None:
        index = self.rounds
        self.rounds += 1
        self._rounds[index] = _Round()
        for member in self.others:
            self._round_of[self.request(host, now, member)] = index

    # -- what is done with complete shares (sensing overrides) ---------------

    def centre_share(self, host: AppHost, now: int, index: int, qubit: int) -> None:
        """The centre's share right after the fusion: handed on."""
        host.release(now, qubit)

    def share_complete(self, host: AppHost, now: int, index: int, qubit: int) -> None:
        """A member's share is complete (correction applied): the last one
        reads the state's GHZ fidelity; each is handed on."""
        state = self._rounds[index]
        state.open_shares -= 1
        if not state.open_shares:
            fidelity = host.truth.ghz_fidelity(host.node, qubit, now)
            self.ghz_fidelities.append(min(max(fidelity, 0.0), 1.0))
            del self._rounds[index]
            self.complete_round(now)
        host.release(now, qubit)

    # -- lifecycle handlers: (host of the end, session, now, event) -----------

    @staticmethod
    def on_pair(host: AppHost, session: Session, now: int, ok: NetOk) -> None:
        assert isinstance(session, GhzSession)
        session.count(host, now, ok)
        assert ok.qubit is not None, "ghz keeps its pairs"
        if host.node != session.src:
            session.hold(host, ok.pair_id, ok.qubit)
            pending = session._corrections.pop(ok.pair_id, None)
            if pending is not None:
                session._correct(host, now, ok.pair_id, *pending)
            return
        index = session._round_of.pop(ok.request_id)
        state = session._rounds[index]
        state.halves[ok.dst] = (ok.pair_id, ok.qubit)
        session.hold(host, ok.pair_id, ok.qubit)
        if len(state.halves) == len(session.others):
            session._fuse(host, now, index, state)

    def _fuse(self, host: AppHost, now: int, index: int, state: _Round) -> None:
        """CNOT(c_1 -> c_i), measure c_i in Z, corrections out; c_1 is the centre's share."""
        qubits = host.qubits
        errors, rng = self._errors[host.node], self._streams[host.node]
        first_id, first = state.halves[self.others[0]]
        self.take(host, first_id)
        bits = [0]
        for member in self.others[1:]:
            pair_id, half = state.halves[member]
            self.take(host, pair_id)
            qubits.gate(now, [first, half], mq.CNOT, errors.gate_error)
            bits.append(qubits.measure_share(now, half, "Z", rng.random, errors.measurement_error))
            host.release(now, half)
        state.open_shares = len(self.others)
        for member, bit in zip(self.others, bits, strict=True):
            pair_id = state.halves[member][0]
            host.send(
                member,
                GhzCorrection(request_id=self.request_id, pair_id=pair_id, round=index, bit=bit),
            )
        self.centre_share(host, now, index, first)
        if self.rounds < self.total_rounds:
            self._next_round(host, now)

    @staticmethod
    def on_correction(host: AppHost, session: Session, now: int, message: GhzCorrection) -> None:
        assert isinstance(session, GhzSession)
        if session.held(host, message.pair_id) is None:
            session._corrections[message.pair_id] = (message.bit, message.round)
        else:
            session._correct(host, now, message.pair_id, message.bit, message.round)

    def _correct(self, host: AppHost, now: int, pair_id: str, bit: int, index: int) -> None:
        qubit = self.take(host, pair_id)
        host.qubits.pauli(now, qubit, bit)
        self.share_complete(host, now, index, qubit)

    def completes(self, host: AppHost, event: object) -> bool:
        """Whether ``event`` completes the session's last product (the table's guard)."""
        index = self._member_round(host, event)
        if index is None:
            return False
        return self._rounds[index].open_shares == 1 and self.completed + 1 == self.total_rounds

    def _member_round(self, host: AppHost, event: object) -> int | None:
        """The round whose share ``event`` completes at a member, if it completes one."""
        if host.node == self.src:
            return None
        if isinstance(event, NetOk):
            pending = self._corrections.get(event.pair_id)
            return None if pending is None else pending[1]
        assert isinstance(event, GhzCorrection)
        return event.round if self.held(host, event.pair_id) is not None else None


def completes(host: AppHost, session: Session, event: object) -> bool:
    """Guard: this input completes the session."""
    assert isinstance(session, GhzSession)
    return session.completes(host, event)


def ghz_rows(session: type[GhzSession], extra: tuple[type, ...]) -> tuple[Transition, ...]:
    """The rows of a GHZ-fusing session's table (``extra``: its own messages,
    ignored once it has ended)."""
    ended = ("done", "error", "expired")
    return (
        Transition("running", NetOk, "done", session.on_pair, completes),
        Transition("running", NetOk, "running", session.on_pair, note="GHZ_CORRECTION"),
        Transition("running", GhzCorrection, "done", session.on_correction, completes),
        Transition("running", GhzCorrection, "running", session.on_correction),
        *round_rows(("running",), ended),
        *(
            Transition(s, message, s, Session.ignore)
            for s in ended
            for message in (GhzCorrection, *extra)
        ),
    )


GHZ_LIFECYCLE = StateTable(
    name="ghz session",
    states=("running", "done", "error", "expired"),
    initial="running",
    transitions=ghz_rows(GhzSession, ()),
)
GhzSession.table = GHZ_LIFECYCLE.fast()
