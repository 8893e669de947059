"""Replicate over real HTTP: the gateway under test (``stuf-bridge serve`` with a routing table and a legacy side from
the environment) and a second stuf-bridge as the legacy zaaksysteem, each with its own embedded ZGW backend."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from stuf_bridge.stuf.registry import Service
from stuf_bridge.zgw.auth import JwtAuth
from tests.operations import details_messages as dm
from tests.operations import messages as zm
from tests.operations import status_messages as sm
from tests.support.legacy import closed_port, running_legacy
from tests.support.messages import di02
from tests.support.server import running_gateway
from ..support.waiting import wait_for

# A short lease: the gateway is killed while an item may be inflight (a delivery attempt is under way)
FAST_OUTBOX = {"poll_seconds": 0.1, "backoff_base_seconds": 0.2, "backoff_max_seconds": 0.5, "lease_seconds": 3,
               "max_attempts": 10_000}  # legacy stays down as long as a slow machine takes: never dead here
START = 120.0  # seconds a gateway may take to start on a loaded machine
AUTH = JwtAuth("stuf-bridge", "stuf-bridge-demo-secret-not-for-production")


def gateway_env(primary: str, endpoints: dict[str, str]) -> dict[str, str]:
    return {
        "STUF_BRIDGE_ROUTING": json.dumps({"default": {"mode": "replicate", "primary": primary}}),
        "STUF_BRIDGE_LEGACY": json.dumps({"endpoints": endpoints, "timeout": 2}),
        "STUF_BRIDGE_OUTBOX": json.dumps(FAST_OUTBOX),
    }


def outbox_gauges(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics").text
    return {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
            if line.startswith("stuf_bridge_outbox_")}


def zgw_zaken(base: str, identificatie: str) -> list[dict[str, object]]:
    """The zaken with this identificatie in a stuf-bridge's embedded ZGW backend."""
    answer = httpx.get(f"{base}/zgw/zaken/api/v1/zaken", params={"identificatie": identificatie}, auth=AUTH,
                       headers={"Accept-Crs": "EPSG:4326"})
    answer.raise_for_status()
    return [z for z in answer.json()["results"] if z["identificatie"] == identificatie]


def zgw_statussen(base: str, zaak_url: str) -> list[object]:
    answer = httpx.get(f"{base}/zgw/zaken/api/v1/statussen", params={"zaak": zaak_url}, auth=AUTH)
    answer.raise_for_status()
    return list(answer.json()["results"])


def post(url: str, service: str, message: tuple[bytes, dict[str, str]]) -> httpx.Response:
    body, headers = message
    return httpx.post(f"{url}/zds/{service}", content=body, headers=headers, timeout=30)


def test_primary_zgw_legacy_down_gateway_killed_then_both_back_delivers_once(tmp_path: Path) -> None:
    """Legacy down: the client gets Bv03 and the items wait; kill -9 the gateway; legacy and the gateway back: the
    items are delivered, in order, once — and a client resend creates nothing anywhere."""
    legacy_base = closed_port()
    port = int(legacy_base.rsplit(":", 1)[1])
    endpoints = {s.value: f"{legacy_base}/zds/{s.value}" for s in Service}
    env = gateway_env("zgw", endpoints)
    zaak = "0363ZK-OUTBOX-1"
    creeer = zm.creeer_zaak(identificatie=zaak, referentienummer="outbox-creeer-1")
    status = sm.actualiseer_zaakstatus(identificatie=zaak, referentienummer="outbox-status-1")
    pid: list[int] = []
    with running_gateway(tmp_path / "gw", env=env, pid=pid, timeout=START) as url:
        assert post(url, "OntvangAsynchroon", creeer).status_code == 200
        assert post(url, "OntvangAsynchroon", status).status_code == 200
        assert len(zgw_zaken(url, zaak)) == 1  # the primary has it
        wait_for(lambda: outbox_gauges(url)["stuf_bridge_outbox_pending"] == 2)
        time.sleep(0.5)  # a few failed attempts
        os.kill(pid[0], signal.SIGKILL)
    with running_gateway(tmp_path / "legacy", port=port, timeout=START) as legacy_url:
        assert zgw_zaken(legacy_url, zaak) == []
        with running_gateway(tmp_path / "gw", env=env, timeout=START) as url:
            wait_for(lambda: outbox_gauges(url)["stuf_bridge_outbox_pending"] == 0)
            gauges = outbox_gauges(url)
            assert gauges["stuf_bridge_outbox_dead"] == gauges["stuf_bridge_outbox_oldest_pending_age_seconds"] == 0
            resend = post(url, "OntvangAsynchroon", creeer)
            assert resend.status_code == 200
            time.sleep(0.5)
            assert outbox_gauges(url)["stuf_bridge_outbox_pending"] == 0  # the resend enqueued nothing
            ours = zgw_zaken(url, zaak)
            assert len(ours) == 1
            statussen = len(zgw_statussen(url, str(ours[0]["url"])))
        found = zgw_zaken(legacy_url, zaak)
        assert len(found) == 1
        # the zaak's first status and the actualiseerZaakstatus: both sides hold the same (so the status came after
        # the zaak: in the other order legacy would have refused it as a client fault and the item would be dead)
        assert len(zgw_statussen(legacy_url, str(found[0]["url"]))) == statussen == 2


