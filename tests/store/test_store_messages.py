"""Idempotency records: claim, complete, release, conflicts, stale claims and retention."""

from __future__ import annotations

import asyncio
import datetime as dt

from stuf_bridge.store import Store

STALE = dt.timedelta(minutes=10)


async def test_first_claim_is_new_then_pending_then_done(sqlite_store: Store) -> None:
    assert (await sqlite_store.claim_message("1900/App", "ref-1", "d1", "creeerZaak_Lk01", stale_after=STALE)).state == "new"
    assert (await sqlite_store.claim_message("1900/App", "ref-1", "d1", "creeerZaak_Lk01", stale_after=STALE)).state == "pending"
    await sqlite_store.complete_message("1900/App", "ref-1", b"<Bv03/>")
    done = await sqlite_store.claim_message("1900/App", "ref-1", "d1", "creeerZaak_Lk01", stale_after=STALE)
    assert (done.state, done.answer) == ("done", b"<Bv03/>")


async def test_same_referentienummer_other_body_is_a_conflict(sqlite_store: Store) -> None:
    await sqlite_store.claim_message("1900/App", "ref-2", "d1", "op", stale_after=STALE)
    assert (await sqlite_store.claim_message("1900/App", "ref-2", "d2", "op", stale_after=STALE)).state == "conflict"
    # the key is zender + referentienummer: another sender may use the same number
    assert (await sqlite_store.claim_message("0363/Other", "ref-2", "d2", "op", stale_after=STALE)).state == "new"


async def test_released_claim_can_be_processed_again(sqlite_store: Store) -> None:
    await sqlite_store.claim_message("z", "ref-3", "d", "op", stale_after=STALE)
    await sqlite_store.release_message("z", "ref-3")
    assert (await sqlite_store.claim_message("z", "ref-3", "d", "op", stale_after=STALE)).state == "new"


async def test_release_never_forgets_a_done_message(sqlite_store: Store) -> None:
    await sqlite_store.claim_message("z", "ref-4", "d", "op", stale_after=STALE)
    await sqlite_store.complete_message("z", "ref-4", b"answer")
    await sqlite_store.release_message("z", "ref-4")
    assert (await sqlite_store.claim_message("z", "ref-4", "d", "op", stale_after=STALE)).state == "done"


async def test_a_stale_pending_claim_is_taken_over(sqlite_store: Store) -> None:
    await sqlite_store.claim_message("z", "ref-5", "d", "op", stale_after=STALE)
    results = await asyncio.gather(
        *(sqlite_store.claim_message("z", "ref-5", "d", "op", stale_after=dt.timedelta(0)) for _ in range(5))
    )
    states = sorted(r.state for r in results)
    assert states.count("new") >= 1  # at least one takes over a claim older than 0 s


async def test_concurrent_first_claims_give_exactly_one_new(sqlite_store: Store) -> None:
    results = await asyncio.gather(
        *(sqlite_store.claim_message("z", "ref-6", "d", "op", stale_after=STALE) for _ in range(20))
    )
    assert [r.state for r in results].count("new") == 1


async def test_purge_forgets_old_records(sqlite_store: Store) -> None:
    await sqlite_store.claim_message("z", "ref-7", "d", "op", stale_after=STALE)
    assert await sqlite_store.purge_messages(dt.timedelta(hours=1)) == 0
    assert await sqlite_store.purge_messages(dt.timedelta(0)) == 1
    assert (await sqlite_store.claim_message("z", "ref-7", "d", "op", stale_after=STALE)).state == "new"
