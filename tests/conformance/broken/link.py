"""Link layers that each break one clause of the link contract.

Each subclasses the built-in :class:`LinkLayer` and changes as little as
possible, so the clause named in its docstring is the one that must fail.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from qstack.layers.link.egp import LinkLayer
from qstack.layers.link.messages import LinkCreate, LinkError, LinkExpire, LinkOk, LinkOkBatch
from qstack.layers.link.service import LinkContext, LinkUser, SettingChooser
from qstack.layers.link.state import LinkRequest
from qstack.layers.physical.service import AttemptSetting


class _Rewriting:
    """A user proxy that rewrites each OK on its way up."""

    def __init__(self, inner: LinkUser, layer: LinkLayer) -> None:
        self._inner = inner
        self._layer = layer

    def rewrite(self, ok: LinkOk) -> LinkOk:
        return ok

    def rewrite_batch(self, batch: LinkOkBatch) -> LinkOkBatch:
        return batch

    def link_ok(self, now: int, ok: LinkOk) -> None:
        self._inner.link_ok(now, self.rewrite(ok))

    def link_ok_batch(self, now: int, batch: LinkOkBatch) -> None:
        self._inner.link_ok_batch(now, self.rewrite_batch(batch))

    def link_error(self, now: int, error: LinkError) -> None:
        self._inner.link_error(now, error)

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        self._inner.link_expire(now, expire)


class _ShiftIds(_Rewriting):
    def rewrite(self, ok: LinkOk) -> LinkOk:
        return ok.model_copy(update={"pair_id": ok.pair_id + 1000})

    def rewrite_batch(self, batch: LinkOkBatch) -> LinkOkBatch:
        return batch.model_copy(update={"first_pair_id": batch.first_pair_id + 1000})


class MismatchedPairIdLink(LinkLayer):
    """link/3.2: the ``b`` end reports every pair under another pair id."""

    def bind(self, user: LinkUser) -> None:
        super().bind(_ShiftIds(user, self) if self.side == 1 else user)


class LeakyLink(LinkLayer):
    """link/3.6: a request ending in ERROR while attempting keeps its qubit."""

    def _end(self, now: int, item: LinkRequest, reason: Any, detail: str) -> None:
        if self._armed is item:
            self._physical.cancel(now)
            self._armed = None  # ... and never releases self._armed_qubit
        super()._end(now, item, reason, detail)


class SilentLink(LinkLayer):
    """link/3.7: a CREATE without max_time is silently dropped (never answered).

    Requests with a deadline are served normally, so link/3.1 cannot see it.
    """

    def create(self, now: int, request: LinkCreate) -> int:
        if request.max_time_ps is None:
            return self._take_create_id()
        return super().create(now, request)


class _Inflate(_Rewriting):
    def rewrite(self, ok: LinkOk) -> LinkOk:
        return ok.model_copy(update={"fidelity": min(1.0, ok.fidelity + 0.02)})

    def rewrite_batch(self, batch: LinkOkBatch) -> LinkOkBatch:
        inflated = tuple(min(1.0, fidelity + 0.02) for fidelity in batch.fidelities)
        return batch.model_copy(update={"fidelities": inflated})


class InflatedFidelityLink(LinkLayer):
    """link/3.4: reports each pair's fidelity a little higher than it is."""

    def bind(self, user: LinkUser) -> None:
        super().bind(_Inflate(user, self))


class _AlwaysServe:
    """Settings that accept any min_fidelity with the link's one setting."""

    def __init__(self, inner: SettingChooser) -> None:
        self._inner = inner

    @property
    def best_fidelity(self) -> float:
        return self._inner.best_fidelity

    def setting_for(self, min_fidelity: float) -> AttemptSetting | None:
        return self._inner.setting_for(0.0)


class _ClaimMinimum(_Rewriting):
    def __init__(self, inner: LinkUser, layer: LinkLayer, wanted: dict[tuple[str, int], float]):
        super().__init__(inner, layer)
        self._wanted = wanted

    def rewrite(self, ok: LinkOk) -> LinkOk:
        wanted = self._wanted.get((ok.origin, ok.create_id), 0.0)
        return ok.model_copy(update={"fidelity": max(ok.fidelity, wanted)})

    def rewrite_batch(self, batch: LinkOkBatch) -> LinkOkBatch:
        wanted = self._wanted.get((batch.origin, batch.create_id), 0.0)
        claimed = tuple(max(fidelity, wanted) for fidelity in batch.fidelities)
        return batch.model_copy(update={"fidelities": claimed})


class OverpromisingLink(LinkLayer):
    """link/3.4: accepts a min_fidelity the link cannot reach and reports
    pairs below it as meeting it."""

    def __init__(self, context: LinkContext) -> None:
        super().__init__(dataclasses.replace(context, settings=_AlwaysServe(context.settings)))
        self._wanted: dict[tuple[str, int], float] = {}

    def bind(self, user: LinkUser) -> None:
        super().bind(_ClaimMinimum(user, self, self._wanted))

    def create(self, now: int, request: LinkCreate) -> int:
        self._wanted[(self.node, self.next_create_id)] = request.min_fidelity
        return super().create(now, request)

    def receive(self, now: int, message: Any) -> None:
        request = getattr(message, "request", None)
        if isinstance(request, LinkCreate):
            self._wanted[(message.origin, message.create_id)] = request.min_fidelity
        super().receive(now, message)


class NoFlowControlLink(LinkLayer):
    """link/3.8: takes no notice of a request's ``window``."""

    def create(self, now: int, request: LinkCreate) -> int:
        return super().create(now, request.model_copy(update={"window": None}))

    def _on_queue_add(self, _: LinkLayer, now: int, message: Any) -> None:
        request = message.request.model_copy(update={"window": None})
        super()._on_queue_add(self, now, message.model_copy(update={"request": request}))
