"""Besluiten API 1.0.2/1.1.0 (as Open Zaak serves it): besluiten and besluitinformatieobjecten.

A besluit with a ``zaak`` is also listed at ``/zaken/{uuid}/besluiten``; a besluitinformatieobject is mirrored as an
objectinformatieobject in the Documenten API.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends

from .auth import authenticate
from .checks import check_not_future_date, check_rsin
from .crud import Resource, add_routes, fields
from .db import Database, Where
from .fields import Body, Link, Txt
from .problems import ValidationFailed
from .refs import ref, uuid_of
from .resolve import Resolver
from .rest import Query, require_json
from .zaken_relaties import check_iot, link_besluit, mirror, unlink_besluit, unmirror

API = "besluiten/api/v1/"
router = APIRouter(prefix="/besluiten/api/v1", dependencies=[Depends(authenticate), Depends(require_json)],
                   tags=["besluiten"])
VERVALREDEN_WEERGAVE = {
    "tijdelijk": "Besluit met tijdelijke werking",
    "ingetrokken_overheid": "Besluit ingetrokken door overheid",
    "ingetrokken_belanghebbende": "Besluit ingetrokken o.v.v. belanghebbende",
}
BESLUIT_FIELDS = ("url", "identificatie", "verantwoordelijkeOrganisatie", "besluittype", "zaak", "datum",
                  "toelichting", "bestuursorgaan", "ingangsdatum", "vervaldatum", "vervalreden", "vervalredenWeergave",
                  "publicatiedatum", "verzenddatum", "uiterlijkeReactiedatum")


class BesluitBody(Body):
    identificatie: Annotated[str, Txt(50)] = ""
    verantwoordelijkeOrganisatie: Annotated[str, Txt(9, min_length=1)]
    besluittype: Annotated[str, Link(200, min_length=1)]
    zaak: Annotated[str, Link(200)] = ""
    datum: date
    toelichting: Annotated[str, Txt()] = ""
    bestuursorgaan: Annotated[str, Txt(50)] = ""
    ingangsdatum: date
    vervaldatum: date | None = None
    vervalreden: Literal["", "tijdelijk", "ingetrokken_overheid", "ingetrokken_belanghebbende"] = ""
    publicatiedatum: date | None = None
    verzenddatum: date | None = None
    uiterlijkeReactiedatum: date | None = None


class BesluitInformatieObjectBody(Body):
    informatieobject: Annotated[str, Link(1000, min_length=1)]
    besluit: Annotated[str, Link()]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _besluit(r: Resolver, body: BesluitBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    besluittype = r.local("besluittype", body.besluittype, "besluittype")
    r.published("besluittype", besluittype)
    zaak = r.local("zaak", body.zaak, "zaak") if body.zaak else None
    check_rsin(r.errors, "verantwoordelijkeOrganisatie", body.verantwoordelijkeOrganisatie)
    check_not_future_date(r.errors, "datum", body.datum)
    if existing is not None:
        if body.identificatie and body.identificatie != existing["identificatie"]:
            r.add("identificatie", "wijzigen-niet-toegelaten", "Dit veld mag niet gewijzigd worden.")
        if body.verantwoordelijkeOrganisatie != existing["verantwoordelijkeOrganisatie"]:
            r.add("verantwoordelijkeOrganisatie", "wijzigen-niet-toegelaten", "Dit veld mag niet gewijzigd worden.")
    r.check()
    assert besluittype is not None
    if zaak is not None:
        zaaktype = r.db.get("zaaktype", uuid_of(zaak["zaaktype"])) or {}
        if besluittype["url"] not in zaaktype.get("besluittypen", []):
            r.add("nonFieldErrors", "zaaktype-mismatch", "De referentie hoort niet bij het zaaktype van de zaak.")
    r.check()
    uuid = existing["uuid"] if existing else str(uuidlib.uuid4())
    identificatie = body.identificatie or (existing or {}).get("identificatie") or _new_identificatie(r, body)
    clash = r.db.first("besluit", verantwoordelijkeOrganisatie=body.verantwoordelijkeOrganisatie,
                       identificatie=identificatie)
    if clash is not None and clash["uuid"] != uuid:
        raise ValidationFailed.one("identificatie", "identificatie-niet-uniek",
                                   "Deze identificatie bestaat al voor deze verantwoordelijke organisatie")
    return {
        "url": ref("besluit", uuid), "uuid": uuid, "identificatie": identificatie,
        "verantwoordelijkeOrganisatie": body.verantwoordelijkeOrganisatie, "besluittype": besluittype["url"],
        "zaak": zaak["url"] if zaak else "", "datum": body.datum.isoformat(), "toelichting": body.toelichting,
        "bestuursorgaan": body.bestuursorgaan, "ingangsdatum": body.ingangsdatum.isoformat(),
        "vervaldatum": _iso(body.vervaldatum), "vervalreden": body.vervalreden,
        "vervalredenWeergave": VERVALREDEN_WEERGAVE.get(body.vervalreden, ""),
        "publicatiedatum": _iso(body.publicatiedatum), "verzenddatum": _iso(body.verzenddatum),
        "uiterlijkeReactiedatum": _iso(body.uiterlijkeReactiedatum),
    }


def _new_identificatie(r: Resolver, body: BesluitBody) -> str:
    year = body.datum.year
    while True:
        candidate = f"BESLUIT-{year}-{r.db.next_number(f'besluit-{year}'):010d}"
        if not r.db.exists("besluit", verantwoordelijkeOrganisatie=body.verantwoordelijkeOrganisatie,
                           identificatie=candidate):
            return candidate


BESLUIT_PARAMS = ("identificatie", "verantwoordelijkeOrganisatie", "besluittype", "zaak")


def _besluit_where(q: Query) -> Where:
    where = Where("besluit").eq("identificatie", q.text("identificatie"))
    where.eq("verantwoordelijkeOrganisatie", q.text("verantwoordelijkeOrganisatie"))
    return where.eq("besluittype", q.ref("besluittype", "besluittype")).eq("zaak", q.ref("zaak", "zaak"))


def _relink(database: Database, doc: dict[str, Any], existing: dict[str, Any] | None) -> None:
    """The zaak's list of besluiten follows the besluit's ``zaak``."""
    if existing is not None and doc["zaak"] == existing["zaak"]:
        return
    if existing is not None:
        unlink_besluit(database, doc["url"])
    if doc["zaak"]:
        link_besluit(database, doc["zaak"], doc["url"])


def _delete_besluit(database: Database, doc: dict[str, Any]) -> None:
    """With the besluit go its besluitinformatieobjecten (and their mirrors) and its zaak link."""
    for bio in database.find("besluitinformatieobject", besluit=doc["url"]):
        unmirror(database, bio["informatieobject"], doc["url"])
    database.delete_where(Where("besluitinformatieobject").eq("besluit", doc["url"]))
    unlink_besluit(database, doc["url"])


add_routes(router, Resource(
    "besluiten", "besluit", render=fields(*BESLUIT_FIELDS), body=BesluitBody, build=_besluit,
    where=_besluit_where, params=BESLUIT_PARAMS, after_write=_relink, before_delete=_delete_besluit,
))


# --- besluitinformatieobjecten ----------------------------------------------------------------------------------
BIO_FIELDS = ("url", "informatieobject", "besluit")
BIO_PARAMS = ("besluit", "informatieobject")


def _bio_where(q: Query) -> Where:
    where = Where("besluitinformatieobject").eq("besluit", q.ref("besluit", "besluit"))
    return where.eq("informatieobject", q.ref("informatieobject", "enkelvoudiginformatieobject"))


def _bio(r: Resolver, body: BesluitInformatieObjectBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    eio = r.local("informatieobject", body.informatieobject, "enkelvoudiginformatieobject")
    besluit = r.local("besluit", body.besluit, "besluit")
    r.check()
    assert eio is not None and besluit is not None
    if r.db.exists("besluitinformatieobject", besluit=besluit["url"], informatieobject=eio["url"]):
        r.add("nonFieldErrors", "unique", "De velden besluit, informatieobject moeten een unieke set zijn.")
    check_iot(r, eio, r.db.get("besluittype", uuid_of(besluit["besluittype"])), "besluittype")
    r.check()
    uuid = str(uuidlib.uuid4())
    return {"url": ref("besluitinformatieobject", uuid), "uuid": uuid, "informatieobject": eio["url"],
            "besluit": besluit["url"]}


add_routes(router, Resource(
    "besluitinformatieobjecten", "besluitinformatieobject", render=fields(*BIO_FIELDS),
    body=BesluitInformatieObjectBody, build=_bio, where=_bio_where, params=BIO_PARAMS, paginated=False,
    operations=("list", "create", "get", "delete"),
    after_write=lambda database, doc, _: mirror(database, doc["informatieobject"], doc["besluit"], "besluit"),
    before_delete=lambda database, doc: unmirror(database, doc["informatieobject"], doc["besluit"]),
))
