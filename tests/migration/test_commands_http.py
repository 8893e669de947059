"""The commands over real HTTP against the legacy stuf-bridge and the ZGW backend, as processes with the gateway's
settings from the environment: ``migrate`` killed halfway and resumed (every zaak exactly once, a report),
``reconcile`` finding a planted difference and ``--repair`` fixing it, ``cutover`` refusing while the outbox has a
dead item and then flipping the routing (which a running gateway follows)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stuf_bridge.migration.store import MigrationStore
from stuf_bridge.store import create_store
from tests.operations import details_messages as dtm
from tests.support.server import running_gateway

from ..support.waiting import wait_for
from .conftest import AUTH, START, Sides, command, post

ZAKEN = 30  # the benchmark (bench/migration_bench.py) moves 200


def ledger_done(data: Path) -> int:
    path = data / "stuf-bridge.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM migration_ledger WHERE outcome = 'done'").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not there yet
        return 0


def test_migrate_killed_halfway_and_resumed_copies_every_zaak_exactly_once(sides: Sides, tmp_path: Path) -> None:
    names = [f"0363MG-{n:03d}" for n in range(ZAKEN)]
    for name in names:
        sides.legacy_zaak(name, documents=1, size=50_000)
    listing = tmp_path / "zaken.txt"
    listing.write_text("# the archive\n" + "\n".join(names) + "\n\n" + names[0] + "\n")
    data = tmp_path / "front"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_")}
    env.update({"STUF_BRIDGE_LOG_LEVEL": "WARNING", **sides.env()})
    first = subprocess.Popen([sys.executable, "-m", "stuf_bridge", "migrate", "--zaken", str(listing),
                              "--concurrency", "3", "--progress-seconds", "1", "--data-dir", str(data)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: ledger_done(data) >= ZAKEN // 3 or first.poll() is not None, timeout=300)
    finally:
        first.send_signal(signal.SIGKILL)  # no clean stop: copies under way are cut off
        out, _ = first.communicate()
    killed_at = ledger_done(data)
    assert 0 < killed_at < ZAKEN, "the first run must be killed halfway"
    assert "migrate: " in out and "zaken" in out  # plain progress lines (not a terminal)

    report = tmp_path / "report.json"
    second = command(sides.env(), data, "migrate", "--zaken", "-", "--concurrency", "3", "--report", str(report),
                     stdin=listing.read_text())
    assert second.returncode == 0, second.stderr
    body = json.loads(report.read_text())
    outcomes = {line["identificatie"]: line["outcome"] for line in body["zaken"]}
    assert sorted(outcomes) == names
    assert set(outcomes.values()) <= {"copied", "skipped"}
    assert sum(o == "skipped" for o in outcomes.values()) >= killed_at
    assert body["summary"]["failed"] == 0
    for name in names:
        [zaak] = sides.zaken(name)  # exactly once
        assert sides.documenten(str(zaak["url"])) == [f"{name}-D0"]
        assert len(sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie=f"{name}-D0")) == 1

    third = command(sides.env(), data, "migrate", "--zaken", str(listing), "--report", str(tmp_path / "r.csv"))
    assert third.returncode == 0
    rows = (tmp_path / "r.csv").read_text().splitlines()
    assert rows[0].startswith("identificatie,outcome,reason,documents")
    assert all(",skipped," in row for row in rows[1:]) and len(rows) == ZAKEN + 1


@contextlib.contextmanager
def migrate_killed(sides: Sides, data: Path, name: str, suffix: str, nth: int
                   ) -> Iterator[tuple[dict[str, str], list[str]]]:
    """``stuf-bridge migrate`` of zaak ``name`` killed -9 once ZGW did its ``nth`` POST to a path ending in ``suffix``
    (the gateway never sees that answer). Every request goes through a proxy, which stays up for what the block runs
    (commands with the settings given: the same ZGW URLs). Yields those settings and the POSTs seen."""
    from tests.recovery.slow_proxy import SlowProxy

    posted: list[str] = []
    with SlowProxy(sides.zgw, write_delay=0.0, read_delay=0.0) as proxy:
        settings = sides.env(STUF_BRIDGE_RECOVERY=json.dumps({"settle_seconds": 1}), STUF_BRIDGE_ZGW_URL=proxy.url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_")}
        env.update({"STUF_BRIDGE_LOG_LEVEL": "WARNING", **settings})
        run = subprocess.Popen([sys.executable, "-m", "stuf_bridge", "migrate", "--zaken", "-", "--data-dir",
                                str(data)], env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, text=True)

        def kill_at_the_nth(method: str, path: str) -> None:
            if method == "POST" and path.endswith(suffix):
                posted.append(path)
                if len(posted) == nth:
                    run.send_signal(signal.SIGKILL)

        proxy.on_done = kill_at_the_nth
        try:
            assert run.stdin is not None
            run.stdin.write(name + "\n")
            run.stdin.close()
            run.wait(timeout=120)
        finally:
            proxy.on_done = None
        yield settings, posted


def test_a_copy_killed_halfway_is_undone_by_recover_and_copied_whole_by_the_next_run(sides: Sides,
                                                                                      tmp_path: Path) -> None:
    """``migrate`` killed -9 in the middle of a zaak's copy (the zaak in ZGW, some of its documents): ``stuf-bridge
    recover run`` undoes the copy as a whole (not only the replica message under way: the zaak is complete as a
    message, its documents are not), the ledger says so, and the next ``migrate`` copies the zaak whole, once."""
    name, documents = "0363KL-001", 6
    sides.legacy_zaak(name, documents=documents, size=300_000)
    data = tmp_path / "front"
    # halfway, whatever the machine's speed: three of the six documents linked to the zaak (the third one's answer
    # never arrives)
    with migrate_killed(sides, data, name, "/zaakinformatieobjecten", 3) as (settings, linked):
        [half] = sides.zaken(name)
        assert len(linked) == 3 and len(sides.documenten(str(half["url"]))) == 3, "the copy must be killed halfway"
        with sqlite3.connect(data / "stuf-bridge.sqlite3") as conn:
            assert conn.execute("SELECT outcome FROM migration_ledger WHERE identificatie = ?",
                                (name,)).fetchone() == ("copying",)

        listed = command(settings, data, "recover", "list")
        assert f"copying     zaak {name} (back-fill copy; gone by " in listed.stdout, listed.stdout
        recovered = command(settings, data, "recover", "run")
        assert recovered.returncode == 0, recovered.stdout + recovered.stderr
        assert f"back-fill copy of zaak {name}: teruggedraaid" in recovered.stdout, recovered.stdout
        assert sides.zaken(name) == []  # nothing half-written left
        for n in range(documents):
            assert sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie=f"{name}-D{n}") == []
        with sqlite3.connect(data / "stuf-bridge.sqlite3") as conn:
            outcome, reason = conn.execute("SELECT outcome, reason FROM migration_ledger WHERE identificatie = ?",
                                           (name,)).fetchone()
            assert conn.execute("SELECT count(*) FROM migration_locks").fetchone() == (0,)
        assert outcome == "failed" and "afgebroken" in reason

        again = command(settings, data, "migrate", "--zaken", "-", stdin=name + "\n")
        assert again.returncode == 0, again.stderr
        [zaak] = sides.zaken(name)  # once, whole
        assert sides.documenten(str(zaak["url"])) == [f"{name}-D{n}" for n in range(documents)]
        for n in range(documents):
            assert len(sides.zgw_get("documenten", "enkelvoudiginformatieobjecten",
                                     identificatie=f"{name}-D{n}")) == 1


def test_a_copy_killed_after_a_document_landed_then_migrate_again_keeps_the_new_copy_whole(
        sides: Sides, tmp_path: Path) -> None:
    """``migrate`` killed -9 right after ZGW made one of the zaak's documents (the answer never reached it: the
    step journal of that replica message holds an intent without the document's URL). The next ``migrate`` resolves
    the killed run's messages before it copies anew: the intent, found by the document's identificatie, must be
    settled against the old document, not later against the new copy's one with the same identificatie (a later
    ``recover run`` would then delete a document of the finished copy)."""
    name, documents = "0363KL-002", 3
    sides.legacy_zaak(name, documents=documents, size=20_000)
    data = tmp_path / "front"
    # the second document is in ZGW; its answer never arrives
    with migrate_killed(sides, data, name, "/enkelvoudiginformatieobjecten", 2) as (settings, posted):
        assert len(posted) == 2, posted
        [half] = sides.zaken(name)
        assert len(sides.documenten(str(half["url"]))) == 1  # the second document made, not yet linked

        again = command(settings, data, "migrate", "--zaken", "-", stdin=name + "\n")
        assert again.returncode == 0, again.stderr
        later = command(settings, data, "recover", "run")  # whatever the killed run left in the journal: settled
        assert later.returncode == 0, later.stdout + later.stderr
    [zaak] = sides.zaken(name)
    assert sides.documenten(str(zaak["url"])) == [f"{name}-D{n}" for n in range(documents)], later.stdout
    for n in range(documents):
        assert len(sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie=f"{name}-D{n}")) == 1


def test_ctrl_c_stops_cleanly_with_a_report(sides: Sides, tmp_path: Path) -> None:
    names = [f"0363CC-{n:02d}" for n in range(12)]
    for name in names:
        sides.legacy_zaak(name, documents=1)
    data = tmp_path / "front"
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_")}
    env.update({"STUF_BRIDGE_LOG_LEVEL": "WARNING", **sides.env()})
    listing = tmp_path / "zaken.txt"
    listing.write_text("\n".join(names))
    run = subprocess.Popen([sys.executable, "-m", "stuf_bridge", "migrate", "--zaken", str(listing),
                            "--concurrency", "1", "--report", str(report), "--data-dir", str(data)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: ledger_done(data) >= 2 or run.poll() is not None, timeout=300)
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130, err
    assert "migrate: stopping" in err
    outcomes = [line["outcome"] for line in json.loads(report.read_text())["zaken"]]
    assert len(outcomes) == len(names) and "not-started" in outcomes
    assert set(outcomes) <= {"copied", "not-started"}
    with sqlite3.connect(data / "stuf-bridge.sqlite3") as conn:  # nothing left half-way
        states = dict(conn.execute("SELECT identificatie, outcome FROM migration_ledger").fetchall())
    assert set(states.values()) == {"done"} and len(states) == outcomes.count("copied")
    for name, outcome in zip(names, outcomes, strict=True):
        assert len(sides.zaken(name)) == (1 if outcome == "copied" else 0)


def test_migrate_reports_a_zaak_legacy_does_not_have_and_exits_non_zero(sides: Sides, tmp_path: Path) -> None:
    sides.legacy_zaak("0363MG-OK")
    report = tmp_path / "report.csv"
    done = command(sides.env(), tmp_path / "front", "migrate", "--zaken", "-", "--report", str(report),
                   stdin="0363MG-OK\n0363MG-MISSING\n")
    assert done.returncode == 1
    assert "failed 0363MG-MISSING: het legacy-zaaksysteem kent deze zaak niet" in done.stderr
    lines = report.read_text().splitlines()
    assert lines[1].startswith("0363MG-OK,copied,") and lines[2].startswith("0363MG-MISSING,not-in-legacy,")


def test_reconcile_finds_a_planted_difference_and_repair_fixes_it(sides: Sides, tmp_path: Path) -> None:
    names = ["0363RC-1", "0363RC-2", "0363RC-3"]
    for name in names:
        sides.legacy_zaak(name, documents=1, zaak_relations="")
    data = tmp_path / "front"
    assert command(sides.env(), data, "migrate", "--zaken", "-", stdin="\n".join(names)).returncode == 0
    in_sync = command(sides.env(), data, "reconcile", "--zaaktype", "MELDING-OR", "--zaken", "-",
                      stdin="\n".join(names))
    assert in_sync.returncode == 0, in_sync.stdout + in_sync.stderr
    assert in_sync.stdout.splitlines()[-1].endswith(" in-sync")  # (the module's other zaken of the zaaktype too)

    [zaak] = sides.zaken("0363RC-2")  # an edit in ZGW that no message made (an admin UI, an import)
    httpx.patch(str(zaak["url"]), json={"omschrijving": "Gewijzigd in ZGW"}, auth=AUTH,
                headers={"Content-Crs": "EPSG:4326", "Accept-Crs": "EPSG:4326"}, timeout=60).raise_for_status()
    found = command(sides.env(), data, "reconcile", "--zaaktype", "MELDING-OR", "--zaken", "-",
                    stdin="\n".join(names))
    assert found.returncode == 1
    differing = [line for line in found.stdout.splitlines() if line.startswith("different")]
    assert differing == ["different       0363RC-2: omschrijving"]

    repaired = command(sides.env(), data, "reconcile", "--zaaktype", "MELDING-OR", "--repair", "--zaken", "-",
                       stdin="\n".join(names))
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "0363RC-2" in repaired.stdout and "hersteld uit legacy" in repaired.stdout
    [zaak] = sides.zaken("0363RC-2")
    assert zaak["omschrijving"] == "Melding losliggende stoeptegels"
    assert sides.documenten(str(zaak["url"])) == ["0363RC-2-D0"]
    again = command(sides.env(), data, "reconcile", "--zaaktype", "MELDING-OR", "--zaken", "-",
                    stdin="\n".join(names))
    assert again.returncode == 0


def test_cutover_refuses_with_a_dead_outbox_item_then_flips_the_routing(sides: Sides, tmp_path: Path) -> None:
    sides.legacy_zaak("0363CO-1")
    data = tmp_path / "front"
    routing = {"default": "proxy"}
    assert command(sides.env(routing), data, "migrate", "--zaken", "-", stdin="0363CO-1\n").returncode == 0

    async def plant_dead_item() -> int:
        async with create_store(f"sqlite:///{data / 'stuf-bridge.sqlite3'}") as store:
            await MigrationStore(store).enqueue("0363CO-1", "legacy:OntvangAsynchroon", b"<x/>", "planted-dead")
            item = await store.claim_outbox(dt.timedelta(seconds=60))  # as the worker: claimed, then dead
            assert item is not None
            await store.outbox_dead(item.id, "StUF fout plek client")
            return item.id

    dead = asyncio.run(plant_dead_item())
    refused = command(sides.env(routing), data, "cutover", "--zaaktype", "MELDING-OR")
    assert refused.returncode == 1
    assert f"outbox-item {dead} (dead, legacy:OntvangAsynchroon) voor 0363CO-1" in refused.stdout
    assert "cutover refused: 1 outbox-item(s) nog niet afgeleverd of dood" in refused.stderr

    assert command(sides.env(routing), data, "outbox", "skip", str(dead)).returncode == 0
    done = command(sides.env(routing), data, "cutover", "--zaaktype", "MELDING-OR", "--actor", "test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cutover MELDING-OR: translate, primary zgw; audit record 1" in done.stdout
    sequences = dict(line.removeprefix("sequence ").split(" = ") for line in done.stdout.splitlines()
                     if line.startswith("sequence "))
    assert int(sequences["identificatie:zaak|gemeentecode=0363|jaar=" + time.strftime("%Y")]) >= 100
    history = command(sides.env(routing), data, "cutover", "--history")
    [record] = [json.loads(line) for line in history.stdout.splitlines()]
    assert record["zaaktypen"] == ["MELDING-OR"] and record["forced"] is False and record["actor"] == "test"

    # a running gateway whose table says proxy now answers the cut-over zaaktype from ZGW
    log: list[str] = []
    with running_gateway(data, env=sides.env(routing), log=log, timeout=START) as url:
        answer = post(url, "BeantwoordVraag", dtm.geef_zaakdetails(identificatie="0363CO-1",
                                                                     referentienummer="co-q"))
        assert answer.status_code == 200
    [line] = [json.loads(x) for x in log if x.startswith("{") and json.loads(x).get("event") == "message"]
    assert (line["route"], line["rule"]) == ("translate", "cutover:MELDING-OR")


@pytest.mark.parametrize("flags", [["--force"], ["--zaaktype", "X", "--force"]])
def test_cutover_force_needs_a_reason(sides: Sides, tmp_path: Path, flags: list[str]) -> None:
    done = command(sides.env(), tmp_path / "front", "cutover", *(flags if "--zaaktype" in flags else
                                                                    ["--zaaktype", "X", *flags]))
    assert done.returncode == 2 and "--force needs --reason" in done.stderr
