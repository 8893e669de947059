"""What the gateway asks the legacy zaaksysteem when it copies a zaak: its own ZDS 1.1 questions, with the gateway's
own zender and a fresh referentienummer each (never a client's stuurgegevens: Open Zaakbrug reuses them, and a
legacy system that keeps idempotency records then answers the client's old question), over the legacy client.

* :meth:`LegacySource.zaak`: ``geefZaakdetails_Lv01`` with ``StUF:scope="alles"`` — the zaak, its rollen,
  statussen, resultaat, zaakobjecten, kenmerken, eigenschappen and relations;
* :meth:`LegacySource.documents`: ``geefLijstZaakdocumenten_Lv01`` — the identificaties of its documents;
* :meth:`LegacySource.besluit`: ``geefBesluitdetails_BslLv01`` (ZDS 1.2, scope alles) — one of the zaak's besluiten
  (``leidtTot``) with its documents (``isVastgelegdIn``); a legacy system that only speaks ZDS 1.1 faults, and the
  copy then takes what the zaak's ``leidtTot`` relation says;
* :meth:`LegacySource.document`: ``geefZaakdocumentLezen_Lv01`` — one document, its answer **streamed**: the body
  is fed to the gateway's own hardened reader piece by piece as it arrives, which spools the ``inhoud`` to disk
  (``content.py``), so a 100 MB document never sits in memory whole.

A legacy system that does not know the zaak answers with an empty La01 or a StUF fault: that is ``None`` (not
there). Anything else that is no answer raises the legacy client's typed error (``legacy/errors.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from lxml import etree

from ..content import Content
from ..errors import MessageError
from ..legacy.answers import stuf_fault
from ..legacy.client import LegacyClient
from ..legacy.errors import LegacyNotSoap
from ..soap.envelope import read_request_stream
from ..stuf.namespaces import SOAP11, STUF, ZDS, ZKN
from ..stuf.registry import Service
from ..stuf.stuurgegevens import Systeem

ACTIONS = "http://www.egem.nl/StUF/sector/zkn/0310/"
ACTIONS_12 = "http://www.stufstandaarden.nl/koppelvlak/zds0120/"
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CONTENT_TYPE = "text/xml; charset=utf-8"


def z(name: str) -> str:
    return f"{{{ZKN}}}{name}"


@dataclass
class LegacyZaak:
    """A zaak as legacy gave it: the ``antwoord/object`` element and the answer's zender organisatie."""

    object: etree._Element
    organisatie: str | None

    @property
    def identificatie(self) -> str:
        return (self.object.findtext(z("identificatie")) or "").strip()

    @property
    def zaaktype(self) -> str | None:
        code = (self.object.findtext(f"{z('isVan')}/{z('gerelateerde')}/{z('code')}") or "").strip()
        return code or None


