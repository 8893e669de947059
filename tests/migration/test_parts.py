"""The migration's parts on their own: the normalised view of a zaak and its differences, the list a migrate run
reads, identificaties against their template, the routing table's back-fill switch, and the per-zaak lock."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from stuf_bridge.migration.bulk import read_list
from stuf_bridge.migration.compare import compare_fractions, flatten
from stuf_bridge.migration.compare import differences as answer_differences
from stuf_bridge.migration.interrupted import dead_here, lock_owner
from stuf_bridge.migration.cutover import sequence_name, template_pattern
from stuf_bridge.migration.digest import differences, normalise
from stuf_bridge.migration.store import MigrationStore
from stuf_bridge.migration.wiring import backfill_rules
from stuf_bridge.routing.config import RoutingSettings
from stuf_bridge.store import create_store
from stuf_bridge.stuf.namespaces import STUF, ZKN

BG = "http://www.egem.nl/StUF/sector/bg/0310"


def zaak(*, omschrijving: str = "Melding", einddatum: str = "", statussen: tuple[tuple[str, str], ...] = (
        ("1", "20241105000000000"), ("2", "20241106000000000")), bsn: str = "999993653", start: str = "20241105",
         resultaat: str = "") -> etree._Element:
    heeft = "".join(f"<ZKN:heeft><ZKN:gerelateerde><ZKN:volgnummer>{v}</ZKN:volgnummer></ZKN:gerelateerde>"
                    f"<ZKN:datumStatusGezet>{d}</ZKN:datumStatusGezet></ZKN:heeft>" for v, d in statussen)
    result = f"<ZKN:resultaat><ZKN:omschrijving>{resultaat}</ZKN:omschrijving></ZKN:resultaat>" if resultaat else ""
    return etree.fromstring(f"""<ZKN:object xmlns:ZKN="{ZKN}" xmlns:StUF="{STUF}" xmlns:BG="{BG}">
      <ZKN:identificatie>0363Z1</ZKN:identificatie><ZKN:omschrijving> {omschrijving} </ZKN:omschrijving>
      <ZKN:startdatum>{start}</ZKN:startdatum><ZKN:einddatum>{einddatum}</ZKN:einddatum>{result}
      <ZKN:isVan><ZKN:gerelateerde><ZKN:code>MELDING-OR</ZKN:code></ZKN:gerelateerde></ZKN:isVan>
      <ZKN:heeftAlsInitiator><ZKN:gerelateerde><ZKN:natuurlijkPersoon><BG:inp.bsn>{bsn}</BG:inp.bsn>
      </ZKN:natuurlijkPersoon></ZKN:gerelateerde></ZKN:heeftAlsInitiator>{heeft}</ZKN:object>""")


@pytest.mark.parametrize(("other", "differ"), [
    (zaak(), []),
    (zaak(omschrijving="Melding"), []),  # whitespace does not count
    (zaak(start="2024-11-05"), []),  # a date is its digits
    (zaak(statussen=(("2", "20241106000000000"), ("1", "20241105000000000"))), []),  # order of the answer
    (zaak(omschrijving="Anders"), ["omschrijving"]),
    (zaak(einddatum="20241201"), ["einddatum"]),
    (zaak(statussen=(("1", "20241105000000000"),)), ["statussen.count", "statussen.last"]),
    (zaak(bsn="111222333"), ["rollen.heeftAlsInitiator"]),
    (zaak(resultaat="Afgehandeld"), ["resultaat"]),
])
def test_the_normalised_view_names_what_differs(other: etree._Element, differ: list[str]) -> None:
    assert differences(normalise(zaak()), normalise(other)) == differ


def test_documents_are_compared_by_identificatie() -> None:
    legacy = normalise(zaak(), {"D1": None, "D2": None})
    assert differences(legacy, normalise(zaak(), {"D2": 10, "D1": 5})) == []
    assert differences(legacy, normalise(zaak(), {"D1": 5})) == ["documenten"]


def test_the_list_skips_blanks_comments_and_repeats() -> None:
    assert read_list(["# export 2024", "A1", "", "  B2  # the second", "A1", "C3\n"]) == ["A1", "B2", "C3"]


@pytest.mark.parametrize(("kind", "template", "name", "fields", "sequence"), [
    ("zaak", "{gemeentecode}{jaar}{volgnummer:07d}", "036320240000042", {"gemeentecode": "0363", "jaar": "2024"},
     "identificatie:zaak|gemeentecode=0363|jaar=2024"),
    ("zaak", "Z-{volgnummer}", "Z-17", {}, "identificatie:zaak"),
    ("document", "{gemeentecode}D{jaar}{volgnummer:07d}", "0363D20240000001",
     {"gemeentecode": "0363", "jaar": "2024"}, "identificatie:document|gemeentecode=0363|jaar=2024"),
])
def test_identificaties_are_read_back_by_their_template(kind: str, template: str, name: str, fields: dict[str, str],
                                                        sequence: str) -> None:
    """(the sequence names are those of operations/identifiers.py: cut-over aligns the ones genereer* uses)"""
    match = template_pattern(template).match(name)
    assert match is not None
    assert {k: v for k, v in match.groupdict().items() if k != "volgnummer"} == fields
    assert sequence_name(kind, template, fields) == sequence
    assert template_pattern(template).match("something else") is None


def test_backfill_is_off_unless_a_rule_says_on_reference() -> None:
    table = RoutingSettings.model_validate({"default": "translate", "rules": [
        {"match": {"zaaktype": ["A"]}, "mode": "replicate", "primary": "legacy", "backfill": "on_reference"},
        {"match": {"zaaktype": ["B"]}, "mode": "translate", "name": "b"},
        {"match": {"zaaktype": ["C"]}, "mode": "translate", "name": "c", "backfill": "on_reference"},
    ]})
    assert backfill_rules(table) == {"rules[0]", "c"}
    assert backfill_rules(RoutingSettings()) == frozenset()
    only_default = RoutingSettings.model_validate({"default": {"mode": "translate", "backfill": "on_reference"}})
    assert only_default.active and backfill_rules(only_default) == {"default"}
    with pytest.raises(ValueError, match="backfill"):
        RoutingSettings.model_validate({"rules": [{"match": {"zaaktype": ["A"]}, "mode": "translate",
                                                   "backfill": "always"}]})


async def test_the_lock_is_held_by_one_owner_until_released_or_expired(tmp_path: Path) -> None:
    async with create_store(f"sqlite:///{tmp_path / 'store.sqlite3'}") as store:
        ledger = MigrationStore(store)
        assert await ledger.try_lock("Z1", "a", 60)
        assert not await ledger.try_lock("Z1", "b", 60)
        assert await ledger.try_lock("Z2", "b", 60)  # per zaak
        assert await ledger.lock_owner("Z1") == "a"
        await ledger.unlock("Z1", "b")  # not b's: still held
        assert not await ledger.try_lock("Z1", "b", 60)
        await ledger.unlock("Z1", "a")
        assert await ledger.try_lock("Z1", "b", -1)  # held, but already expired
        assert await ledger.try_lock("Z1", "c", 60)


def test_a_lock_of_a_process_that_died_on_this_machine_is_free() -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()[:60]
    assert dead_here(f"{host}:{ended.stdout.strip()}:x")
    assert not dead_here(f"{host}:{os.getpid()}:x")  # this one runs
    assert not dead_here(lock_owner())  # this one, with its start time
    assert not dead_here(f"another-host:{ended.stdout.strip()}:x")  # elsewhere: only its expiry frees it
    # the pid runs, but it is another process than the one that took the lock (a restarted container is pid 1
    # again): the start time in the owner tells them apart
    assert dead_here(f"{host}:{os.getpid()}:x:proc:1")


@pytest.mark.parametrize(("default", "error"), [
    ({"mode": "translate", "compare_reads": 0.1}, "compare_reads needs mode replicate"),
    ({"mode": "replicate", "primary": "legacy", "compare_reads": 1.5}, "less than or equal to 1"),
    ({"mode": "replicate", "primary": "legacy", "compare_reads": 0.1}, None),
])
def test_compare_reads_only_on_replicate_and_a_fraction(default: dict[str, object], error: str | None) -> None:
    if error is None:
        assert compare_fractions(RoutingSettings.model_validate({"default": default})) == {"default": 0.1}
        return
    with pytest.raises(ValueError, match=error):
        RoutingSettings.model_validate({"default": default})


def test_compared_answers_ignore_volatile_values_and_order() -> None:
    def answer(omschrijving: str, tijdstip: str, statussen: tuple[str, ...], datum: str) -> bytes:
        heeft = "".join(f"<ZKN:heeft><ZKN:gerelateerde><ZKN:volgnummer>{v}</ZKN:volgnummer></ZKN:gerelateerde>"
                        "</ZKN:heeft>" for v in statussen)
        return (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ZKN="{ZKN}" '
                f'xmlns:StUF="{STUF}"><s:Body><ZKN:zakLa01><ZKN:stuurgegevens><StUF:referentienummer>{tijdstip}'
                f"</StUF:referentienummer></ZKN:stuurgegevens><ZKN:antwoord><ZKN:object>"
                f"<ZKN:identificatie>Z1</ZKN:identificatie><ZKN:omschrijving>{omschrijving}</ZKN:omschrijving>"
                f"<ZKN:startdatum>{datum}</ZKN:startdatum><ZKN:toelichting/>"
                f"<StUF:tijdstipRegistratie>{tijdstip}</StUF:tijdstipRegistratie>{heeft}"
                f"</ZKN:object></ZKN:antwoord></ZKN:zakLa01></s:Body></s:Envelope>").encode()

    a = flatten(answer("Melding", "20241105120000", ("1", "2"), "20241105"))
    assert answer_differences(a, flatten(answer("Melding", "20250101000000", ("2", "1"), "2024-11-05"))) == []
    assert answer_differences(a, flatten(answer("Anders", "20241105120000", ("1",), "20241105"))) == [
        "heeft/gerelateerde/volgnummer", "omschrijving"]
