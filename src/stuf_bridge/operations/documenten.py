"""voegZaakdocumentToe and maakZaakdocument (ZDS 1.1 ``edcLk01`` / ZDS 1.2 ``…_EdcLk01``) → a document of an
existing zaak in ZGW (MAPPING.md §3.9, §3.10, §4). The gateway answers Bv03.

The flow first reads and checks everything: the content (decoded into a spool; malformed base64 or a document
above ``max_document_bytes`` is a fault before anything else happens), the zaak(en) of ``isRelevantVoor``, the
informatieobjecttype by ``dct.omschrijving`` among the zaaktype's, the mapped metadata (document.yaml) and an
optional status. Then it writes, each write a named step of an ``UndoLog``::

    POST enkelvoudiginformatieobjecten      (inline base64 up to bestandsdelen_threshold_bytes, streamed)
    [PUT bestandsdelen 1..n → POST unlock]  (larger content: parts streamed from the spool)
    POST zaakinformatieobjecten             (per zaak)
    [POST statussen]                        (stt.* / sta.datumStatusGezet of the relation)

On failure the zaakinformatieobjecten are deleted, then the document (emptied and unlocked first when an upload
in parts was interrupted): the backend is as it was before the message.

The other document operations live in document_vragen.py (questions) and document_bewerken.py (checkout,
check-in, cancelCheckout, ontkoppelen).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..errors import ProcessingError
from ..zgw.documents import (
    discard_document,
    from_content,
    post_document,
    unlock_document,
    uses_bestandsdelen,
)
from . import MessageContext, handler
from .common import JSON, later_than, statussen, zkn
from .compensation import delete_created
from .document_common import child, children, is_nil, upload_parts, zaak_or_fault

if TYPE_CHECKING:
    from ..mapping import MappedObject, MappingContext
    from ..zgw.documents import ByteSource


@handler("voegZaakdocumentToe", "maakZaakdocument")
async def voeg_zaakdocument_toe(ctx: MessageContext) -> None:
    """voegZaakdocumentToe, and maakZaakdocument: a document without content yet (updateZaakdocument fills it
    later), ZDS 1.2 §4.3.5."""
    zgw, mappings = ctx.backend
    obj = _the_object(ctx)

    # --- read and look up (nothing written yet) ---
    inhoud = child(obj, "inhoud")
    content = ctx.content(inhoud) if inhoud is not None else None  # malformed / too large: StUF055 here
    context = ctx.mapping_context(rsin=ctx.rsin)
    document = ctx.mapped(mappings.to_zgw("EDC", obj, context=context))
    links = _links(ctx, obj, context)
    zaken = await asyncio.gather(*(zaak_or_fault(ctx, identificatie) for identificatie in links))
    omschrijving = str((document.expand.get("informatieobjecttype") or {}).get("omschrijving") or "").strip()
    if not omschrijving:
        raise ProcessingError(
            "Het documenttype ontbreekt",
            f"{ctx.operation.name}: object/dct.omschrijving (het informatieobjecttype) is verplicht.",
            plek="client",
            reason="required-element-missing",
        )
    zaaktypen = await asyncio.gather(*(zgw.catalogue.zaaktype_by_url(str(zaak["zaaktype"])) for zaak in zaken))
    # an unknown omschrijving is a CatalogueNotFound naming what the zaaktype has (StUF058, plek client)
    iots = await asyncio.gather(*(zgw.catalogue.informatieobjecttype(zt, omschrijving) for zt in zaaktypen))
    body = {**document.body, "informatieobjecttype": iots[0]["url"]}
    if inhoud is not None and not is_nil(inhoud) and (content is None or content.size == 0):
        # an inhoud of 0 bytes (issue 18, finding 11): the document is created without content, as maakZaakdocument
        # does, and the client is told; updateZaakdocument fills it later
        ctx.warnings.append(f"{ctx.operation.name}: inhoud is leeg; het document is zonder inhoud aangemaakt (zoals "
                            "maakZaakdocument), vul het met updateZaakdocument")
        content = None
    if content is None:
        body["bestandsomvang"] = 0  # an empty document (maakZaakdocument): DRC gives it empty content
    data = from_content(content) if content is not None else None
    link_statussen = await _statussen_of_links(ctx, links, zaken, zaaktypen)
    threshold = ctx.settings.bestandsdelen_threshold_bytes

    # --- write ---
    async with ctx.undo as undo:
        created = await undo.step(
            "POST enkelvoudiginformatieobjecten",
            post_document(zgw, body, data, threshold),
            undo=lambda eio: discard_document(zgw, eio["url"], eio.get("lock")),
        )
        url = created["url"]
        if data is not None and uses_bestandsdelen(data, threshold):
            await _upload_parts(ctx, created, data, str(body.get("bestandsnaam") or "inhoud"))
        for (identificatie, link), zaak in zip(links.items(), zaken, strict=True):
            zio = {"titel": body.get("titel"), **link.body, "zaak": zaak["url"], "informatieobject": url}
            zio = {key: value for key, value in zio.items() if value is not None}
            await undo.step(
                f"POST zaakinformatieobjecten ({identificatie})",
                zgw.zaken.create("zaakinformatieobjecten", zio),
                undo=delete_created(zgw.zaken),
            )
        for zaak_url, label, status in link_statussen:
            # statussen cannot be deleted in ZRC 1.5: the status is the last step, nothing after it can fail
            await undo.step(f"POST statussen ({label})", zgw.zaken.create("statussen", {**status, "zaak": zaak_url}))


async def _upload_parts(ctx: MessageContext, created: JSON, data: ByteSource, filename: str) -> None:
    """PUT every bestandsdeel, streamed from the spool in order, then unlock: the API joins the parts."""
    lock = str(created.get("lock") or "")
    await upload_parts(ctx, created, lock, data, filename)
    unlocked = unlock_document(ctx.backend.zgw, created["url"], lock)
    await ctx.undo.step("POST enkelvoudiginformatieobjecten/unlock", unlocked)


def _the_object(ctx: MessageContext) -> etree._Element:
    """The document: the (last) object of the kennisgeving, mutatiesoort T."""
    objects = [o for o in children(ctx.message, "object") if not is_nil(o)]
    if not objects:
        raise ProcessingError(
            f"{ctx.operation.name} heeft een object nodig",
            "Het bericht heeft geen ZKN:object met het document.",
            plek="client",
            reason="wrong-object-count",
        )
    return objects[-1]


def _links(ctx: MessageContext, obj: etree._Element, context: MappingContext) -> dict[str, MappedObject]:
    """isRelevantVoor per zaak identificatie (a repeated relation to the same zaak counts once; Suites4Sociaal-
    Domein sends it twice)."""
    links: dict[str, MappedObject] = {}
    for relation in children(obj, "isRelevantVoor"):
        if is_nil(relation):
            continue
        mapped = ctx.mapped(ctx.backend.mappings.to_zgw("EDCZAK", relation, context=context))
        identificatie = str((mapped.expand.get("zaak") or {}).get("identificatie") or "").strip()
        if not identificatie:
            continue
        if identificatie in links:
            ctx.warnings.append(f"isRelevantVoor: zaak {identificatie} staat er meer dan eens; één koppeling")
            continue
        links[identificatie] = mapped
    if not links:
        raise ProcessingError(
            "De zaak ontbreekt",
            f"{ctx.operation.name}: object/isRelevantVoor/gerelateerde/identificatie (de zaak van het document) "
            "is verplicht.",
            plek="client",
            reason="zaak-identificatie-missing",
        )
    return links


async def _statussen_of_links(
    ctx: MessageContext,
    links: dict[str, MappedObject],
    zaken: list[JSON],
    zaaktypen: list[JSON],
) -> list[tuple[str, str, JSON]]:
    """(zaak URL, label, status body) for each relation with stt.omschrijving/stt.volgnummer. A status the zaak
    already has as its current one is not set again (clients send the current status with every document)."""
    out: list[tuple[str, str, JSON]] = []
    for link, zaak, zaaktype in zip(links.values(), zaken, zaaktypen, strict=True):
        keys = link.expand.get("status") or {}
        if not keys.get("omschrijving") and keys.get("volgnummer") is None:
            continue
        if not keys.get("datumStatusGezet"):
            raise ProcessingError(
                "sta.datumStatusGezet ontbreekt",
                "isRelevantVoor met stt.omschrijving/stt.volgnummer heeft ook sta.datumStatusGezet nodig.",
                plek="client",
                reason="required-element-missing",
            )
        heeft = _heeft(keys)
        context = ctx.mapping_context(zaaktype=zaaktype.get("identificatie"))
        [(label, body)] = await statussen(ctx, heeft, context, zaaktype)
        current = await ctx.backend.zgw.get(str(zaak["status"])) if zaak.get("status") else None
        if current is not None and current.get("statustype") == body["statustype"]:
            ctx.warnings.append(f"zaak {zaak.get('identificatie')} heeft status {label!r} al; niet opnieuw gezet")
            continue
        gezet = (current or {}).get("datumStatusGezet")
        if gezet and datetime.fromisoformat(body["datumStatusGezet"]) <= datetime.fromisoformat(gezet):
            # ZGW's current status is the latest datumStatusGezet: the new one goes just after the current one,
            # read again here (the case files pin this GET; ``current`` would do as well)
            again = await ctx.backend.zgw.get(str(zaak["status"]))
            body["datumStatusGezet"] = await later_than(ctx, again, body["datumStatusGezet"])
        body["statustoelichting"] = body.get("statustoelichting") or "Gezet bij het toevoegen van een document"
        out.append((zaak["url"], label, body))
    return out


def _heeft(keys: dict[str, Any]) -> etree._Element:
    """The status of an EDCZAK relation as the ZAKSTT relation (heeft) that creeerZaak reads."""
    obj = etree.Element(zkn("object"))
    heeft = etree.SubElement(obj, zkn("heeft"))
    gerelateerde = etree.SubElement(heeft, zkn("gerelateerde"))
    if keys.get("volgnummer") is not None:
        etree.SubElement(gerelateerde, zkn("volgnummer")).text = str(keys["volgnummer"])
    if keys.get("omschrijving"):
        etree.SubElement(gerelateerde, zkn("omschrijving")).text = str(keys["omschrijving"])
    etree.SubElement(heeft, zkn("datumStatusGezet")).text = str(keys["datumStatusGezet"])
    return obj
