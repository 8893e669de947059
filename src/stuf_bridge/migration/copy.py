"""Copying one zaak from the legacy zaaksysteem into ZGW: the core that lazy back-fill, ``stuf-bridge migrate`` and
``reconcile --repair`` share.

The copy reuses the gateway's own translation instead of a second mapping: a ``zakLa01`` object (geefZaakdetails,
scope alles) has the shape of a ``zakLk01`` creeerZaak object, and an ``edcLa01`` object the shape of a
voegZaakdocumentToe ``edcLk01`` object. So the copier turns each answer into that message — with the gateway's own
zender and a fresh referentienummer — and hands it to a gateway of its own on the same store and backends whose
router translates everything (``ReplicaRouter``, as the outbox worker does). Everything the translate flow knows
(the mapping files, rollen and roltypen, statussen oldest first, resultaat before the eindstatus, zaakobjecten,
kenmerken, eigenschappen, bestandsdelen for large documents) applies to a copied zaak as to a created one.

One copy, in order:

1. the per-zaak lock (``MigrationStore.try_lock``: a row in the store, so also across gateway processes on
   PostgreSQL), then a second look: a zaak another process copied meanwhile is not copied again;
2. ``geefZaakdetails`` → creeerZaak with the legacy identificatie. Relations to zaken that ZGW does not have yet
   (heeftAlsHoofdzaak, heeftAlsDeelzaak, heeftBetrekkingOpAndere) are left out of the message and those zaken
   are **queued** in the ledger (and, in the gateway, in the outbox) for back-fill of their own; when they are
   copied later, their own answer carries the relation back to this zaak, which is in ZGW by then;
3. ``geefLijstZaakdocumenten``, then per document ``geefZaakdocumentLezen``: the answer is streamed into a spool
   and from there, base64 piece by piece, into the voegZaakdocumentToe the gateway handles (flat memory), which
   creates the informatieobject (in bestandsdelen above the backend's size), the zaakinformatieobject and the
   registry's document → zaak link. Documents ZGW already has (by identificatie) are skipped, so a resumed copy
   does not duplicate them;
4. the besluiten the zaak leads to (``leidtTot`` in the geefZaakdetails answer): per besluit ``geefBesluitdetails``
   (ZDS 1.2; a ZDS 1.1-only legacy faults and the ``leidtTot`` relation's own fields are used), then a
   ``voegBesluitToe`` the gateway handles, with the besluit's documents (``isVastgelegdIn``) — copied with the zaak's
   documents before it (a besluit document that is not one of the zaak's is copied too, and linked to the zaak);
5. the ledger row: ZGW URL, when, the source digest (``digest.py``), documents n/m, bytes, outcome.

All or nothing: each written part is a step of the existing ``UndoLog`` (``operations/compensation.py``) whose undo
deletes it (a document's zaakinformatieobjecten, then the document; the zaak, which removes its rollen, statussen
and resultaat with it), so a copy that fails halfway leaves ZGW as it was and the ledger says ``failed`` and why.
A copy whose process dies halfway leaves ``copying``: ``interrupted.py`` undoes it (the recovery sweep,
``stuf-bridge recover run``, the start of ``stuf-bridge migrate``), and the next copy of the zaak clears what it
finds too.
With ``documents="later"`` (back-fill on the client's path) the zaak is the unit: it is committed with its record,
and its documents follow through the outbox (``copy_documents``), retried there until they are all in.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from lxml import etree

from ..content import Outbound
from ..errors import ProcessingError, StepFailed
from ..gateway import Gateway
from ..operations.compensation import UndoLog
from ..outbox.worker import reply_fault
from ..pipeline.answer import answer_reply
from ..pipeline.exchange import Reply
from ..recovery.service import journal_for
from ..soap.envelope import SoapVersion, envelope
from ..store import Store
from ..stuf.namespaces import STUF, ZDS, ZKN
from ..stuf.registry import Service
from ..stuf.stuurgegevens import Systeem
from ..zgw import ZgwClients
from . import store as ledger_store
from .digest import digest, normalise
from .interrupted import clear_zaak, lock_owner, take_lock, unresolved_parts
from .source import ACTIONS_12, LegacyDocument, LegacySource, LegacyZaak, z
from .store import LedgerEntry, MigrationStore
from .zaaktypen import ZaaktypeResolver, ZaaktypeUnresolved

log = structlog.get_logger(__name__)

JSON = dict[str, Any]
Documents = Literal["now", "later"]

ACTIONS = "http://www.egem.nl/StUF/sector/zkn/0310/"
CONTENT_TYPE = "text/xml; charset=utf-8"
#: Relations to other zaken: left out when the other zaak is not in ZGW yet (it is queued instead).
ZAAK_RELATIONS = ("heeftAlsHoofdzaak", "heeftAlsDeelzaak", "heeftBetrekkingOpAndere")
#: Parts of a zakLa01 object a creeerZaak does not carry (documents come by their own messages; besluiten through
#: their own operations).
NOT_IN_CREEER = ("heeftRelevant", "leidtTot")
#: Parts of an edcLa01 object a voegZaakdocumentToe does not carry: legacy's own URL of the document.
NOT_IN_VOEG = ("link", "dct.categorie")
#: Parts of a status in an answer that a kennisgeving does not carry.
NOT_IN_HEEFT = ("indicatieLaatsteStatus",)
#: The elements of a besluit (BSL) that voegBesluitToe carries, in schema order; the rest of a geefBesluitdetails
#: answer (bst.categorie, bst.reactietermijn, isUitkomstVan, ...) is the besluittype's or the answer's own.
IN_VOEG_BESLUIT = ("identificatie", "bst.omschrijving", "datumBeslissing", "toelichting", "ingangsdatumWerking",
                   "einddatumWerking", "vervalreden", "datumPublicatie", "datumVerzending", "datumUiterlijkeReactie",
                   "tijdvakGeldigheid", "isVastgelegdIn")
LOCK_SECONDS = 900.0  # renewed between documents: a copy of many large documents keeps its lock
LOCK_WAIT_SECONDS = 600.0


class CopyFailed(Exception):
    """A copy that could not be made (and was undone); ``str()`` says why, in the fault's words."""


