"""The gateway's own store: identifier sequences (later idempotency records, traces and an outbox).

SQLite is the embedded default, PostgreSQL the production backend shared by several gateway processes::

    store = create_store("sqlite:///data/stuf-bridge.db")
    await store.open()  # connects and migrates
    number = await store.next_value("zaak")
"""

from __future__ import annotations

from .errors import StoreError
from .store import MessageClaim, OutboxEntry, OutboxItem, OutboxStats, Store, ZaakRoute, create_store

__all__ = [
    "create_store",
    "MessageClaim",
    "OutboxEntry",
    "OutboxItem",
    "OutboxStats",
    "Store",
    "StoreError",
    "ZaakRoute",
]
