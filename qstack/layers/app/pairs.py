"""The ``pairs`` application: ask for end-to-end pairs, record, free at once.

It is the simplest user of the network service and the one the benchmarks
and validation tests use: every delivered pair's true fidelity and delivery
times are recorded, and both ends free their qubits as soon as the pair is
reported, so the application never holds memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from qstack.hardware.memory import Memory
from qstack.layers.network.messages import NetCreate, NetDone, NetError, NetOk
from qstack.layers.network.qnp import NetworkLayer

RequestStatus = Literal["running", "done", "error", "expired"]


@dataclass(slots=True)
class PairsRequest:
    """What one scenario request asked for and what it got.

    A pair counts as delivered once both ends have reported it (matched by
    pair id); its fidelity is the one the source reported, its latency runs
    from the request's start to the later of the two reports.
    """

    src: str
    dst: str
    create: NetCreate
    start_ps: int
    status: RequestStatus = "running"
    error: str | None = None
    end_ps: int | None = None
    delivered: int = 0
    fidelity_sum: float = 0.0
    latency_sum_ps: int = 0
    fidelities: list[float] = field(default_factory=list)
    pair_ids: list[str] = field(default_factory=list)
    ends_done: int = 0
    # pair id -> (time, source's fidelity or None) of the first end to report it
    first_report: dict[str, tuple[int, float | None]] = field(default_factory=dict)

    def report(self, now: int, pair_id: str, source_fidelity: float | None) -> None:
        """One end reported a pair; count it once both have."""
        first = self.first_report.pop(pair_id, None)
        if first is None:
            self.first_report[pair_id] = (now, source_fidelity)
            return
        first_time, first_fidelity = first
        fidelity = source_fidelity if source_fidelity is not None else first_fidelity
        assert fidelity is not None, f"pair {pair_id} reported twice by one end"
        self.delivered += 1
        self.fidelity_sum += fidelity
        self.fidelities.append(fidelity)
        self.pair_ids.append(pair_id)
        self.latency_sum_ps += max(now, first_time) - self.start_ps

    @property
    def finished(self) -> bool:
        return self.status != "running"


class PairsApp:
    """The ``pairs`` application entity of one node.

    ``ledger`` is shared by the apps of one run: it is the experiment's
    notebook (where both ends write what they saw), not a channel between
    the nodes, which learn nothing from it.
    """

    holder = "app/pairs"

    def __init__(
        self, node: str, memory: Memory, network: NetworkLayer, ledger: dict[str, PairsRequest]
    ) -> None:
        self.node = node
        self._memory = memory
        self._network = network
        self._ledger = ledger

    def start(self, now: int, request: PairsRequest) -> None:
        """Issue the request's NET_CREATE at its source."""
        self._ledger[self._network.next_request_id] = request
        self._network.create(now, request.create)

    def net_ok(self, now: int, ok: NetOk) -> None:
        if ok.qubit is not None:
            self._memory.release(now, ok.qubit, self.holder)
        at_source = ok.src == self.node
        self._ledger[ok.request_id].report(now, ok.pair_id, ok.fidelity if at_source else None)

    def net_done(self, now: int, done: NetDone) -> None:
        request = self._ledger[done.request_id]
        request.ends_done += 1
        if request.ends_done == 2:
            self._finish(request, now, "done", None)

    def net_error(self, now: int, error: NetError) -> None:
        request = self._ledger[error.request_id]
        if request.finished:
            return  # the other end reported the same ending already
        status: RequestStatus = "expired" if error.reason == "timeout" else "error"
        self._finish(request, now, status, f"{error.reason}: {error.detail}")

    @staticmethod
    def _finish(request: PairsRequest, now: int, status: RequestStatus, error: str | None) -> None:
        request.status = status
        request.error = error
        request.end_ps = now
