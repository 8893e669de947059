"""The pieces the flows share, in one public module: ZKN names and the La01 frame, was/wordt relations, finding
the zaak or document a message names, the faults for what is missing or unknown, the statussen, resultaat,
eigenschappen and geometry of a zaak object, and closing a zaak.

Why one module: a newcomer who adds an operation finds here (and on ``MessageContext``) everything the existing
flows use, and no flow imports another flow's private helpers. What only one flow needs stays in its module.

Reasons. Every fault a flow raises carries a stable reason code of ours beside the StUF code (``Fault.reason``,
sent in ``detailsXML/fout:reden``). The same situation has the same reason in every operation. StUF058 unless
the table says otherwise; "server" is plek server (the gateway's configuration), else plek client.

=================================  ==========  ===============================================================
reason                             StUF        the situation
=================================  ==========  ===============================================================
no-zgw-backend                     StUF040     no ZGW backend is configured (server)
wrong-object-count                 StUF058     the message has not the number of ZKN:object the operation takes
required-element-missing           StUF058     an element the operation needs is absent or empty (named in details)
zaak-identificatie-missing         StUF058     the zaak the message is about is not named
selection-missing                  StUF058     a question without its selection (gelijk/...)
initiator-missing                  StUF058     creeerZaak without heeftAlsInitiator while ``require_initiator`` is on
initiator-not-a-bsn                StUF058     geefZaakdetails by initiator whose identificatie is not "11" + BSN
unknown-verwerkingssoort           StUF058     a relation's verwerkingssoort is not T, W, V, E, R or I
invalid-lokatie                    StUF058     malformed lokatie GML, or X/Y extraElementen without numbers
zaak-not-found                     StUF058/064 no zaak with that identificatie (StUF064 on the synchronous services)
document-not-found                 StUF058/064 no document with that identificatie (likewise)
besluit-not-found                  StUF058     no besluit with that identificatie of the sender's organisation
roltype-not-found                  StUF058     the zaaktype has no roltype for a rol of the message
statustype-not-found               StUF058     the zaaktype has no statustype of that omschrijving
statustype-not-determined          StUF058     a status names neither omschrijving nor volgnummer
resultaattype-not-found            StUF058     the zaaktype has no resultaattype of that omschrijving
fallback-resultaat-missing         StUF058     closing a zaak without resultaat, and no usable fallback resultaat
besluittype-not-determined         StUF058     no bst.omschrijving, and the zaaktype has not exactly one besluittype
informatieobjecttype-not-allowed   StUF058     a document's type is not among the besluittype's
identificatie-immutable            StUF058     updateZaak changes the zaak's identificatie
zaaktype-immutable                 StUF058     updateZaak names another zaaktype than the zaak has
besluittype-immutable              StUF058     updateBesluit names another besluittype than the besluit has
rol-not-identified                 StUF058     a rol to change or remove (W/V/E/R) without betrokkene
rol-without-betrokkene             StUF058     a rol to add (T/W/R) without betrokkene
zaakobject-without-object          StUF058     a zaakobject to add (T/W/R) without object
related-zaak-missing               StUF058     a zaak-zaak relation to add without gerelateerde/identificatie
zaak-related-to-itself             StUF058     a zaak-zaak relation naming the zaak itself
zaak-cannot-reopen                 StUF058     einddatum geenWaarde, but the zaaktype has no status before the end
zaak-has-checked-out-document      StUF058     closing a zaak while one of its documents is checked out
besluit-already-exists             StUF058     voegBesluitToe with an identificatie the organisation has used
besluit-of-other-zaak              StUF058     leidtTot names a besluit that belongs to another zaak
document-definitief                StUF058     changing a document whose status is definitief
document-checked-out               StUF058     checking out, changing without checkedOutId or unlinking a locked one
document-not-checked-out           StUF058     check-in with checkedOutId or cancelCheckout of an unlocked document
document-not-linked-to-zaak        StUF058     ontkoppelZaakdocument for a document the zaak does not have
lock-incorrect                     StUF058     a checkedOutId that is not the lock the gateway handed out
checkout-unknown                   StUF058     cancelCheckout of a checkout the gateway did not hand out
besluit-date-in-future             StUF058     a besluit's datumBeslissing after today (Amsterdam)
besluit-date-before-utc-day        StUF058     a besluit dated today before 00:00 UTC (server: resend from then)
no-gemeentecode                    StUF013     genereer*Identificatie: zender/organisatie is no gemeentecode
identificatie-too-long             StUF058     the generated identificatie is longer than 40 characters (server)
identificatie-range-taken          StUF058     ZGW holds the identifiers far past the sequence (server)
=================================  ==========  ===============================================================

Faults from elsewhere keep their own reasons: an unknown sender organisation (``UnknownOrganisation``, StUF013),
catalogue misses and ZGW errors (``faults.to_fault``), failed steps (the cause's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..errors import ProcessingError
from ..mapping import MissingFallbackResultaat
from ..stuf.geometry import GeometryError, UnsupportedCrs, point, to_geojson
from ..stuf.namespaces import BG, STUF, XSI, ZDS, ZKN
from ..stuf.stuurgegevens import write_stuurgegevens
from ..stuf.values import AMSTERDAM, iso
from ..zgw import by_identificatie
from ..zgw.documents import find_document, patch_under_own_lock
from . import MessageContext
from .compensation import patch_document_back

if TYPE_CHECKING:
    from ..mapping import MappedObject, MappedRol, MappingContext, Mappings

JSON = dict[str, Any]
ONE_SECOND = timedelta(seconds=1)


# --- names and frames -------------------------------------------------------------------------------------------


def zkn(name: str) -> str:
    """A ZKN element name in Clark notation (both dialects keep the entity content in the ZKN namespace)."""
    return f"{{{ZKN}}}{name}"


def la01(ctx: MessageContext, entiteittype: str = "ZAK") -> etree._Element:
    """The frame of a La01 answer in the request's dialect: stuurgegevens (MAPPING.md §1.2) and parameters with
    the mandatory ``indicatorVervolgvraag=false``; the caller appends ``antwoord`` when there is one."""
    op = ctx.operation
    nsmap = {"StUF": STUF, "ZKN": ZKN, "BG": BG, "xsi": XSI} | ({"ZDS": ZDS} if op.response[0] == ZDS else {})
    root = etree.Element(f"{{{op.response[0]}}}{op.response[1]}", nsmap=nsmap)
    write_stuurgegevens(root, zkn("stuurgegevens"), "La01", ctx.parties, entiteittype=entiteittype)
    parameters = etree.SubElement(root, zkn("parameters"))
    etree.SubElement(parameters, f"{{{STUF}}}indicatorVervolgvraag").text = "false"
    return root


# --- was/wordt relations ----------------------------------------------------------------------------------------


def pair_relations(
    olds: list[etree._Element], news: list[etree._Element]
) -> list[tuple[etree._Element | None, etree._Element | None]]:
    """The was/wordt relations of one name paired as STUF §5.2 means them: each new relation with the first unpaired
    old one of the same verwerkingssoort, then the old ones left over (alone). Position alone is not enough: clients
    leave out the empty new counterpart of a V (ZaakBrug merges the old side's V relations for the same reason)."""
    def soort(element: etree._Element) -> str:
        return (element.get(f"{{{STUF}}}verwerkingssoort") or "").upper()

    left = list(olds)
    pairs: list[tuple[etree._Element | None, etree._Element | None]] = []
    for new in news:
        old = next((candidate for candidate in left if soort(candidate) == soort(new)), None)
        if old is not None:
            left.remove(old)
        pairs.append((old, new))
    pairs.extend((old, None) for old in left)
    return pairs


def verwerkingssoort(old: etree._Element | None, new: etree._Element | None, what: str, *,
                     default: str = "T") -> str | None:
    """The verwerkingssoort of a was/wordt relation pair: the new side's, else the old side's, else ``default``.
    None when there is nothing to do (I, no verwerkingssoort with an empty default, or an empty relation that is the
    same in the old and the new object: it changes nothing, whatever its verwerkingssoort); one that is not T, W, V,
    E, R or I is a fault naming the relation (STUF §5.2.6)."""
    if old is not None and new is not None and empty_relation(old) and same_element(old, new):
        return None
    name = f"{{{STUF}}}verwerkingssoort"
    soort = ((new.get(name) if new is not None else None) or (old.get(name) if old is not None else None)
             or default).upper()
    if soort in ("I", ""):
        return None
    if soort not in ("T", "W", "V", "E", "R"):
        raise ProcessingError(
            "Onbekende verwerkingssoort",
            f"verwerkingssoort {soort!r} op {what}; verwacht T, W, V, E, R of I (STUF §5.2.6).",
            plek="client",
            reason="unknown-verwerkingssoort",
        )
    return soort


def empty_relation(relation: etree._Element) -> bool:
    """A relation without a related object: ``noValue``, or no ``gerelateerde`` with content (``<gerelateerde/>``,
    or one that has ``noValue`` itself)."""
    if relation.get(f"{{{STUF}}}noValue"):
        return True
    gerelateerde = relation.find(zkn("gerelateerde"))
    return gerelateerde is None or gerelateerde.get(f"{{{STUF}}}noValue") is not None or not len(gerelateerde)


def same_element(a: etree._Element, b: etree._Element) -> bool:
    """The same tag, attributes, text (whitespace around it aside) and children, recursively."""
    if a.tag != b.tag or sorted(a.attrib.items()) != sorted(b.attrib.items()):
        return False
    if (a.text or "").strip() != (b.text or "").strip():
        return False
    children_a = [child for child in a if isinstance(child.tag, str)]
    children_b = [child for child in b if isinstance(child.tag, str)]
    return len(children_a) == len(children_b) and all(
        same_element(x, y) for x, y in zip(children_a, children_b, strict=True))


# --- finding what a message names -----------------------------------------------------------------------------


def not_found(what: str, identificatie: str, details: str, *, reason: str, code: str | None = None
              ) -> ProcessingError:
    """The fault for an object a message names that does not exist: StUF058 unless ``code`` says otherwise, plek
    client (MAPPING.md §1.3)."""
    return ProcessingError(f"{what} {identificatie} niet gevonden"[:200], details, code=code, plek="client",
                           reason=reason)


def missing_code(ctx: MessageContext) -> str | None:
    """The code for a named object that does not exist: StUF064 ("object niet gevonden") on the synchronous
    services, StUF058 on Fo03 (MAPPING.md §1.3)."""
    return "StUF064" if ctx.operation.fault_kind == "Fo02" else None


async def lookup_zaak(ctx: MessageContext, identificatie: str, *, rsin: str | None = None) -> JSON | None:
    """The zaak with this identificatie, or None (unique per bronorganisatie: ``by_identificatie``)."""
    return await by_identificatie(ctx.backend.zgw.zaken, "zaken", identificatie, organisation_field="bronorganisatie",
                                  rsin=rsin, what="Zaak")


async def find_zaak(ctx: MessageContext, identificatie: str, *, rsin: str | None = None, code: str | None = None,
                    operation: str | None = None) -> JSON:
    """The zaak a message is about; a missing one is a fault (``zaak-not-found``). ``operation``: who asks, for
    the details (default: the message's operation)."""
    zaak = await lookup_zaak(ctx, identificatie, rsin=rsin)
    if zaak is None:
        raise not_found("Zaak", identificatie,
                        f"{operation or ctx.operation.function}: er is geen zaak met identificatie {identificatie!r} "
                        "in de ZGW-API.", code=code, reason="zaak-not-found")
    return zaak


async def find_document_or_fault(ctx: MessageContext, identificatie: str, *, rsin: str | None = None,
                                 code: str | None = None, operation: str | None = None) -> JSON:
    """The enkelvoudiginformatieobject a message names; a missing one is a fault (``document-not-found``)."""
    document = await find_document(ctx.backend.zgw, identificatie, rsin=rsin)
    if document is None:
        raise not_found("Document", identificatie,
                        f"{operation or ctx.operation.function}: er is geen document (enkelvoudiginformatieobject) "
                        f"met identificatie {identificatie!r} in de Documenten API.", code=code,
                        reason="document-not-found")
    return document


def roltype_for(mappings: Mappings, rol: MappedRol, roltypen: list[JSON], zaaktype: JSON) -> JSON:
    """The zaaktype's roltype for a mapped rol (the mapping's roltype rules); none is a fault that says what was
    looked for and what the zaaktype has."""
    roltype = mappings.pick_roltype(rol.roltype, roltypen)
    if roltype is None:
        wanted = " of ".join(
            [repr(rol.roltype.omschrijving)] * bool(rol.roltype.omschrijving)
            + [f"omschrijvingGeneriek {g!r}" for g in rol.roltype.generiek]
        )
        known = ", ".join(f"{r.get('omschrijving')} ({r.get('omschrijvingGeneriek')})" for r in roltypen)
        raise ProcessingError(
            "Roltype niet gevonden",
            f"{rol.relation}: zaaktype {zaaktype.get('identificatie')!r} heeft geen roltype {wanted} "
            f"(bekend: {known or 'geen'})",
            plek="client",
            reason="roltype-not-found",
        )
    return dict(roltype)


def _zaaktype_says(zaaktype: JSON, text: str) -> str:
    return f"zaaktype {zaaktype.get('identificatie')!r}: {text}"


#: The keys of betrokkeneIdentificatie that identify a betrokkene, per betrokkeneType (matching rollen).
BETROKKENE_KEYS = {
    "natuurlijk_persoon": ("inpBsn", "anpIdentificatie", "inpA_nummer"),
    "niet_natuurlijk_persoon": ("innNnpId", "annIdentificatie"),
    "vestiging": ("vestigingsNummer",),
    "medewerker": ("identificatie",),
    "organisatorische_eenheid": ("identificatie",),
}


def without_repeated_betrekking(ctx: MessageContext, bodies: list[tuple[str, JSON]]) -> list[tuple[str, JSON]]:
    """A heeftBetrekkingOp rol for a betrokkene another relation of the message already gives that roltype (GWS4all
    sends the citizen in heeftBetrekkingOp and in heeftAlsBelanghebbende) is left out, with a warning."""
    def key(body: JSON) -> tuple[str, str, str] | None:
        ident = body.get("betrokkeneIdentificatie") or {}
        soort = str(body.get("betrokkeneType") or "")
        value = next((str(ident[k]) for k in BETROKKENE_KEYS.get(soort, ()) if ident.get(k)), None)
        return (str(body.get("roltype")), soort, value) if value else None

    others = {key(body) for relation, body in bodies if relation != "heeftBetrekkingOp"} - {None}
    out = []
    for relation, body in bodies:
        if relation == "heeftBetrekkingOp" and key(body) in others:
            ctx.warnings.append("heeftBetrekkingOp: de betrokkene heeft deze rol al via een andere relatie in het "
                                "bericht; geen tweede rol")
            continue
        out.append((relation, body))
    return out


# --- the parts of a zaak object (creeerZaak, updateZaak, actualiseerZaakstatus, documents with a status) ----------


async def statussen(
    ctx: MessageContext,
    obj: etree._Element,
    context: MappingContext,
    zaaktype: JSON,
    *,
    skip_unidentified: bool = True,
    gezetdoor: Callable[[etree._Element], Awaitable[str | None]] | None = None,
) -> list[tuple[str, JSON]]:
    """(label, body without zaak) per heeft relation of ``obj``, oldest first. A status that names no statustype at
    all is skipped with a warning, unless ``skip_unidentified`` is False (actualiseerZaakstatus: there it is the
    point). ``gezetdoor`` finds the rol of the relation's isGezetDoor (updateZaak: the zaak exists)."""
    relations = list(obj.iterfind(zkn("heeft")))
    if not relations:
        return []
    statustypen = await ctx.backend.zgw.catalogue.statustypen(zaaktype)
    out: list[tuple[str, JSON]] = []
    for relation in relations:
        mapped = ctx.mapped(ctx.backend.mappings.to_zgw("ZAKSTT", relation, context=context))
        keys: Mapping[str, Any] = mapped.expand.get("statustype") or {}
        omschrijving, volgnummer, code = keys.get("omschrijving"), keys.get("volgnummer"), keys.get("code")
        if omschrijving:
            match = ctx.backend.mappings.match_statustype(
                statustypen, omschrijving=omschrijving, volgnummer=volgnummer, zaaktype=zaaktype.get("identificatie")
            )
            if not match:
                raise ProcessingError("Statustype niet gevonden", _zaaktype_says(zaaktype, match.warnings[-1]),
                                      plek="client", reason="statustype-not-found")
            ctx.warnings.extend(match.warnings)
            statustype = match.item
        elif volgnummer is not None:
            statustype = await ctx.backend.zgw.catalogue.statustype(zaaktype, volgnummer=volgnummer)
        elif code:  # only a code (Open Formulieren's zds_zaaktype_status_code): the configured rule
            match = ctx.backend.mappings.match_status_code(statustypen, code=str(code),
                                                           zaaktype=zaaktype.get("identificatie"))
            if not match:
                raise ProcessingError("Statustype niet gevonden", _zaaktype_says(zaaktype, match.warnings[-1]),
                                      plek="client", reason="statustype-not-found")
            ctx.warnings.extend(match.warnings)
            statustype = match.item
        elif skip_unidentified:  # ZaakBrug #52: the rest of the message is still good
            ctx.warnings.append("heeft: status zonder omschrijving en volgnummer overgeslagen (het statustype is "
                                "niet te bepalen)")
            continue
        else:
            raise ProcessingError(
                "Status zonder omschrijving en volgnummer",
                "heeft/gerelateerde heeft omschrijving of volgnummer nodig om het statustype te vinden.",
                plek="client",
                reason="statustype-not-determined",
            )
        assert statustype is not None
        body = {**mapped.body, "statustype": statustype["url"]}
        if not body.get("datumStatusGezet"):
            raise ProcessingError("datumStatusGezet ontbreekt", "heeft/datumStatusGezet is verplicht.", plek="client",
                                  reason="required-element-missing")
        if gezetdoor is not None and (rol := await gezetdoor(relation)):
            body["gezetdoor"] = rol
        out.append((str(statustype.get("omschrijving")), body))
    # oldest first: the last one posted is the zaak's current status
    out.sort(key=lambda item: str(item[1]["datumStatusGezet"]))
    return out


async def resultaat(ctx: MessageContext, zaak: MappedObject, zaaktype: JSON) -> JSON | None:
    """The body (without zaak) of the resultaat a mapped zaak gives, with its resultaattype; None without one."""
    given = zaak.expand.get("resultaat")
    if not given:
        return None
    omschrijving = ((given.get("_expand") or {}).get("resultaattype") or {}).get("omschrijving")
    if not omschrijving:
        return None
    resultaattypen = await ctx.backend.zgw.catalogue.resultaattypen(zaaktype)
    match = ctx.backend.mappings.match_resultaattype(
        resultaattypen, omschrijving=omschrijving, zaaktype=zaaktype.get("identificatie")
    )
    if not match:
        raise ProcessingError("Resultaattype niet gevonden", _zaaktype_says(zaaktype, match.warnings[-1]),
                              plek="client", reason="resultaattype-not-found")
    ctx.warnings.extend(match.warnings)
    assert match.item is not None
    body = {k: v for k, v in given.items() if not k.startswith("_")}
    return {**body, "resultaattype": match.item["url"]}


async def zaakeigenschappen(ctx: MessageContext, zaak: MappedObject, zaaktype: JSON,
                            obj: etree._Element | None = None) -> list[tuple[str, JSON]]:
    """extraElementen whose naam is an eigenschap of the zaaktype become zaakeigenschappen (MAPPING.md §3.2,
    §5); the others are not taken over (one warning lists them: Open Formulieren sends every form value).

    extraElementen at the level of a betrokkene relation of ``obj`` (Open Formulieren 4 puts them inside
    heeftAlsInitiator) count the same way; the zaak's own extraElement of the same naam wins (with a warning)."""
    given = list(zaak.expand.get("eigenschappen") or [])
    if obj is not None:
        given.extend(_relation_extra_elementen(ctx, obj, given))
    if not given:
        return []
    eigenschappen = await ctx.backend.zgw.catalogue.eigenschappen(zaaktype)
    by_naam = {str(e.get("naam")): e for e in eigenschappen if e.get("zaaktype") in (None, zaaktype["url"])}
    out: list[tuple[str, JSON]] = []
    left: list[str] = []
    for item in given:
        naam = str(((item.get("_expand") or {}).get("eigenschap") or {}).get("naam") or "")
        eigenschap = by_naam.get(naam)
        if eigenschap is None or item.get("waarde") in (None, ""):
            left.append(naam)
            continue
        out.append((naam, {"eigenschap": eigenschap["url"], "waarde": str(item["waarde"])}))
    if left:
        ctx.warnings.append(
            f"extraElementen zonder eigenschap bij zaaktype {zaaktype.get('identificatie')!r} niet overgenomen: "
            + ", ".join(left)
        )
    return out


def _relation_extra_elementen(ctx: MessageContext, obj: etree._Element, zaak_level: list[JSON]) -> list[JSON]:
    """The extraElementen of the betrokkene relations (heeftAlsInitiator/StUF:extraElementen, …) of ``obj`` in the
    shape the zaak mapping gives zaak-level ones; a naam the zaak level has already is left out with a warning."""
    taken = {str(((item.get("_expand") or {}).get("eigenschap") or {}).get("naam") or "") for item in zaak_level}
    mappings = ctx.backend.mappings
    out: list[JSON] = []
    for relation in obj:
        if not isinstance(relation.tag, str) or not mappings.is_rol_relation(relation):
            continue
        name = etree.QName(relation).localname
        for naam, waarde in mappings.extra_elementen(relation).items():
            if naam in taken:
                ctx.warnings.append(f"{name}/extraElementen: {naam!r} staat ook op zaakniveau; die waarde is "
                                    "genomen")
                continue
            taken.add(naam)
            out.append({"_expand": {"eigenschap": {"naam": naam}}, "waarde": waarde})
    return out


def zaakgeometrie(ctx: MessageContext, obj: etree._Element, zaaktype: str | None = None) -> JSON | None:
    """The zaak's ``zaakgeometrie`` from its ``anderZaakObject/lokatie`` elements (GML → GeoJSON, MAPPING.md §3.2;
    Open Formulieren's map component): one geometry as it is, several as a GeometryCollection. None when there is
    none; geometry in a coordinate system the gateway does not convert is left out with a warning; malformed GML is
    a fault naming it. RD (EPSG:28992) is transformed to WGS84 (stuf/geometry.py).

    Without a lokatie, the zaaktype's profile may name two extraElementen holding X/Y (``zaakgeometrie: {x, y,
    srs}``): their point is the zaakgeometrie."""
    geometries: list[JSON] = []
    for index, ander in enumerate(obj.iterfind(zkn("anderZaakObject")), 1):
        lokatie = ander.find(zkn("lokatie"))
        label = ander.findtext(zkn("omschrijving")) or str(index)
        if lokatie is None or not len(lokatie):
            ctx.warnings.append(f"anderZaakObject {label!r} zonder lokatie niet overgenomen (ZGW kent het niet)")
            continue
        try:
            geometries.append(to_geojson(lokatie, ctx.warnings))
        except UnsupportedCrs as exc:
            ctx.warnings.append(f"anderZaakObject {label!r}: lokatie niet overgenomen: {exc}")
        except GeometryError as exc:
            raise ProcessingError("Ongeldige lokatie", f"anderZaakObject {label!r}/lokatie: {exc}.",
                                  plek="client", reason="invalid-lokatie") from None
    from_extra = _geometrie_from_extra(ctx, obj, zaaktype)
    if from_extra is not None:
        if geometries:
            ctx.warnings.append("zaakgeometrie: de lokatie van anderZaakObject is genomen; de X/Y-coördinaten uit "
                                "extraElementen niet")
        else:
            geometries.append(from_extra)
    if not geometries:
        return None
    if len(geometries) == 1:
        return geometries[0]
    return {"type": "GeometryCollection", "geometries": geometries}


def _geometrie_from_extra(ctx: MessageContext, obj: etree._Element, zaaktype: str | None) -> JSON | None:
    """The Point of the two extraElementen the zaaktype's profile names for X and Y; None when the profile names
    none or the message has neither. One without the other, or a value that is no number, is a fault."""
    rule = ctx.backend.mappings.profile(zaaktype).zaakgeometrie
    if rule is None:
        return None
    extra = ctx.backend.mappings.extra_elementen(obj)
    x_text, y_text = extra.get(rule.x, "").strip(), extra.get(rule.y, "").strip()
    if not x_text and not y_text:
        return None
    if not x_text or not y_text:
        missing = rule.x if not x_text else rule.y
        raise ProcessingError("Onvolledige coördinaten", f"extraElement {missing!r} ontbreekt of is leeg; de "
                              f"zaakgeometrie wordt gemaakt uit {rule.x!r} en {rule.y!r} ({rule.srs}).",
                              plek="client", reason="invalid-lokatie")
    try:
        x, y = (float(text.replace(",", ".")) for text in (x_text, y_text))
        return point(x, y, rule.srs)
    except ValueError:
        raise ProcessingError("Ongeldige coördinaten", f"extraElementen {rule.x!r}/{rule.y!r} = {x_text[:20]!r}/"
                              f"{y_text[:20]!r} zijn geen getallen.", plek="client",
                              reason="invalid-lokatie") from None
    except GeometryError as exc:
        raise ProcessingError("Ongeldige coördinaten", f"extraElementen {rule.x!r}/{rule.y!r}: {exc}.",
                              plek="client", reason="invalid-lokatie") from None


async def later_than(ctx: MessageContext, current: JSON | None, value: str) -> str:
    """``value``, or one second after the ``current`` status when it is not later than that: ZGW's current status
    is the one with the latest datumStatusGezet and it refuses two at the same moment (with a warning)."""
    if current is None:
        return value
    gezet = current.get("datumStatusGezet")
    if not gezet:
        return value
    new, before = datetime.fromisoformat(value), datetime.fromisoformat(gezet)
    if new > before:
        return value
    moved = (before + ONE_SECOND).astimezone(AMSTERDAM)
    wait = (moved - datetime.now(AMSTERDAM)).total_seconds()
    if wait > 0:
        await asyncio.sleep(min(wait, 1.0) + 0.01)  # ZGW refuses a datumStatusGezet in the future
    ctx.warnings.append(
        f"datumStatusGezet {value} is niet later dan die van de huidige status ({gezet}); gezet op {iso(moved)} "
        "zodat de nieuwe status de huidige wordt"
    )
    return iso(moved)


# --- closing a zaak: ZRC closes it only through the eindstatus, with a resultaat and with every document's
# indicatieGebruiksrecht set (GZ-ZRC zrc-007). Both updateZaak and actualiseerZaakstatus can close.


async def fallback_resultaat(ctx: MessageContext, zaaktype: JSON) -> JSON:
    """The body (without zaak) of the zaaktype's configured fallback resultaat, for closing a zaak that has none.
    Without a usable fallback: a fault (``fallback-resultaat-missing``) whose text says what to set: plek client
    when none is configured (the client can send a resultaat), server when the configured one is no resultaattype of
    the zaaktype."""
    code = str(zaaktype.get("identificatie") or "")
    try:
        omschrijving = ctx.backend.mappings.fallback_resultaat(code)
    except MissingFallbackResultaat:  # none configured: the mapping's own fault, reason fallback-resultaat-missing
        raise
    match = ctx.backend.mappings.match_resultaattype(
        await ctx.backend.zgw.catalogue.resultaattypen(zaaktype), omschrijving=omschrijving, zaaktype=code
    )
    if not match:
        raise ProcessingError(
            "Fallback-resultaattype niet gevonden",
            f"zaaktype {code!r}: het fallback-resultaat {omschrijving!r} uit het profiel is geen resultaattype van "
            f"dit zaaktype ({match.warnings[-1] if match.warnings else ''})",
            plek="server",  # the gateway's configuration, not the message
            reason="fallback-resultaat-missing",
        )
    assert match.item is not None
    ctx.warnings.extend(match.warnings)
    ctx.warnings.append(f"zaak afgesloten met het fallback-resultaat {omschrijving!r} (de zaak had geen resultaat)")
    return {
        "resultaattype": match.item["url"],
        "toelichting": "Gezet door stuf-bridge bij het afsluiten van de zaak (fallback-resultaat)",
    }


async def documents_for_closing(ctx: MessageContext, zaak: JSON) -> list[str]:
    """The zaak's documents whose indicatieGebruiksrecht is unset: ZRC will not close the zaak with them. A checked
    out (locked) document stops the close as well (``informatieobject-locked``): that is a fault here
    (``zaak-has-checked-out-document``), before anything is written, naming the document and what the client can
    do."""
    zios = await ctx.backend.zgw.zaken.list("zaakinformatieobjecten", {"zaak": zaak["url"]})
    urls = sorted({str(zio["informatieobject"]) for zio in zios if zio.get("informatieobject")})
    documenten = await asyncio.gather(*(ctx.backend.zgw.get(url) for url in urls))
    locked = [str(doc.get("identificatie") or url) for url, doc in zip(urls, documenten, strict=True)
              if doc.get("locked")]
    if locked:
        raise ProcessingError(
            f"Zaak {zaak.get('identificatie')} kan niet worden afgesloten: een document is uitgecheckt"[:200],
            f"Document(en) {', '.join(locked)} van de zaak zijn uitgecheckt (geefZaakdocumentbewerken); ZGW sluit "
            "een zaak niet zolang een document gelockt is. Check het document eerst in (updateZaakdocument) of "
            "annuleer de checkout (cancelCheckout).",
            plek="client",
            reason="zaak-has-checked-out-document",
        )
    return [url for url, doc in zip(urls, documenten, strict=True) if doc.get("indicatieGebruiksrecht") is None]


async def set_gebruiksrecht_steps(ctx: MessageContext, urls: list[str]) -> None:
    """Set indicatieGebruiksrecht to false on these documents, each undone (back to unset) if a later step fails."""
    for url in urls:
        await ctx.undo.step(
            f"PATCH enkelvoudiginformatieobjecten (indicatieGebruiksrecht, {url.rsplit('/', 1)[-1]})",
            patch_under_own_lock(ctx.backend.zgw.for_url(url), url, {"indicatieGebruiksrecht": False}),
            # planned (in the step journal before the call): recovery can undo it after a crash as well
            undo=patch_document_back(ctx.backend.zgw.for_url(url), url, {"indicatieGebruiksrecht": None}),
        )
