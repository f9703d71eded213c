"""The ``sensing`` application: distributed phase estimation with GHZ probes.

A network of n sensors (the ``members``) estimates a phase phi that each of
them picks up (``qstack.physics.sensing``; the clock network of Komar et
al., Nature Physics 10, 582 (2014)). Each probe is a GHZ state fused at the
centre ``src`` exactly as the ``ghz`` application does. As soon as a sensor
holds its complete share (the centre at the fusion, a member after its
correction) it imprints the phase (diag(1, e^(i phi)), a perfect one-qubit
gate), measures X with its node's ``measurement_error``, frees the qubit,
and (a member) sends the outcome to the centre (SENSING_OUTCOME). The
product of the n outcomes (the parity, +-1) has mean V cos(n phi), V the
probes' coherence.

The estimator needs the fringe's visibility V0. Given as ``visibility``,
it is used as is; otherwise the network calibrates it first: the first
``repetitions`` probes are imprinted with phase 0 (the sensors shielded
from the signal), whose mean parity is V (clipped to [1/repetitions, 1]).
The centre then groups the ``pairs`` signal probes, in round order, into
estimates of ``repetitions`` probes each and estimates
phi = arccos(m / V0) / n from each group's mean parity m. It reports the
root-mean-square error of the estimates beside the limits for the same
resources (N = ``repetitions`` probes of n sensors, ``app_formulas``): the
standard quantum limit 1/sqrt(N n) of unentangled sensors, the Heisenberg
limit 1/(N n), and the bound 1/(n sqrt N) of perfect GHZ probes.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field

from qstack.fsm.table import StateTable, Transition
from qstack.layers.app.base import AppHost, Session
from qstack.layers.app.ghz import GhzSession, completes, ghz_rows
from qstack.layers.app.service import AppMessage, SessionSetup
from qstack.physics import app_formulas
from qstack.physics.sensing import estimate_phase
from qstack.reports import RequestReport


class SensingOutcome(AppMessage):
    """A member's X outcome (0 = +1) on its share of probe ``round``."""

    kind: Literal["SENSING_OUTCOME"] = "SENSING_OUTCOME"
    round: int = Field(ge=0)
    bit: int = Field(ge=0, le=1)


class SensingRequestReport(RequestReport):
    """A ``sensing`` request: the phase estimates against the limits."""

    members: list[str]
    phase: float
    visibility: float | None
    calibration_probes: int
    repetitions: int
    estimates: int
    parity_mean: float | None
    phase_estimate_mean: float | None
    phase_error_rms: float | None
    expected_error: float | None
    standard_quantum_limit: float
    heisenberg_limit: float
    ghz_limit: float

    def summary(self) -> str | None:
        if self.phase_error_rms is None:
            return None
        return (
            f"sensing: {self.estimates} estimates of {self.repetitions} probes, rms error "
            f"{self.phase_error_rms:.3g} rad (SQL {self.standard_quantum_limit:.3g}, "
            f"GHZ bound {self.ghz_limit:.3g}, Heisenberg {self.heisenberg_limit:.3g})"
        )


