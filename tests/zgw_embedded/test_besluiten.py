"""Besluiten and besluitinformatieobjecten, with their links into the Zaken and Documenten APIs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from .conftest import OTHER_RSIN, RSIN, Zgw
from .test_zaken import codes

BESLUITEN = "besluiten/api/v1/besluiten"
BIOS = "besluiten/api/v1/besluitinformatieobjecten"


async def besluittype(zgw: Zgw, zaaktype: str = "OMGEVINGSVERGUNNING") -> dict[str, Any]:
    zt = await zgw.zaaktype(zaaktype)
    return await zgw.ok("GET", zt["besluittypen"][0])


async def create_besluit(zgw: Zgw, zaak: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    bt = await besluittype(zgw)
    body = {"verantwoordelijkeOrganisatie": RSIN, "besluittype": bt["url"], "datum": "2024-03-10",
            "ingangsdatum": "2024-03-11", **fields}
    if zaak is not None:
        body["zaak"] = zaak["url"]
    return await zgw.ok("POST", BESLUITEN, 201, json=body)


async def test_besluit_crud_and_zaak_link(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak("OMGEVINGSVERGUNNING")
    besluit = await create_besluit(zgw, zaak, toelichting="verleend")
    assert besluit["identificatie"].startswith("BESLUIT-2024-") and besluit["zaak"] == zaak["url"]
    assert besluit["vervalreden"] == "" and besluit["vervalredenWeergave"] == ""
    assert "uuid" not in besluit
    zaakbesluiten = await zgw.ok("GET", f"{zaak['url']}/besluiten")
    assert [z["besluit"] for z in zaakbesluiten] == [besluit["url"]]
    assert await zgw.ok("GET", zaakbesluiten[0]["url"]) == zaakbesluiten[0]
    assert codes(await zgw.delete(zaakbesluiten[0]["url"])) == {"nonFieldErrors": "inconsistent-relation"}
    patched = await zgw.ok("PATCH", besluit["url"], json={"vervalreden": "tijdelijk", "vervaldatum": "2025-01-01"})
    assert patched["vervalredenWeergave"] == "Besluit met tijdelijke werking"
    listed = await zgw.ok("GET", BESLUITEN, params={"zaak": zaak["url"]})
    assert [b["url"] for b in listed["results"]] == [besluit["url"]]
    listed = await zgw.ok("GET", BESLUITEN, params={"identificatie": besluit["identificatie"],
                                                    "verantwoordelijkeOrganisatie": RSIN})
    assert listed["count"] == 1
    # a zaak with besluiten cannot be deleted
    assert codes(await zgw.delete(zaak["url"])) == {"nonFieldErrors": "pending-relations"}
    # moving the besluit away from the zaak updates the link
    detached = await zgw.ok("PATCH", besluit["url"], json={"zaak": ""})
    assert detached["zaak"] == "" and await zgw.ok("GET", f"{zaak['url']}/besluiten") == []
    await zgw.ok("DELETE", besluit["url"], 204)
    assert (await zgw.get(besluit["url"])).status_code == 404


async def test_besluit_validation(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak("OMGEVINGSVERGUNNING")
    await create_besluit(zgw, identificatie="B-1")
    bt = await besluittype(zgw)
    base = {"verantwoordelijkeOrganisatie": RSIN, "besluittype": bt["url"], "datum": "2024-03-10",
            "ingangsdatum": "2024-03-11"}
    assert codes(await zgw.post(BESLUITEN, json={**base, "identificatie": "B-1"})) == {
        "identificatie": "identificatie-niet-uniek"}
    await zgw.ok("POST", BESLUITEN, 201,
                 json={**base, "identificatie": "B-1", "verantwoordelijkeOrganisatie": OTHER_RSIN})
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert codes(await zgw.post(BESLUITEN, json={**base, "datum": tomorrow})) == {"datum": "future_not_allowed"}
    assert codes(await zgw.post(BESLUITEN, json={**base, "verantwoordelijkeOrganisatie": "123456780"})) == {
        "verantwoordelijkeOrganisatie": "invalid"}
    other_type = await besluittype(zgw, "BEZWAAR")
    assert codes(await zgw.post(BESLUITEN, json={**base, "besluittype": other_type["url"], "zaak": zaak["url"]})) == {
        "nonFieldErrors": "zaaktype-mismatch"}
    assert codes(await zgw.post(BESLUITEN, json={**base, "vervalreden": "zomaar"})) == {"vervalreden": "invalid_choice"}
    besluit = await create_besluit(zgw)
    assert codes(await zgw.patch(besluit["url"], json={"identificatie": "ander"})) == {
        "identificatie": "wijzigen-niet-toegelaten"}


async def test_besluitinformatieobjecten(zgw: Zgw) -> None:
    besluit = await create_besluit(zgw)
    document = await zgw.create_document(iot="Besluit")
    bio = await zgw.ok("POST", BIOS, 201, json={"besluit": besluit["url"], "informatieobject": document["url"]})
    assert set(bio) == {"url", "informatieobject", "besluit"}
    assert await zgw.ok("GET", BIOS, params={"besluit": besluit["url"]}) == [bio]
    assert await zgw.ok("GET", bio["url"]) == bio
    oios = await zgw.ok("GET", "documenten/api/v1/objectinformatieobjecten", params={"object": besluit["url"]})
    assert [(o["informatieobject"], o["objectType"]) for o in oios] == [(document["url"], "besluit")]
    assert codes(await zgw.post(BIOS, json={"besluit": besluit["url"], "informatieobject": document["url"]})) == {
        "nonFieldErrors": "unique"}
    assert codes(await zgw.delete(document["url"])) == {"nonFieldErrors": "pending-relations"}
    wrong = await zgw.create_document(iot="Melding")
    assert codes(await zgw.post(BIOS, json={"besluit": besluit["url"], "informatieobject": wrong["url"]})) == {
        "nonFieldErrors": "missing-besluittype-informatieobjecttype-relation"}
    await zgw.ok("DELETE", bio["url"], 204)
    assert await zgw.ok("GET", "documenten/api/v1/objectinformatieobjecten", params={"object": besluit["url"]}) == []
    # deleting a besluit removes its besluitinformatieobjecten and their mirrors
    await zgw.ok("POST", BIOS, 201, json={"besluit": besluit["url"], "informatieobject": document["url"]})
    await zgw.ok("DELETE", besluit["url"], 204)
    assert await zgw.ok("GET", BIOS, params={"informatieobject": document["url"]}) == []
    await zgw.ok("DELETE", document["url"], 204)
