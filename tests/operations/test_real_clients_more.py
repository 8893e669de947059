"""Issue 13, the second half: what real clients send that left ZGW wrong or incomplete, and what a real Open Zaak
does differently from what a client expects. Each test uses a message of its own that shows the class of behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from lxml import etree

from stuf_bridge.errors import ProcessingError
from stuf_bridge.gateway import parse_answer
from stuf_bridge.operations import besluiten
from stuf_bridge.operations.besluiten import check_besluit_datum
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.stuf.values import AMSTERDAM
from stuf_bridge.web.app import create_app
from stuf_bridge.zgw_embedded import EmbeddedSettings

from ..support.faults import stuf_fault
from ..support.messages import di02
from . import document_messages as dm
from .besluit_messages import voeg_besluit_toe
from .details_messages import geef_zaakdetails
from .conftest import BASE, FailingTransport, Harness, profile_overlay, running_harness
from .messages import ADRES, BELANGHEBBENDE_SAME_PERSON, creeer_zaak
from .test_documenten import ok as doc_ok
from .test_documenten import send as doc_send
from .test_zaakdetails import ask
from .update_messages import update_zaak, zaak_object

ZAAK = "0363ZK2024-000101"

BESLUIT_ZAAK = "0363ZK2024-000201"


# --- item 17: a besluit dated today in the first hour(s) of the Amsterdam day ------------------------------------


@pytest.mark.parametrize(("now", "datum", "reason", "resend"), [
    # winter: 00:30 in Amsterdam is 23:30 UTC the day before; accepted from 01:00 Amsterdam time
    (datetime(2024, 11, 9, 23, 30, tzinfo=UTC), "2024-11-10", "besluit-date-before-utc-day", "2024-11-10 01:00"),
    # summer: 01:30 in Amsterdam is 23:30 UTC; accepted from 02:00
    (datetime(2024, 7, 9, 23, 30, tzinfo=UTC), "2024-07-10", "besluit-date-before-utc-day", "2024-07-10 02:00"),
    # a day after today in Amsterdam: the client's error, at any hour
    (datetime(2024, 11, 10, 12, 0, tzinfo=UTC), "2024-11-11", "besluit-date-in-future", None),
])
def test_a_besluit_date_zgw_would_refuse_is_a_fault_that_says_why(now: datetime, datum: str, reason: str,
                                                                   resend: str | None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(besluiten, "_now", lambda: now)
    with pytest.raises(ProcessingError) as caught:
        check_besluit_datum(datum)
    assert caught.value.reason == reason
    if resend:
        assert caught.value.plek == "server"
        assert f"vanaf {resend} (Amsterdamse tijd, 00:00 UTC)" in caught.value.details
        assert "niet aangepast" in caught.value.details


@pytest.mark.parametrize("now", [datetime(2024, 11, 10, 0, 0, tzinfo=UTC), datetime(2024, 11, 10, 22, 59, tzinfo=UTC)])
def test_a_besluit_dated_today_passes_once_utc_has_the_same_date(now: datetime,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(besluiten, "_now", lambda: now)
    check_besluit_datum("2024-11-10")
    check_besluit_datum("2024-11-09")


async def test_voeg_besluit_toe_dated_today_just_after_amsterdam_midnight_faults_and_writes_nothing(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    reply = await harness.handle(*creeer_zaak(identificatie=BESLUIT_ZAAK, zaaktype="OMGEVINGSVERGUNNING",
                                              referentienummer="bsl-today-zaak"))
    assert reply.status == 200, reply.body.decode()
    monkeypatch.setattr(besluiten, "_now", lambda: datetime(2024, 11, 9, 23, 20, tzinfo=UTC))  # 00:20 Amsterdam
    message = voeg_besluit_toe(identificatie="0363BS-TODAY", zaak=BESLUIT_ZAAK, datum="20241110")
    reply = await harness.handle(*message)
    fault = stuf_fault(reply)
    assert fault.codes == ("StUF058", "besluit-date-before-utc-day")
    assert "2024-11-10 01:00" in fault.details
    assert [b async for b in harness.zgw.besluiten.iterate("besluiten")] == []
    # the same message, resent after 00:00 UTC, is processed (a faulted message keeps no claim)
    monkeypatch.setattr(besluiten, "_now", lambda: datetime(2024, 11, 10, 0, 1, tzinfo=UTC))
    reply = await harness.handle(*message)
    assert reply.status == 200, reply.body.decode()
    [besluit] = [b async for b in harness.zgw.besluiten.iterate("besluiten")]
    assert besluit["datum"] == "2024-11-10"


# --- item 16: cancelCheckout with a wrong checkedOutId against a backend that ignores the lock (geforceerd-unlock) --


@pytest_asyncio.fixture
async def force_unlock_harness(make_settings: Callable[..., Settings], schemas: Schemas) -> AsyncIterator[Harness]:
    """The gateway on an embedded backend where the gateway's client holds ``documenten.geforceerd-unlock``
    (as Open Zaak's "alle autorisaties" does): the backend unlocks whatever lock an unlock carries."""
    settings = make_settings()
    transport = FailingTransport(httpx.MockTransport(lambda request: httpx.Response(503)))
    app = create_app(settings, schemas=schemas, embedded_base=f"{BASE}/zgw", zgw_transport=transport,
                     embedded_settings=EmbeddedSettings(force_unlock=True))
    transport.inner = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    async with app.router.lifespan_context(app), client:
        yield Harness(client, app.state.gateway.zgw, transport, settings, app.state.gateway)


async def _checked_out(harness: Harness) -> tuple[str, dict[str, Any]]:
    await doc_ok(harness, creeer_zaak(referentienummer="co-zaak"), Service.ONTVANG_ASYNCHROON)
    await doc_ok(harness, dm.voeg_zaakdocument_toe(referentienummer="co-doc"), Service.ONTVANG_ASYNCHROON)
    du02 = await doc_ok(harness, dm.geef_zaakdocument_bewerken(referentienummer="co-out"), Service.VRIJE_BERICHTEN)
    lock = du02.findtext("*/{*}checkedOutId")
    assert lock
    [eio] = [d async for d in harness.zgw.documenten.iterate("enkelvoudiginformatieobjecten")]
    return lock, eio


async def _locked(harness: Harness, eio: dict[str, Any]) -> bool:
    return bool((await harness.zgw.get(eio["url"]))["locked"])


async def test_the_embedded_backend_models_geforceerd_unlock(force_unlock_harness: Harness) -> None:
    """What the gateway guards against: with the scope, a wrong lock unlocks (Open Zaak's behaviour)."""
    harness = force_unlock_harness
    _, eio = await _checked_out(harness)
    await harness.zgw.documenten.post(f"{eio['url']}/unlock", {"lock": "not-the-lock"})
    assert not await _locked(harness, eio)


async def test_cancel_checkout_with_a_wrong_checked_out_id_does_not_unlock(force_unlock_harness: Harness) -> None:
    harness = force_unlock_harness
    lock, eio = await _checked_out(harness)
    response = await harness.client.post("/zds/VrijeBerichten", content=(message := dm.cancel_checkout(
        checked_out_id="someone-elses-guess", referentienummer="co-cancel-1"))[0], headers=message[1])
    assert response.status_code == 500
    assert stuf_fault(response.content).codes == ("StUF058", "lock-incorrect")
    assert await _locked(harness, eio), "another user's checkout must stay"
    # a check-in with the wrong id is refused before anything is written
    reply = await doc_send(harness, dm.update_zaakdocument(checked_out_id="someone-elses-guess",
                                                           referentienummer="co-in-1"), Service.VRIJE_BERICHTEN)
    assert stuf_fault(reply).codes == ("StUF058", "lock-incorrect")
    assert (await harness.zgw.get(eio["url"]))["titel"] == eio["titel"]
    # the right one ends the checkout; a second cancelCheckout finds no lock
    await doc_ok(harness, dm.cancel_checkout(checked_out_id=lock, referentienummer="co-cancel-2"),
                 Service.VRIJE_BERICHTEN)
    assert not await _locked(harness, eio)


async def test_cancel_checkout_of_a_checkout_the_gateway_did_not_hand_out_is_refused(harness: Harness) -> None:
    await doc_ok(harness, creeer_zaak(referentienummer="co-zaak"), Service.ONTVANG_ASYNCHROON)
    await doc_ok(harness, dm.voeg_zaakdocument_toe(referentienummer="co-doc"), Service.ONTVANG_ASYNCHROON)
    [eio] = [d async for d in harness.zgw.documenten.iterate("enkelvoudiginformatieobjecten")]
    lock = (await harness.zgw.documenten.post(f"{eio['url']}/lock"))["lock"]  # straight in the Documenten API
    reply = await doc_send(harness, dm.cancel_checkout(checked_out_id=lock, referentienummer="co-cancel-3"),
                           Service.VRIJE_BERICHTEN)
    assert stuf_fault(reply).codes == ("StUF058", "checkout-unknown")
    assert await _locked(harness, eio)


async def test_check_in_with_the_right_checked_out_id_ends_the_record(force_unlock_harness: Harness) -> None:
    harness = force_unlock_harness
    lock, eio = await _checked_out(harness)
    await doc_ok(harness, dm.update_zaakdocument(checked_out_id=lock, referentienummer="co-in-2"),
                 Service.VRIJE_BERICHTEN)
    assert not await _locked(harness, eio)
    # the old checkedOutId no longer ends anything: a new checkout has a new lock
    lock2 = (await doc_ok(harness, dm.geef_zaakdocument_bewerken(referentienummer="co-out-2"),
                          Service.VRIJE_BERICHTEN)).findtext("*/{*}checkedOutId")
    assert lock2 and lock2 != lock
    reply = await doc_send(harness, dm.cancel_checkout(checked_out_id=lock, referentienummer="co-cancel-4"),
                           Service.VRIJE_BERICHTEN)
    assert stuf_fault(reply).codes == ("StUF058", "lock-incorrect")
    assert await _locked(harness, eio)


# --- item 18: identifiers never collide with what ZGW already holds --------------------------------------------


async def _genereer(harness: Harness, operation: str, referentienummer: str) -> tuple[str, list[str]]:
    body, headers = di02(operation, organisatie="0363", referentienummer=referentienummer)
    reply = await harness.gateway.handle(Service.VRIJE_BERICHTEN, body, content_type=headers["Content-Type"],
                                         soap_action=headers["SOAPAction"])
    assert reply.status == 200, reply.body.decode()
    identificatie = parse_answer(reply.body).findtext(".//{*}identificatie")
    assert identificatie
    return identificatie, reply.warnings


async def test_genereer_zaak_identificatie_skips_what_the_backend_already_has(harness: Harness) -> None:
    """A fresh store against a backend with zaken (…0000001 to …0000003 made by another system): the gateway never
    hands those out, and creeerZaak with what it hands out succeeds."""
    year = datetime.now(AMSTERDAM).strftime("%Y")
    for n in (1, 2, 3):
        reply = await harness.handle(*creeer_zaak(identificatie=f"0363{year}{n:07d}", referentienummer=f"old-{n}"))
        assert reply.status == 200, reply.body.decode()
    identificatie, warnings = await _genereer(harness, "genereerZaakIdentificatie", "gzi-1")
    assert identificatie == f"0363{year}0000004"  # probes: 1 taken → +1 (2) taken → +2 (4) free
    assert any("eerste vrije" in w for w in warnings), warnings
    reply = await harness.handle(*creeer_zaak(identificatie=identificatie, referentienummer="new-1"))
    assert reply.status == 200, reply.body.decode()
    # the sequence went on from there: the next one is free without probing
    assert await _genereer(harness, "genereerZaakIdentificatie", "gzi-2") == (f"0363{year}0000005", [])


async def test_genereer_document_identificatie_skips_a_taken_one(harness: Harness) -> None:
    year = datetime.now(AMSTERDAM).strftime("%Y")
    await doc_ok(harness, creeer_zaak(referentienummer="gdi-zaak"), Service.ONTVANG_ASYNCHROON)
    await doc_ok(harness, dm.voeg_zaakdocument_toe(identificatie=f"0363D{year}0000001", referentienummer="gdi-doc"),
                 Service.ONTVANG_ASYNCHROON)
    identificatie, _ = await _genereer(harness, "genereerDocumentIdentificatie", "gdi-1")
    assert identificatie == f"0363D{year}0000002"


async def test_a_deployment_sets_where_a_sequence_starts(make_settings: Callable[..., Settings],
                                                         schemas: Schemas) -> None:
    year = datetime.now(AMSTERDAM).strftime("%Y")
    settings = make_settings(identificatie_start={"zaak": 20001})
    async with running_harness(settings, schemas) as harness:
        assert (await _genereer(harness, "genereerZaakIdentificatie", "start-1"))[0] == f"0363{year}0020001"
        assert (await _genereer(harness, "genereerZaakIdentificatie", "start-2"))[0] == f"0363{year}0020002"
        # other kinds keep their own start
        assert (await _genereer(harness, "genereerDocumentIdentificatie", "start-3"))[0] == f"0363D{year}0000001"


def test_identificatie_start_accepts_only_known_kinds_and_positive_numbers() -> None:
    with pytest.raises(ValueError, match="identificatie_start"):
        Settings(identificatie_start={"zaken": 5})
    with pytest.raises(ValueError, match="identificatie_start"):
        Settings(identificatie_start={"zaak": 0})


# --- item 14: a status given only by its code --------------------------------------------------------------------


def _status_code(code: str, datum: str = "20241105") -> str:
    """A heeft (ZAKSTT) whose STT carries only a code, as Open Formulieren's zds_zaaktype_status_code writes it."""
    return f"""
    <ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde StUF:entiteittype="STT" StUF:verwerkingssoort="I">
        <ZKN:code>{code}</ZKN:code>
      </ZKN:gerelateerde>
      <ZKN:toelichting>Status gezet door verzendende applicatie.</ZKN:toelichting>
      <ZKN:datumStatusGezet>{datum}</ZKN:datumStatusGezet>
    </ZKN:heeft>"""


async def _statustypen_of(harness: Harness, identificatie: str = "0363ZK2024-000101") -> list[str]:
    [zaak] = await harness.all("zaken", identificatie=identificatie)
    statussen = await harness.all("statussen", zaak=zaak["url"])
    return [(await harness.zgw.get(s["statustype"]))["omschrijving"] for s in statussen]


@pytest.mark.parametrize(("code", "statustype"), [("2", "In behandeling"), ("ontvangen", "Ontvangen")])
async def test_a_status_given_only_by_its_code_finds_its_statustype(harness: Harness, code: str,
                                                                     statustype: str) -> None:
    reply = await harness.handle(*creeer_zaak(statussen=_status_code(code), referentienummer=f"code-{code}"))
    assert reply.status == 200, reply.body.decode()
    assert await _statustypen_of(harness) == [statustype]
    assert any(f"status met code {code!r}" in w for w in reply.warnings), reply.warnings


async def test_a_status_code_through_the_configured_table(make_settings: Callable[..., Settings], schemas: Schemas,
                                                          tmp_path: Path) -> None:
    overlay = profile_overlay(tmp_path, ["matching:", "  status_code: {codes: {ZST01: In behandeling}, fields: []}"])
    async with running_harness(make_settings(mappings_dir=overlay), schemas) as harness:
        reply = await harness.handle(*creeer_zaak(statussen=_status_code("ZST01"), referentienummer="code-t"))
        assert reply.status == 200, reply.body.decode()
        assert await _statustypen_of(harness) == ["In behandeling"]
        # fields: [] — the code is not compared with anything else
        reply = await harness.handle(*creeer_zaak(identificatie="0363ZK2024-000102", statussen=_status_code("1"),
                                                  referentienummer="code-u"))
        assert stuf_fault(reply).codes == ("StUF058", "statustype-not-found")


async def test_a_status_code_that_finds_no_statustype_is_a_fault_not_a_zaak_without_status(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(statussen=_status_code("XYZ"), referentienummer="code-x"))
    fault = stuf_fault(reply)
    assert fault.codes == ("StUF058", "statustype-not-found")
    assert "'XYZ'" in fault.details
    assert await harness.all("zaken") == []


# --- item 10: heeftBetrekkingOp with a person becomes a rol ----------------------------------------------------

BETREKKING_PERSOON = """
    <ZKN:heeftBetrekkingOp StUF:entiteittype="ZAKOBJ" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde>
        <ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="I">
          <BG:inp.bsn>999990019</BG:inp.bsn>
          <BG:geslachtsnaam>Jansen</BG:geslachtsnaam>
        </ZKN:natuurlijkPersoon>
      </ZKN:gerelateerde>
      <ZKN:omschrijving>Eigenaar van de stoep</ZKN:omschrijving>
    </ZKN:heeftBetrekkingOp>"""


async def _rollen(harness: Harness, identificatie: str = "0363ZK2024-000101") -> list[tuple[str, str, Any]]:
    """(roltype omschrijving, betrokkeneType, identification) per rol of the zaak."""
    [zaak] = await harness.all("zaken", identificatie=identificatie)
    out = []
    for rol in await harness.all("rollen", zaak=zaak["url"]):
        ident = rol.get("betrokkeneIdentificatie") or {}
        key = ident.get("inpBsn") or ident.get("identificatie")
        out.append(((await harness.zgw.get(rol["roltype"]))["omschrijving"], rol["betrokkeneType"], key))
    return sorted(out)


async def test_heeft_betrekking_op_with_a_person_becomes_a_belanghebbende_rol(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(relations=BETREKKING_PERSOON + ADRES, referentienummer="hbo-1"))
    assert reply.status == 200, reply.body.decode()
    assert await _rollen(harness) == [("Belanghebbende", "natuurlijk_persoon", "999990019"),
                                      ("Initiator", "natuurlijk_persoon", "999993653")]
    [zaak] = await harness.all("zaken", identificatie="0363ZK2024-000101")
    [rol] = [r for r in await harness.all("rollen", zaak=zaak["url"]) if r["betrokkeneIdentificatie"].get(
        "inpBsn") == "999990019"]
    assert rol["roltoelichting"] == "Eigenaar van de stoep"
    # the adres is still a zaakobject, the person is not
    [zaakobject] = await harness.all("zaakobjecten", zaak=zaak["url"])
    assert zaakobject["objectType"] == "adres"
    assert not any("overgeslagen" in w for w in reply.warnings), reply.warnings


async def test_the_same_person_in_heeft_betrekking_op_and_as_belanghebbende_is_one_rol(harness: Harness) -> None:
    """GWS4all sends the citizen in heeftBetrekkingOp, heeftAlsBelanghebbende and heeftAlsInitiator."""
    person = BETREKKING_PERSOON.replace("999990019", "999993653")
    reply = await harness.handle(*creeer_zaak(relations=person + BELANGHEBBENDE_SAME_PERSON,
                                              referentienummer="hbo-gws"))
    assert reply.status == 200, reply.body.decode()
    assert await _rollen(harness) == [("Belanghebbende", "natuurlijk_persoon", "999993653"),
                                      ("Initiator", "natuurlijk_persoon", "999993653")]
    assert any("geen tweede rol" in w for w in reply.warnings), reply.warnings


async def test_heeft_betrekking_op_roltype_is_configured_per_zaaktype(make_settings: Callable[..., Settings],
                                                                      schemas: Schemas, tmp_path: Path) -> None:
    overlay = profile_overlay(tmp_path, ["roles: {heeftBetrekkingOp: OverigeBetrokkene}"])
    async with running_harness(make_settings(mappings_dir=overlay), schemas) as harness:
        reply = await harness.handle(*creeer_zaak(relations=BETREKKING_PERSOON, referentienummer="hbo-2"))
        assert reply.status == 200, reply.body.decode()
        assert ("OverigeBetrokkene", "natuurlijk_persoon", "999990019") in await _rollen(harness)


async def test_update_zaak_adds_and_removes_a_heeft_betrekking_op_person_as_a_rol(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(referentienummer="hbo-3"))
    assert reply.status == 200, reply.body.decode()
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, BETREKKING_PERSOON), referentienummer="hbo-4"))
    assert reply.status == 200, reply.body.decode()
    assert ("Belanghebbende", "natuurlijk_persoon", "999990019") in await _rollen(harness)
    removed = BETREKKING_PERSOON.replace('StUF:entiteittype="ZAKOBJ" StUF:verwerkingssoort="T"',
                                         'StUF:entiteittype="ZAKOBJ" StUF:verwerkingssoort="V"')
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, removed), referentienummer="hbo-5"))
    assert reply.status == 200, reply.body.decode()
    assert [r for r in await _rollen(harness) if r[2] == "999990019"] == []


