"""The embedded backend's notifications: kanalen, hoofdObject, resource, actie and kenmerken as Open Zaak sends them,
after the commit only, and retried when the callback fails."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from stuf_bridge.zgw_embedded.notifications import NotificationTarget

from .conftest import RSIN, Zgw
from .test_besluiten import create_besluit

CALLBACK = "http://gateway.test/notificaties/callback"


class Recorder:
    def __init__(self, fail_first: int = 0):
        self.seen: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.fail_first = fail_first

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fail_first:
            self.fail_first -= 1
            return httpx.Response(503)
        self.seen.append(json.loads(request.content))
        self.auth.append(request.headers.get("authorization"))
        return httpx.Response(204)


def notified(app: Any, recorder: Recorder) -> None:
    notifier = app.state.zgw.notifier
    notifier.transport = httpx.MockTransport(recorder)
    notifier.backoff_base = 0.01
    notifier.add_target(NotificationTarget(CALLBACK, "Bearer own"))


async def settle(app: Any) -> None:
    await app.state.zgw.notifier.idle()


async def test_zaak_and_its_sub_resources_notify_on_kanaal_zaken_with_the_zaak_as_hoofd_object(
        app: Any, zgw: Zgw) -> None:
    recorder = Recorder()
    notified(app, recorder)
    zaak = await zgw.create_zaak()
    statustype = await zgw.catalogus_item("statustypen", await zgw.zaaktype(), volgnummer=1)
    status = await zgw.ok("POST", "zaken/api/v1/statussen", 201, json={
        "zaak": zaak["url"], "statustype": statustype["url"], "datumStatusGezet": "2024-03-01T10:00:00Z"})
    await zgw.ok("PATCH", zaak["url"], json={"omschrijving": "anders"})
    await zgw.ok("POST", "zaken/api/v1/zaken/_zoek", json={"identificatie": zaak["identificatie"]})  # no write
    await settle(app)
    assert [(n["kanaal"], n["resource"], n["actie"], n["resourceUrl"]) for n in recorder.seen] == [
        ("zaken", "zaak", "create", zaak["url"]),
        ("zaken", "status", "create", status["url"]),
        ("zaken", "zaak", "partial_update", zaak["url"]),
    ]
    assert {n["hoofdObject"] for n in recorder.seen} == {zaak["url"]}
    assert recorder.seen[1]["kenmerken"] == {"bronorganisatie": RSIN, "zaaktype": zaak["zaaktype"],
                                             "vertrouwelijkheidaanduiding": zaak["vertrouwelijkheidaanduiding"]}
    assert all(n["aanmaakdatum"].endswith("Z") for n in recorder.seen)
    assert set(recorder.auth) == {"Bearer own"}


async def test_documents_and_besluiten_notify_on_their_own_kanalen(app: Any, zgw: Zgw) -> None:
    recorder = Recorder()
    notified(app, recorder)
    zaak = await zgw.create_zaak("OMGEVINGSVERGUNNING")
    eio = await zgw.create_document(iot="Aanvraag")
    zio = await zgw.ok("POST", "zaken/api/v1/zaakinformatieobjecten", 201,
                       json={"zaak": zaak["url"], "informatieobject": eio["url"]})
    besluit = await create_besluit(zgw, zaak)
    await settle(app)
    by_resource = {n["resource"]: n for n in recorder.seen}
    document = by_resource["enkelvoudiginformatieobject"]
    assert (document["kanaal"], document["hoofdObject"], document["actie"]) == ("documenten", eio["url"], "create")
    assert document["kenmerken"] == {"bronorganisatie": RSIN, "informatieobjecttype": eio["informatieobjecttype"],
                                     "vertrouwelijkheidaanduiding": eio["vertrouwelijkheidaanduiding"]}
    link = by_resource["zaakinformatieobject"]
    assert (link["kanaal"], link["hoofdObject"], link["resourceUrl"]) == ("zaken", zaak["url"], zio["url"])
    decision = by_resource["besluit"]
    assert (decision["kanaal"], decision["hoofdObject"]) == ("besluiten", besluit["url"])
    assert decision["kenmerken"] == {"verantwoordelijke_organisatie": RSIN, "besluittype": besluit["besluittype"]}


async def test_a_destroy_names_what_was_there(app: Any, zgw: Zgw) -> None:
    recorder = Recorder()
    zaak = await zgw.create_zaak()
    notified(app, recorder)
    await zgw.ok("DELETE", zaak["url"], 204)
    await settle(app)
    [gone] = recorder.seen
    assert (gone["resource"], gone["actie"], gone["resourceUrl"], gone["hoofdObject"]) == (
        "zaak", "destroy", zaak["url"], zaak["url"])
    assert gone["kenmerken"]["zaaktype"] == zaak["zaaktype"]


async def test_a_refused_write_notifies_nothing(app: Any, zgw: Zgw) -> None:
    recorder = Recorder()
    notified(app, recorder)
    answer = await zgw.post("zaken/api/v1/zaken", json={"bronorganisatie": "not-an-rsin"})
    assert answer.status_code == 400
    await settle(app)
    assert recorder.seen == []


@pytest.mark.parametrize("failures", [1, 3])
async def test_a_failing_callback_is_tried_again(app: Any, zgw: Zgw, failures: int) -> None:
    recorder = Recorder(fail_first=failures)
    notified(app, recorder)
    zaak = await zgw.create_zaak()
    await settle(app)
    assert [n["resourceUrl"] for n in recorder.seen] == [zaak["url"]]


async def test_without_callbacks_nothing_is_sent(app: Any, zgw: Zgw) -> None:
    assert app.state.zgw.notifier.targets == []
    await zgw.create_zaak()
