"""Besluiten (ZDS 1.2 only, MAPPING.md §3.16): voegBesluitToe, updateBesluit, geefBesluitdetails and
geefLijstBesluiten against the Besluiten API, and ``apply_leidt_tot`` for the ``leidtTot`` relation (ZAKBSL) of
creeerZaak/updateZaak.

Every mutation first looks everything up (zaak, besluittype, documents, the besluit itself) so that a message that
cannot be processed faults before anything is written; then it writes, each write a named step of an ``UndoLog``.
Field detail lives in mappings/besluit.yaml (BSL, BSLEDC, ZAKBSL).

ZGW facts the flows respect:
* identificatie is unique per verantwoordelijkeOrganisatie; BRC refuses a second one, the flow says so first;
* the besluittype is immutable (Open Zaak: LooseFkIsImmutableValidator) and must be one of the zaaktype's;
* a besluitinformatieobject needs the document's informatieobjecttype among the besluittype's;
* BRC keeps the zaak's besluiten list (``/zaken/{uuid}/besluiten``) itself.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..errors import ProcessingError
from ..stuf.namespaces import STUF, XSI
from ..stuf.values import AMSTERDAM
from ..zgw import by_identificatie
from . import MessageContext, handler
from .common import JSON, find_document_or_fault, find_zaak, la01, lookup_zaak, not_found, zkn
from .compensation import delete_created, patch_back, post_back

if TYPE_CHECKING:
    from ..mapping import Mappings
    from ..zgw import ZgwClients
VERWERKINGSSOORT = f"{{{STUF}}}verwerkingssoort"
NIL = f"{{{XSI}}}nil"
_ALLES = re.compile(r"^alles", re.IGNORECASE)

# Elements the answers must carry whatever the scope lists (ZDS 1.2 §4.1.10, §4.1.11; the La01 schemas).
BSL_REQUIRED = frozenset({"identificatie", "datumBeslissing", "ingangsdatumWerking", "tijdvakGeldigheid",
                          "isUitkomstVan"})
LIJST_REQUIRED = frozenset({"identificatie", "datumBeslissing", "ingangsdatumWerking"})


# --- "not in the future": Open Zaak compares a besluit's date with the UTC date -------------------------------


def _now() -> datetime:
    """The current moment (a seam for tests)."""
    return datetime.now(UTC)


def check_besluit_datum(datum: object, *, field_name: str = "datumBeslissing") -> None:
    """Refuse a besluit ``datum`` that the Besluiten API will refuse, with a fault that says why and when to resend.

    Open Zaak's check that ``datum`` is not in the future compares it with the *UTC* date
    (``timezone.now().date()``), while StUF dates are Amsterdam dates. Between 00:00 Amsterdam time and 00:00 UTC
    (the first one or two hours of the Amsterdam day, two in summer time) a besluit dated today is therefore
    refused. The gateway never shifts the date: it answers a fault that says exactly this and from when the same
    message will be accepted (a faulted message keeps no claim, so it can be resent as it is). A date after today
    (Amsterdam) is a client error.
    """
    if not isinstance(datum, str) or not datum:
        return
    try:
        day = date.fromisoformat(datum[:10])
    except ValueError:
        return  # the mapping has checked the form already; ZGW names anything else
    now = _now()
    today_here = now.astimezone(AMSTERDAM).date()
    today_utc = now.astimezone(UTC).date()
    if day > today_here:
        raise ProcessingError(
            f"{field_name} ligt in de toekomst",
            f"{field_name} {day:%Y%m%d} ligt na vandaag ({today_here:%Y%m%d}); de Besluiten API staat een besluit met "
            "een datum in de toekomst niet toe.",
            plek="client",
            reason="besluit-date-in-future",
        )
    if day > today_utc:
        accepted_from = datetime.combine(day, time(0), tzinfo=UTC).astimezone(AMSTERDAM)
        raise ProcessingError(
            f"{field_name} van vandaag kan pas na {accepted_from:%H:%M} worden vastgelegd",
            f"{field_name} {day:%Y%m%d} is vandaag, maar de Besluiten API (Open Zaak) vergelijkt deze datum met de "
            f"datum in UTC, en daar is het nog {today_utc:%Y-%m-%d}. Het besluit is niet vastgelegd en de datum is "
            f"niet aangepast; stuur hetzelfde bericht opnieuw vanaf {accepted_from:%Y-%m-%d %H:%M} (Amsterdamse "
            "tijd, 00:00 UTC).",
            plek="server",
            reason="besluit-date-before-utc-day",
        )


# --- shared look-ups ----------------------------------------------------------------------------------------


async def lookup_besluit(zgw: ZgwClients, identificatie: str, *, rsin: str | None, strict: bool) -> JSON | None:
    """The besluit with this identificatie. ``strict`` (mutations): only the sender's organisation's
    (``verantwoordelijkeOrganisatie=RSIN``, MAPPING.md §2.4); else any, the RSIN choosing between several."""
    params = {"verantwoordelijkeOrganisatie": rsin} if strict and rsin else None
    return await by_identificatie(zgw.besluiten, "besluiten", identificatie,
                                  organisation_field="verantwoordelijkeOrganisatie", rsin=rsin, what="Besluit",
                                  params=params)


async def _find_besluit(ctx: MessageContext, identificatie: str, *, what: str) -> JSON:
    """The sender's organisation's besluit with this identificatie; a missing one is a fault (``not_found``)."""
    besluit = await lookup_besluit(ctx.backend.zgw, identificatie, rsin=ctx.rsin, strict=True)
    if besluit is None:
        raise not_found("Besluit", identificatie,
                        f"{what}: er is geen besluit met identificatie {identificatie!r} van verantwoordelijke "
                        f"organisatie {ctx.rsin} in de Besluiten API.", reason="besluit-not-found")
    return besluit


async def _refuse_duplicate(zgw: ZgwClients, identificatie: str, rsin: str) -> None:
    """BRC keeps identificatie unique per verantwoordelijkeOrganisatie: say so before anything is written."""
    if await lookup_besluit(zgw, identificatie, rsin=rsin, strict=True) is not None:
        raise ProcessingError(
            f"Besluit {identificatie} bestaat al"[:200],
            f"Er is al een besluit met identificatie {identificatie!r} van verantwoordelijke organisatie {rsin}; "
            "een identificatie wordt één keer gebruikt (genereerBesluitIdentificatie geeft een nieuwe).",
            plek="client",
            reason="besluit-already-exists",
        )


async def _besluittype(ctx: MessageContext, zaak: JSON, omschrijving: str | None) -> JSON:
    """The besluittype among the zaak's zaaktype's by omschrijving (unknown: CatalogueNotFound, StUF058). Without
    omschrijving (optional in voegBesluitToe), the zaaktype's only besluittype valid today."""
    zgw = ctx.backend.zgw
    zaaktype = await zgw.catalogue.zaaktype_by_url(zaak["zaaktype"])
    if omschrijving:
        return await zgw.catalogue.besluittype(zaaktype, omschrijving)
    besluittypen = await zgw.catalogue.besluittypen_valid_today(zaaktype)
    if len(besluittypen) == 1:
        ctx.warnings.append(
            f"besluit zonder bst.omschrijving: het enige besluittype van zaaktype {zaaktype.get('identificatie')!r} "
            f"({besluittypen[0].get('omschrijving')!r}) is genomen"
        )
        return besluittypen[0]
    known = ", ".join(repr(bt.get("omschrijving")) for bt in besluittypen) or "geen"
    raise ProcessingError(
        "Het besluittype ontbreekt",
        f"bst.omschrijving is nodig om het besluittype te kiezen: zaaktype {zaaktype.get('identificatie')!r} "
        f"heeft er {len(besluittypen)} (bekend: {known}).",
        plek="client",
        reason="besluittype-not-determined",
    )


