"""Versioned schema migrations.

``MIGRATIONS`` is an ordered list of numbered steps (1, 2, 3, ...). The runner applies each pending step in a
transaction of its own and records it in ``schema_version`` in that same transaction, so a failed step
leaves no trace and the next start retries it. On PostgreSQL every migration transaction first takes a
transaction-level advisory lock, and on SQLite ``BEGIN IMMEDIATE`` takes the write lock, so processes
starting at once apply each step exactly once.

To add a migration: write ``_mNNN_what(conn)`` against the synchronous ``Connection`` (define the tables it
creates in a ``MetaData`` of its own, so later edits of ``schema.py`` cannot change it), append
``Migration(NNN, "...", _mNNN_what)`` to ``MIGRATIONS`` and update ``schema.py``. Never edit a released step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .errors import StoreError

#: Key of the PostgreSQL advisory lock that serializes migrations (any fixed 64-bit number).
ADVISORY_LOCK_KEY = 0x5354_5546_4D49_4752  # "STUFMIGR"

_version_metadata = MetaData()

schema_version = Table(
    "schema_version",
    _version_metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Migration:
    """One schema step: ``upgrade`` runs inside the step's transaction."""

    version: int
    description: str
    upgrade: Callable[[Connection], None]


def _m001_sequences(conn: Connection) -> None:
    metadata = MetaData()
    Table(
        "sequences",
        metadata,
        Column("name", String(200), primary_key=True),
        Column("value", BigInteger, nullable=False),
    )
    metadata.create_all(conn, checkfirst=False)


