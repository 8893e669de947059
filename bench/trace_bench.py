"""What tracing costs: creeerZaak with the trace recorder on (every message traced, written in batches to the store)
against tracing off, in-process against the zero-latency ZGW stub of ``zaak_overhead_bench.py``.

CPU per message (``time.process_time``: the event loop and the store's thread, where the traces are compressed and
written) is the figure that a loaded machine does not distort; the wall-time figures are given beside it.

    python bench/trace_bench.py [--messages 400] [--rounds 4] [--out bench/results/trace.json]

Off and on alternate in rounds on the same store (SQLite in a temporary directory), so that a loaded machine
affects both alike. Per mode: p50 and mean wall time of a message, and the throughput of the whole round *including
the writer's work* (it runs on the same event loop between the messages, and the round ends with a final flush, so
every trace of the round is in the store when the clock stops). The issue's target: tracing on within 15 % of off.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zaak_overhead_bench as base  # noqa: E402 (the stub and the messages of the overhead benchmark)

import httpx  # noqa: E402

from stuf_bridge.gateway import Gateway  # noqa: E402
from stuf_bridge.mapping import Mappings  # noqa: E402
from stuf_bridge.store import create_store  # noqa: E402
from stuf_bridge.stuf.validation import Schemas  # noqa: E402
from stuf_bridge.trace.config import TraceMode  # noqa: E402
from stuf_bridge.trace.recorder import TraceRecorder  # noqa: E402
from stuf_bridge.trace.store import TraceStore  # noqa: E402
from stuf_bridge.zgw import ZgwClients  # noqa: E402

TARGET = 0.15
MODES = {"off": TraceMode.OFF, "on": TraceMode.ALL}


async def run(messages: int, rounds: int) -> dict[str, Any]:
    base.quiet_logs()
    schemas = Schemas()
    mappings = Mappings.load()
    service, build = base.OPS["creeerZaak"]
    results: dict[str, dict[str, list[float]]] = {mode: {"wall": [], "rounds": [], "cpu": []} for mode in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        settings = base.make_settings(data_dir)
        recorded = await base.record(settings, schemas, mappings, data_dir / "embedded")
        stub = base.Stub(recorded.answers)
        stub.operation = "creeerZaak"
        store = create_store(f"sqlite:///{data_dir}/s.db")
        await store.open()
        traces = TraceStore(store)
        gc.freeze()
        seq = iter(range(5_000_000, 50_000_000))
        try:
            async with ZgwClients.from_settings(settings, None, httpx.MockTransport(stub.handler)) as zgw:
                recorder = TraceRecorder(traces, lambda: settings.trace)
                gateway = Gateway(settings, store, schemas, zgw=zgw, mappings=mappings, recorders=[recorder])
                recorder.start()
                for _ in range(30):  # warm-up, both modes
                    for mode in ("off", "on"):
                        settings.trace.mode = MODES[mode]
                        await base.call(gateway, service, build(next(seq)))
                await recorder.flush()
                for _ in range(rounds):
                    for mode in ("off", "on"):
                        settings.trace.mode = MODES[mode]
                        built = [build(next(seq)) for _ in range(messages)]
                        wall: list[float] = []
                        started, cpu = time.perf_counter(), time.process_time()
                        for message in built:
                            await base.timed_call(gateway, service, message, wall)
                        await recorder.flush(final=True)
                        results[mode]["rounds"].append(time.perf_counter() - started)
                        results[mode]["cpu"].append(time.process_time() - cpu)
                        results[mode]["wall"].extend(wall)
                await recorder.stop()
                count, size = await traces.size()
        finally:
            await store.close()
    summary: dict[str, Any] = {}
    for mode, data in results.items():
        wall = data["wall"]
        summary[mode] = {"p50_ms": base.percentile(wall, 50), "p99_ms": base.percentile(wall, 99),
                         "mean_ms": statistics.fmean(wall),
                         "throughput_per_s": messages * rounds / sum(data["rounds"]),
                         "cpu_ms_per_message": sum(data["cpu"]) * 1000 / (messages * rounds)}
    summary["on_over_off"] = {key: summary["on"][key] / summary["off"][key]
                              for key in ("p50_ms", "mean_ms", "cpu_ms_per_message")}
    summary["on_over_off"]["throughput"] = summary["off"]["throughput_per_s"] / summary["on"]["throughput_per_s"]
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "messages_per_round": messages, "rounds": rounds,
        "traces_stored": count, "trace_bytes": size, "bytes_per_trace": size / max(count, 1),
        "target_on_over_off": 1 + TARGET,
        **summary,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = asyncio.run(run(args.messages, args.rounds))
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    worst = max(report["on_over_off"].values())
    return 0 if worst <= 1 + TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
