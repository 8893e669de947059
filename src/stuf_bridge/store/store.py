"""The gateway's own store on SQLite (embedded default) or PostgreSQL (shared by several processes)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import functools
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import structlog
from sqlalchemy import Connection, Table, bindparam, delete, func, literal_column, select, text, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from . import engine as engines
from .errors import StoreError
from .migrations import MIGRATIONS, Migration, check_migrations, migrate
from .schema import SEQUENCE_NAME_LENGTH, messages, outbox, sequences

try:
    import asyncpg  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - only SQLite then
    _DRIVER_ERRORS: tuple[type[BaseException], ...] = ()
else:
    # InternalClientError: the protocol's state broke (PostgreSQL backends terminated mid-statement); a store error
    # like any other, never a bug's fault (issue 18, finding 9)
    _DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)

T = TypeVar("T")

#: Foreign exceptions translated to StoreError at the boundary.
_FOREIGN_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    sqlite3.Error,
    OSError,
    TimeoutError,
    *_DRIVER_ERRORS,
)


# The idempotency statements run twice per changing message: built once with bound parameters, so that SQLAlchemy
# reuses their cache key and compiled form instead of building and compiling a statement per call (about half a
# millisecond per message). Parameter names carry a k_/v_ prefix: a bind named like a column is reserved in SET.
_KEY = (messages.c.zender == bindparam("k_zender")) & (messages.c.referentienummer == bindparam("k_ref"))
# A claim also says whether the message has a step journal already (an earlier copy failed or its process died:
# recovery resolves it first), in the same statement: the journal is read only when there is something in it.
_HAS_JOURNAL_SQL = ("EXISTS (SELECT 1 FROM journal WHERE journal.zender = messages.zender "
                    "AND journal.referentienummer = messages.referentienummer)")
_HAS_JOURNAL: Any = literal_column(_HAS_JOURNAL_SQL)
_IDEMPOTENCY: dict[str, Any] = {
    "read": select(messages.c.digest, messages.c.state, messages.c.answer, messages.c.created_at,
                   messages.c.owner).where(_KEY),
    "take_over": update(messages)
    .where(_KEY & (messages.c.state == "pending") & (messages.c.created_at == bindparam("k_created")))
    .values(created_at=bindparam("v_now"), owner=bindparam("v_owner"))
    .returning(messages.c.state, _HAS_JOURNAL),
    "complete": update(messages).where(_KEY).values(state="done", answer=bindparam("v_answer"),
                                                    completed_at=bindparam("v_now")),
    "release": delete(messages).where(_KEY & (messages.c.state == "pending")),
    "complete_owned": update(messages)
    .where(_KEY & (messages.c.state == "pending") & (messages.c.owner == bindparam("v_owner")))
    .values(state="done", answer=bindparam("v_answer"), completed_at=bindparam("v_now"))
    .returning(messages.c.state),
}

# An outbox item, written in the transaction that completes its message's idempotency record (complete_message).
# A held item (the intent written before the primary call, with the same idem_key) is turned pending instead.
_ENQUEUE_SQL = ("INSERT INTO outbox (partition_key, target, payload, content_type, soap_action, idem_key, status, "
                "attempts, next_attempt_at, created_at, kind, payload_ref, payload_size) VALUES (:v_partition, "
                ":v_target, :v_payload, :v_content_type, :v_soap_action, :v_idem, 'pending', 0, :v_now, :v_now, "
                ":v_kind, :v_payload_ref, :v_payload_size) ON CONFLICT (idem_key) DO UPDATE SET status = 'pending', "
                "next_attempt_at = excluded.next_attempt_at WHERE outbox.status = 'held'")

# The same statements as SQLite's own SQL, for a SQLite file (see _SqliteRunner.inline). Timestamps are stored the
# way SQLAlchemy stores a DateTime on SQLite (naive UTC text), so both paths read and purge each other's rows.
_SQLITE_IDEMPOTENCY = {
    "claim": "INSERT INTO messages (zender, referentienummer, digest, operation, state, created_at, owner) "
             "VALUES (:k_zender, :k_ref, :v_digest, :v_operation, 'pending', :v_now, :v_owner) "
             f"ON CONFLICT (zender, referentienummer) DO NOTHING RETURNING state, {_HAS_JOURNAL_SQL}",
    "read": "SELECT digest, state, answer, created_at, owner FROM messages "
            "WHERE zender = :k_zender AND referentienummer = :k_ref",
    "take_over": "UPDATE messages SET created_at = :v_now, owner = :v_owner WHERE zender = :k_zender "
                 "AND referentienummer = :k_ref AND state = 'pending' AND created_at = :k_created "
                 f"RETURNING state, {_HAS_JOURNAL_SQL}",
    "complete": "UPDATE messages SET state = 'done', answer = :v_answer, completed_at = :v_now "
                "WHERE zender = :k_zender AND referentienummer = :k_ref",
    "release": "DELETE FROM messages WHERE zender = :k_zender AND referentienummer = :k_ref AND state = 'pending'",
    "complete_owned": "UPDATE messages SET state = 'done', answer = :v_answer, completed_at = :v_now "
                      "WHERE zender = :k_zender AND referentienummer = :k_ref AND state = 'pending' "
                      "AND owner = :v_owner",  # no RETURNING here: the rows changed are counted (_SQLITE_COUNTED)
    "enqueue": _ENQUEUE_SQL,
}
#: Statements whose result is whether they changed a row, read from the cursor's rowcount: a RETURNING row costs
#: SQLite more than the count (the fenced completion runs once per journalled message).
_SQLITE_COUNTED = frozenset({"complete_owned"})
_SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"

# And as PostgreSQL's, with their positional parameters by name, for the store's own asyncpg pool (see Store.open).
_PG_IDEMPOTENCY: dict[str, tuple[str, tuple[str, ...]]] = {
    "claim": (("INSERT INTO messages (zender, referentienummer, digest, operation, state, created_at, owner) "
              "VALUES ($1, $2, $3, $4, 'pending', $5, $6) ON CONFLICT (zender, referentienummer) DO NOTHING "
              f"RETURNING state, {_HAS_JOURNAL_SQL}"), ("k_zender", "k_ref", "v_digest", "v_operation", "v_now",
                                                         "v_owner")),
    "read": (("SELECT digest, state, answer, created_at, owner FROM messages WHERE zender = $1 "
              "AND referentienummer = $2"), ("k_zender", "k_ref")),
    "take_over": (("UPDATE messages SET created_at = $1, owner = $5 WHERE zender = $2 AND referentienummer = $3 "
                  f"AND state = 'pending' AND created_at = $4 RETURNING state, {_HAS_JOURNAL_SQL}"),
                  ("v_now", "k_zender", "k_ref", "k_created", "v_owner")),
    "complete": (("UPDATE messages SET state = 'done', answer = $1, completed_at = $2 "
                 "WHERE zender = $3 AND referentienummer = $4"), ("v_answer", "v_now", "k_zender", "k_ref")),
    "release": ("DELETE FROM messages WHERE zender = $1 AND referentienummer = $2 AND state = 'pending'",
                ("k_zender", "k_ref")),
    "complete_owned": (("UPDATE messages SET state = 'done', answer = $1, completed_at = $2 WHERE zender = $3 "
                        "AND referentienummer = $4 AND state = 'pending' AND owner = $5 RETURNING state"),
                       ("v_answer", "v_now", "k_zender", "k_ref", "v_owner")),
    "enqueue": (("INSERT INTO outbox (partition_key, target, payload, content_type, soap_action, idem_key, status, "
                 "attempts, next_attempt_at, created_at, kind, payload_ref, payload_size) VALUES ($1, $2, $3, $4, $5, "
                 "$6, 'pending', 0, $7, $7, $8, $9, $10) ON CONFLICT (idem_key) DO UPDATE SET status = 'pending', "
                 "next_attempt_at = excluded.next_attempt_at WHERE outbox.status = 'held'"),
                ("v_partition", "v_target", "v_payload", "v_content_type", "v_soap_action", "v_idem", "v_now",
                 "v_kind", "v_payload_ref", "v_payload_size")),
}

# The zaak registry's statements in SQLite's SQL with named parameters (a SQLite file runs them inline, an in-memory
# database as text()); PostgreSQL gets the same with positional ones (see _positional). "primary" is a reserved word.
_REGISTRY_SQL = {
    "zaak_route": 'SELECT identificatie, zaaktype, mode, "primary", rule, created_at FROM zaak_routes '
                  "WHERE identificatie = :identificatie",
    "pin": 'INSERT INTO zaak_routes (identificatie, zaaktype, mode, "primary", rule, created_at) '
           "VALUES (:identificatie, :zaaktype, :mode, :primary, :rule, :now) ON CONFLICT (identificatie) DO NOTHING "
           'RETURNING identificatie, zaaktype, mode, "primary", rule, created_at',
    "link": "INSERT INTO document_zaken (document, zaak, created_at) VALUES (:document, :zaak, :now) "
            "ON CONFLICT (document) DO NOTHING",
    "document_zaak": "SELECT zaak FROM document_zaken WHERE document = :document",
}
_NAMED = re.compile(r":(\w+)")


def _named(sql: str) -> list[str]:
    """The named parameters of a statement, in order."""
    return _NAMED.findall(sql)


def _positional(sql: str) -> str:
    """The statement with $1, $2, ... for its named parameters (in the order ``_named`` gives)."""
    counter = iter(range(1, sql.count(":") + 1))
    return _NAMED.sub(lambda _: f"${next(counter)}", sql)


_REGISTRY = {name: (sql, _positional(sql)) for name, sql in _REGISTRY_SQL.items()}

# The outbox's claim, one statement: the head is the oldest due pending item with no older waiting item in its
# partition. PostgreSQL locks it FOR UPDATE SKIP LOCKED; SQLite's transaction holds the write lock. The statuses are
# literals, as in the partial indexes, so that those are used (SQLite is told to walk the pending items in id order
# and stop at the first head; it would otherwise sort all due items on every claim). Inflight items whose lease ran
# out (their worker died) are put back to pending by "expire", run by the claim now and then (Store.claim_outbox).
_OUTBOX_COLUMNS = ("id, partition_key, target, payload, content_type, soap_action, idem_key, status, attempts, "
                   "next_attempt_at, lease_until, last_error, created_at, kind, payload_ref, payload_size, finished_at")
_OUTBOX_HEAD = ("SELECT o.id FROM outbox o{hint} WHERE o.status = 'pending' AND o.next_attempt_at <= {now} "
                "AND NOT EXISTS (SELECT 1 FROM outbox older WHERE older.partition_key = o.partition_key "
                "AND older.id < o.id AND older.status IN ('pending', 'inflight', 'dead', 'held')) "
                "ORDER BY o.id LIMIT 1")
_OUTBOX_EXPIRE = ("UPDATE outbox SET status = 'pending', lease_until = NULL WHERE status = 'inflight' "
                  "AND lease_until < :now RETURNING id")
_OUTBOX_SQL: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "claim": (
        "UPDATE outbox SET status = 'inflight', attempts = attempts + 1, lease_until = :lease WHERE id = ("
        + _OUTBOX_HEAD.format(now=":now", hint=" INDEXED BY ix_outbox_pending") + f") RETURNING {_OUTBOX_COLUMNS}",
        "WITH head AS (" + _OUTBOX_HEAD.format(now="$1", hint="") + " FOR UPDATE SKIP LOCKED) "
        "UPDATE outbox SET status = 'inflight', attempts = outbox.attempts + 1, lease_until = $2 FROM head "
        "WHERE outbox.id = head.id RETURNING " + ", ".join(f"outbox.{c}" for c in _OUTBOX_COLUMNS.split(", ")),
        ("now", "lease"),
    ),
    "expire": (_OUTBOX_EXPIRE, _positional(_OUTBOX_EXPIRE), ("now",)),
}

#: Seconds between two looks for inflight items whose lease ran out, while claims keep finding work.
OUTBOX_EXPIRE_EVERY = 5.0

@functools.lru_cache(maxsize=256)
def _positional_cached(sql: str) -> str:
    """``_positional`` of a feature module's statement (``Store.statement``), converted once."""
    return _positional(sql)

