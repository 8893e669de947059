"""No loops, no echoes: what a legacy system changed through the gateway is not sent back to it.

The gateway hands every answered message to its recorders (``pipeline/record.py``). For a message that changed a
zaak in ZGW (a changing message, not replayed, not proxied, answered without a fault) the echo guard updates the
snapshot of

* the subscriber that **sent** it (its zender is the subscriber's ``stuf`` identity), and
* on a replicate route, the subscribers that are the **replicate target** (they get the change through
  replicate's secondary leg, or made it themselves as the primary),

to the zaak as ZGW has it right after the message. The notification that follows the change then finds nothing new
for them, while every other subscriber still gets it. The update runs in the background; deliveries to such a
subscriber wait for it first (``wait``), and the inbox's coalescing window gives it time besides.

A change by someone else that lands in the same instant is absorbed in the subscriber's snapshot too (the same
trade-off as in the recommendation this follows, SIDE-BY-SIDE R8).
"""

from __future__ import annotations

import asyncio

import structlog

from ..pipeline.claim import idempotency_key
from ..pipeline.exchange import Exchange, Reply
from ..pipeline.route import Mode
from ..store import StoreError
from ..zgw import ZgwClients
from ..zgw.errors import ZgwError
from .config import NotificationSettings, SubscriberSettings
from .state import Planner, read_state
from .sealing import SealError
from .store import NotificationStore

log = structlog.get_logger(__name__)


class EchoGuard:
    """A recorder of the gateway (and of the outbox worker's replica gateway)."""

    def __init__(self, settings: NotificationSettings, store: NotificationStore, zgw: ZgwClients, planner: Planner,
                 replicate_targets: set[str]):
        self.settings = settings
        self.store = store
        self.zgw = zgw
        self.planner = planner
        self.replicate_targets = replicate_targets
        self._pending: dict[str, set[asyncio.Task[None]]] = {}

    def record(self, x: Exchange, reply: Reply, seconds: float) -> None:
        if reply.outcome != "ok" or reply.replayed or x.operation is None or x.stuurgegevens is None:
            return
        if x.route is not None and x.route.mode == Mode.PROXY:
            return
        if idempotency_key(x.operation, x.stuurgegevens) is None:  # a question changes nothing
            return
        zaak = x.subject.zaak if x.subject is not None else None
        if not zaak:
            return
        zender = x.stuurgegevens.zender
        who = [s for s in self.settings.subscribers
               if zender is not None and s.stuf.matches(zender.organisatie, zender.applicatie)]
        if x.route is not None and (x.route.mode == Mode.REPLICATE or x.route.replica):
            who += [s for s in self.settings.subscribers if s.name in self.replicate_targets and s not in who]
        for subscriber in who:
            task = asyncio.get_running_loop().create_task(self.refresh(subscriber, zaak))
            tasks = self._pending.setdefault(subscriber.name, set())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    async def wait(self, subscriber: str) -> None:
        """Until the snapshot updates under way for ``subscriber`` are written."""
        tasks = list(self._pending.get(subscriber, ()))
        if tasks:
            await asyncio.wait(tasks, timeout=30)

    async def refresh(self, subscriber: SubscriberSettings, identificatie: str) -> None:
        """The subscriber knows zaak ``identificatie`` as ZGW has it now."""
        try:
            found = await self.zgw.zaken.list("zaken", {"identificatie": identificatie})
            for zaak in (z for z in found if z.get("identificatie") == identificatie):
                state = await read_state(self.zgw, str(zaak["url"]), documents=subscriber.documents)
                if state is None:
                    continue
                known = await self.planner.for_(subscriber).snapshot_of(
                    state, self.zgw.catalogue.informatieobjecttype_by_url)
                snapshot = await self.store.snapshot(subscriber.name, str(zaak["url"]))
                inflight = snapshot.inflight
                if inflight is not None:  # once it is acknowledged, the subscriber knows this much too
                    inflight = {**inflight, "after": known}
                await self.store.save(subscriber.name, str(zaak["url"]), identificatie=identificatie, acked=known,
                                      inflight=inflight)
                log.info("kennisgeving_echo_suppressed", subscriber=subscriber.name, zaak=identificatie)
        except (ZgwError, StoreError, SealError) as exc:
            log.warning("kennisgeving_echo_snapshot_failed", subscriber=subscriber.name, zaak=identificatie,
                        error=str(exc))
