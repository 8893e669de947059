"""Documenten API 1.4.3: enkelvoudiginformatieobjecten with versions, content (inline base64 or bestandsdelen),
download, lock and unlock.

Every write creates a new integer ``versie``; content files are never changed once written, so versions share
them. Locking, unlocking and the gebruiksrechten indicator change the latest version in place, as in Open Zaak.
"""

from __future__ import annotations

import math
import shutil
import uuid as uuidlib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from .auth import authenticate
from .checks import Errors, as_utc, check_rsin, iso_datetime, utcnow
from .content import JsonWithInhoud, read_form, read_json_with_inhoud
from .db import Database, Where
from .documenten_models import EioBody, EioLockBody, EioZoekBody, UnlockBody
from .openapi import body_doc, form_doc
from .problems import NotFound, ValidationFailed, pydantic_params
from .refs import path, ref
from .resolve import Resolver, get_or_404, partial_model
from .rest import Query, created, db, no_content, paginate, query_doc, require_json, respond, state

API = "documenten/api/v1/"
router = APIRouter(prefix="/documenten/api/v1", dependencies=[Depends(authenticate)], tags=["documenten"])
PatchedEio = partial_model(EioLockBody)
TABLE = "enkelvoudiginformatieobject"
MAX_PARTS = 10_000  # bestandsdelen per document; beyond that the upload is refused rather than tried

EIO_FIELDS = (
    "url", "identificatie", "bronorganisatie", "creatiedatum", "titel", "vertrouwelijkheidaanduiding", "auteur",
    "status", "formaat", "taal", "versie", "beginRegistratie", "bestandsnaam", "inhoud", "bestandsomvang", "link",
    "beschrijving", "ontvangstdatum", "verzenddatum", "indicatieGebruiksrecht", "verschijningsvorm",
    "ondertekening", "integriteit", "informatieobjecttype", "locked", "bestandsdelen", "trefwoorden",
)


