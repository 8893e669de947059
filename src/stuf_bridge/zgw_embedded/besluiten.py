"""Besluiten API 1.0.2/1.1.0 (as Open Zaak serves it): besluiten and besluitinformatieobjecten.

A besluit with a ``zaak`` is also listed at ``/zaken/{uuid}/besluiten``; a besluitinformatieobject is mirrored as an
objectinformatieobject in the Documenten API.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from .auth import authenticate
from .checks import check_not_future_date, check_rsin
from .db import Where
from .fields import Body, Link, Txt
from .problems import ValidationFailed
from .refs import ref, uuid_of
from .resolve import Resolver, get_or_404, merge_patch, partial_model
from .rest import Query, created, db, no_content, paginate, query_doc, require_json, respond
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


PatchedBesluit = partial_model(BesluitBody)


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in BESLUIT_FIELDS}


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


@router.get("/besluiten", openapi_extra=query_doc(*BESLUIT_PARAMS))
async def list_besluiten(request: Request) -> Response:
    q = Query(request, BESLUIT_PARAMS)
    where = Where("besluit").eq("identificatie", q.text("identificatie"))
    where.eq("verantwoordelijkeOrganisatie", q.text("verantwoordelijkeOrganisatie"))
    where.eq("besluittype", q.ref("besluittype", "besluittype")).eq("zaak", q.ref("zaak", "zaak"))
    return paginate(request, where, API + "besluiten", lambda rows: [_public(d) for d in rows])


@router.post("/besluiten", status_code=201)
async def create_besluit(request: Request, body: BesluitBody) -> Response:
    r = Resolver(request)
    with r.db.tx():
        doc = _besluit(r, body, None)
        r.db.insert("besluit", doc)
        if doc["zaak"]:
            link_besluit(r.db, doc["zaak"], doc["url"])
    return created(request, _public(doc))


@router.get("/besluiten/{uuid}")
async def get_besluit(request: Request, uuid: str) -> Response:
    return respond(request, _public(get_or_404(request, "besluit", uuid)))


def _update(request: Request, uuid: str, body: Any) -> Response:
    r = Resolver(request)
    with r.db.tx():
        existing = get_or_404(request, "besluit", uuid)
        merged = merge_patch(BesluitBody, r.absolute(existing), body)
        doc = _besluit(r, merged, existing)  # type: ignore[arg-type]
        r.db.update("besluit", doc)
        if doc["zaak"] != existing["zaak"]:
            unlink_besluit(r.db, doc["url"])
            if doc["zaak"]:
                link_besluit(r.db, doc["zaak"], doc["url"])
    return respond(request, _public(doc))


@router.put("/besluiten/{uuid}")
async def put_besluit(request: Request, uuid: str, body: BesluitBody) -> Response:
    return _update(request, uuid, body)


@router.patch("/besluiten/{uuid}")
async def patch_besluit(request: Request, uuid: str, body: PatchedBesluit) -> Response:  # type: ignore[valid-type]
    return _update(request, uuid, body)


@router.delete("/besluiten/{uuid}", status_code=204)
async def delete_besluit(request: Request, uuid: str) -> Response:
    """Deletes the besluit with its besluitinformatieobjecten (and their mirrors) and its zaak link."""
    database = db(request)
    with database.tx():
        doc = get_or_404(request, "besluit", uuid)
        for bio in database.find("besluitinformatieobject", besluit=doc["url"]):
            unmirror(database, bio["informatieobject"], doc["url"])
        database.delete_where(Where("besluitinformatieobject").eq("besluit", doc["url"]))
        unlink_besluit(database, doc["url"])
        database.delete("besluit", doc["uuid"])
    return no_content()


# --- besluitinformatieobjecten ----------------------------------------------------------------------------------
BIO_FIELDS = ("url", "informatieobject", "besluit")


@router.get("/besluitinformatieobjecten", openapi_extra=query_doc("besluit", "informatieobject", paginated=False))
async def list_bio(request: Request) -> Response:
    """A plain array, not paginated."""
    q = Query(request, ("besluit", "informatieobject"))
    if "page" in request.query_params:
        raise ValidationFailed.one("nonFieldErrors", "unknown-parameters", "Onbekende query parameters: page")
    where = Where("besluitinformatieobject").eq("besluit", q.ref("besluit", "besluit"))
    where.eq("informatieobject", q.ref("informatieobject", "enkelvoudiginformatieobject"))
    return respond(request, [{k: d[k] for k in BIO_FIELDS} for d in db(request).select(where)])


@router.post("/besluitinformatieobjecten", status_code=201)
async def create_bio(request: Request, body: BesluitInformatieObjectBody) -> Response:
    r = Resolver(request)
    with r.db.tx():
        eio = r.local("informatieobject", body.informatieobject, "enkelvoudiginformatieobject")
        besluit = r.local("besluit", body.besluit, "besluit")
        r.check()
        assert eio is not None and besluit is not None
        if r.db.exists("besluitinformatieobject", besluit=besluit["url"], informatieobject=eio["url"]):
            r.add("nonFieldErrors", "unique", "De velden besluit, informatieobject moeten een unieke set zijn.")
        check_iot(r, eio, r.db.get("besluittype", uuid_of(besluit["besluittype"])), "besluittype")
        r.check()
        uuid = str(uuidlib.uuid4())
        doc = {"url": ref("besluitinformatieobject", uuid), "uuid": uuid, "informatieobject": eio["url"],
               "besluit": besluit["url"]}
        r.db.insert("besluitinformatieobject", doc)
        mirror(r.db, eio["url"], besluit["url"], "besluit")
    return created(request, {k: doc[k] for k in BIO_FIELDS})


@router.get("/besluitinformatieobjecten/{uuid}")
async def get_bio(request: Request, uuid: str) -> Response:
    doc = get_or_404(request, "besluitinformatieobject", uuid)
    return respond(request, {k: doc[k] for k in BIO_FIELDS})


@router.delete("/besluitinformatieobjecten/{uuid}", status_code=204)
async def delete_bio(request: Request, uuid: str) -> Response:
    database = db(request)
    with database.tx():
        doc = get_or_404(request, "besluitinformatieobject", uuid)
        unmirror(database, doc["informatieobject"], doc["besluit"])
        database.delete("besluitinformatieobject", doc["uuid"])
    return no_content()
