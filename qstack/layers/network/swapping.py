"""Entanglement swapping at the repeaters and the swap records that let the
current holders of a segment's two ends learn it, with real delays. A swap
fails with the repeater's hardware's probability (the store decides); then
both segments are lost and both partners are told, as for a cutoff."""

from __future__ import annotations

from collections.abc import Sequence

from qstack.layers.network.circuit import Circuit, Segment, SwapFailed, Swapped
from qstack.layers.network.core import NetworkCore
from qstack.layers.network.messages import SegmentDiscarded, SwapRecord, SwapTrace
from qstack.layers.network.view import NodeLoad


class Swapping(NetworkCore):
    """Swap by the circuit's policy; send, apply and forward swap records."""

    def _try_swap(self, now: int, circuit: Circuit) -> None:
        left_queue, right_queue = circuit.ready["up"], circuit.ready["down"]
        policy = circuit.swap_policy
        if policy is None:
            policy = circuit.swap_policy = self.context.swap_policies(circuit.request.swap_policy)
        cutoff = circuit.request.cutoff_ps
        # A segment past the cutoff is never swapped, even in the picosecond
        # its discard is due (whichever of the two events comes first).
        oldest = None if cutoff is None else now - cutoff
        while left_queue and right_queue:
            chosen = None
            for left in left_queue:
                if oldest is not None and left.birth_ps < oldest:
                    continue
                for right in right_queue:
                    if oldest is not None and right.birth_ps < oldest:
                        continue
                    if policy.should_swap(circuit.position, circuit.hops, left.links, right.links):
                        chosen = (left, right)
                        break
                if chosen:
                    break
            if chosen is None:
                return
            left_queue.remove(chosen[0])
            right_queue.remove(chosen[1])
            self._swap(now, circuit, *chosen)

    def _swaps_can_fail(self, path: Sequence[str]) -> bool:
        """Whether a repeater of ``path`` has swaps that can fail (what the
        topology says of its nodes' hardware, as every node knows it)."""
        load = NodeLoad((), self._memory.free_count, self._memory.size)
        lossy = self.context.view(load, (), ()).lossy_swap_nodes
        return bool(lossy) and any(node in lossy for node in path[1:-1])

    def _swap(self, now: int, circuit: Circuit, left: Segment, right: Segment) -> None:
        """Bell-measure the two qubits: the outer qubits become one pair, and
        the two partners are told (SWAP_RECORD); or the swap fails (SwapFailed)."""
        outcome = self._memory.qubits.try_bell_measure(now, left.qubit, right.qubit, self._rng)
        if self._record is not None:
            self._record(
                now,
                SwapTrace(
                    request_id=circuit.request_id,
                    circuit=circuit.id,
                    left=left.handle,
                    right=right.handle,
                    outcome=outcome,
                ),
            )
        for segment in (left, right):
            self._unhold(circuit, segment)
            self._memory.release(now, segment.qubit, self.holder)
        if outcome is None:
            self._step(now, circuit, SwapFailed(left, right))
            return
        frame = left.frame ^ right.frame ^ outcome
        links = left.links + right.links
        birth = min(left.birth_ps, right.birth_ps)
        for this, other in ((left, right), (right, left)):
            self._tell(
                circuit,
                this.partner,
                SwapRecord.trusted(
                    circuit=circuit.id,
                    handle=this.partner_handle,
                    partner=other.partner,
                    partner_handle=other.partner_handle,
                    links=links,
                    frame=frame,
                    birth_ps=birth,
                ),
            )
            circuit.swapped[this.handle] = Swapped(other, outcome)
        self._expire_swapped(now, circuit, (left.handle, right.handle))

    def _swap_failed(self, circuit: Circuit, now: int, failed: SwapFailed) -> None:
        """Both segments are lost (their qubits are already free here): each
        partner frees its end, and its links start again."""
        for segment in (failed.left, failed.right):
            self._tell(
                circuit,
                segment.partner,
                SegmentDiscarded(circuit=circuit.id, handle=segment.partner_handle),
            )

    @staticmethod
    def _expire_swapped(now: int, circuit: Circuit, handles: tuple[str, str]) -> None:
        """Forget swaps no record can still be about: any record about a
        swapped handle arrives within two end-to-end path delays."""
        horizon = 2 * circuit.offsets_ps[-1] + 1
        expiry = circuit.swapped_expiry
        expiry.append((now + horizon, *handles))
        while expiry and expiry[0][0] < now:
            _, first, second = expiry.popleft()
            circuit.swapped.pop(first, None)
            circuit.swapped.pop(second, None)

    def _on_record(self, circuit: Circuit, now: int, record: SwapRecord) -> None:
        segment = circuit.segments.get(record.handle)
        if segment is not None:
            if record.links <= segment.links:
                return  # older news than what this node knows
            segment.partner = record.partner
            segment.partner_handle = record.partner_handle
            segment.links = record.links
            segment.frame = record.frame
            if record.birth_ps < segment.birth_ps:
                segment.birth_ps = record.birth_ps
                self._arm_cutoff(now, circuit, segment)
            if circuit.position in (0, circuit.hops):
                self._check_complete(now, circuit, segment)
            else:
                self._try_swap(now, circuit)
            return
        swapped = circuit.swapped.get(record.handle)
        if swapped is None:
            return  # the segment was discarded here
        self._tell(
            circuit,
            swapped.partner,
            SwapRecord.trusted(
                circuit=circuit.id,
                handle=swapped.partner_handle,
                partner=record.partner,
                partner_handle=record.partner_handle,
                links=record.links + swapped.links,
                frame=record.frame ^ swapped.frame,
                birth_ps=min(record.birth_ps, swapped.birth_ps),
            ),
        )