class LegacyDocument:
    """One document as legacy gave it (``antwoord/object`` of an edcLa01) with its content spooled; close it."""

    def __init__(self, obj: etree._Element, content: Content | None):
        self.object = obj
        self.content = content

    @property
    def size(self) -> int:
        return self.content.size if self.content is not None else 0

    def close(self) -> None:
        if self.content is not None:
            self.content.close()

    def __enter__(self) -> LegacyDocument:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class LegacySource:
    def __init__(self, client: LegacyClient, identity: Systeem):
        self.client = client
        self.identity = identity

    async def zaak(self, identificatie: str) -> LegacyZaak | None:
        envelope = self.question("zakLv01", "ZAK", identificatie,
                                  '<ZKN:object StUF:entiteittype="ZAK" StUF:scope="alles"/>')
        answer = await self.client.call(Service.BEANTWOORD_VRAAG, envelope,
                                        soap_action=f'"{ACTIONS}geefZaakdetails_Lv01"', content_type=CONTENT_TYPE)
        try:
            if answer.fault is not None:
                return None
            found = [obj for obj in answer.message.iterfind(f"{z('antwoord')}/{z('object')}")
                     if (obj.findtext(z("identificatie")) or "").strip() == identificatie]
            if not found:
                return None
            organisatie = answer.message.findtext(f"{z('stuurgegevens')}/{{{STUF}}}zender/{{{STUF}}}organisatie")
            return LegacyZaak(found[0], (organisatie or "").strip() or None)
        finally:
            answer.close()

    async def documents(self, zaak: str) -> list[str]:
        scope = ('<ZKN:object StUF:entiteittype="ZAK"><ZKN:heeftRelevant StUF:entiteittype="ZAKEDC">'
                 '<ZKN:gerelateerde StUF:entiteittype="EDC"><ZKN:identificatie xsi:nil="true"/></ZKN:gerelateerde>'
                 '</ZKN:heeftRelevant></ZKN:object>')
        envelope = self.question("zakLv01", "ZAK", zaak, scope)
        answer = await self.client.call(Service.BEANTWOORD_VRAAG, envelope,
                                        soap_action=f'"{ACTIONS}geefLijstZaakdocumenten_Lv01"',
                                        content_type=CONTENT_TYPE)
        try:
            if answer.fault is not None:
                raise LegacyNotSoap(self.client.endpoint(Service.BEANTWOORD_VRAAG),
                                    f"geefLijstZaakdocumenten voor {zaak}: StUF-fout {answer.fault.code or '-'} "
                                    f"{answer.fault.omschrijving or ''}".rstrip())
            found: list[str] = []
            for el in answer.message.iterfind(
                    f"{z('antwoord')}/{z('object')}/{z('heeftRelevant')}/{z('gerelateerde')}/{z('identificatie')}"):
                value = (el.text or "").strip()
                if value and value not in found:
                    found.append(value)
            return found
        finally:
            answer.close()

    async def besluit(self, identificatie: str) -> etree._Element | None:
        """The besluit's ``antwoord/object`` (geefBesluitdetails, ZDS 1.2); None when legacy does not give it (a
        fault, e.g. from a ZDS 1.1-only system, or no answer object)."""
        envelope = question(self.identity, "geefBesluitdetails_BslLv01", "BSL", identificatie,
                            '<ZKN:object StUF:entiteittype="BSL" StUF:scope="alles"/>', namespace=ZDS)
        answer = await self.client.call(Service.BEANTWOORD_VRAAG, envelope,
                                        soap_action=f'"{ACTIONS_12}geefBesluitdetails_BslLv01"',
                                        content_type=CONTENT_TYPE)
        try:
            if answer.fault is not None:
                return None
            found = [obj for obj in answer.message.iterfind(f"{z('antwoord')}/{z('object')}")
                     if (obj.findtext(z("identificatie")) or "").strip() == identificatie]
            return found[0] if found else None
        finally:
            answer.close()

    async def zaak_of_document(self, identificatie: str) -> str | None:
        """The zaak a document is relevant for (``isRelevantVoor``), as legacy says; None when it does not know."""
        scope = ('<ZKN:object StUF:entiteittype="EDC"><ZKN:identificatie xsi:nil="true"/>'
                 '<ZKN:isRelevantVoor StUF:entiteittype="EDCZAK"><ZKN:gerelateerde StUF:entiteittype="ZAK">'
                 '<ZKN:identificatie xsi:nil="true"/></ZKN:gerelateerde></ZKN:isRelevantVoor></ZKN:object>')
        envelope = self.question("edcLv01", "EDC", identificatie, scope)
        answer = await self.client.call(Service.BEANTWOORD_VRAAG, envelope,
                                        soap_action=f'"{ACTIONS}geefZaakdocumentLezen_Lv01"',
                                        content_type=CONTENT_TYPE)
        try:
            if answer.fault is not None:
                return None
            zaak = answer.message.findtext(f"{z('antwoord')}/{z('object')}/{z('isRelevantVoor')}/{z('gerelateerde')}/"
                                           f"{z('identificatie')}")
            return (zaak or "").strip() or None
        finally:
            answer.close()

    async def document(self, identificatie: str) -> LegacyDocument | None:
        """The document, its content spooled while the answer arrives; None when legacy does not have it."""
        envelope = self.question("edcLv01", "EDC", identificatie,
                                  '<ZKN:object StUF:entiteittype="EDC" StUF:scope="alles"/>')
        stream = await self.client.forward(Service.BEANTWOORD_VRAAG, envelope, content_type=CONTENT_TYPE,
                                           soap_action=f'"{ACTIONS}geefZaakdocumentLezen_Lv01"', length=len(envelope))
        try:
            return await read_document(stream.chunks(), stream.content_type or None, identificatie,
                                       self.client.limits, stream.endpoint, stream.status)
        finally:
            await stream.aclose()

    def question(self, root: str, entiteittype: str, identificatie: str, scope: str) -> bytes:
        return question(self.identity, root, entiteittype, identificatie, scope)


