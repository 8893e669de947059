"""Recovery of unfinished messages: at start-up, in a periodic sweep (which also renews this process's lease),
and on demand (``stuf-bridge recover``). Before a resend is processed, the claim stage does the same for that one
message (pipeline/claim.py).

A message is swept when its journal says it is unfinished (its failure left something, e.g. ZGW was away for the
undo) or when the process that holds it is gone (journal.py, ``Journal.is_gone``). If its idempotency record is
``done`` (the process died after storing the answer, before forgetting the journal), only the journal is
forgotten. Otherwise it is resolved (resolve.py); a clean or completed message gives up its claim so that a resend
is not kept waiting, a completed one stays in the journal as ``completed`` so that the resend is answered Bv03.

With tenants (security/tenants.py) a message is resolved against its own tenant's backend: the tenant is part of
the message's key (``|tenant=NAME`` after the zender, the same in the claim and in the journal), and the sweep gets
the tenants' ZGW clients by name. A message of a tenant no longer configured is left alone (and logged).

The sweep also undoes back-fill copies whose process died (``migration/interrupted.py``): a copy is several
messages, each journalled, but the copy as a whole (the zaak with its documents and besluiten) is all or nothing
only through its ledger row and lock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from ..store.errors import StoreError
from ..zgw.errors import ZgwError
from .journal import Journal, MessageRow
from .resolve import Resolution, resolve

if TYPE_CHECKING:
    from ..store import Store
    from ..zgw import ZgwClients

log = structlog.get_logger(__name__)

_JOURNALS: weakref.WeakKeyDictionary[Store, Journal] = weakref.WeakKeyDictionary()
_CLAIM_STATE = "SELECT state FROM messages WHERE zender = :zender AND referentienummer = :ref"


def journal_for(store: Store, *, lease_seconds: float = 30.0) -> Journal:
    """The journal of this process on ``store`` (one owner per store object)."""
    journal = _JOURNALS.get(store)
    if journal is None:
        journal = _JOURNALS[store] = Journal(store, lease_seconds=lease_seconds)
    return journal


def tenant_of(zender: str) -> str | None:
    """The tenant a journalled message belongs to: the claim stage puts ``|tenant=NAME`` after the zender of the
    key (pipeline/claim.py); None for the gateway's own backend."""
    _, found, name = zender.rpartition("|tenant=")
    return name if found else None


def zgw_of(zgw: ZgwClients, tenants: Mapping[str, ZgwClients] | None, zender: str) -> ZgwClients | None:
    """The ZGW clients a message of ``zender`` (the key's first half) is resolved with: its tenant's, or the
    gateway's own; None when its tenant is not (or no longer) configured. ``tenants`` None: the caller chose
    ``zgw`` for this very message (the outbox's primary check of a tenant's item, with that tenant's clients)."""
    tenant = tenant_of(zender)
    if tenant is None or tenants is None:
        return zgw
    return tenants.get(tenant)


@dataclass(frozen=True)
class Swept:
    message: MessageRow
    resolution: Resolution | None  # None: only the journal was forgotten (the message was done)


async def claim_state(store: Store, zender: str, referentienummer: str) -> str | None:
    row = await store.statement("recovery.claim_state", _CLAIM_STATE, {"zender": zender, "ref": referentienummer})
    return str(row[0]) if row is not None else None


async def recover_message(store: Store, zgw: ZgwClients, journal: Journal, message: MessageRow, *,
                          settle_seconds: float = 60.0, wait: bool = False,
                          tenants: Mapping[str, ZgwClients] | None = None) -> Swept:
    """Resolve one unfinished message (its holder must be gone, or be this process) and settle its claim.
    ``zgw``: the gateway's own backend; ``tenants``: each tenant's, for the messages of a tenant (None: ``zgw`` is
    the one this message is resolved with)."""
    key = message.key
    if await claim_state(store, *key) == "done":
        await journal.finish(key)
        return Swept(message, None)
    own = zgw_of(zgw, tenants, key[0])
    if own is None:
        raise ZgwError(f"tenant {tenant_of(key[0])!r} is niet geconfigureerd: het bericht kan niet worden hersteld")
    resolution = await resolve(own, journal, key, settle_seconds=settle_seconds, wait=wait)
    if resolution.outcome == "clean":
        await journal.finish(key)
        await store.release_message(*key)
    elif resolution.outcome == "completed":
        await journal.set_message(key, "completed")
        await store.release_message(*key)
    else:
        await journal.set_message(key, "unfinished")
    log.info("message_recovered", zender=key[0], referentienummer=key[1], operation=message.operation,
             outcome=resolution.outcome, undone=resolution.undone, left=resolution.left)
    return Swept(message, resolution)


