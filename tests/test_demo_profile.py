"""The demo profile is start-up configuration, not gateway logic: the same message with the same settings lands the
same on the embedded backend as on an external one, and only `serve` on the embedded backend without a configured
default_rsin fills in the demo RSIN (saying so)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from lxml import etree

from stuf_bridge.cli import completed, configure_logging
from stuf_bridge.settings import DEMO_RSIN, Settings
from stuf_bridge.stuf.namespaces import STUF
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.web.app import create_app
from stuf_bridge.zgw import ZgwClients
from stuf_bridge.zgw_embedded import DEMO_CATALOGUE, EmbeddedConfig
from stuf_bridge.zgw_embedded import create_app as create_embedded_app

from .operations.messages import creeer_zaak

GATEWAY = "http://gateway.test"
EXTERNAL = "http://zgw.test"
OWN_RSIN = "123456782"  # passes the 11-test, not the demo RSIN


class LateTransport(httpx.AsyncBaseTransport):
    """An ASGI transport to an app that exists only after the transport is handed out."""

    inner: httpx.AsyncBaseTransport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)


@asynccontextmanager
async def gateway(settings: Settings, schemas: Schemas, backend_dir: Path) -> AsyncIterator[Gateway]:
    """The gateway over ASGI. With ``zgw_url`` set, an embedded backend app of its own stands in for the external
    backend (reached at that URL, not mounted); without, the gateway mounts its embedded backend under /zgw."""
    transport = LateTransport()
    async with AsyncExitStack() as stack:
        if settings.zgw_embedded:
            app = create_app(settings, schemas=schemas, embedded_base=f"{GATEWAY}/zgw", zgw_transport=transport)
            transport.inner = httpx.ASGITransport(app=app)
        else:
            external = create_embedded_app(EmbeddedConfig(data_dir=backend_dir, client_id=settings.zgw_client_id,
                                                          secret=settings.zgw_secret, seed_file=DEMO_CATALOGUE))
            await stack.enter_async_context(external.router.lifespan_context(external))
            transport.inner = httpx.ASGITransport(app=external)
            app = create_app(settings, schemas=schemas, zgw_transport=transport)
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                                   base_url=GATEWAY))
        yield Gateway(client, app.state.gateway.zgw)


@dataclass
class Gateway:
    client: httpx.AsyncClient
    zgw: ZgwClients

    async def creeer_zaak(self) -> tuple[str | None, str | None]:
        """(StUF fault code, bronorganisatie of the zaak created) of one creeerZaak from organisatie 0363, which no
        mapping lists."""
        body, headers = creeer_zaak()
        response = await self.client.post("/zds/OntvangAsynchroon", content=body, headers=headers)
        code = etree.fromstring(response.content).findtext(f".//{{{STUF}}}body/{{{STUF}}}code")
        if code is not None:
            return code, None
        zaken = await self.zgw.zaken.list("zaken", {"identificatie": "0363ZK2024-000101"})
        assert len(zaken) == 1, response.text
        return None, zaken[0]["bronorganisatie"]


@pytest.mark.parametrize("backend", ["embedded", "external"])
async def test_without_default_rsin_an_unlisted_organisatie_faults_on_either_backend(
    backend: str, make_settings: Callable[..., Settings], schemas: Schemas, tmp_path: Path
) -> None:
    # demo=False: the settings as configured, as the gateway core sees them without the start-up's demo profile
    settings = make_settings(demo=False, **({"zgw_url": EXTERNAL} if backend == "external" else {}))
    async with gateway(settings, schemas, tmp_path / "external") as running:
        assert await running.creeer_zaak() == ("StUF013", None)


@pytest.mark.parametrize("backend", ["embedded", "external"])
async def test_an_explicit_default_rsin_lands_the_same_on_either_backend(
    backend: str, make_settings: Callable[..., Settings], schemas: Schemas, tmp_path: Path
) -> None:
    settings = make_settings(default_rsin=OWN_RSIN, **({"zgw_url": EXTERNAL} if backend == "external" else {}))
    assert settings.default_rsin == OWN_RSIN  # the demo profile leaves a configured value alone
    async with gateway(settings, schemas, tmp_path / "external") as running:
        assert await running.creeer_zaak() == (None, OWN_RSIN)


async def test_an_external_backend_never_gets_the_demo_profile(
    make_settings: Callable[..., Settings], schemas: Schemas, tmp_path: Path
) -> None:
    settings = make_settings(zgw_url=EXTERNAL)  # completed as `serve` completes them
    assert settings.default_rsin is None
    async with gateway(settings, schemas, tmp_path / "external") as running:
        assert await running.creeer_zaak() == ("StUF013", None)


async def test_the_demo_start_gets_the_demo_rsin_and_says_so(
    tmp_path: Path, schemas: Schemas, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("STUF_BRIDGE_") and k != "STUF_BRIDGE_SHARED"]:
        monkeypatch.delenv(key)
    configured = Settings(data_dir=tmp_path / "data", log_format="json")
    configure_logging(configured)
    settings = completed(configured)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert [line["event"] for line in lines] == ["demo_profile"]
    assert lines[0]["default_rsin"] == DEMO_RSIN
    assert configured.default_rsin is None and settings.default_rsin == DEMO_RSIN
    async with gateway(settings, schemas, tmp_path / "unused") as running:
        assert await running.creeer_zaak() == (None, DEMO_RSIN)
    capsys.readouterr()
    assert completed(Settings(data_dir=tmp_path, default_rsin=OWN_RSIN)).default_rsin == OWN_RSIN
    assert capsys.readouterr().err == ""  # nothing filled in, nothing said
