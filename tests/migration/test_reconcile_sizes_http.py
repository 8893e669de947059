"""``stuf-bridge reconcile --sizes`` over real HTTP: legacy's list answer has no sizes, so each document is read from
legacy (counted while it streams) and compared with ZGW's ``bestandsomvang``. A document whose content was replaced
in ZGW alone (same identificatie, other size) is a difference named ``documenten.bytes``, which the identificaties
alone do not show; ``--repair`` copies the zaak again."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from .conftest import AUTH, Sides, command

HEADERS = {"Content-Crs": "EPSG:4326", "Accept-Crs": "EPSG:4326"}


def test_reconcile_sizes_finds_a_planted_size_difference(sides: Sides, tmp_path: Path) -> None:
    zaak = "0363SZ-1"
    sides.legacy_zaak(zaak, documents=2, size=3000)
    data = tmp_path / "front"
    assert command(sides.env(), data, "migrate", "--zaken", "-", stdin=zaak).returncode == 0
    reconcile = ("reconcile", "--zaaktype", "MELDING-OR", "--zaken", "-")
    assert command(sides.env(), data, *reconcile, "--sizes", stdin=zaak).returncode == 0

    [eio] = sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie=f"{zaak}-D1")
    url = str(eio["url"])
    lock = httpx.post(f"{url}/lock", json={}, auth=AUTH, headers=HEADERS, timeout=60).json()["lock"]
    other = b"korter" * 100
    httpx.patch(url, json={"inhoud": base64.b64encode(other).decode(), "bestandsomvang": len(other), "lock": lock},
                auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
    httpx.post(f"{url}/unlock", json={"lock": lock}, auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()

    without = command(sides.env(), data, *reconcile, stdin=zaak)
    assert without.returncode == 0, without.stdout  # the identificaties agree: without --sizes nothing shows
    found = command(sides.env(), data, *reconcile, "--sizes", stdin=zaak)
    assert found.returncode == 1, found.stdout + found.stderr
    assert [line for line in found.stdout.splitlines() if line.startswith("different")] == [
        f"different       {zaak}: documenten.bytes"]
    repaired = command(sides.env(), data, *reconcile, "--sizes", "--repair", stdin=zaak)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    [eio] = sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie=f"{zaak}-D1")
    assert eio["bestandsomvang"] == 3000
