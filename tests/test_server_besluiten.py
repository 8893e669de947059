"""The besluit operations over real HTTP: `stuf-bridge serve` in a subprocess with its embedded backend, then the
besluit read straight from the Besluiten API the same server offers under /zgw."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from lxml import etree

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import STUF, ZDS, ZKN
from stuf_bridge.stuf.validation import Schemas

from .operations.besluit_messages import (
    document,
    geef_besluitdetails,
    geef_lijst_besluiten,
    update_besluit,
    voeg_besluit_toe,
)
from .operations.messages import creeer_zaak
from .support.faults import stuf_fault
from .support.messages import di02
from .support.server import running_gateway

NS = {"ZKN": ZKN, "ZDS": ZDS, "StUF": STUF}
ZAAK = "0363ZK2024-BSL-E2E"


def _zgw_headers() -> dict[str, str]:
    """Headers for reading the embedded ZGW API directly, with the demo credentials."""
    claims = {"iss": "test", "iat": int(time.time()), "client_id": "stuf-bridge", "user_id": "test",
              "user_representation": "test"}
    token = jwt.encode(claims, "stuf-bridge-demo-secret-not-for-production", algorithm="HS256")
    return {"Authorization": f"Bearer {token}", "Accept-Crs": "EPSG:4326", "Content-Crs": "EPSG:4326"}


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_gateway(tmp_path_factory.mktemp("gateway-besluiten") / "data") as url:
        yield url


def _post(url: str, service: str, message: tuple[bytes, dict[str, str]], schemas: Schemas) -> etree._Element:
    response = httpx.post(f"{url}/zds/{service}", content=message[0], headers=message[1], timeout=30)
    assert response.status_code == 200, response.text
    answer = parse_answer(response.content)
    assert schemas.validate(answer) == [], etree.tostring(answer, pretty_print=True).decode()
    return answer


def _document(url: str, zaak: dict[str, Any], identificatie: str) -> dict[str, Any]:
    """The document made straight in the embedded Documenten API and related to the zaak (the document
    operations are built elsewhere)."""
    zgw = _zgw_headers()
    zaaktype = httpx.get(zaak["zaaktype"], headers=zgw).json()
    iots = [httpx.get(u, headers=zgw).json() for u in zaaktype["informatieobjecttypen"]]
    [iot] = [i for i in iots if i["omschrijving"] == "Beslissing op bezwaar"]
    eio = httpx.post(f"{url}/zgw/documenten/api/v1/enkelvoudiginformatieobjecten", headers=zgw, json={
        "identificatie": identificatie, "bronorganisatie": zaak["bronorganisatie"], "creatiedatum": "2024-11-08",
        "titel": "Beslissing op bezwaar", "auteur": "Team bezwaar", "taal": "dut", "formaat": "application/pdf",
        "informatieobjecttype": iot["url"], "bestandsnaam": "beslissing.pdf", "indicatieGebruiksrecht": False,
        "inhoud": base64.b64encode(b"%PDF-1.4 beslissing").decode(),
    })
    assert eio.status_code == 201, eio.text
    zio = httpx.post(f"{url}/zgw/zaken/api/v1/zaakinformatieobjecten", headers=zgw,
                     json={"zaak": zaak["url"], "informatieobject": eio.json()["url"]})
    assert zio.status_code == 201, zio.text
    return eio.json()


def test_besluit_lifecycle_over_http(gateway_url: str, schemas: Schemas) -> None:
    """creeerZaak → genereerBesluitIdentificatie → voegBesluitToe (with a document) → geefLijstBesluiten →
    updateBesluit (new vervaldatum and reden) → geefBesluitdetails; then the besluit from the Besluiten API."""
    zgw = _zgw_headers()
    assert _post(gateway_url, "OntvangAsynchroon", creeer_zaak(identificatie=ZAAK, zaaktype="BEZWAAR",
                                                              referentienummer="bsl-e2e-creeer"),
                 schemas).tag == f"{{{STUF}}}Bv03Bericht"
    zaak = httpx.get(f"{gateway_url}/zgw/zaken/api/v1/zaken", params={"identificatie": ZAAK},
                     headers=zgw).json()["results"][0]

    du02 = _post(gateway_url, "VrijeBerichten", di02("genereerBesluitIdentificatie", dialect="1.2",
                                                     organisatie="0363", referentienummer="bsl-e2e-genereer"), schemas)
    identificatie = du02.findtext("ZDS:besluit/ZKN:identificatie", namespaces=NS)
    assert identificatie and identificatie.startswith("0363")

    eio = _document(gateway_url, zaak, "0363DOC-BSL-E2E")
    assert _post(gateway_url, "OntvangAsynchroon", voeg_besluit_toe(
        identificatie=identificatie, zaak=ZAAK, bst_omschrijving="Beslissing op bezwaar", datum="20241110",
        documenten=document("0363DOC-BSL-E2E", dct="Beslissing op bezwaar"), referentienummer="bsl-e2e-voeg"),
        schemas).tag == f"{{{STUF}}}Bv03Bericht"

    lijst = _post(gateway_url, "BeantwoordVraag", geef_lijst_besluiten(ZAAK, referentienummer="bsl-e2e-lijst"),
                  schemas)
    assert lijst.xpath("//ZKN:leidtTot/ZKN:gerelateerde/ZKN:identificatie/text()", namespaces=NS) == [identificatie]
    assert lijst.findtext(".//ZKN:leidtTot/ZKN:gerelateerde/ZKN:bst.omschrijving", namespaces=NS) == (
        "Beslissing op bezwaar")

    _post(gateway_url, "OntvangAsynchroon", update_besluit(
        identificatie=identificatie, bst_omschrijving="Beslissing op bezwaar", referentienummer="bsl-e2e-update",
        old='<ZKN:einddatumWerking xsi:nil="true"/><ZKN:vervalreden xsi:nil="true"/>',
        new="<ZKN:einddatumWerking>20251231</ZKN:einddatumWerking>"
            "<ZKN:vervalreden>Besluit ingetrokken door overheid</ZKN:vervalreden>"), schemas)

    details = _post(gateway_url, "BeantwoordVraag", geef_besluitdetails(identificatie,
                                                                        referentienummer="bsl-e2e-details"), schemas)
    obj = details.find("ZKN:antwoord/ZKN:object", NS)
    assert obj.findtext("ZKN:identificatie", namespaces=NS) == identificatie
    assert obj.findtext("ZKN:bst.omschrijving", namespaces=NS) == "Beslissing op bezwaar"
    assert obj.findtext("ZKN:bst.categorie", namespaces=NS) == "bezwaar"
    assert obj.findtext("ZKN:bst.reactietermijn", namespaces=NS) == "42"
    assert obj.findtext("ZKN:datumBeslissing", namespaces=NS) == "20241110"
    assert obj.findtext("ZKN:einddatumWerking", namespaces=NS) == "20251231"
    assert obj.findtext("ZKN:vervalreden", namespaces=NS) == "Besluit ingetrokken door overheid"
    assert obj.findtext("ZKN:isUitkomstVan/ZKN:gerelateerde/ZKN:identificatie", namespaces=NS) == ZAAK
    assert obj.findtext("ZKN:isVastgelegdIn/ZKN:gerelateerde/ZKN:identificatie", namespaces=NS) == "0363DOC-BSL-E2E"

    # straight from the Besluiten API: what MAPPING.md §3.16 says the fields become
    besluiten = httpx.get(f"{gateway_url}/zgw/besluiten/api/v1/besluiten", params={"identificatie": identificatie},
                          headers=zgw).json()
    assert besluiten["count"] == 1
    besluit = besluiten["results"][0]
    assert besluit["verantwoordelijkeOrganisatie"] == zaak["bronorganisatie"]  # the sender's RSIN
    assert besluit["zaak"] == zaak["url"]
    assert (besluit["datum"], besluit["ingangsdatum"], besluit["vervaldatum"]) == (
        "2024-11-10", "2024-11-10", "2025-12-31")
    assert besluit["vervalreden"] == "ingetrokken_overheid"
    besluittype = httpx.get(besluit["besluittype"], headers=zgw).json()
    assert besluittype["omschrijving"] == "Beslissing op bezwaar"
    assert besluittype["url"] in httpx.get(zaak["zaaktype"], headers=zgw).json()["besluittypen"]
    bios = httpx.get(f"{gateway_url}/zgw/besluiten/api/v1/besluitinformatieobjecten",
                     params={"besluit": besluit["url"]}, headers=zgw).json()
    assert [b["informatieobject"] for b in bios] == [eio["url"]]
    zaakbesluiten = httpx.get(f"{zaak['url']}/besluiten", headers=zgw).json()
    assert [zb["besluit"] for zb in zaakbesluiten] == [besluit["url"]]


def test_voeg_besluit_toe_fault_over_http(gateway_url: str) -> None:
    """An unknown zaak is a Fo03 StUF058 over HTTP (500, faultcode Client) and leaves no besluit."""
    body, headers = voeg_besluit_toe(identificatie="0363BS-E2E-FOUT", zaak="0363ZK-BESTAAT-NIET",
                                     referentienummer="bsl-e2e-fout")
    response = httpx.post(f"{gateway_url}/zds/OntvangAsynchroon", content=body, headers=headers, timeout=30)
    assert response.status_code == 500
    root = etree.fromstring(response.content)
    assert root.findtext(".//faultcode").endswith("Client")
    assert stuf_fault(root).codes == ("StUF058", "zaak-not-found")
    besluiten = httpx.get(f"{gateway_url}/zgw/besluiten/api/v1/besluiten",
                          params={"identificatie": "0363BS-E2E-FOUT"}, headers=_zgw_headers()).json()
    assert besluiten["count"] == 0
