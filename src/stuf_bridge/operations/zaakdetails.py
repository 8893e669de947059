"""geefZaakdetails (ZDS 1.1 ``zakLv01`` / ZDS 1.2 ``geefZaakdetails_ZakLv01``) → La01 with the zaak as ZGW
has it (MAPPING.md §3.6).

Selection: ``gelijk/identificatie``, or (as the peers do) ``gelijk/heeftAlsInitiator/gerelateerde/identificatie``
= "11" + BSN: the zaken that person initiated, at most ``MAX_ZAKEN_BY_BSN``. An unknown zaak answers La01 without
``antwoord`` (DESIGN.md, "Unknown zaak").

The StUF scope decides which sub-resources are fetched (STUF §6.3.3): ``StUF:scope`` alles* → everything,
kerngegevens → the identificatie only, otherwise the listed elements; without scope the gateway chooses the
zaak's own fields, isVan, the initiator and the current status. The fetches a scope asks for run concurrently.
Field detail lives in the mapping files (zaak.yaml, rol.yaml, status.yaml, zaakobject.yaml); this flow only
decides what to fetch and puts the parts in place.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..errors import ProcessingError
from ..stuf.geometry import to_gml
from ..stuf.namespaces import STUF, Dialect
from . import MessageContext, handler
from .besluiten import besluiten_van, leidt_tot
from .common import JSON, la01, zkn
from .document_vragen import heeft_relevant, relevante_documenten

if TYPE_CHECKING:
    from ..mapping import Mappings
    from ..zgw import ZgwClients

# OZB caps a question by BSN at 20 zaken (MAPPING.md §3.6).
MAX_ZAKEN_BY_BSN = 20

ROL_RELATIONS = frozenset(
    {
        "heeftAlsBelanghebbende",
        "heeftAlsGemachtigde",
        "heeftAlsInitiator",
        "heeftAlsUitvoerende",
        "heeftAlsVerantwoordelijke",
        "heeftAlsOverigBetrokkene",
    }
)
# Scope names that make the flow fetch something besides the zaak itself.
# Zaak-zaak relations: (scope name, entiteittype) → how the related zaken are found in the zaak JSON.
ZAAK_RELATIONS = {
    "heeftAlsDeelzaak": "ZAKZAKDEL",
    "heeftAlsHoofdzaak": "ZAKZAKHFD",
    "heeftBetrekkingOpAndere": "ZAKZAKBTR",
}
FETCHED = (
    ROL_RELATIONS | {"isVan", "heeft", "resultaat", "heeftBetrekkingOp", "extraElementen", "heeftRelevant", "leidtTot"}
    | frozenset(ZAAK_RELATIONS)
)
_ALLES = re.compile(r"^alles", re.IGNORECASE)
_BSN = re.compile(r"^(?:11)?(\d{9})$")




@dataclass(frozen=True)
class Scope:
    """What the question asks for. ``elements`` None: all of the zaak's own fields; else only these top-level
    elements (plus identificatie). ``wanted``: the scope names that need a fetch (FETCHED)."""

    elements: frozenset[str] | None
    wanted: frozenset[str]
    last_status_only: bool = False
    besluit_elements: frozenset[str] | None = None  # leidtTot/gerelateerde/* the scope lists (None: all)

    def asks(self, name: str) -> bool:
        return name in self.wanted

    @property
    def rol_relations(self) -> frozenset[str]:
        return self.wanted & ROL_RELATIONS


DEFAULT_SCOPE = Scope(None, frozenset({"isVan", "heeftAlsInitiator", "heeft"}), last_status_only=True)
EVERYTHING = Scope(None, FETCHED)


def read_scope(message: etree._Element) -> Scope:
    obj = message.find(f"{zkn('scope')}/{zkn('object')}")
    if obj is None:
        return DEFAULT_SCOPE
    named = (obj.get(f"{{{STUF}}}scope") or "").strip()
    if _ALLES.match(named):
        return EVERYTHING
    if named == "kerngegevens":
        return Scope(frozenset({"identificatie"}), frozenset())
    listed = frozenset(etree.QName(child).localname for child in obj if isinstance(child.tag, str))
    if not listed:
        return DEFAULT_SCOPE
    gerelateerde = obj.find(f"{zkn('leidtTot')}/{zkn('gerelateerde')}")
    besluit_elements = None
    if gerelateerde is not None and len(gerelateerde):
        besluit_elements = frozenset(etree.QName(c).localname for c in gerelateerde if isinstance(c.tag, str))
    return Scope(listed | {"identificatie"}, listed & FETCHED, besluit_elements=besluit_elements)


# --- the flow ---------------------------------------------------------------------------------------------------


@handler("geefZaakdetails")
async def geef_zaakdetails(ctx: MessageContext) -> etree._Element:
    zgw, mappings = ctx.backend
    scope = read_scope(ctx.message)
    identificatie, bsn = _selection(ctx)
    if identificatie is not None:
        zaken = await zgw.zaken.list("zaken", {"identificatie": identificatie})
        zaken = [z for z in zaken if z.get("identificatie") == identificatie]
    else:
        assert bsn is not None
        zaken = await _zaken_of_initiator(zgw, mappings, bsn)
        if _asks_open_only(ctx.message):  # gelijk/einddatum geenWaarde: the zaken that are not closed
            zaken = [zaak for zaak in zaken if not zaak.get("einddatum")]
    if ctx.dialect is Dialect.ZDS12 and len(zaken) > 1:
        # the ZDS 1.2 answer holds one object
        ctx.warnings.append(
            f"{len(zaken)} zaken gevonden; ZDS 1.2 geeft er één terug ({zaken[0].get('identificatie')})"
        )
        zaken = zaken[:1]
    root, antwoord = _la01(ctx)
    if zaken:
        objects = await asyncio.gather(*(_object(ctx, zgw, mappings, zaak, scope) for zaak in zaken))
        assert antwoord is not None
        root.append(antwoord)
        for obj in objects:
            antwoord.append(obj)
    return root


def _asks_open_only(message: etree._Element) -> bool:
    einddatum = message.find(f"{zkn('gelijk')}/{zkn('einddatum')}")
    return einddatum is not None and einddatum.get(f"{{{STUF}}}noValue") == "geenWaarde"


def _selection(ctx: MessageContext) -> tuple[str | None, str | None]:
    """(identificatie, None) or (None, bsn); anything else is a fault (StUF058, plek client)."""
    gelijk = ctx.message.find(zkn("gelijk"))
    identificatie = (gelijk.findtext(zkn("identificatie")) if gelijk is not None else None) or ""
    if identificatie.strip():
        return identificatie.strip(), None
    initiator = (
        ""
        if gelijk is None
        else gelijk.findtext(f"{zkn('heeftAlsInitiator')}/{zkn('gerelateerde')}/{zkn('identificatie')}") or ""
    )
    if initiator.strip():
        match = _BSN.match(initiator.strip())
        if match is None:
            raise ProcessingError(
                "Onbekende identificatie van de initiator",
                f"gelijk/heeftAlsInitiator/gerelateerde/identificatie {initiator.strip()!r} is geen '11' + BSN; "
                "alleen natuurlijke personen worden zo gezocht.",
                plek="client",
                reason="initiator-not-a-bsn",
            )
        return None, match.group(1)
    raise ProcessingError(
        "Geen selectie in de vraag",
        "geefZaakdetails selecteert op gelijk/identificatie of gelijk/heeftAlsInitiator/gerelateerde/identificatie.",
        plek="client",
        reason="selection-missing",
    )


async def _zaken_of_initiator(zgw: ZgwClients, mappings: Mappings, bsn: str) -> list[JSON]:
    """The zaken whose initiator has this BSN. ZRC's rol__ filters may each match a different rol of a zaak (the
    person as belanghebbende, someone else as initiator): each candidate's rollen are checked."""
    candidates = await zgw.zaken.list(
        "zaken",
        {
            "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": bsn,
            "rol__omschrijvingGeneriek": "initiator",
        },
        max_items=MAX_ZAKEN_BY_BSN,
    )

    async def initiated(zaak: JSON) -> bool:
        rollen = await zgw.zaken.list(
            "rollen", {"zaak": zaak["url"], "betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": bsn}
        )
        return any(
            rol.get("zaak") in (None, zaak["url"])
            and (rol.get("betrokkeneIdentificatie") or {}).get("inpBsn") == bsn
            and mappings.relation_for(rol) == "heeftAlsInitiator"
            for rol in rollen
        )

    checks = await asyncio.gather(*(initiated(zaak) for zaak in candidates))
    return [zaak for zaak, ok in zip(candidates, checks, strict=True) if ok]


