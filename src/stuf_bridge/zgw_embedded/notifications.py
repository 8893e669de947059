"""Notifications from the embedded backend, as Open Zaak sends them (Notificaties API 1.0 messages).

Every successful write (create, update, partial_update, destroy) of a resource Open Zaak notifies about is told to
the configured callbacks *after* its transaction committed: the request's answer has been produced by then, and the
middleware sees only what was committed. Kanalen, ``hoofdObject``, ``resource``, ``actie`` and ``kenmerken`` follow
Open Zaak (``components/*/api/kanalen.py``): ``zaken`` (hoofdObject the zaak, for its sub-resources too; kenmerken
bronorganisatie, zaaktype, vertrouwelijkheidaanduiding), ``documenten`` (enkelvoudiginformatieobject; bronorganisatie,
informatieobjecttype, vertrouwelijkheidaanduiding) and ``besluiten`` (besluit; verantwoordelijke_organisatie,
besluittype). Lock, unlock, bestandsdelen and searches (``_zoek``) notify nothing, as in Open Zaak.

Delivery runs in the background, per callback one after the other, with retries and exponential backoff (Open Zaak:
Celery autoretry); a notification that still fails after the last attempt is logged as failed
(``zgw_notification_failed``, Open Zaak's "failed notifications" list). The queue is a table of the backend's own
store (``notification_queue``): a notification is written there as soon as the write's answer is out, and removed
once delivered, so what is queued when the process stops is sent after the restart — at least once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .db import Database
from .refs import absolute

log = structlog.get_logger(__name__)

_UUID = r"[0-9a-fA-F-]{36}"
# (api, collection) -> (kanaal, resource, table)
_RESOURCES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("zaken", "zaken"): ("zaken", "zaak", "zaak"),
    ("zaken", "statussen"): ("zaken", "status", "status"),
    ("zaken", "rollen"): ("zaken", "rol", "rol"),
    ("zaken", "resultaten"): ("zaken", "resultaat", "resultaat"),
    ("zaken", "zaakinformatieobjecten"): ("zaken", "zaakinformatieobject", "zaakinformatieobject"),
    ("zaken", "zaakobjecten"): ("zaken", "zaakobject", "zaakobject"),
    ("zaken", "zaakeigenschappen"): ("zaken", "zaakeigenschap", "zaakeigenschap"),
    ("zaken", "besluiten"): ("zaken", "zaakbesluit", "zaakbesluit"),
    ("documenten", "enkelvoudiginformatieobjecten"): ("documenten", "enkelvoudiginformatieobject",
                                                       "enkelvoudiginformatieobject"),
    ("documenten", "gebruiksrechten"): ("documenten", "gebruiksrechten", "gebruiksrechten"),
    ("besluiten", "besluiten"): ("besluiten", "besluit", "besluit"),
    ("besluiten", "besluitinformatieobjecten"): ("besluiten", "besluitinformatieobject", "besluitinformatieobject"),
}
_PATH = re.compile(rf"^/(?P<api>zaken|documenten|besluiten)/api/v1/(?:zaken/(?P<zaak>{_UUID})/)?"
                   rf"(?P<collection>[a-z]+)(?:/(?P<uuid>{_UUID}))?/?$")
_ACTIONS = {"POST": "create", "PUT": "update", "PATCH": "partial_update", "DELETE": "destroy"}
# the main object of each kanaal: table, and the kenmerken taken from it (kenmerk -> field)
_MAIN = {
    "zaken": ("zaak", {"bronorganisatie": "bronorganisatie", "zaaktype": "zaaktype",
                       "vertrouwelijkheidaanduiding": "vertrouwelijkheidaanduiding"}),
    "documenten": ("enkelvoudiginformatieobject", {"bronorganisatie": "bronorganisatie",
                                                   "informatieobjecttype": "informatieobjecttype",
                                                   "vertrouwelijkheidaanduiding": "vertrouwelijkheidaanduiding"}),
    "besluiten": ("besluit", {"verantwoordelijke_organisatie": "verantwoordelijkeOrganisatie",
                              "besluittype": "besluittype"}),
}
# the field of a sub-resource that names its main object
_PARENT_FIELD = {"zaken": "zaak", "documenten": "informatieobject", "besluiten": "besluit"}
_MAX_CAPTURED = 4 * 1024 * 1024


@dataclass(frozen=True)
class NotificationTarget:
    """A callback: its URL and the literal ``Authorization`` value sent with each notification. ``name`` keys its
    queue in the store (default: the URL); the gateway's own callback is ``own``, so that what was queued for it
    before a restart reaches it at its address and with its token after the restart."""

    url: str
    auth: str | None = None
    name: str | None = None

    @property
    def key(self) -> str:
        return self.name or self.url


_QUEUE_TABLE = ("CREATE TABLE IF NOT EXISTS notification_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                "target TEXT NOT NULL, body TEXT NOT NULL, queued_at TEXT NOT NULL)")


@dataclass
class Notifier:
    """The callbacks and the queue of notifications towards each (one sender task per callback, started lazily).

    With a ``database`` (as ``create_app`` builds it) the queue is a table in the backend's own store: a
    notification is written there right after the write's answer and removed once its callback answered 2xx
    (or its attempts ran out), so what a stopped process had not delivered yet is delivered after the restart
    (``resume``). Without one, the queue is in memory."""

    targets: list[NotificationTarget] = field(default_factory=list)
    attempts: int = 8
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    database: Database | None = None
    _queues: dict[str, asyncio.Queue[dict[str, Any]]] = field(default_factory=dict)
    _wake: dict[str, asyncio.Event] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _client: httpx.AsyncClient | None = None

    def __post_init__(self) -> None:
        if self.database is not None:
            self.database.conn.execute(_QUEUE_TABLE)

    def add_target(self, target: NotificationTarget) -> None:
        if target in self.targets:
            return
        self.targets = [t for t in self.targets if t.key != target.key] + [target]

    def send(self, message: dict[str, Any]) -> None:
        """Queue ``message`` for every callback."""
        if self.database is not None:
            body = json.dumps(message)
            now = dt.datetime.now(dt.UTC).isoformat()
            with self.database.tx():
                for target in self.targets:
                    self.database.conn.execute("INSERT INTO notification_queue (target, body, queued_at) "
                                               "VALUES (?, ?, ?)", (target.key, body, now))
        for target in self.targets:
            if self.database is None:
                queue = self._queues.get(target.key)
                if queue is None:
                    queue = self._queues[target.key] = asyncio.Queue()
                queue.put_nowait(message)
            self._start(target)

    def resume(self) -> int:
        """Start delivering what the store still holds for the callbacks (after a restart); how many."""
        if self.database is None:
            return 0
        waiting = 0
        for target in self.targets:
            count = int(self.database.conn.execute("SELECT count(*) FROM notification_queue WHERE target = ?",
                                                   (target.key,)).fetchone()[0])
            if count:
                log.info("zgw_notifications_resumed", callback=target.url, waiting=count)
                self._start(target)
                waiting += count
        return waiting

    def _start(self, target: NotificationTarget) -> None:
        self._wake.setdefault(target.key, asyncio.Event()).set()
        task = self._tasks.get(target.key)
        if task is None or task.done():
            self._tasks[target.key] = asyncio.get_running_loop().create_task(
                self._deliver(target.key), name=f"zgw-notifications {target.url}")

    def waiting(self) -> int:
        """Notifications not yet delivered (or given up on)."""
        if self.database is not None:
            keys = [t.key for t in self.targets]
            if not keys:
                return len(self._busy)
            marks = ", ".join("?" for _ in keys)
            query = f"SELECT count(*) FROM notification_queue WHERE target IN ({marks})"
            return int(self.database.conn.execute(query, keys).fetchone()[0]) + len(self._busy)
        return sum(q.qsize() for q in self._queues.values()) + len(self._busy)

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until every queue is empty (tests, shutdown)."""
        async with asyncio.timeout(timeout):
            while self.waiting():
                await asyncio.sleep(0.01)

    async def close(self) -> None:
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._busy.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _next(self, key: str) -> tuple[int | None, dict[str, Any]] | None:
        if self.database is not None:
            row = self.database.conn.execute("SELECT seq, body FROM notification_queue WHERE target = ? "
                                             "ORDER BY seq LIMIT 1", (key,)).fetchone()
            return (int(row[0]), json.loads(row[1])) if row is not None else None
        queue = self._queues.get(key)
        return (None, queue.get_nowait()) if queue is not None and not queue.empty() else None

    async def _deliver(self, key: str) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, transport=self.transport)
        client = self._client
        wake = self._wake.setdefault(key, asyncio.Event())
        while True:
            wake.clear()
            found = self._next(key)
            if found is None:
                await wake.wait()
                continue
            target = next((t for t in self.targets if t.key == key), None)
            if target is None:
                return
            headers = {"content-type": "application/json"}
            if target.auth:
                headers["authorization"] = target.auth
            seq, message = found
            self._busy.add(key)
            try:
                await self._post(client, target, headers, message)
                if seq is not None and self.database is not None:
                    self.database.conn.execute("DELETE FROM notification_queue WHERE seq = ?", (seq,))
            finally:
                self._busy.discard(key)

    async def _post(self, client: httpx.AsyncClient, target: NotificationTarget, headers: dict[str, str],
                    message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        error = ""
        for attempt in range(1, self.attempts + 1):
            try:
                answer = await client.post(target.url, content=body, headers=headers)
                if answer.is_success:
                    return
                error = f"HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if attempt < self.attempts:
                delay = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
                log.warning("zgw_notification_retry", callback=target.url, error=error, attempt=attempt,
                            delay_seconds=delay, resource_url=message.get("resourceUrl"))
                await asyncio.sleep(delay)
        log.error("zgw_notification_failed", callback=target.url, error=error, kanaal=message.get("kanaal"),
                  resource_url=message.get("resourceUrl"), actie=message.get("actie"))


class NotifyingMiddleware:
    """Tells the notifier about every committed write the request made (see the module's docstring)."""

    def __init__(self, app: ASGIApp, notifier: Notifier, database: Callable[[], Database]):
        self.app = app
        self.notifier = notifier
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        action = _ACTIONS.get(scope.get("method", "")) if scope["type"] == "http" else None
        if action is None or not self.notifier.targets:
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path") or ""
        path: str = scope["path"]
        if root and path.startswith(root):
            path = path[len(root):]
        match = _PATH.match(path)
        resource = _RESOURCES.get((match["api"], match["collection"])) if match else None
        if match is None or resource is None or (match["uuid"] is None) != (action == "create"):
            await self.app(scope, receive, send)
            return
        base = _base(scope, root)
        before = self._read(resource[2], match["uuid"], base) if action == "destroy" else None
        status: list[int] = []
        captured = bytearray()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            elif message["type"] == "http.response.body" and len(captured) < _MAX_CAPTURED:
                captured.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if not status or not 200 <= status[0] < 300:
            return
        try:
            doc: dict[str, Any] | None = before if action == "destroy" else json.loads(bytes(captured))
            resource_url = base + path.lstrip("/") if action == "destroy" else str(doc["url"])  # type: ignore[index]
        except (ValueError, KeyError, TypeError):
            log.warning("zgw_notification_unreadable_answer", path=path)
            return
        kanaal, name, _table = resource
        message = self._message(kanaal, name, action, resource_url, doc or {}, match["zaak"], base)
        if message is not None:
            self.notifier.send(message)

    def _message(self, kanaal: str, name: str, action: str, resource_url: str, doc: dict[str, Any],
                 zaak_uuid: str | None, base: str) -> dict[str, Any] | None:
        main_table, kenmerk_fields = _MAIN[kanaal]
        if name == main_table:
            hoofd, main = resource_url, doc
        else:
            if zaak_uuid is not None:
                hoofd = f"{base}zaken/api/v1/zaken/{zaak_uuid}"
            else:
                hoofd = str(doc.get(_PARENT_FIELD[kanaal]) or "")
            if not hoofd:
                return None
            main = self._read(main_table, hoofd.rstrip("/").rsplit("/", 1)[-1], base) or {}
        kenmerken = {kenmerk: str(main[f]) for kenmerk, f in kenmerk_fields.items() if main.get(f) is not None}
        return {"kanaal": kanaal, "hoofdObject": hoofd, "resource": name, "resourceUrl": resource_url,
                "actie": action, "aanmaakdatum": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
                "kenmerken": kenmerken}

    def _read(self, table: str, uuid: str | None, base: str) -> dict[str, Any] | None:
        """A stored document with its references absolute (the state before a destroy; a main object)."""
        if uuid is None:
            return None
        database = self.database()
        doc = database.get(table, uuid.lower())
        if doc is None:
            return None
        return {k: absolute(v, base) if isinstance(v, str) else v for k, v in doc.items()}


def _base(scope: Scope, root: str) -> str:
    """Scheme, host, port and mount prefix, with a trailing slash (as ``refs.base_url`` builds it)."""
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}{root.rstrip('/')}/"


def targets_from(values: Sequence[NotificationTarget | dict[str, Any]]) -> list[NotificationTarget]:
    return [v if isinstance(v, NotificationTarget) else NotificationTarget(str(v["url"]), v.get("auth"))
            for v in values]
