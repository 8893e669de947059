"""UsernameToken nonces seen within the replay window, in the gateway's store so that every process (and every
replica on one PostgreSQL) refuses the same replay: a nonce is taken by inserting it, and a second insert of the same
client and nonce fails on the primary key, atomically, whichever process tries.

The table is this feature's own (``wsse_nonces``), created by store migration 9 (``store/migrations.py``); the
first nonce taken also creates it if missing (a store opened without migrations, as some tools do).
"""

from __future__ import annotations

import asyncio
import datetime as dt

import structlog
from sqlalchemy import Column, Connection, DateTime, Index, MetaData, String, Table, delete, insert, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..store import Store, StoreError

log = structlog.get_logger(__name__)

_metadata = MetaData()
wsse_nonces = Table(
    "wsse_nonces",
    _metadata,
    Column("client", String(100), primary_key=True),
    Column("nonce", String(200), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_wsse_nonces_expires", "expires_at"),
)


def m009_wsse_nonces(conn: Connection) -> None:
    """Store migration 9: the UsernameToken nonces seen within the replay window."""
    wsse_nonces.create(conn, checkfirst=True)


PURGE_EVERY = 500  # nonces taken between two purges of expired ones


class NonceStore:
    def __init__(self, store: Store):
        self.store = store
        self._ready = False
        self._lock = asyncio.Lock()
        self._taken = 0

    async def _prepare(self) -> None:
        async with self._lock:
            if not self._ready:
                async with self.store.engine.begin() as conn:
                    await conn.run_sync(m009_wsse_nonces)
                self._ready = True

    async def take(self, client: str, nonce: str, expires_at: dt.datetime) -> bool:
        """True when the nonce was not seen (now taken); False for a replay."""
        try:
            if not self._ready:
                await self._prepare()
            async with self.store.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # not waiting for the WAL flush: a crash may forget the last nonces (a replay of those within
                    # the window), never accept a nonce twice while the server runs; the commit costs ~1 ms, not 40
                    await conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
                await conn.execute(insert(wsse_nonces).values(client=client, nonce=nonce, expires_at=expires_at))
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise StoreError(f"wsse nonce: {type(exc).__name__}: {exc}") from exc
        self._taken += 1
        if self._taken % PURGE_EVERY == 1:
            await self.purge()
        return True

    async def purge(self, now: dt.datetime | None = None) -> int:
        """Forget expired nonces; returns how many."""
        now = now or dt.datetime.now(dt.UTC)
        try:
            async with self.store.engine.begin() as conn:
                result = await conn.execute(delete(wsse_nonces).where(wsse_nonces.c.expires_at < now))
        except SQLAlchemyError as exc:
            log.warning("wsse_nonce_purge_failed", error=type(exc).__name__)
            return 0
        return int(result.rowcount or 0)
