"""Segments: link pairs arriving from the link layer, where each one goes
(purification, swapping, delivery), and how segments end (cutoff, a
discarded partner, an expired pair)."""

from __future__ import annotations

from typing import Literal

from qstack.layers.link.messages import LinkExpire, LinkOk, LinkOkBatch
from qstack.layers.network.circuit import Circuit, CutoffExpired, Segment, Side
from qstack.layers.network.core import NetworkCore
from qstack.layers.network.messages import DiscardTrace, SegmentDiscarded


class Segments(NetworkCore):
    """Link pairs becoming segments, and segments being discarded."""

    def _count_link_pair(self, now: int, circuit: Circuit, ok: LinkOk) -> None:
        """A link request of exactly ``link_pairs`` pairs ends with its last."""
        if circuit.link_pairs is not None:
            key = (ok.remote, ok.origin, ok.create_id)
            count = circuit.link_counts.get(key, 0) + 1
            circuit.link_counts[key] = count
            if count == circuit.link_pairs:
                self._link_request_ended(now, circuit, key)

    def _on_link_pair(self, circuit: Circuit, now: int, ok: LinkOk) -> None:
        """A link pair for a live circuit: a new segment (a pair measured
        directly, reported alone, goes up as a batch of one)."""
        if ok.qubit is None and circuit.measured_directly:
            self._on_link_batch(circuit, now, LinkOkBatch.of(ok))
            return
        self._count_link_pair(now, circuit, ok)
        assert ok.qubit is not None, "the network layer asks for kept pairs only"
        side: Side = "down" if ok.remote == circuit.down_peer else "up"
        handle = (
            f"{ok.remote}-{self.node}#{ok.pair_id}"
            if side == "up"
            else f"{self.node}-{ok.remote}#{ok.pair_id}"
        )
        segment = Segment(handle, ok.qubit, side, ok.remote, now, 0)
        segment.frame = ok.bell_index
        circuit.segments[handle] = segment
        if circuit.request.cutoff_ps is not None:
            self._arm_cutoff(now, circuit, segment)
        self._settle(now, circuit, segment)

    def _late_link_pair(self, circuit: Circuit, now: int, ok: LinkOk) -> None:
        """A link pair for a circuit that has ended here: freed at once (a
        measured one holds nothing)."""
        self._count_link_pair(now, circuit, ok)
        if ok.qubit is not None:
            self._memory.release(now, ok.qubit, self.holder)

    def _segment_expired(self, circuit: Circuit, now: int, expire: LinkExpire) -> None:
        for segment in circuit.segments.values():
            if segment.qubit == expire.qubit:
                self._drop(now, circuit, segment)
                return

    def _settle(self, now: int, circuit: Circuit, segment: Segment) -> None:
        """Put a fresh (or freshly purified) segment where it belongs."""
        if segment.links == 1 and segment.level < circuit.target_level:
            key = (segment.side, segment.level)
            waiting = circuit.purifying.setdefault(key, [])
            waiting.append(segment)
            if len(waiting) >= 2 and segment.side == "down":
                self._purify(now, circuit, waiting.pop(0), waiting.pop(0))
            return
        if circuit.position in (0, circuit.hops):
            self._check_complete(now, circuit, segment)
        else:
            circuit.ready[segment.side].append(segment)
            self._try_swap(now, circuit)

    def _cutoff_expired(self, circuit: Circuit, now: int, event: CutoffExpired) -> None:
        segment = event.segment
        segment.timer = None
        self._tell(
            circuit,
            segment.partner,
            SegmentDiscarded(circuit=circuit.id, handle=segment.partner_handle),
        )
        self._discard(now, circuit, segment, "cutoff")

    def _discard(
        self, now: int, circuit: Circuit, segment: Segment, reason: Literal["cutoff", "partner"]
    ) -> None:
        """Free a segment before it was used (a trace says why)."""
        if self._record is not None:
            self._record(
                now,
                DiscardTrace(
                    request_id=circuit.request_id,
                    circuit=circuit.id,
                    handle=segment.handle,
                    reason=reason,
                ),
            )
        self._drop(now, circuit, segment)

    def _on_discarded(self, circuit: Circuit, now: int, message: SegmentDiscarded) -> None:
        segment = circuit.segments.get(message.handle)
        if segment is not None:
            self._discard(now, circuit, segment, "partner")
            return
        swapped = circuit.swapped.get(message.handle)
        if swapped is not None:
            self._tell(
                circuit,
                swapped.partner,
                SegmentDiscarded(circuit=circuit.id, handle=swapped.partner_handle),
            )
