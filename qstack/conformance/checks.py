"""The layer contracts as checks over a run's observations.

Each ``check_*`` function takes the observations of one run (the message
trace plus the observer's ground truth, see :mod:`qstack.conformance.observer`)
and returns the violations of one clause. Checks that need the run to be
over (every request answered, all memory back) only judge that part when
``observations.final`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from qstack.sim.trace import TraceRecord

#: Slack for comparing two fidelities computed from the same state.
FIDELITY_TOLERANCE = 1e-7


@dataclass(frozen=True, slots=True)
class Violation:
    """One breach of one clause."""

    clause: str
    time_ps: int
    node: str
    message: str  # the primitive concerned, in short
    explanation: str

    def __str__(self) -> str:
        return (
            f"[{self.clause}] t={self.time_ps} ps @{self.node} {self.message}: {self.explanation}"
        )


def describe(record: TraceRecord) -> str:
    """One trace record on one line."""
    fields = record.message.model_dump(mode="json")
    kind = fields.pop("kind", type(record.message).__name__)
    fields.pop("detail", None)
    body = " ".join(
        f"{k}={v.get('kind', '{...}') if isinstance(v, dict) else v}"
        for k, v in fields.items()
        if v is not None
    )
    peer = f" {record.peer}" if record.peer else ""
    return f"t={record.time_ps} {record.node} {record.layer} {record.direction}{peer} {kind} {body}"
