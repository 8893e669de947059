"""The real gateway over real HTTP: `stuf-bridge serve` in a subprocess, talked to with httpx and zeep."""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
import zeep
from lxml import etree

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import STUF, ZDS, ZKN

from .support.messages import di02
from .support.server import running_gateway

NS = {"ZKN": ZKN, "ZDS": ZDS, "StUF": STUF}


def _zgw_headers() -> dict[str, str]:
    """Headers for reading the embedded ZGW API directly, with the demo credentials."""
    claims = {"iss": "test", "iat": int(time.time()), "client_id": "stuf-bridge", "user_id": "test",
              "user_representation": "test"}
    token = jwt.encode(claims, "stuf-bridge-demo-secret-not-for-production", algorithm="HS256")
    return {"Authorization": f"Bearer {token}", "Accept-Crs": "EPSG:4326"}


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_gateway(tmp_path_factory.mktemp("gateway") / "data") as url:
        yield url


@pytest.mark.parametrize("soap", ["1.1", "1.2"])
@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
def test_identifiers_over_http(gateway_url: str, soap: str, dialect: str) -> None:
    body, headers = di02(dialect=dialect, soap=soap, organisatie="0599", referentienummer=f"http-{dialect}-{soap}")
    response = httpx.post(f"{gateway_url}/zds/VrijeBerichten", content=body, headers=headers)
    assert response.status_code == 200, response.text
    envelope = etree.fromstring(response.content)
    assert envelope.tag.endswith("Envelope")
    assert ("soap-envelope" in envelope.tag) == (soap == "1.2")
    answer = parse_answer(response.content)
    container = "ZKN" if dialect == "1.1" else "ZDS"
    assert answer.tag == f"{{{NS[container]}}}genereerZaakIdentificatie_Du02"
    identificatie = answer.findtext(f"{container}:zaak/ZKN:identificatie", namespaces=NS)
    assert re.fullmatch(r"0599\d{4}\d{7}", identificatie)


def test_identifiers_are_consecutive_and_survive_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seen = []
    for run in range(2):  # the second run is a restart on the same data directory
        with running_gateway(data_dir) as url:
            for i in range(3):
                body, headers = di02(organisatie="0344", referentienummer=f"restart-{run}-{i}")
                response = httpx.post(f"{url}/zds/VrijeBerichten", content=body, headers=headers)
                seen.append(parse_answer(response.content).findtext("ZKN:zaak/ZKN:identificatie", namespaces=NS))
    assert [int(s[-7:]) for s in seen] == [1, 2, 3, 4, 5, 6]
    assert (data_dir / "stuf-bridge.sqlite3").is_file()


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
def test_zeep_loads_wsdl_and_calls_genereer_zaak_identificatie(gateway_url: str, dialect: str) -> None:
    wsdl = f"{gateway_url}/zds/VrijeBerichten?wsdl" + ("&dialect=1.2" if dialect == "1.2" else "")
    client = zeep.Client(wsdl, settings=zeep.Settings(strict=True))
    stuurgegevens = {
        "berichtcode": "Di02",
        "zender": {"organisatie": "0518", "applicatie": "zeep"},
        "ontvanger": {"applicatie": "stuf-bridge"},
        "referentienummer": str(uuid.uuid4()),
        "tijdstipBericht": "20241124120000000",
        "functie": "genereerZaakidentificatie",
    }
    result = client.service.genereerZaakIdentificatie_Di02(stuurgegevens=stuurgegevens)
    assert result.stuurgegevens.berichtcode == "Du02"
    identificatie = result.zaak.identificatie
    # ZKN:identificatie has simple content with StUF attributes, so zeep gives it a _value_1.
    assert getattr(identificatie, "_value_1", identificatie).startswith("0518")


def test_wsdl_addresses_point_at_the_gateway(gateway_url: str) -> None:
    response = httpx.get(f"{gateway_url}/zds/OntvangAsynchroon?wsdl")
    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    addresses = wsdl.xpath("//*[local-name()='address']/@location")
    assert addresses and all(a == f"{gateway_url}/zds/OntvangAsynchroon" for a in addresses)


