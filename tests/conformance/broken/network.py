"""Network layers that each break one clause of the network contract."""

from __future__ import annotations

from qstack.layers.network.circuit import Circuit, Segment
from qstack.layers.network.messages import NetErrorReason
from qstack.layers.network.qnp import NetworkLayer


class UncorrectedNetworkLayer(NetworkLayer):
    """net/4.4: the destination forgets the Pauli-frame correction but still
    delivers the pair as Phi+."""

    def _correct(self, now: int, segment: Segment) -> None:
        pass


class SplitPairIdNetworkLayer(NetworkLayer):
    """net/4.2: the destination names each pair differently from the source."""

    def _deliver_at_destination(
        self, now: int, circuit: Circuit, segment: Segment, pair_id: str
    ) -> None:
        super()._deliver_at_destination(now, circuit, segment, f"{self.node}:{pair_id}")


class CarriesOnWhenDownNetworkLayer(NetworkLayer):
    """net/4.8: takes no notice of its own node's failure: its circuits and
    their timers carry on while the node is down."""

    def node_failed(self, now: int) -> None:
        pass

    def node_recovered(self, now: int) -> None:
        pass


class TellsBusyNetworkLayer(NetworkLayer):
    """net/4.9: a source told its circuit was refused for memory gives up
    and tells its application ``busy`` instead of trying again."""

    def _admit_later(self, now: int, old: Circuit) -> None:
        reason: NetErrorReason = "busy"
        self._answer_error(now, old.request_id, old.dst, reason, "refused", old.delivered)
