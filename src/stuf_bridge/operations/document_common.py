"""What the document flows share: reading the messages of both dialects, finding the document, and writing a
document as an EDC answer object with its content streamed out (MAPPING.md §3.7–3.15, §4).

The Di02 messages of ZDS 1.2 keep their frame (``stuurgegevens``, ``parameters``, ``edcLk02``) in the zds0120
namespace and the entity content in ZKN; ZDS 1.1 has everything in ZKN. The helpers here look children up by local
name, so one flow reads both.
"""

from __future__ import annotations

import asyncio

from lxml import etree

from ..errors import ProcessingError
from ..stuf.namespaces import STUF, XMIME, XSI
from ..zgw.documents import ByteSource, PartReader, content_type, from_download, parts_of, put_part
from . import MessageContext
from .common import JSON, find_document_or_fault, find_zaak, missing_code, zkn

# --- reading ----------------------------------------------------------------------------------------------------


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    """The first child with this local name, in whatever namespace."""
    if el is None:
        return None
    return next((c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == name), None)


def children(el: etree._Element | None, name: str) -> list[etree._Element]:
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == name]


def text(el: etree._Element | None, *path: str) -> str:
    """The stripped text at a path of local names ('' when absent)."""
    for name in path:
        el = child(el, name)
    return (el.text or "").strip() if el is not None else ""


def is_nil(el: etree._Element) -> bool:
    return el.get(f"{{{XSI}}}nil") in ("true", "1")


def required_text(ctx: MessageContext, el: etree._Element | None, *path: str,
                  reason: str = "required-element-missing") -> str:
    """The text at ``path``; absent or empty is a fault naming the path."""
    value = text(el, *path)
    if not value:
        raise ProcessingError(
            f"{path[-1]} ontbreekt",
            f"{'/'.join(path)} is verplicht in {ctx.operation.name}.",
            plek="client",
            reason=reason,
        )
    return value


async def document_or_fault(ctx: MessageContext, identificatie: str) -> JSON:
    return await find_document_or_fault(ctx, identificatie, operation=ctx.operation.name, code=missing_code(ctx))


async def zaak_or_fault(ctx: MessageContext, identificatie: str) -> JSON:
    return await find_zaak(ctx, identificatie, operation=ctx.operation.name, code=missing_code(ctx))


def check_lock(eio: JSON, *, locked: bool, details: str) -> None:
    """A fault unless the document is checked out (has a lock) exactly when ``locked``: ``document-checked-out``
    or ``document-not-checked-out``, with ``details`` saying what the client can do."""
    if bool(eio.get("locked")) == locked:
        return
    if locked:
        raise ProcessingError("Het document is niet uitgecheckt", details, plek="client",
                              reason="document-not-checked-out")
    raise ProcessingError("Het document is uitgecheckt", details, plek="client", reason="document-checked-out")


def refuse_definitief(ctx: MessageContext, eio: JSON) -> None:
    if eio.get("status") == "definitief":
        raise ProcessingError(
            "Het document is definitief",
            f"{ctx.operation.name}: document {eio.get('identificatie')!r} heeft status definitief; de Documenten API "
            "staat geen wijzigingen meer toe (drc-010).",
            plek="client",
            reason="document-definitief",
        )


# --- answering --------------------------------------------------------------------------------------------------


async def edc_object(ctx: MessageContext, eio: JSON, *, complete: bool = False) -> etree._Element:
    """``antwoord/object`` (EDC) for a document: its metadata (document.yaml), ``inhoud`` whose bytes the gateway
    streams in from the download, and an ``isRelevantVoor`` per zaak. ``complete``: fill the fields the Du02 of
    geefZaakdocumentbewerken requires without nil (formaat, titel)."""
    zgw, mappings = ctx.backend
    iot, zios = await asyncio.gather(
        zgw.catalogue.informatieobjecttype_by_url(str(eio["informatieobjecttype"])),
        zgw.zaken.list("zaakinformatieobjecten", {"informatieobject": eio["url"]}),
    )
    zios = [zio for zio in zios if zio.get("informatieobject") in (None, eio["url"])]
    zaken = await asyncio.gather(*(zgw.get(str(zio["zaak"])) for zio in zios))

    data = {
        **eio,
        "_expand": {
            "informatieobjecttype": {
                "omschrijving": iot.get("omschrijving"),
                "informatieobjectcategorie": iot.get("informatieobjectcategorie"),
            },
            "link": eio.get("link") or eio.get("url"),
        },
    }
    if complete:
        data["formaat"] = eio.get("formaat") or content_type(eio)
        data["titel"] = eio.get("titel") or eio.get("bestandsnaam") or eio.get("identificatie")
    context = ctx.mapping_context()
    obj = etree.Element(zkn("object"))
    ctx.warnings.extend(mappings.to_stuf("EDC", data, obj, dialect=ctx.dialect, context=context))

    inhoud = etree.Element(zkn("inhoud"), nsmap={"xmime": XMIME})
    inhoud.set(f"{{{XMIME}}}contentType", content_type(eio))
    inhoud.set(f"{{{STUF}}}bestandsnaam", str(eio.get("bestandsnaam") or eio.get("identificatie") or "document"))
    mappings.insert_ordered("EDC", obj, inhoud)
    if eio.get("inhoud"):
        source = from_download(zgw, eio)
        ctx.stream_out(inhoud, source.open, source.size, replay=str(eio["inhoud"]))

    for zio, zaak in zip(zios, zaken, strict=True):
        relation = etree.Element(zkn("isRelevantVoor"))
        link = {**zio, "_expand": {"zaak": {"identificatie": zaak.get("identificatie"),
                                            "omschrijving": zaak.get("omschrijving")}}}
        ctx.warnings.extend(mappings.to_stuf("EDCZAK", link, relation, dialect=ctx.dialect, context=context))
        mappings.insert_ordered("EDC", obj, relation)
    return obj


async def upload_parts(ctx: MessageContext, document: JSON, lock: str, data: ByteSource, filename: str) -> None:
    """PUT every bestandsdeel of ``document`` under ``lock``, streamed from ``data`` in order (each a step)."""
    parts = parts_of(document)
    reader = PartReader(data)
    try:
        for index, part in enumerate(parts, 1):
            await ctx.undo.step(f"PUT bestandsdelen ({index}/{len(parts)})",
                                put_part(ctx.backend.zgw, part, lock, reader, filename))
    finally:
        await reader.aclose()
