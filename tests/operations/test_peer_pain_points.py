"""What users of the existing gateways kept tripping over (PEERS.md §1.7, §2.7), each as a test here.

The points other test files already cover are listed in docs/peer-pain-points.md, which
tests/test_docs.py keeps honest (every test it names exists).
"""

from __future__ import annotations

from .conftest import Harness
from .messages import creeer_zaak, status
from .status_messages import actualiseer_zaakstatus
from .test_zaakstatus import ZAAK, berichtcode, statussen, zaak_with_status
from .update_messages import persoon, update_zaak, zaak_object

UNIDENTIFIED_STATUS = """
    <ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde StUF:entiteittype="STT" StUF:verwerkingssoort="I"/>
      <ZKN:datumStatusGezet>20241105</ZKN:datumStatusGezet>
    </ZKN:heeft>"""


async def test_zaakbrug_52_a_status_without_omschrijving_is_skipped(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(statussen=status() + UNIDENTIFIED_STATUS, referentienummer="p-52"))
    assert reply.status == 200, reply.body.decode()
    assert any("overgeslagen" in w for w in reply.warnings), reply.warnings
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen"]


async def test_open_zaakbrug_195_every_status_of_a_creeer_zaak_is_set(harness: Harness) -> None:
    three = (status("Ontvangen", "20241105090000", "1") + status("In behandeling", "20241105100000", "2")
             + status("Afgehandeld", "20241105110000", "3"))
    reply = await harness.handle(*creeer_zaak(statussen=three, resultaat="Opgelost", referentienummer="p-195"))
    assert reply.status == 200, reply.body.decode()
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen", "In behandeling", "Afgehandeld"]
    assert zaak["einddatum"] == "2024-11-05"


async def test_open_zaakbrug_290_the_same_status_resent_under_a_new_referentienummer_is_set_once(
    harness: Harness,
) -> None:
    zaak = await zaak_with_status(harness)
    for referentienummer in ("p-290-a", "p-290-b"):
        reply = await harness.handle(*actualiseer_zaakstatus(referentienummer=referentienummer))
        assert reply.status == 200, reply.body.decode()
    assert any("niet opnieuw gezet" in w for w in reply.warnings), reply.warnings
    assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen", "In behandeling"]


async def test_open_zaakbrug_301_zaakbrug_267_a_second_eindstatus_is_not_set(closing_harness: Harness) -> None:
    harness = closing_harness
    zaak = await zaak_with_status(harness)
    for referentienummer, datum in (("p-301-a", "20241107120000"), ("p-301-b", "20241107130000")):
        reply = await harness.handle(*actualiseer_zaakstatus(
            omschrijving="Afgehandeld", volgnummer="3", datum=datum, referentienummer=referentienummer))
        assert reply.status == 200, reply.body.decode()
        assert berichtcode(reply.body) == "Bv03"
    assert any("al afgesloten" in w for w in reply.warnings), reply.warnings
    assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen", "Afgehandeld"]
    assert len(await harness.all("resultaten", zaak=zaak["url"])) == 1


async def test_open_zaakbrug_332_zaakbrug_418_an_initiator_sent_again_on_update_is_not_duplicated(
    harness: Harness,
) -> None:
    reply = await harness.handle(*creeer_zaak(referentienummer="p-332-a"))
    assert reply.status == 200, reply.body.decode()
    again = persoon("999993653", "Visser", relation="heeftAlsInitiator", entiteit="ZAKBTRINI", soort="T")
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, again), referentienummer="p-332-b"))
    assert reply.status == 200, reply.body.decode()
    assert any("geen tweede rol" in w for w in reply.warnings), reply.warnings
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert len(await harness.all("rollen", zaak=zaak["url"])) == 1


async def test_zaakbrug_285_a_rol_with_verwerkingssoort_i_changes_nothing(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(referentienummer="p-285-a"))
    assert reply.status == 200, reply.body.decode()
    same = persoon("999993653", "Visser", relation="heeftAlsInitiator", entiteit="ZAKBTRINI", soort="I")
    harness.transport.requests.clear()
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, same), referentienummer="p-285-b"))
    assert reply.status == 200, reply.body.decode()
    assert [m for m, _, _ in harness.transport.requests if m != "GET"] == []
