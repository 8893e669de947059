"""Replay of recorded client traffic through the gateway: real messages, in the order the clients sent them.

* ``openzaakbrug-examples/Swf Suites4SociaalDomein/dump``: a full zaak lifecycle of GWS4all (Suites4SociaalDomein)
  against Open Zaakbrug, requests 01–12 with the answers Open Zaakbrug gave. (13 has no recorded answer and updates
  another zaak that the dump never creates; it is not replayed.)
* ``openzaakbrug-examples/Haarlem Voorbeeld``: Haarlem's MORPLUS (ZDS 1.2) creeerZaak, voegZaakdocumentToe,
  geefZaakdetails and geefLijstZaakdocumenten, no answers recorded.
* ``open-forms-vcr``: Open Formulieren's VCR cassettes (SOAP 1.2), split into registrations: each creeerZaak with
  the genereerDocumentIdentificatie/voegZaakdocumentToe/updateZaak messages that follow it. Cassettes without a
  creeerZaak (a registration retried or updated later) and the client regression test with SOAPAction
  "irrelevant" are not sequences on their own and are not replayed.

Each sequence runs against a fresh embedded backend holding the sample catalogue. Identifiers the recorded answers
handed out (genereer…_Du02) are replaced in later requests by the ones the gateway hands out. A step whose
recorded answer is not a fault must answer without fault, schema-valid, with the recorded answer's root element;
a step whose recorded answer is a fault must fault. A sequence that reaches an operation without a handler yet is
skipped from there, naming it. The samples are read from ../shared at test time; without it the module skips.

For the Suites4SociaalDomein lifecycle the ZGW calls each request makes are pinned too (``swf-calls.yaml``: the
calls as a multiset of ``METHOD /path``, UUIDs written ``{uuid}``), so that the data-driven trio request → ZGW
calls → answer holds for real traffic, not only for messages written for the tests. After a deliberate change,
``RECORD_SWF_CALLS=1 pytest tests/samples/test_recorded_traffic.py -k Swf`` rewrites that file; review its
diff like code.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from stuf_bridge.stuf.validation import Schemas

from ..operations.conftest import Harness
from ..support.reference import extract_body, require_shared, samples_dir, soap_action_of
from .replay import NS, Bindings, Step, check, send, service_for, skip_unbuilt, soap_action_for

require_shared()
SWF_CALLS = Path(__file__).with_name("swf-calls.yaml")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True)
class Recorded:
    """One recorded request, its SOAPAction and the recorded answer (when there is one)."""

    request: Path
    soap_action: str | None
    response: Path | None = None
    unbuilt: str | None = None  # an operation the gateway does not offer (the step and the rest are skipped)


def _parse(path: Path) -> etree._Element:
    # a recorded file may start with a blank line before its XML declaration (a dump artefact)
    return etree.fromstring(path.read_bytes().lstrip(), _PARSER)


def _answer_root(path: Path) -> etree._Element:
    body = extract_body(_parse(path))
    assert body is not None, path
    return body


def _is_fault(answer: etree._Element) -> bool:
    local = etree.QName(answer).localname
    return local == "Fault" or bool(re.fullmatch(r"Fo0\dBericht", local))


# --- the sequences --------------------------------------------------------------------------------------------


def _swf() -> list[Any]:
    base = samples_dir()
    assert base is not None
    dump = base / "openzaakbrug-examples" / "Swf Suites4SociaalDomein" / "dump"
    steps = []
    for request in sorted(dump.glob("[0-9][0-9]-request-*.xml")):
        number = request.name[:2]
        if number == "13":
            continue  # no recorded answer, and another zaak (see the module docstring)
        responses = list(dump.glob(f"{number}-response-*.xml"))
        steps.append(Recorded(request, soap_action_of(request), responses[0] if responses else None))
    return [pytest.param(steps, {}, id="Swf Suites4SociaalDomein dump")]


def _haarlem() -> list[Any]:
    base = samples_dir()
    assert base is not None
    folder = base / "openzaakbrug-examples" / "Haarlem Voorbeeld"
    order = ["creeerzaakRequest.xml", "voegZaakdocumentToe.xml", "geefZaakDetailsRequest.xml",
             "geefLijstZaakdocumenten.xml"]
    steps = [Recorded(folder / name, soap_action_for(_answer_root(folder / name))) for name in order]
    # The examples were captured at different moments: the later ones name zaak 0392-2020-0000001 (once with a
    # digit short), the creeerZaak creates 0392-2020-0000027. Bound to the latter, as one sequence.
    zaak = {"0392-2020-0000001": "0392-2020-0000027", "0392-2020-000001": "0392-2020-0000027"}
    return [pytest.param(steps, zaak, id="Haarlem Voorbeeld")]


# Open Formulieren's payment test updates zaak '1234', a fixture value, after registering zaak 'abc123'.
_VCR_LITERALS = {
    "files/vcr_cassettes/StufZDSPluginPaymentVCRTests/test_emit_order_ids_as_csv_list_instead_of_using_suffixes":
        {"1234": "abc123"},
}


def _open_forms() -> list[Any]:
    base = samples_dir()
    assert base is not None
    params = []
    for cassette in sorted({p.parent for p in (base / "open-forms-vcr").rglob("*.request.xml")}):
        requests = sorted(cassette.glob("*.request.xml"))
        groups: list[list[Recorded]] = []
        for request in requests:
            if "creeerZaak" in request.name:
                groups.append([])
            if groups:  # what comes before the first creeerZaak is not a sequence of its own
                response = request.with_name(request.name.replace(".request.", ".response."))
                groups[-1].append(Recorded(request, soap_action_of(request), response if response.is_file() else None))
        name = cassette.relative_to(base / "open-forms-vcr").as_posix()
        for index, group in enumerate(groups):
            test_id = f"open-forms-vcr/{name}" + (f"#{index}" if len(groups) > 1 else "")
            params.append(pytest.param(group, _VCR_LITERALS.get(name, {}), id=test_id))
    return params


# --- the replay -----------------------------------------------------------------------------------------------


@pytest.mark.reference
@pytest.mark.parametrize(("steps", "literals"), _swf() + _haarlem() + _open_forms())
async def test_recorded_sequence(steps: list[Recorded], literals: dict[str, str], sample_harness: Harness,
                                 schemas: Schemas) -> None:
    base = samples_dir()
    assert base is not None
    bindings = Bindings()
    bindings.recorded.update(literals)
    pinned: dict[str, list[str]] = yaml.safe_load(SWF_CALLS.read_text(encoding="utf-8")) or {}
    recording = os.environ.get("RECORD_SWF_CALLS") == "1"
    for recorded in steps:
        label = recorded.request.relative_to(base).as_posix()
        if recorded.unbuilt:
            skip_unbuilt(recorded.unbuilt, (), label)
        expected = _answer_root(recorded.response) if recorded.response is not None else None
        text = bindings.replace_recorded(recorded.request.read_bytes().decode("utf-8-sig").lstrip())
        soap_action = recorded.soap_action or soap_action_for(_answer_root(recorded.request))
        assert soap_action, f"{label}: no SOAPAction recorded and none follows from the element"
        step = Step(label, text, service_for(soap_action), soap_action,
                    expect_fault=expected is not None and _is_fault(expected))
        reply = await send(sample_harness, step)
        if "Suites4SociaalDomein" in label:
            made = sorted(_call(c) for c in reply.zgw_calls)
            if recording:
                pinned[recorded.request.name] = made
            else:
                assert Counter(made) == Counter(pinned.get(recorded.request.name, [])), (
                    f"{label}: ZGW calls {made}, pinned in swf-calls.yaml {pinned.get(recorded.request.name)}")
        answer = check(reply, step, schemas)
        if answer is None or expected is None:
            continue
        assert answer.tag == expected.tag, f"{label}: answer {answer.tag}, recorded {expected.tag}"
        _bind_identifiers(bindings, expected, answer)


    if recording and any("Suites4SociaalDomein" in str(r.request) for r in steps):
        SWF_CALLS.write_text(
            "# ZGW calls per Suites4SociaalDomein request (tests/samples/test_recorded_traffic.py)\n"
            + yaml.safe_dump(pinned, allow_unicode=True, sort_keys=True, width=120), encoding="utf-8")


def _call(call: Any) -> str:
    return f"{call.method} {_UUID.sub('{uuid}', call.url.split('?', 1)[0].split('/zgw', 1)[-1])}"


def _bind_identifiers(bindings: Bindings, recorded: etree._Element, ours: etree._Element) -> None:
    """Identifiers the recorded answer handed out (genereer…_Du02) → the ones the gateway handed out."""
    for xpath in ("//ZKN:zaak/ZKN:identificatie", "//ZKN:document/ZKN:identificatie",
                  "//ZKN:besluit/ZKN:identificatie", "//ZDS:zaak/ZKN:identificatie",
                  "//ZDS:document/ZKN:identificatie"):
        theirs = [e.text.strip() for e in recorded.xpath(xpath, namespaces=NS) if e.text and e.text.strip()]
        mine = [e.text.strip() for e in ours.xpath(xpath, namespaces=NS) if e.text and e.text.strip()]
        if len(theirs) == 1 and len(mine) == 1 and "_Du02" in etree.QName(recorded).localname:
            bindings.recorded[theirs[0]] = mine[0]
