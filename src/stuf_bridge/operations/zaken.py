"""creeerZaak (ZDS 1.1 ``zakLk01`` / ZDS 1.2 ``creeerZaak_ZakLk01``) → a zaak with its rollen, zaakobjecten,
resultaat and statussen in ZGW (MAPPING.md §3.2). The gateway answers Bv03.

The flow first looks everything up (zaaktype, RSIN, roltypen, statustypen, resultaattype) and maps every body, so
that a message that cannot be processed faults before anything is written. Then it writes, each write a named
step of an ``UndoLog``: a failure leaves the backend as it was before the message and the fault names the step.

Order of the writes: ``POST zaken`` (with hoofdzaak and relevanteAndereZaken) → concurrently the rollen,
zaakobjecten, zaakeigenschappen and the resultaat → deelzaken pointed at the new zaak → the statussen one by one,
oldest first. leidtTot besluiten are created or linked just before the statussen (operations/besluiten.py). The
resultaat goes before the statussen because ZRC refuses an eindstatus on a zaak without resultaat (zrc-007);
statussen are sequential because each one becomes the zaak's current status in turn.
Statussen cannot be deleted in ZRC 1.5: their undo is the ``DELETE`` of the zaak, which removes them with it.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from lxml import etree

from ..errors import ProcessingError
from ..mapping import MappedObject, MappedRol, MappingContext, Mappings
from . import MessageContext, handler
from .besluiten import apply_leidt_tot
from .common import (
    JSON,
    resultaat,
    roltype_for,
    statussen,
    without_repeated_betrekking,
    zaakeigenschappen,
    zaakgeometrie,
    zkn,
)
from .compensation import delete_created
from .zaak_relaties import deelzaak_steps, read_relations
from .zaakstatus import gezetdoor


#: Stands in a status body for the rol of its isGezetDoor until the rollen are posted.
PENDING_GEZETDOOR = "urn:stuf-bridge:gezetdoor:"


@handler("creeerZaak")
async def creeer_zaak(ctx: MessageContext) -> None:
    zgw, mappings = ctx.backend
    obj = _the_object(ctx.message)

    # --- look up and map (nothing written yet) ---
    code = _zaaktype_code(obj)
    zaaktype = await zgw.catalogue.zaaktype(code)  # unknown → CatalogueNotFound naming the code (StUF058)
    context = ctx.mapping_context("create", rsin=ctx.rsin, zaaktype=code)
    zaak = ctx.mapped(_map_zaak(mappings, obj, context))
    zaak_body = {**zaak.body, "zaaktype": zaaktype["url"]}  # without identificatie ZGW generates one

    rollen = await _rollen(ctx, obj, context, zaaktype)
    zaakobjecten = _zaakobjecten(ctx, obj, context)
    gezet_door: dict[str, etree._Element] = {}  # isGezetDoor: the rol exists only once the rollen are posted

    async def later(relation: etree._Element) -> str | None:
        if relation.find(zkn("isGezetDoor")) is None:
            return None
        gezet_door[key := f"{PENDING_GEZETDOOR}{len(gezet_door)}"] = relation
        return key

    heeft = await statussen(ctx, obj, context, zaaktype, gezetdoor=later)
    gegeven_resultaat = await resultaat(ctx, zaak, zaaktype)
    eigenschappen = await zaakeigenschappen(ctx, zaak, zaaktype, obj)
    relations = await read_relations(ctx, None, obj, rsin=ctx.rsin, this=zaak.values.get("identificatie"))
    zaak_body.update(relations.zaak_fields())
    geometrie = zaakgeometrie(ctx, obj, code)
    if geometrie:
        zaak_body["zaakgeometrie"] = geometrie

    # --- write ---
    async with ctx.undo as undo:
        delete = delete_created(zgw.zaken)
        created = await undo.step("POST zaken", zgw.zaken.create("zaken", zaak_body), undo=delete)
        url = created["url"]
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
        if gegeven_resultaat is not None:
            calls["POST resultaten"] = (zgw.zaken.create("resultaten", {**gegeven_resultaat, "zaak": url}), delete)
        if calls:
            await undo.steps(calls)
        await deelzaak_steps(ctx, relations, url)
        await apply_leidt_tot(ctx, created, obj.findall(zkn("leidtTot")))
        for index, (label, body) in enumerate(heeft, 1):
            body = {**body, "zaak": url}
            pending = gezet_door.get(str(body.get("gezetdoor")))
            if pending is not None:  # the rol of the message's isGezetDoor, now that it exists
                rol = await gezetdoor(ctx, pending, created)
                if rol:
                    body["gezetdoor"] = rol
                else:
                    body.pop("gezetdoor")
            # no DELETE on statussen in ZRC 1.5: the zaak's DELETE removes them
            await undo.step(f"POST statussen ({label}, {index})", zgw.zaken.create("statussen", body))


# --- the parts -------------------------------------------------------------------------------------------------


def _the_object(message: etree._Element) -> etree._Element:
    objects = message.findall(zkn("object"))
    if len(objects) != 1:
        raise ProcessingError(
            "creeerZaak heeft precies één object nodig",
            f"Het bericht heeft {len(objects)} ZKN:object-elementen; creeerZaak maakt één zaak (mutatiesoort T).",
            plek="client",
            reason="wrong-object-count",
        )
    return objects[0]


def _zaaktype_code(obj: etree._Element) -> str:
    code = obj.findtext(f"{zkn('isVan')}/{zkn('gerelateerde')}/{zkn('code')}")
    if not code or not code.strip():
        raise ProcessingError(
            "Het zaaktype ontbreekt",
            "object/isVan/gerelateerde/code (de identificatie van het zaaktype) is verplicht in creeerZaak.",
            plek="client",
            reason="required-element-missing",
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


async def _rollen(ctx: MessageContext, obj: etree._Element, context: MappingContext, zaaktype: JSON
                  ) -> list[tuple[str, JSON]]:
    """(label, body without zaak) per heeftAlsX relation; the same person in several roles gives several rollen,
    an exact repeat (same roltype and betrokkene) is sent once."""
    mappings = ctx.backend.mappings
    mapped: list[MappedRol] = mappings.rollen_to_zgw(obj, context=context)
    if not any(rol.relation == "heeftAlsInitiator" for rol in mapped):
        text = "creeerZaak zonder heeftAlsInitiator (verplicht volgens ZDS 1.2 §4.1.4.2)"
        if ctx.settings.require_initiator:  # ZDS 1.2 §4.1.4.2; off by default, clients omit it
            raise ProcessingError("De initiator ontbreekt", text + ".", plek="client", reason="initiator-missing")
        ctx.warnings.append(text + "; de zaak is zonder initiator aangemaakt")
    roltypen = await ctx.backend.zgw.catalogue.roltypen(zaaktype) if mapped else []
    bodies: list[tuple[str, JSON]] = []
    seen: list[JSON] = []
    for rol in mapped:
        ctx.mapped(rol)
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
    return without_repeated_betrekking(ctx, bodies)


def _zaakobjecten(ctx: MessageContext, obj: etree._Element, context: MappingContext) -> list[JSON]:
    bodies = []
    for relation in obj.iterfind(zkn("heeftBetrekkingOp")):
        if ctx.backend.mappings.is_rol_relation(relation):
            continue  # a person or organisation it concerns: a rol (_rollen)
        mapped = ctx.mapped(ctx.backend.mappings.to_zgw("ZAKOBJ", relation, context=context))
        if mapped.skipped:
            continue  # the mapping has put the reason among the warnings
        bodies.append(mapped.body)
    return bodies
