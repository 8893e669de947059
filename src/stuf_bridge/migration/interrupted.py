"""Copies whose process died: found, and undone, without waiting for the zaak to be named again.

A copy (``copy.py``) writes its ledger row ``copying`` before its first ZGW write and its outcome after its last,
all under the zaak's back-fill lock. A process killed in between (a deploy, an OOM kill, ``kill -9``) leaves the row
``copying``, its lock (until the lock's expiry) and in ZGW whatever it had made: the zaak with some of its documents
or besluiten, or only part of the zaak. Each of those parts was written by a replica message of its own (the
creeerZaak, each voegZaakdocumentToe and voegBesluitToe), which the step journal resolves like any other message;
what the journal cannot see is the copy as a whole — a zaak complete as a message, its documents never copied.

``resolve_interrupted`` settles such copies by compensation: it takes the zaak's lock (free, lapsed, or held by a
process on this host that no longer runs — ``dead_here``), deletes what ZGW holds of the zaak (``clear_zaak``: its
besluiten, the documents linked to it and nobody else, the zaak with its rollen, statussen and resultaat) and records
the ledger row ``failed`` with the reason. The next copy of the zaak (a back-fill on reference, ``stuf-bridge
migrate``) then copies it anew, whole. A copy still under way elsewhere holds its lock and is left alone. It runs in
the gateway's recovery sweep (at start-up and periodically), in ``stuf-bridge recover run`` and at the start of
``stuf-bridge migrate``; the next copy of the zaak itself clears what it finds as well (``copy.py``).

The parts first: neither this nor a new copy of the zaak runs while a part of a copy is unresolved in the step
journal (``unresolved_parts``). A part whose answer was lost is looked up in ZGW by its identificatie; resolved
after a new copy, it would find the new copy's object of that identificatie and undo it.

Not completion: finishing a copy would need the legacy side and the copy's plan; undoing needs only ZGW, and a copy
is all or nothing by design.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from ..recovery.journal import Journal, pid_runs, process_started
from ..recovery.service import claim_state, journal_for
from ..store.errors import StoreError
from ..zgw.errors import ZgwError
from . import store as ledger_store
from .store import MigrationStore

if TYPE_CHECKING:
    from ..store import Store
    from ..zgw import ZgwClients

log = structlog.get_logger(__name__)

#: How long the resolution holds a zaak's lock (it deletes a handful of objects).
RESOLVE_LOCK_SECONDS = 300.0
INTERRUPTED = "kopie afgebroken (het kopiërende proces stopte halverwege); wat ervan in ZGW stond is verwijderd"


def lock_owner() -> str:
    """A back-fill lock's owner for this process: ``host:pid:tag:started`` (the pid's start time, so that a
    restarted container's new process with the same pid is not taken for the old one)."""
    started = process_started(os.getpid()) or ""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}:{started}"[:100]


def dead_here(owner: str) -> bool:
    """Whether a lock owner (``host:pid:tag[:started]``) is a process on this machine that no longer runs (or whose
    pid now belongs to a process started at another time)."""
    host, _, rest = owner.partition(":")
    pid, _, rest = rest.partition(":")
    started = rest.partition(":")[2]
    if host != socket.gethostname()[:60] or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return bool(started) and started != (process_started(os.getpid()) or "")
    if not pid_runs(int(pid)):
        return True
    now_started = process_started(int(pid))
    return bool(started.startswith("proc:") and now_started is not None and now_started != started)


def runs_here(owner: str) -> bool:
    """Whether a lock owner is a process on this machine that still runs (its lock may have lapsed meanwhile: a copy
    of one very large document renews it only after that document)."""
    return owner.partition(":")[0] == socket.gethostname()[:60] and not dead_here(owner)


async def take_lock(ledger: MigrationStore, identificatie: str, owner: str, seconds: float, *,
                    force: bool = False) -> bool:
    """The zaak's back-fill lock, if it is free, lapsed, or held by a process here that is gone (``force``: by
    anyone — ``stuf-bridge recover run --all``, with every process on the store stopped)."""
    if await ledger.try_lock(identificatie, owner, seconds):
        return True
    holder = await ledger.lock_owner(identificatie)
    if holder is None or not (force or dead_here(holder)):
        return False
    log.warning("backfill_lock_of_dead_process", zaak=identificatie, owner=holder)
    await ledger.unlock(identificatie, holder)
    return await ledger.try_lock(identificatie, owner, seconds)


