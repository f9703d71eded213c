"""Classical channels: ordered, delayed delivery of peer messages."""

from __future__ import annotations

from collections.abc import Callable

from qstack.messages import PeerMessage
from qstack.sim.kernel import Simulator
from qstack.sim.trace import Tracer, TraceRecord


class ClassicalChannel:
    """One direction of a fiber link carrying one layer's peer messages.

    Delivery takes ``delay_ps`` (length / speed of light in fiber) and keeps
    the sending order, which the kernel's FIFO tie-break guarantees.
    """

    __slots__ = ("_deliver", "_sim", "_tracer", "delay_ps", "layer", "receiver", "sender")

    def __init__(
        self,
        sim: Simulator,
        sender: str,
        receiver: str,
        layer: str,
        delay_ps: int,
        deliver: Callable[[PeerMessage], None],
        tracer: Tracer | None = None,
    ) -> None:
        if delay_ps < 0:
            raise ValueError(f"delay_ps = {delay_ps}: must be >= 0")
        self._sim = sim
        self.sender = sender
        self.receiver = receiver
        self.layer = layer
        self.delay_ps = delay_ps
        self._deliver = deliver
        self._tracer = tracer

    def send(self, message: PeerMessage) -> None:
        if self._tracer is not None:
            self._tracer.record(
                TraceRecord(self._sim.now, self.sender, self.layer, "send", message, self.receiver)
            )
        self._sim.schedule(self.delay_ps, self._arrive, message)

    def _arrive(self, message: PeerMessage) -> None:
        if self._tracer is not None:
            self._tracer.record(
                TraceRecord(self._sim.now, self.receiver, self.layer, "recv", message, self.sender)
            )
        self._deliver(message)
