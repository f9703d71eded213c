"""The physical layer's primitives as trace records.

The station runs on slotted events (:mod:`qstack.layers.physical.service`):
ATTEMPT and CANCEL happen once per pair per side and are never validated.
When a run is traced, each is also recorded as one of these models, so a
trace shows the physical layer like the others: ``ATTEMPT`` and
``ATTEMPT_CANCEL`` going down, ``HERALD`` coming up at both ends, and one
``ATTEMPTS`` line per stream of attempts (failed attempts are drawn in one
step, so this is the batch record: how many, from when to when, and how
the stream ended).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from qstack.layers.link.messages import BellIndex
from qstack.messages import Primitive


class AttemptTrace(Primitive):
    """ATTEMPT: one side armed the station for ``tag`` with a qubit."""

    kind: Literal["ATTEMPT"] = "ATTEMPT"
    link: str
    side: int = Field(ge=0, le=1)
    qubit: int = Field(ge=0)
    tag: str


class AttemptCancelTrace(Primitive):
    """CANCEL: one side disarmed the station."""

    kind: Literal["ATTEMPT_CANCEL"] = "ATTEMPT_CANCEL"
    link: str
    side: int = Field(ge=0, le=1)


class HeraldTrace(Primitive):
    """HERALD: a pair now exists; ``fidelity`` is its true fidelity with
    ``bell_index`` at the herald (ground truth, for the report)."""

    kind: Literal["HERALD"] = "HERALD"
    link: str
    pair_id: int = Field(ge=0)
    bell_index: BellIndex
    qubit: int = Field(ge=0)
    fidelity: float = Field(ge=0.0, le=1.0 + 1e-9)


class AttemptsTrace(Primitive):
    """A stream of attempts ended: ``attempts`` of them from ``start_ps``
    to ``end_ps``, the last heralded or the stream cancelled."""

    kind: Literal["ATTEMPTS"] = "ATTEMPTS"
    link: str
    attempts: int = Field(ge=0)
    start_ps: int = Field(ge=0)
    end_ps: int = Field(ge=0)
    outcome: Literal["herald", "cancelled"]


PhysicalRecord = AttemptTrace | AttemptCancelTrace | HeraldTrace | AttemptsTrace