async def clear_zaak(zgw: ZgwClients, zaak: dict[str, Any]) -> int:
    """Delete a zaak from ZGW with its besluiten and the documents linked to it and to no other zaak (which a copy
    had created); how many documents went. What is gone already (another process cleared it too) is skipped."""
    url = str(zaak["url"])
    for besluit in await zgw.besluiten.list("besluiten", {"zaak": url}):
        if besluit.get("zaak") == url:
            for link in await zgw.besluiten.list("besluitinformatieobjecten", {"besluit": besluit["url"]}):
                await _delete(zgw.besluiten, str(link["url"]))
            await _delete(zgw.besluiten, str(besluit["url"]))
    links = await zgw.zaken.list("zaakinformatieobjecten", {"zaak": url})
    for link in links:
        await _delete(zgw.zaken, str(link["url"]))
        others = await zgw.zaken.list("zaakinformatieobjecten", {"informatieobject": link["informatieobject"]})
        if not others:
            await _delete(zgw.documenten, str(link["informatieobject"]))
    await _delete(zgw.zaken, url)
    log.info("zaak_cleared_for_copy", zaak=zaak.get("identificatie"), documents=len(links))
    return len(links)


async def _delete(api: Any, url: str) -> None:
    try:
        await api.delete(url)
    except ZgwError as exc:
        if exc.status != 404:
            raise


@dataclass(frozen=True)
class Interrupted:
    """One interrupted copy and what became of it: ``cleared`` (its zaak deleted from ZGW), ``nothing`` (ZGW had
    none of it), ``held`` (its lock is held by a process that may still run: left), ``left`` (ZGW or the store
    failed: tried again next time, ``reason`` says why)."""

    identificatie: str
    outcome: str
    documents: int = 0
    reason: str | None = None


async def interrupted(store: Store) -> list[str]:
    """The zaken whose ledger row says a copy is under way (or died)."""
    return [entry.identificatie for entry in await MigrationStore(store).entries([ledger_store.COPYING])]


def is_copy_message(zender: str, referentienummer: str) -> bool:
    """Whether a journalled message is a part of a copy: the copier's own messages (``mig-`` referentienummers,
    ``copy.py``) run through the replica gateway (claim key ``zender|replica``)."""
    return zender.endswith("|replica") and referentienummer.startswith("mig-")


async def unresolved_parts(store: Store, journal: Journal) -> list[str]:
    """The copy messages the step journal has not resolved: left unfinished, or held by a gone process (the
    referentienummers). While there is one, no interrupted copy is undone or copied anew: a part's intent without
    an answer is looked up in ZGW by its identificatie, and must be settled against what the interrupted copy made,
    not against a new copy's object of the same identificatie."""
    left: list[str] = []
    for message in await journal.messages():
        if not is_copy_message(message.zender, message.referentienummer) or message.state == "completed":
            continue
        if message.state != "unfinished" and not await journal.is_gone(message.owner):
            continue  # a copy under way in a running process: it holds its zaak's lock
        if await claim_state(store, *message.key) == "done":
            continue  # answered; its journal waits for the sweep's purge
        left.append(message.referentienummer)
    return left


async def resolve_interrupted(store: Store, zgw: ZgwClients, *, owner: str | None = None,
                              everything: bool = False) -> list[Interrupted]:
    """Undo the copies whose process died (see the module's text); what became of each ``copying`` row.
    ``everything``: also those whose lock another process holds (every process on the store stopped). Run it after
    the journal's sweep: while a part of a copy is unresolved in the journal (``unresolved_parts``), every
    interrupted copy is ``left`` for the next time."""
    ledger = MigrationStore(store)
    owner = owner or lock_owner()
    results: list[Interrupted] = []
    copying = await ledger.entries([ledger_store.COPYING])
    parts = await unresolved_parts(store, journal_for(store)) if copying else []
    if parts:
        reason = f"{len(parts)} deel/delen van een kopie nog niet hersteld in het stappenjournaal ({parts[0]}, ...)"
        return [Interrupted(entry.identificatie, "left", reason=reason) for entry in copying]
    for entry in copying:
        name = entry.identificatie
        holder = await ledger.lock_owner(name)
        if (holder is not None and not everything and runs_here(holder)) or not await take_lock(
                ledger, name, owner, RESOLVE_LOCK_SECONDS, force=everything):
            results.append(Interrupted(name, "held"))
            continue
        try:
            current = await ledger.entry(name)
            if current is None or current.outcome != ledger_store.COPYING:  # finished meanwhile
                continue
            found = await zgw.zaken.list("zaken", {"identificatie": name}, max_items=10)
            zaak = next((z for z in found if z.get("identificatie") == name), None)
            documents = await clear_zaak(zgw, zaak) if zaak is not None else 0
            current.outcome, current.reason, current.zgw_url = ledger_store.FAILED, INTERRUPTED, None
            current.documents_done = 0
            await ledger.record(current)
            results.append(Interrupted(name, "cleared" if zaak is not None else "nothing", documents))
            log.warning("interrupted_copy_undone", zaak=name, cleared=zaak is not None, documents=documents)
        except (ZgwError, StoreError) as exc:
            results.append(Interrupted(name, "left", reason=str(exc)))
            log.warning("interrupted_copy_left", zaak=name, error=str(exc))
        finally:
            await asyncio.shield(ledger.unlock(name, owner))  # also when the sweep is stopped meanwhile
    return results
