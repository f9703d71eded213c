"""The ``chsh`` application: a CHSH test on the pairs the network delivers.

Each end measures its half of every delivered pair at once (the pairs are
kept, not measured by the network layer), in a setting it draws from its
own random stream: the source (side a) Z or X, the destination (side b)
at +-pi/4 in the X-Z plane (``qstack.physics.chsh``). A measurement is a
local rotation followed by a Z measurement whose outcome is flipped with
the node's ``measurement_error``; the store draws it from the pair's true
state, so the two ends' outcomes carry exactly its correlations.

When the destination has measured every pair (NET_DONE) it sends its
settings and outcomes to the source over the classical network
(CHSH_RESULTS); the source, once it has both its own NET_DONE and that
message, estimates S with its standard error (``ChshTally``).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field

from qstack.fsm.table import StateTable, Transition
from qstack.layers.app.base import AppHost, Session, common_rows
from qstack.layers.app.service import AppMessage, SessionSetup
from qstack.layers.network.messages import NetDone, NetError, NetOk
from qstack.physics.chsh import ANGLES_A, ANGLES_B, ChshShot, ChshTally
from qstack.physics.density import Matrix
from qstack.reports import RequestReport

_BITS = r"^[01]*$"


def measurement_rotation(theta: float) -> Matrix:
    """R_y(-theta): maps the +1 eigenvector of cos(theta) Z + sin(theta) X to |0>
    (and the -1 one to |1>), so measuring Z after it measures that observable."""
    c, s = math.cos(theta / 2.0), math.sin(theta / 2.0)
    return np.array([[c, s], [-s, c]], dtype=np.complex128)


_ROTATIONS = (
    tuple(measurement_rotation(theta) for theta in ANGLES_A),
    tuple(measurement_rotation(theta) for theta in ANGLES_B),
)


class ChshResults(AppMessage):
    """The destination's settings and outcomes, one character per pair, in
    the order of the sorted pair ids."""

    kind: Literal["CHSH_RESULTS"] = "CHSH_RESULTS"
    settings: str = Field(pattern=_BITS)
    outcomes: str = Field(pattern=_BITS)


class ChshRequestReport(RequestReport):
    """A ``chsh`` request: the CHSH value of the delivered pairs."""

    chsh_shots: int
    chsh_s: float | None
    chsh_s_stderr: float | None

    def summary(self) -> str | None:
        if self.chsh_s is None or self.chsh_s_stderr is None:
            return None
        return f"chsh: S = {self.chsh_s:.4f} +- {self.chsh_s_stderr:.4f} ({self.chsh_shots} pairs)"


class _End:
    """One end's random stream, errors and results (pair id -> setting, outcome)."""

    def __init__(self, rng: np.random.Generator, side: int, flip: float) -> None:
        self.rng = rng
        self.side = side
        self.flip = flip
        self.results: dict[str, tuple[int, int]] = {}

    def measure(self, host: AppHost, now: int, pair_id: str, qubit: int) -> None:
        setting = 1 if self.rng.random() < 0.5 else 0
        qubits = host.qubits
        qubits.gate(now, [qubit], _ROTATIONS[self.side][setting])
        outcome = qubits.measure_share(now, qubit, "Z", self.rng.random, self.flip)
        host.release(now, qubit)
        self.results[pair_id] = (setting, outcome)

    def ordered(self) -> tuple[str, str]:
        ids = sorted(self.results)
        return (
            "".join(str(self.results[i][0]) for i in ids),
            "".join(str(self.results[i][1]) for i in ids),
        )


