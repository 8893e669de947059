"""A changed document delivered to a subscriber over real HTTP (the recording subscriber stand-in), with the store
for real and the zaak's state from ZGW given: updateZaakdocument after a checkout that is cancelled when the update
fails (and on a retry, a checkout an earlier attempt could not end), and a document's content sent again only when
it changed (sha256 and size kept in the snapshot)."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from stuf_bridge.mapping import Mappings
from stuf_bridge.notifications import delivery as delivery_module
from stuf_bridge.notifications.config import NotificationSettings
from stuf_bridge.notifications.delivery import SubscriberDelivery, partition, target
from stuf_bridge.notifications.messages import Sender
from stuf_bridge.notifications.state import Planner, ZaakState
from stuf_bridge.notifications.store import NotificationStore
from stuf_bridge.outbox.worker import Outcome
from stuf_bridge.store import OutboxEntry, create_store

from .subscriber import Subscriber, subscriber_stand_in
from .test_messages import EIO, ROLLEN, STATUSSEN, ZAAK, ZAAKTYPE, ZIO, iot

DOC = EIO["identificatie"]


class Zgw:
    """What the delivery reads of ZGW besides the zaak's state: informatieobjecttypen and document content (the
    content per inhoud URL; ``downloads`` counts the reads)."""

    def __init__(self) -> None:
        self.content: dict[str, bytes] = {str(EIO["inhoud"]): b"eerste versie"}
        self.downloads = 0
        self.catalogue = SimpleNamespace(informatieobjecttype_by_url=iot)
        self.documenten = SimpleNamespace(stream_download=self.stream_download)

    @asynccontextmanager
    async def stream_download(self, url: str) -> AsyncIterator[Any]:
        self.downloads += 1
        data = self.content[url]

        async def aiter_bytes(size: int) -> AsyncIterator[bytes]:
            for start in range(0, len(data), 5):  # in pieces, as a stream comes
                yield data[start:start + 5]

        yield SimpleNamespace(aiter_bytes=aiter_bytes)


class Setup:
    def __init__(self, stand_in: Subscriber, tmp_path: Path, profile: str, monkeypatch: pytest.MonkeyPatch):
        extra = {"vrije_berichten": f"{stand_in.url}/dms/VrijeBerichten"} if profile == "zds-client" else {}
        self.settings = NotificationSettings(subscribers=[{
            "name": "dms", "endpoint": stand_in.endpoint("dms"), "profile": profile,
            "stuf": {"organisatie": "0363", "applicatie": "DMS"}, **extra}])
        self.stand_in = stand_in
        self.tmp_path = tmp_path
        self.zgw = Zgw()
        self.state = ZaakState(dict(ZAAK), ZAAKTYPE, list(STATUSSEN), [(ZIO, {**EIO, "versie": 1})],
                               copy.deepcopy(ROLLEN))
        monkeypatch.setattr(delivery_module, "read_state", self.read_state)

    async def read_state(self, zgw: Any, zaak_url: str, *, documents: bool = True) -> ZaakState:
        return self.state

    async def deliver(self) -> tuple[Outcome, NotificationStore, Any]:
        """One delivery of the zaak to the subscriber: its outcome and the snapshot after it."""
        async with create_store(f"sqlite:///{self.tmp_path}/s.sqlite3") as store:
            notifications = NotificationStore(store)
            sender = Sender("0363", "stuf-bridge")
            delivery = SubscriberDelivery(self.settings, notifications, self.zgw,  # type: ignore[arg-type]
                                          Planner(Mappings.load(), sender), sender)
            try:
                now = dt.datetime.now(dt.UTC)
                entry = OutboxEntry(1, partition("dms", ZAAK["url"]), target("dms"),
                                    json.dumps({"zaak": ZAAK["url"]}).encode(), "application/json", None, "k",
                                    "inflight", 0, now, None, None, now)
                outcome = await delivery(entry)
            finally:
                await delivery.aclose()
            return outcome, notifications, await notifications.snapshot("dms", ZAAK["url"])

    def operations(self) -> list[str]:
        return [k.operation for k in self.stand_in.of("dms")]

    def change_document(self, content: bytes | None = None, **metadata: Any) -> None:
        """A new version of the document in ZGW: other metadata, and other content when given."""
        zio, eio = self.state.documenten[0]
        if content is not None:
            self.zgw.content[str(eio["inhoud"])] = content
        self.state.documenten = [(zio, {**eio, **metadata, "versie": eio["versie"] + 1})]


@pytest.fixture
def stand_in() -> Iterator[Subscriber]:
    with subscriber_stand_in() as subscriber:
        yield subscriber


def after_checkout(setup: Setup) -> None:
    """Bring the zds-client up to date, then change the document (metadata and content)."""
    outcome, snapshot = run(setup)
    assert outcome.status == "done" and snapshot.inflight is None
    assert setup.operations() == ["creeerZaak_Lk01", "actualiseerZaakstatus_Lk01", "actualiseerZaakstatus_Lk01",
                                  "voegZaakdocumentToe_Lk01"]
    setup.change_document(b"tweede versie", titel="Foto van de stoep")


def run(setup: Setup) -> tuple[Outcome, Any]:
    outcome, _, snapshot = asyncio.run(setup.deliver())
    return outcome, snapshot


def test_an_update_that_fails_after_its_checkout_is_followed_by_a_cancel_checkout(
        stand_in: Subscriber, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = Setup(stand_in, tmp_path, "zds-client", monkeypatch)
    after_checkout(setup)
    stand_in.fail_updates = 1
    outcome, snapshot = run(setup)
    assert outcome.status == "retry"
    assert setup.operations()[4:] == ["geefZaakdocumentbewerken_Di02", "updateZaakdocument_Di02",
                                      "cancelCheckout_Di02"]
    cancel = stand_in.of("dms")[-1]
    assert cancel.message.findtext(".//{*}checkedOutId") == "co-1"
    assert cancel.message.findtext(".//{*}document/{*}identificatie") == DOC
    assert stand_in.locks == {}  # the subscriber does not keep the document locked
    assert snapshot.inflight is not None and snapshot.inflight["checked_out"] is None
    outcome, snapshot = run(setup)  # the retry: a new checkout, which the subscriber grants
    assert outcome.status == "done", outcome.error
    assert setup.operations()[7:] == ["geefZaakdocumentbewerken_Di02", "updateZaakdocument_Di02"]
    assert stand_in.of("dms")[-1].message.findtext(".//{*}checkedOutId") == "co-2"
    assert stand_in.locks == {} and stand_in.refused == 1  # only the failed update
    assert snapshot.inflight is None
    assert snapshot.acked["documentversies"][EIO["url"]]["versie"] == 2


def test_a_checkout_an_earlier_attempt_could_not_end_is_cancelled_before_the_retry_checks_out(
        stand_in: Subscriber, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = Setup(stand_in, tmp_path, "zds-client", monkeypatch)
    after_checkout(setup)
    stand_in.fail_updates = 1
    stand_in.fail_cancels = 1  # the cancel fails too: the subscriber still holds our checkout
    outcome, snapshot = run(setup)
    assert outcome.status == "retry"
    assert stand_in.locks == {DOC: "co-1"}
    assert snapshot.inflight["checked_out"] == "co-1"  # remembered, in the store
    outcome, snapshot = run(setup)
    assert outcome.status == "done", outcome.error
    assert setup.operations()[7:] == ["cancelCheckout_Di02", "geefZaakdocumentbewerken_Di02",
                                      "updateZaakdocument_Di02"]
    assert stand_in.of("dms")[7].message.findtext(".//{*}checkedOutId") == "co-1"
    assert stand_in.of("dms")[-1].message.findtext(".//{*}checkedOutId") == "co-2"
    assert stand_in.locks == {} and snapshot.inflight is None


def test_a_checkout_that_ended_meanwhile_does_not_hold_up_the_retry(
        stand_in: Subscriber, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The remembered checkout is gone at the subscriber (it expired, or the update did get through and only its
    answer was lost): the cancel's fault with plek client means there is nothing to end."""
    setup = Setup(stand_in, tmp_path, "zds-client", monkeypatch)
    after_checkout(setup)
    stand_in.fail_updates = stand_in.fail_cancels = 1
    assert run(setup)[0].status == "retry"
    stand_in.locks.clear()  # an operator freed the document at the subscriber
    outcome, snapshot = run(setup)
    assert outcome.status == "done", outcome.error
    assert setup.operations()[7:] == ["cancelCheckout_Di02", "geefZaakdocumentbewerken_Di02",
                                      "updateZaakdocument_Di02"]
    assert snapshot.inflight is None


