"""Zaken API 1.5.1: the zaak itself (list, create, read, update, delete, ``_zoek``)."""

from __future__ import annotations

import uuid as uuidlib
from collections import defaultdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from . import expand
from .auth import authenticate
from .checks import check_not_future_datetime, check_rsin, iso_datetime
from .crud import Resource, add_routes
from .db import Database, Where
from .geo import geometry_error, point_in_geometry
from .problems import ValidationFailed
from .refs import ref
from .resolve import Resolver, get_or_404
from .rest import CRS_HEADERS, Query, db, paginate, query_doc, require_crs, require_json, respond
from .zaken_models import BETALINGSINDICATIE_WEERGAVE, VERTROUWELIJKHEID_ORDER, ZaakBody, ZaakZoekBody

API = "zaken/api/v1/"
router = APIRouter(prefix="/zaken/api/v1", dependencies=[Depends(authenticate), Depends(require_json)],
                   tags=["zaken"])
CRS_DEPS = [Depends(require_crs)]

ZAAK_FIELDS = (
    "url", "uuid", "identificatie", "bronorganisatie", "omschrijving", "toelichting", "zaaktype", "registratiedatum",
    "verantwoordelijkeOrganisatie", "startdatum", "einddatum", "einddatumGepland", "uiterlijkeEinddatumAfdoening",
    "publicatiedatum", "communicatiekanaal", "productenOfDiensten", "vertrouwelijkheidaanduiding",
    "betalingsindicatie", "betalingsindicatieWeergave", "laatsteBetaaldatum", "zaakgeometrie", "verlenging",
    "opschorting", "selectielijstklasse", "hoofdzaak", "deelzaken", "relevanteAndereZaken", "eigenschappen",
    "rollen", "status", "zaakinformatieobjecten", "zaakobjecten", "kenmerken", "archiefnominatie", "archiefstatus",
    "archiefactiedatum", "resultaat", "opdrachtgevendeOrganisatie", "processobjectaard", "startdatumBewaartermijn",
    "processobject",
)


# --- reading ----------------------------------------------------------------------------------------------------
def group(database: Database, table: str, column: str, markers: list[str], order: str = "seq"
          ) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in database.select(Where(table).isin(column, markers), order=order):
        grouped[row[column]].append(row)
    return grouped


def current_statussen(database: Database, markers: list[str]) -> dict[str, dict[str, Any]]:
    """The last set status of each zaak (latest ``datumStatusGezet``, then the latest created)."""
    latest: dict[str, dict[str, Any]] = {}
    for row in database.select(Where("status").isin("zaak", markers), order="sortkey, seq"):
        latest[row["zaak"]] = row
    return latest


