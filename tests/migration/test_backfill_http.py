"""Lazy back-fill over real HTTP: the gateway under test (``stuf-bridge serve`` with ``backfill: on_reference``)
copies a zaak only the legacy system has into ZGW when a message names it, in both dialects, with documents — the
zaak before the message, its documents through the outbox, or at once when the message needs them."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import ZKN
from tests.operations import details_messages as dtm
from tests.operations import document_messages as dm
from tests.support.server import running_gateway

from ..support.waiting import wait_for
from .conftest import START, Sides, post

BACKFILL = {"default": {"mode": "translate", "backfill": "on_reference"}}


def copied_lines(log: list[str]) -> list[dict[str, object]]:
    events = [json.loads(line) for line in log if line.startswith("{")]
    return [e for e in events if e.get("event") == "zaak_copied"]


def test_a_question_in_zds_1_1_copies_the_zaak_first_and_its_documents_follow(sides: Sides, tmp_path: Path) -> None:
    sides.legacy_zaak("0363BF-11", documents=2, size=3 << 20)  # large enough to be spooled and streamed
    log: list[str] = []
    with running_gateway(tmp_path / "front", env=sides.env(BACKFILL), log=log, timeout=START) as url:
        answer = post(url, "BeantwoordVraag", dtm.geef_zaakdetails(identificatie="0363BF-11",
                                                                     referentienummer="bf-q-1"))
        assert answer.status_code == 200, answer.text
        obj = parse_answer(answer.content).find(f"{{{ZKN}}}antwoord/{{{ZKN}}}object")
        assert obj is not None and obj.findtext(f"{{{ZKN}}}identificatie") == "0363BF-11"
        assert len(obj.findall(f"{{{ZKN}}}heeft")) == 2  # statussen, oldest first, both there
        [zaak] = sides.zaken("0363BF-11")
        wait_for(lambda: sides.documenten(str(zaak["url"])) == ["0363BF-11-D0", "0363BF-11-D1"])
        eio = sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie="0363BF-11-D1")[0]
        assert eio["bestandsomvang"] == 3 << 20
    [copied] = copied_lines(log)
    assert copied["zaak"] == "0363BF-11" and copied["origin"] == "backfill"


def test_a_document_question_in_zds_1_2_gets_the_documents_at_once(sides: Sides, tmp_path: Path) -> None:
    sides.legacy_zaak("0363BF-12", documents=2)
    with running_gateway(tmp_path / "front", env=sides.env(BACKFILL), timeout=START) as url:
        answer = post(url, "BeantwoordVraag", dm.geef_lijst_zaakdocumenten(dialect="1.2", zaak="0363BF-12"))
        assert answer.status_code == 200, answer.text
        names = sorted(el.text or "" for el in parse_answer(answer.content).iter(f"{{{ZKN}}}identificatie"))
    assert names == ["0363BF-12", "0363BF-12-D0", "0363BF-12-D1"]


def test_reading_a_document_of_a_zaak_only_legacy_has_copies_the_zaak_and_answers_it(sides: Sides,
                                                                                    tmp_path: Path) -> None:
    """geefZaakdocumentLezen names only the document: legacy is asked which zaak it belongs to, that zaak is copied
    with its documents, and the client reads the document from ZGW."""
    sides.legacy_zaak("0363BF-DOC", documents=2, size=5000)
    with running_gateway(tmp_path / "front", env=sides.env(BACKFILL), timeout=START) as url:
        answer = post(url, "BeantwoordVraag", dm.geef_zaakdocument_lezen(dialect="1.2",
                                                                          identificatie="0363BF-DOC-D1"))
        assert answer.status_code == 200, answer.text
    inhoud = parse_answer(answer.content).find(f".//{{{ZKN}}}inhoud")
    assert inhoud is not None and base64.b64decode(inhoud.text or "") == (b"0363BF-DOC-1-" * 400)[:5000]
    [zaak] = sides.zaken("0363BF-DOC")
    assert sides.documenten(str(zaak["url"])) == ["0363BF-DOC-D0", "0363BF-DOC-D1"]


def found_objects(answer: bytes) -> list[str]:
    return [obj.findtext(f"{{{ZKN}}}identificatie") or "" for obj in
            parse_answer(answer).iterfind(f"{{{ZKN}}}antwoord/{{{ZKN}}}object")]


def test_a_zaak_neither_side_has_is_answered_as_before(sides: Sides, tmp_path: Path) -> None:
    """Legacy does not know it either: nothing is copied, and the question gets the answer it always got (a La01
    without antwoord)."""
    with running_gateway(tmp_path / "front", env=sides.env(BACKFILL), timeout=START) as url:
        answer = post(url, "BeantwoordVraag", dtm.geef_zaakdetails(identificatie="0363BF-NONE",
                                                                     referentienummer="bf-none"))
    assert answer.status_code == 200 and found_objects(answer.content) == []
    assert sides.zaken("0363BF-NONE") == []


def test_without_backfill_on_the_rule_nothing_is_copied(sides: Sides, tmp_path: Path) -> None:
    sides.legacy_zaak("0363BF-OFF")
    routing = {"default": "translate", "rules": [{"match": {"operation": "creeerZaak"}, "mode": "translate"}]}
    with running_gateway(tmp_path / "front", env=sides.env(routing), timeout=START) as url:
        answer = post(url, "BeantwoordVraag", dtm.geef_zaakdetails(identificatie="0363BF-OFF",
                                                                     referentienummer="bf-off"))
    assert answer.status_code == 200 and found_objects(answer.content) == []
    assert sides.zaken("0363BF-OFF") == []


def test_two_messages_in_two_processes_for_the_same_unknown_zaak_copy_it_once(sides: Sides, tmp_path: Path) -> None:
    sides.legacy_zaak("0363BF-TWO", documents=1)
    logs: tuple[list[str], list[str]] = ([], [])
    data = tmp_path / "front"  # one store, two gateway processes
    with running_gateway(data, env=sides.env(BACKFILL), log=logs[0], timeout=START) as one, \
            running_gateway(data, env=sides.env(BACKFILL), log=logs[1], timeout=START) as two:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(
                lambda args: post(args[0], "BeantwoordVraag", dm.geef_lijst_zaakdocumenten(zaak="0363BF-TWO")),
                [(one,), (two,), (one,), (two,)]))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers if a.status_code != 200]
    for answer in answers:
        names = sorted(el.text or "" for el in parse_answer(answer.content).iter(f"{{{ZKN}}}identificatie"))
        assert names == ["0363BF-TWO", "0363BF-TWO-D0"]
    assert len(sides.zaken("0363BF-TWO")) == 1
    assert len(sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie="0363BF-TWO-D0")) == 1
    assert len(copied_lines(logs[0]) + copied_lines(logs[1])) == 1
