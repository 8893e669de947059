"""Integration: the ZGW client against the embedded ZGW backend over httpx.ASGITransport.

Skipped, saying why, while ``stuf_bridge.zgw_embedded`` does not exist or does not export ``create_app`` and
``EmbeddedConfig`` yet.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import pytest_asyncio

from stuf_bridge.settings import Settings
from stuf_bridge.zgw import ZgwClients, ZgwNotFound, ZgwValidationError
from stuf_bridge.zgw.catalogue import today_amsterdam, valid_on

EMBEDDED = "stuf_bridge.zgw_embedded"
BASE = "http://zgw.test"
RSIN = "002220647"


def embedded_backend() -> ModuleType:
    try:
        module = importlib.import_module(EMBEDDED)
    except ModuleNotFoundError as exc:
        if exc.name is not None and EMBEDDED.startswith(exc.name):
            pytest.skip(f"the embedded ZGW backend ({EMBEDDED}) does not exist yet")
        raise
    missing = [name for name in ("create_app", "EmbeddedConfig") if not hasattr(module, name)]
    if missing:
        pytest.skip(f"{EMBEDDED} does not export {' and '.join(missing)} yet")
    return module


def embedded_config(module: ModuleType, settings: Settings, data_dir: Path) -> Any:
    wanted: dict[str, Any] = {"data_dir": data_dir, "client_id": settings.zgw_client_id, "secret": settings.zgw_secret}
    seed = Path(module.__file__ or "").parent / "demo-catalogue.yaml"
    if seed.is_file():
        wanted["seed_file"] = seed
    params = inspect.signature(module.EmbeddedConfig).parameters
    return module.EmbeddedConfig(**{key: value for key, value in wanted.items() if key in params})


@pytest_asyncio.fixture
async def embedded_zgw(make_settings: Callable[..., Settings], tmp_path: Path) -> AsyncIterator[ZgwClients]:
    module = embedded_backend()
    settings = make_settings(zgw_secret="embedded-integration-secret-0123456789")
    app = module.create_app(embedded_config(module, settings, tmp_path / "embedded"))
    lifespan = app.router.lifespan_context(app) if hasattr(getattr(app, "router", None), "lifespan_context") else None
    if lifespan is not None:
        await lifespan.__aenter__()
    try:
        async with ZgwClients.from_settings(
            settings, embedded_base=BASE, transport=httpx.ASGITransport(app=app)
        ) as zgw:
            yield zgw
    finally:
        if lifespan is not None:
            await lifespan.__aexit__(None, None, None)


async def a_published_zaaktype(zgw: ZgwClients) -> str:
    """The identificatie of a published zaaktype valid today: from the demo catalogue, else one made here."""
    today = today_amsterdam()
    for zaaktype in await zgw.catalogi.list("zaaktypen"):
        if not zaaktype.get("concept") and valid_on(zaaktype, today) and zaaktype.get("identificatie"):
            return str(zaaktype["identificatie"])
    return await create_zaaktype(zgw, today)


async def create_zaaktype(zgw: ZgwClients, today: date) -> str:
    try:
        catalogus = await zgw.catalogi.create(
            "catalogussen",
            {"domein": "TEST", "rsin": RSIN, "contactpersoonBeheerNaam": "Test", "naam": "Test"},
        )
    except (ZgwNotFound, ZgwValidationError) as exc:
        pytest.skip(f"the embedded backend has no demo catalogue and refused to create one: {exc}")
    zaaktype = await zgw.catalogi.create(
        "zaaktypen",
        {
            "identificatie": "ZGW-CLIENT-IT",
            "omschrijving": "Integratietest",
            "vertrouwelijkheidaanduiding": "openbaar",
            "doel": "Testen",
            "aanleiding": "Testen",
            "indicatieInternOfExtern": "extern",
            "handelingInitiator": "aanvragen",
            "onderwerp": "Test",
            "handelingBehandelaar": "behandelen",
            "doorlooptijd": "P30D",
            "opschortingEnAanhoudingMogelijk": False,
            "verlengingMogelijk": False,
            "publicatieIndicatie": False,
            "productenOfDiensten": [],
            "referentieproces": {"naam": "test"},
            "verantwoordelijke": RSIN,
            "catalogus": catalogus["url"],
            "besluittypen": [],
            "gerelateerdeZaaktypen": [],
            "beginGeldigheid": today.isoformat(),
            "versiedatum": today.isoformat(),
        },
    )
    for volgnummer, omschrijving in ((1, "Ontvangen"), (2, "Afgehandeld")):
        await zgw.catalogi.create(
            "statustypen", {"zaaktype": zaaktype["url"], "omschrijving": omschrijving, "volgnummer": volgnummer}
        )
    await zgw.catalogi.create(
        "roltypen", {"zaaktype": zaaktype["url"], "omschrijving": "Aanvrager", "omschrijvingGeneriek": "initiator"}
    )
    await zgw.catalogi.post(f"{zaaktype['url']}/publish")
    return str(zaaktype["identificatie"])


async def test_zaak_through_the_embedded_backend(embedded_zgw: ZgwClients) -> None:
    zgw = embedded_zgw
    identificatie = await a_published_zaaktype(zgw)

    zaaktype = await zgw.catalogue.zaaktype(identificatie)  # JWT accepted, found through the cache
    assert zaaktype["identificatie"] == identificatie and not zaaktype.get("concept")
    statustypen = await zgw.catalogue.statustypen(zaaktype)
    assert statustypen, "a published zaaktype has statustypen"
    assert (await zgw.catalogue.eindstatustype(zaaktype))["url"] == statustypen[-1]["url"]
    assert (await zgw.catalogue.zaaktype(identificatie))["url"] == zaaktype["url"]
    for roltype in await zgw.catalogue.roltypen(zaaktype):
        found = await zgw.catalogue.roltype(zaaktype, omschrijving=roltype["omschrijving"].upper())
        assert found["url"] == roltype["url"]
    for iot in await zgw.catalogue.informatieobjecttypen(zaaktype):
        assert (await zgw.catalogue.informatieobjecttype(zaaktype, iot["omschrijving"].lower()))["url"] == iot["url"]

    zaak = await zgw.zaken.create(
        "zaken",
        {
            "identificatie": "ZGW-CLIENT-IT-0001",
            "bronorganisatie": RSIN,
            "verantwoordelijkeOrganisatie": RSIN,
            "zaaktype": zaaktype["url"],
            "omschrijving": "Aangemaakt door de integratietest van de ZGW-client",
            "startdatum": today_amsterdam().isoformat(),
        },
    )
    assert zaak["url"].startswith(f"{BASE}/zaken/api/v1/zaken/")

    read = await zgw.get(zaak["url"])
    assert read["identificatie"] == "ZGW-CLIENT-IT-0001" and read["zaaktype"] == zaaktype["url"]
    found = await zgw.zaken.list("zaken", {"identificatie": "ZGW-CLIENT-IT-0001", "bronorganisatie": RSIN})
    assert [item["url"] for item in found] == [zaak["url"]]

    with pytest.raises(ZgwValidationError) as caught:  # the same identificatie again
        await zgw.zaken.create(
            "zaken",
            {
                **{
                    k: read[k]
                    for k in (
                        "identificatie",
                        "bronorganisatie",
                        "verantwoordelijkeOrganisatie",
                        "zaaktype",
                        "startdatum",
                    )
                }
            },
        )
    assert str(caught.value).startswith("POST /zaken/api/v1/zaken → 400 ")