def render_zaken(database: Database, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Zaken as the API shows them, with the related lists read for the whole page at once."""
    if not docs:
        return []
    markers = [d["url"] for d in docs]
    rollen = group(database, "rol", "zaak", markers)
    zios = group(database, "zaakinformatieobject", "zaak", markers)
    objecten = group(database, "zaakobject", "zaak", markers)
    eigenschappen = group(database, "zaakeigenschap", "zaak", markers)
    deelzaken = group(database, "zaak", "hoofdzaak", markers)
    resultaten = group(database, "resultaat", "zaak", markers)
    status = current_statussen(database, markers)
    out = []
    for doc in docs:
        m = doc["url"]
        computed = {
            "deelzaken": [d["url"] for d in deelzaken[m]],
            "eigenschappen": [e["url"] for e in eigenschappen[m]],
            "rollen": [r["url"] for r in rollen[m]],
            "status": status[m]["url"] if m in status else None,
            "zaakinformatieobjecten": [z["url"] for z in zios[m]],
            "zaakobjecten": [o["url"] for o in objecten[m]],
            "resultaat": resultaten[m][0]["url"] if resultaten[m] else None,
        }
        full = {**doc, **computed}
        out.append({k: full.get(k) for k in ZAAK_FIELDS})
    return out


ZAAK_PARAMS = (
    "identificatie", "bronorganisatie", "bronorganisatie__in", "zaaktype", "archiefnominatie",
    "archiefnominatie__in", "archiefactiedatum", "archiefactiedatum__lt", "archiefactiedatum__gt",
    "archiefactiedatum__isnull", "archiefstatus", "archiefstatus__in", "startdatum", "startdatum__gt",
    "startdatum__gte", "startdatum__lt", "startdatum__lte", "registratiedatum", "registratiedatum__gt",
    "registratiedatum__lt", "einddatum", "einddatum__gt", "einddatum__lt", "einddatum__isnull", "einddatumGepland",
    "einddatumGepland__gt", "einddatumGepland__lt", "uiterlijkeEinddatumAfdoening",
    "uiterlijkeEinddatumAfdoening__gt", "uiterlijkeEinddatumAfdoening__lt", "rol__betrokkeneType",
    "rol__betrokkene", "rol__omschrijvingGeneriek", "maximaleVertrouwelijkheidaanduiding",
    "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn",
    "rol__betrokkeneIdentificatie__natuurlijkPersoon__anpIdentificatie",
    "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpA_nummer",
    "rol__betrokkeneIdentificatie__nietNatuurlijkPersoon__innNnpId",
    "rol__betrokkeneIdentificatie__nietNatuurlijkPersoon__annIdentificatie",
    "rol__betrokkeneIdentificatie__vestiging__vestigingsNummer",
    "rol__betrokkeneIdentificatie__medewerker__identificatie",
    "rol__betrokkeneIdentificatie__organisatorischeEenheid__identificatie",
    "ordering", "expand",
)
ORDERING = ("startdatum", "einddatum", "publicatiedatum", "archiefactiedatum", "registratiedatum", "identificatie")
ARCHIEFNOMINATIE = ("blijvend_bewaren", "vernietigen")
ARCHIEFSTATUS = ("nog_te_archiveren", "gearchiveerd", "gearchiveerd_procestermijn_onbekend", "overgedragen")
ROL_GENERIEK = ("adviseur", "behandelaar", "belanghebbende", "beslisser", "initiator", "klantcontacter",
                "zaakcoordinator", "mede_initiator")
BETROKKENE_TYPES = ("natuurlijk_persoon", "niet_natuurlijk_persoon", "vestiging", "organisatorische_eenheid",
                    "medewerker")
_ROL_IDENT = {
    "natuurlijkPersoon": "natuurlijk_persoon", "nietNatuurlijkPersoon": "niet_natuurlijk_persoon",
    "vestiging": "vestiging", "medewerker": "medewerker", "organisatorischeEenheid": "organisatorische_eenheid",
}
_ZAAK_SELF = "'\uffffzaken/api/v1/zaken/' || zaak.uuid"


def _rol_exists(where: Where, condition: str, *params: Any) -> None:
    # One EXISTS per filter: like the chained Django filters of Open Zaak, each rol__ filter may match another rol.
    where.raw(f"EXISTS (SELECT 1 FROM rol WHERE rol.zaak = {_ZAAK_SELF} AND {condition})", *params)


def zaak_where(q: Query) -> Where:
    where = Where("zaak")
    where.eq("identificatie", q.text("identificatie"))
    where.eq("bronorganisatie", q.text("bronorganisatie")).isin("bronorganisatie", q.texts("bronorganisatie__in"))
    where.eq("zaaktype", q.ref("zaaktype", "zaaktype")).isin("zaaktype", q.refs("zaaktype__in", "zaaktype"))
    where.eq("archiefnominatie", q.choice("archiefnominatie", ARCHIEFNOMINATIE))
    where.isin("archiefnominatie", q.texts("archiefnominatie__in"))
    where.eq("archiefstatus", q.choice("archiefstatus", ARCHIEFSTATUS))
    where.isin("archiefstatus", q.texts("archiefstatus__in"))
    for field in ("archiefactiedatum", "startdatum", "registratiedatum", "einddatum", "einddatumGepland",
                  "uiterlijkeEinddatumAfdoening"):
        where.eq(field, q.day(field))
        for suffix, op in (("__gt", ">"), ("__gte", ">="), ("__lt", "<"), ("__lte", "<=")):
            if f"{field}{suffix}" in q.params:
                where.cmp(field, op, q.day(f"{field}{suffix}"))
        if f"{field}__isnull" in q.params:
            where.isnull(field, q.flag(f"{field}__isnull"))
    uuids = q.texts("uuid__in")
    if uuids is not None:
        where.isin("uuid", [u.lower() for u in uuids])
    betrokkene_type = q.choice("rol__betrokkeneType", BETROKKENE_TYPES)
    if betrokkene_type:
        _rol_exists(where, "rol.betrokkeneType = ?", betrokkene_type)
    betrokkene = q.text("rol__betrokkene")
    if betrokkene:
        _rol_exists(where, "json_extract(rol.data, '$.betrokkene') = ?", betrokkene)
    generiek = q.choice("rol__omschrijvingGeneriek", ROL_GENERIEK)
    if generiek:
        _rol_exists(where, "rol.omschrijvingGeneriek = ?", generiek)
    for name in q.params:
        if name.startswith("rol__betrokkeneIdentificatie__"):
            _, _, kind, attr = name.split("__", 3)
            value = q.text(name)
            if value is not None and kind in _ROL_IDENT:
                _rol_exists(where, "rol.betrokkeneType = ? AND json_extract(rol.data, ?) = ?", _ROL_IDENT[kind],
                            f"$.betrokkeneIdentificatie.{attr}", value)
    maximum = q.choice("maximaleVertrouwelijkheidaanduiding", VERTROUWELIJKHEID_ORDER)
    if maximum:
        allowed = VERTROUWELIJKHEID_ORDER[: VERTROUWELIJKHEID_ORDER.index(maximum) + 1]
        where.isin("vertrouwelijkheidaanduiding", list(allowed))
    return where


def zaak_order(q: Query) -> str:
    ordering = q.texts("ordering")
    if not ordering:
        return "seq"
    parts = []
    for item in ordering:
        name = item.lstrip("-")
        if name not in ORDERING:
            raise ValidationFailed.one("ordering", "invalid_choice",
                                       f"Selecteer een geldige keuze. {item} is geen beschikbare keuze.")
        parts.append(f"json_extract(data, '$.{name}') {'DESC' if item.startswith('-') else 'ASC'}")
    return ", ".join([*parts, "seq"])


def _page(request: Request, q: Query) -> Any:
    database = db(request)
    paths = expand.parse(q.text("expand"))

    def render(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        documents = render_zaken(database, rows)
        expand.apply(database, documents, paths)
        return documents

    return render


@router.get("/zaken", dependencies=CRS_DEPS, openapi_extra=query_doc(*ZAAK_PARAMS))
async def list_zaken(request: Request) -> Response:
    q = Query(request, ZAAK_PARAMS)
    response = paginate(request, zaak_where(q), API + "zaken", _page(request, q), order=zaak_order(q))
    response.headers.update(CRS_HEADERS)
    return response


@router.post("/zaken/_zoek", dependencies=CRS_DEPS)
async def zoek_zaken(request: Request, body: ZaakZoekBody) -> Response:
    source = body.model_dump(exclude_none=True)
    within = source.pop("zaakgeometrie", {}).get("within")
    q = Query(request, set(ZaakZoekBody.model_fields) | set(ZAAK_PARAMS), source=source)
    where = zaak_where(q)
    if within is not None:
        problem = geometry_error(within)
        if problem:
            raise ValidationFailed.one("zaakgeometrie.within", "invalid", problem)
        candidates = db(request).select(Where("zaak").raw("json_extract(data, '$.zaakgeometrie') IS NOT NULL"))
        inside = [d["uuid"] for d in candidates if point_in_geometry(d["zaakgeometrie"], within)]
        where.isin("uuid", inside)
    response = paginate(request, where, API + "zaken/_zoek", _page(request, q), order=zaak_order(q))
    response.headers.update(CRS_HEADERS)
    return response


@router.get("/zaken/{uuid}", dependencies=CRS_DEPS, openapi_extra=query_doc("expand", paginated=False))
async def get_zaak(request: Request, uuid: str) -> Response:
    q = Query(request, ("expand",))
    doc = get_or_404(request, "zaak", uuid)
    return respond(request, _page(request, q)([doc])[0], headers=CRS_HEADERS)


# --- writing ----------------------------------------------------------------------------------------------------
def build_zaak(r: Resolver, body: ZaakBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    given = body.given()
    zaaktype = r.local("zaaktype", body.zaaktype, "zaaktype")
    if existing is None:
        r.published("zaaktype", zaaktype)
    check_rsin(r.errors, "bronorganisatie", body.bronorganisatie)
    check_rsin(r.errors, "verantwoordelijkeOrganisatie", body.verantwoordelijkeOrganisatie)
    check_not_future_datetime(r.errors, "laatsteBetaaldatum", body.laatsteBetaaldatum, "future_not_allowed")
    if body.betalingsindicatie == "nvt" and body.laatsteBetaaldatum is not None:
        r.add("laatsteBetaaldatum", "betaling-nvt",
              'Laatste betaaldatum kan niet gezet worden als de betalingsindicatie "nvt" is')
    if body.zaakgeometrie is not None:
        problem = geometry_error(body.zaakgeometrie)
        if problem:
            r.add("zaakgeometrie", "invalid", problem)
    if existing is not None:
        if zaaktype is not None and zaaktype["url"] != existing["zaaktype"]:
            r.add("zaaktype", "wijzigen-niet-toegelaten", "Dit veld mag niet gewijzigd worden.")
        if "identificatie" in given and body.identificatie != existing["identificatie"]:
            r.add("identificatie", "wijzigen-niet-toegelaten", "Dit veld mag niet gewijzigd worden.")

    hoofdzaak = r.local("hoofdzaak", body.hoofdzaak, "zaak", required=False)
    if hoofdzaak is not None:
        if existing is not None and hoofdzaak["uuid"] == existing["uuid"]:
            r.add("hoofdzaak", "self-forbidden", "The 'hoofdzaak' may not be a self-reference")
        elif hoofdzaak.get("hoofdzaak"):
            r.add("hoofdzaak", "deelzaak-als-hoofdzaak", "Deelzaken van deelzaken wordt niet ondersteund.")
        elif zaaktype is not None:
            parent_type = r.db.get("zaaktype", hoofdzaak["zaaktype"].rsplit("/", 1)[1])
            if parent_type is None or zaaktype["url"] not in parent_type.get("deelzaaktypen", []):
                r.add("hoofdzaak", "invalid-deelzaaktype",
                      "Zaaktype niet vastgelegd in deelzaaktypen van hoofdzaak.zaaktype")
    relevante = []
    for i, rel in enumerate(body.relevanteAndereZaken):
        other = r.local(f"relevanteAndereZaken.{i}.url", rel.url, "zaak")
        if other is not None:
            relevante.append({"url": other["url"], "aardRelatie": rel.aardRelatie})
    if (body.productenOfDiensten and zaaktype is not None
            and not set(body.productenOfDiensten) <= set(zaaktype.get("productenOfDiensten", []))):
        r.add("productenOfDiensten", "invalid-products-services",
              "Niet alle producten/diensten komen voor in de producten/diensten op het zaaktype")
    if existing is not None and body.archiefstatus != "nog_te_archiveren":
        _check_archiving(r, body, existing)
    r.check()
    assert zaaktype is not None

    uuid = existing["uuid"] if existing else str(uuidlib.uuid4())
    identificatie = body.identificatie or (existing or {}).get("identificatie") or _new_identificatie(r, body)
    doc = {
        "url": ref("zaak", uuid),
        "uuid": uuid,
        "identificatie": identificatie,
        "bronorganisatie": body.bronorganisatie,
        "omschrijving": body.omschrijving,
        "toelichting": body.toelichting,
        "zaaktype": zaaktype["url"],
        "registratiedatum": (body.registratiedatum or date.today()).isoformat(),
        "verantwoordelijkeOrganisatie": body.verantwoordelijkeOrganisatie,
        "startdatum": body.startdatum.isoformat(),
        "einddatum": (existing or {}).get("einddatum"),
        "einddatumGepland": _iso(body.einddatumGepland),
        "uiterlijkeEinddatumAfdoening": _iso(body.uiterlijkeEinddatumAfdoening),
        "publicatiedatum": _iso(body.publicatiedatum),
        "communicatiekanaal": body.communicatiekanaal,
        "productenOfDiensten": list(body.productenOfDiensten),
        "vertrouwelijkheidaanduiding": body.vertrouwelijkheidaanduiding or zaaktype["vertrouwelijkheidaanduiding"],
        "betalingsindicatie": body.betalingsindicatie,
        "betalingsindicatieWeergave": BETALINGSINDICATIE_WEERGAVE.get(body.betalingsindicatie, ""),
        "laatsteBetaaldatum": iso_datetime(body.laatsteBetaaldatum) if body.laatsteBetaaldatum else None,
        "zaakgeometrie": body.zaakgeometrie,
        "verlenging": body.verlenging.model_dump() if body.verlenging else None,
        "opschorting": body.opschorting.model_dump() if body.opschorting else {"indicatie": False, "reden": ""},
        "selectielijstklasse": body.selectielijstklasse,
        "hoofdzaak": hoofdzaak["url"] if hoofdzaak else None,
        "relevanteAndereZaken": relevante,
        "kenmerken": [k.model_dump() for k in body.kenmerken],
        "archiefnominatie": body.archiefnominatie or None,
        "archiefstatus": body.archiefstatus,
        "archiefactiedatum": _iso(body.archiefactiedatum),
        "opdrachtgevendeOrganisatie": body.opdrachtgevendeOrganisatie,
        "processobjectaard": body.processobjectaard,
        "startdatumBewaartermijn": _iso(body.startdatumBewaartermijn),
        "processobject": body.processobject.model_dump() if body.processobject else None,
    }
    _check_unique(r, doc)
    return doc


def _check_archiving(r: Resolver, body: ZaakBody, existing: dict[str, Any]) -> None:
    for zio in r.db.find("zaakinformatieobject", zaak=existing["url"]):
        eio = r.db.get("enkelvoudiginformatieobject", zio["informatieobject"].rsplit("/", 1)[1])
        if eio is not None and eio.get("status") != "gearchiveerd":
            r.add("archiefstatus", "documents-not-archived",
                  "Er zijn gerelateerde informatieobjecten waarvan de `status` nog niet gelijk is aan "
                  "`gearchiveerd`.")
            break
    if not body.archiefnominatie:
        r.add("archiefnominatie", "archiefnominatie-not-set",
              "Moet van een waarde voorzien zijn als de 'Archiefstatus' een waarde heeft anders dan "
              "'nog_te_archiveren'.")
    if not body.archiefactiedatum:
        r.add("archiefactiedatum", "archiefactiedatum-not-set",
              "Moet van een waarde voorzien zijn als de 'Archiefstatus' een waarde heeft anders dan "
              "'nog_te_archiveren'.")


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _new_identificatie(r: Resolver, body: ZaakBody) -> str:
    year = body.startdatum.year
    while True:
        candidate = f"ZAAK-{year}-{r.db.next_number(f'zaak-{year}'):010d}"
        if not r.db.exists("zaak", bronorganisatie=body.bronorganisatie, identificatie=candidate):
            return candidate


def _check_unique(r: Resolver, doc: dict[str, Any]) -> None:
    clash = r.db.first("zaak", bronorganisatie=doc["bronorganisatie"], identificatie=doc["identificatie"])
    if clash is not None and clash["uuid"] != doc["uuid"]:
        raise ValidationFailed.one("identificatie", "identificatie-niet-uniek",
                                   "Deze identificatie bestaat al voor deze bronorganisatie")


def _delete_zaak(database: Database, doc: dict[str, Any]) -> None:
    """With the zaak go its statussen, rollen, resultaat, objecten, eigenschappen and document links. Refused
    (400 ``pending-relations``) while besluiten or deelzaken point at it."""
    marker = doc["url"]
    if database.exists("besluit", zaak=marker) or database.exists("zaak", hoofdzaak=marker):
        raise ValidationFailed.one("nonFieldErrors", "pending-relations",
                                   "Er zijn nog besluiten of deelzaken aan deze zaak gerelateerd.")
    for zio in database.find("zaakinformatieobject", zaak=marker):
        database.delete_where(Where("objectinformatieobject").eq("object", marker)
                              .eq("informatieobject", zio["informatieobject"]))
    for table in ("status", "rol", "resultaat", "zaakinformatieobject", "zaakobject", "zaakeigenschap",
                  "zaakbesluit"):
        database.delete_where(Where(table).eq("zaak", marker))


add_routes(router, Resource(
    "zaken", "zaak", render=render_zaken, body=ZaakBody, build=build_zaak, before_delete=_delete_zaak,
    operations=("create", "put", "patch", "delete"), headers=CRS_HEADERS, dependencies=CRS_DEPS,
))
