"""What real clients send that the StUF rules allow or that clients do in the field (issue 13), each with a
message of its own: the gateway must process it, not fault on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import STUF, ZKN
from stuf_bridge.stuf.validation import Schemas

from ..support.faults import stuf_fault
from .conftest import Harness, running_harness
from .messages import INITIATOR, creeer_zaak, status
from .status_messages import actualiseer_zaakstatus, geef_zaakstatus
from .test_zaakstatus import ZAAK, ask, statussen, zaak_with_status
from .update_messages import update_zaak, zaak_object


async def test_update_zaak_repeating_the_current_status_skips_it_and_applies_the_rest(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(referentienummer="rc-1a"))
    assert reply.status == 200, reply.body.decode()
    # the whole zaak on every update: the status it has, and one change
    whole = "<ZKN:omschrijving>Stoeptegels, bijgewerkt</ZKN:omschrijving>" + status("Ontvangen", "20241105", "1")
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, whole), referentienummer="rc-1b"))
    assert reply.status == 200, reply.body.decode()
    assert any("niet opnieuw gezet" in w for w in reply.warnings), reply.warnings
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert zaak["omschrijving"] == "Stoeptegels, bijgewerkt"
    assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen"]


EMPTY_INITIATOR = """
    <ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde/>
    </ZKN:heeftAlsInitiator>"""


async def test_an_empty_relation_identical_in_old_and_new_changes_nothing(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(referentienummer="rc-2a"))
    assert reply.status == 200, reply.body.decode()
    was = zaak_object(ZAAK, EMPTY_INITIATOR, soort="W")
    wordt = zaak_object(ZAAK, EMPTY_INITIATOR + "<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving>"
                        "</ZKN:resultaat><ZKN:einddatum>20241110</ZKN:einddatum>", soort="W")
    reply = await harness.handle(*update_zaak(was, wordt, referentienummer="rc-2b"))
    assert reply.status == 200, reply.body.decode()
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert zaak["einddatum"] == "2024-11-10"
    resultaat = await harness.zgw.get(zaak["resultaat"])
    assert (await harness.zgw.get(resultaat["resultaattype"]))["omschrijving"] == "Opgelost"
    assert len(await harness.all("rollen", zaak=zaak["url"])) == 1  # the initiator creeerZaak set is still there


async def test_an_empty_relation_that_adds_without_old_counterpart_is_still_a_fault(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(referentienummer="rc-2c"))
    assert reply.status == 200, reply.body.decode()
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, EMPTY_INITIATOR), referentienummer="rc-2d"))
    assert stuf_fault(reply).codes == ("StUF058", "rol-without-betrokkene")


def _eindstatus_with_resultaat(resultaat: str, referentienummer: str) -> tuple[bytes, dict[str, str]]:
    """actualiseerZaakstatus to the eindstatus whose new object also carries the zaak's resultaat."""
    body, headers = actualiseer_zaakstatus(omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000",
                                           referentienummer=referentienummer)
    status_t = b'<ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T">'
    assert body.count(status_t) == 1
    element = f"<ZKN:resultaat><ZKN:omschrijving>{resultaat}</ZKN:omschrijving></ZKN:resultaat>\n    ".encode()
    return body.replace(status_t, element + status_t), headers


async def _closed_with(harness: Harness) -> tuple[str, str | None]:
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    [resultaat] = await harness.all("resultaten", zaak=zaak["url"])
    return (await harness.zgw.get(resultaat["resultaattype"]))["omschrijving"], zaak["einddatum"]


async def test_eindstatus_with_a_resultaat_closes_with_it_without_fallback(harness: Harness) -> None:
    await zaak_with_status(harness)
    reply = await harness.handle(*_eindstatus_with_resultaat("Niet opgelost", "rc-3a"))
    assert reply.status == 200, reply.body.decode()
    assert await _closed_with(harness) == ("Niet opgelost", "2024-11-07")


async def test_eindstatus_with_a_resultaat_wins_over_the_fallback(closing_harness: Harness) -> None:
    harness = closing_harness  # its fallback resultaat is Opgelost
    await zaak_with_status(harness)
    reply = await harness.handle(*_eindstatus_with_resultaat("Doorverwezen", "rc-3b"))
    assert reply.status == 200, reply.body.decode()
    assert not any("fallback" in w for w in reply.warnings), reply.warnings
    assert await _closed_with(harness) == ("Doorverwezen", "2024-11-07")


async def test_eindstatus_with_a_resultaat_replaces_the_zaaks_other_resultaat(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(resultaat="Opgelost", referentienummer="rc-3c"))
    assert reply.status == 200, reply.body.decode()
    reply = await harness.handle(*_eindstatus_with_resultaat("Niet opgelost", "rc-3d"))
    assert reply.status == 200, reply.body.decode()
    assert await _closed_with(harness) == ("Niet opgelost", "2024-11-07")


