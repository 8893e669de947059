"""Where the wall time of one zaak copy goes: the copy's calls (legacy questions, the translate flow, ZGW look-ups,
the ledger) wrapped with wall-clock accounting while ``--zaken`` zaken are copied in-process at concurrency 4, with
the same three parties and the same 50 ms relay as ``migration_bench.py``.

    python bench/migration_waits.py [--zaken 100]

Prints, per kind of call, the total wall time, the number of calls and the mean; and the process's CPU time. Under
concurrency the totals overlap (they add up to more than the wall time); the per-call means are what a zaak waits.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import migration_bench as mb  # noqa: E402

from tests.support.server import running_gateway  # noqa: E402

spent: collections.Counter[str] = collections.Counter()
calls: collections.Counter[str] = collections.Counter()


def wrap(obj: Any, name: str, label: str) -> None:
    fn: Callable[..., Awaitable[Any]] = getattr(obj, name)

    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started
            calls[label] += 1

    setattr(obj, name, timed)


async def run(env: dict[str, str], data: Path, names: list[str]) -> None:
    os.environ.update(env)
    from stuf_bridge.migration import bulk
    from stuf_bridge.migration.wiring import runtime
    from stuf_bridge.settings import load_settings

    async with runtime(load_settings(data_dir=data)) as rt:
        copier = rt.copier()
        for name in ("zaak", "documents", "document", "besluit"):
            wrap(copier.source, name, f"legacy.{name}")
        wrap(copier.replica, "handle_stream", "translate flow")
        for name in ("zgw_zaak", "zgw_document"):
            wrap(copier, name, f"zgw look-up {name}")
        for name in ("entry", "record", "try_lock", "unlock", "renew_lock"):
            wrap(copier.ledger, name, f"ledger.{name}")
        wrap(copier, "_copy", "one zaak (whole copy)")
        cpu, started = time.process_time(), time.perf_counter()
        await bulk.migrate(copier, names, concurrency=4, report=None, progress=None)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{len(names)} zaken in {wall:.2f} s = {len(names) / wall:.2f} zaken/s; CPU of this process {cpu:.2f} s "
          f"({cpu / len(names) * 1000:.0f} ms a zaak)")
    for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {label:32} {seconds:7.2f} s {calls[label]:5} calls {seconds / calls[label] * 1000:7.1f} ms a call")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zaken", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with running_gateway(root / "legacy", timeout=180) as legacy, \
                running_gateway(root / "zgw", command=("zgw", "serve"), timeout=180) as zgw:
            names = [f"0363TM{n:05d}" for n in range(args.zaken)]
            for name in names:
                mb.make_zaak(legacy, name, 20_000)
            relay = mb.Relay(legacy, args.latency_ms / 1000)
            env = {"STUF_BRIDGE_ZGW_URL": zgw, "STUF_BRIDGE_DEFAULT_RSIN": "002220647",
                   "STUF_BRIDGE_ORGANISATIE": "0363", "STUF_BRIDGE_LOG_LEVEL": "WARNING",
                   "STUF_BRIDGE_LEGACY": json.dumps({"endpoints": {s: f"{relay.url}/zds/{s}" for s in mb.SERVICES},
                                                     "timeout": 120})}
            asyncio.run(run(env, root / "front", names))


if __name__ == "__main__":
    main()
