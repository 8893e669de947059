"""A separate OS process for the cross-process store tests (run by conftest.run_workers, not collected).

    store_worker.py URL open              open (migrate) the store after the go signal
    store_worker.py URL draw SEQUENCE N   open, then after the go signal draw N values concurrently
    store_worker.py URL claim N ORDER     open, then after the go signal claim referentienummers 0..N-1 (ten at a
                                          time, ORDER asc or desc), complete those it got new; returns those

Prints ``ready`` once set up, waits for ``go`` on stdin, prints one JSON line with the result.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import time

from stuf_bridge.store import create_store


def wait_for_go() -> None:
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("no go signal")


async def main(argv: list[str]) -> object:
    url, mode, *rest = argv
    store = create_store(url)
    if mode == "open":
        wait_for_go()
        started = time.perf_counter()
        await store.open()
        await store.close()
        return {"opened": True, "seconds": time.perf_counter() - started}
    if mode == "draw":
        sequence, count = rest[0], int(rest[1])
        await store.open()
        wait_for_go()
        try:
            # Ten concurrent callers drawing one after another, like request handlers: their calls are
            # coalesced into small batches, so both processes keep taking turns at the database.
            async def caller(n: int) -> list[int]:
                return [await store.next_value(sequence) for _ in range(n)]

            shares = [count // 10 + (1 if i < count % 10 else 0) for i in range(10)]
            drawn = await asyncio.gather(*(caller(n) for n in shares))
            return [value for values in drawn for value in values]
        finally:
            await store.close()
    if mode == "claim":
        count, order = int(rest[0]), rest[1]
        refs = [f"ref-{i}" for i in (range(count) if order == "asc" else reversed(range(count)))]
        await store.open()
        wait_for_go()
        try:
            async def claim(ref: str) -> str | None:
                result = await store.claim_message("1900/App", ref, "digest", "op", stale_after=dt.timedelta(hours=1))
                if result.state != "new":
                    return None
                await store.complete_message("1900/App", ref, ref.encode())
                return ref

            got: list[str] = []
            for start in range(0, count, 10):
                batch = await asyncio.gather(*(claim(ref) for ref in refs[start:start + 10]))
                got.extend(ref for ref in batch if ref is not None)
            return got
        finally:
            await store.close()
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:]))), flush=True)
