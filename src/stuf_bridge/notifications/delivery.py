"""Delivery of the kennisgevingen to one subscriber for one zaak: the outbox worker's handler for the targets
``subscriber:<name>`` (the outbox item says only "zaak X changed"; partition ``subscriber:<name>|<zaak url>``, so
order is kept per zaak and subscriber, and a dead item parks that zaak for that subscriber only).

One delivery:

1. a kennisgeving still in flight (sent before, not acknowledged) is sent again, unchanged — same
   referentienummer and body, so a StUF end node that did process it answers its earlier Bv03 (STUF §4.4);
2. the zaak is read from ZGW and compared with the subscriber's snapshot (``state.py``); each kennisgeving of the
   difference is stored as in flight, sent, and on a **Bv03** the snapshot advances to the state after it;
3. an answer that is no Bv03 ends the delivery: a StUF fault with plek client makes the item dead (sending it again
   changes nothing), anything else (transport errors, HTTP 5xx, server faults) is tried again with backoff by the
   outbox worker.

A zaak of a zaaktype the subscriber does not want is done without a message. A zaak that no longer exists in ZGW
is a zakLk01 V to a stuf-zkn subscriber that knew it; a zds-client subscriber gets nothing (ZDS has no removal).
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
from xml.sax.saxutils import escape
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import structlog
from lxml import etree

from ..legacy.answers import read_answer
from ..legacy.errors import LegacyError
from ..outbox.worker import DONE, Outcome, judge
from ..store import OutboxEntry
from ..zgw import ZgwClients
from ..zgw.errors import ZgwError
from .config import NotificationSettings, SubscriberSettings
from .messages import CHECKED_OUT, Kennisgeving, Sender, checkout
from .sealing import SealError
from .state import Planner, read_state
from .store import NotificationStore

log = structlog.get_logger(__name__)

TARGET = "subscriber:"
_LIMITS = {"max_bytes": 16 * 1024 * 1024, "max_depth": 200, "max_document_bytes": 16 * 1024 * 1024}


def target(subscriber: str) -> str:
    return f"{TARGET}{subscriber}"


def partition(subscriber: str, zaak_url: str) -> str:
    return f"{TARGET}{subscriber}|{zaak_url}"


class SubscriberDelivery:
    """The handler of ``subscriber:<name>`` outbox items (``OutboxWorker(handlers=...)``)."""

    def __init__(self, settings: NotificationSettings, store: NotificationStore, zgw: ZgwClients, planner: Planner,
                 sender: Sender, *, transport: httpx.AsyncBaseTransport | None = None,
                 before: Callable[[str], Awaitable[None]] | None = None):
        self.settings = settings
        self.store = store
        self.zgw = zgw
        self.planner = planner
        self.sender = sender
        self.before = before  # waits for the echo guard's snapshot updates of a subscriber (echo.py)
        self._clients = {s.name: _client(s, transport) for s in settings.subscribers}

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def __call__(self, entry: OutboxEntry) -> Outcome:
        name = entry.target.removeprefix(TARGET)
        subscriber = self.settings.subscriber(name)
        if subscriber is None:
            return Outcome("dead", f"geen subscriber {name!r} (meer) ingesteld")
        try:
            zaak_url = str(json.loads(entry.payload)["zaak"])
        except (ValueError, KeyError, TypeError):
            return Outcome("dead", "onleesbaar outbox-item")
        if self.before is not None:
            await self.before(name)
        try:
            return await self.deliver(subscriber, zaak_url)
        except ZgwError as exc:
            return Outcome("retry", f"ZGW: {exc}")
        except SealError as exc:  # another key: sending a difference against nothing would be wrong
            return Outcome("dead", str(exc))

    async def deliver(self, subscriber: SubscriberSettings, zaak_url: str) -> Outcome:
        snapshot = await self.store.snapshot(subscriber.name, zaak_url)
        acked, identificatie = snapshot.acked, snapshot.identificatie
        sent = 0
        if snapshot.inflight is not None:  # sent before, not acknowledged: the same message again
            pending = Kennisgeving.from_json(snapshot.inflight)
            outcome = await self.send(subscriber, pending)
            if outcome.status != "done":
                return outcome
            acked = pending.after
            await self.store.save(subscriber.name, zaak_url, identificatie=identificatie, acked=acked, inflight=None)
            sent = 1
        state = await read_state(self.zgw, zaak_url, documents=subscriber.documents)
        if state is None:
            log.info("kennisgeving_zaak_gone", subscriber=subscriber.name, zaak=zaak_url, known=acked is not None)
            if acked is None or acked.get("removed"):
                return DONE
            removal = await self.planner.removal(subscriber, acked, self._clock)
            if removal is None:
                return DONE
            await self.store.save(subscriber.name, zaak_url, identificatie=identificatie, acked=acked,
                                  inflight=removal.as_json())
            outcome = await self.send(subscriber, removal)
            if outcome.status == "done":
                await self.store.save(subscriber.name, zaak_url, identificatie=identificatie, acked=removal.after,
                                      inflight=None)
            return outcome
        if not subscriber.wants(state.zaaktype_code):
            return DONE
        while True:
            message = await self.planner.for_(subscriber).next_message(subscriber, acked, state, self._clock,
                                                      self.zgw.catalogue.informatieobjecttype_by_url)
            if message is None:
                if sent:
                    log.info("kennisgevingen_delivered", subscriber=subscriber.name, zaak=state.identificatie,
                             count=sent)
                return DONE
            await self.store.save(subscriber.name, zaak_url, identificatie=state.identificatie, acked=acked,
                                  inflight=message.as_json())
            outcome = await self.send(subscriber, message)
            if outcome.status != "done":
                return outcome
            acked = message.after
            await self.store.save(subscriber.name, zaak_url, identificatie=state.identificatie, acked=acked,
                                  inflight=None)
            sent += 1

    async def _clock(self) -> dt.datetime:
        return await self.store.tick(self.sender.key)

    async def send(self, subscriber: SubscriberSettings, message: Kennisgeving) -> Outcome:
        """POST one kennisgeving (a document's content streamed from ZGW as base64); done only on a Bv03. An
        updateZaakdocument_Di02 goes to the VrijeBerichten endpoint after a checkout, and is done on a Bv02."""
        content = self._content(message.document) if message.document and message.document.get("inhoud") else None
        client = self._clients[subscriber.name]
        endpoint, expected = subscriber.endpoint, "Bv03Bericht"
        if message.operation == "updateZaakdocument" and subscriber.vrije_berichten is not None:
            endpoint, expected = subscriber.vrije_berichten, "Bv02Bericht"
            checked_out = await self._checkout(subscriber, str((message.document or {}).get("identificatie")))
            if isinstance(checked_out, Outcome):
                return checked_out
            message = Kennisgeving(message.operation, message.referentienummer, message.soap_action,
                                   message.head.replace(CHECKED_OUT.encode(), escape(checked_out).encode()),
                                   message.tail, message.document, message.after)
        headers = {"content-type": "text/xml; charset=utf-8", "soapaction": f'"{message.soap_action}"',
                   "accept-encoding": "identity"}
        try:
            request = client.build_request("POST", endpoint, content=message.body(content), headers=headers)
            response = await client.send(request)
        except httpx.HTTPError as exc:
            return Outcome("retry", f"{endpoint}: {type(exc).__name__}: {exc}")
        except ZgwError as exc:
            return Outcome("retry", f"document {message.document}: {exc}")
        try:
            answer = read_answer(response.status_code, response.headers.get("content-type"), response.content,
                                 endpoint=endpoint, **_LIMITS)
        except LegacyError as exc:
            return Outcome("retry", f"subscriber {subscriber.name}: {exc}")
        try:
            outcome = judge(answer.status, answer.fault)
            if outcome.status == "done" and etree.QName(answer.message).localname != expected:
                outcome = Outcome("retry", f"HTTP {answer.status} zonder {expected[:4]} "
                                           f"({etree.QName(answer.message).localname})")
        finally:
            answer.close()
        log.info("kennisgeving_sent", subscriber=subscriber.name, operation=message.operation,
                 referentienummer=message.referentienummer, outcome=outcome.status, error=outcome.error)
        return outcome

    async def _checkout(self, subscriber: SubscriberSettings, identificatie: str) -> str | Outcome:
        """geefZaakdocumentbewerken_Di02 to the subscriber's VrijeBerichten: its checkedOutId, or the outcome of a
        failure (a fault with plek client: dead; anything else: retried)."""
        assert subscriber.vrije_berichten is not None
        body, action = checkout(subscriber, self.sender, await self._clock(), identificatie)
        client = self._clients[subscriber.name]
        try:
            response = await client.post(subscriber.vrije_berichten, content=body, headers={
                "content-type": "text/xml; charset=utf-8", "soapaction": f'"{action}"'})
            answer = read_answer(response.status_code, response.headers.get("content-type"), response.content,
                                 endpoint=subscriber.vrije_berichten, **_LIMITS)
        except httpx.HTTPError as exc:
            return Outcome("retry", f"{subscriber.vrije_berichten}: {type(exc).__name__}: {exc}")
        except LegacyError as exc:
            return Outcome("retry", f"subscriber {subscriber.name}: {exc}")
        try:
            outcome = judge(answer.status, answer.fault)
            if outcome.status != "done":
                return outcome
            found = answer.message.find(".//{*}checkedOutId")
            if found is None or not (found.text or "").strip():
                return Outcome("retry", f"checkout van {identificatie}: geen checkedOutId in het antwoord "
                                        f"({etree.QName(answer.message).localname})")
            log.info("kennisgeving_checkout", subscriber=subscriber.name, document=identificatie)
            return (found.text or "").strip()
        finally:
            answer.close()

    def _content(self, document: dict[str, Any]) -> Callable[[], AsyncIterator[bytes]]:
        zgw = self.zgw

        async def chunks() -> AsyncIterator[bytes]:
            async with zgw.documenten.stream_download(str(document["inhoud"])) as response:
                async for chunk in response.aiter_bytes(1 << 20):
                    yield chunk

        return chunks


def _client(subscriber: SubscriberSettings, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    auth = None
    if subscriber.username is not None:
        auth = httpx.BasicAuth(subscriber.username,
                               subscriber.password.get_secret_value() if subscriber.password else "")
    verify: ssl.SSLContext | bool = True
    if subscriber.ca_bundle is not None or subscriber.client_cert is not None:
        verify = ssl.create_default_context(cafile=str(subscriber.ca_bundle) if subscriber.ca_bundle else None)
        if subscriber.client_cert is not None:
            verify.load_cert_chain(str(subscriber.client_cert),
                                   str(subscriber.client_key) if subscriber.client_key else None)
    return httpx.AsyncClient(timeout=httpx.Timeout(subscriber.timeout), verify=verify, auth=auth,
                             transport=transport, follow_redirects=False)

