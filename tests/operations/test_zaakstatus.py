"""actualiseerZaakstatus and geefZaakstatus end to end: a zaak made with creeerZaak, its status changed over SOAP,
then read back from ZGW and through geefZaakstatus (both dialects, answers validated against our schemas)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import SOAP11, STUF, ZKN
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.stuf.values import AMSTERDAM

from ..support.faults import stuf_fault
from .conftest import Harness, profile_overlay, running_harness
from .messages import creeer_zaak
from .status_messages import actualiseer_zaakstatus, geef_zaakstatus, gezet_door

ZAAK = "0363ZK2024-000101"


def _q(name: str) -> str:
    return f"{{{ZKN}}}{name}"


def berichtcode(content: bytes) -> str | None:
    return etree.fromstring(content).findtext(f".//{{{STUF}}}berichtcode")


async def ask(harness: Harness, message: tuple[bytes, dict[str, str]]) -> etree._Element:
    """A geefZaakstatus over BeantwoordVraag; the La01 element out of the SOAP body."""
    response = await harness.client.post("/zds/BeantwoordVraag", content=message[0], headers=message[1])
    assert response.status_code == 200, response.text
    body = etree.fromstring(response.content).find(f"{{{SOAP11}}}Body")
    assert body is not None
    return body[0]


async def zaak_with_status(harness: Harness, dialect: str = "1.1") -> dict:
    response = await harness.post(*creeer_zaak(dialect=dialect))
    assert response.status_code == 200, response.text
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    return zaak


async def statussen(harness: Harness, zaak: dict) -> list[tuple[str, datetime, str | None]]:
    """(statustype omschrijving, datumStatusGezet, toelichting), oldest first."""
    out = []
    for status in await harness.all("statussen", zaak=zaak["url"]):
        statustype = await harness.zgw.get(status["statustype"])
        out.append(
            (
                statustype["omschrijving"],
                datetime.fromisoformat(status["datumStatusGezet"]),
                status["statustoelichting"],
            )
        )
    return sorted(out, key=lambda item: item[1])


# --- actualiseerZaakstatus ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_next_status(harness: Harness, dialect: str) -> None:
    zaak = await zaak_with_status(harness, dialect)
    reply = await harness.handle(*actualiseer_zaakstatus(dialect=dialect))
    assert reply.status == 200, reply.body
    assert berichtcode(reply.body) == "Bv03"
    assert not [w for w in reply.warnings if w.startswith("schema")], reply.warnings
    found = await statussen(harness, zaak)
    assert [s[0] for s in found] == ["Ontvangen", "In behandeling"]
    assert found[1][1] == datetime.fromisoformat("2024-11-06T10:15:00+01:00")
    assert found[1][2] == "Behandeling gestart."
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    current = await harness.zgw.get(zaak["status"])
    assert (await harness.zgw.get(current["statustype"]))["omschrijving"] == "In behandeling"
    assert not zaak.get("einddatum")


async def test_one_object_is_enough(harness: Harness) -> None:
    zaak = await zaak_with_status(harness)
    response = await harness.post(*actualiseer_zaakstatus(old=False))
    assert response.status_code == 200, response.text
    assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen", "In behandeling"]


async def test_eindstatus_without_resultaat_uses_the_fallback(closing_harness: Harness) -> None:
    harness = closing_harness
    zaak = await zaak_with_status(harness)
    reply = await harness.handle(
        *actualiseer_zaakstatus(omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000")
    )
    assert reply.status == 200, reply.body
    assert berichtcode(reply.body) == "Bv03"
    assert any("fallback" in w for w in reply.warnings), reply.warnings
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert zaak["einddatum"] == "2024-11-07"
    [resultaat] = await harness.all("resultaten", zaak=zaak["url"])
    assert (await harness.zgw.get(resultaat["resultaattype"]))["omschrijving"] == "Opgelost"
    assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen", "Afgehandeld"]


async def test_eindstatus_without_resultaat_or_fallback_is_a_clear_fault(harness: Harness) -> None:
    zaak = await zaak_with_status(harness)
    response = await harness.post(
        *actualiseer_zaakstatus(omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000")
    )
    assert response.status_code == 500
    assert berichtcode(response.content) == "Fo03"
    fault = stuf_fault(response)
    assert fault.codes == ("StUF058", "fallback-resultaat-missing")
    assert "fallback_resultaat" in fault.details and "MELDING-OR" in fault.details, fault.details
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert not zaak.get("einddatum")
    assert await harness.all("resultaten", zaak=zaak["url"]) == []
    assert len(await statussen(harness, zaak)) == 1


async def test_ignore_eindstatus_leaves_the_zaak_open(
    make_settings: Callable[..., Settings], schemas: Schemas, tmp_path: Path
) -> None:
    overlay = profile_overlay(tmp_path, ["fallback_resultaat: Opgelost", "ignore_eindstatus: true"])
    async with running_harness(make_settings(mappings_dir=overlay), schemas) as harness:
        zaak = await zaak_with_status(harness)
        reply = await harness.handle(
            *actualiseer_zaakstatus(omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000")
        )
        assert reply.status == 200, reply.body
        assert berichtcode(reply.body) == "Bv03"
        assert any("ignore_eindstatus" in w for w in reply.warnings), reply.warnings
        [zaak] = await harness.all("zaken", identificatie=ZAAK)
        assert not zaak.get("einddatum")
        assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen"]
        assert await harness.all("resultaten", zaak=zaak["url"]) == []


async def test_eindstatus_with_a_resultaat_already_keeps_it(harness: Harness) -> None:
    response = await harness.post(*creeer_zaak(resultaat="Niet opgelost"))
    assert response.status_code == 200, response.text
    reply = await harness.handle(
        *actualiseer_zaakstatus(omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000")
    )
    assert reply.status == 200, reply.body
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert zaak["einddatum"] == "2024-11-07"
    [resultaat] = await harness.all("resultaten", zaak=zaak["url"])
    assert (await harness.zgw.get(resultaat["resultaattype"]))["omschrijving"] == "Niet opgelost"


async def test_equal_datum_status_gezet_becomes_one_second_later(harness: Harness) -> None:
    zaak = await zaak_with_status(harness)  # Ontvangen at 2024-11-05 00:00 (date only, not today: midnight)
    reply = await harness.handle(*actualiseer_zaakstatus(datum="20241105"))
    assert reply.status == 200, reply.body
    assert any("niet later" in w for w in reply.warnings), reply.warnings
    found = await statussen(harness, zaak)
    assert [s[0] for s in found] == ["Ontvangen", "In behandeling"]
    assert found[1][1] - found[0][1] == timedelta(seconds=1)
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    current = await harness.zgw.get(zaak["status"])
    assert (await harness.zgw.get(current["statustype"]))["omschrijving"] == "In behandeling"


async def test_a_date_only_of_today_gets_the_current_time(harness: Harness) -> None:
    zaak = await zaak_with_status(harness)
    before = datetime.now(AMSTERDAM).replace(microsecond=0)
    reply = await harness.handle(*actualiseer_zaakstatus(datum=before.strftime("%Y%m%d")))
    assert reply.status == 200, reply.body
    found = await statussen(harness, zaak)
    assert found[1][0] == "In behandeling"
    assert before <= found[1][1] <= datetime.now(AMSTERDAM)


async def test_unknown_zaak_is_a_fault_naming_it(harness: Harness) -> None:
    response = await harness.post(*actualiseer_zaakstatus(identificatie="0363ZK-ONBEKEND"))
    assert response.status_code == 500
    assert berichtcode(response.content) == "Fo03"
    fault = stuf_fault(response)
    assert fault.codes == ("StUF058", "zaak-not-found")
    assert "0363ZK-ONBEKEND" in fault.details


async def test_unknown_statustype_is_a_fault_naming_what_exists(harness: Harness) -> None:
    zaak = await zaak_with_status(harness)
    response = await harness.post(*actualiseer_zaakstatus(omschrijving="Bestaat niet", volgnummer="7"))
    assert berichtcode(response.content) == "Fo03"
    fault = stuf_fault(response)
    assert fault.codes == ("StUF058", "statustype-not-found")
    assert "Bestaat niet" in fault.details and "In behandeling" in fault.details, fault.details
    assert len(await statussen(harness, zaak)) == 1


async def test_is_gezet_door_without_rol_is_a_warning(harness: Harness) -> None:
    zaak = await zaak_with_status(harness, "1.2")
    reply = await harness.handle(*actualiseer_zaakstatus(dialect="1.2", gezet_door_xml=gezet_door("MDW-999")))
    assert reply.status == 200, reply.body
    assert any("isGezetDoor" in w and "MDW-999" in w for w in reply.warnings), reply.warnings
    [status] = [
        s for s in await harness.all("statussen", zaak=zaak["url"]) if s["statustoelichting"] == "Behandeling gestart."
    ]
    assert status["gezetdoor"] in (None, "")


async def test_resend_gets_the_same_bv03_and_one_status(harness: Harness) -> None:
    zaak = await zaak_with_status(harness)
    message = actualiseer_zaakstatus(referentienummer="status-resend")
    first = await harness.post(*message)
    second = await harness.post(*message)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen", "In behandeling"]


async def test_a_refused_eindstatus_leaves_no_resultaat(closing_harness: Harness) -> None:
    harness = closing_harness
    zaak = await zaak_with_status(harness)
    harness.transport.fail_on = ("POST", "/statussen", 1)
    response = await harness.post(
        *actualiseer_zaakstatus(omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000")
    )
    harness.transport.fail_on = None
    assert berichtcode(response.content) == "Fo03"
    details = stuf_fault(response).details
    assert "POST statussen" in details and "ongedaan: POST resultaten" in details, details
    assert await harness.all("resultaten", zaak=zaak["url"]) == []
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert not zaak.get("einddatum")


async def document_on(harness: Harness, zaak: dict) -> str:
    """A document without indicatieGebruiksrecht, linked to the zaak; its URL."""
    zaaktype = await harness.zgw.get(zaak["zaaktype"])
    [iot] = [i for i in await harness.zgw.catalogue.informatieobjecttypen(zaaktype) if i["omschrijving"] == "Melding"]
    eio = await harness.zgw.documenten.create(
        "enkelvoudiginformatieobjecten",
        {
            "bronorganisatie": zaak["bronorganisatie"],
            "creatiedatum": "2024-11-05",
            "titel": "melding.pdf",
            "auteur": "Open Formulieren",
            "taal": "nld",
            "inhoud": "aGFsbG8=",
            "informatieobjecttype": iot["url"],
        },
    )
    assert eio["indicatieGebruiksrecht"] is None
    await harness.zgw.zaken.create("zaakinformatieobjecten", {"zaak": zaak["url"], "informatieobject": eio["url"]})
    return str(eio["url"])


async def test_eindstatus_sets_indicatie_gebruiksrecht_false(closing_harness: Harness) -> None:
    harness = closing_harness
    zaak = await zaak_with_status(harness)
    url = await document_on(harness, zaak)
    reply = await harness.handle(
        *actualiseer_zaakstatus(omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000")
    )
    assert reply.status == 200, reply.body
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert zaak["einddatum"] == "2024-11-07"
    document = await harness.zgw.get(url)
    assert document["indicatieGebruiksrecht"] is False
    assert not document["locked"]


async def test_eindstatus_with_a_checked_out_document_is_a_fault_before_anything_is_written(
    closing_harness: Harness,
) -> None:
    harness = closing_harness
    zaak = await zaak_with_status(harness)
    url = await document_on(harness, zaak)
    await harness.zgw.documenten.post(f"{url}/lock")
    harness.transport.requests.clear()
    reply = await harness.handle(
        *actualiseer_zaakstatus(omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000")
    )
    assert reply.status == 500 and berichtcode(reply.body) == "Fo03"
    fault = stuf_fault(reply)
    assert fault.codes == ("StUF058", "zaak-has-checked-out-document")
    assert (await harness.zgw.get(url))["identificatie"] in fault.details  # the document is named
    assert [m for m, _, _ in harness.transport.requests if m != "GET"] == []
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert not zaak["einddatum"] and not zaak["resultaat"]


async def test_a_refused_eindstatus_gives_the_document_its_indicator_back(closing_harness: Harness) -> None:
    harness = closing_harness
    zaak = await zaak_with_status(harness)
    url = await document_on(harness, zaak)
    harness.transport.fail_on = ("POST", "/statussen", 1)
    response = await harness.post(
        *actualiseer_zaakstatus(omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000")
    )
    harness.transport.fail_on = None
    assert berichtcode(response.content) == "Fo03"
    document = await harness.zgw.get(url)
    assert document["indicatieGebruiksrecht"] is None
    assert not document["locked"]
    assert await harness.all("resultaten", zaak=zaak["url"]) == []


async def test_is_gezet_door_with_a_rol_becomes_gezetdoor(harness: Harness) -> None:
    zaak = await zaak_with_status(harness, "1.2")
    zaaktype = await harness.zgw.get(zaak["zaaktype"])
    [roltype] = [r for r in await harness.zgw.catalogue.roltypen(zaaktype) if r["omschrijving"] == "Uitvoerende"]
    rol = await harness.zgw.zaken.create(
        "rollen",
        {
            "zaak": zaak["url"],
            "roltype": roltype["url"],
            "roltoelichting": "behandelaar",
            "betrokkeneType": "medewerker",
            "betrokkeneIdentificatie": {"identificatie": "MDW-007", "achternaam": "Jansen"},
        },
    )
    reply = await harness.handle(*actualiseer_zaakstatus(dialect="1.2"))
    assert reply.status == 200, reply.body
    assert not any("isGezetDoor" in w for w in reply.warnings), reply.warnings
    [status] = [
        s for s in await harness.all("statussen", zaak=zaak["url"]) if s["statustoelichting"] == "Behandeling gestart."
    ]
    assert status["gezetdoor"] == rol["url"]


# --- geefZaakstatus ------------------------------------------------------------------------------------------------


def heeft(la01: etree._Element) -> list[dict[str, str | None]]:
    out = []
    for el in la01.iterfind(f"{_q('antwoord')}/{_q('object')}/{_q('heeft')}"):
        out.append(
            {
                "omschrijving": el.findtext(f"{_q('gerelateerde')}/{_q('omschrijving')}"),
                "volgnummer": el.findtext(f"{_q('gerelateerde')}/{_q('volgnummer')}"),
                "toelichting": el.findtext(_q("toelichting")),
                "datumStatusGezet": el.findtext(_q("datumStatusGezet")),
                "indicatieLaatsteStatus": el.findtext(_q("indicatieLaatsteStatus")),
            }
        )
    return out


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_geef_zaakstatus_last_status(harness: Harness, schemas: Schemas, dialect: str) -> None:
    await zaak_with_status(harness, dialect)
    assert (await harness.post(*actualiseer_zaakstatus(dialect=dialect))).status_code == 200
    la01 = await ask(harness, geef_zaakstatus(dialect=dialect))
    assert schemas.validate(la01) == [], etree.tostring(la01, pretty_print=True).decode()
    assert la01.findtext(f"{_q('stuurgegevens')}/{{{STUF}}}berichtcode") == "La01"
    assert la01.findtext(f"{_q('stuurgegevens')}/{{{STUF}}}entiteittype") == "ZAK"
    assert la01.findtext(f"{_q('stuurgegevens')}/{{{STUF}}}crossRefnummer") == "vraag-1"
    assert la01.findtext(f"{_q('parameters')}/{{{STUF}}}indicatorVervolgvraag") == "false"
    assert la01.findtext(f"{_q('antwoord')}/{_q('object')}/{_q('identificatie')}") == ZAAK
    assert heeft(la01) == [
        {
            "omschrijving": "In behandeling",
            "volgnummer": "2",
            "toelichting": "Behandeling gestart.",
            "datumStatusGezet": "20241106101500000",
            "indicatieLaatsteStatus": "J",
        }
    ]


async def test_geef_zaakstatus_all_statussen_with_j_and_n(harness: Harness, schemas: Schemas) -> None:
    await zaak_with_status(harness)
    assert (await harness.post(*actualiseer_zaakstatus())).status_code == 200
    la01 = await ask(harness, geef_zaakstatus(laatste=False))
    assert schemas.validate(la01) == [], etree.tostring(la01, pretty_print=True).decode()
    found = heeft(la01)
    assert [(h["omschrijving"], h["indicatieLaatsteStatus"]) for h in found] == [
        ("In behandeling", "J"),
        ("Ontvangen", "N"),
    ]
    assert found[1]["datumStatusGezet"] == "20241105000000000"  # Amsterdam local time


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_geef_zaakstatus_unknown_zaak_is_la01_without_antwoord(
    harness: Harness, schemas: Schemas, dialect: str
) -> None:
    la01 = await ask(harness, geef_zaakstatus(dialect=dialect, identificatie="0363ZK-ONBEKEND"))
    assert schemas.validate(la01) == []
    assert la01.findtext(f"{_q('stuurgegevens')}/{{{STUF}}}berichtcode") == "La01"
    assert la01.find(_q("antwoord")) is None


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_geef_zaakstatus_of_a_zaak_without_status(harness: Harness, schemas: Schemas, dialect: str) -> None:
    assert (await harness.post(*creeer_zaak(dialect=dialect, statussen=""))).status_code == 200
    la01 = await ask(harness, geef_zaakstatus(dialect=dialect))
    assert schemas.validate(la01) == [], etree.tostring(la01, pretty_print=True).decode()
    assert la01.findtext(f"{_q('antwoord')}/{_q('object')}/{_q('identificatie')}") == ZAAK
    [nil] = la01.findall(f"{_q('antwoord')}/{_q('object')}/{_q('heeft')}")
    assert nil.get(f"{{{STUF}}}noValue") == "geenWaarde"
