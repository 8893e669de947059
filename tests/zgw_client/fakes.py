"""A fake Catalogi API for httpx.MockTransport: enough of Catalogi 1.3 (list filters, pagination, detail by URL)
to exercise the catalogue cache, and a request counter. Used by the tests and by bench/zgw_client_bench.py."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

BASE = "http://zgw.test"
CATALOGI = f"{BASE}/catalogi/api/v1"
JSON = dict[str, Any]


def _url(kind: str, key: str) -> str:
    return f"{CATALOGI}/{kind}/{key}"


def build_catalogue() -> dict[str, list[JSON]]:
    """One catalogus with zaaktype B1026 (an expired version and the current one), a concept version of it,
    and zaaktype Z2 with two overlapping published versions (an error case)."""
    catalogus = _url("catalogussen", "cat-1")
    zt_old = _url("zaaktypen", "b1026-v1")
    zt = _url("zaaktypen", "b1026-v2")
    zt_concept = _url("zaaktypen", "b1026-v3")
    z2a, z2b = _url("zaaktypen", "z2-a"), _url("zaaktypen", "z2-b")

    def zaaktype(url: str, identificatie: str, begin: str, end: str | None, *, concept: bool = False) -> JSON:
        return {
            "url": url,
            "identificatie": identificatie,
            "omschrijving": f"Zaaktype {identificatie}",
            "catalogus": catalogus,
            "concept": concept,
            "beginGeldigheid": begin,
            "eindeGeldigheid": end,
            "statustypen": [],
            "roltypen": [],
            "resultaattypen": [],
            "informatieobjecttypen": [
                _url("informatieobjecttypen", "iot-aanvraag"),
                _url("informatieobjecttypen", "iot-besluit"),
            ],
            "besluittypen": [_url("besluittypen", "bt-1")],
        }

    zaaktypen = [
        zaaktype(zt_old, "B1026", "2020-01-01", "2020-12-31"),
        zaaktype(zt, "B1026", "2021-01-01", None),
        zaaktype(zt_concept, "B1026", "2021-01-01", None, concept=True),
        zaaktype(z2a, "Z2", "2021-01-01", None),
        zaaktype(z2b, "Z2", "2022-01-01", None),
    ]
    statustypen = [
        {
            "url": _url("statustypen", f"st-{n}"),
            "zaaktype": zt,
            "volgnummer": n,
            "omschrijving": o,
            "isEindstatus": n == 3,
        }
        for n, o in ((1, "Ontvangen"), (2, "In behandeling"), (3, "Afgehandeld"))
    ]
    roltypen = [
        {"url": _url("roltypen", key), "zaaktype": zt, "omschrijving": o, "omschrijvingGeneriek": g}
        for key, o, g in (
            ("rt-ini", "Aanvrager", "initiator"),
            ("rt-beh", "Behandelaar", "behandelaar"),
            ("rt-blh1", "Belanghebbende", "belanghebbende"),
            ("rt-blh2", "Buurman", "belanghebbende"),
        )
    ]
    resultaattypen = [
        {"url": _url("resultaattypen", key), "zaaktype": zt, "omschrijving": o}
        for key, o in (
            ("rs-1", "Toegekend"),
            ("rs-2", "Toegekend met voorwaarden"),
            ("rs-3", "Geweigerd"),
        )
    ]
    informatieobjecttypen = [
        {
            "url": _url("informatieobjecttypen", "iot-aanvraag"),
            "catalogus": catalogus,
            "omschrijving": "Aanvraag",
            "concept": False,
            "beginGeldigheid": "2020-01-01",
            "eindeGeldigheid": None,
        },
        {
            "url": _url("informatieobjecttypen", "iot-besluit"),
            "catalogus": catalogus,
            "omschrijving": "Besluit",
            "concept": False,
            "beginGeldigheid": "2020-01-01",
            "eindeGeldigheid": None,
        },
        {
            "url": _url("informatieobjecttypen", "iot-other"),
            "catalogus": catalogus,
            "omschrijving": "Bijlage",
            "concept": False,
            "beginGeldigheid": "2020-01-01",
            "eindeGeldigheid": None,
        },
    ]
    besluittypen = [
        {
            "url": _url("besluittypen", "bt-1"),
            "catalogus": catalogus,
            "omschrijving": "Vergunningsbesluit",
            "concept": False,
            "beginGeldigheid": "2020-01-01",
            "eindeGeldigheid": None,
            "zaaktypen": [zt],
        },
    ]
    return {
        "zaaktypen": zaaktypen,
        "statustypen": statustypen,
        "roltypen": roltypen,
        "resultaattypen": resultaattypen,
        "informatieobjecttypen": informatieobjecttypen,
        "besluittypen": besluittypen,
    }


_FILTERS: dict[str, Callable[[JSON, str, str], bool]] = {
    "identificatie": lambda item, _key, value: item.get("identificatie") == value,
    "zaaktype": lambda item, _key, value: item.get("zaaktype") == value,
    "catalogus": lambda item, _key, value: item.get("catalogus") == value,
    "status": lambda item, _key, value: value == "alles" or item.get("concept", False) == (value == "concept"),
}


class FakeCatalogi:
    """Serves the catalogue lists (paginated) and details, counting requests per path."""

    def __init__(self, data: dict[str, list[JSON]] | None = None, *, page_size: int = 100, latency: float = 0.0):
        self.data = data if data is not None else build_catalogue()
        self.page_size = page_size
        self.latency = latency
        self.requests: list[httpx.Request] = []
        self.counts: Counter[str] = Counter()

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.counts[request.url.path] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        path = request.url.path.removeprefix("/catalogi/api/v1/").strip("/")
        kind, _, key = path.partition("/")
        if kind not in self.data:
            return _problem(404, "not_found", "Niet gevonden.")
        if key:
            for item in self.data[kind]:
                if item["url"] == f"{CATALOGI}/{kind}/{key}":
                    return httpx.Response(200, json=item)
            return _problem(404, "not_found", "Niet gevonden.")
        query = {name: values[0] for name, values in parse_qs(request.url.query.decode()).items()}
        page = int(query.pop("page", "1"))
        items = self.data[kind]
        if kind in ("zaaktypen", "informatieobjecttypen", "besluittypen"):
            query.setdefault("status", "definitief")
        for name, value in query.items():
            if name in _FILTERS:
                items = [item for item in items if _FILTERS[name](item, name, value)]
        start = (page - 1) * self.page_size
        chunk = items[start : start + self.page_size]
        more = start + self.page_size < len(items)
        next_url = str(request.url.copy_merge_params({"page": page + 1})) if more else None
        return httpx.Response(200, json={"count": len(items), "next": next_url, "previous": None, "results": chunk})


def _problem(status: int, code: str, detail: str) -> httpx.Response:
    body = {"type": "", "code": code, "title": detail, "status": status, "detail": detail, "instance": ""}
    return httpx.Response(status, content=json.dumps(body), headers={"Content-Type": "application/problem+json"})
