"""Zaken API 1.5.1: statussen (with closing and reopening the zaak) and resultaten."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from fastapi import APIRouter, Depends

from .auth import authenticate
from .checks import add_duration, check_not_future_datetime, iso_datetime, sortable
from .crud import Resource, add_routes, fields
from .db import Database, Where
from .problems import ValidationFailed
from .refs import ref, uuid_of
from .resolve import Resolver
from .rest import Query, require_json
from .zaken import current_statussen
from .zaken_models import ResultaatBody, StatusBody

router = APIRouter(prefix="/zaken/api/v1", dependencies=[Depends(authenticate), Depends(require_json)],
                   tags=["zaken"])

STATUS_FIELDS = ("url", "uuid", "zaak", "statustype", "datumStatusGezet", "statustoelichting",
                 "indicatieLaatstGezetteStatus", "gezetdoor", "zaakinformatieobjecten")


def render_statussen(database: Database, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not docs:
        return []
    zaken = sorted({d["zaak"] for d in docs})
    current = {s["url"] for s in current_statussen(database, zaken).values()}
    zios: dict[str, list[str]] = {}
    for zio in database.select(Where("zaakinformatieobject").isin("zaak", zaken)):
        if zio.get("status"):
            zios.setdefault(zio["status"], []).append(zio["url"])
    out = []
    for doc in docs:
        full = {**doc, "indicatieLaatstGezetteStatus": doc["url"] in current,
                "zaakinformatieobjecten": zios.get(doc["url"], [])}
        out.append({k: full.get(k) for k in STATUS_FIELDS})
    return out


_LATEST = ("uuid IN (SELECT uuid FROM (SELECT uuid, ROW_NUMBER() OVER (PARTITION BY zaak ORDER BY sortkey DESC, "
           "seq DESC) AS n FROM status) WHERE n = 1)")


def _status_where(q: Query) -> Where:
    where = Where("status").eq("zaak", q.ref("zaak", "zaak")).eq("statustype", q.ref("statustype", "statustype"))
    latest = q.flag("indicatieLaatstGezetteStatus")
    if latest is True:
        where.raw(_LATEST)
    elif latest is False:
        where.raw("NOT " + _LATEST)
    return where


def _closing_checks(r: Resolver, zaak: dict[str, Any]) -> dict[str, Any] | None:
    """What Open Zaak checks before the eindstatus closes a zaak; returns the resultaat."""
    for zio in r.db.find("zaakinformatieobject", zaak=zaak["url"]):
        eio = r.db.get("enkelvoudiginformatieobject", uuid_of(zio["informatieobject"]))
        if eio is None:
            continue
        if eio.get("_lock"):
            r.add("nonFieldErrors", "informatieobject-locked",
                  "Er zijn gerelateerde informatieobjecten die nog gelocked zijn. Deze informatieobjecten moet "
                  "eerst unlocked worden voordat de zaak afgesloten kan worden.")
            break
    for zio in r.db.find("zaakinformatieobject", zaak=zaak["url"]):
        eio = r.db.get("enkelvoudiginformatieobject", uuid_of(zio["informatieobject"]))
        if eio is not None and eio.get("indicatieGebruiksrecht") is None:
            r.add("nonFieldErrors", "indicatiegebruiksrecht-unset",
                  "Er zijn gerelateerde informatieobjecten waarvoor `indicatieGebruiksrecht` nog niet "
                  "gespecifieerd is. Je moet deze zetten voor je de zaak kan afsluiten.")
            break
    deelzaken = r.db.find("zaak", hoofdzaak=zaak["url"])
    if any(not d.get("einddatum") for d in deelzaken):
        r.add("nonFieldErrors", "deelzaken-not-closed",
              "Er zijn gerelateerde deelzaken die nog niet zijn afgesloten zijn. Deze deelzaken moeten eerst "
              "afgesloten worden voordat de zaak afgesloten kan worden.")
    r.check()
    resultaat = r.db.first("resultaat", zaak=zaak["url"])
    if resultaat is None:
        raise ValidationFailed.one("nonFieldErrors", "resultaat-does-not-exist",
                                   "Het resultaat van de zaak is niet bekend: de zaak kan niet worden afgesloten "
                                   "zonder resultaat.")
    if any(not r.db.exists("resultaat", zaak=d["url"]) for d in deelzaken):
        raise ValidationFailed.one("nonFieldErrors", "deelzaak-resultaat-does-not-exist",
                                   "Niet alle deelzaken hebben een resultaat.")
    return resultaat


def _close(r: Resolver, zaak: dict[str, Any], resultaat: dict[str, Any], body: StatusBody) -> dict[str, Any]:
    # einddatum is the date of datumStatusGezet in the client's own offset, as Open Zaak takes it
    einddatum = body.datumStatusGezet.date()
    zaak = {**zaak, "einddatum": einddatum.isoformat()}
    resultaattype = r.db.get("resultaattype", uuid_of(resultaat["resultaattype"])) or {}
    if not zaak.get("archiefnominatie"):
        zaak["archiefnominatie"] = resultaattype.get("archiefnominatie") or None
    afleiding = (resultaattype.get("brondatumArchiefprocedure") or {}).get("afleidingswijze")
    brondatum = einddatum if afleiding == "afgehandeld" else None
    if not zaak.get("archiefactiedatum") and brondatum and resultaattype.get("archiefactietermijn"):
        actiedatum = add_duration(brondatum, resultaattype["archiefactietermijn"])
        zaak["archiefactiedatum"] = actiedatum.isoformat() if actiedatum else None
    if not zaak.get("startdatumBewaartermijn") and brondatum:
        zaak["startdatumBewaartermijn"] = brondatum.isoformat()
    return zaak


def _status(r: Resolver, body: StatusBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    """A new status; the zaak closes with an eindstatus (or reopens with another) in the same transaction."""
    zaak = r.local("zaak", body.zaak, "zaak")
    statustype = r.local("statustype", body.statustype, "statustype")
    gezetdoor = r.local("gezetdoor", body.gezetdoor, "rol") if body.gezetdoor else None
    check_not_future_datetime(r.errors, "datumStatusGezet", body.datumStatusGezet, "date-in-future")
    r.check()
    assert zaak is not None and statustype is not None
    sortkey = sortable(body.datumStatusGezet)
    if r.db.exists("status", zaak=zaak["url"], sortkey=sortkey):
        r.add("nonFieldErrors", "unique", "De velden zaak, datum_status_gezet moeten een unieke set zijn.")
    if statustype["zaaktype"] != zaak["zaaktype"]:
        r.add("nonFieldErrors", "zaaktype-mismatch", "De referentie hoort niet bij het zaaktype van de zaak.")
    if gezetdoor is not None and gezetdoor["zaak"] != zaak["url"]:
        r.add("nonFieldErrors", "zaak-mismatch", "De 'gezetdoor' rol hoort niet bij het zaak.")
    if zaak.get("archiefstatus", "nog_te_archiveren") != "nog_te_archiveren":
        r.add("nonFieldErrors", "zaak-archiefstatus-invalid",
              "De huidige zaak archiefstatus staat dit request niet toe. Archiefstatus moet gelijk zijn aan "
              "'nog_te_archiveren'")
    r.check()
    if statustype.get("isEindstatus"):
        resultaat = _closing_checks(r, zaak)
        assert resultaat is not None
        new_zaak = _close(r, zaak, resultaat, body)
    else:
        hoofdzaak = r.db.get("zaak", uuid_of(zaak["hoofdzaak"])) if zaak.get("hoofdzaak") else None
        if hoofdzaak is not None and hoofdzaak.get("einddatum"):
            raise ValidationFailed.one("nonFieldErrors", "hoofdzaak-closed",
                                       "Een deelzaak kan alleen worden heropend als de hoofzaak niet afgesloten is.")
        new_zaak = {**zaak, "einddatum": None}
        if zaak.get("einddatum"):  # reopening
            new_zaak.update(archiefnominatie=None, archiefactiedatum=None, startdatumBewaartermijn=None)
    uuid = str(uuidlib.uuid4())
    doc = {
        "url": ref("status", uuid), "uuid": uuid, "zaak": zaak["url"], "statustype": statustype["url"],
        "datumStatusGezet": iso_datetime(body.datumStatusGezet), "statustoelichting": body.statustoelichting,
        "gezetdoor": gezetdoor["url"] if gezetdoor else "", "_sortkey": sortkey,
    }
    if new_zaak != zaak:
        r.db.update("zaak", new_zaak)
    return doc


add_routes(router, Resource("statussen", "status", render=render_statussen, body=StatusBody, build=_status,
                            where=_status_where, params=("zaak", "statustype", "indicatieLaatstGezetteStatus"),
                            operations=("list", "create", "get")))


# --- resultaten -------------------------------------------------------------------------------------------------
RESULTAAT_FIELDS = ("url", "uuid", "zaak", "resultaattype", "toelichting")


def _resultaat(r: Resolver, body: ResultaatBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    zaak = r.local("zaak", body.zaak, "zaak")
    resultaattype = r.local("resultaattype", body.resultaattype, "resultaattype")
    r.check()
    assert zaak is not None and resultaattype is not None
    other = r.db.first("resultaat", zaak=zaak["url"])
    if other is not None and (existing is None or other["uuid"] != existing["uuid"]):
        r.add("zaak", "unique", "Er bestaat al een resultaat met dezelfde zaak.")
    if resultaattype["zaaktype"] != zaak["zaaktype"]:
        r.add("nonFieldErrors", "zaaktype-mismatch", "De referentie hoort niet bij het zaaktype van de zaak.")
    r.check()
    uuid = existing["uuid"] if existing else str(uuidlib.uuid4())
    return {"url": ref("resultaat", uuid), "uuid": uuid, "zaak": zaak["url"], "resultaattype": resultaattype["url"],
            "toelichting": body.toelichting}


def _resultaat_where(q: Query) -> Where:
    return (Where("resultaat").eq("zaak", q.ref("zaak", "zaak"))
            .eq("resultaattype", q.ref("resultaattype", "resultaattype")))


RESULTATEN = Resource("resultaten", "resultaat", render=fields(*RESULTAAT_FIELDS), body=ResultaatBody,
                      build=_resultaat, where=_resultaat_where, params=("zaak", "resultaattype"))
add_routes(router, RESULTATEN)
