"""Replays every data-driven case under ``tests/cases/<operation>/<case>/``.

A case folder holds ``request.xml`` (the raw HTTP body, bytes as sent) and ``case.yaml``::

    description: what the case shows
    endpoint: VrijeBerichten            # POST /zds/<endpoint>; omit for POST /zds
    soap_action: '"http://…/genereerZaakIdentificatie_Di02"'   # the raw header; omit to send none
    content_type: text/xml; charset=utf-8
    settings: {default_gemeentecode: "0000"}                     # optional setting overrides
    expect:
      status: 200
      soap: "1.1"                       # SOAP version of the answer envelope
      answer: "{ns}localname"           # root of the StUF answer (Clark notation or prefix:name)
      xpath: {"//ZKN:zaak/ZKN:identificatie": "1900{year}0000001"}   # exact texts; {year} = this year
      fault: {kind: Fo02, code: StUF055, plek: client, omschrijving_contains: "..."}
      schema_valid: true                # the StUF answer validates against our schemas (default true)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from stuf_bridge.stuf.namespaces import SOAP11, SOAP12, STUF, ZDS, ZKN
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.stuf.values import AMSTERDAM

CASES = Path(__file__).parent / "cases"
NS = {"StUF": STUF, "ZKN": ZKN, "ZDS": ZDS, "soap11": SOAP11, "soap12": SOAP12}


def _cases() -> list[Any]:
    found = []
    for case_file in sorted(CASES.glob("*/*/case.yaml")):
        folder = case_file.parent
        found.append(pytest.param(folder, id=f"{folder.parent.name}/{folder.name}"))
    return found


def _expand(text: str) -> str:
    return text.replace("{year}", datetime.now(AMSTERDAM).strftime("%Y"))


def _clark(name: str) -> str:
    if name.startswith("{"):
        return name
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


@pytest.mark.parametrize("folder", _cases())
async def test_case(folder: Path, make_settings, make_client, schemas: Schemas) -> None:
    case = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
    expect = case["expect"]
    client = await make_client(make_settings(**case.get("settings", {})))
    headers = {"Content-Type": case.get("content_type", "text/xml; charset=utf-8")}
    if "soap_action" in case:
        headers["SOAPAction"] = case["soap_action"]
    path = f"/zds/{case['endpoint']}" if case.get("endpoint") else "/zds"

    response = await client.post(path, content=(folder / "request.xml").read_bytes(), headers=headers)

    assert response.status_code == expect["status"], response.text
    envelope = etree.fromstring(response.content)
    soap_ns = SOAP11 if expect.get("soap", "1.1") == "1.1" else SOAP12
    assert envelope.tag == f"{{{soap_ns}}}Envelope"
    assert response.headers["content-type"].startswith("text/xml" if soap_ns == SOAP11 else "application/soap+xml")
    body = envelope.find(f"{{{soap_ns}}}Body")
    payload = body[0]

    if "fault" in expect:
        fault = expect["fault"]
        detail = payload.find("detail") if soap_ns == SOAP11 else payload.find(f"{{{soap_ns}}}Detail")
        assert payload.tag == f"{{{soap_ns}}}Fault"
        message = detail[0]
        assert message.tag == f"{{{STUF}}}{fault['kind']}Bericht"
        assert message.findtext(f"{{{STUF}}}body/{{{STUF}}}code") == fault["code"], etree.tostring(message)
        plek = message.findtext(f"{{{STUF}}}body/{{{STUF}}}plek")
        assert plek == fault["plek"]
        code_value = (payload.findtext("faultcode") if soap_ns == SOAP11
                      else payload.findtext(f"{{{soap_ns}}}Code/{{{soap_ns}}}Value"))
        assert code_value.endswith({"client": ("Client", "Sender"), "server": ("Server", "Receiver")}[plek]
                                   [0 if soap_ns == SOAP11 else 1])
        omschrijving = message.findtext(f"{{{STUF}}}body/{{{STUF}}}omschrijving")
        if "omschrijving_contains" in fault:
            assert fault["omschrijving_contains"].lower() in omschrijving.lower(), omschrijving
        if "details_contains" in fault:
            details = message.findtext(f"{{{STUF}}}body/{{{STUF}}}details") or ""
            assert fault["details_contains"].lower() in details.lower(), details
    else:
        message = payload
    if "answer" in expect:
        assert message.tag == _clark(expect["answer"])
    for xpath, value in expect.get("xpath", {}).items():
        found = message.xpath(xpath, namespaces=NS)
        texts = [f if isinstance(f, str) else (f.text or "") for f in found]
        assert texts == [_expand(value)], f"{xpath}: {texts}"
    if expect.get("schema_valid", True):
        assert schemas.validate(message) == [], etree.tostring(message, pretty_print=True).decode()
