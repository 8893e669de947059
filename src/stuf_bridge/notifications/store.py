"""The notification tables in the gateway's store (migration 11): the inbox, the per-subscriber snapshots and the
clock that makes ``tijdstipBericht`` rise strictly per zender.

* **inbox** — one row per notification received, deduplicated on (kanaal, resourceUrl, actie, aanmaakdatum): Open
  Notificaties retries a delivery it did not see answered, and a repeat is then stored once.
* **snapshots** — per subscriber and zaak: ``acked``, the state of the zaak as that subscriber last acknowledged it
  (Bv03), and ``inflight``, the kennisgeving being sent (so that a retry sends the same referentienummer and body).
* **clock** — per zender the last ``tijdstipBericht`` handed out, in milliseconds; taken in one transaction, so
  several gateway processes never hand out the same or a lower one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    case,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..store import Store
from .sealing import Sealer

_metadata = MetaData()

inbox = Table(
    "notification_inbox",
    _metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("dedup_key", String(64), nullable=False, unique=True),
    Column("kanaal", String(50), nullable=False),
    Column("hoofd_object", String(1000), nullable=False),
    Column("resource", String(100), nullable=False),
    Column("resource_url", String(1000), nullable=False),
    Column("actie", String(50), nullable=False),
    Column("aanmaakdatum", String(50), nullable=False),
    Column("kenmerken", String(4000), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=True),
    Column("error", String(2000), nullable=True),
)

snapshots = Table(
    "notification_snapshots",
    _metadata,
    Column("subscriber", String(100), primary_key=True),
    Column("zaak_url", String(1000), primary_key=True),
    Column("identificatie", String(200), nullable=True),
    Column("acked", LargeBinary, nullable=True),
    Column("inflight", LargeBinary, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

clock = Table(
    "notification_clock",
    _metadata,
    Column("zender", String(300), primary_key=True),
    Column("last_ms", BigInteger, nullable=False),
)


@dataclass(frozen=True)
class Notification:
    """A Notificaties API 1.0 message (``kanaal``, ``hoofdObject``, ``resource``, ``resourceUrl``, ``actie``,
    ``aanmaakdatum``, ``kenmerken``)."""

    kanaal: str
    hoofd_object: str
    resource: str
    resource_url: str
    actie: str
    aanmaakdatum: str
    kenmerken: Mapping[str, str]

    @property
    def dedup_key(self) -> str:
        text = "\n".join((self.kanaal, self.resource_url, self.actie, self.aanmaakdatum))
        return hashlib.sha256(text.encode()).hexdigest()

    def as_json(self) -> dict[str, Any]:
        return {"kanaal": self.kanaal, "hoofdObject": self.hoofd_object, "resource": self.resource,
                "resourceUrl": self.resource_url, "actie": self.actie, "aanmaakdatum": self.aanmaakdatum,
                "kenmerken": dict(self.kenmerken)}


@dataclass(frozen=True)
class InboxEntry:
    id: int
    notification: Notification
    received_at: dt.datetime


@dataclass(frozen=True)
class Snapshot:
    subscriber: str
    zaak_url: str
    identificatie: str | None
    acked: dict[str, Any] | None
    inflight: dict[str, Any] | None


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _json(value: bytes | None) -> dict[str, Any] | None:
    return json.loads(value) if value is not None else None


def _bytes(value: Mapping[str, Any] | None) -> bytes | None:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() if value is not None else None


class NotificationStore:
    """The notification tables, through the gateway's store (``Store.transaction``). With a ``sealer`` the
    snapshots' ``acked`` and ``inflight`` are stored encrypted (``sealing.py``)."""

    def __init__(self, store: Store, sealer: Sealer | None = None):
        self.store = store
        self.sealer = sealer

    def _seal(self, value: Mapping[str, Any] | None, context: str) -> bytes | None:
        data = _bytes(value)
        return self.sealer.seal(data, context) if data is not None and self.sealer is not None else data

    def _open(self, blob: bytes | None, context: str) -> dict[str, Any] | None:
        if blob is None:
            return None
        return _json(self.sealer.open(bytes(blob), context) if self.sealer is not None else bytes(blob))

    def _row(self, row: Any) -> Snapshot:
        context = f"{row.subscriber}\n{row.zaak_url}"
        return Snapshot(row.subscriber, row.zaak_url, row.identificatie, self._open(row.acked, context),
                        self._open(row.inflight, context))

    def _insert(self, table: Table) -> Any:
        return (pg_insert if self.store.dialect == "postgresql" else sqlite_insert)(table)

    # --- inbox ------------------------------------------------------------------------------------------------
    async def receive(self, notification: Notification) -> bool:
        """Store a notification; False when the same one was stored before (a repeat)."""
        values = {"dedup_key": notification.dedup_key, "kanaal": notification.kanaal,
                  "hoofd_object": notification.hoofd_object, "resource": notification.resource,
                  "resource_url": notification.resource_url, "actie": notification.actie,
                  "aanmaakdatum": notification.aanmaakdatum,
                  "kenmerken": json.dumps(dict(notification.kenmerken), ensure_ascii=False)[:4000],
                  "received_at": dt.datetime.now(dt.UTC)}

        statement = (self._insert(inbox).values(**values).on_conflict_do_nothing(index_elements=[inbox.c.dedup_key])
                     .returning(inbox.c.id))

        def work(conn: Connection) -> bool:
            return conn.execute(statement).first() is not None

        return await self.store.transaction("notification_receive", work)

    async def due(self, older_than: dt.timedelta, limit: int = 500) -> list[InboxEntry]:
        """Unprocessed notifications received at least ``older_than`` ago, oldest first."""
        until = dt.datetime.now(dt.UTC) - older_than
        query = (select(inbox).where(inbox.c.processed_at.is_(None) & (inbox.c.received_at <= until))
                 .order_by(inbox.c.id).limit(limit))

        def work(conn: Connection) -> list[InboxEntry]:
            return [InboxEntry(row.id, Notification(row.kanaal, row.hoofd_object, row.resource, row.resource_url,
                                                    row.actie, row.aanmaakdatum, json.loads(row.kenmerken)),
                               _utc(row.received_at)) for row in conn.execute(query)]

        return await self.store.transaction("notification_due", work, durable=False)

    async def processed(self, ids: Sequence[int], errors: Mapping[int, str] | None = None) -> None:
        now = dt.datetime.now(dt.UTC)
        errors = errors or {}

        def work(conn: Connection) -> None:
            for item in ids:
                conn.execute(update(inbox).where(inbox.c.id == item)
                             .values(processed_at=now, error=errors.get(item, None)))

        await self.store.transaction("notification_processed", work)

    async def waiting(self) -> int:
        query = select(inbox.c.id).where(inbox.c.processed_at.is_(None))
        return await self.store.transaction("notification_waiting", lambda conn: len(conn.execute(query).all()),
                                            durable=False)

    async def purge(self, older_than: dt.timedelta) -> int:
        statement = delete(inbox).where(inbox.c.processed_at.is_not(None)
                                        & (inbox.c.processed_at < dt.datetime.now(dt.UTC) - older_than))
        return await self.store.transaction("notification_purge",
                                            lambda conn: int(conn.execute(statement).rowcount or 0), durable=False)

    # --- snapshots --------------------------------------------------------------------------------------------
    async def snapshot(self, subscriber: str, zaak_url: str) -> Snapshot:
        query = select(snapshots).where((snapshots.c.subscriber == subscriber) & (snapshots.c.zaak_url == zaak_url))

        def work(conn: Connection) -> Snapshot:
            row = conn.execute(query).first()
            if row is None:
                return Snapshot(subscriber, zaak_url, None, None, None)
            return self._row(row)

        return await self.store.transaction("notification_snapshot", work, durable=False)

    async def save(self, subscriber: str, zaak_url: str, *, identificatie: str | None,
                   acked: Mapping[str, Any] | None, inflight: Mapping[str, Any] | None) -> None:
        """Write both parts of a snapshot (durably: a lost ``acked`` would send a change twice)."""
        key = (snapshots.c.subscriber == subscriber) & (snapshots.c.zaak_url == zaak_url)
        context = f"{subscriber}\n{zaak_url}"
        values = {"identificatie": identificatie, "acked": self._seal(acked, context),
                  "inflight": self._seal(inflight, context), "updated_at": dt.datetime.now(dt.UTC)}

        def work(conn: Connection) -> None:
            if (conn.execute(update(snapshots).where(key).values(**values)).rowcount or 0) == 0:
                conn.execute(insert(snapshots).values(subscriber=subscriber, zaak_url=zaak_url, **values))

        await self.store.transaction("notification_snapshot_save", work)

    async def snapshots_of(self, subscriber: str) -> list[Snapshot]:
        query = select(snapshots).where(snapshots.c.subscriber == subscriber).order_by(snapshots.c.zaak_url)

        def work(conn: Connection) -> list[Snapshot]:
            return [self._row(row) for row in conn.execute(query)]

        return await self.store.transaction("notification_snapshots", work, durable=False)

    # --- clock ------------------------------------------------------------------------------------------------
    async def tick(self, zender: str) -> dt.datetime:
        """The next ``tijdstipBericht`` for ``zender``: now, or one millisecond after the last one handed out when
        that is not before now (the clock went back, or two in the same millisecond)."""
        now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)

        first = (self._insert(clock).values(zender=zender, last_ms=now_ms - 1)
                 .on_conflict_do_nothing(index_elements=[clock.c.zender]))
        # one statement: the row is locked by the update itself, so concurrent processes queue behind each other
        later = (update(clock).where(clock.c.zender == zender)
                 .values(last_ms=case((clock.c.last_ms + 1 > now_ms, clock.c.last_ms + 1), else_=now_ms))
                 .returning(clock.c.last_ms))

        def work(conn: Connection) -> int:
            conn.execute(first)
            return int(conn.execute(later).scalar_one())

        value = await self.store.transaction("notification_tick", work)
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
