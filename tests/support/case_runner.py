"""Runs one case of ``tests/cases/`` (format: ``tests/support/cases.py``) and checks what it expects.

Every case runs against its own app: the gateway with the embedded ZGW backend, both over ASGI, the gateway's ZGW
calls through a transport that records them. Messages go in over HTTP, as a client sends them, so the status, the
content type and the envelope are what a client sees; the ZGW calls are what the backend saw.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import FOUT, SOAP11, SOAP12, STUF
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.stuf.values import AMSTERDAM
from stuf_bridge.web.app import create_app
from stuf_bridge.zgw import ZgwClients

from .cases import CASE_FILE, EXPECTED_FILE, NS, Case, Expect, ExpectedCall, ExpectedFault, Message
from .reference import extract_body, require_reference
from .render import render
from .xml_compare import assert_xml_equal, canonical_lines

BASE = "http://gateway.test"
UPDATE_ENV = "STUF_BRIDGE_UPDATE_CASES"  # =1: rewrite existing expected.xml files and fault reasons from the answers
_UPDATING = os.environ.get(UPDATE_ENV) == "1"  # read at import: the settings fixture clears STUF_BRIDGE_* later
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass(frozen=True)
class ZgwCall:
    method: str
    path: str  # below the backend's root, uuids written as {uuid}
    body: bytes

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes the gateway's ZGW requests to the embedded backend and keeps each one (with its body)."""

    def __init__(self) -> None:
        self.inner: httpx.AsyncBaseTransport | None = None
        self.calls: list[ZgwCall] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self.inner is not None
        body = await request.aread() if request.method in ("POST", "PUT", "PATCH") else b""
        path = _UUID.sub("{uuid}", request.url.path.split("/zgw", 1)[-1])
        self.calls.append(ZgwCall(request.method, path, body))
        return await self.inner.handle_async_request(request)


@dataclass
class CaseApp:
    client: httpx.AsyncClient
    transport: RecordingTransport
    zgw: ZgwClients


@asynccontextmanager
async def case_app(settings: Settings, schemas: Schemas) -> AsyncIterator[CaseApp]:
    transport = RecordingTransport()
    app = create_app(settings, schemas=schemas, embedded_base=f"{BASE}/zgw", zgw_transport=transport)
    transport.inner = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    async with app.router.lifespan_context(app), client:
        yield CaseApp(client, transport, app.state.gateway.zgw)


@dataclass
class Exchange:
    """One message sent and what came of it."""

    request: bytes
    response: httpx.Response
    calls: list[ZgwCall] = field(default_factory=list)


async def run_case(folder: Path, case: Case, app: CaseApp, schemas: Schemas) -> None:
    captured: dict[str, str] = {}
    for number, step in enumerate(case.setup):
        done = await send(app, folder, step, captured)
        assert done.response.status_code == 200, f"setup[{number}] {step.name}: {done.response.text[:3000]}"
        answer = stuf_message(etree.fromstring(done.response.content, _SAFE))
        for name, xpath in step.capture.items():
            [captured[name]] = texts(answer, xpath)

    done = await send(app, folder, case.request, captured)

    envelope = check_envelope(case.expect, done.response)
    message = stuf_message(envelope)
    if case.expect.fault is not None:
        reason = check_fault(case.expect.fault, envelope, message)
        if case.expect.fault.reason not in (None, reason):
            if not updating():
                raise AssertionError(f"reason {reason!r}, the case expects {case.expect.fault.reason!r}")
            update_reason(folder / CASE_FILE, case.expect.fault.reason or "", reason)
    else:
        assert message.tag == clark(case.expect.answer or ""), etree.tostring(message)[:3000]
    for xpath, value in case.expect.xpath.items():
        assert texts(message, xpath) == [expand(value)], f"{xpath}: {texts(message, xpath)}"
    if case.expect.schema_valid:
        assert schemas.validate(message) == [], etree.tostring(message, pretty_print=True).decode()[:5000]
    if case.expect.request_valid:
        request = extract_body(etree.fromstring(done.request, _SAFE))
        assert request is not None and schemas.validate(request) == [], \
            "the request does not validate against our schemas"
    if case.expect.calls is not None:
        check_calls(case.expect, done.calls)
    if case.expect.stored_content is not None:
        await check_stored_content(app, case.expect.stored_content, done.request)
    if (folder / EXPECTED_FILE).exists():
        compare_expected(folder / EXPECTED_FILE, envelope)


async def send(app: CaseApp, folder: Path, message: Message, captured: dict[str, str]) -> Exchange:
    body = message_bytes(folder, message, captured)
    headers = {"Content-Type": message.content_type}
    if message.soap_action is not None:
        headers["SOAPAction"] = message.soap_action
    first = len(app.transport.calls)
    response = await app.client.post(f"/zds/{message.endpoint}" if message.endpoint else "/zds",
                                     content=body, headers=headers)
    return Exchange(body, response, app.transport.calls[first:])


