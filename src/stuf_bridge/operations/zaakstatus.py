"""actualiseerZaakstatus (→ Bv03) and geefZaakstatus (→ La01), MAPPING.md §3.4 and §3.5.

actualiseerZaakstatus: ``GET zaken?identificatie`` → the zaaktype and its statustypen (catalogue) → the new
status mapped (status.yaml) and its statustype matched as in creeerZaak → when the status is the eindstatus:
the resultaat (the message's zaak has none: the zaaktype's fallback resultaat) and ``indicatieGebruiksrecht`` of
the zaak's documents → ``POST statussen``. Every write is a step of an ``UndoLog``: if the status is refused, the
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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..errors import ProcessingError
from ..mapping import MappingContext
from ..stuf.namespaces import STUF, XSI, Dialect
from ..stuf.values import AMSTERDAM, iso
from . import MessageContext
from .common import (
    documents_for_closing,
    fallback_resultaat,
    find_zaak,
    la01,
    lookup_zaak,
    require_zgw,
    set_gebruiksrecht_steps,
    zkn,
)
from .compensation import UndoLog
from .zaken import _deleter, _statussen

if TYPE_CHECKING:
    from ..mapping import Mappings
    from ..zgw import ZgwClients

JSON = dict[str, Any]
ONE_SECOND = timedelta(seconds=1)




# --- actualiseerZaakstatus ---------------------------------------------------------------------------------------


async def actualiseer_zaakstatus(ctx: MessageContext) -> None:
    zgw, mappings = require_zgw(ctx)
    obj = _new_object(ctx.message)
    relation = _the_status(obj)

    # --- look up and map (nothing written yet) ---
    zaak = await _zaak_or_fault(zgw, obj)
    zaaktype = await zgw.catalogue.zaaktype_by_url(zaak["zaaktype"])
    code = str(zaaktype.get("identificatie") or "")
    context = MappingContext(dialect=ctx.dialect, mode="create", zaaktype=code or None)
    only = etree.Element(zkn("object"))
    only.append(_copy(relation))
    [(label, body)] = await _statussen(ctx, mappings, zgw, only, context, zaaktype, skip_unidentified=False)
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
    body["datumStatusGezet"], gezetdoor = await asyncio.gather(
        _later_than(ctx, current, body["datumStatusGezet"]), _gezetdoor(ctx, zgw, relation, zaak)
    )
    if gezetdoor:
        body["gezetdoor"] = gezetdoor
    resultaat: JSON | None = None
    documenten: list[str] = []
    if eind:  # ZRC closes the zaak only with a resultaat and with every document's indicatieGebruiksrecht set
        resultaat, documenten = await asyncio.gather(
            _closing_resultaat(ctx, mappings, zgw, zaak, zaaktype), documents_for_closing(zgw, zaak)
        )

    # --- write ---
    async with UndoLog() as undo:
        if resultaat is not None:
            await undo.step("POST resultaten", zgw.zaken.create("resultaten", resultaat), undo=_deleter(zgw))
        await set_gebruiksrecht_steps(undo, zgw, documenten)
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
        )
    return objects[-1]


def _the_status(obj: etree._Element) -> etree._Element:
    relations = [el for el in obj.iterfind(zkn("heeft")) if el.get(f"{{{XSI}}}nil") not in ("true", "1")]
    if not relations:
        raise ProcessingError(
            "De nieuwe status ontbreekt",
            "Het (nieuwe) object van actualiseerZaakstatus heeft geen heeft-relatie (ZAKSTT) met de status.",
            plek="client",
        )
    return relations[-1]


def _copy(el: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(el))


def _identificatie(obj: etree._Element, operation: str) -> str:
    identificatie = (obj.findtext(zkn("identificatie")) or "").strip()
    if not identificatie:
        raise ProcessingError(
            "De zaakidentificatie ontbreekt", f"object/identificatie is verplicht in {operation}.", plek="client"
        )
    return identificatie


async def _zaak_or_fault(zgw: ZgwClients, obj: etree._Element) -> JSON:
    return await find_zaak(zgw, _identificatie(obj, "actualiseerZaakstatus"), operation="actualiseerZaakstatus")


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


async def _after_current(ctx: MessageContext, zgw: ZgwClients, zaak: JSON, value: str) -> str:
    """ZGW's current status is the one with the latest datumStatusGezet: make the new one later than it."""
    return await _later_than(ctx, await zgw.get(zaak["status"]) if zaak.get("status") else None, value)


async def _later_than(ctx: MessageContext, current: JSON | None, value: str) -> str:
    """``value``, or one second after the ``current`` status when it is not later than that."""
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


async def _gezetdoor(ctx: MessageContext, zgw: ZgwClients, relation: etree._Element, zaak: JSON) -> str | None:
    keys = _gezet_door_keys(relation)
    if keys is None:
        return None
    betrokkene_type, identificatie = keys
    rollen = await zgw.zaken.list("rollen", {"zaak": zaak["url"], "betrokkeneType": betrokkene_type})
    for rol in rollen:
        found = (rol.get("betrokkeneIdentificatie") or {}).get("identificatie")
        if rol.get("betrokkeneType") == betrokkene_type and found == identificatie:
            return str(rol["url"])
    ctx.warnings.append(
        f"isGezetDoor: {betrokkene_type} {identificatie!r} heeft geen rol bij zaak {zaak.get('identificatie')!r}; "
        "de status is gezet zonder gezetdoor"
    )
    return None


async def _closing_resultaat(
    ctx: MessageContext, mappings: Mappings, zgw: ZgwClients, zaak: JSON, zaaktype: JSON
) -> JSON | None:
    """The resultaat to post before the eindstatus, or None when the zaak has one already."""
    if zaak.get("resultaat") or await zgw.zaken.list("resultaten", {"zaak": zaak["url"]}, max_items=1):
        return None
    return {"zaak": zaak["url"], **await fallback_resultaat(ctx, mappings, zgw, zaaktype)}


# --- geefZaakstatus ------------------------------------------------------------------------------------------------


async def geef_zaakstatus(ctx: MessageContext) -> etree._Element:
    zgw, mappings = require_zgw(ctx)
    gelijk = ctx.message.find(zkn("gelijk"))
    identificatie = (gelijk.findtext(zkn("identificatie")) if gelijk is not None else "") or ""
    identificatie = identificatie.strip()
    if not identificatie:
        raise ProcessingError(
            "De zaakidentificatie ontbreekt",
            "geefZaakstatus selecteert op gelijk/identificatie; die ontbreekt.",
            plek="client",
        )
    only_last = ctx.dialect is Dialect.ZDS12 or _asks_last_only(gelijk)

    root = la01(ctx)
    zaak = await lookup_zaak(zgw, identificatie)
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


HANDLERS = {"actualiseerZaakstatus": actualiseer_zaakstatus, "geefZaakstatus": geef_zaakstatus}
