"""The store on SQLite, the embedded default."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, Table, text

from stuf_bridge.store import Store, StoreError, create_store
from stuf_bridge.store.migrations import MIGRATIONS, Migration

pytestmark = pytest.mark.asyncio

ALL_VERSIONS = [(migration.version,) for migration in MIGRATIONS]
NEXT = MIGRATIONS[-1].version + 1


def _db_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(_db_file(url)) as conn:
        return conn.execute(sql).fetchall()


async def test_open_creates_the_data_directory_and_migrates(sqlite_url: str) -> None:
    assert not _db_file(sqlite_url).parent.exists()
    store = create_store(sqlite_url)
    await store.open()
    try:
        assert await store.ping() is True
    finally:
        await store.close()
    assert _query(sqlite_url, "SELECT version FROM schema_version") == ALL_VERSIONS
    tables = {row[0] for row in _query(sqlite_url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"schema_version", "sequences"} <= tables
    assert _query(sqlite_url, "PRAGMA journal_mode") == [("wal",)]


async def test_reopen_is_harmless(sqlite_url: str) -> None:
    store = create_store(sqlite_url)
    await store.open()
    await store.open()  # opening an open store does nothing
    assert await store.next_value("zaak") == 1
    await store.close()

    again = create_store(sqlite_url)
    await again.open()
    try:
        assert await again.next_value("zaak") == 2
    finally:
        await again.close()
    assert _query(sqlite_url, "SELECT version FROM schema_version") == ALL_VERSIONS


async def test_sequences_start_at_one_and_are_independent(sqlite_store: Store) -> None:
    assert [await sqlite_store.next_value("zaak") for _ in range(3)] == [1, 2, 3]
    assert await sqlite_store.next_value("document") == 1
    assert await sqlite_store.next_value("zaak") == 4
    assert await sqlite_store.next_value("Zaak") == 1  # names are case-sensitive


async def test_500_concurrent_callers_get_500_consecutive_values(sqlite_store: Store) -> None:
    values = await asyncio.gather(*(sqlite_store.next_value("zaak") for _ in range(500)))
    assert len(set(values)) == 500
    assert sorted(values) == list(range(1, 501))


async def test_two_stores_on_one_file_share_the_sequence(sqlite_url: str) -> None:
    first, second = create_store(sqlite_url), create_store(sqlite_url)
    await asyncio.gather(first.open(), second.open())
    try:
        values = await asyncio.gather(
            *(store.next_value("zaak") for _ in range(100) for store in (first, second))
        )
    finally:
        await asyncio.gather(first.close(), second.close())
    assert sorted(values) == list(range(1, 201))


async def test_in_memory_database() -> None:
    async with create_store("sqlite:///:memory:") as store:
        values = await asyncio.gather(*(store.next_value("zaak") for _ in range(50)))
        assert sorted(values) == list(range(1, 51))


async def test_two_processes_draw_from_one_sqlite_file(
    sqlite_url: str, run_workers: Callable[..., list[Any]]
) -> None:
    results = await asyncio.to_thread(run_workers, [[sqlite_url, "draw", "zaak", "500"] for _ in range(2)])
    values = [v for result in results for v in result]
    assert len(values) == len(set(values)) == 1000
    assert sorted(values) == list(range(1, 1001))


async def test_two_processes_claim_each_message_once(sqlite_url: str, run_workers: Callable[..., list[Any]]) -> None:
    """Both processes write idempotency records inline on their event loops, and fall back to waiting in their
    worker thread when the other holds the write lock: every referentienummer is new to exactly one of them."""
    # one from the front, one from the back: they meet somewhere, and there claim the same numbers at once
    first, second = await asyncio.to_thread(
        run_workers, [[sqlite_url, "claim", "2000", "asc"], [sqlite_url, "claim", "2000", "desc"]])
    assert sorted(first + second, key=lambda ref: int(ref.split("-")[1])) == [f"ref-{i}" for i in range(2000)]
    assert not set(first) & set(second)
    async with create_store(sqlite_url) as store:
        # each one's last claim (on a loaded machine one worker may start so late that the other claimed them all)
        for ref in ("ref-0", "ref-1999", *(claimed[-1] for claimed in (first, second) if claimed)):
            done = await store.claim_message("1900/App", ref, "digest", "op", stale_after=dt.timedelta(hours=1))
            assert (done.state, done.answer) == ("done", ref.encode())


# --- the migration scheme -----------------------------------------------------------------------------------


def _m002_notes(conn: Connection) -> None:
    metadata = MetaData()
    Table("notes", metadata, Column("id", Integer, primary_key=True))
    metadata.create_all(conn)


def _m002_broken(conn: Connection) -> None:
    _m002_notes(conn)
    conn.execute(text("INSERT INTO no_such_table VALUES (1)"))


async def test_a_later_migration_is_applied_on_open(sqlite_url: str) -> None:
    async with create_store(sqlite_url) as store:
        await store.next_value("zaak")
    upgraded = Store(sqlite_url, migrations=[*MIGRATIONS, Migration(NEXT, "notes", _m002_notes)])
    async with upgraded:
        assert await upgraded.next_value("zaak") == 2
    assert _query(sqlite_url, "SELECT version, description FROM schema_version ORDER BY version") == [
        *((m.version, m.description) for m in MIGRATIONS),
        (NEXT, "notes"),
    ]
    assert _query(sqlite_url, "SELECT count(*) FROM notes") == [(0,)]


async def test_a_failing_migration_leaves_no_trace(sqlite_url: str) -> None:
    async with create_store(sqlite_url):
        pass
    broken = Store(sqlite_url, migrations=[*MIGRATIONS, Migration(NEXT, "broken notes", _m002_broken)])
    with pytest.raises(StoreError, match=f"migration {NEXT} \\(broken notes\\) failed"):
        await broken.open()
    assert not broken.is_open
    assert _query(sqlite_url, "SELECT version FROM schema_version") == ALL_VERSIONS
    assert _query(sqlite_url, "SELECT name FROM sqlite_master WHERE name = 'notes'") == []


async def test_a_newer_schema_is_refused(sqlite_url: str) -> None:
    async with Store(sqlite_url, migrations=[*MIGRATIONS, Migration(NEXT, "notes", _m002_notes)]):
        pass
    with pytest.raises(StoreError, match="newer than this gateway supports"):
        await create_store(sqlite_url).open()


async def test_migration_versions_must_be_numbered_in_order(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        Store(sqlite_url, migrations=[*MIGRATIONS, Migration(MIGRATIONS[-1].version, "again", _m002_notes)])
    with pytest.raises(ValueError, match="strictly increasing"):
        Store(sqlite_url, migrations=[Migration(2, "two", _m002_notes), Migration(1, "one", _m002_notes)])


async def test_a_step_numbered_below_the_applied_ones_is_still_applied(sqlite_url: str) -> None:
    """Numbers are handed out per feature: a build that brings a lower number later (another feature merged) applies
    it on the next open, once."""
    async with Store(sqlite_url, migrations=[MIGRATIONS[0], Migration(NEXT, "notes", _m002_notes)]):
        pass
    async with Store(sqlite_url, migrations=[*MIGRATIONS, Migration(NEXT, "notes", _m002_notes)]) as store:
        assert await store.next_value("zaak") == 1
    assert _query(sqlite_url, "SELECT version FROM schema_version ORDER BY version") == [*ALL_VERSIONS, (NEXT,)]


async def test_concurrent_callers_are_coalesced_into_few_transactions(sqlite_store: Store) -> None:
    calls: list[int] = []
    advance = sqlite_store.advance

    async def counting_advance(sequence: str, count: int) -> int:
        calls.append(count)
        return await advance(sequence, count)

    sqlite_store._batches._advance = counting_advance  # type: ignore[attr-defined]
    values = await asyncio.gather(*(sqlite_store.next_value("coalesced") for _ in range(200)))
    assert sorted(values) == list(range(1, 201))
    assert sum(calls) == 200
    assert len(calls) < 20, calls  # one transaction per batch, not per caller


async def test_a_failed_batch_fails_its_callers_and_the_next_batch_works(sqlite_store: Store) -> None:
    advance = sqlite_store.advance
    failures = iter([True])

    async def flaky(sequence: str, count: int) -> int:
        if next(failures, False):
            raise StoreError("disk on fire")
        return await advance(sequence, count)

    sqlite_store._batches._advance = flaky  # type: ignore[attr-defined]
    first = await asyncio.gather(*(sqlite_store.next_value("flaky") for _ in range(5)), return_exceptions=True)
    assert all(isinstance(result, StoreError) for result in first)
    assert await sqlite_store.next_value("flaky") == 1
