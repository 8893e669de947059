"""updateZaak (ZDS 1.1 ``zakLk01`` mutatiesoort W / ZDS 1.2 ``updateZaak_ZakLk01``) → changes to an existing zaak
in ZGW (MAPPING.md §3.3). The gateway answers Bv03.

The message holds either the was/wordt pair (STUF §5.2: the second object has the new values) or, as Open
Formulieren sends it, one object with the new values only (CLIENTS.md §1.4). The "was" object is compared with
what ZGW holds; disagreements are warnings, never faults. identificatie and zaaktype cannot change.

As in creeerZaak, everything is looked up and mapped first, then written as named steps of an ``UndoLog``:

``PATCH zaken`` (only what changed: present values and ``geenWaarde`` clears, hoofdzaak and relevanteAndereZaken;
undo: PATCH the old values back) → the rollen by verwerkingssoort (T: POST; W/R: DELETE + POST, ZRC 1.5 has no PUT on
rollen; V/E: DELETE; I: nothing; undo of a DELETE is a POST of the old rol) → deelzaken (``hoofdzaak`` of the other
zaak) → the resultaat (DELETE the existing one, POST the new one) → leidtTot besluiten (created or linked,
operations/besluiten.py) → the statussen from ``heeft``, oldest first, then, when the zaak is to be closed
(``einddatum``) and no eindstatus was among them, the eindstatus. ZRC closes a zaak only through its eindstatus,
which needs a resultaat: the given one, the zaak's existing one, else the mapping's fallback resultaat for the
zaaktype.
Statussen are posted last because they cannot be undone (ZRC 1.5 has no DELETE on statussen).

What to write is decided against the zaak as ZGW holds it, so that the same message sent again (a resend after a
lost answer, also without a step journal: ``idempotency_senders: off``) writes nothing twice: a rol, zaakobject or
status the zaak has already as the message makes it is kept, not written again (docs/recovery.md, "updateZaak:
decided by what ZGW holds").
"""

from __future__ import annotations

from copy import deepcopy
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lxml import etree

from ..errors import ProcessingError
from ..mapping import MappedObject, MappedRol, MappingContext, Mappings
from ..mapping.paths import get_in
from ..stuf.namespaces import STUF
from . import MessageContext, handler
from .besluiten import apply_leidt_tot
from .common import (
    BETROKKENE_KEYS,
    JSON,
    documents_for_closing,
    fallback_resultaat,
    find_zaak,
    later_than,
    pair_relations,
    resultaat,
    roltype_for,
    set_gebruiksrecht_steps,
    statussen,
    verwerkingssoort,
    without_repeated_betrekking,
    zaakeigenschappen,
    zaakgeometrie,
    zkn,
)
from ..recovery.context import plan as journal_plan
from ..recovery.resolve import equal_fields
from .compensation import Undo, delete_created, patch_back, post_back, put_back
from .zaak_relaties import deelzaak_steps, read_relations
from .zaakstatus import gezetdoor

if TYPE_CHECKING:
    from ..zgw import ZgwClients

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
VERWERKINGSSOORT = f"{{{STUF}}}verwerkingssoort"
NO_VALUE = f"{{{STUF}}}noValue"

# never changed by an updateZaak: immutable (ZDS 1.2 §4.1.5), set by the create, or read-only in ZGW
_NOT_PATCHED = frozenset({"identificatie", "zaaktype", "bronorganisatie", "einddatum", "url", "uuid", "status"})
# what a rol read from ZGW may be posted back with (the undo of its DELETE)
_ROL_FIELDS = (
    "zaak",
    "betrokkene",
    "betrokkeneType",
    "afwijkendeNaamBetrokkene",
    "roltype",
    "roltoelichting",
    "indicatieMachtiging",
    "contactpersoonRol",
    "betrokkeneIdentificatie",
)
# the keys that identify a betrokkene, per betrokkeneType
_BETROKKENE_KEYS = BETROKKENE_KEYS


