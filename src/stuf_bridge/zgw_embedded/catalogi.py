"""Catalogi API 1.3.1, read-only: the types are written by seeding (:mod:`.seeding`), complete with every derived
list, so reading is a plain look-up."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends

from .auth import authenticate
from .crud import Resource, add_routes
from .db import Database, Where
from .rest import Query

router = APIRouter(prefix="/catalogi/api/v1", dependencies=[Depends(authenticate)], tags=["catalogi"])

ROLTYPE_GENERIEK = ("adviseur", "behandelaar", "belanghebbende", "beslisser", "initiator", "klantcontacter",
                    "zaakcoordinator", "mede_initiator")


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_") and k != "uuid"}


def render_all(_database: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [public(r) for r in rows]


def _status(q: Query, where: Where, column: str = "concept") -> Where:
    status = q.choice("status", ("alles", "concept", "definitief")) or "definitief"
    if status != "alles":
        where.eq(column, status == "concept")
    return where


def _geldigheid(q: Query, where: Where, *names: str) -> Where:
    for name in names:
        day = q.day(name)
        if day is not None:
            where.raw("json_extract(data, '$.beginGeldigheid') <= ?", day)
            where.raw("(json_extract(data, '$.eindeGeldigheid') IS NULL "
                      "OR json_extract(data, '$.eindeGeldigheid') >= ?)",
                      day)
    return where


def _contains(where: Where, field: str, value: str | None) -> Where:
    """Documents whose list ``field`` holds ``value``."""
    if value is not None:
        where.raw(f"EXISTS (SELECT 1 FROM json_each(json_extract(data, '$.{field}')) WHERE value = ?)", value)
    return where


def _catalogussen(q: Query) -> Where:
    where = Where("catalogus").eq("domein", q.text("domein")).isin("domein", q.texts("domein__in"))
    return where.eq("rsin", q.text("rsin")).isin("rsin", q.texts("rsin__in"))


def _zaaktypen(q: Query) -> Where:
    where = (Where("zaaktype").eq("catalogus", q.ref("catalogus", "catalogus"))
             .eq("identificatie", q.text("identificatie")))
    for word in q.texts("trefwoorden") or ():
        _contains(where, "trefwoorden", word)
    return _geldigheid(q, _status(q, where), "datumGeldigheid")


def _of_zaaktype(table: str) -> Any:
    """The filters of the types below a zaaktype (statustypen, roltypen, resultaattypen, eigenschappen)."""

    def where(q: Query) -> Where:
        found = Where(table).eq("zaaktype", q.ref("zaaktype", "zaaktype"))
        found.eq("zaaktypeIdentificatie", q.text("zaaktypeIdentificatie") or q.text("zaaktype_identificatie"))
        found.eq("omschrijvingGeneriek", q.choice("omschrijvingGeneriek", ROLTYPE_GENERIEK))
        return _geldigheid(q, _status(q, found, "_concept"), "datumGeldigheid", "datum_geldigheid")

    return where


def _informatieobjecttypen(q: Query) -> Where:
    where = Where("informatieobjecttype").eq("catalogus", q.ref("catalogus", "catalogus"))
    return _geldigheid(q, _status(q, where.eq("omschrijving", q.text("omschrijving"))), "datumGeldigheid")


def _besluittypen(q: Query) -> Where:
    where = Where("besluittype").eq("catalogus", q.ref("catalogus", "catalogus"))
    where.eq("omschrijving", q.text("omschrijving"))
    _contains(where, "zaaktypen", q.ref("zaaktypen", "zaaktype"))
    _contains(where, "informatieobjecttypen", q.ref("informatieobjecttypen", "informatieobjecttype"))
    return _geldigheid(q, _status(q, where), "datumGeldigheid")


def _zaaktype_informatieobjecttypen(q: Query) -> Where:
    where = Where("zaaktypeinformatieobjecttype").eq("zaaktype", q.ref("zaaktype", "zaaktype"))
    where.eq("informatieobjecttype", q.ref("informatieobjecttype", "informatieobjecttype"))
    where.eq("richting", q.choice("richting", ("inkomend", "intern", "uitgaand")))
    return _status(q, where, "_concept")


SUB_PARAMS = ("zaaktype", "zaaktypeIdentificatie", "status", "datumGeldigheid")
RESOURCES = (
    Resource("catalogussen", "catalogus", where=_catalogussen, params=("domein", "domein__in", "rsin", "rsin__in")),
    Resource("zaaktypen", "zaaktype", where=_zaaktypen, detail_params=("datumGeldigheid",),
             params=("catalogus", "identificatie", "trefwoorden", "status", "datumGeldigheid")),
    Resource("statustypen", "statustype", where=_of_zaaktype("statustype"), params=SUB_PARAMS,
             order="zaaktype, volgnummer"),
    Resource("roltypen", "roltype", where=_of_zaaktype("roltype"), params=(*SUB_PARAMS, "omschrijvingGeneriek")),
    Resource("resultaattypen", "resultaattype", where=_of_zaaktype("resultaattype"),
             params=(*SUB_PARAMS, "zaaktype_identificatie", "datum_geldigheid")),
    Resource("eigenschappen", "eigenschap", where=_of_zaaktype("eigenschap"), params=SUB_PARAMS),
    Resource("informatieobjecttypen", "informatieobjecttype", where=_informatieobjecttypen,
             params=("catalogus", "status", "datumGeldigheid", "omschrijving")),
    Resource("besluittypen", "besluittype", where=_besluittypen,
             params=("catalogus", "zaaktypen", "informatieobjecttypen", "status", "omschrijving", "datumGeldigheid")),
    Resource("zaaktype-informatieobjecttypen", "zaaktypeinformatieobjecttype", where=_zaaktype_informatieobjecttypen,
             params=("zaaktype", "informatieobjecttype", "richting", "status")),
)
for _resource in RESOURCES:
    add_routes(router, replace(_resource, render=render_all, operations=("list", "get")))
