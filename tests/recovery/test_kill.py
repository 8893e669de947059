"""kill -9 of a real gateway process in the middle of a message against a slowed backend (a real embedded ZGW
process behind a slow proxy), restart on the same store, resend: the resend is answered Bv03 at once (the claim
of the killed process is taken over, not waited for), and ZGW holds exactly one complete result. creeerZaak at a
few spread-out moments (bench/recovery_bench.py runs many more); voegZaakdocumentToe (inline and in
bestandsdelen), voegBesluitToe and the eindstatus of a zaak with a document right after each of their writes; an
updateZaak between its two statussen; two gateways on one PostgreSQL store, on one host and on two."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from lxml import etree
from sqlalchemy.engine import make_url

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import STUF
from stuf_bridge.zgw import ZgwClients

from ..operations.messages import creeer_zaak
from ..store.conftest import pg_admin_url, pg_database_factory  # noqa: F401 - fixtures: the PostgreSQL test below
from ..support.faults import stuf_fault
from ..support.server import on_host, running_gateway, uts_namespace_refusal
from .faults import SCENARIOS, Round, snapshot
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


# --- documents, besluiten, closing a zaak: killed after each of their writes ---------------------------------------

KILLED_AT_EVERY_WRITE = ["voegZaakdocumentToe", "voegZaakdocumentToe-delen", "voegBesluitToe",
                         "actualiseerZaakstatus-eind"]


@pytest.mark.parametrize("name", KILLED_AT_EVERY_WRITE)
async def test_kill_after_each_write_then_resend(name: str, tmp_path: Path,
                                                 make_settings: Callable[..., Settings]) -> None:
    """A real gateway process killed -9 right after ZGW did its message's n-th write (the write is in ZGW, the
    gateway never saw its answer), for every n: restarted on the same store, the message resent. Each resend is
    answered Bv03 and ZGW holds what a clean run of the message makes — the document with its zaakinformatieobject
    and unlocked (its bestandsdelen joined), the besluit with its document, the closed zaak's document with its
    indicatieGebruiksrecht and no lock left — with no second document or besluit."""
    import asyncio

    scenario = SCENARIOS[name]
    env_extra = {"STUF_BRIDGE_BESTANDSDELEN_THRESHOLD_BYTES": "1000"}  # as the fault matrix: 3 KB go in parts
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve"), timeout=120) as zgw_url, \
            SlowProxy(zgw_url, write_delay=0.02) as proxy:
        env = {**ENV, **env_extra, "STUF_BRIDGE_ZGW_URL": proxy.url}
        async with ZgwClients.from_settings(make_settings(zgw_url=zgw_url, default_rsin=RSIN)) as zgw:

            async def set_up(url: str, r: Round) -> None:
                for message in scenario.setup(r):
                    assert berichtcode(await asyncio.to_thread(post, url, message)) == "Bv03"
                if scenario.prepare is not None:
                    await scenario.prepare(zgw, r)

            writes: list[str] = []

            def count(method: str, path: str) -> None:
                if method != "GET":
                    writes.append(f"{method} {path}")

            clean = scenario.round(0, "x")
            pids: list[int] = []
            with running_gateway(tmp_path / "gateway", env, pid=pids, timeout=120) as url:
                await set_up(url, clean)
                proxy.on_done = count
                assert berichtcode(await asyncio.to_thread(post, url, scenario.message(clean))) == "Bv03"
                proxy.on_done = None
            expected, total = await snapshot(zgw, scenario, clean), len(writes)
            assert total >= 2, writes
            wrong: dict[int, Any] = {}
            rounds = [scenario.round(n, "x") for n in range(1, total + 1)]
            for n, r in enumerate(rounds, start=1):
                pids.clear()
                with running_gateway(tmp_path / "gateway", env, pid=pids, timeout=120) as url:
                    await set_up(url, r)
                    writes.clear()

                    def kill_after_the_nth(method: str, path: str, n: int = n) -> None:
                        if method != "GET":
                            writes.append(f"{method} {path}")
                            if len(writes) == n:
                                os.kill(pids[0], signal.SIGKILL)  # done in ZGW; the gateway never learns it

                    proxy.on_done = kill_after_the_nth
                    message = scenario.message(r)
                    result = await asyncio.to_thread(_try, lambda: post(url, message))  # noqa: B023 - awaited here
                    proxy.on_done = None
                    assert isinstance(result, httpx.HTTPError), (n, result)  # killed before it answered
                with running_gateway(tmp_path / "gateway", env, timeout=120) as url:
                    response = await asyncio.to_thread(post, url, scenario.message(r), 60)
                found = await snapshot(zgw, scenario, r)
                if response.status_code != 200 or berichtcode(response) != "Bv03" or found != expected:
                    wrong[n] = {"killed_after": writes[-1] if writes else None, "resend": response.text[-800:],
                                "zgw": found}
    assert not wrong, f"{name}: expected {expected}; wrong after the write: {wrong}"


# --- two hosts: a holder on another host is gone only when its lease ran out ------------------------------------

HOLDER_LEASE = 6.0  # gateway A's recovery.lease_seconds: renewed every lease/3 while it runs


def _two_hosts_env(database: str, **recovery: float) -> dict[str, str]:
    return {**ENV, "STUF_BRIDGE_DATABASE_URL": database, "STUF_BRIDGE_IDEMPOTENCY_WAIT_SECONDS": "1",
            "STUF_BRIDGE_RECOVERY": json.dumps({"settle_seconds": 2, **recovery})}


async def _lease_until(database: str, host: str) -> dt.datetime:
    """The end of the lease of the process the journal knows on ``host`` (table ``journal_owners``)."""
    connection = await asyncpg.connect(make_url(database).set(drivername="postgresql")
                                       .render_as_string(hide_password=False), timeout=5)
    try:
        rows = await connection.fetch("SELECT lease_until FROM journal_owners WHERE host = $1", host)
    finally:
        await connection.close()
    assert len(rows) == 1, f"{len(rows)} processes registered on {host!r}"
    until: dt.datetime = rows[0]["lease_until"]
    return until


async def _seconds_left(database: str, host: str) -> float:
    return (await _lease_until(database, host) - dt.datetime.now(dt.UTC)).total_seconds()


def _events(log: list[str], event: str, referentienummer: str) -> list[dict[str, Any]]:
    found = []
    for line in list(log):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == event and entry.get("referentienummer") == referentienummer:
            found.append(entry)
    return found


def kill_at_second_write(pids: list[int], writes: list[str]) -> Callable[[str, str], None]:
    def kill(method: str, path: str) -> None:
        if method != "GET":
            writes.append(f"{method} {path}")
            if len(writes) == 2:  # the zaak is in ZGW, its rol on the way
                os.kill(pids[0], signal.SIGKILL)
    return kill


@pytest.fixture
def two_hosts() -> None:
    refusal = uts_namespace_refusal()
    if refusal is not None:
        pytest.skip(refusal)


@pytest.mark.usefixtures("two_hosts")
async def test_two_gateways_on_two_hosts_the_resend_takes_over_when_the_lease_ran_out(
    tmp_path: Path, make_settings: Callable[..., Settings], pg_database_factory: Callable[[], str],  # noqa: F811
) -> None:
    """Gateway A and B on one PostgreSQL store, each in a UTS namespace with a hostname of its own: to the journal
    they run on two hosts, so B cannot look at A's pid and finds A gone only when A's lease ran out. A is killed
    -9 in the middle of a creeerZaak. The client's resend to B while A's lease still runs is answered "Het
    bericht wordt al verwerkt" (after ``idempotency_wait_seconds``, 1 s here); the resend after the lease ran out
    takes A's claim over, undoes A's half zaak and runs the message: Bv03 at once, one complete zaak in ZGW. B's
    sweep runs only at its start here (lease 120 s, sweep 3600 s): the repair is the resend's."""
    import asyncio

    scenario = SCENARIOS["creeerZaak"]
    round_ = scenario.round(0, "h")
    message = creeer_zaak(identificatie=round_.zaak, referentienummer=round_.ref)
    database = pg_database_factory()
    writes: list[str] = []
    log_b: list[str] = []
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve"), timeout=120) as zgw_url, \
            SlowProxy(zgw_url) as proxy:
        env_a = {**_two_hosts_env(database, lease_seconds=HOLDER_LEASE), "STUF_BRIDGE_ZGW_URL": proxy.url}
        env_b = {**_two_hosts_env(database, lease_seconds=120, sweep_seconds=3600), "STUF_BRIDGE_ZGW_URL": proxy.url}
        pids: list[int] = []
        with running_gateway(tmp_path / "a", env_a, pid=pids, timeout=120, prefix=on_host("stuf-bridge-a")) as a, \
                running_gateway(tmp_path / "b", env_b, log=log_b, timeout=120, prefix=on_host("stuf-bridge-b")) as b:
            proxy.on_request = kill_at_second_write(pids, writes)
            result = await asyncio.to_thread(_try, lambda: post(a, message))
            proxy.on_request = None
            assert isinstance(result, httpx.HTTPError)  # A died before answering
            left = await _seconds_left(database, "stuf-bridge-a")
            runs_out = time.monotonic() + left
            early = await asyncio.to_thread(post, b, message)
            early_at = time.monotonic()
            await asyncio.sleep(max(0.0, runs_out - time.monotonic()) + 0.3)
            started = time.monotonic()
            late = await asyncio.to_thread(post, b, message)
            seconds = time.monotonic() - started
        async with ZgwClients.from_settings(make_settings(zgw_url=zgw_url, default_rsin=RSIN)) as zgw:
            zaak = await snapshot(zgw, scenario, round_)
    assert len(writes) >= 2 and "zaken" in writes[0], writes
    assert early_at < runs_out, f"the early resend ended {early_at - runs_out:.1f} s after A's lease ran out"
    assert stuf_fault(early).reason == "message-in-progress", early.text
    assert late.status_code == 200 and berichtcode(late) == "Bv03", late.text
    assert seconds < 5, f"the resend after the lease took {seconds:.1f} s"
    assert zaak["zaken"] == 1, zaak
    assert zaak["rollen"] == [("Initiator", "999993653", "Visser")]
    assert zaak["statussen"] == ["Ontvangen"]
    assert zaak["zaakeigenschappen"] == 1
    answered = [entry for entry in _events(log_b, "message", round_.ref) if entry.get("outcome") == "ok"]
    assert len(answered) == 1 and any("eerst teruggedraaid" in w for w in answered[0].get("warnings") or []), \
        answered  # the resend undid A's half zaak itself
    assert not _events(log_b, "message_recovered", round_.ref)  # not B's sweep