@handler("updateZaak")
async def update_zaak(ctx: MessageContext) -> None:
    zgw, mappings = ctx.backend
    was, wordt = _was_wordt(ctx.message)

    # --- look up and map (nothing written yet) ---
    identificatie = _identificatie(was, wordt)
    zaak = await find_zaak(ctx, identificatie, rsin=ctx.rsin)
    zaaktype = await zgw.catalogue.zaaktype_by_url(zaak["zaaktype"])
    code = str(zaaktype.get("identificatie") or "")
    _check_immutable(was, wordt, identificatie, code)
    context = ctx.mapping_context("update", rsin=ctx.rsin, zaaktype=code)
    new = ctx.mapped(mappings.to_zgw("ZAK", wordt, context=context))
    if was is not None:
        _compare_was(ctx, mappings.to_zgw("ZAK", was, context=context), zaak)
    patch = _patch(new, zaak)
    relations = await read_relations(ctx, was, wordt, rsin=ctx.rsin, this=identificatie)
    patch.update(relations.zaak_fields(zaak))
    patch.update(_geometrie_patch(ctx, wordt, zaak, code))

    rollen = await _rol_changes(ctx, was, wordt, context, zaak, zaaktype)
    zaakobjecten = await _zaakobject_changes(ctx, was, wordt, context, zaak)
    eigenschappen = await _eigenschap_changes(ctx, new, zaak, zaaktype, wordt)
    nieuw_resultaat = await resultaat(ctx, new, zaaktype)
    nieuwe_statussen = await statussen(ctx, _added_statussen(wordt), context, zaaktype,
                                       gezetdoor=lambda relation: gezetdoor(ctx, relation, zaak))
    current, gezet = (await _zaak_statussen(ctx, zaak, every=bool(nieuwe_statussen))
                      if nieuwe_statussen or new.values.get("einddatum") else (None, []))
    nieuwe_statussen = _not_repeated(ctx, gezet, nieuwe_statussen)
    eindstatus, fallback, closes = await _closing(ctx, new, zaak, zaaktype, nieuwe_statussen, nieuw_resultaat,
                                                  current)
    nieuw_resultaat = nieuw_resultaat or fallback
    if eindstatus is not None:
        nieuwe_statussen.append(("eindstatus", eindstatus))
    reopening = await _reopening(ctx, new, zaak, zaaktype, nieuwe_statussen)
    if reopening is not None:
        nieuwe_statussen.append(("heropenen", reopening))
    documenten = await documents_for_closing(ctx, zaak) if closes else []

    # --- write ---
    url = zaak["url"]
    delete = delete_created(zgw.zaken)
    async with ctx.undo as undo:
        if patch:
            old = {key: deepcopy(zaak.get(key)) for key in patch}
            await undo.step("PATCH zaken", zgw.zaken.patch(url, patch), undo=patch_back(zgw.zaken, url, old))
        deletes: dict[str, tuple[Any, Any]] = {}
        for index, (label, existing) in enumerate(rollen.deletes, 1):
            deletes[f"DELETE rollen ({label}, {index})"] = (
                zgw.zaken.delete(existing["url"]),
                _reposter(ctx, "rollen", existing),
            )
        if deletes:
            await undo.steps(deletes)
        posts: dict[str, tuple[Any, Any]] = {}
        for index, (label, body) in enumerate(rollen.posts, 1):
            posts[f"POST rollen ({label}, {index})"] = (zgw.zaken.create("rollen", {**body, "zaak": url}), delete)
        if posts:
            await undo.steps(posts)
        await _zaakobject_steps(ctx, zaakobjecten, url)
        await _eigenschap_steps(ctx, eigenschappen, url)
        await deelzaak_steps(ctx, relations, url)
        if nieuw_resultaat is not None:
            if zaak.get("resultaat"):
                existing = await undo.step("GET resultaten", zgw.zaken.get(zaak["resultaat"]))
                await undo.step("DELETE resultaten", zgw.zaken.delete(existing["url"]),
                                undo=_reposter(ctx, "resultaten", existing))
            await undo.step("POST resultaten", zgw.zaken.create("resultaten", {**nieuw_resultaat, "zaak": url}),
                            undo=delete)
        await apply_leidt_tot(ctx, zaak, wordt.findall(zkn("leidtTot")),
                              old_relations=was.findall(zkn("leidtTot")) if was is not None else ())
        await set_gebruiksrecht_steps(ctx, documenten)
        # every status's intent journalled up front: a process killed between two statussen leaves the next one
        # known to recovery, which writes it (rolls it forward) instead of counting the message complete without it
        await journal_plan("POST", zgw.zaken.url("statussen"), [
            (f"POST statussen ({label}, {index})", {**body, "zaak": url})
            for index, (label, body) in enumerate(nieuwe_statussen, 1)])
        for index, (label, body) in enumerate(nieuwe_statussen, 1):
            # no DELETE on statussen in ZRC 1.5: they go last, after everything that can fail and be undone
            await undo.step(f"POST statussen ({label}, {index})", zgw.zaken.create("statussen", {**body, "zaak": url}))


# --- the objects -----------------------------------------------------------------------------------------------


