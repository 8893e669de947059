"""Zaaktypen whose ZGW identificatie is longer than the 10 characters ZDS allows for a ZKT code, over real HTTP.

The legacy stuf-bridge keeps zaken of ``OMGEVINGSVERGUNNING`` and of ``OMGEVINGSVERGUNNING-SLOOP``; its
geefZaakdetails answers carry both cut to ``OMGEVINGSV`` (``ZKN:Code``, maxLength 10), with the zaaktype's
omschrijving. The target ZGW has ``OMGEVINGSVERGUNNING`` and ``OMGEVINGSVERGUNNING-BEZWAAR``: the cut code is the
start of both, the omschrijving picks the first; the second legacy zaaktype's omschrijving is neither, so that zaak
fails with a fault naming the candidates and the setting — and with ``migration.zaaktypen`` set it is copied."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stuf_bridge.migration.wiring import copy_settings
from stuf_bridge.migration.zaaktypen import ZaaktypeUnresolved, choose
from stuf_bridge.settings import Settings

from .conftest import AUTH, START, Sides, command
from .test_repair_from_zgw_http import HEADERS, legacy_backend
from tests.support.server import running_gateway

DEMO = Path(__file__).resolve().parents[2] / "src" / "stuf_bridge" / "zgw_embedded" / "demo-catalogue.yaml"
CATALOGUS = {"domein": "DEMO", "rsin": "002564440", "naam": "Demo-catalogus gemeente"}


def zaaktype(identificatie: str, omschrijving: str) -> dict[str, object]:
    return {
        "identificatie": identificatie, "omschrijving": omschrijving,
        "statustypen": [{"volgnummer": 1, "omschrijving": "Ontvangen"},
                        {"volgnummer": 2, "omschrijving": "In behandeling"},
                        {"volgnummer": 3, "omschrijving": "Afgehandeld"}],
        "roltypen": [{"omschrijving": "Initiator", "omschrijvingGeneriek": "initiator"}],
        "resultaattypen": [{"omschrijving": "Verleend", "archiefnominatie": "vernietigen",
                            "archiefactietermijn": "P5Y"}],
        "informatieobjecttypen": [{"omschrijving": "Aanvraag", "richting": "inkomend"}],
    }


def seed(data_dir: Path, *extra: dict[str, object]) -> None:
    """The demo catalogue and ``extra`` zaaktypen in an embedded backend's data directory, before it starts."""
    data_dir.mkdir(parents=True)
    extra_file = data_dir.parent / f"{data_dir.name}-extra.json"
    extra_file.write_text(json.dumps({"catalogus": CATALOGUS, "zaaktypen": list(extra)}))
    for catalogue in (DEMO, extra_file):
        done = subprocess.run([sys.executable, "-m", "stuf_bridge", "zgw", "seed", str(catalogue), "--data-dir",
                               str(data_dir)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def long_sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sides]:
    root = tmp_path_factory.mktemp("long")
    seed(root / "legacy", zaaktype("OMGEVINGSVERGUNNING-SLOOP", "Sloopmelding"), zaaktype("SLOOP", "Sloop"))
    seed(root / "zgw", zaaktype("OMGEVINGSVERGUNNING-BEZWAAR", "Bezwaar tegen een omgevingsvergunning"))
    with running_gateway(root / "legacy", timeout=START) as legacy, \
            running_gateway(root / "zgw", command=("zgw", "serve"), timeout=START) as zgw:
        yield Sides(legacy, zgw, root)


def zaaktype_of(sides: Sides, zaak: dict[str, object]) -> str:
    return str(httpx.get(str(zaak["zaaktype"]), auth=AUTH, timeout=60).json()["identificatie"])


def test_a_zaaktype_code_cut_to_10_characters_is_found_and_an_ambiguous_one_faults(long_sides: Sides,
                                                                                  tmp_path: Path) -> None:
    sides = long_sides
    found, ambiguous = "0363LZ-1", "0363LZ-2"
    sides.legacy_zaak(found, documents=1, zaaktype="OMGEVINGSVERGUNNING", dct="Aanvraag")
    sides.legacy_zaak(ambiguous, documents=1, zaaktype="OMGEVINGSVERGUNNING-SLOOP", dct="Aanvraag")
    data, report = tmp_path / "front", tmp_path / "report.json"

    first = command(sides.env(), data, "migrate", "--zaken", "-", "--report", str(report),
                    stdin=f"{found}\n{ambiguous}\n")
    assert first.returncode == 1, first.stdout + first.stderr
    outcomes = {line["identificatie"]: line for line in json.loads(report.read_text())["zaken"]}
    assert outcomes[found]["outcome"] == "copied"
    [zaak] = sides.zaken(found)
    assert zaaktype_of(sides, zaak) == "OMGEVINGSVERGUNNING"  # the cut code and the omschrijving found it
    assert sides.documenten(str(zaak["url"])) == [f"{found}-D0"]
    first_url = zaak["url"]
    assert outcomes[ambiguous]["outcome"] == "failed"
    reason = str(outcomes[ambiguous]["reason"])
    assert "zaaktype niet eenduidig" in reason and "'OMGEVINGSV'" in reason and "'Sloopmelding'" in reason
    assert "OMGEVINGSVERGUNNING (Aanvraag omgevingsvergunning)" in reason
    assert "OMGEVINGSVERGUNNING-BEZWAAR (Bezwaar tegen een omgevingsvergunning)" in reason
    assert "migration.zaaktypen" in reason
    assert sides.zaken(ambiguous) == []  # nothing written

    mapped = sides.env(STUF_BRIDGE_MIGRATION=json.dumps({"zaaktypen": {"OMGEVINGSV": "OMGEVINGSVERGUNNING-BEZWAAR"}}))
    second = command(mapped, data, "migrate", "--zaken", "-", stdin=f"{found}\n{ambiguous}\n")
    assert second.returncode == 0, second.stdout + second.stderr
    [zaak] = sides.zaken(ambiguous)
    assert zaaktype_of(sides, zaak) == "OMGEVINGSVERGUNNING-BEZWAAR"  # the explicit mapping wins
    assert sides.documenten(str(zaak["url"])) == [f"{ambiguous}-D0"]
    [once] = sides.zaken(found)  # the first zaak was not copied again
    assert once["url"] == first_url

    # reconcile by the ZGW identificatie finds the copied zaak in sync (both sides answer the cut code)
    same = command(sides.env(), data, "reconcile", "--zaaktype", "OMGEVINGSVERGUNNING", "--zaken", "-",
                   stdin=f"{found}\n")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "reconcile OMGEVINGSVERGUNNING: 1 zaken: 1 in-sync" in same.stdout


def test_a_legacy_code_of_its_own_is_mapped_both_ways(long_sides: Sides, tmp_path: Path) -> None:
    """migration.zaaktypen maps legacy's SLOOP to ZGW's OMGEVINGSVERGUNNING-BEZWAAR (no prefix of it): the copy goes
    there, reconcile compares the two codes as one, and a repair from ZGW (primary zgw) re-creates the zaak in legacy
    with legacy's own code SLOOP, not the cut ZGW code."""
    sides, name = long_sides, "0363LZ-3"
    sides.legacy_zaak(name, documents=1, zaaktype="SLOOP", dct="Aanvraag")
    target = "OMGEVINGSVERGUNNING-BEZWAAR"
    routing = {"default": "proxy", "rules": [{"match": {"zaaktype": [target]}, "mode": "replicate",
                                              "primary": "zgw"}]}
    env = sides.env(routing, STUF_BRIDGE_MIGRATION=json.dumps({"zaaktypen": {"SLOOP": target}}))
    data = tmp_path / "front"
    copied = command(env, data, "migrate", "--zaken", "-", stdin=f"{name}\n")
    assert copied.returncode == 0, copied.stdout + copied.stderr
    [zaak] = sides.zaken(name)
    assert zaaktype_of(sides, zaak) == target
    reconcile = ("reconcile", "--zaaktype", target, "--zaken", "-")
    same = command(env, data, *reconcile, stdin=f"{name}\n")
    assert same.returncode == 0, same.stdout  # legacy's SLOOP and ZGW's OMGEVINGSV are the same zaaktype
    assert command(sides.env(routing), data, *reconcile, stdin=f"{name}\n").returncode == 1  # without: zaaktype

    [gone] = legacy_backend(sides, "zaken", "zaken", identificatie=name)  # legacy loses the zaak
    for link in legacy_backend(sides, "zaken", "zaakinformatieobjecten", zaak=str(gone["url"])):
        httpx.delete(str(link["url"]), auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
        httpx.delete(str(link["informatieobject"]), auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
    httpx.delete(str(gone["url"]), auth=AUTH, headers=HEADERS, timeout=60).raise_for_status()
    repaired = command(env, data, *reconcile, "--repair", stdin=f"{name}\n")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "legacy hersteld uit ZGW (creeerZaak" in repaired.stdout
    [again] = legacy_backend(sides, "zaken", "zaken", identificatie=name)
    assert httpx.get(str(again["zaaktype"]), auth=AUTH, timeout=60).json()["identificatie"] == "SLOOP"


PUBLISHED = [
    {"identificatie": "OMGEVINGSVERGUNNING", "omschrijving": "Aanvraag omgevingsvergunning"},
    {"identificatie": "OMGEVINGSVERGUNNING", "omschrijving": "Aanvraag omgevingsvergunning (versie 2)"},
    {"identificatie": "OMGEVINGSVERGUNNING-BEZWAAR", "omschrijving": "Bezwaar tegen een omgevingsvergunning"},
    {"identificatie": "MELDING-OR", "omschrijving": "Melding openbare ruimte"},
    {"identificatie": "BOUWVERGUNNINGAANVRAAG", "omschrijving": "Bouwvergunning"},
    {"identificatie": "KORT", "omschrijving": "Kort"},
]


@pytest.mark.parametrize(("code", "omschrijving", "explicit", "expected"), [
    ("MELDING-OR", None, None, "MELDING-OR"),  # the code is the identificatie
    ("KORT", "iets anders", None, "KORT"),
    ("BOUWVERGUN", None, None, "BOUWVERGUNNINGAANVRAAG"),  # cut, one identificatie starts with it
    ("OMGEVINGSV", "Aanvraag omgevingsvergunning", None, "OMGEVINGSVERGUNNING"),  # cut, the omschrijving picks
    ("OMGEVINGSV", "  aanvraag   OMGEVINGSVERGUNNING ", None, "OMGEVINGSVERGUNNING"),  # folded
    ("OMGEVINGSV", "Bezwaar tegen een omgevingsvergunning", None, "OMGEVINGSVERGUNNING-BEZWAAR"),
    ("OMGEVINGSV", "Sloopmelding", {"OMGEVINGSV": "OMGEVINGSVERGUNNING-BEZWAAR"}, "OMGEVINGSVERGUNNING-BEZWAAR"),
    ("MELDING-OR", None, {"MELDING-OR": "KORT"}, "KORT"),  # the explicit mapping always wins
])
def test_the_zgw_zaaktype_of_a_legacy_code(code: str, omschrijving: str | None, explicit: dict[str, str] | None,
                                           expected: str) -> None:
    assert choose(code, omschrijving, PUBLISHED, explicit) == expected


@pytest.mark.parametrize(("code", "omschrijving", "says"), [
    ("OMGEVINGSV", "Sloopmelding", "zaaktype niet eenduidig"),  # two candidates, omschrijving neither
    ("OMGEVINGSV", None, "zaaktype niet eenduidig"),
    ("ONBEKEND", None, "geen gepubliceerd zaaktype met identificatie 'ONBEKEND'"),  # short: never a prefix
    ("MELDING", None, "geen gepubliceerd zaaktype met identificatie 'MELDING'"),
    ("ONBEKENDZT", None, "of een die ermee begint"),
])
def test_a_legacy_code_without_one_zgw_zaaktype_is_a_clear_fault(code: str, omschrijving: str | None,
                                                                  says: str) -> None:
    with pytest.raises(ZaaktypeUnresolved) as caught:
        choose(code, omschrijving, PUBLISHED)
    assert says in str(caught.value) and "migration.zaaktypen" in str(caught.value)


@pytest.mark.parametrize(("validation", "organisatie", "own", "client"), [
    ("strict", "0363", "warn", "strict"),  # the copier's own messages are not refused for a long zaaktype code
    ("strict", None, "warn", "strict"),
    ("warn", "0363", "warn", "warn"),
    ("off", "0363", "off", "off"),  # never stricter than configured
])
def test_the_copier_checks_its_own_messages_with_warn_at_most(validation: str, organisatie: str | None, own: str,
                                                              client: str) -> None:
    settings = Settings(validation=validation, organisatie=organisatie)
    copied = copy_settings(settings)
    assert copied.validation_policy_for(organisatie, "stuf-bridge") == own
    assert copied.validation_policy_for("0363", "OpenFormulieren") == client  # clients keep their policy
    assert settings.validation_policy_for(organisatie, "stuf-bridge") == validation  # the gateway's own untouched