# --- item 8: a medewerker initiator with a fallback natuurlijkPersoon in one gerelateerde ---------------------------

MEDEWERKER_MET_TERUGVAL = """
    <ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde>
        <ZKN:medewerker StUF:entiteittype="MDW" StUF:verwerkingssoort="I">
          <ZKN:identificatie>mw-4711</ZKN:identificatie>
          <ZKN:achternaam>de Boer</ZKN:achternaam>
        </ZKN:medewerker>
        <ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="T">
          <BG:inp.bsn>111222333</BG:inp.bsn>
          <BG:authentiek StUF:metagegeven="true">N</BG:authentiek>
        </ZKN:natuurlijkPersoon>
      </ZKN:gerelateerde>
    </ZKN:heeftAlsInitiator>"""


async def test_a_medewerker_initiator_with_a_fallback_person_becomes_the_medewerker(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(initiator=MEDEWERKER_MET_TERUGVAL, referentienummer="mdw-1"))
    assert reply.status == 200, reply.body.decode()
    assert await _rollen(harness) == [("Initiator", "medewerker", "mw-4711")]
    assert any("medewerker gebruikt" in w and "niet gebruikt: natuurlijkPersoon" in w for w in reply.warnings), \
        reply.warnings


async def test_which_betrokkene_wins_is_configured_per_zaaktype(make_settings: Callable[..., Settings],
                                                                schemas: Schemas, tmp_path: Path) -> None:
    overlay = profile_overlay(tmp_path, ["betrokkenen: [natuurlijk_persoon, vestiging]"])
    async with running_harness(make_settings(mappings_dir=overlay), schemas) as harness:
        reply = await harness.handle(*creeer_zaak(initiator=MEDEWERKER_MET_TERUGVAL, referentienummer="mdw-2"))
        assert reply.status == 200, reply.body.decode()
        assert await _rollen(harness) == [("Initiator", "natuurlijk_persoon", "111222333")]
        assert any("niet gebruikt: medewerker" in w for w in reply.warnings), reply.warnings
    overlay2 = tmp_path / "second"
    overlay2.mkdir()
    (overlay2 / "profiles.yaml").write_text(
        "profiles:\n  defaults: {}\n  zaaktypen:\n    MELDING-OR:\n      betrokkenen: [vestiging]\n")
    async with running_harness(make_settings(mappings_dir=overlay2), schemas) as harness:
        reply = await harness.handle(*creeer_zaak(identificatie="0363ZK2024-000109", referentienummer="mdw-3",
                                                  initiator=MEDEWERKER_MET_TERUGVAL))
        assert stuf_fault(reply).codes == ("StUF058", "value-invalid")
        assert await harness.all("zaken", identificatie="0363ZK2024-000109") == []


