"""The pipeline's seams: what the route stage knows about a message before any flow runs (``stuf/subject.py``), the
order of the stages, the route decision in the log line, and the fault reason in the answer."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from lxml import etree

from stuf_bridge.gateway import Gateway, parse_answer
from stuf_bridge.pipeline import Exchange, Mode, Route
from stuf_bridge.settings import load_settings
from stuf_bridge.store import create_store
from stuf_bridge.stuf.namespaces import FOUT, STUF
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.subject import Subject, read_subject
from stuf_bridge.stuf.validation import Schemas
from tests.operations import besluit_messages as bm
from tests.operations import details_messages as dtm
from tests.operations import document_messages as dm
from tests.operations import messages as zm


def body_element(message: tuple[bytes, dict[str, str]]) -> etree._Element:
    return parse_answer(message[0])  # the StUF element inside the SOAP body


SUBJECTS: list[tuple[str, Any, Subject]] = [
    ("creeerZaak 1.1", zm.creeer_zaak(), Subject(zaak="0363ZK2024-000101", zaaktype="MELDING-OR",
                                              zaken=("0363ZK2024-000101",))),
    ("creeerZaak 1.2 without identificatie", zm.creeer_zaak(dialect="1.2", identificatie=None),
     Subject(zaaktype="MELDING-OR")),
    ("creeerZaak with a hoofdzaak", zm.creeer_zaak(zaak_relations=zm.zaak_relatie("heeftAlsHoofdzaak", "Z-HOOFD")),
     Subject(zaak="0363ZK2024-000101", zaaktype="MELDING-OR", zaken=("0363ZK2024-000101", "Z-HOOFD"))),
    ("voegZaakdocumentToe", dm.voeg_zaakdocument_toe(identificatie="D-1", zaak="Z-7"),
     Subject(zaak="Z-7", zaken=("Z-7",), documenten=("D-1",))),
    ("geefLijstZaakdocumenten (scope not a subject)", dm.geef_lijst_zaakdocumenten(zaak="Z-8"),
     Subject(zaak="Z-8", zaken=("Z-8",))),
    ("geefZaakdocumentLezen 1.2", dm.geef_zaakdocument_lezen(dialect="1.2", identificatie="D-2"),
     Subject(documenten=("D-2",))),
    ("geefZaakdetails", dtm.geef_zaakdetails(identificatie="Z-9"), Subject(zaak="Z-9", zaken=("Z-9",))),
    ("voegBesluitToe", bm.voeg_besluit_toe(identificatie="B-1", zaak="Z-10"),
     Subject(zaak="Z-10", zaken=("Z-10",), besluiten=("B-1",))),
]


@pytest.mark.parametrize(("message", "expected"), [case[1:] for case in SUBJECTS], ids=[c[0] for c in SUBJECTS])
def test_subject_names_what_the_message_is_about(message: Any, expected: Subject) -> None:
    assert read_subject(body_element(message)) == expected


@pytest.fixture
async def gateway(tmp_path: Any) -> Any:
    settings = load_settings(None, data_dir=tmp_path)
    store = create_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    await store.open()
    yield Gateway(settings, store, Schemas.from_settings(settings))
    await store.close()


def test_the_stages_in_their_order(gateway: Gateway) -> None:
    names = [stage.name for stage in gateway.stages]
    assert names == ["record", "answer", "authenticate", "read", "authenticate-token", "check", "tenant", "route",
                     "authorise", "validate", "claim", "handle"]


async def test_a_router_decides_and_the_log_line_says_how(gateway: Gateway) -> None:
    """The route stage asks its router with what the message is about; the decision is in the message's log line.
    A mode without an implementation is a fault (StUF040) with its own reason, not a translated message."""
    seen: list[Any] = []

    class Proxy:
        async def route(self, operation: Any, stuurgegevens: Any, subject: Subject) -> Route:
            seen.append((operation.function, subject.zaaktype))
            return Route(Mode.PROXY, primary="legacy", rule="rules[0]", zaaktype=subject.zaaktype,
                         zaaktype_source="message")

    route = next(stage for stage in gateway.stages if stage.name == "route")
    route.router = Proxy()  # type: ignore[attr-defined]
    body, headers = zm.creeer_zaak()
    with structlog.testing.capture_logs() as logs:
        reply = await gateway.handle(Service.ONTVANG_ASYNCHROON, body, content_type=headers["Content-Type"],
                                     soap_action=headers["SOAPAction"])
    assert seen == [("creeerZaak", "MELDING-OR")]
    assert (reply.outcome, reply.fault_code, reply.fault_reason) == ("fault", "StUF040", "mode-not-supported")
    line = next(entry for entry in logs if entry["event"] == "message")
    assert (line["route"], line["rule"], line["zaaktype"], line["zaak"]) == (
        "proxy", "rules[0]", "MELDING-OR", "0363ZK2024-000101")
    assert line["fault_reason"] == "mode-not-supported"


async def test_a_mode_plugs_in_beside_translate(tmp_path: Any) -> None:
    """The seam a mode uses: a mode handler gets the exchange and sets the answer; the stages around it (claim,
    answer, record) work as for a translated message — a resend gets the stored answer without a second call.
    (Replicate here: a proxied message is not claimed, the legacy end node answers resends; tests/legacy.)"""
    settings = load_settings(None, data_dir=tmp_path)
    store = create_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    await store.open()
    calls: list[str] = []

    async def proxy(x: Exchange) -> None:
        calls.append(x.operation.name if x.operation else "?")
        answer = etree.Element(f"{{{STUF}}}Bv03Bericht", nsmap={"StUF": STUF})
        etree.SubElement(answer, f"{{{STUF}}}stuurgegevens")
        x.answer = answer

    class ProxyAll:
        async def route(self, operation: Any, stuurgegevens: Any, subject: Subject) -> Route:
            return Route(Mode.REPLICATE, primary="legacy")

    try:
        gateway = Gateway(settings, store, Schemas.from_settings(settings), router=ProxyAll(),
                          modes={Mode.REPLICATE: proxy})
        body, headers = zm.creeer_zaak()
        first = await gateway.handle(Service.ONTVANG_ASYNCHROON, body, content_type=headers["Content-Type"],
                                     soap_action=headers["SOAPAction"])
        again = await gateway.handle(Service.ONTVANG_ASYNCHROON, body, content_type=headers["Content-Type"],
                                     soap_action=headers["SOAPAction"])
    finally:
        await store.close()
    assert calls == ["creeerZaak_Lk01"]
    assert (first.outcome, first.replayed, again.outcome, again.replayed) == ("ok", False, "ok", True)
    assert parse_answer(first.body).tag == f"{{{STUF}}}Bv03Bericht"


async def test_a_fault_carries_its_reason_in_details_xml(gateway: Gateway) -> None:
    body, headers = zm.creeer_zaak()
    reply = await gateway.handle(Service.ONTVANG_ASYNCHROON, body.replace(b"<StUF:berichtcode>Lk01",
                                                                          b"<StUF:berichtcode>Lk02"),
                                 content_type=headers["Content-Type"], soap_action=headers["SOAPAction"])
    fault = etree.fromstring(reply.body)
    reden = fault.findtext(f".//{{{STUF}}}detailsXML/{{{FOUT}}}reden")
    assert (reply.fault_code, reply.fault_reason, reden) == ("StUF025", "berichtcode-mismatch",
                                                             "berichtcode-mismatch")