async def sweep(store: Store, zgw: ZgwClients, journal: Journal, *, everything: bool = False,
                settle_seconds: float = 60.0, wait: bool = False,
                tenants: Mapping[str, ZgwClients] | None = None) -> list[Swept]:
    """Resolve the unfinished messages, and those of gone processes. ``everything``: also messages held by live
    processes (the operator's ``stuf-bridge recover --all`` with every gateway stopped). ``tenants``: the ZGW
    clients of each tenant (their messages are resolved against their own backend)."""
    swept: list[Swept] = []
    tenants = tenants if tenants is not None else {}  # no tenants configured: a tenant's message is left alone
    await journal.purge_done()
    for message in await journal.messages():
        if message.state == "completed":
            continue
        if zgw_of(zgw, tenants, message.zender) is None:  # a tenant not configured here: not taken, not touched
            log.warning("message_recovery_skipped", referentienummer=message.referentienummer,
                        tenant=tenant_of(message.zender), reason="tenant not configured")
            continue
        if journal.working_on(message.key):
            continue  # a copy of it is in this process's pipeline now (a resend): that copy repairs it
        async with journal.working(message.key):  # taken at once (nobody works on it): a resend now waits
            done = await _sweep_one(store, zgw, journal, message, everything=everything,
                                    settle_seconds=settle_seconds, wait=wait, tenants=tenants)
        if done is not None:
            swept.append(done)
    return swept


async def _sweep_one(store: Store, zgw: ZgwClients, journal: Journal, message: MessageRow, *, everything: bool,
                     settle_seconds: float, wait: bool, tenants: Mapping[str, ZgwClients]) -> Swept | None:
    mine = message.owner == journal.owner.id
    if message.state == "active":
        if mine or not (everything or await journal.is_gone(message.owner)):
            return None  # being processed right now
        if not await journal.take(message.key, message.owner):
            return None  # another process took it first
    elif not mine and not everything and not await journal.is_gone(message.owner):
        return None  # unfinished by a live process: it sweeps it itself (it knows when ZGW is back)
    try:
        return await recover_message(store, zgw, journal, message, settle_seconds=settle_seconds, wait=wait,
                                     tenants=tenants)
    except (ZgwError, StoreError) as exc:
        log.warning("message_recovery_failed", referentienummer=message.referentienummer, error=str(exc))
        return None


class RecoveryService:
    """The gateway's background recovery: register, sweep once at start, then renew and sweep periodically (the
    journal's messages, then interrupted back-fill copies)."""

    def __init__(self, store: Store, zgw: ZgwClients, *, lease_seconds: float, sweep_seconds: float,
                 settle_seconds: float = 60.0, tenants: Mapping[str, ZgwClients] | None = None):
        self.store = store
        self.zgw = zgw
        self.tenants = tenants
        self.journal = journal_for(store, lease_seconds=lease_seconds)
        self.journal.lease = dt.timedelta(seconds=lease_seconds)
        self.sweep_seconds = sweep_seconds
        self.settle_seconds = settle_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.journal.register()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="stuf-bridge-recovery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        try:
            await self.journal.unregister()
        except StoreError as exc:
            log.warning("journal_unregister_failed", error=str(exc))

    async def _run(self) -> None:
        from ..migration.interrupted import resolve_interrupted  # (it uses this module's journal and claim state)

        while True:
            try:
                await self.journal.register()
                await sweep(self.store, self.zgw, self.journal, settle_seconds=self.settle_seconds,
                            tenants=self.tenants)
                # after the messages (each part of a copy is a replica message of its own): the copies as a whole
                await resolve_interrupted(self.store, self.zgw)
                await self.journal.purge_owners()
            except (StoreError, ZgwError) as exc:
                log.warning("recovery_sweep_failed", error=str(exc))
            await asyncio.sleep(min(self.sweep_seconds, self.journal.lease.total_seconds() / 3))
