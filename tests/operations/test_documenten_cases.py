"""Data-driven document cases rendered from the public samples in ``../shared/reference/samples`` at test time (the
samples are never copied into the repository; without ../shared these cases skip).

Each folder ``tests/cases/zgw/<operation>/<case>/`` with a ``sample.yaml`` is one case::

    description: …
    setup:                                   # messages sent first, in order
      - {file: setup-1.xml, soap_action: …}  # a file of the case folder
      - sample: zaakbrug-soapui/…/05a-….xml  # or a sample, rendered
        endpoint: VrijeBerichten
        soap_action: …
        values: {DocumentIdentificatie: …}   # placeholder values (tests/support/render.py); unbound ones get dummies
        replace: {"<ZKN:dct.omschrijving>Brief": "<ZKN:dct.omschrijving>Correspondentie"}   # literal edits
        capture: {CheckedOutId: "//*[local-name()='checkedOutId']"}   # answer texts bound for later steps
    request: {sample: …, endpoint: …, soap_action: …, values: …, replace: …}
    expect:
      answer: "StUF:Bv03Bericht"
      calls: [POST /documenten/api/v1/enkelvoudiginformatieobjecten, …]   # as in test_zgw_cases.py
      xpath: {"//ZKN:titel": "…"}
      stored_content: 0363D20240000001       # the document's content equals the request's decoded inhoud
      fault: {code: StUF058, omschrijving: …}  # instead of answer/xpath/stored_content: a fault is expected

A sample that is a bare message (the StUF-testplatform files) is put into a SOAP 1.1 envelope.
"""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import SOAP11, STUF
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.validation import Schemas

from ..support.reference import extract_body, require_reference
from ..support.render import render
from .conftest import Harness
from .test_zgw_cases import NS, _call

CASES = Path(__file__).resolve().parents[1] / "cases" / "zgw"


def _cases() -> list[Any]:
    return [pytest.param(f.parent, id=f"{f.parent.parent.name}/{f.parent.name}")
            for f in sorted(CASES.glob("*/*/sample.yaml"))]


def _message(folder: Path, step: dict[str, Any], captured: dict[str, str]) -> bytes:
    if "file" in step:
        text = (folder / step["file"]).read_text(encoding="utf-8")
    else:
        text = require_reference("samples", *step["sample"].split("/")).read_text(encoding="utf-8")
    text = render(text, values={**step.get("values", {}), **captured})
    for old, new in (step.get("replace") or {}).items():
        assert old in text, f"{old!r} not in {step.get('sample') or step.get('file')}"
        text = text.replace(old, new)
    text = text.replace('<?xml version="1.0" encoding="UTF-8"?>', "", 1).strip()
    body = extract_body(etree.fromstring(text.encode("utf-8")))
    assert body is not None
    referentienummer = body.find(f".//{{{STUF}}}referentienummer")
    if referentienummer is not None:  # rendered samples share one dummy: each step is a new message
        referentienummer.text = f"{folder.name}-{step.get('file') or Path(step['sample']).stem}"[-40:]
    envelope = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11})
    etree.SubElement(envelope, f"{{{SOAP11}}}Body").append(body)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


async def _send(harness: Harness, folder: Path, step: dict[str, Any], captured: dict[str, str]) -> tuple[Any, bytes]:
    body = _message(folder, step, captured)
    reply = await harness.gateway.handle(Service(step.get("endpoint", "OntvangAsynchroon")), body,
                                         content_type="text/xml; charset=utf-8", soap_action=step["soap_action"])
    return reply, body


@pytest.mark.parametrize("folder", _cases())
async def test_document_sample_case(folder: Path, harness: Harness, schemas: Schemas) -> None:
    case = yaml.safe_load((folder / "sample.yaml").read_text(encoding="utf-8"))
    captured: dict[str, str] = {}
    for step in case.get("setup", []):
        reply, _ = await _send(harness, folder, step, captured)
        assert reply.status == 200, reply.body.decode()[:3000]
        answer = parse_answer(reply.body)
        for name, xpath in (step.get("capture") or {}).items():
            [captured[name]] = [e if isinstance(e, str) else e.text for e in answer.xpath(xpath, namespaces=NS)]

    reply, request = await _send(harness, folder, case["request"], captured)

    expect = case["expect"]
    assert not [w for w in reply.warnings if w.startswith("schema:")], reply.warnings
    if "fault" in expect:
        assert reply.status == 500, reply.body.decode()[:3000]
        detail = etree.fromstring(reply.body)
        for name, value in expect["fault"].items():
            assert detail.findtext(f".//{{*}}detail//StUF:{name}", namespaces=NS) == value, name
        calls = sorted(map(_call, reply.zgw_calls))
        assert Counter(calls) == Counter(expect["calls"]), "\n".join(calls)
        return
    assert reply.status == 200, reply.body.decode()[:3000]
    answer = parse_answer(reply.body)
    prefix, local = expect["answer"].split(":")
    assert answer.tag == f"{{{NS[prefix]}}}{local}"
    assert schemas.validate(answer) == [], etree.tostring(answer, pretty_print=True).decode()[:5000]
    calls = sorted(map(_call, reply.zgw_calls))
    assert Counter(calls) == Counter(expect["calls"]), "\n".join(calls)
    for xpath, value in (expect.get("xpath") or {}).items():
        assert [e if isinstance(e, str) else e.text for e in answer.xpath(xpath, namespaces=NS)] == [value], xpath
    if "stored_content" in expect:
        inhoud = etree.fromstring(request).xpath("//*[local-name()='inhoud']")[-1]
        [eio] = await harness.zgw.documenten.list("enkelvoudiginformatieobjecten",
                                                  {"identificatie": expect["stored_content"]})
        async with harness.zgw.documenten.stream_download(eio["inhoud"]) as response:
            stored = b"".join([chunk async for chunk in response.aiter_bytes()])
        assert stored == base64.b64decode("".join((inhoud.text or "").split()))
        assert eio["bestandsomvang"] == len(stored)
