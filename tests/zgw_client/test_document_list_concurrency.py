"""geefLijstZaakdocumenten's fetch of a zaak's documents (issue 18, finding 12): concurrent, but bounded.

A backend that takes a while per document shows how many document GETs are in flight at once: more than one (one
by one, 40 documents took seconds) and never more than ``FETCH_CONCURRENCY`` (a zaak with 200 documents must not
take the whole connection pool nor flood the backend). The informatieobjecttype is fetched once per type."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from stuf_bridge.operations.document_vragen import FETCH_CONCURRENCY, relevante_documenten

from .conftest import MakeClients
from .fakes import BASE

ZAAK = f"{BASE}/zaken/api/v1/zaken/z-1"
IOT = f"{BASE}/catalogi/api/v1/informatieobjecttypen/iot-1"


class SlowDocuments:
    def __init__(self, count: int):
        self.count = count
        self.in_flight = 0
        self.most = 0
        self.type_gets = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/zaakinformatieobjecten"):
            items = [{"url": f"{BASE}/zaken/api/v1/zaakinformatieobjecten/{n}", "zaak": ZAAK,
                      "informatieobject": f"{BASE}/documenten/api/v1/enkelvoudiginformatieobjecten/d-{n}"}
                     for n in range(self.count)]
            return httpx.Response(200, json=items)
        if "/enkelvoudiginformatieobjecten/" in path:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            try:
                await asyncio.sleep(0.01)
            finally:
                self.in_flight -= 1
            return httpx.Response(200, json={"url": str(request.url), "identificatie": path.rsplit("/", 1)[1],
                                             "informatieobjecttype": IOT})
        if path.endswith("/iot-1"):
            self.type_gets += 1
            return httpx.Response(200, content=json.dumps({"url": IOT, "omschrijving": "Bijlage"}))
        return httpx.Response(404, json={"detail": "niet gevonden"})


@pytest.mark.parametrize("count", [40, 200])
async def test_documents_are_fetched_concurrently_and_bounded(make_clients: MakeClients, count: int) -> None:
    backend = SlowDocuments(count)
    zgw = make_clients(backend)
    found = await relevante_documenten(zgw, {"url": ZAAK})
    assert [item["_expand"]["informatieobject"]["identificatie"] for item in found] == [
        f"d-{n}" for n in range(count)]  # all of them, in the zaak's order
    assert 1 < backend.most <= FETCH_CONCURRENCY, backend.most
    assert backend.type_gets == 1
