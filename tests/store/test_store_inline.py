"""Idempotency records on a SQLite file are written inline on the event loop when the write lock is free, and in
the worker thread when it is not; the two ways write the same rows, and the WAL is still checkpointed."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

import stuf_bridge.store.store as store_module
from stuf_bridge.store import Store, create_store

STALE = dt.timedelta(minutes=10)


def _path(store: Store) -> Path:
    database = make_url(store.url).database
    assert database
    return Path(database)


async def test_a_held_write_lock_queues_the_claim_without_blocking_the_loop(sqlite_store: Store) -> None:
    blocker = sqlite3.connect(_path(sqlite_store), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        claim = asyncio.create_task(sqlite_store.claim_message("z", "ref-1", "d", "op", stale_after=STALE))
        ticks = 0
        started = time.perf_counter()
        while time.perf_counter() - started < 0.3:  # the loop keeps turning while the claim waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert not claim.done()
        assert ticks >= 10
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    assert (await asyncio.wait_for(claim, 10)).state == "new"
    # written by the worker thread, completed inline, and read back inline
    await sqlite_store.complete_message("z", "ref-1", b"<Bv03/>")
    done = await sqlite_store.claim_message("z", "ref-1", "d", "op", stale_after=STALE)
    assert (done.state, done.answer) == ("done", b"<Bv03/>")


async def test_inline_rows_are_stored_as_sqlalchemy_stores_them(sqlite_store: Store) -> None:
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    await sqlite_store.claim_message("z", "ref-2", "d", "op", stale_after=STALE)
    await sqlite_store.complete_message("z", "ref-2", b"answer")
    with sqlite3.connect(_path(sqlite_store)) as conn:
        state, answer, created, completed = conn.execute(
            "SELECT state, answer, created_at, completed_at FROM messages WHERE referentienummer = 'ref-2'").fetchone()
    assert (state, answer) == ("done", b"answer")
    for text in (created, completed):  # SQLAlchemy's DateTime on SQLite: naive UTC, microseconds
        assert len(text) == len("2026-11-24 05:24:40.935893")
        assert before <= dt.datetime.fromisoformat(text) <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # the purge (a SQLAlchemy statement) compares with them correctly
    assert await sqlite_store.purge_messages(dt.timedelta(hours=1)) == 0
    assert await sqlite_store.purge_messages(dt.timedelta(0)) == 1


async def test_a_failed_inline_transaction_leaves_nothing(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = dict(store_module._SQLITE_IDEMPOTENCY, read="SELECT no_such_column FROM messages")
    await sqlite_store.claim_message("z", "ref-3", "d", "op", stale_after=STALE)
    monkeypatch.setattr(store_module, "_SQLITE_IDEMPOTENCY", broken)
    with pytest.raises(store_module.StoreError, match="claim_message"):
        await sqlite_store.claim_message("z", "ref-3", "d", "op", stale_after=STALE)  # insert skipped, read fails
    monkeypatch.undo()
    # the connection is usable again and not left inside a transaction
    assert (await sqlite_store.claim_message("z", "ref-4", "d", "op", stale_after=STALE)).state == "new"
    blocker = sqlite3.connect(_path(sqlite_store), isolation_level=None, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("ROLLBACK")
    blocker.close()


async def test_the_wal_is_checkpointed(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inline connection never checkpoints; the worker thread does, every CHECKPOINT_EVERY inline commits, so
    the WAL is reused instead of growing with every message."""
    monkeypatch.setattr(store_module, "CHECKPOINT_EVERY", 50)
    store = create_store(sqlite_url)
    await store.open()
    wal = _path(store).with_name(_path(store).name + "-wal")
    answer = b"x" * 3000
    runner = store._sqlite
    assert runner is not None
    try:
        for i in range(1500):
            await store.claim_message("z", f"ref-{i}", "d" * 64, "creeerZaak_Lk01", stale_after=STALE)
            await store.complete_message("z", f"ref-{i}", answer)
            if i % 50 == 49:
                # wait until the worker thread has run what was queued on it (the checkpoint, if one was queued):
                # on a loaded machine a fixed sleep may not be enough, and then the WAL grows meanwhile
                await asyncio.get_running_loop().run_in_executor(runner._thread, lambda: None)
        size = wal.stat().st_size
    finally:
        await store.close()
    # 3000 commits of several 4 KiB pages each come to over 40 MB without checkpoints; with them the WAL is reused
    # from its start, and stays at what the commits between two checkpoints need (about 3.5 MB here)
    assert size < 8_000_000, size


async def test_a_transaction_left_open_is_rolled_back_first(sqlite_store: Store) -> None:
    runner = sqlite_store._sqlite
    assert runner is not None
    runner._inline.execute("BEGIN IMMEDIATE")  # as after a ROLLBACK that failed
    runner._inline.execute("INSERT INTO sequences (name, value) VALUES ('half-written', 1)")
    assert (await sqlite_store.claim_message("z", "ref-5", "d", "op", stale_after=STALE)).state == "new"
    with sqlite3.connect(_path(sqlite_store)) as conn:
        assert conn.execute("SELECT count(*) FROM sequences WHERE name = 'half-written'").fetchone() == (0,)
        assert conn.execute("SELECT state FROM messages WHERE referentienummer = 'ref-5'").fetchone() == ("pending",)
