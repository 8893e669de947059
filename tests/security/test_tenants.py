"""Tenants over real HTTP: two municipalities on one gateway (``stuf-bridge serve`` with ``tenants:``), each with its
own ZGW backend (two ``stuf-bridge zgw serve`` processes, each accepting only its own JWT client and secret).

Messages land each in their own tenant's backend, a read of one tenant's zaak by the other finds nothing, the
resend records and identifier sequences are per tenant, and a message of an organisatie of no tenant is a fault."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
import yaml
from lxml import etree

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import STUF, ZKN

from ..operations.details_messages import geef_zaakdetails
from ..operations.messages import creeer_zaak
from ..support.messages import di02
from ..support.server import running_gateway

NS = {"ZKN": ZKN, "StUF": STUF}
SECRETS = {"a": "geheim-van-amsterdam-lang-genoeg", "b": "geheim-van-utrecht-ook-lang-genoeg"}
PASSWORDS = {"amsterdam-portaal": "amsterdam-wachtwoord", "utrecht-portaal": "utrecht-wachtwoord",
             "vrij": "vrij-wachtwoord"}


@dataclass
class Setup:
    gateway: str
    backends: dict[str, str]  # a (amsterdam), b (utrecht) → base URL
    log: list[str]

    def post(self, client: str, service: str, message: tuple[bytes, dict[str, str]]) -> httpx.Response:
        return httpx.post(f"{self.gateway}/zds/{service}", content=message[0], headers=message[1],
                          auth=(client, PASSWORDS[client]), timeout=60)

    def zaken(self, backend: str, identificatie: str) -> list[dict[str, object]]:
        claims = {"iss": "test", "iat": int(time.time()), "client_id": f"gw-{backend}", "user_id": "test",
                  "user_representation": "test"}
        token = jwt.encode(claims, SECRETS[backend], algorithm="HS256")
        answer = httpx.get(f"{self.backends[backend]}/zaken/api/v1/zaken", params={"identificatie": identificatie},
                           headers={"Authorization": f"Bearer {token}", "Accept-Crs": "EPSG:4326"}, timeout=30)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["results"])


def _config(directory: Path, a: str, b: str) -> Path:
    secret_file = directory / "utrecht-secret"
    secret_file.write_text(SECRETS["b"] + "\n", encoding="utf-8")
    config = {
        "clients": [{"name": name, "basic": {"username": name, "password": password}}
                    for name, password in PASSWORDS.items()],
        "tenants": [
            {"name": "amsterdam", "organisaties": ["0363"], "clients": ["amsterdam-portaal"], "zgw_url": a,
             "zgw_client_id": "gw-a", "zgw_secret": SECRETS["a"], "default_rsin": "002220647"},
            {"name": "utrecht", "organisaties": ["0344"], "clients": ["utrecht-portaal"], "zgw_url": b,
             "zgw_client_id": "gw-b", "zgw_secret_file": str(secret_file), "default_rsin": "001000007"},
        ],
    }
    path = directory / "stuf-bridge.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("tenants")
    log: list[str] = []
    with running_gateway(root / "a", env={"STUF_BRIDGE_ZGW_CLIENT_ID": "gw-a", "STUF_BRIDGE_ZGW_SECRET": SECRETS["a"]},
                         command=("zgw", "serve"), timeout=120) as a, \
            running_gateway(root / "b", env={"STUF_BRIDGE_ZGW_CLIENT_ID": "gw-b",
                                             "STUF_BRIDGE_ZGW_SECRET": SECRETS["b"]},
                            command=("zgw", "serve"), timeout=120) as b, \
            running_gateway(root / "gw", env={"STUF_BRIDGE_CONFIG": str(_config(root, a, b))}, timeout=120,
                            log=log) as url:
        yield Setup(url, {"a": a, "b": b}, log)


def _fault(answer: httpx.Response) -> tuple[str | None, str | None]:
    root = etree.fromstring(answer.content)
    code = root.findtext(".//StUF:body/StUF:code", namespaces=NS)
    reason = root.findtext(".//{urn:stuf-bridge:fout}reden")
    return code, reason


def _as(message: tuple[bytes, dict[str, str]], organisatie: str) -> tuple[bytes, dict[str, str]]:
    """The message with another zender organisatie (geefZaakdetails' is fixed at 0363)."""
    body = message[0].replace(b"<StUF:zender><StUF:organisatie>0363<",
                              f"<StUF:zender><StUF:organisatie>{organisatie}<".encode())
    return body, message[1]


def test_messages_of_two_organisaties_land_each_in_their_own_backend(setup: Setup) -> None:
    one = setup.post("amsterdam-portaal", "OntvangAsynchroon",
                     creeer_zaak(identificatie="0363ZK-TENANT-1", referentienummer="tenant-a-1"))
    two = setup.post("vrij", "OntvangAsynchroon",  # a client of no tenant: its organisatie chooses
                     creeer_zaak(identificatie="0344ZK-TENANT-1", referentienummer="tenant-b-1", organisatie="0344"))
    assert one.status_code == 200 and b"Bv03" in one.content, one.text
    assert two.status_code == 200 and b"Bv03" in two.content, two.text
    assert len(setup.zaken("a", "0363ZK-TENANT-1")) == 1 and setup.zaken("b", "0363ZK-TENANT-1") == []
    assert len(setup.zaken("b", "0344ZK-TENANT-1")) == 1 and setup.zaken("a", "0344ZK-TENANT-1") == []
    # the message log line names the tenant
    time.sleep(0.5)
    tenants = {json.loads(line).get("referentienummer"): json.loads(line).get("tenant") for line in setup.log
               if '"event": "message"' in line}
    assert (tenants.get("tenant-a-1"), tenants.get("tenant-b-1")) == ("amsterdam", "utrecht"), tenants
    # each backend's zaak carries its tenant's RSIN
    assert setup.zaken("a", "0363ZK-TENANT-1")[0]["bronorganisatie"] == "002220647"
    assert setup.zaken("b", "0344ZK-TENANT-1")[0]["bronorganisatie"] == "001000007"


def test_a_read_of_one_tenants_zaak_by_the_other_finds_nothing(setup: Setup) -> None:
    created = setup.post("amsterdam-portaal", "OntvangAsynchroon",
                         creeer_zaak(identificatie="0363ZK-TENANT-2", referentienummer="tenant-a-2"))
    assert b"Bv03" in created.content, created.text
    own = setup.post("amsterdam-portaal", "BeantwoordVraag", geef_zaakdetails(identificatie="0363ZK-TENANT-2"))
    other = setup.post("utrecht-portaal", "BeantwoordVraag",
                       _as(geef_zaakdetails(identificatie="0363ZK-TENANT-2"), "0344"))
    assert own.status_code == 200 and parse_answer(own.content).find("ZKN:antwoord/ZKN:object", NS) is not None
    found = parse_answer(other.content).find("ZKN:antwoord/ZKN:object", NS) if other.status_code == 200 else None
    assert found is None, other.text
    assert b"0363ZK-TENANT-2" not in other.content.replace(b"<StUF:referentienummer>", b"")


def test_one_referentienummer_in_two_tenants_is_two_messages(setup: Setup) -> None:
    """The same zender and referentienummer, byte for byte the same message, from clients of two tenants: each is
    created in its own backend. Without the tenant in the resend key the second would be answered with the first's
    stored answer, and nothing would be written for the second municipality."""
    message = creeer_zaak(identificatie="1900ZK-TENANT-3", referentienummer="tenant-same-ref", organisatie="1900")
    first = setup.post("amsterdam-portaal", "OntvangAsynchroon", message)
    second = setup.post("utrecht-portaal", "OntvangAsynchroon", message)
    assert b"Bv03" in first.content and b"Bv03" in second.content, (first.text, second.text)
    assert len(setup.zaken("a", "1900ZK-TENANT-3")) == 1
    assert len(setup.zaken("b", "1900ZK-TENANT-3")) == 1
    # and a resend within a tenant is still answered from the store
    again = setup.post("utrecht-portaal", "OntvangAsynchroon", message)
    assert b"Bv03" in again.content and len(setup.zaken("b", "1900ZK-TENANT-3")) == 1


def test_identifier_sequences_are_per_tenant(setup: Setup) -> None:
    def number(client: str, ref: str) -> str:
        answer = setup.post(client, "VrijeBerichten", di02(organisatie="1234", referentienummer=ref))
        assert answer.status_code == 200 and b"Du02" in answer.content, answer.text
        found = parse_answer(answer.content).findtext("ZKN:zaak/ZKN:identificatie", namespaces=NS)
        assert found
        return found

    a = number("amsterdam-portaal", "tenant-nr-a")
    b = number("utrecht-portaal", "tenant-nr-b")
    assert a == b  # each municipality's first number of the sequence: the sequences are not shared
    assert number("utrecht-portaal", "tenant-nr-b2") != b


def test_an_organisatie_of_no_tenant_is_a_fault_and_nothing_is_written(setup: Setup) -> None:
    answer = setup.post("vrij", "OntvangAsynchroon",
                        creeer_zaak(identificatie="0999ZK-TENANT-4", referentienummer="tenant-none",
                                    organisatie="0999"))
    assert answer.status_code == 500 and _fault(answer) == ("StUF013", "tenant-unknown"), answer.text
    assert setup.zaken("a", "0999ZK-TENANT-4") == [] and setup.zaken("b", "0999ZK-TENANT-4") == []


def test_a_client_of_one_tenant_acting_for_the_other_is_stuf052(setup: Setup) -> None:
    answer = setup.post("utrecht-portaal", "OntvangAsynchroon",
                        creeer_zaak(identificatie="0363ZK-TENANT-5", referentienummer="tenant-cross"))
    assert _fault(answer) == ("StUF052", "not-authorised"), answer.text
    assert setup.zaken("a", "0363ZK-TENANT-5") == [] and setup.zaken("b", "0363ZK-TENANT-5") == []


_TENANT = {"name": "t", "organisaties": ["0363"], "zgw_url": "https://zgw.example", "zgw_secret": "s"}


@pytest.mark.parametrize(("tenants", "clients", "says"), [
    ([{**_TENANT, "zgw_url": None}], [], "needs zgw_url"),
    ([{**_TENANT, "zgw_secret": None}], [], "exactly one of zgw_secret"),
    ([{**_TENANT, "organisaties": []}], [], "neither organisaties nor clients"),
    ([_TENANT, {**_TENANT, "name": "u"}], [], "organisatie ['0363'] in more than one tenant"),
    ([{**_TENANT, "clients": ["onbekend"]}], [], "clients ['onbekend'] are not among the configured clients"),
    ([{**_TENANT, "zgw_credentials": {"zaken": {"client_id": "x"}}}], [], "needs exactly client_id and secret"),
])
def test_tenant_configuration_errors_name_the_problem(tenants: list[dict[str, object]],
                                                      clients: list[dict[str, object]], says: str) -> None:
    from pydantic import ValidationError

    from stuf_bridge.settings import Settings

    with pytest.raises(ValidationError, match=re.escape(says)):
        Settings(tenants=tenants, clients=clients)


_LEGACY = {"endpoints": {"OntvangAsynchroon": "http://legacy.example/zds/OntvangAsynchroon"}}


@pytest.mark.parametrize(("settings", "says"), [
    ({"notifications": {"subscribers": [{"name": "dms", "endpoint": "http://dms.test/zds",
                                         "stuf": {"applicatie": "DMS"}}]}},
     "tenants cannot be combined (yet) with notifications"),
    ({"reconcile": {"scheduled": True, "zaaktypen": ["B1"]}}, "with the scheduled reconcile"),
    ({"legacy": _LEGACY, "routing": {"default": {"mode": "translate", "backfill": "on_reference"}}},
     "with backfill (routing)"),
    ({"legacy": _LEGACY, "tenants": [{**_TENANT, "routing": {"default": "translate", "rules": [
        {"match": {"zaaktype": "B1"}, "mode": "replicate", "primary": "legacy", "compare_reads": 0.5}]}}]},
     "with compare_reads (tenants[t].routing)"),
])
def test_what_tenants_cannot_be_combined_with_is_refused_naming_it(settings: dict[str, object], says: str) -> None:
    from pydantic import ValidationError

    from stuf_bridge.settings import Settings

    with pytest.raises(ValidationError, match=re.escape(says)):
        Settings(**{"tenants": [_TENANT], **settings})


def test_a_tenant_has_its_own_routing_and_legacy_or_the_gateways() -> None:
    """Tenants with a routing table and legacy sides are accepted; a tenant without its own sections gets the
    gateway's, one with them its own (whole sections, not merged)."""
    from stuf_bridge.settings import Settings

    own_legacy = {"endpoints": {"BeantwoordVraag": "https://utrecht.example/zds/BeantwoordVraag"}, "timeout": 3}
    base = Settings(legacy=_LEGACY, routing={"default": "proxy"}, tenants=[
        _TENANT, {**_TENANT, "name": "u", "organisaties": ["0344"], "legacy": own_legacy,
                  "routing": {"default": {"mode": "replicate", "primary": "zgw"}}}])
    shared, own = (t.settings(base) for t in base.tenants)
    assert shared.legacy == base.legacy and shared.routing == base.routing
    assert [s.value for s in own.legacy.endpoints] == ["BeantwoordVraag"] and own.legacy.timeout == 3
    assert (own.routing.default.mode.value, own.routing.default.primary) == ("replicate", "zgw")


def test_tenant_settings_replace_the_backend_and_keep_the_rest(tmp_path: Path) -> None:
    from stuf_bridge.settings import Settings

    secret = tmp_path / "secret"
    secret.write_text("uit-een-bestand\n", encoding="utf-8")
    base = Settings(zgw_url="https://eigen.example", zgw_timeout=7, tenants=[
        {**_TENANT, "zgw_secret": None, "zgw_secret_file": str(secret), "zgw_client_id": "t-client"}])
    own = base.tenants[0].settings(base)
    assert (own.zgw_url, own.zgw_client_id, own.zgw_secret) == ("https://zgw.example", "t-client", "uit-een-bestand")
    assert own.zgw_timeout == 7 and own.zgw_tls is base.zgw_tls


def test_a_tenant_with_the_demo_secret_is_refused_beyond_loopback() -> None:
    from stuf_bridge.security.serving import StartRefused, check_start
    from stuf_bridge.settings import Settings

    demo = Settings.model_fields["zgw_secret"].default
    own = "een-eigen-geheim-van-minstens-32-tekens!"
    with pytest.raises(StartRefused, match="demo secret"):
        check_start(Settings(host="0.0.0.0", zgw_secret=own, tenants=[{**_TENANT, "zgw_secret": demo}]))
    check_start(Settings(host="0.0.0.0", zgw_secret=own, tenants=[{**_TENANT, "zgw_secret": own}]))


def test_check_config_checks_every_tenants_backend_with_its_credentials(setup: Setup, tmp_path: Path) -> None:
    import asyncio

    from stuf_bridge.checks import run_checks
    from stuf_bridge.settings import Settings

    def tenant(name: str, backend: str, secret: str) -> dict[str, object]:
        return {"name": name, "organisaties": [name], "zgw_url": setup.backends[backend],
                "zgw_client_id": f"gw-{backend}", "zgw_secret": secret}

    settings = Settings(data_dir=tmp_path, zgw_url=setup.backends["a"], zgw_client_id="gw-a",
                        zgw_secret=SECRETS["a"], default_rsin="002220647",
                        tenants=[tenant("1111", "a", SECRETS["a"]), tenant("2222", "b", SECRETS["b"]),
                                 tenant("3333", "b", SECRETS["a"])])  # the wrong secret for b
    report = asyncio.run(run_checks(settings))
    text = "\n".join(report.lines)
    sections = {name: text.split(f"tenant {name}", 1)[1].split("tenant ", 1)[0] for name in ("1111", "2222", "3333")}
    assert "credentials accepted" in sections["1111"] and "credentials accepted" in sections["2222"], text
    assert "credentials accepted" not in sections["3333"], text
    assert report.errors >= 4, text  # the four APIs of the tenant with the wrong secret


def test_check_config_checks_a_tenants_own_legacy_side(tmp_path: Path) -> None:
    """A tenant's own legacy endpoints are probed in a section of their own (here: nothing listens, an error)."""
    import asyncio

    from stuf_bridge.checks import run_checks
    from stuf_bridge.settings import Settings

    from ..support.legacy import closed_port

    down = closed_port()
    settings = Settings(data_dir=tmp_path, zgw_url=closed_port(), tenants=[
        {**_TENANT, "zgw_url": closed_port(), "legacy": {"endpoints": {"OntvangAsynchroon": f"{down}/zds/x"}}}])
    text = "\n".join(asyncio.run(run_checks(settings)).lines)
    assert "Legacy zaaksysteem of tenant t" in text, text
    assert f"{down}/zds/x" in text.split("Legacy zaaksysteem of tenant t", 1)[1], text


async def test_each_tenants_clients_use_its_own_credentials(tmp_path: Path) -> None:
    """One tenant with OAuth2 client credentials, one with its own HS256 secret: each tenant's ZGW calls go to its own
    backend with its own token, and neither uses the gateway's."""
    import base64

    from stuf_bridge.pipeline.exchange import Environment
    from stuf_bridge.security.tenants import Tenants
    from stuf_bridge.settings import Settings
    from stuf_bridge.stuf.stuurgegevens import Systeem

    token_url = "https://sso.utrecht.test/token"
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == token_url:
            assert request.headers["authorization"] == "Basic " + base64.b64encode(b"gw-utrecht:oauth-geheim").decode()
            return httpx.Response(200, json={"access_token": "utrecht-token", "expires_in": 300})
        seen.append((request.url.host, request.headers["authorization"]))
        return httpx.Response(200, json={"count": 0, "next": None, "previous": None, "results": []})

    settings = Settings(data_dir=tmp_path, zgw_url="https://eigen.test", zgw_secret="het-eigen-geheim-van-de-gateway!!",
                        tenants=[
                            {"name": "amsterdam", "organisaties": ["0363"], "zgw_url": "https://zgw.amsterdam.test",
                             "zgw_client_id": "gw-a", "zgw_secret": SECRETS["a"]},
                            {"name": "utrecht", "organisaties": ["0344"], "zgw_url": "https://zgw.utrecht.test",
                             "zgw_oauth2": {"token_url": token_url, "client_id": "gw-utrecht",
                                            "client_secret": "oauth-geheim"}}])
    identity = Systeem(organisatie="0363", applicatie="stuf-bridge")
    base = Environment(settings, None, None, None, identity)  # type: ignore[arg-type]  # no store needed
    tenants = Tenants.build(base, httpx.MockTransport(handler))
    try:
        for name in ("amsterdam", "utrecht"):
            zgw = tenants.environments[name].zgw
            assert zgw is not None and tenants.environments[name].tenant == name
            await zgw.zaken.list("zaken", {"identificatie": "x"})
    finally:
        await tenants.aclose()
    (a_host, a_auth), (b_host, b_auth) = seen
    assert (a_host, b_host) == ("zgw.amsterdam.test", "zgw.utrecht.test")
    claims = jwt.decode(a_auth.removeprefix("Bearer "), SECRETS["a"], algorithms=["HS256"])
    assert claims["client_id"] == "gw-a"
    assert b_auth == "Bearer utrecht-token"


def test_ready_probes_every_tenants_backend(setup: Setup) -> None:
    from .helpers import internal_url

    # with clients and the embedded backend, /ready is on the internal port (docs/security.md)
    answer = httpx.get(f"{internal_url(setup.log)}/ready", timeout=30)
    checks = answer.json()["checks"]
    for tenant in ("amsterdam", "utrecht"):
        for api in ("zaken", "documenten", "catalogi", "besluiten"):
            assert checks[f"tenant_{tenant}_zgw_{api}"] == "ok", checks
    assert answer.status_code == 200, checks
