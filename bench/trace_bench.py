"""What tracing costs: creeerZaak with the trace recorder on (every message traced, written in batches to the store)
against tracing off, in-process against the zero-latency ZGW stub of ``zaak_overhead_bench.py``.

    python bench/trace_bench.py [--pairs 600] [--batch 20] [--messages 300] [--rounds 3] \
        [--out bench/results/trace.json]

Three figures, each measured so that a loaded machine (this one is shared) affects off and on alike:

1. **CPU per message** (``time.process_time``: every thread of the process, so the store's worker thread, where
   traces are compressed and inserted, counts too). Off and on are *interleaved message by message* (pairs, the order
   within a pair alternating), so that any change of load or CPU clock during the run hits both modes equally. The
   trace writer does not run as a task here: every ``--batch`` traced messages the benchmark calls its ``flush``
   (what the writer task does every ``trace.flush_seconds``) and adds the CPU of that flush to tracing on. So *on* is
   everything tracing costs the process: the on-path hooks and the whole background work.
2. **On the message's path**: what the trace recorder does while a message is answered (``started`` and ``record``:
   a queue entry each), timed per call around the recorder's two hooks; and the share of the whole.
3. **Wall time and throughput**, the way a client sees it: rounds of ``--messages`` sequential messages, modes
   alternating in the order off, on, on, off, off, on, ... (so that a trend in load cancels out), the real writer task
   running at ``trace.flush_seconds`` on the same event loop, and each round ending with a final flush, so that every
   trace of the round is in the store when the clock stops: the throughput includes all of the writer's work.

The issue's target: tracing on within 15 % of off. Exit status 1 when the CPU figure is over it (the wall-time
figures are reported, not judged: on a shared machine they vary by more than the effect measured).

``--profile``: a cProfile of one flush of 300 traces (the writer's work), top functions by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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


class _Timed:
    """Wraps a recorder hook: the wall time of each call, in µs (a few µs each: too short for a load to matter)."""

    def __init__(self, hook: Callable[..., None]):
        self.hook = hook
        self.us: list[float] = []

    def __call__(self, *args: Any) -> None:
        started = time.perf_counter_ns()
        self.hook(*args)
        self.us.append((time.perf_counter_ns() - started) / 1000)


async def run(pairs: int, batch: int, messages: int, rounds: int, profile: bool) -> dict[str, Any]:
    base.quiet_logs()
    schemas = Schemas()
    mappings = Mappings.load()
    service, build = base.OPS["creeerZaak"]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        settings = base.make_settings(data_dir)
        recorded = await base.record(settings, schemas, mappings, data_dir / "embedded")
        stub = base.Stub(recorded.answers)
        stub.operation = "creeerZaak"
        store = create_store(f"sqlite:///{data_dir}/s.db")
        await store.open()
        traces = TraceStore(store)
        seq = iter(range(5_000_000, 50_000_000))
        try:
            async with ZgwClients.from_settings(settings, None, httpx.MockTransport(stub.handler)) as zgw:
                recorder = TraceRecorder(traces, lambda: settings.trace)
                started_hook, record_hook = _Timed(recorder.started), _Timed(recorder.record)
                recorder.started, recorder.record = started_hook, record_hook  # type: ignore[method-assign]
                gateway = Gateway(settings, store, schemas, zgw=zgw, mappings=mappings, recorders=[recorder])
                for _ in range(30):  # warm-up, both modes
                    for mode in ("off", "on"):
                        settings.trace.mode = MODES[mode]
                        await base.call(gateway, service, build(next(seq)))
                await recorder.flush(final=True)
                gc.collect()
                gc.freeze()
                cpu = await _cpu(gateway, recorder, settings, service, build, seq, pairs, batch)
                cpu["on_path_us"] = {
                    "started_p50": statistics.median(started_hook.us),
                    "record_p50": statistics.median(record_hook.us),
                }
                on_path_ms = (cpu["on_path_us"]["started_p50"] + cpu["on_path_us"]["record_p50"]) / 1000
                cpu["on_path_share_of_message"] = on_path_ms / cpu["off_ms_per_message"]
                recorder.started, recorder.record = started_hook.hook, record_hook.hook  # type: ignore[method-assign]
                profiled = await _profile(gateway, recorder, settings, service, build, seq) if profile else None
                recorder.start()
                wall = await _wall(gateway, recorder, settings, service, build, seq, messages, rounds)
                await recorder.stop()
                count, size = await traces.size()
        finally:
            await store.close()
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "target_on_over_off": 1 + TARGET,
        "cpu": cpu,
        "wall": wall,
        "traces_stored": count, "trace_bytes": size, "bytes_per_trace": size / max(count, 1),
        **({"writer_profile": profiled} if profiled else {}),
    }


async def _cpu(gateway: Gateway, recorder: TraceRecorder, settings: Any, service: Any, build: Any, seq: Any,
               pairs: int, batch: int) -> dict[str, Any]:
    """CPU per message, off and on interleaved message by message; the writer's flushes counted to on."""
    spent = {"off": 0.0, "on": 0.0, "writer": 0.0}
    traced = 0
    for number in range(pairs):
        order = ("off", "on") if number % 2 == 0 else ("on", "off")
        for mode in order:
            message = build(next(seq))
            settings.trace.mode = MODES[mode]
            before = time.process_time()
            await base.call(gateway, service, message)
            spent[mode] += time.process_time() - before
        traced += 1
        if traced % batch == 0 or number == pairs - 1:
            before = time.process_time()
            await recorder.flush(final=True)
            spent["writer"] += time.process_time() - before
    off = spent["off"] * 1000 / pairs
    handling_on = spent["on"] * 1000 / pairs
    writer = spent["writer"] * 1000 / pairs
    return {"pairs": pairs, "batch": batch, "off_ms_per_message": off, "on_ms_per_message": handling_on + writer,
            "on_handling_ms_per_message": handling_on, "on_writer_ms_per_message": writer,
            "on_over_off": (handling_on + writer) / off}


