"""Checkout, check-in, cancelCheckout and ontkoppelen of a zaakdocument (MAPPING.md §3.12–3.15, §4).

ZDS's ``checkedOutId`` is the Documenten API's lock, one to one (both peers): there is no lock owner, no private
working copy and no major/minor version in ZGW.

* geefZaakdocumentbewerken (→ Du02): refused for a locked document; ``POST …/lock``; the answer holds the lock
  as ``checkedOutId`` and the document as geefZaakdocumentLezen gives it (content included). A definitief document
  can be checked out (ZaakBrug's ketentest expects it); its check-in is refused, cancelCheckout ends the checkout.
* updateZaakdocument (→ Bv02): the changed fields of the new object (and new content) in a ``PATCH`` under the
  lock, then ``POST …/unlock``. Without checkedOutId the gateway locks and unlocks itself. On failure the
  document gets its earlier fields and content back (a new version with the old state: ZGW keeps every version)
  and a lock of the gateway's own is released; a client's checkout stays as it was.
* cancelCheckout (→ Bv02): ``POST …/unlock`` with the checkedOutId, after the gateway has compared it with the
  lock it handed out (``checkouts.py``): Open Zaak ignores the lock of an unlock by a client holding
  ``documenten.geforceerd-unlock``, so its own check cannot be relied on. A wrong one is a fault, and so is a
  checkout the gateway did not hand out.
* ontkoppelZaakdocument (ZDS 1.2, → Bv02): ``DELETE`` the zaakinformatieobject; the document stays.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..errors import ProcessingError
from ..stuf.namespaces import STUF, ZDS, ZKN, Dialect
from ..stuf.stuurgegevens import write_stuurgegevens
from ..zgw import CatalogueLookupError
from ..zgw.documents import (
    PartReader,
    from_content,
    from_download,
    lock_document,
    parts_of,
    patch_document,
    put_part,
    unlock_document,
    uses_bestandsdelen,
)
from . import MessageContext, checkouts, handler
from .common import JSON, zkn
from .compensation import post_back
from .document_common import (
    check_lock,
    child,
    children,
    document_or_fault,
    edc_object,
    is_nil,
    refuse_definitief,
    required_text,
    text,
    upload_parts,
    zaak_or_fault,
)

if TYPE_CHECKING:
    from ..zgw import ZgwClients


# --- geefZaakdocumentbewerken (checkout) --------------------------------------------------------------------------


@handler("geefZaakdocumentbewerken")
async def geef_zaakdocument_bewerken(ctx: MessageContext) -> etree._Element:
    zgw = ctx.backend.zgw
    vraag = child(ctx.message, "edcLv01")
    identificatie = required_text(ctx, vraag, "gelijk", "identificatie", reason="selection-missing")
    eio = await document_or_fault(ctx, identificatie)  # a definitief one too: it can be read, not checked in
    check_lock(eio, locked=False, details=f"Document {identificatie!r} is al uitgecheckt (de Documenten API heeft "
               "er een lock op); eerst inchecken (updateZaakdocument) of cancelCheckout.")
    url = str(eio["url"])
    async with ctx.undo as undo:  # an answer that cannot be built releases the lock again
        lock = await undo.step(
            "POST enkelvoudiginformatieobjecten/lock", lock_document(zgw, url), undo=_unlocker(zgw, url)
        )
        obj = await edc_object(ctx, eio, complete=True)
        await checkouts.remember(ctx.store, url, lock)
        return _du02(ctx, lock, obj)


def _du02(ctx: MessageContext, lock: str, obj: etree._Element) -> etree._Element:
    op = ctx.operation
    frame = ZKN if ctx.dialect is Dialect.ZDS11 else ZDS
    nsmap = {"StUF": STUF, "ZKN": ZKN} | ({"ZDS": ZDS} if frame == ZDS else {})
    root = etree.Element(f"{{{op.response[0]}}}{op.response[1]}", nsmap=nsmap)
    write_stuurgegevens(root, f"{{{frame}}}stuurgegevens", "Du02", ctx.parties, functie=op.functie)
    parameters = etree.SubElement(root, f"{{{frame}}}parameters")
    etree.SubElement(parameters, f"{{{frame}}}checkedOutId").text = lock
    gebruiker = ctx.stuurgegevens.zender.gebruiker if ctx.stuurgegevens.zender else None
    if gebruiker:  # ZGW keeps no lock owner: the user who asked
        etree.SubElement(parameters, f"{{{frame}}}checkedOutBy").text = gebruiker
    antwoord_edc = etree.SubElement(root, f"{{{frame}}}edcLa01")
    antwoord_edc.set(f"{{{STUF}}}entiteittype", "EDC")
    antwoord_edc.set(f"{{{STUF}}}functie", "antwoord")
    etree.SubElement(antwoord_edc, zkn("parameters"))
    etree.SubElement(antwoord_edc, zkn("antwoord")).append(obj)
    return root


# --- updateZaakdocument (check-in) --------------------------------------------------------------------------------


@handler("updateZaakdocument")
async def update_zaakdocument(ctx: MessageContext) -> None:
    zgw, mappings = ctx.backend
    checked_out_id = text(ctx.message, "parameters", "checkedOutId")
    objects = [o for o in children(child(ctx.message, "edcLk02"), "object") if not is_nil(o)]
    if not objects:
        raise ProcessingError(
            "Het document ontbreekt", "edcLk02/object (het nieuwe document) is verplicht.", plek="client",
            reason="wrong-object-count",
        )
    new = objects[-1]
    identificatie = text(new, "identificatie") or text(objects[0], "identificatie")
    if not identificatie:
        raise ProcessingError(
            "identificatie ontbreekt", "edcLk02/object/identificatie is verplicht.", plek="client",
            reason="required-element-missing",
        )

    # --- read and check (nothing written yet) ---
    inhoud = child(new, "inhoud")
    content = ctx.content(inhoud) if inhoud is not None else None  # malformed / too large: StUF055 here
    eio = await document_or_fault(ctx, identificatie)
    refuse_definitief(ctx, eio)
    check_lock(eio, locked=bool(checked_out_id), details=(
        f"updateZaakdocument met checkedOutId, maar document {identificatie!r} heeft geen lock." if checked_out_id
        else f"Document {identificatie!r} is uitgecheckt; geef de checkedOutId van geefZaakdocumentbewerken mee."))
    mapped = ctx.mapped(mappings.to_zgw("EDC", new, context=ctx.mapping_context("update")))
    changes = mapped.patch_body()
    changes.pop("identificatie", None)  # the key, not a change
    await _informatieobjecttype_change(ctx, eio, mapped.expand, changes)
    data = from_content(content) if content is not None else None
    threshold = ctx.settings.bestandsdelen_threshold_bytes
    url = str(eio["url"])
    if checked_out_id:  # the PATCH carries the lock too; the unlock after it would not check it (geforceerd-unlock)
        await checkouts.verify(ctx.store, url, checked_out_id, identificatie, unknown_is_fault=False)

    # --- write ---
    async with ctx.undo as undo:
        if checked_out_id:
            lock = checked_out_id
        else:
            lock = await undo.step(
                "POST enkelvoudiginformatieobjecten/lock", lock_document(zgw, url), undo=_unlocker(zgw, url)
            )
        updated = await undo.step(
            "PATCH enkelvoudiginformatieobjecten",
            patch_document(zgw, url, changes, lock, data, threshold),
            undo=_restorer(zgw, eio, set(changes), lock, data is not None, threshold, own_lock=not checked_out_id),
        )
        if data is not None and uses_bestandsdelen(data, threshold):
            await upload_parts(ctx, updated, lock, data, str(changes.get("bestandsnaam") or "inhoud"))
        await undo.step("POST enkelvoudiginformatieobjecten/unlock", unlock_document(zgw, url, lock))
    if checked_out_id:
        await checkouts.forget(ctx.store, url)


async def _informatieobjecttype_change(ctx: MessageContext, eio: JSON, expand: dict[str, Any], changes: JSON
                                       ) -> None:
    """A new dct.omschrijving: the informatieobjecttype of that name of the (first) zaak's zaaktype. One the
    zaaktype does not have leaves the type as it is, with a warning (ZaakBrug's ketentest sends free text here)."""
    omschrijving = str((expand.get("informatieobjecttype") or {}).get("omschrijving") or "").strip()
    if not omschrijving:
        return
    zgw = ctx.backend.zgw
    current = await zgw.catalogue.informatieobjecttype_by_url(str(eio["informatieobjecttype"]))
    if str(current.get("omschrijving") or "").casefold() == omschrijving.casefold():
        return
    zios = await zgw.zaken.list("zaakinformatieobjecten", {"informatieobject": eio["url"]})
    if not zios:
        ctx.warnings.append(f"dct.omschrijving {omschrijving!r}: het document hoort bij geen zaak; "
                            "informatieobjecttype niet gewijzigd")
        return
    zaak = await zgw.get(str(zios[0]["zaak"]))
    zaaktype = await zgw.catalogue.zaaktype_by_url(str(zaak["zaaktype"]))
    try:
        changes["informatieobjecttype"] = (await zgw.catalogue.informatieobjecttype(zaaktype, omschrijving))["url"]
    except CatalogueLookupError as exc:
        ctx.warnings.append(f"dct.omschrijving {omschrijving!r}: {exc}; informatieobjecttype niet gewijzigd")


def _restorer(
    zgw: ZgwClients,
    before: JSON,
    fields: set[str],
    lock: str,
    content_changed: bool,
    threshold: int,
    *,
    own_lock: bool,
) -> Callable[[JSON], Awaitable[None]]:
    """Undo of the PATCH: the changed fields back to their earlier values, and the earlier content (streamed from
    the download of the earlier version) when the content was replaced. Under the client's lock the content goes
    back inline (streamed): parts would stay unjoined until the client's own unlock."""

    async def restore(_updated: JSON) -> None:
        body = {name: before.get(name) for name in fields}
        old = from_download(zgw, before) if content_changed and before.get("inhoud") else None
        if content_changed and old is None:
            body.update({"inhoud": None, "bestandsomvang": before.get("bestandsomvang") or 0})
        url = str(before["url"])
        limit = threshold if own_lock or old is None else max(threshold, old.size)
        restored = await patch_document(zgw, url, body, lock, old, limit)
        if old is not None and uses_bestandsdelen(old, limit):
            reader = PartReader(old)
            try:
                for part in parts_of(restored):
                    await put_part(zgw, part, lock, reader, str(before.get("bestandsnaam") or "inhoud"))
            finally:
                await reader.aclose()

    return restore


def _unlocker(zgw: ZgwClients, url: str) -> Callable[[str], Awaitable[None]]:
    async def unlock(lock: str) -> None:
        await unlock_document(zgw, url, lock)

    return unlock


# --- cancelCheckout -------------------------------------------------------------------------------------------


@handler("cancelCheckout")
async def cancel_checkout(ctx: MessageContext) -> None:
    checked_out_id = required_text(ctx, ctx.message, "parameters", "checkedOutId")
    identificatie = required_text(ctx, ctx.message, "document", "identificatie")
    eio = await document_or_fault(ctx, identificatie)
    check_lock(eio, locked=True, details=f"cancelCheckout: document {identificatie!r} heeft geen lock.")
    url = str(eio["url"])
    await checkouts.verify(ctx.store, url, checked_out_id, identificatie, unknown_is_fault=True)
    await unlock_document(ctx.backend.zgw, url, checked_out_id)  # the Documenten API checks it too, if it may
    await checkouts.forget(ctx.store, url)


# --- ontkoppelZaakdocument (ZDS 1.2) -----------------------------------------------------------------------------


@handler("ontkoppelZaakdocument")
async def ontkoppel_zaakdocument(ctx: MessageContext) -> None:
    zgw = ctx.backend.zgw
    objects = [o for o in children(child(ctx.message, "edcLk02"), "object") if not is_nil(o)]
    identificatie = next((text(o, "identificatie") for o in objects if text(o, "identificatie")), "")
    zaak_id = next(
        (
            text(relation, "gerelateerde", "identificatie")
            for o in objects
            for relation in children(o, "isRelevantVoor")
            if text(relation, "gerelateerde", "identificatie")
        ),
        "",
    )
    if not identificatie or not zaak_id:
        raise ProcessingError(
            "Document of zaak ontbreekt",
            "ontkoppelZaakdocument heeft object/identificatie en (in het oude object) "
            "isRelevantVoor/gerelateerde/identificatie nodig.",
            plek="client",
            reason="required-element-missing",
        )
    eio = await document_or_fault(ctx, identificatie)
    zaak = await zaak_or_fault(ctx, zaak_id)
    check_lock(eio, locked=False, details=f"ontkoppelZaakdocument: document {identificatie!r} is uitgecheckt; "
               "eerst inchecken of cancelCheckout.")
    zios = [
        zio for zio in await zgw.zaken.list(
            "zaakinformatieobjecten", {"zaak": zaak["url"], "informatieobject": eio["url"]}
        )
        if zio.get("zaak") == zaak["url"] and zio.get("informatieobject") == eio["url"]
    ]
    if not zios:
        raise ProcessingError(
            "Het document hoort niet bij de zaak",
            f"Document {identificatie!r} is niet gekoppeld aan zaak {zaak_id!r}.",
            plek="client",
            reason="document-not-linked-to-zaak",
        )
    async with ctx.undo as undo:
        for zio in zios:
            body = {k: zio.get(k) for k in ("zaak", "informatieobject", "titel", "beschrijving") if zio.get(k)}
            await undo.step("DELETE zaakinformatieobjecten", zgw.zaken.delete(str(zio["url"])),
                            undo=post_back(zgw.zaken, "zaakinformatieobjecten", body))
