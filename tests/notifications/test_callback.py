"""The callback ``/notificaties/callback``: who may call it, the test kanaal, bad bodies and the deduplicating inbox."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from stuf_bridge.notifications.store import NotificationStore
from stuf_bridge.settings import Settings
from stuf_bridge.store import create_store

FIXED = "Token 0123456789abcdef"
CLIENT, SECRET = "open-notificaties", "a-secret-that-is-long-enough-for-hs256-signing"
NOTIFICATION = {
    "kanaal": "zaken", "hoofdObject": "http://zgw.test/zaken/api/v1/zaken/1", "resource": "status",
    "resourceUrl": "http://zgw.test/zaken/api/v1/statussen/1", "actie": "create",
    "aanmaakdatum": "2024-03-01T10:00:00Z", "kenmerken": {"bronorganisatie": "002564440", "zaaktype": "http://x/1"},
}


def token(client_id: str = CLIENT, secret: str = SECRET) -> str:
    payload = {"iss": client_id, "client_id": client_id, "iat": int(time.time()), "user_id": "",
               "user_representation": ""}
    return f"Bearer {jwt.encode(payload, secret, algorithm='HS256')}"


@pytest.fixture
def notify_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(notifications={"callback_auth": FIXED, "callback_client_id": CLIENT,
                                        "callback_secret": SECRET})


async def inbox_rows(settings: Settings) -> list[Any]:
    async with create_store(settings.store_url) as store:
        return await NotificationStore(store).due(older_than=dt.timedelta(0))


@pytest.mark.parametrize(("authorization", "status"), [
    (None, 403),
    ("", 403),
    ("Token wrong", 403),
    (FIXED + " ", 403),
    (FIXED, 204),
    ("jwt", 204),
    ("jwt-other-secret", 403),
    ("jwt-other-client", 403),
    ("Bearer not-a-jwt", 403),
])
async def test_only_the_abonnement_auth_or_a_jwt_of_the_client_gets_in(
        make_client: Callable[..., Any], notify_settings: Settings, authorization: str | None, status: int) -> None:
    client: httpx.AsyncClient = await make_client(notify_settings)
    value = {"jwt": token(), "jwt-other-secret": token(secret="another-secret-that-is-long-enough-too"),
             "jwt-other-client": token(client_id="someone-else")}.get(authorization or "", authorization)
    headers = {"Authorization": value} if value is not None else {}
    answer = await client.post("/notificaties/callback", json=NOTIFICATION, headers=headers)
    assert answer.status_code == status, answer.text
    assert len(await inbox_rows(notify_settings)) == (1 if status == 204 else 0)


async def test_kanaal_test_is_answered_at_once_and_stored_nowhere(
        make_client: Callable[..., Any], notify_settings: Settings) -> None:
    client: httpx.AsyncClient = await make_client(notify_settings)
    test = {"kanaal": "test", "hoofdObject": "http://example.com", "resource": "test",
            "resourceUrl": "http://example.com", "actie": "test", "aanmaakdatum": "2024-03-01T10:00:00Z"}
    answer = await client.post("/notificaties/callback", json=test, headers={"Authorization": FIXED})
    assert answer.status_code == 204
    assert (await client.post("/notificaties/callback", json=test)).status_code == 403  # TEST_CALLBACK_AUTH
    assert await inbox_rows(notify_settings) == []


@pytest.mark.parametrize(("body", "reason"), [
    (b"not json", "geen JSON"),
    (b"[1, 2]", "geen JSON-object"),
    (b'{"kanaal": "zaken"}', "hoofdObject"),
    (b'{"kanaal": "zaken", "hoofdObject": "h", "resource": "r", "resourceUrl": "u", "actie": "create", '
     b'"aanmaakdatum": "d", "kenmerken": [1]}', "kenmerken"),
])
async def test_a_body_that_is_no_notification_is_refused_naming_why(
        make_client: Callable[..., Any], notify_settings: Settings, body: bytes, reason: str) -> None:
    client: httpx.AsyncClient = await make_client(notify_settings)
    answer = await client.post("/notificaties/callback", content=body,
                               headers={"Authorization": FIXED, "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert reason in answer.json()["detail"]


async def test_a_repeated_notification_is_stored_once(
        make_client: Callable[..., Any], notify_settings: Settings) -> None:
    client: httpx.AsyncClient = await make_client(notify_settings)
    for _ in range(3):
        answer = await client.post("/notificaties/callback", json=NOTIFICATION, headers={"Authorization": FIXED})
        assert answer.status_code == 204
    other = {**NOTIFICATION, "aanmaakdatum": "2024-03-01T10:00:01Z"}
    answer = await client.post("/notificaties/callback", json=other, headers={"Authorization": FIXED})
    assert answer.status_code == 204
    rows = await inbox_rows(notify_settings)
    assert [r.notification.aanmaakdatum for r in rows] == ["2024-03-01T10:00:00Z", "2024-03-01T10:00:01Z"]
    assert rows[0].notification.kenmerken == NOTIFICATION["kenmerken"]


async def test_without_any_auth_configured_nobody_gets_in(
        make_client: Callable[..., Any], make_settings: Callable[..., Settings]) -> None:
    client: httpx.AsyncClient = await make_client(make_settings())
    answer = await client.post("/notificaties/callback", json=NOTIFICATION, headers={"Authorization": "Bearer x"})
    assert answer.status_code == 403
