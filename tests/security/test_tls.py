"""HTTPS served by the gateway itself, with client certificates (made here with ``cryptography``): a known
certificate's subject is a client, an unknown one is refused, and so is a request without one."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import STUF

from ..operations.messages import creeer_zaak
from ..support.server import running_gateway
from .certs import Authority, Issued
from .helpers import CERT_SUBJECT, clients_config, internal_url, zgw_headers

pytest.importorskip("cryptography")
NS = {"StUF": STUF}


class Tls:
    def __init__(self, url: str, internal: str, authority: Authority, known: Issued, unknown: Issued):
        self.url, self.internal, self.authority, self.known, self.unknown = url, internal, authority, known, unknown

    def context(self, client: Issued | None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.authority.issued.cert))
        if client is not None:
            context.load_cert_chain(str(client.cert), str(client.key))
        return context


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tls]:
    directory = tmp_path_factory.mktemp("tls")
    authority = Authority(directory)
    server = authority.issue("server", "127.0.0.1", "Gateway", server=True)
    known = authority.issue("zaaksysteem", "zaaksysteem", "Gemeente Test")
    unknown = authority.issue("vreemd", "vreemd", "Elders")
    config = directory / "config.yaml"
    config.write_text(yaml.safe_dump({
        "clients": clients_config(),
        "security": {"tls": {"certificate": str(server.cert), "key": str(server.key),
                             "client_ca": str(authority.issued.cert)}},
    }), encoding="utf-8")
    log: list[str] = []
    with running_gateway(directory / "data", env={"STUF_BRIDGE_CONFIG": str(config)}, log=log) as url:
        assert url.startswith("https://")
        yield Tls(url, internal_url(log), authority, known, unknown)


def _post(tls: Tls, client: Issued | None, ident: str) -> httpx.Response:
    body, headers = creeer_zaak(identificatie=ident, referentienummer=ident)
    with httpx.Client(verify=tls.context(client), timeout=30) as http:
        return http.post(f"{tls.url}/zds/OntvangAsynchroon", content=body, headers=headers)


def test_a_known_client_certificate_is_a_client(tls: Tls) -> None:
    response = _post(tls, tls.known, "0363TLS-KNOWN")
    assert response.status_code == 200, response.text
    assert parse_answer(response.content).tag == f"{{{STUF}}}Bv03Bericht"
    zaken = httpx.get(f"{tls.internal}/zgw/zaken/api/v1/zaken", params={"identificatie": "0363TLS-KNOWN"},
                      headers=zgw_headers()).json()
    assert zaken["count"] == 1
    assert CERT_SUBJECT.startswith("CN=zaaksysteem")


@pytest.mark.parametrize("which", ["unknown", "none"])
def test_an_unknown_or_missing_certificate_is_refused(tls: Tls, which: str) -> None:
    client = tls.unknown if which == "unknown" else None
    response = _post(tls, client, f"0363TLS-{which}")
    assert response.status_code == 401
    assert parse_answer(response.content).findtext(".//StUF:code", namespaces=NS) == "StUF052"
    zaken = httpx.get(f"{tls.internal}/zgw/zaken/api/v1/zaken", params={"identificatie": f"0363TLS-{which}"},
                      headers=zgw_headers()).json()
    assert zaken["count"] == 0


def test_a_certificate_from_another_ca_fails_the_handshake(tls: Tls, tmp_path: Path) -> None:
    stranger = Authority(tmp_path, "Other CA").issue("x", "zaaksysteem", "Gemeente Test")
    with pytest.raises(httpx.HTTPError):
        _post(tls, stranger, "0363TLS-OTHER-CA")
