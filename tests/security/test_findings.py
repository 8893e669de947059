"""Hardening findings 7, 8, 9 and 11 (docs/security.md). A BSN is never cut: too long, too short, not digits or
failing the elfproef is a fault that names the element, and no zaak is created (the rol would have named another
person). Faults say nothing of Python; a nil besluit identificatie and asyncpg's protocol breakage are proper faults;
an empty document is a document without content."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from stuf_bridge.gateway import parse_answer
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import STUF
from stuf_bridge.stuf.validation import Schemas

from ..operations.conftest import running_harness
from ..operations.messages import INITIATOR, creeer_zaak

NS = {"StUF": STUF}
VALID = "999993653"


@pytest.mark.parametrize(("bsn", "problem"), [
    ("1999993653", "9 cijfers, niet 10"),
    ("99999365", "9 cijfers, niet 8"),
    ("999993654", "elfproef"),
    ("999 99 3653", "9 cijfers"),
])
async def test_a_wrong_bsn_is_a_fault_naming_the_element(make_settings: Callable[..., Settings], schemas: Schemas,
                                                        bsn: str, problem: str) -> None:
    assert VALID in INITIATOR
    body, headers = creeer_zaak(identificatie=f"0363BSN-{len(bsn)}-{bsn[-1]}", referentienummer=f"bsn-{bsn}",
                                initiator=INITIATOR.replace(VALID, bsn))
    async with running_harness(make_settings(), schemas) as harness:
        response = await harness.post(body, headers)
        assert harness.posted("/zaken") == []  # no zaak: nothing is half-written
    assert response.status_code == 500, response.text
    message = parse_answer(response.content)
    details = message.findtext(".//StUF:details", namespaces=NS) or ""
    assert "inp.bsn" in details and problem in details, details
    assert message.findtext(".//StUF:code", namespaces=NS) == "StUF058"
    assert "ingekort" not in response.text
    assert bsn.replace(" ", "") not in details  # the refused value is not repeated


async def test_voeg_besluit_toe_with_a_nil_identificatie_is_a_fault(make_settings: Callable[..., Settings],
                                                                    schemas: Schemas) -> None:
    """Finding 9: a nil besluit identificatie was a KeyError answered as "Interne fout"."""
    from stuf_bridge.stuf.registry import Service

    from ..operations.besluit_messages import voeg_besluit_toe

    async with running_harness(make_settings(), schemas) as harness:
        body, headers = creeer_zaak(identificatie="0363NIL-BSL", referentienummer="nil-bsl-zaak")
        assert (await harness.post(body, headers)).status_code == 200
        body, headers = voeg_besluit_toe(identificatie="WEG", zaak="0363NIL-BSL", referentienummer="nil-bsl")
        body = body.replace(b"<ZKN:identificatie>WEG</ZKN:identificatie>",
                            b'<ZKN:identificatie xsi:nil="true" StUF:noValue="geenWaarde"/>')
        reply = await harness.gateway.handle(Service.VRIJE_BERICHTEN, body, content_type=headers["Content-Type"],
                                             soap_action=headers["SOAPAction"])
        assert (reply.fault_code, reply.fault_reason) == ("StUF058", "required-element-missing")
        assert harness.posted("/besluiten") == []


def test_asyncpg_protocol_breakage_is_a_store_error() -> None:
    """Finding 9: asyncpg's InternalClientError (backends terminated) is translated like any driver error."""
    asyncpg = pytest.importorskip("asyncpg")
    from stuf_bridge.faults import to_fault
    from stuf_bridge.store import store as store_module

    assert asyncpg.InternalClientError in store_module._FOREIGN_ERRORS
    store = store_module.Store("sqlite://")
    with pytest.raises(store_module.StoreError) as caught, store._translated("claim"):
        raise asyncpg.InternalClientError("cannot switch to state 12")
    fault = to_fault(caught.value)
    assert fault.reason == "store-unavailable"
    assert "state 12" not in (fault.details or "") and "sqlite" not in (fault.details or "")


