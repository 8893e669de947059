"""updateZaak end to end: a zaak made by creeerZaak, changed by updateZaak, read back from the embedded ZGW."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..support.faults import stuf_fault
from .conftest import Harness
from .messages import creeer_zaak
from .test_creeer_zaak import berichtcode
from .update_messages import NIL, empty_relation, open_formulieren_betaling, persoon, update_zaak, zaak_object

IDENT = "0363ZK2024-000101"


async def _zaak(harness: Harness, **changes: Any) -> dict[str, Any]:
    response = await harness.post(*creeer_zaak())
    assert response.status_code == 200, response.text
    [zaak] = await harness.all("zaken", identificatie=IDENT)
    if changes:  # state the creeerZaak message does not set, written to ZGW directly
        zaak = await harness.zgw.zaken.patch(zaak["url"], changes)
    return zaak


async def _read(harness: Harness) -> dict[str, Any]:
    [zaak] = await harness.all("zaken", identificatie=IDENT)
    return zaak


async def test_open_formulieren_one_object_betaling(harness: Harness) -> None:
    before = await _zaak(harness)
    assert before["betalingsindicatie"] == "nvt"

    response = await harness.post(*update_zaak(open_formulieren_betaling()))
    assert response.status_code == 200, response.text
    assert berichtcode(response) == "Bv03"

    zaak = await _read(harness)
    assert zaak["betalingsindicatie"] == "geheel"
    assert zaak["laatsteBetaaldatum"]
    assert datetime.fromisoformat(zaak["laatsteBetaaldatum"]).date().isoformat() in (
        "2024-11-05",  # 00:00 Amsterdam is 23:00 UTC the day before
        "2024-11-06",
    )
    # untouched
    assert zaak["omschrijving"] == before["omschrijving"]
    assert zaak["startdatum"] == before["startdatum"]
    assert zaak["kenmerken"] == before["kenmerken"]
    # only what changed was PATCHed
    patches = [(m, p) for m, p, _ in harness.transport.requests if m == "PATCH"]
    assert len(patches) == 1


async def test_was_wordt_changes_and_clears(harness: Harness) -> None:
    before = await _zaak(harness, toelichting="Tegels liggen los bij nummer 263", einddatumGepland="2024-12-31")
    was = zaak_object(
        IDENT,
        """<ZKN:omschrijving>Melding losliggende stoeptegels</ZKN:omschrijving>
    <ZKN:toelichting>Tegels liggen los bij nummer 263</ZKN:toelichting>""",
    )
    wordt = zaak_object(
        IDENT,
        f"""<ZKN:omschrijving>Melding losliggende stoeptegels Prinsengracht</ZKN:omschrijving>
    <ZKN:toelichting {NIL}/>""",
    )
    reply = await harness.handle(*update_zaak(was, wordt, dialect="1.2"))
    assert reply.status == 200, reply.body
    assert reply.outcome != "fault"
    assert not [w for w in reply.warnings if "wijkt af" in w], reply.warnings

    zaak = await _read(harness)
    assert zaak["omschrijving"] == "Melding losliggende stoeptegels Prinsengracht"
    assert zaak["toelichting"] == ""
    assert zaak["einddatumGepland"] == before["einddatumGepland"] == "2024-12-31"  # absent: unchanged
    assert zaak["betalingsindicatie"] == before["betalingsindicatie"]
    assert zaak["url"] == before["url"]


async def test_rol_added_and_removed(harness: Harness) -> None:
    zaak = await _zaak(harness)
    add = zaak_object(IDENT, persoon("999990019", "Jansen", soort="T"))
    response = await harness.post(*update_zaak(add, referentienummer="11111111-1111-4111-8111-111111111111"))
    assert response.status_code == 200, response.text

    rollen = await harness.all("rollen", zaak=zaak["url"])
    assert sorted(r["betrokkeneIdentificatie"]["inpBsn"] for r in rollen) == ["999990019", "999993653"]
    added = next(r for r in rollen if r["betrokkeneIdentificatie"]["inpBsn"] == "999990019")
    roltype = await harness.zgw.get(added["roltype"])
    assert roltype["omschrijvingGeneriek"] == "belanghebbende"

    # the was/wordt way of removing a relation: kerngegevens in was, geenWaarde in wordt
    was = zaak_object(IDENT, persoon("999990019", "Jansen", soort="V"))
    wordt = zaak_object(IDENT, empty_relation())
    response = await harness.post(*update_zaak(was, wordt, referentienummer="22222222-2222-4222-8222-222222222222"))
    assert response.status_code == 200, response.text
    rollen = await harness.all("rollen", zaak=zaak["url"])
    assert [r["betrokkeneIdentificatie"]["inpBsn"] for r in rollen] == ["999993653"]


async def test_was_value_disagreeing_with_zgw_is_a_warning(harness: Harness) -> None:
    await _zaak(harness)
    was = zaak_object(IDENT, "<ZKN:omschrijving>Iets heel anders</ZKN:omschrijving>")
    wordt = zaak_object(IDENT, "<ZKN:omschrijving>Nieuwe omschrijving</ZKN:omschrijving>")
    reply = await harness.handle(*update_zaak(was, wordt))
    assert reply.status == 200, reply.body
    assert b"Bv03" in reply.body
    assert any("omschrijving" in w and "wijkt af" in w for w in reply.warnings), reply.warnings
    assert (await _read(harness))["omschrijving"] == "Nieuwe omschrijving"


async def test_unknown_zaak_is_a_fault(harness: Harness) -> None:
    response = await harness.post(*update_zaak(open_formulieren_betaling("0363ZK2099-999999")))
    assert response.status_code == 500
    found = stuf_fault(response)
    assert found.codes == ("StUF058", "zaak-not-found")
    assert "0363ZK2099-999999" in found.details


async def test_failure_after_patch_is_compensated(harness: Harness) -> None:
    before = await _zaak(harness)
    wordt = zaak_object(
        IDENT,
        "<ZKN:omschrijving>Wordt teruggedraaid</ZKN:omschrijving>"
        "<ZKN:betalingsIndicatie>Geheel</ZKN:betalingsIndicatie>" + persoon("999990019", "Jansen", soort="T"),
    )
    harness.transport.fail_on = ("POST", "/rollen", 1)
    response = await harness.post(*update_zaak(wordt))
    assert response.status_code == 500
    details = stuf_fault(response).details
    assert "POST rollen" in details
    assert "PATCH zaken" in details  # named among what was undone

    zaak = await _read(harness)
    assert zaak["omschrijving"] == before["omschrijving"]
    assert zaak["betalingsindicatie"] == before["betalingsindicatie"]
    assert len(await harness.all("rollen", zaak=zaak["url"])) == 1


async def test_einddatum_without_resultaat_or_fallback_is_a_fault_naming_the_setting(harness: Harness) -> None:
    await _zaak(harness)
    response = await harness.post(*update_zaak(zaak_object(IDENT, "<ZKN:einddatum>20241110</ZKN:einddatum>")))
    assert response.status_code == 500, response.text
    found = stuf_fault(response)
    assert found.codes == ("StUF058", "fallback-resultaat-missing")
    assert "fallback_resultaat" in found.details  # the setting to configure
    zaak = await _read(harness)
    assert zaak["einddatum"] is None


async def test_einddatum_with_resultaat_closes_the_zaak(harness: Harness) -> None:
    await _zaak(harness)
    content = (
        "<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving></ZKN:resultaat>"
        "<ZKN:einddatum>20241110</ZKN:einddatum>"
    )
    response = await harness.post(*update_zaak(zaak_object(IDENT, content)))
    assert response.status_code == 200, response.text
    zaak = await _read(harness)
    assert zaak["einddatum"] == "2024-11-10"
    resultaat = await harness.zgw.get(zaak["resultaat"])
    resultaattype = await harness.zgw.get(resultaat["resultaattype"])
    assert resultaattype["omschrijving"] == "Opgelost"
    eindstatus = await harness.zgw.get(zaak["status"])
    statustypen = await harness.zgw.catalogue.statustypen(zaak["zaaktype"])
    assert eindstatus["statustype"] == statustypen[-1]["url"]


async def test_einddatum_without_resultaat_uses_the_fallback(harness: Harness, monkeypatch: Any) -> None:
    await _zaak(harness)
    mappings = harness.gateway.mappings
    assert mappings is not None
    monkeypatch.setattr(mappings, "fallback_resultaat", lambda zaaktype: "Opgelost")
    reply = await harness.handle(*update_zaak(zaak_object(IDENT, "<ZKN:einddatum>20241110</ZKN:einddatum>")))
    assert reply.status == 200, reply.body
    assert any("fallback-resultaat" in w for w in reply.warnings), reply.warnings
    zaak = await _read(harness)
    assert zaak["einddatum"] == "2024-11-10"
    assert zaak["resultaat"]


async def test_resultaat_is_replaced(harness: Harness) -> None:
    response = await harness.post(*creeer_zaak(resultaat="Opgelost"))
    assert response.status_code == 200, response.text
    first = (await _read(harness))["resultaat"]
    content = ("<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving>"
               "<ZKN:toelichting>nieuw</ZKN:toelichting></ZKN:resultaat>")
    response = await harness.post(*update_zaak(zaak_object(IDENT, content)))
    assert response.status_code == 200, response.text
    zaak = await _read(harness)
    assert zaak["resultaat"] and zaak["resultaat"] != first
    assert len(await harness.all("resultaten", zaak=zaak["url"])) == 1


async def test_rol_changed_with_w_is_delete_and_post(harness: Harness) -> None:
    zaak = await _zaak(harness)
    was = zaak_object(
        IDENT, persoon("999993653", "Visser", relation="heeftAlsInitiator", entiteit="ZAKBTRINI", soort="W")
    )
    wordt = zaak_object(
        IDENT, persoon("999993653", "Visser-de Boer", relation="heeftAlsInitiator", entiteit="ZAKBTRINI", soort="W")
    )
    response = await harness.post(*update_zaak(was, wordt))
    assert response.status_code == 200, response.text
    [rol] = await harness.all("rollen", zaak=zaak["url"])
    assert rol["betrokkeneIdentificatie"]["geslachtsnaam"] == "Visser-de Boer"
    methods = [m for m, p, _ in harness.transport.requests if "/rollen" in p and m in ("DELETE", "POST")]
    assert methods[-2:] == ["DELETE", "POST"]


async def test_failure_after_rol_delete_posts_the_rol_back(harness: Harness) -> None:
    zaak = await _zaak(harness)
    wordt = zaak_object(
        IDENT,
        "<ZKN:omschrijving>Wordt teruggedraaid</ZKN:omschrijving>"
        + persoon("999993653", "Anders", relation="heeftAlsInitiator", entiteit="ZAKBTRINI", soort="R"),
    )
    harness.transport.fail_on = ("POST", "/rollen", 1)
    response = await harness.post(*update_zaak(wordt))
    assert response.status_code == 500, response.text
    details = stuf_fault(response).details
    assert "POST rollen" in details and "DELETE rollen" in details
    assert (await _read(harness))["omschrijving"] == "Melding losliggende stoeptegels"
    [rol] = await harness.all("rollen", zaak=zaak["url"])  # the removed initiator, posted back
    assert rol["betrokkeneIdentificatie"]["geslachtsnaam"] == "Visser"


async def test_zaaktype_cannot_change(harness: Harness) -> None:
    await _zaak(harness)
    isvan = """<ZKN:isVan StUF:entiteittype="ZAKZKT" StUF:verwerkingssoort="W">
      <ZKN:gerelateerde StUF:entiteittype="ZKT" StUF:verwerkingssoort="I">
       <ZKN:code>ANDER-ZT</ZKN:code></ZKN:gerelateerde>
    </ZKN:isVan>"""
    response = await harness.post(*update_zaak(zaak_object(IDENT, "<ZKN:omschrijving>x</ZKN:omschrijving>" + isvan)))
    assert response.status_code == 500
    found = stuf_fault(response)
    assert found.codes == ("StUF058", "zaaktype-immutable")
    assert "ANDER-ZT" in found.details
    assert (await _read(harness))["omschrijving"] == "Melding losliggende stoeptegels"


async def test_closing_through_updatezaak_sets_the_documents_indicatie_gebruiksrecht(harness: Harness) -> None:
    """ZRC refuses the eindstatus while a document's indicatieGebruiksrecht is unset; updateZaak sets it (false),
    as actualiseerZaakstatus does, through the same shared step."""
    from .test_zaakstatus import document_on

    await _zaak(harness)
    document = await document_on(harness, await _read(harness))
    content = (
        "<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving></ZKN:resultaat>"
        "<ZKN:einddatum>20241110</ZKN:einddatum>"
    )
    response = await harness.post(*update_zaak(zaak_object(IDENT, content)))
    assert response.status_code == 200, response.text
    assert (await _read(harness))["einddatum"] == "2024-11-10"
    assert (await harness.zgw.get(document))["indicatieGebruiksrecht"] is False


async def test_extra_elementen_set_and_change_zaakeigenschappen(harness: Harness) -> None:
    await _zaak(harness)  # creeerZaak sent categorie=straat: a zaakeigenschap of MELDING-OR
    zaak = await _read(harness)

    async def eigenschappen() -> dict[str, str]:
        items = await harness.zgw.zaken.list(f"{zaak['url']}/zaakeigenschappen")
        return {item["naam"]: item["waarde"] for item in items}

    assert await eigenschappen() == {"categorie": "straat"}
    extra = """<StUF:extraElementen>
      <StUF:extraElement naam="categorie">groen</StUF:extraElement>
      <StUF:extraElement naam="locatie">Vondelpark, bij de muziektent</StUF:extraElement>
      <StUF:extraElement naam="language_code">nl</StUF:extraElement>
    </StUF:extraElementen>"""
    reply = await harness.handle(*update_zaak(zaak_object(IDENT, extra), referentienummer="eig-1"))
    assert reply.status == 200, reply.body.decode()
    assert await eigenschappen() == {"categorie": "groen", "locatie": "Vondelpark, bij de muziektent"}
    assert any("language_code" in w for w in reply.warnings), reply.warnings

    # the same values again: nothing to write
    harness.transport.requests.clear()
    reply = await harness.handle(*update_zaak(zaak_object(IDENT, extra), referentienummer="eig-2"))
    assert reply.status == 200, reply.body.decode()
    assert [m for m, _, _ in harness.transport.requests if m != "GET"] == []


async def test_a_failed_eigenschap_change_is_undone(harness: Harness) -> None:
    await _zaak(harness)
    zaak = await _read(harness)
    extra = ("<ZKN:omschrijving>Nieuwe omschrijving</ZKN:omschrijving><StUF:extraElementen>"
             '<StUF:extraElement naam="categorie">groen</StUF:extraElement>'
             '<StUF:extraElement naam="locatie">Dam</StUF:extraElement></StUF:extraElementen>')
    harness.transport.fail_on = ("POST", "/zaakeigenschappen", 1)  # after the PATCH of categorie
    response = await harness.post(*update_zaak(zaak_object(IDENT, extra), referentienummer="eig-fail"))
    harness.transport.fail_on = None
    assert response.status_code == 500
    items = await harness.zgw.zaken.list(f"{zaak['url']}/zaakeigenschappen")
    assert {item["naam"]: item["waarde"] for item in items} == {"categorie": "straat"}
    assert (await _read(harness))["omschrijving"] == zaak["omschrijving"]


async def test_einddatum_geen_waarde_reopens_a_closed_zaak(harness: Harness) -> None:
    await _zaak(harness)
    closing = ("<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving></ZKN:resultaat>"
               "<ZKN:einddatum>20241110</ZKN:einddatum>")
    reply = await harness.handle(*update_zaak(zaak_object(IDENT, closing), referentienummer="re-1"))
    assert reply.status == 200, reply.body.decode()
    assert (await _read(harness))["einddatum"] == "2024-11-10"

    reopen = zaak_object(IDENT, f"<ZKN:einddatum {NIL}/>")
    reply = await harness.handle(*update_zaak(reopen, referentienummer="re-2"))
    assert reply.status == 200, reply.body.decode()
    assert any("heropend" in w for w in reply.warnings), reply.warnings
    zaak = await _read(harness)
    assert zaak["einddatum"] is None
    status = await harness.zgw.get(zaak["status"])
    statustypen = await harness.zgw.catalogue.statustypen(zaak["zaaktype"])
    assert status["statustype"] == statustypen[-2]["url"]


async def test_einddatum_geen_waarde_on_an_open_zaak_changes_nothing(harness: Harness) -> None:
    await _zaak(harness)
    harness.transport.requests.clear()
    reply = await harness.handle(*update_zaak(zaak_object(IDENT, f"<ZKN:einddatum {NIL}/>"),
                                              referentienummer="re-open"))
    assert reply.status == 200, reply.body.decode()
    assert [m for m, _, _ in harness.transport.requests if m != "GET"] == []


async def test_closing_with_a_checked_out_document_is_a_fault_before_anything_is_written(harness: Harness) -> None:
    """ZRC refuses to close a zaak while a document is locked (informatieobject-locked): the gateway says so, naming
    the document and what to do, before it writes the resultaat."""
    from .test_zaakstatus import document_on

    await _zaak(harness)
    document = await document_on(harness, await _read(harness))
    await harness.zgw.documenten.post(f"{document}/lock")
    harness.transport.requests.clear()
    content = ("<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving></ZKN:resultaat>"
               "<ZKN:einddatum>20241110</ZKN:einddatum>")
    response = await harness.post(*update_zaak(zaak_object(IDENT, content), referentienummer="locked-close"))
    assert berichtcode(response) == "Fo03"
    found = stuf_fault(response)
    assert found.codes == ("StUF058", "zaak-has-checked-out-document")
    assert "cancelCheckout" in found.details  # what the client can do
    assert [m for m, _, _ in harness.transport.requests if m != "GET"] == []
    assert (await _read(harness))["einddatum"] is None


async def _bsns(harness: Harness, zaak: dict[str, Any]) -> list[str]:
    return sorted(r["betrokkeneIdentificatie"]["inpBsn"] for r in await harness.all("rollen", zaak=zaak["url"]))


async def test_was_wordt_pairs_relations_by_verwerkingssoort_not_position(harness: Harness) -> None:
    """ZaakBrug e2e "Gisvg Organisatorisch Eenheid": the old object lists [V, W, T-empty], the new one [W, T] (no
    empty counterpart for the V). Paired by position, W would meet T; paired by verwerkingssoort it works."""
    zaak = await _zaak(harness)
    for bsn, name in (("999990019", "Jansen"), ("999990020", "de Boer")):
        reply = await harness.handle(*update_zaak(zaak_object(IDENT, persoon(bsn, name)), referentienummer=bsn))
        assert reply.status == 200, reply.body.decode()
    was = zaak_object(IDENT, persoon("999990019", "Jansen", soort="V") + persoon("999990020", "de Boer", soort="W")
                      + empty_relation(soort="T"))
    wordt = zaak_object(IDENT, persoon("999990032", "Bakker", soort="W") + persoon("999990044", "Smit", soort="T"))
    reply = await harness.handle(*update_zaak(was, wordt, referentienummer="pairs"))
    assert reply.status == 200, reply.body.decode()
    assert await _bsns(harness, zaak) == ["999990032", "999990044", "999993653"], reply.warnings


async def test_a_new_initiator_replaces_the_current_one(harness: Harness) -> None:
    """ZGW allows one initiator: a T of another person replaces it, with a warning (ZaakBrug e2e VIAndTT)."""
    zaak = await _zaak(harness)
    nieuw = persoon("999990056", "Mulder", relation="heeftAlsInitiator", entiteit="ZAKBTRINI", soort="T")
    reply = await harness.handle(*update_zaak(zaak_object(IDENT, nieuw), referentienummer="new-initiator"))
    assert reply.status == 200, reply.body.decode()
    assert any("vervangen" in w for w in reply.warnings), reply.warnings
    assert await _bsns(harness, zaak) == ["999990056"]


async def test_an_unknown_verwerkingssoort_is_a_fault_naming_the_relation(harness: Harness) -> None:
    await _zaak(harness)
    response = await harness.post(*update_zaak(zaak_object(IDENT, persoon("999990019", "Jansen", soort="X")),
                                               referentienummer="soort-x"))
    assert berichtcode(response) == "Fo03"
    found = stuf_fault(response)
    assert found.codes == ("StUF058", "unknown-verwerkingssoort")
    assert "'X'" in found.details
    assert len(await harness.all("rollen")) == 1


async def test_adding_a_rol_the_zaaktype_has_no_roltype_for_is_a_fault_and_changes_nothing(harness: Harness) -> None:
    assert (await harness.post(*creeer_zaak(zaaktype="BEZWAAR"))).status_code == 200
    [zaak] = await harness.all("zaken", identificatie=IDENT)
    rollen = await harness.all("rollen", zaak=zaak["url"])
    overig = persoon("999990019", "Jansen", relation="heeftAlsOverigBetrokkene", entiteit="ZAKBTROVR")
    response = await harness.post(*update_zaak(zaak_object(IDENT, overig)))
    assert berichtcode(response) == "Fo03"
    found = stuf_fault(response)
    assert found.codes == ("StUF058", "roltype-not-found")
    assert "heeftAlsOverigBetrokkene" in found.details and "'OverigeBetrokkene'" in found.details
    assert await harness.all("rollen", zaak=zaak["url"]) == rollen
