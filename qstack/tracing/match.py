"""Pair each received peer message with its send, on the whole trace.

Channels are FIFO (``specs/trace.md``): the n-th ``send`` from A to B in a
layer is the n-th ``recv`` at B from A in that layer. Matching happens on
every line, before any node or layer filter, so a message a chosen node
sends is drawn as received even though the receiver's lines are not shown.
At most ``max_in_flight`` sends wait for their receipt; beyond that the
oldest is given up on (said so), and its channel remembers it, so the FIFO
order of the others stays right.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from qstack.tracing.reader import TraceLine

#: Sends waiting for their receipt, across all channels, before the oldest is
#: given up on.
MAX_IN_FLIGHT = 10_000

Channel = tuple[str, str, str]
#: Why a send has no receipt: the trace ended first, a cut (``--window``,
#: ``--first-pairs``) came first, or more than ``max_in_flight`` waited.
Unreceived = Literal["not received", "in flight at the cut", "not matched"]


@dataclass(frozen=True, slots=True)
class Note:
    """A line that is not a peer message: a primitive or an event."""

    line: TraceLine


@dataclass(frozen=True, slots=True)
class Delivery:
    """A peer message, at its receipt; ``send`` is None when the trace does
    not hold it (it started later, or the send was given up on)."""

    send: TraceLine | None
    recv: TraceLine


@dataclass(frozen=True, slots=True)
class Lost:
    """A send with no receipt in what was read, and why."""

    send: TraceLine
    why: Unreceived


Item = Note | Delivery | Lost


@dataclass(slots=True)
class _Channel:
    waiting: deque[tuple[int, TraceLine, bool]] = field(default_factory=deque)
    given_up: int = 0


def channel_of(line: TraceLine) -> Channel:
    """``(sender, receiver, layer)`` of a send or recv line."""
    assert line.peer is not None
    if line.direction == "send":
        return (line.node, line.peer, line.layer)
    return (line.peer, line.node, line.layer)


def match_messages(
    verdicts: Iterable[tuple[TraceLine, bool]],
    stopped_at_cut: Callable[[], bool] = lambda: False,
    max_in_flight: int = MAX_IN_FLIGHT,
) -> Iterator[Item]:
    """Notes, deliveries and lost sends of the lines marked selected.

    ``verdicts`` is every line with whether it is selected; a message is
    shown when its send or its receipt is. Deliveries come at their receipt;
    sends still waiting at the end come last, as :class:`Lost`
    (``stopped_at_cut()``, asked then: the lines stopped at a cut, not at
    the trace's end).
    """
    channels: dict[Channel, _Channel] = {}
    oldest: OrderedDict[int, Channel] = OrderedDict()
    number = 0
    for line, kept in verdicts:
        if line.direction == "send":
            channel = channels.setdefault(channel_of(line), _Channel())
            channel.waiting.append((number, line, kept))
            oldest[number] = channel_of(line)
            number += 1
            if len(oldest) > max_in_flight:
                _, full = oldest.popitem(last=False)
                state = channels[full]
                _, dropped, dropped_kept = state.waiting.popleft()
                state.given_up += 1
                if dropped_kept:
                    yield Lost(dropped, "not matched")
        elif line.direction == "recv":
            channel = channels.setdefault(channel_of(line), _Channel())
            if channel.given_up:  # the receipt of the oldest send given up on
                channel.given_up -= 1
                if kept:
                    yield Delivery(None, line)
            elif channel.waiting:
                sent_number, sent, sent_kept = channel.waiting.popleft()
                del oldest[sent_number]
                if kept or sent_kept:
                    yield Delivery(sent, line)
            elif kept:
                yield Delivery(None, line)
        elif kept:
            yield Note(line)
    why: Unreceived = "in flight at the cut" if stopped_at_cut() else "not received"
    for waiting in oldest.values():
        _, sent, sent_kept = channels[waiting].waiting.popleft()
        if sent_kept:
            yield Lost(sent, why)