def _was_wordt(message: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    objects = message.findall(zkn("object"))
    if len(objects) == 1:
        return None, objects[0]  # Open Formulieren: the new values only
    if len(objects) == 2:
        return objects[0], objects[1]
    raise ProcessingError(
        "updateZaak heeft één of twee objecten nodig",
        f"Het bericht heeft {len(objects)} ZKN:object-elementen; updateZaak verwacht het paar oud/nieuw "
        "(of alleen het nieuwe object).",
        plek="client",
        reason="wrong-object-count",
    )


def _text(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    return (element.findtext(path) or "").strip()


def _identificatie(was: etree._Element | None, wordt: etree._Element) -> str:
    identificatie = _text(wordt, zkn("identificatie")) or _text(was, zkn("identificatie"))
    if not identificatie:
        raise ProcessingError(
            "De zaakidentificatie ontbreekt",
            "object/identificatie is verplicht in updateZaak: het wijst de zaak aan.",
            plek="client",
            reason="zaak-identificatie-missing",
        )
    return identificatie


def _check_immutable(was: etree._Element | None, wordt: etree._Element, identificatie: str, code: str) -> None:
    old_id = _text(was, zkn("identificatie"))
    new_id = _text(wordt, zkn("identificatie"))
    if old_id and new_id and old_id != new_id:
        raise ProcessingError(
            "De zaakidentificatie kan niet wijzigen",
            f"updateZaak: identificatie {old_id!r} → {new_id!r}; de identificatie van een zaak is onveranderlijk "
            "(ZDS 1.2 §4.1.5).",
            plek="client",
            reason="identificatie-immutable",
        )
    path = f"{zkn('isVan')}/{zkn('gerelateerde')}/{zkn('code')}"
    for side in (was, wordt):
        given = _text(side, path)
        if given and code and given != code:
            raise ProcessingError(
                "Het zaaktype kan niet wijzigen",
                f"updateZaak: zaak {identificatie!r} heeft zaaktype {code!r}, het bericht noemt {given!r}; het "
                "zaaktype van een zaak is onveranderlijk (ZDS 1.2 §4.1.5).",
                plek="client",
                reason="zaaktype-immutable",
            )


def _patch(new: MappedObject, zaak: JSON) -> JSON:
    """Only what changes: the present values and the clears that differ from ZGW's."""
    body = new.patch_body()
    return {key: value for key, value in body.items() if key not in _NOT_PATCHED and not _same(zaak.get(key), value)}


def _same(current: Any, value: Any) -> bool:
    if current == value:
        return True
    if current in (None, "") and value in (None, ""):
        return True
    if isinstance(current, str) and isinstance(value, str):
        try:  # date-times: the same moment in another offset
            return datetime.fromisoformat(current) == datetime.fromisoformat(value)
        except ValueError:
            return False
    return False


def _compare_was(ctx: MessageContext, old: MappedObject, zaak: JSON) -> None:
    """The "was" object states what the client thinks ZGW holds: say where it does not (warnings only)."""
    for key, value in old.body.items():
        if key in ("identificatie", "bronorganisatie", "verantwoordelijkeOrganisatie", "einddatum"):
            continue
        if key not in zaak:
            continue
        if not _same(zaak.get(key), value):
            ctx.warnings.append(
                f"updateZaak: oude waarde van {key} ({value!r}) wijkt af van de zaak in ZGW ({zaak.get(key)!r})"
            )
    for path in old.cleared:
        key = path.split(".")[0]
        if not key.startswith("_") and key in zaak and zaak.get(key) not in (None, "", [], {}):
            ctx.warnings.append(f"updateZaak: oud heeft {key} geen waarde, de zaak in ZGW wel ({zaak.get(key)!r})")


def _geometrie_patch(ctx: MessageContext, wordt: etree._Element, zaak: JSON, code: str) -> JSON:
    """anderZaakObject in the new object replaces the zaakgeometrie; anderZaakObject geenWaarde clears it. Without
    anderZaakObject, the X/Y extraElementen the zaaktype's profile names (if any) replace it."""
    elements = wordt.findall(zkn("anderZaakObject"))
    if elements and all(el.get(NO_VALUE) for el in elements):
        return {"zaakgeometrie": None} if zaak.get("zaakgeometrie") else {}
    if not elements and ctx.backend.mappings.profile(code).zaakgeometrie is None:
        return {}
    geometrie = zaakgeometrie(ctx, wordt, code)
    if geometrie is None or geometrie == zaak.get("zaakgeometrie"):
        return {}
    return {"zaakgeometrie": geometrie}


# --- rollen ----------------------------------------------------------------------------------------------------


class _RolChanges:
    def __init__(self) -> None:
        self.deletes: list[tuple[str, JSON]] = []  # (label, the rol as ZGW has it)
        self.posts: list[tuple[str, JSON]] = []  # (label, body without zaak)
        # (label, the rol as ZGW has it): the rol the message asks for, in ZGW already (an earlier copy made it, or
        # a T for a betrokkene the zaak has in that rol): not posted again, not removed
        self.kept: list[tuple[str, JSON]] = []

    def keeps(self, rol: JSON) -> bool:
        return any(kept.get("url") == rol.get("url") for _, kept in self.kept)


def _relation_pairs(
    mappings: Mappings, was: etree._Element | None, wordt: etree._Element
) -> list[tuple[etree._Element | None, etree._Element | None]]:
    """The heeftAlsX relations of both objects, paired per name by verwerkingssoort (``pair_relations``)."""
    def by_tag(obj: etree._Element | None) -> dict[str, list[etree._Element]]:
        out: dict[str, list[etree._Element]] = {}
        if obj is not None:
            for child in obj:
                if mappings.is_rol_relation(child):  # heeftAlsX, and heeftBetrekkingOp with a betrokkene
                    out.setdefault(child.tag, []).append(child)
        return out

    old, new = by_tag(was), by_tag(wordt)
    pairs: list[tuple[etree._Element | None, etree._Element | None]] = []
    for tag in list(dict.fromkeys([*new, *old])):
        pairs.extend(pair_relations(old.get(tag, []), new.get(tag, [])))
    return pairs


def _has_content(relation: etree._Element | None) -> bool:
    if relation is None or relation.get(NO_VALUE):
        return False
    gerelateerde = relation.find(zkn("gerelateerde"))
    return gerelateerde is not None and len(gerelateerde) > 0 and not gerelateerde.get(NO_VALUE)


def _adding(new_el: etree._Element | None, omschrijving: str, details: str, *, reason: str) -> etree._Element:
    """The new side of a relation that adds something (T, W, R); one without content is a fault."""
    if new_el is None or not _has_content(new_el):
        raise ProcessingError(omschrijving, details, plek="client", reason=reason)
    return new_el


async def _rol_changes(
    ctx: MessageContext,
    was: etree._Element | None,
    wordt: etree._Element,
    context: MappingContext,
    zaak: JSON,
    zaaktype: JSON,
) -> _RolChanges:
    """The rollen to remove and to post, decided against the zaak's rollen as ZGW holds them (read once, when a
    relation changes a rol), so that the same message sent again changes nothing twice: a rol equal to the one to
    be created (its roltype, betrokkene and the fields sent, ``_same_rol``) is kept, not posted a second time, and
    not removed as the old one or as the single initiator being replaced; a rol to remove that ZGW no longer has is
    not removed again (a warning). That is what makes a resend of an updateZaak whose rol POST lost its answer end
    with one rol also without a step journal (a sender with ``idempotency_senders: off``)."""
    zgw, mappings = ctx.backend
    changes = _RolChanges()
    pairs = _relation_pairs(mappings, was, wordt)
    if not pairs:
        return changes
    context = context.replace(extra_elementen=mappings.extra_elementen(wordt))
    roltypen: list[JSON] | None = None
    existing: list[JSON] | None = None
    for old_el, new_el in pairs:
        soort = verwerkingssoort(old_el, new_el, "een rol", default="")
        if soort is None:
            continue
        if roltypen is None:
            roltypen = await zgw.catalogue.roltypen(zaaktype)
        going: MappedRol | None = None
        if soort in ("W", "V", "E", "R"):
            # the rol to remove: named by the old relation, or (one object) by the relation itself
            source = old_el if _has_content(old_el) else new_el
            if not _has_content(source):
                raise ProcessingError(
                    "Rol niet aangewezen",
                    f"verwerkingssoort {soort} zonder gegevens van de betrokkene om de rol te vinden.",
                    plek="client",
                    reason="rol-not-identified",
                )
            assert source is not None
            going = ctx.mapped(mappings.rol_to_zgw(source, context=context))
        coming: MappedRol | None = None
        if soort in ("T", "W", "R"):
            added = _adding(new_el, "Rol zonder betrokkene", f"verwerkingssoort {soort} op een rol zonder gegevens "
                            "van de (nieuwe) betrokkene.", reason="rol-without-betrokkene")
            # a new rol: its create defaults (roltoelichting) apply
            coming = ctx.mapped(mappings.rol_to_zgw(added, context=context.replace(mode="create")))
            if coming.skipped:
                ctx.warnings.append(f"{coming.relation} overgeslagen: {coming.skipped}")
                coming = None
        if going is None and coming is None:
            continue
        if existing is None:
            existing = await zgw.zaken.list("rollen", {"zaak": zaak["url"]})
        body: JSON | None = None
        there: JSON | None = None
        if coming is not None:
            body = {**coming.body, "roltype": roltype_for(mappings, coming, roltypen, zaaktype)["url"]}
            if soort != "T":
                # the rol as this message makes it, in ZGW already: an earlier copy of it made it (its answer lost)
                there = next((rol for rol in existing if _same_rol(body, rol) and not changes.keeps(rol)), None)
        if going is not None:
            roltype = roltype_for(mappings, going, roltypen, zaaktype)
            match = _matching_rol([rol for rol in existing if rol is not there and not changes.keeps(rol)],
                                  roltype, going)
            if match is None:
                if soort in ("V", "E"):
                    ctx.warnings.append(
                        f"{going.relation} (verwerkingssoort {soort}): de rol bestaat niet (meer) in ZGW; niets "
                        "verwijderd"
                    )
                    continue
                if there is None:
                    ctx.warnings.append(f"{going.relation} (verwerkingssoort {soort}): de oude rol is niet gevonden")
            else:
                existing.remove(match)
                changes.deletes.append((going.relation, match))
        if coming is None or body is None:
            continue
        if there is not None:
            ctx.warnings.append(f"{coming.relation} (verwerkingssoort {soort}): de zaak heeft deze rol al zoals het "
                                "bericht hem vraagt (van een eerder exemplaar van dit bericht?); geen tweede rol "
                                "aangemaakt")
            changes.kept.append((coming.relation, there))
            continue
        if soort == "T":
            roltype = roltype_for(mappings, coming, roltypen, zaaktype)
            present = _matching_rol(existing, roltype, coming)
            if present is not None:
                # already there: a second one would be a duplicate (ZaakBrug #418, Open Zaakbrug #332)
                ctx.warnings.append(f"{coming.relation} (verwerkingssoort T): de zaak heeft deze betrokkene al "
                                    "in deze rol; geen tweede rol aangemaakt")
                changes.kept.append((coming.relation, present))
                continue
        changes.posts.append((coming.relation, body))
    changes.posts = without_repeated_betrekking(ctx, changes.posts)
    if (changes.posts or changes.kept) and roltypen:
        existing = existing if existing is not None else await zgw.zaken.list("rollen", {"zaak": zaak["url"]})
        _replace_single_roles(ctx, changes, roltypen, existing)
    return changes


# ZGW allows one rol of these per zaak (Open Zaak: ``max-occurences``)
SINGLE_ROLES = frozenset({"initiator", "zaakcoordinator"})


def _replace_single_roles(ctx: MessageContext, changes: _RolChanges, roltypen: list[JSON],
                          existing: list[JSON]) -> None:
    """A new initiator or zaakcoordinator replaces the zaak's current one (with a warning): ZGW allows only one,
    and the client that sends it means the new one (ZaakBrug e2e "Natuurlijk Persoon", step 06). A kept rol (the
    one the message asks for, in ZGW already) counts as the new one: any other of its kind goes, and it stays."""
    generiek = {str(r.get("url")): r.get("omschrijvingGeneriek") for r in roltypen}
    going = {str(rol.get("url")) for _, rol in changes.deletes}
    wanted = [*changes.posts, *changes.kept]
    for label, body in wanted:
        kind = generiek.get(str(body.get("roltype")))
        if kind not in SINGLE_ROLES:
            continue
        for rol in existing:
            if rol.get("omschrijvingGeneriek", generiek.get(str(rol.get("roltype")))) == kind \
                    and str(rol.get("url")) not in going and not changes.keeps(rol):
                ctx.warnings.append(f"{label}: de zaak heeft al een {kind}; die rol wordt vervangen (ZGW staat er "
                                    "één toe)")
                changes.deletes.append((label, rol))
                going.add(str(rol.get("url")))


def _same_rol(body: JSON, rol: JSON) -> bool:
    """Whether ``rol`` (as ZGW has it) is the rol ``body`` would create: every field sent equal (roltype,
    betrokkeneType, the betrokkene's identification and what else was sent), and no value in the rol's
    betrokkeneIdentificatie that the body does not send (a rol with a name the new one lacks is another rol)."""
    return _same_object(body, rol, "betrokkeneIdentificatie")


def _matching_rol(rollen: list[JSON], roltype: JSON, mapped: MappedRol) -> JSON | None:
    body = mapped.body
    soort = body.get("betrokkeneType")
    ident = body.get("betrokkeneIdentificatie") or {}
    keys = [key for key in _BETROKKENE_KEYS.get(str(soort), ()) if ident.get(key)]
    for rol in rollen:
        if rol.get("roltype") != roltype["url"] or (soort and rol.get("betrokkeneType") != soort):
            continue
        theirs = rol.get("betrokkeneIdentificatie") or {}
        if keys and all(get_in(theirs, (key,)) == ident[key] for key in keys):
            return rol
        if not keys and body.get("betrokkene") and rol.get("betrokkene") == body.get("betrokkene"):
            return rol
    return None


def _reposter(ctx: MessageContext, resource: str, existing: JSON) -> Undo:
    """The undo of a DELETE: POST the removed object back (it gets a new url)."""
    if resource == "rollen":
        body = {key: existing[key] for key in _ROL_FIELDS if existing.get(key) not in (None, "", {})}
    elif resource == "zaakobjecten":
        body = _zaakobject_body(existing)
    else:
        body = {key: existing[key] for key in ("zaak", "resultaattype", "toelichting") if existing.get(key)}
    return post_back(ctx.backend.zgw.zaken, resource, body)


# --- zaakobjecten ----------------------------------------------------------------------------------------------

_ZAAKOBJECT_FIELDS = ("zaak", "object", "objectType", "objectTypeOverige", "relatieomschrijving", "objectIdentificatie")


class _ZaakobjectChanges:
    def __init__(self) -> None:
        self.deletes: list[JSON] = []  # the zaakobjecten as ZGW has them
        self.puts: list[tuple[JSON, JSON]] = []  # (as ZGW has it, the new body without zaak)
        self.posts: list[JSON] = []  # new bodies without zaak
        # the zaakobjecten the message asks for, in ZGW already (an earlier copy of it made them): not written again
        self.kept: list[JSON] = []

    def keeps(self, zaakobject: JSON) -> bool:
        return any(kept.get("url") == zaakobject.get("url") for kept in self.kept)


def _pairs(
    tag: str, was: etree._Element | None, wordt: etree._Element
) -> list[tuple[etree._Element | None, etree._Element | None]]:
    return pair_relations([] if was is None else was.findall(tag), wordt.findall(tag))


async def _zaakobject_changes(
    ctx: MessageContext,
    was: etree._Element | None,
    wordt: etree._Element,
    context: MappingContext,
    zaak: JSON,
) -> _ZaakobjectChanges:
    """heeftBetrekkingOp by verwerkingssoort (MAPPING.md §3.3): T POST, W PUT, R DELETE + POST, V/E DELETE —
    decided against the zaak's zaakobjecten as ZGW holds them, so that the same message sent again writes nothing
    twice: a zaakobject equal to the one the message makes (``_same_zaakobject``) is kept, not posted (T, R) or put
    (W) again and not removed as the old one; one to remove that ZGW no longer has is not removed again (a
    warning). That makes a resend after a lost answer end with one zaakobject also without a step journal (a
    sender with ``idempotency_senders: off``). The zaakobjecten are read once, and only when a relation needs them
    and the zaak lists any (``_zaakobjecten``)."""
    zgw, mappings = ctx.backend
    changes = _ZaakobjectChanges()
    existing: list[JSON] | None = None
    for old_el, new_el in _pairs(zkn("heeftBetrekkingOp"), was, wordt):
        if any(el is not None and mappings.is_rol_relation(el) for el in (old_el, new_el)):
            continue  # a betrokkene: a rol (_rol_changes)
        soort = verwerkingssoort(old_el, new_el, "heeftBetrekkingOp")
        if soort is None:
            continue
        new: JSON | None = None
        if soort in ("T", "W", "R"):
            added = _adding(new_el, "Zaakobject zonder object", f"heeftBetrekkingOp (verwerkingssoort {soort}) "
                            "zonder gegevens van het (nieuwe) object.", reason="zaakobject-without-object")
            mapped = ctx.mapped(mappings.to_zgw("ZAKOBJ", added, context=context.replace(mode="create")))
            new = None if mapped.skipped else mapped.body
        there: JSON | None = None
        if new is not None:
            existing = existing if existing is not None else await _zaakobjecten(zgw, zaak)
            # the zaakobject as this message makes it, in ZGW already: an earlier copy of it made it (its answer lost)
            there = next((zo for zo in existing if _same_zaakobject(new, zo) and not changes.keeps(zo)), None)
        match: JSON | None = None
        if soort in ("W", "V", "E", "R"):
            source = old_el if _has_content(old_el) else new_el
            old = (ctx.mapped(mappings.to_zgw("ZAKOBJ", source, context=context))
                   if source is not None and _has_content(source) else None)
            if old is None or old.skipped:
                ctx.warnings.append(f"heeftBetrekkingOp (verwerkingssoort {soort}): geen adres om het zaakobject "
                                    "mee te vinden; niets verwijderd of gewijzigd")
            else:
                existing = existing if existing is not None else await _zaakobjecten(zgw, zaak)
                match = _matching_zaakobject([zo for zo in existing if zo is not there and not changes.keeps(zo)],
                                             old.body)
                if match is None:
                    if there is None:
                        ctx.warnings.append(f"heeftBetrekkingOp (verwerkingssoort {soort}): het zaakobject bestaat "
                                            "niet (meer) in ZGW")
                else:
                    existing.remove(match)
        if there is not None:
            ctx.warnings.append(f"heeftBetrekkingOp (verwerkingssoort {soort}): de zaak heeft dit zaakobject al "
                                "zoals het bericht het vraagt (van een eerder exemplaar van dit bericht?); geen "
                                "tweede zaakobject aangemaakt")
            changes.kept.append(there)
            new = None
        if soort == "W" and match is not None and new is not None:
            changes.puts.append((match, new))
            continue
        if match is not None:
            changes.deletes.append(match)
        if new is not None:
            changes.posts.append(new)
    return changes


async def _zaakobjecten(zgw: ZgwClients, zaak: JSON) -> list[JSON]:
    """The zaak's zaakobjecten as ZGW holds them: none without a call when the zaak lists none (ZRC 1.5's
    ``zaakobjecten`` on the zaak, read before any write), else one read."""
    if zaak.get("zaakobjecten") == []:
        return []
    return list(await zgw.zaken.list("zaakobjecten", {"zaak": zaak["url"]}))


def _same_zaakobject(body: JSON, zaakobject: JSON) -> bool:
    """Whether ``zaakobject`` (as ZGW has it) is the one ``body`` would create: every field sent equal (objectType,
    the objectIdentificatie and what else was sent), and no value, in its objectIdentificatie or its own fields
    (relatieomschrijving, object, objectTypeOverige), that the body does not send: an adres with a huisletter the
    new one lacks is another adres, and a second T of an adres the zaak has with another relatieomschrijving adds
    one (ZaakBrug's e2e "HeeftBetrekkingOp AOA with verwerkingssoort T and T should add")."""
    if any(zaakobject.get(key) not in (None, "") and body.get(key) in (None, "")
           for key in ("relatieomschrijving", "object", "objectTypeOverige")):
        return False
    return _same_object(body, zaakobject, "objectIdentificatie")


def _same_object(body: JSON, stored: JSON, identification: str) -> bool:
    """``equal_fields`` (every value sent, stored alike), and no scalar value in the stored object's
    ``identification`` that the body leaves out."""
    if not equal_fields(body, stored):
        return False
    sent = body.get(identification) or {}
    theirs = stored.get(identification) or {}
    return all(key in sent for key, value in theirs.items()
               if value not in (None, "", [], {}) and not isinstance(value, (dict, list)))


def _matching_zaakobject(zaakobjecten: list[JSON], body: JSON) -> JSON | None:
    """The zaakobject of the same objectType whose objectIdentificatie has the given (non-empty) values."""
    wanted = {k: v for k, v in (body.get("objectIdentificatie") or {}).items() if v not in (None, "")}
    key = {"identificatie": wanted["identificatie"]} if wanted.get("identificatie") else wanted
    for zaakobject in zaakobjecten:
        if zaakobject.get("objectType") != body.get("objectType"):
            continue
        theirs = zaakobject.get("objectIdentificatie") or {}
        if key and all(theirs.get(k) == v for k, v in key.items()):
            return zaakobject
    return None


async def _zaakobject_steps(ctx: MessageContext, changes: _ZaakobjectChanges, url: str) -> None:
    zaken = ctx.backend.zgw.zaken
    for index, existing in enumerate(changes.deletes, 1):
        await ctx.undo.step(f"DELETE zaakobjecten ({index})", zaken.delete(existing["url"]),
                            undo=_reposter(ctx, "zaakobjecten", existing))
    for index, (existing, body) in enumerate(changes.puts, 1):
        before = _zaakobject_body(existing)
        await ctx.undo.step(f"PUT zaakobjecten ({index})", zaken.update(existing["url"], {**body, "zaak": url}),
                            undo=put_back(zaken, existing["url"], before))
    for index, body in enumerate(changes.posts, 1):
        await ctx.undo.step(f"POST zaakobjecten ({index})", zaken.create("zaakobjecten", {**body, "zaak": url}),
                            undo=delete_created(zaken))


def _zaakobject_body(existing: JSON) -> JSON:
    return {key: existing[key] for key in _ZAAKOBJECT_FIELDS if existing.get(key) not in (None, "")}


# --- zaakeigenschappen ------------------------------------------------------------------------------------------


async def _eigenschap_changes(
    ctx: MessageContext, new: MappedObject, zaak: JSON, zaaktype: JSON, wordt: etree._Element
) -> list[tuple[str, JSON | None, JSON]]:
    """(naam, the zaakeigenschap as ZGW has it or None, the new body) per extraElement that names an eigenschap of
    the zaaktype and whose value differs from the zaak's (MAPPING.md §3.2, §5; ZaakBrug #277)."""
    wanted = await zaakeigenschappen(ctx, new, zaaktype, wordt)
    if not wanted:
        return []
    current = await ctx.backend.zgw.zaken.list(f"{zaak['url']}/zaakeigenschappen")
    by_eigenschap = {str(item.get("eigenschap")): item for item in current}
    changes: list[tuple[str, JSON | None, JSON]] = []
    for naam, body in wanted:
        existing = by_eigenschap.get(body["eigenschap"])
        if existing is None or existing.get("waarde") != body["waarde"]:
            changes.append((naam, existing, body))
    return changes


async def _eigenschap_steps(ctx: MessageContext, changes: list[tuple[str, JSON | None, JSON]], url: str) -> None:
    zaken = ctx.backend.zgw.zaken
    for naam, existing, body in changes:
        if existing is None:
            await ctx.undo.step(f"POST zaakeigenschappen ({naam})",
                                zaken.create(f"{url}/zaakeigenschappen", {**body, "zaak": url}),
                                undo=delete_created(zaken))
        else:
            old = {"waarde": existing.get("waarde")}
            await ctx.undo.step(f"PATCH zaakeigenschappen ({naam})",
                                zaken.patch(existing["url"], {"waarde": body["waarde"]}),
                                undo=patch_back(zaken, existing["url"], old))


# --- statussen and closing -------------------------------------------------------------------------------------


def _added_statussen(wordt: etree._Element) -> etree._Element:
    """An object holding only the heeft relations that add a status (T, W, R)."""
    holder = etree.Element(wordt.tag)
    for relation in wordt.iterfind(zkn("heeft")):
        if (relation.get(VERWERKINGSSOORT) or "T").upper() in ("T", "W", "R") and _has_content(relation):
            holder.append(deepcopy(relation))
    return holder


async def _zaak_statussen(ctx: MessageContext, zaak: JSON, *, every: bool) -> tuple[JSON | None, list[JSON]]:
    """(the zaak's current status or None, the statussen it has that this message may repeat), in one call: with
    ``every`` (the message sets statussen) all of the zaak's statussen, else only its current one. A zaak without a
    current status has none."""
    if not zaak.get("status"):
        return None, []
    if every:
        gezet = list(await ctx.backend.zgw.zaken.list("statussen", {"zaak": zaak["url"]}))
        current = next((item for item in gezet if item.get("url") == zaak["status"]), None)
        if current is not None:
            return current, gezet
    current = await ctx.backend.zgw.get(zaak["status"])
    return current, [current]


def _not_repeated(ctx: MessageContext, gezet: list[JSON], nieuwe: list[tuple[str, JSON]]) -> list[tuple[str, JSON]]:
    """The message's statussen without those the zaak has already (the same statustype at the same moment), skipped
    with a warning: clients that send the whole zaak on every update repeat its current status, a resend of a
    message whose later status failed repeats the earlier ones it wrote (without a step journal to roll it forward:
    a sender with ``idempotency_senders: off``), and ZGW refuses a second status at the same moment.
    actualiseerZaakstatus skips its current status the same way."""
    have = {(str(item.get("statustype")), _moment(item["datumStatusGezet"])): item["datumStatusGezet"]
            for item in gezet if item.get("datumStatusGezet")}
    out: list[tuple[str, JSON]] = []
    for label, body in nieuwe:
        since = have.get((str(body.get("statustype")), _moment(body.get("datumStatusGezet"))))
        if since is not None:
            ctx.warnings.append(f"status {label!r} niet opnieuw gezet: de zaak heeft deze status al sinds {since}")
            continue
        out.append((label, body))
    return out


def _moment(value: Any) -> datetime | str:
    """A datumStatusGezet as a moment (a value without offset is Amsterdam time), to compare across offsets."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=AMSTERDAM)


async def _closing(
    ctx: MessageContext,
    new: MappedObject,
    zaak: JSON,
    zaaktype: JSON,
    statussen: list[tuple[str, JSON]],
    resultaat: JSON | None,
    current: JSON | None,
) -> tuple[JSON | None, JSON | None, bool]:
    """(the eindstatus to post, the fallback resultaat to post, whether this message closes the zaak). No eindstatus
    to add when the message's own ``heeft`` has it."""
    einddatum = new.values.get("einddatum")
    eindstatustype = await ctx.backend.zgw.catalogue.eindstatustype(zaaktype) if (einddatum or statussen) else None
    has_eindstatus = eindstatustype is not None and any(
        body.get("statustype") == eindstatustype["url"] for _, body in statussen
    )
    if not einddatum and not has_eindstatus:
        return None, None, False
    if zaak.get("einddatum") and has_eindstatus:  # closed already: a second eindstatus (ZaakBrug ESED cases)
        assert eindstatustype is not None
        statussen[:] = [item for item in statussen if item[1].get("statustype") != eindstatustype["url"]]
        ctx.warnings.append(f"updateZaak: de zaak is al afgesloten op {zaak['einddatum']}; eindstatus "
                            f"{eindstatustype.get('omschrijving')!r} niet opnieuw gezet")
        return None, None, False
    if zaak.get("einddatum") and not has_eindstatus:
        if str(zaak["einddatum"]) != str(einddatum):
            ctx.warnings.append(
                f"updateZaak: de zaak is al afgesloten op {zaak['einddatum']}; einddatum {einddatum} genegeerd"
            )
        return None, None, False
    fallback = None
    if resultaat is None and not zaak.get("resultaat"):
        fallback = await fallback_resultaat(ctx, zaaktype)
    if has_eindstatus:
        return None, fallback, True
    assert eindstatustype is not None
    day = date.fromisoformat(str(einddatum)[:10])
    gezet = datetime.combine(day, time(0, 0), tzinfo=AMSTERDAM).isoformat()
    # not earlier than the current status, nor than a status of this message, as in actualiseerZaakstatus: else the
    # zaak would be closed while its latest status is not the eindstatus
    latest = _latest_status(current, statussen)
    theirs = _moment(latest["datumStatusGezet"]) if latest is not None else None
    if latest is not None and isinstance(theirs, datetime) and datetime.fromisoformat(gezet) <= theirs:
        ctx.warnings.append(f"updateZaak: einddatum {einddatum} ligt niet na de laatste status "
                            f"({latest['datumStatusGezet']}); de eindstatus wordt daarna gezet")
        gezet = await later_than(ctx, latest, gezet)
    body = {
        "statustype": eindstatustype["url"],
        "datumStatusGezet": gezet,
        "statustoelichting": "Zaak afgesloten (einddatum in updateZaak)",
    }
    return body, fallback, True


def _latest_status(current: JSON | None, statussen: list[tuple[str, JSON]]) -> JSON | None:
    """The latest of the zaak's current status and the statussen this message sets (by datumStatusGezet)."""
    candidates = [body for _, body in statussen if body.get("datumStatusGezet")]
    if current is not None and current.get("datumStatusGezet"):
        candidates.append(current)
    moments = [(m, body) for body in candidates if isinstance(m := _moment(body["datumStatusGezet"]), datetime)]
    return max(moments, key=lambda item: item[0])[1] if moments else None


async def _reopening(
    ctx: MessageContext, new: MappedObject, zaak: JSON, zaaktype: JSON, statussen: list[tuple[str, JSON]]
) -> JSON | None:
    """einddatum ``geenWaarde`` on a closed zaak reopens it. ZRC reopens a zaak when a status that is not the
    eindstatus is set (zrc-008, scope zaken.heropenen) and then clears einddatum and the archive fields itself. The
    message's own non-final status does that; without one, the status before the eindstatus is set again."""
    if "einddatum" not in new.cleared or not zaak.get("einddatum"):
        return None
    statustypen = await ctx.backend.zgw.catalogue.statustypen(zaaktype)
    if len(statustypen) < 2:
        raise ProcessingError(
            "De zaak kan niet heropend worden",
            f"zaaktype {zaaktype.get('identificatie')!r} heeft geen statustype vóór de eindstatus.",
            plek="client",
            reason="zaak-cannot-reopen",
        )
    eind = statustypen[-1]["url"]
    if any(body.get("statustype") != eind for _, body in statussen):
        ctx.warnings.append("updateZaak: de zaak is heropend (einddatum geenWaarde) met de status uit het bericht")
        return None
    previous = statustypen[-2]
    ctx.warnings.append(f"updateZaak: de zaak is heropend (einddatum geenWaarde) met status "
                        f"{previous.get('omschrijving')!r}")
    return {
        "statustype": previous["url"],
        "datumStatusGezet": datetime.now(AMSTERDAM).isoformat(timespec="seconds"),
        "statustoelichting": "Zaak heropend (einddatum geenWaarde in updateZaak)",
    }
