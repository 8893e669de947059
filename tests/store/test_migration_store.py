"""The migration's tables (store migration 7) on every kind of store: the per-zaak back-fill lock held by one of
many contenders (two stores on one database stand for two gateway processes), the ledger, the outbox's back-fill
items, and the cut-over's overrides with their audit record."""

from __future__ import annotations

import asyncio

from stuf_bridge.migration.store import DONE, QUEUED, LedgerEntry, MigrationStore
from stuf_bridge.store import Store, create_store


async def test_one_of_many_contenders_holds_a_zaak(store_of_each_kind: Store) -> None:
    store = store_of_each_kind
    shared = "memory" not in store.url  # an in-memory database is private to its store
    others = [create_store(store.url) for _ in range(2)] if shared else []
    for other in others:
        await other.open()
    try:
        stores = [store, *others] if others else [store]
        contenders = [MigrationStore(stores[i % len(stores)]) for i in range(8)]
        held = await asyncio.gather(*(c.try_lock("Z1", f"owner-{i}", 60) for i, c in enumerate(contenders)))
        assert sum(held) == 1
        winner = f"owner-{held.index(True)}"
        assert await contenders[0].lock_owner("Z1") == winner
        await contenders[0].unlock("Z1", winner)
        assert await contenders[1].try_lock("Z1", "owner-1", 60)
    finally:
        for other in others:
            await other.close()


async def test_the_ledger_and_the_back_fill_items(store_of_each_kind: Store) -> None:
    ledger = MigrationStore(store_of_each_kind)
    assert await ledger.queue("Z2", "related")
    assert not await ledger.queue("Z2", "related")  # once
    await ledger.record(LedgerEntry("Z1", DONE, "migrate", "MELDING-OR", "http://zgw/zaken/1", None, "ab" * 32,
                                    2, 2, 1234, 1))
    await ledger.record(LedgerEntry("Z1", DONE, "migrate", "MELDING-OR", "http://zgw/zaken/1", None, "ab" * 32,
                                    2, 2, 1234, 2))  # a second write replaces the row
    [one, two] = await ledger.entries()
    assert (one.identificatie, one.outcome, one.bytes, one.attempts) == ("Z1", DONE, 1234, 2)
    assert (two.identificatie, two.outcome) == ("Z2", QUEUED)
    assert [e.identificatie for e in await ledger.entries([QUEUED])] == ["Z2"]
    await ledger.enqueue("Z1", "backfill:documents", b"Z1", "backfill|Z1|documents|1")
    await ledger.enqueue("Z1", "backfill:documents", b"Z1", "backfill|Z1|documents|1")  # same key: once
    assert [(p, t, s) for _, p, t, s in await ledger.waiting(["Z1"])] == [("Z1", "backfill:documents", "pending")]
    assert await ledger.waiting(["Z9"]) == []


async def test_a_cut_over_writes_its_overrides_and_an_audit_record(store_of_each_kind: Store) -> None:
    ledger = MigrationStore(store_of_each_kind)
    first = await ledger.cut_over(["A", "B"], mode="translate", primary="zgw", forced=False, reason=None,
                                  actor="ops", details={"sequences": {"identificatie:zaak": 150}})
    second = await ledger.cut_over(["*"], mode="translate", primary="zgw", forced=True, reason="legacy is off",
                                   actor="ops", details={})
    assert second > first
    assert sorted(await ledger.overrides()) == ["*", "A", "B"]
    [a, b] = await ledger.audit_records()
    assert (a.zaaktypen, a.forced, a.details) == (["A", "B"], False, {"sequences": {"identificatie:zaak": 150}})
    assert (b.zaaktypen, b.forced, b.reason) == (["*"], True, "legacy is off")