async def _wall(gateway: Gateway, recorder: TraceRecorder, settings: Any, service: Any, build: Any, seq: Any,
                messages: int, rounds: int) -> dict[str, Any]:
    """Rounds of sequential messages, the modes in the order off on on off off on ..., the writer task running."""
    data: dict[str, dict[str, list[float]]] = {mode: {"wall": [], "rounds": []} for mode in MODES}
    order = [("off", "on") if number % 2 == 0 else ("on", "off") for number in range(rounds)]
    for pair in order:
        for mode in pair:
            settings.trace.mode = MODES[mode]
            built = [build(next(seq)) for _ in range(messages)]
            wall: list[float] = []
            started = time.perf_counter()
            for message in built:
                await base.timed_call(gateway, service, message, wall)
            await recorder.flush(final=True)
            data[mode]["rounds"].append(time.perf_counter() - started)
            data[mode]["wall"].extend(wall)
    summary: dict[str, Any] = {"messages_per_round": messages, "rounds_per_mode": rounds}
    for mode, values in data.items():
        summary[mode] = {"p50_ms": base.percentile(values["wall"], 50), "p99_ms": base.percentile(values["wall"], 99),
                         "mean_ms": statistics.fmean(values["wall"]),
                         "throughput_per_s": messages * rounds / sum(values["rounds"]),
                         "round_seconds": [round(r, 3) for r in values["rounds"]]}
    summary["on_over_off"] = {key: summary["on"][key] / summary["off"][key] for key in ("p50_ms", "mean_ms")}
    summary["on_over_off"]["throughput"] = summary["off"]["throughput_per_s"] / summary["on"]["throughput_per_s"]
    return summary


async def _profile(gateway: Gateway, recorder: TraceRecorder, settings: Any, service: Any, build: Any,
                   seq: Any) -> list[dict[str, Any]]:
    """The writer's work for 300 traces under cProfile (event-loop thread only: the store thread's compression and
    insert are not in it), top 12 functions by own time."""
    settings.trace.mode = TraceMode.ALL
    for _ in range(300):
        await base.call(gateway, service, build(next(seq)))
    profiler = cProfile.Profile()
    profiler.enable()
    await recorder.flush(final=True)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (file, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{Path(file).name}:{line}({name})", "calls": calls,
                     "own_us_per_trace": own * 1e6 / 300, "cumulative_us_per_trace": cumulative * 1e6 / 300})
    return sorted(rows, key=lambda r: -r["own_us_per_trace"])[:12]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pairs", type=int, default=600, help="interleaved off/on message pairs for the CPU figure")
    parser.add_argument("--batch", type=int, default=20, help="traced messages per flush in the CPU figure")
    parser.add_argument("--messages", type=int, default=300, help="messages per round for the wall-time figures")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per mode for the wall-time figures")
    parser.add_argument("--profile", action="store_true", help="add a cProfile of the writer's work")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = asyncio.run(run(args.pairs, args.batch, args.messages, args.rounds, args.profile))
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0 if report["cpu"]["on_over_off"] <= 1 + TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