def _m002_messages(conn: Connection) -> None:
    metadata = MetaData()
    Table(
        "messages",
        metadata,
        Column("zender", String(200), primary_key=True),
        Column("referentienummer", String(200), primary_key=True),
        Column("digest", String(64), nullable=False),
        Column("operation", String(100), nullable=False),
        Column("state", String(10), nullable=False),
        Column("answer", LargeBinary, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
        Column("completed_at", DateTime(timezone=True), nullable=True),
    )
    metadata.create_all(conn, checkfirst=False)


def _m003_zaak_routes(conn: Connection) -> None:
    metadata = MetaData()
    Table(
        "zaak_routes",
        metadata,
        Column("identificatie", String(200), primary_key=True),
        Column("zaaktype", String(200), nullable=True),
        Column("mode", String(20), nullable=False),
        Column("primary", String(20), nullable=False),
        Column("rule", String(200), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "document_zaken",
        metadata,
        Column("document", String(200), primary_key=True),
        Column("zaak", String(200), nullable=False, index=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    metadata.create_all(conn, checkfirst=False)


def _m004_outbox(conn: Connection) -> None:
    _PENDING = text("status = 'pending'")  # noqa: N806 (as the index predicates are spelt in schema.py)
    _WAITING = text("status IN ('pending', 'inflight', 'dead')")  # noqa: N806
    metadata = MetaData()
    Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("partition_key", String(250), nullable=False),
        Column("target", String(100), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("content_type", String(500), nullable=True),
        Column("soap_action", String(500), nullable=True),
        Column("idem_key", String(600), nullable=False, unique=True),
        Column("status", String(10), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False),
        Column("lease_until", DateTime(timezone=True), nullable=True),
        Column("last_error", String(2000), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        # the claim: heads of the waiting items by id, and a partition's older waiting items (not its done ones)
        Index("ix_outbox_pending", "id", postgresql_where=_PENDING, sqlite_where=_PENDING),
        Index("ix_outbox_waiting", "partition_key", "id", postgresql_where=_WAITING, sqlite_where=_WAITING),
        Index("ix_outbox_status", "status", "next_attempt_at"),
    )
    metadata.create_all(conn, checkfirst=False)


def _m005_outbox_blobs(conn: Connection) -> None:
    """The outbox holds large payloads by reference (chunks in ``outbox_blobs``), keeps an intent (``held``) item
    from before the primary call, says what kind of item it is, and when it was finished (for the purge)."""
    for column in ("kind VARCHAR(40) NOT NULL DEFAULT 'replicate'", "payload_ref VARCHAR(100)",
                   "payload_size BIGINT", "finished_at TIMESTAMP WITH TIME ZONE"
                   if conn.dialect.name == "postgresql" else "finished_at DATETIME"):
        conn.execute(text(f"ALTER TABLE outbox ADD COLUMN {column}"))
    # a held item (an intent written before the primary call) holds back its zaak's later items too
    conn.execute(text("DROP INDEX ix_outbox_waiting"))
    _waiting = text("status IN ('pending', 'inflight', 'dead', 'held')")
    metadata = MetaData()
    outbox = Table("outbox", metadata, Column("id", Integer, primary_key=True), Column("partition_key", String(250)),
                   Column("status", String(10)), Column("finished_at", DateTime(timezone=True)))
    Index("ix_outbox_waiting", outbox.c.partition_key, outbox.c.id, postgresql_where=_waiting,
          sqlite_where=_waiting).create(conn)
    Index("ix_outbox_finished", outbox.c.status, outbox.c.finished_at).create(conn)
    Table(
        "outbox_blobs",
        metadata,
        Column("blob", String(100), primary_key=True),
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("data", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    ).create(conn)


def _m006_journal(conn: Connection) -> None:
    metadata = MetaData()
    Table(
        "journal",
        metadata,
        # one b-tree on SQLite (no rowid, no second index): every write of a message commits a row here
        Column("zender", String(200), primary_key=True),
        Column("referentienummer", String(200), primary_key=True),
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("operation", String(100), nullable=False),
        Column("step", String(200), nullable=True),
        Column("method", String(10), nullable=True),
        Column("url", String(2000), nullable=True),
        Column("body", Text, nullable=True),
        Column("undo", Text, nullable=True),
        Column("state", String(10), nullable=False),
        Column("result", Text, nullable=True),
        Column("owner", String(100), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        sqlite_with_rowid=False,
    )
    Table(
        "journal_owners",
        metadata,
        Column("owner", String(100), primary_key=True),
        Column("host", String(200), nullable=False),
        Column("pid", Integer, nullable=False),
        Column("started", String(40), nullable=False),
        Column("lease_until", DateTime(timezone=True), nullable=False),
    )
    metadata.create_all(conn, checkfirst=False)


# --- issue 15 (migration): the migration ledger, back-fill locks, routing overrides and the cut-over audit ---------
def _m007_migration(conn: Connection) -> None:
    metadata = MetaData()
    Table(
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
        Index("ix_migration_ledger_outcome", "outcome"),
    )
    Table(
        "migration_locks",
        metadata,
        Column("identificatie", String(200), primary_key=True),
        Column("owner", String(100), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "routing_overrides",
        metadata,
        Column("zaaktype", String(200), primary_key=True),
        Column("mode", String(20), nullable=False),
        Column("primary", String(20), nullable=False),
        Column("reason", String(2000), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Table(
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
    metadata.create_all(conn, checkfirst=False)


def _m008_traces(conn: Connection) -> None:
    """The message trace (``trace/``): one row per message, searchable columns and the whole trace as JSON."""
    metadata = MetaData()
    Table(
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
        Column("identificaties", String(4000), nullable=False),
        Column("outcome", String(20), nullable=False, index=True),
        Column("fault_code", String(20), nullable=True),
        Column("fault_reason", String(1000), nullable=True),
        Column("calls", Integer, nullable=False),
        Column("size", Integer, nullable=False),
        Column("detail", LargeBinary, nullable=False),  # the whole trace: JSON, zlib-compressed
    )
    metadata.create_all(conn, checkfirst=False)


def _m009_wsse_nonces(conn: Connection) -> None:
    """The UsernameToken nonces seen within the replay window (security/nonces.py), shared by every process."""
    metadata = MetaData()
    Table(
        "wsse_nonces",
        metadata,
        Column("client", String(100), primary_key=True),
        Column("nonce", String(200), primary_key=True),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Index("ix_wsse_nonces_expires", "expires_at"),
    )
    metadata.create_all(conn, checkfirst=True)  # checkfirst: a store that created it on first use before this step


def _m011_notifications(conn: Connection) -> None:
    metadata = MetaData()
    Table(
        "notification_inbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("dedup_key", String(64), nullable=False, unique=True),
        Column("kanaal", String(50), nullable=False),
        Column("hoofd_object", String(1000), nullable=False),
        Column("resource", String(100), nullable=False),
        Column("resource_url", String(1000), nullable=False),
        Column("actie", String(50), nullable=False),
        Column("aanmaakdatum", String(50), nullable=False),
        Column("kenmerken", String(4000), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=True),
        Column("error", String(2000), nullable=True),
        Index("ix_notification_inbox_waiting", "received_at", postgresql_where=text("processed_at IS NULL"),
              sqlite_where=text("processed_at IS NULL")),
    )
    Table(
        "notification_snapshots",
        metadata,
        Column("subscriber", String(100), primary_key=True),
        Column("zaak_url", String(1000), primary_key=True),
        Column("identificatie", String(200), nullable=True),
        Column("acked", LargeBinary, nullable=True),
        Column("inflight", LargeBinary, nullable=True),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "notification_clock",
        metadata,
        Column("zender", String(300), primary_key=True),
        Column("last_ms", BigInteger, nullable=False),
    )
    metadata.create_all(conn, checkfirst=False)


def _m012_message_owner(conn: Connection) -> None:
    """The process that holds a claim (recovery/journal.py's owner): a resend finds out at once whether its holder
    is gone, and a process whose claim was taken over is fenced off (its journal writes check it)."""
    conn.execute(text("ALTER TABLE messages ADD COLUMN owner VARCHAR(100)"))


# --- issue 15 (migration, second part): what reconcile, its scheduled variant and compare_reads found ------------
def _m013_reconcile_findings(conn: Connection) -> None:
    metadata = MetaData()
    Table(
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
        Index("ix_reconcile_findings_at", "at"),
    )
    metadata.create_all(conn, checkfirst=False)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "sequences: named counters for identifiers", _m001_sequences),
    Migration(2, "messages: idempotency records (zender + referentienummer → answer)", _m002_messages),
    Migration(3, "zaak_routes, document_zaken: the zaak registry (a zaak's pinned route; a document's zaak)",
              _m003_zaak_routes),
    Migration(4, "outbox: the durable secondary leg of replicate (FIFO per zaak, retried, dead items park)",
              _m004_outbox),
    Migration(5, "outbox: payloads by reference (outbox_blobs), intent items, kind, purge of finished items",
              _m005_outbox_blobs),
    Migration(6, "journal, journal_owners: the steps of unfinished messages and the processes that run them",
              _m006_journal),
    Migration(7, "migration_ledger, migration_locks, routing_overrides, cutover_audit: moving the history",
              _m007_migration),
    Migration(8, "traces: what happened to every message (the trace store and /ui/)", _m008_traces),
    Migration(9, "wsse_nonces: UsernameToken nonces within the replay window", _m009_wsse_nonces),
    Migration(11, "notification_inbox, notification_snapshots, notification_clock: ZGW notifications to StUF "
              "kennisgevingen (inbox, per-subscriber snapshots, the rising tijdstipBericht)", _m011_notifications),
    Migration(12, "messages.owner: the process that holds a claim (recovery: take-over at once, fencing)",
              _m012_message_owner),
    Migration(13, "reconcile_findings: what reconcile, the scheduled reconcile and compare_reads found",
              _m013_reconcile_findings),
)


def check_migrations(migrations: Sequence[Migration]) -> None:
    """Raise ``ValueError`` unless the versions are positive and strictly increasing. Numbers are handed out per
    feature ahead of time, so a build may lack some (a gap); each step is applied once, whatever else is there."""
    versions = [m.version for m in migrations]
    if any(v < 1 for v in versions) or any(a >= b for a, b in zip(versions, versions[1:], strict=False)):
        raise ValueError(f"migration versions must be positive and strictly increasing, got {versions}")


check_migrations(MIGRATIONS)


async def migrate(engine: AsyncEngine, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the pending steps, one transaction each; return the schema version reached."""
    check_migrations(migrations)
    latest = migrations[-1].version if migrations else 0
    while True:
        async with engine.begin() as conn:
            applied = await _locked_versions(conn)
            current = max(applied, default=0)
            if current > latest:
                raise StoreError(
                    f"database schema version {current} is newer than this gateway supports ({latest})"
                )
            pending = [m for m in migrations if m.version not in applied]
            if not pending:
                return current
            step = pending[0]
            try:
                await conn.run_sync(step.upgrade)
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(
                    f"migration {step.version} ({step.description}) failed: {type(exc).__name__}: {exc}"
                ) from exc
            await conn.execute(
                insert(schema_version).values(
                    version=step.version,
                    description=step.description,
                    applied_at=dt.datetime.now(dt.UTC),
                )
            )


async def _locked_versions(conn: AsyncConnection) -> set[int]:
    """Take the migration lock for this transaction, then read the versions applied so far."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})"))
    # On SQLite the write lock is already held: every transaction starts with BEGIN IMMEDIATE.
    await conn.run_sync(_version_metadata.create_all, checkfirst=True)
    return {int(v) for v in (await conn.scalars(select(schema_version.c.version))).all()}