# --- reading ----------------------------------------------------------------------------------------------------
def _delen(database: Database, canonicals: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    where = Where("bestandsdeel").isin("informatieobject", [c["uuid"] for c in canonicals])
    for deel in database.select(where, order="volgnummer"):
        grouped.setdefault(deel["informatieobject"], []).append(deel)
    return grouped


def render_deel(deel: dict[str, Any], lock: str) -> dict[str, Any]:
    return {"url": deel["url"], "volgnummer": deel["volgnummer"], "omvang": deel["omvang"],
            "voltooid": deel["voltooid"], "lock": lock}


def render_eios(database: Database, versions: list[dict[str, Any]], canonicals: list[dict[str, Any]] | None = None,
                with_lock: bool = False) -> list[dict[str, Any]]:
    """Documents as the API shows them; ``versions`` are version documents, ``canonicals`` their current state."""
    canonicals = canonicals or versions
    delen = _delen(database, canonicals)
    out = []
    for version, canonical in zip(versions, canonicals, strict=True):
        lock = canonical.get("_lock", "")
        doc = {k: version.get(k) for k in EIO_FIELDS}
        doc["inhoud"] = (path("documenten", f"enkelvoudiginformatieobjecten/{canonical['uuid']}/download"
                              f"?versie={version['versie']}") if version.get("_file") else None)
        doc["locked"] = bool(lock)
        doc["bestandsdelen"] = [render_deel(d, lock) for d in delen.get(canonical["uuid"], [])]
        if with_lock:
            doc["lock"] = lock
        out.append(doc)
    return out


def _version(request: Request, uuid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(current state, version asked for with ``versie`` or ``registratieOp``: the latest otherwise)."""
    database = db(request)
    canonical = get_or_404(request, TABLE, uuid)
    q = Query(request, ("versie", "registratieOp", "expand"))
    versie = q.text("versie")
    registratie_op = q.moment("registratieOp")
    if versie is None and registratie_op is None:
        return canonical, canonical
    where = Where("eio_versie").eq("eio", canonical["uuid"])
    if versie is not None:
        if not versie.isdigit():
            raise ValidationFailed.one("versie", "invalid", "Voer een geheel getal in.")
        where.eq("versie", int(versie))
    rows = database.select(where, order="versie")
    if registratie_op is not None:
        moment = as_utc(datetime.fromisoformat(registratie_op))
        rows = [r for r in rows if as_utc(datetime.fromisoformat(r["doc"]["beginRegistratie"]))
                <= moment]
    if not rows:
        raise NotFound()
    return canonical, rows[-1]["doc"]


EIO_PARAMS = ("identificatie", "bronorganisatie", "trefwoorden", "expand")


def _list_where(q: Query) -> Where:
    where = Where(TABLE).eq("identificatie", q.text("identificatie")).eq("bronorganisatie", q.text("bronorganisatie"))
    for word in q.texts("trefwoorden") or ():
        where.raw("EXISTS (SELECT 1 FROM json_each(json_extract(data, '$.trefwoorden')) WHERE value = ?)", word)
    return where


@router.get("/enkelvoudiginformatieobjecten", openapi_extra=query_doc(*EIO_PARAMS))
async def list_eios(request: Request) -> Response:
    q = Query(request, EIO_PARAMS)
    database = db(request)
    return paginate(request, _list_where(q), API + "enkelvoudiginformatieobjecten",
                    lambda rows: render_eios(database, rows))


@router.post("/enkelvoudiginformatieobjecten/_zoek", dependencies=[Depends(require_json)])
async def zoek_eios(request: Request, body: EioZoekBody) -> Response:
    uuids = body.uuid_In if body.uuid_In is not None else body.uuid__in
    if uuids is None:
        raise ValidationFailed.one("uuid_In", "required", "Dit veld is vereist.")
    database = db(request)
    where = Where(TABLE).isin("uuid", [u.lower() for u in uuids])
    return paginate(request, where, API + "enkelvoudiginformatieobjecten/_zoek",
                    lambda rows: render_eios(database, rows))


@router.get("/enkelvoudiginformatieobjecten/{uuid}", openapi_extra=query_doc("versie", "registratieOp",
                                                                                paginated=False))
async def get_eio(request: Request, uuid: str) -> Response:
    canonical, version = _version(request, uuid)
    return respond(request, render_eios(db(request), [version], [canonical])[0])


@router.get("/enkelvoudiginformatieobjecten/{uuid}/download", openapi_extra=query_doc("versie", "registratieOp",
                                                                                         paginated=False))
async def download(request: Request, uuid: str) -> Response:
    """The content as a file stream (``application/octet-stream``), of the given ``versie`` or the latest."""
    canonical, version = _version(request, uuid)
    if not version.get("_file"):
        raise NotFound("Dit informatieobject heeft (nog) geen inhoud.")
    file_path = state(request).blobs.path(version["_file"])
    if not file_path.exists():
        raise NotFound("De inhoud van dit informatieobject is niet gevonden.")
    return FileResponse(file_path, media_type="application/octet-stream",
                        filename=version.get("bestandsnaam") or f"{canonical['uuid']}.bin")


# --- writing ----------------------------------------------------------------------------------------------------
def _validate(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        raise ValidationFailed.one("nonFieldErrors", "invalid", "Ongeldige data. Verwachtte een dictionary.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(pydantic_params(list(exc.errors()), strip_first=False)) from None


def _wipe_delen(request: Request, eio_uuid: str) -> None:
    database = db(request)
    blobs = state(request).blobs
    for deel in database.find("bestandsdeel", informatieobject=eio_uuid):
        if deel.get("_file"):
            blobs.path(deel["_file"]).unlink(missing_ok=True)
    database.delete_where(Where("bestandsdeel").eq("informatieobject", eio_uuid))


def _create_delen(request: Request, eio_uuid: str, size: int) -> None:
    database = db(request)
    chunk = state(request).config.upload_chunk_size
    for i in range(math.ceil(size / chunk)):
        uuid = str(uuidlib.uuid4())
        database.insert("bestandsdeel", {
            "url": ref("bestandsdeel", uuid), "uuid": uuid, "informatieobject": eio_uuid, "volgnummer": i + 1,
            "omvang": min(chunk, size - i * chunk), "voltooid": False, "_file": None,
        })


def _content_rules(errors: Errors, body: EioBody, given: set[str], spool: JsonWithInhoud,
                   existing: dict[str, Any] | None, partial: bool) -> None:
    if spool.inhoud == "file" and body.bestandsomvang is not None and body.bestandsomvang != spool.size:
        errors.add("nonFieldErrors", "file-size", "The size of upload file should match the 'bestandsomvang' field")
    if (partial and spool.inhoud == "absent" and existing is not None and existing.get("_file")
            and "bestandsomvang" in given and body.bestandsomvang != existing.get("bestandsomvang")):
        errors.add("nonFieldErrors", "file-size", "The size of upload file should match bestandsomvang field")


def _write(request: Request, r: Resolver, body: EioBody, given: set[str], spool: JsonWithInhoud,
           existing: dict[str, Any] | None, partial: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate and store a new version; returns (canonical, version)."""
    blobs = state(request).blobs
    iot = r.local("informatieobjecttype", body.informatieobjecttype, "informatieobjecttype")
    r.published("informatieobjecttype", iot)
    check_rsin(r.errors, "bronorganisatie", body.bronorganisatie)
    if "indicatieGebruiksrecht" in given:
        has_rechten = existing is not None and r.db.exists("gebruiksrechten", informatieobject=existing["url"])
        if existing is not None and not body.indicatieGebruiksrecht and has_rechten:
            r.add("indicatieGebruiksrecht", "existing-gebruiksrechten",
                  "De indicatie kan niet weggehaald worden of ongespecifieerd zijn als er Gebruiksrechten "
                  "gedefinieerd zijn.")
        elif body.indicatieGebruiksrecht and not has_rechten:
            r.add("indicatieGebruiksrecht", "missing-gebruiksrechten",
                  "De indicatie moet op 'ja' gezet worden door `gebruiksrechten` aan te maken, dit kan niet direct "
                  "op deze resource.")
    if body.status in ("in_bewerking", "ter_vaststelling") and body.ontvangstdatum is not None:
        r.add("status", "invalid_for_received",
              "De statuswaarden `in_bewerking` en `ter_vaststelling` zijn niet van toepassing op ontvangen "
              "informatieobjecten.")
    _content_rules(r.errors, body, given, spool, existing, partial)
    chunk = state(request).config.upload_chunk_size
    if spool.inhoud != "file" and body.bestandsomvang and math.ceil(body.bestandsomvang / chunk) > MAX_PARTS:
        r.add("bestandsomvang", "file-size", f"Te groot: meer dan {MAX_PARTS} bestandsdelen van {chunk} bytes.")
    r.check()
    assert iot is not None

    uuid = existing["uuid"] if existing else str(uuidlib.uuid4())
    versie = existing["versie"] + 1 if existing else 1
    identificatie = body.identificatie or (existing or {}).get("identificatie") or _new_identificatie(r, body)
    clash = r.db.first(TABLE, bronorganisatie=body.bronorganisatie, identificatie=identificatie)
    if clash is not None and clash["uuid"] != uuid:
        raise ValidationFailed.one("identificatie", "identificatie-niet-uniek",
                                   "Deze identificatie bestaat al voor deze bronorganisatie")
    lock = (existing or {}).get("_lock", "")
    file_name: str | None = None
    bestandsomvang = body.bestandsomvang
    delen = 0
    if spool.inhoud == "file":
        assert spool.path is not None
        file_name = blobs.keep(spool.path, uuid, uuidlib.uuid4().hex)
        bestandsomvang = spool.size
    elif spool.inhoud == "absent" and partial and existing is not None and existing.get("_file"):
        file_name = existing["_file"]
        bestandsomvang = existing.get("bestandsomvang")
    elif bestandsomvang == 0:
        empty = blobs.temp_path()
        empty.write_bytes(b"")
        file_name = blobs.keep(empty, uuid, uuidlib.uuid4().hex)
    elif bestandsomvang:
        delen = bestandsomvang
        if not lock:
            lock = uuidlib.uuid4().hex
    if existing is not None:
        _wipe_delen(request, uuid)
    if delen:
        _create_delen(request, uuid, delen)

    version = {
        "url": ref(TABLE, uuid), "uuid": uuid, "identificatie": identificatie,
        "bronorganisatie": body.bronorganisatie, "creatiedatum": body.creatiedatum.isoformat(), "titel": body.titel,
        "vertrouwelijkheidaanduiding": body.vertrouwelijkheidaanduiding
        or (existing or {}).get("vertrouwelijkheidaanduiding") or iot["vertrouwelijkheidaanduiding"],
        "auteur": body.auteur, "status": body.status, "formaat": body.formaat, "taal": body.taal, "versie": versie,
        "beginRegistratie": iso_datetime(utcnow()), "bestandsnaam": body.bestandsnaam,
        "bestandsomvang": bestandsomvang, "link": body.link, "beschrijving": body.beschrijving,
        "ontvangstdatum": body.ontvangstdatum.isoformat() if body.ontvangstdatum else None,
        "verzenddatum": body.verzenddatum.isoformat() if body.verzenddatum else None,
        "indicatieGebruiksrecht": body.indicatieGebruiksrecht, "verschijningsvorm": body.verschijningsvorm,
        "ondertekening": _group(body.ondertekening), "integriteit": _group(body.integriteit),
        "informatieobjecttype": iot["url"], "trefwoorden": list(body.trefwoorden or []), "_file": file_name,
    }
    canonical = {**version, "_lock": lock}
    if existing is None:
        r.db.insert(TABLE, canonical)
    else:
        r.db.update(TABLE, canonical)
    r.db.insert("eio_versie", {"uuid": f"{uuid}/{versie}", "eio": uuid, "versie": versie, "doc": version})
    return canonical, version


def _group(value: BaseModel | None) -> dict[str, Any] | None:
    return value.model_dump(mode="json") if value is not None else None


def _new_identificatie(r: Resolver, body: EioBody) -> str:
    year = body.creatiedatum.year
    while True:
        candidate = f"DOCUMENT-{year}-{r.db.next_number(f'document-{year}'):010d}"
        if not r.db.exists(TABLE, bronorganisatie=body.bronorganisatie, identificatie=candidate):
            return candidate


@router.post("/enkelvoudiginformatieobjecten", status_code=201, openapi_extra=body_doc(EioBody))
async def create_eio(request: Request) -> Response:
    """Create a document; ``inhoud`` (base64) is streamed to a file. With ``bestandsomvang`` and no ``inhoud`` the
    answer lists ``bestandsdelen`` to upload and the document is locked."""
    blobs = state(request).blobs
    spool = await read_json_with_inhoud(request, blobs.temp_path())
    try:
        body = _validate(EioBody, spool.data)
        r = Resolver(request)
        with r.db.tx():
            canonical, version = _write(request, r, body, body.given(), spool, None, partial=False)
    except BaseException:
        blobs.discard(spool.path)
        raise
    return created(request, render_eios(r.db, [version], [canonical], with_lock=True)[0])


async def _update(request: Request, uuid: str, partial: bool) -> Response:
    blobs = state(request).blobs
    spool = await read_json_with_inhoud(request, blobs.temp_path())
    try:
        r = Resolver(request)
        with r.db.tx():
            existing = get_or_404(request, TABLE, uuid)
            if partial:
                patch = _validate(PatchedEio, spool.data)
                given = patch.given()
                current = {k: v for k, v in r.absolute(existing).items() if not k.startswith("_")}
                body = _validate(EioBody, {**current, **patch.model_dump(exclude_unset=True)})
                lock = patch.lock
            else:
                full = _validate(EioLockBody, spool.data)
                given, lock = full.given(), full.lock
                body = full
            if not existing.get("_lock"):
                raise ValidationFailed.one("nonFieldErrors", "unlocked", "Unlocked document can't be modified")
            if not lock:
                raise ValidationFailed.one("nonFieldErrors", "missing-lock-id", "Lock id must be provided")
            if lock != existing["_lock"]:
                raise ValidationFailed.one("nonFieldErrors", "incorrect-lock-id", "Lock id is not correct")
            canonical, version = _write(request, r, body, given, spool, existing, partial)
    except BaseException:
        blobs.discard(spool.path)
        raise
    return respond(request, render_eios(r.db, [version], [canonical])[0])


@router.put("/enkelvoudiginformatieobjecten/{uuid}", openapi_extra=body_doc(EioLockBody))
async def put_eio(request: Request, uuid: str) -> Response:
    """A new version from a full body; what is left out is left out (``inhoud`` too), as in Open Zaak."""
    return await _update(request, uuid, partial=False)


@router.patch("/enkelvoudiginformatieobjecten/{uuid}", openapi_extra=body_doc(PatchedEio))
async def patch_eio(request: Request, uuid: str) -> Response:
    return await _update(request, uuid, partial=True)


@router.delete("/enkelvoudiginformatieobjecten/{uuid}", status_code=204)
async def delete_eio(request: Request, uuid: str) -> Response:
    """Refused while objectinformatieobjecten (zaak or besluit relations) exist, or while locked."""
    database = db(request)
    with database.tx():
        doc = get_or_404(request, TABLE, uuid)
        if database.exists("objectinformatieobject", informatieobject=doc["url"]):
            raise ValidationFailed.one("nonFieldErrors", "pending-relations",
                                       "All relations to the document must be destroyed before destroying the "
                                       "document")
        if doc.get("_lock"):
            raise ValidationFailed.one("nonFieldErrors", "destroy-locked", "Locked objects cannot be destroyed")
        database.delete_where(Where("gebruiksrechten").eq("informatieobject", doc["url"]))
        database.delete_where(Where("bestandsdeel").eq("informatieobject", doc["uuid"]))
        database.delete_where(Where("eio_versie").eq("eio", doc["uuid"]))
        database.delete(TABLE, doc["uuid"])
    state(request).blobs.remove_document(doc["uuid"])
    return no_content()


def update_latest(database: Database, canonical: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Change the current version in place (no new versie), as Open Zaak does for locks and gebruiksrechten."""
    new = {**canonical, **changes}
    database.update(TABLE, new)
    row = database.get("eio_versie", f"{canonical['uuid']}/{canonical['versie']}")
    if row is not None:
        version_changes = {k: v for k, v in changes.items() if k != "_lock"}
        database.update("eio_versie", {**row, "doc": {**row["doc"], **version_changes}})
    return new


@router.post("/enkelvoudiginformatieobjecten/{uuid}/lock", dependencies=[Depends(require_json)])
async def lock_eio(request: Request, uuid: str) -> Response:
    database = db(request)
    with database.tx():
        doc = get_or_404(request, TABLE, uuid)
        if doc.get("_lock"):
            raise ValidationFailed.one("nonFieldErrors", "existing-lock", "The document is already locked")
        lock = uuidlib.uuid4().hex
        update_latest(database, doc, _lock=lock)
    return respond(request, {"lock": lock})


@router.post("/enkelvoudiginformatieobjecten/{uuid}/unlock", status_code=204, dependencies=[Depends(require_json)])
async def unlock_eio(request: Request, uuid: str, claims: Annotated[dict[str, Any], Depends(authenticate)],
                    body: UnlockBody | None = None) -> Response:
    """Unlock with the right ``lock``; when bestandsdelen were uploaded they are checked and joined here. A client
    holding ``documenten.geforceerd-unlock`` unlocks whatever lock it sends, as in Open Zaak.

    The parts are joined in a worker thread before the (short) transaction, so a large file does not hold up
    other requests; the transaction then checks that nothing changed meanwhile.
    """
    database = db(request)
    blobs = state(request).blobs
    lock = body.lock if body is not None else ""
    doc = get_or_404(request, TABLE, uuid)
    forced = str(claims.get("client_id")) in state(request).config.force_unlock_clients
    if forced and lock != doc.get("_lock", ""):
        # Open Zaak: with the force-unlock scope the lock is not compared (any lock, or none, unlocks); a forced
        # unlock also ends an upload in bestandsdelen that the lock held open (recovery of a lost lock)
        with database.tx():
            doc = get_or_404(request, TABLE, uuid)
            if doc.get("_lock") and _forced_unlock_drops_parts(database, doc):
                _wipe_delen(request, doc["uuid"])
            update_latest(database, doc, _lock="")
        return no_content()
    delen = _check_unlock(database, doc, lock)
    joined = None
    if delen:
        joined = blobs.temp_path()
        await anyio.to_thread.run_sync(_join, [blobs.path(d["_file"]) for d in delen], joined)
    try:
        with database.tx():
            doc = get_or_404(request, TABLE, uuid)
            if _check_unlock(database, doc, lock) != delen:
                raise ValidationFailed.one("nonFieldErrors", "incomplete-upload",
                                           "Upload of part files is not complete")
            changes: dict[str, Any] = {"_lock": ""}
            if joined is not None:
                changes["_file"] = blobs.keep(joined, doc["uuid"], uuidlib.uuid4().hex)
                _wipe_delen(request, doc["uuid"])
            update_latest(database, doc, **changes)
    finally:
        blobs.discard(joined)
    return no_content()


def _forced_unlock_drops_parts(database: Database, doc: dict[str, Any]) -> bool:
    """A forced unlock (DRC: scope ``documenten.geforceerd-unlock``, see ``EmbeddedConfig.force_unlock_clients``)
    ends an upload in bestandsdelen without joining them: the parts uploaded so far are dropped."""
    return bool(database.select(Where("bestandsdeel").eq("informatieobject", doc["uuid"]), order="volgnummer"))


def _check_unlock(database: Database, doc: dict[str, Any], lock: str) -> list[dict[str, Any]]:
    """Open Zaak's unlock rules; returns the bestandsdelen to join (none when there is nothing to join)."""
    if lock != doc.get("_lock", ""):
        raise ValidationFailed.one("nonFieldErrors", "incorrect-lock-id", "Lock id is not correct")
    delen = database.select(Where("bestandsdeel").eq("informatieobject", doc["uuid"]), order="volgnummer")
    complete = bool(delen) and all(d["voltooid"] for d in delen)
    empty = not any(d["voltooid"] for d in delen)
    if not complete and not empty:
        raise ValidationFailed.one("nonFieldErrors", "incomplete-upload", "Upload of part files is not complete")
    if empty and not doc.get("_file") and (doc.get("bestandsomvang") or 0) > 0:
        raise ValidationFailed.one("nonFieldErrors", "file-size", "Either file should be upload or the file size = 0")
    return delen if complete else []


def _join(parts: list[Path], target: Path) -> None:
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, 1024 * 1024)


# --- bestandsdelen ----------------------------------------------------------------------------------------------
@router.put("/bestandsdelen/{uuid}", openapi_extra=form_doc({
    "inhoud": {"type": "string", "format": "binary"}, "lock": {"type": "string"}}))
async def put_bestandsdeel(request: Request, uuid: str) -> Response:
    """Upload one part (``multipart/form-data``: ``inhoud`` of exactly ``omvang`` bytes, and ``lock``)."""
    database = db(request)
    blobs = state(request).blobs
    deel = get_or_404(request, "bestandsdeel", uuid)
    temp = blobs.temp_path()
    try:
        form = await read_form(request, "inhoud", temp)
        errors = Errors()
        if form.file_size is None:
            errors.add("inhoud", "required", "Er is geen bestand opgestuurd.")
        if "lock" not in form.fields:
            errors.add("lock", "required", "Dit veld is vereist.")
        errors.raise_if_any()
        with database.tx():
            deel = get_or_404(request, "bestandsdeel", uuid)
            canonical = database.get(TABLE, deel["informatieobject"])
            if canonical is None:
                raise NotFound()
            if form.file_size != deel["omvang"]:
                errors.add("nonFieldErrors", "file-size",
                           "Het aangeleverde bestand heeft een afwijkende bestandsgrootte (volgens het `omvang`-veld)."
                           f"Verwachting: {deel['omvang']}b, ontvangen: {form.file_size}b")
            if form.fields["lock"] != canonical.get("_lock"):
                errors.add("nonFieldErrors", "incorrect-lock-id", "Lock id is not correct")
            errors.raise_if_any()
            if deel.get("_file"):
                blobs.path(deel["_file"]).unlink(missing_ok=True)
            name = blobs.keep(temp, canonical["uuid"], f"deel-{deel['uuid']}")
            deel = {**deel, "voltooid": True, "_file": name}
            database.update("bestandsdeel", deel)
    finally:
        blobs.discard(temp)
    return respond(request, render_deel(deel, canonical.get("_lock", "")))
