"""Discrete-event kernel: an integer-picosecond clock over one event heap.

Events are plain ``(time, sequence, callback, argument)`` tuples so the hot
loop allocates nothing but the tuple; the sequence number gives FIFO order
among events scheduled for the same picosecond.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any, Final

PS_PER_S: Final = 1_000_000_000_000

Callback = Callable[[Any], None]
TimerCallback = Callable[[int, Any], None]


def seconds_to_ps(seconds: float) -> int:
    """Convert a user-facing duration in seconds to integer picoseconds."""
    return round(seconds * PS_PER_S)


def ps_to_seconds(ps: int) -> float:
    """Convert an internal time back to seconds for reports."""
    return ps / PS_PER_S


class Timer:
    """A cancellable event: cancelling only marks it, the heap entry stays."""

    __slots__ = ("_argument", "_callback", "cancelled", "time_ps")

    def __init__(self, time_ps: int, callback: TimerCallback, argument: Any) -> None:
        self.time_ps = time_ps
        self.cancelled = False
        self._callback = callback
        self._argument = argument

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self, _: Any) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._callback(self.time_ps, self._argument)


class Simulator:
    """The event heap and the clock; nothing else.

    ``now`` only moves forward. Entities never read it on their own: the
    wiring passes it into every call, so a layer can be driven without a
    kernel (sans-IO).
    """

    __slots__ = ("_heap", "_seq", "events", "horizon_ps", "now")

    def __init__(self) -> None:
        self.now: int = 0
        self.events: int = 0
        #: The ``until_ps`` of the run under way (None: no limit): a batch
        #: of work drawn ahead stops there, as the run does.
        self.horizon_ps: int | None = None
        self._heap: list[tuple[int, int, Callback, Any]] = []
        self._seq = 0

    def schedule(self, delay_ps: int, callback: Callback, argument: Any = None) -> None:
        """Run ``callback(argument)`` ``delay_ps`` picoseconds from now."""
        if delay_ps < 0:
            raise ValueError(f"delay_ps = {delay_ps}: events cannot be scheduled in the past")
        self._seq += 1
        heapq.heappush(self._heap, (self.now + delay_ps, self._seq, callback, argument))

    def schedule_at(self, time_ps: int, callback: Callback, argument: Any = None) -> None:
        """Run ``callback(argument)`` at absolute time ``time_ps``."""
        self.schedule(time_ps - self.now, callback, argument)

    def timer(self, delay_ps: int, callback: TimerCallback, argument: Any = None) -> Timer:
        """Run ``callback(now, argument)`` after ``delay_ps`` unless the
        returned handle is cancelled first."""
        handle = Timer(self.now + delay_ps, callback, argument)
        self.schedule(delay_ps, handle.fire)
        return handle

    @property
    def pending(self) -> int:
        """Events still in the heap (cancelled timers included)."""
        return len(self._heap)

    def run(
        self,
        until_ps: int | None = None,
        stop_when: Callable[[], bool] | None = None,
        horizon_ps: int | None = None,
    ) -> None:
        """Process events in time order.

        Stops when the heap is empty (the clock stays at the last event),
        before the first event later than ``until_ps`` (the clock is then set
        to ``until_ps``), or after an event for which ``stop_when()`` is true
        and the other events of that same picosecond. ``events`` is brought
        up to date when the call returns. A run made of several calls (a
        progress display's slices) passes its end as ``horizon_ps``, so
        work drawn ahead is cut where the whole run ends, not at each slice:
        the results do not depend on the slicing.
        """
        heap = self._heap
        pop = heapq.heappop
        limit = until_ps if until_ps is not None else float("inf")
        self.horizon_ps = until_ps if horizon_ps is None else horizon_ps
        events = self.events
        try:
            while heap:
                if heap[0][0] > limit:
                    break
                time_ps, _, callback, argument = pop(heap)
                self.now = time_ps
                events += 1
                callback(argument)
                if stop_when is not None and stop_when():
                    while heap and heap[0][0] == time_ps:
                        _, _, callback, argument = pop(heap)
                        events += 1
                        callback(argument)
                    return
            if until_ps is not None and heap:
                self.now = max(self.now, until_ps)
        finally:
            self.events = events
