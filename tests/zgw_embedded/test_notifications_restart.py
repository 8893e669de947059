"""The embedded backend's queue of outgoing notifications is durable: a notification that its callback has not taken
when the process stops is delivered after the restart (a real ``stuf-bridge zgw serve`` process, stopped with
SIGTERM while it is still retrying)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.notifications.subscriber import subscriber_stand_in
from tests.notifications.zgw_client import AUTH, CRS, RSIN
from tests.support.server import running_gateway
from tests.support.waiting import wait_for


def test_a_notification_queued_when_the_backend_stops_is_delivered_after_the_restart(tmp_path: Path) -> None:
    with subscriber_stand_in() as callback:
        env = {"STUF_BRIDGE_EMBEDDED_NOTIFICATION_CALLBACKS": json.dumps([{"url": f"{callback.url}/nrc/callback",
                                                                           "auth": "Token restart"}])}
        callback.mode = "down"
        with running_gateway(tmp_path, env=env, command=("zgw", "serve")) as url:
            with httpx.Client(auth=AUTH, headers=CRS, timeout=30) as zgw:
                zaaktypen = zgw.get(f"{url}/catalogi/api/v1/zaaktypen", params={"identificatie": "MELDING-OR"})
                body = {"identificatie": "0363ZK-RESTART-1", "zaaktype": zaaktypen.json()["results"][0]["url"],
                        "bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN, "startdatum": "2024-03-01"}
                created = zgw.post(f"{url}/zaken/api/v1/zaken", json=body)
                assert created.status_code == 201, created.text
                zaak = created.json()["url"]
            wait_for(lambda: callback.refused >= 1)  # tried, refused: the process is retrying it
        assert callback.received == []  # stopped (SIGTERM) before it was delivered
        callback.mode = "ok"
        with running_gateway(tmp_path, env=env, command=("zgw", "serve")):
            wait_for(lambda: len(callback.received) >= 1)
            time.sleep(1.0)  # and only once
        [delivered] = callback.received
        message = json.loads(delivered.body)
        assert (message["kanaal"], message["resource"], message["actie"]) == ("zaken", "zaak", "create")
        assert message["resourceUrl"] == zaak and message["hoofdObject"] == zaak
