"""The store on PostgreSQL, shared by several gateway processes.

Skipped when PostgreSQL cannot be reached, except with CI=true; see conftest.pg_admin_url.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from stuf_bridge.store import Store, create_store
from stuf_bridge.store.migrations import MIGRATIONS

pytestmark = [pytest.mark.asyncio, pytest.mark.postgres]

ALL_VERSIONS = [(migration.version,) for migration in MIGRATIONS]
NEXT = MIGRATIONS[-1].version + 1


async def _fetch(url: str, sql: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_migrations_apply_and_reopen_is_harmless(pg_url: str) -> None:
    for _ in range(2):
        async with create_store(pg_url) as store:
            assert await store.ping() is True
    assert await _fetch(pg_url, "SELECT version FROM schema_version") == ALL_VERSIONS
    tables = await _fetch(
        pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    assert tables == [("cutover_audit",), ("document_zaken",), ("journal",), ("journal_owners",), ("messages",),
                      ("migration_ledger",), ("migration_locks",), ("notification_clock",), ("notification_inbox",),
                      ("notification_snapshots",), ("outbox",), ("outbox_blobs",), ("reconcile_findings",),
                      ("routing_overrides",),
                      ("schema_version",), ("sequences",), ("traces",), ("wsse_nonces",), ("zaak_routes",)]


async def test_sequences_start_at_one_and_are_independent(
    pg_store: Store, unique_name: Callable[[str], str]
) -> None:
    zaak, document = unique_name("zaak"), unique_name("document")
    assert [await pg_store.next_value(zaak) for _ in range(3)] == [1, 2, 3]
    assert await pg_store.next_value(document) == 1
    assert await pg_store.next_value(zaak) == 4


async def test_values_survive_reopen(pg_url: str, unique_name: Callable[[str], str]) -> None:
    zaak = unique_name("zaak")
    async with create_store(pg_url) as store:
        assert await store.next_value(zaak) == 1
    async with create_store(pg_url) as store:
        assert await store.next_value(zaak) == 2


async def test_500_concurrent_callers_get_500_consecutive_values(
    pg_store: Store, unique_name: Callable[[str], str]
) -> None:
    zaak = unique_name("zaak")
    values = await asyncio.gather(*(pg_store.next_value(zaak) for _ in range(500)))
    assert sorted(values) == list(range(1, 501))


async def test_concurrent_open_in_one_process(pg_database_factory: Callable[[], str]) -> None:
    url = pg_database_factory()
    stores = [create_store(url) for _ in range(4)]
    await asyncio.gather(*(store.open() for store in stores))
    try:
        values = await asyncio.gather(*(store.next_value("zaak") for store in stores))
        assert sorted(values) == [1, 2, 3, 4]
    finally:
        await asyncio.gather(*(store.close() for store in stores))
    assert await _fetch(url, "SELECT version FROM schema_version") == ALL_VERSIONS


async def test_processes_migrating_a_fresh_database_at_once_all_succeed(
    pg_database_factory: Callable[[], str], run_workers: Callable[..., list[Any]]
) -> None:
    url = pg_database_factory()
    results = await asyncio.to_thread(run_workers, [[url, "open"] for _ in range(3)])
    assert all(result["opened"] for result in results)
    assert await _fetch(url, "SELECT version FROM schema_version") == ALL_VERSIONS


async def test_two_processes_never_get_the_same_value(
    pg_url: str, unique_name: Callable[[str], str], run_workers: Callable[..., list[Any]]
) -> None:
    zaak = unique_name("zaak")
    first, second = await asyncio.to_thread(run_workers, [[pg_url, "draw", zaak, "1000"] for _ in range(2)])
    values = [*first, *second]
    assert len(values) == 2000
    assert len(set(values)) == 2000, "duplicate values across processes"
    assert sorted(values) == list(range(1, 2001))
    # the processes really ran at the same time: their values interleave
    assert min(first) < max(second) and min(second) < max(first)


async def test_concurrent_claims_from_two_stores_give_exactly_one_new(pg_url: str) -> None:
    stale = dt.timedelta(minutes=10)
    async with create_store(pg_url) as first, create_store(pg_url) as second:
        results = await asyncio.gather(
            *(store.claim_message("1900/App", "pg-ref-1", "digest", "op", stale_after=stale)
              for store in (first, second) * 10)
        )
    assert [r.state for r in results].count("new") == 1
    assert {r.state for r in results} <= {"new", "pending"}


async def test_idempotency_records_use_a_pool_that_does_not_wait_for_the_disk(pg_store: Store) -> None:
    """The records are written one round trip per statement on the store's own asyncpg pool, whose sessions commit
    with synchronous_commit off; the sequences (durable) keep their own connections."""
    pool = pg_store._pg
    assert pool is not None
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW synchronous_commit") == "off"
    stale = dt.timedelta(minutes=10)
    assert (await pg_store.claim_message("1900/App", "pg-pool-1", "d", "op", stale_after=stale)).state == "new"
    await pg_store.complete_message("1900/App", "pg-pool-1", b"<Bv03/>")
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT state, answer FROM messages WHERE referentienummer = 'pg-pool-1'")
    assert (row["state"], row["answer"]) == ("done", b"<Bv03/>")
