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
(``zgw_notification_failed``, Open Zaak's "failed notifications" list). Like Open Zaak's, delivery is at least once
for a running process: what is queued when the process stops is not sent.
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
    """A callback: its URL and the literal ``Authorization`` value sent with each notification."""

    url: str
    auth: str | None = None


@dataclass
class Notifier:
    """The callbacks and the queue of notifications towards each (one sender task per callback, started lazily)."""

    targets: list[NotificationTarget] = field(default_factory=list)
    attempts: int = 8
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    _queues: dict[str, asyncio.Queue[dict[str, Any]]] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _client: httpx.AsyncClient | None = None

    def add_target(self, target: NotificationTarget) -> None:
        if target not in self.targets:
            self.targets.append(target)

    def send(self, message: dict[str, Any]) -> None:
        """Queue ``message`` for every callback."""
        for target in self.targets:
            queue = self._queues.get(target.url)
            if queue is None:
                queue = self._queues[target.url] = asyncio.Queue()
            queue.put_nowait(message)
            task = self._tasks.get(target.url)
            if task is None or task.done():
                self._tasks[target.url] = asyncio.get_running_loop().create_task(
                    self._deliver(target, queue), name=f"zgw-notifications {target.url}")

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until every queue is empty (tests, shutdown)."""
        async with asyncio.timeout(timeout):
            for queue in self._queues.values():
                await queue.join()

    async def close(self) -> None:
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _deliver(self, target: NotificationTarget, queue: asyncio.Queue[dict[str, Any]]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, transport=self.transport)
        client = self._client
        headers = {"content-type": "application/json"}
        if target.auth:
            headers["authorization"] = target.auth
        while True:
            message = await queue.get()
            try:
                await self._post(client, target, headers, message)
            finally:
                queue.task_done()

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
