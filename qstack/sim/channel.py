"""Classical channels: one link layer's peer messages over its own fiber."""

from __future__ import annotations

from collections.abc import Callable

from qstack.messages import PeerMessage
from qstack.sim.classical import ClassicalNetwork
from qstack.sim.kernel import Simulator
from qstack.sim.trace import Tracer, TraceRecord


class ClassicalChannel:
    """One direction of a fiber link carrying one layer's peer messages.

    Delivery takes ``delay_ps`` (length / speed of light in fiber) and keeps
    the sending order; in a degraded run the classical network retransmits
    what the fiber loses, and a message the cut fiber cannot carry comes
    back to ``undeliverable``.
    """

    __slots__ = (
        "_deliver",
        "_fiber",
        "_network",
        "_route",
        "_sim",
        "_tracer",
        "_undeliverable",
        "delay_ps",
        "layer",
        "receiver",
        "sender",
    )

    def __init__(
        self,
        sim: Simulator,
        network: ClassicalNetwork,
        sender: str,
        receiver: str,
        layer: str,
        delay_ps: int,
        deliver: Callable[[PeerMessage], None],
        undeliverable: Callable[[PeerMessage], None] | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        if delay_ps < 0:
            raise ValueError(f"delay_ps = {delay_ps}: must be >= 0")
        self._sim = sim
        self._network = network
        self.sender = sender
        self.receiver = receiver
        self.layer = layer
        self.delay_ps = delay_ps
        self._route = (sender, receiver)
        self._fiber = frozenset(self._route)
        self._deliver = deliver
        self._undeliverable = undeliverable
        self._tracer = tracer

    def send(self, message: PeerMessage) -> None:
        if self._tracer is not None:
            self._tracer.record(
                TraceRecord(self._sim.now, self.sender, self.layer, "send", message, self.receiver)
            )
        self._network.send(
            self.sender,
            self.receiver,
            self._route,
            self.delay_ps,
            self._arrive,
            message,
            self._undeliverable,
            self._fiber,
        )

    def _arrive(self, message: PeerMessage) -> None:
        if self._tracer is not None:
            self._tracer.record(
                TraceRecord(self._sim.now, self.receiver, self.layer, "recv", message, self.sender)
            )
        self._deliver(message)
