"""``reconcile --repair`` for zaken whose primary is ZGW (a replicate rule with primary zgw), over real HTTP: legacy
is re-synced from ZGW, never the other way. A zaak whose omschrijving legacy has wrong gets an updateZaak, and the
status set in ZGW alone an actualiseerZaakstatus; a zaak
(with its document) that legacy lost is created there again with a creeerZaak and a voegZaakdocumentToe. ZGW is
left as it was."""

from __future__ import annotations

import os
import subprocess
import sys
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


BEZWAAR = {"default": "proxy", "rules": [{"match": {"zaaktype": ["BEZWAAR"]}, "mode": "replicate",
                                          "primary": "zgw"}]}


def zgw_post(sides: Sides, api: str, resource: str, body: dict[str, object]) -> dict[str, object]:
    answer = httpx.post(f"{sides.zgw}/{api}/api/v1/{resource}", json=body, auth=AUTH, headers=HEADERS, timeout=60)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_repair_from_zgw_brings_rollen_resultaat_and_besluiten_to_legacy(sides: Sides, tmp_path: Path) -> None:
    """ZGW (the primary) got a different initiator, a belanghebbende, a resultaat and a besluit recorded in the
    zaak's document; legacy heard of none of it. --repair sends legacy an updateZaak (resultaat, rollen: V for the
    old initiator, T for the new one and the belanghebbende) and a voegBesluitToe, and then both sides agree."""
    name = "0363RR-1"
    sides.legacy_zaak(name, documents=1, statussen=1, zaaktype="BEZWAAR", dct="Beslissing op bezwaar")
    data = tmp_path / "front"
    assert command(sides.env(BEZWAAR), data, "migrate", "--zaken", "-", stdin=f"{name}\n").returncode == 0
    [zaak] = sides.zaken(name)
    roltypen = {t["omschrijving"]: t["url"]
                for t in sides.zgw_get("catalogi", "roltypen", zaaktype=str(zaak["zaaktype"]))}
    [initiator] = [r for r in sides.zgw_get("zaken", "rollen", zaak=str(zaak["url"]))
                   if r["roltype"] == roltypen["Initiator"]]
    httpx.delete(str(initiator["url"]), auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
    for roltype, bsn, naam in (("Initiator", "999990019", "Jansen"), ("Belanghebbende", "999990020", "de Boer")):
        zgw_post(sides, "zaken", "rollen", {
            "zaak": zaak["url"], "roltype": roltypen[roltype], "betrokkeneType": "natuurlijk_persoon",
            "roltoelichting": roltype, "betrokkeneIdentificatie": {"inpBsn": bsn, "geslachtsnaam": naam}})
    [gegrond] = [t for t in sides.zgw_get("catalogi", "resultaattypen", zaaktype=str(zaak["zaaktype"]))
                 if t["omschrijving"] == "Gegrond"]
    zgw_post(sides, "zaken", "resultaten", {"zaak": zaak["url"], "resultaattype": gegrond["url"]})
    [besluittype] = sides.zgw_get("catalogi", "besluittypen", omschrijving="Beslissing op bezwaar")
    besluit = zgw_post(sides, "besluiten", "besluiten", {
        "identificatie": f"{name}-B1", "verantwoordelijkeOrganisatie": "002220647", "besluittype": besluittype["url"],
        "zaak": zaak["url"], "datum": "2024-11-20", "ingangsdatum": "2024-11-21", "toelichting": "In ZGW genomen"})
    [eio] = sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie=f"{name}-D0")
    zgw_post(sides, "besluiten", "besluitinformatieobjecten", {"besluit": besluit["url"],
                                                               "informatieobject": eio["url"]})

    reconcile = ("reconcile", "--zaaktype", "BEZWAAR", "--zaken", "-")
    found = command(sides.env(BEZWAAR), data, *reconcile, stdin=f"{name}\n")
    assert found.returncode == 1
    assert (f"different       {name}: besluiten, resultaat, rollen.heeftAlsBelanghebbende, "
            "rollen.heeftAlsInitiator") in found.stdout
    before = legacy_details(sides, name)
    assert "999990019" not in before and "Gegrond" not in before

    repaired = command(sides.env(BEZWAAR), data, *reconcile, "--repair", stdin=f"{name}\n")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert ("legacy hersteld uit ZGW (updateZaak (resultaat, rollen.heeftAlsBelanghebbende, "
            f"rollen.heeftAlsInitiator); voegBesluitToe {name}-B1;") in repaired.stdout
    details = legacy_details(sides, name)
    assert "Gegrond" in details and "999990019" in details and "999990020" in details
    assert "999993653" not in details  # the old initiator is gone from legacy too
    [legacy_zaak] = legacy_backend(sides, "zaken", "zaken", identificatie=name)
    [legacy_besluit] = legacy_backend(sides, "besluiten", "besluiten", zaak=str(legacy_zaak["url"]))
    assert legacy_besluit["identificatie"] == f"{name}-B1" and legacy_besluit["datum"] == "2024-11-20"
    [link] = legacy_backend(sides, "besluiten", "besluitinformatieobjecten", besluit=str(legacy_besluit["url"]))
    linked = httpx.get(str(link["informatieobject"]), auth=AUTH, timeout=60).json()
    assert linked["identificatie"] == f"{name}-D0"
    assert command(sides.env(BEZWAAR), data, *reconcile, stdin=f"{name}\n").returncode == 0
    [unchanged] = sides.zaken(name)  # ZGW was not touched
    assert [r["betrokkeneIdentificatie"]["inpBsn"] for r in sides.zgw_get("zaken", "rollen", zaak=str(zaak["url"]))
            if r["roltype"] == roltypen["Initiator"]] == ["999990019"]
    assert unchanged["url"] == zaak["url"]


