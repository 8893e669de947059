"""The whole path over real HTTP: ``stuf-bridge serve`` with the embedded backend and two subscribers (one fed as a
ZDS client feeds a zaaksysteem, one with generic StUF-ZKN kennisgevingen), a subscriber stand-in that records what
it accepts and can fail, and a ZGW client that is not the gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from stuf_bridge.stuf.namespaces import STUF, ZKN
from stuf_bridge.stuf.validation import Schemas
from tests.operations import messages as zm
from tests.support.reference import shared_dir
from tests.support.server import running_gateway

from .subscriber import Kennisgeving, Subscriber, subscriber_stand_in
from .zgw_client import ZgwClient
from ..support.waiting import wait_for

FAST_OUTBOX = {"poll_seconds": 0.1, "backoff_base_seconds": 0.2, "backoff_max_seconds": 0.5, "lease_seconds": 30,
               "max_attempts": 10_000}
ZDS11 = "http://www.egem.nl/StUF/sector/zkn/0310/"


def got(subscriber: Subscriber, zaak: str, dms: int, zkn: int) -> Callable[[], bool]:
    """A check: the subscribers received this many kennisgevingen about the zaak."""
    return lambda: len(subscriber.of("dms", zaak)) == dms and len(subscriber.of("zkn", zaak)) == zkn


def notifications_env(subscriber: Subscriber) -> dict[str, str]:
    config = {
        "coalesce_seconds": 0.3, "poll_seconds": 0.1,
        "subscribers": [
            {"name": "dms", "endpoint": subscriber.endpoint("dms"), "zaaktypen": ["MELDING-OR"],
             "vrije_berichten": f"{subscriber.url}/dms/VrijeBerichten",
             "stuf": {"organisatie": "0363", "applicatie": "DMS"}, "profile": "zds-client"},
            {"name": "zkn", "endpoint": subscriber.endpoint("zkn"), "zaaktypen": ["*"],
             "stuf": {"organisatie": "0363", "applicatie": "ZKN"}, "profile": "stuf-zkn"},
            {"name": "zds12", "endpoint": subscriber.endpoint("zds12"), "zaaktypen": ["BEZWAAR"],
             "stuf": {"organisatie": "0363", "applicatie": "ZS12"}, "profile": "zds-client", "zds": "1.2"},
        ],
    }
    return {"STUF_BRIDGE_NOTIFICATIONS": json.dumps(config), "STUF_BRIDGE_OUTBOX": json.dumps(FAST_OUTBOX),
            "STUF_BRIDGE_ORGANISATIE": "0363"}


DATA: list[Path] = []


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Subscriber, ZgwClient]]:
    with subscriber_stand_in() as subscriber:
        env = notifications_env(subscriber)
        DATA[:] = [tmp_path_factory.mktemp("notify")]
        with running_gateway(DATA[0], env=env) as url:
            client = ZgwClient(url)
            try:
                yield url, subscriber, client
            finally:
                client.close()


def valid(kennisgeving: Kennisgeving, schemas: Schemas | None) -> Kennisgeving:
    """Valid against the project's schemas (None: they do not hold the message) and the official ones (when
    ``../shared`` is there)."""
    if schemas is not None:
        assert schemas.validate(kennisgeving.message) == [], kennisgeving.body.decode()
    if shared_dir() is not None:
        from tests.support.official import official_errors

        assert official_errors(kennisgeving.message) == [], kennisgeving.body.decode()
    return kennisgeving


def outbox_idle(url: str) -> bool:
    text = httpx.get(f"{url}/metrics").text
    gauges = {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
              if line.startswith("stuf_bridge_outbox_")}
    return gauges.get("stuf_bridge_outbox_pending") == 0.0


def test_zaak_created_by_a_zgw_client_reaches_both_subscribers_as_t(
        path: tuple[str, Subscriber, ZgwClient], schemas: Schemas) -> None:
    url, subscriber, zgw = path
    zgw.create_zaak("0363ZK-NOTIFY-1", omschrijving="Losse stoeptegel")
    wait_for(lambda: bool(subscriber.of("dms", "0363ZK-NOTIFY-1")) and bool(subscriber.of("zkn", "0363ZK-NOTIFY-1")))
    dms = valid(subscriber.of("dms", "0363ZK-NOTIFY-1")[0], schemas)
    assert dms.soap_action.strip('"') == ZDS11 + "creeerZaak_Lk01"
    assert dms.mutatiesoort == "T" and len(dms.objects) == 1
    obj = dms.objects[0]
    assert obj.findtext(f"{{{ZKN}}}omschrijving") == "Losse stoeptegel"
    assert obj.findtext(f"{{{ZKN}}}isVan/{{{ZKN}}}gerelateerde/{{{ZKN}}}code") == "MELDING-OR"
    sg = dms.message.find(f"{{{ZKN}}}stuurgegevens")
    assert sg.findtext(f"{{{STUF}}}zender/{{{STUF}}}applicatie") == "stuf-bridge"
    assert sg.findtext(f"{{{STUF}}}ontvanger/{{{STUF}}}applicatie") == "DMS"
    zkn = valid(subscriber.of("zkn", "0363ZK-NOTIFY-1")[0], schemas)
    assert zkn.soap_action.strip('"') == ZDS11 + "zakLk01" and zkn.mutatiesoort == "T"


def test_status_set_becomes_actualiseer_zaakstatus_with_was_and_wordt(
        path: tuple[str, Subscriber, ZgwClient], schemas: Schemas) -> None:
    url, subscriber, zgw = path
    zaak = zgw.create_zaak("0363ZK-NOTIFY-2")
    wait_for(lambda: len(subscriber.of("dms", "0363ZK-NOTIFY-2")) == 1)
    zgw.set_status(zaak, 1, "2024-03-01T10:00:00Z")
    wait_for(got(subscriber, "0363ZK-NOTIFY-2", 2, 2))
    status = valid(subscriber.of("dms", "0363ZK-NOTIFY-2")[1], schemas)
    assert status.operation == "actualiseerZaakstatus_Lk01" and status.mutatiesoort == "W"
    old, new = status.objects
    assert old.find(f"{{{ZKN}}}heeft").get(f"{{{STUF}}}noValue") == "geenWaarde"
    assert new.findtext(f"{{{ZKN}}}heeft/{{{ZKN}}}gerelateerde/{{{ZKN}}}omschrijving") == "Ontvangen"
    generic = valid(subscriber.of("zkn", "0363ZK-NOTIFY-2")[1], schemas)
    assert generic.operation == "zakLk01" and generic.mutatiesoort == "W" and len(generic.objects) == 2


def test_zaak_changed_becomes_update_zaak_with_old_and_new_values(
        path: tuple[str, Subscriber, ZgwClient], schemas: Schemas) -> None:
    url, subscriber, zgw = path
    zaak = zgw.create_zaak("0363ZK-NOTIFY-3", omschrijving="Eerste omschrijving")
    wait_for(lambda: len(subscriber.of("dms", "0363ZK-NOTIFY-3")) == 1)
    zgw.patch_zaak(zaak, omschrijving="Tweede omschrijving")
    wait_for(lambda: len(subscriber.of("dms", "0363ZK-NOTIFY-3")) == 2)
    update = valid(subscriber.of("dms", "0363ZK-NOTIFY-3")[1], schemas)
    assert update.operation == "updateZaak_Lk01" and update.mutatiesoort == "W"
    old, new = update.objects
    assert old.findtext(f"{{{ZKN}}}omschrijving") == "Eerste omschrijving"
    assert new.findtext(f"{{{ZKN}}}omschrijving") == "Tweede omschrijving"


def test_document_added_becomes_voeg_zaakdocument_toe_with_its_content(
        path: tuple[str, Subscriber, ZgwClient], schemas: Schemas) -> None:
    url, subscriber, zgw = path
    zaak = zgw.create_zaak("0363ZK-NOTIFY-4")
    content = bytes(range(256)) * 1000 + b"tail"
    zgw.add_document(zaak, "0363DOC-NOTIFY-4", content)
    wait_for(lambda: len(subscriber.of("dms", "0363ZK-NOTIFY-4")) == 2)
    creeer, document = subscriber.of("dms", "0363ZK-NOTIFY-4")
    assert creeer.operation == "creeerZaak_Lk01"
    valid(document, schemas)
    assert document.operation == "voegZaakdocumentToe_Lk01" and document.mutatiesoort == "T"
    assert document.objects[0].findtext(f"{{{ZKN}}}identificatie") == "0363DOC-NOTIFY-4"
    assert document.content == content


def test_zaaktype_not_wanted_is_not_sent(path: tuple[str, Subscriber, ZgwClient]) -> None:
    url, subscriber, zgw = path
    zgw.create_zaak("0363ZK-NOTIFY-5", zaaktype="BEZWAAR")
    wait_for(lambda: len(subscriber.of("zkn", "0363ZK-NOTIFY-5")) == 1)
    wait_for(lambda: outbox_idle(url))
    assert subscriber.of("dms", "0363ZK-NOTIFY-5") == []


def test_subscriber_down_for_a_while_gets_everything_afterwards_in_order_once(
        path: tuple[str, Subscriber, ZgwClient]) -> None:
    url, subscriber, zgw = path
    zaak = zgw.create_zaak("0363ZK-NOTIFY-6", omschrijving="Voor")
    wait_for(got(subscriber, "0363ZK-NOTIFY-6", 1, 1))
    subscriber.mode = "down"
    try:
        refused = subscriber.refused
        zgw.set_status(zaak, 1, "2024-03-01T10:00:00Z")
        zgw.set_status(zaak, 2, "2024-03-02T10:00:00Z")
        zgw.patch_zaak(zaak, omschrijving="Na")
        wait_for(lambda: subscriber.refused >= refused + 6)  # tried, refused, tried again
    finally:
        subscriber.mode = "ok"
    wait_for(got(subscriber, "0363ZK-NOTIFY-6", 4, 4))
    wait_for(lambda: outbox_idle(url))
    time.sleep(1.0)  # nothing more comes
    for name, operations in (("dms", ["creeerZaak_Lk01", "actualiseerZaakstatus_Lk01", "actualiseerZaakstatus_Lk01",
                                      "updateZaak_Lk01"]),
                             ("zkn", ["zakLk01"] * 4)):
        received = subscriber.of(name, "0363ZK-NOTIFY-6")
        assert [k.operation for k in received] == operations
        assert [k.mutatiesoort for k in received] == ["T", "W", "W", "W"]
        statuses = [k.objects[1].findtext(f"{{{ZKN}}}heeft/{{{ZKN}}}gerelateerde/{{{ZKN}}}omschrijving")
                    for k in received[1:3]]
        assert statuses == ["Ontvangen", "In behandeling"]
        old, new = received[3].objects
        assert (old.findtext(f"{{{ZKN}}}omschrijving"), new.findtext(f"{{{ZKN}}}omschrijving")) == ("Voor", "Na")
        assert len({k.referentienummer for k in received}) == 4
        assert [k.tijdstip for k in received] == sorted({k.tijdstip for k in received})


def test_a_subscriber_that_was_down_when_the_zaak_was_made_gets_it_as_it_is_now(
        path: tuple[str, Subscriber, ZgwClient]) -> None:
    """The snapshot, not a replay of history: a zaak changed before the subscriber could be told arrives as it is."""
    url, subscriber, zgw = path
    subscriber.mode = "down"
    try:
        refused = subscriber.refused
        zaak = zgw.create_zaak("0363ZK-NOTIFY-9", omschrijving="Voor")
        zgw.patch_zaak(zaak, omschrijving="Na")
        wait_for(lambda: subscriber.refused >= refused + 2)
    finally:
        subscriber.mode = "ok"
    wait_for(lambda: len(subscriber.of("dms", "0363ZK-NOTIFY-9")) == 1)
    wait_for(lambda: outbox_idle(url))
    received = subscriber.of("dms", "0363ZK-NOTIFY-9")
    assert [k.operation for k in received] == ["creeerZaak_Lk01"]


def test_a_change_by_the_subscriber_itself_through_the_gateway_is_not_echoed_to_it(
        path: tuple[str, Subscriber, ZgwClient]) -> None:
    url, subscriber, zgw = path
    body, headers = zm.creeer_zaak(identificatie="0363ZK-NOTIFY-7", zaaktype="MELDING-OR",
                                   referentienummer="dms-echo-1")
    body = body.replace(b"<StUF:applicatie>OpenFormulieren</StUF:applicatie>",
                        b"<StUF:applicatie>DMS</StUF:applicatie>")  # the zender is the subscriber itself
    answer = httpx.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert b"Bv03Bericht" in answer.content
    wait_for(lambda: len(subscriber.of("zkn", "0363ZK-NOTIFY-7")) >= 1)
    wait_for(lambda: outbox_idle(url))
    time.sleep(1.0)
    assert subscriber.of("dms", "0363ZK-NOTIFY-7") == []
    assert subscriber.of("zkn", "0363ZK-NOTIFY-7")[0].mutatiesoort == "T"
    # a later change by someone else still reaches the subscriber that created the zaak
    found = zgw.ok("GET", "zaken/api/v1/zaken", params={"identificatie": "0363ZK-NOTIFY-7"})["results"]
    zgw.patch_zaak(found[0], omschrijving="Door een ZGW-applicatie gewijzigd")
    wait_for(lambda: len(subscriber.of("dms", "0363ZK-NOTIFY-7")) == 1)
    assert subscriber.of("dms", "0363ZK-NOTIFY-7")[0].operation == "updateZaak_Lk01"


def test_every_kennisgeving_has_a_strictly_rising_tijdstip_and_a_fresh_referentienummer(
        path: tuple[str, Subscriber, ZgwClient]) -> None:
    url, subscriber, zgw = path
    zgw.create_zaak("0363ZK-NOTIFY-8")
    wait_for(got(subscriber, "0363ZK-NOTIFY-8", 1, 1))
    with subscriber.lock:
        received = list(subscriber.received)
    stamps = sorted(k.tijdstip for k in received)
    assert len(set(stamps)) == len(stamps)
    assert len({k.referentienummer for k in received}) == len(received)
    parsed = [etree.fromstring(k.body) for k in received]
    assert all(p is not None for p in parsed)


def outbox_cli(*arguments: str) -> str:
    done = subprocess.run([sys.executable, "-m", "stuf_bridge", "outbox", *arguments, "--data-dir", str(DATA[0])],
                          capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_")})
    assert done.returncode == 0, done.stderr
    return done.stdout


def dead_items(subscriber: str) -> list[str]:
    return [line.split()[0] for line in outbox_cli("list", "--dead").splitlines()[1:]
            if f"subscriber:{subscriber}" in line]


def test_a_refused_kennisgeving_parks_that_zaak_for_that_subscriber_until_an_operator_retries(
        path: tuple[str, Subscriber, ZgwClient]) -> None:
    url, subscriber, zgw = path
    subscriber.modes["dms"] = "fault"  # Fo03 plek client: sending it again changes nothing
    try:
        zaak = zgw.create_zaak("0363ZK-NOTIFY-10")
        wait_for(got(subscriber, "0363ZK-NOTIFY-10", 0, 1))  # the other subscriber is not held up
        wait_for(lambda: len(dead_items("dms")) == 1)
    finally:
        subscriber.modes.pop("dms")
    [item] = dead_items("dms")
    zgw.set_status(zaak, 1, "2024-03-01T10:00:00Z")  # waits behind the dead item
    zgw.create_zaak("0363ZK-NOTIFY-11")  # another zaak is not parked
    wait_for(got(subscriber, "0363ZK-NOTIFY-11", 1, 1))
    wait_for(got(subscriber, "0363ZK-NOTIFY-10", 0, 2))
    assert subscriber.of("dms", "0363ZK-NOTIFY-10") == []
    assert "pending again" in outbox_cli("retry", item)
    wait_for(got(subscriber, "0363ZK-NOTIFY-10", 2, 2))
    assert [k.operation for k in subscriber.of("dms", "0363ZK-NOTIFY-10")] == [
        "creeerZaak_Lk01", "actualiseerZaakstatus_Lk01"]
    assert dead_items("dms") == []


def test_a_zaak_destroyed_in_zgw_is_a_v_for_stuf_zkn_and_nothing_for_a_zds_client(
        path: tuple[str, Subscriber, ZgwClient], schemas: Schemas) -> None:
    url, subscriber, zgw = path
    zaak = zgw.create_zaak("0363ZK-NOTIFY-12")
    wait_for(got(subscriber, "0363ZK-NOTIFY-12", 1, 1))
    zgw.ok("DELETE", zaak["url"], 204)
    wait_for(got(subscriber, "0363ZK-NOTIFY-12", 1, 2))
    removal = valid(subscriber.of("zkn", "0363ZK-NOTIFY-12")[1], schemas)
    assert (removal.operation, removal.mutatiesoort) == ("zakLk01", "V")
    wait_for(lambda: outbox_idle(url))
    assert len(subscriber.of("dms", "0363ZK-NOTIFY-12")) == 1


def test_a_besluit_reaches_stuf_zkn_as_bsllk01_and_leidt_tot(path: tuple[str, Subscriber, ZgwClient],
                                                             schemas: Schemas) -> None:
    url, subscriber, zgw = path
    zaak = zgw.create_zaak("0363ZK-NOTIFY-13", zaaktype="OMGEVINGSVERGUNNING")
    wait_for(got(subscriber, "0363ZK-NOTIFY-13", 0, 1))
    zgw.add_besluit(zaak, "0363BSL-NOTIFY-13", "Omgevingsvergunning verleend", toelichting="Verleend")
    wait_for(lambda: len(subscriber.of("zkn")) >= 1 and any(
        k.operation == "bslLk01" for k in subscriber.of("zkn")))
    wait_for(got(subscriber, "0363ZK-NOTIFY-13", 0, 2))
    wait_for(lambda: outbox_idle(url))
    [bsl] = [k for k in subscriber.of("zkn") if k.operation == "bslLk01"
             and k.objects[0].findtext(f"{{{ZKN}}}identificatie") == "0363BSL-NOTIFY-13"]
    valid(bsl, None)  # the project's schemas do not hold bslLk01
    assert bsl.mutatiesoort == "T" and bsl.objects[0].findtext(f"{{{ZKN}}}toelichting") == "Verleend"
    update = valid(subscriber.of("zkn", "0363ZK-NOTIFY-13")[1], schemas)
    assert update.mutatiesoort == "W"
    relation = update.objects[1].find(f"{{{ZKN}}}leidtTot")
    assert relation.get(f"{{{STUF}}}verwerkingssoort") == "T"
    assert relation.findtext(f"{{{ZKN}}}gerelateerde/{{{ZKN}}}identificatie") == "0363BSL-NOTIFY-13"
    assert subscriber.received.index(bsl) < subscriber.received.index(subscriber.of("zkn", "0363ZK-NOTIFY-13")[1])


def test_zaakobject_and_zaakeigenschap_become_update_zaak(path: tuple[str, Subscriber, ZgwClient],
                                                          schemas: Schemas) -> None:
    url, subscriber, zgw = path
    zaak = zgw.create_zaak("0363ZK-NOTIFY-14")
    wait_for(got(subscriber, "0363ZK-NOTIFY-14", 1, 1))
    zgw.add_adres(zaak, "Dam", 1)
    zgw.set_eigenschap(zaak, "categorie", "straat")
    wait_for(lambda: outbox_idle(url) and len(subscriber.of("dms", "0363ZK-NOTIFY-14")) >= 2)
    wait_for(lambda: outbox_idle(url))
    updates = subscriber.of("dms", "0363ZK-NOTIFY-14")[1:]
    assert {k.operation for k in updates} == {"updateZaak_Lk01"}
    final = valid(updates[-1], schemas).objects[1]
    assert final.findtext(f"{{{ZKN}}}heeftBetrekkingOp/{{{ZKN}}}omschrijving") == "Locatie"
    extra = final.find(f"{{{STUF}}}extraElementen/{{{STUF}}}extraElement")
    assert (extra.get("naam"), extra.text) == ("categorie", "straat")
    generic = subscriber.of("zkn", "0363ZK-NOTIFY-14")[-1]
    assert generic.operation == "zakLk01" and generic.mutatiesoort == "W"


def test_document_changed_and_unlinked_reach_stuf_zkn_as_edclk01_w_and_v(
        path: tuple[str, Subscriber, ZgwClient], schemas: Schemas) -> None:
    url, subscriber, zgw = path
    zaak = zgw.create_zaak("0363ZK-NOTIFY-15")
    eio = zgw.add_document(zaak, "0363DOC-NOTIFY-15", b"eerste versie")
    wait_for(got(subscriber, "0363ZK-NOTIFY-15", 2, 2))
    lock = zgw.ok("POST", f"{eio['url']}/lock")["lock"]
    zgw.ok("PATCH", eio["url"], json={"titel": "Foto, bijgesneden", "lock": lock})
    zgw.ok("POST", f"{eio['url']}/unlock", 204, json={"lock": lock})
    wait_for(got(subscriber, "0363ZK-NOTIFY-15", 3, 3))  # the zds-client's updateZaakdocument: below
    change = valid(subscriber.of("zkn", "0363ZK-NOTIFY-15")[2], schemas)
    assert (change.operation, change.mutatiesoort) == ("edcLk01", "W")
    old, new = change.objects
    assert (old.findtext(f"{{{ZKN}}}titel"), new.findtext(f"{{{ZKN}}}titel")) == (
        "Foto van de melding", "Foto, bijgesneden")
    [zio] = zgw.ok("GET", "zaken/api/v1/zaakinformatieobjecten", params={"informatieobject": eio["url"]})
    zgw.ok("DELETE", zio["url"], 204)
    wait_for(lambda: len(subscriber.of("zkn", "0363ZK-NOTIFY-15")) + len(
        [k for k in subscriber.of("zkn") if k.operation == "edcLk01" and k.mutatiesoort == "V"]) >= 4)
    wait_for(lambda: outbox_idle(url))
    [gone] = [k for k in subscriber.of("zkn") if k.operation == "edcLk01" and k.mutatiesoort == "V"
              and k.objects[0].findtext(f"{{{ZKN}}}identificatie") == "0363DOC-NOTIFY-15"]
    valid(gone, schemas)
    # the zds-client: the change as updateZaakdocument_Di02 after a checkout, both to its VrijeBerichten; no removal
    dms = subscriber.of("dms")
    assert [k.operation for k in subscriber.of("dms", "0363ZK-NOTIFY-15")] == [
        "creeerZaak_Lk01", "voegZaakdocumentToe_Lk01", "updateZaakdocument_Di02"]
    update = subscriber.of("dms", "0363ZK-NOTIFY-15")[2]
    valid(update, schemas)
    assert update.path == "/dms/VrijeBerichten"
    before = dms[dms.index(update) - 1]
    assert before.operation == "geefZaakdocumentbewerken_Di02" and before.path == "/dms/VrijeBerichten"
    valid(before, schemas)
    assert update.message.findtext(".//{*}checkedOutId") == f"co-{subscriber.checkouts}"
    assert update.objects[1].findtext(f"{{{ZKN}}}titel") == "Foto, bijgesneden"


def test_the_snapshots_hold_no_bsn_in_clear(path: tuple[str, Subscriber, ZgwClient]) -> None:
    """The initiator's BSN reaches the subscriber, and is in no snapshot row in clear (sealed with the key the
    gateway made in its data directory)."""
    import sqlite3

    url, subscriber, zgw = path
    body, headers = zm.creeer_zaak(identificatie="0363ZK-NOTIFY-16", zaaktype="MELDING-OR",
                                   referentienummer="bsn-at-rest-1")  # with an initiator, BSN 999993653
    answer = httpx.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=headers, timeout=30)
    assert b"Bv03Bericht" in answer.content, answer.text
    wait_for(lambda: bool(subscriber.of("dms", "0363ZK-NOTIFY-16")) and bool(subscriber.of("zkn", "0363ZK-NOTIFY-16")))
    wait_for(lambda: outbox_idle(url))
    assert any(b"999993653" in k.body for k in subscriber.of("zkn", "0363ZK-NOTIFY-16")), [
        (k.operation, k.body) for k in subscriber.of("zkn", "0363ZK-NOTIFY-16")]
    key = DATA[0] / "notification-snapshots.key"
    assert key.stat().st_mode & 0o077 == 0
    with sqlite3.connect(DATA[0] / "stuf-bridge.sqlite3") as db:
        rows = db.execute("SELECT subscriber, acked, inflight FROM notification_snapshots").fetchall()
    assert {"dms", "zkn"} <= {row[0] for row in rows}
    raw = b"".join(bytes(row[1] or b"") + bytes(row[2] or b"") for row in rows)
    assert raw and b"999993653" not in raw and b"inp.bsn" not in raw


def test_a_zds_1_2_subscriber_gets_zds_1_2_messages(path: tuple[str, Subscriber, ZgwClient], schemas: Schemas) -> None:
    url, subscriber, zgw = path
    zaak = zgw.create_zaak("0363ZK-NOTIFY-17", zaaktype="BEZWAAR")
    wait_for(lambda: len(subscriber.of("zds12", "0363ZK-NOTIFY-17")) == 1)
    zgw.set_status(zaak, 1, "2024-03-01T10:00:00Z")
    wait_for(lambda: len(subscriber.of("zds12", "0363ZK-NOTIFY-17")) == 2)
    received = subscriber.of("zds12", "0363ZK-NOTIFY-17")
    assert [k.soap_action.strip('"') for k in received] == [
        "http://www.stufstandaarden.nl/koppelvlak/zds0120/creeerZaak_ZakLk01",
        "http://www.stufstandaarden.nl/koppelvlak/zds0120/actualiseerZaakstatus_ZakLk01"]
    for kennisgeving in received:
        valid(kennisgeving, schemas)
        assert etree.QName(kennisgeving.message).namespace == "http://www.stufstandaarden.nl/koppelvlak/zds0120"


def test_a_failed_update_is_cancelled_and_retried_and_content_goes_again_only_when_it_changed(
        path: tuple[str, Subscriber, ZgwClient], schemas: Schemas) -> None:
    """The zds-client's updateZaakdocument fails once after its checkout: the gateway cancels that checkout, and
    the retry's checkout is granted (the stand-in refuses a second checkout of a document it holds). A metadata
    change (a new ZGW version, the same content) sends no content to either subscriber; new content is sent."""
    import base64

    url, subscriber, zgw = path
    zaak = zgw.create_zaak("0363ZK-NOTIFY-18")
    eio = zgw.add_document(zaak, "0363DOC-NOTIFY-18", b"eerste versie")
    wait_for(got(subscriber, "0363ZK-NOTIFY-18", 2, 2))
    start = len(subscriber.of("dms"))
    subscriber.fail_updates = 1

    def change(**fields: object) -> None:
        lock = zgw.ok("POST", f"{eio['url']}/lock")["lock"]
        zgw.ok("PATCH", eio["url"], json={**fields, "lock": lock})
        zgw.ok("POST", f"{eio['url']}/unlock", 204, json={"lock": lock})

    change(titel="Foto, bijgesneden")
    wait_for(got(subscriber, "0363ZK-NOTIFY-18", 4, 3))  # the failed update is recorded too
    wait_for(lambda: outbox_idle(url))
    assert [k.operation for k in subscriber.of("dms")[start:]] == [
        "geefZaakdocumentbewerken_Di02", "updateZaakdocument_Di02", "cancelCheckout_Di02",
        "geefZaakdocumentbewerken_Di02", "updateZaakdocument_Di02"]
    failed, cancel, retried = (subscriber.of("dms")[start + n] for n in (1, 2, 4))
    assert cancel.message.findtext(".//{*}checkedOutId") == failed.message.findtext(".//{*}checkedOutId")
    assert retried.message.findtext(".//{*}checkedOutId") != failed.message.findtext(".//{*}checkedOutId")
    valid(cancel, schemas)
    assert "0363DOC-NOTIFY-18" not in subscriber.locks
    assert retried.content is None and subscriber.of("zkn", "0363ZK-NOTIFY-18")[2].content is None  # metadata only

    change(inhoud=base64.b64encode(b"tweede versie").decode(), bestandsomvang=13)
    wait_for(got(subscriber, "0363ZK-NOTIFY-18", 5, 4))
    assert subscriber.of("zkn", "0363ZK-NOTIFY-18")[3].content == b"tweede versie"
    assert subscriber.of("dms", "0363ZK-NOTIFY-18")[4].content == b"tweede versie"
