"""The ZGW client over real HTTP (the embedded backend in a subprocess): calls handed straight to the transport give
their connection back to the pool, whatever the answer, so one connection serves any number of calls."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from stuf_bridge.settings import Settings
from stuf_bridge.zgw import ZgwClients, ZgwNotFound, record_zgw_calls
from tests.support.server import running_gateway

RSIN = "002220647"


@pytest.fixture(scope="module")
def backend_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    with running_gateway(tmp_path_factory.mktemp("zgw-network") / "data", command=("zgw", "serve")) as url:
        yield url


async def test_one_pooled_connection_serves_every_kind_of_answer(backend_url: str) -> None:
    # one connection and a short pool timeout: a call that kept its connection would make the next one time out
    settings = Settings(zgw_url=backend_url, zgw_max_connections=1, zgw_timeout=3)
    async with ZgwClients.from_settings(settings) as zgw:
        zaaktype = (await zgw.catalogi.list("zaaktypen", {"status": "definitief"}))[0]["url"]
        with record_zgw_calls() as calls:
            for i in range(25):
                zaak = await zgw.zaken.create("zaken", {
                    "identificatie": f"NETWORK-{i:03d}", "bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN,
                    "zaaktype": zaaktype, "startdatum": date.today().isoformat(),
                })
                assert (await zgw.zaken.get(zaak["url"]))["identificatie"] == f"NETWORK-{i:03d}"
                with pytest.raises(ZgwNotFound):  # an error answer, read and released as well
                    await zgw.zaken.get(zaak["url"].rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000")
                found = await asyncio.gather(*(zgw.zaken.list("zaken", {"identificatie": f"NETWORK-{i:03d}"})
                                               for _ in range(3)))  # queued on the one connection
                assert [len(items) for items in found] == [1, 1, 1]
        assert len(calls) == 25 * 6
        assert [c.status for c in calls[:6]] == [201, 200, 404, 200, 200, 200]
