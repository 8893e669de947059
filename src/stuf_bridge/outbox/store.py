"""The outbox's own store statements beyond the item's life cycle in ``store/store.py``: large payloads in chunks
(``outbox_blobs``), the intent (``held``) item written before a primary call and the sweep that resolves one whose
process died, and the purge of finished items.

**Payloads by reference.** A payload above ``outbox.inline_bytes`` is written to ``outbox_blobs`` in chunks of
``CHUNK`` bytes, read from the request's spool, before the item that refers to it is written; the item carries its
name (``payload_ref``) and size. Delivery reads it back chunk by chunk. So a 1 GB document through replicate is never
whole in memory, and every gateway process on a shared PostgreSQL can deliver it (a file on one machine's disk could
not be). The blob is dropped when its item is done or skipped; a blob no item refers to (its message failed, or its
process died before writing the item) is dropped by the purge after ``ORPHAN_AGE``.

Commit order makes this durable: the chunks are committed before the item, and both SQLite's WAL and PostgreSQL's
WAL keep commits in order, so an item that survives a crash has its chunks.

**Intent items.** ``hold`` writes the secondary leg's item as ``held`` (not delivered; it holds back its zaak's later
items, so order is kept) before the primary is called, due for the sweep at ``now + outbox.intent_seconds``. The
message's answer commit turns it ``pending`` (``Store.complete_message``: the same idem_key); a primary that failed
drops it (``drop_hold``). An intent settled ``skipped`` earlier (the message was undone) is replaced by the next
``hold`` of the same message: its resend gets its secondary leg. What stays ``held`` past its time belongs to a
process that died between the primary call and that commit; the worker's sweep (``worker.py``) takes it with
``claim_held`` and settles it with ``settle_held``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import IO

import anyio

from ..store import OutboxEntry, OutboxItem, Store
from ..store.store import _OUTBOX_COLUMNS, _outbox_entry

#: Bytes per blob chunk (one row each).
CHUNK = 1 << 20

#: Chunks deleted per transaction.
DROP_BATCH = 32

#: A blob older than this that no item refers to is dropped by the purge (its item was never written).
ORPHAN_AGE = dt.timedelta(days=1)

_HOLD_SQL = (
    "INSERT INTO outbox (partition_key, target, payload, content_type, soap_action, idem_key, status, attempts, "
    "next_attempt_at, created_at, kind, payload_ref, payload_size) VALUES (:partition_key, :target, :payload, "
    ":content_type, :soap_action, :idem_key, 'held', 0, :due, :now, :kind, :payload_ref, :payload_size) "
    "ON CONFLICT (idem_key) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, payload = excluded.payload, "
    "payload_ref = excluded.payload_ref, payload_size = excluded.payload_size WHERE outbox.status = 'held' "
    "RETURNING id"
)
_CLAIM_HELD_SQL = (
    "UPDATE outbox SET next_attempt_at = :lease WHERE id = (SELECT h.id FROM outbox h WHERE h.status = 'held' "
    "AND h.next_attempt_at <= :now ORDER BY h.id LIMIT 1{lock}) AND status = 'held' RETURNING {columns}"
)


async def spool(store: Store, source: IO[bytes], size: int) -> str:
    """Copy ``source`` (a request's spool, read from its start) into a new blob, chunk by chunk; its name."""
    blob = uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC)
    seq = 0
    on_disk = getattr(source, "_rolled", True)
    while True:
        chunk = await anyio.to_thread.run_sync(source.read, CHUNK) if on_disk else source.read(CHUNK)
        if not chunk:
            break
        await store.outbox_statement(
            f"outbox_blob({blob}, {seq})",
            "INSERT INTO outbox_blobs (blob, seq, data, created_at) VALUES (:blob, :seq, :data, :now)",
            {"blob": blob, "seq": seq, "data": chunk, "now": now}, inline=False)
        seq += 1
    return blob


async def chunks(store: Store, blob: str) -> AsyncIterator[bytes]:
    """A blob's bytes, one chunk at a time; OSError when a chunk is missing (the blob was dropped)."""
    seq = 0
    while True:
        row = await store.outbox_statement(f"outbox_blob({blob}, {seq})",
                                           "SELECT data FROM outbox_blobs WHERE blob = :blob AND seq = :seq",
                                           {"blob": blob, "seq": seq}, inline=False)
        if row is None:
            if seq == 0:
                raise OSError(f"outbox payload {blob} is not in the store")
            return
        yield bytes(row[0])
        seq += 1


async def payload(store: Store, entry: OutboxEntry) -> AsyncIterator[bytes]:
    """An item's payload in pieces: from its row, or from its blob."""
    if entry.payload_ref is None:
        yield entry.payload
        return
    async for chunk in chunks(store, entry.payload_ref):
        yield chunk


async def drop_blob(store: Store, blob: str | None) -> None:
    """Delete a blob, DROP_BATCH chunks per transaction (off the event loop on SQLite: freeing a gigabyte of pages
    takes a while)."""
    while blob is not None:
        rows = await store.outbox_statement(
            f"drop_blob({blob})",
            "DELETE FROM outbox_blobs WHERE blob = :blob AND seq IN (SELECT seq FROM outbox_blobs WHERE blob = :blob "
            "ORDER BY seq LIMIT :batch) RETURNING seq", {"blob": blob, "batch": DROP_BATCH}, all_rows=True,
            inline=False)
        if len(rows) < DROP_BATCH:
            return