async def _document(ctx: MessageContext, identificatie: str, rsin: str | None) -> JSON:
    """The enkelvoudiginformatieobject with this identificatie (MAPPING.md §2.4); missing is StUF058 (client)."""
    return await find_document_or_fault(ctx, identificatie, operation="isVastgelegdIn", rsin=rsin)


def _check_iot(besluittype: JSON, document: JSON) -> None:
    """BRC refuses a besluitinformatieobject whose informatieobjecttype is not among the besluittype's."""
    allowed = besluittype.get("informatieobjecttypen")
    if isinstance(allowed, list) and document.get("informatieobjecttype") not in allowed:
        raise ProcessingError(
            "Documenttype past niet bij het besluittype",
            f"Document {document.get('identificatie')!r}: het informatieobjecttype hoort niet bij besluittype "
            f"{besluittype.get('omschrijving')!r}; zo'n document kan het besluit niet vastleggen.",
            plek="client",
            reason="informatieobjecttype-not-allowed",
        )


def _text(element: etree._Element | None, path: str) -> str:
    return ((element.findtext(path) if element is not None else None) or "").strip()


def _is_nil(element: etree._Element) -> bool:
    return element.get(NIL) in ("true", "1")


def _document_relations(ctx: MessageContext, relations: Iterable[etree._Element], kinds: Sequence[str]
                        ) -> list[str]:
    """The document identificaties of the isVastgelegdIn relations with these verwerkingssoorten (nil ones
    and relations without gerelateerde are no statement)."""
    out: list[str] = []
    for relation in relations:
        if _is_nil(relation) or relation.find(zkn("gerelateerde")) is None:
            continue
        if (relation.get(VERWERKINGSSOORT) or "T") not in kinds:
            continue
        mapped = ctx.mapped(ctx.backend.mappings.to_zgw("BSLEDC", relation, context=ctx.mapping_context()))
        identificatie = str(mapped.values.get("identificatie") or "")
        if identificatie and identificatie not in out:
            out.append(identificatie)
    return out


