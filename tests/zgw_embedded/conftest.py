"""Fixtures for the embedded ZGW backend: a seeded app in a temporary data dir and an authenticated client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio

from stuf_bridge.zgw_embedded import DEMO_CATALOGUE, EmbeddedConfig, create_app

CLIENT_ID = "test-client"
SECRET = "test-secret-that-is-long-enough-for-hs256"
RSIN = "002564440"  # passes the 11-test
OTHER_RSIN = "517439943"
BASE = "http://zgw.test"


def make_token(client_id: str = CLIENT_ID, secret: str = SECRET, **claims: Any) -> str:
    payload = {"iss": client_id, "iat": int(time.time()), "client_id": client_id, "user_id": "tester",
               "user_representation": "Tester", **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


class Zgw(httpx.AsyncClient):
    """An authenticated client with the Crs headers the Zaken API wants, plus shortcuts to the demo catalogue."""

    def __init__(self, app: Any, base_url: str = BASE, prefix: str = "") -> None:
        super().__init__(
            transport=httpx.ASGITransport(app=app),
            base_url=base_url + prefix,
            headers={"Authorization": f"Bearer {make_token()}", "Accept-Crs": "EPSG:4326",
                     "Content-Crs": "EPSG:4326"},
        )
        self.root = base_url + prefix + "/"

    def url(self, path: str) -> str:
        return self.root + path.lstrip("/")

    async def ok(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = await self.request(method, path if path.startswith("http") else self.url(path), **kwargs)
        assert response.status_code == expect, (response.status_code, response.text)
        return response.json() if response.content else None

    async def one(self, path: str, **params: Any) -> dict[str, Any]:
        data = await self.ok("GET", path, params=params)
        results = data["results"] if isinstance(data, dict) else data
        assert len(results) == 1, results
        return results[0]

    async def zaaktype(self, identificatie: str = "MELDING-OR") -> dict[str, Any]:
        return await self.one("catalogi/api/v1/zaaktypen", identificatie=identificatie)

    async def catalogus_item(self, collection: str, zaaktype: dict[str, Any], **match: Any) -> dict[str, Any]:
        data = await self.ok("GET", f"catalogi/api/v1/{collection}", params={"zaaktype": zaaktype["url"]})
        for item in data["results"]:
            if all(item.get(k) == v for k, v in match.items()):
                return item
        raise AssertionError(f"no {collection} with {match}")

    async def iot(self, omschrijving: str) -> dict[str, Any]:
        return await self.one("catalogi/api/v1/informatieobjecttypen", omschrijving=omschrijving)

    async def create_zaak(self, zaaktype: str = "MELDING-OR", **fields: Any) -> dict[str, Any]:
        zt = await self.zaaktype(zaaktype)
        body = {"zaaktype": zt["url"], "bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN,
                "startdatum": "2024-03-01", **fields}
        return await self.ok("POST", "zaken/api/v1/zaken", 201, json=body)

    async def create_document(self, titel: str = "Melding", iot: str = "Melding", content: bytes | None = b"hallo",
                              **fields: Any) -> dict[str, Any]:
        import base64

        iot_doc = await self.iot(iot)
        body = {"bronorganisatie": RSIN, "creatiedatum": "2024-03-01", "titel": titel, "auteur": "Tester",
                "taal": "nld", "informatieobjecttype": iot_doc["url"], "bestandsnaam": "melding.txt",
                "formaat": "text/plain", **fields}
        if content is not None and "inhoud" not in fields:
            body["inhoud"] = base64.b64encode(content).decode()
        return await self.ok("POST", "documenten/api/v1/enkelvoudiginformatieobjecten", 201, json=body)


@pytest.fixture
def config(tmp_path: Path) -> EmbeddedConfig:
    return EmbeddedConfig(data_dir=tmp_path / "data", client_id=CLIENT_ID, secret=SECRET, seed_file=DEMO_CATALOGUE,
                          upload_chunk_size=1024 * 1024)


@pytest.fixture
def app(config: EmbeddedConfig) -> Any:
    return create_app(config)


@pytest_asyncio.fixture
async def zgw(app: Any) -> AsyncIterator[Zgw]:
    async with Zgw(app) as client:
        yield client
