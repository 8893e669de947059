"""The outbox worker: delivers replicate's secondary leg, at least once and in order per zaak.

It claims the next due item (``Store.claim_outbox``: the oldest pending item whose zaak has nothing older still
pending, inflight, held or dead; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several gateway processes share the
work and never hold the same item), delivers it, and records the outcome:

* delivered (a 2xx answer that is no fault) — ``done``;
* transport error, timeout, an answer that is no SOAP, HTTP 5xx, a StUF fault with plek server (or none) — tried
  again after an exponential backoff with jitter, until ``outbox.max_attempts``;
* a StUF fault with plek client (the message itself is refused: sending it again changes nothing), or too many
  attempts — ``dead``: it holds back that zaak's later items (order is kept) but no other zaak's, until an operator
  retries or skips it (``stuf-bridge outbox retry|skip ID``).

Towards legacy the stored request goes unchanged (same referentienummer: a StUF end node answers a repeat with its
earlier answer); towards ZGW it is translated through the gateway's own pipeline with a route marked ``replica``
(its idempotency record is its own), so a retry after a crash mid-delivery is answered from that record rather than
creating anything twice; its ZGW writes are journalled under that record, so a delivery killed halfway (or whose
answer was lost) is resolved by recovery or by the retry's claim before anything is written again. A killed
process's inflight items go back to pending when their lease runs out.

When nothing is due it sweeps: an intent item (``held``, written by replicate before its primary call) past
``outbox.intent_seconds`` belongs to a process that died between the primary's answer and the commit of the item;
``sweep_once`` settles it (see there; for primary zgw through a ``PrimaryCheck``). At start and then hourly it purges
finished items (``outbox/store.py``).

A tenant's item (``tenants:``; its target and partition start with ``tenant=NAME|``, ``outbox/replicate.py``) is
delivered and settled by that tenant's own worker (``tenants``: its legacy endpoints, its ZGW clients through a
replica gateway in its environment, its primary check), whichever process claims it; an item of a tenant the
settings no longer name is parked as dead (``outbox retry`` once the tenant is back).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

import structlog
from lxml import etree

from ..legacy.answers import LegacyFault, stuf_fault
from ..legacy.client import LegacyClient
from ..legacy.errors import LegacyError, LegacyNotConfigured
from ..pipeline.exchange import Reply
from ..pipeline.route import Mode, Route
from ..security.tenants import unscoped
from ..store import OutboxEntry, Store, StoreError
from ..stuf.registry import Operation, Service
from ..stuf.stuurgegevens import Stuurgegevens
from ..stuf.subject import Subject
from .config import OutboxSettings
from .replicate import LEGACY_TARGET, LIVE_INTENTS, ZGW_TARGET
from .primary import PrimaryUndecided
from .store import claim_held, drop_blob, payload, purge, settle_held

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Outcome:
    """done | retry | dead, and what went wrong."""

    status: str
    error: str | None = None


DONE = Outcome("done")

#: Seconds between two purges of finished items.
PURGE_EVERY = 3600.0

#: Runs a stored request through the translate flow: (service, payload in pieces, content_type, soap_action) -> the
#: reply (read whole).
TranslateRequest = Callable[[Service | None, AsyncIterable[bytes], str | None, str | None], Awaitable[Reply]]

#: Settles an intent item whose process died, for a primary ``zgw``: did the primary write land in ZGW? True (yes:
#: deliver the secondary leg), False (no: nothing to replicate), None (cannot tell: the item is parked as dead for an
#: operator). The gateway plugs in ``ZgwPrimaryCheck``; a journal of ZGW write steps can answer better.
PrimaryCheck = Callable[[OutboxEntry], Awaitable[bool | None]]
#: Delivers the items of another feature's targets, by target prefix (``subscriber:``: the notifications).
Handler = Callable[[OutboxEntry], Awaitable[Outcome]]


class ReplicaRouter:
    """The router of the worker's gateway: every message translated, as a replica (its own idempotency records)."""

    async def route(self, operation: Operation, stuurgegevens: Stuurgegevens, subject: Subject) -> Route:
        return Route(Mode.TRANSLATE, "zgw", "outbox", subject.zaaktype, "message" if subject.zaaktype else None,
                     replica=True)


def judge(status: int, fault: LegacyFault | None) -> Outcome:
    """What an answer means for the item: a client fault is for good, anything else that is no success may pass."""
    if fault is not None:
        what = f"HTTP {status}, StUF {fault.code or '-'} plek {fault.plek or '-'}: {fault.omschrijving or ''}"
        return Outcome("dead" if fault.plek == "client" else "retry", what)
    if 200 <= status < 300:
        return DONE
    return Outcome("retry", f"HTTP {status}")


def reply_fault(body: bytes) -> LegacyFault | None:
    """The StUF fault in one of the gateway's own fault answers (None when it is not one)."""
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError:
        return None
    soap_body = next((el for el in root if isinstance(el.tag, str) and etree.QName(el).localname == "Body"), None)
    message = next((el for el in soap_body if isinstance(el.tag, str)), None) if soap_body is not None else None
    return stuf_fault(message) if message is not None else None


