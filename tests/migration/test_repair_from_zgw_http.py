"""``reconcile --repair`` for zaken whose primary is ZGW (a replicate rule with primary zgw), over real HTTP: legacy
is re-synced from ZGW, never the other way. A zaak whose omschrijving legacy has wrong gets an updateZaak, and the
status set in ZGW alone an actualiseerZaakstatus; a zaak
(with its document) that legacy lost is created there again with a creeerZaak and a voegZaakdocumentToe. ZGW is
left as it was."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.operations import details_messages as dtm

from .conftest import AUTH, Sides, command, post

HEADERS = {"Content-Crs": "EPSG:4326", "Accept-Crs": "EPSG:4326"}
ROUTING = {"default": "proxy", "rules": [{"match": {"zaaktype": ["MELDING-OR"]}, "mode": "replicate",
                                          "primary": "zgw"}]}


def legacy_backend(sides: Sides, api: str, resource: str, **params: str) -> list[dict[str, object]]:
    """The legacy stuf-bridge's own (embedded) ZGW backend: how the test plants what legacy 'lost'."""
    answer = httpx.get(f"{sides.legacy}/zgw/{api}/api/v1/{resource}", params=params, auth=AUTH, headers=HEADERS,
                       timeout=60)
    answer.raise_for_status()
    body = answer.json()
    return list(body["results"] if isinstance(body, dict) else body)


def legacy_details(sides: Sides, identificatie: str) -> str:
    answer = post(sides.legacy, "BeantwoordVraag", dtm.geef_zaakdetails(identificatie=identificatie,
                                                                        referentienummer=f"q-{identificatie}"))
    assert answer.status_code == 200
    return answer.text


def test_repair_re_syncs_legacy_from_zgw_when_zgw_is_primary(sides: Sides, tmp_path: Path) -> None:
    edited, lost = "0363RZ-1", "0363RZ-2"
    sides.legacy_zaak(edited, documents=1, statussen=1)
    sides.legacy_zaak(lost, documents=1)
    data = tmp_path / "front"
    assert command(sides.env(ROUTING), data, "migrate", "--zaken", "-", stdin=f"{edited}\n{lost}\n").returncode == 0
    [zaak] = sides.zaken(edited)  # ZGW (the primary) changed; legacy did not hear of it
    httpx.patch(str(zaak["url"]), json={"omschrijving": "Gewijzigd in ZGW"}, auth=AUTH, headers=HEADERS,
                timeout=60).raise_for_status()
    [behandeling] = [t for t in sides.zgw_get("catalogi", "statustypen", zaaktype=str(zaak["zaaktype"]))
                     if t["volgnummer"] == 2]
    httpx.post(f"{sides.zgw}/zaken/api/v1/statussen", json={
        "zaak": zaak["url"], "statustype": behandeling["url"], "datumStatusGezet": "2024-11-07T10:00:00Z",
        "statustoelichting": "In ZGW gezet"}, auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
    [gone] = legacy_backend(sides, "zaken", "zaken", identificatie=lost)  # legacy lost a zaak and its document
    for link in legacy_backend(sides, "zaken", "zaakinformatieobjecten", zaak=str(gone["url"])):
        httpx.delete(str(link["url"]), auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
        httpx.delete(str(link["informatieobject"]), auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
    httpx.delete(str(gone["url"]), auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()

    reconcile = ("reconcile", "--zaaktype", "MELDING-OR", "--zaken", "-")
    found = command(sides.env(ROUTING), data, *reconcile, stdin=f"{edited}\n{lost}\n")
    assert found.returncode == 1
    assert f"different       {edited}: omschrijving, statussen.count, statussen.last" in found.stdout
    assert f"only-in-zgw     {lost}" in found.stdout

    assert "In behandeling" not in legacy_details(sides, edited)
    repaired = command(sides.env(ROUTING), data, *reconcile, "--repair", stdin=f"{edited}\n{lost}\n")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "legacy hersteld uit ZGW (updateZaak (omschrijving); actualiseerZaakstatus 2;" in repaired.stdout
    assert f"legacy hersteld uit ZGW (creeerZaak; voegZaakdocumentToe {lost}-D0" in repaired.stdout
    details = legacy_details(sides, edited)
    assert "Gewijzigd in ZGW" in details and "In behandeling" in details  # legacy follows ZGW ...
    [zaak] = sides.zaken(edited)
    assert zaak["omschrijving"] == "Gewijzigd in ZGW"  # ... and ZGW was not touched
    assert "Melding losliggende stoeptegels" in legacy_details(sides, lost)
    [again] = legacy_backend(sides, "zaken", "zaken", identificatie=lost)
    [link] = legacy_backend(sides, "zaken", "zaakinformatieobjecten", zaak=str(again["url"]))
    eio = httpx.get(str(link["informatieobject"]), auth=AUTH, timeout=60).json()
    assert eio["identificatie"] == f"{lost}-D0" and eio["bestandsomvang"] == 2000
    assert command(sides.env(ROUTING), data, *reconcile, "--sizes", stdin=f"{edited}\n{lost}\n").returncode == 0
