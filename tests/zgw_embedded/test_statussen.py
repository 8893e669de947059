"""Statussen and resultaten, and closing and reopening a zaak the way Open Zaak does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .conftest import Zgw
from .test_zaken import codes

STATUSSEN = "zaken/api/v1/statussen"
RESULTATEN = "zaken/api/v1/resultaten"


async def statustypen(zgw: Zgw, zaak: dict[str, Any]) -> list[str]:
    zaaktype = await zgw.ok("GET", zaak["zaaktype"])
    return zaaktype["statustypen"]


async def set_status(zgw: Zgw, zaak: dict[str, Any], statustype: str, when: str, expect: int = 201) -> Any:
    return await zgw.ok("POST", STATUSSEN, expect, json={"zaak": zaak["url"], "statustype": statustype,
                                                         "datumStatusGezet": when, "statustoelichting": "test"})


async def add_resultaat(zgw: Zgw, zaak: dict[str, Any], omschrijving: str | None = None) -> Any:
    zaaktype = await zgw.ok("GET", zaak["zaaktype"])
    resultaattype = zaaktype["resultaattypen"][0]
    if omschrijving:
        resultaattype = (await zgw.catalogus_item("resultaattypen", zaaktype, omschrijving=omschrijving))["url"]
    return await zgw.ok("POST", RESULTATEN, 201, json={"zaak": zaak["url"], "resultaattype": resultaattype})


async def test_status_lifecycle_and_indicator(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    types = await statustypen(zgw, zaak)
    first = await set_status(zgw, zaak, types[0], "2024-03-01T09:00:00+01:00")
    assert first["datumStatusGezet"] == "2024-03-01T08:00:00Z" and first["indicatieLaatstGezetteStatus"] is True
    second = await set_status(zgw, zaak, types[1], "2024-03-02T09:00:00Z")
    assert (await zgw.ok("GET", first["url"]))["indicatieLaatstGezetteStatus"] is False
    assert (await zgw.ok("GET", zaak["url"]))["status"] == second["url"]
    latest = await zgw.ok("GET", STATUSSEN, params={"zaak": zaak["url"], "indicatieLaatstGezetteStatus": "true"})
    assert [s["url"] for s in latest["results"]] == [second["url"]]
    earlier = await zgw.ok("GET", STATUSSEN, params={"zaak": zaak["url"], "indicatieLaatstGezetteStatus": "false"})
    assert [s["url"] for s in earlier["results"]] == [first["url"]]
    # a status set "in between" does not become the current one
    await set_status(zgw, zaak, types[0], "2024-03-01T12:00:00Z")
    assert (await zgw.ok("GET", zaak["url"]))["status"] == second["url"]


async def test_status_validation(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    types = await statustypen(zgw, zaak)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = await zgw.post(STATUSSEN, json={"zaak": zaak["url"], "statustype": types[0], "datumStatusGezet": future})
    assert codes(response) == {"datumStatusGezet": "date-in-future"}
    await set_status(zgw, zaak, types[0], "2024-03-01T10:00:00Z")
    response = await zgw.post(STATUSSEN, json={"zaak": zaak["url"], "statustype": types[1],
                                               "datumStatusGezet": "2024-03-01T11:00:00+01:00"})
    assert codes(response) == {"nonFieldErrors": "unique"}
    other_types = await statustypen(zgw, await zgw.create_zaak("BEZWAAR"))
    response = await zgw.post(STATUSSEN, json={"zaak": zaak["url"], "statustype": other_types[0],
                                               "datumStatusGezet": "2024-03-02T10:00:00Z"})
    assert codes(response) == {"nonFieldErrors": "zaaktype-mismatch"}
    response = await zgw.post(STATUSSEN, json={"zaak": types[0], "statustype": zaak["url"],
                                               "datumStatusGezet": "2024-03-02T10:00:00Z"})
    assert codes(response) == {"zaak": "bad-url", "statustype": "bad-url"}


async def test_closing_needs_a_resultaat(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    eind = (await statustypen(zgw, zaak))[-1]
    response = await zgw.post(STATUSSEN, json={"zaak": zaak["url"], "statustype": eind,
                                               "datumStatusGezet": "2024-03-05T10:00:00Z"})
    assert codes(response) == {"nonFieldErrors": "resultaat-does-not-exist"}
    assert (await zgw.ok("GET", zaak["url"]))["einddatum"] is None


async def test_closing_needs_indicatie_gebruiksrecht_on_every_document(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    await add_resultaat(zgw, zaak)
    document = await zgw.create_document()
    await zgw.ok("POST", "zaken/api/v1/zaakinformatieobjecten", 201,
                 json={"zaak": zaak["url"], "informatieobject": document["url"]})
    eind = (await statustypen(zgw, zaak))[-1]
    response = await zgw.post(STATUSSEN, json={"zaak": zaak["url"], "statustype": eind,
                                               "datumStatusGezet": "2024-03-05T10:00:00Z"})
    assert codes(response) == {"nonFieldErrors": "indicatiegebruiksrecht-unset"}
    lock = (await zgw.ok("POST", document["url"] + "/lock"))["lock"]
    await zgw.ok("PATCH", document["url"], json={"indicatieGebruiksrecht": False, "lock": lock})
    response = await zgw.post(STATUSSEN, json={"zaak": zaak["url"], "statustype": eind,
                                               "datumStatusGezet": "2024-03-05T10:00:00Z"})
    assert codes(response) == {"nonFieldErrors": "informatieobject-locked"}
    await zgw.ok("POST", document["url"] + "/unlock", 204, json={"lock": lock})
    await set_status(zgw, zaak, eind, "2024-03-05T10:00:00Z")


async def test_closing_sets_einddatum_and_archive_fields_and_reopening_clears_them(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak("OMGEVINGSVERGUNNING")
    types = await statustypen(zgw, zaak)
    await set_status(zgw, zaak, types[0], "2024-03-01T10:00:00Z")
    await add_resultaat(zgw, zaak, "Verleend")  # blijvend_bewaren, P20Y
    # 23:30 on the 5th in Amsterdam is the 5th for the zaak, although it is the 5th 21:30 UTC
    closing = await set_status(zgw, zaak, types[-1], "2024-03-05T23:30:00+02:00")
    closed = await zgw.ok("GET", zaak["url"])
    assert closed["einddatum"] == "2024-03-05" and closed["status"] == closing["url"]
    assert closed["archiefnominatie"] == "blijvend_bewaren"
    assert closed["archiefactiedatum"] == "2044-03-05" and closed["startdatumBewaartermijn"] == "2024-03-05"
    closed_list = await zgw.ok("GET", "zaken/api/v1/zaken", params={"einddatum__isnull": "false"})
    assert [z["url"] for z in closed_list["results"]] == [zaak["url"]]
    await set_status(zgw, zaak, types[1], "2024-03-06T10:00:00Z")
    reopened = await zgw.ok("GET", zaak["url"])
    assert reopened["einddatum"] is None and reopened["archiefnominatie"] is None
    assert reopened["archiefactiedatum"] is None and reopened["startdatumBewaartermijn"] is None


async def test_resultaten_crud(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    zaaktype = await zgw.ok("GET", zaak["zaaktype"])
    resultaat = await add_resultaat(zgw, zaak)
    assert set(resultaat) == {"url", "uuid", "zaak", "resultaattype", "toelichting"}
    assert (await zgw.ok("GET", zaak["url"]))["resultaat"] == resultaat["url"]
    second = await zgw.post(RESULTATEN, json={"zaak": zaak["url"], "resultaattype": zaaktype["resultaattypen"][1]})
    assert codes(second) == {"zaak": "unique"}
    other_type = (await zgw.zaaktype("BEZWAAR"))["resultaattypen"][0]
    assert codes(await zgw.patch(resultaat["url"], json={"resultaattype": other_type})) == {
        "nonFieldErrors": "zaaktype-mismatch"}
    patched = await zgw.ok("PATCH", resultaat["url"], json={"toelichting": "uitleg"})
    assert patched["toelichting"] == "uitleg"
    put = await zgw.ok("PUT", resultaat["url"], json={"zaak": zaak["url"],
                                                      "resultaattype": zaaktype["resultaattypen"][1]})
    assert put["resultaattype"] == zaaktype["resultaattypen"][1] and put["toelichting"] == "uitleg"
    listed = await zgw.ok("GET", RESULTATEN, params={"zaak": zaak["url"]})
    assert listed["count"] == 1
    await zgw.ok("DELETE", resultaat["url"], 204)
    assert (await zgw.ok("GET", zaak["url"]))["resultaat"] is None


async def test_datetimes_out_of_range_are_invalid_not_errors(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    types = await statustypen(zgw, zaak)
    response = await zgw.post(STATUSSEN, json={"zaak": zaak["url"], "statustype": types[0],
                                               "datumStatusGezet": "0001-01-01T00:00:00+05:00"})
    assert codes(response) == {"datumStatusGezet": "invalid"}