def _bio_step(zgw: ZgwClients, besluit_url: str, document: JSON) -> tuple[Awaitable[JSON], Any]:
    body = {"besluit": besluit_url, "informatieobject": document["url"]}
    return zgw.besluiten.create("besluitinformatieobjecten", body), delete_created(zgw.besluiten)


# --- voegBesluitToe_Di01 → Bv03 ---------------------------------------------------------------------------------


@handler("voegBesluitToe")
async def voeg_besluit_toe(ctx: MessageContext) -> None:
    zgw, mappings = ctx.backend
    obj = ctx.message.find(zkn("object"))
    besluit_el = obj.find(zkn("besluit")) if obj is not None else None
    zaak_id = _text(obj, f"{zkn('zaak')}/{zkn('identificatie')}")
    if besluit_el is None or not zaak_id:
        raise ProcessingError(
            "Besluit of zaak ontbreekt",
            "voegBesluitToe heeft object/besluit en object/zaak/identificatie nodig (ZDS 1.2 §4.1.7).",
            plek="client",
            reason="required-element-missing",
        )
    rsin = ctx.rsin

    # --- look up and map (nothing written yet) ---
    mapped = ctx.mapped(mappings.to_zgw("BSL", besluit_el, context=ctx.mapping_context(rsin=rsin)))
    if not mapped.values.get("identificatie"):  # absent, empty or nil: ask genereerBesluitIdentificatie first
        raise ProcessingError(
            "De besluitidentificatie ontbreekt",
            "voegBesluitToe heeft object/besluit/identificatie nodig (leeg of nil kan niet); vraag er een aan met "
            "genereerBesluitIdentificatie.",
            plek="client",
            reason="required-element-missing",
        )
    identificatie = str(mapped.values["identificatie"])
    document_ids = _document_relations(ctx, besluit_el.iterfind(zkn("isVastgelegdIn")), ("T", "I", "W"))
    zaak, _, documenten = await asyncio.gather(
        find_zaak(ctx, zaak_id, rsin=rsin),
        _refuse_duplicate(zgw, identificatie, rsin),
        asyncio.gather(*(_document(ctx, d, rsin) for d in document_ids)),
    )
    besluittype = await _besluittype(ctx, zaak, (mapped.expand.get("besluittype") or {}).get("omschrijving"))
    for document in documenten:
        _check_iot(besluittype, document)
    body = {**mapped.body, "besluittype": besluittype["url"], "zaak": zaak["url"]}
    check_besluit_datum(body.get("datum"))

    # --- write ---
    async with ctx.undo as undo:
        besluit = await undo.step("POST besluiten", zgw.besluiten.create("besluiten", body),
                                  undo=delete_created(zgw.besluiten))
        calls = {
            f"POST besluitinformatieobjecten ({document.get('identificatie')})": _bio_step(zgw, besluit["url"],
                                                                                           document)
            for document in documenten
        }
        if calls:
            await undo.steps(calls)


# --- updateBesluit_BslLk01 → Bv03 -------------------------------------------------------------------------------


