"""A zaak as a subscriber knows it, and the next kennisgeving that brings it up to date.

The current state is read from ZGW (:func:`read_state`): the zaak, its zaaktype, its statussen (oldest first), rollen,
zaakobjecten, zaakeigenschappen, besluiten and the documents linked to it. What a subscriber acknowledged is kept as
a small JSON snapshot (:func:`snapshot_of`; sealed at rest, ``sealing.py``):

* ``zaak`` — the ZAK object as it was sent, relations included (its XML: a W's old object is exactly what the
  subscriber got before),
* ``statussen`` — the status URLs it was told about, ``documenten`` — the document URLs, ``documentversies`` — per
  document its EDC metadata as sent, its versie and, once its content was sent, that content's ``sha256`` and
  ``size``, ``besluiten`` — per besluit its BSL object as sent (stuf-zkn),
* ``identificatie`` and ``zaaktype``.

:func:`next_message` compares the two and returns the first kennisgeving of the difference (or None), with the
snapshot as it will be once that one is acknowledged (the order is in its docstring). Several notifications about one
zaak therefore come down to the same difference, whatever their order or number. A :class:`Planner` writes the
objects in one ZDS dialect; ``Planner.for_(subscriber)`` gives the one of that subscriber.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from lxml import etree

from ..mapping import Mappings
from ..mapping.results import MappingContext
from ..stuf.namespaces import STUF, Dialect
from ..zgw import ZgwClients
from ..zgw.errors import ZgwClientError, ZgwNotFound
from .config import Profile, SubscriberSettings
from .messages import (
    Kennisgeving,
    Sender,
    envelope,
    inhoud_placeholder,
    nil,
    set_verwerkingssoort,
    stuf,
    update_zaakdocument,
    voeg_besluit_toe,
    zkn,
)

JSON = dict[str, Any]
#: a document's content (its inhoud URL) -> its sha256 (hex) and size, read as a stream
Digest = Callable[[str], Awaitable[tuple[str, int]]]
log = structlog.get_logger(__name__)
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XMIME = "http://www.w3.org/2005/05/xmlmime"
#: the elements of a BSL-kennisgeving (bslLk01 object) and of its kerngegevens (leidtTot/gerelateerde)
BSL_KENNISGEVING = ("identificatie", "bst.omschrijving", "datumBeslissing", "toelichting", "ingangsdatumWerking",
                    "einddatumWerking", "vervalreden", "datumPublicatie", "datumVerzending", "datumUiterlijkeReactie")
BSL_KERN = ("identificatie", "bst.omschrijving", "datumBeslissing")


def _xml(element: etree._Element) -> str:
    return etree.tostring(element).decode()


def _keep(element: etree._Element, names: tuple[str, ...]) -> None:
    for child in list(element):
        if isinstance(child.tag, str) and etree.QName(child).localname not in names:
            element.remove(child)


@dataclass
class ZaakState:
    zaak: JSON
    zaaktype: JSON
    statussen: list[JSON]
    documenten: list[tuple[JSON, JSON]]  # (zaakinformatieobject, enkelvoudiginformatieobject)
    rollen: list[JSON] = field(default_factory=list)
    besluiten: list[JSON] = field(default_factory=list)  # each with _expand.besluittype, oldest first
    zaakobjecten: list[JSON] = field(default_factory=list)
    eigenschappen: list[JSON] = field(default_factory=list)  # zaakeigenschappen (naam, waarde)

    @property
    def identificatie(self) -> str:
        return str(self.zaak.get("identificatie") or "")

    @property
    def zaaktype_code(self) -> str | None:
        code = self.zaaktype.get("identificatie")
        return str(code) if code else None


async def read_state(zgw: ZgwClients, zaak_url: str, *, documents: bool = True) -> ZaakState | None:
    """The zaak as ZGW has it now; None when it does not exist (any more)."""
    try:
        zaak = await zgw.zaken.get(zaak_url)
    except ZgwNotFound:
        return None
    fetched: list[Any] = list(await asyncio.gather(
        zgw.catalogue.zaaktype_by_url(str(zaak["zaaktype"])),
        zgw.zaken.list("statussen", {"zaak": zaak["url"]}),
        zgw.zaken.list("zaakinformatieobjecten", {"zaak": zaak["url"]}) if documents else _nothing(),
        zgw.zaken.list("rollen", {"zaak": zaak["url"]}),
        _besluiten(zgw, str(zaak["url"])),
        zgw.zaken.list("zaakobjecten", {"zaak": zaak["url"]}),
        zgw.zaken.list(f"{zaak['url']}/zaakeigenschappen"),
    ))
    zaaktype: JSON = fetched[0]
    statussen: list[JSON] = fetched[1]
    zios: list[JSON] = fetched[2]
    rollen: list[JSON] = fetched[3]
    besluiten: list[JSON] = fetched[4]
    zaakobjecten: list[JSON] = fetched[5]
    eigenschappen: list[JSON] = fetched[6]
    statustypen = {st.get("url"): st for st in await zgw.catalogue.statustypen(zaaktype)}
    expanded = []
    for status in sorted(statussen, key=lambda s: (str(s.get("datumStatusGezet")), str(s.get("url")))):
        statustype = statustypen.get(status.get("statustype")) or await zgw.catalogue.catalogi.get(status["statustype"])
        keys = {k: statustype.get(k) for k in ("omschrijving", "volgnummer", "omschrijvingGeneriek")}
        expanded.append({**status, "_expand": {"statustype": keys}})
    zios = sorted((z for z in zios if z.get("zaak") in (None, zaak["url"])),
                  key=lambda z: (str(z.get("registratiedatum")), str(z.get("url"))))
    eios = await asyncio.gather(*(zgw.documenten.get(str(z["informatieobject"])) for z in zios))
    resultaat: JSON = {}
    if zaak.get("resultaat"):
        found = await zgw.zaken.get(str(zaak["resultaat"]))
        resultaattype = await zgw.catalogue.catalogi.get(str(found["resultaattype"]))
        resultaat = {**found, "_expand": {"resultaattype": {"omschrijving": resultaattype.get("omschrijving")}}}
    rollen = sorted(rollen, key=lambda r: (str(r.get("registratiedatum")), str(r.get("url"))))
    zaakobjecten = sorted((z for z in zaakobjecten if z.get("zaak") in (None, zaak["url"])),
                          key=lambda z: str(z.get("url")))
    eigenschappen = sorted(eigenschappen, key=lambda e: (str(e.get("naam")), str(e.get("url"))))
    return ZaakState({**zaak, "_resultaat": resultaat}, zaaktype, expanded, list(zip(zios, eios, strict=True)),
                     rollen, besluiten, zaakobjecten, eigenschappen)


async def _nothing() -> list[JSON]:
    return []


async def _besluiten(zgw: ZgwClients, zaak_url: str) -> list[JSON]:
    """The zaak's besluiten, oldest first, each with its besluittype in ``_expand`` (as geefLijstBesluiten)."""
    try:
        found = await zgw.besluiten.list("besluiten", {"zaak": zaak_url})
    except ZgwClientError as exc:  # no rights on the Besluiten API: the rest of the zaak still goes out
        log.warning("kennisgeving_besluiten_unreadable", zaak=zaak_url, error=str(exc))
        return []
    besluiten = [b for b in found if b.get("zaak") == zaak_url]
    besluittypen = await asyncio.gather(*(zgw.catalogue.besluittype_by_url(str(b["besluittype"]))
                                          for b in besluiten))
    pairs = sorted(zip(besluiten, besluittypen, strict=True),
                   key=lambda pair: (str(pair[0].get("datum")), str(pair[0].get("identificatie"))))
    return [{**besluit, "_expand": {"besluittype": besluittype}} for besluit, besluittype in pairs]


