"""The trace store: the ``traces`` table (migration 8) in the gateway's own store, SQLite or PostgreSQL.

One row per message: the columns the list page filters on, and the whole trace (``detail``) as JSON. Rows are
written by the recorder's writer in batches; a message still being handled when a batch is written gets a row with
outcome ``in-progress``, completed by a later batch.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    LargeBinary,
    Table,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from ..store import Store

metadata = MetaData()

#: The shape migration 8 gives the table (the migration defines its own copy).
traces = Table(
    "traces",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("correlation_id", String(64), nullable=False, index=True),
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
    Column("duration_ms", Float, nullable=True),
    Column("endpoint", String(100), nullable=True),
    Column("soap", String(5), nullable=True),
    Column("dialect", String(10), nullable=True),
    Column("operation", String(100), nullable=True, index=True),
    Column("zender", String(200), nullable=True, index=True),
    Column("ontvanger", String(200), nullable=True),
    Column("referentienummer", String(200), nullable=True, index=True),
    Column("zaak", String(200), nullable=True, index=True),
    Column("identificaties", String(4000), nullable=False),  # " id1 id2 ... ": found with LIKE '% id %'
    Column("outcome", String(20), nullable=False, index=True),
    Column("fault_code", String(20), nullable=True),
    Column("fault_reason", String(1000), nullable=True),
    Column("calls", Integer, nullable=False),
    Column("size", Integer, nullable=False),  # bytes stored (the compressed detail): what retention counts
    Column("detail", LargeBinary, nullable=False),  # the whole trace: JSON, zlib-compressed
)

COLUMNS = ("correlation_id", "received_at", "duration_ms", "endpoint", "soap", "dialect", "operation", "zender",
           "ontvanger", "referentienummer", "zaak", "identificaties", "outcome", "fault_code", "fault_reason",
           "calls", "size", "detail")
OUTCOMES = ("ok", "fault", "legacy-fault", "in-progress")


@dataclass(frozen=True)
class TraceFilter:
    """What the list page asks for; every field optional."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    operation: str | None = None
    zender: str | None = None
    outcome: str | None = None  # ok | fault | legacy-fault | in-progress, or a fault code (StUF058)
    text: str | None = None  # an identificatie, referentienummer or correlation id (substring)
    zaak: str | None = None  # exactly this identificatie among the message's


@dataclass(frozen=True)
class TraceRow:
    """One message in the list (no detail)."""

    id: int
    correlation_id: str
    received_at: dt.datetime
    duration_ms: float | None
    endpoint: str | None
    soap: str | None
    dialect: str | None
    operation: str | None
    zender: str | None
    ontvanger: str | None
    referentienummer: str | None
    zaak: str | None
    identificaties: tuple[str, ...]
    outcome: str
    fault_code: str | None
    fault_reason: str | None
    calls: int
    size: int


