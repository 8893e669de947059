"""A separate OS process for the cross-process store tests (run by conftest.run_workers, not collected).

    store_worker.py URL open              open (migrate) the store after the go signal
    store_worker.py URL draw SEQUENCE N   open, then after the go signal draw N values concurrently

Prints ``ready`` once set up, waits for ``go`` on stdin, prints one JSON line with the result.
"""

from __future__ import annotations

import asyncio
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
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:]))), flush=True)
