"""Fixtures for the side-by-side tests: the fault-injecting stand-in, and a proxying gateway in this process
(ASGI in front, real HTTP behind it to the legacy side)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from lxml import etree

from stuf_bridge.legacy.answers import LegacyFault, stuf_fault
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import FOUT
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.web.app import create_app

from ..support.legacy import StandIn, closed_port, stand_in
from ..support.legacy_gateway import ProxyAll

ProxyApp = Callable[..., Any]


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with stand_in(slow_seconds=2.0) as legacy:
        yield legacy


@pytest_asyncio.fixture
async def proxy_app(schemas: Schemas, make_settings: Callable[..., Settings]) -> AsyncIterator[ProxyApp]:
    """``make(endpoints, **legacy_settings)`` → an httpx client talking ASGI to a gateway that proxies everything.
    Its ZGW backend is a closed port: a message that reached ZGW instead of legacy would fail."""
    stack: list[Any] = []

    async def make(endpoints: dict[str, str], **legacy: Any) -> httpx.AsyncClient:
        settings = make_settings(legacy={"endpoints": endpoints, **legacy}, zgw_url=closed_port())
        app = create_app(settings, schemas=schemas, router=ProxyAll())
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
        stack.append((lifespan, client))
        return client

    yield make
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


def gateway_fault(body: bytes) -> tuple[LegacyFault, str | None]:
    """The StUF fault in a gateway's fault answer (code, plek, omschrijving, details) and its reason."""
    root = etree.fromstring(body)
    fault_el = next(el for el in root.iter("*") if etree.QName(el).localname == "Fault")
    fault = stuf_fault(fault_el)
    assert fault is not None
    return fault, root.findtext(f".//{{{FOUT}}}reden")
