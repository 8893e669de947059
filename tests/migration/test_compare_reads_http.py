"""``compare_reads`` over real HTTP: a gateway (``stuf-bridge serve``) whose replicate rule (primary legacy) compares
every read answers its clients from legacy, puts each geefZaakdetails in the outbox, asks both sides again there and
records where the answers differ: a zaak edited in ZGW alone is a finding naming ``omschrijving``; a zaak that is the
same on both sides is none (the volatile values are ignored). ``stuf-bridge reconcile --findings`` shows it, and
the metric counts it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from tests.operations import details_messages as dtm
from tests.support.server import running_gateway

from ..support.waiting import wait_for
from .conftest import AUTH, START, Sides, command, post


def findings(data: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(data / "stuf-bridge.sqlite3", timeout=5) as conn:
        return [tuple(row) for row in conn.execute(  # type: ignore[misc]
            "SELECT source, identificatie, operation, fields FROM reconcile_findings ORDER BY id")]


def compared(log: list[str]) -> int:
    return sum('"compare_reads_compared"' in line for line in log)


def test_compare_reads_records_a_read_answered_differently(sides: Sides, tmp_path: Path) -> None:
    same, edited = "0363CR-1", "0363CR-2"
    for name in (same, edited):
        sides.legacy_zaak(name, documents=1)
    data = tmp_path / "front"
    routing = {"default": {"mode": "replicate", "primary": "legacy", "compare_reads": 1.0}}
    assert command(sides.env(routing), data, "migrate", "--zaken", "-", stdin=f"{same}\n{edited}\n").returncode == 0
    [zaak] = sides.zaken(edited)  # an edit in ZGW that no message made
    httpx.patch(str(zaak["url"]), json={"omschrijving": "Gewijzigd in ZGW"}, auth=AUTH,
                headers={"Content-Crs": "EPSG:4326", "Accept-Crs": "EPSG:4326"}, timeout=60).raise_for_status()

    log: list[str] = []
    with running_gateway(data, env=sides.env(routing), log=log, timeout=START) as url:
        for n, name in enumerate((same, edited)):
            answer = post(url, "BeantwoordVraag", dtm.geef_zaakdetails(identificatie=name, referentienummer=f"cr-{n}"))
            assert answer.status_code == 200, answer.text
            assert "Melding losliggende stoeptegels" in answer.text  # the client's answer is legacy's
        wait_for(lambda: compared(log) >= 2, timeout=120)
        metrics = httpx.get(f"{url}/metrics", timeout=30).text
    assert 'stuf_bridge_reconcile_differences_total{source="compare-reads"} 1.0' in metrics
    [(source, identificatie, operation, fields)] = findings(data)
    assert (source, identificatie, operation) == ("compare-reads", edited, "geefZaakdetails_Lv01")
    assert fields == "omschrijving"

    shown = command(sides.env(routing), data, "reconcile", "--findings")
    assert shown.returncode == 1, shown.stdout + shown.stderr
    assert f"compare-reads different       {edited} (geefZaakdetails_Lv01): omschrijving" in shown.stdout
    assert shown.stdout.splitlines()[-1] == "findings: 1"