@pytest.mark.parametrize("profile", ["stuf-zkn", "zds-client"])
def test_content_goes_again_only_when_it_changed(profile: str, stand_in: Subscriber, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    setup = Setup(stand_in, tmp_path, profile, monkeypatch)
    assert run(setup)[0].status == "done"
    [added] = [k for k in stand_in.of("dms") if k.objects and k.objects[-1].get(
        "{http://www.egem.nl/StUF/StUF0301}entiteittype") == "EDC"]
    assert added.content == b"eerste versie"
    known = run(setup)[1].acked["documentversies"][EIO["url"]]
    assert (known["sha256"], known["size"]) == (hashlib.sha256(b"eerste versie").hexdigest(), 13)
    count = len(stand_in.of("dms"))

    setup.change_document(titel="Foto van de stoep")  # a new version, the same content: metadata only
    outcome, snapshot = run(setup)
    assert outcome.status == "done", outcome.error
    change = stand_in.of("dms")[-1]
    assert change.operation in ("edcLk01", "updateZaakdocument_Di02")
    old, new = change.objects
    assert new.findtext("{http://www.egem.nl/StUF/sector/zkn/0310}titel") == "Foto van de stoep"
    assert change.content is None and b"inhoud" not in change.body
    assert snapshot.acked["documentversies"][EIO["url"]]["sha256"] == known["sha256"]

    setup.change_document(b"bijgesneden foto")  # a new version with other content: sent, and remembered
    outcome, snapshot = run(setup)
    assert outcome.status == "done", outcome.error
    assert stand_in.of("dms")[-1].content == b"bijgesneden foto"
    now = snapshot.acked["documentversies"][EIO["url"]]
    assert (now["sha256"], now["size"], now["versie"]) == (
        hashlib.sha256(b"bijgesneden foto").hexdigest(), 16, 3)
    sent = stand_in.of("dms")[count:]
    assert sum(k.content is not None for k in sent if k.objects) == 1