# --- item 11: toelichtingen and isGezetDoor through updateZaak -------------------------------------------------

UITVOERENDE = """
    <ZKN:heeftAlsUitvoerende StUF:entiteittype="ZAKBTRUTV" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde>
        <ZKN:medewerker StUF:entiteittype="MDW" StUF:verwerkingssoort="I">
          <ZKN:identificatie>mw-0815</ZKN:identificatie>
          <ZKN:achternaam>Bakker</ZKN:achternaam>
        </ZKN:medewerker>
      </ZKN:gerelateerde>
      <ZKN:toelichting>Behandelt meldingen in stadsdeel Centrum</ZKN:toelichting>
    </ZKN:heeftAlsUitvoerende>"""


def _status_gezet_door(omschrijving: str, volgnummer: str, datum: str, toelichting: str, medewerker: str) -> str:
    return f"""
    <ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde StUF:entiteittype="STT" StUF:verwerkingssoort="I">
        <ZKN:volgnummer>{volgnummer}</ZKN:volgnummer>
        <ZKN:omschrijving>{omschrijving}</ZKN:omschrijving>
      </ZKN:gerelateerde>
      <ZKN:toelichting>{toelichting}</ZKN:toelichting>
      <ZKN:datumStatusGezet>{datum}</ZKN:datumStatusGezet>
      <ZKN:isGezetDoor StUF:entiteittype="ZAKSTTBTR" StUF:verwerkingssoort="T">
        <ZKN:gerelateerde>
          <ZKN:medewerker StUF:entiteittype="MDW" StUF:verwerkingssoort="I">
            <ZKN:identificatie>{medewerker}</ZKN:identificatie>
          </ZKN:medewerker>
        </ZKN:gerelateerde>
      </ZKN:isGezetDoor>
    </ZKN:heeft>"""


