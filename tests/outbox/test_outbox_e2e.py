"""The outbox end to end in-process (the app over ASGI with its own worker running, its embedded ZGW backend over a
switchable ASGI transport, the legacy stand-in over real HTTP): the crash window between the primary's answer and
the commit of the outbox item (intent items and the sweep), ZGW down on the worker's ZGW leg, a large document as a
chunked payload, and a sender whose messages are not claimed (``idempotency_senders: off``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from stuf_bridge.outbox.store import hold
from stuf_bridge.pipeline.route import Mode, Route
from stuf_bridge.settings import Settings
from stuf_bridge.store import OutboxItem, Store, StoreError
from stuf_bridge.stuf.registry import Operation
from stuf_bridge.stuf.stuurgegevens import Stuurgegevens
from stuf_bridge.stuf.subject import Subject
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.web.app import create_app
from stuf_bridge.zgw.auth import JwtAuth
from tests.operations import document_messages as docm
from tests.operations import messages as zm
from tests.operations import status_messages as sm
from tests.support.legacy import OK_ANSWER, StandIn, stand_in

BASE = "http://gateway.test"
AUTH = JwtAuth("stuf-bridge", "stuf-bridge-demo-secret-not-for-production")
FAST = {"poll_seconds": 0.05, "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2, "intent_seconds": 0.3,
        "lease_seconds": 30, "max_attempts": 10_000}


class ReplicateAll:
    def __init__(self, primary: str):
        self.primary = primary

    async def route(self, operation: Operation, stuurgegevens: Stuurgegevens, subject: Subject) -> Route:
        return Route(Mode.REPLICATE, self.primary, "replicate-all", subject.zaaktype)


class Switch(httpx.AsyncBaseTransport):
    """The embedded ZGW backend, which can be taken down (a refused connection) and brought back."""

    def __init__(self) -> None:
        self.inner = httpx.ASGITransport(app=None)  # type: ignore[arg-type]
        self.down = False
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            self.refused += 1
            raise httpx.ConnectError("connection refused (ZGW down in the test)", request=request)
        return await self.inner.handle_async_request(request)


class Gateway:
    def __init__(self, client: httpx.AsyncClient, store: Store, zgw: Switch):
        self.client, self.store, self.zgw = client, store, zgw

    async def post(self, service: str, message: tuple[bytes, dict[str, str]]) -> httpx.Response:
        body, headers = message
        return await self.client.post(f"/zds/{service}", content=body, headers=headers)

    async def zaken(self, identificatie: str) -> list[dict[str, Any]]:
        was, self.zgw.down = self.zgw.down, False
        try:
            answer = await self.client.get("/zgw/zaken/api/v1/zaken", params={"identificatie": identificatie},
                                           auth=AUTH, headers={"Accept-Crs": "EPSG:4326"})
        finally:
            self.zgw.down = was
        answer.raise_for_status()
        return [z for z in answer.json()["results"] if z["identificatie"] == identificatie]

    async def items(self, *statuses: str) -> list[Any]:
        return await self.store.outbox_items(statuses=statuses or ("pending", "inflight", "held", "dead", "done",
                                                                     "skipped"))


async def until(check: Callable[[], Any], timeout: float = 30.0) -> None:
    """Poll an async condition (generous: the machine may be loaded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        await asyncio.sleep(0.05)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with stand_in(slow_seconds=2.0) as legacy:
        yield legacy


@pytest_asyncio.fixture
async def gateway(make_settings: Callable[..., Settings], schemas: Schemas,
                  standin: StandIn) -> AsyncIterator[Callable[..., Any]]:
    """``make(primary, behaviour="ok", **settings)`` → Gateway: replicate everything, the worker running."""
    stack: list[Any] = []

    async def make(primary: str, behaviour: str = "ok", outbox: dict[str, Any] | None = None,
                   **overrides: Any) -> Gateway:
        settings = make_settings(legacy={"endpoints": standin.endpoints(behaviour), "timeout": 5},
                                 outbox={**FAST, **(outbox or {})}, **overrides)
        zgw = Switch()
        app = create_app(settings, schemas=schemas, embedded_base=f"{BASE}/zgw", zgw_transport=zgw,
                         router=ReplicateAll(primary))
        zgw.inner.app = app
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, timeout=60)
        stack.append((lifespan, client))
        return Gateway(client, app.state.store, zgw)

    yield make
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


