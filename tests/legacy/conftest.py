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

from ..support.legacy import StandIn, closed_port, stand_in

ProxyApp = Callable[..., Any]


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with stand_in(slow_seconds=2.0) as legacy:
        yield legacy


@pytest_asyncio.fixture
async def proxy_app(make_client: Callable[..., Any], make_settings: Callable[..., Settings]) -> AsyncIterator[ProxyApp]:
    """``make(endpoints, **legacy_settings)`` → an httpx client talking ASGI to a gateway that proxies everything.
    Its ZGW backend is a closed port: a message that reached ZGW instead of legacy would fail."""

    async def make(endpoints: dict[str, str], **legacy: Any) -> httpx.AsyncClient:
        settings = make_settings(legacy={"endpoints": endpoints, **legacy}, zgw_url=closed_port(),
                                 routing={"default": "proxy"})
        client: httpx.AsyncClient = await make_client(settings)
        return client

    yield make


def gateway_fault(body: bytes) -> tuple[LegacyFault, str | None]:
    """The StUF fault in a gateway's fault answer (code, plek, omschrijving, details) and its reason."""
    root = etree.fromstring(body)
    fault_el = next(el for el in root.iter("*") if etree.QName(el).localname == "Fault")
    fault = stuf_fault(fault_el)
    assert fault is not None
    return fault, root.findtext(f".//{{{FOUT}}}reden")