async def test_toelichtingen_and_is_gezet_door_reach_zgw(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(relations=UITVOERENDE, referentienummer="tl-1"))
    assert reply.status == 200, reply.body.decode()
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    rollen = {r["betrokkeneType"]: r for r in await harness.all("rollen", zaak=zaak["url"])}
    assert rollen["medewerker"]["roltoelichting"] == "Behandelt meldingen in stadsdeel Centrum"
    [ontvangen] = await harness.all("statussen", zaak=zaak["url"])
    assert ontvangen["statustoelichting"] == "Status gezet door verzendende applicatie."

    # updateZaak: a status set by the medewerker (its rol), then the eindstatus with a resultaat and its toelichting
    content = (_status_gezet_door("In behandeling", "2", "20241106100000", "Opgepakt door de buitendienst",
                                  "mw-0815")
               + "<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving>"
                 "<ZKN:toelichting>Tegels teruggelegd</ZKN:toelichting></ZKN:resultaat>")
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, content), referentienummer="tl-2"))
    assert reply.status == 200, reply.body.decode()
    statussen = {(await harness.zgw.get(s["statustype"]))["omschrijving"]: s
                 for s in await harness.all("statussen", zaak=zaak["url"])}
    assert statussen["In behandeling"]["statustoelichting"] == "Opgepakt door de buitendienst"
    assert statussen["In behandeling"]["gezetdoor"] == rollen["medewerker"]["url"]
    [resultaat] = await harness.all("resultaten", zaak=zaak["url"])
    assert resultaat["toelichting"] == "Tegels teruggelegd"


