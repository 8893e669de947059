"""Streaming through the gateway (ASGI): faults for bad content, MTOM, idempotency by content, hardening cases with
every body streamed, and answers that stream document bytes out."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from stuf_bridge.errors import ProcessingError
from stuf_bridge.gateway import parse_answer
from stuf_bridge.pipeline.claim import digest as _digest
from stuf_bridge.pipeline.read import Read
from stuf_bridge.operations import MessageContext
from stuf_bridge.soap.envelope import read_request_stream
from stuf_bridge.stuf.namespaces import SOAP11, SOAP12, STUF, ZKN

from ..support.cases import case_folders, load_case
from .conftest import Seen, recording_handler
from .messages import headers, lezen, mtom, voeg_toe, voeg_toe_parts

CASES = Path(__file__).resolve().parents[1] / "cases" / "faults"
NS = {"StUF": STUF, "ZKN": ZKN}


def fault_code(body: bytes) -> str | None:
    return etree.fromstring(body).findtext(".//StUF:body/StUF:code", namespaces=NS)


@pytest.fixture(params=[0, 1 << 20], ids=["streamed", "whole"])
def stream_above(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(Read, "stream_above", request.param)
    return request.param


@pytest.mark.parametrize("folder", case_folders(CASES), ids=lambda p: p.name)
async def test_hardening_cases_hold_when_every_body_is_streamed(folder: Path, asgi_app: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Read, "stream_above", 0)
    case = load_case(folder)
    client, _ = await asgi_app({}, **case.settings)
    request_headers = {"Content-Type": case.request.content_type}
    if case.request.soap_action is not None:
        request_headers["SOAPAction"] = case.request.soap_action
    path = f"/zds/{case.request.endpoint}" if case.request.endpoint else "/zds"
    response = await client.post(path, content=(folder / "request.xml").read_bytes(), headers=request_headers)
    assert response.status_code == case.expect.http_status, response.text
    if case.expect.fault is not None:
        assert fault_code(response.content) == case.expect.fault.code
        omschrijving = etree.fromstring(response.content).findtext(".//StUF:omschrijving", namespaces=NS)
        assert (case.expect.fault.omschrijving_contains or "") in omschrijving


async def test_document_reaches_the_operation_spooled(asgi_app: Any, stream_above: int) -> None:
    seen = Seen()
    client, _ = await asgi_app({"voegZaakdocumentToe": recording_handler(seen)})
    data = os.urandom(3 << 20)
    response = await client.post("/zds/OntvangAsynchroon", content=voeg_toe(data), headers=headers())
    assert response.status_code == 200, response.text
    assert parse_answer(response.content).tag == f"{{{STUF}}}Bv03Bericht"
    [document] = seen.documents
    assert document["sha256"] == document["content_sha256"] == hashlib.sha256(data).hexdigest()
    assert document["size"] == len(data)
    assert (document["bestandsnaam"], document["content_type"]) == ("groot.pdf", "application/pdf")
    assert document["streamed"] is True  # 3 MiB is above the threshold: the text never was in the tree


async def test_malformed_base64_is_stuf055_and_reaches_no_operation(asgi_app: Any, stream_above: int) -> None:
    seen = Seen()
    client, _ = await asgi_app({"voegZaakdocumentToe": recording_handler(seen)})
    body = voeg_toe(os.urandom(2 << 20)).replace(b"</ZKN:inhoud>", b"*</ZKN:inhoud>")
    response = await client.post("/zds/OntvangAsynchroon", content=body, headers=headers())
    assert response.status_code == 500
    assert fault_code(response.content) == "StUF055"
    assert b"geen geldige base64" in response.content
    assert seen.calls == 0


async def test_oversize_content_is_stuf055_and_nothing_is_stored(asgi_app: Any, stream_above: int) -> None:
    seen = Seen()
    client, _ = await asgi_app({"voegZaakdocumentToe": recording_handler(seen)}, max_document_bytes=1_000_000)
    response = await client.post("/zds/OntvangAsynchroon", content=voeg_toe(os.urandom(1_500_000)), headers=headers())
    assert response.status_code == 500
    assert fault_code(response.content) == "StUF055"
    assert b"te groot" in response.content
    assert seen.calls == 0


@pytest.mark.parametrize("soap", ["1.1", "1.2"])
async def test_mtom_request_gives_the_same_tree_and_content_as_inline(asgi_app: Any, soap: str) -> None:
    seen = Seen()
    client, _ = await asgi_app({"voegZaakdocumentToe": recording_handler(seen)})
    data = os.urandom(2_500_000)
    before, after = voeg_toe_parts(soap=soap, referentienummer=f"mtom-{soap}")
    inline = await client.post("/zds/OntvangAsynchroon", content=before + base64.b64encode(data) + after,
                               headers=headers(soap=soap))
    body, content_type = mtom(before.replace(b"mtom-", b"mtom2-"), after, {"doc1@example.org": data}, soap=soap)
    action = {} if soap == "1.2" else {"SOAPAction": headers()["SOAPAction"]}
    response = await client.post("/zds/OntvangAsynchroon", content=body, headers={"Content-Type": content_type,
                                                                                  **action})
    assert inline.status_code == 200, inline.text
    assert response.status_code == 200, response.text
    envelope = etree.fromstring(response.content)
    assert envelope.tag == f"{{{SOAP11 if soap == '1.1' else SOAP12}}}Envelope"
    assert seen.trees[0] == seen.trees[1].replace(b"mtom2-", b"mtom-")
    assert seen.documents[0] == seen.documents[1]
    assert seen.documents[1]["sha256"] == hashlib.sha256(data).hexdigest()


async def test_mtom_part_content_type_is_used_without_xmime(asgi_app: Any) -> None:
    seen = Seen()
    client, _ = await asgi_app({"voegZaakdocumentToe": recording_handler(seen)})
    before, after = voeg_toe_parts()
    body, content_type = mtom(before.replace(b' xmime:contentType="application/pdf"', b""), after,
                              {"doc1@example.org": b"%PDF klein"})
    response = await client.post("/zds/OntvangAsynchroon", content=body,
                                 headers={"Content-Type": content_type, "SOAPAction": headers()["SOAPAction"]})
    assert response.status_code == 200, response.text
    assert seen.documents[0]["content_type"] == "application/octet-stream"
    assert seen.documents[0]["size"] == len(b"%PDF klein")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda body, ctype: (body, ctype.replace('boundary="MIMEBoundary_1"; ', "")), "geen boundary"),
        (lambda body, ctype: (body.replace(b"Content-ID: <doc1@example.org>", b"Content-ID: <other@x>"), ctype),
         "ontbreekt"),
        (lambda body, ctype: (body[: body.rindex(b"\r\n--MIMEBoundary_1--")], ctype), "onvolledig"),
        (lambda body, ctype: (body.replace(b"Content-ID: <root.message@cxf.apache.org>", b"Content-ID: <r@x>"), ctype),
         "envelope ontbreekt"),
    ],
    ids=["no-boundary", "missing-part", "unterminated", "no-root"],
)
async def test_bad_mtom_is_stuf055(asgi_app: Any, mutate: Any, message: str) -> None:
    seen = Seen()
    client, _ = await asgi_app({"voegZaakdocumentToe": recording_handler(seen)})
    before, after = voeg_toe_parts()
    body, content_type = mutate(*mtom(before, after, {"doc1@example.org": os.urandom(1000)}))
    response = await client.post("/zds/OntvangAsynchroon", content=body,
                                 headers={"Content-Type": content_type, "SOAPAction": headers()["SOAPAction"]})
    assert response.status_code == 500
    assert fault_code(response.content) == "StUF055"
    assert message in response.text
    assert seen.calls == 0


async def _request(body: bytes, stream_above: int = 0) -> Any:
    async def pieces() -> Any:
        for i in range(0, len(body), 1000):
            yield body[i:i + 1000]

    return await read_request_stream(pieces(), content_type="text/xml", soap_action=None, max_bytes=1 << 20,
                                     max_depth=50, max_document_bytes=1 << 20, stream_above=stream_above)


async def test_digest_includes_the_content() -> None:
    one = await _request(voeg_toe(b"A" * 3000))
    same = await _request(voeg_toe(b"A" * 3000))
    other = await _request(voeg_toe(b"B" * 3000))
    assert etree.tostring(one.body, method="c14n") == etree.tostring(other.body, method="c14n")  # texts were taken out
    assert _digest(one.body, one.contents) == _digest(same.body, same.contents)
    assert _digest(one.body, one.contents) != _digest(other.body, other.contents)


async def test_resend_with_other_content_is_another_message(asgi_app: Any, stream_above: int) -> None:
    seen = Seen()
    client, _ = await asgi_app({"voegZaakdocumentToe": recording_handler(seen)})
    first = voeg_toe(os.urandom(1_200_000), referentienummer="idem-1")
    assert (await client.post("/zds/OntvangAsynchroon", content=first, headers=headers())).status_code == 200
    assert (await client.post("/zds/OntvangAsynchroon", content=first, headers=headers())).status_code == 200
    assert seen.calls == 1  # the resend got the stored answer
    other = voeg_toe(os.urandom(1_200_000), referentienummer="idem-1")
    response = await client.post("/zds/OntvangAsynchroon", content=other, headers=headers())
    assert response.status_code == 500 and fault_code(response.content) == "StUF016"
    assert seen.calls == 1


def streaming_reader(data: bytes, *, fail_at: int | None = None, fail_open: bool = False, size: int | None = None):
    async def handler(ctx: MessageContext) -> etree._Element:
        answer = etree.Element(f"{{{ZKN}}}edcLa01", nsmap={"ZKN": ZKN, "StUF": STUF})
        inhoud = etree.SubElement(etree.SubElement(etree.SubElement(answer, f"{{{ZKN}}}antwoord"),
                                                   f"{{{ZKN}}}object"), f"{{{ZKN}}}inhoud")
        inhoud.set(f"{{{STUF}}}bestandsnaam", "groot.pdf")

        async def source() -> Any:
            if fail_open:
                raise ProcessingError("Het document kan niet worden gelezen", "download mislukt", plek="server")
            for i in range(0, len(data), 100_000):
                if fail_at is not None and i >= fail_at:
                    raise OSError("verbinding met de Documenten API verbroken")
                yield data[i:i + 100_000]

        ctx.stream_out(inhoud, source, len(data) if size is None else size)
        return answer

    return handler


async def test_answer_streams_document_bytes_out(asgi_app: Any) -> None:
    data = os.urandom(3_000_001)
    client, gateway = await asgi_app({"geefZaakdocumentLezen": streaming_reader(data)})
    response = await client.post("/zds/BeantwoordVraag", content=lezen(), headers=headers("geefZaakdocumentLezen_Lv01"))
    assert response.status_code == 200, response.text
    assert int(response.headers["content-length"]) == len(response.content)
    inhoud = parse_answer(response.content).find(".//ZKN:inhoud", NS)
    assert base64.b64decode(inhoud.text) == data
    assert inhoud.get(f"{{{STUF}}}bestandsnaam") == "groot.pdf"
    # the same through the bytes API: collected into Reply.body
    action = headers("geefZaakdocumentLezen_Lv01")["SOAPAction"]
    reply = await gateway.handle(None, lezen(), content_type="text/xml", soap_action=action)
    inhoud = parse_answer(reply.body).findtext(".//ZKN:inhoud", namespaces=NS)
    assert reply.stream is None and base64.b64decode(inhoud or "") == data


async def test_document_that_cannot_be_opened_is_a_fault(asgi_app: Any) -> None:
    client, _ = await asgi_app({"geefZaakdocumentLezen": streaming_reader(b"x", fail_open=True)})
    response = await client.post("/zds/BeantwoordVraag", content=lezen(), headers=headers("geefZaakdocumentLezen_Lv01"))
    assert response.status_code == 500
    assert b"Het document kan niet worden gelezen" in response.content


async def test_document_shorter_than_announced_cuts_the_answer_off(asgi_app: Any) -> None:
    data = os.urandom(300_000)
    _, gateway = await asgi_app({"geefZaakdocumentLezen": streaming_reader(data, size=len(data) + 3)})
    reply = await gateway.handle(None, lezen(), content_type="text/xml",
                                 soap_action=headers("geefZaakdocumentLezen_Lv01")["SOAPAction"])
    assert reply.status == 200  # committed before the document was read to its end
    assert len(reply.body) < 4 * -(-(len(data) + 3) // 3) + 1000
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(reply.body)
