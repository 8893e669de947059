"""The scheduled reconcile inside a running gateway (``stuf-bridge serve`` with ``reconcile.scheduled``), over real
HTTP against the legacy stuf-bridge and the ZGW backend: a zaak edited in ZGW alone is found on the next round,
stored as a finding (source ``scheduled``), logged, and counted in the metric; the zaak that agrees is not."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from stuf_bridge.settings import Settings
from tests.support.server import running_gateway

from ..support.waiting import wait_for
from .conftest import AUTH, START, Sides, command


def test_the_scheduled_reconcile_finds_a_planted_difference(sides: Sides, tmp_path: Path) -> None:
    same, edited = "0363SR-1", "0363SR-2"
    for name in (same, edited):
        sides.legacy_zaak(name, documents=1)
    data = tmp_path / "front"
    assert command(sides.env(), data, "migrate", "--zaken", "-", stdin=f"{same}\n{edited}\n").returncode == 0
    [zaak] = sides.zaken(edited)
    httpx.patch(str(zaak["url"]), json={"omschrijving": "Gewijzigd in ZGW"}, auth=AUTH,
                headers={"Content-Crs": "EPSG:4326", "Accept-Crs": "EPSG:4326"}, timeout=60).raise_for_status()

    schedule = {"scheduled": True, "interval_seconds": 1, "zaaktypen": ["MELDING-OR"]}
    log: list[str] = []
    with running_gateway(data, env=sides.env(STUF_BRIDGE_RECONCILE=json.dumps(schedule)), log=log,
                         timeout=START) as url:
        wait_for(lambda: any('"reconcile_scheduled_differences"' in line for line in log), timeout=120)
        metrics = httpx.get(f"{url}/metrics", timeout=30).text
    [line] = [json.loads(x) for x in log if '"reconcile_scheduled_differences"' in x][:1]
    assert line["zaaktype"] == "MELDING-OR" and line["zaken"] == [f"different       {edited}: omschrijving"]
    assert 'stuf_bridge_reconcile_differences_total{source="scheduled"}' in metrics
    with sqlite3.connect(data / "stuf-bridge.sqlite3", timeout=5) as conn:
        rows = conn.execute("SELECT DISTINCT source, identificatie, state, fields FROM reconcile_findings").fetchall()
    assert rows == [("scheduled", edited, "different", "omschrijving")]


def test_a_schedule_needs_its_zaaktypen() -> None:
    with pytest.raises(ValueError, match="reconcile.scheduled needs reconcile.zaaktypen"):
        Settings(reconcile={"scheduled": True})  # type: ignore[arg-type]
