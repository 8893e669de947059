"""geefLijstZaakdocumenten (→ ZAK La01) and geefZaakdocumentLezen (→ EDC La01), MAPPING.md §3.7 and §3.11.

geefLijstZaakdocumenten: ``GET zaken?identificatie`` → ``GET zaakinformatieobjecten?zaak=`` → each document and
its informatieobjecttype (catalogue cache), concurrently, at most ``FETCH_CONCURRENCY`` at a time (issue 18,
finding 12: one by one, a zaak with 40 documents took seconds) → ``antwoord/object/heeftRelevant`` per document
(document.yaml, ZAKEDC). An unknown zaak answers La01 without ``antwoord``.

geefZaakdocumentLezen: ``GET enkelvoudiginformatieobjecten?identificatie`` → the informatieobjecttype, the
zaakinformatieobjecten and their zaken → ``antwoord/object`` with ``inhoud``: its bytes are not read here; the
gateway streams the download into the answer as base64 (``MessageContext.stream_out``). An unknown document
answers La01 without ``antwoord``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lxml import etree

from ..stuf.namespaces import STUF, XSI, Dialect
from ..zgw.documents import find_document
from . import MessageContext, handler
from .common import JSON, la01, lookup_zaak, zkn
from .document_common import child, edc_object, required_text

if TYPE_CHECKING:
    from ..mapping import Mappings
    from ..zgw import ZgwClients


@handler("geefLijstZaakdocumenten")
async def geef_lijst_zaakdocumenten(ctx: MessageContext) -> etree._Element:
    zgw, mappings = ctx.backend
    identificatie = required_text(ctx, child(ctx.message, "gelijk"), "identificatie", reason="selection-missing")
    root = la01(ctx, "ZAK")
    zaak = await lookup_zaak(ctx, identificatie)
    if zaak is None:
        return root  # La01 without antwoord: no such zaak (MAPPING.md §1.3)
    documenten = await relevante_documenten(zgw, zaak)

    antwoord = etree.SubElement(root, zkn("antwoord"))
    obj = etree.SubElement(antwoord, zkn("object"))
    obj.set(f"{{{STUF}}}entiteittype", "ZAK")
    etree.SubElement(obj, zkn("identificatie")).text = zaak["identificatie"]
    if zaak.get("omschrijving"):
        etree.SubElement(obj, zkn("omschrijving")).text = str(zaak["omschrijving"])[:80]
    for element in heeft_relevant(ctx, mappings, documenten):
        obj.append(element)
    if not documenten and ctx.dialect is Dialect.ZDS12:  # ZDS 1.2 requires heeftRelevant: nil, "no value"
        relevant = etree.SubElement(obj, zkn("heeftRelevant"))
        relevant.set(f"{{{STUF}}}entiteittype", "ZAKEDC")
        relevant.set(f"{{{XSI}}}nil", "true")
        relevant.set(f"{{{STUF}}}noValue", "geenWaarde")
    return root


#: Document GETs of one message in flight at once: enough to hide the round trips, few enough to leave the
#: connection pool (``zgw_max_connections``, 20) to the other messages and not to flood the backend.
FETCH_CONCURRENCY = 8


async def relevante_documenten(zgw: ZgwClients, zaak: JSON, *, concurrency: int = FETCH_CONCURRENCY) -> list[JSON]:
    """The zaak's zaakinformatieobjecten, each with its document and the document's informatieobjecttype in
    ``_expand`` (the shape the ZAKEDC mapping writes), fetched concurrently, ``concurrency`` at a time (the
    informatieobjecttypen come from the catalogue cache, one request per type)."""
    zios = [zio for zio in await zgw.zaken.list("zaakinformatieobjecten", {"zaak": zaak["url"]})
            if zio.get("zaak") in (None, zaak["url"])]
    gate = asyncio.Semaphore(concurrency)

    async def fetch(zio: JSON) -> tuple[JSON, JSON]:
        async with gate:
            doc = await zgw.get(str(zio["informatieobject"]))
            return doc, await zgw.catalogue.informatieobjecttype_by_url(str(doc["informatieobjecttype"]))

    fetched = await asyncio.gather(*(fetch(zio) for zio in zios))
    out = []
    for zio, (doc, iot) in zip(zios, fetched, strict=True):
        expand = {"informatieobjecttype": {"omschrijving": iot.get("omschrijving")},
                  "link": doc.get("link") or doc.get("url")}
        out.append({**zio, "_expand": {"informatieobject": {**doc, "_expand": expand}}})
    return out


def heeft_relevant(ctx: MessageContext, mappings: Mappings, relevant: list[JSON]) -> list[etree._Element]:
    """One ``heeftRelevant`` (ZAKEDC) per item of ``relevante_documenten``."""
    context = ctx.mapping_context()
    out = []
    for data in relevant:
        element = etree.Element(zkn("heeftRelevant"))
        ctx.warnings.extend(mappings.to_stuf("ZAKEDC", data, element, dialect=ctx.dialect, context=context))
        out.append(element)
    return out


@handler("geefZaakdocumentLezen")
async def geef_zaakdocument_lezen(ctx: MessageContext) -> etree._Element:
    identificatie = required_text(ctx, child(ctx.message, "gelijk"), "identificatie", reason="selection-missing")
    root = la01(ctx, "EDC")
    eio = await find_document(ctx.backend.zgw, identificatie)
    if eio is None:
        return root  # La01 without antwoord: no such document
    antwoord = etree.SubElement(root, zkn("antwoord"))
    antwoord.append(await edc_object(ctx, eio))
    return root
