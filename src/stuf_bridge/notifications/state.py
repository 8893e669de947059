"""A zaak as a subscriber knows it, and the next kennisgeving that brings it up to date.

The current state is read from ZGW (:func:`read_state`): the zaak, its zaaktype, its statussen (oldest first) and the
documents linked to it. What a subscriber acknowledged is kept as a small JSON snapshot (:func:`snapshot_of`):

* ``zaak`` — the ZAK object as it was sent (its XML: a W's old object is exactly what the subscriber got before),
* ``statussen`` — the status URLs it was told about, ``documenten`` — the document URLs,
* ``identificatie`` and ``zaaktype``.

:func:`next_message` compares the two and returns the first kennisgeving of the difference (or None), with the
snapshot as it will be once that one is acknowledged: a new zaak first (T), then each new status in order, then a
change of the zaak's own attributes (W, old and new), then each new document (T with its content). Several
notifications about one zaak therefore come down to the same difference, whatever their order or number.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ..mapping import Mappings
from ..mapping.results import MappingContext
from ..stuf.namespaces import STUF, Dialect
from ..zgw import ZgwClients
from ..zgw.errors import ZgwNotFound
from .config import Profile, SubscriberSettings
from .messages import Kennisgeving, Sender, envelope, inhoud_placeholder, nil, set_verwerkingssoort, stuf, zkn

JSON = dict[str, Any]
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XMIME = "http://www.w3.org/2005/05/xmlmime"
_CONTEXT = MappingContext(dialect=Dialect.ZDS11)


@dataclass
class ZaakState:
    zaak: JSON
    zaaktype: JSON
    statussen: list[JSON]
    documenten: list[tuple[JSON, JSON]]  # (zaakinformatieobject, enkelvoudiginformatieobject)
    rollen: list[JSON] = field(default_factory=list)

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
    zaaktype, statussen, zios, rollen = await asyncio.gather(
        zgw.catalogue.zaaktype_by_url(str(zaak["zaaktype"])),
        zgw.zaken.list("statussen", {"zaak": zaak["url"]}),
        zgw.zaken.list("zaakinformatieobjecten", {"zaak": zaak["url"]}) if documents else _nothing(),
        zgw.zaken.list("rollen", {"zaak": zaak["url"]}),
    )
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
    return ZaakState({**zaak, "_resultaat": resultaat}, zaaktype, expanded, list(zip(zios, eios, strict=True)),
                     rollen)


async def _nothing() -> list[JSON]:
    return []


class Planner:
    """Builds the kennisgevingen for one subscriber from the mappings (the same ones that answer geefZaakdetails)."""

    def __init__(self, mappings: Mappings, sender: Sender):
        self.mappings = mappings
        self.sender = sender

    # --- objects ----------------------------------------------------------------------------------------------
    def zaak_object(self, state: ZaakState) -> etree._Element:
        """The ZAK object with the zaak's own attributes, its zaaktype (isVan) and resultaat."""
        zaak = state.zaak
        expand: JSON = {"zaaktype": {"identificatie": state.zaaktype.get("identificatie"),
                                     "omschrijving": state.zaaktype.get("omschrijving")}}
        if zaak.get("_resultaat"):
            expand["resultaat"] = zaak["_resultaat"]
        obj = etree.Element(zkn("object"))
        data = {k: v for k, v in zaak.items() if not k.startswith("_")}
        context = MappingContext(dialect=Dialect.ZDS11, zaaktype=state.zaaktype_code)
        self.mappings.to_stuf("ZAK", {**data, "_expand": expand}, obj, dialect=Dialect.ZDS11, context=context)
        for rol in state.rollen:  # heeftAlsInitiator, heeftAlsBelanghebbende, … (a rol without relation: left out)
            self.mappings.rol_to_stuf(rol, obj, dialect=Dialect.ZDS11, context=context)
        obj.set(stuf("entiteittype"), "ZAK")
        return obj

    def snapshot_of(self, state: ZaakState) -> JSON:
        """The snapshot of a subscriber that knows everything about the zaak as it is now."""
        return {"identificatie": state.identificatie, "zaaktype": state.zaaktype_code,
                "zaak": etree.tostring(self.zaak_object(state)).decode(),
                "statussen": [str(s["url"]) for s in state.statussen],
                "documenten": [str(eio["url"]) for _zio, eio in state.documenten]}

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
        self.mappings.to_stuf("ZAKSTT", data, heeft, dialect=Dialect.ZDS11, context=_CONTEXT)
        for answer_only in heeft.iterchildren(zkn("indicatieLaatsteStatus")):  # in La01 answers only
            heeft.remove(answer_only)
        heeft.set(stuf("entiteittype"), "ZAKSTT")
        heeft.set(stuf("verwerkingssoort"), "T")
        for gerelateerde in heeft.iterchildren(zkn("gerelateerde")):
            gerelateerde.set(stuf("entiteittype"), "STT")
            gerelateerde.set(stuf("verwerkingssoort"), "I")
        return heeft

    def _edc_object(self, state: ZaakState, zio: JSON, eio: JSON, iot: JSON) -> etree._Element:
        data = {**eio, "_expand": {"informatieobjecttype": {"omschrijving": iot.get("omschrijving"),
                                                            "informatieobjectcategorie":
                                                                iot.get("informatieobjectcategorie")},
                                   "link": eio.get("link") or eio.get("url")}}
        obj = etree.Element(zkn("object"))
        self.mappings.to_stuf("EDC", data, obj, dialect=Dialect.ZDS11, context=_CONTEXT)
        for answer_only in obj.iterchildren(zkn("dct.categorie")):  # in La01 answers only
            obj.remove(answer_only)
        obj.set(stuf("entiteittype"), "EDC")
        obj.set(stuf("verwerkingssoort"), "T")
        inhoud = etree.Element(zkn("inhoud"), nsmap={"xmime": XMIME})
        inhoud.set(f"{{{XMIME}}}contentType", str(eio.get("formaat") or "application/octet-stream"))
        inhoud.set(stuf("bestandsnaam"), str(eio.get("bestandsnaam") or eio.get("identificatie") or "document"))
        inhoud_placeholder(inhoud)
        self.mappings.insert_ordered("EDC", obj, inhoud)
        relation = etree.Element(zkn("isRelevantVoor"))
        link = {**zio, "_expand": {"zaak": {"identificatie": state.identificatie,
                                            "omschrijving": state.zaak.get("omschrijving")}}}
        self.mappings.to_stuf("EDCZAK", link, relation, dialect=Dialect.ZDS11, context=_CONTEXT)
        relation.set(stuf("entiteittype"), "EDCZAK")
        relation.set(stuf("verwerkingssoort"), "T")
        for gerelateerde in relation.iterchildren(zkn("gerelateerde")):
            gerelateerde.set(stuf("entiteittype"), "ZAK")
            gerelateerde.set(stuf("verwerkingssoort"), "I")
        self.mappings.insert_ordered("EDC", obj, relation)
        return obj

    # --- the difference ---------------------------------------------------------------------------------------
    async def next_message(self, subscriber: SubscriberSettings, acked: JSON | None, state: ZaakState,
                           clock: Callable[[], Awaitable[dt.datetime]], iot: Any) -> Kennisgeving | None:
        """The first kennisgeving of the difference between ``acked`` and ``state`` (None: nothing to send).
        ``clock()`` gives its tijdstipBericht (asked only when there is one to send); ``iot(url)`` gives an
        informatieobjecttype (the catalogue's cache)."""
        current = self.zaak_object(state)
        current_xml = etree.tostring(current).decode()
        if acked is None:
            after: JSON = {"identificatie": state.identificatie, "zaaktype": state.zaaktype_code,
                           "zaak": current_xml, "statussen": [], "documenten": []}
            return envelope("creeerZaak", subscriber, self.sender, await clock(), "T",
                            [set_verwerkingssoort(current, "T")], after)
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
            self._gone_as_nil(old, current)
            set_verwerkingssoort(old, "W")
            set_verwerkingssoort(current, "W")
            self._relations_changed(old, current)
            after = {**acked, "zaak": current_xml, "zaaktype": state.zaaktype_code}
            return envelope("updateZaak", subscriber, self.sender, await clock(), "W", [old, current], after)
        if subscriber.documents:
            for zio, eio in state.documenten:
                url = str(eio["url"])
                if url in acked.get("documenten", []):
                    continue
                obj = self._edc_object(state, zio, eio, await iot(str(eio["informatieobjecttype"])))
                after = {**acked, "documenten": [*acked.get("documenten", []), url]}
                document = {"url": url, "inhoud": eio.get("inhoud"), "size": eio.get("bestandsomvang")}
                return envelope("voegZaakdocumentToe", subscriber, self.sender, await clock(), "T", [obj], after,
                                document=document)
        return None

    async def removal(self, subscriber: SubscriberSettings, acked: JSON,
                      clock: Callable[[], Awaitable[dt.datetime]]) -> Kennisgeving | None:
        """A zaak that ZGW no longer has: zakLk01 V with its kerngegevens for the stuf-zkn profile (None for
        zds-client: ZDS has no removal)."""
        if subscriber.profile != Profile.STUF_ZKN or not acked.get("identificatie"):
            return None
        obj = self._kern(str(acked["identificatie"]), "V")
        return envelope("zaakVerwijderd", subscriber, self.sender, await clock(), "V", [obj], {"removed": True})

    def _relations_changed(self, old: etree._Element, new: etree._Element) -> None:
        """Relations in a W: unchanged ones I on both sides, a new one T in the new object, one that is gone V in the
        old object (with an empty, geenWaarde relation of that name in the new one when none is left there)."""
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
        for relation in relations(new):
            if key(relation) not in old_keys:
                relation.set(stuf("verwerkingssoort"), "T")
        for relation in relations(old):
            if key(relation) in new_keys:
                continue
            relation.set(stuf("verwerkingssoort"), "V")
            name = etree.QName(relation).localname
            if new.find(zkn(name)) is None:
                empty = nil(name, relation.get(stuf("entiteittype")))
                empty.set(stuf("verwerkingssoort"), "V")
                self.mappings.insert_ordered("ZAK", new, empty)

    def _gone_as_nil(self, old: etree._Element, new: etree._Element) -> None:
        """Elements of the old object that the new one lacks: nil (geenWaarde) in the new one (STUF §5.2)."""
        present = {etree.QName(child).localname for child in new if isinstance(child.tag, str)}
        for child in old:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if name in present or child.get(stuf("entiteittype")) is not None or etree.QName(child).namespace == STUF:
                continue
            self.mappings.insert_ordered("ZAK", new, nil(name))
            present.add(name)
