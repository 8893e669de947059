"""creeerZaak end to end: SOAP in, the embedded ZGW backend over ASGI, then the data read back from ZGW."""

from __future__ import annotations

from datetime import datetime

import pytest
from lxml import etree

from stuf_bridge.stuf.namespaces import STUF

from ..support.faults import stuf_fault
from .conftest import Harness
from .messages import ADRES, BELANGHEBBENDE_SAME_PERSON, INITIATOR, creeer_zaak, status


def berichtcode(response) -> str:
    root = etree.fromstring(response.content)
    return root.findtext(f".//{{{STUF}}}berichtcode")


async def test_zds11_open_formulieren_creeer_zaak(harness: Harness) -> None:
    response = await harness.post(*creeer_zaak())
    assert response.status_code == 200, response.text
    assert berichtcode(response) == "Bv03"
    root = etree.fromstring(response.content)
    assert root.find(f".//{{{STUF}}}Bv03Bericht") is not None

    zaken = await harness.all("zaken", identificatie="0363ZK2024-000101")
    assert len(zaken) == 1
    zaak = zaken[0]
    zaaktype = await harness.zgw.get(zaak["zaaktype"])
    assert zaaktype["identificatie"] == "MELDING-OR"
    rsin = harness.settings.default_rsin  # 0363 is not in organisaties: the default RSIN
    assert rsin
    assert zaak["bronorganisatie"] == rsin
    assert zaak["verantwoordelijkeOrganisatie"] == rsin
    assert zaak["startdatum"] == "2024-11-05"
    assert zaak["registratiedatum"] == "2024-11-05"
    assert zaak["omschrijving"] == "Melding losliggende stoeptegels"
    assert zaak["kenmerken"] == [{"kenmerk": "OF-REF-42", "bron": "Open Formulieren"}]
    assert zaak["betalingsindicatie"] == "nvt"

    rollen = await harness.all("rollen", zaak=zaak["url"])
    assert len(rollen) == 1
    rol = rollen[0]
    roltype = await harness.zgw.get(rol["roltype"])
    assert roltype["omschrijvingGeneriek"] == "initiator"
    assert rol["betrokkeneType"] == "natuurlijk_persoon"
    assert rol["betrokkeneIdentificatie"]["inpBsn"] == "999993653"
    assert rol["betrokkeneIdentificatie"]["geslachtsnaam"] == "Visser"

    statussen = await harness.all("statussen", zaak=zaak["url"])
    assert len(statussen) == 1
    statustype = await harness.zgw.get(statussen[0]["statustype"])
    assert statustype["omschrijving"] == "Ontvangen"
    gezet = statussen[0]["datumStatusGezet"]
    # a bare date (as Open Formulieren sends it) is 00:00 in Europe/Amsterdam: winter time, +01:00
    assert datetime.fromisoformat(gezet) == datetime.fromisoformat("2024-11-05T00:00:00+01:00")
    # ZGW answers in UTC (as Open Zaak does); what the gateway sent carries the Amsterdam offset
    [sent] = harness.posted("/statussen")
    assert sent["datumStatusGezet"] == "2024-11-05T00:00:00+01:00"
    assert zaak["status"] == statussen[0]["url"]

    # extraElementen: the one the zaaktype has an eigenschap for became a zaakeigenschap
    eigenschappen = await harness.zgw.zaken.list(f"{zaak['url']}/zaakeigenschappen")
    assert [(e["naam"], e["waarde"]) for e in eigenschappen] == [("categorie", "straat")]