async def test_an_organisatie_that_is_no_gemeentecode_gets_its_rsin_from_the_mapping(
        make_settings: Callable[..., Settings], schemas: Schemas, tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "organisaties.yaml").write_text("organisaties: {'AMS': '823288444'}\n")
    async with running_harness(make_settings(mappings_dir=overlay, demo=False), schemas) as harness:
        reply = await harness.handle(*creeer_zaak(organisatie="AMS", referentienummer="rc-6a"))
        assert reply.status == 200, reply.body.decode()
        [zaak] = await harness.all("zaken", identificatie=ZAAK)
        assert zaak["bronorganisatie"] == zaak["verantwoordelijkeOrganisatie"] == "823288444"


ZENDER = ("<StUF:zender><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>Zaaksysteem</StUF:applicatie>"
          "</StUF:zender>")


async def _question_without_zender(harness: Harness, *, referentienummer: bool) -> etree._Element:
    body, headers = geef_zaakstatus()
    assert body.count(ZENDER.encode()) == 1
    body = body.replace(ZENDER.encode(), b"")
    if not referentienummer:
        body = body.replace(b"<StUF:referentienummer>vraag-1</StUF:referentienummer>", b"")
    assert (b"vraag-1" in body) is referentienummer
    return await ask(harness, (body, headers))


async def test_a_question_without_zender_is_answered_with_what_it_has(harness: Harness, schemas: Schemas) -> None:
    await zaak_with_status(harness)
    la01 = await _question_without_zender(harness, referentienummer=True)
    assert schemas.validate(la01) == []
    sg = la01.find(f"{{{ZKN}}}stuurgegevens")
    assert sg is not None
    assert sg.findtext(f"{{{STUF}}}crossRefnummer") == "vraag-1"
    assert sg.find(f"{{{STUF}}}ontvanger") is None  # not a made-up "onbekend"
    assert b"onbekend" not in etree.tostring(la01)


async def test_a_question_without_zender_or_referentienummer_leaves_both_out(harness: Harness,
                                                                            schemas: Schemas) -> None:
    await zaak_with_status(harness)
    la01 = await _question_without_zender(harness, referentienummer=False)
    assert schemas.validate(la01) == []
    sg = la01.find(f"{{{ZKN}}}stuurgegevens")
    assert sg is not None
    assert sg.find(f"{{{STUF}}}crossRefnummer") is None and sg.find(f"{{{STUF}}}ontvanger") is None


async def _current_status(harness: Harness) -> tuple[dict, str]:
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    status = await harness.zgw.get(zaak["status"])
    return zaak, (await harness.zgw.get(status["statustype"]))["omschrijving"]


async def test_einddatum_earlier_than_the_current_status_closes_after_it(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(statussen=status("Ontvangen", "20241105", "1"),
                                              referentienummer="rc-9a"))
    assert reply.status == 200, reply.body.decode()
    content = ("<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving></ZKN:resultaat>"
               "<ZKN:einddatum>20241101</ZKN:einddatum>")
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, content), referentienummer="rc-9b"))
    assert reply.status == 200, reply.body.decode()
    assert any("niet later dan die van de huidige status" in w for w in reply.warnings), reply.warnings
    zaak, current = await _current_status(harness)
    assert current == "Afgehandeld" and zaak["einddatum"] == "2024-11-05"


async def test_einddatum_on_the_day_of_a_status_in_the_same_message_closes_after_that_status(
        harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(referentienummer="rc-9c"))
    assert reply.status == 200, reply.body.decode()
    content = ("<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving></ZKN:resultaat>"
               "<ZKN:einddatum>20241110</ZKN:einddatum>" + status("In behandeling", "20241110120000", "2"))
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, content), referentienummer="rc-9d"))
    assert reply.status == 200, reply.body.decode()
    zaak, current = await _current_status(harness)
    assert current == "Afgehandeld" and zaak["einddatum"] == "2024-11-10"
    assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen", "In behandeling", "Afgehandeld"]


@pytest.mark.parametrize(("written", "ind", "expected"), [("199007", "D", "1990-07-01"), ("1990", "M", "1990-01-01")])
async def test_a_partially_known_birth_date_written_short_is_accepted(harness: Harness, schemas: Schemas,
                                                                       written: str, ind: str, expected: str) -> None:
    """A form portal writes a partially known geboortedatum as 6 or 4 digits with StUF:indOnvolledigeDatum."""
    born = f'<BG:geboortedatum StUF:indOnvolledigeDatum="{ind}">{written}</BG:geboortedatum>'
    initiator = INITIATOR.replace("<BG:geslachtsaanduiding>V</BG:geslachtsaanduiding>",
                                  f"<BG:geslachtsaanduiding>V</BG:geslachtsaanduiding>{born}")
    assert born in initiator
    message = creeer_zaak(initiator=initiator, referentienummer=f"rc-4-{written}")
    assert schemas.validate(etree.fromstring(message[0])[0][0]) == []  # StUF allows it (Datum: up to 8 digits)
    reply = await harness.handle(*message)
    assert reply.status == 200, reply.body.decode()
    assert any("onvolledig" in w for w in reply.warnings), reply.warnings
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    [rol] = await harness.all("rollen", zaak=zaak["url"])
    assert rol["betrokkeneIdentificatie"]["geboortedatum"] == expected
