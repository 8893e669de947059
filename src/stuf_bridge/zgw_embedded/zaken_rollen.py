"""Zaken API 1.5.1: rollen (with the five kinds of betrokkeneIdentificatie) and zaakobjecten."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from .auth import authenticate
from .checks import iso_datetime, utcnow
from .db import Database, Where
from .fields import Body
from .problems import InvalidParam, pydantic_params
from .refs import ref
from .resolve import Resolver, get_or_404, merge_patch, partial_model
from .rest import Query, created, db, no_content, paginate, query_doc, require_json, respond
from .zaken_models import BETROKKENE_MODELS, OBJECT_MODELS, RolBody, ZaakObjectBody

API = "zaken/api/v1/"
router = APIRouter(prefix="/zaken/api/v1", dependencies=[Depends(authenticate), Depends(require_json)],
                   tags=["zaken"])

ROL_FIELDS = ("url", "uuid", "zaak", "betrokkene", "betrokkeneType", "afwijkendeNaamBetrokkene", "roltype",
              "omschrijving", "omschrijvingGeneriek", "roltoelichting", "registratiedatum", "indicatieMachtiging",
              "contactpersoonRol", "statussen", "betrokkeneIdentificatie")
SINGLE_ROLES = ("initiator", "zaakcoordinator")


def nested(model: type[Body], data: Any, prefix: str) -> tuple[dict[str, Any] | None, list[InvalidParam]]:
    """Validate a nested object whose shape depends on a sibling field; error names get the prefix."""
    try:
        return model.model_validate(data).model_dump(), []
    except ValidationError as exc:
        params = pydantic_params(list(exc.errors()), strip_first=False)
        return None, [InvalidParam(f"{prefix}.{p.name}" if p.name != "nonFieldErrors" else prefix, p.code, p.reason)
                      for p in params]


def render_rollen(database: Database, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    gezet: dict[str, list[str]] = {}
    if docs:
        where = Where("status").isin("zaak", sorted({d["zaak"] for d in docs}))
        for status in database.select(where):
            if status.get("gezetdoor"):
                gezet.setdefault(status["gezetdoor"], []).append(status["url"])
    out = []
    for doc in docs:
        full = {**doc, "statussen": gezet.get(doc["url"], [])}
        out.append({k: full.get(k) for k in ROL_FIELDS})
    return out


ROL_PARAMS = (
    "zaak", "betrokkene", "betrokkeneType", "betrokkeneIdentificatie__natuurlijkPersoon__inpBsn",
    "betrokkeneIdentificatie__natuurlijkPersoon__anpIdentificatie",
    "betrokkeneIdentificatie__natuurlijkPersoon__inpA_nummer",
    "betrokkeneIdentificatie__nietNatuurlijkPersoon__innNnpId",
    "betrokkeneIdentificatie__nietNatuurlijkPersoon__annIdentificatie",
    "betrokkeneIdentificatie__vestiging__vestigingsNummer",
    "betrokkeneIdentificatie__organisatorischeEenheid__identificatie",
    "betrokkeneIdentificatie__medewerker__identificatie", "roltype", "omschrijving", "omschrijvingGeneriek",
)
_IDENT_TYPES = {"natuurlijkPersoon": "natuurlijk_persoon", "nietNatuurlijkPersoon": "niet_natuurlijk_persoon",
                "vestiging": "vestiging", "organisatorischeEenheid": "organisatorische_eenheid",
                "medewerker": "medewerker"}


@router.get("/rollen", openapi_extra=query_doc(*ROL_PARAMS))
async def list_rollen(request: Request) -> Response:
    from .zaken import BETROKKENE_TYPES, ROL_GENERIEK

    q = Query(request, ROL_PARAMS)
    where = Where("rol").eq("zaak", q.ref("zaak", "zaak")).eq("betrokkene", q.text("betrokkene"))
    where.eq("betrokkeneType", q.choice("betrokkeneType", BETROKKENE_TYPES))
    where.eq("roltype", q.ref("roltype", "roltype")).eq("omschrijving", q.text("omschrijving"))
    where.eq("omschrijvingGeneriek", q.choice("omschrijvingGeneriek", ROL_GENERIEK))
    for name in ROL_PARAMS:
        if name.startswith("betrokkeneIdentificatie__") and q.text(name) is not None:
            _, kind, attr = name.split("__", 2)
            where.eq("betrokkeneType", _IDENT_TYPES[kind])
            where.raw("json_extract(data, ?) = ?", f"$.betrokkeneIdentificatie.{attr}", q.text(name))
    database = db(request)
    return paginate(request, where, API + "rollen", lambda rows: render_rollen(database, rows))


@router.post("/rollen", status_code=201)
async def create_rol(request: Request, body: RolBody) -> Response:
    r = Resolver(request)
    with r.db.tx():
        zaak = r.local("zaak", body.zaak, "zaak")
        roltype = r.local("roltype", body.roltype, "roltype")
        identificatie = None
        if body.betrokkeneIdentificatie is not None:
            identificatie, params = nested(BETROKKENE_MODELS[body.betrokkeneType], body.betrokkeneIdentificatie,
                                           "betrokkeneIdentificatie")
            r.errors.extend(params)
        if not body.betrokkene and body.betrokkeneIdentificatie is None:
            r.add("nonFieldErrors", "invalid-betrokkene", "betrokkene or betrokkeneIdentificatie must be provided")
        r.check()
        assert zaak is not None and roltype is not None
        if roltype["zaaktype"] != zaak["zaaktype"]:
            r.add("nonFieldErrors", "zaaktype-mismatch", "De referentie hoort niet bij het zaaktype van de zaak.")
        generiek = roltype["omschrijvingGeneriek"]
        if generiek in SINGLE_ROLES:
            existing = r.db.count(Where("rol").eq("zaak", zaak["url"]).eq("omschrijvingGeneriek", generiek))
            if existing >= 1:
                r.add("roltype", "max-occurences", f"There are already {existing} `{generiek}` occurences")
        if zaak.get("archiefstatus", "nog_te_archiveren") != "nog_te_archiveren":
            r.add("nonFieldErrors", "zaak-archiefstatus-invalid",
                  "De huidige zaak archiefstatus staat dit request niet toe.")
        r.check()
        uuid = str(uuidlib.uuid4())
        doc = {
            "url": ref("rol", uuid), "uuid": uuid, "zaak": zaak["url"], "betrokkene": body.betrokkene,
            "betrokkeneType": body.betrokkeneType, "afwijkendeNaamBetrokkene": body.afwijkendeNaamBetrokkene,
            "roltype": roltype["url"], "omschrijving": roltype["omschrijving"], "omschrijvingGeneriek": generiek,
            "roltoelichting": body.roltoelichting, "registratiedatum": iso_datetime(utcnow()),
            "indicatieMachtiging": body.indicatieMachtiging,
            "contactpersoonRol": body.contactpersoonRol.model_dump() if body.contactpersoonRol else None,
            "betrokkeneIdentificatie": identificatie,
        }
        r.db.insert("rol", doc)
    return created(request, render_rollen(r.db, [doc])[0])


@router.get("/rollen/{uuid}")
async def get_rol(request: Request, uuid: str) -> Response:
    return respond(request, render_rollen(db(request), [get_or_404(request, "rol", uuid)])[0])


@router.delete("/rollen/{uuid}", status_code=204)
async def delete_rol(request: Request, uuid: str) -> Response:
    database = db(request)
    with database.tx():
        doc = get_or_404(request, "rol", uuid)
        database.delete("rol", doc["uuid"])
    return no_content()


# --- zaakobjecten -----------------------------------------------------------------------------------------------
ZAAKOBJECT_FIELDS = ("url", "uuid", "zaak", "object", "zaakobjecttype", "objectType", "objectTypeOverige",
                     "objectTypeOverigeDefinitie", "relatieomschrijving", "objectIdentificatie")
PatchedZaakObject = partial_model(ZaakObjectBody)


def _zaakobject(r: Resolver, body: ZaakObjectBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    zaak = r.local("zaak", body.zaak, "zaak")
    identificatie = None
    if body.objectIdentificatie is not None:
        model = OBJECT_MODELS.get(body.objectType)
        if model is None:
            identificatie = dict(body.objectIdentificatie)
        else:
            identificatie, params = nested(model, body.objectIdentificatie, "objectIdentificatie")
            r.errors.extend(params)
    if not body.object and body.objectIdentificatie is None:
        r.add("nonFieldErrors", "invalid-zaakobject", "object or objectIdentificatie must be provided")
    if body.objectType == "overige" and not body.objectTypeOverige:
        r.add("objectTypeOverige", "missing-object-type-overige",
              "Als `objectType` de waarde \"overige\" heeft, moet `objectTypeOverige` van een waarde voorzien zijn.")
    if existing is not None and zaak is not None and zaak["url"] != existing["zaak"]:
        r.add("zaak", "wijzigen-niet-toegelaten", "Dit veld mag niet gewijzigd worden.")
    r.check()
    assert zaak is not None
    uuid = existing["uuid"] if existing else str(uuidlib.uuid4())
    return {
        "url": ref("zaakobject", uuid), "uuid": uuid, "zaak": zaak["url"], "object": body.object,
        "zaakobjecttype": body.zaakobjecttype, "objectType": body.objectType,
        "objectTypeOverige": body.objectTypeOverige, "objectTypeOverigeDefinitie": None,
        "relatieomschrijving": body.relatieomschrijving, "objectIdentificatie": identificatie,
    }


def render_objecten(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # objectTypeOverige(Definitie) only when set: "" breaks the OAS pattern, null the (not nullable) definitie
    return [{k: d.get(k) for k in ZAAKOBJECT_FIELDS if d.get(k) not in ("", None) or k not in _ONLY_WHEN_SET}
            for d in rows]


_ONLY_WHEN_SET = ("objectTypeOverige", "objectTypeOverigeDefinitie")


@router.get("/zaakobjecten", openapi_extra=query_doc("zaak", "object", "objectType"))
async def list_zaakobjecten(request: Request) -> Response:
    q = Query(request, ("zaak", "object", "objectType"))
    where = Where("zaakobject").eq("zaak", q.ref("zaak", "zaak")).eq("object", q.text("object"))
    where.eq("objectType", q.text("objectType"))
    return paginate(request, where, API + "zaakobjecten", render_objecten)


@router.post("/zaakobjecten", status_code=201)
async def create_zaakobject(request: Request, body: ZaakObjectBody) -> Response:
    r = Resolver(request)
    with r.db.tx():
        doc = _zaakobject(r, body, None)
        r.db.insert("zaakobject", doc)
    return created(request, render_objecten([doc])[0])


@router.get("/zaakobjecten/{uuid}")
async def get_zaakobject(request: Request, uuid: str) -> Response:
    return respond(request, render_objecten([get_or_404(request, "zaakobject", uuid)])[0])


def _update_zaakobject(request: Request, uuid: str, body: Any) -> Response:
    r = Resolver(request)
    with r.db.tx():
        existing = get_or_404(request, "zaakobject", uuid)
        merged = merge_patch(ZaakObjectBody, r.absolute(existing), body)
        doc = _zaakobject(r, merged, existing)  # type: ignore[arg-type]
        r.db.update("zaakobject", doc)
    return respond(request, render_objecten([doc])[0])


@router.put("/zaakobjecten/{uuid}")
async def put_zaakobject(request: Request, uuid: str, body: ZaakObjectBody) -> Response:
    return _update_zaakobject(request, uuid, body)


@router.patch("/zaakobjecten/{uuid}")
async def patch_zaakobject(request: Request, uuid: str, body: PatchedZaakObject) -> Response:  # type: ignore[valid-type]
    return _update_zaakobject(request, uuid, body)


@router.delete("/zaakobjecten/{uuid}", status_code=204)
async def delete_zaakobject(request: Request, uuid: str) -> Response:
    database = db(request)
    with database.tx():
        doc = get_or_404(request, "zaakobject", uuid)
        database.delete("zaakobject", doc["uuid"])
    return no_content()
