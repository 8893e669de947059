"""OAuth2 client-credentials tokens towards ZGW (zgw_oauth2), next to the HS256 JWT: fetched once, reused by every
API until shortly before they expire, renewed then; a refused token request is the gateway's auth error."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import parse_qs

import httpx
import pytest

from stuf_bridge.security.config import OAuth2Settings
from stuf_bridge.settings import Settings
from stuf_bridge.zgw import ZgwAuthError

from .conftest import BASE, MakeClients

TOKEN_URL = "https://auth.test/realms/zgw/protocol/openid-connect/token"


def _oauth2(zgw_settings: Settings, **more: object) -> Settings:
    oauth2 = OAuth2Settings.model_validate({"token_url": TOKEN_URL, "client_id": "stuf-bridge",
                                            "client_secret": "oauth-geheim", "scope": "zaken", **more})
    return zgw_settings.model_copy(update={"zgw_oauth2": oauth2, "zgw_get_retries": 0})


async def test_one_token_for_every_api_and_renewed_when_expiring(make_clients: MakeClients,
                                                                 zgw_settings: Settings) -> None:
    tokens: list[dict[str, list[str]]] = []
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            assert request.headers["authorization"] == "Basic " + base64.b64encode(b"stuf-bridge:oauth-geheim").decode()
            tokens.append(parse_qs(request.content.decode()))
            return httpx.Response(200, json={"access_token": f"t{len(tokens)}", "expires_in": 31,
                                             "token_type": "Bearer"})
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"url": str(request.url)})

    zgw = make_clients(handler, _oauth2(zgw_settings))
    await asyncio.gather(zgw.get(f"{BASE}/zaken/api/v1/zaken/a"), zgw.get(f"{BASE}/documenten/api/v1/x/b"),
                         zgw.get(f"{BASE}/catalogi/api/v1/zaaktypen/c"))
    assert len(tokens) == 1 and tokens[0]["grant_type"] == ["client_credentials"] and tokens[0]["scope"] == ["zaken"]
    assert seen == ["Bearer t1"] * 3
    # expires_in 31 s: renewed 30 s early, so at once here
    await asyncio.sleep(1.1)
    await zgw.get(f"{BASE}/zaken/api/v1/zaken/a")
    assert len(tokens) == 2 and seen[-1] == "Bearer t2"


async def test_a_refused_token_request_is_an_auth_error(make_clients: MakeClients, zgw_settings: Settings) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return httpx.Response(401, json={"error": "invalid_client"})
        raise AssertionError("no API call without a token")

    zgw = make_clients(handler, _oauth2(zgw_settings))
    with pytest.raises(ZgwAuthError):
        await zgw.get(f"{BASE}/zaken/api/v1/zaken/a")


def test_exactly_one_secret() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        OAuth2Settings.model_validate({"token_url": TOKEN_URL, "client_id": "x"})