def test_primary_legacy_the_zgw_side_gets_the_zaak_through_the_worker(tmp_path: Path) -> None:
    with running_legacy(tmp_path / "legacy", timeout=START) as endpoints:
        legacy_url = endpoints["OntvangAsynchroon"].rsplit("/zds/", 1)[0]
        with running_gateway(tmp_path / "gw", env=gateway_env("legacy", endpoints), timeout=START) as url:
            zaak = "0363ZK-OUTBOX-2"
            answer = post(url, "OntvangAsynchroon", zm.creeer_zaak(identificatie=zaak, referentienummer="ob-2"))
            assert answer.status_code == 200 and b"Bv03" in answer.content
            assert len(zgw_zaken(legacy_url, zaak)) == 1  # the primary has it at once
            wait_for(lambda: len(zgw_zaken(url, zaak)) == 1)  # the secondary through the outbox
            wait_for(lambda: outbox_gauges(url)["stuf_bridge_outbox_pending"] == 0)
            # genereerZaakIdentificatie goes to legacy only (the single issuer): nothing for the outbox
            number = post(url, "VrijeBerichten", di02(referentienummer="ob-nummer"))
            assert number.status_code == 200 and b"Du02" in number.content
            # a question goes to the primary only
            details = post(url, "BeantwoordVraag", dm.geef_zaakdetails(identificatie=zaak))
            assert details.status_code == 200 and zaak.encode() in details.content
            time.sleep(0.5)
            assert outbox_gauges(url) == {"stuf_bridge_outbox_pending": 0.0, "stuf_bridge_outbox_dead": 0.0,
                                          "stuf_bridge_outbox_oldest_pending_age_seconds": 0.0}
            assert len(zgw_zaken(url, zaak)) == 1


def test_two_gateway_processes_on_postgresql_deliver_each_item_once_in_order(
    tmp_path: Path, pg_database_factory: Callable[[], str]
) -> None:
    """Two gateways share one PostgreSQL store, so both workers claim from one outbox: every item reaches legacy
    exactly once (no item held by both at once), each zaak's status after its zaak."""
    legacy_base = closed_port()
    port = int(legacy_base.rsplit(":", 1)[1])
    endpoints = {s.value: f"{legacy_base}/zds/{s.value}" for s in Service}
    env = {**gateway_env("zgw", endpoints), "STUF_BRIDGE_DATABASE_URL": pg_database_factory()}
    zaken = [f"0363ZK-PG-{n}" for n in range(8)]
    gw_log: list[str] = []
    with running_gateway(tmp_path / "gw1", env=env, log=gw_log, timeout=START) as one, \
            running_gateway(tmp_path / "gw2", env=env, log=gw_log, timeout=START) as two:
        for n, zaak in enumerate(zaken):
            url = (one, two)[n % 2]  # a zaak's messages to one gateway: its ZGW backend is its own
            assert post(url, "OntvangAsynchroon", zm.creeer_zaak(identificatie=zaak, referentienummer=f"pg-c{n}")
                        ).status_code == 200
            assert post(url, "OntvangAsynchroon", sm.actualiseer_zaakstatus(identificatie=zaak,
                                                                            referentienummer=f"pg-s{n}")
                        ).status_code == 200
        assert outbox_gauges(two)["stuf_bridge_outbox_pending"] == 16  # each process sees the whole outbox
        log: list[str] = []
        with running_gateway(tmp_path / "legacy", port=port, log=log, timeout=START) as legacy_url:
            try:
                wait_for(lambda: outbox_gauges(one)["stuf_bridge_outbox_pending"] == 0, timeout=60)
            except AssertionError:
                print("".join(line for line in gw_log if "outbox" in line or "error" in line)[-6000:])
                raise
            for zaak in zaken:
                [found] = zgw_zaken(legacy_url, zaak)
                assert len(zgw_statussen(legacy_url, str(found["url"]))) == 2
        delivered = [json.loads(line) for line in log if line.startswith("{") and '"event": "message"' in line]
        refs = sorted(str(event["referentienummer"]) for event in delivered)
        assert refs == sorted([f"pg-c{n}" for n in range(8)] + [f"pg-s{n}" for n in range(8)])
        assert all(event["outcome"] == "ok" and not event["replayed"] for event in delivered)


