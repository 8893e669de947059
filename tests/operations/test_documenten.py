"""The document operations against the embedded backend (over ASGI, by URL): both dialects, content inline and
in bestandsdelen, checkout/check-in, and compensation when any ZGW call fails (FailingTransport)."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import httpx
import pytest
from lxml import etree

from stuf_bridge.gateway import Reply, parse_answer
from stuf_bridge.stuf.namespaces import STUF, ZDS, ZKN
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.validation import Schemas

from ..support.faults import stuf_fault
from . import document_messages as dm
from .conftest import Harness
from .messages import creeer_zaak

NS = {"StUF": STUF, "ZKN": ZKN, "ZDS": ZDS}
ZAAK = "0363ZK2024-000101"
DOC = "0363D20240000001"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


async def send(harness: Harness, message: tuple[bytes, dict[str, str]], service: Service) -> Reply:
    body, headers = message
    return await harness.gateway.handle(service, body, content_type=headers["Content-Type"],
                                        soap_action=headers["SOAPAction"])


async def ok(harness: Harness, message: tuple[bytes, dict[str, str]], service: Service,
             schemas: Schemas | None = None) -> etree._Element:
    reply = await send(harness, message, service)
    assert reply.status == 200, reply.body.decode()[:3000]
    assert not [w for w in reply.warnings if w.startswith("schema:")], reply.warnings
    answer = parse_answer(reply.body)
    if schemas is not None:
        assert schemas.validate(answer) == [], etree.tostring(answer, pretty_print=True).decode()[:5000]
    return answer


def fault(reply: Reply) -> tuple[str, str, str]:
    """(code, omschrijving, details) of a fault reply, for faults from outside the flows (content, ZGW)."""
    found = stuf_fault(reply)
    return found.code, found.omschrijving, found.details


async def with_zaak(harness: Harness, dialect: str = "1.1", identificatie: str = ZAAK) -> None:
    await ok(harness, creeer_zaak(dialect=dialect, identificatie=identificatie,
                                  referentienummer=f"zaak-{identificatie}"), Service.ONTVANG_ASYNCHROON)


async def documents(harness: Harness) -> list[dict[str, Any]]:
    return [d async for d in harness.zgw.documenten.iterate("enkelvoudiginformatieobjecten")]


async def download(harness: Harness, eio: dict[str, Any]) -> bytes:
    async with harness.zgw.documenten.stream_download(eio["inhoud"]) as response:
        return b"".join([chunk async for chunk in response.aiter_bytes()])


def inhoud_bytes(answer: etree._Element) -> bytes:
    import base64

    return base64.b64decode(answer.findtext(".//ZKN:object/ZKN:inhoud", namespaces=NS) or "")


def small_parts(harness: Harness, threshold: int = 1000, chunk: int = 1500) -> None:
    """Bestandsdelen from 1 KB on, parts of 1.5 KB in the embedded backend."""
    harness.gateway.settings = harness.settings = harness.settings.model_copy(
        update={"bestandsdelen_threshold_bytes": threshold})
    for route in harness_app(harness).routes:
        app = getattr(route, "app", None)
        state = getattr(getattr(app, "state", None), "_state", {})
        for value in state.values():
            if hasattr(value, "config") and hasattr(value.config, "upload_chunk_size"):
                value.config = dataclasses.replace(value.config, upload_chunk_size=chunk)


def harness_app(harness: Harness) -> Any:
    transport = harness.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    return transport.app


# --- voegZaakdocumentToe -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_voeg_zaakdocument_toe_and_read_it_back(harness: Harness, schemas: Schemas, dialect: str) -> None:
    await with_zaak(harness, dialect)
    answer = await ok(harness, dm.voeg_zaakdocument_toe(dialect=dialect, content=PDF),
                      Service.ONTVANG_ASYNCHROON, schemas)
    assert answer.tag == f"{{{STUF}}}Bv03Bericht"
    [eio] = await documents(harness)
    assert eio["identificatie"] == DOC
    assert eio["titel"] == "Aanvraagformulier"
    assert eio["formaat"] == "application/pdf"  # xmime:contentType wins over the extension
    assert eio["taal"] == "nld"
    assert eio["vertrouwelijkheidaanduiding"] == "beperkt_openbaar"
    assert eio["indicatieGebruiksrecht"] is False
    assert eio["bestandsnaam"] == "aanvraag.pdf"
    assert eio["bestandsomvang"] == len(PDF)
    assert await download(harness, eio) == PDF
    [zio] = await harness.all("zaakinformatieobjecten", informatieobject=eio["url"])
    assert zio["titel"] == "Aanvraagformulier"

    lijst = await ok(harness, dm.geef_lijst_zaakdocumenten(dialect=dialect), Service.BEANTWOORD_VRAAG, schemas)
    relevant = lijst.xpath("//ZKN:heeftRelevant/ZKN:gerelateerde", namespaces=NS)
    assert [r.findtext("ZKN:identificatie", namespaces=NS) for r in relevant] == [DOC]
    assert relevant[0].findtext("ZKN:dct.omschrijving", namespaces=NS) == "Melding"

    lezen = await ok(harness, dm.geef_zaakdocument_lezen(dialect=dialect), Service.BEANTWOORD_VRAAG, schemas)
    assert inhoud_bytes(lezen) == PDF
    inhoud = lezen.find(".//ZKN:object/ZKN:inhoud", namespaces=NS)
    assert inhoud.get(f"{{{STUF}}}bestandsnaam") == "aanvraag.pdf"
    assert inhoud.get("{http://www.w3.org/2005/05/xmlmime}contentType") == "application/pdf"
    assert lezen.findtext(".//ZKN:isRelevantVoor/ZKN:gerelateerde/ZKN:identificatie", namespaces=NS) == ZAAK


async def test_title_falls_back_to_the_bestandsnaam_and_status_is_set(harness: Harness) -> None:
    await with_zaak(harness)
    await ok(harness, dm.voeg_zaakdocument_toe(titel=None, status=dm.edc_status()), Service.ONTVANG_ASYNCHROON)
    [eio] = await documents(harness)
    assert eio["titel"] == "aanvraag.pdf"
    zaak = (await harness.all("zaken", identificatie=ZAAK))[0]
    status = await harness.zgw.get(zaak["status"])
    statustype = await harness.zgw.get(status["statustype"])
    assert statustype["omschrijving"] == "In behandeling"


async def test_maak_zaakdocument_makes_an_empty_document(harness: Harness, schemas: Schemas) -> None:
    await with_zaak(harness)
    await ok(harness, dm.voeg_zaakdocument_toe(maak=True), Service.ONTVANG_ASYNCHROON, schemas)
    [eio] = await documents(harness)
    assert eio["bestandsomvang"] == 0
    lezen = await ok(harness, dm.geef_zaakdocument_lezen(), Service.BEANTWOORD_VRAAG, schemas)
    assert inhoud_bytes(lezen) == b""


async def test_big_document_goes_in_bestandsdelen_and_reads_back(harness: Harness, schemas: Schemas) -> None:
    small_parts(harness)
    await with_zaak(harness)
    big = os.urandom(5000)
    await ok(harness, dm.voeg_zaakdocument_toe(content=big), Service.ONTVANG_ASYNCHROON)
    puts = [path for method, path, _ in harness.transport.requests if method == "PUT"]
    assert len(puts) == 4 and all("/bestandsdelen/" in p for p in puts)  # 1500 × 3 + 500
    posted = [body for method, path, body in harness.transport.requests
              if method == "POST" and path.endswith("/enkelvoudiginformatieobjecten")]
    created = json.loads(posted[0])
    assert created["bestandsomvang"] == 5000 and "inhoud" not in created
    [eio] = await documents(harness)
    assert not eio["locked"]
    assert await download(harness, eio) == big
    lezen = await ok(harness, dm.geef_zaakdocument_lezen(), Service.BEANTWOORD_VRAAG, schemas)
    assert inhoud_bytes(lezen) == big


# --- failures: every step of voegZaakdocumentToe ------------------------------------------------------------------


VOEG_STEPS = [  # (method, path suffix, nth such request)
    ("POST", "/enkelvoudiginformatieobjecten", 1),
    ("PUT", "", 2),  # the second bestandsdeel
    ("POST", "/unlock", 1),
    ("POST", "/zaakinformatieobjecten", 1),
    ("POST", "/statussen", 1),
]


@pytest.mark.parametrize(("method", "suffix", "nth"), VOEG_STEPS, ids=[f"{m} {s or 'bestandsdeel'}"
                                                                          for m, s, _ in VOEG_STEPS])
async def test_voeg_failure_at_every_step_leaves_nothing_behind(
    harness: Harness, method: str, suffix: str, nth: int
) -> None:
    small_parts(harness)
    await with_zaak(harness)
    before = await harness.all("statussen")
    harness.transport.fail_on = (method, suffix, nth)
    reply = await send(harness, dm.voeg_zaakdocument_toe(content=os.urandom(5000), status=dm.edc_status()),
                       Service.ONTVANG_ASYNCHROON)
    code, _, details = fault(reply)
    assert code == "StUF046", details  # ZGW 5xx on OntvangAsynchroon
    assert harness.transport.seen >= nth
    if suffix != "/enkelvoudiginformatieobjecten":
        assert "ongedaan: POST enkelvoudiginformatieobjecten" in details.split("teruggedraaid:")[1], details
    harness.transport.fail_on = None
    assert await documents(harness) == []
    assert await harness.all("zaakinformatieobjecten") == []
    assert len(await harness.all("statussen")) == len(before)


# --- checkout, check-in, cancelCheckout, ontkoppelen ---------------------------------------------------------------


def checked_out_id(du02: etree._Element) -> str:
    value = du02.findtext("*/{*}checkedOutId")
    assert value
    return value


async def eio_now(harness: Harness) -> dict[str, Any]:
    [eio] = await documents(harness)
    return eio


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_checkout_and_checkin_with_new_content(harness: Harness, schemas: Schemas, dialect: str) -> None:
    await with_zaak(harness, dialect)
    await ok(harness, dm.voeg_zaakdocument_toe(dialect=dialect, content=PDF), Service.ONTVANG_ASYNCHROON)
    du02 = await ok(harness, dm.geef_zaakdocument_bewerken(dialect=dialect), Service.VRIJE_BERICHTEN, schemas)
    assert etree.QName(du02).localname.lower() == "geefzaakdocumentbewerken_du02"
    lock = checked_out_id(du02)
    assert du02.findtext("*/{*}checkedOutBy") == "medewerker1"
    assert inhoud_bytes(du02) == PDF
    assert (await eio_now(harness))["locked"] is True

    new = b"%PDF-1.4 versie 2\n" * 10
    bv02 = await ok(harness, dm.update_zaakdocument(dialect=dialect, checked_out_id=lock, content=new),
                    Service.VRIJE_BERICHTEN, schemas)
    assert bv02.tag == f"{{{STUF}}}Bv02Bericht"
    eio = await eio_now(harness)
    assert not eio["locked"]
    assert eio["titel"] == "Aanvraagformulier (bijgewerkt)"
    assert eio["bestandsnaam"] == "aanvraag-v2.pdf"
    assert eio["versie"] >= 2
    lezen = await ok(harness, dm.geef_zaakdocument_lezen(dialect=dialect), Service.BEANTWOORD_VRAAG, schemas)
    assert inhoud_bytes(lezen) == new


async def test_a_resent_checkout_gets_the_same_lock_and_the_document_again(harness: Harness, schemas: Schemas) -> None:
    """A client that lost the Du02 (a timeout) sends the checkout again: it gets the stored answer — the same lock —
    with the document read again from the version it carried the first time, not an empty inhoud."""
    await with_zaak(harness)
    await ok(harness, dm.voeg_zaakdocument_toe(content=PDF), Service.ONTVANG_ASYNCHROON)
    first_reply = await send(harness, dm.geef_zaakdocument_bewerken(), Service.VRIJE_BERICHTEN)
    # the mark that lets a resend carry the document again is stored, not sent: no stray namespace declaration
    assert first_reply.status == 200 and b"urn:stuf-bridge:idempotency" not in first_reply.body
    first = parse_answer(first_reply.body)
    again = await send(harness, dm.geef_zaakdocument_bewerken(), Service.VRIJE_BERICHTEN)
    assert again.status == 200, again.body.decode()
    assert any("herhaald bericht" in w for w in again.warnings), again.warnings
    second = parse_answer(again.body)
    assert schemas.validate(second) == []
    assert checked_out_id(second) == checked_out_id(first)
    assert inhoud_bytes(second) == PDF
    assert b"urn:stuf-bridge" not in again.body  # the replay mark stays in the store


async def test_checkin_without_checkout_locks_itself_and_uses_bestandsdelen(harness: Harness) -> None:
    small_parts(harness)
    await with_zaak(harness)
    await ok(harness, dm.voeg_zaakdocument_toe(content=PDF[:500]), Service.ONTVANG_ASYNCHROON)
    big = os.urandom(4000)
    await ok(harness, dm.update_zaakdocument(content=big), Service.VRIJE_BERICHTEN)
    calls = [(m, p.rsplit("/", 1)[-1]) for m, p, _ in harness.transport.requests if m in ("POST", "PATCH", "PUT")]
    assert ("POST", "lock") in calls and ("POST", "unlock") in calls
    assert sum(1 for m, _ in calls if m == "PUT") == 3
    eio = await eio_now(harness)
    assert not eio["locked"] and eio["bestandsomvang"] == 4000
    assert await download(harness, eio) == big


async def test_checkout_of_a_locked_document_is_a_fault(harness: Harness) -> None:
    await with_zaak(harness)
    await ok(harness, dm.voeg_zaakdocument_toe(), Service.ONTVANG_ASYNCHROON)
    await ok(harness, dm.geef_zaakdocument_bewerken(), Service.VRIJE_BERICHTEN)
    reply = await send(harness, dm.geef_zaakdocument_bewerken(referentienummer="doc-checkout-2"),
                       Service.VRIJE_BERICHTEN)
    assert stuf_fault(reply).codes == ("StUF058", "document-checked-out")


async def test_wrong_lock_and_missing_lock_are_faults_and_change_nothing(harness: Harness) -> None:
    await with_zaak(harness)
    await ok(harness, dm.voeg_zaakdocument_toe(content=PDF), Service.ONTVANG_ASYNCHROON)
    lock = checked_out_id(await ok(harness, dm.geef_zaakdocument_bewerken(), Service.VRIJE_BERICHTEN))
    before = await eio_now(harness)

    reply = await send(harness, dm.update_zaakdocument(checked_out_id="niet-de-lock", content=b"nieuw"),
                       Service.VRIJE_BERICHTEN)
    assert fault(reply)[:2] == ("StUF058", "De checkedOutId klopt niet")
    reply = await send(harness, dm.update_zaakdocument(content=b"nieuw", referentienummer="doc-checkin-2"),
                       Service.VRIJE_BERICHTEN)
    assert stuf_fault(reply).codes == ("StUF058", "document-checked-out")
    reply = await send(harness, dm.cancel_checkout(checked_out_id="niet-de-lock"), Service.VRIJE_BERICHTEN)
    assert fault(reply)[:2] == ("StUF058", "De checkedOutId klopt niet")

    after = await eio_now(harness)
    assert after == before and after["locked"]
    assert await download(harness, after) == PDF
    await ok(harness, dm.cancel_checkout(checked_out_id=lock, referentienummer="doc-cancel-2"),
             Service.VRIJE_BERICHTEN)
    assert not (await eio_now(harness))["locked"]
    reply = await send(harness, dm.cancel_checkout(checked_out_id=lock, referentienummer="doc-cancel-3"),
                       Service.VRIJE_BERICHTEN)
    assert stuf_fault(reply).codes == ("StUF058", "document-not-checked-out")


async def test_definitief_document_cannot_be_updated(harness: Harness) -> None:
    await with_zaak(harness)
    await ok(harness, dm.voeg_zaakdocument_toe(documentstatus="Definitief"), Service.ONTVANG_ASYNCHROON)
    reply = await send(harness, dm.update_zaakdocument(content=b"nieuw"), Service.VRIJE_BERICHTEN)
    assert stuf_fault(reply).codes == ("StUF058", "document-definitief")
    assert not (await eio_now(harness))["locked"]


async def test_unknown_document_is_stuf064_on_di02(harness: Harness) -> None:
    reply = await send(harness, dm.geef_zaakdocument_bewerken(identificatie="bestaat-niet"), Service.VRIJE_BERICHTEN)
    found = stuf_fault(reply)
    assert found.codes == ("StUF064", "document-not-found")
    assert "bestaat-niet" in found.details


async def test_ontkoppel_zaakdocument_keeps_the_document(harness: Harness, schemas: Schemas) -> None:
    await with_zaak(harness, "1.2")
    await ok(harness, dm.voeg_zaakdocument_toe(dialect="1.2"), Service.ONTVANG_ASYNCHROON)
    lock = checked_out_id(await ok(harness, dm.geef_zaakdocument_bewerken(dialect="1.2"), Service.VRIJE_BERICHTEN))
    reply = await send(harness, dm.ontkoppel_zaakdocument(), Service.VRIJE_BERICHTEN)
    assert stuf_fault(reply).codes == ("StUF058", "document-checked-out")
    await ok(harness, dm.cancel_checkout(dialect="1.2", checked_out_id=lock), Service.VRIJE_BERICHTEN)
    bv02 = await ok(harness, dm.ontkoppel_zaakdocument(referentienummer="doc-ontkoppel-2"), Service.VRIJE_BERICHTEN,
                    schemas)
    assert bv02.tag == f"{{{STUF}}}Bv02Bericht"
    assert await harness.all("zaakinformatieobjecten") == []
    assert len(await documents(harness)) == 1
    lijst = await ok(harness, dm.geef_lijst_zaakdocumenten(dialect="1.2"), Service.BEANTWOORD_VRAAG, schemas)
    [relevant] = lijst.xpath("//ZKN:heeftRelevant", namespaces=NS)
    assert relevant.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    reply = await send(harness, dm.ontkoppel_zaakdocument(referentienummer="doc-ontkoppel-3"), Service.VRIJE_BERICHTEN)
    assert stuf_fault(reply).codes == ("StUF058", "document-not-linked-to-zaak")


# --- failures: every step of updateZaakdocument --------------------------------------------------------------------


UPDATE_STEPS = [  # (method, path suffix, nth such request): without checkedOutId, new content in 3 parts
    ("POST", "/lock", 1),
    ("PATCH", "", 1),
    ("PUT", "", 2),
    ("POST", "/unlock", 1),
]


def _state(eio: dict[str, Any]) -> dict[str, Any]:
    """What "as before" means: everything but the version bookkeeping and the download URL (it names the versie)."""
    return {k: v for k, v in eio.items() if k not in ("versie", "beginRegistratie", "inhoud", "bestandsdelen")}


@pytest.mark.parametrize("client_lock", [False, True], ids=["own-lock", "client-lock"])
@pytest.mark.parametrize(("method", "suffix", "nth"), UPDATE_STEPS, ids=[f"{m} {s or 'x'}{n}"
                                                                            for m, s, n in UPDATE_STEPS])
async def test_update_failure_at_every_step_leaves_the_document_as_before(
    harness: Harness, method: str, suffix: str, nth: int, client_lock: bool
) -> None:
    if client_lock and suffix == "/lock":
        pytest.skip("with a checkedOutId the gateway takes no lock")
    small_parts(harness)
    await with_zaak(harness)
    original = os.urandom(3000)
    await ok(harness, dm.voeg_zaakdocument_toe(content=original), Service.ONTVANG_ASYNCHROON)
    lock = checked_out_id(await ok(harness, dm.geef_zaakdocument_bewerken(), Service.VRIJE_BERICHTEN)) \
        if client_lock else None
    before = await eio_now(harness)
    harness.transport.seen = 0
    harness.transport.fail_on = (method, suffix, nth)
    reply = await send(harness, dm.update_zaakdocument(checked_out_id=lock, content=os.urandom(4000)),
                       Service.VRIJE_BERICHTEN)
    code, _, details = fault(reply)
    assert code == "StUF049", details  # ZGW 5xx on a synchronous service
    assert "NIET teruggedraaid" not in details, details
    harness.transport.fail_on = None
    after = await eio_now(harness)
    assert _state(after) == _state(before)
    assert after["locked"] is client_lock
    assert await download(harness, after) == original


# --- bad input: the right fault, nothing left behind ----------------------------------------------------------------


async def nothing_in_zgw(harness: Harness) -> None:
    assert await documents(harness) == []
    assert await harness.all("zaakinformatieobjecten") == []


async def test_malformed_base64_is_stuf055(harness: Harness) -> None:
    await with_zaak(harness)
    reply = await send(harness, dm.voeg_zaakdocument_toe(inhoud="JVBER!!!"), Service.ONTVANG_ASYNCHROON)
    code, omschrijving, _ = fault(reply)
    assert (code, omschrijving) == ("StUF055", "De inhoud is geen geldige base64")
    await nothing_in_zgw(harness)


async def test_oversize_document_is_stuf055(harness: Harness) -> None:
    harness.gateway.settings = harness.settings.model_copy(update={"max_document_bytes": 1000})
    await with_zaak(harness)
    reply = await send(harness, dm.voeg_zaakdocument_toe(content=os.urandom(1001)), Service.ONTVANG_ASYNCHROON)
    code, omschrijving, _ = fault(reply)
    assert (code, omschrijving) == ("StUF055", "Het document is te groot")
    await nothing_in_zgw(harness)


async def test_missing_zaak_is_a_fault(harness: Harness) -> None:
    reply = await send(harness, dm.voeg_zaakdocument_toe(zaak="0363ZK-ONBEKEND"), Service.ONTVANG_ASYNCHROON)
    found = stuf_fault(reply)
    assert found.codes == ("StUF058", "zaak-not-found")  # StUF058 on OntvangAsynchroon (Fo03)
    assert "0363ZK-ONBEKEND" in found.details
    await nothing_in_zgw(harness)


async def test_unknown_informatieobjecttype_is_a_fault(harness: Harness) -> None:
    await with_zaak(harness)
    reply = await send(harness, dm.voeg_zaakdocument_toe(dct="Bouwtekening"), Service.ONTVANG_ASYNCHROON)
    code, omschrijving, details = fault(reply)
    assert (code, omschrijving) == ("StUF058", "Niet gevonden in de catalogus")
    assert "Bouwtekening" in details and "Melding" in details
    await nothing_in_zgw(harness)


class Refuses413(httpx.AsyncBaseTransport):
    """A backend whose proxy refuses every document body as too large."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in ("POST", "PUT") and "/documenten/" in request.url.path and not (
            request.url.path.endswith(("/lock", "/unlock"))
        ):
            await request.aread()
            return httpx.Response(413, text="Request Entity Too Large", request=request)
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("size", [500, 5000], ids=["inline", "bestandsdelen"])
async def test_backend_size_limit_is_a_clear_fault(harness: Harness, size: int) -> None:
    small_parts(harness)
    await with_zaak(harness)
    inner = harness.transport.inner
    if size > 1000:  # the POST passes, the parts are refused
        class PartsRefused(Refuses413):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                if request.method == "PUT":
                    return await super().handle_async_request(request)
                return await self.inner.handle_async_request(request)

        harness.transport.inner = PartsRefused(inner)
    else:
        harness.transport.inner = Refuses413(inner)
    reply = await send(harness, dm.voeg_zaakdocument_toe(content=os.urandom(size)), Service.ONTVANG_ASYNCHROON)
    harness.transport.inner = inner
    code, omschrijving, _ = fault(reply)
    assert (code, omschrijving) == ("StUF058", "Het document is te groot voor de ZGW-API")
    await nothing_in_zgw(harness)


