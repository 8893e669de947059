"""The catalogue cache: selection rules (MAPPING §2.4), typed misses, TTL and single-flight."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx
import pytest

from stuf_bridge.settings import Settings
from stuf_bridge.zgw import (
    Catalogue,
    CatalogueAmbiguous,
    CatalogueLookupError,
    CatalogueNotFound,
    ZgwClients,
    ZgwServerError,
)

from .conftest import MakeClients
from .fakes import CATALOGI, FakeCatalogi, build_catalogue

TODAY = date(2024, 6, 1)
CATALOGUE_PATHS = {
    "zaaktypen": "/catalogi/api/v1/zaaktypen",
    "statustypen": "/catalogi/api/v1/statustypen",
    "roltypen": "/catalogi/api/v1/roltypen",
    "resultaattypen": "/catalogi/api/v1/resultaattypen",
    "informatieobjecttypen": "/catalogi/api/v1/informatieobjecttypen",
}


def catalogue_for(zgw: ZgwClients, **kwargs: Any) -> Catalogue:
    kwargs.setdefault("today", lambda: TODAY)
    return Catalogue(zgw.catalogi, **kwargs)


async def creeer_lookups(catalogue: Catalogue) -> dict[str, Any]:
    """The catalogue reads a creeerZaak makes: zaaktype, status, rollen, resultaat, document type."""
    zaaktype = await catalogue.zaaktype("B1026")
    status, initiator, behandelaar, resultaat, iot = await asyncio.gather(
        catalogue.statustype(zaaktype, omschrijving="Ontvangen", volgnummer=1),
        catalogue.roltype(zaaktype, omschrijving="Aanvrager", omschrijving_generiek="initiator"),
        catalogue.roltype(zaaktype, omschrijving="Uitvoerende", omschrijving_generiek="behandelaar"),
        catalogue.resultaattype(zaaktype, "Geweigerd"),
        catalogue.informatieobjecttype(zaaktype, "aanvraag"),
    )
    return {
        "zaaktype": zaaktype,
        "status": status,
        "initiator": initiator,
        "behandelaar": behandelaar,
        "resultaat": resultaat,
        "iot": iot,
    }


# --- zaaktype -------------------------------------------------------------------------------------------------


async def test_zaaktype_valid_today_and_published(make_clients: MakeClients) -> None:
    fake = FakeCatalogi()
    catalogue = catalogue_for(make_clients(fake.transport))
    zaaktype = await catalogue.zaaktype("B1026")
    assert zaaktype["url"] == f"{CATALOGI}/zaaktypen/b1026-v2"  # not the expired v1, not the concept v3
    request = fake.requests[0]
    assert request.url.params["identificatie"] == "B1026" and request.url.params["status"] == "definitief"

    past = catalogue_for(make_clients(FakeCatalogi().transport), today=lambda: date(2020, 12, 31))
    assert (await past.zaaktype("B1026"))["url"] == f"{CATALOGI}/zaaktypen/b1026-v1"  # eindeGeldigheid is inclusive


async def test_zaaktype_none(make_clients: MakeClients) -> None:
    catalogue = catalogue_for(make_clients(FakeCatalogi().transport))
    with pytest.raises(CatalogueNotFound) as caught:
        await catalogue.zaaktype("NOPE")
    assert str(caught.value) == "geen gepubliceerd zaaktype met identificatie 'NOPE'"
    assert caught.value.kind == "zaaktype" and caught.value.searched == {"identificatie": "NOPE"}

    early = catalogue_for(make_clients(FakeCatalogi().transport), today=lambda: date(2019, 5, 1))
    with pytest.raises(CatalogueNotFound) as caught:
        await early.zaaktype("B1026")
    assert str(caught.value) == (
        "geen zaaktype met identificatie 'B1026' dat geldig is op 2019-05-01; gepubliceerde versies: "
        "2020-01-01 t/m 2020-12-31, 2021-01-01 t/m …"
    )


async def test_zaaktype_several(make_clients: MakeClients) -> None:
    catalogue = catalogue_for(make_clients(FakeCatalogi().transport))
    with pytest.raises(CatalogueAmbiguous) as caught:
        await catalogue.zaaktype("Z2")
    assert str(caught.value).startswith("meer dan één zaaktype met identificatie 'Z2' geldig op 2024-06-01: ")
    assert caught.value.available == (f"{CATALOGI}/zaaktypen/z2-a", f"{CATALOGI}/zaaktypen/z2-b")
    assert isinstance(caught.value, CatalogueLookupError)


async def test_zaaktype_across_pages(make_clients: MakeClients) -> None:
    data = build_catalogue()
    data["zaaktypen"] = [
        {
            **data["zaaktypen"][0],
            "url": f"{CATALOGI}/zaaktypen/old-{n}",
            "beginGeldigheid": f"{2000 + n}-01-01",
            "eindeGeldigheid": f"{2000 + n}-12-31",
        }
        for n in range(5)
    ] + data["zaaktypen"]
    fake = FakeCatalogi(data, page_size=2)
    catalogue = catalogue_for(make_clients(fake.transport))
    assert (await catalogue.zaaktype("B1026"))["url"].endswith("b1026-v2")
    assert fake.counts[CATALOGUE_PATHS["zaaktypen"]] == 4


# --- statustypen ----------------------------------------------------------------------------------------------


async def test_statustype_lookup(make_clients: MakeClients) -> None:
    catalogue = catalogue_for(make_clients(FakeCatalogi().transport))
    zt = await catalogue.zaaktype("B1026")
    assert [s["volgnummer"] for s in await catalogue.statustypen(zt)] == [1, 2, 3]
    by = catalogue.statustype
    assert (await by(zt, omschrijving="In behandeling"))["volgnummer"] == 2  # exact
    assert (await by(zt, omschrijving="in  BEHANDELING"))["volgnummer"] == 2  # case-insensitive
    assert (await by(zt, omschrijving="Afge"))["volgnummer"] == 3  # prefix
    assert (await by(zt, volgnummer="2"))["omschrijving"] == "In behandeling"
    assert (await by(zt, omschrijving="Ontvangen", volgnummer=3))["volgnummer"] == 1  # omschrijving decides
    assert (await by(zt["url"], omschrijving="Ontvangen"))["volgnummer"] == 1  # zaaktype by URL
    assert (await catalogue.eindstatustype(zt))["omschrijving"] == "Afgehandeld"
    with pytest.raises(CatalogueNotFound) as caught:
        await by(zt, omschrijving="Gesloten", volgnummer=4)
    assert str(caught.value) == (
        "geen statustype met omschrijving 'Gesloten' en volgnummer 4 bij zaaktype B1026; "
        "aanwezig: 1 Ontvangen, 2 In behandeling, 3 Afgehandeld"
    )
    assert caught.value.zaaktype == "B1026"
    with pytest.raises(CatalogueNotFound, match="geen statustype met volgnummer 7 bij zaaktype B1026"):
        await by(zt, volgnummer=7)
    with pytest.raises(CatalogueNotFound, match="geen statustype met volgnummer 'x'"):
        await by(zt, volgnummer="x")
    assert (await by(zt, omschrijving="Ontvangen", volgnummer="x"))["volgnummer"] == 1
    with pytest.raises(ValueError):
        await by(zt)


async def test_statustype_prefix_ambiguity_resolved_by_volgnummer(make_clients: MakeClients) -> None:
    data = build_catalogue()
    zt = f"{CATALOGI}/zaaktypen/b1026-v2"
    data["statustypen"] = [
        {"url": f"{CATALOGI}/statustypen/a", "zaaktype": zt, "volgnummer": 1, "omschrijving": "Besluit genomen"},
        {"url": f"{CATALOGI}/statustypen/b", "zaaktype": zt, "volgnummer": 2, "omschrijving": "Besluit verzonden"},
    ]
    catalogue = catalogue_for(make_clients(FakeCatalogi(data).transport))
    zaaktype = await catalogue.zaaktype("B1026")
    assert (await catalogue.statustype(zaaktype, omschrijving="Besluit", volgnummer=2))["url"].endswith("/b")
    with pytest.raises(CatalogueAmbiguous, match="meer dan één statustype met omschrijving 'Besluit'"):
        await catalogue.statustype(zaaktype, omschrijving="Besluit")


# --- roltypen, resultaattypen, informatieobjecttypen, besluittypen ----------------------------------------------


async def test_roltype_lookup(make_clients: MakeClients) -> None:
    catalogue = catalogue_for(make_clients(FakeCatalogi().transport))
    zt = await catalogue.zaaktype("B1026")
    assert (await catalogue.roltype(zt, omschrijving="aanvrager"))["url"].endswith("rt-ini")
    assert (await catalogue.roltype(zt, omschrijving="Initiator", omschrijving_generiek="initiator"))["url"].endswith(
        "rt-ini"
    )
    assert (await catalogue.roltype(zt, omschrijving_generiek="behandelaar"))["omschrijving"] == "Behandelaar"
    with pytest.raises(CatalogueAmbiguous, match="meer dan één roltype"):
        await catalogue.roltype(zt, omschrijving="Gemachtigde", omschrijving_generiek="belanghebbende")
    with pytest.raises(CatalogueNotFound) as caught:
        await catalogue.roltype(zt, omschrijving="Verantwoordelijke", omschrijving_generiek="zaakcoordinator")
    assert "aanwezig: Aanvrager (initiator), Behandelaar (behandelaar)" in str(caught.value)


async def test_resultaattype_lookup(make_clients: MakeClients) -> None:
    catalogue = catalogue_for(make_clients(FakeCatalogi().transport))
    zt = await catalogue.zaaktype("B1026")
    assert (await catalogue.resultaattype(zt, "Toegekend"))["url"].endswith("rs-1")  # exact beats prefix
    assert (await catalogue.resultaattype(zt, "GEWEIGERD"))["url"].endswith("rs-3")
    # a sender that cut the omschrijving at 20 characters, and one that sends more than the catalogue has
    assert (await catalogue.resultaattype(zt, "Toegekend met voorwa"))["url"].endswith("rs-2")
    assert (await catalogue.resultaattype(zt, "toegekend met voorwaarden en meer"))["url"].endswith("rs-2")
    with pytest.raises(CatalogueNotFound, match="aanwezig: Toegekend, Toegekend met voorwaarden, Geweigerd"):
        await catalogue.resultaattype(zt, "Ingetrokken")


async def test_informatieobjecttype_lookup(make_clients: MakeClients) -> None:
    fake = FakeCatalogi()
    catalogue = catalogue_for(make_clients(fake.transport))
    zt = await catalogue.zaaktype("B1026")
    assert (await catalogue.informatieobjecttype(zt, "AANVRAAG"))["url"].endswith("iot-aanvraag")
    assert [i["omschrijving"] for i in await catalogue.informatieobjecttypen(zt)] == ["Aanvraag", "Besluit"]
    with pytest.raises(CatalogueNotFound) as caught:  # exists in the catalogus, but not for this zaaktype
        await catalogue.informatieobjecttype(zt, "Bijlage")
    assert str(caught.value) == (
        "geen informatieobjecttype met omschrijving 'Bijlage' bij zaaktype B1026; aanwezig: Aanvraag, Besluit"
    )
    assert fake.requests[-1].url.params["catalogus"] == f"{CATALOGI}/catalogussen/cat-1"


async def test_informatieobjecttype_versions_and_other_catalogus(make_clients: MakeClients) -> None:
    data = build_catalogue()
    zt = data["zaaktypen"][1]
    extra = f"{CATALOGI}/informatieobjecttypen/iot-elders"
    old = f"{CATALOGI}/informatieobjecttypen/iot-aanvraag-oud"
    zt["informatieobjecttypen"] = [*zt["informatieobjecttypen"], extra, old]
    data["informatieobjecttypen"] += [
        {
            "url": extra,
            "catalogus": f"{CATALOGI}/catalogussen/other",
            "omschrijving": "Elders",
            "beginGeldigheid": "2020-01-01",
        },
        {
            "url": old,
            "catalogus": zt["catalogus"],
            "omschrijving": "Aanvraag",
            "beginGeldigheid": "2019-01-01",
            "eindeGeldigheid": "2019-12-31",
        },
    ]
    fake = FakeCatalogi(data)
    catalogue = catalogue_for(make_clients(fake.transport))
    zaaktype = await catalogue.zaaktype("B1026")
    assert (await catalogue.informatieobjecttype(zaaktype, "Aanvraag"))["url"].endswith("iot-aanvraag")
    assert (await catalogue.informatieobjecttype(zaaktype, "elders"))["url"] == extra  # fetched by URL
    assert fake.counts["/catalogi/api/v1/informatieobjecttypen/iot-elders"] == 1
    past = catalogue_for(make_clients(FakeCatalogi(data).transport), today=lambda: date(2019, 6, 1))
    with pytest.raises(CatalogueNotFound, match="zaaktype") as caught:
        await past.informatieobjecttype(zaaktype, "Elders")
    assert "informatieobjecttype 'Elders' bij zaaktype B1026 is niet geldig op 2019-06-01" in str(caught.value)


@pytest.mark.parametrize("empty", ["", [], None])
async def test_informatieobjecttype_through_zaaktype_informatieobjecttypen(
    make_clients: MakeClients, empty: Any
) -> None:
    """Catalogi 1.3.1 as VNG publishes it: zaaktype.informatieobjecttypen is no URL list (or a back-end leaves it
    empty); the link is a zaaktype-informatieobjecttype naming the informatieobjecttype by omschrijving or URL."""
    data = build_catalogue()
    zt = data["zaaktypen"][1]
    zt["informatieobjecttypen"] = empty
    data["zaaktype-informatieobjecttypen"] = [
        {
            "url": f"{CATALOGI}/zaaktype-informatieobjecttypen/1",
            "zaaktype": zt["url"],
            "informatieobjecttype": "Bijlage",
        },
        {
            "url": f"{CATALOGI}/zaaktype-informatieobjecttypen/2",
            "zaaktype": zt["url"],
            "informatieobjecttype": f"{CATALOGI}/informatieobjecttypen/iot-besluit",
        },
    ]
    fake = FakeCatalogi(data)
    catalogue = catalogue_for(make_clients(fake.transport))
    zaaktype = await catalogue.zaaktype("B1026")
    assert (await catalogue.informatieobjecttype(zaaktype, "bijlage"))["url"].endswith("iot-other")
    assert (await catalogue.informatieobjecttype(zaaktype, "Besluit"))["url"].endswith("iot-besluit")
    assert fake.counts["/catalogi/api/v1/zaaktype-informatieobjecttypen"] == 1
    with pytest.raises(CatalogueNotFound):
        await catalogue.informatieobjecttype(zaaktype, "Aanvraag")


async def test_besluittype_lookup(make_clients: MakeClients) -> None:
    catalogue = catalogue_for(make_clients(FakeCatalogi().transport))
    zt = await catalogue.zaaktype("B1026")
    assert (await catalogue.besluittype(zt, "vergunningsbesluit"))["url"].endswith("bt-1")
    with pytest.raises(
        CatalogueNotFound,
        match="geen besluittype met omschrijving 'Weigering' bij zaaktype B1026; aanwezig: Vergunningsbesluit",
    ):
        await catalogue.besluittype(zt, "Weigering")


# --- cache ----------------------------------------------------------------------------------------------------


async def test_100_sequential_creeer_lookups_make_one_request_per_resource(make_clients: MakeClients) -> None:
    fake = FakeCatalogi()
    catalogue = catalogue_for(make_clients(fake.transport))
    for _ in range(100):
        found = await creeer_lookups(catalogue)
    assert found["iot"]["omschrijving"] == "Aanvraag" and found["behandelaar"]["omschrijving"] == "Behandelaar"
    assert {path: fake.counts[path] for path in CATALOGUE_PATHS.values()} == dict.fromkeys(CATALOGUE_PATHS.values(), 1)
    assert sum(fake.counts.values()) == 5


async def test_100_concurrent_creeer_lookups_make_one_request_per_resource(make_clients: MakeClients) -> None:
    fake = FakeCatalogi(latency=0.02)  # slow enough that all 100 are in flight together
    catalogue = catalogue_for(make_clients(fake.transport))
    results = await asyncio.gather(*(creeer_lookups(catalogue) for _ in range(100)))
    assert len({r["status"]["url"] for r in results}) == 1
    assert sum(fake.counts.values()) == 5
    assert {path: fake.counts[path] for path in CATALOGUE_PATHS.values()} == dict.fromkeys(CATALOGUE_PATHS.values(), 1)


async def test_misses_are_served_from_the_cache_too(make_clients: MakeClients) -> None:
    fake = FakeCatalogi(latency=0.01)
    catalogue = catalogue_for(make_clients(fake.transport))
    outcomes = await asyncio.gather(*(catalogue.zaaktype("NOPE") for _ in range(50)), return_exceptions=True)
    assert all(isinstance(o, CatalogueNotFound) for o in outcomes)
    assert fake.counts[CATALOGUE_PATHS["zaaktypen"]] == 1


async def test_ttl_expiry_refetches(make_clients: MakeClients) -> None:
    now = [1000.0]
    fake = FakeCatalogi()
    catalogue = catalogue_for(make_clients(fake.transport), ttl=300, clock=lambda: now[0])
    await creeer_lookups(catalogue)
    now[0] += 299
    await creeer_lookups(catalogue)
    assert sum(fake.counts.values()) == 5
    now[0] += 1
    await creeer_lookups(catalogue)
    assert sum(fake.counts.values()) == 10
    assert all(fake.counts[path] == 2 for path in CATALOGUE_PATHS.values())
    catalogue.clear()
    await catalogue.zaaktype("B1026")
    assert fake.counts[CATALOGUE_PATHS["zaaktypen"]] == 3


async def test_ttl_from_settings(make_clients: MakeClients, make_settings: Any) -> None:
    fake = FakeCatalogi()
    zgw = make_clients(fake.transport, make_settings(zgw_url="http://zgw.test", zgw_catalogue_ttl=0))
    await zgw.catalogue.zaaktypen("B1026")
    await zgw.catalogue.zaaktypen("B1026")
    assert fake.counts[CATALOGUE_PATHS["zaaktypen"]] == 2  # ttl 0: no caching


async def test_failures_are_shared_but_not_cached(make_clients: MakeClients, zgw_settings: Settings) -> None:
    calls = {"n": 0}
    fake = FakeCatalogi()

    async def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            await asyncio.sleep(0.02)
            return httpx.Response(503, json={"code": "unavailable", "detail": "Even niet."})
        return await fake.handle(request)

    # without retries (a 503 GET is tried again by default: tests/zgw_client/test_retries.py)
    catalogue = catalogue_for(make_clients(handler, zgw_settings.model_copy(update={"zgw_get_retries": 0})))
    outcomes = await asyncio.gather(*(catalogue.zaaktype("B1026") for _ in range(20)), return_exceptions=True)
    assert all(isinstance(o, ZgwServerError) for o in outcomes)
    assert calls["n"] == 1
    assert (await catalogue.zaaktype("B1026"))["identificatie"] == "B1026"
    assert calls["n"] == 2


async def test_a_cancelled_caller_does_not_cancel_the_others(make_clients: MakeClients) -> None:
    fake = FakeCatalogi(latency=0.05)
    catalogue = catalogue_for(make_clients(fake.transport))
    first = asyncio.create_task(catalogue.zaaktype("B1026"))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(catalogue.zaaktype("B1026"))
    await asyncio.sleep(0.01)
    first.cancel()
    assert (await second)["identificatie"] == "B1026"
    assert first.cancelled()
    assert fake.counts[CATALOGUE_PATHS["zaaktypen"]] == 1


async def test_a_zaaktype_found_by_identificatie_is_also_known_by_url() -> None:
    """A flow that read the zaaktype by code, and later meets it as a zaak's zaaktype URL, needs no second call."""
    from stuf_bridge.zgw.catalogue import _SingleFlightCache

    cache = _SingleFlightCache(ttl=60, clock=lambda: 0.0)
    loads = 0

    async def load() -> dict:
        nonlocal loads
        loads += 1
        return {"url": "u"}

    cache.seed(("url", "u"), {"url": "u", "seeded": True})
    assert (await cache.get(("url", "u"), load))["seeded"] and loads == 0
