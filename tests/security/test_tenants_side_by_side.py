"""Tenants side by side over real HTTP: two municipalities on one gateway (``stuf-bridge serve`` with ``tenants:``),
each with its own ZGW backend (``stuf-bridge zgw serve``, each accepting only its own JWT client and secret) and its
own legacy zaaksysteem (a ``stuf-bridge serve`` of its own, with its embedded backend).

* amsterdam (0363) has no routing table or legacy side of its own: the gateway's table (translate, and
  genereerZaakIdentificatie proxied) and the gateway's legacy side (legacy A);
* utrecht (0344) has its own legacy side (legacy B) and its own table: replicate with primary zgw, and for the
  applicatie ``Balie`` replicate with primary legacy.

Both create a zaak with the same identificatie: each is pinned in its own tenant's zaak registry, and its follow-up
goes its own tenant's route. utrecht's legacy is down at first: its outbox items wait, the gateway is restarted, and
once legacy B is up they are delivered to legacy B (not legacy A) by the tenant's worker. utrecht's primary-legacy
zaak reaches ZGW B through the outbox with utrecht's ZGW credentials. Nothing lands on the other municipality's side.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import yaml

from stuf_bridge.stuf.registry import Service
from stuf_bridge.zgw.auth import JwtAuth
from tests.operations import messages as zm
from tests.operations import status_messages as sm
from tests.support.legacy import closed_port
from tests.support.messages import di02
from tests.support.server import running_gateway
from tests.support.waiting import wait_for as support_wait_for

START = 120.0  # seconds a process may take to start on a loaded machine
SECRETS = {"a": "geheim-van-amsterdam-lang-genoeg", "b": "geheim-van-utrecht-ook-lang-genoeg"}
DEMO = JwtAuth("stuf-bridge", "stuf-bridge-demo-secret-not-for-production")  # the legacy stand-ins' embedded ZGW
FAST_OUTBOX = {"poll_seconds": 0.1, "backoff_base_seconds": 0.2, "backoff_max_seconds": 0.5, "lease_seconds": 3,
               "max_attempts": 10_000}
ZAAK, BALIE_ZAAK = "1900ZK-SBS-1", "0344ZK-SBS-2"


def _zgw(base: str, path: str, params: dict[str, str], backend: str | None) -> list[dict[str, Any]]:
    """Results from a ZGW backend: a tenant's (``backend`` a or b, its own JWT) or a legacy's embedded one."""
    if backend is None:
        auth: Any = DEMO
        headers = {"Accept-Crs": "EPSG:4326"}
        url = f"{base}/zgw/zaken/api/v1/{path}"
    else:
        claims = {"iss": "test", "iat": int(time.time()), "client_id": f"gw-{backend}", "user_id": "test",
                  "user_representation": "test"}
        auth = None
        headers = {"Accept-Crs": "EPSG:4326",
                   "Authorization": f"Bearer {jwt.encode(claims, SECRETS[backend], algorithm='HS256')}"}
        url = f"{base}/zaken/api/v1/{path}"
    answer = httpx.get(url, params=params, headers=headers, auth=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["results"])


def zaken(base: str, identificatie: str, backend: str | None = None) -> list[dict[str, Any]]:
    return [z for z in _zgw(base, "zaken", {"identificatie": identificatie}, backend)
            if z["identificatie"] == identificatie]


def statussen(base: str, zaak: dict[str, Any], backend: str | None = None) -> int:
    return len(_zgw(base, "statussen", {"zaak": str(zaak["url"])}, backend))


def post(url: str, service: str, message: tuple[bytes, dict[str, str]]) -> httpx.Response:
    return httpx.post(f"{url}/zds/{service}", content=message[0], headers=message[1], timeout=60)


def as_zender(message: tuple[bytes, dict[str, str]], organisatie: str, applicatie: str | None = None,
              ) -> tuple[bytes, dict[str, str]]:
    body = message[0]
    for was in (b"0363", b"1900"):
        body = body.replace(b"<StUF:zender><StUF:organisatie>" + was + b"<",
                            b"<StUF:zender><StUF:organisatie>" + organisatie.encode() + b"<")
    if applicatie is not None:
        body = body.replace(b"<StUF:applicatie>OpenFormulieren</StUF:applicatie></StUF:zender>",
                            f"<StUF:applicatie>{applicatie}</StUF:applicatie></StUF:zender>".encode())
    return body, message[1]


def wait_for(check: Callable[[], bool], timeout: float = 90.0) -> None:
    support_wait_for(check, timeout, interval=0.2)


def message_lines(log: list[str]) -> list[dict[str, Any]]:
    lines = []
    for line in log:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "message":
            lines.append(event)
    return lines


def _config(directory: Path, a: str, b: str, legacy_a: dict[str, str], legacy_b: dict[str, str]) -> Path:
    config = {
        "legacy": {"endpoints": legacy_a, "timeout": 5},
        "routing": {"default": "translate",
                    "rules": [{"match": {"operation": "genereerZaakIdentificatie"}, "mode": "proxy"}]},
        "outbox": FAST_OUTBOX,
        "tenants": [
            {"name": "amsterdam", "organisaties": ["0363"], "zgw_url": a, "zgw_client_id": "gw-a",
             "zgw_secret": SECRETS["a"], "default_rsin": "002220647"},
            {"name": "utrecht", "organisaties": ["0344"], "zgw_url": b, "zgw_client_id": "gw-b",
             "zgw_secret": SECRETS["b"], "default_rsin": "001000007",
             "legacy": {"endpoints": legacy_b, "timeout": 2},
             "routing": {"default": {"mode": "replicate", "primary": "zgw"},
                         "rules": [{"match": {"zender": "0344/Balie"}, "mode": "replicate", "primary": "legacy"}]}},
        ],
    }
    path = directory / "stuf-bridge.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_two_tenants_side_by_side_each_zaak_lands_on_its_own_tenants_sides(tmp_path: Path) -> None:
    legacy_b_base = closed_port()  # utrecht's legacy: down until the gateway's restart
    legacy_b = {s.value: f"{legacy_b_base}/zds/{s.value}" for s in Service}
    gw_log: list[str] = []
    legacy_a_log: list[str] = []
    with running_gateway(tmp_path / "a", env={"STUF_BRIDGE_ZGW_CLIENT_ID": "gw-a",
                                              "STUF_BRIDGE_ZGW_SECRET": SECRETS["a"]},
                         command=("zgw", "serve"), timeout=START) as zgw_a, \
            running_gateway(tmp_path / "b", env={"STUF_BRIDGE_ZGW_CLIENT_ID": "gw-b",
                                                 "STUF_BRIDGE_ZGW_SECRET": SECRETS["b"]},
                            command=("zgw", "serve"), timeout=START) as zgw_b, \
            running_gateway(tmp_path / "legacy-a", log=legacy_a_log, timeout=START) as legacy_a_url:
        legacy_a = {s.value: f"{legacy_a_url}/zds/{s.value}" for s in Service}
        env = {"STUF_BRIDGE_CONFIG": str(_config(tmp_path, zgw_a, zgw_b, legacy_a, legacy_b))}
        with running_gateway(tmp_path / "gw", env=env, log=gw_log, timeout=START) as url:
            # the same zaak number in both municipalities: amsterdam translates, utrecht replicates (primary zgw)
            one = post(url, "OntvangAsynchroon", zm.creeer_zaak(identificatie=ZAAK, referentienummer="sbs-a-1",
                                                                organisatie="0363"))
            two = post(url, "OntvangAsynchroon", zm.creeer_zaak(identificatie=ZAAK, referentienummer="sbs-b-1",
                                                                organisatie="0344"))
            assert (one.status_code, two.status_code) == (200, 200), (one.text, two.text)
            assert b"Bv03" in one.content and b"Bv03" in two.content
            # the follow-ups find their own tenant's pin
            for organisatie, ref in (("0363", "sbs-a-2"), ("0344", "sbs-b-2")):
                status = post(url, "OntvangAsynchroon", as_zender(
                    sm.actualiseer_zaakstatus(identificatie=ZAAK, referentienummer=ref), organisatie))
                assert status.status_code == 200 and b"Bv03" in status.content, status.text
            # amsterdam's number comes from the gateway's legacy side (legacy A): proxied
            number = post(url, "VrijeBerichten", di02(referentienummer="sbs-a-nummer", organisatie="0363"))
            assert number.status_code == 200 and b"Du02" in number.content, number.text
        # restart; utrecht's legacy comes up on its port
        port = int(legacy_b_base.rsplit(":", 1)[1])
        with running_gateway(tmp_path / "legacy-b", port=port, timeout=START) as legacy_b_url, \
                running_gateway(tmp_path / "gw", env=env, log=gw_log, timeout=START) as url:
            # the items utrecht's messages left are delivered after the restart, to legacy B, in order
            wait_for(lambda: len(zaken(legacy_b_url, ZAAK)) == 1)
            wait_for(lambda: statussen(legacy_b_url, zaken(legacy_b_url, ZAAK)[0]) == 2)
            # utrecht's Balie: primary legacy (legacy B answers), ZGW B gets it through the outbox
            balie = post(url, "OntvangAsynchroon", as_zender(
                zm.creeer_zaak(identificatie=BALIE_ZAAK, referentienummer="sbs-b-3"), "0344", "Balie"))
            assert balie.status_code == 200 and b"Bv03" in balie.content, balie.text
            assert len(zaken(legacy_b_url, BALIE_ZAAK)) == 1  # the primary has it at once
            wait_for(lambda: len(zaken(zgw_b, BALIE_ZAAK, "b")) == 1)  # with utrecht's own credentials
            items = httpx.get(f"{url}/metrics", timeout=30).text
            wait_for(lambda: "stuf_bridge_outbox_pending 0.0" in httpx.get(f"{url}/metrics", timeout=30).text)
            assert "stuf_bridge_outbox_dead 0.0" in items
            # each zaak on its own municipality's sides, nothing on the other's
            [zaak_a] = zaken(zgw_a, ZAAK, "a")
            [zaak_b] = zaken(zgw_b, ZAAK, "b")
            assert (zaak_a["bronorganisatie"], zaak_b["bronorganisatie"]) == ("002220647", "001000007")
            assert statussen(zgw_a, zaak_a, "a") == statussen(zgw_b, zaak_b, "b") == 2
            assert zaken(zgw_a, BALIE_ZAAK, "a") == []
            assert zaken(legacy_a_url, ZAAK) == [] and zaken(legacy_a_url, BALIE_ZAAK) == []
            lines = message_lines(gw_log)
    # legacy A saw amsterdam's number request only
    assert [line["operation"] for line in message_lines(legacy_a_log)] == ["genereerZaakIdentificatie_Di02"]
    ours = [line for line in lines if str(line.get("referentienummer", "")).startswith("sbs-")]
    routes = {line["referentienummer"]: (line.get("tenant"), line["route"], line.get("primary"), line["rule"])
              for line in ours if line["rule"] != "outbox"}
    # the ZGW leg of the Balie zaak: translated by the worker in utrecht's environment
    assert [(line["referentienummer"], line.get("tenant"), line["outcome"]) for line in ours
            if line["rule"] == "outbox"] == [("sbs-b-3", "utrecht", "ok")]
    assert routes == {
        "sbs-a-1": ("amsterdam", "translate", "zgw", "default"),
        "sbs-b-1": ("utrecht", "replicate", "zgw", "default"),
        "sbs-a-2": ("amsterdam", "translate", "zgw", "pinned:default"),
        "sbs-b-2": ("utrecht", "replicate", "zgw", "pinned:default"),
        "sbs-a-nummer": ("amsterdam", "proxy", "legacy", "rules[0]"),
        "sbs-b-3": ("utrecht", "replicate", "legacy", "rules[0]"),
    }, routes