def _la01(ctx: MessageContext) -> tuple[etree._Element, etree._Element]:
    return la01(ctx), etree.Element(zkn("antwoord"))  # antwoord is appended only when there is an answer


async def _object(ctx: MessageContext, zgw: ZgwClients, mappings: Mappings, zaak: JSON, scope: Scope) -> etree._Element:
    """One ``antwoord/object``: the fetches the scope asks for, concurrently, then the mapping."""
    needs_zaaktype = scope.asks("isVan") or scope.asks("heeft") or scope.asks("resultaat") or bool(scope.rol_relations)
    # the zaaktype (from the catalogue cache) is fetched alongside the rest; statussen and resultaat wait for it
    zaaktype_task = asyncio.ensure_future(_zaaktype(zgw, zaak, needed=needs_zaaktype))
    fetches: dict[str, Awaitable[Any]] = {"zaaktype": zaaktype_task}
    if scope.rol_relations:
        fetches["rollen"] = zgw.zaken.list("rollen", {"zaak": zaak["url"]})
    if scope.asks("heeft"):
        fetches["statussen"] = _statussen(zgw, zaak, zaaktype_task, last_only=scope.last_status_only)
    if scope.asks("resultaat") and zaak.get("resultaat"):
        fetches["resultaat"] = _resultaat(zgw, zaak, zaaktype_task)
    if scope.asks("heeftBetrekkingOp"):
        fetches["zaakobjecten"] = zgw.zaken.list("zaakobjecten", {"zaak": zaak["url"]})
    if scope.asks("extraElementen"):
        fetches["eigenschappen"] = zgw.zaken.list(f"{zaak['url']}/zaakeigenschappen")
    if scope.asks("heeftRelevant"):  # the zaak's documents, as geefLijstZaakdocumenten gives them
        fetches["documenten"] = relevante_documenten(zgw, zaak)
    if scope.asks("leidtTot"):  # the zaak's besluiten, as geefLijstBesluiten gives them
        fetches["besluiten"] = besluiten_van(zgw, zaak)
    for relation in ZAAK_RELATIONS:
        urls = _related_urls(zaak, relation)
        if scope.asks(relation) and urls:
            fetches[relation] = asyncio.gather(*(zgw.zaken.get(url) for url in urls))
    results = dict(zip(fetches, await asyncio.gather(*fetches.values()), strict=True))
    zaaktype: JSON = results["zaaktype"]
    code = zaaktype.get("identificatie")
    zaaktype_keys = {"identificatie": code, "omschrijving": zaaktype.get("omschrijving")} if zaaktype else None

    expand: JSON = {}
    if scope.asks("isVan") and zaaktype_keys:
        expand["zaaktype"] = zaaktype_keys
    if results.get("resultaat"):
        expand["resultaat"] = results["resultaat"]
    if "eigenschappen" in results:
        expand["eigenschappen"] = [{"naam": e.get("naam"), "waarde": e.get("waarde")} for e in results["eigenschappen"]]
    data = {**zaak, "_expand": expand}

    context = ctx.mapping_context(zaaktype=code)
    obj = etree.Element(zkn("object"))
    ctx.warnings.extend(mappings.to_stuf("ZAK", data, obj, dialect=ctx.dialect, context=context))
    # a surface only: ZKN:lokatie takes no points or lines
    lokatie = to_gml(zaak.get("zaakgeometrie") or {}, ctx.settings.answer_lokatie_srs)
    if lokatie is not None:
        ander = etree.Element(zkn("anderZaakObject"))
        etree.SubElement(ander, zkn("omschrijving")).text = "zaakgeometrie"
        etree.SubElement(ander, zkn("lokatie")).append(lokatie)
        mappings.insert_ordered("ZAK", obj, ander)

    for zaakobject in results.get("zaakobjecten", []):
        element = etree.Element(zkn("heeftBetrekkingOp"))
        ctx.warnings.extend(mappings.to_stuf("ZAKOBJ", zaakobject, element, dialect=ctx.dialect, context=context))
        if len(element):  # an objectType without StUF form (e.g. pand) is left out
            mappings.insert_ordered("ZAK", obj, element)
    for rol in results.get("rollen", []):
        rol_relation = mappings.relation_for(rol, zaaktype=code)
        if rol_relation is None:
            ctx.warnings.append(
                f"rol {rol.get('omschrijving')!r} ({rol.get('omschrijvingGeneriek')}) past bij geen heeftAlsX-relatie"
            )
            continue
        if rol_relation in scope.rol_relations:
            mappings.rol_to_stuf(rol, obj, dialect=ctx.dialect, context=context)
    for status in results.get("statussen", []):
        element = etree.Element(zkn("heeft"))
        mappings.insert_ordered("ZAK", obj, element)
        status = {**status, "_expand": {**status.get("_expand", {}), "zaaktype": zaaktype_keys or {}}}
        ctx.warnings.extend(mappings.to_stuf("ZAKSTT", status, element, dialect=ctx.dialect, context=context))

    for relation, entiteittype in ZAAK_RELATIONS.items():
        for related in results.get(relation, []):
            obj_relation = etree.Element(zkn(relation))
            obj_relation.set(f"{{{STUF}}}entiteittype", entiteittype)
            gerelateerde = etree.SubElement(obj_relation, zkn("gerelateerde"))
            kern = {"identificatie": related.get("identificatie"), "omschrijving": related.get("omschrijving")}
            ctx.warnings.extend(mappings.to_stuf("ZAK", kern, gerelateerde, dialect=ctx.dialect, context=context))
            for child in list(gerelateerde):  # kerngegevens only: ZAK-gerelateerdeAntwoord has another order
                if etree.QName(child).localname not in ("identificatie", "omschrijving"):
                    gerelateerde.remove(child)
            mappings.insert_ordered("ZAK", obj, obj_relation)

    for element in heeft_relevant(ctx, mappings, results.get("documenten", [])):
        mappings.insert_ordered("ZAK", obj, element)
    for element in leidt_tot(ctx, mappings, results.get("besluiten", []), scope.besluit_elements):
        mappings.insert_ordered("ZAK", obj, element)

    if scope.elements is not None:
        for child in list(obj):
            if etree.QName(child).localname not in scope.elements:
                obj.remove(child)
    return obj


