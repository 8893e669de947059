"""The outbox's own statements on each kind of store: payloads in chunked blobs (written before the item, read back
in order, dropped with the item), intent items (held, turned pending by the completion, dropped, swept, settled),
and the purge of finished items and orphaned blobs."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from stuf_bridge.outbox.store import CHUNK, chunks, claim_held, drop_hold, hold, payload, purge, settle_held, spool
from stuf_bridge.store import OutboxItem, Store

STALE = dt.timedelta(minutes=10)
LEASE = dt.timedelta(seconds=30)
LATER = dt.timedelta(minutes=15)
NOW = dt.timedelta(0)


@pytest.fixture
def store(store_of_each_kind: Store) -> Store:
    return store_of_each_kind


def item(ref: str, partition: str = "Z1", *, blob: str | None = None, size: int | None = None) -> OutboxItem:
    body = b"" if blob else f"<m ref='{ref}'/>".encode()
    return OutboxItem(partition, "zgw:OntvangAsynchroon", body, "text/xml", '"op"', f"z|{ref}|zgw",
                      payload_ref=blob, payload_size=size)


async def complete(store: Store, ref: str, *items: OutboxItem) -> None:
    assert (await store.claim_message("z", ref, "d", "op", stale_after=STALE)).state == "new"
    await store.complete_message("z", ref, b"<Bv03/>", items)


async def blob_rows(store: Store) -> int:
    row = await store.outbox_statement("count", "SELECT COUNT(*) FROM outbox_blobs", {})
    return int(row[0])


async def test_a_large_payload_goes_in_chunks_and_comes_back_whole(store: Store) -> None:
    data = bytes(range(256)) * (CHUNK * 2 // 256) + b"tail"  # two full chunks and a bit
    blob = await spool(store, io.BytesIO(data), len(data))
    assert await blob_rows(store) == 3
    assert b"".join([c async for c in chunks(store, blob)]) == data
    big = item("r1", blob=blob, size=len(data))
    await complete(store, "r1", big)
    [entry] = await store.outbox_items()
    assert (entry.payload, entry.payload_ref, entry.payload_size) == (b"", blob, len(data))
    assert b"".join([c async for c in payload(store, entry)]) == data
    assert entry.kind == "replicate"


async def test_a_missing_blob_is_an_error_not_an_empty_payload(store: Store) -> None:
    with pytest.raises(OSError, match="not in the store"):
        [c async for c in chunks(store, "no-such-blob")]


async def test_a_held_item_waits_holds_back_its_zaak_and_is_turned_pending_by_the_completion(store: Store) -> None:
    first = item("r1")
    await hold(store, first, due_in=LATER)
    await complete(store, "r2", item("r2"))  # a later message of the same zaak, answered first
    [held, later] = await store.outbox_items()
    assert (held.status, later.status) == ("held", "pending")
    assert await store.claim_outbox(LEASE) is None  # the intent holds its zaak back: order is kept
    assert (await store.outbox_stats()).pending == 2  # and the metrics count it as waiting
    await complete(store, "r1", first)
    entry = await store.claim_outbox(LEASE)
    assert entry is not None and (entry.idem_key, entry.status, entry.attempts) == ("z|r1|zgw", "inflight", 1)


async def test_a_failed_primary_drops_the_intent_and_its_blob(store: Store) -> None:
    blob = await spool(store, io.BytesIO(b"x" * 10), 10)
    held = item("r1", blob=blob, size=10)
    await hold(store, held, due_in=LATER)
    await drop_hold(store, held)
    assert await store.outbox_items(statuses=("held", "pending")) == []
    assert await blob_rows(store) == 0
    # a completion after all (the drop came late) is not undone by a drop
    await hold(store, item("r2"), due_in=LATER)
    await complete(store, "r2", item("r2"))
    await drop_hold(store, item("r2"))
    assert [e.status for e in await store.outbox_items()] == ["pending"]


async def test_the_sweep_takes_an_intent_once_past_its_time_and_settles_it(store: Store) -> None:
    await hold(store, item("r1", "A"), due_in=LATER)
    assert await claim_held(store, LEASE) is None  # its process may still be calling the primary
    await hold(store, item("r2", "B"), due_in=NOW)
    swept = await claim_held(store, LEASE)
    assert swept is not None and swept.idem_key == "z|r2|zgw"
    assert await claim_held(store, LEASE) is None  # taken: no second sweeper gets it during the lease
    assert await settle_held(store, swept, "pending", "primary bevestigd")
    entry = await store.claim_outbox(LEASE)
    assert entry is not None and entry.idem_key == "z|r2|zgw"
    assert not await settle_held(store, swept, "skipped")  # no longer held


async def test_a_skipped_intent_loses_its_blob_and_releases_its_zaak(store: Store) -> None:
    blob = await spool(store, io.BytesIO(b"y" * 10), 10)
    await hold(store, item("r1", blob=blob, size=10), due_in=NOW)
    await complete(store, "r2", item("r2"))
    swept = await claim_held(store, LEASE)
    assert swept is not None
    assert await settle_held(store, swept, "skipped", "primary weigerde")
    assert await blob_rows(store) == 0
    entry = await store.claim_outbox(LEASE)
    assert entry is not None and entry.idem_key == "z|r2|zgw"


async def test_a_resend_takes_over_an_intent(store: Store) -> None:
    await hold(store, item("r1"), due_in=NOW)
    await hold(store, item("r1"), due_in=LATER)  # the resend of the same message, in a new process
    assert await claim_held(store, LEASE) is None
    assert len(await store.outbox_items()) == 1


async def test_the_resend_of_a_message_whose_intent_was_skipped_holds_a_new_intent(store: Store) -> None:
    """An intent settled skipped (its message was undone) is replaced by the resend's, under a new id (after the
    zaak's items written since), and the resend's completion turns it pending; a delivered item is left alone."""
    await hold(store, item("r1"), due_in=NOW)
    swept = await claim_held(store, LEASE)
    assert swept is not None and await settle_held(store, swept, "skipped", "primary ZGW verwerkte het niet")
    await complete(store, "r2", item("r2"))  # the zaak's next message, meanwhile
    await hold(store, item("r1"), due_in=LATER)  # the client's resend of r1, processed anew
    await complete(store, "r1", item("r1"))
    items = await store.outbox_items(statuses=("pending", "held", "skipped"))
    assert [(e.idem_key, e.status) for e in items] == [("z|r2|zgw", "pending"), ("z|r1|zgw", "pending")]
    assert items[1].id > swept.id
    delivered = await store.claim_outbox(LEASE)
    assert delivered is not None and delivered.idem_key == "z|r2|zgw"
    await store.outbox_done(delivered.id)
    await hold(store, item("r2"), due_in=LATER)  # (only a message processed anew holds; a done item stays done)
    assert [(e.idem_key, e.status) for e in await store.outbox_items(statuses=("done", "held"))][0] == (
        "z|r2|zgw", "done")


async def test_items_without_an_idempotency_record(store: Store) -> None:
    await hold(store, item("r1"), due_in=LATER)
    await store.enqueue_outbox([item("r1"), item("r2")])
    assert [(e.idem_key, e.status) for e in await store.outbox_items()] == [
        ("z|r1|zgw", "pending"), ("z|r2|zgw", "pending")]


async def test_the_purge_forgets_finished_items_their_blobs_and_orphaned_blobs(store: Store) -> None:
    blob = await spool(store, io.BytesIO(b"z" * 10), 10)
    await complete(store, "r1", item("r1", "A", blob=blob, size=10))
    await complete(store, "r2", item("r2", "B"))
    await complete(store, "r3", item("r3", "C"))
    one = await store.claim_outbox(LEASE)
    two = await store.claim_outbox(LEASE)
    assert one is not None and two is not None
    await store.outbox_done(one.id)
    await store.outbox_dead(two.id, "refused")
    assert await store.outbox_skip(two.id)
    orphan = await spool(store, io.BytesIO(b"o" * 10), 10)
    assert await purge(store, dt.timedelta(hours=1)) == 0  # finished just now: kept for the retention
    assert await purge(store, NOW) == 2
    assert [e.idem_key for e in await store.outbox_items(statuses=("pending", "done", "skipped"))] == ["z|r3|zgw"]
    assert await blob_rows(store) == 1  # the orphan is young: its item may still be on its way
    await store.outbox_statement("age", "UPDATE outbox_blobs SET created_at = :old WHERE blob = :blob",
                                 {"old": dt.datetime.now(dt.UTC) - dt.timedelta(days=2), "blob": orphan})
    await purge(store, NOW)
    assert await blob_rows(store) == 0