#: Runs one idempotency statement by name with its parameters; returns its first row (None if it has none).
Execute = Callable[[str, Mapping[str, Any]], Any]

#: An idempotency operation written once for every way of running it: a generator that yields (statement name,
#: parameters), is sent each statement's first row (or None), and returns the outcome.
Steps = Generator[tuple[str, Mapping[str, Any]], Any, T]


def _drive(steps: Steps[T], execute: Execute) -> T:
    row = None
    try:
        while True:
            row = execute(*steps.send(row))
    except StopIteration as done:
        return cast(T, done.value)


async def _drive_async(steps: Steps[T], execute: Callable[[str, Mapping[str, Any]], Awaitable[Any]]) -> T:
    row = None
    try:
        while True:
            row = await execute(*steps.send(row))
    except StopIteration as done:
        return cast(T, done.value)


def _claim_statement(insert: Callable[[Table], Any]) -> Any:
    return (
        insert(messages)
        .values(zender=bindparam("k_zender"), referentienummer=bindparam("k_ref"), digest=bindparam("v_digest"),
                operation=bindparam("v_operation"), state="pending", created_at=bindparam("v_now"),
                owner=bindparam("v_owner"))
        .on_conflict_do_nothing(index_elements=[messages.c.zender, messages.c.referentienummer])
        .returning(messages.c.state, _HAS_JOURNAL)
    )


