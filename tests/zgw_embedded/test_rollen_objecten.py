"""Rollen (all five betrokkene kinds), zaakobjecten and zaakeigenschappen."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Zgw
from .test_zaken import codes

ROLLEN = "zaken/api/v1/rollen"
ZAAKOBJECTEN = "zaken/api/v1/zaakobjecten"

BETROKKENEN = {
    "natuurlijk_persoon": {
        "inpBsn": "111222333", "geslachtsnaam": "Jansen", "voorletters": "J.", "geslachtsaanduiding": "v",
        "verblijfsadres": {"aoaIdentificatie": "0363200000000001", "wplWoonplaatsNaam": "Amsterdam",
                           "gorOpenbareRuimteNaam": "Dam", "aoaHuisnummer": 1, "aoaPostcode": "1012JS"},
    },
    "niet_natuurlijk_persoon": {"innNnpId": "002564440", "statutaireNaam": "Gemeente", "innRechtsvorm": "stichting"},
    "vestiging": {"vestigingsNummer": "000012345678", "handelsnaam": ["Bakkerij"], "kvkNummer": "12345678"},
    "medewerker": {"identificatie": "mdw-1", "achternaam": "Pietersen", "voorletters": "P."},
    "organisatorische_eenheid": {"identificatie": "OE-1", "naam": "Team Openbare Ruimte"},
}


async def roltype(zgw: Zgw, zaak: dict[str, Any], generiek: str) -> str:
    zaaktype = await zgw.ok("GET", zaak["zaaktype"])
    return (await zgw.catalogus_item("roltypen", zaaktype, omschrijvingGeneriek=generiek))["url"]


@pytest.mark.parametrize("betrokkene_type", list(BETROKKENEN))
async def test_rol_for_every_betrokkene_type(zgw: Zgw, betrokkene_type: str) -> None:
    zaak = await zgw.create_zaak()
    ident = BETROKKENEN[betrokkene_type]
    rol = await zgw.ok("POST", ROLLEN, 201, json={
        "zaak": zaak["url"], "roltype": await roltype(zgw, zaak, "belanghebbende"), "betrokkeneType": betrokkene_type,
        "roltoelichting": "betrokken", "betrokkeneIdentificatie": ident,
        "contactpersoonRol": {"naam": "Contact", "emailadres": "c@example.nl"}})
    assert rol["omschrijving"] == "Belanghebbende" and rol["omschrijvingGeneriek"] == "belanghebbende"
    assert rol["registratiedatum"].endswith("Z") and rol["statussen"] == []
    for key, value in ident.items():
        assert rol["betrokkeneIdentificatie"][key] == (value if not isinstance(value, dict)
                                                       else {**rol["betrokkeneIdentificatie"][key], **value})
    assert rol["contactpersoonRol"]["naam"] == "Contact"
    assert await zgw.ok("GET", rol["url"]) == rol
    assert (await zgw.ok("GET", zaak["url"]))["rollen"] == [rol["url"]]
    await zgw.ok("DELETE", rol["url"], 204)
    assert (await zgw.ok("GET", zaak["url"]))["rollen"] == []


async def test_rol_validation(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    initiator = await roltype(zgw, zaak, "initiator")
    base = {"zaak": zaak["url"], "roltype": initiator, "roltoelichting": "x"}
    response = await zgw.post(ROLLEN, json={**base, "betrokkeneType": "natuurlijk_persoon",
                                            "betrokkeneIdentificatie": {"inpBsn": "1234567890",
                                                                        "geslachtsaanduiding": "x",
                                                                        "verblijfsadres": {"aoaHuisnummer": 1}}})
    found = codes(response)
    assert found["betrokkeneIdentificatie.inpBsn"] == "max_length"
    assert found["betrokkeneIdentificatie.geslachtsaanduiding"] == "invalid_choice"
    assert found["betrokkeneIdentificatie.verblijfsadres.aoaIdentificatie"] == "required"
    assert codes(await zgw.post(ROLLEN, json={**base, "betrokkeneType": "medewerker"})) == {
        "nonFieldErrors": "invalid-betrokkene"}
    assert codes(await zgw.post(ROLLEN, json={**base, "betrokkeneType": "robot", "betrokkene": "https://x.nl/1"})) == {
        "betrokkeneType": "invalid_choice"}
    assert "roltoelichting" in codes(await zgw.post(ROLLEN, json={
        "zaak": zaak["url"], "roltype": initiator, "betrokkeneType": "medewerker", "betrokkene": "https://x.nl/1"}))
    other = await zgw.create_zaak("BEZWAAR")
    response = await zgw.post(ROLLEN, json={**base, "roltype": await roltype(zgw, other, "initiator"),
                                            "betrokkeneType": "medewerker", "betrokkene": "https://x.nl/1"})
    assert codes(response) == {"nonFieldErrors": "zaaktype-mismatch"}


async def test_only_one_initiator(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    body = {"zaak": zaak["url"], "roltype": await roltype(zgw, zaak, "initiator"), "roltoelichting": "x",
            "betrokkeneType": "natuurlijk_persoon", "betrokkeneIdentificatie": {"inpBsn": "111222333"}}
    await zgw.ok("POST", ROLLEN, 201, json=body)
    assert codes(await zgw.post(ROLLEN, json=body)) == {"roltype": "max-occurences"}


async def test_rol_with_betrokkene_url_only(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    rol = await zgw.ok("POST", ROLLEN, 201, json={
        "zaak": zaak["url"], "roltype": await roltype(zgw, zaak, "behandelaar"), "roltoelichting": "x",
        "betrokkeneType": "medewerker", "betrokkene": "https://brp.example/personen/1"})
    assert rol["betrokkene"] == "https://brp.example/personen/1" and rol["betrokkeneIdentificatie"] is None


async def test_rollen_filters(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    for generiek, kind in (("initiator", "natuurlijk_persoon"), ("behandelaar", "medewerker")):
        await zgw.ok("POST", ROLLEN, 201, json={
            "zaak": zaak["url"], "roltype": await roltype(zgw, zaak, generiek), "roltoelichting": generiek,
            "betrokkeneType": kind, "betrokkeneIdentificatie": BETROKKENEN[kind]})

    async def found(**params: Any) -> list[str]:
        return [r["omschrijvingGeneriek"] for r in (await zgw.ok("GET", ROLLEN, params=params))["results"]]

    assert await found(zaak=zaak["url"]) == ["initiator", "behandelaar"]
    assert await found(zaak=zaak["url"], omschrijvingGeneriek="behandelaar") == ["behandelaar"]
    assert await found(betrokkeneType="natuurlijk_persoon") == ["initiator"]
    assert await found(betrokkeneIdentificatie__natuurlijkPersoon__inpBsn="111222333") == ["initiator"]
    assert await found(betrokkeneIdentificatie__medewerker__identificatie="mdw-1") == ["behandelaar"]
    assert await found(omschrijving="Uitvoerende") == ["behandelaar"]


async def test_status_gezet_door_a_rol(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    rol = await zgw.ok("POST", ROLLEN, 201, json={
        "zaak": zaak["url"], "roltype": await roltype(zgw, zaak, "behandelaar"), "roltoelichting": "x",
        "betrokkeneType": "medewerker", "betrokkeneIdentificatie": BETROKKENEN["medewerker"]})
    zaaktype = await zgw.ok("GET", zaak["zaaktype"])
    status = await zgw.ok("POST", "zaken/api/v1/statussen", 201, json={
        "zaak": zaak["url"], "statustype": zaaktype["statustypen"][0], "datumStatusGezet": "2024-03-01T10:00:00Z",
        "gezetdoor": rol["url"]})
    assert status["gezetdoor"] == rol["url"]
    assert (await zgw.ok("GET", rol["url"]))["statussen"] == [status["url"]]
    other = await zgw.create_zaak()
    response = await zgw.post("zaken/api/v1/statussen", json={
        "zaak": other["url"], "statustype": zaaktype["statustypen"][0], "datumStatusGezet": "2024-03-01T10:00:00Z",
        "gezetdoor": rol["url"]})
    assert codes(response) == {"nonFieldErrors": "zaak-mismatch"}


# --- zaakobjecten -----------------------------------------------------------------------------------------------
ADRES = {"identificatie": "0363200000000001", "wplWoonplaatsNaam": "Amsterdam", "gorOpenbareRuimteNaam": "Dam",
         "huisnummer": 1, "postcode": "1012JS"}


async def test_zaakobjecten_crud(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    adres = await zgw.ok("POST", ZAAKOBJECTEN, 201, json={"zaak": zaak["url"], "objectType": "adres",
                                                         "relatieomschrijving": "locatie",
                                                         "objectIdentificatie": ADRES})
    assert adres["objectIdentificatie"]["huisletter"] == "" and adres["objectIdentificatie"]["huisnummer"] == 1
    overig = await zgw.ok("POST", ZAAKOBJECTEN, 201, json={
        "zaak": zaak["url"], "objectType": "overige", "objectTypeOverige": "lantaarnpaal",
        "objectIdentificatie": {"overigeData": {"nummer": 42}}})
    pand = await zgw.ok("POST", ZAAKOBJECTEN, 201, json={
        "zaak": zaak["url"], "objectType": "pand", "object": "https://bag.example/panden/1"})
    assert (await zgw.ok("GET", zaak["url"]))["zaakobjecten"] == [adres["url"], overig["url"], pand["url"]]
    listed = await zgw.ok("GET", ZAAKOBJECTEN, params={"zaak": zaak["url"], "objectType": "adres"})
    assert [o["url"] for o in listed["results"]] == [adres["url"]]
    put = await zgw.ok("PUT", adres["url"], json={"zaak": zaak["url"], "objectType": "adres",
                                                  "objectIdentificatie": {**ADRES, "huisnummer": 2}})
    assert put["objectIdentificatie"]["huisnummer"] == 2 and put["relatieomschrijving"] == "locatie"
    await zgw.ok("DELETE", pand["url"], 204)
    assert (await zgw.get(pand["url"])).status_code == 404


async def test_zaakobject_validation(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    assert codes(await zgw.post(ZAAKOBJECTEN, json={"zaak": zaak["url"], "objectType": "adres"})) == {
        "nonFieldErrors": "invalid-zaakobject"}
    response = await zgw.post(ZAAKOBJECTEN, json={"zaak": zaak["url"], "objectType": "adres",
                                                  "objectIdentificatie": {"identificatie": "1"}})
    assert codes(response)["objectIdentificatie.huisnummer"] == "required"
    response = await zgw.post(ZAAKOBJECTEN, json={"zaak": zaak["url"], "objectType": "overige",
                                                  "object": "https://x.nl/1"})
    assert codes(response) == {"objectTypeOverige": "missing-object-type-overige"}


# --- zaakeigenschappen ------------------------------------------------------------------------------------------
async def test_zaakeigenschappen(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    zaaktype = await zgw.ok("GET", zaak["zaaktype"])
    eigenschap = await zgw.catalogus_item("eigenschappen", zaaktype, naam="categorie")
    collection = f"{zaak['url']}/zaakeigenschappen"
    created = await zgw.ok("POST", collection, 201, json={"zaak": zaak["url"], "eigenschap": eigenschap["url"],
                                                          "waarde": "groen"})
    assert created["naam"] == "categorie" and created["url"].startswith(collection + "/")
    assert await zgw.ok("GET", collection) == [created]
    assert await zgw.ok("GET", created["url"]) == created
    assert (await zgw.ok("GET", zaak["url"]))["eigenschappen"] == [created["url"]]
    patched = await zgw.ok("PATCH", created["url"], json={"waarde": "afval"})
    assert patched["waarde"] == "afval"
    other = (await zgw.zaaktype("BEZWAAR"))["eigenschappen"][0]
    assert codes(await zgw.post(collection, json={"eigenschap": other, "waarde": "x"})) == {
        "nonFieldErrors": "zaaktype-mismatch"}
    another_zaak = await zgw.create_zaak()
    assert (await zgw.get(f"{another_zaak['url']}/zaakeigenschappen/{created['uuid']}")).status_code == 404
    await zgw.ok("DELETE", created["url"], 204)
    assert await zgw.ok("GET", collection) == []
