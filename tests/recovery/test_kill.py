"""kill -9 of a real gateway process in the middle of a creeerZaak against a slowed backend (a real embedded ZGW
process behind a slow proxy), restart on the same store, resend: the resend is answered Bv03 at once (the claim
of the killed process is taken over, not waited for), and ZGW holds exactly one complete zaak. A few rounds at
spread-out moments; bench/recovery_bench.py runs many more."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import STUF
from stuf_bridge.zgw import ZgwClients

from ..operations.messages import creeer_zaak
from ..store.conftest import pg_admin_url, pg_database_factory  # noqa: F401 - fixtures: the PostgreSQL test below
from ..support.server import running_gateway
from .faults import SCENARIOS, snapshot
from .slow_proxy import SlowProxy

RSIN = "002220647"
ENV = {"STUF_BRIDGE_DEFAULT_RSIN": RSIN, "STUF_BRIDGE_RECOVERY": '{"settle_seconds": 2}',
       "STUF_BRIDGE_ZGW_TIMEOUT": "20"}


def post(url: str, message: tuple[bytes, dict[str, str]], timeout: float = 60) -> httpx.Response:
    body, headers = message
    return httpx.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=headers, timeout=timeout)


def send_and_kill(url: str, pid: int, message: tuple[bytes, dict[str, str]], after: float) -> None:
    """Send ``message`` to the gateway at ``url`` and kill -9 the gateway process ``after`` seconds later."""
    sender = threading.Thread(target=lambda: _try(lambda: post(url, message)), daemon=True)
    sender.start()
    time.sleep(after)
    os.kill(pid, signal.SIGKILL)
    sender.join(30)


def _try(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except httpx.HTTPError as exc:
        return exc


def berichtcode(response: httpx.Response) -> str | None:
    return etree.fromstring(response.content).findtext(f".//{{{STUF}}}berichtcode")


KILL_AFTER = (0.3, 0.9)  # seconds into a creeerZaak of about 1 s through the slow proxy


async def test_kill_mid_creeer_zaak_then_resend(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    """Round n: the gateway started for the resend of round n-1 is killed in the middle of message n."""
    import asyncio

    scenario = SCENARIOS["creeerZaak"]
    rounds = [scenario.round(number, "k") for number in range(len(KILL_AFTER))]
    messages = [creeer_zaak(identificatie=r.zaak, referentienummer=r.ref) for r in rounds]
    resends: list[tuple[httpx.Response, float]] = []
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve"), timeout=120) as zgw_url, \
            SlowProxy(zgw_url) as proxy:
        env = {**ENV, "STUF_BRIDGE_ZGW_URL": proxy.url}
        for number, after in enumerate((*KILL_AFTER, None)):
            pids: list[int] = []
            with running_gateway(tmp_path / "gateway", env, pid=pids, timeout=120) as url:
                if number > 0:
                    started = time.monotonic()
                    response = await asyncio.to_thread(post, url, messages[number - 1])
                    resends.append((response, time.monotonic() - started))
                if after is not None:
                    await asyncio.to_thread(send_and_kill, url, pids[0], messages[number], after)
        settings = make_settings(zgw_url=zgw_url, default_rsin=RSIN)
        async with ZgwClients.from_settings(settings) as zgw:
            found = [await snapshot(zgw, scenario, r) for r in rounds]
    for (response, seconds), zaak in zip(resends, found, strict=True):
        assert response.status_code == 200 and berichtcode(response) == "Bv03", response.text
        assert seconds < 15, f"the resend took {seconds:.1f} s (a dead process's claim must not be waited for)"
        assert zaak["zaken"] == 1, zaak
        assert zaak["rollen"] == [("Initiator", "999993653", "Visser")]
        assert zaak["statussen"] == ["Ontvangen"]
        assert zaak["zaakeigenschappen"] == 1


async def test_kill_between_the_claim_and_the_first_journal_row(tmp_path: Path,
                                                               make_settings: Callable[..., Settings]) -> None:
    """kill -9 of a real gateway process after it claimed a creeerZaak but before its first write (and so before
    any journal row): the claim itself names its holder, so the resend to the restarted gateway takes it over at
    once instead of waiting for ``idempotency_stale_seconds`` (here the resend would give up after 5 s), and ZGW
    ends with exactly one complete zaak."""
    import asyncio
    import sqlite3

    scenario = SCENARIOS["creeerZaak"]
    round_ = scenario.round(0, "c")
    message = creeer_zaak(identificatie=round_.zaak, referentienummer=round_.ref)
    env = {**ENV, "STUF_BRIDGE_IDEMPOTENCY_WAIT_SECONDS": "5"}
    seen: list[str] = []
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve"), timeout=120) as zgw_url, \
            SlowProxy(zgw_url) as proxy:
        env["STUF_BRIDGE_ZGW_URL"] = proxy.url
        pids: list[int] = []
        with running_gateway(tmp_path / "gateway", env, pid=pids, timeout=120) as url:
            def kill_at_first(method: str, path: str) -> None:
                if not seen:
                    os.kill(pids[0], signal.SIGKILL)  # before this request gets an answer
                seen.append(f"{method} {path}")

            proxy.on_request = kill_at_first
            result = await asyncio.to_thread(_try, lambda: post(url, message))
            assert isinstance(result, httpx.HTTPError)  # the sender got no answer
        proxy.on_request = None
        with sqlite3.connect(tmp_path / "gateway" / "stuf-bridge.sqlite3") as db:
            claim = db.execute("SELECT state, owner FROM messages WHERE referentienummer = ?", (round_.ref,)).fetchone()
            journal_rows = db.execute("SELECT count(*) FROM journal WHERE referentienummer = ?",
                                      (round_.ref,)).fetchone()[0]
        assert claim is not None and claim[0] == "pending" and claim[1], claim  # claimed, and by whom
        assert journal_rows == 0, f"killed after the first journal row (first request: {seen[:1]})"
        with running_gateway(tmp_path / "gateway", env, timeout=120) as url:
            started = time.monotonic()
            response = await asyncio.to_thread(post, url, message)
            seconds = time.monotonic() - started
        async with ZgwClients.from_settings(make_settings(zgw_url=zgw_url, default_rsin=RSIN)) as zgw:
            zaak = await snapshot(zgw, scenario, round_)
    assert response.status_code == 200 and berichtcode(response) == "Bv03", response.text
    assert seconds < 5, f"the resend took {seconds:.1f} s (the dead holder's claim must be taken over at once)"
    assert zaak["zaken"] == 1, zaak
    assert zaak["rollen"] == [("Initiator", "999993653", "Visser")]
    assert zaak["statussen"] == ["Ontvangen"]


async def test_two_gateways_on_postgresql_one_killed_mid_message(
    tmp_path: Path, make_settings: Callable[..., Settings], pg_database_factory: Callable[[], str],  # noqa: F811
) -> None:
    """Two real gateway processes on one PostgreSQL store and one ZGW backend. Gateway A is killed -9 in the middle
    of a creeerZaak (at its second write: the zaak is in ZGW, its rol on the way); the client resends to gateway B.
    B sees that the claim's holder is gone, takes the message over at once, resolves A's journal and runs the
    message: Bv03, and ZGW holds exactly one complete zaak."""
    import asyncio

    scenario = SCENARIOS["creeerZaak"]
    round_ = scenario.round(0, "p")
    message = creeer_zaak(identificatie=round_.zaak, referentienummer=round_.ref)
    env = {**ENV, "STUF_BRIDGE_DATABASE_URL": pg_database_factory(), "STUF_BRIDGE_IDEMPOTENCY_WAIT_SECONDS": "5"}
    writes: list[str] = []
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve"), timeout=120) as zgw_url, \
            SlowProxy(zgw_url) as proxy:
        env["STUF_BRIDGE_ZGW_URL"] = proxy.url
        pids: list[int] = []
        with running_gateway(tmp_path / "a", env, pid=pids, timeout=120) as gateway_a, \
                running_gateway(tmp_path / "b", env, timeout=120) as gateway_b:
            def kill_a_at_second_write(method: str, path: str) -> None:
                if method != "GET":
                    writes.append(f"{method} {path}")
                    if len(writes) == 2:
                        os.kill(pids[0], signal.SIGKILL)

            proxy.on_request = kill_a_at_second_write
            result = await asyncio.to_thread(_try, lambda: post(gateway_a, message))
            proxy.on_request = None
            assert isinstance(result, httpx.HTTPError)  # A died before answering
            started = time.monotonic()
            response = await asyncio.to_thread(post, gateway_b, message)
            seconds = time.monotonic() - started
        async with ZgwClients.from_settings(make_settings(zgw_url=zgw_url, default_rsin=RSIN)) as zgw:
            zaak = await snapshot(zgw, scenario, round_)
    assert len(writes) >= 2 and "zaken" in writes[0], writes
    assert response.status_code == 200 and berichtcode(response) == "Bv03", response.text
    assert seconds < 5, f"the resend to B took {seconds:.1f} s (A's claim must be taken over at once)"
    assert zaak["zaken"] == 1, zaak
    assert zaak["rollen"] == [("Initiator", "999993653", "Visser")]
    assert zaak["statussen"] == ["Ontvangen"]
    assert zaak["zaakeigenschappen"] == 1


async def test_kill_between_the_two_statussen_of_an_updatezaak(tmp_path: Path,
                                                               make_settings: Callable[..., Settings]) -> None:
    """kill -9 of a real gateway process right after its updateZaak's first status was written in ZGW, before the
    gateway saw the answer (and so before it could journal the second status's intent, were that journalled only
    when it is sent). Every status's intent is journalled up front: after the restart the resend finds the first
    status in ZGW, writes the second (rolls it forward) and answers Bv03 — ZGW then holds what a clean run makes,
    not the message counted complete with a status missing."""
    import asyncio

    scenario = SCENARIOS["updateZaak-twee-statussen"]
    clean, killed = scenario.round(0, "s"), scenario.round(1, "s")
    statussen: list[str] = []
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve"), timeout=120) as zgw_url, \
            SlowProxy(zgw_url, write_delay=0.02) as proxy:
        env = {**ENV, "STUF_BRIDGE_ZGW_URL": proxy.url}
        pids: list[int] = []
        with running_gateway(tmp_path / "gateway", env, pid=pids, timeout=120) as url:
            for r in (clean, killed):
                for setup in scenario.setup(r):
                    assert berichtcode(await asyncio.to_thread(post, url, setup)) == "Bv03"
            assert berichtcode(await asyncio.to_thread(post, url, scenario.message(clean))) == "Bv03"

            def kill_after_the_first_status(method: str, path: str) -> None:
                if method == "POST" and "/statussen" in path:
                    statussen.append(path)
                    if len(statussen) == 1:
                        os.kill(pids[0], signal.SIGKILL)  # the status is in ZGW; its answer never arrives

            proxy.on_done = kill_after_the_first_status
            result = await asyncio.to_thread(_try, lambda: post(url, scenario.message(killed)))
            proxy.on_done = None
            assert isinstance(result, httpx.HTTPError)  # the sender got no answer
        assert statussen, "the gateway never posted a status"
        with running_gateway(tmp_path / "gateway", env, timeout=120) as url:
            response = await asyncio.to_thread(post, url, scenario.message(killed))
        async with ZgwClients.from_settings(make_settings(zgw_url=zgw_url, default_rsin=RSIN)) as zgw:
            expected, found = await snapshot(zgw, scenario, clean), await snapshot(zgw, scenario, killed)
    assert response.status_code == 200 and berichtcode(response) == "Bv03", response.text
    assert len(expected["statussen"]) == 3, expected  # Ontvangen (the creeerZaak), then the update's two
    assert found == expected
