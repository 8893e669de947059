"""Besluiten move with their zaak, over real HTTP: a legacy zaak that led to two besluiten (each recorded in one of
the zaak's documents) is migrated with ``stuf-bridge migrate``; ZGW then has
both besluiten on the zaak with their besluitinformatieobjecten, reconcile compares them (``besluiten``) and finds a
besluit removed in ZGW, and ``--repair`` puts it back."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.operations import besluit_messages as bm
from tests.operations import details_messages as dtm
from tests.operations import document_messages as dm
from tests.support.server import running_gateway

from ..support.waiting import wait_for
from .conftest import AUTH, START, Sides, command, post

ZAAKTYPE = "BEZWAAR"
DCT = BESLUITTYPE = "Beslissing op bezwaar"


def legacy_besluit(sides: Sides, identificatie: str, zaak: str, documenten: list[str], datum: str) -> None:
    answer = post(sides.legacy, "OntvangAsynchroon", bm.voeg_besluit_toe(
        identificatie=identificatie, zaak=zaak, datum=datum, referentienummer=f"b-{identificatie}",
        bst_omschrijving=BESLUITTYPE, documenten="".join(bm.document(name, dct=DCT) for name in documenten)))
    assert answer.status_code == 200, answer.text


def test_migrate_copies_the_besluiten_with_their_documents_and_reconcile_compares_them(sides: Sides,
                                                                                      tmp_path: Path) -> None:
    zaak = "0363BS-1"
    sides.legacy_zaak(zaak, documents=1, zaaktype=ZAAKTYPE, dct=DCT, statussen=1)
    answer = post(sides.legacy, "OntvangAsynchroon", dm.voeg_zaakdocument_toe(
        identificatie="0363BS-1-BD", zaak=zaak, dct=DCT, content=b"besluit-document",
        referentienummer="bs-bd"))
    assert answer.status_code == 200, answer.text
    legacy_besluit(sides, "0363BS-1-B1", zaak, [f"{zaak}-D0"], "20241110")
    legacy_besluit(sides, "0363BS-1-B2", zaak, ["0363BS-1-BD"], "20241112")

    data = tmp_path / "front"
    done = command(sides.env(), data, "migrate", "--zaken", "-", stdin=f"{zaak}\n")
    assert done.returncode == 0, done.stdout + done.stderr
    [copied] = sides.zaken(zaak)
    besluiten = {str(b["identificatie"]): b for b in sides.zgw_get("besluiten", "besluiten", zaak=str(copied["url"]))}
    assert sorted(besluiten) == ["0363BS-1-B1", "0363BS-1-B2"]
    assert (besluiten["0363BS-1-B1"]["datum"], besluiten["0363BS-1-B2"]["datum"]) == ("2024-11-10", "2024-11-12")
    assert all(b["toelichting"] == "Vergunning verleend" for b in besluiten.values())
    [bio] = sides.zgw_get("besluiten", "besluitinformatieobjecten", besluit=str(besluiten["0363BS-1-B1"]["url"]))
    [eio] = sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie=f"{zaak}-D0")
    assert bio["informatieobject"] == eio["url"]
    [bio] = sides.zgw_get("besluiten", "besluitinformatieobjecten", besluit=str(besluiten["0363BS-1-B2"]["url"]))
    [eio] = sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie="0363BS-1-BD")
    assert bio["informatieobject"] == eio["url"]

    reconcile = ("reconcile", "--zaaktype", ZAAKTYPE, "--zaken", "-")
    in_sync = command(sides.env(), data, *reconcile, stdin=zaak)
    assert in_sync.returncode == 0, in_sync.stdout + in_sync.stderr

    # a besluit removed in ZGW (an admin edit): reconcile names the field, --repair copies the zaak again
    for link in sides.zgw_get("besluiten", "besluitinformatieobjecten", besluit=str(besluiten["0363BS-1-B2"]["url"])):
        httpx.delete(str(link["url"]), auth=AUTH, timeout=60).raise_for_status()
    httpx.delete(str(besluiten["0363BS-1-B2"]["url"]), auth=AUTH, timeout=60).raise_for_status()
    found = command(sides.env(), data, *reconcile, stdin=zaak)
    assert found.returncode == 1
    assert [line for line in found.stdout.splitlines() if line.startswith("different")] == [
        f"different       {zaak}: besluiten"]
    repaired = command(sides.env(), data, *reconcile, "--repair", stdin=zaak)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    [copied] = sides.zaken(zaak)
    assert sorted(str(b["identificatie"]) for b in sides.zgw_get("besluiten", "besluiten", zaak=str(copied["url"]))) \
        == ["0363BS-1-B1", "0363BS-1-B2"]


def test_back_fill_brings_the_besluiten_with_the_documents_through_the_outbox(sides: Sides, tmp_path: Path) -> None:
    """Back-fill on reference: the zaak record first, then (an outbox item) its documents and its besluiten."""
    zaak = "0363BS-BF"
    sides.legacy_zaak(zaak, documents=1, zaaktype=ZAAKTYPE, dct=DCT, statussen=1)
    legacy_besluit(sides, "0363BS-BF-B1", zaak, [f"{zaak}-D0"], "20241110")
    routing = {"default": {"mode": "translate", "backfill": "on_reference"}}
    with running_gateway(tmp_path / "front", env=sides.env(routing), timeout=START) as url:
        answer = post(url, "BeantwoordVraag", dtm.geef_zaakdetails(identificatie=zaak, referentienummer="bs-bf-q"))
        assert answer.status_code == 200, answer.text
        [copied] = sides.zaken(zaak)

        def besluit_in() -> bool:
            return bool(sides.zgw_get("besluiten", "besluiten", zaak=str(copied["url"])))

        wait_for(besluit_in, timeout=120)
    [besluit] = sides.zgw_get("besluiten", "besluiten", zaak=str(copied["url"]))
    assert besluit["identificatie"] == "0363BS-BF-B1"
    [bio] = sides.zgw_get("besluiten", "besluitinformatieobjecten", besluit=str(besluit["url"]))
    [eio] = sides.zgw_get("documenten", "enkelvoudiginformatieobjecten", identificatie=f"{zaak}-D0")
    assert bio["informatieobject"] == eio["url"]
