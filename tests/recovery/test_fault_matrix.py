"""Every write of every multi-step operation, failed in each of three ways (answer lost after the write, write
landing after the gateway's timeout, backend gone from that write on): after the client's resend, ZGW holds
exactly what a clean run makes — one zaak, document or besluit, complete, no duplicate — and the resend is
answered Bv03. The first answer is a fault that tells the truth, or, when the message turned out complete after
all, Bv03."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from lxml import etree

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import STUF
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.web.app import create_app
from stuf_bridge.zgw import ZgwClients

from ..support.faults import stuf_fault
from .faults import MODES, SCENARIOS, FaultProxy, Message, Scenario, snapshot

BASE = "http://gateway.test"


@dataclass
class Rig:
    client: httpx.AsyncClient
    zgw: ZgwClients
    proxy: FaultProxy

    async def send(self, message: Message) -> httpx.Response:
        body, headers = message
        return await self.client.post("/zds/OntvangAsynchroon", content=body, headers=headers, timeout=60)


@asynccontextmanager
async def running_rig(settings: Settings, schemas: Schemas) -> AsyncIterator[Rig]:
    proxy = FaultProxy(httpx.MockTransport(lambda request: httpx.Response(503)))
    app = create_app(settings, schemas=schemas, embedded_base=f"{BASE}/zgw", zgw_transport=proxy)
    proxy.inner = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    async with app.router.lifespan_context(app), client:
        yield Rig(client, app.state.gateway.zgw, proxy)


def rig_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        bestandsdelen_threshold_bytes=1000,
        recovery={"settle_seconds": 1.0, "sweep_seconds": 3600},
    )


def policy_settings(make_settings: Callable[..., Settings], policy: str) -> Settings:
    """The rig's settings for senders 0363/* under idempotency ``policy`` (``off``: no claim, so no journal)."""
    return make_settings(recovery={"settle_seconds": 1.0, "sweep_seconds": 3600},
                         idempotency_senders={"0363/*": policy})


def berichtcode(response: httpx.Response) -> str | None:
    return etree.fromstring(response.content).findtext(f".//{{{STUF}}}berichtcode")


async def _set_up(rig: Rig, scenario: Scenario, r: Any) -> None:
    rig.proxy.disarm()
    for message in scenario.setup(r):
        response = await rig.send(message)
        assert response.status_code == 200 and berichtcode(response) == "Bv03", response.text
    if scenario.prepare is not None:
        await scenario.prepare(rig.zgw, r)


async def clean_round(rig: Rig, scenario: Scenario) -> tuple[dict[str, Any], int]:
    """The snapshot of a clean round, and how many writes its message makes."""
    r = scenario.round(0, "c")
    await _set_up(rig, scenario, r)
    rig.proxy.count()
    response = await rig.send(scenario.message(r))
    writes = rig.proxy.writes
    rig.proxy.disarm()
    assert response.status_code == 200 and berichtcode(response) == "Bv03", response.text
    return await snapshot(rig.zgw, scenario, r), writes


async def faulty_round(rig: Rig, scenario: Scenario, mode: str, nth: int, number: int) -> dict[str, Any]:
    """One message failed at its ``nth`` write in ``mode``, then resent; what is left in ZGW, and the answers."""
    r = scenario.round(number, mode[0])
    await _set_up(rig, scenario, r)
    message = scenario.message(r)
    rig.proxy.arm(mode, nth)
    first = await rig.send(message)
    await rig.proxy.restore()
    outcome: dict[str, Any] = {"first": berichtcode(first) if first.status_code == 200 else "fault"}
    if first.status_code != 200:
        fault = stuf_fault(first)
        outcome["fault"] = fault.details
    resend = await rig.send(message)
    outcome["resend"] = berichtcode(resend) if resend.status_code == 200 else resend.text[-1500:]
    outcome["zgw"] = await snapshot(rig.zgw, scenario, r)
    return outcome


async def every_position(rig: Rig, scenario: Scenario, mode: str
                         ) -> tuple[dict[str, Any], int, dict[int, dict[str, Any]]]:
    """A clean round, then the message failed in ``mode`` at each of its write positions in turn and resent: the
    clean round's snapshot, its number of writes, and per position where it went wrong (the resend not Bv03, or ZGW
    not as after the clean round) the outcome."""
    expected, writes = await clean_round(rig, scenario)
    wrong = {}
    for nth in range(1, writes + 1):
        outcome = await faulty_round(rig, scenario, mode, nth, nth)
        if outcome["resend"] != "Bv03" or outcome["zgw"] != expected:
            wrong[nth] = outcome
    return expected, writes, wrong


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_every_call_position_is_repaired_by_the_resend(
    name: str, mode: str, make_settings: Callable[..., Settings], schemas: Schemas
) -> None:
    scenario = SCENARIOS[name]
    async with running_rig(rig_settings(make_settings), schemas) as rig:
        expected, writes, wrong = await every_position(rig, scenario, mode)
        assert writes >= 1 and expected["zaken"] == 1
        assert not wrong, f"{name}/{mode}: expected {expected}; wrong at write positions: {wrong}"
