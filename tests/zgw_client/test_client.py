"""ZgwClients over httpx.MockTransport: JWT, headers, URLs, CRUD helpers, pagination, download, bestandsdelen."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from stuf_bridge.settings import Settings
from stuf_bridge.zgw import (
    JwtAuth,
    ZgwBadResponse,
    ZgwClients,
    ZgwError,
    ZgwNotFound,
    record_zgw_calls,
)
from stuf_bridge.zgw.client import ZgwApiClient, _proxied, _with_params

from .conftest import MakeClients
from .fakes import BASE

SECRET = "s3cret-s3cret-s3cret-s3cret-s3cret!"


def claims_of(request: httpx.Request, secret: str = SECRET) -> dict[str, Any]:
    scheme, token = request.headers["Authorization"].split(" ", 1)
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    return jwt.decode(token, secret, algorithms=["HS256"])


def ok(body: Any = None, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body if body is not None else {"url": str(request.url)})

    return handler


# --- JWT ------------------------------------------------------------------------------------------------------


async def test_jwt_claims(make_clients: MakeClients) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    zgw = make_clients(handler)
    await zgw.zaken.get("zaken/1")
    claims = claims_of(seen[0])
    assert claims["iss"] == "gateway"
    assert claims["client_id"] == "gateway"
    assert claims["user_id"] == "svc-stuf"
    assert claims["user_representation"] == "StUF-bridge"
    assert isinstance(claims["iat"], int)
    assert set(claims) == {"iss", "iat", "client_id", "user_id", "user_representation"}


async def test_jwt_is_cached_and_renewed() -> None:
    now = [1_700_000_000.0]
    auth = JwtAuth("gateway", SECRET, user_id="u", user_representation="U", renew_after=300, clock=lambda: now[0])
    first = auth.token()
    now[0] += 299
    assert auth.token() == first and auth.issued == 1
    now[0] += 1
    renewed = auth.token()
    assert renewed != first and auth.issued == 2
    assert jwt.decode(renewed, SECRET, algorithms=["HS256"])["iat"] == 1_700_000_300
    now[0] -= 10  # clock went back: never hand out a token from the future
    assert auth.token() != renewed and auth.issued == 3


async def test_jwt_renewal_on_the_wire(make_clients: MakeClients) -> None:
    now = [1_700_000_000.0]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    zgw = make_clients(handler, jwt_renew_after=60, clock=lambda: now[0])
    for _ in range(3):
        await zgw.zaken.get("zaken/1")
    now[0] += 61
    await zgw.documenten.get("enkelvoudiginformatieobjecten/1")
    iats = [claims_of(r)["iat"] for r in seen]
    assert iats == [1_700_000_000] * 3 + [1_700_000_061]


async def test_credentials_per_api(make_clients: MakeClients, make_settings: Callable[..., Settings]) -> None:
    other = "another-secret-another-secret-12345"
    settings = make_settings(
        zgw_url=BASE,
        zgw_client_id="gateway",
        zgw_secret=SECRET,
        zgw_credentials={"documenten": {"client_id": "docs", "secret": other}},
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    zgw = make_clients(handler, settings)
    await zgw.zaken.get("zaken/1")
    await zgw.documenten.get("enkelvoudiginformatieobjecten/1")
    assert claims_of(seen[0])["client_id"] == "gateway"
    assert claims_of(seen[1], other)["client_id"] == "docs"
    assert claims_of(seen[1], other)["iss"] == "docs"


# --- headers, URLs --------------------------------------------------------------------------------------------


async def test_crs_headers_only_on_zaken(make_clients: MakeClients) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201 if request.method == "POST" else 200, json=[] if request.url.query else {})

    zgw = make_clients(handler)
    await zgw.zaken.create("zaken", {"identificatie": "1"})
    await zgw.zaken.list("zaken", {"identificatie": "1"})
    await zgw.documenten.get("enkelvoudiginformatieobjecten/1")
    await zgw.catalogi.get("zaaktypen/1")
    await zgw.besluiten.get("besluiten/1")
    for request in seen[:2]:
        assert request.headers["Accept-Crs"] == "EPSG:4326"
        assert request.headers["Content-Crs"] == "EPSG:4326"
    for request in seen[2:]:
        assert "Accept-Crs" not in request.headers and "Content-Crs" not in request.headers
    assert all(r.headers["Accept"] == "application/json" for r in seen)
    assert seen[0].headers["Content-Type"] == "application/json"
    assert [str(r.url) for r in seen] == [
        f"{BASE}/zaken/api/v1/zaken",
        f"{BASE}/zaken/api/v1/zaken?identificatie=1",
        f"{BASE}/documenten/api/v1/enkelvoudiginformatieobjecten/1",
        f"{BASE}/catalogi/api/v1/zaaktypen/1",
        f"{BASE}/besluiten/api/v1/besluiten/1",
    ]


async def test_urls_from_settings(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(zgw_url="https://oz.example.nl/", zgw_documenten_url="https://drc.example.nl/api/v1/")
    async with ZgwClients.from_settings(settings) as zgw:
        assert zgw.zaken.base_url == "https://oz.example.nl/zaken/api/v1"
        assert zgw.documenten.base_url == "https://drc.example.nl/api/v1"
        assert zgw.zaken.url("/zaken") == zgw.zaken.url("zaken") == "https://oz.example.nl/zaken/api/v1/zaken"
        assert zgw.for_url("https://drc.example.nl/api/v1/enkelvoudiginformatieobjecten/x") is zgw.documenten
        assert zgw.for_url("https://oz.example.nl/catalogi/api/v1/zaaktypen/x") is zgw.catalogi
        assert zgw.for_url("https://elders.example.nl/besluiten/api/v1/besluiten/x") is zgw.besluiten
        with pytest.raises(ValueError):
            zgw.for_url("https://elders.example.nl/something")
        timeout = zgw.zaken.http.timeout
        assert timeout.read == timeout.connect == settings.zgw_timeout


async def test_embedded_base(make_settings: Callable[..., Settings]) -> None:
    async with ZgwClients.from_settings(make_settings(), embedded_base="http://127.0.0.1:8080/zgw") as zgw:
        assert zgw.catalogi.base_url == "http://127.0.0.1:8080/zgw/catalogi/api/v1"
    with pytest.raises(ValueError):
        ZgwClients.from_settings(make_settings())


# --- CRUD -----------------------------------------------------------------------------------------------------


async def test_crud_helpers(make_clients: MakeClients) -> None:
    seen: list[tuple[str, str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path, body))
        if request.method == "DELETE":
            return httpx.Response(204)
        if request.url.path.endswith("/unlock"):
            return httpx.Response(204)
        return httpx.Response(201 if request.method == "POST" else 200, json={"url": str(request.url), **(body or {})})

    zgw = make_clients(handler)
    created = await zgw.zaken.create("zaken", {"omschrijving": "a"})
    assert created["omschrijving"] == "a"
    await zgw.zaken.update(created["url"], {"omschrijving": "b"})
    await zgw.zaken.patch(created["url"], {"toelichting": "c"})
    await zgw.zaken.delete(created["url"])
    assert (await zgw.documenten.post("enkelvoudiginformatieobjecten/1/lock"))["url"].endswith("/lock")
    assert await zgw.documenten.post("enkelvoudiginformatieobjecten/1/unlock", {"lock": "x"}) is None
    assert await zgw.get(f"{BASE}/besluiten/api/v1/besluiten/9") == {"url": f"{BASE}/besluiten/api/v1/besluiten/9"}
    assert [(m, p) for m, p, _ in seen] == [
        ("POST", "/zaken/api/v1/zaken"),
        ("PUT", "/zaken/api/v1/zaken"),
        ("PATCH", "/zaken/api/v1/zaken"),
        ("DELETE", "/zaken/api/v1/zaken"),
        ("POST", "/documenten/api/v1/enkelvoudiginformatieobjecten/1/lock"),
        ("POST", "/documenten/api/v1/enkelvoudiginformatieobjecten/1/unlock"),
        ("GET", "/besluiten/api/v1/besluiten/9"),
    ]
    assert seen[5][2] == {"lock": "x"}


async def test_non_json_success_is_bad_response(make_clients: MakeClients) -> None:
    zgw = make_clients(lambda request: httpx.Response(200, text="<html>hi</html>"))
    with pytest.raises(ZgwBadResponse, match=r"GET /zaken/api/v1/zaken/1 → 200 antwoord is geen JSON"):
        await zgw.zaken.get("zaken/1")
    zgw = make_clients(lambda request: httpx.Response(200, json=[1, 2]))
    with pytest.raises(ZgwBadResponse, match="JSON-object"):
        await zgw.zaken.get("zaken/1")


# --- pagination -----------------------------------------------------------------------------------------------


def paginated(total: int, size: int, next_base: str | None = None) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        start = (page - 1) * size
        items = [{"n": n} for n in range(start, min(total, start + size))]
        following = None
        if start + size < total:
            following = request.url.copy_merge_params({"page": page + 1})
            if next_base:
                following = following.copy_with(scheme="http", host=next_base, port=None)
        return httpx.Response(
            200,
            json={"count": total, "next": str(following) if following else None, "previous": None, "results": items},
        )

    return handler


async def test_pagination_three_pages(make_clients: MakeClients) -> None:
    seen: list[httpx.Request] = []
    pages = paginated(250, 100)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return pages(request)

    zgw = make_clients(handler)
    items = await zgw.zaken.list("rollen", {"zaak": "http://zgw.test/zaken/api/v1/zaken/1"})
    assert [item["n"] for item in items] == list(range(250))
    assert len(seen) == 3
    assert [r.url.params.get("page") for r in seen] == [None, "2", "3"]
    assert all(r.url.params["zaak"] == "http://zgw.test/zaken/api/v1/zaken/1" for r in seen)
    assert all("Authorization" in r.headers and r.headers["Accept-Crs"] == "EPSG:4326" for r in seen)

    seen.clear()
    assert len(await zgw.zaken.list("rollen", max_items=120)) == 120
    assert len(seen) == 2  # stops fetching once it has enough
    assert [item["n"] async for item in zgw.zaken.iterate("rollen")][-1] == 249


async def test_pagination_next_on_other_host_stays_on_ours(make_clients: MakeClients) -> None:
    seen: list[httpx.Request] = []
    pages = paginated(30, 10, next_base="internal-openzaak")

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return pages(request)

    zgw = make_clients(handler)
    assert len(await zgw.zaken.list("zaken")) == 30
    assert {r.url.host for r in seen} == {"zgw.test"}


async def test_pagination_loop_is_detected(make_clients: MakeClients) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"count": 9, "next": f"{BASE}/zaken/api/v1/zaken?page=2", "results": [{"n": 1}]}
        )

    zgw = make_clients(handler)
    with pytest.raises(ZgwBadResponse, match="paginering herhaalt"):
        await zgw.zaken.list("zaken")


async def test_plain_array_and_search(make_clients: MakeClients) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("_zoek"):
            return paginated(15, 10)(request)
        return httpx.Response(200, json=[{"n": 1}, {"n": 2}])

    zgw = make_clients(handler)
    assert await zgw.zaken.list("zaakinformatieobjecten", {"zaak": "z"}) == [{"n": 1}, {"n": 2}]
    assert len(await zgw.zaken.search("zaken/_zoek", {"zaaktype__in": ["a"]})) == 15
    posts = [r for r in seen if r.method == "POST"]
    assert len(posts) == 2 and all(json.loads(r.content) == {"zaaktype__in": ["a"]} for r in posts)


async def test_list_of_a_single_object_is_bad_response(make_clients: MakeClients) -> None:
    zgw = make_clients(ok({"url": "x"}))
    with pytest.raises(ZgwBadResponse, match="results"):
        await zgw.zaken.list("zaken/1")


# --- content --------------------------------------------------------------------------------------------------


async def test_stream_download(make_clients: MakeClients) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    seen: list[httpx.Request] = []

    async def chunks() -> Any:
        for start in range(0, len(payload), 65536):
            yield payload[start : start + 65536]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=chunks(), headers={"Content-Type": "application/octet-stream"})

    zgw = make_clients(handler)
    received = bytearray()
    parts = 0
    async with zgw.documenten.stream_download("enkelvoudiginformatieobjecten/1/download", {"versie": 2}) as response:
        async for chunk in response.aiter_bytes():
            received.extend(chunk)
            parts += 1
    assert bytes(received) == payload and parts > 1
    assert seen[0].url.params["versie"] == "2"
    assert "application/octet-stream" in seen[0].headers["Accept"]
    assert "Authorization" in seen[0].headers


async def test_bestandsdelen_upload(make_clients: MakeClients, tmp_path: Path) -> None:
    content = b"".join(bytes([n % 251]) for n in range(250_000))
    source = tmp_path / "big.bin"
    source.write_bytes(content)
    seen: list[tuple[str, dict[str, Any], int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fields = parse_multipart(request)
        seen.append((request.url.path, fields, int(request.headers["Content-Length"])))
        assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
        return httpx.Response(200, json={"url": str(request.url), "voltooid": True, "lock": fields["lock"]})

    zgw = make_clients(handler)
    base = f"{BASE}/documenten/api/v1/bestandsdelen"
    delen = [  # out of order on purpose
        {"url": f"{base}/b", "volgnummer": 2, "omvang": 100_000, "voltooid": False},
        {"url": f"{base}/a", "volgnummer": 1, "omvang": 100_000, "voltooid": False},
        {"url": f"{base}/c", "volgnummer": 3, "omvang": 50_000, "voltooid": False},
    ]
    results = await zgw.documenten.upload_bestandsdelen(delen, "lock-123", source, filename="big.bin")
    assert [r["voltooid"] for r in results] == [True, True, True]
    assert [path for path, _, _ in seen] == [
        "/documenten/api/v1/bestandsdelen/a",
        "/documenten/api/v1/bestandsdelen/b",
        "/documenten/api/v1/bestandsdelen/c",
    ]
    assert b"".join(fields["inhoud"] for _, fields, _ in seen) == content
    assert all(fields["lock"] == "lock-123" for _, fields, _ in seen)
    assert [len(fields["inhoud"]) for _, fields, _ in seen] == [100_000, 100_000, 50_000]
    assert all(length > 100 for _, _, length in seen)  # a real Content-Length, not chunked

    # a resumed upload skips parts already done; a file object works too; sizes must add up
    seen.clear()
    delen[1]["voltooid"] = True
    await zgw.documenten.upload_bestandsdelen(delen, "lock-123", io.BytesIO(content))
    assert [path.rsplit("/", 1)[1] for path, _, _ in seen] == ["b", "c"]
    assert seen[0][1]["inhoud"] == content[100_000:200_000]
    with pytest.raises(ValueError, match="add up to 250000 bytes, the file has 3"):
        await zgw.documenten.upload_bestandsdelen(delen, "lock-123", io.BytesIO(b"abc"))


def parse_multipart(request: httpx.Request) -> dict[str, Any]:
    """A minimal multipart/form-data parser for the test: field name → bytes (files) or str."""
    boundary = request.headers["Content-Type"].split("boundary=", 1)[1].encode()
    body = request.read()
    fields: dict[str, Any] = {}
    for part in body.split(b"--" + boundary)[1:-1]:
        head, _, data = part[2:].partition(b"\r\n\r\n")
        data = data[:-2]  # trailing CRLF
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        fields[name] = data if b"filename=" in head else data.decode()
    return fields


# --- recording ------------------------------------------------------------------------------------------------


async def test_record_calls(make_clients: MakeClients) -> None:
    observed: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/missing"):
            return httpx.Response(404, json={"code": "not_found", "detail": "Niet gevonden."})
        return httpx.Response(200, json={})

    zgw = make_clients(handler, on_call=observed.append)
    await zgw.zaken.get("zaken/1")
    with record_zgw_calls() as calls:
        await zgw.zaken.get("zaken/2")
        with pytest.raises(ZgwNotFound):
            await zgw.documenten.get("missing")
    assert [(c.api, c.method, c.status) for c in calls] == [("zaken", "GET", 200), ("documenten", "GET", 404)]
    assert calls[1].error == "GET /documenten/api/v1/missing → 404 not_found: Niet gevonden."
    assert calls[0].elapsed_ms >= 0
    assert len(observed) == 3


# --- the direct path (ZgwApiClient hands requests to the transport itself) -------------------------------------


async def test_direct_path_sends_what_the_httpx_client_would(zgw_settings: Settings) -> None:
    """A call handed straight to the transport carries the same method, URL, headers, body and timeouts as one sent
    through ``httpx.AsyncClient.send`` (the path for streams and proxies)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={"count": 0, "next": None, "previous": None, "results": []})
        return httpx.Response(201, json={"url": f"{BASE}/zaken/api/v1/zaken/1"})

    transport = httpx.MockTransport(handler)
    direct = ZgwClients.from_settings(zgw_settings, transport=transport).zaken
    via_client = ZgwApiClient("zaken", direct.http)  # no transport: every call goes through http.send
    body = {"omschrijving": "Één melding", "kenmerken": [{"kenmerk": "x", "bron": "y"}]}
    try:
        for client in (direct, via_client):
            await client.create("zaken", body)
            await client.list("rollen", {"zaak": f"{BASE}/zaken/api/v1/zaken/1", "omschrijvingGeneriek": "initiator"})
    finally:
        await direct.http.aclose()
    assert len(seen) == 4
    for mine, theirs in ((seen[0], seen[2]), (seen[1], seen[3])):
        assert (mine.method, str(mine.url), mine.content) == (theirs.method, str(theirs.url), theirs.content)
        assert sorted((k.lower(), v) for k, v in mine.headers.items() if k.lower() != "authorization") == sorted(
            (k.lower(), v) for k, v in theirs.headers.items() if k.lower() != "authorization")
        assert claims_of(mine) == claims_of(theirs)
        assert mine.extensions["timeout"] == theirs.extensions["timeout"] == httpx.Timeout(
            zgw_settings.zgw_timeout).as_dict()
    assert json.loads(seen[0].content) == body