@handler("updateBesluit")
async def update_besluit(ctx: MessageContext) -> None:
    """PATCH what changed (the new object, the last one), and add (T) or remove (V/E) besluitinformatieobjecten.
    As in updateZaak, a removed relation is identified in the old object (or the new one, if it has one)."""
    zgw, mappings = ctx.backend
    objects = [o for o in ctx.message.findall(zkn("object")) if not _is_nil(o)]
    if not objects:
        raise ProcessingError("Het object ontbreekt", "updateBesluit heeft een object nodig.", plek="client",
                              reason="wrong-object-count")
    old, new = (objects[0], objects[-1]) if len(objects) > 1 else (None, objects[0])
    identificatie = _text(new, zkn("identificatie"))

    # --- look up and map ---
    besluit = await _find_besluit(ctx, identificatie, what="updateBesluit")
    mapped = ctx.mapped(mappings.to_zgw("BSL", new, context=ctx.mapping_context("update", rsin=ctx.rsin)))
    besluittype = await zgw.catalogue.besluittype_by_url(besluit["besluittype"])
    wanted = (mapped.expand.get("besluittype") or {}).get("omschrijving")
    if wanted and wanted.casefold() != str(besluittype.get("omschrijving") or "").casefold():
        raise ProcessingError(
            "Het besluittype kan niet gewijzigd worden",
            f"Besluit {identificatie!r} heeft besluittype {besluittype.get('omschrijving')!r}; de Besluiten API staat "
            f"niet toe dat het {wanted!r} wordt. Maak een nieuw besluit (voegBesluitToe).",
            plek="client",
            reason="besluittype-immutable",
        )
    patch = {k: v for k, v in mapped.patch_body().items()
             if k not in ("identificatie", "verantwoordelijkeOrganisatie") and besluit.get(k) != v}
    check_besluit_datum(patch.get("datum"))

    new_relations = list(new.iterfind(zkn("isVastgelegdIn")))
    old_relations = list(old.iterfind(zkn("isVastgelegdIn"))) if old is not None else []
    adds = _document_relations(ctx, new_relations, ("T", "R"))
    removes = _document_relations(ctx, [*new_relations, *old_relations], ("V", "E", "R"))
    removes = [d for d in removes if d not in adds]
    for relation in new_relations:
        if relation.get(VERWERKINGSSOORT) == "W" and not _is_nil(relation):
            ctx.warnings.append("isVastgelegdIn W: updateBesluit wijzigt geen documenten; genegeerd")
    existing, add_docs, remove_docs = await asyncio.gather(
        _bios(zgw, besluit) if adds or removes else _nothing(),
        asyncio.gather(*(_document(ctx, d, ctx.rsin) for d in adds)),
        asyncio.gather(*(_document(ctx, d, None) for d in removes)),
    )
    linked = {str(bio.get("informatieobject")): bio for bio in existing}
    to_add = []
    for document in add_docs:
        if document["url"] in linked:
            ctx.warnings.append(f"document {document.get('identificatie')!r} legt het besluit al vast")
            continue
        _check_iot(besluittype, document)
        to_add.append(document)
    to_remove = []
    for document in remove_docs:
        bio = linked.get(document["url"])
        if bio is None:
            ctx.warnings.append(f"document {document.get('identificatie')!r} legt het besluit niet vast; niets te "
                                "ontkoppelen")
            continue
        to_remove.append((document, bio))

    # --- write ---
    async with ctx.undo as undo:
        if patch:
            previous = {k: besluit.get(k) for k in patch}
            await undo.step("PATCH besluiten", zgw.besluiten.patch(besluit["url"], patch),
                            undo=patch_back(zgw.besluiten, besluit["url"], previous))
        calls: dict[str, tuple[Awaitable[Any], Any]] = {}
        for document in to_add:
            calls[f"POST besluitinformatieobjecten ({document.get('identificatie')})"] = _bio_step(
                zgw, besluit["url"], document)
        for document, bio in to_remove:
            calls[f"DELETE besluitinformatieobjecten ({document.get('identificatie')})"] = (
                zgw.besluiten.delete(bio["url"]),
                post_back(zgw.besluiten, "besluitinformatieobjecten",
                          {"besluit": besluit["url"], "informatieobject": document["url"]}))
        if calls:
            await undo.steps(calls)


