"""Routing: SOAPAction + body root (+ content for the generic ZDS 1.1 roots) → operation."""

from __future__ import annotations

from collections import Counter

import pytest
from lxml import etree

from stuf_bridge.errors import UnknownOperation
from stuf_bridge.stuf.namespaces import STUF, ZDS, ZKN, Dialect
from stuf_bridge.stuf.registry import REGISTRY, Service
from stuf_bridge.stuf.dispatch import action_tail, resolve

from .support.reference import iter_samples, require_shared

A11 = "http://www.egem.nl/StUF/sector/zkn/0310/"


def _msg(xml: str) -> etree._Element:
    return etree.fromstring(
        f'<root xmlns:ZKN="{ZKN}" xmlns:ZDS="{ZDS}" xmlns:StUF="{STUF}">{xml}</root>'
    )[0]


def test_registry_matches_the_official_operation_counts() -> None:
    counts = Counter((op.dialect, op.service) for op in REGISTRY.operations)
    assert counts[(Dialect.ZDS11, Service.BEANTWOORD_VRAAG)] == 4
    assert counts[(Dialect.ZDS11, Service.ONTVANG_ASYNCHROON)] == 8
    assert counts[(Dialect.ZDS11, Service.VRIJE_BERICHTEN)] == 5
    assert counts[(Dialect.ZDS12, Service.BEANTWOORD_VRAAG)] == 6
    assert counts[(Dialect.ZDS12, Service.ONTVANG_ASYNCHROON)] == 13  # mutatie + overdragen WSDLs merged
    assert counts[(Dialect.ZDS12, Service.VRIJE_BERICHTEN)] == 7
    operation = REGISTRY.get(Dialect.ZDS12, "geefZaakdocumentbewerken_Di02")
    assert operation.request == (ZDS, "geefZaakdocumentBewerken_Di02")
    assert {op.fault_kind for op in REGISTRY.for_service(Dialect.ZDS11, Service.ONTVANG_ASYNCHROON)} == {"Fo03"}
    assert {op.response_kind for op in REGISTRY.operations if op.name.startswith(("updateZaakdocument", "cancel"))} == {
        "Bv02"}


@pytest.mark.parametrize(
    "action, expected",
    [
        (f"{A11}creeerZaak_Lk01", "creeerZaak"),
        (f'"{A11}updateZaak_Lk01"', "updateZaak"),
        (f"{A11}ActualiseerZaakstatus_LK01", "actualiseerZaakstatus"),
        ("http://www.stufstandaarden.nl/koppelvlak/zds0120/updateZaak_ZakLk01", "updateZaak"),
        ("updateZaak", "updateZaak"),
    ],
)
def test_generic_zds11_root_is_told_apart_by_action(action: str, expected: str) -> None:
    message = _msg("<ZKN:zakLk01><ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort></ZKN:parameters>"
                   "</ZKN:zakLk01>")
    assert resolve(REGISTRY, message, action.strip('"')).function == expected


@pytest.mark.parametrize(
    "body, expected",
    [
        (("<ZKN:zakLk01><ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort></ZKN:parameters>"
         "<ZKN:object><ZKN:identificatie>1</ZKN:identificatie></ZKN:object></ZKN:zakLk01>"), "creeerZaak"),
        (("<ZKN:zakLk01><ZKN:parameters><StUF:mutatiesoort>W</StUF:mutatiesoort></ZKN:parameters>"
         "<ZKN:object><ZKN:identificatie>1</ZKN:identificatie><ZKN:heeft/></ZKN:object>"
         "<ZKN:object><ZKN:identificatie>1</ZKN:identificatie><ZKN:heeft/></ZKN:object></ZKN:zakLk01>"),
         "actualiseerZaakstatus"),
        (("<ZKN:zakLk01><ZKN:parameters><StUF:mutatiesoort>W</StUF:mutatiesoort></ZKN:parameters>"
         "<ZKN:object><ZKN:identificatie>1</ZKN:identificatie><ZKN:omschrijving>x</ZKN:omschrijving></ZKN:object>"
         "</ZKN:zakLk01>"), "updateZaak"),
        ("<ZKN:edcLk01><ZKN:object><ZKN:inhoud>aGk=</ZKN:inhoud></ZKN:object></ZKN:edcLk01>", "voegZaakdocumentToe"),
        ("<ZKN:edcLk01><ZKN:object><ZKN:titel>x</ZKN:titel></ZKN:object></ZKN:edcLk01>", "maakZaakdocument"),
        ("<ZKN:zakLv01><ZKN:scope><ZKN:object><ZKN:identificatie/><ZKN:heeft/></ZKN:object></ZKN:scope></ZKN:zakLv01>",
         "geefZaakstatus"),
        ("<ZKN:zakLv01><ZKN:scope><ZKN:object><ZKN:heeftRelevant/></ZKN:object></ZKN:scope></ZKN:zakLv01>",
         "geefLijstZaakdocumenten"),
        ("<ZKN:zakLv01><ZKN:scope><ZKN:object><ZKN:omschrijving/></ZKN:object></ZKN:scope></ZKN:zakLv01>",
         "geefZaakdetails"),
        ("<ZDS:updateZaak_ZakLk01/>", "updateZaak"),
        ("<StUF:Bv03Bericht/>", "ontvangBv03"),
        ("<StUF:Bv01Bericht/>", "ontvangBv01"),
    ],
)
@pytest.mark.parametrize("action", [None, "UnknownSoapAction", f"{A11}zakLk01", "http://x/irrelevant"])
def test_content_decides_without_a_useful_action(body: str, expected: str, action: str | None) -> None:
    assert resolve(REGISTRY, _msg(body), action).function == expected


@pytest.mark.parametrize(
    "body", ["<ZKN:bslLk01/>", '<x:foo xmlns:x="urn:x"/>', "<StUF:Fo02Bericht/>", "<ZDS:creeerBesluit_BslLk01/>"]
)
def test_unknown_messages(body: str) -> None:
    with pytest.raises(UnknownOperation):
        resolve(REGISTRY, _msg(body), None)


def test_action_tail() -> None:
    assert action_tail(f"{A11}creeerZaak_Lk01/") == "creeerZaak_Lk01"
    assert action_tail("") is None


def test_real_sample_requests_route_to_the_operation_their_soapaction_names() -> None:
    """Every public sample request with a known SOAPAction routes to that operation, and — without the action —
    the content-based fallback agrees for the generic 1.1 roots in nearly all cases."""
    require_shared()
    checked, fallback_agrees, fallback_total, mismatches = 0, 0, 0, []
    for sample in iter_samples():
        if sample.role != "request" or not sample.soap_action:
            continue
        tail = action_tail(sample.soap_action) or ""
        by_name = [op for op in REGISTRY.operations if op.name.lower() == tail.lower()]
        if not by_name:  # zakLv01 / irrelevant / UnknownSoapAction: nothing to compare with
            continue
        try:
            op = resolve(REGISTRY, sample.body, sample.soap_action)
        except UnknownOperation as exc:
            mismatches.append(f"{sample.name}: {exc}")
            continue
        checked += 1
        if op.function != by_name[0].function:
            mismatches.append(f"{sample.name}: {tail} → {op.name}")
        if len(REGISTRY.by_element(op.dialect, *op.request)) > 1:
            fallback_total += 1
            fallback_agrees += resolve(REGISTRY, sample.body, None).function == op.function
    assert checked > 300
    assert not mismatches, "\n".join(mismatches[:20])
    # The content fallback is a heuristic; it must be right for the vast majority of real messages.
    assert fallback_agrees / fallback_total > 0.9, (fallback_agrees, fallback_total)