@pytest.mark.parametrize(("error", "said"), [
    (httpx.ConnectError("[Errno -2] Name or service not known"), "niet bereikbaar"),
    (httpx.ReadTimeout("timed out"), "geen antwoord op tijd"),
])
def test_transport_faults_say_nothing_of_python(error: Exception, said: str) -> None:
    """Finding 8: a ZGW call that failed in transport names the call and what happened, not the exception text."""
    from stuf_bridge.faults import to_fault
    from stuf_bridge.zgw.errors import error_from_exception

    request = httpx.Request("GET", "http://zgw.intern:8000/zaken/api/v1/zaken?identificatie=x")
    fault = to_fault(error_from_exception(error, request, 30))  # type: ignore[arg-type]
    assert said in (fault.details or "")
    assert "/zaken/api/v1/zaken" in (fault.details or "")
    for internal in ("Errno", "ConnectError", "ReadTimeout", "zgw.intern", "timed out"):
        assert internal not in (fault.details or "") and internal not in fault.omschrijving


async def test_an_empty_document_is_a_document_without_content(make_settings: Callable[..., Settings],
                                                               schemas: Schemas) -> None:
    """Finding 11, decided: an inhoud of 0 bytes creates the document without content, as maakZaakdocument does
    (bestandsomvang 0, no inhoud), with a warning; updateZaakdocument fills it later."""
    from ..operations.document_messages import voeg_zaakdocument_toe

    async with running_harness(make_settings(), schemas) as harness:
        body, headers = creeer_zaak(identificatie="0363LEEG", referentienummer="leeg-zaak")
        assert (await harness.post(body, headers)).status_code == 200
        body, headers = voeg_zaakdocument_toe(identificatie="0363D-LEEG", zaak="0363LEEG", content=b"")
        reply = await harness.handle(body, headers)
        assert reply.status == 200, reply.body.decode()
        assert any("inhoud is leeg" in warning for warning in reply.warnings), reply.warnings
        posted = harness.posted("/enkelvoudiginformatieobjecten")
        assert len(posted) == 1
        assert posted[0]["bestandsomvang"] == 0 and "inhoud" not in posted[0]


def test_a_test_environment_may_switch_the_elfproef_off_never_the_length() -> None:
    from datetime import UTC, datetime

    from stuf_bridge.mapping.converters import Bsn, Ctx
    from stuf_bridge.stuf.values import ConversionError

    def cx() -> Ctx:
        return Ctx(datetime.now(UTC), [], "inp.bsn")

    lenient = Bsn(elfproef=False)
    assert lenient.to_zgw("123456789", None, cx()) == "123456789"
    with pytest.raises(ConversionError, match="niet 10"):
        lenient.to_zgw("1234567890", None, cx())
    with pytest.raises(ConversionError, match="elfproef"):
        Bsn().to_zgw("123456789", None, cx())


async def test_a_relative_namespace_uri_is_no_internal_error(make_settings: Callable[..., Settings],
                                                             schemas: Schemas) -> None:
    """Finding 9: a relative namespace URI made the resend digest's C14N raise (C14NError), answered as StUF058
    "Interne fout". The same message must now be handled as any other (the digest is the gateway's own walk)."""
    from lxml import etree

    body, headers = creeer_zaak(identificatie="0363REL-NS", referentienummer="relatieve-ns")
    body = body.replace(b'<ZKN:omschrijving>', b'<ZKN:omschrijving xmlns:rel="relatief/ns" rel:x="1">', 1)
    with pytest.raises(etree.C14NError):  # the input that broke the C14N digest
        etree.tostring(etree.fromstring(body), method="c14n")
    async with running_harness(make_settings(validation="off"), schemas) as harness:
        response = await harness.post(body, headers)
        again = await harness.post(body, headers)  # a resend: the digest is computed and compared
    assert response.status_code == 200 and b"Bv03" in response.content, response.text
    assert again.status_code == 200 and b"Bv03" in again.content, again.text
    assert len(harness.posted("/zaken")) == 1
