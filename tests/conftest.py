"""Shared fixtures: settings in a temporary data directory, and the gateway app with its lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from stuf_bridge.settings import Settings, load_settings, with_demo_profile
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.web.app import create_app

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def schemas() -> Schemas:
    import os

    xsd_dir = os.environ.get("STUF_BRIDGE_XSD_DIR")  # e.g. an official bundle; default: the project's xsd/
    return Schemas(Path(xsd_dir) if xsd_dir else None)


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    # The developer's own environment must not leak into tests.
    import os

    for key in list(os.environ):
        if key.startswith("STUF_BRIDGE_") and key not in ("STUF_BRIDGE_SHARED", "STUF_BRIDGE_TEST_PG_URL"):
            monkeypatch.delenv(key)

    def make(*, demo: bool = True, **overrides: Any) -> Settings:
        """Settings as `stuf-bridge serve` starts with them: on the embedded backend with no default_rsin, the demo
        profile applies (the tests' messages come from organisatie 0363, which no mapping lists). ``demo=False``:
        the settings as configured, nothing filled in."""
        overrides.setdefault("data_dir", tmp_path / "data")
        overrides.setdefault("log_format", "console")
        settings = load_settings(None, **overrides)
        return with_demo_profile(settings) if demo else settings

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest_asyncio.fixture
async def make_client(schemas: Schemas) -> AsyncIterator[Callable[..., Any]]:
    """Start an app for given settings (lifespan included; ``app`` are further ``create_app`` arguments, such as a
    router) and give an httpx client that talks ASGI to it."""
    stack: list[Any] = []

    async def make(settings: Settings, **app_arguments: Any) -> httpx.AsyncClient:
        app = create_app(settings, schemas=schemas, **app_arguments)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
        stack.append((lifespan, client))
        return client

    yield make
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest_asyncio.fixture
async def client(make_client: Callable[[Settings], Any], settings: Settings) -> httpx.AsyncClient:
    return await make_client(settings)