def _related_urls(zaak: JSON, relation: str) -> list[str]:
    if relation == "heeftAlsHoofdzaak":
        return [zaak["hoofdzaak"]] if zaak.get("hoofdzaak") else []
    if relation == "heeftAlsDeelzaak":
        return [str(url) for url in zaak.get("deelzaken") or [] if url]
    # relevanteAndereZaken: [{url, aardRelatie}] in ZRC 1.5 (plain URLs in older versions)
    return [
        str(item.get("url") if isinstance(item, dict) else item)
        for item in zaak.get("relevanteAndereZaken") or []
        if (item.get("url") if isinstance(item, dict) else item)
    ]


async def _zaaktype(zgw: ZgwClients, zaak: JSON, *, needed: bool) -> JSON:
    if not needed or not zaak.get("zaaktype"):
        return {}
    return await zgw.catalogue.zaaktype_by_url(zaak["zaaktype"])


async def _statussen(zgw: ZgwClients, zaak: JSON, zaaktype_task: Awaitable[JSON], *, last_only: bool) -> list[JSON]:
    """The zaak's statussen oldest first (or only the current one), each with ``_expand.statustype``."""
    if last_only:
        statussen = [await zgw.zaken.get(zaak["status"])] if zaak.get("status") else []
        for status in statussen:
            status.setdefault("indicatieLaatstGezetteStatus", True)
    else:
        statussen = await zgw.zaken.list("statussen", {"zaak": zaak["url"]})
        statussen.sort(key=lambda s: str(s.get("datumStatusGezet")))
        for status in statussen:
            status.setdefault("indicatieLaatstGezetteStatus", status.get("url") == zaak.get("status"))
    if not statussen:
        return []
    zaaktype = await zaaktype_task
    statustypen = {st.get("url"): st for st in await zgw.catalogue.statustypen(zaaktype)} if zaaktype else {}
    out = []
    for status in statussen:
        statustype = statustypen.get(status.get("statustype")) or await zgw.catalogue.catalogi.get(status["statustype"])
        keys = {k: statustype.get(k) for k in ("omschrijving", "volgnummer", "omschrijvingGeneriek")}
        out.append({**status, "_expand": {"statustype": keys}})
    return out


async def _resultaat(zgw: ZgwClients, zaak: JSON, zaaktype_task: Awaitable[JSON]) -> JSON:
    resultaat = await zgw.zaken.get(zaak["resultaat"])
    zaaktype = await zaaktype_task
    resultaattypen = {rt.get("url"): rt for rt in await zgw.catalogue.resultaattypen(zaaktype)} if zaaktype else {}
    resultaattype = resultaattypen.get(resultaat.get("resultaattype")) or await zgw.catalogue.catalogi.get(
        resultaat["resultaattype"]
    )
    return {**resultaat, "_expand": {"resultaattype": {"omschrijving": resultaattype.get("omschrijving")}}}
