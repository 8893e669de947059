"""A subscriber that is the legacy zaaksysteem of a replicate route gets a change made through the gateway once —
through replicate's secondary leg — and not a second time as a kennisgeving; changes made elsewhere in ZGW still
reach it as kennisgevingen, and other subscribers get everything."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx

from stuf_bridge.stuf.registry import Service
from tests.operations import messages as zm
from tests.support.server import running_gateway

from .subscriber import subscriber_stand_in
from .test_notifications_http import FAST_OUTBOX, outbox_idle, wait_for
from .zgw_client import ZgwClient


def test_the_replicate_target_gets_a_gateway_change_once_and_other_changes_as_kennisgevingen(tmp_path: Path) -> None:
    with subscriber_stand_in() as subscriber:
        legacy = {service.value: f"{subscriber.url}/legacy/{service.value}" for service in Service}
        notifications = {"coalesce_seconds": 0.3, "poll_seconds": 0.1, "subscribers": [
            {"name": "legacy", "endpoint": legacy["OntvangAsynchroon"], "profile": "zds-client",
             "stuf": {"organisatie": "0363", "applicatie": "Zaaksysteem"}},
            {"name": "zkn", "endpoint": subscriber.endpoint("zkn"), "profile": "stuf-zkn",
             "stuf": {"organisatie": "0363", "applicatie": "ZKN"}}]}
        env = {"STUF_BRIDGE_ROUTING": json.dumps({"default": {"mode": "replicate", "primary": "zgw"}}),
               "STUF_BRIDGE_LEGACY": json.dumps({"endpoints": legacy, "timeout": 5}),
               "STUF_BRIDGE_OUTBOX": json.dumps(FAST_OUTBOX),
               "STUF_BRIDGE_NOTIFICATIONS": json.dumps(notifications)}
        with running_gateway(tmp_path / "data", env=env) as url:
            body, headers = zm.creeer_zaak(identificatie="0363ZK-REPL-1", zaaktype="MELDING-OR",
                                           referentienummer="repl-echo-1")
            answer = httpx.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=headers, timeout=30)
            assert answer.status_code == 200 and b"Bv03Bericht" in answer.content, answer.text

            def count(name: str) -> Callable[[], bool]:
                return lambda: len(subscriber.of(name, "0363ZK-REPL-1")) >= 1

            wait_for(count("legacy"))
            wait_for(count("zkn"))
            wait_for(lambda: outbox_idle(url))
            [replicated] = subscriber.of("legacy", "0363ZK-REPL-1")
            assert replicated.referentienummer == "repl-echo-1"  # the client's own message, sent on by replicate
            assert subscriber.of("zkn", "0363ZK-REPL-1")[0].mutatiesoort == "T"

            zgw = ZgwClient(url)
            try:
                [zaak] = zgw.ok("GET", "zaken/api/v1/zaken", params={"identificatie": "0363ZK-REPL-1"})["results"]
                zgw.patch_zaak(zaak, omschrijving="Gewijzigd in ZGW")
            finally:
                zgw.close()
            wait_for(lambda: len(subscriber.of("legacy", "0363ZK-REPL-1")) == 2)
            wait_for(lambda: outbox_idle(url))
            change = subscriber.of("legacy", "0363ZK-REPL-1")[1]
            assert change.operation == "updateZaak_Lk01"
            assert change.referentienummer != "repl-echo-1"