async def test_unknown_document_answers_la01_without_antwoord(harness: Harness, schemas: Schemas) -> None:
    for dialect in ("1.1", "1.2"):
        answer = await ok(harness, dm.geef_zaakdocument_lezen(dialect=dialect, identificatie="bestaat-niet"),
                          Service.BEANTWOORD_VRAAG, schemas)
        assert answer.xpath("//ZKN:antwoord", namespaces=NS) == []


async def test_a_zaak_with_documents_can_still_be_closed(harness: Harness) -> None:
    """indicatieGebruiksrecht is set on every document added, as ZRC requires to close the zaak (zrc-007)."""
    from .status_messages import actualiseer_zaakstatus

    await ok(harness, creeer_zaak(identificatie=ZAAK, resultaat="Opgelost", referentienummer="zaak-sluit"),
             Service.ONTVANG_ASYNCHROON)
    await ok(harness, dm.voeg_zaakdocument_toe(), Service.ONTVANG_ASYNCHROON)
    await ok(harness, actualiseer_zaakstatus(omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000",
                                             referentienummer="zaak-sluit-status"), Service.ONTVANG_ASYNCHROON)
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert zaak["einddatum"] == "2024-11-07"
    assert not [p for m, p, _ in harness.transport.requests if m == "PATCH"]  # no indicator had to be set first
