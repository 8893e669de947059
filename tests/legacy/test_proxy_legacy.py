"""Proxy mode over real HTTP with a legacy zaaksysteem on the other side: a second stuf-bridge in translate mode on
its own embedded backend. The gateway under test runs as a process of its own with every message routed to legacy,
and its own ZGW backend is a closed port: whatever works here was done by legacy."""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import STUF, ZKN

from ..operations import messages as zm
from ..operations.details_messages import geef_zaakdetails
from ..streaming.messages import Generated, base64_lines, headers, lezen, mtom, voeg_toe_parts
from ..streaming.test_http import read_back
from ..support.legacy import as_soap12, running_legacy, running_proxy
from ..support.server import memory_kib
from .conftest import gateway_fault

MB = 1 << 20
pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory from /proc")


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with running_legacy(tmp_path_factory.mktemp("legacy")) as endpoints:
        yield endpoints


@pytest.fixture(scope="module")
def proxy(legacy: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_proxy(tmp_path_factory.mktemp("gateway"), legacy) as url:
        yield url


def _soap(message: tuple[bytes, dict[str, str]], soap: str) -> tuple[bytes, dict[str, str]]:
    return as_soap12(*message) if soap == "1.2" else message


@pytest.mark.parametrize("soap", ["1.1", "1.2"])
@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
def test_creeer_zaak_then_details_through_the_proxy(proxy: str, dialect: str, soap: str) -> None:
    identificatie = f"0363ZKP{dialect[-1]}{soap[-1]}"
    body, hdrs = _soap(zm.creeer_zaak(dialect=dialect, identificatie=identificatie,
                                      referentienummer=f"proxy-{dialect}-{soap}"), soap)
    created = httpx.post(f"{proxy}/zds/OntvangAsynchroon", content=body, headers=hdrs, timeout=30)
    assert created.status_code == 200, created.text
    assert parse_answer(created.content).tag == f"{{{STUF}}}Bv03Bericht"
    body, hdrs = _soap(geef_zaakdetails(dialect=dialect, identificatie=identificatie), soap)
    details = httpx.post(f"{proxy}/zds/BeantwoordVraag", content=body, headers=hdrs, timeout=30)
    assert details.status_code == 200, details.text
    assert details.headers["content-type"].startswith("text/xml" if soap == "1.1" else "application/soap+xml")
    answer = parse_answer(details.content)
    assert answer.findtext(f".//{{{ZKN}}}object/{{{ZKN}}}identificatie") == identificatie


def test_legacy_stuf_fault_comes_back_unchanged(proxy: str, legacy: dict[str, str]) -> None:
    """A creeerZaak legacy refuses: its Fo03 comes back as it was written (only the reference and time it stamps on
    each fault differ from a second, direct copy), with its status code and its own reason."""
    answers = []
    for where, reference in ((f"{proxy}/zds/OntvangAsynchroon", "fout-1"), (legacy["OntvangAsynchroon"], "fout-2")):
        body, hdrs = zm.creeer_zaak(zaaktype="BESTAAT-NIET", identificatie="0363ZKFOUT", referentienummer=reference)
        answers.append(httpx.post(where, content=body, headers=hdrs, timeout=30))
    proxied, direct = answers
    assert proxied.status_code == direct.status_code == 500
    assert proxied.headers["content-type"] == direct.headers["content-type"]
    fault, reden = gateway_fault(proxied.content)
    assert (fault.code, fault.plek) == ("StUF058", "client") and reden != "legacy-unavailable"
    assert b"fout-1" in proxied.content  # legacy's crossRefnummer: the client's own reference
    assert _stamps(proxied.content).replace(b"fout-1", b"fout-2") == _stamps(direct.content)


def _stamps(body: bytes) -> bytes:
    """A Fo03 without the reference and time its sender stamps on each copy."""
    return re.sub(rb"<StUF:(referentienummer|tijdstipBericht)>[^<]*<", rb"<StUF:\1><", body)


def test_mtom_document_through_the_proxy(proxy: str) -> None:
    zaak, document = b"0363ZKMTOM", b"0363DMTOM"
    body, hdrs = zm.creeer_zaak(identificatie=zaak.decode(), referentienummer="mtom-zaak")
    assert httpx.post(f"{proxy}/zds/OntvangAsynchroon", content=body, headers=hdrs).status_code == 200
    before, after = (part.replace(b"0363ZK1", zaak).replace(b"0363D20240000001", document)
                     for part in voeg_toe_parts(referentienummer="mtom-doc"))
    content = bytes(range(256)) * 1024
    body, content_type = mtom(before, after, {"doc1@example.org": content})
    added = httpx.post(f"{proxy}/zds/OntvangAsynchroon", content=body, headers={"Content-Type": content_type})
    assert added.status_code == 200, added.text
    read = httpx.post(f"{proxy}/zds/BeantwoordVraag", content=lezen().replace(b"0363D20240000001", document),
                      headers=headers("geefZaakdocumentLezen_Lv01"), timeout=30)
    assert read.status_code == 200, read.text
    inhoud = parse_answer(read.content).find(f".//{{{ZKN}}}inhoud")
    assert inhoud is not None and inhoud.text is not None
    assert base64.b64decode(inhoud.text) == content


def test_large_document_through_the_proxy_both_ways_in_flat_memory(tmp_path: Path) -> None:
    """64 MiB (87 MB of base64) in with voegZaakdocumentToe and out with geefZaakdocumentLezen, through the proxy
    to a real legacy: byte-identical, and the gateway grows far less than the document."""
    pid: list[int] = []
    document = Generated(64 * MB, seed=7)
    with running_legacy(tmp_path / "legacy") as endpoints, running_proxy(tmp_path / "gateway", endpoints,
                                                                          pid=pid) as url:
        with httpx.Client(timeout=300) as client:
            body, zaak_headers = zm.creeer_zaak(identificatie="0363ZK1", referentienummer="groot-zaak")
            assert client.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=zaak_headers).status_code == 200
            before = memory_kib(pid[0])
            start, end = voeg_toe_parts(referentienummer="groot-doc")
            response = client.post(f"{url}/zds/OntvangAsynchroon", headers=headers(),
                                   content=itertools.chain([start], base64_lines(document.chunks()), [end]))
            assert response.status_code == 200, response.text
            decoder = read_back(client, url)
            after = memory_kib(pid[0])
    assert decoder.done and decoder.size == document.size
    assert decoder.digest.hexdigest() == document.hash.hexdigest()
    grown = (after["VmHWM"] - before["VmRSS"]) / 1024
    assert grown < 32, f"the proxy grew {grown:.0f} MiB for a 64 MiB document (87 MB of base64 each way)"
    print(f"proxy RSS: {before['VmRSS'] / 1024:.0f} MiB before, peak {after['VmHWM'] / 1024:.0f} MiB")