def message_bytes(folder: Path, message: Message, captured: dict[str, str]) -> bytes:
    """A file byte for byte (after its literal edits); a sample rendered, in a SOAP 1.1 envelope."""
    if message.file is not None:
        data = (folder / message.file).read_bytes()
        for old, new in message.replace.items():
            assert old.encode("utf-8") in data, f"{old!r} not in {message.file}"
            data = data.replace(old.encode("utf-8"), new.encode("utf-8"))
        return data
    assert message.sample is not None
    text = require_reference("samples", *message.sample.split("/")).read_text(encoding="utf-8")
    text = render(text, values={**message.values, **captured})
    for old, new in message.replace.items():
        assert old in text, f"{old!r} not in {message.sample}"
        text = text.replace(old, new)
    text = text.replace('<?xml version="1.0" encoding="UTF-8"?>', "", 1).strip()
    body = extract_body(etree.fromstring(text.encode("utf-8")))
    assert body is not None, message.sample
    referentienummer = body.find(f".//{{{STUF}}}referentienummer")
    if referentienummer is not None:  # rendered samples share one dummy: each message is a new one
        referentienummer.text = f"{folder.name}-{message.name}"[-40:]
    envelope = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11})
    etree.SubElement(envelope, f"{{{SOAP11}}}Body").append(body)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def check_envelope(expect: Expect, response: httpx.Response) -> etree._Element:
    assert response.status_code == expect.http_status, response.text[:3000]
    envelope = etree.fromstring(response.content, _SAFE)
    soap_ns = SOAP11 if expect.soap == "1.1" else SOAP12
    assert envelope.tag == f"{{{soap_ns}}}Envelope", envelope.tag
    assert response.headers["content-type"].startswith("text/xml" if soap_ns == SOAP11 else "application/soap+xml")
    return envelope


def check_fault(fault: ExpectedFault, envelope: etree._Element, message: etree._Element) -> str:
    """The SOAP fault and the StUF Fo02/Fo03 in its detail; gives our reason code in detailsXML (there must be
    one), which the caller compares with the case's."""
    soap_ns = etree.QName(envelope).namespace
    payload = first_element(envelope.find(f"{{{soap_ns}}}Body"))
    assert payload.tag == f"{{{soap_ns}}}Fault", payload.tag
    assert message.tag == f"{{{STUF}}}{fault.kind}Bericht", message.tag
    body = message.find(f"{{{STUF}}}body")
    shown = etree.tostring(message, pretty_print=True).decode()
    assert body.findtext(f"{{{STUF}}}code") == fault.code, shown
    assert body.findtext(f"{{{STUF}}}plek") == fault.plek, shown
    soap11 = soap_ns == SOAP11
    faultcode = payload.findtext("faultcode") if soap11 else payload.findtext(f"{{{soap_ns}}}Code/{{{soap_ns}}}Value")
    side = {"client": ("Client", "Sender"), "server": ("Server", "Receiver")}[fault.plek][0 if soap11 else 1]
    assert (faultcode or "").endswith(side), faultcode
    omschrijving = body.findtext(f"{{{STUF}}}omschrijving") or ""
    if fault.omschrijving is not None:
        assert omschrijving == fault.omschrijving, shown
    if fault.omschrijving_contains is not None:
        assert fault.omschrijving_contains.lower() in omschrijving.lower(), shown
    if fault.details_contains is not None:
        assert fault.details_contains.lower() in (body.findtext(f"{{{STUF}}}details") or "").lower(), shown
    reason = body.findtext(f"{{{STUF}}}detailsXML/{{{FOUT}}}reden")
    assert reason, f"no detailsXML/fout:reden in the fault:\n{shown}"
    return reason


def check_calls(expect: Expect, calls: list[ZgwCall]) -> None:
    seen = sorted(call.key for call in calls)
    assert Counter(seen) == Counter(expect.call_keys), "the ZGW calls were:\n" + "\n".join(seen)
    for wanted in expect.calls or []:
        if isinstance(wanted, ExpectedCall):
            bodies = [call.json() for call in calls if call.key == wanted.call]
            assert any(contains(body, wanted.body) for body in bodies), (
                f"no {wanted.call} with a body containing {wanted.body}; the bodies: {bodies}"
            )


