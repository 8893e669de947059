"""ZGW GETs tried again after a connection error or 502/503/504 (tenacity, short backoff); writes never; and the
audit attribution every write carries (X-Audit-Toelichting, optionally the JWT's user)."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from stuf_bridge.security.audit import Acting, acting
from stuf_bridge.settings import Settings
from stuf_bridge.zgw import ZgwServerError, ZgwUnavailable

from .conftest import BASE, MakeClients

URL = f"{BASE}/zaken/api/v1/zaken/abc"


def _settings(zgw_settings: Settings, **update: Any) -> Settings:
    return zgw_settings.model_copy(update={"zgw_retry_backoff_seconds": 0.001, **update})


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_a_get_is_tried_again_after_a_gateway_error(make_clients: MakeClients, zgw_settings: Settings,
                                                          status: int) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) < 3:
            return httpx.Response(status, json={"detail": "even niet"})
        return httpx.Response(200, json={"url": URL})

    zgw = make_clients(handler, _settings(zgw_settings))
    assert (await zgw.get(URL))["url"] == URL
    assert seen == ["GET", "GET", "GET"]


async def test_a_get_gives_up_after_its_retries(make_clients: MakeClients, zgw_settings: Settings) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        raise httpx.ConnectError("refused", request=request)

    zgw = make_clients(handler, _settings(zgw_settings, zgw_get_retries=2))
    with pytest.raises(ZgwUnavailable):
        await zgw.get(URL)
    assert len(seen) == 3


@pytest.mark.parametrize("status", [500, 400, 404])
async def test_other_answers_are_not_tried_again(make_clients: MakeClients, zgw_settings: Settings,
                                                 status: int) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(status, json={"detail": "nee"})

    zgw = make_clients(handler, _settings(zgw_settings))
    with pytest.raises(Exception):  # noqa: B017 (the error class per status is tests/zgw_client's concern)
        await zgw.get(URL)
    assert seen == ["GET"]


async def test_writes_are_never_tried_again(make_clients: MakeClients, zgw_settings: Settings) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(503, json={"detail": "even niet"})

    zgw = make_clients(handler, _settings(zgw_settings))
    with pytest.raises(ZgwServerError):
        await zgw.zaken.create("zaken", {"omschrijving": "x"})
    assert seen == ["POST"]


async def test_writes_carry_who_they_are_for(make_clients: MakeClients, zgw_settings: Settings) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(201 if request.method == "POST" else 200, json={"url": URL})

    zgw = make_clients(handler, _settings(zgw_settings, zgw_audit_user=True))
    who = Acting("creeerZaak", "0363/Open Formulieren", "ref-7", "jan.jansen", "portaal")
    with acting(who):
        await zgw.zaken.create("zaken", {"omschrijving": "x"})
        await zgw.get(URL)
    await zgw.zaken.create("zaken", {"omschrijving": "buiten een bericht"})
    post, get, outside = requests
    assert post.headers["x-audit-toelichting"] == (
        "stuf-bridge creeerZaak; zender 0363/Open Formulieren; referentienummer ref-7; gebruiker jan.jansen; "
        "client portaal")
    claims = jwt.decode(post.headers["authorization"][7:], options={"verify_signature": False})
    assert (claims["user_id"], claims["user_representation"]) == ("jan.jansen", "0363/Open Formulieren")
    assert "x-audit-toelichting" not in get.headers
    assert "x-audit-toelichting" not in outside.headers
    claims = jwt.decode(outside.headers["authorization"][7:], options={"verify_signature": False})
    assert claims["user_id"] == "svc-stuf"


def test_the_toelichting_is_a_safe_header_value() -> None:
    who = Acting("creeerZaak", "0363/Gemeenté\r\nX-Evil: 1", "r", None, None)
    text = who.toelichting()
    assert "\r" not in text and "\n" not in text
    assert "Gemeente??X-Evil" in text
