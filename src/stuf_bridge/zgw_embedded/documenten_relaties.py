"""Documenten API 1.4.3: gebruiksrechten (they drive ``indicatieGebruiksrecht``) and objectinformatieobjecten (the
mirror of zaak and besluit relations)."""

from __future__ import annotations

import uuid as uuidlib
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from .auth import authenticate
from .checks import as_utc, iso_datetime
from .db import Where
from .documenten import TABLE, update_latest
from .documenten_models import GebruiksrechtenBody, ObjectInformatieObjectBody
from .problems import ValidationFailed
from .refs import ref, uuid_of
from .resolve import Resolver, get_or_404, merge_patch, partial_model
from .rest import Query, created, db, no_content, query_doc, require_json, respond

router = APIRouter(prefix="/documenten/api/v1", dependencies=[Depends(authenticate), Depends(require_json)],
                   tags=["documenten"])
PatchedGebruiksrechten = partial_model(GebruiksrechtenBody)
GEBRUIKSRECHTEN_FIELDS = ("url", "informatieobject", "startdatum", "einddatum", "omschrijvingVoorwaarden")
OIO_FIELDS = ("url", "informatieobject", "object", "objectType")


def _public(doc: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: doc.get(k) for k in fields}


def _gebruiksrecht(r: Resolver, body: GebruiksrechtenBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    eio = r.local("informatieobject", body.informatieobject, TABLE)
    r.check()
    assert eio is not None
    if existing is not None and eio["url"] != existing["informatieobject"]:
        raise ValidationFailed.one("informatieobject", "wijzigen-niet-toegelaten", "Dit veld mag niet gewijzigd worden.")
    uuid = existing["uuid"] if existing else str(uuidlib.uuid4())
    return {"url": ref("gebruiksrechten", uuid), "uuid": uuid, "informatieobject": eio["url"],
            "startdatum": iso_datetime(body.startdatum),
            "einddatum": iso_datetime(body.einddatum) if body.einddatum else None,
            "omschrijvingVoorwaarden": body.omschrijvingVoorwaarden}


def _moment(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text))


def _compare(own: str | None, op: str, moment: datetime) -> bool:
    if own is None:
        return False
    value = _moment(own)
    return {"lt": value < moment, "lte": value <= moment, "gt": value > moment, "gte": value >= moment}[op]


GEBRUIKSRECHTEN_PARAMS = ("informatieobject", "startdatum__lt", "startdatum__lte", "startdatum__gt",
                          "startdatum__gte", "einddatum__lt", "einddatum__lte", "einddatum__gt", "einddatum__gte",
                          "expand")


@router.get("/gebruiksrechten", openapi_extra=query_doc(*GEBRUIKSRECHTEN_PARAMS, paginated=False))
async def list_gebruiksrechten(request: Request) -> Response:
    q = Query(request, GEBRUIKSRECHTEN_PARAMS)
    where = Where("gebruiksrechten").eq("informatieobject", q.ref("informatieobject", TABLE))
    rows = db(request).select(where)
    for name in GEBRUIKSRECHTEN_PARAMS[1:-1]:
        value = q.moment(name)
        if value is not None:
            field, op = name.split("__")
            rows = [row for row in rows if _compare(row.get(field), op, _moment(value))]
    return respond(request, [_public(d, GEBRUIKSRECHTEN_FIELDS) for d in rows])


@router.post("/gebruiksrechten", status_code=201)
async def create_gebruiksrecht(request: Request, body: GebruiksrechtenBody) -> Response:
    """Creating a gebruiksrecht sets ``indicatieGebruiksrecht`` of the document to true."""
    r = Resolver(request)
    with r.db.tx():
        doc = _gebruiksrecht(r, body, None)
        r.db.insert("gebruiksrechten", doc)
        eio = r.db.get(TABLE, uuid_of(doc["informatieobject"]))
        if eio is not None and eio.get("indicatieGebruiksrecht") is not True:
            update_latest(r.db, eio, indicatieGebruiksrecht=True)
    return created(request, _public(doc, GEBRUIKSRECHTEN_FIELDS))


@router.get("/gebruiksrechten/{uuid}")
async def get_gebruiksrecht(request: Request, uuid: str) -> Response:
    return respond(request, _public(get_or_404(request, "gebruiksrechten", uuid), GEBRUIKSRECHTEN_FIELDS))


def _update_gebruiksrecht(request: Request, uuid: str, body: Any) -> Response:
    r = Resolver(request)
    with r.db.tx():
        existing = get_or_404(request, "gebruiksrechten", uuid)
        merged = merge_patch(GebruiksrechtenBody, r.absolute(existing), body)
        doc = _gebruiksrecht(r, merged, existing)  # type: ignore[arg-type]
        r.db.update("gebruiksrechten", doc)
    return respond(request, _public(doc, GEBRUIKSRECHTEN_FIELDS))