def test_health_and_metrics(gateway_url: str) -> None:
    assert httpx.get(f"{gateway_url}/health").json() == {"status": "ok"}
    _body, headers = di02()
    httpx.post(f"{gateway_url}/zds/VrijeBerichten", content=b"<nonsense", headers=headers)
    metrics = httpx.get(f"{gateway_url}/metrics").text
    assert 'stuf_bridge_messages_total{code="StUF055",dialect="unknown",operation="unknown",outcome="fault"}' in metrics


# --- two gateway processes on one PostgreSQL: no identifier twice ---------------------------------------------


def _pg_admin_url() -> str:
    return os.environ.get("STUF_BRIDGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_database() -> Iterator[str]:
    import asyncpg

    admin = _pg_admin_url()
    name = f"stuf_bridge_it_{uuid.uuid4().hex[:10]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield admin.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.postgres
def test_two_gateways_on_one_postgresql_hand_out_no_duplicates(tmp_path: Path, pg_database: str) -> None:
    env = {"STUF_BRIDGE_DATABASE_URL": pg_database}
    per_gateway = 1000

    async def hammer(url: str, client: httpx.AsyncClient) -> list[str]:
        semaphore = asyncio.Semaphore(10)

        async def one(i: int) -> str:
            body, headers = di02(organisatie="1900", referentienummer=f"{url[-5:]}-{i}")
            async with semaphore:
                response = await client.post(f"{url}/zds/VrijeBerichten", content=body, headers=headers)
            assert response.status_code == 200, response.text
            return parse_answer(response.content).findtext("ZKN:zaak/ZKN:identificatie", namespaces=NS)

        return await asyncio.gather(*(one(i) for i in range(per_gateway)))

    async def both(url_a: str, url_b: str) -> list[str]:
        async with httpx.AsyncClient(timeout=30) as client:
            a, b = await asyncio.gather(hammer(url_a, client), hammer(url_b, client))
        return a + b

    with running_gateway(tmp_path / "a", env) as url_a, running_gateway(tmp_path / "b", env) as url_b:
        identifiers = asyncio.run(both(url_a, url_b))
    assert len(identifiers) == 2 * per_gateway
    assert len(set(identifiers)) == 2 * per_gateway, "duplicate identifiers handed out"
    assert sorted(int(i[-7:]) for i in identifiers) == list(range(1, 2 * per_gateway + 1))


def test_creeer_zaak_over_http_lands_in_the_embedded_backend(gateway_url: str) -> None:
    """genereerZaakIdentificatie → creeerZaak over real HTTP; the zaak is then read straight from the ZGW API that
    the same server offers under /zgw."""
    from .operations.messages import creeer_zaak

    body, headers = di02(organisatie="0363", referentienummer="e2e-genereer")
    identificatie = parse_answer(httpx.post(f"{gateway_url}/zds/VrijeBerichten", content=body,
                                            headers=headers).content).findtext("ZKN:zaak/ZKN:identificatie",
                                                                               namespaces=NS)
    body, headers = creeer_zaak(identificatie=identificatie, referentienummer="e2e-creeer")
    response = httpx.post(f"{gateway_url}/zds/OntvangAsynchroon", content=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert parse_answer(response.content).tag == f"{{{STUF}}}Bv03Bericht"

    zgw = _zgw_headers()
    zaken = httpx.get(f"{gateway_url}/zgw/zaken/api/v1/zaken", params={"identificatie": identificatie},
                      headers=zgw).json()
    assert zaken["count"] == 1
    zaak = zaken["results"][0]
    assert zaak["bronorganisatie"] == "002220647"  # the demo RSIN of the embedded configuration
    rollen = httpx.get(f"{gateway_url}/zgw/zaken/api/v1/rollen", params={"zaak": zaak["url"]}, headers=zgw).json()
    assert any(r["betrokkeneType"] == "natuurlijk_persoon" for r in rollen["results"])
    statussen = httpx.get(f"{gateway_url}/zgw/zaken/api/v1/statussen", params={"zaak": zaak["url"]},
                          headers=zgw).json()
    assert statussen["count"] == 1


def test_zgw_calls_are_counted_in_the_metrics(gateway_url: str) -> None:
    from .operations.messages import creeer_zaak

    body, headers = creeer_zaak(identificatie="0363ZK-METRICS-1", referentienummer="metrics-creeer")
    answer = httpx.post(f"{gateway_url}/zds/OntvangAsynchroon", content=body, headers=headers, timeout=30)
    assert answer.status_code == 200
    metrics = httpx.get(f"{gateway_url}/metrics").text
    assert 'stuf_bridge_zgw_calls_total{api="zaken",method="POST",status="201"}' in metrics


def test_zaak_lifecycle_over_http(gateway_url: str) -> None:
    """The issue's chain over real HTTP against the embedded backend: genereerZaakIdentificatie → creeerZaak →
    updateZaak → actualiseerZaakstatus (eindstatus) → geefZaakstatus → geefZaakdetails, then the zaak straight from
    the ZGW API."""
    from .operations.details_messages import geef_zaakdetails
    from .operations.messages import creeer_zaak
    from .operations.status_messages import actualiseer_zaakstatus, geef_zaakstatus
    from .operations.update_messages import open_formulieren_betaling, update_zaak

    def post(service: str, message: tuple[bytes, dict[str, str]]) -> etree._Element:
        response = httpx.post(f"{gateway_url}/zds/{service}", content=message[0], headers=message[1], timeout=30)
        assert response.status_code == 200, response.text
        return parse_answer(response.content)

    body, headers = di02(organisatie="0363", referentienummer="life-genereer")
    ident = post("VrijeBerichten", (body, headers)).findtext("ZKN:zaak/ZKN:identificatie", namespaces=NS)
    assert post("OntvangAsynchroon", creeer_zaak(identificatie=ident, referentienummer="life-creeer",
                                                 resultaat="Opgelost")).tag == f"{{{STUF}}}Bv03Bericht"
    post("OntvangAsynchroon", update_zaak(open_formulieren_betaling(ident), referentienummer="life-update"))
    post("OntvangAsynchroon", actualiseer_zaakstatus(identificatie=ident, omschrijving="Afgehandeld",
                                                     volgnummer="3", datum="20241107120000",
                                                     referentienummer="life-status"))
    status = post("BeantwoordVraag", geef_zaakstatus(identificatie=ident))
    assert status.findtext(".//ZKN:heeft/ZKN:gerelateerde/ZKN:omschrijving", namespaces=NS) == "Afgehandeld"
    assert status.findtext(".//ZKN:heeft/ZKN:datumStatusGezet", namespaces=NS) == "20241107120000000"
    details = post("BeantwoordVraag", geef_zaakdetails(identificatie=ident))
    assert details.findtext(".//ZKN:object/ZKN:identificatie", namespaces=NS) == ident
    assert details.findtext(".//ZKN:object/ZKN:einddatum", namespaces=NS) == "20241107"

    zgw = _zgw_headers()
    zaak = httpx.get(f"{gateway_url}/zgw/zaken/api/v1/zaken", params={"identificatie": ident},
                     headers=zgw).json()["results"][0]
    assert zaak["einddatum"] == "2024-11-07"
    assert zaak["betalingsindicatie"] == "geheel"
    statussen = httpx.get(f"{gateway_url}/zgw/zaken/api/v1/statussen", params={"zaak": zaak["url"]},
                          headers=zgw).json()["results"]
    gezet = sorted(s["datumStatusGezet"] for s in statussen)
    # Amsterdam wall-clock times, stored as the same instants (UTC in the answer)
    assert gezet[-1].startswith("2024-11-07T11:00:00")
