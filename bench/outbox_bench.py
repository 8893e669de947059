"""Throughput of the outbox: enqueueing (the idempotency completion that writes an item), claiming (a worker's
claim + done, no delivery) and delivering (the worker over HTTP to the legacy stand-in's ``ok`` endpoint).

    python bench/outbox_bench.py [--items 2000] [--zaken 200] [--workers 4] [--database-url postgresql://...]

SQLite in a temporary data directory unless --database-url is given (an empty database). ``--workers`` stores claim
at once, standing for gateway processes: on PostgreSQL (SKIP LOCKED); on SQLite the outbox has one worker (several
stores in one process queue on the write lock through SQLite's busy handler, which sleeps: use --workers 1 there).
Results are printed and written to bench/results/outbox-<store>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import structlog  # noqa: E402
import logging  # noqa: E402

from stuf_bridge.legacy.client import LegacyClient  # noqa: E402
from stuf_bridge.outbox.config import OutboxSettings  # noqa: E402
from stuf_bridge.outbox.worker import OutboxWorker  # noqa: E402
from stuf_bridge.settings import load_settings  # noqa: E402
from stuf_bridge.store import OutboxItem, Store, create_store  # noqa: E402
from tests.support.legacy import stand_in  # noqa: E402

STALE = dt.timedelta(minutes=10)
LEASE = dt.timedelta(seconds=60)
PAYLOAD = b"<soap:Envelope>" + b"x" * 4000 + b"</soap:Envelope>"  # about a creeerZaak


async def enqueue(store: Store, items: int, zaken: int, prefix: str, target: str) -> float:
    started = time.perf_counter()

    async def one(n: int) -> None:
        ref = f"{prefix}-{n}"
        await store.claim_message("bench", ref, "d", "creeerZaak", stale_after=STALE)
        await store.complete_message("bench", ref, b"<Bv03/>", [OutboxItem(
            f"ZAAK-{n % zaken}", target, PAYLOAD, "text/xml", '"creeerZaak"', f"bench|{ref}|{target}")])

    for start in range(0, items, 50):  # 50 clients at a time
        await asyncio.gather(*(one(n) for n in range(start, min(items, start + 50))))
    return time.perf_counter() - started


async def claim_all(stores: list[Store], items: int) -> float:
    started = time.perf_counter()
    done = 0

    async def drain(store: Store) -> None:
        nonlocal done
        idle = 0
        while done < items and idle < 200:
            entry = await store.claim_outbox(LEASE)
            if entry is None:
                idle += 1
                await asyncio.sleep(0.001)
                continue
            await store.outbox_done(entry.id)
            done += 1

    await asyncio.gather(*(drain(s) for s in stores))
    assert done == items, done
    return time.perf_counter() - started


async def deliver_all(stores: list[Store], items: int, url: str) -> float:
    settings = load_settings(None, legacy={"endpoints": {"OntvangAsynchroon": f"{url}/ok/OntvangAsynchroon"}})
    async with LegacyClient(settings) as client:
        workers = [OutboxWorker(s, OutboxSettings(), legacy=client, translate=None) for s in stores]
        started = time.perf_counter()
        done = 0

        async def drain(worker: OutboxWorker) -> None:
            nonlocal done
            idle = 0
            while done < items and idle < 200:
                if await worker.deliver_once():
                    done += 1
                else:
                    idle += 1
                    await asyncio.sleep(0.001)

        await asyncio.gather(*(drain(w) for w in workers))
        assert done == items, done
        return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--zaken", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/data/bench.db"
        stores = [create_store(url) for _ in range(args.workers)]
        for store in stores:
            await store.open()
        try:
            results: dict[str, object] = {"store": stores[0].dialect, "items": args.items, "zaken": args.zaken,
                                          "workers": args.workers, "payload_bytes": len(PAYLOAD)}
            seconds = await enqueue(stores[0], args.items, args.zaken, "claim", "legacy:OntvangAsynchroon")
            results["enqueue_per_second"] = round(args.items / seconds, 1)
            for n in sorted({1, args.workers}):
                if n > 1:
                    await enqueue(stores[0], args.items, args.zaken, f"claim{n}", "legacy:OntvangAsynchroon")
                seconds = await claim_all(stores[:n], args.items)
                results[f"claim_done_per_second_{n}_workers"] = round(args.items / seconds, 1)
            with stand_in() as legacy:
                for n in sorted({1, args.workers}):
                    await enqueue(stores[0], args.items, args.zaken, f"deliver{n}", "legacy:OntvangAsynchroon")
                    seconds = await deliver_all(stores[:n], args.items, legacy.url)
                    results[f"delivered_per_second_{n}_workers"] = round(args.items / seconds, 1)
        finally:
            for store in stores:
                await store.close()
    print(json.dumps(results, indent=2))
    out = REPO / "bench" / "results" / f"outbox-{results['store']}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
