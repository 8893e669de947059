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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..legacy.client import LegacyClient
from ..legacy.errors import LegacyNotConfigured
from ..legacy.proxy import LegacyProxy
from ..pipeline.claim import idempotency_key
from ..pipeline.exchange import Exchange, Reply
from ..store import OutboxItem

Translate = Callable[[Exchange], Awaitable[None]]

ZGW_TARGET = "zgw"
LEGACY_TARGET = "legacy:"
_GENERATES = "genereer"


class Replicate:
    """The mode handler for ``Mode.REPLICATE``."""

    def __init__(self, client: LegacyClient, translate: Translate | None = None):
        self.client = client
        self.proxy = LegacyProxy(client)
        self.translate = translate  # the gateway's translate flow (set once the gateway exists)

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
                return
            if await self._legacy(x, service.value) and replicated:
                x.outbox.append(await self._item(x, ZGW_TARGET))
            return
        assert self.translate is not None, "Replicate.translate is set when the gateway is built"
        if replicated:  # no legacy endpoint for this service: a fault before anything changed, not a dead item later
            self.client.endpoint(service)
        await self.translate(x)
        if replicated:
            x.outbox.append(await self._item(x, f"{LEGACY_TARGET}{service.value}"))

    async def _legacy(self, x: Exchange, service: str) -> bool:
        """Call legacy with the raw request; its answer becomes the reply. True when it is no fault."""
        assert x.raw is not None and x.operation is not None
        answer = await self.client.call(x.service or x.operation.service, x.raw.rewound().read(),
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

    async def _item(self, x: Exchange, target: str) -> OutboxItem:
        assert x.raw is not None and x.operation is not None and x.stuurgegevens is not None
        key = idempotency_key(x.operation, x.stuurgegevens)
        assert key is not None
        return OutboxItem(await partition_key(x), target, x.raw.rewound().read(), x.content_type, x.soap_action,
                          f"{key[0]}|{key[1]}|{target}")


async def partition_key(x: Exchange) -> str:
    """What orders delivery: the zaak (for a message naming only a document: the zaak it was linked to), else
    ``doc:<identificatie>``, else ``msg:<referentienummer>``."""
    subject, sg = x.subject, x.stuurgegevens
    if subject is not None and subject.zaak:
        return subject.zaak
    if subject is not None and subject.documenten:
        zaak = await x.env.store.document_zaak(subject.documenten[0])
        return zaak or f"doc:{subject.documenten[0]}"
    return f"msg:{sg.referentienummer if sg is not None else ''}"
