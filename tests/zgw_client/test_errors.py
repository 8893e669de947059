"""ZGW errors become typed exceptions with a one-line summary a StUF fault can quote."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from stuf_bridge.errors import StufBridgeError
from stuf_bridge.settings import Settings
from stuf_bridge.zgw import (
    InvalidParam,
    ZgwAuthError,
    ZgwClientError,
    ZgwClients,
    ZgwConflict,
    ZgwError,
    ZgwLocked,
    ZgwNotFound,
    ZgwPreconditionFailed,
    ZgwServerError,
    ZgwTimeout,
    ZgwUnavailable,
    ZgwValidationError,
)

from .conftest import MakeClients


def problem(
    status: int, code: str, title: str, detail: str, invalid: list[dict[str, str]] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {
        "type": f"https://zgw.test/ref/fouten/{code}/",
        "code": code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "urn:uuid:1",
    }
    if invalid is not None:
        body["invalidParams"] = invalid
    return httpx.Response(status, content=json.dumps(body), headers={"Content-Type": "application/problem+json"})


async def test_validation_error_summary(make_clients: MakeClients) -> None:
    zgw = make_clients(
        lambda request: problem(
            400,
            "invalid",
            "Invalid input.",
            "",
            [{"name": "identificatie", "code": "identificatie-niet-uniek", "reason": "Deze identificatie bestaat al"}],
        )
    )
    with pytest.raises(ZgwValidationError) as caught:
        await zgw.zaken.create("zaken", {"identificatie": "X"})
    err = caught.value
    assert (
        str(err)
        == "POST /zaken/api/v1/zaken → 400 identificatie-niet-uniek: identificatie: Deze identificatie bestaat al"
    )
    assert err.status == 400 and err.code == "invalid" and err.title == "Invalid input."
    assert err.method == "POST" and err.url == "http://zgw.test/zaken/api/v1/zaken"
    assert err.invalid_params == (
        InvalidParam("identificatie", "identificatie-niet-uniek", "Deze identificatie bestaat al"),
    )
    assert isinstance(err, ZgwClientError) and isinstance(err, ZgwError) and isinstance(err, StufBridgeError)


def test_a_refined_error_keeps_what_the_backend_said() -> None:
    params = (InvalidParam("nonFieldErrors", "existing-lock", "Lock exists"),)
    plain = ZgwValidationError("POST /eio/1/lock → 400 existing-lock: Lock exists", method="POST",
                               url="http://zgw.test/eio/1/lock", status=400, code="invalid", title="Invalid input.",
                               detail=None, invalid_params=params)
    refined = ZgwLocked.refining(plain)
    assert type(refined) is ZgwLocked and isinstance(refined, ZgwValidationError)
    assert (str(refined), refined.method, refined.url, refined.status, refined.code, refined.title,
            refined.invalid_params) == (str(plain), "POST", plain.url, 400, "invalid", "Invalid input.", params)


async def test_several_invalid_params_and_clipping(make_clients: MakeClients) -> None:
    invalid = [{"name": f"veld{n}", "code": "required", "reason": "Dit veld is vereist." * 5} for n in range(30)]
    zgw = make_clients(lambda request: problem(400, "invalid", "Invalid input.", "", invalid))
    with pytest.raises(ZgwValidationError) as caught:
        await zgw.zaken.create("rollen", {})
    summary = str(caught.value)
    assert summary.startswith("POST /zaken/api/v1/rollen → 400 required: veld0: Dit veld is vereist.")
    assert "; required: veld1: " in summary
    assert len(summary) == 1000 and summary.endswith("…")
    assert len(caught.value.invalid_params) == 30


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, ZgwAuthError),
        (403, ZgwAuthError),
        (404, ZgwNotFound),
        (410, ZgwNotFound),
        (409, ZgwConflict),
        (412, ZgwPreconditionFailed),
        (406, ZgwClientError),
        (415, ZgwClientError),
        (429, ZgwUnavailable),
        (500, ZgwServerError),
        (502, ZgwServerError),
        (503, ZgwServerError),
    ],
)
async def test_error_class_per_status(make_clients: MakeClients, status: int, cls: type[ZgwError]) -> None:
    zgw = make_clients(lambda request: problem(status, "some_code", "Een titel", "Een detail."))
    with pytest.raises(cls) as caught:
        await zgw.documenten.get("enkelvoudiginformatieobjecten/1", {"identificatie": "secret-bsn-123"})
    err = caught.value
    assert type(err) is cls
    assert err.status == status and err.code == "some_code" and err.detail == "Een detail."
    assert str(err) == f"GET /documenten/api/v1/enkelvoudiginformatieobjecten/1 → {status} some_code: Een detail."
    assert "secret-bsn-123" not in str(err)  # the query string stays out of the summary


async def test_auth_error_without_detail_uses_title(make_clients: MakeClients) -> None:
    zgw = make_clients(lambda request: problem(403, "permission_denied", "Je hebt geen toestemming.", ""))
    with pytest.raises(ZgwAuthError, match=r"→ 403 permission_denied: Je hebt geen toestemming\.$"):
        await zgw.catalogi.list("zaaktypen")


async def test_non_json_error_body(make_clients: MakeClients) -> None:
    zgw = make_clients(
        lambda request: httpx.Response(
            502, text="<html><body>Bad gateway</body></html>", headers={"Content-Type": "text/html"}
        )
    )
    with pytest.raises(ZgwServerError) as caught:
        await zgw.zaken.get("zaken/1")
    assert str(caught.value) == "GET /zaken/api/v1/zaken/1 → 502 Bad Gateway"
    zgw = make_clients(lambda request: httpx.Response(503, text="upstream down\n  try later"))
    with pytest.raises(ZgwServerError, match=r"→ 503 Service Unavailable: upstream down try later$"):
        await zgw.zaken.get("zaken/1")


async def test_error_during_download_is_typed(make_clients: MakeClients) -> None:
    zgw = make_clients(lambda request: problem(404, "not_found", "Niet gevonden.", "Niet gevonden."))
    with pytest.raises(ZgwNotFound, match="download → 404"):
        async with zgw.documenten.stream_download("enkelvoudiginformatieobjecten/1/download"):
            pass

    async def broken() -> AsyncIterator[bytes]:
        yield b"first"
        raise httpx.ReadError("connection reset")

    zgw = make_clients(lambda request: httpx.Response(200, content=broken()))
    received = b""
    with pytest.raises(ZgwUnavailable, match=r"niet bereikbaar \(ReadError: connection reset\)"):
        async with zgw.documenten.stream_download("enkelvoudiginformatieobjecten/1/download") as response:
            async for chunk in response.aiter_bytes():
                received += chunk
    assert received == b"first"


# --- transport errors -----------------------------------------------------------------------------------------


def raising(exc: Callable[[httpx.Request], Exception]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(request)

    return handler


@pytest.mark.parametrize(
    ("make_exc", "cls", "text"),
    [
        (
            lambda r: httpx.ConnectError("[Errno 111] Connection refused", request=r),
            ZgwUnavailable,
            "niet bereikbaar (ConnectError: [Errno 111] Connection refused)",
        ),
        (
            lambda r: httpx.ConnectError("[Errno -2] Name or service not known", request=r),
            ZgwUnavailable,
            "niet bereikbaar (ConnectError: [Errno -2] Name or service not known)",
        ),
        (lambda r: httpx.ConnectTimeout("timed out", request=r), ZgwUnavailable, "niet bereikbaar (ConnectTimeout"),
        (
            lambda r: httpx.RemoteProtocolError("Server disconnected", request=r),
            ZgwUnavailable,
            "niet bereikbaar (RemoteProtocolError: Server disconnected)",
        ),
        (lambda r: httpx.ReadTimeout("timed out", request=r), ZgwTimeout, "geen antwoord binnen 30 s (ReadTimeout)"),
        (lambda r: httpx.PoolTimeout("timed out", request=r), ZgwTimeout, "geen antwoord binnen 30 s (PoolTimeout)"),
    ],
)
async def test_transport_errors(
    make_clients: MakeClients, make_exc: Callable[[httpx.Request], Exception], cls: type[ZgwError], text: str
) -> None:
    zgw = make_clients(raising(make_exc))
    with pytest.raises(cls) as caught:
        await zgw.zaken.create("zaken", {})
    assert str(caught.value).startswith("POST /zaken/api/v1/zaken → ")
    assert text in str(caught.value)
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.HTTPError)


async def test_timeout_tells_whether_a_write_may_have_happened(make_clients: MakeClients) -> None:
    zgw = make_clients(raising(lambda r: httpx.ReadTimeout("timed out", request=r)))
    with pytest.raises(ZgwTimeout) as write:
        await zgw.zaken.create("zaken", {})
    with pytest.raises(ZgwTimeout) as read:
        await zgw.zaken.get("zaken/1")
    assert write.value.may_have_succeeded is True
    assert read.value.may_have_succeeded is False


async def test_real_connection_refused(make_settings: Callable[..., Settings]) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ZgwClients.from_settings(make_settings(zgw_url=f"http://127.0.0.1:{port}")) as zgw:
        with pytest.raises(ZgwUnavailable, match=r"GET /zaken/api/v1/zaken/1 → niet bereikbaar \(ConnectError"):
            await zgw.zaken.get("zaken/1")


async def test_real_read_timeout(make_settings: Callable[..., Settings]) -> None:
    connections: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # accept, read nothing back, never answer

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        settings = make_settings(zgw_url=f"http://127.0.0.1:{port}", zgw_timeout=0.2)
        async with ZgwClients.from_settings(settings) as zgw:
            with pytest.raises(ZgwTimeout, match=r"GET /catalogi/api/v1/zaaktypen → geen antwoord binnen 0.2 s"):
                await zgw.catalogi.list("zaaktypen")
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()
