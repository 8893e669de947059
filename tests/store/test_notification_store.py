"""The notification tables (migration 11) on every kind of store: the deduplicating inbox, snapshots and the clock
that makes tijdstipBericht rise strictly per zender, also under concurrent use."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from stuf_bridge.notifications.store import Notification, NotificationStore
from stuf_bridge.store import Store


def notification(n: int, actie: str = "create") -> Notification:
    return Notification("zaken", f"http://zgw.test/zaken/{n}", "zaak", f"http://zgw.test/zaken/{n}", actie,
                        f"2024-03-01T10:00:{n:02d}Z", {"bronorganisatie": "002564440"})


async def test_inbox_stores_a_notification_once_and_hands_out_the_due_ones_in_order(store_of_each_kind: Store) -> None:
    inbox = NotificationStore(store_of_each_kind)
    assert await inbox.receive(notification(1)) is True
    assert await inbox.receive(notification(1)) is False  # the Notificaties API's retry
    assert await inbox.receive(notification(2)) is True
    assert await inbox.receive(notification(2, "update")) is True
    assert await inbox.due(dt.timedelta(hours=1)) == []  # still in the coalescing window
    due = await inbox.due(dt.timedelta(0))
    assert [(e.notification.resource_url, e.notification.actie) for e in due] == [
        ("http://zgw.test/zaken/1", "create"), ("http://zgw.test/zaken/2", "create"),
        ("http://zgw.test/zaken/2", "update")]
    assert due[0].notification.kenmerken == {"bronorganisatie": "002564440"}
    await inbox.processed([due[0].id, due[1].id], {due[1].id: "gone"})
    assert [e.id for e in await inbox.due(dt.timedelta(0))] == [due[2].id]
    assert await inbox.waiting() == 1
    assert await inbox.purge(dt.timedelta(0)) == 2
    assert await inbox.receive(notification(3)) is True


async def test_a_snapshot_keeps_what_was_acknowledged_and_what_is_in_flight(store_of_each_kind: Store) -> None:
    inbox = NotificationStore(store_of_each_kind)
    empty = await inbox.snapshot("dms", "http://zgw.test/zaken/1")
    assert (empty.acked, empty.inflight) == (None, None)
    await inbox.save("dms", "http://zgw.test/zaken/1", identificatie="ZK-1", acked=None, inflight={"ref": "a"})
    await inbox.save("dms", "http://zgw.test/zaken/1", identificatie="ZK-1", acked={"statussen": ["s1"]},
                     inflight=None)
    await inbox.save("zkn", "http://zgw.test/zaken/1", identificatie="ZK-1", acked={"statussen": []}, inflight=None)
    snapshot = await inbox.snapshot("dms", "http://zgw.test/zaken/1")
    assert (snapshot.identificatie, snapshot.acked, snapshot.inflight) == ("ZK-1", {"statussen": ["s1"]}, None)
    assert [s.subscriber for s in await inbox.snapshots_of("zkn")] == ["zkn"]


async def test_the_clock_rises_strictly_per_zender_even_when_asked_at_once(store_of_each_kind: Store) -> None:
    inbox = NotificationStore(store_of_each_kind)
    moments = await asyncio.gather(*(inbox.tick("0363/stuf-bridge") for _ in range(40)))
    assert len(set(moments)) == 40
    later = await inbox.tick("0363/stuf-bridge")
    assert later > max(moments)
    assert abs((later - dt.datetime.now(dt.UTC)).total_seconds()) < 60
    other = await inbox.tick("1900/other")
    assert other.tzinfo is not None


async def test_sealed_snapshots_hold_no_bsn_in_clear_and_open_only_with_their_key(store_of_each_kind: Store) -> None:
    from sqlalchemy import select

    from stuf_bridge.notifications.sealing import Sealer, SealError, new_key, parse_key
    from stuf_bridge.notifications.store import snapshots

    sealer = Sealer(parse_key(new_key()))
    inbox = NotificationStore(store_of_each_kind, sealer)
    acked = {"zaak": "<ZKN:object><BG:inp.bsn>999993653</BG:inp.bsn></ZKN:object>"}
    inflight = {"head": "<StUF:referentienummer/><BG:inp.bsn>999990019</BG:inp.bsn>"}
    await inbox.save("dms", "http://zgw.test/zaken/7", identificatie="ZK-7", acked=acked, inflight=inflight)
    snapshot = await inbox.snapshot("dms", "http://zgw.test/zaken/7")
    assert (snapshot.acked, snapshot.inflight) == (acked, inflight)
    rows = await store_of_each_kind.transaction("t", lambda conn: conn.execute(select(snapshots)).all(), durable=False)
    raw = b"".join(bytes(row.acked) + bytes(row.inflight) for row in rows)
    assert b"999993653" not in raw and b"999990019" not in raw and b"inp.bsn" not in raw
    with pytest.raises(SealError):  # another key opens nothing
        await NotificationStore(store_of_each_kind, Sealer(parse_key(new_key()))).snapshot(
            "dms", "http://zgw.test/zaken/7")


async def test_a_snapshot_stored_before_sealing_is_read_and_sealed_at_its_next_save(store_of_each_kind: Store) -> None:
    from sqlalchemy import select

    from stuf_bridge.notifications.sealing import PREFIX, Sealer, new_key, parse_key
    from stuf_bridge.notifications.store import snapshots

    await NotificationStore(store_of_each_kind).save("dms", "http://zgw.test/zaken/8", identificatie="ZK-8",
                                                     acked={"statussen": ["s1"]}, inflight=None)
    sealed = NotificationStore(store_of_each_kind, Sealer(parse_key(new_key())))
    snapshot = await sealed.snapshot("dms", "http://zgw.test/zaken/8")
    assert snapshot.acked == {"statussen": ["s1"]}
    await sealed.save("dms", "http://zgw.test/zaken/8", identificatie="ZK-8", acked=snapshot.acked, inflight=None)
    [row] = await store_of_each_kind.transaction(
        "t", lambda conn: conn.execute(select(snapshots).where(snapshots.c.zaak_url == "http://zgw.test/zaken/8"))
        .all(), durable=False)
    assert bytes(row.acked).startswith(PREFIX)


def test_a_snapshot_key_must_be_32_bytes_of_base64() -> None:
    from stuf_bridge.notifications.config import NotificationSettings

    with pytest.raises(ValueError, match="32 bytes"):
        NotificationSettings(snapshot_key="c2hvcnQ=")
    NotificationSettings(snapshot_key="A" * 43 + "=")


async def test_a_snapshot_sealed_with_another_key_makes_the_delivery_dead_not_a_wrong_difference(tmp_path: Any) -> None:
    import json

    from stuf_bridge.mapping import Mappings
    from stuf_bridge.notifications.config import NotificationSettings
    from stuf_bridge.notifications.delivery import SubscriberDelivery, partition, target
    from stuf_bridge.notifications.messages import Sender
    from stuf_bridge.notifications.sealing import Sealer, new_key, parse_key
    from stuf_bridge.notifications.state import Planner
    from stuf_bridge.store import OutboxEntry, create_store

    settings = NotificationSettings(subscribers=[{"name": "dms", "endpoint": "http://dms.test/zds",
                                                  "stuf": {"applicatie": "DMS"}}])
    zaak = "http://zgw.test/zaken/9"
    async with create_store(f"sqlite:///{tmp_path}/s.sqlite3") as store:
        await NotificationStore(store, Sealer(parse_key(new_key()))).save(
            "dms", zaak, identificatie="ZK-9", acked={"statussen": []}, inflight=None)
        other = NotificationStore(store, Sealer(parse_key(new_key())))
        sender = Sender("0363", "stuf-bridge")
        delivery = SubscriberDelivery(settings, other, None, Planner(Mappings.load(), sender), sender)  # type: ignore[arg-type]
        try:
            now = dt.datetime.now(dt.UTC)
            entry = OutboxEntry(1, partition("dms", zaak), target("dms"), json.dumps({"zaak": zaak}).encode(),
                                "application/json", None, "k", "inflight", 0, now, None, None, now)
            outcome = await delivery(entry)
        finally:
            await delivery.aclose()
    assert outcome.status == "dead" and "snapshot_key" in (outcome.error or "")