async def test_zds11_status_in_summer_time_and_more_parts(harness: Harness) -> None:
    body = creeer_zaak(
        identificatie="0363ZK2024-000102",
        resultaat="Opgelost",
        relations=ADRES + BELANGHEBBENDE_SAME_PERSON,
        statussen=status("Ontvangen", "20240715101500", "1") + status("In behandeling", "20240716090000", "2"),
    )
    response = await harness.post(*body)
    assert response.status_code == 200, response.text
    [zaak] = await harness.all("zaken", identificatie="0363ZK2024-000102")
    statussen = await harness.all("statussen", zaak=zaak["url"])
    assert len(statussen) == 2
    gezet = sorted(datetime.fromisoformat(s["datumStatusGezet"]) for s in statussen)
    assert gezet[0] == datetime.fromisoformat("2024-07-15T10:15:00+02:00")
    sent = [body["datumStatusGezet"] for body in harness.posted("/statussen")]
    assert sent == ["2024-07-15T10:15:00+02:00", "2024-07-16T09:00:00+02:00"]  # summer time, oldest first
    current = await harness.zgw.get(zaak["status"])
    assert datetime.fromisoformat(current["datumStatusGezet"]) == gezet[1]  # the newest is the current one
    rollen = await harness.all("rollen", zaak=zaak["url"])
    generiek = sorted([(await harness.zgw.get(r["roltype"]))["omschrijvingGeneriek"] for r in rollen])
    assert generiek == ["belanghebbende", "initiator"]  # the same person in two roles
    assert {r["betrokkeneIdentificatie"]["inpBsn"] for r in rollen} == {"999993653"}
    [zaakobject] = await harness.all("zaakobjecten", zaak=zaak["url"])
    assert zaakobject["objectType"] == "adres"
    assert zaakobject["objectIdentificatie"]["huisnummer"] == 263
    [resultaat] = await harness.all("resultaten", zaak=zaak["url"])
    assert (await harness.zgw.get(resultaat["resultaattype"]))["omschrijving"] == "Opgelost"


async def test_zds12_creeer_zaak(harness: Harness) -> None:
    response = await harness.post(*creeer_zaak(dialect="1.2", identificatie="0363ZK2024-000201"))
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    assert root.find(f".//{{{STUF}}}Bv03Bericht") is not None
    assert berichtcode(response) == "Bv03"
    [zaak] = await harness.all("zaken", identificatie="0363ZK2024-000201")
    assert len(await harness.all("rollen", zaak=zaak["url"])) == 1
    assert len(await harness.all("statussen", zaak=zaak["url"])) == 1


async def test_without_identificatie_zgw_generates_one(harness: Harness) -> None:
    response = await harness.post(*creeer_zaak(identificatie=None, referentienummer="no-id"))
    assert response.status_code == 200, response.text
    zaken = await harness.all("zaken")
    assert len(zaken) == 1 and zaken[0]["identificatie"]


async def test_without_initiator_is_processed_with_a_warning(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(initiator="", referentienummer="no-ini"))
    assert reply.status == 200, reply.body
    assert any("heeftAlsInitiator" in w for w in reply.warnings), reply.warnings
    [zaak] = await harness.all("zaken")
    assert await harness.all("rollen", zaak=zaak["url"]) == []


async def test_without_initiator_is_a_fault_when_required(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.settings, "require_initiator", True)
    response = await harness.post(*creeer_zaak(initiator="", referentienummer="no-ini-strict"))
    assert berichtcode(response) == "Fo03"
    fault = stuf_fault(response)
    assert fault.codes == ("StUF058", "initiator-missing")
    assert "heeftAlsInitiator" in fault.details
    assert await harness.all("zaken") == []


async def test_mapping_warnings_reach_the_context(harness: Harness) -> None:
    long = "x" * 100  # omschrijving is at most 80 characters in ZGW: cut, and said so
    reply = await harness.handle(*creeer_zaak(omschrijving=long, referentienummer="warn-1"))
    assert reply.status == 200, reply.body
    assert any("omschrijving" in w for w in reply.warnings), reply.warnings
    [zaak] = await harness.all("zaken")
    assert len(zaak["omschrijving"]) <= 80


async def test_unknown_zaaktype_is_a_fault_naming_it(harness: Harness) -> None:
    response = await harness.post(*creeer_zaak(zaaktype="ONBEKEND-ZT"))
    assert response.status_code == 500
    assert berichtcode(response) == "Fo03"
    fault = stuf_fault(response)
    assert fault.code == "StUF058"
    assert "ONBEKEND-ZT" in fault.details
    assert await harness.all("zaken") == []


async def test_unknown_statustype_faults_before_anything_is_written(harness: Harness) -> None:
    response = await harness.post(*creeer_zaak(statussen=status("Bestaat niet", volgnummer=None)))
    assert berichtcode(response) == "Fo03"
    fault = stuf_fault(response)
    assert fault.codes == ("StUF058", "statustype-not-found")
    assert "Bestaat niet" in fault.details
    assert await harness.all("zaken") == []