@router.put("/gebruiksrechten/{uuid}")
async def put_gebruiksrecht(request: Request, uuid: str, body: GebruiksrechtenBody) -> Response:
    return _update_gebruiksrecht(request, uuid, body)


@router.patch("/gebruiksrechten/{uuid}")
async def patch_gebruiksrecht(request: Request, uuid: str,
                              body: PatchedGebruiksrechten) -> Response:  # type: ignore[valid-type]
    return _update_gebruiksrecht(request, uuid, body)


@router.delete("/gebruiksrechten/{uuid}", status_code=204)
async def delete_gebruiksrecht(request: Request, uuid: str) -> Response:
    """Deleting the last gebruiksrecht makes ``indicatieGebruiksrecht`` unknown (null) again."""
    database = db(request)
    with database.tx():
        doc = get_or_404(request, "gebruiksrechten", uuid)
        database.delete("gebruiksrechten", doc["uuid"])
        if not database.exists("gebruiksrechten", informatieobject=doc["informatieobject"]):
            eio = database.get(TABLE, uuid_of(doc["informatieobject"]))
            if eio is not None:
                update_latest(database, eio, indicatieGebruiksrecht=None)
    return no_content()


# --- objectinformatieobjecten -----------------------------------------------------------------------------------
_SOURCE = {"zaak": ("zaakinformatieobject", "zaak"), "besluit": ("besluitinformatieobject", "besluit")}


@router.get("/objectinformatieobjecten", openapi_extra=query_doc("object", "informatieobject", "expand",
                                                                 paginated=False))
async def list_oio(request: Request) -> Response:
    q = Query(request, ("object", "informatieobject", "expand"))
    where = Where("objectinformatieobject").eq("informatieobject", q.ref("informatieobject", TABLE))
    where.eq("object", q.ref("object", "zaak", "besluit"))
    return respond(request, [_public(d, OIO_FIELDS) for d in db(request).select(where)])


@router.post("/objectinformatieobjecten", status_code=201)
async def create_oio(request: Request, body: ObjectInformatieObjectBody) -> Response:
    """The relation is made by creating a zaak- or besluitinformatieobject; this endpoint only accepts a relation
    that exists there (``inconsistent-relation`` otherwise) and is not mirrored yet (``unique``)."""
    r = Resolver(request)
    with r.db.tx():
        eio = r.local("informatieobject", body.informatieobject, TABLE)
        if body.objectType == "verzoek":
            r.add("object", "bad-url", "Verzoeken worden door deze backend niet ondersteund.")
        obj = r.local("object", body.object, body.objectType) if body.objectType in _SOURCE else None
        r.check()
        assert eio is not None and obj is not None
        table, column = _SOURCE[body.objectType]
        if not r.db.exists(table, informatieobject=eio["url"], **{column: obj["url"]}):
            r.add("nonFieldErrors", "inconsistent-relation",
                  f"Het informatieobject is in de {'Zaken' if column == 'zaak' else 'Besluiten'} API nog niet "
                  "gerelateerd aan dit object.")
        if r.db.exists("objectinformatieobject", informatieobject=eio["url"], object=obj["url"]):
            r.add("nonFieldErrors", "unique", "The fields object and infromatieobject must make a unique set.")
        r.check()
        uuid = str(uuidlib.uuid4())
        doc = {"url": ref("objectinformatieobject", uuid), "uuid": uuid, "informatieobject": eio["url"],
               "object": obj["url"], "objectType": body.objectType}
        r.db.insert("objectinformatieobject", doc)
    return created(request, _public(doc, OIO_FIELDS))


@router.get("/objectinformatieobjecten/{uuid}")
async def get_oio(request: Request, uuid: str) -> Response:
    return respond(request, _public(get_or_404(request, "objectinformatieobject", uuid), OIO_FIELDS))


@router.delete("/objectinformatieobjecten/{uuid}", status_code=204)
async def delete_oio(request: Request, uuid: str) -> Response:
    """Refused (``remote-relation-exists``) while the zaak- or besluitinformatieobject still exists."""
    database = db(request)
    with database.tx():
        doc = get_or_404(request, "objectinformatieobject", uuid)
        table, column = _SOURCE.get(doc["objectType"], (None, None))
        if table and column and database.exists(table, informatieobject=doc["informatieobject"],
                                                **{column: doc["object"]}):
            raise ValidationFailed.one("nonFieldErrors", "remote-relation-exists",
                                       "The canonical remote relation still exists, this relation cannot be deleted.")
        database.delete("objectinformatieobject", doc["uuid"])
    return no_content()
