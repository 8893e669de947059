"""TLS per ZGW API (``zgw_api_tls`` over ``zgw_tls``) against a real HTTPS backend: ``stuf-bridge zgw serve`` with a
server certificate and client certificates required, all made in the test with ``cryptography``.

An API with its own CA bundle and client certificate gets through; an API left on the general settings does not
(the general settings miss the CA, or the client certificate); what an API does not set comes from the general
settings field by field."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stuf_bridge.security.config import BackendTls
from stuf_bridge.settings import Settings
from stuf_bridge.zgw import ZgwClients, ZgwError

from ..support.server import running_gateway
from .certs import Authority, Issued

pytest.importorskip("cryptography")


@dataclass
class Backend:
    url: str
    ca: Path  # the CA that signs the backend's server certificate and the accepted client certificates
    client: Issued  # a client certificate the backend accepts
    stranger: Issued  # a client certificate of another CA


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    directory = tmp_path_factory.mktemp("backend-tls")
    authority = Authority(directory, "Backend CA")
    server = authority.issue("server", "127.0.0.1", "ZGW", server=True)
    client = authority.issue("gateway", "stuf-bridge", "Gemeente Test")
    stranger = Authority(directory, "Other CA").issue("stranger", "stuf-bridge", "Elders")
    security = {"tls": {"certificate": str(server.cert), "key": str(server.key),
                        "client_ca": str(authority.issued.cert), "require_client_certificate": True}}
    with running_gateway(directory / "data", env={"STUF_BRIDGE_SECURITY": json.dumps(security)},
                         command=("zgw", "serve"), timeout=120) as url:
        assert url.startswith("https://"), url
        yield Backend(url, authority.issued.cert, client, stranger)


def _reach(backend: Backend, **tls: Any) -> dict[str, str]:
    """Per API: ``ok`` when a list call got an answer, else the error's text."""
    settings = Settings(zgw_url=backend.url, zgw_get_retries=0, **tls)

    async def run() -> dict[str, str]:
        outcome: dict[str, str] = {}
        async with ZgwClients.from_settings(settings) as zgw:
            for api, resource in (("zaken", "zaken"), ("documenten", "enkelvoudiginformatieobjecten"),
                                  ("catalogi", "zaaktypen"), ("besluiten", "besluiten")):
                try:
                    await zgw.api(api).list(resource, max_items=1)
                    outcome[api] = "ok"
                except ZgwError as exc:
                    outcome[api] = str(exc)
        return outcome

    return asyncio.run(run())


def _own(backend: Backend, client: Issued | None = None, ca: bool = True) -> dict[str, Any]:
    tls: dict[str, Any] = {"ca_bundle": str(backend.ca)} if ca else {}
    if client is not None:
        tls.update(client_certificate=str(client.cert), client_key=str(client.key))
    return tls


def test_an_api_with_its_own_ca_and_certificate_gets_through_the_others_do_not(backend: Backend) -> None:
    reached = _reach(backend, zgw_api_tls={"zaken": _own(backend, backend.client),
                                           "catalogi": _own(backend, backend.client)})
    assert reached["zaken"] == "ok" and reached["catalogi"] == "ok", reached
    assert reached["documenten"] != "ok" and reached["besluiten"] != "ok", reached  # system CAs: not trusted


def test_an_api_without_its_own_client_certificate_is_refused_by_the_backend(backend: Backend) -> None:
    reached = _reach(backend, zgw_tls=_own(backend),  # the CA for all, the client certificate for zaken only
                     zgw_api_tls={"zaken": _own(backend, backend.client, ca=False)})
    assert reached["zaken"] == "ok", reached  # its CA came from zgw_tls
    assert all(reached[api] != "ok" for api in ("documenten", "catalogi", "besluiten")), reached


def test_the_general_settings_serve_every_api_and_an_api_may_override_them(backend: Backend) -> None:
    reached = _reach(backend, zgw_tls=_own(backend, backend.client),
                     zgw_api_tls={"besluiten": _own(backend, backend.stranger, ca=False)})
    assert [api for api, what in reached.items() if what != "ok"] == ["besluiten"], reached


def test_per_api_settings_fall_back_field_by_field(tmp_path: Path) -> None:
    files = {name: tmp_path / name for name in ("ca.pem", "other-ca.pem", "c.pem", "k.pem")}
    for path in files.values():
        path.write_text("x")
    general = BackendTls(ca_bundle=files["ca.pem"], client_certificate=files["c.pem"], client_key=files["k.pem"])
    settings = Settings(zgw_tls=general, zgw_api_tls={"zaken": {"ca_bundle": str(files["other-ca.pem"])},
                                                      "documenten": {"verify": False}})
    zaken, documenten, catalogi = (settings.zgw_tls_for(api) for api in ("zaken", "documenten", "catalogi"))
    assert (zaken.ca_bundle, zaken.client_certificate, zaken.client_key) == (
        files["other-ca.pem"], files["c.pem"], files["k.pem"])
    assert documenten.ca_bundle == files["ca.pem"] and documenten.verify is False
    assert catalogi is general
    with pytest.raises(ValueError, match="unknown APIs"):
        Settings(zgw_api_tls={"zaakjes": {}})


def test_a_legacy_endpoint_with_its_own_tls_gets_through_the_others_do_not(backend: Backend) -> None:
    from stuf_bridge.legacy.client import LegacyClient
    from stuf_bridge.legacy.errors import LegacyError
    from stuf_bridge.stuf.registry import Service

    endpoints = {service.value: f"{backend.url}/zds/{service.value}"
                 for service in (Service.BEANTWOORD_VRAAG, Service.ONTVANG_ASYNCHROON, Service.VRIJE_BERICHTEN)}
    legacy = {"endpoints": endpoints, "ca_bundle": str(backend.ca),  # the CA for all; a client certificate for one
              "tls": {"BeantwoordVraag": {"client_certificate": str(backend.client.cert),
                                          "client_key": str(backend.client.key)},
                      "VrijeBerichten": {"client_certificate": str(backend.stranger.cert),
                                         "client_key": str(backend.stranger.key)}}}

    async def run() -> dict[str, str]:
        outcome: dict[str, str] = {}
        async with LegacyClient(Settings(legacy=legacy)) as client:
            for service in (Service.BEANTWOORD_VRAAG, Service.ONTVANG_ASYNCHROON, Service.VRIJE_BERICHTEN):
                try:
                    outcome[service.value] = await client.probe(service)
                except LegacyError as exc:
                    outcome[service.value] = f"error: {exc}"
        return outcome

    reached = asyncio.run(run())
    assert reached["BeantwoordVraag"].startswith("lege POST: HTTP"), reached  # through TLS: the backend answered
    assert reached["OntvangAsynchroon"].startswith("error"), reached  # no client certificate: refused
    assert reached["VrijeBerichten"].startswith("error"), reached  # a certificate of another CA: refused
