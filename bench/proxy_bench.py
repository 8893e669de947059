"""The proxy mode's cost: overhead per message, and 1 GB through it in each direction.

    pip install -e '.[bench]'
    python bench/proxy_bench.py [--messages 2000] [--gb 1] [--out bench/results/proxy.json]

The gateway runs as a process of its own (``stuf-bridge serve`` with a config file whose routing default is
``proxy``, see ``running_proxy``) in front of the legacy stand-in of ``tests/support/legacy.py``, a threaded HTTP
server in this process that answers at once (zero latency): a fixed Bv03 for the small messages, a sink that counts
a large request, and a La01 whose document it writes from a precomputed base64 block.

* **Overhead**: ``--messages`` genereerZaakIdentificatie_Di02 one after another, timed through the gateway and
  straight to the stand-in on the same kind of keep-alive connection; p50/p99 of each and the difference (what the
  gateway adds: reading and checking the message, the tee, the route, the legacy call and relaying the answer), and
  the gateway process's CPU time per message, which does not depend on how busy the machine is.
* **1 GB in**: a voegZaakdocumentToe whose base64 (``--gb`` GB on the wire) is produced while it is sent (chunked),
  through the gateway to the sink: the gateway parses it (the document spooled, the raw bytes teed to disk), then
  streams the spool to legacy. **1 GB out**: a geefZaakdocumentLezen whose La01 (``--gb`` GB) streams from the
  stand-in through the gateway to the client. For each: wall time, MB/s of wire bytes (10⁶), and the gateway's RSS
  before and at its peak (VmHWM, reset before each run through /proc/<pid>/clear_refs where the kernel allows it).

Writes bench/results/proxy.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.streaming.messages import headers, lezen, voeg_toe_parts  # noqa: E402
from tests.support.legacy import BLOCK_B64, running_proxy, stand_in  # noqa: E402
from tests.support.messages import di02  # noqa: E402
from tests.support.server import memory_kib  # noqa: E402

MB = 1_000_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(client: httpx.Client, url: str, body: bytes, hdrs: dict[str, str], n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.post(url, content=body, headers=hdrs)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    return times


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def overhead(proxy: str, pid: int, legacy_url: str, messages: int) -> dict[str, object]:
    body, hdrs = di02()
    with httpx.Client(timeout=30) as client:
        timed(client, f"{proxy}/zds/VrijeBerichten", body, hdrs, 200)  # warm-up
        timed(client, legacy_url, body, hdrs, 200)
        via, direct = [], []
        cpu = 0.0
        for _ in range(messages // 100):  # interleaved, so that drift on the machine hits both alike
            start = cpu_seconds(pid)
            via += timed(client, f"{proxy}/zds/VrijeBerichten", body, hdrs, 100)
            cpu += cpu_seconds(pid) - start
            direct += timed(client, legacy_url, body, hdrs, 100)
    # The gateway's own CPU per message does not depend on what else the machine runs; the wall times do.
    row: dict[str, object] = {"messages": len(via), "message_bytes": len(body),
                              "gateway_cpu_ms_per_message": round(cpu * 1000 / len(via), 3)}
    for name, values in (("via_proxy_ms", via), ("direct_ms", direct)):
        row[name] = {"p50": round(statistics.median(values), 3), "p99": round(percentile(values, 0.99), 3)}
    row["overhead_ms"] = {q: round(row["via_proxy_ms"][q] - row["direct_ms"][q], 3)  # type: ignore[index]
                          for q in ("p50", "p99")}
    return row


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def base64_body(blocks: int) -> Iterator[bytes]:
    before, after = voeg_toe_parts(referentienummer=f"bench-in-{time.time_ns()}")
    yield before
    for _ in range(blocks):
        yield BLOCK_B64
    yield after


def one_gb(proxy: str, pid: int, blocks: int) -> list[dict[str, object]]:
    rows = []
    with httpx.Client(timeout=600) as client:
        for direction in ("in", "out"):
            cleared = reset_peak(pid)
            before = memory_kib(pid)
            start = time.perf_counter()
            if direction == "in":
                response = client.post(f"{proxy}/zds/OntvangAsynchroon", content=base64_body(blocks),
                                       headers=headers())
                assert response.status_code == 200, response.text
                wire = sum(len(piece) for piece in base64_body(blocks))
            else:
                wire = 0
                with client.stream("POST", f"{proxy}/zds/BeantwoordVraag", content=lezen(),
                                   headers=headers("geefZaakdocumentLezen_Lv01")) as answer:
                    assert answer.status_code == 200
                    for chunk in answer.iter_raw():
                        wire += len(chunk)
                assert wire == int(answer.headers["content-length"])
            seconds = time.perf_counter() - start
            after = memory_kib(pid)
            rows.append({
                "direction": direction, "wire_mb": round(wire / MB, 1), "seconds": round(seconds, 2),
                "mb_per_s": round(wire / MB / seconds, 1), "rss_before_mib": round(before["VmRSS"] / 1024, 1),
                "rss_peak_mib": round(after["VmHWM"] / 1024, 1), "peak_reset": cleared,
                "rss_grown_mib": round((after["VmHWM"] - before["VmRSS"]) / 1024, 1),
            })
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "proxy.json")
    args = parser.parse_args()
    blocks = math.ceil(args.gb * 1e9 / len(BLOCK_B64))
    load_at_start = os.getloadavg()[0]
    pid: list[int] = []
    with stand_in() as legacy, tempfile.TemporaryDirectory() as data:
        endpoints = {"VrijeBerichten": f"{legacy.url}/ok/VrijeBerichten",
                     "OntvangAsynchroon": f"{legacy.url}/sink/OntvangAsynchroon",
                     "BeantwoordVraag": f"{legacy.url}/source/BeantwoordVraag?size={blocks}"}
        with running_proxy(Path(data), endpoints, pid=pid) as proxy:  # logging at INFO, as in production
            idle = memory_kib(pid[0])
            small = overhead(proxy, pid[0], endpoints["VrijeBerichten"], args.messages)
            print(small, flush=True)
            legacy.seen.clear()
            large = one_gb(proxy, pid[0], blocks)
            assert legacy.seen[0].size > blocks * len(BLOCK_B64)  # the sink got the whole request
    result = {
        "bench": "proxy",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "note": "gateway = a stuf-bridge process proxying everything; legacy = a zero-latency stand-in in the bench "
                "process; client, stand-in and gateway share the CPUs. MB = 10^6 wire bytes; RSS in MiB.",
        "load_average": [load_at_start, os.getloadavg()[0]],
        "idle_rss_mib": round(idle["VmRSS"] / 1024, 1),
        "overhead": small,
        "one_gb": large,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
