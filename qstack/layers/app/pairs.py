"""The ``pairs`` application: ask for end-to-end pairs, record, free at once.

It is the simplest user of the network service and the one the benchmarks
and validation tests use: every delivered pair's true fidelity and delivery
times are recorded, and both ends free their qubits as soon as the pair is
reported, so the application never holds memory.
"""

from __future__ import annotations

from qstack.layers.app.base import AppHost, SessionRecord
from qstack.layers.network.messages import NetDone, NetError, NetOk


class PairsRequest(SessionRecord):
    """A ``pairs`` session. A pair counts as delivered once both ends have
    reported it (matched by pair id); its fidelity is the one the source
    reported, its latency runs from the request's start to the later of the
    two reports."""

    app = "pairs"

    def net_ok(self, host: AppHost, now: int, ok: NetOk) -> None:
        if ok.qubit is not None:
            host.release(now, ok.qubit)
        self.count(host, now, ok)

    def net_done(self, host: AppHost, now: int, done: NetDone) -> None:
        self.ends_done += 1
        if self.ends_done == 2:
            self.finish(now, "done", None)

    def net_error(self, host: AppHost, now: int, error: NetError) -> None:
        self.fail(now, error)