@dataclass
class CopyResult:
    identificatie: str
    outcome: str  # done | documents-pending | present | failed | not-in-legacy
    zgw_url: str | None = None
    reason: str | None = None
    documents_total: int = 0
    documents_done: int = 0
    bytes: int = 0
    related: list[str] = field(default_factory=list)
    besluiten: int = 0  # besluiten copied
    copied: bool = False  # this call made the copy (False: it was there already, or it failed)
    source_digest: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome in (ledger_store.DONE, ledger_store.PRESENT, ledger_store.DOCUMENTS_PENDING)


class ZaakCopier:
    """Copies zaken from legacy into ZGW. ``replica``: a gateway on the same store and backends that translates
    every message (``replica_gateway``); ``on_documents_later`` / ``on_related`` put a zaak's documents, or a
    related zaak, in the outbox (the gateway sets them; the ``migrate`` command works through its own list)."""

    def __init__(self, *, source: LegacySource, zgw: ZgwClients, replica: Gateway, store: Store,
                 identity: Systeem, on_documents_later: Callable[[str], Awaitable[None]] | None = None,
                 on_related: Callable[[str], Awaitable[None]] | None = None,
                 lock_seconds: float = LOCK_SECONDS, lock_wait_seconds: float = LOCK_WAIT_SECONDS,
                 zaaktype_codes: dict[str, str] | None = None):
        self.source = source
        self.zaaktypen = ZaaktypeResolver(zgw, zaaktype_codes)  # legacy's (maybe cut) code → ZGW's identificatie
        self.zgw = zgw
        self.replica = replica
        self.store = store
        self.ledger = MigrationStore(store)
        self.identity = identity
        self.on_documents_later = on_documents_later
        self.on_related = on_related
        self.lock_seconds = lock_seconds
        self.lock_wait_seconds = lock_wait_seconds
        self.owner = lock_owner()
        self._local: dict[str, asyncio.Lock] = {}
        self.progress: Callable[[int], None] | None = None  # bytes of document content copied, as they pass

    # --- the lock -----------------------------------------------------------------------------------------------

    async def _acquire(self, identificatie: str) -> None:
        deadline = time.monotonic() + self.lock_wait_seconds
        delay = 0.05
        # free, lapsed, or its holder's process on this machine is gone (interrupted.py)
        while not await take_lock(self.ledger, identificatie, self.owner, self.lock_seconds):
            if time.monotonic() > deadline:
                raise CopyFailed(f"zaak {identificatie} wordt al {self.lock_wait_seconds:g} s door een ander proces "
                                 "gekopieerd (back-fill-slot)")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _locked(self, identificatie: str, work: Callable[[], Awaitable[CopyResult]]) -> CopyResult:
        local = self._local.setdefault(identificatie, asyncio.Lock())
        try:
            async with local:  # this process's messages for the zaak wait here, not on the store
                await self._acquire(identificatie)
                try:
                    return await work()
                finally:
                    await asyncio.shield(self.ledger.unlock(identificatie, self.owner))
        finally:
            if not local.locked() and self._local.get(identificatie) is local:
                del self._local[identificatie]

    # --- looking in ZGW -----------------------------------------------------------------------------------------

    async def zgw_zaak(self, identificatie: str) -> JSON | None:
        found = await self.zgw.zaken.list("zaken", {"identificatie": identificatie}, max_items=10)
        return next((zaak for zaak in found if zaak.get("identificatie") == identificatie), None)

    async def zgw_document(self, identificatie: str) -> JSON | None:
        found = await self.zgw.documenten.list("enkelvoudiginformatieobjecten", {"identificatie": identificatie},
                                               max_items=10)
        return next((eio for eio in found if eio.get("identificatie") == identificatie), None)

    async def zgw_besluit(self, identificatie: str) -> JSON | None:
        found = await self.zgw.besluiten.list("besluiten", {"identificatie": identificatie}, max_items=10)
        return next((besluit for besluit in found if besluit.get("identificatie") == identificatie), None)

    # --- copying ------------------------------------------------------------------------------------------------

    async def copy(self, identificatie: str, *, documents: Documents = "now", origin: str = "migrate",
                   replace: bool = False) -> CopyResult:
        """Copy the zaak unless ZGW has it; ``replace``: delete ZGW's copy first (``reconcile --repair``)."""
        started = time.monotonic()
        result = await self._locked(identificatie, lambda: self._copy(identificatie, documents, origin, replace))
        result.seconds = time.monotonic() - started
        return result

    async def _copy(self, identificatie: str, documents: Documents, origin: str, replace: bool) -> CopyResult:
        entry = await self.ledger.entry(identificatie)
        if entry is not None and entry.outcome == ledger_store.COPYING:  # a copy whose process died (interrupted.py)
            parts = await unresolved_parts(self.store, journal_for(self.store))
            if parts:  # its parts' intents must be settled against what it made, not against a new copy's objects
                return CopyResult(identificatie, ledger_store.FAILED, reason=(
                    f"een eerdere, afgebroken kopie van zaak {identificatie} wordt nog hersteld "
                    f"({len(parts)} bericht(en) in het stappenjournaal); later opnieuw"))
        existing = await self.zgw_zaak(identificatie)
        if existing is not None and (replace or (entry is not None and entry.outcome == ledger_store.COPYING)):
            # a repair, or what a copy whose process died left behind: cleared, then copied anew
            await self._clear(existing)
            existing = None
        if existing is not None:
            if entry is not None and entry.outcome == ledger_store.DOCUMENTS_PENDING and documents == "now":
                return await self._documents_of(identificatie, entry, str(existing["url"]))
            if entry is not None and entry.outcome in (ledger_store.DONE, ledger_store.DOCUMENTS_PENDING):
                return CopyResult(identificatie, entry.outcome, entry.zgw_url, None, entry.documents_total,
                                  entry.documents_done, entry.bytes)
            await self.ledger.record(LedgerEntry(identificatie, ledger_store.PRESENT, origin, zgw_url=existing["url"],
                                                 attempts=(entry.attempts if entry else 0)))
            return CopyResult(identificatie, ledger_store.PRESENT, str(existing["url"]))
        attempts = (entry.attempts if entry else 0) + 1
        # the zaak and its list of documents are asked at once: two round trips to legacy in the time of one
        listing = asyncio.ensure_future(self.source.documents(identificatie)) if documents == "now" else None
        try:
            zaak = await self.source.zaak(identificatie)
        except BaseException:
            await _settled(listing)
            raise
        if zaak is None:
            await _settled(listing)
            reason = "het legacy-zaaksysteem kent deze zaak niet"
            await self.ledger.record(LedgerEntry(identificatie, ledger_store.FAILED, origin, reason=reason,
                                                 attempts=attempts))
            return CopyResult(identificatie, "not-in-legacy", reason=reason)
        try:
            zaaktype = await self.zaaktypen.resolve(zaak)
        except ZaaktypeUnresolved as exc:
            await _settled(listing)
            reason = str(exc)
            log.warning("zaak_copy_failed", zaak=identificatie, reason=reason)
            await self.ledger.record(LedgerEntry(identificatie, ledger_store.FAILED, origin, zaak.zaaktype,
                                                 reason=reason, attempts=attempts))
            return CopyResult(identificatie, ledger_store.FAILED, reason=reason)
        names = await listing if listing is not None else []
        await self.ledger.record(LedgerEntry(identificatie, ledger_store.COPYING, origin, zaaktype,
                                             attempts=attempts))
        undo = UndoLog()
        result = CopyResult(identificatie, ledger_store.FAILED)
        try:
            async with undo:
                result = await self._write(zaak, undo, documents, names, zaaktype)
        except (StepFailed, CopyFailed) as exc:
            reason = _reason(exc)
            log.warning("zaak_copy_failed", zaak=identificatie, reason=reason)
            await self.ledger.record(LedgerEntry(identificatie, ledger_store.FAILED, origin, zaaktype,
                                                 reason=reason, attempts=attempts,
                                                 documents_total=result.documents_total))
            return CopyResult(identificatie, ledger_store.FAILED, reason=reason,
                              documents_total=result.documents_total)
        now = dt.datetime.now(dt.UTC)
        await self.ledger.record(LedgerEntry(
            identificatie, result.outcome, origin, zaaktype, result.zgw_url, None,
            result.source_digest, result.documents_total, result.documents_done, result.bytes, attempts, now))
        for related in result.related:
            if await self.ledger.queue(related, "related") and self.on_related is not None:
                await self.on_related(related)
        if result.outcome == ledger_store.DOCUMENTS_PENDING and self.on_documents_later is not None:
            await self.on_documents_later(identificatie)
        log.info("zaak_copied", zaak=identificatie, outcome=result.outcome, documents=result.documents_done,
                 bytes=result.bytes, besluiten=result.besluiten, origin=origin)
        result.copied = True
        return result

    async def _write(self, zaak: LegacyZaak, undo: UndoLog, documents: Documents, names: list[str],
                     zaaktype: str | None) -> CopyResult:
        identificatie = zaak.identificatie
        obj, related = await self._creeer_object(zaak)
        code = obj.find(f"{z('isVan')}/{z('gerelateerde')}/{z('code')}")
        if code is not None and zaaktype:
            code.text = zaaktype  # ZGW's whole identificatie, where legacy's answer had it cut to 10 characters
        message = self._creeer(obj, zaak)
        created = await undo.step("creeerZaak", self._send_zaak(message, identificatie), undo=self._delete_zaak)
        url = str(created["url"])
        result = CopyResult(identificatie, ledger_store.DOCUMENTS_PENDING, url, related=related,
                            source_digest=source_digest(zaak))
        if documents == "later":
            return result
        besluiten = await self._besluiten(zaak)
        extra = [name for besluit in besluiten for name in _besluit_documents(besluit) if name not in names]
        names = [*names, *dict.fromkeys(extra)]
        result.documents_total = len(names)
        for name in names:
            size = await undo.step(f"document {name}", self._copy_document(name, identificatie),
                                   undo=self._delete_document)
            result.documents_done += 1
            result.bytes += size[1]
            await self.ledger.renew_lock(identificatie, self.owner, self.lock_seconds)
        for besluit in besluiten:
            await undo.step(f"besluit {_text(besluit, 'identificatie')}", self._copy_besluit(besluit, identificatie),
                            undo=self._delete_besluit)
            result.besluiten += 1
        result.outcome = ledger_store.DONE
        return result

    async def copy_documents(self, identificatie: str) -> CopyResult:
        """The documents of a zaak copied with ``documents="later"`` (the outbox's back-fill item): the ones ZGW
        lacks; raises ``CopyFailed`` when one fails (the outbox tries again later)."""
        async def work() -> CopyResult:
            entry = await self.ledger.entry(identificatie)
            existing = await self.zgw_zaak(identificatie)
            if existing is None:
                raise CopyFailed(f"zaak {identificatie} staat niet in ZGW; de documenten kunnen er niet bij")
            if parts := await unresolved_parts(self.store, journal_for(self.store)):
                # an earlier attempt died mid-document: its part is settled first (against the document it made)
                raise CopyFailed(f"een afgebroken kopie wordt nog hersteld ({len(parts)} bericht(en) in het "
                                 "stappenjournaal); later opnieuw")
            entry = entry or LedgerEntry(identificatie, ledger_store.DOCUMENTS_PENDING, "backfill")
            if entry.outcome == ledger_store.DONE:
                return CopyResult(identificatie, entry.outcome, entry.zgw_url, None, entry.documents_total,
                                  entry.documents_done, entry.bytes)
            return await self._documents_of(identificatie, entry, str(existing["url"]))

        return await self._locked(identificatie, work)

    async def _documents_of(self, identificatie: str, entry: LedgerEntry, url: str) -> CopyResult:
        names, zaak = await asyncio.gather(self.source.documents(identificatie), self.source.zaak(identificatie))
        besluiten = await self._besluiten(zaak) if zaak is not None else []
        extra = [name for besluit in besluiten for name in _besluit_documents(besluit) if name not in names]
        names = [*names, *dict.fromkeys(extra)]
        done, size_total = 0, 0
        for name in names:
            existing = await self.zgw_document(name)
            if existing is None:
                try:
                    _, size = await self._copy_document(name, identificatie)
                except StepFailed as exc:
                    entry.reason = _reason(exc)
                    entry.documents_total, entry.documents_done = len(names), done
                    await self.ledger.record(entry)
                    raise CopyFailed(entry.reason) from exc
                size_total += size
            else:
                size_total += int(existing.get("bestandsomvang") or 0)
            done += 1
            await self.ledger.renew_lock(identificatie, self.owner, self.lock_seconds)
        for besluit in besluiten:  # the ones ZGW lacks (a retried item may have put some in already)
            if await self.zgw_besluit(_text(besluit, "identificatie")) is None:
                try:
                    await self._copy_besluit(besluit, identificatie)
                except CopyFailed as exc:
                    entry.reason = str(exc)
                    await self.ledger.record(entry)
                    raise
        entry.outcome, entry.zgw_url, entry.reason = ledger_store.DONE, url, None
        entry.documents_total, entry.documents_done, entry.bytes = len(names), done, size_total
        entry.migrated_at = entry.migrated_at or dt.datetime.now(dt.UTC)
        await self.ledger.record(entry)
        return CopyResult(identificatie, ledger_store.DONE, url, None, len(names), done, size_total)

    # --- the zaak -----------------------------------------------------------------------------------------------

    async def _creeer_object(self, zaak: LegacyZaak) -> tuple[etree._Element, list[str]]:
        obj = deepcopy(zaak.object)
        related: list[str] = []
        for name in NOT_IN_CREEER:
            for el in obj.findall(z(name)):
                obj.remove(el)
        for name in ZAAK_RELATIONS:
            for el in obj.findall(z(name)):
                other = (el.findtext(f"{z('gerelateerde')}/{z('identificatie')}") or "").strip()
                if other and await self.zgw_zaak(other) is None:
                    obj.remove(el)
                    related.append(other)
        for heeft in obj.iterfind(z("heeft")):
            for name in NOT_IN_HEEFT:
                for el in heeft.findall(z(name)):
                    heeft.remove(el)
        _kennisgeving(obj)
        return obj, related

    def _creeer(self, obj: etree._Element, zaak: LegacyZaak) -> etree._Element:
        message = etree.Element(z("zakLk01"), nsmap={"ZKN": ZKN, "StUF": STUF})
        message.append(self._stuurgegevens("Lk01", "ZAK", zaak.organisatie))
        parameters = etree.SubElement(message, z("parameters"))
        etree.SubElement(parameters, f"{{{STUF}}}mutatiesoort").text = "T"
        etree.SubElement(parameters, f"{{{STUF}}}indicatorOvername").text = "V"
        message.append(obj)
        return message

    async def _send_zaak(self, message: etree._Element, identificatie: str) -> JSON:
        reply = await self._send(envelope(SoapVersion.SOAP11, message), "creeerZaak_Lk01")
        _check(reply, f"creeerZaak {identificatie}")
        created = await self.zgw_zaak(identificatie)
        if created is None:
            raise CopyFailed(f"creeerZaak {identificatie}: beantwoord, maar de zaak staat niet in ZGW")
        return created

    async def _delete_zaak(self, zaak: JSON) -> None:
        await self.zgw.zaken.delete(str(zaak["url"]))

    async def _clear(self, zaak: JSON) -> None:
        """Delete a zaak from ZGW with its besluiten and the documents linked to it (which the copy had created)."""
        await clear_zaak(self.zgw, zaak)

    # --- besluiten -------------------------------------------------------------------------------------------------

    async def _besluiten(self, zaak: LegacyZaak) -> list[etree._Element]:
        """The BSL objects of the zaak's besluiten (``leidtTot``), each as geefBesluitdetails gives it, or, when
        legacy does not answer that ZDS 1.2 question, the relation's own ``gerelateerde``."""
        found: list[etree._Element] = []
        for relation in zaak.object.iterfind(z("leidtTot")):
            gerelateerde = relation.find(z("gerelateerde"))
            if gerelateerde is None:
                continue
            name = _text(gerelateerde, "identificatie")
            if not name or any(_text(b, "identificatie") == name for b in found):
                continue
            besluit = await self.source.besluit(name)
            found.append(besluit if besluit is not None else gerelateerde)
        return found

    async def _copy_besluit(self, besluit: etree._Element, zaak: str) -> JSON:
        name = _text(besluit, "identificatie")
        reply = await self._send(envelope(SoapVersion.SOAP11, self._voeg_besluit(besluit, zaak)),
                                 "voegBesluitToe_Di01", actions=ACTIONS_12)
        _check(reply, f"voegBesluitToe {name}")
        created = await self.zgw_besluit(name)
        if created is None:
            raise CopyFailed(f"voegBesluitToe {name}: beantwoord, maar het besluit staat niet in ZGW")
        return created

    def _voeg_besluit(self, besluit: etree._Element, zaak: str) -> etree._Element:
        obj = etree.Element(z("besluit"), {f"{{{STUF}}}entiteittype": "BSL", f"{{{STUF}}}verwerkingssoort": "T"})
        for name in IN_VOEG_BESLUIT:
            for el in besluit:
                if isinstance(el.tag, str) and etree.QName(el).localname == name:
                    obj.append(deepcopy(el))
        for relation in obj.iterfind(z("isVastgelegdIn")):
            document = _text(relation.find(z("gerelateerde")), "identificatie")
            relation.clear()
            if not document:
                obj.remove(relation)
                continue
            relation.attrib.update({f"{{{STUF}}}entiteittype": "BSLEDC", f"{{{STUF}}}verwerkingssoort": "T"})
            gerelateerde = etree.SubElement(relation, z("gerelateerde"), {f"{{{STUF}}}entiteittype": "EDC",
                                                                          f"{{{STUF}}}verwerkingssoort": "I"})
            etree.SubElement(gerelateerde, z("identificatie")).text = document
        message = etree.Element(f"{{{ZDS}}}voegBesluitToe_Di01", nsmap={"ZDS": ZDS, "ZKN": ZKN, "StUF": STUF})
        message.append(self._stuurgegevens("Di01", None, None, functie="voegBesluitToe"))
        wrapper = etree.SubElement(message, z("object"))
        wrapper.append(obj)
        zaak_el = etree.SubElement(wrapper, z("zaak"), {f"{{{STUF}}}entiteittype": "ZAK",
                                                       f"{{{STUF}}}verwerkingssoort": "T"})
        etree.SubElement(zaak_el, z("identificatie")).text = zaak
        return message

    async def _delete_besluit(self, besluit: JSON) -> None:
        for link in await self.zgw.besluiten.list("besluitinformatieobjecten", {"besluit": besluit["url"]}):
            await self.zgw.besluiten.delete(str(link["url"]))
        await self.zgw.besluiten.delete(str(besluit["url"]))

    # --- a document ---------------------------------------------------------------------------------------------

    async def _copy_document(self, name: str, zaak: str) -> tuple[JSON, int]:
        """(the informatieobject, its size). A document ZGW already has is linked, not copied again."""
        existing = await self.zgw_document(name)
        if existing is not None:
            links = await self.zgw.zaken.list("zaakinformatieobjecten", {"informatieobject": existing["url"]})
            if links:
                raise CopyFailed(f"document {name} staat al in ZGW (bij een andere zaak?); niet nog eens gekopieerd")
            # linked to no zaak: what a copy killed between the document and its zaakinformatieobject left behind
            log.warning("orphan_document_of_interrupted_copy", document=name, zaak=zaak, url=existing["url"])
            await self.zgw.documenten.delete(str(existing["url"]))
        document = await self.source.document(name)
        if document is None:
            raise CopyFailed(f"document {name}: het legacy-zaaksysteem geeft het niet (geefZaakdocumentLezen)")
        with document:
            message, outbound = self._voeg(document, zaak)
            reply = await answer_reply(SoapVersion.SOAP11, message, outbound)
            body: bytes | AsyncIterator[bytes] = reply.stream if reply.stream is not None else reply.body
            answer = await self._send(body, "voegZaakdocumentToe_Lk01")
            _check(answer, f"voegZaakdocumentToe {name}")
            size = document.size
        if self.progress is not None:
            self.progress(size)
        await self.store.link_document(name, zaak)
        created = await self.zgw_document(name)
        if created is None:
            raise CopyFailed(f"voegZaakdocumentToe {name}: beantwoord, maar het document staat niet in ZGW")
        return created, size

    def _voeg(self, document: LegacyDocument, zaak: str) -> tuple[etree._Element, list[Outbound]]:
        obj = deepcopy(document.object)
        for name in NOT_IN_VOEG:
            for el in obj.findall(z(name)):
                obj.remove(el)
        _kennisgeving(obj)
        for old in obj.findall(z("isRelevantVoor")):
            obj.remove(old)
        relevant = etree.SubElement(obj, z("isRelevantVoor"), {f"{{{STUF}}}entiteittype": "EDCZAK",
                                                               f"{{{STUF}}}verwerkingssoort": "T"})
        gerelateerde = etree.SubElement(relevant, z("gerelateerde"), {f"{{{STUF}}}entiteittype": "ZAK",
                                                                      f"{{{STUF}}}verwerkingssoort": "I"})
        etree.SubElement(gerelateerde, z("identificatie")).text = zaak
        outbound: list[Outbound] = []
        inhoud = obj.find(z("inhoud"))
        if inhoud is not None:
            inhoud.text = None
            content = document.content
            if content is not None and content.size:
                outbound.append(Outbound(inhoud, lambda: content.chunks(), content.size))
        message = etree.Element(z("edcLk01"), nsmap={"ZKN": ZKN, "StUF": STUF})
        message.append(self._stuurgegevens("Lk01", "EDC", None))
        parameters = etree.SubElement(message, z("parameters"))
        etree.SubElement(parameters, f"{{{STUF}}}mutatiesoort").text = "T"
        etree.SubElement(parameters, f"{{{STUF}}}indicatorOvername").text = "V"
        message.append(obj)
        return message, outbound

    async def _delete_document(self, created: tuple[JSON, int]) -> None:
        eio = created[0]
        links = await self.zgw.zaken.list("zaakinformatieobjecten", {"informatieobject": eio["url"]})
        for link in links:
            await self.zgw.zaken.delete(str(link["url"]))
        await self.zgw.documenten.delete(str(eio["url"]))

    # --- messages -----------------------------------------------------------------------------------------------

    def _stuurgegevens(self, berichtcode: str, entiteittype: str | None, organisatie: str | None, *,
                       functie: str | None = None) -> etree._Element:
        sg = etree.Element(z("stuurgegevens"))
        etree.SubElement(sg, f"{{{STUF}}}berichtcode").text = berichtcode
        zender = etree.SubElement(sg, f"{{{STUF}}}zender")
        org = self.identity.organisatie or organisatie
        if org:
            etree.SubElement(zender, f"{{{STUF}}}organisatie").text = org
        etree.SubElement(zender, f"{{{STUF}}}applicatie").text = self.identity.applicatie or "stuf-bridge"
        ontvanger = etree.SubElement(sg, f"{{{STUF}}}ontvanger")
        if org:
            etree.SubElement(ontvanger, f"{{{STUF}}}organisatie").text = org
        etree.SubElement(ontvanger, f"{{{STUF}}}applicatie").text = self.identity.applicatie or "stuf-bridge"
        etree.SubElement(sg, f"{{{STUF}}}referentienummer").text = f"mig-{uuid.uuid4().hex}"
        now = dt.datetime.now(dt.UTC)
        etree.SubElement(sg, f"{{{STUF}}}tijdstipBericht").text = now.strftime("%Y%m%d%H%M%S%f")[:17]
        if entiteittype:
            etree.SubElement(sg, f"{{{STUF}}}entiteittype").text = entiteittype
        if functie:
            etree.SubElement(sg, f"{{{STUF}}}functie").text = functie
        return sg

    async def _send(self, body: bytes | AsyncIterator[bytes], action: str, *, actions: str = ACTIONS) -> Reply:
        chunks = _pieces(body) if isinstance(body, bytes) else body
        return await self.replica.handle_stream(Service.ONTVANG_ASYNCHROON, chunks, content_type=CONTENT_TYPE,
                                                soap_action=f'"{actions}{action}"')


