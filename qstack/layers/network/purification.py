"""Link-level recurrence purification before swapping: the upstream end of a
link purifies two of its link pairs, tells the other end (PURIFY_OUTCOME),
and both learn the result one link delay later."""

from __future__ import annotations

from typing import cast

from qstack.layers.network.circuit import Circuit, PurifyDone, Segment
from qstack.layers.network.core import NetworkCore
from qstack.layers.network.messages import PurifyOutcome, PurifyTrace


class Purification(NetworkCore):
    """One recurrence round at a time, up to the circuit's target level."""

    def _purify(self, now: int, circuit: Circuit, kept: Segment, sacrificed: Segment) -> None:
        """Purify two link pairs (done by the upstream end of the link, which
        tells the other end; both learn the result one link delay later)."""
        qubits = self._memory.qubits
        # Both pairs to Phi+ first (a local Pauli on this end), as the
        # recurrence protocols expect; the other end learns it in the outcome.
        qubits.pauli(now, kept.qubit, kept.frame)
        qubits.pauli(now, sacrificed.qubit, sacrificed.frame)
        scheme = self.context.purification(circuit.request.purification)
        success = qubits.purify(now, kept.qubit, sacrificed.qubit, scheme.recurrence, self._uniform)
        if self._record is not None:
            self._record(
                now,
                PurifyTrace(
                    request_id=circuit.request_id,
                    circuit=circuit.id,
                    kept=kept.handle,
                    sacrificed=sacrificed.handle,
                    success=success,
                ),
            )
        kept.frame = 0
        kept.birth_ps = min(kept.birth_ps, sacrificed.birth_ps)
        self._drop(now, circuit, sacrificed)
        self._arm_cutoff(now, circuit, kept)
        assert circuit.down_peer is not None
        delay = self._link_delay_ps(self.node, circuit.down_peer)
        self._send(
            circuit,
            circuit.position + 1,
            PurifyOutcome(
                circuit=circuit.id,
                kept=kept.handle,
                sacrificed=sacrificed.handle,
                success=success,
            ),
        )
        self._set_timer(delay, self._purify_due, (circuit, PurifyDone(kept, success)))

    def _purify_due(self, now: int, argument: object) -> None:
        circuit, done = cast(tuple[Circuit, PurifyDone], argument)
        if not circuit.ended and circuit.segments.get(done.kept.handle) is done.kept:
            self._step(now, circuit, done)

    def _purify_done(self, circuit: Circuit, now: int, done: PurifyDone) -> None:
        self._level_up(now, circuit, done.kept, done.success)

    def _on_purify_outcome(self, circuit: Circuit, now: int, message: PurifyOutcome) -> None:
        gone = circuit.segments.get(message.sacrificed)
        kept = circuit.segments.get(message.kept)
        if gone is not None:
            if kept is not None:
                kept.birth_ps = min(kept.birth_ps, gone.birth_ps)
                self._arm_cutoff(now, circuit, kept)
            self._drop(now, circuit, gone)
        if kept is not None:
            waiting = circuit.purifying.get((kept.side, kept.level), [])
            if kept in waiting:
                waiting.remove(kept)
            kept.frame = 0
            self._level_up(now, circuit, kept, message.success)

    def _level_up(self, now: int, circuit: Circuit, kept: Segment, success: bool) -> None:
        if not success:
            self._drop(now, circuit, kept)
            return
        kept.level += 1
        self._settle(now, circuit, kept)
