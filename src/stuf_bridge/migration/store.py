"""The store's part of moving the history (store migration 7): the migration ledger, the per-zaak back-fill locks,
the routing overrides a cut-over writes, and the cut-over audit records.

The tables live in the gateway's own store (the same SQLite file or PostgreSQL database as ``serve``), so every
gateway process and every command (``migrate``, ``reconcile``, ``cutover``) sees the same ledger and locks.

* **Ledger** (``migration_ledger``): one row per legacy zaak the gateway copied or tried to copy — its ZGW URL, when,
  the digest of what legacy gave, documents n/m and bytes, the outcome (``done``, ``documents-pending``, ``failed``,
  ``queued``, ``present``) and why. A second ``migrate`` run reads it to skip what is done.
* **Locks** (``migration_locks``): a row per zaak being copied, with an owner and an expiry. The insert is
  ``ON CONFLICT DO NOTHING`` in one transaction with the removal of an expired row, so of two processes (or two
  messages) only one holds a zaak; a crashed holder's lock lapses at its expiry.
* **Routing overrides** (``routing_overrides``): zaaktype → mode and primary, written by ``stuf-bridge cutover``
  and read by the router before the routing table (``*`` stands for every zaaktype).
* **Cut-over audit** (``cutover_audit``): who flipped what, when, forced or not, and what the checks found.
* **Findings** (``reconcile_findings``, store migration 13): the zaken that were not in sync — from ``stuf-bridge
  reconcile``, the gateway's scheduled reconcile, and ``compare_reads`` (a read answered differently by the two
  sides) — one report that ``stuf-bridge reconcile --findings`` shows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from ..store import Store
from ..store import schema

metadata = MetaData()

ledger = Table(
    "migration_ledger",
    metadata,
    Column("identificatie", String(200), primary_key=True),
    Column("zaaktype", String(200), nullable=True),
    Column("zgw_url", String(1000), nullable=True),
    Column("outcome", String(20), nullable=False),
    Column("reason", String(2000), nullable=True),
    Column("origin", String(20), nullable=False),
    Column("source_digest", String(64), nullable=True),
    Column("documents_total", Integer, nullable=False),
    Column("documents_done", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("migrated_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

locks = Table(
    "migration_locks",
    metadata,
    Column("identificatie", String(200), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

overrides = Table(
    "routing_overrides",
    metadata,
    Column("zaaktype", String(200), primary_key=True),
    Column("mode", String(20), nullable=False),
    Column("primary", String(20), nullable=False),
    Column("reason", String(2000), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "cutover_audit",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("zaaktypen", String(2000), nullable=False),
    Column("forced", Integer, nullable=False),
    Column("reason", String(2000), nullable=True),
    Column("actor", String(200), nullable=True),
    Column("details", String(20000), nullable=False),
)

findings = Table(
    "reconcile_findings",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("source", String(20), nullable=False),
    Column("run", String(64), nullable=False),
    Column("zaaktype", String(200), nullable=True),
    Column("identificatie", String(200), nullable=True),
    Column("state", String(20), nullable=False),
    Column("fields", String(4000), nullable=False),
    Column("operation", String(100), nullable=True),
    Column("detail", String(4000), nullable=True),
)

#: Outcomes of a ledger row.
DONE = "done"  # the zaak and all its documents are in ZGW
DOCUMENTS_PENDING = "documents-pending"  # the zaak is in ZGW, its documents follow through the outbox
FAILED = "failed"  # nothing of it is in ZGW (undone); ``reason`` says why
QUEUED = "queued"  # named by a copied zaak's relation, not copied yet
PRESENT = "present"  # ZGW had the zaak already (created through the gateway): nothing copied
COPYING = "copying"  # a copy under way (or one whose process died: undone by interrupted.py, or the next copy)
FINISHED = frozenset({DONE, PRESENT})

ALL_ZAAKTYPEN = "*"


@dataclass
class LedgerEntry:
    identificatie: str
    outcome: str
    origin: str
    zaaktype: str | None = None
    zgw_url: str | None = None
    reason: str | None = None
    source_digest: str | None = None
    documents_total: int = 0
    documents_done: int = 0
    bytes: int = 0
    attempts: int = 0
    migrated_at: dt.datetime | None = None
    updated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class Override:
    zaaktype: str
    mode: str
    primary: str
    reason: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: dt.datetime
    zaaktypen: list[str]
    forced: bool
    reason: str | None
    actor: str | None
    details: dict[str, Any]


@dataclass
class Finding:
    """A zaak that was not in sync: ``source`` reconcile | scheduled | compare-reads; ``fields`` the names that
    differ; ``operation`` the read compared (compare-reads)."""

    source: str
    run: str
    state: str
    identificatie: str | None = None
    zaaktype: str | None = None
    fields: list[str] = field(default_factory=list)
    operation: str | None = None
    detail: str | None = None
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    id: int | None = None

    def line(self) -> str:
        text = f"{self.state:15} {self.identificatie or '-'}"
        if self.operation:
            text += f" ({self.operation})"
        if self.fields:
            text += f": {', '.join(self.fields)}"
        return text


def _utc(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class MigrationStore:
    """The migration tables through the gateway's :class:`~stuf_bridge.store.Store` (open it first)."""

    def __init__(self, store: Store):
        self.store = store

    def _insert(self, table: Table) -> Any:
        return (pg_dialect.insert if self.store.dialect == "postgresql" else sqlite_dialect.insert)(table)

    async def _run(self, action: str, work: Any) -> Any:
        return await self.store._run(action, work)  # noqa: SLF001 (the store's one transaction runner)

    # --- the ledger ---------------------------------------------------------------------------------------------

    async def entry(self, identificatie: str) -> LedgerEntry | None:
        def work(conn: Connection) -> LedgerEntry | None:
            row = conn.execute(select(ledger).where(ledger.c.identificatie == identificatie)).first()
            return _entry(row) if row is not None else None

        result: LedgerEntry | None = await self._run("ledger read", work)
        return result

    async def entries(self, outcomes: Sequence[str] | None = None) -> list[LedgerEntry]:
        def work(conn: Connection) -> list[LedgerEntry]:
            query = select(ledger).order_by(ledger.c.identificatie)
            if outcomes is not None:
                query = query.where(ledger.c.outcome.in_(list(outcomes)))
            return [_entry(row) for row in conn.execute(query)]

        result: list[LedgerEntry] = await self._run("ledger list", work)
        return result

    async def record(self, entry: LedgerEntry) -> None:
        """Write the row (insert or replace); ``attempts`` as given."""
        entry.updated_at = dt.datetime.now(dt.UTC)
        values = asdict(entry)

        def work(conn: Connection) -> None:
            statement = self._insert(ledger).values(**values)
            conn.execute(statement.on_conflict_do_update(
                index_elements=[ledger.c.identificatie],
                set_={k: v for k, v in values.items() if k != "identificatie"}))

        await self._run("ledger write", work)

    async def queue(self, identificatie: str, origin: str) -> bool:
        """A ``queued`` row unless the zaak has a row already; True when it was queued now."""
        values = asdict(LedgerEntry(identificatie, QUEUED, origin))

        def work(conn: Connection) -> bool:
            result = conn.execute(self._insert(ledger).values(**values).on_conflict_do_nothing()
                                  .returning(ledger.c.identificatie))
            return result.first() is not None  # (rowcount is not reliable on every driver)

        queued: bool = await self._run("ledger queue", work)
        return queued

    # --- the locks ----------------------------------------------------------------------------------------------

    async def try_lock(self, identificatie: str, owner: str, seconds: float) -> bool:
        now = dt.datetime.now(dt.UTC)

        def work(conn: Connection) -> bool:
            conn.execute(delete(locks).where(locks.c.identificatie == identificatie, locks.c.expires_at < now))
            result = conn.execute(self._insert(locks).values(
                identificatie=identificatie, owner=owner, expires_at=now + dt.timedelta(seconds=seconds),
            ).on_conflict_do_nothing().returning(locks.c.identificatie))
            return result.first() is not None

        held: bool = await self._run("back-fill lock", work)
        return held

    async def lock_owner(self, identificatie: str) -> str | None:
        def work(conn: Connection) -> str | None:
            owner = conn.execute(select(locks.c.owner).where(locks.c.identificatie == identificatie)).scalar()
            return str(owner) if owner is not None else None

        result: str | None = await self._run("back-fill lock owner", work)
        return result

    async def renew_lock(self, identificatie: str, owner: str, seconds: float) -> None:
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        await self._run("back-fill lock renewal", lambda conn: conn.execute(
            update(locks).where(locks.c.identificatie == identificatie, locks.c.owner == owner)
            .values(expires_at=until)))

    async def unlock(self, identificatie: str, owner: str) -> None:
        await self._run("back-fill unlock", lambda conn: conn.execute(
            delete(locks).where(locks.c.identificatie == identificatie, locks.c.owner == owner)))

    # --- the outbox's back-fill items ---------------------------------------------------------------------------

    async def enqueue(self, partition_key: str, target: str, payload: bytes, idem_key: str) -> None:
        """A back-fill item in the outbox (delivered by the outbox worker, in order with the zaak's other items)."""
        now = dt.datetime.now(dt.UTC)

        def work(conn: Connection) -> None:
            conn.execute(self._insert(schema.outbox).values(
                partition_key=partition_key, target=target, payload=payload, content_type=None, soap_action=None,
                idem_key=idem_key, status="pending", attempts=0, next_attempt_at=now, created_at=now,
            ).on_conflict_do_nothing())

        await self._run("back-fill enqueue", work)

    async def waiting(self, partitions: Sequence[str] | None) -> list[tuple[int, str, str, str]]:
        """Outbox items pending, inflight or dead (id, partition, target, status), of ``partitions`` (None: all)."""
        def work(conn: Connection) -> list[tuple[int, str, str, str]]:
            t = schema.outbox
            query = select(t.c.id, t.c.partition_key, t.c.target, t.c.status).where(
                t.c.status.in_(["pending", "inflight", "dead"])).order_by(t.c.id)
            return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in conn.execute(query)
                    if partitions is None or r[1] in partitions]

        result: list[tuple[int, str, str, str]] = await self._run("outbox waiting", work)
        return result

    # --- routing overrides and the audit ------------------------------------------------------------------------

    async def overrides(self) -> dict[str, Override]:
        def work(conn: Connection) -> dict[str, Override]:
            return {row.zaaktype: Override(row.zaaktype, row.mode, row.primary, row.reason,
                                           _utc(row.created_at) or dt.datetime.now(dt.UTC))
                    for row in conn.execute(select(overrides))}

        result: dict[str, Override] = await self._run("routing overrides", work)
        return result

    async def cut_over(self, zaaktypen: Sequence[str], *, mode: str, primary: str, forced: bool,
                       reason: str | None, actor: str | None, details: dict[str, Any]) -> int:
        """The overrides for ``zaaktypen`` and the audit record, in one transaction; the audit record's id."""
        now = dt.datetime.now(dt.UTC)

        def work(conn: Connection) -> int:
            for zaaktype in zaaktypen:
                values = {"zaaktype": zaaktype, "mode": mode, "primary": primary, "reason": reason, "created_at": now}
                conn.execute(self._insert(overrides).values(**values).on_conflict_do_update(
                    index_elements=[overrides.c.zaaktype], set_={k: v for k, v in values.items() if k != "zaaktype"}))
            result = conn.execute(audit.insert().values(
                at=now, zaaktypen=",".join(zaaktypen), forced=int(forced), reason=reason, actor=actor,
                details=json.dumps(details, sort_keys=True, default=str)[:20000]))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

        audit_id: int = await self._run("cut-over", work)
        return audit_id

    async def audit_records(self) -> list[AuditRecord]:
        def work(conn: Connection) -> list[AuditRecord]:
            return [AuditRecord(row.id, _utc(row.at) or now, row.zaaktypen.split(","), bool(row.forced), row.reason,
                                row.actor, json.loads(row.details)) for row in conn.execute(
                                    select(audit).order_by(audit.c.id))]

        now = dt.datetime.now(dt.UTC)
        result: list[AuditRecord] = await self._run("cut-over audit", work)
        return result


    # --- findings -----------------------------------------------------------------------------------------------

    async def record_findings(self, found: Sequence[Finding]) -> None:
        rows = [{"at": f.at, "source": f.source, "run": f.run, "zaaktype": f.zaaktype, "identificatie": f.identificatie,
                 "state": f.state, "fields": ",".join(f.fields)[:4000], "operation": f.operation,
                 "detail": (f.detail or None) and f.detail[:4000]} for f in found]
        if rows:
            await self._run("findings write", lambda conn: conn.execute(findings.insert(), rows))

    async def findings(self, *, source: str | None = None, zaaktype: str | None = None,
                       since: dt.datetime | None = None) -> list[Finding]:
        def work(conn: Connection) -> list[Finding]:
            query = select(findings).order_by(findings.c.id)
            if source is not None:
                query = query.where(findings.c.source == source)
            if zaaktype is not None:
                query = query.where(findings.c.zaaktype == zaaktype)
            if since is not None:
                query = query.where(findings.c.at >= since)
            return [Finding(row.source, row.run, row.state, row.identificatie, row.zaaktype,
                            [name for name in row.fields.split(",") if name], row.operation, row.detail,
                            _utc(row.at) or dt.datetime.now(dt.UTC), int(row.id)) for row in conn.execute(query)]

        result: list[Finding] = await self._run("findings read", work)
        return result


def _entry(row: Any) -> LedgerEntry:
    values = dict(row._mapping)
    values["migrated_at"] = _utc(values["migrated_at"])
    values["updated_at"] = _utc(values["updated_at"])
    return LedgerEntry(**values)