class OutboxWorker:
    """One delivery loop (``start``/``stop`` with the app). ``deliver_once`` is one step, for tests and tools."""

    def __init__(self, store: Store, settings: OutboxSettings, *, legacy: LegacyClient | None,
                 translate: TranslateRequest | None, rng: Callable[[], float] = random.random,
                 primary_check: PrimaryCheck | None = None,
                 backfill: Callable[[OutboxEntry], Awaitable[Outcome]] | None = None,
                 handlers: dict[str, Handler] | None = None, tenants: Mapping[str, OutboxWorker] | None = None):
        self.store = store
        self.tenants = dict(tenants or {})  # each tenant's delivery (its clients), for its items
        self.backfill = backfill  # delivers ``backfill:*`` items (migration/backfill.py)
        self.handlers = dict(handlers or {})
        self.settings = settings
        self.legacy = legacy
        self.translate = translate
        self.rng = rng
        self.primary_check = primary_check
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._next_purge = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="stuf-bridge-outbox")

    async def stop(self, grace: float = 10.0) -> None:
        """Let the delivery under way finish (up to ``grace`` seconds), then end the loop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        log.info("outbox_worker_started")
        while not self._stopping.is_set():
            try:
                await self._housekeeping()
                delivered = await self.deliver_once() or await self.sweep_once()
            except StoreError as exc:  # the store is down: try again later, the items are safe in it
                log.warning("outbox_store_error", error=str(exc))
                delivered = False
            except Exception:  # a bug must not end delivery for every zaak
                log.exception("outbox_worker_error")
                delivered = False
            if not delivered:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.settings.poll_seconds)
        log.info("outbox_worker_stopped")

    async def _housekeeping(self) -> None:
        """The purge of finished items, at start and then hourly."""
        now = asyncio.get_running_loop().time()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        purged = await purge(self.store, dt.timedelta(hours=self.settings.retention_hours))
        if purged:
            log.info("outbox_purged", count=purged)

    async def sweep_once(self) -> bool:
        """Settle one intent item whose process died between its primary call and the commit of its answer; False
        when there is none.

        * primary legacy (the item is for ``zgw``): the stored request goes to legacy again with the same
          referentienummer — an end node answers a repeat with its earlier answer, and one that never got it
          processes it now (the client, which got no answer, would resend it anyway). A success: the item becomes
          pending and ZGW gets it; a fault plek client: legacy refused it, nothing to replicate (skipped); anything
          else: tried again later.
        * primary zgw (the item is for legacy): ``primary_check`` asks whether the write landed in ZGW.
        """
        entry = await claim_held(self.store, dt.timedelta(seconds=self.settings.lease_seconds))
        if entry is None:
            return False
        fields = {"item": entry.id, "target": entry.target, "partition": entry.partition_key}
        if entry.idem_key in LIVE_INTENTS:  # its primary call is still under way in this process: look again later
            log.info("outbox_intent_still_live", **fields)
            return True
        tenant, own = self._tenant(entry)
        if own is not None:
            await own.settle(_for_tenant(entry))
        elif tenant is not None:
            await settle_held(self.store, entry, "dead", f"tenant {tenant!r} is niet (meer) ingesteld")
            log.error("outbox_tenant_unknown", tenant=tenant, **fields)
        else:
            await self.settle(entry)
        return True

    async def settle(self, entry: OutboxEntry) -> None:
        """Settle one claimed intent item (see :meth:`sweep_once`)."""
        fields = {"item": entry.id, "target": entry.target, "partition": entry.partition_key}
        if is_zgw(entry.target):
            try:
                outcome = await self._to_legacy(entry)
            except (StoreError, LegacyError, OSError) as exc:
                outcome = Outcome("retry", str(exc))
            if outcome.status == "done":
                await settle_held(self.store, entry, "pending", "primary legacy bevestigd na herstart")
                log.warning("outbox_intent_settled", outcome="pending", **fields)
            elif outcome.status == "dead":
                await settle_held(self.store, entry, "skipped", f"primary legacy weigerde: {outcome.error}")
                log.warning("outbox_intent_settled", outcome="skipped", error=outcome.error, **fields)
            else:
                log.warning("outbox_intent_unsettled", error=outcome.error, **fields)  # due again after the lease
            return
        try:
            landed = await self.primary_check(entry) if self.primary_check is not None else None
        except PrimaryUndecided as exc:  # still being processed or recovered: due again after the lease
            log.warning("outbox_intent_unsettled", error=str(exc), **fields)
            return
        if landed is None:
            await settle_held(self.store, entry, "dead", "onbekend of de ZGW-kant (primary) het bericht verwerkte: "
                              "controleer ZGW, dan stuf-bridge outbox retry ID (wel) of skip ID (niet)")
        else:
            await settle_held(self.store, entry, "pending" if landed else "skipped",
                              "primary ZGW bevestigd na herstart" if landed else "primary ZGW verwerkte het niet")
        log.warning("outbox_intent_settled", outcome={None: "dead", True: "pending", False: "skipped"}[landed],
                    **fields)

    async def deliver_once(self) -> bool:
        """Claim and deliver one item; False when none was due."""
        entry = await self.store.claim_outbox(dt.timedelta(seconds=self.settings.lease_seconds))
        if entry is None:
            return False
        try:
            outcome = await self.deliver(entry)
        except (StoreError, LegacyError) as exc:
            outcome = Outcome("retry", str(exc))
        except Exception as exc:
            log.exception("outbox_delivery_error", item=entry.id)
            outcome = Outcome("retry", f"{type(exc).__name__}: {exc}")
        await self.record(entry, outcome)
        return True

    def _tenant(self, entry: OutboxEntry) -> tuple[str | None, OutboxWorker | None]:
        """The tenant an item records, and that tenant's worker (None when the settings do not name it)."""
        tenant, _ = unscoped(entry.target)
        return tenant, self.tenants.get(tenant) if tenant is not None else None

    async def deliver(self, entry: OutboxEntry) -> Outcome:
        tenant, own = self._tenant(entry)
        if own is not None:
            return await own.deliver(_for_tenant(entry))
        if tenant is not None:
            return Outcome("dead", f"tenant {tenant!r} is niet (meer) ingesteld")
        for prefix, handler in self.handlers.items():
            if entry.target.startswith(prefix):
                return await handler(entry)
        if entry.target.startswith(LEGACY_TARGET):
            return await self._to_legacy(entry)
        if is_zgw(entry.target):
            if self.translate is None:
                return Outcome("dead", "geen ZGW-backend in deze gateway")
            service = _service(entry.target.partition(":")[2])
            reply = await self.translate(service, payload(self.store, entry), entry.content_type, entry.soap_action)
            return judge(reply.status, reply_fault(reply.body) if reply.status != 200 else None)
        if entry.target.startswith("backfill:") and self.backfill is not None:
            return await self.backfill(entry)
        return Outcome("dead", f"onbekend doel {entry.target!r}")

    async def _to_legacy(self, entry: OutboxEntry) -> Outcome:
        """The stored request to legacy, streamed from its row or blob: for an item for legacy to its service, for
        one for ZGW (the sweep's resend to a primary legacy) to the service its primary was sent to."""
        if self.legacy is None:
            return Outcome("dead", "geen legacy-zaaksysteem ingesteld")
        name = entry.target.partition(":")[2]
        try:
            service = Service(name)
            body = payload(self.store, entry) if entry.payload_ref is not None else entry.payload
            answer = await self.legacy.call(service, body, soap_action=entry.soap_action,
                                            content_type=entry.content_type or "text/xml", length=entry.payload_size)
        except ValueError:
            return Outcome("dead", f"onbekende service {name!r}")
        except LegacyNotConfigured as exc:
            return Outcome("dead", str(exc))
        try:
            return judge(answer.status, answer.fault)
        finally:
            answer.close()

    def backoff(self, attempts: int) -> dt.timedelta:
        """Exponential with jitter: between half and all of base * 2^(attempts - 1), at most the maximum."""
        s = self.settings
        full = min(s.backoff_max_seconds, s.backoff_base_seconds * 2 ** min(attempts - 1, 62))
        return dt.timedelta(seconds=full / 2 + self.rng() * full / 2)

    async def record(self, entry: OutboxEntry, outcome: Outcome) -> None:
        fields = {"item": entry.id, "target": entry.target, "partition": entry.partition_key,
                  "attempts": entry.attempts}
        if outcome.status == "done":
            await self.store.outbox_done(entry.id)
            await drop_blob(self.store, entry.payload_ref)
            log.info("outbox_delivered", **fields)
        elif outcome.status == "dead" or entry.attempts >= self.settings.max_attempts:
            await self.store.outbox_dead(entry.id, outcome.error or "")
            log.error("outbox_dead", error=outcome.error, **fields)
        else:
            delay = self.backoff(entry.attempts)
            await self.store.outbox_retry_later(entry.id, outcome.error or "", delay)
            log.warning("outbox_retry", error=outcome.error, delay_seconds=round(delay.total_seconds(), 3), **fields)



def _for_tenant(entry: OutboxEntry) -> OutboxEntry:
    """A tenant's item as its tenant's worker sees it: target and partition without ``tenant=NAME|``."""
    return replace(entry, target=unscoped(entry.target)[1], partition_key=unscoped(entry.partition_key)[1])


def is_zgw(target: str) -> bool:
    """An item for ZGW: ``zgw``, or ``zgw:<Service>`` naming the service its primary legacy was sent to."""
    return target == ZGW_TARGET or target.startswith(f"{ZGW_TARGET}:")


def _service(name: str) -> Service | None:
    try:
        return Service(name)
    except ValueError:
        return None
