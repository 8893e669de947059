"""The gateway app with the embedded ZGW backend reached over ASGI (by URL, like any backend), and a transport
that can make one chosen ZGW request fail, for the compensation tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from stuf_bridge.gateway import Gateway, Reply
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.web.app import create_app
from stuf_bridge.zgw import ZgwClients

BASE = "http://gateway.test"


class FailingTransport(httpx.AsyncBaseTransport):
    """Passes requests to ``inner``; answers 500 to the ``nth`` request with ``method`` whose path ends with
    ``suffix`` once ``fail_on`` is set. A suffix ending in ``/*`` matches one more path segment (an item:
    ``/rollen/*`` is any ``/rollen/{uuid}``)."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.fail_on: tuple[str, str, int] | None = None
        self.seen = 0
        self.requests: list[tuple[str, str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # a streamed body (document content) is read here: the tests look at what was POSTed
        body = await request.aread() if request.method == "POST" else b""
        self.requests.append((request.method, request.url.path, body))
        if self.fail_on is not None:
            method, suffix, nth = self.fail_on
            if request.method == method and _matches(request.url.path.rstrip("/"), suffix):
                self.seen += 1
                if self.seen == nth:
                    return httpx.Response(
                        500,
                        json={"type": "about:blank", "code": "error", "title": "Ingebouwde testfout", "status": 500},
                        request=request,
                    )
        return await self.inner.handle_async_request(request)


def _matches(path: str, suffix: str) -> bool:
    if suffix.endswith("/*"):
        head, _, last = path.rpartition("/")
        return bool(last) and head.endswith(suffix[:-2])
    return path.endswith(suffix)


@dataclass
class Harness:
    client: httpx.AsyncClient
    zgw: ZgwClients
    transport: FailingTransport
    settings: Settings
    gateway: Gateway

    async def handle(self, body: bytes, headers: dict[str, str]) -> Reply:
        """Through the gateway object itself, to see what the HTTP answer does not show (the warnings)."""
        return await self.gateway.handle(
            Service.ONTVANG_ASYNCHROON, body, content_type=headers["Content-Type"], soap_action=headers["SOAPAction"]
        )

    async def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post("/zds/OntvangAsynchroon", content=body, headers=headers)

    def posted(self, suffix: str) -> list[dict[str, Any]]:
        """The JSON bodies the gateway POSTed to paths ending with ``suffix``."""
        return [
            json.loads(body)
            for method, path, body in self.transport.requests
            if method == "POST" and path.rstrip("/").endswith(suffix)
        ]

    async def all(self, resource: str, **params: str) -> list[dict[str, Any]]:
        return [item async for item in self.zgw.zaken.iterate(resource, params or None)]


@asynccontextmanager
async def running_harness(settings: Settings, schemas: Schemas) -> AsyncIterator[Harness]:
    """The gateway app for ``settings`` with the embedded backend, both over ASGI, ZGW calls through a
    ``FailingTransport``."""
    transport = FailingTransport(httpx.MockTransport(lambda request: httpx.Response(503)))  # replaced below
    app = create_app(settings, schemas=schemas, embedded_base=f"{BASE}/zgw", zgw_transport=transport)
    transport.inner = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    async with app.router.lifespan_context(app), client:
        yield Harness(client, app.state.gateway.zgw, transport, settings, app.state.gateway)


@pytest_asyncio.fixture
async def harness(make_settings: Callable[..., Settings], schemas: Schemas) -> AsyncIterator[Harness]:
    async with running_harness(make_settings(), schemas) as running:
        yield running


def profile_overlay(tmp_path: Path, profile: list[str]) -> Path:
    """A mapping overlay dir with a profile for MELDING-OR (``profile``: YAML lines of that profile)."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "profiles.yaml").write_text(
        "profiles:\n  defaults: {}\n  zaaktypen:\n    MELDING-OR:\n" + "".join(f"      {line}\n" for line in profile)
    )
    return overlay


@pytest_asyncio.fixture
async def closing_harness(
    make_settings: Callable[..., Settings], schemas: Schemas, tmp_path: Path
) -> AsyncIterator[Harness]:
    """A harness whose mapping overlay gives MELDING-OR a fallback resultaat, so that an eindstatus closes it."""
    overlay = profile_overlay(tmp_path, ["fallback_resultaat: Opgelost"])
    async with running_harness(make_settings(mappings_dir=overlay), schemas) as running:
        yield running