async def read_document(chunks: AsyncIterable[bytes], content_type: str | None, identificatie: str,
                        limits: dict[str, int], endpoint: str, status: int) -> LegacyDocument | None:
    """A geefZaakdocumentLezen answer (edcLa01), read from its pieces by the gateway's own hardened reader, which
    spools the ``inhoud`` to disk as it arrives: the document, or None when the answer is a fault or has no object
    with that identificatie. Whoever answered (legacy, or ZGW through the gateway's translate flow) is ``endpoint``
    in the error of an answer that is no SOAP."""
    try:
        request = await read_request_stream(
            chunks, content_type=content_type, soap_action=None, max_bytes=limits["max_bytes"],
            max_depth=limits["max_depth"], max_document_bytes=limits["max_document_bytes"])
    except MessageError as exc:
        raise LegacyNotSoap(endpoint, f"HTTP {status}, geen bruikbaar antwoord op geefZaakdocumentLezen "
                            f"({exc.omschrijving})") from exc
    message = request.body
    fault = stuf_fault(message)
    objects = [obj for obj in message.iterfind(f"{z('antwoord')}/{z('object')}")
               if (obj.findtext(z("identificatie")) or "").strip() == identificatie]
    if fault is not None or not objects:
        for spooled in request.contents:
            spooled.close()
        return None
    obj = objects[0]
    inhoud = obj.find(z("inhoud"))
    content = next((c for c in request.contents if c.element is inhoud), None) if inhoud is not None else None
    for spooled in request.contents:
        if spooled is not content:
            spooled.close()
    if content is None and inhoud is not None and (inhoud.text or "").strip():
        content = Content.from_base64(inhoud.text or "", max_bytes=limits["max_document_bytes"])
    return LegacyDocument(obj, content)


def question(identity: Systeem, root: str, entiteittype: str, identificatie: str, scope: str, *,
             namespace: str = ZKN) -> bytes:
    """A ZDS 1.1 Lv01 (``root``; ``namespace`` ZDS: a ZDS 1.2 one) selecting on identificatie, with ``identity``
    as zender and a fresh referentienummer."""
    zender = "".join(
        f"<StUF:{name}>{escape(value)}</StUF:{name}>"
        for name, value in (("organisatie", identity.organisatie),
                            ("applicatie", identity.applicatie or "stuf-bridge"))
        if value
    )
    tijdstip = datetime.now(_AMSTERDAM).strftime("%Y%m%d%H%M%S%f")[:17]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="{SOAP11}" xmlns:StUF="{STUF}" xmlns:ZKN="{ZKN}"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ROOT="{namespace}">
 <soap:Body>
  <ROOT:{root}>
   <ZKN:stuurgegevens>
    <StUF:berichtcode>Lv01</StUF:berichtcode>
    <StUF:zender>{zender}</StUF:zender>
    <StUF:ontvanger/>
    <StUF:referentienummer>{uuid.uuid4().hex}</StUF:referentienummer>
    <StUF:tijdstipBericht>{tijdstip}</StUF:tijdstipBericht>
    <StUF:entiteittype>{entiteittype}</StUF:entiteittype>
   </ZKN:stuurgegevens>
   <ZKN:parameters>
    <StUF:sortering>0</StUF:sortering>
    <StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag>
   </ZKN:parameters>
   <ZKN:gelijk StUF:entiteittype="{entiteittype}"><ZKN:identificatie>{escape(identificatie)}</ZKN:identificatie>
   </ZKN:gelijk>
   <ZKN:scope>{scope}</ZKN:scope>
  </ROOT:{root}>
 </soap:Body>
</soap:Envelope>""".encode()