async def _bios(zgw: ZgwClients, besluit: JSON) -> list[JSON]:
    return await zgw.besluiten.list("besluitinformatieobjecten", {"besluit": besluit["url"]})


async def _nothing() -> list[JSON]:
    return []


# --- geefBesluitdetails_BslLv01 → La01 --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The top-level elements a question asks for (None: all), and the listed children of its relation."""

    elements: frozenset[str] | None
    related: frozenset[str] | None = None

    def asks(self, name: str) -> bool:
        return self.elements is None or name in self.elements


def _scope(message: etree._Element, relation: str) -> Scope:
    obj = message.find(f"{zkn('scope')}/{zkn('object')}")
    if obj is None or _ALLES.match((obj.get(f"{{{STUF}}}scope") or "").strip()):
        return Scope(None)
    listed = frozenset(etree.QName(child).localname for child in obj if isinstance(child.tag, str))
    if not listed:
        return Scope(None)
    gerelateerde = obj.find(f"{zkn(relation)}/{zkn('gerelateerde')}")
    related = None
    if gerelateerde is not None and len(gerelateerde):
        related = frozenset(etree.QName(c).localname for c in gerelateerde if isinstance(c.tag, str))
    return Scope(listed, related)


def _keep(element: etree._Element, names: frozenset[str] | None, required: frozenset[str]) -> None:
    if names is None:
        return
    for child in list(element):
        if isinstance(child.tag, str) and etree.QName(child).localname not in names | required:
            element.remove(child)


def _question(ctx: MessageContext, relation: str, entiteittype: str) -> tuple[str, Scope, etree._Element]:
    """What a question asks: (gelijk/identificatie, the scope of ``relation``, the La01 frame to answer in)."""
    identificatie = _text(ctx.message.find(zkn("gelijk")), zkn("identificatie"))
    if not identificatie:
        raise ProcessingError("Geen selectie in de vraag", "gelijk/identificatie is verplicht.", plek="client",
                              reason="selection-missing")
    return identificatie, _scope(ctx.message, relation), la01(ctx, entiteittype)


@handler("geefBesluitdetails")
async def geef_besluitdetails(ctx: MessageContext) -> etree._Element:
    zgw, mappings = ctx.backend
    identificatie, scope, root = _question(ctx, "isVastgelegdIn", "BSL")
    besluit = await lookup_besluit(zgw, identificatie, rsin=ctx.rsin_or_none, strict=False)
    if besluit is None:
        return root  # an unknown besluit: La01 without antwoord (DESIGN.md, "Unknown zaak")
    fetches: dict[str, Awaitable[Any]] = {"besluittype": zgw.catalogue.besluittype_by_url(besluit["besluittype"])}
    if besluit.get("zaak"):
        fetches["zaak"] = zgw.zaken.get(besluit["zaak"])
    if scope.asks("isVastgelegdIn"):
        fetches["documenten"] = _documenten_of(zgw, besluit)
    results = dict(zip(fetches, await asyncio.gather(*fetches.values()), strict=True))
    zaak = results.get("zaak")
    expand = {
        "besluittype": results["besluittype"],
        "zaak": {"identificatie": zaak.get("identificatie"), "omschrijving": zaak.get("omschrijving")} if zaak else {},
        "documenten": results.get("documenten", []),
    }
    obj = etree.SubElement(etree.SubElement(root, zkn("antwoord")), zkn("object"))
    context = ctx.mapping_context()
    ctx.warnings.extend(mappings.to_stuf("BSL", {**besluit, "_expand": expand}, obj, dialect=ctx.dialect,
                                         context=context))
    for nil in obj.iterfind(zkn("isUitkomstVan")):
        # the engine writes a required group as a bare nil; this relation needs its entiteittype even then
        nil.set(f"{{{STUF}}}entiteittype", "BSLZAK")
    _keep(obj, scope.elements, BSL_REQUIRED)
    return root


async def _documenten_of(zgw: ZgwClients, besluit: JSON) -> list[JSON]:
    """The documents the besluit is recorded in, each with ``_expand.informatieobjecttype.omschrijving``."""
    bios = await zgw.besluiten.list("besluitinformatieobjecten", {"besluit": besluit["url"]})
    documenten = await asyncio.gather(*(zgw.get(str(bio["informatieobject"])) for bio in bios))
    iots = await asyncio.gather(*(zgw.catalogue.informatieobjecttype_by_url(str(d["informatieobjecttype"]))
                                  for d in documenten))
    return [{**d, "_expand": {"informatieobjecttype": {"omschrijving": iot.get("omschrijving")}}}
            for d, iot in zip(documenten, iots, strict=True)]


