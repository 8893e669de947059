"""The replicate mode: the primary is called synchronously and the client gets the primary's answer; the secondary
leg goes into the outbox, written in the same transaction as the message's idempotency record (the claim stage does
the writing: this handler only puts the items on ``x.outbox``), so it is stored before the answer goes out
(STUF §4.4.1) and delivered by the worker (``worker.py``).

* primary **legacy**: the raw request goes to the legacy zaaksysteem; its answer goes to the client as it came
  (status code included). On success a ``zgw`` item holds the raw request, translated later by the worker. A legacy
  fault, or no usable answer, leaves no item (the claim is released: a resend is processed anew).
* primary **zgw**: the translate flow runs; on success a ``legacy:<Service>`` item holds the raw request, sent on
  unchanged later (same referentienummer: a StUF end node answers a repeat with its earlier answer).
* questions (Lv01) go to the primary only: nothing changes, so there is nothing to replicate.
* genereer*Identificatie: one issuer only. With primary legacy the legacy system issues the number (it stays the
  single issuer its own later messages rely on), with primary zgw the gateway's sequence does; nothing is forwarded,
  so the two sides never hand out numbers from two counters for the same range.

A tenant's message (``tenants:``, ``x.env.tenant``) writes an item that records its tenant: target, partition and
idem_key are ``tenant=NAME|...`` (``security/tenants.py``, ``scoped``), so the worker delivers it with that tenant's
ZGW clients or legacy endpoints (also after a restart), and one municipality's zaak never holds back another's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import structlog

from ..legacy.client import LegacyClient
from ..legacy.errors import LegacyNotConfigured
from ..legacy.proxy import LegacyProxy
from ..pipeline.claim import digest, idempotency_key
from ..pipeline.exchange import Exchange, Reply
from ..security.tenants import scoped
from ..settings import IdempotencyPolicy
from ..store import OutboxItem, StoreError
from .store import drop_hold, hold, spool

log = structlog.get_logger(__name__)

Translate = Callable[[Exchange], Awaitable[None]]

ZGW_TARGET = "zgw"
LEGACY_TARGET = "legacy:"
_GENERATES = "genereer"

#: The idem_keys of the intents whose primary call is under way in this process: the sweep leaves them alone however
#: long the call takes (``outbox.intent_seconds`` only has to cover calls of other processes).
LIVE_INTENTS: set[str] = set()


class Replicate:
    """The mode handler for ``Mode.REPLICATE``.

    Around the primary call the secondary leg's item is an intent (``outbox/store.py``, ``hold``): written as
    ``held`` before the call, turned pending by the commit of the message's answer, dropped when the primary failed.
    A process killed between the primary's answer and that commit leaves the intent, which the worker's sweep
    settles, so the secondary leg is not lost in that window either."""

    def __init__(self, client: LegacyClient, translate: Translate | None = None):
        self.client = client
        self.proxy = LegacyProxy(client)
        self.translate = translate  # the gateway's translate flow (set once the gateway exists)
        #: called after the primary answered a question (issue 15: ``compare_reads`` samples it for the outbox)
        self.on_read: Callable[[Exchange], Awaitable[None]] | None = None

    async def __call__(self, x: Exchange) -> None:
        assert x.operation is not None and x.stuurgegevens is not None and x.route is not None
        if x.raw is None:  # the read stage keeps the bytes only when a legacy side is configured
            raise LegacyNotConfigured("legacy.endpoints", "geen legacy-zaaksysteem ingesteld")
        key = idempotency_key(x.operation, x.stuurgegevens)
        replicated = key is not None and not x.operation.function.startswith(_GENERATES)
        service = x.service or x.operation.service
        if x.route.primary == "legacy":
            if key is None:  # a question: answered by legacy, streamed as in proxy
                await self.proxy(x)
                if self.on_read is not None:
                    await self.on_read(x)
                return
            item = await self._item(x, ZGW_TARGET, f"{ZGW_TARGET}:{service.value}") if replicated else None
            await self._primary(x, item, lambda: self._legacy(x))
            return
        assert self.translate is not None, "Replicate.translate is set when the gateway is built"
        if not replicated:
            await self.translate(x)
            if key is None and self.on_read is not None:
                await self.on_read(x)
            return
        self.client.endpoint(service)  # no legacy endpoint for this service: a fault before anything changed
        translate = self.translate

        async def primary() -> bool:
            await translate(x)
            return True

        await self._primary(x, await self._item(x, f"{LEGACY_TARGET}{service.value}"), primary)

    async def _primary(self, x: Exchange, item: OutboxItem | None, call: Callable[[], Awaitable[bool]]) -> None:
        """Call the primary with the secondary leg's intent held around it; on success the item goes on
        ``x.outbox`` (written with the answer by the claim stage), else the intent is dropped."""
        if item is None:
            await call()
            return
        store = x.env.store
        await hold(store, item, due_in=dt.timedelta(seconds=x.env.settings.outbox.intent_seconds))
        landed = False
        LIVE_INTENTS.add(item.idem_key)
        try:
            landed = await call()
        finally:
            LIVE_INTENTS.discard(item.idem_key)
            if landed:
                x.outbox.append(item)
            else:
                try:
                    await drop_hold(store, item)
                except StoreError as exc:  # the sweep settles it later (the primary refused: nothing to replicate)
                    log.warning("outbox_intent_drop_failed", idem_key=item.idem_key, error=str(exc))

    async def _legacy(self, x: Exchange) -> bool:
        """Call legacy with the raw request (streamed from its spool); its answer becomes the reply. True when it is
        no fault."""
        assert x.raw is not None and x.operation is not None
        answer = await self.client.call(x.service or x.operation.service, x.raw.rewound(), length=x.raw.size,
                                        soap_action=x.soap_action, content_type=x.content_type or "text/xml")
        try:
            x.reply = Reply(answer.status, answer.content_type, answer.body)
            if answer.fault is not None or not 200 <= answer.status < 300:
                x.reply.outcome, x.reply.fault_reason = "legacy-fault", "legacy-fault"
                x.reply.fault_code = answer.fault.code if answer.fault else None
                return False
            x.answer = answer.message  # stored by claim: a resend gets this answer again
            return True
        finally:
            answer.close()

    async def _item(self, x: Exchange, leg: str, target: str | None = None) -> OutboxItem:
        """The secondary leg: the raw request in the row, or (above ``outbox.inline_bytes``) in a blob. ``leg`` is
        in its idem_key; ``target`` (default ``leg``) also names, for ZGW, the service the primary was sent to."""
        assert x.raw is not None and x.operation is not None and x.stuurgegevens is not None
        key = idempotency_key(x.operation, x.stuurgegevens)
        assert key is not None
        tenant = x.env.tenant
        target = scoped(tenant, target or leg)
        partition, idem = await partition_key(x), scoped(tenant, f"{key[0]}|{key[1]}|{leg}")
        zender = x.stuurgegevens.zender
        assert zender is not None and x.request is not None
        if x.env.settings.idempotency_policy_for(zender.organisatie, zender.applicatie) is not IdempotencyPolicy.STRICT:
            # a sender that may reuse a referentienummer for another message: the body tells the items apart
            idem = f"{idem}|{digest(x.request.body, x.request.contents)[:32]}"
        if x.raw.size > x.env.settings.outbox.inline_bytes:
            blob = await spool(x.env.store, x.raw.rewound(), x.raw.size)
            return OutboxItem(partition, target, b"", x.content_type, x.soap_action, idem, payload_ref=blob,
                              payload_size=x.raw.size)
        return OutboxItem(partition, target, x.raw.rewound().read(), x.content_type, x.soap_action, idem,
                          payload_size=x.raw.size)


async def partition_key(x: Exchange) -> str:
    """What orders delivery: the zaak (for a message naming only a document: the zaak it was linked to), else
    ``doc:<identificatie>``, else ``msg:<referentienummer>``; for a tenant's message ``tenant=NAME|`` before it."""
    subject, sg, tenant = x.subject, x.stuurgegevens, x.env.tenant
    if subject is not None and subject.zaak:
        return scoped(tenant, subject.zaak)
    if subject is not None and subject.documenten:
        zaak = await x.env.store.document_zaak(scoped(tenant, subject.documenten[0]))
        return scoped(tenant, zaak or f"doc:{subject.documenten[0]}")
    return scoped(tenant, f"msg:{sg.referentienummer if sg is not None else ''}")
