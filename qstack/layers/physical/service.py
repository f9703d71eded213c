"""The physical layer's service, as the link layer above it sees it.

One side of a heralding station offers ATTEMPT (keep attempting into this
qubit, for this tag, with this setting) and CANCEL, and indicates HERALD
(a pair now exists) to the link entity attached to it. Attempts happen only
while both sides are armed with the same tag, as a real station only
heralds when both photons arrive in the same window. These are per-attempt
events, so they are slotted dataclasses, not validated models.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Protocol

from qstack.physics.heralding import HeraldingModel


@dataclass(frozen=True, slots=True)
class AttemptSetting:
    """How both sides attempt for one request, agreed through the queue.

    ``expected_fidelity`` is computed from the model's heralded state after
    both memories' noise over the emission-to-herald window, i.e. the
    fidelity every pair of this setting has at delivery.
    """

    model: HeraldingModel
    expected_fidelity: float
    label: str


@dataclass(slots=True)
class Attempt:
    """ATTEMPT from ``side``: attempt for ``tag`` into ``qubit``. Each side's
    port keeps one and refills it for every arming (one per pair: not a new
    object each time)."""

    side: int
    tag: Hashable
    qubit: int
    setting: AttemptSetting


@dataclass(frozen=True, slots=True)
class Cancel:
    """CANCEL from ``side``: stop attempting; attempts under way are counted."""

    side: int


class Herald:
    """HERALD: the armed attempt succeeded. Both sides get the same pair id
    and heralded Bell index at the same instant; ``fidelity`` is the pair's
    true fidelity with that Bell state at the herald (a ground-truth
    annotation for the delivery report, read from the run's oracle). One per
    pair, so a plain slotted class (a frozen dataclass costs more to build)."""

    __slots__ = ("bell_index", "fidelity", "pair_id")

    def __init__(self, pair_id: int, bell_index: int, fidelity: float) -> None:
        self.pair_id = pair_id
        self.bell_index = bell_index
        self.fidelity = fidelity


class PhysicalUser(Protocol):
    """The link entity above one side of a station."""

    def herald(self, now: int, herald: Herald) -> None:
        """HERALD: the qubit this side armed now holds its half of a pair."""
        ...


class PhysicalService(Protocol):
    """One side of a heralding station: what a link entity may use."""

    @property
    def side(self) -> int:
        """0 for the link's ``a`` end, 1 for its ``b`` end."""
        ...

    @property
    def running(self) -> bool:
        """True while both sides are armed alike and attempts are under way."""
        ...

    def attach(self, user: PhysicalUser) -> None:
        """Send this side's HERALD indications to ``user``."""
        ...

    def attempt(self, now: int, qubit: int, tag: Hashable, setting: AttemptSetting) -> None:
        """ATTEMPT: arm this side; attempts start once both sides agree."""
        ...

    def cancel(self, now: int) -> None:
        """CANCEL: disarm this side."""
        ...