async def test_is_gezet_door_in_creeer_zaak_names_the_rol_the_same_message_makes(harness: Harness) -> None:
    status = _status_gezet_door("Ontvangen", "1", "20241105", "Ingevoerd aan de balie", "mw-0815")
    reply = await harness.handle(*creeer_zaak(relations=UITVOERENDE, statussen=status, referentienummer="tl-5"))
    assert reply.status == 200, reply.body.decode()
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    [rol] = [r for r in await harness.all("rollen", zaak=zaak["url"]) if r["betrokkeneType"] == "medewerker"]
    [status_gezet] = await harness.all("statussen", zaak=zaak["url"])
    assert status_gezet["gezetdoor"] == rol["url"]
    assert status_gezet["statustoelichting"] == "Ingevoerd aan de balie"


async def test_is_gezet_door_without_a_rol_sets_the_status_with_a_warning(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(referentienummer="tl-3"))
    assert reply.status == 200, reply.body.decode()
    content = _status_gezet_door("In behandeling", "2", "20241106100000", "Opgepakt", "mw-onbekend")
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, content), referentienummer="tl-4"))
    assert reply.status == 200, reply.body.decode()
    assert any("'mw-onbekend' heeft geen rol" in w for w in reply.warnings), reply.warnings
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert [s.get("gezetdoor") or "" for s in await harness.all("statussen", zaak=zaak["url"])] == ["", ""]


