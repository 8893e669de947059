"""Cross-cutting behaviour: JWT auth, problem documents, pagination, URL building under a mount prefix, Crs
headers, media types and the published OpenAPI documents."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from stuf_bridge.zgw_embedded import EmbeddedConfig, create_app

from .conftest import BASE, CLIENT_ID, RSIN, SECRET, Zgw, make_token

ZAAKTYPEN = "catalogi/api/v1/zaaktypen"


def client(app: Any, token: str | None, **headers: str) -> httpx.AsyncClient:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers)


async def status_and_code(app: Any, token: str | None, path: str = ZAAKTYPEN, **headers: str) -> tuple[int, str]:
    async with client(app, token, **headers) as c:
        response = await c.get(path)
    return response.status_code, response.json().get("code", "") if response.status_code != 200 else ""


# --- authentication ---------------------------------------------------------------------------------------------
async def test_valid_token_is_accepted(app: Any) -> None:
    assert await status_and_code(app, make_token()) == (200, "")


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (None, "permission_denied"),
        ("not-a-jwt", "jwt-decode-error"),
        (make_token(client_id="someone-else"), "invalid-client-identifier"),
        (make_token(secret="a-different-secret-that-is-also-long-enough"), "invalid-jwt-signature"),
        (jwt.encode({"iss": "x", "iat": int(time.time())}, SECRET, algorithm="HS256"), "missing-client-identifier"),
        (make_token(iat=int(time.time()) + 3600), "jwt-iat-in-future"),
        (make_token(iat=int(time.time()) - 7200), "jwt-expired"),
    ],
    ids=["missing", "garbage", "unknown-client", "wrong-secret", "no-client-id", "iat-future", "expired"],
)
async def test_bad_tokens_are_refused_with_403_as_open_zaak(app: Any, token: str | None, code: str) -> None:
    assert await status_and_code(app, token) == (403, code)


async def test_missing_iat_is_refused(app: Any) -> None:
    token = jwt.encode({"client_id": CLIENT_ID, "user_id": "x", "user_representation": "x"}, SECRET,
                       algorithm="HS256")
    assert await status_and_code(app, token) == (403, "jwt-missing-iat-claim")


async def test_iat_within_leeway_is_accepted(app: Any) -> None:
    assert await status_and_code(app, make_token(iat=int(time.time()) + 30)) == (200, "")


async def test_extra_clients_are_accepted(config: EmbeddedConfig) -> None:
    other_secret = "another-secret-for-the-second-client-0123"
    app = create_app(replace(config, extra_clients={"second": other_secret}))
    assert await status_and_code(app, make_token(client_id="second", secret=other_secret)) == (200, "")


async def test_bearer_scheme_is_required(app: Any) -> None:
    async with client(app, None, Authorization=f"Token {make_token()}") as c:
        assert (await c.get(ZAAKTYPEN)).status_code == 403


# --- problem documents ------------------------------------------------------------------------------------------
async def test_problem_document_shape(zgw: Zgw) -> None:
    response = await zgw.post("zaken/api/v1/zaken", json={"bronorganisatie": "123"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "code", "title", "status", "detail", "instance", "invalidParams"}
    assert body["type"] == f"{BASE}/ref/fouten/ValidationError/"
    assert body["instance"].startswith("urn:uuid:")
    assert body["status"] == 400 and body["code"] == "invalid"
    codes = {(p["name"], p["code"]) for p in body["invalidParams"]}
    assert {("zaaktype", "required"), ("startdatum", "required"), ("verantwoordelijkeOrganisatie", "required")} <= codes
    assert all(set(p) == {"name", "code", "reason"} for p in body["invalidParams"])


@pytest.mark.parametrize("path", [
    "zaken/api/v1/zaken/7d0ee2f6-2bd8-4e5a-9a0b-6bd6f5c3c3a1",
    "zaken/api/v1/nothing-here",
    "documenten/api/v1/enkelvoudiginformatieobjecten/not-a-uuid",
    "catalogi/api/v1/zaaktypen/7d0ee2f6-2bd8-4e5a-9a0b-6bd6f5c3c3a1",
    "besluiten/api/v1/besluiten/7d0ee2f6-2bd8-4e5a-9a0b-6bd6f5c3c3a1",
])
async def test_unknown_urls_are_404_problems(zgw: Zgw, path: str) -> None:
    response = await zgw.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


async def test_method_not_allowed(zgw: Zgw) -> None:
    response = await zgw.delete("catalogi/api/v1/zaaktypen")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


async def test_unknown_query_parameters_are_refused(zgw: Zgw) -> None:
    response = await zgw.get("zaken/api/v1/zaken", params={"identifcatie": "typo"})
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["code"] == "unknown-parameters"


@pytest.mark.parametrize("path", [
    "zaken/api/v1/zaakinformatieobjecten", "besluiten/api/v1/besluitinformatieobjecten",
    "documenten/api/v1/objectinformatieobjecten", "documenten/api/v1/gebruiksrechten",
])
async def test_plain_array_lists_refuse_page(zgw: Zgw, path: str) -> None:
    """Without pages, ``page`` is an unknown parameter (vng-api-common knows it only with a paginator)."""
    assert await zgw.ok("GET", path) == []
    response = await zgw.get(path, params={"page": "1"})
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["code"] == "unknown-parameters"


async def test_nested_lists_refuse_unknown_parameters_and_unknown_parents(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    for nested in ("zaakeigenschappen", "besluiten"):
        assert await zgw.ok("GET", f"{zaak['url']}/{nested}") == []
        response = await zgw.get(f"{zaak['url']}/{nested}", params={"naam": "x"})
        assert response.json()["invalidParams"][0]["code"] == "unknown-parameters"
        missing = zaak["url"].rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
        assert (await zgw.get(f"{missing}/{nested}")).status_code == 404


async def test_null_characters_are_refused(zgw: Zgw) -> None:
    response = await zgw.post("zaken/api/v1/zaken", json={"omschrijving": "a\x00b"})
    codes = {p["name"]: p["code"] for p in response.json()["invalidParams"]}
    assert codes["omschrijving"] == "null_characters_not_allowed"


async def test_invalid_json_is_a_parse_error(zgw: Zgw) -> None:
    response = await zgw.post("zaken/api/v1/zaken", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["code"] == "parse_error"


async def test_other_media_types_are_415(zgw: Zgw) -> None:
    response = await zgw.post("zaken/api/v1/zaken", content=b"<xml/>", headers={"Content-Type": "application/xml"})
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"


async def test_api_version_header(zgw: Zgw) -> None:
    for path, version in (("zaken/api/v1/zaken", "1.5.1"), (ZAAKTYPEN, "1.3.1"),
                          ("documenten/api/v1/enkelvoudiginformatieobjecten", "1.4.3"),
                          ("besluiten/api/v1/besluiten", "1.1.0")):
        assert (await zgw.get(path)).headers["api-version"] == version


# --- Crs headers on the zaak endpoints --------------------------------------------------------------------------
async def test_zaken_need_accept_crs(app: Any) -> None:
    async with client(app, make_token()) as c:
        response = await c.get("zaken/api/v1/zaken")
        assert response.status_code == 412 and response.json()["code"] == "precondition_failed"
        response = await c.get("zaken/api/v1/zaken", headers={"Accept-Crs": "EPSG:28992"})
        assert response.status_code == 406
        response = await c.get("zaken/api/v1/zaken", headers={"Accept-Crs": "EPSG:4326"})
        assert response.status_code == 200 and response.headers["content-crs"] == "EPSG:4326"
        # other Zaken resources do not take geometry and need no Crs headers
        assert (await c.get("zaken/api/v1/statussen")).status_code == 200


async def test_writing_a_zaak_needs_content_crs(app: Any, zgw: Zgw) -> None:
    zaaktype = await zgw.zaaktype()
    body = {"zaaktype": zaaktype["url"], "bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN,
            "startdatum": "2024-03-01"}
    async with client(app, make_token(), **{"Accept-Crs": "EPSG:4326"}) as c:
        response = await c.post("zaken/api/v1/zaken", json=body)
        assert response.status_code == 412 and "Content-Crs" in response.json()["detail"]
        response = await c.post("zaken/api/v1/zaken", json=body, headers={"Content-Crs": "EPSG:4326"})
        assert response.status_code == 201 and response.headers["content-crs"] == "EPSG:4326"


# --- pagination -------------------------------------------------------------------------------------------------
async def test_pagination_with_absolute_links(config: EmbeddedConfig) -> None:
    app = create_app(replace(config, page_size=2))
    async with Zgw(app) as zgw:
        for i in range(5):
            await zgw.create_zaak(omschrijving=f"zaak {i}")
        first = await zgw.ok("GET", "zaken/api/v1/zaken", params={"bronorganisatie": RSIN})
        assert first["count"] == 5 and len(first["results"]) == 2 and first["previous"] is None
        assert first["next"] == f"{BASE}/zaken/api/v1/zaken?bronorganisatie={RSIN}&page=2"
        second = await zgw.ok("GET", first["next"])
        assert second["previous"] == f"{BASE}/zaken/api/v1/zaken?bronorganisatie={RSIN}"
        third = await zgw.ok("GET", second["next"])
        assert len(third["results"]) == 1 and third["next"] is None
        seen = [z["omschrijving"] for page in (first, second, third) for z in page["results"]]
        assert seen == [f"zaak {i}" for i in range(5)]
        for bad in ("4", "0", "x"):
            response = await zgw.get("zaken/api/v1/zaken", params={"page": bad})
            assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_page_size_is_100_by_default(zgw: Zgw) -> None:
    data = await zgw.ok("GET", "catalogi/api/v1/roltypen")
    assert data["count"] == 20 and len(data["results"]) == 20 and data["next"] is None


# --- URLs follow the request, including a mount prefix ----------------------------------------------------------
async def test_urls_use_the_mount_prefix_and_host(app: Any) -> None:
    outer = FastAPI()
    outer.mount("/zgw", app)
    async with Zgw(outer, base_url="http://gateway.example:8080", prefix="/zgw") as zgw:
        zaaktype = await zgw.zaaktype()
        assert zaaktype["url"].startswith("http://gateway.example:8080/zgw/catalogi/api/v1/zaaktypen/")
        zaak = await zgw.create_zaak()
        assert zaak["url"].startswith("http://gateway.example:8080/zgw/zaken/api/v1/zaken/")
        assert zaak["zaaktype"] == zaaktype["url"]
        read = await zgw.ok("GET", zaak["url"])
        assert read == zaak
        listed = await zgw.ok("GET", "zaken/api/v1/zaken")
        assert listed["results"][0]["url"] == zaak["url"]
        # a reference with the same path but another host or without the prefix is not ours
        wrong_host = zaaktype["url"].replace("gateway.example:8080", "elsewhere.example")
        no_prefix = zaaktype["url"].replace("/zgw/", "/")
        for url in (wrong_host, no_prefix):
            response = await zgw.post("zaken/api/v1/zaken", json={
                "zaaktype": url, "bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN,
                "startdatum": "2024-03-01"})
            assert response.json()["invalidParams"][0]["code"] == "bad-url"
        problem = (await zgw.get("zaken/api/v1/zaken/00000000-0000-0000-0000-000000000000")).json()
        assert problem["type"] == "http://gateway.example:8080/zgw/ref/fouten/NotFound/"


async def test_the_same_store_serves_any_host(app: Any) -> None:
    async with Zgw(app, base_url="http://one.test") as one, Zgw(app, base_url="https://two.test") as two:
        zaak = await one.create_zaak()
        seen = await two.ok("GET", zaak["url"].replace("http://one.test", "https://two.test"))
        assert seen["url"].startswith("https://two.test/zaken/api/v1/zaken/")
        assert seen["zaaktype"].startswith("https://two.test/catalogi/")


# --- OpenAPI ----------------------------------------------------------------------------------------------------
async def test_openapi_documents_are_published(app: Any) -> None:
    async with client(app, None) as c:
        full = (await c.get("/openapi.json")).json()
        assert "/zaken/api/v1/zaken" in full["paths"]
        assert "EioBody" in full["components"]["schemas"]
        for api, sample in (("zaken", "/statussen"), ("documenten", "/bestandsdelen/{uuid}"),
                            ("catalogi", "/zaaktypen"), ("besluiten", "/besluiten")):
            doc = (await c.get(f"/{api}/api/v1/schema/openapi.json")).json()
            assert doc["servers"] == [{"url": f"{BASE}/{api}/api/v1"}]
            assert sample in doc["paths"]
            assert all(not p.startswith(f"/{api}/api/v1") for p in doc["paths"])


async def test_head_is_get_without_a_body(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    response = await zgw.head(zaak["url"])
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) > 0 and response.headers["api-version"] == "1.5.1"
    assert (await zgw.head(zaak["url"][:-4] + "0000")).status_code == 404


async def test_etag_and_if_none_match(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    first = await zgw.get(zaak["url"])
    etag = first.headers["etag"]
    assert etag.startswith('"') and (await zgw.get(zaak["url"])).headers["etag"] == etag
    unchanged = await zgw.get(zaak["url"], headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    await zgw.ok("PATCH", zaak["url"], json={"omschrijving": "gewijzigd"})
    changed = await zgw.get(zaak["url"], headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "etag" not in (await zgw.get("zaken/api/v1/zaken")).headers


async def test_the_app_survives_its_lifespan_running_twice(app: Any) -> None:
    for _ in range(2):
        async with app.router.lifespan_context(app), Zgw(app) as zgw:
            assert (await zgw.zaaktype())["identificatie"] == "MELDING-OR"
    async with Zgw(app) as zgw:  # and after shutdown, a late request still gets an answer
        assert (await zgw.zaaktype())["identificatie"] == "MELDING-OR"
