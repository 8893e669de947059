"""Data-driven cases for the zaak operations: request → expected ZGW calls → expected answer.

Each folder under ``tests/cases/zgw/<operation>/<case>/`` holds ``request.xml``, optional ``setup-*.xml`` files
(messages sent first, in name order, e.g. the creeerZaak a question is about) and ``case.yaml``::

    description: …
    endpoint: OntvangAsynchroon
    soap_action: http://www.egem.nl/StUF/sector/zkn/0310/creeerZaak_Lk01
    setup: [{file: setup-1.xml, soap_action: …}]
    expect:
      answer: "StUF:Bv03Bericht"             # root of the StUF answer
      calls:                                 # the ZGW calls of the request itself, in any order: METHOD /path
        - GET /catalogi/api/v1/zaaktypen       # (uuids in paths are written as {uuid})
      xpath: {"//ZKN:identificatie": "…"}   # texts in the answer

The catalogue cache is warm or cold as the setup leaves it, so the expected calls show what a message really costs.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import STUF, ZDS, ZKN
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.validation import Schemas

from .conftest import Harness

CASES = Path(__file__).resolve().parents[1] / "cases" / "zgw"
NS = {"StUF": STUF, "ZKN": ZKN, "ZDS": ZDS}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _cases() -> list[Any]:
    return [pytest.param(f.parent, id=f"{f.parent.parent.name}/{f.parent.name}")
            for f in sorted(CASES.glob("*/*/case.yaml"))]


async def _send(harness: Harness, folder: Path, file: str, endpoint: str, soap_action: str):
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": soap_action}
    return await harness.gateway.handle(Service(endpoint), (folder / file).read_bytes(),
                                        content_type=headers["Content-Type"], soap_action=soap_action)


def _call(call: Any) -> str:
    path = call.url.split("?", 1)[0].split("/zgw", 1)[-1]
    return f"{call.method} {_UUID.sub('{uuid}', path)}"


@pytest.mark.parametrize("folder", _cases())
async def test_zgw_case(folder: Path, harness: Harness, schemas: Schemas) -> None:
    case = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
    for step in case.get("setup", []):
        reply = await _send(harness, folder, step["file"], step.get("endpoint", "OntvangAsynchroon"),
                            step["soap_action"])
        assert reply.status == 200, reply.body.decode()

    reply = await _send(harness, folder, "request.xml", case["endpoint"], case["soap_action"])

    assert reply.status == 200, reply.body.decode()
    expect = case["expect"]
    answer = parse_answer(reply.body)
    prefix, local = expect["answer"].split(":")
    assert answer.tag == f"{{{NS[prefix]}}}{local}"
    assert schemas.validate(answer) == [], etree.tostring(answer, pretty_print=True).decode()
    assert Counter(_call(c) for c in reply.zgw_calls) == Counter(expect["calls"]), sorted(map(_call, reply.zgw_calls))
    for xpath, value in expect.get("xpath", {}).items():
        assert [e if isinstance(e, str) else e.text for e in answer.xpath(xpath, namespaces=NS)] == [value], xpath