def contains(actual: Any, expected: Any) -> bool:
    """``expected`` is a part of ``actual``: objects compared key by key (recursively), everything else equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and contains(actual[k], v) for k, v in expected.items())
    return bool(actual == expected)


async def check_stored_content(app: CaseApp, identificatie: str, request: bytes) -> None:
    """The document's stored bytes are the decoded inhoud of the request, and its bestandsomvang says so."""
    inhoud = etree.fromstring(request, _SAFE).xpath("//*[local-name()='inhoud']")[-1]
    [eio] = await app.zgw.documenten.list("enkelvoudiginformatieobjecten", {"identificatie": identificatie})
    async with app.zgw.documenten.stream_download(eio["inhoud"]) as response:
        stored = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert stored == base64.b64decode("".join((inhoud.text or "").split()))
    assert eio["bestandsomvang"] == len(stored)


def compare_expected(path: Path, envelope: etree._Element) -> None:
    """The whole answer envelope against ``expected.xml``, volatile values as placeholders (see ``volatile``);
    with $STUF_BRIDGE_UPDATE_CASES=1 the file is rewritten from the answer instead."""
    if updating():
        path.write_text("\n".join(canonical_lines(envelope, volatile)) + "\n", encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert_xml_equal(envelope, expected, volatile, names=(str(path), "answer"))


def updating() -> bool:
    return _UPDATING


def update_reason(path: Path, old: str, new: str) -> None:
    """Rewrite the one ``reason:`` line of a case.yaml (the rest of the file, comments included, stays)."""
    text = path.read_text(encoding="utf-8")
    line = re.compile(rf"^(\s*reason: ){re.escape(old)}$", re.MULTILINE)
    assert len(line.findall(text)) == 1, f"{path}: not one line 'reason: {old}'"
    path.write_text(line.sub(rf"\g<1>{new}", text), encoding="utf-8")


_TODAY_STAMP = re.compile(r"^(\d{8})(\d{6,9})?$")  # a StUF date (YYYYMMDD) or tijdstip (YYYYMMDDhhmmss[fff])


def volatile(root: etree._Element) -> None:
    """Replace what differs from run to run by placeholders, in place: the answer's tijdstipBericht, the
    referentienummer the gateway made for it, uuids, today's date (as ``{today}``) and this year inside the
    identificaties the gateway generates (``{year}``, as in the xpath checks), and our fault reason code (checked by
    the case's ``fault.reason``, so that a reworded reason changes one line, not every expected.xml)."""
    now = datetime.now(AMSTERDAM)
    today, year = now.strftime("%Y%m%d"), now.strftime("%Y")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element)
        if name.namespace == STUF and name.localname == "tijdstipBericht":
            element.text = "{tijdstipBericht}"
        elif name.namespace == STUF and name.localname == "referentienummer" and _is_generated(element):
            element.text = "{referentienummer}"
        elif name.namespace == FOUT and name.localname == "reden":
            element.text = "{reason}"
        elif element.text:
            text = _UUID.sub("{uuid}", element.text)
            stamp = _TODAY_STAMP.match(text)
            if stamp and stamp.group(1) == today:
                text = "{today}" + ("{time}" if stamp.group(2) else "")
            if name.localname == "identificatie":
                text = re.sub(rf"^(\w*?\D?){year}(?=\D?\d{{5,}}$)", r"\g<1>{year}", text)
            element.text = text
        for key, value in element.attrib.items():
            element.set(key, _UUID.sub("{uuid}", value))


def _is_generated(element: etree._Element) -> bool:
    """The referentienummer of the answer's own stuurgegevens (the gateway numbers each answer); the one a request
    carries, echoed as crossRefnummer, is the client's and stays."""
    parent = element.getparent()
    return parent is not None and etree.QName(parent).localname == "stuurgegevens"


def stuf_message(envelope: etree._Element) -> etree._Element:
    """The StUF message: the Body's first element, or the Fo02/Fo03 inside a SOAP fault's detail."""
    soap_ns = etree.QName(envelope).namespace
    payload = first_element(envelope.find(f"{{{soap_ns}}}Body"))
    if payload.tag != f"{{{soap_ns}}}Fault":
        return payload
    detail = payload.find("detail") if soap_ns == SOAP11 else payload.find(f"{{{soap_ns}}}Detail")
    assert detail is not None, etree.tostring(payload)
    return first_element(detail)


def first_element(parent: etree._Element | None) -> etree._Element:
    assert parent is not None
    return next(child for child in parent if isinstance(child.tag, str))


def texts(element: etree._Element, xpath: str) -> list[str]:
    return [found if isinstance(found, str) else (found.text or "") for found in element.xpath(xpath, namespaces=NS)]


def expand(text: str) -> str:
    return text.replace("{year}", datetime.now(AMSTERDAM).strftime("%Y"))


def clark(name: str) -> str:
    if name.startswith("{"):
        return name
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"
