"""Delivery of the kennisgevingen to one subscriber for one zaak: the outbox worker's handler for the targets
``subscriber:<name>`` (the outbox item says only "zaak X changed"; partition ``subscriber:<name>|<zaak url>``, so
order is kept per zaak and subscriber, and a dead item parks that zaak for that subscriber only).

One delivery:

1. a kennisgeving still in flight (sent before, not acknowledged) is sent again, unchanged — same
   referentienummer and body, so a StUF end node that did process it answers its earlier Bv03 (STUF §4.4);
2. the zaak is read from ZGW and compared with the subscriber's snapshot (``state.py``); each kennisgeving of the
   difference is stored as in flight, sent, and on a **Bv03** the snapshot advances to the state after it;
   (an updateZaakdocument: a Bv02, after a checkout that is cancelled when the update fails; a document's content
   goes through a sha256 that is kept in the snapshot with its size);
3. an answer that is no Bv03 ends the delivery: a StUF fault with plek client makes the item dead (sending it again
   changes nothing), anything else (transport errors, HTTP 5xx, server faults) is tried again with backoff by the
   outbox worker.

A zaak of a zaaktype the subscriber does not want is done without a message. A zaak that no longer exists in ZGW
is a zakLk01 V to a stuf-zkn subscriber that knew it; a zds-client subscriber gets nothing (ZDS has no removal).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any
from xml.sax.saxutils import escape

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
from .messages import CHECKED_OUT, Kennisgeving, Sender, cancel_checkout, checkout
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
            outcome = await self.send(subscriber, pending, self._remember(subscriber, zaak_url, identificatie, acked))
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
            message = await self.planner.for_(subscriber).next_message(
                subscriber, acked, state, self._clock, self.zgw.catalogue.informatieobjecttype_by_url, self._digest)
            if message is None:
                if sent:
                    log.info("kennisgevingen_delivered", subscriber=subscriber.name, zaak=state.identificatie,
                             count=sent)
                return DONE
            await self.store.save(subscriber.name, zaak_url, identificatie=state.identificatie, acked=acked,
                                  inflight=message.as_json())
            outcome = await self.send(subscriber, message,
                                      self._remember(subscriber, zaak_url, state.identificatie, acked))
            if outcome.status != "done":
                return outcome
            acked = message.after
            await self.store.save(subscriber.name, zaak_url, identificatie=state.identificatie, acked=acked,
                                  inflight=None)
            sent += 1

    async def _clock(self) -> dt.datetime:
        return await self.store.tick(self.sender.key)

    def _remember(self, subscriber: SubscriberSettings, zaak_url: str, identificatie: str | None,
                  acked: dict[str, Any] | None) -> Callable[[Kennisgeving], Awaitable[None]]:
        """Store the message in flight again (as it changed while being sent: the checkout it holds)."""
        async def remember(message: Kennisgeving) -> None:
            await self.store.save(subscriber.name, zaak_url, identificatie=identificatie, acked=acked,
                                  inflight=message.as_json())

        return remember

    async def send(self, subscriber: SubscriberSettings, message: Kennisgeving,
                   remember: Callable[[Kennisgeving], Awaitable[None]] | None = None) -> Outcome:
        """POST one kennisgeving (a document's content streamed from ZGW as base64); done only on a Bv03. An
        updateZaakdocument_Di02 to a subscriber with VrijeBerichten goes there after a checkout and is done on a
        Bv02 (``_update_document``). ``remember(message)`` stores the message in flight as it changed."""
        if message.operation == "updateZaakdocument" and subscriber.vrije_berichten is not None:
            return await self._update_document(subscriber, message, remember)
        return await self._post(subscriber, message, subscriber.endpoint, "Bv03Bericht")

    async def _update_document(self, subscriber: SubscriberSettings, message: Kennisgeving,
                               remember: Callable[[Kennisgeving], Awaitable[None]] | None) -> Outcome:
        """checkout, updateZaakdocument with its checkedOutId, and a cancelCheckout when the update fails, so that
        the subscriber does not keep the document locked. The checkedOutId is kept with the message in flight until
        the checkout has ended (by the update or the cancel); a retry first cancels a checkout an earlier attempt
        could not end, then checks out anew."""
        assert subscriber.vrije_berichten is not None
        identificatie = str((message.document or {}).get("identificatie"))

        async def keep(changed: Kennisgeving) -> None:
            if remember is not None:
                await remember(changed)

        if message.checked_out is not None:  # an earlier attempt's checkout, still held: end it first
            cancelled = await self._cancel(subscriber, identificatie, message.checked_out)
            if cancelled.status == "retry":
                return cancelled
            message = replace(message, checked_out=None)
            await keep(message)
        checked_out = await self._checkout(subscriber, identificatie)
        if isinstance(checked_out, Outcome):
            return checked_out
        message = replace(message, checked_out=checked_out)
        await keep(message)
        filled = replace(message, head=message.head.replace(CHECKED_OUT.encode(), escape(checked_out).encode()))
        outcome = await self._post(subscriber, filled, subscriber.vrije_berichten, "Bv02Bericht")
        if outcome.status == "done":
            return outcome
        cancelled = await self._cancel(subscriber, identificatie, checked_out)
        if cancelled.status != "retry":
            await keep(replace(message, checked_out=None))
        return outcome

    async def _cancel(self, subscriber: SubscriberSettings, identificatie: str, checked_out: str) -> Outcome:
        """cancelCheckout_Di02 of our checkout: done on a Bv02, and also on a fault with plek client (the subscriber
        holds no such checkout: it ended, or the update did get through); anything else is tried again later."""
        assert subscriber.vrije_berichten is not None
        body, action = cancel_checkout(subscriber, self.sender, await self._clock(), identificatie, checked_out)
        client = self._clients[subscriber.name]
        try:
            response = await client.post(subscriber.vrije_berichten, content=body, headers={
                "content-type": "text/xml; charset=utf-8", "soapaction": f'"{action}"'})
            answer = read_answer(response.status_code, response.headers.get("content-type"), response.content,
                                 endpoint=subscriber.vrije_berichten, **_LIMITS)
        except httpx.HTTPError as exc:
            outcome = Outcome("retry", f"{subscriber.vrije_berichten}: {type(exc).__name__}: {exc}")
        except LegacyError as exc:
            outcome = Outcome("retry", f"subscriber {subscriber.name}: {exc}")
        else:
            try:
                outcome = judge(answer.status, answer.fault)
                if outcome.status == "dead":
                    outcome = DONE
                elif outcome.status == "done" and etree.QName(answer.message).localname != "Bv02Bericht":
                    outcome = Outcome("retry", f"cancelCheckout: HTTP {answer.status} zonder Bv02 "
                                               f"({etree.QName(answer.message).localname})")
            finally:
                answer.close()
        log.info("kennisgeving_cancel_checkout", subscriber=subscriber.name, document=identificatie,
                 outcome=outcome.status, error=outcome.error)
        return outcome

    async def _post(self, subscriber: SubscriberSettings, message: Kennisgeving, endpoint: str,
                    expected: str) -> Outcome:
        """POST one message; done only on an answer ``expected``. A document's content is streamed from ZGW through
        a sha256 on its way; when the message is done, that digest and size go into ``message.after`` (what the
        subscriber has of the content), so that a later version with the same content is not sent again."""
        tally: dict[str, Any] = {}
        content = None
        if message.document and message.document.get("inhoud"):
            content = self._content(message.document, tally)
        client = self._clients[subscriber.name]
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
        if outcome.status == "done" and content is not None and message.document is not None:
            _record_content(message, str(message.document.get("url")), tally["sha256"].hexdigest(), tally["size"])
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

    def _content(self, document: dict[str, Any], tally: dict[str, Any]) -> Callable[[], AsyncIterator[bytes]]:
        """The document's content from ZGW, in pieces, each also fed to ``tally["sha256"]`` and counted in
        ``tally["size"]`` (both started again when the content is streamed again)."""
        zgw = self.zgw

        async def chunks() -> AsyncIterator[bytes]:
            digest = tally["sha256"] = hashlib.sha256()
            tally["size"] = 0
            async with zgw.documenten.stream_download(str(document["inhoud"])) as response:
                async for chunk in response.aiter_bytes(1 << 20):
                    digest.update(chunk)
                    tally["size"] += len(chunk)
                    yield chunk

        return chunks

    async def _digest(self, inhoud: str) -> tuple[str, int]:
        """sha256 (hex) and size of a document's content, streamed from ZGW without holding it."""
        digest, size = hashlib.sha256(), 0
        async with self.zgw.documenten.stream_download(inhoud) as response:
            async for chunk in response.aiter_bytes(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size


def _record_content(message: Kennisgeving, url: str, sha256: str, size: int) -> None:
    """What the subscriber now has of the document's content, in the state it acknowledged (``message.after``)."""
    versies = dict(message.after.get("documentversies") or {})
    if url in versies:
        versies[url] = {**versies[url], "sha256": sha256, "size": size}
        message.after["documentversies"] = versies


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