class Planner:
    """Builds the kennisgevingen for one subscriber from the mappings (the same ones that answer geefZaakdetails)."""

    def __init__(self, mappings: Mappings, sender: Sender, dialect: Dialect = Dialect.ZDS11):
        self.mappings = mappings
        self.sender = sender
        self.dialect = dialect
        self.context = MappingContext(dialect=dialect)
        self._siblings: dict[Dialect, Planner] = {dialect: self}

    def for_(self, subscriber: SubscriberSettings) -> Planner:
        """The planner of the subscriber's dialect (its objects as ZDS 1.1 or 1.2 write them)."""
        dialect = subscriber.dialect
        if dialect not in self._siblings:
            sibling = Planner(self.mappings, self.sender, dialect)
            sibling._siblings = self._siblings
            self._siblings[dialect] = sibling
        return self._siblings[dialect]

    # --- objects ----------------------------------------------------------------------------------------------
    def zaak_object(self, state: ZaakState) -> etree._Element:
        """The ZAK object with the zaak's own attributes, its zaaktype (isVan) and resultaat."""
        zaak = state.zaak
        expand: JSON = {"zaaktype": {"identificatie": state.zaaktype.get("identificatie"),
                                     "omschrijving": state.zaaktype.get("omschrijving")}}
        if zaak.get("_resultaat"):
            expand["resultaat"] = zaak["_resultaat"]
        if state.eigenschappen:  # extraElementen: the zaakeigenschappen
            expand["eigenschappen"] = [{"naam": e.get("naam"), "waarde": e.get("waarde")} for e in state.eigenschappen]
        obj = etree.Element(zkn("object"))
        data = {k: v for k, v in zaak.items() if not k.startswith("_")}
        context = MappingContext(dialect=self.dialect, zaaktype=state.zaaktype_code)
        self.mappings.to_stuf("ZAK", {**data, "_expand": expand}, obj, dialect=self.dialect, context=context)
        for zaakobject in state.zaakobjecten:  # heeftBetrekkingOp (an objectType without StUF form: left out)
            element = etree.Element(zkn("heeftBetrekkingOp"))
            self.mappings.to_stuf("ZAKOBJ", zaakobject, element, dialect=self.dialect, context=context)
            if len(element):
                element.set(stuf("entiteittype"), "ZAKOBJ")
                self.mappings.insert_ordered("ZAK", obj, element)
        for rol in state.rollen:  # heeftAlsInitiator, heeftAlsBelanghebbende, … (a rol without relation: left out)
            self.mappings.rol_to_stuf(rol, obj, dialect=self.dialect, context=context)
        for besluit in state.besluiten:  # leidtTot: the besluit's kerngegevens (ZAKBSL-kennisgeving)
            element = etree.Element(zkn("leidtTot"))
            self.mappings.to_stuf("ZAKBSL", besluit, element, dialect=self.dialect, context=self.context)
            element.set(stuf("entiteittype"), "ZAKBSL")
            for gerelateerde in element.iterchildren(zkn("gerelateerde")):
                _keep(gerelateerde, BSL_KERN)
            for child in list(element):
                if etree.QName(child).localname != "gerelateerde":
                    element.remove(child)
            self.mappings.insert_ordered("ZAK", obj, element)
        obj.set(stuf("entiteittype"), "ZAK")
        return obj

    def besluit_object(self, besluit: JSON) -> etree._Element:
        """The BSL object of a bslLk01 (BSL-kennisgeving: the besluit's own attributes, no relations)."""
        obj = etree.Element(zkn("object"))
        self.mappings.to_stuf("BSL", besluit, obj, dialect=self.dialect, context=self.context)
        _keep(obj, BSL_KENNISGEVING)
        obj.set(stuf("entiteittype"), "BSL")
        return obj

    def edc_metadata(self, eio: JSON, iot: JSON) -> etree._Element:
        """The EDC object of a document without content and relations (what a W compares)."""
        data = {**eio, "_expand": {"informatieobjecttype": {"omschrijving": iot.get("omschrijving"),
                                                            "informatieobjectcategorie":
                                                                iot.get("informatieobjectcategorie")},
                                   "link": eio.get("link") or eio.get("url")}}
        obj = etree.Element(zkn("object"))
        self.mappings.to_stuf("EDC", data, obj, dialect=self.dialect, context=self.context)
        for answer_only in obj.iterchildren(zkn("dct.categorie")):  # in La01 answers only
            obj.remove(answer_only)
        obj.set(stuf("entiteittype"), "EDC")
        return obj

    async def snapshot_of(self, state: ZaakState, iot: Any) -> JSON:
        """The snapshot of a subscriber that knows everything about the zaak as it is now (``iot(url)``: an
        informatieobjecttype, from the catalogue's cache)."""
        return {"identificatie": state.identificatie, "zaaktype": state.zaaktype_code,
                "zaak": _xml(self.zaak_object(state)),
                "statussen": [str(s["url"]) for s in state.statussen],
                "documenten": [str(eio["url"]) for _zio, eio in state.documenten],
                "documentversies": {str(eio["url"]): await self._versie(eio, iot) for _zio, eio in state.documenten},
                "besluiten": {str(b["url"]): _xml(self.besluit_object(b)) for b in state.besluiten}}

    async def _versie(self, eio: JSON, iot: Any) -> JSON:
        """What a subscriber knows of a document: its metadata as sent and its version (content)."""
        return {"edc": _xml(self.edc_metadata(eio, await iot(str(eio["informatieobjecttype"])))),
                "versie": eio.get("versie")}

    def _kern(self, identificatie: str, soort: str) -> etree._Element:
        obj = etree.Element(zkn("object"))
        obj.set(stuf("entiteittype"), "ZAK")
        obj.set(stuf("verwerkingssoort"), soort)
        etree.SubElement(obj, zkn("identificatie")).text = identificatie
        return obj

    def _heeft(self, state: ZaakState, status: JSON) -> etree._Element:
        heeft = etree.Element(zkn("heeft"))
        zaaktype_keys = {"identificatie": state.zaaktype.get("identificatie"),
                         "omschrijving": state.zaaktype.get("omschrijving")}
        data = {**status, "_expand": {**status.get("_expand", {}), "zaaktype": zaaktype_keys}}
        data.setdefault("indicatieLaatstGezetteStatus", status.get("url") == state.zaak.get("status"))
        self.mappings.to_stuf("ZAKSTT", data, heeft, dialect=self.dialect, context=self.context)
        for answer_only in heeft.iterchildren(zkn("indicatieLaatsteStatus")):  # in La01 answers only
            heeft.remove(answer_only)
        heeft.set(stuf("entiteittype"), "ZAKSTT")
        heeft.set(stuf("verwerkingssoort"), "T")
        for gerelateerde in heeft.iterchildren(zkn("gerelateerde")):
            gerelateerde.set(stuf("entiteittype"), "STT")
            gerelateerde.set(stuf("verwerkingssoort"), "I")
        if self.dialect == Dialect.ZDS12:  # required in ZDS 1.2; ZGW's gezetdoor (a rol) is not mapped: unknown
            gezet = nil("isGezetDoor", "ZAKSTTBTR")
            gezet.set(stuf("noValue"), "waardeOnbekend")
            gezet.set(stuf("verwerkingssoort"), "T")
            heeft.append(gezet)
        return heeft

    def _edc_object(self, state: ZaakState, zio: JSON, eio: JSON, iot: JSON, *, content: bool = True,
                    soort: str = "T") -> etree._Element:
        obj = self.edc_metadata(eio, iot)
        obj.set(stuf("verwerkingssoort"), soort)
        if content:
            self._inhoud(obj, eio)
        return self._relevant_voor(state, zio, obj, "T" if soort == "T" else "I")

    def _inhoud(self, obj: etree._Element, eio: JSON) -> None:
        inhoud = etree.Element(zkn("inhoud"), nsmap={"xmime": XMIME})
        inhoud.set(f"{{{XMIME}}}contentType", str(eio.get("formaat") or "application/octet-stream"))
        inhoud.set(stuf("bestandsnaam"), str(eio.get("bestandsnaam") or eio.get("identificatie") or "document"))
        inhoud_placeholder(inhoud)
        self.mappings.insert_ordered("EDC", obj, inhoud)

    def _relevant_voor(self, state: ZaakState, zio: JSON, obj: etree._Element, soort: str) -> etree._Element:
        relation = etree.Element(zkn("isRelevantVoor"))
        link = {**zio, "_expand": {"zaak": {"identificatie": state.identificatie,
                                            "omschrijving": state.zaak.get("omschrijving")}}}
        self.mappings.to_stuf("EDCZAK", link, relation, dialect=self.dialect, context=self.context)
        relation.set(stuf("entiteittype"), "EDCZAK")
        relation.set(stuf("verwerkingssoort"), soort)
        for gerelateerde in relation.iterchildren(zkn("gerelateerde")):
            gerelateerde.set(stuf("entiteittype"), "ZAK")
            gerelateerde.set(stuf("verwerkingssoort"), "I")
        self.mappings.insert_ordered("EDC", obj, relation)
        return obj

    # --- the difference ---------------------------------------------------------------------------------------
    async def next_message(self, subscriber: SubscriberSettings, acked: JSON | None, state: ZaakState,
                           clock: Callable[[], Awaitable[dt.datetime]], iot: Any,
                           digest: Digest | None = None) -> Kennisgeving | None:
        """The first kennisgeving of the difference between ``acked`` and ``state`` (None: nothing to send).
        ``clock()`` gives its tijdstipBericht (asked only when there is one to send); ``iot(url)`` gives an
        informatieobjecttype (the catalogue's cache); ``digest(inhoud)`` the sha256 and size of a document's
        content, streamed (``_document_changed``). The order: (stuf-zkn) besluiten new or changed, so that the
        zaak's leidtTot refers to a besluit the subscriber has; the zaak when it is new; each new status; the
        zaak's own attributes and relations; documents new, changed, gone; (stuf-zkn) besluiten gone."""
        generic = subscriber.profile == Profile.STUF_ZKN
        base: JSON = acked or {"identificatie": state.identificatie, "zaaktype": state.zaaktype_code}
        if generic:
            message = await self._besluit_changed(subscriber, base, state, clock)
            if message is not None:
                return message
        current = self.zaak_object(state)
        current_xml = _xml(current)
        if acked is None or not acked.get("zaak"):
            after: JSON = {**base, "zaak": current_xml, "statussen": [], "documenten": [], "documentversies": {},
                           "besluiten": base.get("besluiten", {}) if generic else {}}
            set_verwerkingssoort(current, "T")
            if self.dialect == Dialect.ZDS12 and current.find(zkn("heeftAlsInitiator")) is None:
                unknown = nil("heeftAlsInitiator", "ZAKBTRINI")  # required in a ZDS 1.2 creeerZaak
                unknown.set(stuf("noValue"), "waardeOnbekend")
                unknown.set(stuf("verwerkingssoort"), "T")
                self.mappings.insert_ordered("ZAK", current, unknown)
            return envelope("creeerZaak", subscriber, self.sender, await clock(), "T", [current], after)
        if self.dialect == Dialect.ZDS12 and not generic:  # ZDS 1.2 has a message for a new besluit
            message = await self._besluit_toegevoegd(subscriber, acked, state, clock)
            if message is not None:
                return message
        for status in state.statussen:
            url = str(status["url"])
            if url in acked.get("statussen", []):
                continue
            old = self._kern(state.identificatie, "W")
            old.append(nil("heeft", "ZAKSTT"))
            old[-1].set(stuf("verwerkingssoort"), "W")
            new = self._kern(state.identificatie, "W")
            new.append(self._heeft(state, status))
            after = {**acked, "statussen": [*acked.get("statussen", []), url]}
            return envelope("actualiseerZaakstatus", subscriber, self.sender, await clock(), "W", [old, new], after)
        if acked.get("zaak") != current_xml:
            old = etree.fromstring(acked["zaak"]) if acked.get("zaak") else self._kern(state.identificatie, "W")
            self._gone_as_nil(old, current, "ZAK")
            set_verwerkingssoort(old, "W")
            set_verwerkingssoort(current, "W")
            self._relations_changed(subscriber, old, current)
            after = {**acked, "zaak": current_xml, "zaaktype": state.zaaktype_code}
            return envelope("updateZaak", subscriber, self.sender, await clock(), "W", [old, current], after)
        if subscriber.documents:
            message = await self._document_changed(subscriber, acked, state, clock, iot, digest)
            if message is not None:
                return message
        if generic:
            return await self._besluit_gone(subscriber, acked, state, clock)
        return None

    async def _besluit_changed(self, subscriber: SubscriberSettings, acked: JSON, state: ZaakState,
                               clock: Callable[[], Awaitable[dt.datetime]]) -> Kennisgeving | None:
        """bslLk01 T for a besluit the subscriber does not know, W (old, new) for one that changed."""
        known: dict[str, str] = acked.get("besluiten") or {}
        for besluit in state.besluiten:
            url = str(besluit["url"])
            current = self.besluit_object(besluit)
            current_xml = _xml(current)
            if known.get(url) == current_xml:
                continue
            after = {**acked, "besluiten": {**known, url: current_xml}}
            if url not in known:
                current.set(stuf("verwerkingssoort"), "T")
                return envelope("besluit", subscriber, self.sender, await clock(), "T", [current], after)
            old = etree.fromstring(known[url])
            self._gone_as_nil(old, current, "BSL")
            old.set(stuf("verwerkingssoort"), "W")
            current.set(stuf("verwerkingssoort"), "W")
            return envelope("besluit", subscriber, self.sender, await clock(), "W", [old, current], after)
        return None

    async def _besluit_toegevoegd(self, subscriber: SubscriberSettings, acked: JSON, state: ZaakState,
                                  clock: Callable[[], Awaitable[dt.datetime]]) -> Kennisgeving | None:
        """ZDS 1.2 voegBesluitToe_Di01 for a besluit the (zds-client) subscriber was not sent yet, after the zaak
        exists there; updateBesluit_BslLk01 (W: old, new) for one it was sent that changed. A removed besluit reaches
        it as the zaak's leidtTot V in updateZaak (ZDS has no removal of a besluit)."""
        known: dict[str, str] = acked.get("besluiten") or {}
        for besluit in state.besluiten:
            url = str(besluit["url"])
            current = self.besluit_object(besluit)
            current_xml = _xml(current)
            after = {**acked, "besluiten": {**known, url: current_xml}}
            if url in known:
                if known[url] == current_xml:
                    continue
                old = etree.fromstring(known[url])
                self._gone_as_nil(old, current, "BSL")
                old.set(stuf("verwerkingssoort"), "W")
                current.set(stuf("verwerkingssoort"), "W")
                return envelope("updateBesluit", subscriber, self.sender, await clock(), "W", [old, current], after)
            for required in ("datumBeslissing", "ingangsdatumWerking"):  # required (nillable) in voegBesluitToe
                if current.find(zkn(required)) is None:
                    unknown = nil(required)
                    unknown.set(stuf("noValue"), "waardeOnbekend")
                    self.mappings.insert_ordered("BSL", current, unknown)
            return voeg_besluit_toe(subscriber, self.sender, await clock(), current, state.identificatie, after)
        return None

    async def _besluit_gone(self, subscriber: SubscriberSettings, acked: JSON, state: ZaakState,
                            clock: Callable[[], Awaitable[dt.datetime]]) -> Kennisgeving | None:
        """bslLk01 V (kerngegevens) for a besluit of the zaak that ZGW no longer has for it."""
        known: dict[str, str] = acked.get("besluiten") or {}
        present = {str(b["url"]) for b in state.besluiten}
        for url, xml in known.items():
            if url in present:
                continue
            obj = etree.fromstring(xml)
            _keep(obj, ("identificatie",))
            obj.set(stuf("verwerkingssoort"), "V")
            after = {**acked, "besluiten": {k: v for k, v in known.items() if k != url}}
            return envelope("besluit", subscriber, self.sender, await clock(), "V", [obj], after)
        return None

    async def _document_changed(self, subscriber: SubscriberSettings, acked: JSON, state: ZaakState,
                                clock: Callable[[], Awaitable[dt.datetime]], iot: Any,
                                digest: Digest | None) -> Kennisgeving | None:
        """A document new to the subscriber (edcLk01 T with content), one whose metadata or content changed
        (stuf-zkn: edcLk01 W, old metadata first, the new one with the content when its content changed), one no
        longer linked to the zaak (stuf-zkn: edcLk01 V with its identificatie). Content counts as changed when the
        version changed and ``digest(inhoud)`` (sha256 and size, streamed) differs from what the subscriber was
        sent (``sha256``/``size`` in the snapshot, recorded by the delivery while sending); without either, every
        new version counts as new content."""
        documenten: list[str] = acked.get("documenten", [])
        versies: dict[str, JSON] = acked.get("documentversies") or {}
        for zio, eio in state.documenten:
            url = str(eio["url"])
            if url in documenten:
                continue
            obj = self._edc_object(state, zio, eio, await iot(str(eio["informatieobjecttype"])))
            after = {**acked, "documenten": [*documenten, url],
                     "documentversies": {**versies, url: await self._versie(eio, iot)}}
            document = {"url": url, "inhoud": eio.get("inhoud"), "size": eio.get("bestandsomvang")}
            return envelope("voegZaakdocumentToe", subscriber, self.sender, await clock(), "T", [obj], after,
                            document=document)
        generic = subscriber.profile == Profile.STUF_ZKN
        if not generic and subscriber.vrije_berichten is None:
            return None  # ZDS has no kennisgeving of a changed or removed document (docs/notifications.md)
        for zio, eio in state.documenten:
            url = str(eio["url"])
            known = versies.get(url)
            if known is None:  # a snapshot from before documents were compared: nothing to compare with
                continue
            now = await self._versie(eio, iot)
            if (now["edc"], now["versie"]) == (known.get("edc"), known.get("versie")):
                continue
            new_content = now["versie"] != known.get("versie") and bool(eio.get("inhoud"))
            for key in ("sha256", "size"):  # what the subscriber has of the content, while it is the same
                if key in known:
                    now[key] = known[key]
            if new_content and known.get("sha256") and digest is not None:  # a new version: is it new content?
                sha256, size = await digest(str(eio["inhoud"]))
                new_content = (sha256, size) != (known["sha256"], known.get("size"))
                now.update(sha256=sha256, size=size)
            old = self._relevant_voor(state, zio, etree.fromstring(known["edc"]), "I")
            new = self._edc_object(state, zio, eio, await iot(str(eio["informatieobjecttype"])),
                                   content=new_content, soort="W")
            self._gone_as_nil(old, new, "EDC")
            old.set(stuf("verwerkingssoort"), "W")
            after = {**acked, "documentversies": {**versies, url: now}}
            document = {"url": url, "inhoud": eio.get("inhoud"), "size": eio.get("bestandsomvang"),
                        "identificatie": eio.get("identificatie")}
            if not generic:  # a zds-client: updateZaakdocument_Di02 (after a checkout) to its VrijeBerichten
                return update_zaakdocument(subscriber, self.sender, await clock(), [old, new], after,
                                           document if new_content else {**document, "inhoud": None})
            return envelope("documentGewijzigd", subscriber, self.sender, await clock(), "W", [old, new], after,
                            document=document if new_content else None)
        if not generic:
            return None  # ZDS has no removal of a document
        present = {str(eio["url"]) for _zio, eio in state.documenten}
        for url in documenten:
            if url in present or url not in versies:
                continue
            obj = etree.fromstring(versies[url]["edc"])
            _keep(obj, ("identificatie",))
            obj.set(stuf("verwerkingssoort"), "V")
            after = {**acked, "documenten": [u for u in documenten if u != url],
                     "documentversies": {k: v for k, v in versies.items() if k != url}}
            return envelope("documentVerwijderd", subscriber, self.sender, await clock(), "V", [obj], after)
        return None

    async def removal(self, subscriber: SubscriberSettings, acked: JSON,
                      clock: Callable[[], Awaitable[dt.datetime]]) -> Kennisgeving | None:
        """A zaak that ZGW no longer has: zakLk01 V with its kerngegevens for the stuf-zkn profile (None for
        zds-client: ZDS has no removal)."""
        if subscriber.profile != Profile.STUF_ZKN or not acked.get("identificatie"):
            return None
        obj = self._kern(str(acked["identificatie"]), "V")
        return envelope("zaakVerwijderd", subscriber, self.sender, await clock(), "V", [obj], {"removed": True})

    def _relations_changed(self, subscriber: SubscriberSettings, old: etree._Element, new: etree._Element) -> None:
        """Relations in a W: unchanged ones I on both sides, a new one T in the new object, one that is gone V in the
        old object (with an empty, geenWaarde relation of that name in the new one when none is left there). A
        relation to the same object whose details changed (a rol's betrokkene with a new name, a besluit with a new
        datum) is by default V in the old object and T in the new one; with ``relations: {<name>: W}`` in the
        subscriber's settings it is W on both sides instead."""
        def key(relation: etree._Element) -> bytes:
            copy = etree.fromstring(etree.tostring(relation))
            for element in copy.iter():
                if stuf("verwerkingssoort") in element.attrib:
                    del element.attrib[stuf("verwerkingssoort")]
            return bytes(etree.tostring(copy, method="c14n"))

        def relations(obj: etree._Element) -> list[etree._Element]:
            return [child for child in obj if isinstance(child.tag, str) and child.get(stuf("entiteittype"))
                    and child.get(f"{{{XSI}}}nil") != "true"]

        old_keys = {key(r) for r in relations(old)}
        new_keys = {key(r) for r in relations(new)}
        changed_old = [r for r in relations(old) if key(r) not in new_keys]
        changed_new = [r for r in relations(new) if key(r) not in old_keys]
        for relation in list(changed_new):
            if subscriber.relation_soort(etree.QName(relation).localname) != "W":
                continue
            identity = relation_identity(relation)
            twin = next((r for r in changed_old if identity is not None and relation_identity(r) == identity), None)
            if twin is not None:  # the same object, other details: W on both sides
                relation.set(stuf("verwerkingssoort"), "W")
                twin.set(stuf("verwerkingssoort"), "W")
                changed_old.remove(twin)
                changed_new.remove(relation)
        for relation in changed_new:
            relation.set(stuf("verwerkingssoort"), "T")
        for relation in changed_old:
            relation.set(stuf("verwerkingssoort"), "V")
            name = etree.QName(relation).localname
            if new.find(zkn(name)) is None:
                empty = nil(name, relation.get(stuf("entiteittype")))
                empty.set(stuf("verwerkingssoort"), "V")
                self.mappings.insert_ordered("ZAK", new, empty)

    def _gone_as_nil(self, old: etree._Element, new: etree._Element, entity: str) -> None:
        """Elements of the old object that the new one lacks: nil (geenWaarde) in the new one (STUF §5.2)."""
        present = {etree.QName(child).localname for child in new if isinstance(child.tag, str)}
        for child in old:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if name in present or child.get(stuf("entiteittype")) is not None or etree.QName(child).namespace == STUF:
                continue
            self.mappings.insert_ordered(entity, new, nil(name))
            present.add(name)


#: the elements that say which object a relation's gerelateerde is (a rol's betrokkene: its BSN, nnpId, …)
IDENTIFYING = ("identificatie", "inp.bsn", "inn.nnpId", "ann.identificatie", "vestigingsNummer", "code")


def relation_identity(relation: etree._Element) -> tuple[str, ...] | None:
    """Which object a relation points to: its name, the gerelateerde's (inner) entiteittype and identifying value;
    None when it names none."""
    gerelateerde = relation.find(zkn("gerelateerde"))
    if gerelateerde is None:
        return None
    for element in gerelateerde.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in IDENTIFYING and element.text:
            owner = element.getparent()
            kind = owner.get(stuf("entiteittype"), "") if owner is not None else ""
            return etree.QName(relation).localname, kind, etree.QName(element).localname, element.text.strip()
    return None