def _enqueue_statement(insert: Callable[[Table], Any]) -> Any:
    return (
        insert(outbox)
        .values(partition_key=bindparam("v_partition"), target=bindparam("v_target"), payload=bindparam("v_payload"),
                content_type=bindparam("v_content_type"), soap_action=bindparam("v_soap_action"),
                idem_key=bindparam("v_idem"), status="pending", attempts=0, next_attempt_at=bindparam("v_now"),
                created_at=bindparam("v_now"), kind=bindparam("v_kind"), payload_ref=bindparam("v_payload_ref"),
                payload_size=bindparam("v_payload_size"))
        .on_conflict_do_update(index_elements=[outbox.c.idem_key],
                               set_={"status": "pending", "next_attempt_at": bindparam("v_now")},
                               where=text("outbox.status = 'held'"))
    )


def _sqlalchemy_execute(conn: Connection, statements: Mapping[str, Any]) -> Execute:
    def execute(name: str, params: Mapping[str, Any]) -> Any:
        result = conn.execute(statements[name], params)
        return result.first() if result.returns_rows else None

    return execute


def _sqlite_execute(conn: sqlite3.Connection) -> Execute:
    def execute(name: str, params: Mapping[str, Any]) -> Any:
        values = {key: value.astimezone(dt.UTC).strftime(_SQLITE_TIMESTAMP) if isinstance(value, dt.datetime) else value
                  for key, value in params.items()}
        cursor = conn.execute(_SQLITE_IDEMPOTENCY[name], values)
        if name in _SQLITE_COUNTED:
            return (cursor.rowcount,) if cursor.rowcount > 0 else None
        return cursor.fetchone()

    return execute


def _pg_execute(conn: Any) -> Callable[[str, Mapping[str, Any]], Awaitable[Any]]:
    async def execute(name: str, params: Mapping[str, Any]) -> Any:
        sql, names = _PG_IDEMPOTENCY[name]
        return await conn.fetchrow(sql, *(params[n] for n in names))

    return execute


def _one(name: str, params: Mapping[str, Any]) -> Steps[None]:
    """Steps of a single statement."""
    yield name, params


def _as_utc(value: dt.datetime | str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class _Busy(Exception):
    """The SQLite write lock is taken right now (inline transactions do not wait for it)."""


#: Inline commits between two WAL checkpoints queued on the worker thread.
CHECKPOINT_EVERY = 200

log = structlog.get_logger(__name__)


def _sqlite_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T], *, wait: bool) -> T:
    """``work`` in one write transaction on a driver connection (autocommit mode), committed on success. With
    ``wait=False`` a taken write lock raises _Busy, and nothing was written."""
    if conn.in_transaction:  # left open by a rollback that failed: start clean
        conn.execute("ROLLBACK")
    try:
        conn.execute("BEGIN IMMEDIATE")
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        if not wait and _is_busy(exc):
            raise _Busy from exc
        raise
    return result