def _kennisgeving(obj: etree._Element) -> None:
    """An answer's object as a kennisgeving's: verwerkingssoort T on the object, its relations and the objects they
    bring along, I on a relation's gerelateerde that only points at what exists (zaaktype, statustype)."""
    obj.set(f"{{{STUF}}}verwerkingssoort", "T")
    for relation in obj:
        if not isinstance(relation.tag, str) or not relation.get(f"{{{STUF}}}entiteittype"):
            continue
        relation.set(f"{{{STUF}}}verwerkingssoort", "T")
        for gerelateerde in relation.iterfind(z("gerelateerde")):
            if gerelateerde.get(f"{{{STUF}}}entiteittype"):
                gerelateerde.set(f"{{{STUF}}}verwerkingssoort", "I")
            for entity in gerelateerde:
                if isinstance(entity.tag, str) and entity.get(f"{{{STUF}}}entiteittype"):
                    entity.set(f"{{{STUF}}}verwerkingssoort", "T")


async def _settled(task: asyncio.Future[Any] | None) -> None:
    """Let a look-up whose answer is no longer wanted end (its failure included) without leaving it dangling."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


def _text(el: etree._Element | None, name: str) -> str:
    return (el.findtext(z(name)) or "").strip() if el is not None else ""


def _besluit_documents(besluit: etree._Element) -> list[str]:
    """The identificaties of the documents a besluit is recorded in (``isVastgelegdIn``)."""
    return [name for name in (_text(rel.find(z("gerelateerde")), "identificatie")
                              for rel in besluit.iterfind(z("isVastgelegdIn"))) if name]


def source_digest(zaak: LegacyZaak) -> str:
    return digest(normalise(zaak.object))


def _check(reply: Reply, what: str) -> None:
    if reply.status == 200:
        return
    fault = reply_fault(reply.body)
    if fault is None:
        raise CopyFailed(f"{what}: HTTP {reply.status}")
    detail = f" ({fault.details})" if fault.details else ""
    raise CopyFailed(f"{what}: {fault.code or '-'} {fault.omschrijving or ''}{detail}".strip())


def _reason(exc: BaseException) -> str:
    if isinstance(exc, StepFailed):
        return exc.summary(_reason(exc.cause))
    if isinstance(exc, ProcessingError):
        return f"{exc.omschrijving}: {exc.details or ''}".rstrip(": ")
    return str(exc) or type(exc).__name__


async def _pieces(data: bytes, size: int = 1 << 20) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]
