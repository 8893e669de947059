"""Zaken API 1.5.1: rollen (with the five kinds of betrokkeneIdentificatie) and zaakobjecten."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError

from .auth import authenticate
from .checks import iso_datetime, utcnow
from .crud import Resource, add_routes
from .db import Database, Where
from .fields import Body
from .problems import InvalidParam, pydantic_params
from .refs import ref
from .resolve import Resolver
from .rest import Query, require_json
from .zaken_models import BETROKKENE_MODELS, OBJECT_MODELS, RolBody, ZaakObjectBody

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


def _rol_where(q: Query) -> Where:
    from .zaken import BETROKKENE_TYPES, ROL_GENERIEK

    where = Where("rol").eq("zaak", q.ref("zaak", "zaak")).eq("betrokkene", q.text("betrokkene"))
    where.eq("betrokkeneType", q.choice("betrokkeneType", BETROKKENE_TYPES))
    where.eq("roltype", q.ref("roltype", "roltype")).eq("omschrijving", q.text("omschrijving"))
    where.eq("omschrijvingGeneriek", q.choice("omschrijvingGeneriek", ROL_GENERIEK))
    for name in ROL_PARAMS:
        if name.startswith("betrokkeneIdentificatie__") and q.text(name) is not None:
            _, kind, attr = name.split("__", 2)
            where.eq("betrokkeneType", _IDENT_TYPES[kind])
            where.raw("json_extract(data, ?) = ?", f"$.betrokkeneIdentificatie.{attr}", q.text(name))
    return where


def _rol(r: Resolver, body: RolBody, existing: dict[str, Any] | None) -> dict[str, Any]:
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
        count = r.db.count(Where("rol").eq("zaak", zaak["url"]).eq("omschrijvingGeneriek", generiek))
        if count >= 1:
            r.add("roltype", "max-occurences", f"There are already {count} `{generiek}` occurences")
    if zaak.get("archiefstatus", "nog_te_archiveren") != "nog_te_archiveren":
        r.add("nonFieldErrors", "zaak-archiefstatus-invalid",
              "De huidige zaak archiefstatus staat dit request niet toe.")
    r.check()
    uuid = str(uuidlib.uuid4())
    return {
        "url": ref("rol", uuid), "uuid": uuid, "zaak": zaak["url"], "betrokkene": body.betrokkene,
        "betrokkeneType": body.betrokkeneType, "afwijkendeNaamBetrokkene": body.afwijkendeNaamBetrokkene,
        "roltype": roltype["url"], "omschrijving": roltype["omschrijving"], "omschrijvingGeneriek": generiek,
        "roltoelichting": body.roltoelichting, "registratiedatum": iso_datetime(utcnow()),
        "indicatieMachtiging": body.indicatieMachtiging,
        "contactpersoonRol": body.contactpersoonRol.model_dump() if body.contactpersoonRol else None,
        "betrokkeneIdentificatie": identificatie,
    }


add_routes(router, Resource("rollen", "rol", render=render_rollen, body=RolBody, build=_rol, where=_rol_where,
                            params=ROL_PARAMS, operations=("list", "create", "get", "delete")))


# --- zaakobjecten -----------------------------------------------------------------------------------------------
ZAAKOBJECT_FIELDS = ("url", "uuid", "zaak", "object", "zaakobjecttype", "objectType", "objectTypeOverige",
                     "objectTypeOverigeDefinitie", "relatieomschrijving", "objectIdentificatie")


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


def render_objecten(_database: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # objectTypeOverige(Definitie) only when set: "" breaks the OAS pattern, null the (not nullable) definitie
    return [{k: d.get(k) for k in ZAAKOBJECT_FIELDS if d.get(k) not in ("", None) or k not in _ONLY_WHEN_SET}
            for d in rows]


_ONLY_WHEN_SET = ("objectTypeOverige", "objectTypeOverigeDefinitie")


def _zaakobject_where(q: Query) -> Where:
    where = Where("zaakobject").eq("zaak", q.ref("zaak", "zaak")).eq("object", q.text("object"))
    return where.eq("objectType", q.text("objectType"))


add_routes(router, Resource("zaakobjecten", "zaakobject", render=render_objecten, body=ZaakObjectBody,
                            build=_zaakobject, where=_zaakobject_where, params=("zaak", "object", "objectType")))
