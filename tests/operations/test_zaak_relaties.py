"""Zaak-to-zaak relations in creeerZaak and updateZaak: hoofdzaak, deelzaken and relevanteAndereZaken
(MAPPING.md §3.2/§3.3; PEERS.md §1.7.9 and §2.7.2: stored reversed, a missing parent must be a warning)."""

from __future__ import annotations

from stuf_bridge.stuf.namespaces import ZKN

from ..support.faults import stuf_fault
from .conftest import Harness
from .details_messages import geef_zaakdetails
from .messages import creeer_zaak, zaak_relatie
from .test_creeer_zaak import berichtcode
from .test_zaakdetails import ask
from .update_messages import update_zaak, zaak_object

VERGUNNING = "0363ZK2024-000501"
BEZWAAR = "0363ZK2024-000502"
MELDING = "0363ZK2024-000503"


async def _create(harness: Harness, identificatie: str, zaaktype: str, **kwargs) -> dict:
    reply = await harness.handle(*creeer_zaak(identificatie=identificatie, zaaktype=zaaktype,
                                              referentienummer=f"rel-{identificatie}", **kwargs))
    assert reply.status == 200, reply.body.decode()
    [zaak] = await harness.all("zaken", identificatie=identificatie)
    return zaak


async def test_creeer_zaak_with_deelzaak_and_related_zaak(harness: Harness) -> None:
    bezwaar = await _create(harness, BEZWAAR, "BEZWAAR")
    melding = await _create(harness, MELDING, "MELDING-OR")

    vergunning = await _create(
        harness, VERGUNNING, "OMGEVINGSVERGUNNING", statussen="",
        zaak_relations=zaak_relatie("heeftAlsDeelzaak", BEZWAAR) + zaak_relatie("heeftBetrekkingOpAndere", MELDING),
    )

    assert vergunning["relevanteAndereZaken"] == [{"url": melding["url"], "aardRelatie": "onderwerp"}]
    assert (await harness.zgw.get(bezwaar["url"]))["hoofdzaak"] == vergunning["url"]
    assert (await harness.zgw.get(vergunning["url"]))["deelzaken"] == [bezwaar["url"]]

    # and back to StUF the right way round (Open Zaakbrug #242 stored them reversed)
    _, la01 = await ask(harness, geef_zaakdetails(identificatie=BEZWAAR))
    assert la01.findtext(f".//{{{ZKN}}}heeftAlsHoofdzaak/{{{ZKN}}}gerelateerde/{{{ZKN}}}identificatie") == VERGUNNING
    assert la01.findtext(f".//{{{ZKN}}}zaakniveau") == "2"


async def test_creeer_zaak_with_hoofdzaak(harness: Harness) -> None:
    vergunning = await _create(harness, VERGUNNING, "OMGEVINGSVERGUNNING", statussen="")
    bezwaar = await _create(harness, BEZWAAR, "BEZWAAR", statussen="",
                            zaak_relations=zaak_relatie("heeftAlsHoofdzaak", VERGUNNING))
    assert bezwaar["hoofdzaak"] == vergunning["url"]


async def test_an_unknown_related_zaak_is_a_warning_and_the_zaak_is_created(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(
        identificatie=VERGUNNING, zaaktype="OMGEVINGSVERGUNNING", statussen="", referentienummer="rel-missing",
        zaak_relations=zaak_relatie("heeftAlsDeelzaak", "0363ZK1999-999999"),
    ))
    assert reply.status == 200, reply.body.decode()
    assert any("0363ZK1999-999999" in w and "bestaat niet" in w for w in reply.warnings), reply.warnings
    assert len(await harness.all("zaken", identificatie=VERGUNNING)) == 1


async def test_a_relation_to_itself_is_a_fault(harness: Harness) -> None:
    response = await harness.post(*creeer_zaak(
        identificatie=MELDING, statussen="", referentienummer="rel-self",
        zaak_relations=zaak_relatie("heeftBetrekkingOpAndere", MELDING),
    ))
    assert berichtcode(response) == "Fo03"
    assert stuf_fault(response).codes == ("StUF058", "zaak-related-to-itself")
    assert await harness.all("zaken") == []


async def test_a_failed_deelzaak_link_deletes_the_new_zaak_and_leaves_the_deelzaak_alone(harness: Harness) -> None:
    bezwaar = await _create(harness, BEZWAAR, "BEZWAAR")
    harness.transport.fail_on = ("PATCH", bezwaar["url"].rsplit("/", 1)[-1], 1)
    response = await harness.post(*creeer_zaak(
        identificatie=VERGUNNING, zaaktype="OMGEVINGSVERGUNNING", statussen="", referentienummer="rel-fail",
        zaak_relations=zaak_relatie("heeftAlsDeelzaak", BEZWAAR),
    ))
    harness.transport.fail_on = None
    assert berichtcode(response) == "Fo03"
    assert "hoofdzaak van deelzaak" in stuf_fault(response).details  # the failed step
    assert await harness.all("zaken", identificatie=VERGUNNING) == []
    assert (await harness.zgw.get(bezwaar["url"]))["hoofdzaak"] is None


async def test_update_zaak_adds_and_removes_related_zaken(harness: Harness) -> None:
    vergunning = await _create(harness, VERGUNNING, "OMGEVINGSVERGUNNING", statussen="")
    melding = await _create(harness, MELDING, "MELDING-OR", statussen="")
    bezwaar = await _create(harness, BEZWAAR, "BEZWAAR", statussen="")

    add = zaak_object(VERGUNNING, zaak_relatie("heeftAlsDeelzaak", BEZWAAR)
                      + zaak_relatie("heeftBetrekkingOpAndere", MELDING))
    reply = await harness.handle(*update_zaak(add, referentienummer="rel-upd-1"))
    assert reply.status == 200, reply.body.decode()
    assert (await harness.zgw.get(vergunning["url"]))["relevanteAndereZaken"] == [
        {"url": melding["url"], "aardRelatie": "onderwerp"}
    ]
    assert (await harness.zgw.get(bezwaar["url"]))["hoofdzaak"] == vergunning["url"]

    # the was/wordt pair: V on both relations (old side names them, new side is empty)
    was = zaak_object(VERGUNNING, zaak_relatie("heeftAlsDeelzaak", BEZWAAR, "V")
                      + zaak_relatie("heeftBetrekkingOpAndere", MELDING, "V"))
    wordt = zaak_object(VERGUNNING, zaak_relatie("heeftAlsDeelzaak", None, "V")
                        + zaak_relatie("heeftBetrekkingOpAndere", None, "V"))
    reply = await harness.handle(*update_zaak(was, wordt, referentienummer="rel-upd-2"))
    assert reply.status == 200, reply.body.decode()
    assert (await harness.zgw.get(vergunning["url"]))["relevanteAndereZaken"] == []
    assert (await harness.zgw.get(bezwaar["url"]))["hoofdzaak"] is None


async def test_update_zaak_relation_i_changes_nothing(harness: Harness) -> None:
    await _create(harness, VERGUNNING, "OMGEVINGSVERGUNNING", statussen="")
    await _create(harness, MELDING, "MELDING-OR", statussen="")
    harness.transport.requests.clear()
    reply = await harness.handle(*update_zaak(
        zaak_object(VERGUNNING, zaak_relatie("heeftBetrekkingOpAndere", MELDING, "I")), referentienummer="rel-i"))
    assert reply.status == 200, reply.body.decode()
    assert [m for m, _, _ in harness.transport.requests if m != "GET"] == []