# --- item 12: extraElementen at the initiator's level --------------------------------------------------------

INITIATOR_MET_EXTRA = """
    <ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde>
        <ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="T">
          <BG:inp.bsn>999993653</BG:inp.bsn>
          <BG:geslachtsnaam>Visser</BG:geslachtsnaam>
        </ZKN:natuurlijkPersoon>
      </ZKN:gerelateerde>
      <StUF:extraElementen>
        <StUF:extraElement naam="locatie">Bij de Magere Brug</StUF:extraElement>
        <StUF:extraElement naam="categorie">groen</StUF:extraElement>
        <StUF:extraElement naam="pv_emailafwijkend">m.visser@example.nl</StUF:extraElement>
      </StUF:extraElementen>
    </ZKN:heeftAlsInitiator>"""


async def _eigenschappen(harness: Harness) -> dict[str, str]:
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    out = {}
    for item in await harness.zgw.zaken.list(f"{zaak['url']}/zaakeigenschappen"):
        out[(await harness.zgw.get(item["eigenschap"]))["naam"]] = item["waarde"]
    return out


async def test_initiator_level_extra_elementen_are_mapped_like_zaak_level_ones(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(initiator=INITIATOR_MET_EXTRA, referentienummer="iee-1"))
    assert reply.status == 200, reply.body.decode()
    # locatie is an eigenschap of MELDING-OR; categorie is one too, but the zaak level says "straat" and wins
    assert await _eigenschappen(harness) == {"locatie": "Bij de Magere Brug", "categorie": "straat"}
    assert any("'categorie' staat ook op zaakniveau" in w for w in reply.warnings), reply.warnings
    assert any("niet overgenomen" in w and "pv_emailafwijkend" in w for w in reply.warnings), reply.warnings


