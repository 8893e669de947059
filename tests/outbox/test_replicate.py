"""The replicate mode handler in-process (the app over ASGI, its embedded ZGW backend over ASGI, the legacy stand-in
over real HTTP; the outbox worker off, so the items stay to be looked at): what the client gets, what the outbox
holds, and what happens to the idempotency record."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from stuf_bridge.pipeline.route import Mode, Route
from stuf_bridge.settings import Settings
from stuf_bridge.store import Store
from stuf_bridge.stuf.registry import Operation, Service
from stuf_bridge.stuf.stuurgegevens import Stuurgegevens
from stuf_bridge.stuf.subject import Subject
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.web.app import create_app
from tests.operations import details_messages as dm
from tests.operations import messages as zm
from tests.support.legacy import FAULT_ANSWER, OK_ANSWER, StandIn, closed_port, stand_in
from tests.support.messages import di02

BASE = "http://gateway.test"
STALE = dt.timedelta(minutes=10)


class ReplicateAll:
    def __init__(self, primary: str):
        self.primary = primary

    async def route(self, operation: Operation, stuurgegevens: Stuurgegevens, subject: Subject) -> Route:
        return Route(Mode.REPLICATE, self.primary, "replicate-all", subject.zaaktype)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with stand_in(slow_seconds=2.0) as legacy:
        yield legacy


@pytest_asyncio.fixture
async def gateway(make_settings: Callable[..., Settings], schemas: Schemas,
                  standin: StandIn) -> AsyncIterator[Callable[..., Any]]:
    """``make(primary, behaviour)`` → (client, store): replicate everything, legacy = the stand-in's behaviour."""
    stack: list[Any] = []

    async def make(primary: str, behaviour: str = "ok",
                   endpoints: dict[str, str] | None = None) -> tuple[httpx.AsyncClient, Store]:
        settings = make_settings(legacy={"endpoints": endpoints or standin.endpoints(behaviour), "timeout": 2},
                                 outbox={"enabled": False})
        transport = httpx.ASGITransport(app=None)  # type: ignore[arg-type]
        app = create_app(settings, schemas=schemas, embedded_base=f"{BASE}/zgw", zgw_transport=transport,
                         router=ReplicateAll(primary))
        transport.app = app
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        stack.append((lifespan, client))
        return client, app.state.store

    yield make
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


async def post(client: httpx.AsyncClient, service: str, message: tuple[bytes, dict[str, str]]) -> httpx.Response:
    body, headers = message
    return await client.post(f"/zds/{service}", content=body, headers=headers)


async def test_primary_zgw_translates_and_enqueues_the_raw_request_for_legacy(gateway: Any, standin: StandIn) -> None:
    client, store = await gateway("zgw")
    message = zm.creeer_zaak(identificatie="0363ZK-R-1", referentienummer="r-1")
    answer = await post(client, "OntvangAsynchroon", message)
    assert answer.status_code == 200 and b"Bv03" in answer.content
    assert standin.seen == []  # legacy is not called on the request path
    [item] = await store.outbox_items()
    assert (item.target, item.partition_key, item.status) == ("legacy:OntvangAsynchroon", "0363ZK-R-1", "pending")
    assert item.payload == message[0]  # the very bytes the client sent
    assert item.soap_action == message[1]["SOAPAction"] and item.content_type == message[1]["Content-Type"]
    assert item.idem_key.endswith("|r-1|legacy:OntvangAsynchroon")
    # a resend is answered from the idempotency record and enqueues nothing more
    assert (await post(client, "OntvangAsynchroon", message)).status_code == 200
    assert len(await store.outbox_items()) == 1


async def test_primary_zgw_failure_enqueues_nothing(gateway: Any) -> None:
    client, store = await gateway("zgw")
    answer = await post(client, "OntvangAsynchroon", zm.creeer_zaak(identificatie="0363ZK-R-2", zaaktype="NOPE",
                                                                    referentienummer="r-2"))
    assert answer.status_code == 500
    assert await store.outbox_items() == []


async def test_primary_legacy_answers_with_legacy_and_enqueues_for_zgw(gateway: Any, standin: StandIn) -> None:
    client, store = await gateway("legacy")
    message = zm.creeer_zaak(identificatie="0363ZK-R-3", referentienummer="r-3")
    answer = await post(client, "OntvangAsynchroon", message)
    assert (answer.status_code, answer.content) == (200, OK_ANSWER)
    assert [s.body for s in standin.seen] == [message[0]]
    [item] = await store.outbox_items()
    assert (item.target, item.partition_key, item.payload) == ("zgw:OntvangAsynchroon", "0363ZK-R-3", message[0])


async def test_primary_legacy_fault_is_relayed_and_enqueues_nothing(gateway: Any, standin: StandIn) -> None:
    client, store = await gateway("legacy", "fault")
    message = zm.creeer_zaak(identificatie="0363ZK-R-4", referentienummer="r-4")
    answer = await post(client, "OntvangAsynchroon", message)
    assert (answer.status_code, answer.content) == (500, FAULT_ANSWER)
    assert await store.outbox_items() == []
    # the claim was released: a resend goes to legacy again (not answered from a record)
    await post(client, "OntvangAsynchroon", message)
    assert len(standin.seen) == 2


async def test_primary_legacy_down_is_a_fault_and_enqueues_nothing(gateway: Any) -> None:
    down = closed_port()
    client, store = await gateway("legacy", endpoints={s.value: f"{down}/zds/{s.value}" for s in Service})
    answer = await post(client, "OntvangAsynchroon", zm.creeer_zaak(identificatie="0363ZK-R-8", referentienummer="r-8"))
    assert answer.status_code == 500 and b"StUF058" in answer.content and b"legacy-unavailable" in answer.content
    assert await store.outbox_items() == []
    assert (await store.claim_message(*_key("r-8"), "x", "op", stale_after=STALE)).state == "new"  # released


async def test_primary_zgw_without_a_legacy_endpoint_for_the_service_changes_nothing(gateway: Any,
                                                                                      standin: StandIn) -> None:
    client, store = await gateway("zgw", endpoints={"BeantwoordVraag": f"{standin.url}/ok/BeantwoordVraag"})
    answer = await post(client, "OntvangAsynchroon", zm.creeer_zaak(identificatie="0363ZK-R-9", referentienummer="r-9"))
    assert answer.status_code == 500 and b"legacy-not-configured" in answer.content
    assert await store.outbox_items() == []
    client2, _ = await gateway("zgw")  # the zaak was not created in ZGW: with legacy there it is created now
    assert (await post(client2, "OntvangAsynchroon", zm.creeer_zaak(identificatie="0363ZK-R-9",
                                                                    referentienummer="r-9b"))).status_code == 200


def _key(ref: str) -> tuple[str, str]:
    return "0363/OpenFormulieren/", ref


async def test_questions_and_numbers_go_to_the_primary_only(gateway: Any, standin: StandIn) -> None:
    client, store = await gateway("legacy")
    assert (await post(client, "BeantwoordVraag", dm.geef_zaakdetails(identificatie="0363ZK-R-5"))).content == OK_ANSWER
    assert (await post(client, "VrijeBerichten", di02(referentienummer="r-6"))).content == OK_ANSWER
    assert len(standin.seen) == 2
    client, store = await gateway("zgw")
    number = await post(client, "VrijeBerichten", di02(referentienummer="r-7"))
    assert number.status_code == 200 and b"Du02" in number.content  # the gateway's own sequence
    assert len(standin.seen) == 2  # nothing forwarded
    assert await store.outbox_items() == []
