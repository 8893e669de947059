"""The zaak resource: create, read, update, delete, list filters, ``_zoek`` and Open Zaak's validation rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import OTHER_RSIN, RSIN, Zgw

ZAKEN = "zaken/api/v1/zaken"


def codes(response: Any) -> dict[str, str]:
    assert response.status_code == 400, response.text
    return {p["name"]: p["code"] for p in response.json()["invalidParams"]}


async def test_create_and_read(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak(omschrijving="Losliggende stoeptegel", toelichting="Bij de bakker",
                                 kenmerken=[{"kenmerk": "MOR-1", "bron": "app"}],
                                 verlenging={"reden": "drukte", "duur": "P5D"},
                                 zaakgeometrie={"type": "Point", "coordinates": [4.9, 52.37]})
    assert zaak["identificatie"].startswith("ZAAK-2024-")
    assert zaak["vertrouwelijkheidaanduiding"] == "openbaar"  # taken from the zaaktype
    assert zaak["registratiedatum"] == datetime.now(UTC).date().isoformat()
    assert zaak["einddatum"] is None and zaak["status"] is None and zaak["resultaat"] is None
    assert zaak["opschorting"] == {"indicatie": False, "reden": ""}
    assert zaak["kenmerken"] == [{"kenmerk": "MOR-1", "bron": "app"}]
    read = await zgw.ok("GET", zaak["url"])
    assert read == zaak
    assert zaak["url"].endswith(zaak["uuid"])


async def test_identificatie_is_unique_per_bronorganisatie(zgw: Zgw) -> None:
    await zgw.create_zaak(identificatie="0599-2024-1")
    zaaktype = await zgw.zaaktype()
    response = await zgw.post(ZAKEN, json={"identificatie": "0599-2024-1", "zaaktype": zaaktype["url"],
                                           "bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN,
                                           "startdatum": "2024-03-01"})
    assert codes(response) == {"identificatie": "identificatie-niet-uniek"}
    other = await zgw.create_zaak(identificatie="0599-2024-1", bronorganisatie=OTHER_RSIN)
    assert other["identificatie"] == "0599-2024-1"


@pytest.mark.parametrize(("field", "value", "code"), [
    ("bronorganisatie", "123456789", "invalid"),
    ("bronorganisatie", "12345", "invalid-length"),
    ("verantwoordelijkeOrganisatie", "12345678A", "only-digits"),
    ("omschrijving", "x" * 81, "max_length"),
    ("startdatum", "gisteren", "invalid"),
    ("startdatum", None, "null"),
    ("betalingsindicatie", "soms", "invalid_choice"),
    ("vertrouwelijkheidaanduiding", "geheimpje", "invalid_choice"),
    ("zaakgeometrie", {"type": "Cirkel"}, "invalid"),
    ("communicatiekanaal", "geen url", "invalid"),
])
async def test_field_validation(zgw: Zgw, field: str, value: Any, code: str) -> None:
    zaaktype = await zgw.zaaktype()
    body = {"zaaktype": zaaktype["url"], "bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN,
            "startdatum": "2024-03-01", field: value}
    assert codes(await zgw.post(ZAKEN, json=body))[field] == code


async def test_laatste_betaaldatum_not_in_the_future(zgw: Zgw) -> None:
    zaaktype = await zgw.zaaktype()
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    body = {"zaaktype": zaaktype["url"], "bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN,
            "startdatum": "2024-03-01", "betalingsindicatie": "geheel", "laatsteBetaaldatum": future}
    assert codes(await zgw.post(ZAKEN, json=body)) == {"laatsteBetaaldatum": "future_not_allowed"}
    body.update(betalingsindicatie="nvt", laatsteBetaaldatum="2024-01-01T10:00:00+01:00")
    assert codes(await zgw.post(ZAKEN, json=body)) == {"laatsteBetaaldatum": "betaling-nvt"}
    body["betalingsindicatie"] = "geheel"
    zaak = await zgw.ok("POST", ZAKEN, 201, json=body)
    assert zaak["laatsteBetaaldatum"] == "2024-01-01T09:00:00Z"
    assert zaak["betalingsindicatieWeergave"] == "De met de zaak gemoeide kosten zijn geheel betaald."


async def test_references_must_point_at_existing_resources_of_the_right_kind(zgw: Zgw) -> None:
    zaaktype = await zgw.zaaktype()
    statustype = zaaktype["statustypen"][0]
    missing = zaaktype["url"][:-12] + "000000000000"
    base = {"bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN, "startdatum": "2024-03-01"}
    assert codes(await zgw.post(ZAKEN, json={**base, "zaaktype": statustype}))["zaaktype"] == "bad-url"
    assert codes(await zgw.post(ZAKEN, json={**base, "zaaktype": missing}))["zaaktype"] == "does_not_exist"
    elsewhere = "https://openzaak.example/catalogi/api/v1/zaaktypen/1c1c1c1c-1c1c-1c1c-1c1c-1c1c1c1c1c1c"
    assert codes(await zgw.post(ZAKEN, json={**base, "zaaktype": elsewhere}))["zaaktype"] == "bad-url"
    assert codes(await zgw.post(ZAKEN, json={**base, "zaaktype": "zaaktype-1"}))["zaaktype"] == "invalid"


async def test_put_patch_and_immutable_fields(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak(omschrijving="eerst", toelichting="blijft")
    patched = await zgw.ok("PATCH", zaak["url"], json={"omschrijving": "daarna", "einddatumGepland": "2024-04-01"})
    assert patched["omschrijving"] == "daarna" and patched["toelichting"] == "blijft"
    assert patched["einddatumGepland"] == "2024-04-01" and patched["identificatie"] == zaak["identificatie"]
    body = {k: zaak[k] for k in ("zaaktype", "bronorganisatie", "verantwoordelijkeOrganisatie", "startdatum")}
    put = await zgw.ok("PUT", zaak["url"], json={**body, "omschrijving": "vervangen"})
    assert put["omschrijving"] == "vervangen" and put["toelichting"] == "blijft"  # left-out fields stay, as DRF
    assert codes(await zgw.put(zaak["url"], json={"omschrijving": "x"})).keys() >= {"zaaktype", "startdatum"}
    other_type = await zgw.zaaktype("BEZWAAR")
    assert codes(await zgw.patch(zaak["url"], json={"zaaktype": other_type["url"]})) == {
        "zaaktype": "wijzigen-niet-toegelaten"}
    assert codes(await zgw.patch(zaak["url"], json={"identificatie": "anders"})) == {
        "identificatie": "wijzigen-niet-toegelaten"}
    assert (await zgw.patch(zaak["url"].replace(zaak["uuid"], "00000000-0000-0000-0000-000000000000"),
                            json={})).status_code == 404


async def test_hoofdzaak_and_relevante_andere_zaken(zgw: Zgw) -> None:
    hoofd = await zgw.create_zaak()
    deel_response = await zgw.post(ZAKEN, json={
        "zaaktype": hoofd["zaaktype"], "bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN,
        "startdatum": "2024-03-01", "hoofdzaak": hoofd["url"]})
    assert codes(deel_response) == {"hoofdzaak": "invalid-deelzaaktype"}  # no deelzaaktypen in the demo
    assert codes(await zgw.patch(hoofd["url"], json={"hoofdzaak": hoofd["url"]})) == {"hoofdzaak": "self-forbidden"}
    other = await zgw.create_zaak(relevanteAndereZaken=[{"url": hoofd["url"], "aardRelatie": "vervolg"}])
    assert other["relevanteAndereZaken"] == [{"url": hoofd["url"], "aardRelatie": "vervolg"}]
    bad = await zgw.patch(other["url"], json={"relevanteAndereZaken": [{"url": hoofd["zaaktype"],
                                                                        "aardRelatie": "vervolg"}]})
    assert codes(bad) == {"relevanteAndereZaken.0.url": "bad-url"}


async def test_archiving_needs_archived_documents_and_dates(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    assert codes(await zgw.patch(zaak["url"], json={"archiefstatus": "gearchiveerd"})) == {
        "archiefnominatie": "archiefnominatie-not-set", "archiefactiedatum": "archiefactiedatum-not-set"}


async def test_list_filters(zgw: Zgw) -> None:
    first = await zgw.create_zaak(startdatum="2024-01-10", identificatie="Z-1")
    second = await zgw.create_zaak("BEZWAAR", startdatum="2024-02-10", identificatie="Z-2",
                                   bronorganisatie=OTHER_RSIN, vertrouwelijkheidaanduiding="geheim")

    async def found(**params: Any) -> list[str]:
        data = await zgw.ok("GET", ZAKEN, params=params)
        return [z["identificatie"] for z in data["results"]]

    assert await found(identificatie="Z-1") == ["Z-1"]
    assert await found(bronorganisatie=OTHER_RSIN) == ["Z-2"]
    assert await found(bronorganisatie__in=f"{RSIN},{OTHER_RSIN}") == ["Z-1", "Z-2"]
    assert await found(zaaktype=second["zaaktype"]) == ["Z-2"]
    assert await found(startdatum__gt="2024-02-01") == ["Z-2"]
    assert await found(startdatum__lte="2024-01-10") == ["Z-1"]
    assert await found(einddatum__isnull="true") == ["Z-1", "Z-2"]
    assert await found(maximaleVertrouwelijkheidaanduiding="zaakvertrouwelijk") == ["Z-1"]
    assert await found(ordering="-startdatum") == ["Z-2", "Z-1"]
    assert await found(identificatie="Z-1", zaaktype=second["zaaktype"]) == []
    assert first["identificatie"] == "Z-1"
    response = await zgw.get(ZAKEN, params={"ordering": "omschrijving"})
    assert codes(response) == {"ordering": "invalid_choice"}


async def _rol(zgw: Zgw, zaak: dict[str, Any], generiek: str, betrokkene_type: str, ident: dict[str, Any]) -> Any:
    zaaktype = await zgw.ok("GET", zaak["zaaktype"])
    roltype = await zgw.catalogus_item("roltypen", zaaktype, omschrijvingGeneriek=generiek)
    return await zgw.ok("POST", "zaken/api/v1/rollen", 201, json={
        "zaak": zaak["url"], "roltype": roltype["url"], "betrokkeneType": betrokkene_type,
        "roltoelichting": generiek, "betrokkeneIdentificatie": ident})


async def test_filter_on_rol_betrokkene(zgw: Zgw) -> None:
    mine = await zgw.create_zaak(identificatie="MIJN")
    theirs = await zgw.create_zaak(identificatie="HUN")
    await _rol(zgw, mine, "initiator", "natuurlijk_persoon", {"inpBsn": "111222333"})
    await _rol(zgw, theirs, "belanghebbende", "natuurlijk_persoon", {"inpBsn": "111222333"})
    await _rol(zgw, theirs, "behandelaar", "medewerker", {"identificatie": "mdw-7"})
    bsn = "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn"

    async def found(**params: Any) -> list[str]:
        return [z["identificatie"] for z in (await zgw.ok("GET", ZAKEN, params=params))["results"]]

    assert await found(**{bsn: "111222333"}) == ["MIJN", "HUN"]
    assert await found(**{bsn: "111222333", "rol__omschrijvingGeneriek": "initiator"}) == ["MIJN"]
    assert await found(rol__betrokkeneIdentificatie__medewerker__identificatie="mdw-7") == ["HUN"]
    assert await found(rol__betrokkeneType="medewerker") == ["HUN"]
    assert await found(**{bsn: "999999999"}) == []


async def test_zoek(zgw: Zgw) -> None:
    one = await zgw.create_zaak(identificatie="A", zaakgeometrie={"type": "Point", "coordinates": [5.1, 52.1]})
    await zgw.create_zaak(identificatie="B", zaakgeometrie={"type": "Point", "coordinates": [6.5, 53.2]})
    await zgw.create_zaak(identificatie="C")
    square = {"type": "Polygon", "coordinates": [[[5, 52], [5.5, 52], [5.5, 52.5], [5, 52.5], [5, 52]]]}
    data = await zgw.ok("POST", f"{ZAKEN}/_zoek", json={"zaakgeometrie": {"within": square}})
    assert [z["identificatie"] for z in data["results"]] == ["A"]
    data = await zgw.ok("POST", f"{ZAKEN}/_zoek", json={"uuid__in": [one["uuid"]], "identificatie": "A"})
    assert data["count"] == 1
    data = await zgw.ok("POST", f"{ZAKEN}/_zoek", json={"identificatie": "nope"})
    assert data["count"] == 0


async def test_delete_cascades_and_refuses_with_besluiten(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    rol = await _rol(zgw, zaak, "initiator", "natuurlijk_persoon", {"inpBsn": "111222333"})
    await zgw.ok("DELETE", zaak["url"], 204)
    assert (await zgw.get(zaak["url"])).status_code == 404
    assert (await zgw.get(rol["url"])).status_code == 404


async def test_expand(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    zaaktype = await zgw.ok("GET", zaak["zaaktype"])
    status = await zgw.ok("POST", "zaken/api/v1/statussen", 201, json={
        "zaak": zaak["url"], "statustype": zaaktype["statustypen"][0], "datumStatusGezet": "2024-03-01T10:00:00Z"})
    rol = await _rol(zgw, zaak, "initiator", "natuurlijk_persoon", {"inpBsn": "111222333"})
    read = await zgw.ok("GET", zaak["url"], params={"expand": "zaaktype,status.statustype,rollen.roltype,resultaat"})
    expanded = read["_expand"]
    assert expanded["zaaktype"]["identificatie"] == "MELDING-OR"
    assert expanded["status"]["url"] == status["url"]
    assert expanded["status"]["_expand"]["statustype"]["volgnummer"] == 1
    assert [r["url"] for r in expanded["rollen"]] == [rol["url"]]
    assert expanded["rollen"][0]["_expand"]["roltype"]["omschrijvingGeneriek"] == "initiator"
    assert expanded["resultaat"] is None
    listed = await zgw.ok("GET", ZAKEN, params={"expand": "zaaktype"})
    assert listed["results"][0]["_expand"]["zaaktype"]["url"] == zaak["zaaktype"]
    assert codes(await zgw.get(zaak["url"], params={"expand": "omschrijving"})) == {"expand": "invalid"}
    assert codes(await zgw.get(zaak["url"], params={"expand": "nope"})) == {"expand": "invalid"}