async def test_initiator_level_extra_elementen_feed_rol_overrides(make_settings: Callable[..., Settings],
                                                                  schemas: Schemas, tmp_path: Path) -> None:
    overlay = profile_overlay(tmp_path, [
        "overrides:",
        "  - {resource: rol, zgw: contactpersoonRol.emailadres, extra_element: pv_emailafwijkend}",
        "  - {resource: rol, zgw: contactpersoonRol.naam, value: Aanvrager}",
    ])
    async with running_harness(make_settings(mappings_dir=overlay), schemas) as harness:
        reply = await harness.handle(*creeer_zaak(initiator=INITIATOR_MET_EXTRA, referentienummer="iee-2"))
        assert reply.status == 200, reply.body.decode()
        [zaak] = await harness.all("zaken", identificatie=ZAAK)
        [rol] = await harness.all("rollen", zaak=zaak["url"])
        assert rol["contactpersoonRol"]["emailadres"] == "m.visser@example.nl"


async def test_update_zaak_takes_initiator_level_extra_elementen_too(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(referentienummer="iee-3"))
    assert reply.status == 200, reply.body.decode()
    same_initiator = INITIATOR_MET_EXTRA.replace('StUF:verwerkingssoort="T">\n      <ZKN:gerelateerde>',
                                                 'StUF:verwerkingssoort="I">\n      <ZKN:gerelateerde>', 1)
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, same_initiator), referentienummer="iee-4"))
    assert reply.status == 200, reply.body.decode()
    assert (await _eigenschappen(harness))["locatie"] == "Bij de Magere Brug"


# --- item 13: RD coordinates, and a zaakgeometrie from X/Y extraElementen ------------------------------------------


def _with_extra(message: tuple[bytes, dict[str, str]], **extra: str) -> tuple[bytes, dict[str, str]]:
    body, headers = message
    anchor = b'<StUF:extraElement naam="categorie">straat</StUF:extraElement>'
    assert body.count(anchor) == 1
    added = "".join(f'<StUF:extraElement naam="{k}">{v}</StUF:extraElement>' for k, v in extra.items())
    return body.replace(anchor, anchor + added.encode()), headers


async def test_a_zaakgeometrie_from_rd_x_y_extra_elementen(make_settings: Callable[..., Settings], schemas: Schemas,
                                                           tmp_path: Path) -> None:
    """A reporting app sends the melding's location only as X/Y in RD, in extraElementen."""
    overlay = profile_overlay(tmp_path, ["zaakgeometrie: {x: locatie_x, y: locatie_y, srs: 'EPSG:28992'}"])
    async with running_harness(make_settings(mappings_dir=overlay), schemas) as harness:
        reply = await harness.handle(*_with_extra(creeer_zaak(referentienummer="xy-1"), locatie_x="121000,5",
                                                  locatie_y="487000"))
        assert reply.status == 200, reply.body.decode()
        [zaak] = await harness.all("zaken", identificatie=ZAAK)
        assert zaak["zaakgeometrie"]["type"] == "Point"
        assert zaak["zaakgeometrie"]["coordinates"] == pytest.approx([4.88798, 52.36983], abs=1e-4)
        # an update with new coordinates moves it
        moved = ('<StUF:extraElementen><StUF:extraElement naam="locatie_x">155000</StUF:extraElement>'
                 '<StUF:extraElement naam="locatie_y">463000</StUF:extraElement></StUF:extraElementen>')
        reply = await harness.handle(*update_zaak(zaak_object(ZAAK, moved), referentienummer="xy-2"))
        assert reply.status == 200, reply.body.decode()
        [zaak] = await harness.all("zaken", identificatie=ZAAK)
        assert zaak["zaakgeometrie"]["coordinates"] == pytest.approx([5.3872, 52.1552], abs=1e-4)
        # one coordinate without the other is a fault that names it
        reply = await harness.handle(*_with_extra(creeer_zaak(identificatie="0363ZK2024-000103",
                                                              referentienummer="xy-3"), locatie_x="121000"))
        fault = stuf_fault(reply)
        assert fault.codes == ("StUF058", "invalid-lokatie")
        assert "'locatie_y'" in fault.details


async def test_answers_give_the_lokatie_in_rd_when_configured(make_settings: Callable[..., Settings],
                                                              schemas: Schemas) -> None:
    rd_ring = "121000 487000 121100 487000 121100 487100 121000 487000"
    polygon = (f'<GML:Polygon srsName="EPSG:28992"><GML:exterior><GML:LinearRing><GML:posList>{rd_ring}'
               "</GML:posList></GML:LinearRing></GML:exterior></GML:Polygon>")
    ander = f"""<ZKN:anderZaakObject>
      <ZKN:omschrijving>perceel</ZKN:omschrijving>
      <ZKN:lokatie xmlns:GML="http://www.opengis.net/gml">{polygon}</ZKN:lokatie>
    </ZKN:anderZaakObject>"""
    async with running_harness(make_settings(answer_lokatie_srs="EPSG:28992"), schemas) as harness:
        reply = await harness.handle(*creeer_zaak(ander_zaak_object=ander, referentienummer="rd-1"))
        assert reply.status == 200, reply.body.decode()
        [zaak] = await harness.all("zaken", identificatie=ZAAK)
        assert 4.8 < zaak["zaakgeometrie"]["coordinates"][0][0][0] < 5.0  # ZGW holds WGS84
        _, la01 = await ask(harness, geef_zaakdetails(identificatie=ZAAK, scope="alles"))
        assert schemas.validate(la01) == []
        [answered] = la01.iterfind(".//{http://www.opengis.net/gml}Polygon")
        assert answered.get("srsName") == "EPSG:28992"
        numbers = [float(v) for v in answered.findtext(".//{http://www.opengis.net/gml}posList").split()]
        assert numbers == pytest.approx([float(v) for v in rd_ring.split()], abs=0.01)


