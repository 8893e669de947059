"""``stuf-bridge notifications subscribe``: one abonnement at a Notificaties API (Open Notificaties), idempotent.

The abonnement has callback ``{public_url}/notificaties/callback``, ``auth`` the literal Authorization value of
``notifications.callback_auth``, and the kanalen of ``notifications.kanalen`` — filtered on ``bronorganisatie``
(besluiten: ``verantwoordelijke_organisatie``) when ``notifications.bronorganisatie`` is set. An abonnement with the
same callback URL is updated (PUT) rather than a second one created; the Notificaties API itself checks the callback
when it stores the abonnement (a ``kanaal: test`` notification with the auth must get 204).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ..settings import Settings
from ..zgw.auth import JwtAuth

# the kenmerk each kanaal is filtered on for "our" organisation (Open Zaak's kanalen, SIDE-BY-SIDE B.2)
_ORGANISATION_KENMERK = {"zaken": "bronorganisatie", "documenten": "bronorganisatie",
                         "besluiten": "verantwoordelijke_organisatie"}


class SubscribeError(Exception):
    """The abonnement could not be made; the message says why."""


@dataclass(frozen=True)
class Subscribed:
    action: str  # created | updated
    url: str
    callback: str
    kanalen: list[dict[str, Any]]


def abonnement(settings: Settings) -> dict[str, Any]:
    """The abonnement to register, from the settings (SubscribeError naming what is missing)."""
    config = settings.notifications
    missing = [name for name, value in (("public_url", settings.public_url), ("notifications.nrc_url", config.nrc_url),
                                        ("notifications.callback_auth", config.callback_auth)) if not value]
    if missing:
        raise SubscribeError(f"stel eerst in: {', '.join(missing)}")
    assert settings.public_url is not None and config.callback_auth is not None
    kanalen = []
    for naam in config.kanalen:
        kenmerk = _ORGANISATION_KENMERK.get(naam)
        filters = {kenmerk: config.bronorganisatie} if kenmerk and config.bronorganisatie else {}
        kanalen.append({"naam": naam, "filters": filters})
    return {"callbackUrl": f"{settings.public_url.rstrip('/')}/notificaties/callback",
            "auth": config.callback_auth.get_secret_value(), "kanalen": kanalen}


async def subscribe(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Subscribed:
    config = settings.notifications
    wanted = abonnement(settings)
    assert config.nrc_url is not None
    root = config.nrc_url.rstrip("/")
    auth = None
    if config.nrc_client_id:
        auth = JwtAuth(config.nrc_client_id, config.nrc_secret.get_secret_value() if config.nrc_secret else "",
                       user_representation="stuf-bridge")
    async with httpx.AsyncClient(auth=auth, timeout=30, transport=transport) as client:
        try:
            existing = [a for a in await _all(client, f"{root}/abonnement")
                        if str(a.get("callbackUrl", "")).rstrip("/") == wanted["callbackUrl"]]
            if existing:
                url = str(existing[0]["url"])
                answer = await client.put(url, json=wanted)
                action = "updated"
            else:
                answer = await client.post(f"{root}/abonnement", json=wanted)
                action = "created"
        except httpx.HTTPError as exc:
            raise SubscribeError(f"Notificaties API {root} niet bereikbaar: {type(exc).__name__}: {exc}") from exc
        if not answer.is_success:
            raise SubscribeError(f"Notificaties API weigerde het abonnement: HTTP {answer.status_code}: "
                                 f"{_detail(answer)}")
        body = answer.json() if answer.content else {}
        return Subscribed(action, str(body.get("url") or (existing[0]["url"] if existing else "")),
                          wanted["callbackUrl"], wanted["kanalen"])


async def _all(client: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Every abonnement (a plain list in Notificaties API 1.0; paginated results are followed too)."""
    found: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        answer = await client.get(next_url)
        if not answer.is_success:
            raise SubscribeError(f"abonnementen opvragen bij {url}: HTTP {answer.status_code}: {_detail(answer)}")
        data = answer.json()
        if isinstance(data, list):
            return found + data
        found += data.get("results", [])
        next_url = data.get("next")
    return found


def _detail(answer: httpx.Response) -> str:
    try:
        data = answer.json()
    except ValueError:
        return answer.text[:300]
    if isinstance(data, dict):
        params = data.get("invalidParams") or data.get("invalid_params") or []
        reasons = "; ".join(f"{p.get('name')}: {p.get('reason')}" for p in params if isinstance(p, dict))
        return str(data.get("detail") or data.get("title") or "") + (f" ({reasons})" if reasons else "")
    return str(data)[:300]
