"""The legs beside a message's own translation, as real processes: the replicate outbox's secondary leg towards ZGW
(the worker's translate flow, under a ``|replica`` claim, journalled like any message) and towards legacy (a second
stuf-bridge in translate mode, which answers a resend by zender + referentienummer, StUF §4.4), with the gateway
``kill -9``ed in the middle of a leg or the leg's answer lost; after the retry exactly one complete object on the
other side, nothing half-written, nothing twice (docs/recovery.md, "The outbox's legs and the back-fill")."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.registry import Service
from stuf_bridge.zgw import ZgwClients

from ..operations.messages import creeer_zaak
from ..outbox.test_replicate_http import post, zgw_statussen, zgw_zaken
from ..support.legacy import running_legacy, stand_in
from ..support.server import running_gateway
from ..support.waiting import wait_for
from .faults import SCENARIOS, snapshot
from .slow_proxy import SlowProxy
from .test_kill import kill_at_second_write

RSIN = "002220647"
START = 120.0
OUTBOX = {"poll_seconds": 0.05, "backoff_base_seconds": 0.2, "backoff_max_seconds": 0.5, "lease_seconds": 2,
          "max_attempts": 10_000}


def env_for(primary: str, endpoints: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        "STUF_BRIDGE_DEFAULT_RSIN": RSIN,
        "STUF_BRIDGE_RECOVERY": '{"settle_seconds": 2, "sweep_seconds": 1}',
        "STUF_BRIDGE_ROUTING": json.dumps({"default": {"mode": "replicate", "primary": primary}}),
        "STUF_BRIDGE_LEGACY": json.dumps({"endpoints": endpoints, "timeout": 5}),
        "STUF_BRIDGE_OUTBOX": json.dumps(OUTBOX),
        **extra,
    }


def outbox(data: Path) -> list[tuple[str, str, int]]:
    """(idem_key, status, attempts) of every outbox item in the gateway's store."""
    with sqlite3.connect(data / "stuf-bridge.sqlite3", timeout=10) as db:
        return [(str(k), str(s), int(a)) for k, s, a in db.execute(
            "SELECT idem_key, status, attempts FROM outbox ORDER BY id")]


def complete(zaak: dict[str, Any]) -> None:
    """What a clean creeerZaak (tests/operations/messages.py) makes, once."""
    assert zaak["zaken"] == 1, zaak
    assert zaak["rollen"] == [("Initiator", "999993653", "Visser")], zaak
    assert zaak["statussen"] == ["Ontvangen"], zaak
    assert zaak["zaakeigenschappen"] == 1, zaak


