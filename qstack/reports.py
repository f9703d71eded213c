"""What a run reports: the ``qstack run --json`` object (SCENARIO.md's shape).

Each application adds its own fields by subclassing :class:`RequestReport`
(``QkdRequestReport``, ``TeleportRequestReport``, a plug-in's own); a run
report serialises every request with the fields of its own type.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, SerializeAsAny


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LinkReport(_Report):
    """One link's physical layer over the run."""

    a: str
    b: str
    model: str
    attempts: int
    successes: int


class RequestReport(_Report):
    """One request: how it ended and what it delivered (every application's fields)."""

    app: str
    src: str
    dst: str
    status: Literal["done", "error", "expired", "running"]
    error: str | None
    delivered: int
    fidelity_mean: float | None
    latency_mean_s: float | None
    rate_hz: float | None

    def summary(self) -> str | None:
        """One line of the application's own results for ``qstack run``'s table."""
        return None


class RunReport(_Report):
    """The ``qstack run --json`` object."""

    seed: int
    sim_time_s: float
    wall_time_s: float
    events: int
    links: list[LinkReport]
    requests: list[SerializeAsAny[RequestReport]]