class ChshSession(Session):
    """A ``chsh`` session: source = side a, destination = side b."""

    app = "chsh"
    pair_type = "keep"
    report_type = ChshRequestReport

    def __init__(self, setup: SessionSetup) -> None:
        super().__init__(setup)
        hardware = setup.hardware
        flips = [
            0.0 if hardware is None else hardware.operation_errors(node).measurement_error
            for node in (setup.src, setup.dst)
        ]
        streams = setup.rng.spawn(2)
        self._ends = (_End(streams[0], 0, flips[0]), _End(streams[1], 1, flips[1]))
        self._remote: ChshResults | None = None
        self._source_done = False
        self.chsh_shots = 0
        self.chsh_s: float | None = None
        self.chsh_s_stderr: float | None = None

    def _end(self, host: AppHost) -> _End:
        return self._ends[0 if host.node == self.src else 1]

    def report_fields(self, active_s: float) -> dict[str, Any]:
        return {
            "chsh_shots": self.chsh_shots,
            "chsh_s": self.chsh_s,
            "chsh_s_stderr": self.chsh_s_stderr,
        }

    def _estimate(self, now: int) -> None:
        """The source has both ends' results: S from the pairs both measured."""
        assert self._remote is not None
        settings, outcomes = self._ends[0].ordered()
        tally = ChshTally()
        pairs = zip(settings, outcomes, self._remote.settings, self._remote.outcomes, strict=False)
        for x, a, y, b in pairs:
            tally.add(ChshShot(int(x), int(y), int(a), int(b)))
        self.chsh_shots = sum(map(sum, tally.shots))
        if all(n > 0 for row in tally.shots for n in row):
            estimate = tally.estimate()
            self.chsh_s, self.chsh_s_stderr = estimate.s, estimate.stderr
        self.ended(now)

    # -- lifecycle handlers: (host of the end, session, now, event) -----------

    @staticmethod
    def on_pair(host: AppHost, session: Session, now: int, ok: NetOk) -> None:
        assert isinstance(session, ChshSession)
        session.count(host, now, ok)
        assert ok.qubit is not None, "chsh measures kept pairs itself"
        session._end(host).measure(host, now, ok.pair_id, ok.qubit)

    @staticmethod
    def send_results(host: AppHost, session: Session, now: int, done: NetDone) -> None:
        """The destination has measured every pair: its results go to the source."""
        assert isinstance(session, ChshSession)
        session.ends_done += 1
        settings, outcomes = session._ends[1].ordered()
        message = ChshResults(request_id=session.request_id, settings=settings, outcomes=outcomes)
        host.send(session.src, message)

    @staticmethod
    def source_done(host: AppHost, session: Session, now: int, done: NetDone) -> None:
        assert isinstance(session, ChshSession)
        session.ends_done += 1
        session._source_done = True
        if session._remote is not None:
            session._estimate(now)

    @staticmethod
    def on_results(host: AppHost, session: Session, now: int, message: ChshResults) -> None:
        assert isinstance(session, ChshSession)
        session._remote = message
        if session._source_done:
            session._estimate(now)


def _at_destination(host: AppHost, session: Session, done: NetDone) -> bool:
    return host.node == session.dst


def _results_here(host: AppHost, session: Session, done: NetDone) -> bool:
    assert isinstance(session, ChshSession)
    return session._remote is not None


def _source_done(host: AppHost, session: Session, message: ChshResults) -> bool:
    assert isinstance(session, ChshSession)
    return session._source_done


_C = ChshSession
_ENDED = ("done", "error", "expired")

CHSH_LIFECYCLE = StateTable(
    name="chsh session",
    states=("running", "done", "error", "expired"),
    initial="running",
    transitions=(
        Transition("running", NetOk, "running", _C.on_pair, note="measure"),
        Transition("running", NetDone, "running", _C.send_results, _at_destination, "CHSH_RESULTS"),
        Transition("running", NetDone, "done", _C.source_done, _results_here, "S"),
        Transition("running", NetDone, "running", _C.source_done),
        Transition("running", ChshResults, "done", _C.on_results, _source_done, "S"),
        Transition("running", ChshResults, "running", _C.on_results),
        *common_rows(("running",)),
        *(Transition(s, NetOk, s, Session.release_late) for s in _ENDED),
        *(
            Transition(s, message, s, Session.ignore)
            for s in _ENDED
            for message in (NetDone, NetError, ChshResults)
        ),
    ),
)
ChshSession.table = CHSH_LIFECYCLE.fast()
