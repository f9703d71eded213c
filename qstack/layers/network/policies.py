"""Swap policies: when a repeater joins the segments it holds.

A policy sees only what the repeater knows: its position on the path, the
number of hops, and how many link pairs each of its two segments spans
(from the swap records it has received). Chosen by name, like routing.
"""

from __future__ import annotations

from typing import Protocol


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
