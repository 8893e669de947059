"""zgw/documents.py over a MockTransport: the streamed inline JSON body, the streamed multipart bestandsdelen, the
typed errors for 413 and a wrong lock, finding a document by identificatie, and content types."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx
import pytest

from stuf_bridge.content import Content
from stuf_bridge.zgw import (
    ZgwAmbiguous,
    ZgwLocked,
    ZgwLockError,
    ZgwLockMissing,
    ZgwNotLocked,
    ZgwTooLarge,
    ZgwValidationError,
    ZgwWrongLock,
)
from stuf_bridge.zgw.documents import (
    ByteSource,
    PartReader,
    content_type,
    find_document,
    from_content,
    patch_document,
    post_document,
    put_part,
    unlock_document,
)

from .conftest import MakeClients
from .fakes import BASE

EIO_URL = f"{BASE}/documenten/api/v1/enkelvoudiginformatieobjecten/1"


def _recorder(seen: list[httpx.Request], answer: Any = None, status: int = 201):
    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        seen.append(request)
        return httpx.Response(status, json=answer if answer is not None else {"url": EIO_URL})

    return handler


@pytest.mark.parametrize("size", [0, 1, 2, 3, 1000, (1 << 20) + 5])
async def test_inline_body_is_streamed_json_with_exact_length(make_clients: MakeClients, size: int) -> None:
    data = os.urandom(size)
    seen: list[httpx.Request] = []
    zgw = make_clients(_recorder(seen))
    with Content.from_bytes(data) as content:
        await post_document(zgw, {"titel": "é \"quoted\""}, from_content(content), threshold=1 << 30)
    [request] = seen
    assert int(request.headers["Content-Length"]) == len(request.content)
    body = json.loads(request.content)
    assert base64.b64decode(body["inhoud"]) == data
    assert body["bestandsomvang"] == size and body["titel"] == 'é "quoted"'


async def test_above_the_threshold_no_inhoud_goes_along(make_clients: MakeClients) -> None:
    seen: list[httpx.Request] = []
    zgw = make_clients(_recorder(seen))
    with Content.from_bytes(b"x" * 100) as content:
        data = from_content(content)
        await post_document(zgw, {"titel": "t"}, data, threshold=99)
        await patch_document(zgw, EIO_URL, {"titel": "t"}, "lock-1", data, threshold=99)
    created, patched = (json.loads(r.content) for r in seen)
    assert created == {"titel": "t", "bestandsomvang": 100}
    # inhoud null: else Open Zaak measures the new bestandsomvang against the current content
    assert patched == {"titel": "t", "lock": "lock-1", "bestandsomvang": 100, "inhoud": None}


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def test_parts_are_consecutive_ranges_in_streamed_multipart(make_clients: MakeClients) -> None:
    data = os.urandom(2500)
    seen: list[httpx.Request] = []
    zgw = make_clients(_recorder(seen, {"voltooid": True}, 200))
    reader = PartReader(ByteSource(len(data), lambda: _chunks(data, 333)))
    for index, omvang in enumerate((1000, 1000, 500), 1):
        part = {"url": f"{BASE}/documenten/api/v1/bestandsdelen/{index}", "omvang": omvang, "volgnummer": index}
        await put_part(zgw, part, "lock-1", reader, 'brief "1".pdf')
    received = b""
    for request in seen:
        assert request.method == "PUT"
        assert int(request.headers["Content-Length"]) == len(request.content)
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode() + request.content
        )
        fields = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        assert fields["lock"].get_content() == "lock-1"
        received += fields["inhoud"].get_content()
    assert received == data


async def test_part_reader_says_when_the_source_runs_short() -> None:
    reader = PartReader(ByteSource(10, lambda: _chunks(b"12345", 2)))
    with pytest.raises(Exception, match="houdt op"):
        async for _ in reader.take(10):
            pass


async def test_413_is_too_large(make_clients: MakeClients) -> None:
    def too_large(request: httpx.Request) -> httpx.Response:
        return httpx.Response(413, text="Request Entity Too Large")

    zgw = make_clients(too_large)
    with Content.from_bytes(b"abc") as content, pytest.raises(ZgwTooLarge) as caught:
        await post_document(zgw, {}, from_content(content), threshold=10)
    assert caught.value.status == 413 and caught.value.method == "POST"


@pytest.mark.parametrize(("code", "error"), [
    ("incorrect-lock-id", ZgwWrongLock),
    ("missing-lock-id", ZgwLockMissing),
    ("unlocked", ZgwNotLocked),
    ("existing-lock", ZgwLocked),
])
async def test_a_lock_problem_is_its_own_error(make_clients: MakeClients, code: str,
                                               error: type[ZgwLockError]) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"code": "invalid", "title": "Invalid input.", "invalidParams": [
            {"name": "nonFieldErrors", "code": code, "reason": "Lock problem"}]},
            headers={"Content-Type": "application/problem+json"})

    zgw = make_clients(refused)
    with pytest.raises(error) as caught:
        await unlock_document(zgw, EIO_URL, "nope")
    assert type(caught.value) is error and caught.value.lock_code == code
    assert [param.code for param in caught.value.invalid_params] == [code]  # the backend's problem, kept


async def test_another_400_stays_a_validation_error(make_clients: MakeClients) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"code": "invalid", "title": "Invalid input.", "invalidParams": [
            {"name": "titel", "code": "required", "reason": "Dit veld is vereist."}]},
            headers={"Content-Type": "application/problem+json"})

    zgw = make_clients(refused)
    with pytest.raises(ZgwValidationError) as caught:
        await unlock_document(zgw, EIO_URL, "lock")
    assert not isinstance(caught.value, ZgwLockError)


async def test_several_documents_for_one_identificatie_are_ambiguous(make_clients: MakeClients) -> None:
    found = [{"url": f"{EIO_URL}{n}", "identificatie": "DOC-1", "bronorganisatie": rsin}
             for n, rsin in ((1, "111222333"), (2, "444555666"), (3, "444555666"))]

    def listing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"count": 3, "next": None, "previous": None, "results": found})

    zgw = make_clients(listing)
    assert (await find_document(zgw, "DOC-1", rsin="111222333"))["url"] == f"{EIO_URL}1"  # the sender's RSIN chooses
    with pytest.raises(ZgwAmbiguous) as caught:
        await find_document(zgw, "DOC-1", rsin="444555666")
    assert (caught.value.what, caught.value.identificatie) == ("Document", "DOC-1")
    assert caught.value.candidates == (f"{EIO_URL}2", f"{EIO_URL}3")


@pytest.mark.parametrize(("eio", "expected"), [
    ({"formaat": "application/pdf"}, "application/pdf"),
    ({"formaat": "pdf", "bestandsnaam": "brief.docx"},
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ({"formaat": "pdf"}, "application/pdf"),
    ({}, "application/octet-stream"),
])
def test_content_type(eio: dict[str, str], expected: str) -> None:
    assert content_type(eio) == expected