class SensingSession(GhzSession):
    """A ``sensing`` session: ``pairs`` GHZ probes over ``members``, ``src`` the centre."""

    app = "sensing"
    report_type = SensingRequestReport

    def __init__(self, setup: SessionSetup) -> None:
        super().__init__(setup)
        options = setup.options
        sensors = len(self.members)
        self.phase: float = options.get("phase", math.pi / (2 * sensors))
        self.repetitions: int = options.get("repetitions", setup.create.number)
        given: float | None = options.get("visibility")
        self.calibration_probes = 0 if given is not None else self.repetitions
        self._visibility = given
        self.total_rounds = setup.create.number + self.calibration_probes
        self._imprints = (
            np.eye(2, dtype=np.complex128),
            np.diag([1.0, np.exp(1j * self.phase)]).astype(np.complex128),
        )
        self._outcomes: dict[int, list[int]] = {}  # round -> outcomes so far, at the centre
        self.parities: dict[int, int] = {}  # round -> parity (+-1) of a complete probe

    @property
    def visibility(self) -> float | None:
        """V0: as given, or calibrated from the phase-0 probes (None until they are in)."""
        if self._visibility is not None:
            return self._visibility
        calibration = [p for index, p in self.parities.items() if index < self.calibration_probes]
        if len(calibration) < self.calibration_probes:
            return None
        return min(max(sum(calibration) / len(calibration), 1.0 / self.repetitions), 1.0)

    def _read_out(self, host: AppHost, now: int, index: int, qubit: int) -> int:
        """Imprint the phase (0 on a calibration probe) and measure X: this sensor's bit."""
        qubits = host.qubits
        errors, rng = self._errors[host.node], self._streams[host.node]
        qubits.gate(now, [qubit], self._imprints[index >= self.calibration_probes])
        bit = qubits.measure_share(now, qubit, "X", rng.random, errors.measurement_error)
        host.release(now, qubit)
        return bit

    def centre_share(self, host: AppHost, now: int, index: int, qubit: int) -> None:
        self._outcomes[index] = [self._read_out(host, now, index, qubit)]

    def share_complete(self, host: AppHost, now: int, index: int, qubit: int) -> None:
        bit = self._read_out(host, now, index, qubit)
        host.send(self.src, SensingOutcome(request_id=self.request_id, round=index, bit=bit))

    def completes(self, host: AppHost, event: object) -> bool:
        if not isinstance(event, SensingOutcome):
            return False
        last_outcome = len(self._outcomes[event.round]) + 1 == len(self.members)
        return last_outcome and self.completed + 1 == self.total_rounds

    @staticmethod
    def on_outcome(host: AppHost, session: Session, now: int, message: SensingOutcome) -> None:
        assert isinstance(session, SensingSession)
        outcomes = session._outcomes[message.round]
        outcomes.append(message.bit)
        if len(outcomes) == len(session.members):
            del session._outcomes[message.round]
            session._rounds.pop(message.round, None)
            session.parities[message.round] = -1 if sum(outcomes) % 2 else 1
            session.complete_round(now)

    # -- the report -------------------------------------------------------------

    def signal_parities(self) -> list[int]:
        """The parities of the complete signal probes, in round order."""
        start = self.calibration_probes
        return [self.parities[index] for index in sorted(self.parities) if index >= start]

    def estimates(self) -> list[float]:
        """One estimate per ``repetitions`` signal probes, in round order."""
        visibility = self.visibility
        if visibility is None:
            return []
        parities, size = self.signal_parities(), self.repetitions
        sensors = len(self.members)
        return [
            estimate_phase(sum(parities[start : start + size]) / size, sensors, visibility)
            for start in range(0, len(parities) - size + 1, size)
        ]

    def report_fields(self, active_s: float) -> dict[str, Any]:
        sensors, repetitions, phase = len(self.members), self.repetitions, self.phase
        estimates = self.estimates()
        parities = self.signal_parities()
        visibility = self.visibility
        errors = [(e - phase) ** 2 for e in estimates]
        return {
            "members": self.members,
            "phase": phase,
            "visibility": visibility,
            "calibration_probes": self.calibration_probes,
            "repetitions": repetitions,
            "estimates": len(estimates),
            "parity_mean": sum(parities) / len(parities) if parities else None,
            "phase_estimate_mean": sum(estimates) / len(estimates) if estimates else None,
            "phase_error_rms": math.sqrt(sum(errors) / len(errors)) if errors else None,
            "expected_error": (
                app_formulas.parity_phase_error(repetitions, sensors, visibility, phase)
                if visibility is not None and abs(math.sin(sensors * phase)) > 1e-12
                else None
            ),
            "standard_quantum_limit": app_formulas.standard_quantum_limit(repetitions, sensors),
            "heisenberg_limit": app_formulas.heisenberg_limit(repetitions, sensors),
            "ghz_limit": app_formulas.ghz_cramer_rao_bound(repetitions, sensors),
        }


_S = SensingSession

SENSING_LIFECYCLE = StateTable(
    name="sensing session",
    states=("running", "done", "error", "expired"),
    initial="running",
    transitions=(
        *ghz_rows(SensingSession, (SensingOutcome,)),
        Transition("running", SensingOutcome, "done", _S.on_outcome, completes, "estimate"),
        Transition("running", SensingOutcome, "running", _S.on_outcome),
    ),
)
SensingSession.table = SENSING_LIFECYCLE.fast()
