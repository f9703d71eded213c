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

import numpy as np
import numpy.typing as npt

from qstack.physics.heralding import HeraldingModel
from qstack.quantum.batch import PairBatch


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
    #: 0: one pair (HERALD). n >= 1: up to n pairs measured where they are
    #: made, as one HERALD_BATCH (the measure-directly path); both sides
    #: ask for the same number.
    pairs: int = 0
    #: A batch's heralds from this time on are not made (the request's deadline).
    until_ps: int | None = None


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


class HeraldBatch:
    """HERALD_BATCH: an attempt armed for ``pairs`` >= 1 heralded ``len(times_ps)``
    pairs (ids ``first_pair_id`` on, heralded at ``times_ps``) that are
    measured where they are made, never stored: ``pairs`` holds their states
    for both ends to measure (:class:`~qstack.quantum.batch.PairBatch`), and
    ``fidelities`` their true fidelities with their Bell states at the
    herald. Delivered at the last pair's herald, or early, with the pairs
    heralded so far, when either side cancels."""

    __slots__ = ("fidelities", "first_pair_id", "pairs", "times_ps")

    def __init__(
        self,
        first_pair_id: int,
        times_ps: npt.NDArray[np.int64],
        pairs: PairBatch,
        fidelities: npt.NDArray[np.float64],
    ) -> None:
        self.first_pair_id = first_pair_id
        self.times_ps = times_ps
        self.pairs = pairs
        self.fidelities = fidelities


class PhysicalUser(Protocol):
    """The link entity above one side of a station."""

    def herald(self, now: int, herald: Herald) -> None:
        """HERALD: the qubit this side armed now holds its half of a pair."""
        ...

    def herald_batch(self, now: int, batch: HeraldBatch) -> None:
        """HERALD_BATCH: only for an attempt armed for more than one pair."""
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

    def attempt(
        self,
        now: int,
        qubit: int,
        tag: Hashable,
        setting: AttemptSetting,
        pairs: int = 0,
        until_ps: int | None = None,
    ) -> None:
        """ATTEMPT: arm this side; attempts start once both sides agree.
        ``pairs`` >= 1 asks for a HERALD_BATCH of up to that many measured
        pairs, none heralded from ``until_ps`` on."""
        ...

    def cancel(self, now: int) -> None:
        """CANCEL: disarm this side."""
        ...

    def flush(self, now: int) -> None:
        """Before a CANCEL that ends a batch under way: the batch's pairs
        heralded before ``now`` are delivered (HERALD_BATCH) to both sides."""
        ...
