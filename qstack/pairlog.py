"""A record of every delivered pair, written as the run goes (``qstack run
--pairs FILE``): the report itself keeps running statistics only, so a long
run's memory does not grow with the pairs it delivers."""

from __future__ import annotations

import csv
from typing import IO

from qstack.layers.app.base import Session
from qstack.sim.kernel import ps_to_seconds

#: The columns of the pair record file, in order.
PAIR_COLUMNS = ("request", "pair_id", "time_s", "fidelity", "latency_s")


class PairLog:
    """Writes one CSV row per pair a session counts (both ends reported it):
    the request's name, the pair id, when both ends had it, the
    source-reported fidelity and the latency from the request's start."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out, lineterminator="\n")
        self._writer.writerow(PAIR_COLUMNS)

    def attach(self, sessions: list[Session]) -> None:
        """Record the pairs of every session of a run."""
        for session in sessions:
            session.pair_sink = self.record

    def record(
        self, session: Session, pair_id: str, time_ps: int, fidelity: float, latency_ps: int
    ) -> None:
        self._writer.writerow(
            (session.name, pair_id, ps_to_seconds(time_ps), fidelity, ps_to_seconds(latency_ps))
        )
