"""The trace recorder: one more recorder of the record stage (``Gateway(recorders=[...])``), writing every message's
trace to the store, off the message's path.

``started`` and ``record`` only put the exchange in a queue (a few microseconds). A writer task wakes every
``trace.flush_seconds``: it builds the rows (serialising, masking, cutting) and writes the whole batch in one
transaction. A message still being handled at that moment gets an ``in-progress`` row, completed by a later batch.
When the store cannot keep up, the queue is bounded: traces beyond ``queue_limit`` are dropped and counted, and the
messages themselves never wait. A second task prunes by age and total size every ``trace.prune_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from lxml import etree

from ..store import StoreError
from .config import TraceSettings
from .privacy import Masker, body, cut, digest_marker
from .store import TraceStore

if TYPE_CHECKING:
    from ..pipeline.exchange import Exchange, Reply

log = structlog.get_logger(__name__)

_BSN_TAGS = tuple(f"{{*}}{name}" for name in ("inp.bsn", "bsn", "BSN", "burgerservicenummer"))
_RSIN_TAGS = ("{*}bronorganisatie", "{*}verantwoordelijkeOrganisatie", "{*}rsin", "{*}inn.nnpId")


@dataclass
class _Entry:
    x: Exchange
    received_at: dt.datetime
    settings: TraceSettings  # as they were when the message came in: they decide whether and how it is traced
    reply: Reply | None = None
    seconds: float | None = None
    row_id: int | None = None  # written as in progress
    wanted: bool | None = None


class TraceRecorder:
    """Queue in, batches out. ``start()`` the writer with the app, ``stop()`` it (writing what is left) at shutdown."""

    def __init__(self, store: TraceStore, settings: Callable[[], TraceSettings],
                 on_dropped: Callable[[], None] | None = None):
        self.store = store
        self._settings = settings  # read at each message: tests and reloads may change them
        self._open: dict[int, _Entry] = {}  # started, not answered, by id(exchange)
        self._done: list[_Entry] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._pruner: asyncio.Task[None] | None = None
        self._on_dropped = on_dropped
        self.dropped = 0
        self.written = 0

    # --- the record stage's hooks (on the message's path: keep them cheap) ---

    def started(self, x: Exchange) -> None:
        settings = self._settings()
        if settings.mode == "off":
            return
        if len(self._open) + len(self._done) >= settings.queue_limit:
            self._drop()
            return
        self._open[id(x)] = _Entry(x, dt.datetime.now(dt.UTC), settings,
                                   wanted=True if settings.mode == "all" else None)

    def record(self, x: Exchange, reply: Reply, seconds: float) -> None:
        entry = self._open.pop(id(x), None)
        if entry is None:
            return
        entry.reply, entry.seconds = reply, seconds
        self._done.append(entry)

    def _drop(self) -> None:
        self.dropped += 1
        if self._on_dropped is not None:
            self._on_dropped()
        if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
            log.warning("trace_dropped", dropped=self.dropped, reason="the trace store does not keep up")

    # --- the writer ---

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        self._pruner = asyncio.get_running_loop().create_task(self._prune_loop())

    async def stop(self) -> None:
        for task in (self._pruner, self._writer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._pruner = self._writer = None
        with contextlib.suppress(StoreError):
            await self.flush(final=True)

    async def _write_loop(self) -> None:
        while True:
            await asyncio.sleep(self._settings().flush_seconds)
            try:
                await self.flush()
            except StoreError as exc:
                log.warning("trace_write_failed", error=str(exc))
            except Exception:  # noqa: BLE001 - a bad trace must not stop the writer
                log.exception("trace_write_failed")

    async def _prune_loop(self) -> None:
        while True:
            settings = self._settings()
            try:
                gone = await self.store.prune(dt.timedelta(days=settings.retention_days),
                                              int(settings.max_total_mb * 1024 * 1024))
                if gone:
                    log.info("traces_pruned", count=gone)
            except StoreError as exc:
                log.warning("trace_prune_failed", error=str(exc))
            await asyncio.sleep(settings.prune_seconds)

    async def flush(self, *, final: bool = False) -> int:
        """Write what is waiting: the answered messages whole, the open ones (``final``: none) as in progress."""
        done, self._done = self._done, []
        inserts: list[dict[str, Any]] = []
        updates: list[tuple[int, dict[str, Any]]] = []
        for number, entry in enumerate(done):
            if not self._wanted(entry):
                continue
            if number and not final:
                await asyncio.sleep(0)  # one row at a time: the messages go on between them
            row = build_row(entry.x, entry.received_at, entry.reply, entry.seconds, entry.settings)
            if entry.row_id is not None:
                updates.append((entry.row_id, row))
            else:
                inserts.append(row)
        now = dt.datetime.now(dt.UTC)
        fresh = [] if final else [
            e for e in self._open.values()
            if e.row_id is None and e.received_at <= now - dt.timedelta(seconds=e.settings.in_progress_after_seconds)
            and self._wanted(e)]
        started = [build_row(entry.x, entry.received_at, None, None, entry.settings) for entry in fresh]
        if not inserts and not updates and not started:
            return 0
        ids = await self.store.write(inserts, updates, started)
        for entry, row_id in zip(fresh, ids, strict=True):
            entry.row_id = row_id
        count = len(inserts) + len(updates) + len(started)
        self.written += count
        return count

    @staticmethod
    def _wanted(entry: _Entry) -> bool:
        """Whether the message is traced: with mode ``all`` decided when it came in, with ``some`` once its operation
        and sender are known (by the settings it came in under)."""
        if entry.wanted is not None:
            return entry.wanted
        x = entry.x
        if x.operation is None and entry.reply is None:
            return False  # not known yet: decided once it is
        zender = x.stuurgegevens.zender if x.stuurgegevens else None
        entry.wanted = entry.settings.wants(x.operation.name if x.operation else None,
                                            zender.organisatie if zender else None,
                                            zender.applicatie if zender else None)
        return entry.wanted


# --- one row -----------------------------------------------------------------------------------------------


def build_row(x: Exchange, received_at: dt.datetime, reply: Reply | None, seconds: float | None,
              settings: TraceSettings) -> dict[str, Any]:
    """The row of one message (``reply`` None: still in progress)."""
    from ..pipeline.record import mask

    limit = settings.max_body_bytes
    sg, op, subject = x.stuurgegevens, x.operation, x.subject
    secrets: list[str] = []
    rsins: list[str] = []
    if x.request is not None:
        for element in x.request.body.iter(*_BSN_TAGS):
            if element.text and element.text.strip():
                secrets.append(element.text.strip())
        for element in x.request.body.iter(*_RSIN_TAGS):
            if element.text and element.text.strip():
                rsins.append(element.text.strip())
    masker = Masker(secrets, off=settings.store_bsn, rsins=rsins)
    trace = x.trace
    notes = list(trace.calls) if trace is not None else []
    # the calls' URLs first: a BSN the gateway took from the message (a gerelateerde's identificatie) and queried
    # by is learnt there, and masked in the request too
    urls = [masker.url(note.url) for note in notes]
    request_text, request_cut = _request_text(x, masker, limit)
    calls = []
    for note, url in zip(notes, urls, strict=True):
        calls.append({
            "kind": note.kind, "api": note.api, "method": note.method, "url": url,
            "status": note.status, "error": masker.text(note.error) if note.error else None,
            "at_ms": round((note.started - trace.started) * 1000, 3) if trace is not None else None,
            "ms": note.ms,
            "request": body(note.request_body, note.request_type, masker, limit,
                            streamed=note.streamed in ("request", "both")),
            "response": body(note.response_body, note.response_type, masker, limit,
                             streamed=note.streamed in ("response", "both")),
        })
    identificaties = list(subject.identificaties()) if subject is not None else []
    route = x.route.log_fields() if x.route is not None else None
    warnings = [masker.text(mask(w, secrets)) for w in x.warnings] if reply is not None else []
    if trace is not None:
        warnings += [masker.text(n) for n in trace.notes]
    answer = None
    if reply is not None:
        if reply.stream is not None:
            answer = {"type": reply.content_type, "size": reply.length, "cut": False,
                      "text": "[answer with documents, streamed to the client: not kept]"}
        else:
            answer = body(reply.body, reply.content_type, masker, limit)
    outcome = "in-progress" if reply is None else reply.outcome
    detail: dict[str, Any] = {
        "version": 1,
        "correlation_id": x.correlation_id,
        "received_at": received_at.isoformat(),
        "endpoint": _endpoint(x),
        "soap_action": x.soap_action,
        "soap": x.version.value,
        "dialect": op.dialect.value if op else None,
        "operation": op.name if op else None,
        "zender": sg.zender.label() if sg and sg.zender else None,
        "ontvanger": sg.ontvanger.label() if sg and sg.ontvanger else None,
        "referentienummer": sg.referentienummer if sg else None,
        "zaak": subject.zaak if subject else None,
        "zaaktype": subject.zaaktype if subject else None,
        "zaken": list(subject.zaken) if subject else [],
        "documenten": list(subject.documenten) if subject else [],
        "besluiten": list(subject.besluiten) if subject else [],
        "route": route,
        "validation": _validation(x, reply, masker),
        "request": {"text": request_text, "cut": request_cut,
                    "documents": [{"size": c.size, "sha256": c.sha256, "bestandsnaam": c.bestandsnaam}
                                  for c in (x.request.contents if x.request is not None else [])]},
        "calls": calls,
        "compensations": [dict(step, error=masker.text(step["error"]) if step.get("error") else None)
                          for step in (trace.compensations if trace is not None else [])],
        "warnings": warnings,
        "answer": answer,
        "status": reply.status if reply else None,
        "outcome": outcome,
        "fault_code": reply.fault_code if reply else None,
        "fault_reason": masker.text(reply.fault_reason) if reply and reply.fault_reason else None,
        "replayed": reply.replayed if reply else False,
        "duration_ms": round(seconds * 1000, 3) if seconds is not None else None,
    }
    text = orjson.dumps(detail)  # compact UTF-8 JSON, a fifteenth of the time json.dumps takes
    return {
        "correlation_id": x.correlation_id[:64],
        "received_at": received_at,
        "duration_ms": detail["duration_ms"],
        "endpoint": detail["endpoint"],
        "soap": detail["soap"],
        "dialect": detail["dialect"],
        "operation": detail["operation"],
        "zender": _clip(detail["zender"], 200),
        "ontvanger": _clip(detail["ontvanger"], 200),
        "referentienummer": _clip(detail["referentienummer"], 200),
        "zaak": _clip(detail["zaak"], 200),
        "identificaties": _identificaties(identificaties),
        "outcome": outcome,
        "fault_code": detail["fault_code"],
        "fault_reason": _clip(detail["fault_reason"], 1000),
        "calls": len(calls),
        "size": len(text),  # until the store compresses it (in its thread) and counts the stored bytes
        "detail": text,
    }


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


def _identificaties(values: list[str]) -> str:
    """`` a b c `` (spaces around each, for an exact LIKE), within the column's 4000 characters."""
    out = " "
    for value in values:
        if " " in value or len(out) + len(value) + 1 > 4000:
            continue
        out += value + " "
    return out