async def test_resend_gets_the_same_bv03_and_no_second_zaak(harness: Harness) -> None:
    message = creeer_zaak(referentienummer="resend-1")
    first = await harness.post(*message)
    second = await harness.post(*message)
    assert first.status_code == second.status_code == 200
    assert berichtcode(second) == "Bv03"
    assert first.content == second.content
    assert len(await harness.all("zaken")) == 1


async def test_reused_referentienummer_with_other_body_is_stuf016(harness: Harness) -> None:
    assert (await harness.post(*creeer_zaak(referentienummer="reuse-1"))).status_code == 200
    other = creeer_zaak(referentienummer="reuse-1", identificatie="0363ZK2024-000999", omschrijving="Iets anders")
    response = await harness.post(*other)
    assert berichtcode(response) == "Fo03"
    assert stuf_fault(response).code == "StUF016"
    assert len(await harness.all("zaken")) == 1


@pytest.mark.parametrize(
    ("suffix", "nth", "step"),
    [
        ("/rollen", 1, "POST rollen"),
        ("/rollen", 2, "POST rollen"),
        ("/zaakobjecten", 1, "POST zaakobjecten"),
        ("/resultaten", 1, "POST resultaten"),
        ("/statussen", 1, "POST statussen"),
        ("/statussen", 2, "POST statussen"),
        ("/zaakeigenschappen", 1, "POST zaakeigenschappen"),
    ],
)
async def test_a_failed_step_leaves_nothing_behind(harness: Harness, suffix: str, nth: int, step: str) -> None:
    harness.transport.fail_on = ("POST", suffix, nth)
    body = creeer_zaak(
        resultaat="Opgelost",
        relations=ADRES + BELANGHEBBENDE_SAME_PERSON,
        statussen=status("Ontvangen", "20240715101500", "1") + status("In behandeling", "20240716090000", "2"),
    )
    response = await harness.post(*body)
    assert response.status_code == 500
    assert berichtcode(response) == "Fo03"
    fault = stuf_fault(response)
    assert fault.code == "StUF046"  # the backend's 500: ZGW unavailable
    assert step in fault.details, fault.details
    assert "ongedaan: POST zaken" in fault.details  # the zaak made before the failing step is deleted again
    harness.transport.fail_on = None
    assert await harness.all("zaken") == []
    for resource in ("rollen", "statussen", "zaakobjecten", "resultaten"):  # zaakeigenschappen: under the zaak
        assert await harness.all(resource) == [], resource


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_the_test_messages_are_schema_valid(harness: Harness, dialect: str) -> None:
    reply = await harness.handle(*creeer_zaak(dialect=dialect, resultaat="Opgelost", relations=ADRES))
    assert reply.status == 200, reply.body
    assert not [w for w in reply.warnings if w.startswith("schema")], reply.warnings


async def test_an_exact_repeat_of_a_rol_is_sent_once(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(relations=BELANGHEBBENDE_SAME_PERSON * 2))
    assert reply.status == 200, reply.body
    assert any("dubbel" in w for w in reply.warnings), reply.warnings
    [zaak] = await harness.all("zaken")
    assert len(await harness.all("rollen", zaak=zaak["url"])) == 2  # initiator + one belanghebbende


async def test_a_rol_the_zaaktype_has_no_roltype_for_is_a_fault_naming_both(harness: Harness) -> None:
    """BEZWAAR has no roltype for an overig betrokkene (omschrijving OverigeBetrokkene, generiek adviseur)."""
    overig = INITIATOR.replace("heeftAlsInitiator", "heeftAlsOverigBetrokkene").replace("ZAKBTRINI", "ZAKBTROVR")
    response = await harness.post(*creeer_zaak(zaaktype="BEZWAAR", relations=overig))
    assert berichtcode(response) == "Fo03"
    fault = stuf_fault(response)
    assert fault.codes == ("StUF058", "roltype-not-found")
    details = fault.details
    assert "heeftAlsOverigBetrokkene" in details and "'OverigeBetrokkene'" in details and "adviseur" in details
    assert "Beslisser (beslisser)" in details  # what the zaaktype does have
    assert await harness.all("zaken") == []
