"""The embedded backend's audit trail, as far as the gateway's audit attribution needs it: every write (POST, PUT,
PATCH, DELETE) is recorded with its ``X-Audit-Toelichting`` under its hoofdobject (the zaak it belongs to, else the
object itself), and ``GET /zaken/api/v1/zaken/{uuid}/audittrail`` lists a zaak's entries (Open Zaak's endpoint of that
name, reduced to the fields the gateway's tests and an operator read: when, what, who, why)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import jwt
from fastapi import APIRouter, Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import authenticate
from .db import Database

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BODY_MAX = 1 << 20
_OBJECT = re.compile(r"/(zaken|documenten|besluiten)/api/v1/([a-z]+)/([0-9a-f-]{36})")
router = APIRouter(dependencies=[Depends(authenticate)])


def create_table(database: Database) -> None:
    database.conn.execute(
        "CREATE TABLE IF NOT EXISTS audittrail (seq INTEGER PRIMARY KEY AUTOINCREMENT, hoofd TEXT NOT NULL, "
        "resource TEXT NOT NULL, method TEXT NOT NULL, status INTEGER NOT NULL, toelichting TEXT, user_id TEXT, "
        "user_representation TEXT, at TEXT NOT NULL)")
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
        hoofd = None
        try:
            document = json.loads(bytes(body)) if body else None
        except ValueError:
            document = None
        if isinstance(document, dict):
            resource = str(document.get("url") or resource)
            for field in ("zaak", "besluit", "informatieobject"):
                if isinstance(document.get(field), str):
                    hoofd = _key(document[field])
                    break
        hoofd = hoofd or _key(resource)
        if hoofd is None:
            return
        headers = dict(scope.get("headers") or [])
        claims = _claims(headers)
        self.database.conn.execute(
            "INSERT INTO audittrail (hoofd, resource, method, status, toelichting, user_id, user_representation, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (hoofd, resource, scope["method"], status,
             headers.get(b"x-audit-toelichting", b"").decode("latin-1") or None,
             str(claims.get("user_id") or "") or None, str(claims.get("user_representation") or "") or None,
             dt.datetime.now(dt.UTC).isoformat()))


@router.get("/zaken/api/v1/zaken/{uuid}/audittrail", tags=["zaken"])
async def zaak_audittrail(uuid: str, request: Request) -> list[dict[str, Any]]:
    database: Database = request.app.state.zgw.db
    rows = database.conn.execute(
        "SELECT resource, method, status, toelichting, user_id, user_representation, at FROM audittrail "
        "WHERE hoofd = ? ORDER BY seq", (f"zaken/zaken/{uuid}",)).fetchall()
    return [{"resourceUrl": r[0], "actie": r[1], "resultaat": r[2], "toelichting": r[3], "gebruikersId": r[4],
             "gebruikersWeergave": r[5], "aanmaakdatum": r[6]} for r in rows]