# --- geefLijstBesluiten_ZakLv01 → La01 --------------------------------------------------------------------------


@handler("geefLijstBesluiten")
async def geef_lijst_besluiten(ctx: MessageContext) -> etree._Element:
    zgw, mappings = ctx.backend
    identificatie, scope, root = _question(ctx, "leidtTot", "ZAK")
    zaak = await lookup_zaak(ctx, identificatie, rsin=ctx.rsin_or_none)
    if zaak is None:
        return root  # DESIGN.md, "Unknown zaak"
    besluiten = await besluiten_van(zgw, zaak)
    obj = etree.SubElement(etree.SubElement(root, zkn("antwoord")), zkn("object"))
    obj.set(f"{{{STUF}}}entiteittype", "ZAK")
    etree.SubElement(obj, zkn("identificatie")).text = zaak.get("identificatie")
    for element in leidt_tot(ctx, mappings, besluiten, scope.related):
        obj.append(element)
    return root


async def besluiten_van(zgw: ZgwClients, zaak: JSON) -> list[JSON]:
    """The zaak's besluiten, oldest first, each with its besluittype in ``_expand`` (the shape ZAKBSL writes)."""
    besluiten = await zgw.besluiten.list("besluiten", {"zaak": zaak["url"]})
    besluiten = [b for b in besluiten if b.get("zaak") in (None, zaak["url"])]  # in case a server ignores the filter
    besluittypen = await asyncio.gather(*(zgw.catalogue.besluittype_by_url(b["besluittype"]) for b in besluiten))
    pairs = sorted(zip(besluiten, besluittypen, strict=True),
                   key=lambda pair: (str(pair[0].get("datum")), str(pair[0].get("identificatie"))))
    return [{**besluit, "_expand": {"besluittype": besluittype}} for besluit, besluittype in pairs]


def leidt_tot(ctx: MessageContext, mappings: Mappings, besluiten: list[JSON],
              related: frozenset[str] | None = None) -> list[etree._Element]:
    """One ``leidtTot`` (ZAKBSL) per item of ``besluiten_van``; ``related``: the besluit elements the scope lists
    (the required ones always)."""
    context = ctx.mapping_context()
    out = []
    for data in besluiten:
        element = etree.Element(zkn("leidtTot"))
        ctx.warnings.extend(mappings.to_stuf("ZAKBSL", data, element, dialect=ctx.dialect, context=context))
        gerelateerde = element.find(zkn("gerelateerde"))
        if gerelateerde is not None:
            _keep(gerelateerde, related, LIJST_REQUIRED)
        out.append(element)
    return out


# --- leidtTot (ZAKBSL) in creeerZaak / updateZaak -------------------------------------------------------------


@dataclass
class _LeidtTotPlan:
    create: list[tuple[str, JSON]] = field(default_factory=list)  # (identificatie, body)
    link: list[JSON] = field(default_factory=list)  # existing besluiten without zaak
    unlink: list[JSON] = field(default_factory=list)  # besluiten of this zaak to let go


