"""creeerZaak (ZDS 1.1 ``zakLk01`` / ZDS 1.2 ``creeerZaak_ZakLk01``) → a zaak with its rollen, zaakobjecten,
resultaat and statussen in ZGW (MAPPING.md §3.2). The gateway answers Bv03.

The flow first looks everything up (zaaktype, RSIN, roltypen, statustypen, resultaattype) and maps every body, so
that a message that cannot be processed faults before anything is written. Then it writes, each write a named
step of an ``UndoLog``: a failure leaves the backend as it was before the message and the fault names the step.

Order of the writes: ``POST zaken`` (with hoofdzaak and relevanteAndereZaken) → concurrently the rollen,
zaakobjecten, zaakeigenschappen and the resultaat → deelzaken pointed at the new zaak → the statussen one by one,
oldest first. leidtTot besluiten are created or linked just before the statussen (operations/besluiten.py). The resultaat goes before the statussen because ZRC refuses an eindstatus on a zaak without
resultaat (zrc-007); statussen are sequential because each one becomes the zaak's current status in turn.
Statussen cannot be deleted in ZRC 1.5: their undo is the ``DELETE`` of the zaak, which removes them with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from copy import deepcopy
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..errors import ProcessingError
from ..mapping import MappedObject, MappedRol, MappingContext
from ..stuf.geometry import GeometryError, UnsupportedCrs, to_geojson
from . import MessageContext
from .besluiten import apply_leidt_tot
from .common import require_zgw, roltype_for, zkn
from .compensation import UndoLog
from .zaak_relaties import deelzaak_steps, read_relations

if TYPE_CHECKING:
    from ..mapping import Mappings
    from ..zgw import ZgwClients

JSON = dict[str, Any]




async def creeer_zaak(ctx: MessageContext) -> None:
    zgw, mappings = require_zgw(ctx)
    obj = _the_object(ctx.message)

    # --- look up and map (nothing written yet) ---
    code = _zaaktype_code(obj)
    zaaktype = await zgw.catalogue.zaaktype(code)  # unknown → CatalogueNotFound naming the code (StUF058)
    rsin = _rsin(ctx)
    zender = ctx.stuurgegevens.zender
    context = MappingContext(
        dialect=ctx.dialect,
        mode="create",
        rsin=rsin,
        gemeentecode=zender.organisatie if zender else None,
        applicatie=zender.applicatie if zender else None,
        gebruiker=zender.gebruiker if zender else None,
        zaaktype=code,
    )
    zaak = _mapped(ctx, _map_zaak(mappings, obj, context))
    zaak_body = {**zaak.body, "zaaktype": zaaktype["url"]}  # without identificatie ZGW generates one

    rollen = await _rollen(ctx, mappings, zgw, obj, context, zaaktype)
    zaakobjecten = _zaakobjecten(ctx, mappings, obj, context)
    statussen = await _statussen(ctx, mappings, zgw, obj, context, zaaktype)
    resultaat = await _resultaat(ctx, mappings, zgw, zaak, zaaktype)
    eigenschappen = await _zaakeigenschappen(ctx, zgw, zaak, zaaktype)
    relations = await read_relations(ctx.warnings, zgw, None, obj, rsin=rsin,
                                     this=zaak.values.get("identificatie"))
    zaak_body.update(relations.zaak_fields())
    geometrie = zaakgeometrie(ctx, obj)
    if geometrie:
        zaak_body["zaakgeometrie"] = geometrie

    # --- write ---
    async with UndoLog() as undo:
        created = await undo.step(
            "POST zaken", zgw.zaken.create("zaken", zaak_body), undo=lambda z: zgw.zaken.delete(z["url"])
        )
        url = created["url"]
        delete = _deleter(zgw)
        calls: dict[str, tuple[Any, Any]] = {}
        for index, (label, body) in enumerate(rollen, 1):
            calls[f"POST rollen ({label}, {index})"] = (zgw.zaken.create("rollen", {**body, "zaak": url}), delete)
        for index, body in enumerate(zaakobjecten, 1):
            calls[f"POST zaakobjecten ({index})"] = (zgw.zaken.create("zaakobjecten", {**body, "zaak": url}), delete)
        for index, (naam, body) in enumerate(eigenschappen, 1):
            calls[f"POST zaakeigenschappen ({naam}, {index})"] = (
                zgw.zaken.create(f"{url}/zaakeigenschappen", {**body, "zaak": url}),
                delete,
            )
        if resultaat is not None:
            calls["POST resultaten"] = (zgw.zaken.create("resultaten", {**resultaat, "zaak": url}), delete)
        if calls:
            await undo.steps(calls)
        await deelzaak_steps(undo, zgw, relations, url)
        await apply_leidt_tot(ctx, created, obj.findall(zkn("leidtTot")), undo)
        for index, (label, body) in enumerate(statussen, 1):
            # no DELETE on statussen in ZRC 1.5: the zaak's DELETE removes them
            await undo.step(f"POST statussen ({label}, {index})", zgw.zaken.create("statussen", {**body, "zaak": url}))


# --- the parts -------------------------------------------------------------------------------------------------


def _the_object(message: etree._Element) -> etree._Element:
    objects = message.findall(zkn("object"))
    if len(objects) != 1:
        raise ProcessingError(
            "creeerZaak heeft precies één object nodig",
            f"Het bericht heeft {len(objects)} ZKN:object-elementen; creeerZaak maakt één zaak (mutatiesoort T).",
            plek="client",
        )
    return objects[0]


def _zaaktype_code(obj: etree._Element) -> str:
    code = obj.findtext(f"{zkn('isVan')}/{zkn('gerelateerde')}/{zkn('code')}")
    if not code or not code.strip():
        raise ProcessingError(
            "Het zaaktype ontbreekt",
            "object/isVan/gerelateerde/code (de identificatie van het zaaktype) is verplicht in creeerZaak.",
            plek="client",
        )
    return code.strip()


def _map_zaak(mappings: Mappings, obj: etree._Element, context: MappingContext) -> MappedObject:
    """The zaak body. zaak.yaml declares identificatie required (ZDS 1.2 §4.1.4.2), but a client that has none
    gets one from ZGW: map a copy with a placeholder and leave the identificatie out of the body."""
    if (obj.findtext(zkn("identificatie")) or "").strip():
        return mappings.to_zgw("ZAK", obj, context=context)
    copy = deepcopy(obj)
    for old in copy.findall(zkn("identificatie")):
        copy.remove(old)
    placeholder = etree.Element(zkn("identificatie"))
    placeholder.text = "-"
    copy.insert(0, placeholder)
    mapped = mappings.to_zgw("ZAK", copy, context=context)
    mapped.values.pop("identificatie", None)
    return mapped


def _rsin(ctx: MessageContext) -> str:
    """The RSIN of the sender's gemeentecode (organisaties), else the default RSIN; else ``UnknownOrganisation``,
    a ``StuurgegevensError`` StUF013 (plek client), which the gateway answers as such."""
    assert ctx.mappings is not None
    zender = ctx.stuurgegevens.zender
    return ctx.mappings.rsin_for(zender.organisatie if zender else None, ctx.settings.effective_default_rsin)


def _mapped(ctx: MessageContext, mapped: MappedObject) -> MappedObject:
    ctx.warnings.extend(mapped.warnings)
    return mapped


async def _rollen(
    ctx: MessageContext,
    mappings: Mappings,
    zgw: ZgwClients,
    obj: etree._Element,
    context: MappingContext,
    zaaktype: JSON,
) -> list[tuple[str, JSON]]:
    """(label, body without zaak) per heeftAlsX relation; the same person in several roles gives several rollen,
    an exact repeat (same roltype and betrokkene) is sent once."""
    mapped: list[MappedRol] = mappings.rollen_to_zgw(obj, context=context)
    if not any(rol.relation == "heeftAlsInitiator" for rol in mapped):
        text = "creeerZaak zonder heeftAlsInitiator (verplicht volgens ZDS 1.2 §4.1.4.2)"
        if ctx.settings.require_initiator:  # ZDS 1.2 §4.1.4.2; off by default, clients omit it
            raise ProcessingError("De initiator ontbreekt", text + ".", plek="client")
        ctx.warnings.append(text + "; de zaak is zonder initiator aangemaakt")
    roltypen = await zgw.catalogue.roltypen(zaaktype) if mapped else []
    bodies: list[tuple[str, JSON]] = []
    seen: list[JSON] = []
    for rol in mapped:
        _mapped(ctx, rol)
        if rol.skipped:
            ctx.warnings.append(f"{rol.relation} overgeslagen: {rol.skipped}")
            continue
        roltype = roltype_for(mappings, rol, roltypen, zaaktype)
        body = {**rol.body, "roltype": roltype["url"]}
        if body in seen:
            ctx.warnings.append(f"{rol.relation}: dezelfde betrokkene in dezelfde rol komt dubbel voor; één rol")
            continue
        seen.append(body)
        bodies.append((rol.relation, body))
    return bodies


def _zaakobjecten(ctx: MessageContext, mappings: Mappings, obj: etree._Element, context: MappingContext) -> list[JSON]:
    bodies = []
    for relation in obj.iterfind(zkn("heeftBetrekkingOp")):
        mapped = _mapped(ctx, mappings.to_zgw("ZAKOBJ", relation, context=context))
        if mapped.skipped:
            continue  # the mapping has put the reason among the warnings
        bodies.append(mapped.body)
    return bodies


async def _statussen(
    ctx: MessageContext,
    mappings: Mappings,
    zgw: ZgwClients,
    obj: etree._Element,
    context: MappingContext,
    zaaktype: JSON,
    *,
    skip_unidentified: bool = True,
) -> list[tuple[str, JSON]]:
    """(label, body without zaak) per heeft relation, oldest first. A status that names no statustype at all is
    skipped with a warning, unless ``skip_unidentified`` is False (actualiseerZaakstatus: there it is the point)."""
    relations = list(obj.iterfind(zkn("heeft")))
    if not relations:
        return []
    statustypen = await zgw.catalogue.statustypen(zaaktype)
    out: list[tuple[str, JSON]] = []
    for relation in relations:
        mapped = _mapped(ctx, mappings.to_zgw("ZAKSTT", relation, context=context))
        keys: Mapping[str, Any] = mapped.expand.get("statustype") or {}
        omschrijving, volgnummer = keys.get("omschrijving"), keys.get("volgnummer")
        if omschrijving:
            match = mappings.match_statustype(
                statustypen, omschrijving=omschrijving, volgnummer=volgnummer, zaaktype=zaaktype.get("identificatie")
            )
            if not match:
                raise ProcessingError(
                    "Statustype niet gevonden", _zaaktype_says(zaaktype, match.warnings[-1]), plek="client"
                )
            ctx.warnings.extend(match.warnings)
            statustype = match.item
        elif volgnummer is not None:
            statustype = await zgw.catalogue.statustype(zaaktype, volgnummer=volgnummer)
        elif skip_unidentified:  # ZaakBrug #52: the rest of the message is still good
            ctx.warnings.append("heeft: status zonder omschrijving en volgnummer overgeslagen (het statustype is "
                                "niet te bepalen)")
            continue
        else:
            raise ProcessingError(
                "Status zonder omschrijving en volgnummer",
                "heeft/gerelateerde heeft omschrijving of volgnummer nodig om het statustype te vinden.",
                plek="client",
            )
        assert statustype is not None
        body = {**mapped.body, "statustype": statustype["url"]}
        if not body.get("datumStatusGezet"):
            raise ProcessingError("datumStatusGezet ontbreekt", "heeft/datumStatusGezet is verplicht.", plek="client")
        out.append((str(statustype.get("omschrijving")), body))
    # oldest first: the last one posted is the zaak's current status
    out.sort(key=lambda item: str(item[1]["datumStatusGezet"]))
    return out


async def _resultaat(
    ctx: MessageContext, mappings: Mappings, zgw: ZgwClients, zaak: MappedObject, zaaktype: JSON
) -> JSON | None:
    given = zaak.expand.get("resultaat")
    if not given:
        return None
    omschrijving = ((given.get("_expand") or {}).get("resultaattype") or {}).get("omschrijving")
    if not omschrijving:
        return None
    resultaattypen = await zgw.catalogue.resultaattypen(zaaktype)
    match = mappings.match_resultaattype(
        resultaattypen, omschrijving=omschrijving, zaaktype=zaaktype.get("identificatie")
    )
    if not match:
        raise ProcessingError(
            "Resultaattype niet gevonden", _zaaktype_says(zaaktype, match.warnings[-1]), plek="client"
        )
    ctx.warnings.extend(match.warnings)
    assert match.item is not None
    body = {k: v for k, v in given.items() if not k.startswith("_")}
    return {**body, "resultaattype": match.item["url"]}


async def _zaakeigenschappen(
    ctx: MessageContext, zgw: ZgwClients, zaak: MappedObject, zaaktype: JSON
) -> list[tuple[str, JSON]]:
    """extraElementen whose naam is an eigenschap of the zaaktype become zaakeigenschappen (MAPPING.md §3.2,
    §5); the others are not taken over (one warning lists them: Open Formulieren sends every form value)."""
    given = zaak.expand.get("eigenschappen") or []
    if not given:
        return []
    eigenschappen = await zgw.catalogue.eigenschappen(zaaktype)
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


def zaakgeometrie(ctx: MessageContext, obj: etree._Element) -> JSON | None:
    """The zaak's ``zaakgeometrie`` from its ``anderZaakObject/lokatie`` elements (GML → GeoJSON, MAPPING.md §3.2;
    Open Formulieren's map component): one geometry as it is, several as a GeometryCollection. None when there is
    none; geometry in a coordinate system the gateway does not convert is left out with a warning; malformed GML is
    a fault naming it."""
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
                                  plek="client") from None
    if not geometries:
        return None
    if len(geometries) == 1:
        return geometries[0]
    return {"type": "GeometryCollection", "geometries": geometries}


def _zaaktype_says(zaaktype: JSON, text: str) -> str:
    return f"zaaktype {zaaktype.get('identificatie')!r}: {text}"


def _deleter(zgw: ZgwClients) -> Callable[[JSON], Awaitable[None]]:
    async def delete(created: JSON) -> None:
        await zgw.zaken.delete(created["url"])

    return delete


HANDLERS = {"creeerZaak": creeer_zaak}