async def test_direct_path_translates_transport_errors(make_clients: MakeClients) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    zgw = make_clients(handler)
    with record_zgw_calls() as calls, pytest.raises(ZgwError) as caught:
        await zgw.zaken.create("zaken", {"identificatie": "1"})
    assert "time" in str(caught.value).lower()
    assert [(c.method, c.status) for c in calls] == [("POST", None)]


@pytest.mark.parametrize(
    ("env", "proxied"),
    [
        ({}, False),
        ({"HTTP_PROXY": "http://proxy.example:3128"}, True),
        ({"ALL_PROXY": "http://proxy.example:3128"}, True),
        ({"HTTPS_PROXY": "http://proxy.example:3128"}, False),  # the ZGW URL here is http://
        ({"HTTP_PROXY": "http://proxy.example:3128", "NO_PROXY": "zgw.example"}, False),
    ],
)
def test_calls_through_a_proxy_keep_the_httpx_client_path(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], proxied: bool
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _proxied("http://zgw.example/zaken/api/v1") is proxied


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("http://zgw.example/zaken/api/v1/rollen", {"zaak": "http://zgw.example/zaken/api/v1/zaken/4b8e-9d7e"}),
        ("http://zgw.example/zaken/api/v1/zaken", {"identificatie": "ZAAK 1/ä&b=c+d", "bronorganisatie": "002220647"}),
        ("http://zgw.example/zaken/api/v1/zaken?page=2", {"identificatie": "1"}),  # a query already there
        ("http://zgw.example/catalogi/api/v1/zaaktypen", {"datumGeldigheid": "2026-11-24", "page": 3}),
        ("http://zgw.example/zaken/api/v1/zaken", {}),
    ],
)
def test_query_params_as_httpx_merges_them(url: str, params: dict[str, Any]) -> None:
    ours = _with_params(httpx.URL(url), params)
    assert ours == httpx.URL(url).copy_merge_params(params)
    assert str(ours) == str(httpx.URL(url).copy_merge_params(params))
