"""The outbox: written with the idempotency record, FIFO per partition, dead items park their partition only,
retry/skip, leases that run out, stats — on each kind of store; two concurrent claimers never share an item."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from stuf_bridge.store import OutboxItem, Store, create_store

STALE = dt.timedelta(minutes=10)
LEASE = dt.timedelta(seconds=30)
NOW = dt.timedelta(0)


@pytest.fixture
def store(store_of_each_kind: Store) -> Store:
    return store_of_each_kind


def item(ref: str, partition: str, target: str = "zgw") -> OutboxItem:
    return OutboxItem(partition, target, f"<payload ref='{ref}'/>".encode(), "text/xml", '"op"', f"z|{ref}|{target}")


async def send(store: Store, ref: str, *items: OutboxItem) -> None:
    assert (await store.claim_message("z", ref, "d", "op", stale_after=STALE)).state == "new"
    await store.complete_message("z", ref, b"<Bv03/>", items)


async def test_items_are_written_with_the_completion(store: Store) -> None:
    await send(store, "r1", item("r1", "Z1"), item("r1", "Z1", "legacy:OntvangAsynchroon"))
    done = await store.claim_message("z", "r1", "d", "op", stale_after=STALE)
    assert (done.state, done.answer) == ("done", b"<Bv03/>")
    listed = await store.outbox_items()
    assert [(e.target, e.status, e.attempts, e.payload) for e in listed] == [
        ("zgw", "pending", 0, b"<payload ref='r1'/>"),
        ("legacy:OntvangAsynchroon", "pending", 0, b"<payload ref='r1'/>"),
    ]
    assert (listed[0].content_type, listed[0].soap_action, listed[0].idem_key) == ("text/xml", '"op"', "z|r1|zgw")


async def test_a_second_enqueue_of_the_same_leg_is_a_no_op(store: Store) -> None:
    await send(store, "r1", item("r1", "Z1"))
    await send(store, "r2", item("r1", "Z1"), item("r2", "Z1"))  # r1's key again
    assert [e.idem_key for e in await store.outbox_items()] == ["z|r1|zgw", "z|r2|zgw"]


async def test_fifo_per_partition_other_partitions_go_on(store: Store) -> None:
    await send(store, "a1", item("a1", "A"))
    await send(store, "a2", item("a2", "A"))
    await send(store, "b1", item("b1", "B"))
    first = await store.claim_outbox(LEASE)
    assert first is not None and first.idem_key == "z|a1|zgw" and first.status == "inflight" and first.attempts == 1
    second = await store.claim_outbox(LEASE)  # a2 waits behind the inflight a1; B's head is free
    assert second is not None and second.idem_key == "z|b1|zgw"
    assert await store.claim_outbox(LEASE) is None
    await store.outbox_done(first.id)
    third = await store.claim_outbox(LEASE)
    assert third is not None and third.idem_key == "z|a2|zgw"


async def test_a_dead_item_parks_its_partition_only_until_skipped(store: Store) -> None:
    await send(store, "a1", item("a1", "A"))
    await send(store, "a2", item("a2", "A"))
    await send(store, "b1", item("b1", "B"))
    a1 = await store.claim_outbox(LEASE)
    assert a1 is not None
    await store.outbox_dead(a1.id, "StUF fault plek client")
    b1 = await store.claim_outbox(LEASE)
    assert b1 is not None and b1.partition_key == "B"
    assert await store.claim_outbox(LEASE) is None  # a2 is parked behind the dead a1
    assert [e.id for e in await store.outbox_items(statuses=("dead",))] == [a1.id]
    stats = await store.outbox_stats()
    assert (stats.pending, stats.dead) == (2, 1)  # a2 pending, b1 inflight
    assert await store.outbox_skip(a1.id)
    assert not await store.outbox_skip(a1.id)  # no longer dead
    a2 = await store.claim_outbox(LEASE)
    assert a2 is not None and a2.idem_key == "z|a2|zgw"
    assert (await store.outbox_item(a1.id)).status == "skipped"  # type: ignore[union-attr]


async def test_retry_of_a_dead_item_delivers_it_first(store: Store) -> None:
    await send(store, "a1", item("a1", "A"))
    await send(store, "a2", item("a2", "A"))
    a1 = await store.claim_outbox(LEASE)
    assert a1 is not None
    await store.outbox_dead(a1.id, "bad")
    assert await store.outbox_requeue(a1.id)
    again = await store.claim_outbox(LEASE)
    assert again is not None and again.id == a1.id and again.attempts == 1 and again.last_error == "bad"


async def test_retry_later_waits_for_its_time_and_holds_the_partition(store: Store) -> None:
    await send(store, "a1", item("a1", "A"))
    await send(store, "a2", item("a2", "A"))
    a1 = await store.claim_outbox(LEASE)
    assert a1 is not None
    await store.outbox_retry_later(a1.id, "HTTP 503", dt.timedelta(seconds=60))
    assert await store.claim_outbox(LEASE) is None  # a1 not due, a2 behind it
    await store.outbox_retry_later(a1.id, "x", NOW)  # not inflight any more: no change
    assert (await store.outbox_item(a1.id)).last_error == "HTTP 503"  # type: ignore[union-attr]


async def test_an_expired_lease_returns_the_item(store: Store) -> None:
    await send(store, "a1", item("a1", "A"))
    a1 = await store.claim_outbox(dt.timedelta(milliseconds=1))
    assert a1 is not None
    await asyncio.sleep(0.01)
    again = await store.claim_outbox(LEASE)
    assert again is not None and again.id == a1.id and again.attempts == 2


async def test_stats_report_the_oldest_pending_age(store: Store) -> None:
    assert (await store.outbox_stats()).oldest_pending_seconds == 0.0
    await send(store, "a1", item("a1", "A"))
    await asyncio.sleep(0.05)
    stats = await store.outbox_stats()
    assert stats.pending == 1 and 0.05 <= stats.oldest_pending_seconds < 60


async def test_a_failed_completion_writes_no_item(store: Store) -> None:
    """Same transaction: an item that cannot be written (payload None violates NOT NULL) undoes the completion."""
    assert (await store.claim_message("z", "r9", "d", "op", stale_after=STALE)).state == "new"
    broken = OutboxItem("A", "zgw", None, None, None, "z|r9|zgw")  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017,PT011 (the driver's own integrity error, as StoreError)
        await store.complete_message("z", "r9", b"<Bv03/>", [item("r9", "A", "legacy:X"), broken])
    assert await store.outbox_items() == []
    assert (await store.claim_message("z", "r9", "d", "op", stale_after=STALE)).state == "pending"


async def test_concurrent_claimers_never_share_an_item(store: Store, sqlite_url: str) -> None:
    """Several stores on one database (separate pools, as separate processes would have) claim at once."""
    if store.url.endswith(":memory:"):
        pytest.skip("an in-memory database is private to its store")
    for n in range(40):
        await send(store, f"p{n}", item(f"p{n}", f"P{n % 8}"))
    url = str(store._url.set(drivername=store.dialect).render_as_string(hide_password=False))  # noqa: SLF001
    others = [create_store(url) for _ in range(3)]
    for other in others:
        await other.open()
    try:
        claimed: list[int] = []

        async def drain(s: Store) -> None:
            while (entry := await s.claim_outbox(LEASE)) is not None:
                claimed.append(entry.id)
                await asyncio.sleep(0)
                await s.outbox_done(entry.id)

        for _ in range(20):
            await asyncio.gather(*(drain(s) for s in (store, *others)))
            if len(set(claimed)) == 40:
                break
        assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 40
    finally:
        for other in others:
            await other.close()
