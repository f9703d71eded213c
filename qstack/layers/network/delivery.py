"""Delivery at the two ends: the source decides which end-to-end pairs count
(PAIR_COMMIT, when pairs can be lost on the way), the destination applies
the Pauli-frame correction, and both hand the pair up (NET_OK)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from qstack.layers.link.messages import Basis, LinkOkBatch
from qstack.layers.network.circuit import ALL_DELIVERED, Circuit, Segment
from qstack.layers.network.core import NetworkCore
from qstack.layers.network.messages import (
    CorrectionTrace,
    NetDone,
    NetExpire,
    NetOk,
    NetOkBatch,
    PairCommit,
)
from qstack.messages import BASES, DIGITS, from_text, to_text


class Delivery(NetworkCore):
    """End-to-end pairs leaving the network layer."""

    def _check_complete(self, now: int, circuit: Circuit, segment: Segment) -> None:
        far_end = circuit.dst if circuit.position == 0 else circuit.src
        if segment.partner != far_end or segment.links != circuit.hops:
            return
        if circuit.position == 0:
            self._deliver_at_source(now, circuit, segment)
        elif not circuit.commit:
            # Every end-to-end pair counts: nothing for the source to decide.
            pair_id = f"{segment.partner_handle}~{segment.handle}"
            self._deliver_at_destination(now, circuit, segment, pair_id)
        else:
            commit = circuit.commits.pop(segment.handle, None)
            if commit is None:
                circuit.complete[segment.handle] = segment
            elif commit.keep:
                self._deliver_at_destination(now, circuit, segment, commit.pair_id)
            else:
                self._drop(now, circuit, segment)

    def _deliver_at_source(self, now: int, circuit: Circuit, segment: Segment) -> None:
        request = circuit.request
        pair_id = f"{segment.handle}~{segment.partner_handle}"
        if circuit.commit:
            # The source picks the pairs that count: young enough to still be
            # held at the destination when it hears (cutoff), and no more
            # than asked for (lost pairs make the link requests overshoot).
            travel = circuit.offsets_ps[-1]
            cutoff = request.cutoff_ps
            fresh = cutoff is None or now + travel - segment.birth_ps <= cutoff
            keep = fresh and circuit.delivered < request.number
            commit = PairCommit(
                circuit=circuit.id,
                dst_handle=segment.partner_handle,
                pair_id=pair_id,
                keep=keep,
            )
            self._send(circuit, circuit.hops, commit)
            if not keep:
                self._drop(now, circuit, segment)
                return
        self._hand_up(now, circuit, segment, pair_id)
        if circuit.delivered == request.number and circuit.dst_ready:
            self._step(now, circuit, ALL_DELIVERED)

    def _on_commit(self, circuit: Circuit, now: int, commit: PairCommit) -> None:
        segment = circuit.complete.pop(commit.dst_handle, None)
        if segment is None:
            if commit.dst_handle in circuit.segments:
                circuit.commits[commit.dst_handle] = commit  # our record is still on its way
        elif commit.keep:
            self._deliver_at_destination(now, circuit, segment, commit.pair_id)
        else:
            self._drop(now, circuit, segment)

    def _deliver_at_destination(
        self, now: int, circuit: Circuit, segment: Segment, pair_id: str
    ) -> None:
        self._correct(now, segment)
        if self._record is not None:
            self._record(
                now,
                CorrectionTrace(
                    request_id=circuit.request_id,
                    circuit=circuit.id,
                    pair_id=pair_id,
                    pauli=segment.frame,
                ),
            )
        self._hand_up(now, circuit, segment, pair_id)
        if circuit.delivered == circuit.request.number:
            self._finish(now, circuit)

    def _correct(self, now: int, segment: Segment) -> None:
        """The Pauli-frame correction: the pair becomes Phi+."""
        self._memory.qubits.pauli(now, segment.qubit, segment.frame)

    def _hand_up(self, now: int, circuit: Circuit, segment: Segment, pair_id: str) -> None:
        """NET_OK: give the pair to the application (or measure it for it)."""
        seq = circuit.delivered
        circuit.delivered += 1
        if circuit.kept is not None:
            circuit.kept.append(pair_id)
        self._unhold(circuit, segment)
        fidelity = self.context.truth.fidelity(self.node, segment.qubit, now)
        basis: Basis | None = None
        outcome: Literal[0, 1] | None = None
        qubit: int | None = segment.qubit
        if circuit.request.type == "measure":
            basis = "Z" if self._uniform() < circuit.request.z_basis_probability else "X"
            outcome = self._memory.qubits.measure(now, segment.qubit, basis, self._uniform)
            self._memory.release(now, segment.qubit, self.holder)
            qubit = None
        else:
            self._memory.transfer(segment.qubit, self._user.holder, self.holder)
        self._user.net_ok(
            now,
            NetOk.trusted(
                request_id=circuit.request_id,
                src=circuit.src,
                dst=circuit.dst,
                pair_id=pair_id,
                seq=seq,
                bell_index=0,
                qubit=qubit,
                time_ps=now,
                fidelity=float(min(max(fidelity, 0.0), 1.0)),
                purpose_id=circuit.request.purpose_id,
                basis=basis,
                outcome=outcome,
            ),
        )

    def _on_link_batch(self, circuit: Circuit, now: int, batch: LinkOkBatch) -> None:
        """Pairs measured directly (one hop): each end hands them up as they
        are, the destination after the Pauli-frame correction, applied to
        the outcomes (X flips a Z outcome, Z an X one); no pair is held."""
        self._count_link_batch(circuit, now, batch)
        request = circuit.request
        count = min(batch.count, request.number - circuit.delivered)
        if count <= 0:
            return
        outcomes = batch.outcomes[:count]
        if circuit.position == circuit.hops:
            bases = from_text(batch.bases[:count], BASES)
            frames = from_text(batch.bell_indices[:count], DIGITS)
            flips = np.where(bases == 0, frames & 1, frames >> 1)
            outcomes = to_text(from_text(outcomes, DIGITS) ^ flips, DIGITS)
        first = batch.first_pair_id
        handle = f"{circuit.src}-{circuit.dst}#"
        pair_ids = tuple(f"{handle}{n}~{handle}{n}" for n in range(first, first + count))
        seq = circuit.delivered
        circuit.delivered += count
        if circuit.kept is not None:
            circuit.kept.extend(pair_ids)
        self._user.net_ok_batch(
            now,
            # Trusted: the columns come from the link's batch, cut to what is owed.
            NetOkBatch.trusted(
                request_id=circuit.request_id,
                src=circuit.src,
                dst=circuit.dst,
                pair_ids=pair_ids,
                first_seq=seq,
                purpose_id=request.purpose_id,
                bases=batch.bases[:count],
                outcomes=outcomes,
                times_ps=batch.times_ps[:count],
                fidelities=batch.fidelities[:count],
            ),
        )
        if circuit.delivered == request.number:
            if circuit.position == 0:
                if circuit.dst_ready:
                    self._step(now, circuit, ALL_DELIVERED)
            else:
                self._finish(now, circuit)

    def _count_link_batch(self, circuit: Circuit, now: int, batch: LinkOkBatch) -> None:
        """As :meth:`_count_link_pair`, for a batch of pairs measured
        directly (all a batch for a circuit that has ended here needs)."""
        if circuit.link_pairs is not None:
            key = (batch.remote, batch.origin, batch.create_id)
            count = circuit.link_counts.get(key, 0) + batch.count
            circuit.link_counts[key] = count
            if count >= circuit.link_pairs:
                self._link_request_ended(now, circuit, key)

    def _expire_pair(self, now: int, circuit: Circuit, pair_id: str) -> None:
        """NET_EXPIRE: a pair handed up here never reached the other end."""
        self._user.net_expire(now, NetExpire(request_id=circuit.request_id, pair_id=pair_id))

    def _finish(self, now: int, circuit: Circuit) -> None:
        circuit.done_here = True
        self._user.net_done(
            now,
            NetDone(
                request_id=circuit.request_id,
                src=circuit.src,
                dst=circuit.dst,
                delivered=circuit.delivered,
            ),
        )
