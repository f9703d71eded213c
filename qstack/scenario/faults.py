"""``[[faults]]`` entries: nodes and links that fail and come back, lossy classical links."""

from __future__ import annotations

import typing
from typing import Self

from pydantic import BaseModel, model_validator
from pydantic_core import InitErrorDetails

from qstack.messages import FaultKind
from qstack.scenario.fields import (
    CONFIG,
    ERR_MISSING,
    ERR_VALUE,
    Fraction,
    Instant,
    NodeRef,
    problem,
    raise_problems,
)

#: What can happen to the network during a run.
FAULT_KINDS: tuple[str, ...] = typing.get_args(FaultKind)
#: The fields each kind takes: a node, or a link by its two ends (and a probability).
FAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "node_down": ("node",),
    "node_up": ("node",),
    "link_down": ("a", "b"),
    "link_up": ("a", "b"),
    "classical_loss": ("a", "b", "probability"),
}
_TARGET_FIELDS = ("node", "a", "b", "probability")


class FaultSpec(BaseModel):
    """One ``[[faults]]`` entry: at ``at_s``, ``kind`` happens to ``node`` or to link ``a``-``b``.

    ``classical_loss`` sets, from ``at_s`` on, the probability that each
    classical message over the link is lost (0 stops the loss). Which nodes
    and links exist, and whether the schedule makes sense (a node goes down
    before it comes up), is checked with the whole scenario.
    """

    model_config = CONFIG

    at_s: Instant
    kind: FaultKind
    node: NodeRef | None = None
    a: NodeRef | None = None
    b: NodeRef | None = None
    probability: Fraction | None = None

    @model_validator(mode="after")
    def _fits_kind(self) -> Self:
        """Each kind takes exactly its own fields."""
        problems: list[InitErrorDetails] = []
        needed = FAULT_FIELDS[self.kind]
        for name in _TARGET_FIELDS:
            value = getattr(self, name)
            if name in needed and value is None:
                reason = f"missing (required when kind = {self.kind!r})"
                problems.append(problem(ERR_MISSING, (name,), None, reason))
            elif name not in needed and value is not None:
                users = [k for k, fields in FAULT_FIELDS.items() if name in fields]
                reason = (
                    f"only allowed when kind = {' or '.join(map(repr, users))} "
                    f"(this fault is {self.kind!r})"
                )
                problems.append(problem(ERR_VALUE, (name,), value, reason))
        if self.a is not None and self.a == self.b:
            reason = f"must differ from a ({self.a!r}): a link joins two different nodes"
            problems.append(problem(ERR_VALUE, ("b",), self.b, reason))
        raise_problems(type(self).__name__, problems)
        return self

    def target(self) -> str:
        """What the fault hits, for messages: ``node 'r1'`` or ``link 'r0'-'r1'``."""
        if self.node is not None:
            return f"node {self.node!r}"
        return f"link {self.a!r}-{self.b!r}"