def _sqlite_statement(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """``work`` (a single statement) in autocommit mode; a taken write lock raises _Busy, and nothing was written."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    try:
        return work(conn)
    except sqlite3.Error as exc:
        if _is_busy(exc):
            raise _Busy from exc
        raise


def _is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED, extended codes included."""
    return isinstance(exc, sqlite3.OperationalError) and (exc.sqlite_errorcode & 0xFF) in (
        sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class _SqliteRunner:
    """Plain SQLAlchemy engines on a SQLite file, used from one worker thread: SQLite has one writer anyway, and a
    whole transaction costs one thread hop. Two engines: commits that wait for the disk, and commits that do not
    (``synchronous=NORMAL``). Plus one driver connection for the idempotency records, used inline (``inline``)."""

    def __init__(self, url: URL, path: Path) -> None:
        self._durable = engines.create_sync_sqlite_engine(url, durable=True)
        self._relaxed = engines.create_sync_sqlite_engine(url, durable=False)
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="stuf-bridge-store")
        self._inline = engines.connect_inline_sqlite(path)
        self._inline_lock = threading.Lock()
        self._inline_commits = 0

    async def run(self, work: Callable[[Connection], T], *, durable: bool) -> T:
        engine = self._durable if durable else self._relaxed

        def transaction() -> T:
            with engine.begin() as conn:
                return work(conn)

        return await asyncio.get_running_loop().run_in_executor(self._thread, transaction)

    async def run_driver(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` on a relaxed driver connection in the worker thread, waiting for the write lock if need be."""

        def transaction() -> T:
            pooled = self._relaxed.raw_connection()
            try:
                driver = cast(sqlite3.Connection, pooled.driver_connection)  # pysqlite under SQLAlchemy's pool
                return _sqlite_transaction(driver, work, wait=True)
            finally:
                pooled.close()

        return await asyncio.get_running_loop().run_in_executor(self._thread, transaction)

    def inline(self, work: Callable[[sqlite3.Connection], T], *, transaction: bool = True) -> T:
        """``work`` right here on the calling (event-loop) thread, or _Busy if the write lock is taken: by this
        process's worker thread, by another process, or by another thread in here. The caller then queues it with
        ``run_driver``.

        For the idempotency records: a claim or a completion is one or two statements on one row, about 20 µs of
        SQLite in WAL mode with ``synchronous=NORMAL`` (no disk flush at commit), where the hop to the worker thread
        and back costs twenty times that. So that no commit does a checkpoint here (a checkpoint flushes the disk),
        this connection never checkpoints: every CHECKPOINT_EVERY commits a RESTART checkpoint is queued on the
        worker thread. While it runs it holds the write lock, so inline writes go to the worker thread and queue
        behind it; afterwards the WAL is written from its start again. (A passive checkpoint would race the writes
        that go on meanwhile, and under steady load the WAL would then keep growing.)"""
        if not self._inline_lock.acquire(blocking=False):
            raise _Busy
        try:
            # ``transaction=False``: ``work`` is one statement, atomic on its own in autocommit mode (no BEGIN/COMMIT)
            result = _sqlite_transaction(self._inline, work, wait=False) if transaction else \
                _sqlite_statement(self._inline, work)
            self._inline_commits += 1
            checkpoint = self._inline_commits % CHECKPOINT_EVERY == 0
        finally:
            self._inline_lock.release()
        if checkpoint:
            with contextlib.suppress(RuntimeError):  # the store is closing: its connections checkpoint as they close
                self._thread.submit(self._checkpoint).add_done_callback(_report_checkpoint)
        return result

    def _checkpoint(self) -> None:
        pooled = self._relaxed.raw_connection()
        try:
            driver = cast(sqlite3.Connection, pooled.driver_connection)
            driver.execute("PRAGMA wal_checkpoint(RESTART)")
        finally:
            pooled.close()

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        with self._inline_lock:
            self._inline.close()
        self._durable.dispose()
        self._relaxed.dispose()


def _report_checkpoint(done: concurrent.futures.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:  # the next one may succeed; the WAL only grows
        log.warning("sqlite_checkpoint_failed", error=_describe(done.exception()))  # type: ignore[arg-type]


@dataclass(frozen=True)
class MessageClaim:
    """The outcome of ``Store.claim_message``: new | done | pending | conflict, with the stored answer if done."""

    state: str
    answer: bytes | None = None
    #: pending: the process that holds the claim (None: claimed without one, e.g. the journal off)
    owner: str | None = None
    #: new: the message has a step journal already (an earlier copy failed or died; recovery resolves it first)
    journal: bool = False


@dataclass(frozen=True)
class OutboxItem:
    """A secondary delivery to write with a message's idempotency record (``Store.complete_message``).

    ``target`` is ``legacy:<Service>`` (the raw request sent on, same referentienummer) or ``zgw`` (the raw request
    translated by the worker); ``idem_key`` (zender|referentienummer|target) makes a second enqueue of the same leg a
    no-op; ``partition_key`` orders delivery (the zaak identificatie; ``doc:<id>`` or ``msg:<ref>`` without one)."""

    partition_key: str
    target: str
    payload: bytes
    content_type: str | None
    soap_action: str | None
    idem_key: str
    kind: str = "replicate"
    payload_ref: str | None = None  # a large payload: in outbox_blobs under this name (``payload`` is then empty)
    payload_size: int | None = None  # its size in bytes


@dataclass(frozen=True)
class OutboxEntry:
    """An outbox row as stored."""

    id: int
    partition_key: str
    target: str
    payload: bytes
    content_type: str | None
    soap_action: str | None
    idem_key: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    lease_until: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    kind: str = "replicate"
    payload_ref: str | None = None
    payload_size: int | None = None
    finished_at: dt.datetime | None = None


@dataclass(frozen=True)
class OutboxStats:
    """For the metrics: items waiting (pending, inflight, or held: an intent whose primary call is under way or
    waits for the sweep), the age of the oldest of them, and dead items."""

    pending: int
    oldest_pending_seconds: float
    dead: int


#: Statuses that hold back a partition's later items: order per zaak is kept until the item is done or skipped.
_BLOCKING = ("pending", "inflight", "held", "dead")


@dataclass(frozen=True)
class ZaakRoute:
    """A zaak's entry in the zaak registry: the route it was created under (``Store.pin_zaak_route``)."""

    identificatie: str
    zaaktype: str | None
    mode: str
    primary: str
    rule: str
    created_at: dt.datetime | None = None


def create_store(url: str) -> Store:
    """A store for ``url`` (``sqlite:///path`` or ``postgresql://...``); call ``open()`` before use."""
    return Store(url)


class Store:
    """Async access to the gateway's state. Open it, use it, close it (or ``async with store:``)."""

    def __init__(self, url: str, *, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        self._url = engines.normalize_url(url)
        check_migrations(migrations)
        self._migrations = tuple(migrations)
        self._engine: AsyncEngine | None = None
        # A SQLite file is used through plain engines in one worker thread (see _run); the async engine then only
        # migrates. SQLite has one writer at a time; the lock queues this process's transactions on the async
        # path (in-memory databases) so they stay off the busy-wait path (busy_timeout covers other processes).
        self._sqlite: _SqliteRunner | None = None
        self._sqlite_lock: asyncio.Lock | None = None
        # On PostgreSQL the idempotency records go through a small asyncpg pool of their own: one round trip per
        # statement, where a SQLAlchemy transaction took five (ping, BEGIN, SET LOCAL, the statement, COMMIT).
        self._pg: Any = None
        self._batches = _Batches(self.advance)
        self._outbox_expire_at = 0.0  # (time.monotonic) when claim_outbox next looks for leases that ran out

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return engines.safe_url(self._url)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._url.get_backend_name()

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> AsyncEngine:
        """The open store's SQLAlchemy engine, for a feature's own tables (``security/nonces.py``)."""
        if self._engine is None:
            raise StoreError("the store is not open")
        return self._engine

    async def open(self) -> None:
        """Connect and bring the schema up to date. Opening an open store does nothing."""
        if self._engine is not None:
            return
        with self._translated("open"):
            path = engines.sqlite_file(self._url) if self.dialect == "sqlite" else None
            if path is not None:
                await asyncio.to_thread(engines.prepare_sqlite_file, path)
            engine = engines.create_engine(self._url)
            lock = asyncio.Lock() if self.dialect == "sqlite" else None
            pool = None
            try:
                async with _holding(lock):
                    await migrate(engine, self._migrations)
                if self.dialect == "postgresql":
                    pool = await engines.create_pg_pool(self._url)
            except BaseException:
                await engine.dispose()
                raise
            if self._engine is not None:  # a concurrent open() of this store got there first
                if pool is not None:
                    await pool.close()
                await engine.dispose()
                return
            # (an in-memory database is private to its engine: there the async engine serves all)
            runner = _SqliteRunner(self._url, path) if path is not None else None
        self._engine, self._sqlite, self._sqlite_lock, self._pg = engine, runner, lock, pool

    async def close(self) -> None:
        """Release all connections. Closing a closed store does nothing."""
        engine, runner, pool = self._engine, self._sqlite, self._pg
        self._engine, self._sqlite, self._pg = None, None, None
        if engine is not None:
            with self._translated("close"):
                if pool is not None:
                    await pool.close()
                await engine.dispose()
                if runner is not None:
                    await asyncio.to_thread(runner.close)

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def ping(self) -> bool:
        """True if the store is open and the database answers."""
        if self._engine is None:
            return False
        try:
            return await self._run("ping", lambda conn: conn.scalar(text("SELECT 1")) == 1)
        except StoreError:
            return False

    async def next_value(self, sequence: str) -> int:
        """Atomically advance the named sequence and return its new value; the first value is 1.

        Concurrent callers of one sequence in this process share one transaction (one commit, so one disk
        flush, for the whole batch) and get consecutive values: no value is skipped or repeated.
        """
        if not 0 < len(sequence) <= SEQUENCE_NAME_LENGTH:
            raise StoreError(
                f"sequence name must be 1 to {SEQUENCE_NAME_LENGTH} characters, got {sequence!r}"
            )
        return await self._batches.take(sequence)

    async def advance(self, sequence: str, count: int) -> int:
        """Advance the named sequence by ``count`` in one transaction and return its new (last) value."""
        if count < 1:
            raise StoreError(f"advance({sequence!r}) needs a count of at least 1, got {count}")
        statement = (
            self._insert(sequences)
            .values(name=sequence, value=count)
            .on_conflict_do_update(index_elements=[sequences.c.name], set_={"value": sequences.c.value + count})
            .returning(sequences.c.value)
        )
        return await self._run(f"next_value({sequence!r})", lambda conn: int(conn.execute(statement).scalar_one()))

    # --- named values beside the sequences (the checkouts the gateway handed out, operations/checkouts.py) ----

    async def set_value(self, name: str, value: int) -> None:
        """Set the named value (a row of the sequences table), durably."""
        statement = (
            self._insert(sequences).values(name=name, value=value)
            .on_conflict_do_update(index_elements=[sequences.c.name], set_={"value": value})
        )
        await self._run(f"set_value({name!r})", lambda conn: conn.execute(statement))

    async def get_value(self, name: str) -> int | None:
        """The named value, or None."""
        statement = select(sequences.c.value).where(sequences.c.name == name)
        return await self._run(f"get_value({name!r})", lambda conn: conn.execute(statement).scalar_one_or_none())

    async def delete_value(self, name: str) -> None:
        """Remove the named value (nothing if there is none)."""
        statement = delete(sequences).where(sequences.c.name == name)
        await self._run(f"delete_value({name!r})", lambda conn: conn.execute(statement))

    # --- idempotency records --------------------------------------------------------------------------------

    async def claim_message(
        self, zender: str, referentienummer: str, digest: str, operation: str, *, stale_after: dt.timedelta,
        owner: str | None = None,
    ) -> MessageClaim:
        """Claim (zender, referentienummer) for processing a message with this body digest.

        ``new``: nobody had it; process it, then ``complete_message`` or ``release_message``. ``done``: processed
        before with the same body; the stored answer is in ``answer``. ``conflict``: the same referentienummer came
        with another body (StUF016). ``pending``: another process is working on it right now. A pending claim older
        than ``stale_after`` (its process died) is taken over and reported as ``new``.

        ``owner`` (recovery's process id) is stored with the claim: ``pending`` reports its holder, and a ``new``
        claim says whether the message has a step journal already (``journal``), in the same statement.
        """
        now = dt.datetime.now(dt.UTC)
        key = {"k_zender": zender, "k_ref": referentienummer}
        values = {**key, "v_digest": digest, "v_operation": operation, "v_now": now, "v_owner": owner}

        def steps() -> Steps[MessageClaim]:
            claimed = yield "claim", values
            if claimed is not None:
                return MessageClaim("new", journal=bool(claimed[1]))
            stored_digest, state, answer, created_at, holder = yield "read", key
            if stored_digest != digest:
                return MessageClaim("conflict")
            if state == "done":
                return MessageClaim("done", bytes(answer) if answer is not None else None)
            stale = now - _as_utc(created_at) > stale_after
            if stale:
                taken = yield "take_over", {**key, "k_created": created_at, "v_now": now, "v_owner": owner}
                if taken is not None:
                    return MessageClaim("new", journal=bool(taken[1]))
            return MessageClaim("pending", owner=holder)

        return await self._run_idempotency(f"claim_message({referentienummer!r})", steps)

    async def complete_message(self, zender: str, referentienummer: str, answer: bytes,
                               outbox_items: Sequence[OutboxItem] = (), *, owner: str | None = None) -> bool:
        """Store the answer of a claimed message; a resend gets exactly this answer. ``outbox_items`` are written in
        the same transaction (replicate's secondary leg: stored before the answer goes out, STUF §4.4.1); an item
        whose ``idem_key`` is already there is left as it is.

        ``owner``: fenced — stored only while the claim is still pending and names this holder (recovery may have
        taken the message over from a process that paused after its last write); False, and nothing written (no
        answer, no outbox items), when it is not. Without ``owner`` the answer is stored as it is (True)."""
        now = dt.datetime.now(dt.UTC)
        values = {"k_zender": zender, "k_ref": referentienummer, "v_answer": answer, "v_now": now}

        def steps() -> Steps[bool]:
            if owner is None:
                yield "complete", values
            elif (yield "complete_owned", {**values, "v_owner": owner}) is None:
                return False
            for item in outbox_items:
                yield "enqueue", _enqueue_values(item, now)
            return True

        return await self._run_idempotency(f"complete_message({referentienummer!r})", steps,
                                           atomic=bool(outbox_items))

    async def enqueue_outbox(self, outbox_items: Sequence[OutboxItem]) -> None:
        """Write outbox items without an idempotency record (a sender whose messages are not claimed), in one
        transaction; as in ``complete_message`` a held item is turned pending and a known one left as it is."""
        now = dt.datetime.now(dt.UTC)

        def steps() -> Steps[None]:
            for item in outbox_items:
                yield "enqueue", _enqueue_values(item, now)

        await self._run_idempotency("enqueue_outbox", steps, atomic=True)

    async def release_message(self, zender: str, referentienummer: str) -> None:
        """Give up a claim (the message failed and changed nothing), so that a resend is processed anew."""
        key = {"k_zender": zender, "k_ref": referentienummer}
        await self._run_idempotency(f"release_message({referentienummer!r})", lambda: _one("release", key))

    async def purge_messages(self, older_than: dt.timedelta) -> int:
        """Forget idempotency records older than the retention; returns how many went."""
        statement = delete(messages).where(messages.c.created_at < dt.datetime.now(dt.UTC) - older_than)
        return await self._run(
            "purge_messages", lambda conn: int(conn.execute(statement).rowcount or 0), durable=False
        )

    # --- the outbox ------------------------------------------------------------------------------------------

    async def claim_outbox(self, lease: dt.timedelta) -> OutboxEntry | None:
        """The next item to deliver, now inflight until ``now + lease`` (its attempts counted), or None.

        The item is the oldest due pending item whose partition has no older pending, inflight, held or dead item:
        FIFO per partition, and a dead item parks its partition only. Inflight items whose lease ran out (their
        worker died) go back to pending first: every OUTBOX_EXPIRE_EVERY seconds, and whenever nothing else is due
        (a look costs a statement; the lease runs minutes). On PostgreSQL it is one statement on the store's asyncpg
        pool, the
        head locked ``FOR UPDATE SKIP LOCKED``, so concurrent workers (processes) never get the same item; on a
        SQLite file it runs inline like the idempotency records, its transaction holding the write lock."""
        now = dt.datetime.now(dt.UTC)
        params = {"now": now, "lease": now + lease}
        expire_due = time.monotonic() >= self._outbox_expire_at
        if expire_due:
            await self._outbox_expire(now)
        row = await self.outbox_statement("claim_outbox", "claim", params)
        if row is None and not expire_due and await self._outbox_expire(now):  # idle: a lease that ran out now
            row = await self.outbox_statement("claim_outbox", "claim", params)
        return _outbox_entry(row) if row is not None else None

    async def _outbox_expire(self, now: dt.datetime) -> bool:
        """Inflight items whose lease ran out go back to pending; True when there were any."""
        self._outbox_expire_at = time.monotonic() + OUTBOX_EXPIRE_EVERY
        return await self.outbox_statement("expire_outbox_leases", "expire", {"now": now}) is not None

    async def outbox_done(self, item_id: int) -> None:
        """An inflight item was delivered."""
        await self._outbox_update("outbox_done", item_id, ("inflight",), status="done", lease_until=None,
                                  finished_at=dt.datetime.now(dt.UTC))

    async def outbox_retry_later(self, item_id: int, error: str, delay: dt.timedelta) -> None:
        """An inflight item failed in a way that may pass: pending again, due after ``delay``."""
        await self._outbox_update("outbox_retry_later", item_id, ("inflight",), status="pending", lease_until=None,
                                  last_error=error[:2000], next_attempt_at=dt.datetime.now(dt.UTC) + delay)

    async def outbox_dead(self, item_id: int, error: str) -> None:
        """An inflight item failed for good: dead, holding back its partition's later items."""
        await self._outbox_update("outbox_dead", item_id, ("inflight",), status="dead", lease_until=None,
                                  last_error=error[:2000])

    async def outbox_requeue(self, item_id: int) -> bool:
        """Operator: a dead item pending again (attempts from zero); False when there is no such dead item."""
        return await self._outbox_update("outbox_requeue", item_id, ("dead",), status="pending", attempts=0,
                                         next_attempt_at=dt.datetime.now(dt.UTC))

    async def outbox_skip(self, item_id: int) -> bool:
        """Operator: give up a dead item (status skipped), releasing its partition; False when there is none."""
        return await self._outbox_update("outbox_skip", item_id, ("dead",), status="skipped",
                                         finished_at=dt.datetime.now(dt.UTC))

    async def outbox_items(self, *, statuses: Sequence[str] = ("pending", "inflight", "held", "dead"),
                           limit: int = 1000) -> list[OutboxEntry]:
        """Items in these statuses, oldest first."""
        query = select(*outbox.c).where(outbox.c.status.in_(tuple(statuses))).order_by(outbox.c.id).limit(limit)
        return await self._run("outbox_items", lambda conn: [_outbox_entry(row) for row in conn.execute(query)],
                               durable=False)

    async def outbox_item(self, item_id: int) -> OutboxEntry | None:
        query = select(*outbox.c).where(outbox.c.id == item_id)
        row = await self._run("outbox_item", lambda conn: conn.execute(query).first(), durable=False)
        return _outbox_entry(row) if row is not None else None

    async def outbox_stats(self) -> OutboxStats:
        query = select(outbox.c.status, func.count(), func.min(outbox.c.created_at)).where(
            outbox.c.status.in_(_BLOCKING)).group_by(outbox.c.status)
        rows = await self._run("outbox_stats", lambda conn: list(conn.execute(query)), durable=False)
        counts = {status: (int(count), oldest) for status, count, oldest in rows}
        waiting = [counts[s] for s in ("pending", "inflight", "held") if s in counts]
        oldest = min((_as_utc(first) for _, first in waiting if first is not None), default=None)
        age = (dt.datetime.now(dt.UTC) - oldest).total_seconds() if oldest is not None else 0.0
        return OutboxStats(sum(n for n, _ in waiting), max(age, 0.0), counts.get("dead", (0, None))[0])

    async def transaction(self, action: str, work: Callable[[Connection], T], *, durable: bool = True) -> T:
        """Run ``work`` (synchronous, on a SQLAlchemy ``Connection``) in one transaction of the store, for features
        that keep tables of their own (``notifications/store.py``, ``trace/store.py``); errors come out as
        StoreError."""
        return await self._run(action, work, durable=durable)

    async def _outbox_update(self, action: str, item_id: int, when: tuple[str, ...], **values: Any) -> bool:
        """One item's status change, if it is in one of the statuses ``when``: one round trip (see
        ``outbox_statement``). True when it changed."""
        sets = ", ".join(f"{name} = :{name}" for name in values)
        states = ", ".join(f"'{state}'" for state in when)  # literals of this module, never outside input
        sql = f"UPDATE outbox SET {sets} WHERE id = :item_id AND status IN ({states}) RETURNING id"
        row = await self.outbox_statement(f"{action}({item_id})", sql, {**values, "item_id": item_id})
        return row is not None

    async def outbox_statement(self, action: str, sql: str, params: Mapping[str, Any], *,
                               all_rows: bool = False, inline: bool = True) -> Any:
        """One outbox statement in SQLite's SQL with named parameters (or the name of one in ``_OUTBOX_SQL``); its
        first row (or every row) or None. Run like the idempotency records (``_run_idempotency``): inline on a
        SQLite file, one round trip on the asyncpg pool on PostgreSQL (the claim through SQLAlchemy took 15-30
        ms there), on the async engine for an in-memory database. ``inline=False`` sends it to the store's worker
        thread on a SQLite file (statements that move megabytes: a payload's chunks). Shared with
        ``outbox/store.py``."""
        if sql in _OUTBOX_SQL:
            sqlite_sql, pg_sql, pg_names = _OUTBOX_SQL[sql]
        else:
            sqlite_sql, pg_sql, pg_names = sql, _positional(sql), tuple(_named(sql))
        if self._pg is not None:
            pool = self._pg
            with self._translated(action):
                async with pool.acquire() as conn:
                    args = [params[key] for key in pg_names]
                    return await (conn.fetch(pg_sql, *args) if all_rows else conn.fetchrow(pg_sql, *args))
        values = {key: value.astimezone(dt.UTC).strftime(_SQLITE_TIMESTAMP) if isinstance(value, dt.datetime)
                  else value for key, value in params.items()}
        statements = [part for part in sqlite_sql.split(";\n") if part.strip()]

        def work(conn: sqlite3.Connection) -> Any:
            result = None
            for statement in statements:
                cursor = conn.execute(statement, {k: v for k, v in values.items() if f":{k}" in statement})
                result = cursor.fetchall() if all_rows else cursor.fetchone()
            return result

        runner = self._sqlite
        if runner is None:  # an in-memory database: through its async engine
            def on_engine(conn: Connection) -> Any:
                result = None
                for statement in statements:
                    rows = conn.execute(text(statement), {k: v for k, v in values.items() if f":{k}" in statement})
                    result = (list(rows) if all_rows else rows.first()) if rows.returns_rows else None
                return result

            return await self._run(action, on_engine, durable=False)
        with self._translated(action):
            if not inline:
                return await runner.run_driver(work)
            try:
                return runner.inline(work)
            except _Busy:
                return await runner.run_driver(work)

    # --- the zaak registry ----------------------------------------------------------------------------------

    async def zaak_route(self, identificatie: str) -> ZaakRoute | None:
        """The route zaak ``identificatie`` was pinned to, or None."""
        row = await self._registry(f"zaak_route({identificatie!r})", "zaak_route", {"identificatie": identificatie})
        return _zaak_route(row) if row is not None else None

    async def pin_zaak_route(self, route: ZaakRoute) -> ZaakRoute:
        """Pin a zaak to its route; the first writer wins (a zaak keeps the route it was created under, however the
        rules change later). Returns the entry in force: ``route``, or the one pinned before it."""
        action = f"pin_zaak_route({route.identificatie!r})"
        values = {"identificatie": route.identificatie, "zaaktype": route.zaaktype, "mode": route.mode,
                  "primary": route.primary, "rule": route.rule, "now": dt.datetime.now(dt.UTC)}
        row = await self._registry(action, "pin", values)
        if row is None:  # pinned before
            row = await self._registry(action, "zaak_route", {"identificatie": route.identificatie})
        return _zaak_route(row)

    async def link_document(self, document: str, zaak: str) -> None:
        """Remember the zaak of a document (the first link stays), for messages that name only the document."""
        values = {"document": document, "zaak": zaak, "now": dt.datetime.now(dt.UTC)}
        await self._registry(f"link_document({document!r})", "link", values)

    async def document_zaak(self, document: str) -> str | None:
        """The zaak identificatie a document was linked to, or None."""
        row = await self._registry(f"document_zaak({document!r})", "document_zaak", {"document": document})
        return str(row[0]) if row is not None else None

    # --- statements of feature modules (recovery/journal.py) ---------------------------------------------------

    async def statement(self, action: str, sql: str, params: Mapping[str, Any], *, rows: bool = False) -> Any:
        """One statement in SQLite's SQL with named parameters (``:name``), run as the zaak registry's are: inline
        on a SQLite file (in autocommit mode: one statement is its own transaction), one round trip on the asyncpg
        pool on PostgreSQL (positional there), not durable. Returns its first row (None if none), or with ``rows``
        every row. For a feature's small bookkeeping tables that live in a module of their own (the step
        journal)."""
        if self._pg is not None:
            positional = _positional_cached(sql)
            with self._translated(action):
                async with self._pg.acquire() as conn:
                    args = [params[key] for key in _named(sql)]
                    return await (conn.fetch(positional, *args) if rows else conn.fetchrow(positional, *args))
        values = {key: value.astimezone(dt.UTC).strftime(_SQLITE_TIMESTAMP) if isinstance(value, dt.datetime)
                  else value for key, value in params.items()}
        runner = self._sqlite
        if runner is None:  # an in-memory database: through its async engine
            def in_memory(conn: Connection) -> Any:
                result = conn.execute(text(sql), values)
                return (result.all() if rows else result.first()) if result.returns_rows else None
            return await self._run(action, in_memory, durable=False)

        def work(conn: sqlite3.Connection) -> Any:
            cursor = conn.execute(sql, values)
            return cursor.fetchall() if rows else cursor.fetchone()

        with self._translated(action):
            try:
                return runner.inline(work, transaction=False)
            except _Busy:
                return await runner.run_driver(work)

    async def sqlite_changes(self, action: str, sql: str, params: Sequence[Any]) -> int | None:
        """One write statement with positional parameters (``?``) on a SQLite file, run as ``statement`` runs it
        (inline, its own transaction, not durable); the number of rows it changed. None, and nothing run, where
        the store is not a SQLite file: the caller then uses ``statement``. For the step journal's commit, once per
        journalled write: no parameter dict to bind by name and no RETURNING rows to buffer and fetch."""
        runner = self._sqlite
        if runner is None:
            return None

        def work(conn: sqlite3.Connection) -> int:
            return conn.execute(sql, params).rowcount

        with self._translated(action):
            try:
                return runner.inline(work, transaction=False)
            except _Busy:
                return await runner.run_driver(work)

    async def _registry(self, action: str, name: str, params: Mapping[str, Any]) -> Any:
        """One zaak registry statement (``_REGISTRY``); its first row or None. Run the way the idempotency records
        are, for the same reason (the router asks on every message about a zaak, creeerZaak pins): inline on a
        SQLite file, one round trip on the asyncpg pool on PostgreSQL; not durable either (see ``_run``) — a pin
        lost to a power cut leaves the zaak's later messages to the rules and the zaaktype look-ups, as for a zaak
        created before the routing table."""
        sql, positional = _REGISTRY[name]
        if self._pg is not None:
            pool = self._pg
            with self._translated(action):
                async with pool.acquire() as conn:
                    return await conn.fetchrow(positional, *(params[key] for key in _named(sql)))
        values = {key: value.astimezone(dt.UTC).strftime(_SQLITE_TIMESTAMP) if isinstance(value, dt.datetime)
                  else value for key, value in params.items()}
        runner = self._sqlite
        if runner is None:  # an in-memory database: through its async engine
            return await self._run(action, lambda conn: _first(conn.execute(text(sql), values)), durable=False)

        def work(conn: sqlite3.Connection) -> Any:
            return conn.execute(sql, values).fetchone()

        with self._translated(action):
            try:
                return runner.inline(work)
            except _Busy:
                return await runner.run_driver(work)

    # --- transactions ---------------------------------------------------------------------------------------

    @functools.cached_property
    def _idempotency(self) -> dict[str, Any]:
        return {**_IDEMPOTENCY, "claim": _claim_statement(self._insert), "enqueue": _enqueue_statement(self._insert)}

    def _insert(self, table: Table) -> Any:
        return (pg_dialect.insert if self.dialect == "postgresql" else sqlite_dialect.insert)(table)

    async def _run(self, action: str, work: Callable[[Connection], T], *, durable: bool = True) -> T:
        """Run ``work`` in one transaction, committed on success; errors come out as StoreError.

        On a SQLite file the whole transaction runs in one hop to the store's worker thread (one hop per statement,
        as through aiosqlite, costs about a millisecond a transaction). Elsewhere it runs on the async engine.

        ``durable=False`` commits without waiting for the disk: after a power cut the last such commits may be
        gone, never half there. Identifier sequences are always durable (a lost increment would hand out a number
        twice); idempotency records are not (a lost record only means a resend is processed again, and the
        backend's own uniqueness rules still hold).
        """
        engine = self._engine
        if engine is None:
            raise StoreError(f"{action}: the store is not open")
        with self._translated(action):
            if self._sqlite is not None:
                return await self._sqlite.run(work, durable=durable)
            async with _holding(self._sqlite_lock), engine.begin() as conn:
                if not durable and self.dialect == "postgresql":
                    await conn.execute(text("SET LOCAL synchronous_commit = off"))
                return await conn.run_sync(work)

    async def _run_idempotency(self, action: str, steps: Callable[[], Steps[T]], *, atomic: bool = False) -> T:
        """An idempotency operation, not durable (see _run). On a SQLite file it runs inline on the event loop when
        the write lock is free (``_SqliteRunner.inline``), else in the worker thread; on PostgreSQL each statement
        is one round trip on the store's asyncpg pool (READ COMMITTED: a transaction around the statements of a
        claim would see and lock nothing more; ``atomic``: the statements in one transaction, for a completion that
        writes outbox items); an in-memory database runs it on the async engine."""
        if self._pg is not None:
            pool = self._pg
            with self._translated(action):
                async with pool.acquire() as conn:
                    if atomic:
                        async with conn.transaction():
                            # outbox items: stored before the answer goes out (STUF §4.4.1), so this commit waits
                            # for the disk, unlike the pool's other ones
                            await conn.execute("SET LOCAL synchronous_commit = on")
                            return await _drive_async(steps(), _pg_execute(conn))
                    return await _drive_async(steps(), _pg_execute(conn))
        runner = self._sqlite
        if runner is None:
            statements = self._idempotency
            return await self._run(action, lambda conn: _drive(steps(), _sqlalchemy_execute(conn, statements)),
                                   durable=False)
        with self._translated(action):
            try:
                return runner.inline(lambda conn: _drive(steps(), _sqlite_execute(conn)))
            except _Busy:
                return await runner.run_driver(lambda conn: _drive(steps(), _sqlite_execute(conn)))

    @contextlib.contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except _FOREIGN_ERRORS as exc:
            raise StoreError(f"{action} failed on {self.url}: {_describe(exc)}") from exc

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return f"<Store {self.url} {state}>"


def _first(result: Any) -> Any:
    return result.first() if result.returns_rows else None


def _outbox_entry(row: Any) -> OutboxEntry:
    values = dict(row._mapping) if hasattr(row, "_mapping") else dict(zip(_OUTBOX_COLUMNS.split(", "), row,
                                                                            strict=True))
    for name in ("next_attempt_at", "lease_until", "created_at", "finished_at"):
        if values.get(name) is not None:
            values[name] = _as_utc(values[name])
    values["payload"] = bytes(values["payload"])
    return OutboxEntry(**values)


def _enqueue_values(item: OutboxItem, now: dt.datetime) -> dict[str, Any]:
    return {"v_partition": item.partition_key, "v_target": item.target, "v_payload": item.payload,
            "v_content_type": item.content_type, "v_soap_action": item.soap_action, "v_idem": item.idem_key,
            "v_now": now, "v_kind": item.kind, "v_payload_ref": item.payload_ref, "v_payload_size": item.payload_size}


def _zaak_route(row: Any) -> ZaakRoute:
    identificatie, zaaktype, mode, primary, rule, created_at = row
    return ZaakRoute(identificatie, zaaktype, mode, primary, rule, _as_utc(created_at))


@contextlib.asynccontextmanager
async def _holding(lock: asyncio.Lock | None) -> AsyncIterator[None]:
    if lock is None:
        yield
    else:
        async with lock:
            yield


def _describe(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's SQL echo and help links."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    message = str(cause).strip() or repr(cause)
    return f"{type(cause).__name__}: {message}"


class _Batches:
    """Coalesces concurrent ``next_value`` calls per sequence into one ``advance(sequence, n)``.

    While a transaction for a sequence is under way, new callers queue; when it ends, all of them are served by
    the next single transaction. Under load this turns n disk flushes into one, without gaps.
    """

    def __init__(self, advance: Callable[[str, int], Awaitable[int]]) -> None:
        self._advance = advance
        self._waiting: dict[str, list[asyncio.Future[int]]] = {}
        self._draining: set[str] = set()

    async def take(self, sequence: str) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(sequence, []).append(future)
        if sequence not in self._draining:
            self._draining.add(sequence)
            asyncio.get_running_loop().create_task(self._drain(sequence))
        return await future

    async def _drain(self, sequence: str) -> None:
        try:
            while waiters := self._waiting.pop(sequence, None):
                try:
                    last = await self._advance(sequence, len(waiters))
                except BaseException as exc:  # every waiter of this batch gets the failure
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc if isinstance(exc, Exception) else StoreError(str(exc)))
                    if not isinstance(exc, Exception):
                        raise
                    continue
                first = last - len(waiters) + 1
                for offset, waiter in enumerate(waiters):
                    if not waiter.done():  # a cancelled caller leaves its number unused
                        waiter.set_result(first + offset)
        finally:
            self._draining.discard(sequence)