def crash_after_the_primary(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next completion fails as if the process died after the primary answered, before the commit (the
    intent stays held; later completions, the worker's own among them, work)."""
    real = store.complete_message
    calls = {"n": 0}

    async def once(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise StoreError("killed before the commit (test)")
        await real(*args, **kwargs)

    monkeypatch.setattr(store, "complete_message", once)


async def test_crash_after_a_primary_legacy_answered_the_zgw_leg_is_not_lost(
        gateway: Any, standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    gw = await gateway("legacy")
    crash_after_the_primary(gw.store, monkeypatch)
    zaak = "0363ZK-CRASH-1"
    message = zm.creeer_zaak(identificatie=zaak, referentienummer="crash-1")
    assert (await gw.post("OntvangAsynchroon", message)).status_code == 500  # (a real crash: no answer at all)
    assert len(standin.seen) == 1  # the primary has it
    # the sweep sends it to legacy again (same referentienummer: legacy answers its earlier answer), then ZGW gets it
    await until(lambda: _has(gw, zaak))
    await until(_statuses(gw, "done"))
    assert [s.body for s in standin.seen] == [message[0], message[0]]
    [item] = await gw.items()
    assert item.status == "done" and item.last_error is not None and "bevestigd" in item.last_error
    await asyncio.sleep(0.3)
    assert len(await gw.zaken(zaak)) == 1


async def test_crash_after_a_primary_legacy_that_refuses_the_resend_replicates_nothing(
        gateway: Any, standin: StandIn) -> None:
    gw = await gateway("legacy", "fault")
    item = OutboxItem("0363ZK-CRASH-2", "zgw:OntvangAsynchroon", zm.creeer_zaak(identificatie="0363ZK-CRASH-2")[0],
                      "text/xml", '"creeerZaak"', "x|crash-2|zgw")
    await hold(gw.store, item, due_in=dt.timedelta(0))
    await until(_statuses(gw, "skipped"))
    [settled] = await gw.items()
    assert settled.last_error is not None and "weigerde" in settled.last_error
    assert await gw.zaken("0363ZK-CRASH-2") == []


async def test_crash_after_a_primary_zgw_write_asks_zgw_whether_it_landed(
        gateway: Any, standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    gw = await gateway("zgw")
    crash_after_the_primary(gw.store, monkeypatch)
    zaak = "0363ZK-CRASH-3"
    creeer = zm.creeer_zaak(identificatie=zaak, referentienummer="crash-3")
    assert (await gw.post("OntvangAsynchroon", creeer)).status_code == 500
    assert len(await gw.zaken(zaak)) == 1 and standin.seen == []  # landed in ZGW; legacy not yet told
    await until(_statuses(gw, "done"))  # ZGW has the zaak: the intent becomes pending and is delivered
    assert [s.body for s in standin.seen] == [creeer[0]]
    # an update, whose landing ZGW's state alone cannot prove: decided through the step journal (its status is in
    # ZGW, so by recovery's rule the message is complete) and delivered, not parked dead for an operator
    crash_after_the_primary(gw.store, monkeypatch)
    status = sm.actualiseer_zaakstatus(identificatie=zaak, referentienummer="crash-3s")
    assert (await gw.post("OntvangAsynchroon", status)).status_code == 500
    await until(_statuses(gw, "done"))
    assert [s.body for s in standin.seen] == [creeer[0], status[0]]
    # a creeerZaak that never reached ZGW: nothing to replicate
    never = OutboxItem("0363ZK-CRASH-4", "legacy:OntvangAsynchroon", zm.creeer_zaak(identificatie="0363ZK-CRASH-4")[0],
                       "text/xml", creeer[1]["SOAPAction"], "x|crash-4|legacy:OntvangAsynchroon")
    await hold(gw.store, never, due_in=dt.timedelta(0))
    await until(_statuses(gw, "done", "skipped"))
    assert len(standin.seen) == 2


async def test_the_resend_of_a_message_whose_intent_was_skipped_gets_its_secondary_leg(
        gateway: Any, standin: StandIn) -> None:
    """A primary-zgw message whose process died before it wrote anything: the journal decides its intent
    ``skipped`` (the message did not land). The client's resend of that message is processed anew and lands, so its
    secondary leg must go too, after the zaak's items written since (docs/recovery.md, "When it runs")."""
    gw = await gateway("zgw")
    zaak = "0363ZK-SKIP-1"
    creeer = zm.creeer_zaak(identificatie=zaak, referentienummer="skip-c")
    assert (await gw.post("OntvangAsynchroon", creeer)).status_code == 200
    await until(_statuses(gw, "done"))
    status = sm.actualiseer_zaakstatus(identificatie=zaak, referentienummer="skip-s")
    # its intent, as a process that died at once left it (no claim, no journal): decided "did not land"
    died = OutboxItem(zaak, "legacy:OntvangAsynchroon", status[0], "text/xml", status[1]["SOAPAction"],
                      "0363/Zaaksysteem/|skip-s|legacy:OntvangAsynchroon")
    await hold(gw.store, died, due_in=dt.timedelta(0))
    await until(_statuses(gw, "done", "skipped"))
    [skipped] = await gw.items("skipped")
    later = sm.actualiseer_zaakstatus(identificatie=zaak, referentienummer="skip-later",
                                      datum="20241107101500")
    assert (await gw.post("OntvangAsynchroon", later)).status_code == 200
    await until(_statuses(gw, "done", "skipped"))
    assert (await gw.post("OntvangAsynchroon", status)).status_code == 200  # the client's resend
    await until(_statuses(gw, "done"))
    assert [s.body for s in standin.seen] == [creeer[0], later[0], status[0]]
    [leg] = [item for item in await gw.items() if item.idem_key == skipped.idem_key]
    assert leg.id > skipped.id  # a new item: ordered after the zaak's items written since


async def test_zgw_down_on_the_worker_s_zgw_leg_is_retried_and_delivered_once(gateway: Any,
                                                                                standin: StandIn) -> None:
    gw = await gateway("legacy")
    gw.zgw.down = True
    zaak = "0363ZK-ZGWDOWN-1"
    creeer = zm.creeer_zaak(identificatie=zaak, referentienummer="zgwdown-c")
    status = sm.actualiseer_zaakstatus(identificatie=zaak, referentienummer="zgwdown-s")
    for message in (creeer, status):
        answer = await gw.post("OntvangAsynchroon", message)
        assert (answer.status_code, answer.content) == (200, OK_ANSWER)  # the primary's answer: legacy is up

    async def retried() -> bool:
        items = await gw.items()
        return bool(items) and items[0].attempts >= 3 and items[0].status == "pending"

    await until(retried)
    first, second = await gw.items()
    assert first.last_error is not None and "ZGW-API is niet beschikbaar" in first.last_error
    assert second.attempts == 0  # held back behind its zaak's first item: order is kept
    assert gw.zgw.refused >= 3
    gw.zgw.down = False
    await until(_statuses(gw, "done"))
    [found] = await gw.zaken(zaak)
    statussen = await gw.client.get("/zgw/zaken/api/v1/statussen", params={"zaak": found["url"]}, auth=AUTH)
    assert len(statussen.json()["results"]) == 2  # the zaak's first status and the actualiseerZaakstatus, once each


async def test_a_large_document_goes_through_the_outbox_in_chunks(gateway: Any, standin: StandIn) -> None:
    gw = await gateway("zgw", outbox={"inline_bytes": 64 * 1024})
    zaak = "0363ZK-BIG-1"
    assert (await gw.post("OntvangAsynchroon", zm.creeer_zaak(identificatie=zaak, referentienummer="big-c"))
            ).status_code == 200
    content = bytes(range(256)) * (3 * 1024 * 1024 // 256)  # 3 MiB: base64 about 4 MiB, in 5 chunks
    document = docm.voeg_zaakdocument_toe(identificatie="0363D-BIG-1", zaak=zaak, content=content,
                                          referentienummer="big-d")
    assert (await gw.post("OntvangAsynchroon", document)).status_code == 200
    await until(_statuses(gw, "done"))
    big = [item for item in await gw.items() if item.idem_key.endswith("|big-d|legacy:OntvangAsynchroon")][0]
    assert big.payload == b"" and big.payload_ref is not None and big.payload_size == len(document[0])
    sent = standin.seen[-1]
    assert sent.size == len(document[0]) and sent.body == document[0][: len(sent.body)]
    rows = await gw.store.outbox_statement("count", "SELECT COUNT(*) FROM outbox_blobs", {})
    assert rows[0] == 0  # dropped once delivered


async def test_a_sender_whose_messages_are_not_claimed_still_gets_both_legs_and_nothing_twice(
        gateway: Any, standin: StandIn) -> None:
    gw = await gateway("legacy", idempotency_senders={"0363/OpenFormulieren": "off"})
    # this sender reuses one referentienummer: two messages, two items (told apart by their bodies)
    one = zm.creeer_zaak(identificatie="0363ZK-OFF-1", referentienummer="same")
    two = zm.creeer_zaak(identificatie="0363ZK-OFF-2", referentienummer="same")
    for message in (one, two):
        assert (await gw.post("OntvangAsynchroon", message)).status_code == 200
    await until(_statuses(gw, "done"))
    assert len(await gw.items("done")) == 2
    assert len(await gw.zaken("0363ZK-OFF-1")) == len(await gw.zaken("0363ZK-OFF-2")) == 1
    # a delivery repeated (a crash after ZGW took it, before the item was marked done): answered from the replica's
    # own record, nothing created twice
    done = (await gw.items("done"))[0]
    assert await gw.store.outbox_statement("again", "UPDATE outbox SET status = 'pending' WHERE id = :item_id "
                                           "RETURNING id", {"item_id": done.id})
    await until(_statuses(gw, "done"))
    assert len(await gw.zaken("0363ZK-OFF-1")) == 1


async def _has(gw: Gateway, zaak: str) -> bool:
    return len(await gw.zaken(zaak)) == 1


def _statuses(gw: Gateway, *wanted: str) -> Callable[[], Any]:
    """A check: every item is in one of these statuses."""
    async def check() -> bool:
        items = await gw.items()
        return bool(items) and all(item.status in wanted for item in items)
    return check
