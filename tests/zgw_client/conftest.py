"""Fixtures for the ZGW client tests: settings pointing at a fake backend, and clients over a MockTransport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from stuf_bridge.settings import Settings
from stuf_bridge.zgw import ZgwClients

from .fakes import BASE


@pytest.fixture
def zgw_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        zgw_url=BASE,
        zgw_client_id="gateway",
        zgw_secret="s3cret-s3cret-s3cret-s3cret-s3cret!",
        zgw_user_id="svc-stuf",
        zgw_user_representation="StUF-bridge",
    )


MakeClients = Callable[..., ZgwClients]


@pytest_asyncio.fixture
async def make_clients(zgw_settings: Settings) -> AsyncIterator[MakeClients]:
    """Build ZgwClients over a handler (sync or async ``request → response``) or a transport; closed afterwards."""
    made: list[ZgwClients] = []

    def make(handler: Any, settings: Settings | None = None, **kwargs: Any) -> ZgwClients:
        transport = handler if isinstance(handler, httpx.AsyncBaseTransport) else httpx.MockTransport(handler)
        clients = ZgwClients.from_settings(settings or zgw_settings, transport=transport, **kwargs)
        made.append(clients)
        return clients

    yield make
    for clients in made:
        await clients.aclose()