def test_the_migration_path_proxy_then_replicate_then_translate_by_configuration(tmp_path: Path) -> None:
    """The issue's "done when": one zaaktype moves from proxy to replicate (primary legacy) to translate, each by a
    configuration change and a restart; every zaak stays on the route it was created under (pinned), and each side
    holds each zaak once — nothing lost or doubled through the restarts."""

    def routing(mode: str | None) -> dict[str, str]:
        table: dict[str, object] = {"default": "proxy"}
        if mode == "replicate":
            table["rules"] = [{"match": {"zaaktype": ["MELDING-OR"]}, "mode": "replicate", "primary": "legacy"}]
        elif mode == "translate":
            table["rules"] = [{"match": {"zaaktype": ["MELDING-OR"]}, "mode": "translate"}]
        return {"STUF_BRIDGE_ROUTING": json.dumps(table)}

    def status(url: str, zaak: str, ref: str) -> None:
        assert post(url, "OntvangAsynchroon", sm.actualiseer_zaakstatus(identificatie=zaak, referentienummer=ref)
                    ).status_code == 200

    with running_legacy(tmp_path / "legacy", timeout=START) as endpoints:
        legacy_url = endpoints["OntvangAsynchroon"].rsplit("/zds/", 1)[0]
        env = {**gateway_env("legacy", endpoints)}
        # day one: everything proxied
        with running_gateway(tmp_path / "gw", env={**env, **routing(None)}, timeout=START) as url:
            assert post(url, "OntvangAsynchroon", zm.creeer_zaak(identificatie="0363ZK-MIG-1", referentienummer="m1")
                        ).status_code == 200
        with running_gateway(tmp_path / "gw", env={**env, **routing("replicate")}, timeout=START) as url:
            assert post(url, "OntvangAsynchroon", zm.creeer_zaak(identificatie="0363ZK-MIG-2", referentienummer="m2")
                        ).status_code == 200
            status(url, "0363ZK-MIG-1", "m1-s")  # pinned to proxy: legacy only
            wait_for(lambda: len(zgw_zaken(url, "0363ZK-MIG-2")) == 1, timeout=120)
        with running_gateway(tmp_path / "gw", env={**env, **routing("translate")}, timeout=START) as url:
            assert post(url, "OntvangAsynchroon", zm.creeer_zaak(identificatie="0363ZK-MIG-3", referentienummer="m3")
                        ).status_code == 200
            status(url, "0363ZK-MIG-2", "m2-s")  # pinned to replicate: both sides, through the outbox
            wait_for(lambda: outbox_gauges(url)["stuf_bridge_outbox_pending"] == 0, timeout=120)
            assert outbox_gauges(url)["stuf_bridge_outbox_dead"] == 0
            ours = {zaak: zgw_zaken(url, zaak) for zaak in ("0363ZK-MIG-1", "0363ZK-MIG-2", "0363ZK-MIG-3")}
            our_statussen = len(zgw_statussen(url, str(ours["0363ZK-MIG-2"][0]["url"])))
        theirs = {zaak: zgw_zaken(legacy_url, zaak) for zaak in ("0363ZK-MIG-1", "0363ZK-MIG-2", "0363ZK-MIG-3")}
        assert {zaak: len(found) for zaak, found in ours.items()} == {
            "0363ZK-MIG-1": 0, "0363ZK-MIG-2": 1, "0363ZK-MIG-3": 1}
        assert {zaak: len(found) for zaak, found in theirs.items()} == {
            "0363ZK-MIG-1": 1, "0363ZK-MIG-2": 1, "0363ZK-MIG-3": 0}
        assert len(zgw_statussen(legacy_url, str(theirs["0363ZK-MIG-1"][0]["url"]))) == 2
        assert len(zgw_statussen(legacy_url, str(theirs["0363ZK-MIG-2"][0]["url"]))) == our_statussen == 2
