"""The gateway over real HTTP (``stuf-bridge serve`` in a subprocess) with a routing table from the environment:
each message's log line says its route, the rule, the zaaktype and where that was found; a mode without a flow is
StUF040."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.operations import messages as zm
from tests.operations import status_messages as sm
from tests.support.messages import di02
from tests.support.server import running_gateway

ROUTING = {
    "rules": [
        {"match": {"zaaktype": ["B1026"]}, "mode": "replicate", "primary": "legacy"},
        {"match": {"operation": ["genereerZaakIdentificatie"]}, "mode": "proxy", "name": "numbers-from-legacy"},
    ]
}


def message_lines(log: list[str], count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        lines = [event for event in map(_json, log) if event.get("event") == "message"]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def _json(line: str) -> dict[str, Any]:
    try:
        return dict(json.loads(line))
    except ValueError:
        return {}


def test_the_route_is_in_every_log_line(tmp_path: Path) -> None:
    log: list[str] = []
    with running_gateway(tmp_path / "data", env={"STUF_BRIDGE_ROUTING": json.dumps(ROUTING)}, log=log) as url:
        body, headers = zm.creeer_zaak(identificatie="0363ZK-HTTP-1", referentienummer="http-creeer")
        created = httpx.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=headers)
        body, headers = sm.actualiseer_zaakstatus(identificatie="0363ZK-HTTP-1", referentienummer="http-status")
        status = httpx.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=headers)
        body, headers = di02(referentienummer="http-nummer")
        number = httpx.post(f"{url}/zds/VrijeBerichten", content=body, headers=headers)
        lines = message_lines(log, 3)
    assert (created.status_code, status.status_code, number.status_code) == (200, 200, 500)
    routes = [(line["operation"], line["route"], line["rule"], line["zaaktype"], line["zaaktype_source"],
               line["fault_reason"]) for line in lines]
    assert routes == [
        ("creeerZaak_Lk01", "translate", "default", "MELDING-OR", "message", None),
        ("actualiseerZaakstatus_Lk01", "translate", "pinned:default", "MELDING-OR", "registry", None),
        ("genereerZaakIdentificatie_Di02", "proxy", "numbers-from-legacy", None, None, "mode-not-supported"),
    ]
    assert [line["fault_code"] for line in lines] == [None, None, "StUF040"]
