"""The embedded backend's audit trail, as far as the gateway's audit attribution needs it: every write (POST, PUT,
PATCH, DELETE) is recorded with its ``X-Audit-Toelichting`` under its hoofdobject (the zaak it belongs to, else the
object itself), and ``GET /zaken/api/v1/zaken/{uuid}/audittrail`` lists a zaak's entries (Open Zaak's endpoint of that
name, with the fields of its ``AuditTrail`` schema: when, what, who, why; ``wijzigingen.nieuw`` is the object as the
write answered it, ``oud`` is not kept and left empty), and ``…/audittrail/{uuid}`` one entry."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid as uuidlib
from typing import Any

import jwt
from fastapi import APIRouter, Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import authenticate
from .db import Database
from .problems import NotFound

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BODY_MAX = 1 << 20
_OBJECT = re.compile(r"/(zaken|documenten|besluiten)/api/v1/([a-z]+)/([0-9a-f-]{36})")
router = APIRouter(dependencies=[Depends(authenticate)])


def create_table(database: Database) -> None:
    database.conn.execute(
        "CREATE TABLE IF NOT EXISTS audittrail (seq INTEGER PRIMARY KEY AUTOINCREMENT, hoofd TEXT NOT NULL, "
        "resource TEXT NOT NULL, method TEXT NOT NULL, status INTEGER NOT NULL, toelichting TEXT, user_id TEXT, "
        "user_representation TEXT, at TEXT NOT NULL, uuid TEXT, hoofd_url TEXT, client_id TEXT, nieuw TEXT)")
    database.conn.execute("CREATE INDEX IF NOT EXISTS ix_audittrail_hoofd ON audittrail (hoofd)")


def _key(url: str) -> str | None:
    found = _OBJECT.search(url)
    return f"{found.group(1)}/{found.group(2)}/{found.group(3)}" if found else None


def _claims(headers: dict[bytes, bytes]) -> dict[str, Any]:
    value = headers.get(b"authorization", b"").decode("latin-1")
    if not value.lower().startswith("bearer "):
        return {}
    try:  # the auth dependency verified it; here only who it names is read
        claims: dict[str, Any] = jwt.decode(value[7:], options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims


class AuditTrail:
    """ASGI middleware recording successful writes."""

    def __init__(self, app: ASGIApp, database: Database) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WRITES:
            await self.app(scope, receive, send)
            return
        status = 0
        body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and len(body) < _BODY_MAX:
                body.extend(message.get("body", b"")[: _BODY_MAX - len(body)])
            await send(message)

        await self.app(scope, receive, capture)
        if not 200 <= status < 300:
            return
        resource = str(scope.get("path", ""))
        hoofd = hoofd_url = None
        try:
            document = json.loads(bytes(body)) if body else None
        except ValueError:
            document = None
        if isinstance(document, dict):
            resource = str(document.get("url") or resource)
            for field in ("zaak", "besluit", "informatieobject"):
                if isinstance(document.get(field), str):
                    hoofd, hoofd_url = _key(document[field]), document[field]
                    break
        hoofd = hoofd or _key(resource)
        if hoofd is None:
            return
        headers = dict(scope.get("headers") or [])
        claims = _claims(headers)
        if not resource.startswith("http"):
            host = headers.get(b"host", b"localhost").decode("latin-1")
            resource = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{resource}"
        self.database.conn.execute(
            "INSERT INTO audittrail (hoofd, resource, method, status, toelichting, user_id, user_representation, at, "
            "uuid, hoofd_url, client_id, nieuw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (hoofd, resource, scope["method"], status,
             headers.get(b"x-audit-toelichting", b"").decode("latin-1") or None,
             str(claims.get("user_id") or "") or None, str(claims.get("user_representation") or "") or None,
             dt.datetime.now(dt.UTC).isoformat(), str(uuidlib.uuid4()), hoofd_url or resource,
             str(claims.get("client_id") or "") or None,
             json.dumps(document) if isinstance(document, dict) else None))


_COLUMNS = "resource, method, status, toelichting, user_id, user_representation, at, uuid, hoofd_url, client_id, nieuw"
_ACTIES = {"POST": ("create", "Object aangemaakt"), "PUT": ("update", "Object bijgewerkt"),
           "PATCH": ("partial_update", "Object deels bijgewerkt"), "DELETE": ("destroy", "Object verwijderd")}
_BRONNEN = {"zaken": "zrc", "documenten": "drc", "besluiten": "brc"}


def _entry(row: tuple[Any, ...]) -> dict[str, Any]:
    """One audittrail row as the Zaken API's ``AuditTrail`` schema has it."""
    resource_url, method, status, toelichting, user_id, user_repr, at, entry_uuid, hoofd_url, client_id, nieuw = row
    found = _OBJECT.search(resource_url)
    actie, weergave = _ACTIES.get(method, (method.lower(), method))
    return {
        "uuid": entry_uuid, "bron": _BRONNEN.get(found.group(1), "zrc") if found else "zrc",
        "applicatieId": client_id or "", "applicatieWeergave": client_id or "",
        "gebruikersId": user_id or "", "gebruikersWeergave": user_repr or "",
        "actie": actie, "actieWeergave": weergave, "resultaat": status,
        "hoofdObject": hoofd_url or resource_url, "resource": found.group(2).rstrip("s") if found else "",
        "resourceUrl": resource_url, "toelichting": toelichting or "", "resourceWeergave": resource_url[-200:],
        "aanmaakdatum": at, "wijzigingen": {"oud": {}, "nieuw": json.loads(nieuw) if nieuw else {}},
    }


@router.get("/zaken/api/v1/zaken/{uuid}/audittrail", tags=["zaken"])
async def zaak_audittrail(uuid: str, request: Request) -> list[dict[str, Any]]:
    database: Database = request.app.state.zgw.db
    rows = database.conn.execute(f"SELECT {_COLUMNS} FROM audittrail WHERE hoofd = ? ORDER BY seq",
                                 (f"zaken/zaken/{uuid}",)).fetchall()
    return [_entry(tuple(r)) for r in rows]


@router.get("/zaken/api/v1/zaken/{uuid}/audittrail/{entry}", tags=["zaken"])
async def zaak_audittrail_entry(uuid: str, entry: str, request: Request) -> dict[str, Any]:
    database: Database = request.app.state.zgw.db
    row = database.conn.execute(f"SELECT {_COLUMNS} FROM audittrail WHERE hoofd = ? AND uuid = ?",
                                (f"zaken/zaken/{uuid}", entry)).fetchone()
    if row is None:
        raise NotFound()
    return _entry(tuple(row))
