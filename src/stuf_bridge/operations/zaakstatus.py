"""actualiseerZaakstatus (→ Bv03) and geefZaakstatus (→ La01), MAPPING.md §3.4 and §3.5.

actualiseerZaakstatus: ``GET zaken?identificatie`` → the zaaktype and its statustypen (catalogue) → the new
status mapped (status.yaml) and its statustype matched as in creeerZaak → when the status is the eindstatus:
the resultaat (the one the message's zaak object carries, replacing one of another resultaattype the zaak has;
without one in the message, the zaak's own, else the zaaktype's fallback resultaat) and ``indicatieGebruiksrecht``
of the zaak's documents → ``POST statussen``. Every write is a step of an ``UndoLog``: if the status is refused, the
resultaat is deleted again and the documents get their indicator back.

Choices (say them, do not hide them):

* a date-only ``datumStatusGezet`` of today gets the current time (Europe/Amsterdam), because midnight would
  usually not be later than the status the zaak already has; any other date-only value is midnight;
* ZGW treats the status with the latest ``datumStatusGezet`` as the current one and refuses two statussen of one
  zaak at the same moment: a new status that is not later than the current one is set one second after it
  (waiting for that second if it is still in the future), with a warning;
* ``isGezetDoor`` naming a medewerker/organisatorische eenheid without a rol on the zaak is a warning; the
  status is set without ``gezetdoor``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from lxml import etree

from ..errors import ProcessingError
from ..mapping import MappingContext
from ..stuf.namespaces import STUF, XSI, Dialect
from ..stuf.values import AMSTERDAM, iso
from . import MessageContext, handler
from .common import (
    JSON,
    documents_for_closing,
    fallback_resultaat,
    find_zaak,
    la01,
    later_than,
    lookup_zaak,
    resultaat,
    set_gebruiksrecht_steps,
    statussen,
    zkn,
)
from .compensation import delete_created, post_back

# --- actualiseerZaakstatus ---------------------------------------------------------------------------------------


@handler("actualiseerZaakstatus")
async def actualiseer_zaakstatus(ctx: MessageContext) -> None:
    zgw, mappings = ctx.backend
    obj = _new_object(ctx.message)
    relation = _the_status(obj)

    # --- look up and map (nothing written yet) ---
    zaak = await find_zaak(ctx, _identificatie(obj))
    zaaktype = await zgw.catalogue.zaaktype_by_url(zaak["zaaktype"])
    code = str(zaaktype.get("identificatie") or "")
    context = ctx.mapping_context("create", zaaktype=code or None)
    only = etree.Element(zkn("object"))
    only.append(_copy(relation))
    [(label, body)] = await statussen(ctx, only, context, zaaktype, skip_unidentified=False)
    statustypen = await zgw.catalogue.statustypen(zaaktype)
    statustype = next((st for st in statustypen if st.get("url") == body["statustype"]), None) or {}
    eind = _is_eindstatus(statustype, statustypen)
    if eind and mappings.profile(code or None).ignore_eindstatus:
        ctx.warnings.append(
            f"eindstatus {label!r} niet gezet: profiel van zaaktype {code!r} heeft ignore_eindstatus; de zaak "
            "blijft open"
        )
        return
    current = await zgw.get(zaak["status"]) if zaak.get("status") else None
    repeat = _repeat_of_current(zaak, current, body, eind)
    if repeat:  # a resend under a new referentienummer (Open Zaakbrug #290, #301): set once
        ctx.warnings.append(f"status {label!r} niet opnieuw gezet: {repeat}")
        return
    body["datumStatusGezet"] = _today_gets_now(relation, body["datumStatusGezet"])
    body["datumStatusGezet"], gezet_door = await asyncio.gather(
        later_than(ctx, current, body["datumStatusGezet"]), gezetdoor(ctx, relation, zaak)
    )
    if gezet_door:
        body["gezetdoor"] = gezet_door
    given = await _message_resultaat(ctx, obj, context, zaaktype)
    if given is not None and not eind:
        ctx.warnings.append(f"resultaat niet gezet: status {label!r} is niet de eindstatus (actualiseerZaakstatus "
                            "zet het resultaat alleen bij het afsluiten)")
    resultaat: JSON | None = None
    replaced: JSON | None = None
    documenten: list[str] = []
    if eind:  # ZRC closes the zaak only with a resultaat and with every document's indicatieGebruiksrecht set
        (resultaat, replaced), documenten = await asyncio.gather(
            _closing_resultaat(ctx, zaak, zaaktype, given), documents_for_closing(ctx, zaak)
        )

    # --- write ---
    async with ctx.undo as undo:
        if replaced is not None:
            await undo.step("DELETE resultaten", zgw.zaken.delete(replaced["url"]),
                            undo=post_back(zgw.zaken, "resultaten", _resultaat_body(replaced)))
        if resultaat is not None:
            await undo.step("POST resultaten", zgw.zaken.create("resultaten", resultaat),
                            undo=delete_created(zgw.zaken))
        await set_gebruiksrecht_steps(ctx, documenten)
        # no DELETE on statussen in ZRC 1.5: a status is the last step, nothing after it can fail
        await undo.step(f"POST statussen ({label})", zgw.zaken.create("statussen", {**body, "zaak": zaak["url"]}))


def _new_object(message: etree._Element) -> etree._Element:
    """The new state: the last of the (one or two) objects of a W kennisgeving."""
    objects = message.findall(zkn("object"))
    if not objects or len(objects) > 2:
        raise ProcessingError(
            "actualiseerZaakstatus heeft één of twee objecten nodig",
            f"Het bericht heeft {len(objects)} ZKN:object-elementen; verwacht: het oude en het nieuwe (of alleen "
            "het nieuwe) object van de zaak.",
            plek="client",
            reason="wrong-object-count",
        )
    return objects[-1]


def _the_status(obj: etree._Element) -> etree._Element:
    relations = [el for el in obj.iterfind(zkn("heeft")) if el.get(f"{{{XSI}}}nil") not in ("true", "1")]
    if not relations:
        raise ProcessingError(
            "De nieuwe status ontbreekt",
            "Het (nieuwe) object van actualiseerZaakstatus heeft geen heeft-relatie (ZAKSTT) met de status.",
            plek="client",
            reason="required-element-missing",
        )
    return relations[-1]


def _copy(el: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(el))


def _identificatie(obj: etree._Element) -> str:
    identificatie = (obj.findtext(zkn("identificatie")) or "").strip()
    if not identificatie:
        raise ProcessingError("De zaakidentificatie ontbreekt",
                              "object/identificatie is verplicht in actualiseerZaakstatus.", plek="client",
                              reason="zaak-identificatie-missing")
    return identificatie


def _is_eindstatus(statustype: JSON, statustypen: list[JSON]) -> bool:
    if statustype.get("isEindstatus") is not None:
        return bool(statustype["isEindstatus"])
    return bool(statustypen) and statustypen[-1].get("url") == statustype.get("url")


def _today_gets_now(relation: etree._Element, value: str) -> str:
    """A date-only datumStatusGezet of today: now (Amsterdam) instead of midnight."""
    text = (relation.findtext(zkn("datumStatusGezet")) or "").strip()
    now = datetime.now(AMSTERDAM)
    if len(text) == 8 and text == now.strftime("%Y%m%d"):
        return iso(now.replace(microsecond=0))
    return value


def _repeat_of_current(zaak: JSON, current: JSON | None, body: JSON, eind: bool) -> str | None:
    """Why the message's status is the zaak's current status again, or None: the same statustype at the same
    moment, or the eindstatus of a zaak that this eindstatus has closed already."""
    if current is None or current.get("statustype") != body["statustype"]:
        return None
    if eind and zaak.get("einddatum"):
        return f"de zaak is al afgesloten met deze eindstatus (einddatum {zaak['einddatum']})"
    gezet = current.get("datumStatusGezet")
    if gezet and datetime.fromisoformat(gezet) == datetime.fromisoformat(body["datumStatusGezet"]):
        return f"de zaak heeft deze status al sinds {gezet}"
    return None


def _gezet_door_keys(relation: etree._Element) -> tuple[str, str] | None:
    """(betrokkeneType, identificatie) of heeft/isGezetDoor/gerelateerde/{medewerker|organisatorischeEenheid}."""
    gerelateerde = relation.find(f"{zkn('isGezetDoor')}/{zkn('gerelateerde')}")
    if gerelateerde is None:
        return None
    for tag, betrokkene_type in (("medewerker", "medewerker"), ("organisatorischeEenheid", "organisatorische_eenheid")):
        identificatie = (gerelateerde.findtext(f"{zkn(tag)}/{zkn('identificatie')}") or "").strip()
        if identificatie:
            return betrokkene_type, identificatie
    return None


async def gezetdoor(ctx: MessageContext, relation: etree._Element, zaak: JSON) -> str | None:
    """The URL of the zaak's rol that heeft/isGezetDoor names (a medewerker or organisatorische eenheid), for the
    status's ``gezetdoor``; None (with a warning when one was named but has no rol)."""
    keys = _gezet_door_keys(relation)
    if keys is None:
        return None
    betrokkene_type, identificatie = keys
    rollen = await ctx.backend.zgw.zaken.list("rollen", {"zaak": zaak["url"], "betrokkeneType": betrokkene_type})
    for rol in rollen:
        found = (rol.get("betrokkeneIdentificatie") or {}).get("identificatie")
        if rol.get("betrokkeneType") == betrokkene_type and found == identificatie:
            return str(rol["url"])
    ctx.warnings.append(
        f"isGezetDoor: {betrokkene_type} {identificatie!r} heeft geen rol bij zaak {zaak.get('identificatie')!r}; "
        "de status is gezet zonder gezetdoor"
    )
    return None


