"""``POST /notificaties/callback``: where the Notificaties API (and the embedded backend) delivers notifications.

* 403 unless ``Authorization`` is the abonnement's ``auth`` value (``notifications.callback_auth``, compared in
  constant time), or a ZGW JWT (HS256) signed with ``notifications.callback_secret`` for
  ``notifications.callback_client_id`` — Open Notificaties may send either;
* 204 at once for ``kanaal: test`` (the check the Notificaties API makes when an abonnement is registered);
* 400 with the reason for a body that is no notification;
* otherwise the notification is written to the inbox (a repeat is stored once) and 204 is answered after the
  commit. Nothing else happens here: the worker (``processor.py``) does the rest, so the Notificaties API never
  waits for ZGW or a legacy system.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from typing import Any

import jwt
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..store import StoreError
from .config import NotificationSettings
from .store import Notification, NotificationStore

log = structlog.get_logger(__name__)

MAX_BODY = 256 * 1024
_REQUIRED = ("kanaal", "hoofdObject", "resource", "resourceUrl", "actie", "aanmaakdatum")


class Callback:
    """The callback's checks and its write to the inbox. ``extra_auth``: more accepted Authorization values (the
    token the embedded backend is given for this gateway's own callback)."""

    def __init__(self, settings: NotificationSettings, inbox: NotificationStore, extra_auth: Sequence[str] = ()):
        self.settings = settings
        self.inbox = inbox
        self.accepted = [v for v in (*extra_auth, settings.callback_auth.get_secret_value()
                                     if settings.callback_auth else None) if v]
        self.jwt_secret = settings.callback_secret.get_secret_value() if settings.callback_secret else None

    def authorized(self, header: str | None) -> bool:
        if not header:
            return False
        if any(hmac.compare_digest(header.encode(), value.encode()) for value in self.accepted):
            return True
        if self.jwt_secret is None or not header.lower().startswith("bearer "):
            return False
        try:
            claims = jwt.decode(header[7:].strip(), self.jwt_secret, algorithms=["HS256"],
                                options={"require": ["iat"], "verify_iat": False}, leeway=60)
        except jwt.PyJWTError:
            return False
        client = claims.get("client_id") or claims.get("iss")
        return client == self.settings.callback_client_id

    async def __call__(self, request: Request) -> Response:
        if not self.authorized(request.headers.get("authorization")):
            return JSONResponse({"detail": "Authorization ontbreekt of klopt niet"}, status_code=403)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY:
                return _bad(f"notificatie groter dan {MAX_BODY} bytes")
        try:
            data = json.loads(bytes(body))
        except ValueError:
            return _bad("geen JSON")
        if not isinstance(data, dict):
            return _bad("geen JSON-object")
        if data.get("kanaal") == "test":
            return Response(status_code=204)
        try:
            notification = parse(data)
        except ValueError as exc:
            return _bad(str(exc))
        try:
            new = await self.inbox.receive(notification)
        except StoreError as exc:  # the Notificaties API retries: nothing is lost
            log.error("notification_not_stored", error=str(exc), resource_url=notification.resource_url)
            return JSONResponse({"detail": "notificatie niet opgeslagen; probeer later opnieuw"}, status_code=503)
        log.info("notification_received", kanaal=notification.kanaal, resource=notification.resource,
                 actie=notification.actie, hoofd_object=notification.hoofd_object, repeat=not new or None)
        return Response(status_code=204)


def parse(data: dict[str, Any]) -> Notification:
    """A notification from its JSON; ValueError naming what is missing or wrong."""
    missing = [name for name in _REQUIRED if not isinstance(data.get(name), str) or not data[name]]
    if missing:
        raise ValueError(f"verplichte velden ontbreken of zijn geen tekst: {', '.join(missing)}")
    kenmerken = data.get("kenmerken") or {}
    if not isinstance(kenmerken, dict):
        raise ValueError("kenmerken is geen object")
    return Notification(data["kanaal"], data["hoofdObject"], data["resource"], data["resourceUrl"], data["actie"],
                        data["aanmaakdatum"], {str(k): str(v) for k, v in kenmerken.items()})


def _bad(reason: str) -> Response:
    return JSONResponse({"detail": reason}, status_code=400)
