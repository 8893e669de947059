"""Replay of ZaakBrug's end-to-end SoapUI suite (reference/samples/zaakbrug-soapui) through the gateway.

The suite is what ZaakBrug's maintainers run against their own gateway: 67 test cases, each a sequence of real
client messages (GWS4all, Gisvg, MidofficeVuller, Gidso, Suites4SociaalDomein…): genereerZaakIdentificatie →
creeerZaak → geefZaakdetails → updateZaak → actualiseerZaakstatus → documents. Replaying each case in order shows
that these clients' traffic works against stuf-bridge, not just single messages.
Placeholders carrying state (zaak/document identificaties, checkedOutId) are bound to what the gateway answered in
earlier steps, as SoapUI's property transfers do (``replay.Bindings``); dates are the current time.

Per step: a step (or the last step of a case) whose name says it should fail must give a StUF fault; every other
step must answer without fault, schema-valid. ``expectations.yaml`` adds what a case's name promises about a later
geefZaakdetails answer, explicit fault expectations, and the known gateway bugs (strict xfail). A case that reaches
an operation without a handler yet (documents, besluiten) is skipped from that step on, naming the operation.
The samples are read from ../shared at test time; without it the module skips.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from stuf_bridge.stuf.validation import Schemas

from ..operations.conftest import Harness
from ..support.reference import require_shared, samples_dir
from .replay import (
    DOCUMENT_BASE64,
    Bindings,
    Step,
    assert_details,
    check,
    now_local,
    send,
    service_for,
    skip_unbuilt,
    timestamp,
)

require_shared()
SUITE = "zaakbrug-soapui"


class _UniqueKeys(yaml.SafeLoader):
    """A loader that refuses a key given twice (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode) and key.value != "<<"]
        twice = {key for key in keys if keys.count(key) > 1}
        if twice:
            raise yaml.constructor.ConstructorError(None, None, f"keys given twice: {sorted(twice)}", node.start_mark)
        return super().construct_mapping(node, deep=deep)


EXPECTATIONS = yaml.load(Path(__file__).with_name("expectations.yaml").read_text("utf-8"), _UniqueKeys)[SUITE]

# The SoapUI test case properties the requests use, bound to values of the sample catalogue (catalogue.yaml).
TEST_CASE_PROPERTIES = {
    "StgZenderOrganisatie": "1900", "StgZenderApplicatie": "GWS4all", "StgZenderGebruiker": "Gebruiker",
    "StgOntvangerOrganisatie": "1900", "StgOntvangerApplicatie": "CDR",
    "ZaaktypeCode": "PLO", "ZaaktypeOmschrijving": "Portaal Leefomgeving",
    "Zaakstatus1Code": "ontv", "Zaakstatus1Omschrijving": "Ontvangen",
    "Zaakstatus2Code": "Inbeh", "Zaakstatus2Omschrijving": "In behandeling",
    "Zaakstatus3Code": "Afgeh", "Zaakstatus3Omschrijving": "Afgehandeld",
    "DocumentType": "Brief", "DocumentBase64": DOCUMENT_BASE64,
    "MedewerkerIdentificatie": "MDW-0001", "MedewerkerNaam": "Bruiker", "MedewerkerEmail": "mdw@example.com",
}

# A step that should fail says so in its name; a case name that says so applies to its last step. "NoError"
# (ShouldReturnNoErrorWhenNoZaakFound, getNoError) says the opposite.
_SHOULD_FAIL = re.compile(r"ShouldThrow|ShouldGiveError|getError|ThrowError", re.IGNORECASE)


def _should_fail(name: str) -> bool:
    return bool(_SHOULD_FAIL.search(name)) and "noerror" not in name.lower()


def _cases() -> list[Any]:
    base = samples_dir()
    assert base is not None
    steps: dict[str, list[dict[str, str]]] = defaultdict(list)
    for entry in json.loads((base / SUITE / "_index.json").read_text("utf-8")):
        steps[f"{entry['testSuite']}/{entry['testCase']}"].append(entry)
    params = []
    for name, entries in steps.items():
        expect = EXPECTATIONS.get(name) or {}
        marks = [pytest.mark.xfail(strict=True, reason=expect["xfail"])] if expect.get("xfail") else []
        params.append(pytest.param(name, entries, expect, id=name, marks=marks))
    return params


def _expect_fault(case: str, entries: list[dict[str, str]], index: int, expect: dict[str, Any]) -> bool:
    step = entries[index]["testStep"]
    if step in expect.get("fault", []):
        return True
    if step in expect.get("no_fault", []):
        return False
    return _should_fail(step) or (index == len(entries) - 1 and _should_fail(case.split("/", 1)[1]))


@pytest.mark.reference
@pytest.mark.parametrize(("case", "entries", "expect"), _cases())
async def test_soapui_case(case: str, entries: list[dict[str, str]], expect: dict[str, Any],
                           sample_harness: Harness, schemas: Schemas) -> None:
    base = samples_dir()
    assert base is not None
    # '${#TestCase#datumStatusGezet}' is one value for the whole case (a status set twice at the same moment)
    bindings = Bindings(TEST_CASE_PROPERTIES | {"datumStatusGezet": timestamp(now_local())}
                        | expect.get("properties", {}))
    details = expect.get("details", {})
    for index, entry in enumerate(entries):
        label = f"{case}/{entry['testStep']}"
        if entry["testStep"] in expect.get("unbuilt", {}):
            skip_unbuilt(expect["unbuilt"][entry["testStep"]], (), label)
        text = (base / SUITE / entry["file"]).read_bytes().decode("utf-8-sig")
        for literal, prop in expect.get("bind_literals", {}).items():  # a literal that stands for a property
            text = text.replace(literal, "${Properties#" + prop + "}")
        step = Step(label, bindings.render(text), service_for(entry["interface"]), entry.get("soapAction"),
                    _expect_fault(case, entries, index, expect))
        reply = await send(sample_harness, step)
        answer = check(reply, step, schemas)
        if answer is None:
            continue
        bindings.learn(answer)
        for key in _keys(entry["testStep"]):
            if key in details:
                assert_details(answer, details[key], label)
    unknown = set(details) - {key for entry in entries for key in _keys(entry["testStep"])}
    assert not unknown, f"expectations.yaml names steps this case does not have: {sorted(unknown)}"


def _keys(step: str) -> tuple[str, str]:
    """How expectations.yaml may name a step: in full, or by its number ('04' for '04-zds-geefZaakdetails…')."""
    return step, step.split("-", 1)[0]
