"""A ZGW call made for a message carries the message's correlation id (``X-Request-ID``), so that a line in the ZGW
backend's log can be matched to the message in the gateway's log."""

from __future__ import annotations

import httpx

from stuf_bridge import correlation

from .conftest import MakeClients


async def test_a_zgw_call_carries_the_message_id(make_clients: MakeClients) -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Request-ID"))
        return httpx.Response(200, json={"count": 0, "next": None, "previous": None, "results": []})

    zgw = make_clients(handler)
    with correlation.correlated("msg-7"):
        await zgw.zaken.list("zaken", {"identificatie": "Z-1"})
    await zgw.zaken.list("zaken", {"identificatie": "Z-2"})  # outside a message: no id to send
    assert seen == ["msg-7", None]
