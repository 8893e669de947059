"""Zaken API 1.5.1: zaakinformatieobjecten (mirrored into the Documenten API as Open Zaak does), zaakeigenschappen
and the zaak's besluiten (kept in step by the Besluiten API)."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from fastapi import APIRouter, Depends

from .auth import authenticate
from .checks import iso_datetime, utcnow
from .crud import Resource, add_routes, fields
from .db import Database, Where
from .problems import ValidationFailed
from .refs import ref, uuid_of
from .resolve import Resolver
from .rest import Query, require_json
from .zaken import current_statussen
from .zaken_models import ZaakBesluitBody, ZaakEigenschapBody, ZaakInformatieObjectBody

router = APIRouter(prefix="/zaken/api/v1", dependencies=[Depends(authenticate), Depends(require_json)],
                   tags=["zaken"])
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
              f"Het informatieobjecttype hoort niet bij het {kind} van de "
              f"{'zaak' if kind == 'zaaktype' else 'besluit'}.")


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


def _zio_where(q: Query) -> Where:
    where = Where("zaakinformatieobject").eq("zaak", q.ref("zaak", "zaak"))
    return where.eq("informatieobject", q.ref("informatieobject", "enkelvoudiginformatieobject"))


def _mirror_new(database: Database, doc: dict[str, Any], existing: dict[str, Any] | None) -> None:
    if existing is None:
        mirror(database, doc["informatieobject"], doc["zaak"], "zaak")


ZAAKINFORMATIEOBJECTEN = Resource(
    "zaakinformatieobjecten", "zaakinformatieobject", render=fields(*ZIO_FIELDS), body=ZaakInformatieObjectBody,
    build=_zio, where=_zio_where, params=("zaak", "informatieobject"), paginated=False, after_write=_mirror_new,
    before_delete=lambda database, doc: unmirror(database, doc["informatieobject"], doc["zaak"]),
)
add_routes(router, ZAAKINFORMATIEOBJECTEN)


# --- zaakeigenschappen (nested below the zaak) ------------------------------------------------------------------
ZAAKEIGENSCHAP_FIELDS = ("url", "uuid", "zaak", "eigenschap", "naam", "waarde")


def _zaakeigenschap(r: Resolver, body: ZaakEigenschapBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    zaak = r.parent
    assert zaak is not None
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


ZAAKEIGENSCHAPPEN = Resource(
    "zaken/{zaak_uuid}/zaakeigenschappen", "zaakeigenschap", parent="zaak", render=fields(*ZAAKEIGENSCHAP_FIELDS),
    body=ZaakEigenschapBody, build=_zaakeigenschap, paginated=False,
)
add_routes(router, ZAAKEIGENSCHAPPEN)


# --- zaakbesluiten ----------------------------------------------------------------------------------------------
def _zaakbesluit_doc(zaak_marker: str, besluit_marker: str) -> dict[str, Any]:
    uuid = str(uuidlib.uuid4())
    return {"url": ref("zaakbesluit", uuid, parent=uuid_of(zaak_marker)), "uuid": uuid, "besluit": besluit_marker,
            "zaak": zaak_marker}


def link_besluit(database: Database, zaak_marker: str, besluit_marker: str) -> None:
    """Called by the Besluiten API whenever a besluit gets (or loses) its zaak."""
    if not database.exists("zaakbesluit", zaak=zaak_marker, besluit=besluit_marker):
        database.insert("zaakbesluit", _zaakbesluit_doc(zaak_marker, besluit_marker))


def unlink_besluit(database: Database, besluit_marker: str) -> None:
    database.delete_where(Where("zaakbesluit").eq("besluit", besluit_marker))


def _zaakbesluit(r: Resolver, body: ZaakBesluitBody, existing: dict[str, Any] | None) -> dict[str, Any]:
    """Kept for clients that sync from a Besluiten API; besluiten of this backend link themselves."""
    zaak = r.parent
    besluit = r.local("besluit", body.besluit, "besluit")
    r.check()
    assert zaak is not None and besluit is not None
    if besluit.get("zaak") != zaak["url"]:
        r.add("nonFieldErrors", "inconsistent-relation", "Het besluit verwijst niet naar deze zaak.")
    if r.db.exists("zaakbesluit", zaak=zaak["url"], besluit=besluit["url"]):
        r.add("nonFieldErrors", "unique", "De velden zaak, besluit moeten een unieke set zijn.")
    r.check()
    return _zaakbesluit_doc(zaak["url"], besluit["url"])


def _check_unlinked(database: Database, doc: dict[str, Any]) -> None:
    besluit = database.get("besluit", uuid_of(doc["besluit"]))
    if besluit is not None and besluit.get("zaak") == doc["zaak"]:
        raise ValidationFailed.one("nonFieldErrors", "inconsistent-relation",
                                   "Het besluit verwijst nog naar deze zaak; wijzig eerst het besluit.")


add_routes(router, Resource(
    "zaken/{zaak_uuid}/besluiten", "zaakbesluit", parent="zaak", render=fields("url", "uuid", "besluit"),
    body=ZaakBesluitBody, build=_zaakbesluit, paginated=False, operations=("list", "create", "get", "delete"),
    before_delete=_check_unlinked,
))
