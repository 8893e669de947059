"""The kennisgevingen a subscriber is sent (StUF-ZKN 3.10 / ZDS 1.1 message shapes, STUF §5).

Every message is an Lk01 with the gateway as zender, the subscriber as ontvanger, a fresh referentienummer and a
``tijdstipBericht`` from the store's clock (strictly rising per zender). ``indicatorOvername`` is V. The profiles
differ in the SOAPAction (and so in the operation a receiver dispatches on), not in the body:

======================  ===========================================  ======================================
change                   zds-client (a ZDS client feeding a ZS)      stuf-zkn (generic kennisgevingen)
======================  ===========================================  ======================================
zaak new                 creeerZaak_Lk01 (zakLk01 T)                  zakLk01 T
zaak destroyed           (nothing: ZDS has no removal)                zakLk01 V (kerngegevens)
zaak attributes changed  updateZaak_Lk01 (zakLk01 W: old, new)        zakLk01 W
status added             actualiseerZaakstatus_Lk01 (zakLk01 W)       zakLk01 W
document added           voegZaakdocumentToe_Lk01 (edcLk01 T)        edcLk01 T
document changed         updateZaakdocument_Di02 after a checkout,    edcLk01 W (content when it changed)
                         cancelCheckout_Di02 when it fails
                         (with vrije_berichten; else nothing)
document gone from zaak  (nothing)                                    edcLk01 V (identificatie)
besluit new/changed/gone updateZaak_Lk01 (the leidtTot relation);     bslLk01 T/W/V, and zakLk01 W (leidtTot)
                         ZDS 1.2: a new one first voegBesluitToe_Di01,
                         a changed one updateBesluit_BslLk01 (W)
zaakobject/eigenschap    updateZaak_Lk01 (heeftBetrekkingOp,          zakLk01 W
                         extraElementen)
======================  ===========================================  ======================================

A W carries two objects, the state the subscriber acknowledged first and the current one second (STUF §5.2); an
element that was there and is gone is sent nil with ``StUF:noValue="geenWaarde"`` in the new object. A document's
content is not in the body as built here: the body is cut at ``inhoud`` (``Kennisgeving.head``/``tail``) and the
base64 of the download is streamed in between when it is sent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ..stuf.namespaces import SOAP11, STUF, ZDS, ZKN, Dialect
from .config import Profile, SubscriberSettings

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XMIME = "http://www.w3.org/2005/05/xmlmime"
_ZDS11 = "http://www.egem.nl/StUF/sector/zkn/0310/"
_MARK = "@@stuf-bridge-inhoud@@"

#: operation -> (root element, entiteittype, SOAPAction per profile)
OPERATIONS: dict[str, tuple[str, str, dict[Profile, str]]] = {
    "creeerZaak": ("zakLk01", "ZAK", {Profile.ZDS_CLIENT: _ZDS11 + "creeerZaak_Lk01",
                                      Profile.STUF_ZKN: _ZDS11 + "zakLk01"}),
    "updateZaak": ("zakLk01", "ZAK", {Profile.ZDS_CLIENT: _ZDS11 + "updateZaak_Lk01",
                                      Profile.STUF_ZKN: _ZDS11 + "zakLk01"}),
    "actualiseerZaakstatus": ("zakLk01", "ZAK", {Profile.ZDS_CLIENT: _ZDS11 + "actualiseerZaakstatus_Lk01",
                                                 Profile.STUF_ZKN: _ZDS11 + "zakLk01"}),
    "zaakVerwijderd": ("zakLk01", "ZAK", {Profile.STUF_ZKN: _ZDS11 + "zakLk01"}),  # ZDS has no removal
    "voegZaakdocumentToe": ("edcLk01", "EDC", {Profile.ZDS_CLIENT: _ZDS11 + "voegZaakdocumentToe_Lk01",
                                               Profile.STUF_ZKN: _ZDS11 + "edcLk01"}),
    # generic StUF-ZKN only: ZDS has no kennisgeving of a changed or removed document, nor a bslLk01
    "documentGewijzigd": ("edcLk01", "EDC", {Profile.STUF_ZKN: _ZDS11 + "edcLk01"}),
    "documentVerwijderd": ("edcLk01", "EDC", {Profile.STUF_ZKN: _ZDS11 + "edcLk01"}),
    "besluit": ("bslLk01", "BSL", {Profile.STUF_ZKN: _ZDS11 + "bslLk01"}),
    # ZDS 1.2 only (a zds-client with zds "1.2"): its frame and SOAPAction come from ZDS12_ROOTS
    "updateBesluit": ("bslLk01", "BSL", {Profile.ZDS_CLIENT: _ZDS11 + "bslLk01"}),
}


#: a zds-client subscriber that speaks ZDS 1.2: operation -> its root element (namespace zds0120) and SOAPAction
ZDS12_ROOTS = {"creeerZaak": "creeerZaak_ZakLk01", "updateZaak": "updateZaak_ZakLk01",
               "actualiseerZaakstatus": "actualiseerZaakstatus_ZakLk01",
               "voegZaakdocumentToe": "voegZaakdocumentToe_EdcLk01", "updateBesluit": "updateBesluit_BslLk01"}
_ZDS12 = "http://www.stufstandaarden.nl/koppelvlak/zds0120/"


def zkn(name: str) -> str:
    return f"{{{ZKN}}}{name}"


def stuf(name: str) -> str:
    return f"{{{STUF}}}{name}"


@dataclass(frozen=True)
class Sender:
    """The gateway as zender."""

    organisatie: str | None
    applicatie: str

    @property
    def key(self) -> str:
        return f"{self.organisatie or ''}/{self.applicatie}"


@dataclass(frozen=True)
class Kennisgeving:
    """One message as stored while it is being sent (``inflight`` in the snapshot): a resend sends these bytes
    again. ``document`` is the EIO whose content goes between ``head`` and ``tail`` (None: no content)."""

    operation: str
    referentienummer: str
    soap_action: str
    head: bytes
    tail: bytes
    document: dict[str, Any] | None
    after: dict[str, Any]  # the subscriber's state once this one is acknowledged
    #: updateZaakdocument: the checkedOutId of a checkout at the subscriber that this message's sending holds and
    #: has not ended yet (kept in flight, so that a retry first cancels it: ``delivery.py``)
    checked_out: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"operation": self.operation, "referentienummer": self.referentienummer,
                "soap_action": self.soap_action, "head": self.head.decode(), "tail": self.tail.decode(),
                "document": self.document, "after": self.after, "checked_out": self.checked_out}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Kennisgeving:
        return cls(data["operation"], data["referentienummer"], data["soap_action"], data["head"].encode(),
                   data["tail"].encode(), data.get("document"), data["after"], data.get("checked_out"))

    def body(self, content: Callable[[], AsyncIterator[bytes]] | None) -> AsyncIterator[bytes]:
        """The whole body: head, the base64 of ``content()`` (when there is a document), tail."""

        async def chunks() -> AsyncIterator[bytes]:
            yield self.head
            if content is not None:
                async for piece in base64_stream(content()):
                    yield piece
            yield self.tail

        return chunks()


async def base64_stream(source: AsyncIterator[bytes], chunk: int = 3 * 256 * 1024) -> AsyncIterator[bytes]:
    """Base64 of a byte stream, in pieces (a remainder of 1 or 2 bytes waits for the next piece)."""
    import base64

    rest = b""
    async for piece in source:
        data = rest + piece
        cut = len(data) - len(data) % 3
        rest = data[cut:]
        for start in range(0, cut, chunk):
            yield base64.b64encode(data[start:min(cut, start + chunk)])
    if rest:
        yield base64.b64encode(rest)


CHECKED_OUT = "@@stuf-bridge-checkedOutId@@"


def _di02_root(body: etree._Element, subscriber: SubscriberSettings, name_11: str, name_12: str) -> tuple[
        etree._Element, str, str]:
    """The Di02 frame of a vrij bericht: (root, its prefix namespace for parameters, SOAPAction)."""
    if subscriber.dialect == Dialect.ZDS12:
        return etree.SubElement(body, f"{{{ZDS}}}{name_12}", nsmap={"ZDS": ZDS}), ZDS, _ZDS12 + name_12
    return etree.SubElement(body, zkn(name_11)), ZKN, _ZDS11 + name_11


def _di02_stuurgegevens(root: etree._Element, frame: str, subscriber: SubscriberSettings, sender: Sender,
                        moment: dt.datetime, functie: str, berichtcode: str = "Di02") -> str:
    referentienummer = str(uuid.uuid4())
    sg = etree.SubElement(root, f"{{{frame}}}stuurgegevens")
    etree.SubElement(sg, stuf("berichtcode")).text = berichtcode
    _party(etree.SubElement(sg, stuf("zender")), sender.organisatie, sender.applicatie, None, None)
    party = subscriber.stuf
    _party(etree.SubElement(sg, stuf("ontvanger")), party.organisatie, party.applicatie, party.administratie,
           party.gebruiker)
    etree.SubElement(sg, stuf("referentienummer")).text = referentienummer
    etree.SubElement(sg, stuf("tijdstipBericht")).text = tijdstip(moment)
    etree.SubElement(sg, stuf("functie")).text = functie
    return referentienummer


def _soap() -> tuple[etree._Element, etree._Element]:
    env = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11, "StUF": STUF, "ZKN": ZKN, "xsi": XSI})
    return env, etree.SubElement(env, f"{{{SOAP11}}}Body")


def update_zaakdocument(subscriber: SubscriberSettings, sender: Sender, moment: dt.datetime,
                        objects: list[etree._Element], after: dict[str, Any],
                        document: dict[str, Any] | None) -> Kennisgeving:
    """updateZaakdocument_Di02 (ZDS 1.1 / 1.2 VrijeBerichten): parameters/checkedOutId (filled in when it is sent,
    after the checkout) and edcLk02 with the old and the new EDC object."""
    env, body = _soap()
    root, frame, action = _di02_root(body, subscriber, "updateZaakdocument_Di02", "updateZaakdocument_Di02")
    referentienummer = _di02_stuurgegevens(root, frame, subscriber, sender, moment, "updateZaakdocument")
    parameters = etree.SubElement(root, f"{{{frame}}}parameters")
    etree.SubElement(parameters, f"{{{frame}}}checkedOutId").text = CHECKED_OUT
    lk02 = etree.SubElement(root, f"{{{frame}}}edcLk02")
    lk02.set(stuf("entiteittype"), "EDC")
    lk02.set(stuf("functie"), "update")
    etree.SubElement(etree.SubElement(lk02, zkn("parameters")), stuf("mutatiesoort")).text = "W"
    for obj in objects:
        lk02.append(obj)
    text = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
    head, _, tail = text.partition(_MARK.encode()) if document is not None else (text, b"", b"")
    return Kennisgeving("updateZaakdocument", referentienummer, action, head, tail, document, after)


def checkout(subscriber: SubscriberSettings, sender: Sender, moment: dt.datetime,
             identificatie: str) -> tuple[bytes, str]:
    """geefZaakdocumentbewerken_Di02 for the document (body, SOAPAction): the checkout updateZaakdocument needs."""
    env, body = _soap()
    root, frame, action = _di02_root(body, subscriber, "geefZaakdocumentbewerken_Di02",
                                     "geefZaakdocumentBewerken_Di02")
    _di02_stuurgegevens(root, frame, subscriber, sender, moment, "geefZaakdocumentbewerken")
    lv01 = etree.SubElement(root, f"{{{frame}}}edcLv01")
    lv01.set(stuf("entiteittype"), "EDC")
    lv01.set(stuf("functie"), "selectie")
    etree.SubElement(lv01, zkn("parameters"))
    gelijk = etree.SubElement(lv01, zkn("gelijk"))
    gelijk.set(stuf("entiteittype"), "EDC")
    etree.SubElement(gelijk, zkn("identificatie")).text = identificatie
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8"), action


def cancel_checkout(subscriber: SubscriberSettings, sender: Sender, moment: dt.datetime, identificatie: str,
                    checked_out_id: str) -> tuple[bytes, str]:
    """cancelCheckout_Di02 (ZDS 1.1 / 1.2 VrijeBerichten) of our checkout ``checked_out_id`` of the document (body,
    SOAPAction): ends a checkout whose updateZaakdocument did not go through."""
    env, body = _soap()
    root, frame, action = _di02_root(body, subscriber, "cancelCheckout_Di02", "cancelCheckout_Di02")
    _di02_stuurgegevens(root, frame, subscriber, sender, moment, "cancelCheckout")
    parameters = etree.SubElement(root, f"{{{frame}}}parameters")
    etree.SubElement(parameters, f"{{{frame}}}checkedOutId").text = checked_out_id
    document = etree.SubElement(root, f"{{{frame}}}document")
    document.set(stuf("verwerkingssoort"), "T")  # required; T as the ZDS 1.2 reference samples send it
    document.set(stuf("entiteittype"), "EDC")
    document.set(stuf("functie"), "entiteit")
    etree.SubElement(document, zkn("identificatie")).text = identificatie
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8"), action


def voeg_besluit_toe(subscriber: SubscriberSettings, sender: Sender, moment: dt.datetime, besluit: etree._Element,
                     zaak_identificatie: str, after: dict[str, Any]) -> Kennisgeving:
    """ZDS 1.2's voegBesluitToe_Di01 (OntvangAsynchroon, answered by a Bv03): ``object`` with the besluit (the BSL
    object, T) and the zaak it belongs to (its identificatie; T, as the ZDS 1.2 reference samples send it)."""
    env = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11, "StUF": STUF, "ZKN": ZKN, "xsi": XSI})
    body = etree.SubElement(env, f"{{{SOAP11}}}Body")
    root = etree.SubElement(body, f"{{{ZDS}}}voegBesluitToe_Di01", nsmap={"ZDS": ZDS})
    referentienummer = _di02_stuurgegevens(root, ZKN, subscriber, sender, moment, "voegBesluitToe", "Di01")
    obj = etree.SubElement(root, zkn("object"))
    besluit.tag = zkn("besluit")
    besluit.set(stuf("verwerkingssoort"), "T")
    obj.append(besluit)
    zaak = etree.SubElement(obj, zkn("zaak"))
    zaak.set(stuf("verwerkingssoort"), "T")
    zaak.set(stuf("entiteittype"), "ZAK")
    etree.SubElement(zaak, zkn("identificatie")).text = zaak_identificatie
    text = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
    return Kennisgeving("voegBesluitToe", referentienummer, _ZDS12 + "voegBesluitToe_Di01", text, b"", None, after)


def tijdstip(moment: dt.datetime) -> str:
    """``tijdstipBericht`` with milliseconds (StUF: yyyymmddhhmmssfff), in Dutch time as StUF senders use it."""
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo("Europe/Amsterdam"))
    return local.strftime("%Y%m%d%H%M%S") + f"{local.microsecond // 1000:03d}"


def envelope(operation: str, subscriber: SubscriberSettings, sender: Sender, moment: dt.datetime,
             mutatiesoort: str, objects: list[etree._Element], after: dict[str, Any],
             document: dict[str, Any] | None = None) -> Kennisgeving:
    """A kennisgeving of ``operation`` to ``subscriber`` holding ``objects`` (one for T, two for W)."""
    root_name, entiteittype, actions = OPERATIONS[operation]
    action = actions[subscriber.profile]
    referentienummer = str(uuid.uuid4())
    env = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11, "StUF": STUF, "ZKN": ZKN, "xsi": XSI})
    body = etree.SubElement(env, f"{{{SOAP11}}}Body")
    if subscriber.dialect == Dialect.ZDS12 and operation in ZDS12_ROOTS:  # the ZDS 1.2 frame, ZKN inside
        root = etree.SubElement(body, f"{{{ZDS}}}{ZDS12_ROOTS[operation]}", nsmap={"ZDS": ZDS})
        action = _ZDS12 + ZDS12_ROOTS[operation]
    else:
        root = etree.SubElement(body, zkn(root_name))
    sg = etree.SubElement(root, zkn("stuurgegevens"))
    etree.SubElement(sg, stuf("berichtcode")).text = "Lk01"
    _party(etree.SubElement(sg, stuf("zender")), sender.organisatie, sender.applicatie, None, None)
    party = subscriber.stuf
    _party(etree.SubElement(sg, stuf("ontvanger")), party.organisatie, party.applicatie, party.administratie,
           party.gebruiker)
    etree.SubElement(sg, stuf("referentienummer")).text = referentienummer
    etree.SubElement(sg, stuf("tijdstipBericht")).text = tijdstip(moment)
    etree.SubElement(sg, stuf("entiteittype")).text = entiteittype
    parameters = etree.SubElement(root, zkn("parameters"))
    etree.SubElement(parameters, stuf("mutatiesoort")).text = mutatiesoort
    etree.SubElement(parameters, stuf("indicatorOvername")).text = "V"
    for obj in objects:
        root.append(obj)
    text = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
    head, _, tail = text.partition(_MARK.encode()) if document is not None else (text, b"", b"")
    if document is not None and not tail:
        raise ValueError("document kennisgeving without inhoud")
    return Kennisgeving(operation, referentienummer, action, head, tail, document, after)


def _party(element: etree._Element, organisatie: str | None, applicatie: str, administratie: str | None,
           gebruiker: str | None) -> None:
    for name, value in (("organisatie", organisatie), ("applicatie", applicatie), ("administratie", administratie),
                        ("gebruiker", gebruiker)):
        if value:
            etree.SubElement(element, stuf(name)).text = value


def set_verwerkingssoort(obj: etree._Element, soort: str) -> etree._Element:
    """``StUF:verwerkingssoort`` on the object; its relations T in a new object (T) and I (unchanged, identical on
    both sides) in a change (W), their gerelateerde I (an existing object, referred to)."""
    obj.set(stuf("verwerkingssoort"), soort)
    for relation in obj:
        if not isinstance(relation.tag, str) or relation.get(stuf("entiteittype")) is None:
            continue
        relation.set(stuf("verwerkingssoort"), "T" if soort == "T" else "I")
        for gerelateerde in relation.iterchildren(zkn("gerelateerde")):
            if gerelateerde.get(stuf("entiteittype")) is not None:
                gerelateerde.set(stuf("verwerkingssoort"), "I")
                continue
            for betrokkene in gerelateerde:  # a rol's natuurlijkPersoon, medewerker, …: as sent with a new zaak (T),
                if isinstance(betrokkene.tag, str) and betrokkene.get(stuf("entiteittype")) is not None:
                    betrokkene.set(stuf("verwerkingssoort"), "T" if soort == "T" else "I")  # else referred to
    return obj


def inhoud_placeholder(element: etree._Element) -> None:
    """Mark where the document's base64 goes (cut out by ``envelope``)."""
    element.text = _MARK


def nil(name: str, entiteittype: str | None = None) -> etree._Element:
    element = etree.Element(zkn(name))
    if entiteittype is not None:
        element.set(stuf("entiteittype"), entiteittype)
    element.set(f"{{{XSI}}}nil", "true")
    element.set(stuf("noValue"), "geenWaarde")
    return element
