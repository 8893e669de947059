"""Idempotency records: claim, complete, release, conflicts, stale claims and retention — on each way the store
runs them: a SQLite file (inline driver SQL), an in-memory SQLite database and PostgreSQL (SQLAlchemy statements)."""

from __future__ import annotations

import asyncio
import datetime as dt
import pytest

from stuf_bridge.store import Store

STALE = dt.timedelta(minutes=10)


@pytest.fixture
def message_store(store_of_each_kind: Store) -> Store:
    """A fresh, empty store of each kind (``conftest.py``)."""
    return store_of_each_kind


async def test_first_claim_is_new_then_pending_then_done(message_store: Store) -> None:
    first = await message_store.claim_message("1900/App", "ref-1", "d1", "creeerZaak_Lk01", stale_after=STALE)
    again = await message_store.claim_message("1900/App", "ref-1", "d1", "creeerZaak_Lk01", stale_after=STALE)
    assert (first.state, again.state) == ("new", "pending")
    await message_store.complete_message("1900/App", "ref-1", b"<Bv03/>")
    done = await message_store.claim_message("1900/App", "ref-1", "d1", "creeerZaak_Lk01", stale_after=STALE)
    assert (done.state, done.answer) == ("done", b"<Bv03/>")


async def test_same_referentienummer_other_body_is_a_conflict(message_store: Store) -> None:
    await message_store.claim_message("1900/App", "ref-2", "d1", "op", stale_after=STALE)
    assert (await message_store.claim_message("1900/App", "ref-2", "d2", "op", stale_after=STALE)).state == "conflict"
    # the key is zender + referentienummer: another sender may use the same number
    assert (await message_store.claim_message("0363/Other", "ref-2", "d2", "op", stale_after=STALE)).state == "new"


async def test_released_claim_can_be_processed_again(message_store: Store) -> None:
    await message_store.claim_message("z", "ref-3", "d", "op", stale_after=STALE)
    await message_store.release_message("z", "ref-3")
    assert (await message_store.claim_message("z", "ref-3", "d", "op", stale_after=STALE)).state == "new"


async def test_release_never_forgets_a_done_message(message_store: Store) -> None:
    await message_store.claim_message("z", "ref-4", "d", "op", stale_after=STALE)
    await message_store.complete_message("z", "ref-4", b"answer")
    await message_store.release_message("z", "ref-4")
    assert (await message_store.claim_message("z", "ref-4", "d", "op", stale_after=STALE)).state == "done"


async def test_a_stale_pending_claim_is_taken_over(message_store: Store) -> None:
    await message_store.claim_message("z", "ref-5", "d", "op", stale_after=STALE)
    results = await asyncio.gather(
        *(message_store.claim_message("z", "ref-5", "d", "op", stale_after=dt.timedelta(0)) for _ in range(5))
    )
    states = sorted(r.state for r in results)
    assert states.count("new") >= 1  # at least one takes over a claim older than 0 s


async def test_concurrent_first_claims_give_exactly_one_new(message_store: Store) -> None:
    results = await asyncio.gather(
        *(message_store.claim_message("z", "ref-6", "d", "op", stale_after=STALE) for _ in range(20))
    )
    assert [r.state for r in results].count("new") == 1


async def test_purge_forgets_old_records(message_store: Store) -> None:
    await message_store.claim_message("z", "ref-7", "d", "op", stale_after=STALE)
    assert await message_store.purge_messages(dt.timedelta(hours=1)) == 0
    assert await message_store.purge_messages(dt.timedelta(0)) == 1
    assert (await message_store.claim_message("z", "ref-7", "d", "op", stale_after=STALE)).state == "new"
