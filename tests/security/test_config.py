"""Clients' configuration, the trusted proxy header, source addresses, the demo secret beyond loopback and the
start-up warning, `stuf-bridge hash-password` (ASGI and CLI; the real-HTTP cases are in test_http.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from pydantic import ValidationError

from stuf_bridge.gateway import parse_answer
from stuf_bridge.security.identity import parse_subject, subject_from_ssl
from stuf_bridge.security.passwords import PasswordCheck, hash_password
from stuf_bridge.security.config import BasicCredentials
from stuf_bridge.security.serving import StartRefused, check_start
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import STUF

from ..support.messages import di02
from .helpers import CERT_SUBJECT

NS = {"StUF": STUF}
HEADER = "X-SSL-Client-S-DN"


def _client(**more: Any) -> dict[str, Any]:
    return {"name": "c", "basic": {"username": "u", "password": "p"}, **more}


@pytest.mark.parametrize(("clients", "message"), [
    ([{"name": "c"}], "no way to authenticate"),
    ([{"name": "c", "wsse": {"username": "u", "password_hash": "$argon2id$x"}}], "needs the password itself"),
    ([{"name": "c", "basic": {"username": "u"}}], "exactly one of"),
    ([_client(), _client()], "given more than once"),
    ([_client(addresses=["10.0.0.300/8"])], "not an IP address"),
    ([_client(zenders=["0363"])], "organisatie/applicatie"),
    ([{"name": "c", "certificate": {"subject": "zomaar"}}], "ATTR=value"),
])
def test_clients_that_cannot_work_stop_the_start(make_settings: Callable[..., Settings], clients: list[Any],
                                                message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make_settings(clients=clients)


def test_subjects_compare_whatever_their_spelling() -> None:
    assert parse_subject(CERT_SUBJECT) == parse_subject("c = NL, o=Gemeente Test, CN=zaaksysteem")
    assert parse_subject(CERT_SUBJECT) == parse_subject("/C=NL/O=Gemeente Test/CN=zaaksysteem")
    assert parse_subject(CERT_SUBJECT) == subject_from_ssl(
        ((("countryName", "NL"),), (("organizationName", "Gemeente Test"),), (("commonName", "zaaksysteem"),)))
    assert parse_subject(CERT_SUBJECT) != parse_subject("CN=zaaksysteem,O=Gemeente Anders,C=NL")


async def test_hashed_passwords_verify_and_wrong_ones_do_not() -> None:
    check = PasswordCheck(BasicCredentials(username="u", password_hash=hash_password("juist")))
    assert not await check.averify("fout")
    assert await check.averify("juist")
    assert await check.averify("juist")  # remembered: no second argon2 run
    assert not await check.averify("fout")


async def _post(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    """A genereerZaakIdentificatie (the ASGI app here has no ZGW backend; identifiers need none)."""
    body, base = di02(organisatie="0363", referentienummer="cfg-1")
    return await client.post("/zds/VrijeBerichten", content=body, headers={**base, **headers})


async def test_the_proxy_header_names_a_client_when_the_proxy_is_trusted(
        make_settings: Callable[..., Settings], make_client: Callable[..., Any]) -> None:
    clients = [{"name": "zaaksysteem", "certificate": {"subject": CERT_SUBJECT}}]
    trusted = await make_client(make_settings(clients=clients, security={"client_certificate_header": HEADER}))
    assert (await _post(trusted, **{HEADER: "CN=zaaksysteem, O=Gemeente Test, C=NL"})).status_code == 200
    unknown = await _post(trusted, **{HEADER: "CN=vreemd,O=Elders,C=NL"})
    assert unknown.status_code == 401
    # the same header from an address that is not a trusted proxy is not believed: no credentials at all
    untrusted = await make_client(make_settings(clients=clients, security={
        "client_certificate_header": HEADER, "trusted_proxies": ["10.0.0.0/8"]}))
    refused = await _post(untrusted, **{HEADER: CERT_SUBJECT})
    assert refused.status_code == 401
    assert parse_answer(refused.content).findtext(".//StUF:code", namespaces=NS) == "StUF052"


async def test_a_client_only_from_its_addresses(make_settings: Callable[..., Settings],
                                               make_client: Callable[..., Any]) -> None:
    elsewhere = await make_client(make_settings(clients=[_client(addresses=["10.1.2.0/24"])]))
    assert (await _post(elsewhere, authorization="Basic dTpw")).status_code == 401  # u:p, from 127.0.0.1
    here = await make_client(make_settings(clients=[_client(addresses=["127.0.0.0/8"])]))
    assert (await _post(here, authorization="Basic dTpw")).status_code == 200


def test_the_demo_secret_is_refused_beyond_loopback(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(StartRefused, match="demo secret"):
        check_start(make_settings(host="0.0.0.0"))
    check_start(make_settings(host="0.0.0.0", allow_demo_secret=True))
    check_start(make_settings(host="0.0.0.0", zgw_secret="een-eigen-geheim-van-minstens-32-tekens!"))
    check_start(make_settings(host="127.0.0.1"))


def test_serve_says_why_it_refuses(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "stuf_bridge", "serve", "--host", "0.0.0.0", "--port", "0",
                           "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert "demo secret" in done.stderr and "STUF_BRIDGE_ALLOW_DEMO_SECRET" in done.stderr


def test_without_clients_one_loud_warning_beyond_loopback(make_settings: Callable[..., Settings]) -> None:
    with structlog.testing.capture_logs() as logs:
        check_start(make_settings(host="0.0.0.0", allow_demo_secret=True))
        check_start(make_settings(host="127.0.0.1"))
    public, loopback = (entry for entry in logs if entry["event"] == "unauthenticated_gateway")
    assert public["log_level"] == "warning" and "NO CLIENTS CONFIGURED" in public["warning"]
    assert loopback["log_level"] == "info"


def test_hash_password_command() -> None:
    done = subprocess.run([sys.executable, "-m", "stuf_bridge", "hash-password"], input="geheim\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    hashed = done.stdout.strip()
    assert hashed.startswith("$argon2id$") and "geheim" not in hashed
    assert PasswordCheck(BasicCredentials(username="u", password_hash=hashed)).verify("geheim")


def test_the_outbox_replica_gateway_does_not_authenticate_again(make_settings: Callable[..., Settings]) -> None:
    """A replicate's stored request is re-handled by a gateway of the gateway's own, without a peer: it was
    authenticated and authorised when it came in."""
    from stuf_bridge.gateway import Gateway
    from stuf_bridge.store import create_store
    from stuf_bridge.stuf.validation import Schemas

    settings = make_settings(clients=[_client()])
    store = create_store("sqlite://")
    assert Gateway(settings, store, Schemas()).authenticator is not None
    assert Gateway(settings, store, Schemas(), authenticate=False).authenticator is None
