"""What a run reports: the ``qstack run --json`` object (SCENARIO.md's shape).

Each application adds its own fields by subclassing :class:`RequestReport`
(``QkdRequestReport``, ``TeleportRequestReport``, a plug-in's own); a run
report serialises every request with the fields of its own type.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, SerializeAsAny

from qstack.messages import FaultKind


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LinkReport(_Report):
    """One link's physical layer over the run."""

    a: str
    b: str
    model: str
    attempts: int
    successes: int


class FaultReport(_Report):
    """A fault that happened during the run (a ``[[faults]]`` entry or a call
    to one of :class:`qstack.network.Network`'s fault methods)."""

    at_s: float
    kind: FaultKind
    node: str | None = None
    a: str | None = None
    b: str | None = None
    probability: float | None = None


class RequestReport(_Report):
    """One request: how it ended and what it delivered (every application's fields).

    ``path`` is the circuit that served it last (source first; None if none
    was installed), ``reroutes`` how many times it was routed again after
    a fault."""

    name: str
    app: str
    src: str
    dst: str
    status: Literal["done", "error", "expired", "running"]
    error: str | None
    delivered: int
    fidelity_mean: float | None
    latency_mean_s: float | None
    rate_hz: float | None
    path: list[str] | None
    reroutes: int

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
    faults: list[FaultReport]
