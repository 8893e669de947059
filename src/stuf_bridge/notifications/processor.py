"""The inbox worker: notifications become deliveries in the outbox, one per zaak and subscriber.

A notification waits ``notifications.coalesce_seconds`` in the inbox; then every notification due is read at once,
its zaak found (``hoofdObject`` for kanaal zaken; the zaken a document is linked to for documenten; the besluit's
zaak for besluiten; other kanalen concern no zaak), and per zaak one outbox item is written for each subscriber
(target ``subscriber:<name>``). A burst about one zaak thus becomes one item per subscriber, and an item already
waiting for the same zaak makes a later one cheap: the delivery sends only what differs from the snapshot.

The items are written before the notifications are marked processed; a crash in between writes the same items again
(their ``idem_key`` names the last notification they cover), which the outbox ignores.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json

import structlog

from ..store import OutboxItem, Store, StoreError
from ..zgw import ZgwClients
from ..zgw.errors import ZgwClientError, ZgwError
from .config import NotificationSettings
from .delivery import partition, target
from .store import Notification, NotificationStore

log = structlog.get_logger(__name__)

PURGE_EVERY = dt.timedelta(hours=1)


class InboxProcessor:
    def __init__(self, settings: NotificationSettings, store: Store, inbox: NotificationStore, zgw: ZgwClients):
        self.settings = settings
        self.store = store
        self.inbox = inbox
        self.zgw = zgw
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._purged: dt.datetime | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="stuf-bridge-notifications")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), 10)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        log.info("notification_worker_started", subscribers=[s.name for s in self.settings.subscribers])
        while not self._stopping.is_set():
            try:
                await self.process_once()
                await self._purge()
            except StoreError as exc:
                log.warning("notification_store_error", error=str(exc))
            except Exception:  # a bug must not end the processing of every notification
                log.exception("notification_worker_error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.poll_seconds)

    async def process_once(self) -> int:
        """Turn the due notifications into outbox items; how many notifications were processed."""
        due = await self.inbox.due(dt.timedelta(seconds=self.settings.coalesce_seconds))
        if not due:
            return 0
        zaken: dict[str, int] = {}  # zaak URL -> the last notification about it
        done: list[int] = []
        errors: dict[int, str] = {}
        for entry in due:
            try:
                urls = await self.zaken_of(entry.notification)
            except ZgwClientError as exc:  # refused for good (gone, no rights): nothing to send for it
                errors[entry.id] = str(exc)[:2000]
                urls = []
            except ZgwError as exc:  # ZGW unreachable: this one and the later ones wait for the next round
                log.warning("notification_zaak_unresolved", error=str(exc),
                            resource_url=entry.notification.resource_url)
                break
            for url in urls:
                zaken[url] = entry.id
            done.append(entry.id)
        items = [OutboxItem(partition(s.name, url), target(s.name), json.dumps({"zaak": url}).encode(),
                            "application/json", None, f"kennisgeving|{s.name}|{url}|{last}",
                            kind="kennisgeving")
                 for url, last in zaken.items() for s in self.settings.subscribers]
        await self.store.enqueue_outbox(items)
        await self.inbox.processed(done, errors)
        if done:
            log.info("notifications_processed", count=len(done), zaken=len(zaken), items=len(items))
        return len(done)

    async def zaken_of(self, notification: Notification) -> list[str]:
        """The zaken a notification is about (URLs)."""
        if notification.kanaal == "zaken":
            return [notification.hoofd_object]
        if notification.kanaal == "documenten":
            document = notification.hoofd_object or notification.resource_url
            zios = await self.zgw.zaken.list("zaakinformatieobjecten", {"informatieobject": document})
            return sorted({str(z["zaak"]) for z in zios if z.get("zaak")})
        if notification.kanaal == "besluiten":
            besluit = await self.zgw.besluiten.get(notification.hoofd_object)
            return [str(besluit["zaak"])] if besluit.get("zaak") else []
        return []

    async def _purge(self) -> None:
        now = dt.datetime.now(dt.UTC)
        if self._purged is not None and now - self._purged < PURGE_EVERY:
            return
        self._purged = now
        purged = await self.inbox.purge(dt.timedelta(hours=self.settings.inbox_retention_hours))
        if purged:
            log.info("notifications_purged", count=purged)