def _row(mapping: Any) -> TraceRow:
    received = mapping["received_at"]
    if isinstance(received, str):
        received = dt.datetime.fromisoformat(received)
    if received.tzinfo is None:
        received = received.replace(tzinfo=dt.UTC)
    return TraceRow(
        id=int(mapping["id"]), correlation_id=mapping["correlation_id"], received_at=received,
        duration_ms=mapping["duration_ms"], endpoint=mapping["endpoint"], soap=mapping["soap"],
        dialect=mapping["dialect"], operation=mapping["operation"], zender=mapping["zender"],
        ontvanger=mapping["ontvanger"], referentienummer=mapping["referentienummer"], zaak=mapping["zaak"],
        identificaties=tuple(mapping["identificaties"].split()), outcome=mapping["outcome"],
        fault_code=mapping["fault_code"], fault_reason=mapping["fault_reason"], calls=int(mapping["calls"]),
        size=int(mapping["size"]),
    )


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class TraceStore:
    """Reading and writing traces through the gateway's store (its engine, its worker thread on SQLite)."""

    def __init__(self, store: Store):
        self.store = store

    # --- writing (the recorder's writer) ---

    async def write(self, inserts: Sequence[dict[str, Any]], updates: Sequence[tuple[int, dict[str, Any]]] = (),
                    fresh: Sequence[dict[str, Any]] = ()) -> list[int]:
        """In one transaction: insert finished rows (one statement for all), update rows by id, insert ``fresh`` rows
        (messages in progress); returns the fresh rows' ids in order. A row's ``detail`` may be the JSON text: it is
        compressed here, in the store's thread (zlib lets the event loop run meanwhile)."""

        def work(conn: Connection) -> list[int]:
            if inserts:
                conn.execute(insert(traces), [_packed(row) for row in inserts])
            for row_id, row in updates:
                conn.execute(update(traces).where(traces.c.id == row_id).values(**_packed(row)))
            ids = []
            for row in fresh:
                key = conn.execute(insert(traces).values(**_packed(row))).inserted_primary_key
                assert key is not None
                ids.append(int(key[0]))
            return ids

        return await self.store.transaction("trace_write", work, durable=False)

    async def prune(self, older_than: dt.timedelta, max_bytes: int) -> int:
        """Delete traces older than the retention, then the oldest ones while the total size is above the limit;
        returns how many went."""
        cutoff = dt.datetime.now(dt.UTC) - older_than

        def work(conn: Connection) -> int:
            gone = int(conn.execute(delete(traces).where(traces.c.received_at < cutoff)).rowcount or 0)
            total = int(conn.scalar(select(func.coalesce(func.sum(traces.c.size), 0))) or 0)
            while total > max_bytes:
                # the oldest rows that bring the total under the limit, a bounded batch at a time
                rows = conn.execute(select(traces.c.id, traces.c.size).order_by(traces.c.id).limit(500)).all()
                if not rows:
                    break
                last, freed = None, 0
                for row_id, size in rows:
                    last, freed = row_id, freed + int(size)
                    if total - freed <= max_bytes:
                        break
                gone += int(conn.execute(delete(traces).where(traces.c.id <= last)).rowcount or 0)
                total -= freed
            return gone

        return await self.store.transaction("trace_prune", work, durable=False)

    async def delete(self, trace_id: int) -> bool:
        statement = delete(traces).where(traces.c.id == trace_id)
        return await self.store.transaction(
            "trace_delete", lambda conn: bool(conn.execute(statement).rowcount), durable=False)

    # --- reading (the page, export) ---

    async def size(self) -> tuple[int, int]:
        """(number of traces, their total size in bytes)."""
        statement = select(func.count(), func.coalesce(func.sum(traces.c.size), 0)).select_from(traces)

        def work(conn: Connection) -> tuple[int, int]:
            count, total = conn.execute(statement).one()
            return int(count), int(total)

        return await self.store.transaction("trace_size", work, durable=False)

    async def search(self, where: TraceFilter, *, limit: int = 50, offset: int = 0) -> tuple[list[TraceRow], int]:
        """A page of traces, newest first, and how many match in all."""
        conditions = []
        if where.since is not None:
            conditions.append(traces.c.received_at >= where.since)
        if where.until is not None:
            conditions.append(traces.c.received_at <= where.until)
        if where.operation:
            conditions.append(or_(traces.c.operation == where.operation,
                                  traces.c.operation.like(where.operation + "\\_%", escape="\\")))
        if where.zender:
            conditions.append(traces.c.zender.like(_like(where.zender), escape="\\"))
        if where.outcome:
            if where.outcome in OUTCOMES:
                conditions.append(traces.c.outcome == where.outcome)
            else:
                conditions.append(traces.c.fault_code == where.outcome)
        if where.text:
            pattern = _like(where.text.strip())
            conditions.append(or_(traces.c.identificaties.like(pattern, escape="\\"),
                                  traces.c.referentienummer.like(pattern, escape="\\"),
                                  traces.c.correlation_id.like(pattern, escape="\\")))
        if where.zaak:
            conditions.append(traces.c.identificaties.like(_like(f" {where.zaak} "), escape="\\"))
        clause = and_(*conditions) if conditions else None
        listed = select(*(c for c in traces.c if c.name != "detail")).order_by(  # newest first: by arrival
            traces.c.received_at.desc(), traces.c.id.desc())
        counted = select(func.count()).select_from(traces)
        if clause is not None:
            listed, counted = listed.where(clause), counted.where(clause)
        listed = listed.limit(limit).offset(offset)

        def work(conn: Connection) -> tuple[list[TraceRow], int]:
            rows = [_row(r._mapping) for r in conn.execute(listed)]
            return rows, int(conn.scalar(counted) or 0)

        return await self.store.transaction("trace_search", work, durable=False)

    async def get(self, trace_id: int) -> dict[str, Any] | None:
        """One trace, whole (the stored JSON with the row's columns)."""
        return await self._one(traces.c.id == trace_id)

    async def by_referentienummer(self, referentienummer: str) -> list[dict[str, Any]]:
        """Every trace with this referentienummer (a resend has one of its own), oldest first."""
        statement = select(traces).where(traces.c.referentienummer == referentienummer).order_by(traces.c.id)

        def work(conn: Connection) -> list[dict[str, Any]]:
            return [_whole(r._mapping) for r in conn.execute(statement)]

        return await self.store.transaction("trace_export", work, durable=False)

    async def _one(self, condition: Any) -> dict[str, Any] | None:
        statement = select(traces).where(condition)

        def work(conn: Connection) -> dict[str, Any] | None:
            row = conn.execute(statement).first()
            return _whole(row._mapping) if row is not None else None

        return await self.store.transaction("trace_get", work, durable=False)


def pack(detail: dict[str, Any] | str) -> bytes:
    """A trace as stored: compact JSON, zlib-compressed (a creeerZaak's trace: about 11 kB of JSON, 3.5 kB stored)."""
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode(), 1)


def _packed(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its detail compressed, and its size (what retention counts) the stored size. A detail that is
    JSON text (``str``, or UTF-8 ``bytes``: a JSON object starts with ``{``) is compressed here; other bytes are taken
    as packed already (a zlib stream starts with 0x78)."""
    detail = row["detail"]
    if isinstance(detail, bytes | bytearray) and detail[:1] != b"{":
        return row
    data = zlib.compress(detail if isinstance(detail, bytes | bytearray) else detail.encode(), 1)
    return {**row, "detail": data, "size": len(data)}


def unpack(data: bytes) -> dict[str, Any]:
    detail: dict[str, Any] = json.loads(zlib.decompress(data))
    return detail


def _whole(mapping: Any) -> dict[str, Any]:
    detail = unpack(mapping["detail"])
    summary = _row(mapping)
    detail["id"] = summary.id
    detail["outcome"] = summary.outcome
    detail["duration_ms"] = summary.duration_ms
    return detail