def _endpoint(x: Exchange) -> str:
    return f"/zds/{x.service.value}" if x.service is not None else "/zds"


def _request_text(x: Exchange, masker: Masker, limit: int) -> tuple[str | None, bool]:
    """The StUF message as XML (document content replaced by its size and sha256), masked and cut."""
    if x.request is None:
        return None, False
    contents = list(x.request.contents)
    saved = []
    for content in contents:  # the content was spooled while parsing: its element is empty in the tree
        element = getattr(content, "element", None)
        if element is not None:
            saved.append((element, element.text))
            element.text = digest_marker(content.size, content.sha256)
    try:
        text = etree.tostring(x.request.body, encoding="unicode")
    finally:
        for element, old in saved:
            element.text = old
    return cut(masker.known(text), limit)  # the BSN elements' values are the masker's secrets already


def _validation(x: Exchange, reply: Reply | None, masker: Masker) -> dict[str, Any]:
    """The schema check as it went: the sender's policy, and ``valid``, ``warnings`` (policy warn: the issues are the
    message's schema warnings), ``invalid`` (strict: the fault), or ``not reached``."""
    settings = x.env.settings
    zender = x.stuurgegevens.zender if x.stuurgegevens else None
    policy = settings.validation_policy_for(zender.organisatie if zender else None,
                                            zender.applicatie if zender else None).value
    fault = x.fault
    if fault is not None and getattr(fault, "reason", None) == "schema-invalid":
        return {"policy": policy, "outcome": "invalid", "issues": [masker.text(str(getattr(fault, "details", "")))]}
    issues = [masker.text(w) for w in x.warnings if w.startswith("schema: ")]
    if issues:
        return {"policy": policy, "outcome": "warnings", "issues": issues}
    if x.stuurgegevens is None or (reply is not None and fault is not None and x.route is None):
        return {"policy": policy, "outcome": "not reached", "issues": []}
    if policy == "off":
        return {"policy": policy, "outcome": "off", "issues": []}
    if reply is None:
        return {"policy": policy, "outcome": "pending", "issues": []}
    return {"policy": policy, "outcome": "valid", "issues": []}