# --- item 15: a zakLv01 whose scope asks for heeftRelevant (documents) and leidtTot (besluiten) --------------------

KANA_SCOPE = """<ZKN:identificatie xsi:nil="true"/>
        <ZKN:omschrijving xsi:nil="true"/>
        <ZKN:heeftRelevant StUF:entiteittype="ZAKEDC" xsi:nil="true"/>
        <ZKN:leidtTot StUF:entiteittype="ZAKBSL">
          <ZKN:gerelateerde StUF:entiteittype="BSL">
            <ZKN:identificatie xsi:nil="true"/>
            <ZKN:datumBeslissing xsi:nil="true"/>
            <ZKN:toelichting xsi:nil="true"/>
          </ZKN:gerelateerde>
        </ZKN:leidtTot>"""


def _without_zender(message: tuple[bytes, dict[str, str]]) -> tuple[bytes, dict[str, str]]:
    """A CRM that sends no zender (Verint KANA)."""
    body, headers = message
    zender = (b"<StUF:zender><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>Zaaksysteem"
              b"</StUF:applicatie></StUF:zender>")
    assert body.count(zender) == 1
    return body.replace(zender, b""), headers


async def test_a_zak_lv01_asking_documents_and_besluiten_gets_them(harness: Harness, schemas: Schemas) -> None:
    reply = await harness.handle(*creeer_zaak(identificatie=BESLUIT_ZAAK, zaaktype="OMGEVINGSVERGUNNING",
                                              referentienummer="kana-zaak"))
    assert reply.status == 200, reply.body.decode()
    await doc_ok(harness, dm.voeg_zaakdocument_toe(zaak=BESLUIT_ZAAK, dct="Aanvraag", referentienummer="kana-doc"),
                 Service.ONTVANG_ASYNCHROON)
    reply = await harness.handle(*voeg_besluit_toe(identificatie="0363BS-KANA", zaak=BESLUIT_ZAAK,
                                                   referentienummer="kana-bsl"))
    assert reply.status == 200, reply.body.decode()

    question = _without_zender(geef_zaakdetails(bsn="999993653", scope=None, elements=KANA_SCOPE,
                                                referentienummer="kana-vraag"))
    _, la01 = await ask(harness, question)
    assert schemas.validate(la01) == []
    [obj] = la01.iterfind(".//{*}antwoord/{*}object")
    [relevant] = obj.iterfind("{*}heeftRelevant")
    assert relevant.findtext("{*}gerelateerde/{*}identificatie") == "0363D20240000001"
    [besluit] = obj.iterfind("{*}leidtTot")
    gerelateerde = besluit.find("{*}gerelateerde")
    assert gerelateerde is not None
    assert gerelateerde.findtext("{*}identificatie") == "0363BS-KANA"
    assert gerelateerde.findtext("{*}toelichting") == "Vergunning verleend"
    # only what the scope lists (and what the schema requires) of the besluit
    assert {etree.QName(c).localname for c in gerelateerde} <= {"identificatie", "datumBeslissing", "toelichting",
                                                                 "ingangsdatumWerking", "bst.omschrijving"}
    assert {etree.QName(c).localname for c in obj} <= {"identificatie", "omschrijving", "heeftRelevant", "leidtTot"}


async def test_geef_zaakdetails_alles_includes_documents_and_besluiten(harness: Harness, schemas: Schemas) -> None:
    reply = await harness.handle(*creeer_zaak(identificatie=BESLUIT_ZAAK, zaaktype="OMGEVINGSVERGUNNING",
                                              referentienummer="alles-zaak"))
    assert reply.status == 200, reply.body.decode()
    reply = await harness.handle(*voeg_besluit_toe(identificatie="0363BS-ALLES", zaak=BESLUIT_ZAAK,
                                                   referentienummer="alles-bsl"))
    assert reply.status == 200, reply.body.decode()
    _, la01 = await ask(harness, geef_zaakdetails(identificatie=BESLUIT_ZAAK, scope="alles",
                                                  referentienummer="alles-vraag"))
    assert schemas.validate(la01) == []
    assert la01.findtext(".//{*}leidtTot/{*}gerelateerde/{*}identificatie") == "0363BS-ALLES"