#: Runs ``stuf-bridge`` and, when it ends, writes its own VmHWM (the peak RSS of this program's memory; getrusage's
#: ru_maxrss would also count the pytest process it was forked from, which Linux carries across exec).
PEAK = """import atexit, runpy, sys
path = sys.argv[1]
def peak():
    with open(path, "w") as out:
        out.write(next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")))
atexit.register(peak)
sys.argv = ["stuf_bridge", *sys.argv[2:]]
runpy.run_module("stuf_bridge", run_name="__main__")
"""


def repair_peak_rss(sides: Sides, data: Path, name: str) -> tuple[int, str, int]:
    """``reconcile --repair`` for one zaak as a process of its own: (exit status, output, its peak RSS in bytes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_")}
    env.update({"STUF_BRIDGE_LOG_LEVEL": "WARNING", **sides.env(ROUTING)})
    peak = data.parent / f"peak-{name}.txt"
    done = subprocess.run([sys.executable, "-c", PEAK, str(peak), "reconcile", "--zaaktype", "MELDING-OR", "--zaken",
                           "-", "--repair", "--data-dir", str(data)], env=env, input=f"{name}\n", text=True,
                          capture_output=True, timeout=600)
    kib = int(peak.read_text().split()[1])  # "VmHWM:   123456 kB"
    return done.returncode, done.stdout + done.stderr, kib * 1024


def lose_in_legacy(sides: Sides, name: str) -> None:
    [gone] = legacy_backend(sides, "zaken", "zaken", identificatie=name)
    for link in legacy_backend(sides, "zaken", "zaakinformatieobjecten", zaak=str(gone["url"])):
        httpx.delete(str(link["url"]), auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
        httpx.delete(str(link["informatieobject"]), auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
    httpx.delete(str(gone["url"]), auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()


def test_a_large_document_goes_back_to_legacy_streamed(sides: Sides, tmp_path: Path) -> None:
    """A 40 MB document legacy lost is sent back from ZGW with flat memory: the repairing process's peak RSS stays
    within 30 MB — less than the document — of the same repair with a 2 kB document (held whole, the base64 answer,
    its parsed text and the envelope sent would each be 53 MB; the earlier code could not parse such an answer at
    all: lxml refuses a text node above 10 MB)."""
    small, large, size = "0363RL-1", "0363RL-2", 40 * 1024 * 1024
    sides.legacy_zaak(small, documents=1, statussen=1)
    sides.legacy_zaak(large, documents=1, statussen=1, size=size)
    data = tmp_path / "front"
    assert command(sides.env(ROUTING), data, "migrate", "--zaken", "-", stdin=f"{small}\n{large}\n").returncode == 0
    lose_in_legacy(sides, small)  # one at a time: a reconcile run repairs every zaak of the zaaktype
    status, output, baseline = repair_peak_rss(sides, data, small)
    assert status == 0, output
    assert f"legacy hersteld uit ZGW (creeerZaak; voegZaakdocumentToe {small}-D0" in output
    lose_in_legacy(sides, large)
    status, output, peak = repair_peak_rss(sides, data, large)
    assert status == 0, output
    assert f"legacy hersteld uit ZGW (creeerZaak; voegZaakdocumentToe {large}-D0" in output
    [again] = legacy_backend(sides, "zaken", "zaken", identificatie=large)
    [link] = legacy_backend(sides, "zaken", "zaakinformatieobjecten", zaak=str(again["url"]))
    eio = httpx.get(str(link["informatieobject"]), auth=AUTH, timeout=60).json()
    assert eio["identificatie"] == f"{large}-D0" and eio["bestandsomvang"] == size
    # measured on the loaded 2-core machine: +16 MB streamed; +158 MB with the voegZaakdocumentToe body joined whole
    assert peak - baseline < 30 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MB vs {baseline / 2**20:.0f} MB"
    sized = command(sides.env(ROUTING), data, "reconcile", "--zaaktype", "MELDING-OR", "--sizes", "--zaken", "-",
                    stdin=f"{large}\n")
    assert sized.returncode == 0, sized.stdout  # the same bytes on both sides


def test_a_zaak_closed_in_zgw_is_closed_in_legacy_once(sides: Sides, tmp_path: Path) -> None:
    """ZGW (the primary) closed the zaak: a resultaat, then the eindstatus (which sets its einddatum). The repair
    sends legacy the resultaat first, then the eindstatus — and not the einddatum as well, which would close the
    zaak a second time with an eindstatus of legacy's own making — so afterwards both sides agree."""
    name = "0363RC-1"
    sides.legacy_zaak(name, documents=0, statussen=1)
    data = tmp_path / "front"
    assert command(sides.env(ROUTING), data, "migrate", "--zaken", "-", stdin=f"{name}\n").returncode == 0
    [zaak] = sides.zaken(name)
    [opgelost] = [t for t in sides.zgw_get("catalogi", "resultaattypen", zaaktype=str(zaak["zaaktype"]))
                  if t["omschrijving"] == "Opgelost"]
    httpx.post(f"{sides.zgw}/zaken/api/v1/resultaten", json={"zaak": zaak["url"], "resultaattype": opgelost["url"]},
               auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
    [afgehandeld] = [t for t in sides.zgw_get("catalogi", "statustypen", zaaktype=str(zaak["zaaktype"]))
                     if t["omschrijving"] == "Afgehandeld"]
    httpx.post(f"{sides.zgw}/zaken/api/v1/statussen", json={
        "zaak": zaak["url"], "statustype": afgehandeld["url"], "datumStatusGezet": "2024-11-12T09:30:00Z"},
        auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()

    reconcile = ("reconcile", "--zaaktype", "MELDING-OR", "--zaken", "-")
    found = command(sides.env(ROUTING), data, *reconcile, stdin=f"{name}\n")
    assert f"different       {name}: einddatum, resultaat, statussen.count, statussen.last" in found.stdout
    repaired = command(sides.env(ROUTING), data, *reconcile, "--repair", stdin=f"{name}\n")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert f"in-sync         {name} [legacy hersteld uit ZGW (updateZaak (resultaat); actualiseerZaakstatus 3;" \
        in repaired.stdout
    [closed] = legacy_backend(sides, "zaken", "zaken", identificatie=name)
    assert closed["einddatum"] == "2024-11-12"
    assert len(legacy_backend(sides, "zaken", "statussen", zaak=str(closed["url"]))) == 2
