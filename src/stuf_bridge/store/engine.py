"""Store URLs and engines: choose the async driver and configure SQLite for concurrent use."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .errors import StoreError

#: Backend name -> the async driver the store uses for it.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}

#: How long a SQLite connection waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: Seconds to wait for a PostgreSQL connection (asyncpg's default is 60).
PG_CONNECT_TIMEOUT_S = 10

#: Connections of the PostgreSQL pool for the idempotency records (a statement holds one for a round trip).
PG_IDEMPOTENCY_POOL = 10

#: ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` needs SQLite 3.35.
SQLITE_MIN_VERSION = (3, 35, 0)


def normalize_url(url: str) -> URL:
    """Parse ``url`` and put the async driver in: ``sqlite:///x`` -> ``sqlite+aiosqlite:///x``."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid store URL {url!r}: {exc}") from exc
    backend = "postgresql" if parsed.get_backend_name() == "postgres" else parsed.get_backend_name()
    driver = ASYNC_DRIVERS.get(backend)
    if driver is None:
        raise StoreError(
            f"unsupported store URL {safe_url(parsed)!r}: expected sqlite:///path or postgresql://..."
        )
    if "+" in parsed.drivername and parsed.get_driver_name() != driver:
        raise StoreError(
            f"unsupported driver {parsed.get_driver_name()!r} in store URL {safe_url(parsed)!r}: "
            f"the store uses {backend}+{driver}"
        )
    return parsed.set(drivername=f"{backend}+{driver}")


def safe_url(url: URL) -> str:
    """The URL with its password masked, for messages."""
    return url.render_as_string(hide_password=True)


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory or ``file:`` URI database."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def prepare_sqlite_file(path: Path) -> None:
    """Create the data directory and put the database in WAL mode (blocking; run it in a thread).

    WAL is a property of the file, so this is done once here rather than per connection: two connections
    switching a fresh file at once can get "database is locked" without the busy timeout being honoured,
    hence the retries.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        while True:
            try:
                (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0.01, 0.05))
    finally:
        conn.close()
    if str(mode).lower() != "wal":
        raise StoreError(f"cannot put SQLite database {path} in WAL mode (journal mode is {mode!r})")


def create_engine(url: URL, *, durable: bool = True) -> AsyncEngine:
    """An async engine for ``url`` (already normalized). ``durable=False`` (SQLite): commits do not wait for the
    disk (``synchronous=NORMAL`` in WAL mode: consistent after a crash, the last commits may be lost)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, durable=durable)
    return create_async_engine(url, pool_pre_ping=True, connect_args={"timeout": PG_CONNECT_TIMEOUT_S})


async def create_pg_pool(url: URL) -> Any:
    """A small asyncpg pool on ``url`` whose sessions commit without waiting for the disk
    (``synchronous_commit = off``: after a crash of the database server the last commits may be lost, never half
    there), for the idempotency records."""
    import asyncpg  # type: ignore[import-untyped]

    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.create_pool(dsn, min_size=1, max_size=PG_IDEMPOTENCY_POOL, timeout=PG_CONNECT_TIMEOUT_S,
                                     server_settings={"synchronous_commit": "off"}, reset=_keep_session)


async def _keep_session(connection: Any) -> None:
    """The pool's connections only ever run single statements, so there is no session state to reset when one
    comes back (asyncpg's default reset is a round trip of its own: it made every statement take twice as long)."""


def _check_sqlite_version() -> None:
    if sqlite3.sqlite_version_info < SQLITE_MIN_VERSION:
        raise StoreError(
            f"SQLite {sqlite3.sqlite_version} is too old; the store needs "
            f"{'.'.join(map(str, SQLITE_MIN_VERSION))} or newer"
        )


def _sqlite_engine(url: URL, *, durable: bool = True) -> AsyncEngine:
    _check_sqlite_version()
    engine = create_async_engine(url)
    _configure_sqlite(engine.sync_engine, durable=durable)
    return engine


def create_sync_sqlite_engine(url: URL, *, durable: bool = True) -> Engine:
    """A plain (synchronous) engine on the same SQLite file, for the store's hot path: a whole transaction runs in
    one hop to a worker thread, instead of one hop per statement as through aiosqlite."""
    _check_sqlite_version()
    engine = sa_create_engine(url.set(drivername="sqlite+pysqlite"), connect_args={"check_same_thread": False})
    _configure_sqlite(engine, durable=durable)
    return engine


def connect_inline_sqlite(path: Path) -> sqlite3.Connection:
    """A driver connection for short transactions on the event loop: it never waits for a lock (the caller falls
    back to the worker thread), never flushes the disk at commit, and never checkpoints the WAL itself (the caller
    has that done in the worker thread). Autocommit mode: transactions are begun explicitly."""
    _check_sqlite_version()
    conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
    except BaseException:
        conn.close()
        raise
    return conn


def _configure_sqlite(engine: Engine, *, durable: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; see _on_begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a transaction never has to upgrade a read lock,
        # so writers in other processes queue on busy_timeout instead of failing with "locked".
        connection.exec_driver_sql("BEGIN IMMEDIATE")
