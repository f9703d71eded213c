"""Network-layer policies chosen by name: swap policies and purification schemes.

A swap policy sees only what the repeater knows: its position on the path,
the number of hops, and how many link pairs each of its two segments spans
(from the swap records it has received). A purification scheme is a
recurrence map on Bell-diagonal pairs (exact for Pauli-covariant schemes
such as BBPSSW and DEJMPS, whose outputs stay Bell-diagonal) and its
closed-form fidelity after some rounds, which routing uses to judge a path.
"""

from __future__ import annotations

import math
from typing import Protocol

from qstack.physics.bell import BellDiagonal, purify_bbpssw, purify_dejmps
from qstack.physics.errors import OperationErrors
from qstack.physics.formulas import bbpssw, dejmps


class SwapPolicy(Protocol):
    """Decides whether a repeater swaps two segments it holds now."""

    name: str

    def check_path(self, hops: int) -> str | None:
        """Why this policy cannot serve a path of ``hops`` links, or None."""
        ...

    def should_swap(self, position: int, hops: int, left_links: int, right_links: int) -> bool:
        """True to swap a segment of ``left_links`` links ending here from
        the source side with one of ``right_links`` links to the destination
        side, at ``position`` (1 .. hops-1) on the path."""
        ...


class SwapAsap:
    """Swap as soon as a segment on each side is held."""

    name = "asap"

    def check_path(self, hops: int) -> str | None:
        return None

    def should_swap(self, position: int, hops: int, left_links: int, right_links: int) -> bool:
        return True


class NestedSwap:
    """Doubling (nested) swapping on 2^n links: the repeater at position i
    swaps at level l = the number of trailing zero bits of i, joining two
    segments of exactly 2^l links each."""

    name = "nested"

    def check_path(self, hops: int) -> str | None:
        if hops & (hops - 1):
            return f"nested swapping needs 2^n links; this path has {hops}"
        return None

    def should_swap(self, position: int, hops: int, left_links: int, right_links: int) -> bool:
        span = position & -position
        return left_links == span and right_links == span


class PurificationScheme(Protocol):
    """One recurrence round of link-level purification, by name."""

    name: str

    def recurrence(
        self, kept: BellDiagonal, sacrificed: BellDiagonal
    ) -> tuple[float, BellDiagonal]:
        """Success probability and the kept pair's state on success, for two
        pairs in the frame of Phi+ (the two ends' outcomes agree).

        Nodes with gate or measurement errors need the scheme to model them:
        the quantum store then calls ``recurrence(kept, sacrificed,
        errors=...)`` (an ``OperationErrors`` for both ends together), as
        the built-in schemes accept; a scheme without ``errors`` runs only
        between nodes whose local operations are perfect."""
        ...

    def fidelity_after(self, fidelity: float, rounds: int) -> float:
        """Fidelity of a link pair of Werner ``fidelity`` after ``rounds``
        rounds, every round succeeding (round r uses 2^r link pairs)."""
        ...


class Bbpssw:
    """BBPSSW (Bennett et al., PRL 76, 722 (1996)): twirled back to Werner form."""

    name = "bbpssw"

    def recurrence(
        self,
        kept: BellDiagonal,
        sacrificed: BellDiagonal,
        errors: OperationErrors | None = None,
    ) -> tuple[float, BellDiagonal]:
        return purify_bbpssw(kept, sacrificed, errors)

    def fidelity_after(self, fidelity: float, rounds: int) -> float:
        for _ in range(rounds):
            _, fidelity = bbpssw(fidelity)
        return fidelity


class Dejmps:
    """DEJMPS (Deutsch et al., PRL 77, 2818 (1996)): keeps the Bell diagonal
    between rounds (the closed form starts from the Werner-diagonal state)."""

    name = "dejmps"

    def recurrence(
        self,
        kept: BellDiagonal,
        sacrificed: BellDiagonal,
        errors: OperationErrors | None = None,
    ) -> tuple[float, BellDiagonal]:
        return purify_dejmps(kept, sacrificed, errors)

    def fidelity_after(self, fidelity: float, rounds: int) -> float:
        other = (1.0 - fidelity) / 3.0
        state = (fidelity, other, other, other)
        for _ in range(rounds):
            _, state = dejmps(state)
            total = math.fsum(state)
            state = (state[0] / total, state[1] / total, state[2] / total, state[3] / total)
        return state[0]
