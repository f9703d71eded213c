"""The ``pairs`` application: ask for entangled pairs, record, free at once.

It is the simplest user of the link service and the one the benchmarks and
validation tests use: every delivered pair's true fidelity and delivery
time is recorded at the request's origin, and both ends free their qubits
as soon as the pair is reported, so memory never limits the rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from qstack.hardware.memory import Memory
from qstack.layers.link.egp import LinkLayer
from qstack.layers.link.messages import LinkCreate, LinkError, LinkExpire, LinkOk

RequestStatus = Literal["running", "done", "error", "expired"]


@dataclass(slots=True)
class PairsRequest:
    """What one scenario request asked for and what it got."""

    src: str
    dst: str
    create: LinkCreate
    start_ps: int
    status: RequestStatus = "running"
    error: str | None = None
    end_ps: int | None = None
    delivered: int = 0
    fidelity_sum: float = 0.0
    latency_sum_ps: int = 0
    fidelities: list[float] = field(default_factory=list)
    pair_ids: list[int] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status != "running"


class PairsApp:
    """The ``pairs`` application entity of one node, bound above its links."""

    holder = "app/pairs"

    def __init__(self, node: str, memory: Memory, links: dict[str, LinkLayer]) -> None:
        self.node = node
        self._memory = memory
        self._links = links
        self._requests: dict[tuple[str, int], PairsRequest] = {}
        self.on_finished: list[PairsRequest] = []

    def start(self, now: int, request: PairsRequest) -> None:
        """Issue the request's CREATE on the link towards its destination."""
        link = self._links[request.dst]
        self._requests[(request.dst, link.next_create_id)] = request
        link.create(now, request.create)

    def link_ok(self, now: int, ok: LinkOk) -> None:
        if ok.qubit is not None:
            self._memory.release(now, ok.qubit, self.holder)
        if ok.origin != self.node:
            return
        request = self._requests[(ok.remote, ok.create_id)]
        request.delivered += 1
        request.fidelity_sum += ok.fidelity
        request.latency_sum_ps += now - request.start_ps
        request.fidelities.append(ok.fidelity)
        request.pair_ids.append(ok.pair_id)
        if request.delivered == request.create.number:
            self._finish(now, ok.remote, ok.create_id, "done", None)

    def link_error(self, now: int, error: LinkError) -> None:
        if error.origin != self.node:
            return
        status: RequestStatus = "expired" if error.reason == "timeout" else "error"
        self._finish(now, error.remote, error.create_id, status, f"{error.reason}: {error.detail}")

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        self._memory.release(now, expire.qubit, self.holder)

    def _finish(
        self, now: int, peer: str, create_id: int, status: RequestStatus, error: str | None
    ) -> None:
        request = self._requests.pop((peer, create_id))
        request.status = status
        request.error = error
        request.end_ps = now
        self.on_finished.append(request)
