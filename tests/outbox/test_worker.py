"""The outbox worker against a legacy stand-in over real HTTP: outcomes (done, retry with backoff, dead), a dead
item parking only its zaak, operator retry and skip; and the judging of answers and the backoff by themselves."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from stuf_bridge.legacy.answers import LegacyFault
from stuf_bridge.legacy.client import LegacyClient
from stuf_bridge.outbox.config import OutboxSettings
from stuf_bridge.outbox.replicate import LIVE_INTENTS
from stuf_bridge.outbox.store import hold
from stuf_bridge.outbox.worker import OutboxWorker, judge
from stuf_bridge.settings import Settings
from stuf_bridge.store import OutboxItem, Store, create_store
from tests.support.legacy import StandIn, closed_port, stand_in

STALE = dt.timedelta(minutes=10)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with stand_in(slow_seconds=2.0) as legacy:
        yield legacy


@pytest_asyncio.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    async with create_store(sqlite_url) as opened:
        yield opened


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'outbox.db'}"


@pytest_asyncio.fixture
async def make_worker(store: Store, make_settings: Callable[..., Settings]) -> AsyncIterator[Callable[..., Any]]:
    clients: list[LegacyClient] = []

    async def make(endpoints: dict[str, str], **outbox: Any) -> OutboxWorker:
        settings = make_settings(legacy={"endpoints": endpoints, "timeout": 1})
        client = LegacyClient(settings)
        await client.__aenter__()
        clients.append(client)
        return OutboxWorker(store, OutboxSettings(**outbox), legacy=client, translate=None, rng=lambda: 1.0)

    yield make
    for client in clients:
        await client.__aexit__(None, None, None)


async def enqueue(store: Store, ref: str, zaak: str, service: str) -> None:
    assert (await store.claim_message("z", ref, "d", "op", stale_after=STALE)).state == "new"
    target = f"legacy:{service}"
    await store.complete_message("z", ref, b"<Bv03/>", [OutboxItem(zaak, target, f"<m>{ref}</m>".encode(),
                                                                   "text/xml", '"op"', f"z|{ref}|{target}")])


async def drain(worker: OutboxWorker) -> int:
    count = 0
    while await worker.deliver_once():
        count += 1
    return count


async def test_a_client_fault_parks_its_zaak_only(store: Store, standin: StandIn, make_worker: Any) -> None:
    # zaak A's items go to a service whose legacy answers a StUF fault plek client; zaak B's to one that answers Bv03
    worker = await make_worker({"OntvangAsynchroon": f"{standin.url}/fault/OntvangAsynchroon",
                                "VrijeBerichten": f"{standin.url}/ok/VrijeBerichten"})
    await enqueue(store, "a1", "A", "OntvangAsynchroon")
    await enqueue(store, "a2", "A", "OntvangAsynchroon")
    await enqueue(store, "b1", "B", "VrijeBerichten")
    await enqueue(store, "b2", "B", "VrijeBerichten")
    assert await drain(worker) == 3  # a1 (dead), b1, b2; a2 parked behind a1
    dead = await store.outbox_items(statuses=("dead",))
    assert [(d.idem_key, d.attempts) for d in dead] == [("z|a1|legacy:OntvangAsynchroon", 1)]
    assert dead[0].last_error is not None and "StUF064 plek client" in dead[0].last_error
    assert [(i.idem_key, i.status) for i in await store.outbox_items()] == [
        ("z|a1|legacy:OntvangAsynchroon", "dead"), ("z|a2|legacy:OntvangAsynchroon", "pending")]
    assert [s.path for s in standin.seen] == ["/fault/OntvangAsynchroon", "/ok/VrijeBerichten", "/ok/VrijeBerichten"]
    assert standin.seen[1].body == b"<m>b1</m>" and standin.seen[1].headers["soapaction"] == '"op"'
    # the operator skips the dead item: a2 goes (and is refused in turn)
    assert await store.outbox_skip(dead[0].id)
    assert await drain(worker) == 1
    assert [(i.idem_key, i.status) for i in await store.outbox_items(statuses=("dead", "skipped"))] == [
        ("z|a1|legacy:OntvangAsynchroon", "skipped"), ("z|a2|legacy:OntvangAsynchroon", "dead")]


async def test_legacy_down_is_retried_with_backoff_then_dead(store: Store, make_worker: Any) -> None:
    down = closed_port()
    worker = await make_worker({"OntvangAsynchroon": f"{down}/zds/OntvangAsynchroon"}, backoff_base_seconds=0.01,
                               backoff_max_seconds=0.02, max_attempts=3)
    await enqueue(store, "a1", "A", "OntvangAsynchroon")
    before = dt.datetime.now(dt.UTC)
    # one attempt (not drain: on a loaded machine the short backoff may run out before the next claim, and the
    # second attempt would come within the same drain)
    assert await worker.deliver_once()
    [item] = await store.outbox_items()
    assert (item.status, item.attempts) == ("pending", 1)
    assert item.last_error is not None and "niet bereikbaar" in item.last_error
    assert item.next_attempt_at >= before + dt.timedelta(seconds=0.005)  # half of the base at least: backed off
    deadline = asyncio.get_running_loop().time() + 60
    while item.status != "dead" and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
        await drain(worker)
        [item] = await store.outbox_items(statuses=("pending", "dead"))
    assert (item.status, item.attempts) == ("dead", 3)


async def test_a_server_fault_and_a_5xx_are_retried(store: Store, standin: StandIn, make_worker: Any) -> None:
    worker = await make_worker({"OntvangAsynchroon": f"{standin.url}/html/OntvangAsynchroon"},
                               backoff_base_seconds=60)
    await enqueue(store, "a1", "A", "OntvangAsynchroon")
    assert await drain(worker) == 1
    [item] = await store.outbox_items()
    assert item.status == "pending" and item.next_attempt_at > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=50)


def test_judge() -> None:
    assert judge(200, None).status == "done"
    assert judge(503, None).status == "retry"
    assert judge(500, LegacyFault("StUF058", "server", "x")).status == "retry"
    assert judge(500, LegacyFault(None, None, "soap fault without StUF")).status == "retry"
    assert judge(500, LegacyFault("StUF064", "client", "niet gevonden")).status == "dead"


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    draws = iter([0.0, 1.0, 0.5, 1.0])
    worker = OutboxWorker(None, OutboxSettings(backoff_base_seconds=1, backoff_max_seconds=10), legacy=None,  # type: ignore[arg-type]
                          translate=None, rng=lambda: next(draws))
    assert worker.backoff(1) == dt.timedelta(seconds=0.5)  # half of 1 s, the lowest draw
    assert worker.backoff(3) == dt.timedelta(seconds=4)  # all of 4 s
    assert worker.backoff(4) == dt.timedelta(seconds=6)  # 8 s, three quarters
    assert worker.backoff(40) == dt.timedelta(seconds=10)  # capped


async def test_the_sweep_leaves_an_intent_whose_primary_call_is_under_way(store: Store, make_worker: Any) -> None:
    worker = await make_worker({"OntvangAsynchroon": f"{closed_port()}/zds/OntvangAsynchroon"})
    item = OutboxItem("A", "zgw:OntvangAsynchroon", b"<m/>", "text/xml", None, "z|live|zgw")
    await hold(store, item, due_in=dt.timedelta(0))  # past its time (a primary call longer than intent_seconds)
    LIVE_INTENTS.add(item.idem_key)
    try:
        assert await worker.sweep_once()
    finally:
        LIVE_INTENTS.discard(item.idem_key)
    [entry] = await store.outbox_items()
    assert entry.status == "held" and entry.next_attempt_at > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)


async def test_a_tenants_item_goes_to_its_tenants_legacy_and_an_unknown_tenants_item_parks(
        store: Store, standin: StandIn, make_worker: Any) -> None:
    """An item records its tenant (``tenant=NAME|`` in target, partition and idem_key): the gateway's worker hands it
    to that tenant's worker (its legacy endpoints), whichever worker claims it; a tenant the settings no longer name
    parks its item as dead (nothing lost: ``outbox retry`` once the tenant is back), and no other zaak waits for it."""
    gateway = await make_worker({"OntvangAsynchroon": f"{standin.url}/ok/gateway/OntvangAsynchroon"})
    utrecht = await make_worker({"OntvangAsynchroon": f"{standin.url}/ok/utrecht/OntvangAsynchroon"})
    gateway.tenants = {"utrecht": utrecht}
    for ref, tenant in (("u1", "utrecht"), ("g1", None), ("x1", "weg")):
        assert (await store.claim_message("z", ref, "d", "op", stale_after=STALE)).state == "new"
        target = "legacy:OntvangAsynchroon" if tenant is None else f"tenant={tenant}|legacy:OntvangAsynchroon"
        zaak = "Z1" if tenant is None else f"tenant={tenant}|Z1"  # one zaak number, three municipalities
        await store.complete_message("z", ref, b"<Bv03/>", [OutboxItem(zaak, target, f"<m>{ref}</m>".encode(),
                                                                       "text/xml", '"op"', f"{target}|{ref}")])
    assert await drain(gateway) == 3
    assert [(s.path, s.body) for s in standin.seen] == [("/ok/utrecht/OntvangAsynchroon", b"<m>u1</m>"),
                                                         ("/ok/gateway/OntvangAsynchroon", b"<m>g1</m>")]
    [dead] = await store.outbox_items(statuses=("dead",))
    assert dead.target == "tenant=weg|legacy:OntvangAsynchroon"
    assert dead.last_error is not None and "tenant 'weg' is niet (meer) ingesteld" in dead.last_error


async def test_a_tenants_intent_is_settled_by_its_tenants_worker(store: Store, standin: StandIn,
                                                                 make_worker: Any) -> None:
    """A held intent of a tenant whose process died (primary legacy: the item is for ZGW) is settled by resending to
    the tenant's own legacy side."""
    gateway = await make_worker({"OntvangAsynchroon": f"{standin.url}/ok/gateway/OntvangAsynchroon"},
                                intent_seconds=0.01)
    utrecht = await make_worker({"OntvangAsynchroon": f"{standin.url}/ok/utrecht/OntvangAsynchroon"})
    gateway.tenants = {"utrecht": utrecht}
    target = "tenant=utrecht|zgw:OntvangAsynchroon"
    await hold(store, OutboxItem("tenant=utrecht|Z1", target, b"<m>i1</m>", "text/xml", '"op"', f"{target}|i1"),
               due_in=dt.timedelta(seconds=0))
    assert await gateway.sweep_once()
    assert [s.path for s in standin.seen] == ["/ok/utrecht/OntvangAsynchroon"]
    [item] = await store.outbox_items()
    assert (item.status, item.target) == ("pending", target)
