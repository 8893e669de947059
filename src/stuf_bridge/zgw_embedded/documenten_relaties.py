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
from .crud import Resource, add_routes, fields
from .db import Database, Where
from .documenten import TABLE, update_latest
from .documenten_models import GebruiksrechtenBody, ObjectInformatieObjectBody
from .problems import ValidationFailed
from .refs import ref, uuid_of
from .resolve import Resolver
from .rest import Query, db, query_doc, require_json, respond

router = APIRouter(prefix="/documenten/api/v1", dependencies=[Depends(authenticate), Depends(require_json)],
                   tags=["documenten"])
GEBRUIKSRECHTEN_FIELDS = ("url", "informatieobject", "startdatum", "einddatum", "omschrijvingVoorwaarden")
OIO_FIELDS = ("url", "informatieobject", "object", "objectType")


def _gebruiksrecht(r: Resolver, body: GebruiksrechtenBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    eio = r.local("informatieobject", body.informatieobject, TABLE)
    r.check()
    assert eio is not None
    if existing is not None and eio["url"] != existing["informatieobject"]:
        raise ValidationFailed.one("informatieobject", "wijzigen-niet-toegelaten",
                                   "Dit veld mag niet gewijzigd worden.")
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
    """Filtered on the moments here, not in SQL: the stored texts are not of one width."""
    q = Query(request, GEBRUIKSRECHTEN_PARAMS, paginated=False)
    where = Where("gebruiksrechten").eq("informatieobject", q.ref("informatieobject", TABLE))
    rows = db(request).select(where)
    for name in GEBRUIKSRECHTEN_PARAMS[1:-1]:
        value = q.moment(name)
        if value is not None:
            field, op = name.split("__")
            rows = [row for row in rows if _compare(row.get(field), op, _moment(value))]
    return respond(request, [{k: d.get(k) for k in GEBRUIKSRECHTEN_FIELDS} for d in rows])


def _set_indicatie(database: Database, doc: dict[str, Any], existing: dict[str, Any] | None) -> None:
    """Creating a gebruiksrecht sets ``indicatieGebruiksrecht`` of the document to true."""
    if existing is not None:
        return
    eio = database.get(TABLE, uuid_of(doc["informatieobject"]))
    if eio is not None and eio.get("indicatieGebruiksrecht") is not True:
        update_latest(database, eio, indicatieGebruiksrecht=True)


def _unset_indicatie(database: Database, doc: dict[str, Any]) -> None:
    """Deleting the last gebruiksrecht makes ``indicatieGebruiksrecht`` unknown (null) again."""
    if database.count(Where("gebruiksrechten").eq("informatieobject", doc["informatieobject"])) == 1:
        eio = database.get(TABLE, uuid_of(doc["informatieobject"]))
        if eio is not None:
            update_latest(database, eio, indicatieGebruiksrecht=None)


add_routes(router, Resource(
    "gebruiksrechten", "gebruiksrechten", render=fields(*GEBRUIKSRECHTEN_FIELDS), body=GebruiksrechtenBody,
    build=_gebruiksrecht, after_write=_set_indicatie, before_delete=_unset_indicatie,
    operations=("create", "get", "put", "patch", "delete"),
))


# --- objectinformatieobjecten -----------------------------------------------------------------------------------
_SOURCE = {"zaak": ("zaakinformatieobject", "zaak"), "besluit": ("besluitinformatieobject", "besluit")}


def _oio_where(q: Query) -> Where:
    where = Where("objectinformatieobject").eq("informatieobject", q.ref("informatieobject", TABLE))
    return where.eq("object", q.ref("object", "zaak", "besluit"))


def _oio(r: Resolver, body: ObjectInformatieObjectBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    """The relation is made by creating a zaak- or besluitinformatieobject; this endpoint only accepts a relation
    that exists there (``inconsistent-relation`` otherwise) and is not mirrored yet (``unique``)."""
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
    return {"url": ref("objectinformatieobject", uuid), "uuid": uuid, "informatieobject": eio["url"],
            "object": obj["url"], "objectType": body.objectType}


def _check_no_source(database: Database, doc: dict[str, Any]) -> None:
    """Refused (``remote-relation-exists``) while the zaak- or besluitinformatieobject still exists."""
    table, column = _SOURCE.get(doc["objectType"], (None, None))
    if table and column and database.exists(table, informatieobject=doc["informatieobject"],
                                            **{column: doc["object"]}):
        raise ValidationFailed.one("nonFieldErrors", "remote-relation-exists",
                                   "The canonical remote relation still exists, this relation cannot be deleted.")


add_routes(router, Resource(
    "objectinformatieobjecten", "objectinformatieobject", render=fields(*OIO_FIELDS), body=ObjectInformatieObjectBody,
    build=_oio, where=_oio_where, params=("object", "informatieobject", "expand"), paginated=False,
    operations=("list", "create", "get", "delete"), before_delete=_check_no_source,
))
