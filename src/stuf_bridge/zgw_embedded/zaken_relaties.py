"""Zaken API 1.5.1: zaakinformatieobjecten (mirrored into the Documenten API as Open Zaak does), zaakeigenschappen
and the zaak's besluiten (kept in step by the Besluiten API)."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from .auth import authenticate
from .checks import iso_datetime, utcnow
from .db import Database, Where
from .problems import NotFound, ValidationFailed
from .refs import ref, uuid_of
from .resolve import Resolver, get_or_404, merge_patch, partial_model
from .rest import Query, created, db, no_content, query_doc, require_json, respond
from .zaken import current_statussen
from .zaken_models import ZaakBesluitBody, ZaakEigenschapBody, ZaakInformatieObjectBody

router = APIRouter(prefix="/zaken/api/v1", dependencies=[Depends(authenticate), Depends(require_json)],
                   tags=["zaken"])
PatchedZaakInformatieObject = partial_model(ZaakInformatieObjectBody)
PatchedZaakEigenschap = partial_model(ZaakEigenschapBody)
AARD_HOORT_BIJ = "Hoort bij, omgekeerd: kent"
ZIO_FIELDS = ("url", "uuid", "informatieobject", "zaak", "aardRelatieWeergave", "titel", "beschrijving",
              "registratiedatum", "vernietigingsdatum", "status")


def mirror(database: Database, informatieobject: str, object_marker: str, object_type: str) -> None:
    """The objectinformatieobject the Documenten API shows for a zaak or besluit relation."""
    if database.exists("objectinformatieobject", informatieobject=informatieobject, object=object_marker):
        return
    uuid = str(uuidlib.uuid4())
    database.insert("objectinformatieobject", {
        "url": ref("objectinformatieobject", uuid), "uuid": uuid, "informatieobject": informatieobject,
        "object": object_marker, "objectType": object_type,
    })


def unmirror(database: Database, informatieobject: str, object_marker: str) -> None:
    database.delete_where(Where("objectinformatieobject").eq("informatieobject", informatieobject)
                          .eq("object", object_marker))


def check_iot(r: Resolver, eio: dict[str, Any], type_doc: dict[str, Any] | None, kind: str) -> None:
    """The document's informatieobjecttype must be one of the zaaktype's (or besluittype's)."""
    if type_doc is not None and eio["informatieobjecttype"] not in type_doc.get("informatieobjecttypen", []):
        r.add("nonFieldErrors", f"missing-{kind}-informatieobjecttype-relation",
              f"Het informatieobjecttype hoort niet bij het {kind} van de {'zaak' if kind == 'zaaktype' else 'besluit'}.")


def _zio(r: Resolver, body: ZaakInformatieObjectBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    eio = r.local("informatieobject", body.informatieobject, "enkelvoudiginformatieobject")
    zaak = r.local("zaak", body.zaak, "zaak")
    status = r.local("status", body.status, "status") if body.status else None
    r.check()
    assert eio is not None and zaak is not None
    if existing is not None:
        if eio["url"] != existing["informatieobject"]:
            r.add("informatieobject", "wijzigen-niet-toegelaten", "Dit veld mag niet gewijzigd worden.")
        if zaak["url"] != existing["zaak"]:
            r.add("zaak", "wijzigen-niet-toegelaten", "Dit veld mag niet gewijzigd worden.")
        r.check()
    else:
        if r.db.exists("zaakinformatieobject", zaak=zaak["url"], informatieobject=eio["url"]):
            r.add("nonFieldErrors", "unique", "De velden zaak, informatieobject moeten een unieke set zijn.")
        check_iot(r, eio, r.db.get("zaaktype", uuid_of(zaak["zaaktype"])), "zaaktype")
    if status is not None and status["zaak"] != zaak["url"]:
        r.add("nonFieldErrors", "zaak-status-mismatch", "De opgegeven `status` hoort niet bij de opgegeven `zaak`.")
    r.check()
    if status is None and existing is None:
        current = current_statussen(r.db, [zaak["url"]]).get(zaak["url"])
        status_marker = current["url"] if current else None
    else:
        status_marker = status["url"] if status else (existing or {}).get("status")
    uuid = existing["uuid"] if existing else str(uuidlib.uuid4())
    return {
        "url": ref("zaakinformatieobject", uuid), "uuid": uuid, "informatieobject": eio["url"], "zaak": zaak["url"],
        "aardRelatieWeergave": AARD_HOORT_BIJ, "titel": body.titel, "beschrijving": body.beschrijving,
        "registratiedatum": existing["registratiedatum"] if existing else iso_datetime(utcnow()),
        "vernietigingsdatum": iso_datetime(body.vernietigingsdatum) if body.vernietigingsdatum else None,
        "status": status_marker,
    }


def render_zio(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in ZIO_FIELDS}


@router.get("/zaakinformatieobjecten", openapi_extra=query_doc("zaak", "informatieobject", paginated=False))
async def list_zio(request: Request) -> Response:
    """A plain array, not paginated (as the OAS and Open Zaak)."""
    q = Query(request, ("zaak", "informatieobject"))
    if "page" in request.query_params:
        raise ValidationFailed.one("nonFieldErrors", "unknown-parameters", "Onbekende query parameters: page")
    where = Where("zaakinformatieobject").eq("zaak", q.ref("zaak", "zaak"))
    where.eq("informatieobject", q.ref("informatieobject", "enkelvoudiginformatieobject"))
    return respond(request, [render_zio(d) for d in db(request).select(where)])


@router.post("/zaakinformatieobjecten", status_code=201)
async def create_zio(request: Request, body: ZaakInformatieObjectBody) -> Response:
    r = Resolver(request)
    with r.db.tx():
        doc = _zio(r, body, None)
        r.db.insert("zaakinformatieobject", doc)
        mirror(r.db, doc["informatieobject"], doc["zaak"], "zaak")
    return created(request, render_zio(doc))


@router.get("/zaakinformatieobjecten/{uuid}")
async def get_zio(request: Request, uuid: str) -> Response:
    return respond(request, render_zio(get_or_404(request, "zaakinformatieobject", uuid)))


def _update_zio(request: Request, uuid: str, body: Any) -> Response:
    r = Resolver(request)
    with r.db.tx():
        existing = get_or_404(request, "zaakinformatieobject", uuid)
        merged = merge_patch(ZaakInformatieObjectBody, r.absolute(existing), body)
        doc = _zio(r, merged, existing)  # type: ignore[arg-type]
        r.db.update("zaakinformatieobject", doc)
    return respond(request, render_zio(doc))


@router.put("/zaakinformatieobjecten/{uuid}")
async def put_zio(request: Request, uuid: str, body: ZaakInformatieObjectBody) -> Response:
    return _update_zio(request, uuid, body)


@router.patch("/zaakinformatieobjecten/{uuid}")
async def patch_zio(request: Request, uuid: str,
                    body: PatchedZaakInformatieObject) -> Response:  # type: ignore[valid-type]
    return _update_zio(request, uuid, body)


@router.delete("/zaakinformatieobjecten/{uuid}", status_code=204)
async def delete_zio(request: Request, uuid: str) -> Response:
    """Deleting the relation also removes its objectinformatieobject in the Documenten API."""
    database = db(request)
    with database.tx():
        doc = get_or_404(request, "zaakinformatieobject", uuid)
        unmirror(database, doc["informatieobject"], doc["zaak"])
        database.delete("zaakinformatieobject", doc["uuid"])
    return no_content()


# --- zaakeigenschappen (nested below the zaak) ------------------------------------------------------------------
ZAAKEIGENSCHAP_FIELDS = ("url", "uuid", "zaak", "eigenschap", "naam", "waarde")


def _parent_zaak(request: Request, zaak_uuid: str) -> dict[str, Any]:
    zaak = db(request).get("zaak", zaak_uuid.lower())
    if zaak is None:
        raise NotFound()
    return zaak


def _nested_or_404(request: Request, table: str, zaak: dict[str, Any], uuid: str) -> dict[str, Any]:
    doc = db(request).get(table, uuid.lower())
    if doc is None or doc["zaak"] != zaak["url"]:
        raise NotFound()
    return doc


def _zaakeigenschap(r: Resolver, zaak: dict[str, Any], body: ZaakEigenschapBody,
                    existing: dict[str, Any] | None) -> dict[str, Any]:
    if body.zaak:
        given = r.local("zaak", body.zaak, "zaak")
        if given is not None and given["url"] != zaak["url"]:
            r.add("zaak", "invalid", "De zaak in de body moet de zaak in de URL zijn.")
    eigenschap = r.local("eigenschap", body.eigenschap, "eigenschap")
    r.check()
    assert eigenschap is not None
    if eigenschap["zaaktype"] != zaak["zaaktype"]:
        r.add("nonFieldErrors", "zaaktype-mismatch", "De referentie hoort niet bij het zaaktype van de zaak.")
    r.check()
    uuid = existing["uuid"] if existing else str(uuidlib.uuid4())
    return {"url": ref("zaakeigenschap", uuid, parent=zaak["uuid"]), "uuid": uuid, "zaak": zaak["url"],
            "eigenschap": eigenschap["url"], "naam": eigenschap["naam"], "waarde": body.waarde}


@router.get("/zaken/{zaak_uuid}/zaakeigenschappen")
async def list_zaakeigenschappen(request: Request, zaak_uuid: str) -> Response:
    zaak = _parent_zaak(request, zaak_uuid)
    rows = db(request).find("zaakeigenschap", zaak=zaak["url"])
    return respond(request, [{k: d.get(k) for k in ZAAKEIGENSCHAP_FIELDS} for d in rows])


@router.post("/zaken/{zaak_uuid}/zaakeigenschappen", status_code=201)
async def create_zaakeigenschap(request: Request, zaak_uuid: str, body: ZaakEigenschapBody) -> Response:
    r = Resolver(request)
    with r.db.tx():
        zaak = _parent_zaak(request, zaak_uuid)
        doc = _zaakeigenschap(r, zaak, body, None)
        r.db.insert("zaakeigenschap", doc)
    return created(request, doc)


@router.get("/zaken/{zaak_uuid}/zaakeigenschappen/{uuid}")
async def get_zaakeigenschap(request: Request, zaak_uuid: str, uuid: str) -> Response:
    zaak = _parent_zaak(request, zaak_uuid)
    return respond(request, _nested_or_404(request, "zaakeigenschap", zaak, uuid))


def _update_zaakeigenschap(request: Request, zaak_uuid: str, uuid: str, body: Any) -> Response:
    r = Resolver(request)
    with r.db.tx():
        zaak = _parent_zaak(request, zaak_uuid)
        existing = _nested_or_404(request, "zaakeigenschap", zaak, uuid)
        merged = merge_patch(ZaakEigenschapBody, r.absolute(existing), body)
        doc = _zaakeigenschap(r, zaak, merged, existing)  # type: ignore[arg-type]
        r.db.update("zaakeigenschap", doc)
    return respond(request, doc)


@router.put("/zaken/{zaak_uuid}/zaakeigenschappen/{uuid}")
async def put_zaakeigenschap(request: Request, zaak_uuid: str, uuid: str, body: ZaakEigenschapBody) -> Response:
    return _update_zaakeigenschap(request, zaak_uuid, uuid, body)


@router.patch("/zaken/{zaak_uuid}/zaakeigenschappen/{uuid}")
async def patch_zaakeigenschap(request: Request, zaak_uuid: str, uuid: str,
                               body: PatchedZaakEigenschap) -> Response:  # type: ignore[valid-type]
    return _update_zaakeigenschap(request, zaak_uuid, uuid, body)


@router.delete("/zaken/{zaak_uuid}/zaakeigenschappen/{uuid}", status_code=204)
async def delete_zaakeigenschap(request: Request, zaak_uuid: str, uuid: str) -> Response:
    database = db(request)
    with database.tx():
        zaak = _parent_zaak(request, zaak_uuid)
        doc = _nested_or_404(request, "zaakeigenschap", zaak, uuid)
        database.delete("zaakeigenschap", doc["uuid"])
    return no_content()


# --- zaakbesluiten ----------------------------------------------------------------------------------------------
def link_besluit(database: Database, zaak_marker: str, besluit_marker: str) -> None:
    """Called by the Besluiten API whenever a besluit gets (or loses) its zaak."""
    if database.exists("zaakbesluit", zaak=zaak_marker, besluit=besluit_marker):
        return
    uuid = str(uuidlib.uuid4())
    database.insert("zaakbesluit", {"url": ref("zaakbesluit", uuid, parent=uuid_of(zaak_marker)), "uuid": uuid,
                                    "besluit": besluit_marker, "zaak": zaak_marker})


def unlink_besluit(database: Database, besluit_marker: str) -> None:
    database.delete_where(Where("zaakbesluit").eq("besluit", besluit_marker))


def _render_zaakbesluit(doc: dict[str, Any]) -> dict[str, Any]:
    return {"url": doc["url"], "uuid": doc["uuid"], "besluit": doc["besluit"]}


@router.get("/zaken/{zaak_uuid}/besluiten")
async def list_zaakbesluiten(request: Request, zaak_uuid: str) -> Response:
    zaak = _parent_zaak(request, zaak_uuid)
    return respond(request, [_render_zaakbesluit(d) for d in db(request).find("zaakbesluit", zaak=zaak["url"])])


@router.post("/zaken/{zaak_uuid}/besluiten", status_code=201)
async def create_zaakbesluit(request: Request, zaak_uuid: str, body: ZaakBesluitBody) -> Response:
    """Kept for clients that sync from a Besluiten API; besluiten of this backend link themselves."""
    r = Resolver(request)
    with r.db.tx():
        zaak = _parent_zaak(request, zaak_uuid)
        besluit = r.local("besluit", body.besluit, "besluit")
        r.check()
        assert besluit is not None
        if besluit.get("zaak") != zaak["url"]:
            r.add("nonFieldErrors", "inconsistent-relation", "Het besluit verwijst niet naar deze zaak.")
        if r.db.exists("zaakbesluit", zaak=zaak["url"], besluit=besluit["url"]):
            r.add("nonFieldErrors", "unique", "De velden zaak, besluit moeten een unieke set zijn.")
        r.check()
        link_besluit(r.db, zaak["url"], besluit["url"])
        doc = r.db.first("zaakbesluit", zaak=zaak["url"], besluit=besluit["url"])
        assert doc is not None
    return created(request, _render_zaakbesluit(doc))


@router.get("/zaken/{zaak_uuid}/besluiten/{uuid}")
async def get_zaakbesluit(request: Request, zaak_uuid: str, uuid: str) -> Response:
    zaak = _parent_zaak(request, zaak_uuid)
    return respond(request, _render_zaakbesluit(_nested_or_404(request, "zaakbesluit", zaak, uuid)))


@router.delete("/zaken/{zaak_uuid}/besluiten/{uuid}", status_code=204)
async def delete_zaakbesluit(request: Request, zaak_uuid: str, uuid: str) -> Response:
    database = db(request)
    with database.tx():
        zaak = _parent_zaak(request, zaak_uuid)
        doc = _nested_or_404(request, "zaakbesluit", zaak, uuid)
        besluit = database.get("besluit", uuid_of(doc["besluit"]))
        if besluit is not None and besluit.get("zaak") == zaak["url"]:
            raise ValidationFailed.one("nonFieldErrors", "inconsistent-relation",
                                       "Het besluit verwijst nog naar deze zaak; wijzig eerst het besluit.")
        database.delete("zaakbesluit", doc["uuid"])
    return no_content()