async def _message_resultaat(ctx: MessageContext, obj: etree._Element, context: MappingContext,
                             zaaktype: JSON) -> JSON | None:
    """The body (without zaak) of the resultaat the message's (new) zaak object carries, mapped as in updateZaak;
    None without one."""
    given = [el for el in obj.iterfind(zkn("resultaat")) if el.get(f"{{{STUF}}}noValue") is None]
    if not given:
        return None
    holder = etree.Element(zkn("object"))
    holder.append(_copy(given[-1]))
    mapped = ctx.backend.mappings.to_zgw("ZAK", holder, context=context.replace(mode="update"))  # a part of a zaak
    return await resultaat(ctx, ctx.mapped(mapped), zaaktype)


async def _closing_resultaat(ctx: MessageContext, zaak: JSON, zaaktype: JSON,
                             given: JSON | None) -> tuple[JSON | None, JSON | None]:
    """(the resultaat to post before the eindstatus, the zaak's resultaat it replaces). The message's own resultaat
    comes first: it replaces one of another resultaattype the zaak has. Without one, the zaak's existing resultaat
    stays (nothing to post), else the zaaktype's fallback resultaat."""
    existing = await ctx.backend.zgw.zaken.list("resultaten", {"zaak": zaak["url"]}, max_items=1)
    current = existing[0] if existing else None
    if given is not None:
        if current is not None and current.get("resultaattype") == given["resultaattype"]:
            return None, None
        if current is not None:
            ctx.warnings.append("het resultaat van de zaak is vervangen door het resultaat uit het bericht")
        return {"zaak": zaak["url"], **given}, current
    if zaak.get("resultaat") or current is not None:
        return None, None
    return {"zaak": zaak["url"], **await fallback_resultaat(ctx, zaaktype)}, None