async def test_the_zgw_leg_killed_mid_message_or_its_answer_lost_ends_with_one_complete_zaak(
        tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    """Primary legacy (a stand-in), the ZGW leg through the outbox against a real ZGW backend behind a slow proxy.
    The gateway is killed -9 at the leg's second ZGW write (the zaak is in ZGW, its rol on the way); restarted, the
    leg's journal (under the replica claim) is resolved and the item retried: one complete zaak. Then a leg whose
    first write's answer is lost (the zaak made, the gateway never told): resolved in the process, retried, one
    complete zaak."""
    scenario = SCENARIOS["creeerZaak"]
    killed, lost = scenario.round(0, "legk"), scenario.round(1, "legl")
    data = tmp_path / "gateway"
    writes: list[str] = []
    with stand_in() as legacy, running_gateway(tmp_path / "zgw", command=("zgw", "serve"), timeout=START) as zgw_url, \
            SlowProxy(zgw_url) as proxy:
        env = env_for("legacy", legacy.endpoints("ok"), STUF_BRIDGE_ZGW_URL=proxy.url)
        pids: list[int] = []
        with running_gateway(data, env, pid=pids, timeout=START) as url:
            proxy.on_request = kill_at_second_write(pids, writes)
            answer = await asyncio.to_thread(post, url, "OntvangAsynchroon",
                                             creeer_zaak(identificatie=killed.zaak, referentienummer=killed.ref))
            assert answer.status_code == 200  # the primary's (legacy's) answer; the ZGW leg follows
            await asyncio.to_thread(wait_for, lambda: len(writes) >= 2 or not _alive(pids[0]))
            await asyncio.to_thread(wait_for, lambda: not _alive(pids[0]))
        proxy.on_request = None
        assert len(writes) >= 2 and "/zaken" in writes[0], writes
        [(_, status, _)] = outbox(data)
        assert status == "inflight"  # killed in the middle of its delivery
        logged: list[str] = []
        with running_gateway(data, env, log=logged, timeout=START) as url:
            await asyncio.to_thread(wait_for, lambda: [s for _, s, _ in outbox(data)] == ["done"])
            repaired = _journal_repair(logged, killed.ref)
            proxy.lose = {proxy.writes + 1}  # the next leg's POST zaken: done by ZGW, its answer lost
            answer = await asyncio.to_thread(post, url, "OntvangAsynchroon",
                                             creeer_zaak(identificatie=lost.zaak, referentienummer=lost.ref))
            assert answer.status_code == 200
            await asyncio.to_thread(wait_for, lambda: [s for _, s, _ in outbox(data)] == ["done", "done"])
            attempts = outbox(data)[1][2]
        async with ZgwClients.from_settings(make_settings(zgw_url=zgw_url, default_rsin=RSIN)) as zgw:
            complete(await snapshot(zgw, scenario, killed))
            complete(await snapshot(zgw, scenario, lost))
    assert repaired, "the killed leg was not repaired through its journal"
    assert attempts >= 2  # the lost answer failed the first attempt
    with sqlite3.connect(data / "stuf-bridge.sqlite3") as db:  # nothing unresolved (an answered one's waits for
        left = db.execute("SELECT j.referentienummer, j.seq, j.step, j.state FROM journal j WHERE NOT EXISTS ("
                          "SELECT 1 FROM messages m WHERE m.zender = j.zender AND m.referentienummer = "
                          "j.referentienummer AND m.state = 'done')").fetchall()  # the sweep's purge)
    assert left == []


async def test_the_legacy_leg_killed_or_its_answer_lost_is_processed_once_by_legacy(tmp_path: Path) -> None:
    """Primary zgw, the legacy leg through the outbox to a second stuf-bridge (translate mode, its own backend)
    behind a proxy. The leg's answer is lost after legacy processed it: the retry is answered by legacy from its
    own record (same zender + referentienummer), nothing twice. Then the gateway is killed -9 while legacy processes
    a leg: restarted, the item is retried after its lease, legacy answers it once."""
    lost, killed = "0363ZK-LEGACY-LOST", "0363ZK-LEGACY-KILL"
    data = tmp_path / "gateway"
    with running_legacy(tmp_path / "legacy", timeout=START) as endpoints:
        legacy_url = endpoints["OntvangAsynchroon"].rsplit("/zds/", 1)[0]
        with SlowProxy(legacy_url, write_delay=0.3) as proxy:
            proxied = {service.value: f"{proxy.url}/zds/{service.value}" for service in Service}
            env = env_for("zgw", proxied)
            pids: list[int] = []
            proxy.lose = {1}  # legacy processes the first leg; its answer never reaches the gateway
            with running_gateway(data, env, pid=pids, timeout=START) as url:
                answer = post(url, "OntvangAsynchroon", creeer_zaak(identificatie=lost, referentienummer="leg-lost"))
                assert answer.status_code == 200
                await asyncio.to_thread(wait_for, lambda: [s for _, s, _ in outbox(data)] == ["done"])
                assert outbox(data)[0][2] >= 2 and proxy.writes >= 2  # sent again after the lost answer

                def kill_when_legacy_has_it(method: str, path: str) -> None:
                    if method == "POST" and proxy.writes == 3:
                        os.kill(pids[0], signal.SIGKILL)  # legacy did it; the gateway never hears

                proxy.on_done = kill_when_legacy_has_it
                answer = post(url, "OntvangAsynchroon",
                              creeer_zaak(identificatie=killed, referentienummer="leg-kill"))
                assert answer.status_code == 200
                await asyncio.to_thread(wait_for, lambda: not _alive(pids[0]))
            proxy.on_done = None
            assert [s for _, s, _ in outbox(data)] == ["done", "inflight"]
            with running_gateway(data, env, timeout=START):
                await asyncio.to_thread(wait_for, lambda: [s for _, s, _ in outbox(data)] == ["done", "done"])
        for zaak in (lost, killed):
            [found] = zgw_zaken(legacy_url, zaak)  # once in legacy
            assert len(zgw_statussen(legacy_url, str(found["url"]))) == 1


def _journal_repair(logged: list[str], ref: str) -> list[dict[str, Any]]:
    """The restarted gateway's log events that show the killed leg's journal resolved: by the start-up sweep
    (``message_recovered``, under the replica claim) or by the retry's claim before it ran (its warning)."""
    events = [json.loads(line) for line in logged if line.startswith("{")]
    return [e for e in events if str(e.get("referentienummer", "")).startswith(ref) and (
        (e.get("event") == "message_recovered" and str(e.get("zender", "")).endswith("|replica"))
        or any("eerder" in str(w) for w in e.get("warnings") or []))]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[:1] != [b"Z"]
    except OSError:
        return False
