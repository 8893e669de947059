"""The document chain over real HTTP: `stuf-bridge serve` in a subprocess with its embedded ZGW backend.

genereerDocumentIdentificatie → voegZaakdocumentToe → geefLijstZaakdocumenten → geefZaakdocumentLezen (the same
bytes) → checkout → updateZaakdocument with new content → geefZaakdocumentLezen (the new bytes) → a second
checkout ended by cancelCheckout → ontkoppelZaakdocument; and a document above the bestandsdelen threshold.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import STUF, ZDS, ZKN

from .operations import document_messages as dm
from .operations.messages import creeer_zaak
from .support.faults import stuf_fault
from .support.messages import di02
from .support.server import running_gateway
from .test_server import _zgw_headers

NS = {"ZKN": ZKN, "ZDS": ZDS, "StUF": STUF}


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_gateway(tmp_path_factory.mktemp("gateway-documenten") / "data") as url:
        yield url


def _post(url: str, service: str, message: tuple[bytes, dict[str, str]]) -> etree._Element:
    response = httpx.post(f"{url}/zds/{service}", content=message[0], headers=message[1], timeout=60)
    assert response.status_code == 200, response.text[:3000]
    return parse_answer(response.content)


def _fault(url: str, service: str, message: tuple[bytes, dict[str, str]]) -> tuple[str, str]:
    """(StUF code, reason) of the fault answer."""
    response = httpx.post(f"{url}/zds/{service}", content=message[0], headers=message[1], timeout=60)
    assert response.status_code == 500, response.text[:3000]
    return stuf_fault(response).codes


def _inhoud(answer: etree._Element) -> bytes:
    return base64.b64decode(answer.findtext(".//ZKN:antwoord/ZKN:object/ZKN:inhoud", namespaces=NS) or "")


def _documents(url: str, identificatie: str) -> list[dict]:
    response = httpx.get(f"{url}/zgw/documenten/api/v1/enkelvoudiginformatieobjecten",
                         params={"identificatie": identificatie}, headers=_zgw_headers())
    return response.json()["results"]


def test_document_chain_over_http(gateway_url: str) -> None:
    url = gateway_url
    zaak = "0363ZK-DOC-E2E-1"
    assert _post(url, "OntvangAsynchroon", creeer_zaak(identificatie=zaak, referentienummer="e2e-doc-zaak")).tag \
        == f"{{{STUF}}}Bv03Bericht"
    du02 = _post(url, "VrijeBerichten", di02("genereerDocumentIdentificatie", organisatie="0363",
                                              referentienummer="e2e-doc-genereer"))
    doc = du02.findtext("ZKN:document/ZKN:identificatie", namespaces=NS)
    assert doc and doc.startswith("0363")

    original = b"%PDF-1.4\n" + os.urandom(20_000) + b"\n%%EOF\n"
    bv03 = _post(url, "OntvangAsynchroon", dm.voeg_zaakdocument_toe(identificatie=doc, zaak=zaak, content=original,
                                                                    referentienummer="e2e-doc-voeg"))
    assert bv03.tag == f"{{{STUF}}}Bv03Bericht"

    lijst = _post(url, "BeantwoordVraag", dm.geef_lijst_zaakdocumenten(zaak=zaak))
    assert lijst.xpath("//ZKN:heeftRelevant/ZKN:gerelateerde/ZKN:identificatie/text()", namespaces=NS) == [doc]
    assert _inhoud(_post(url, "BeantwoordVraag", dm.geef_zaakdocument_lezen(identificatie=doc))) == original

    checkout = _post(url, "VrijeBerichten", dm.geef_zaakdocument_bewerken(identificatie=doc,
                                                                          referentienummer="e2e-doc-checkout"))
    lock = checkout.findtext("ZKN:parameters/ZKN:checkedOutId", namespaces=NS)
    assert lock and _inhoud(checkout) == original
    new = b"%PDF-1.4 versie 2\n" + os.urandom(10_000)
    bv02 = _post(url, "VrijeBerichten", dm.update_zaakdocument(identificatie=doc, checked_out_id=lock, content=new,
                                                              referentienummer="e2e-doc-checkin"))
    assert bv02.tag == f"{{{STUF}}}Bv02Bericht"
    lezen = _post(url, "BeantwoordVraag", dm.geef_zaakdocument_lezen(identificatie=doc))
    assert _inhoud(lezen) == new
    assert lezen.findtext(".//ZKN:object/ZKN:titel", namespaces=NS) == "Aanvraagformulier (bijgewerkt)"

    second = _post(url, "VrijeBerichten", dm.geef_zaakdocument_bewerken(identificatie=doc,
                                                                        referentienummer="e2e-doc-checkout-2"))
    lock2 = second.findtext("ZKN:parameters/ZKN:checkedOutId", namespaces=NS)
    assert lock2 and lock2 != lock
    assert [d["locked"] for d in _documents(url, doc)] == [True]
    _post(url, "VrijeBerichten", dm.cancel_checkout(identificatie=doc, checked_out_id=lock2,
                                                    referentienummer="e2e-doc-cancel"))
    assert [d["locked"] for d in _documents(url, doc)] == [False]

    _post(url, "VrijeBerichten", dm.ontkoppel_zaakdocument(identificatie=doc, zaak=zaak,
                                                           referentienummer="e2e-doc-ontkoppel"))
    [eio] = _documents(url, doc)
    zios = httpx.get(f"{url}/zgw/zaken/api/v1/zaakinformatieobjecten", params={"informatieobject": eio["url"]},
                     headers=_zgw_headers()).json()
    assert zios == []  # the relation is gone, the document stays
    lijst = _post(url, "BeantwoordVraag", dm.geef_lijst_zaakdocumenten(zaak=zaak))
    assert lijst.xpath("//ZKN:heeftRelevant", namespaces=NS) == []


def test_bad_input_over_http_leaves_nothing_behind(gateway_url: str) -> None:
    url = gateway_url
    zaak = "0363ZK-DOC-E2E-2"
    _post(url, "OntvangAsynchroon", creeer_zaak(identificatie=zaak, referentienummer="e2e-doc-zaak-2"))
    assert _fault(url, "OntvangAsynchroon", dm.voeg_zaakdocument_toe(
        identificatie="0363D-E2E-BAD-1", zaak=zaak, inhoud="JVBER!!", referentienummer="e2e-doc-bad-1"),
    ) == ("StUF055", "base64-invalid")
    assert _fault(url, "OntvangAsynchroon", dm.voeg_zaakdocument_toe(
        identificatie="0363D-E2E-BAD-2", zaak=zaak, dct="Bestaat niet", referentienummer="e2e-doc-bad-2"),
    ) == ("StUF058", "catalogue-not-found")
    assert _documents(url, "0363D-E2E-BAD-1") == [] and _documents(url, "0363D-E2E-BAD-2") == []


def test_document_above_the_threshold_goes_in_bestandsdelen_over_http(tmp_path: Path) -> None:
    env = {"STUF_BRIDGE_BESTANDSDELEN_THRESHOLD_BYTES": "1024"}
    with running_gateway(tmp_path / "data", env=env) as url:
        zaak = "0363ZK-DOC-E2E-3"
        _post(url, "OntvangAsynchroon", creeer_zaak(identificatie=zaak, referentienummer="e2e-big-zaak"))
        big = os.urandom(300_000)
        _post(url, "OntvangAsynchroon", dm.voeg_zaakdocument_toe(identificatie="0363D-E2E-BIG", zaak=zaak,
                                                                 content=big, referentienummer="e2e-big-voeg"))
        [eio] = _documents(url, "0363D-E2E-BIG")
        assert eio["bestandsomvang"] == len(big) and not eio["locked"]
        metrics = httpx.get(f"{url}/metrics").text  # the content went up as a bestandsdeel (PUT), not inline
        assert 'stuf_bridge_zgw_calls_total{api="documenten",method="PUT",status="200"}' in metrics
        assert _inhoud(_post(url, "BeantwoordVraag", dm.geef_zaakdocument_lezen(identificatie="0363D-E2E-BIG"))) \
            == big
