"""Seeding a catalogue YAML (idempotent, clear errors) and reading it back through the Catalogi API."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from stuf_bridge.zgw_embedded import DEMO_CATALOGUE, EmbeddedConfig, SeedError, create_app, seed

from .conftest import Zgw

MINIMAL = {
    "zaaktypen": [{
        "identificatie": "MINI", "omschrijving": "Minimaal",
        "statustypen": [{"volgnummer": 2, "omschrijving": "Klaar"}, {"volgnummer": 1, "omschrijving": "Begin"}],
        "roltypen": [{"omschrijving": "Aanvrager", "omschrijvingGeneriek": "initiator"}],
        "resultaattypen": [{"omschrijving": "Gedaan"}],
        "informatieobjecttypen": [{"omschrijving": "Brief"}],
        "besluittypen": [{"omschrijving": "Besluit"}],
        "eigenschappen": [{"naam": "kleur"}],
    }],
}


def write(tmp_path: Path, data: Any, name: str = "catalogue.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True) if not isinstance(data, str) else data)
    return path


def test_demo_catalogue_loads(tmp_path: Path) -> None:
    report = seed(tmp_path, DEMO_CATALOGUE)
    assert report.zaaktypen == ["MELDING-OR", "OMGEVINGSVERGUNNING", "BEZWAAR"]
    assert report.created["zaaktype"] == 3 and report.created["catalogus"] == 1
    assert report.created["statustype"] == 12 and report.created["roltype"] == 20
    assert "MELDING-OR" in str(report)
    assert (tmp_path / "zgw" / "zgw.sqlite3").exists()


def test_seeding_twice_is_harmless(tmp_path: Path) -> None:
    first = seed(tmp_path, DEMO_CATALOGUE)
    second = seed(tmp_path, DEMO_CATALOGUE)
    assert first.changed and not second.changed
    assert sum(second.unchanged.values()) == sum(first.created.values())


def test_a_file_with_only_the_required_keys_loads(tmp_path: Path) -> None:
    report = seed(tmp_path, write(tmp_path, MINIMAL))
    assert report.created["zaaktype"] == 1 and report.created["informatieobjecttype"] == 1


def test_seeding_more_zaaktypen_later_keeps_the_earlier_ones(tmp_path: Path) -> None:
    seed(tmp_path, write(tmp_path, MINIMAL))
    report = seed(tmp_path, DEMO_CATALOGUE)
    assert report.created["zaaktype"] == 3


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["zaaktypen"][0].pop("omschrijving"),
     "zaaktypen[0] (identificatie 'MINI'): 'omschrijving' is required"),
    (lambda d: d["zaaktypen"][0]["roltypen"][0].update(omschrijvingGeneriek="baas"),
     "zaaktypen[0] (identificatie 'MINI').roltypen[0]: 'omschrijvingGeneriek' must be one of"),
    (lambda d: d["zaaktypen"][0]["statustypen"][1].update(volgnummer=2),
     "zaaktypen[0] (identificatie 'MINI').statustypen[1]: 2 occurs twice"),
    (lambda d: d["zaaktypen"][0]["statustypen"][0].update(volgnummer="een"),
     "statustypen[0]: 'volgnummer' must be a whole number"),
    (lambda d: d["zaaktypen"][0].update(statustypes=[]), "unknown keys ['statustypes']"),
    (lambda d: d["zaaktypen"][0]["eigenschappen"][0].update(naam="x" * 21),
     "eigenschappen[0]: 'naam' is longer than 20 characters"),
    (lambda d: d["zaaktypen"].append(dict(d["zaaktypen"][0])), "identificatie 'MINI' occurs twice"),
    (lambda d: d.update(catalogus={"rsin": "123456789"}), "catalogus: 'rsin' '123456789' is not a valid RSIN"),
    (lambda d: d["zaaktypen"][0]["resultaattypen"].append("Gedaan"),
     "resultaattypen[1]: expected a mapping, got str"),
])
def test_bad_yaml_names_the_item(tmp_path: Path, change: Any, message: str) -> None:
    import copy

    data = copy.deepcopy(MINIMAL)
    change(data)
    with pytest.raises(SeedError) as info:
        seed(tmp_path, write(tmp_path, data))
    assert message in str(info.value)


@pytest.mark.parametrize(("text", "message"), [
    ("zaaktypen: [", "not valid YAML"),
    ("- a\n- b\n", "expected a mapping with a 'zaaktypen' list"),
    ("zaaktypen: []\nextra: 1\n", "unknown top-level keys ['extra']"),
])
def test_unreadable_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SeedError, match="catalogue.yaml") as info:
        seed(tmp_path, write(tmp_path, text))
    assert message in str(info.value)


def test_seed_file_is_only_loaded_into_an_empty_store(tmp_path: Path, config: EmbeddedConfig) -> None:
    seed(config.data_dir, write(tmp_path, MINIMAL))
    app = create_app(config)  # config.seed_file is the demo catalogue, but the store is not empty
    assert [z["identificatie"] for z in app.state.zgw.db.find("zaaktype")] == ["MINI"]


def test_no_seed_file_gives_an_empty_catalogue(tmp_path: Path, config: EmbeddedConfig) -> None:
    app = create_app(replace(config, seed_file=None))
    assert app.state.zgw.db.is_empty()


# --- the Catalogi API -------------------------------------------------------------------------------------------
async def test_zaaktype_and_its_types(zgw: Zgw) -> None:
    zaaktype = await zgw.zaaktype("OMGEVINGSVERGUNNING")
    assert zaaktype["concept"] is False and zaaktype["catalogus"].startswith("http://zgw.test/catalogi/")
    statustypen = (await zgw.ok("GET", "catalogi/api/v1/statustypen", params={"zaaktype": zaaktype["url"]}))["results"]
    assert [s["volgnummer"] for s in statustypen] == [1, 2, 3, 4, 5]
    assert [s["isEindstatus"] for s in statustypen] == [False] * 4 + [True]
    assert zaaktype["statustypen"] == [s["url"] for s in statustypen]
    assert all(s["zaaktypeIdentificatie"] == "OMGEVINGSVERGUNNING" for s in statustypen)
    roltypen = await zgw.ok("GET", "catalogi/api/v1/roltypen",
                            params={"zaaktype": zaaktype["url"], "omschrijvingGeneriek": "initiator"})
    assert [r["omschrijving"] for r in roltypen["results"]] == ["Initiator"]
    for collection, key in (("resultaattypen", "resultaattypen"), ("eigenschappen", "eigenschappen"),
                            ("roltypen", "roltypen")):
        listed = await zgw.ok("GET", f"catalogi/api/v1/{collection}", params={"zaaktype": zaaktype["url"]})
        assert {i["url"] for i in listed["results"]} == set(zaaktype[key])
    resultaattype = await zgw.ok("GET", zaaktype["resultaattypen"][0])
    assert resultaattype["archiefnominatie"] == "blijvend_bewaren"
    assert resultaattype["brondatumArchiefprocedure"]["afleidingswijze"] == "afgehandeld"


async def test_informatieobjecttypen_are_linked_to_zaaktype_and_besluittypen(zgw: Zgw) -> None:
    zaaktype = await zgw.zaaktype("OMGEVINGSVERGUNNING")
    ziots = await zgw.ok("GET", "catalogi/api/v1/zaaktype-informatieobjecttypen",
                         params={"zaaktype": zaaktype["url"]})
    assert [z["volgnummer"] for z in ziots["results"]] == [1, 2, 3, 4, 5]
    assert [z["informatieobjecttype"] for z in ziots["results"]] == zaaktype["informatieobjecttypen"]
    besluittypen = await zgw.ok("GET", "catalogi/api/v1/besluittypen", params={"zaaktypen": zaaktype["url"]})
    assert {b["omschrijving"] for b in besluittypen["results"]} == {"Omgevingsvergunning verleend",
                                                                   "Omgevingsvergunning geweigerd"}
    for besluittype in besluittypen["results"]:
        assert besluittype["zaaktypen"] == [zaaktype["url"]]
        assert besluittype["informatieobjecttypen"] == zaaktype["informatieobjecttypen"]
    # "Advies" belongs to two zaaktypen and is one informatieobjecttype of the catalogus
    advies = await zgw.iot("Advies")
    assert len(advies["zaaktypen"]) == 2
    assert set(advies["besluittypen"]) >= {b["url"] for b in besluittypen["results"]}
    catalogus = await zgw.ok("GET", zaaktype["catalogus"])
    assert len(catalogus["zaaktypen"]) == 3 and advies["url"] in catalogus["informatieobjecttypen"]


async def test_catalogi_filters(zgw: Zgw) -> None:
    assert (await zgw.ok("GET", "catalogi/api/v1/zaaktypen", params={"status": "concept"}))["count"] == 0
    assert (await zgw.ok("GET", "catalogi/api/v1/zaaktypen", params={"status": "alles"}))["count"] == 3
    assert (await zgw.ok("GET", "catalogi/api/v1/zaaktypen", params={"datumGeldigheid": "2019-01-01"}))["count"] == 0
    assert (await zgw.ok("GET", "catalogi/api/v1/zaaktypen", params={"datumGeldigheid": "2024-06-01"}))["count"] == 3
    assert (await zgw.ok("GET", "catalogi/api/v1/zaaktypen", params={"trefwoorden": "melding"}))["count"] == 1
    catalogus = (await zgw.ok("GET", "catalogi/api/v1/catalogussen", params={"domein": "DEMO"}))["results"][0]
    assert (await zgw.ok("GET", "catalogi/api/v1/informatieobjecttypen",
                         params={"catalogus": catalogus["url"]}))["count"] == 10
    response = await zgw.get("catalogi/api/v1/zaaktypen", params={"status": "misschien"})
    assert response.status_code == 400 and response.json()["invalidParams"][0]["code"] == "invalid_choice"
    response = await zgw.get("catalogi/api/v1/statustypen", params={"zaaktype": "not a url"})
    assert response.status_code == 400 and response.json()["invalidParams"][0]["code"] == "invalid"
    other = "http://elsewhere.test/catalogi/api/v1/zaaktypen/00000000-0000-0000-0000-000000000000"
    assert (await zgw.ok("GET", "catalogi/api/v1/statustypen", params={"zaaktype": other}))["count"] == 0


async def test_catalogi_are_read_only(zgw: Zgw) -> None:
    response = await zgw.post("catalogi/api/v1/zaaktypen", json={})
    assert response.status_code == 405
