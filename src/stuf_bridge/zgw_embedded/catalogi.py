"""Catalogi API 1.3.1, read-only: the types are written by seeding (:mod:`.seeding`), complete with every derived
list, so reading is a plain look-up."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from .auth import authenticate
from .db import Where
from .problems import NotFound
from .rest import Query, db, paginate, query_doc, respond

API = "catalogi/api/v1/"
router = APIRouter(prefix="/catalogi/api/v1", dependencies=[Depends(authenticate)], tags=["catalogi"])

ROLTYPE_GENERIEK = ("adviseur", "behandelaar", "belanghebbende", "beslisser", "initiator", "klantcontacter",
                    "zaakcoordinator", "mede_initiator")


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_") and k != "uuid"}


def render_all(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [public(r) for r in rows]


def _status(q: Query, where: Where, column: str = "concept") -> None:
    status = q.choice("status", ("alles", "concept", "definitief")) or "definitief"
    if status != "alles":
        where.eq(column, status == "concept")


def _geldigheid(q: Query, where: Where, *names: str) -> None:
    for name in names:
        day = q.day(name)
        if day is not None:
            where.raw("json_extract(data, '$.beginGeldigheid') <= ?", day)
            where.raw("(json_extract(data, '$.eindeGeldigheid') IS NULL OR json_extract(data, '$.eindeGeldigheid') >= ?)",
                      day)


def _detail(request: Request, table: str, uuid: str) -> Response:
    doc = db(request).get(table, uuid.lower())
    if doc is None:
        raise NotFound()
    return respond(request, public(doc))


@router.get("/catalogussen", openapi_extra=query_doc("domein", "domein__in", "rsin", "rsin__in"))
async def list_catalogussen(request: Request) -> Response:
    q = Query(request, ("domein", "domein__in", "rsin", "rsin__in"))
    where = Where("catalogus").eq("domein", q.text("domein")).isin("domein", q.texts("domein__in"))
    where.eq("rsin", q.text("rsin")).isin("rsin", q.texts("rsin__in"))
    return paginate(request, where, API + "catalogussen", render_all)


@router.get("/catalogussen/{uuid}")
async def get_catalogus(request: Request, uuid: str) -> Response:
    return _detail(request, "catalogus", uuid)


ZAAKTYPE_PARAMS = ("catalogus", "identificatie", "trefwoorden", "status", "datumGeldigheid")


@router.get("/zaaktypen", openapi_extra=query_doc(*ZAAKTYPE_PARAMS))
async def list_zaaktypen(request: Request) -> Response:
    q = Query(request, ZAAKTYPE_PARAMS)
    where = Where("zaaktype").eq("catalogus", q.ref("catalogus", "catalogus")).eq("identificatie", q.text("identificatie"))
    for word in q.texts("trefwoorden") or ():
        where.raw("EXISTS (SELECT 1 FROM json_each(json_extract(data, '$.trefwoorden')) WHERE value = ?)", word)
    _status(q, where)
    _geldigheid(q, where, "datumGeldigheid")
    return paginate(request, where, API + "zaaktypen", render_all)


@router.get("/zaaktypen/{uuid}", openapi_extra=query_doc("datumGeldigheid", paginated=False))
async def get_zaaktype(request: Request, uuid: str) -> Response:
    Query(request, ("datumGeldigheid",))
    return _detail(request, "zaaktype", uuid)


def _sub_list(request: Request, table: str, coll: str, extra: tuple[str, ...] = ()) -> tuple[Query, Where]:
    names = ("zaaktype", "zaaktypeIdentificatie", "status", "datumGeldigheid", *extra)
    q = Query(request, names)
    where = Where(table).eq("zaaktype", q.ref("zaaktype", "zaaktype"))
    where.eq("zaaktypeIdentificatie", q.text("zaaktypeIdentificatie") or q.text("zaaktype_identificatie"))
    _status(q, where, "_concept")
    _geldigheid(q, where, "datumGeldigheid", "datum_geldigheid")
    return q, where


SUB_PARAMS = ("zaaktype", "zaaktypeIdentificatie", "status", "datumGeldigheid")


@router.get("/statustypen", openapi_extra=query_doc(*SUB_PARAMS))
async def list_statustypen(request: Request) -> Response:
    _, where = _sub_list(request, "statustype", "statustypen")
    return paginate(request, where, API + "statustypen", render_all, order="zaaktype, volgnummer")


@router.get("/statustypen/{uuid}")
async def get_statustype(request: Request, uuid: str) -> Response:
    return _detail(request, "statustype", uuid)


@router.get("/roltypen", openapi_extra=query_doc(*SUB_PARAMS, "omschrijvingGeneriek"))
async def list_roltypen(request: Request) -> Response:
    q, where = _sub_list(request, "roltype", "roltypen", ("omschrijvingGeneriek",))
    where.eq("omschrijvingGeneriek", q.choice("omschrijvingGeneriek", ROLTYPE_GENERIEK))
    return paginate(request, where, API + "roltypen", render_all)


@router.get("/roltypen/{uuid}")
async def get_roltype(request: Request, uuid: str) -> Response:
    return _detail(request, "roltype", uuid)


@router.get("/resultaattypen", openapi_extra=query_doc("zaaktype", "zaaktype_identificatie", "status",
                                                       "datum_geldigheid"))
async def list_resultaattypen(request: Request) -> Response:
    _, where = _sub_list(request, "resultaattype", "resultaattypen", ("zaaktype_identificatie", "datum_geldigheid"))
    return paginate(request, where, API + "resultaattypen", render_all)


@router.get("/resultaattypen/{uuid}")
async def get_resultaattype(request: Request, uuid: str) -> Response:
    return _detail(request, "resultaattype", uuid)


@router.get("/eigenschappen", openapi_extra=query_doc(*SUB_PARAMS))
async def list_eigenschappen(request: Request) -> Response:
    _, where = _sub_list(request, "eigenschap", "eigenschappen")
    return paginate(request, where, API + "eigenschappen", render_all)


@router.get("/eigenschappen/{uuid}")
async def get_eigenschap(request: Request, uuid: str) -> Response:
    return _detail(request, "eigenschap", uuid)


IOT_PARAMS = ("catalogus", "status", "datumGeldigheid", "omschrijving")


@router.get("/informatieobjecttypen", openapi_extra=query_doc(*IOT_PARAMS))
async def list_informatieobjecttypen(request: Request) -> Response:
    q = Query(request, IOT_PARAMS)
    where = Where("informatieobjecttype").eq("catalogus", q.ref("catalogus", "catalogus"))
    where.eq("omschrijving", q.text("omschrijving"))
    _status(q, where)
    _geldigheid(q, where, "datumGeldigheid")
    return paginate(request, where, API + "informatieobjecttypen", render_all)


@router.get("/informatieobjecttypen/{uuid}")
async def get_informatieobjecttype(request: Request, uuid: str) -> Response:
    return _detail(request, "informatieobjecttype", uuid)


BESLUITTYPE_PARAMS = ("catalogus", "zaaktypen", "informatieobjecttypen", "status", "omschrijving", "datumGeldigheid")


def _contains(where: Where, field: str, marker: str | None) -> None:
    if marker is not None:
        where.raw(f"EXISTS (SELECT 1 FROM json_each(json_extract(data, '$.{field}')) WHERE value = ?)", marker)


@router.get("/besluittypen", openapi_extra=query_doc(*BESLUITTYPE_PARAMS))
async def list_besluittypen(request: Request) -> Response:
    q = Query(request, BESLUITTYPE_PARAMS)
    where = Where("besluittype").eq("catalogus", q.ref("catalogus", "catalogus"))
    where.eq("omschrijving", q.text("omschrijving"))
    _contains(where, "zaaktypen", q.ref("zaaktypen", "zaaktype"))
    _contains(where, "informatieobjecttypen", q.ref("informatieobjecttypen", "informatieobjecttype"))
    _status(q, where)
    _geldigheid(q, where, "datumGeldigheid")
    return paginate(request, where, API + "besluittypen", render_all)


@router.get("/besluittypen/{uuid}")
async def get_besluittype(request: Request, uuid: str) -> Response:
    return _detail(request, "besluittype", uuid)


ZIOT_PARAMS = ("zaaktype", "informatieobjecttype", "richting", "status")


@router.get("/zaaktype-informatieobjecttypen", openapi_extra=query_doc(*ZIOT_PARAMS))
async def list_ziot(request: Request) -> Response:
    q = Query(request, ZIOT_PARAMS)
    where = Where("zaaktypeinformatieobjecttype").eq("zaaktype", q.ref("zaaktype", "zaaktype"))
    where.eq("informatieobjecttype", q.ref("informatieobjecttype", "informatieobjecttype"))
    where.eq("richting", q.choice("richting", ("inkomend", "intern", "uitgaand")))
    _status(q, where, "_concept")
    return paginate(request, where, API + "zaaktype-informatieobjecttypen", render_all)


@router.get("/zaaktype-informatieobjecttypen/{uuid}")
async def get_ziot(request: Request, uuid: str) -> Response:
    return _detail(request, "zaaktypeinformatieobjecttype", uuid)