async def apply_leidt_tot(
    ctx: MessageContext,
    zaak: JSON,
    relations: Sequence[etree._Element],
    *,
    old_relations: Sequence[etree._Element] = (),
) -> None:
    """Create or link the besluiten of the ``leidtTot`` (ZAKBSL) relations of a creeerZaak/updateZaak object, as
    steps of the flow's ``ctx.undo`` (Suites4SociaalDomein "605 Koppelen Besluit", MAPPING.md §1.1, §3.3).

    ``relations``: the ``ZKN:leidtTot`` children of the (new) zaak object; ``old_relations``: those of the old
    object of an updateZaak with two objects (a removed relation is identified there). Per relation:

    * T/I/W/R with ``gerelateerde``: the besluit with that identificatie (of the sender's organisation) is linked
      to the zaak; a besluit that does not exist yet is created (T/W/R) from bst.omschrijving (the besluittype
      among the zaaktype's) and datumBeslissing, which is also its ingangsdatum (leidtTot carries no other date);
      I (identification only) requires it to exist. A besluit of another zaak is a fault.
    * V/E (in ``relations`` or ``old_relations``): the besluit is unlinked from the zaak (it is not deleted).
    * nil (``geenWaarde``) and empty relations are no statement.

    Everything is looked up before the first write; a fault then leaves the backend as the caller's earlier steps
    left it, and a later failure undoes these writes with the rest."""
    if not relations and not old_relations:
        return
    zgw, mappings = ctx.backend
    rsin = ctx.rsin
    plan = _LeidtTotPlan()
    seen: set[str] = set()
    for relation, old_side in [*((r, False) for r in relations), *((r, True) for r in old_relations)]:
        gerelateerde = relation.find(zkn("gerelateerde"))
        if _is_nil(relation) or gerelateerde is None:
            continue
        soort = relation.get(VERWERKINGSSOORT) or gerelateerde.get(VERWERKINGSSOORT) or "T"
        if old_side and soort not in ("V", "E", "R"):
            continue  # the old side only says what goes
        mapped = ctx.mapped(mappings.to_zgw("ZAKBSL", relation, context=ctx.mapping_context(rsin=rsin)))
        identificatie = str(mapped.values["identificatie"])
        unlinking = soort in ("V", "E") or (old_side and soort == "R")
        key = f"{'-' if unlinking else '+'}{identificatie}"
        if key in seen:
            continue
        seen.add(key)
        besluit = await lookup_besluit(zgw, identificatie, rsin=rsin, strict=True)
        if unlinking:
            if besluit is None or besluit.get("zaak") != zaak["url"]:
                ctx.warnings.append(f"leidtTot {soort}: besluit {identificatie!r} hoort niet bij deze zaak; niets "
                                    "ontkoppeld")
            else:
                plan.unlink.append(besluit)
            continue
        if besluit is not None:
            if besluit.get("zaak") == zaak["url"]:
                continue  # already the zaak's
            if besluit.get("zaak"):
                raise ProcessingError(
                    f"Besluit {identificatie} hoort bij een andere zaak"[:200],
                    f"leidtTot: besluit {identificatie!r} is de uitkomst van {besluit['zaak']}; een besluit hoort "
                    "bij één zaak.",
                    plek="client",
                    reason="besluit-of-other-zaak",
                )
            plan.link.append(besluit)
            continue
        if soort == "I":
            raise not_found("Besluit", identificatie,
                            f"leidtTot (verwerkingssoort I): er is geen besluit met identificatie {identificatie!r} "
                            f"van verantwoordelijke organisatie {rsin}.", reason="besluit-not-found")
        datum = mapped.values.get("datum")
        if not datum:
            raise ProcessingError(
                "datumBeslissing ontbreekt",
                f"leidtTot: besluit {identificatie!r} bestaat nog niet; om het te maken is "
                "gerelateerde/datumBeslissing nodig.",
                plek="client",
                reason="required-element-missing",
            )
        check_besluit_datum(datum)
        besluittype = await _besluittype(ctx, zaak, (mapped.expand.get("besluittype") or {}).get("omschrijving"))
        ctx.warnings.append(f"leidtTot: besluit {identificatie!r} aangemaakt met ingangsdatum = datumBeslissing")
        plan.create.append((identificatie, {
            "identificatie": identificatie, "verantwoordelijkeOrganisatie": rsin, "besluittype": besluittype["url"],
            "zaak": zaak["url"], "datum": datum, "ingangsdatum": datum,
        }))

    calls: dict[str, tuple[Awaitable[Any], Any]] = {}
    for identificatie, body in plan.create:
        calls[f"POST besluiten ({identificatie})"] = (zgw.besluiten.create("besluiten", body),
                                                      delete_created(zgw.besluiten))
    for besluit in plan.link:
        calls[f"PATCH besluiten (zaak, {besluit.get('identificatie')})"] = (
            zgw.besluiten.patch(besluit["url"], {"zaak": zaak["url"]}),
            patch_back(zgw.besluiten, besluit["url"], {"zaak": ""}))
    for besluit in plan.unlink:
        calls[f"PATCH besluiten (zaak weg, {besluit.get('identificatie')})"] = (
            zgw.besluiten.patch(besluit["url"], {"zaak": ""}),
            patch_back(zgw.besluiten, besluit["url"], {"zaak": zaak["url"]}))
    if calls:
        await ctx.undo.steps(calls)