def _resultaat_body(existing: JSON) -> JSON:
    return {key: existing[key] for key in ("zaak", "resultaattype", "toelichting") if existing.get(key)}


# --- geefZaakstatus ------------------------------------------------------------------------------------------------


@handler("geefZaakstatus")
async def geef_zaakstatus(ctx: MessageContext) -> etree._Element:
    zgw, mappings = ctx.backend
    gelijk = ctx.message.find(zkn("gelijk"))
    identificatie = (gelijk.findtext(zkn("identificatie")) if gelijk is not None else "") or ""
    identificatie = identificatie.strip()
    if not identificatie:
        raise ProcessingError(
            "De zaakidentificatie ontbreekt",
            "geefZaakstatus selecteert op gelijk/identificatie; die ontbreekt.",
            plek="client",
            reason="selection-missing",
        )
    only_last = ctx.dialect is Dialect.ZDS12 or _asks_last_only(gelijk)

    root = la01(ctx)
    zaak = await lookup_zaak(ctx, identificatie)
    if zaak is None:
        return root  # La01 without antwoord: no such zaak (MAPPING.md §1.3)
    params = {"zaak": zaak["url"]}
    if only_last:
        params["indicatieLaatstGezetteStatus"] = "true"
    statussen, zaaktype = await asyncio.gather(
        zgw.zaken.list("statussen", params), zgw.catalogue.zaaktype_by_url(zaak["zaaktype"])
    )
    statustypen = {st["url"]: st for st in await zgw.catalogue.statustypen(zaaktype)}
    statussen.sort(key=lambda s: datetime.fromisoformat(s["datumStatusGezet"]), reverse=True)  # newest first

    antwoord = etree.SubElement(root, zkn("antwoord"))
    obj = etree.SubElement(antwoord, zkn("object"))
    obj.set(f"{{{STUF}}}entiteittype", "ZAK")
    etree.SubElement(obj, zkn("identificatie")).text = zaak["identificatie"]
    for status in statussen:
        statustype = statustypen.get(status["statustype"]) or await zgw.get(status["statustype"])
        data = {**status, "_expand": {"statustype": statustype, "zaaktype": zaaktype}}
        heeft = etree.SubElement(obj, zkn("heeft"))
        ctx.warnings.extend(mappings.to_stuf("ZAKSTT", data, heeft, dialect=ctx.dialect))
    if not statussen:  # ZDS 1.2 requires heeft: nil, "no value"
        heeft = etree.SubElement(obj, zkn("heeft"))
        heeft.set(f"{{{STUF}}}entiteittype", "ZAKSTT")
        heeft.set(f"{{{XSI}}}nil", "true")
        heeft.set(f"{{{STUF}}}noValue", "geenWaarde")
    return root


def _asks_last_only(gelijk: etree._Element | None) -> bool:
    if gelijk is None:
        return False
    value = gelijk.findtext(f"{zkn('heeft')}/{zkn('indicatieLaatsteStatus')}")
    return (value or "").strip().upper() == "J"
