"""Authentication and authorisation over real HTTP (``stuf-bridge serve`` in a subprocess with clients configured):
each way of authenticating accepted and refused, StUF052 with nothing written, a scoped read, the audit toelichting
in the embedded backend, and the internal port."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import httpx
import pytest

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import STUF, ZKN

from ..operations.details_messages import geef_zaakdetails
from ..operations.messages import creeer_zaak
from ..operations.status_messages import actualiseer_zaakstatus
from ..operations.update_messages import update_zaak, zaak_object
from ..support.server import running_gateway
from .helpers import (
    ALLES_PASSWORD,
    BEPERKT_PASSWORD,
    PORTAAL_PASSWORD,
    WSSE_PASSWORD,
    internal_url,
    with_token,
    write_config,
    zgw_headers,
)

NS = {"ZKN": ZKN, "StUF": STUF}


class Gateway:
    def __init__(self, url: str, internal: str):
        self.url = url
        self.internal = internal

    def post(self, service: str, message: tuple[bytes, dict[str, str]], **kwargs: object) -> httpx.Response:
        return httpx.post(f"{self.url}/zds/{service}", content=message[0], headers=message[1], timeout=30,
                          **kwargs)  # type: ignore[arg-type]

    def zaken(self, identificatie: str) -> list[dict[str, object]]:
        answer = httpx.get(f"{self.internal}/zgw/zaken/api/v1/zaken", params={"identificatie": identificatie},
                           headers=zgw_headers(), timeout=30)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["results"])


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("secured")
    config = write_config(directory)
    log: list[str] = []
    with running_gateway(directory / "data", env={"STUF_BRIDGE_CONFIG": str(config)}, log=log) as url:
        yield Gateway(url, internal_url(log))


def fault(response: httpx.Response) -> tuple[str | None, str | None]:
    message = parse_answer(response.content)
    return message.findtext(".//StUF:code", namespaces=NS), message.findtext(".//StUF:details", namespaces=NS)


def test_without_credentials_401_with_a_soap_fault(gateway: Gateway) -> None:
    response = gateway.post("OntvangAsynchroon", creeer_zaak(identificatie="0363SEC-NONE", referentienummer="none"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    code, details = fault(response)
    assert code == "StUF052"
    assert "inloggegevens" in (details or "")
    assert gateway.zaken("0363SEC-NONE") == []


@pytest.mark.parametrize(("user", "password"), [("portaal", "fout"), ("onbekend", PORTAAL_PASSWORD)])
def test_basic_wrong_password_or_user_refused(gateway: Gateway, user: str, password: str) -> None:
    ident = f"0363SEC-WRONG-{user}"
    response = gateway.post("OntvangAsynchroon", creeer_zaak(identificatie=ident, referentienummer=ident),
                            auth=(user, password))
    assert response.status_code == 401
    assert fault(response)[0] == "StUF052"
    assert PORTAAL_PASSWORD not in response.text
    assert gateway.zaken(ident) == []


def test_basic_with_a_hashed_password_accepted(gateway: Gateway) -> None:
    response = gateway.post("OntvangAsynchroon", creeer_zaak(identificatie="0363SEC-BASIC",
                                                             referentienummer="basic-ok"),
                            auth=("portaal", PORTAAL_PASSWORD))
    assert response.status_code == 200, response.text
    assert parse_answer(response.content).tag == f"{{{STUF}}}Bv03Bericht"
    assert len(gateway.zaken("0363SEC-BASIC")) == 1


@pytest.mark.parametrize("digest", [True, False], ids=["PasswordDigest", "PasswordText"])
def test_usernametoken_accepted(gateway: Gateway, digest: bool) -> None:
    ident = f"0363SEC-WSSE-{digest}"
    body, headers = creeer_zaak(identificatie=ident, referentienummer=ident)
    response = gateway.post("OntvangAsynchroon",
                            (with_token(body, "formulieren", WSSE_PASSWORD, digest=digest), headers))
    assert response.status_code == 200, response.text
    assert len(gateway.zaken(ident)) == 1


def test_usernametoken_wrong_password_replayed_nonce_and_expired_created_refused(gateway: Gateway) -> None:
    body, headers = creeer_zaak(identificatie="0363SEC-REPLAY", referentienummer="replay")
    wrong = gateway.post("OntvangAsynchroon", (with_token(body, "formulieren", "fout"), headers))
    assert wrong.status_code == 401
    nonce = os.urandom(16)
    first = gateway.post("OntvangAsynchroon", (with_token(body, "formulieren", WSSE_PASSWORD, nonce=nonce), headers))
    assert first.status_code == 200, first.text
    # the same token again (a captured message replayed): refused, even though the body is a valid resend
    created = dt.datetime.now(dt.UTC)
    again = with_token(body, "formulieren", WSSE_PASSWORD, nonce=os.urandom(16), created=created)
    assert gateway.post("OntvangAsynchroon", (again, headers)).status_code == 200
    replay = gateway.post("OntvangAsynchroon", (again, headers))
    assert replay.status_code == 401
    assert "al gebruikt" in (fault(replay)[1] or "") or "Nonce" in (fault(replay)[1] or "")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    expired = gateway.post("OntvangAsynchroon",
                           (with_token(body, "formulieren", WSSE_PASSWORD, created=old), headers))
    assert expired.status_code == 401
    assert "Created" in (fault(expired)[1] or "")


def test_acting_as_another_zender_is_stuf052_and_nothing_written(gateway: Gateway) -> None:
    body, headers = creeer_zaak(identificatie="0363SEC-ZENDER", referentienummer="zender", organisatie="0599")
    response = gateway.post("OntvangAsynchroon", (body, headers), auth=("portaal", PORTAAL_PASSWORD))
    assert response.status_code == 500
    message = parse_answer(response.content)
    assert message.find(".//StUF:Fo03Bericht", namespaces=NS) is not None
    assert message.findtext(".//StUF:code", namespaces=NS) == "StUF052"
    assert gateway.zaken("0363SEC-ZENDER") == []


def test_operation_and_zaaktype_outside_the_client_are_stuf052(gateway: Gateway) -> None:
    body, headers = creeer_zaak(identificatie="0363SEC-ZKT", referentienummer="zkt", zaaktype="OMGEVINGSVERGUNNING")
    response = gateway.post("OntvangAsynchroon", (body, headers), auth=("beperkt", BEPERKT_PASSWORD))
    assert response.status_code == 500
    assert fault(response)[0] == "StUF052"
    assert gateway.zaken("0363SEC-ZKT") == []
    # formulieren may only creeerZaak and genereerZaakIdentificatie
    body, headers = geef_zaakdetails(identificatie="0363SEC-BASIC")
    response = gateway.post("BeantwoordVraag", (with_token(body, "formulieren", WSSE_PASSWORD), headers))
    assert fault(response)[0] == "StUF052"


def test_scoped_read_of_another_zaaktype_is_a_la01_without_antwoord(gateway: Gateway) -> None:
    body, headers = creeer_zaak(identificatie="0363SEC-VERGUNNING", referentienummer="vergunning",
                                zaaktype="OMGEVINGSVERGUNNING")
    assert gateway.post("OntvangAsynchroon", (body, headers), auth=("alles", ALLES_PASSWORD)).status_code == 200
    question = geef_zaakdetails(identificatie="0363SEC-VERGUNNING")
    scoped = gateway.post("BeantwoordVraag", question, auth=("beperkt", BEPERKT_PASSWORD))
    assert scoped.status_code == 200, scoped.text
    assert parse_answer(scoped.content).find(".//ZKN:antwoord", namespaces=NS) is None
    # the same answer as for a zaak that does not exist: nothing tells them apart
    missing = gateway.post("BeantwoordVraag", geef_zaakdetails(identificatie="0363SEC-BESTAAT-NIET"),
                           auth=("beperkt", BEPERKT_PASSWORD))
    assert parse_answer(missing.content).find(".//ZKN:antwoord", namespaces=NS) is None
    full = gateway.post("BeantwoordVraag", question, auth=("alles", ALLES_PASSWORD))
    assert full.status_code == 200
    assert parse_answer(full.content).findtext(".//ZKN:antwoord/ZKN:object/ZKN:identificatie",
                                               namespaces=NS) == "0363SEC-VERGUNNING"
    # a write to that zaak by the scoped client: refused, exactly as for a zaak that does not exist
    answers = []
    for ident in ("0363SEC-VERGUNNING", "0363SEC-BESTAAT-NIET"):
        write = gateway.post("OntvangAsynchroon", actualiseer_zaakstatus(
            identificatie=ident, omschrijving="Afgehandeld", volgnummer="3", datum="20241107120000",
            referentienummer=f"scoped-{ident}"), auth=("beperkt", BEPERKT_PASSWORD))
        assert write.status_code == 500
        answers.append(fault(write))
    assert answers[0] == answers[1]
    assert answers[0][0] == "StUF052"
    zaak = gateway.zaken("0363SEC-VERGUNNING")[0]
    statussen = httpx.get(f"{gateway.internal}/zgw/zaken/api/v1/statussen", params={"zaak": zaak["url"]},
                          headers=zgw_headers()).json()
    assert statussen["count"] == 1  # only the one creeerZaak set
    # naming an allowed zaaktype in the message does not make the zaak one of it
    lying = zaak_object("0363SEC-VERGUNNING", '<ZKN:omschrijving>gewijzigd</ZKN:omschrijving>'
                        '<ZKN:isVan StUF:entiteittype="ZAKZKT" StUF:verwerkingssoort="T">'
                        '<ZKN:gerelateerde StUF:entiteittype="ZKT" StUF:verwerkingssoort="I">'
                        '<ZKN:code>MELDING-OR</ZKN:code></ZKN:gerelateerde></ZKN:isVan>')
    refused = gateway.post("OntvangAsynchroon", update_zaak(lying, referentienummer="liegt"),
                           auth=("beperkt", BEPERKT_PASSWORD))
    assert fault(refused)[0] == "StUF052"
    assert gateway.zaken("0363SEC-VERGUNNING")[0]["omschrijving"] != "gewijzigd"
    # and its own zaaktype it reads in full
    body, headers = creeer_zaak(identificatie="0363SEC-MELDING", referentienummer="melding")
    assert gateway.post("OntvangAsynchroon", (body, headers), auth=("alles", ALLES_PASSWORD)).status_code == 200
    own = gateway.post("BeantwoordVraag", geef_zaakdetails(identificatie="0363SEC-MELDING"),
                       auth=("beperkt", BEPERKT_PASSWORD))
    assert parse_answer(own.content).findtext(".//ZKN:antwoord/ZKN:object/ZKN:identificatie",
                                              namespaces=NS) == "0363SEC-MELDING"


def test_audit_toelichting_names_zender_referentienummer_and_client(gateway: Gateway) -> None:
    response = gateway.post("OntvangAsynchroon", creeer_zaak(identificatie="0363SEC-AUDIT",
                                                             referentienummer="audit-ref-1"),
                            auth=("portaal", PORTAAL_PASSWORD))
    assert response.status_code == 200, response.text
    zaak = gateway.zaken("0363SEC-AUDIT")[0]
    uuid = str(zaak["url"]).rstrip("/").rsplit("/", 1)[1]
    trail = httpx.get(f"{gateway.internal}/zgw/zaken/api/v1/zaken/{uuid}/audittrail", headers=zgw_headers()).json()
    assert trail, "no audit trail entries"
    toelichtingen = [entry["toelichting"] for entry in trail]
    assert all(t and "zender 0363/OpenFormulieren" in t for t in toelichtingen), toelichtingen
    assert all("referentienummer audit-ref-1" in t and "client portaal" in t for t in toelichtingen)
    assert {entry["actie"] for entry in trail} >= {"create"}


def test_internal_paths_only_on_the_internal_port(gateway: Gateway) -> None:
    assert httpx.get(f"{gateway.url}/metrics").status_code == 404
    assert httpx.get(f"{gateway.url}/zgw/zaken/api/v1/zaken", headers=zgw_headers()).status_code == 404
    assert httpx.get(f"{gateway.url}/health").status_code == 200
    assert httpx.get(f"{gateway.internal}/metrics").status_code == 200
    assert httpx.post(f"{gateway.internal}/zds/OntvangAsynchroon", content=b"<x/>").status_code == 404


def test_stranger_body_is_not_parsed(gateway: Gateway) -> None:
    """Basic credentials that are wrong are refused before the body is read: garbage gets the 401, not StUF055."""
    response = httpx.post(f"{gateway.url}/zds/OntvangAsynchroon", content=b"<niet-eens-xml",
                          headers={"content-type": "text/xml"}, auth=("portaal", "fout"))
    assert response.status_code == 401