@pytest.mark.usefixtures("two_hosts")
async def test_two_gateways_on_two_hosts_the_sweep_takes_over_when_the_lease_ran_out(
    tmp_path: Path, make_settings: Callable[..., Settings], pg_database_factory: Callable[[], str],  # noqa: F811
) -> None:
    """As above, without a resend: A (on its own host) renews its lease while it runs; killed -9 in the middle of a
    creeerZaak, its lease runs out, and B's sweep (every 0.5 s) then — not before — takes the message over and
    undoes A's half zaak, giving up the claim. ZGW holds no zaak of the message, and the client's resend to B is
    processed at once: Bv03, one complete zaak."""
    import asyncio

    scenario = SCENARIOS["creeerZaak"]
    round_ = scenario.round(1, "h")
    message = creeer_zaak(identificatie=round_.zaak, referentienummer=round_.ref)
    database = pg_database_factory()
    writes: list[str] = []
    log_b: list[str] = []
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve"), timeout=120) as zgw_url, \
            SlowProxy(zgw_url) as proxy:
        env_a = {**_two_hosts_env(database, lease_seconds=HOLDER_LEASE), "STUF_BRIDGE_ZGW_URL": proxy.url}
        env_b = {**_two_hosts_env(database, lease_seconds=120, sweep_seconds=0.5), "STUF_BRIDGE_ZGW_URL": proxy.url}
        pids: list[int] = []
        with running_gateway(tmp_path / "a", env_a, pid=pids, timeout=120, prefix=on_host("stuf-bridge-a")) as a, \
                running_gateway(tmp_path / "b", env_b, log=log_b, timeout=120, prefix=on_host("stuf-bridge-b")) as b:
            first_lease = await _lease_until(database, "stuf-bridge-a")
            await asyncio.sleep(HOLDER_LEASE / 3 + 0.5)
            renewed = await _lease_until(database, "stuf-bridge-a")
            proxy.on_request = kill_at_second_write(pids, writes)
            result = await asyncio.to_thread(_try, lambda: post(a, message))
            proxy.on_request = None
            assert isinstance(result, httpx.HTTPError)  # A died before answering
            lease_until = await _lease_until(database, "stuf-bridge-a")  # A renews it no more
            deadline = time.monotonic() + HOLDER_LEASE + 15
            while not _events(log_b, "message_recovered", round_.ref) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            recovered = _events(log_b, "message_recovered", round_.ref)
            async with ZgwClients.from_settings(make_settings(zgw_url=zgw_url, default_rsin=RSIN)) as zgw:
                before_resend = await snapshot(zgw, scenario, round_)
            started = time.monotonic()
            response = await asyncio.to_thread(post, b, message)
            seconds = time.monotonic() - started
        async with ZgwClients.from_settings(make_settings(zgw_url=zgw_url, default_rsin=RSIN)) as zgw:
            zaak = await snapshot(zgw, scenario, round_)
    assert renewed > first_lease, (first_lease, renewed)  # the live holder's lease is renewed
    assert len(writes) >= 2 and "zaken" in writes[0], writes
    assert len(recovered) == 1 and recovered[0]["outcome"] == "clean", recovered
    late = (dt.datetime.fromisoformat(recovered[0]["timestamp"]) - lease_until).total_seconds()
    assert late > 0, f"swept {-late:.2f} s before A's lease ran out"
    assert late < 5, f"swept only {late:.1f} s after A's lease ran out"
    assert before_resend == {"zaken": 0}, before_resend  # A's half zaak undone by the sweep
    assert response.status_code == 200 and berichtcode(response) == "Bv03", response.text
    assert seconds < 5, f"the resend after the sweep took {seconds:.1f} s (the claim was given up)"
    assert zaak["zaken"] == 1, zaak
    assert zaak["rollen"] == [("Initiator", "999993653", "Visser")]
    assert zaak["statussen"] == ["Ontvangen"]