async def hold(store: Store, item: OutboxItem, *, due_in: dt.timedelta) -> None:
    """Write ``item`` as an intent (``held``), before the primary call. A resend of the same message whose first
    copy's process died takes the intent over; an item already pending or delivered is left as it is.

    An earlier intent of the same message that was settled ``skipped`` (its primary did not land: the message was
    undone, or the primary refused it) is replaced by this one, under a new id (so it is ordered after the zaak's
    items written since): the message is being processed anew, and if its primary lands now its secondary leg must
    go too. (Only a message that runs its primary again gets here: a resend of an answered one is answered from the
    store by the claim stage.)"""
    now = dt.datetime.now(dt.UTC)
    replaced = await store.outbox_statement(f"hold_replace({item.idem_key})",
                                            "DELETE FROM outbox WHERE idem_key = :idem_key AND status = 'skipped' "
                                            "RETURNING payload_ref", {"idem_key": item.idem_key})
    if replaced is not None:
        await drop_blob(store, replaced[0])
    await store.outbox_statement(f"hold({item.idem_key})", _HOLD_SQL, {
        "partition_key": item.partition_key, "target": item.target, "payload": item.payload,
        "content_type": item.content_type, "soap_action": item.soap_action, "idem_key": item.idem_key,
        "due": now + due_in, "now": now, "kind": item.kind, "payload_ref": item.payload_ref,
        "payload_size": item.payload_size})


async def drop_hold(store: Store, item: OutboxItem) -> None:
    """The primary failed (it changed nothing): the intent goes, with its blob. An item that is no longer held (the
    answer was stored after all) stays."""
    row = await store.outbox_statement(f"drop_hold({item.idem_key})",
                                       "DELETE FROM outbox WHERE idem_key = :idem_key AND status = 'held' "
                                       "RETURNING payload_ref", {"idem_key": item.idem_key})
    if row is not None:
        await drop_blob(store, row[0])
    elif item.payload_ref is not None:  # never held (hold failed) or taken over: this copy's blob is unused
        referred = await store.outbox_statement(f"drop_hold({item.idem_key})",
                                                "SELECT id FROM outbox WHERE payload_ref = :ref",
                                                {"ref": item.payload_ref})
        if referred is None:
            await drop_blob(store, item.payload_ref)


async def claim_held(store: Store, lease: dt.timedelta) -> OutboxEntry | None:
    """The oldest intent past its time, taken for ``lease`` (moved out of the other sweepers' sight), or None."""
    now = dt.datetime.now(dt.UTC)
    lock = " FOR UPDATE SKIP LOCKED" if store.dialect == "postgresql" else ""
    row = await store.outbox_statement("claim_held", _CLAIM_HELD_SQL.format(lock=lock, columns=_OUTBOX_COLUMNS),
                                       {"now": now, "lease": now + lease})
    return _outbox_entry(row) if row is not None else None


async def settle_held(store: Store, entry: OutboxEntry, status: str, error: str | None = None) -> bool:
    """Settle an intent: ``pending`` (the primary landed: deliver it), ``skipped`` (it did not: nothing to
    replicate; its blob goes) or ``dead`` (nobody can tell: an operator decides, ``outbox retry|skip``)."""
    now = dt.datetime.now(dt.UTC)
    row = await store.outbox_statement(
        f"settle_held({entry.id})",
        "UPDATE outbox SET status = :status, next_attempt_at = :now, last_error = :error, finished_at = :finished "
        "WHERE id = :item_id AND status = 'held' RETURNING id",
        {"status": status, "now": now, "error": error[:2000] if error else None,
         "finished": now if status == "skipped" else None, "item_id": entry.id})
    if row is not None and status == "skipped":
        await drop_blob(store, entry.payload_ref)
    return row is not None


async def purge(store: Store, older_than: dt.timedelta, *, batch: int = 500) -> int:
    """Forget done and skipped items finished longer than ``older_than`` ago, their blobs, and blobs no item refers
    to older than ``ORPHAN_AGE``; returns how many items went."""
    now = dt.datetime.now(dt.UTC)
    cutoff = now - older_than
    purged = 0
    while True:
        rows = await store.outbox_statement(
            "purge_outbox",
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status IN ('done', 'skipped') "
            "AND COALESCE(finished_at, created_at) < :cutoff ORDER BY id LIMIT :batch) RETURNING payload_ref",
            {"cutoff": cutoff, "batch": batch}, all_rows=True)
        for (ref,) in rows:
            await drop_blob(store, ref)
        purged += len(rows)
        if len(rows) < batch:
            break
    await store.outbox_statement(
        "purge_outbox_blobs",
        "DELETE FROM outbox_blobs WHERE created_at < :orphaned AND blob NOT IN "
        "(SELECT payload_ref FROM outbox WHERE payload_ref IS NOT NULL)",
        {"orphaned": now - ORPHAN_AGE})
    return purged
