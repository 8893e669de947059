"""Replicate of a large document: RSS and MB/s, through the outbox.

    pip install -e '.[bench]'
    python bench/replicate_bench.py [--mb 1000] [--out bench/results/replicate.json]

The gateway is a ``stuf-bridge serve`` process with a routing default of ``replicate`` with primary ``legacy`` and
its own embedded ZGW backend; legacy is the stand-in of ``tests/support/legacy.py`` in this process (its ``sink``
reads any size and answers Bv03). A creeerZaak goes first (its ZGW leg through the outbox), then a
voegZaakdocumentToe carrying ``--mb`` MB of base64: streamed to legacy (the primary), copied from the request's
spool into the outbox's chunked payload, answered; then the worker streams it from the store through the translate
flow into ZGW. Measured: the client's request (wire MB/s), the time until the outbox has delivered it, and the
gateway's RSS peak over both (VmHWM, reset before).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.operations import messages as zm  # noqa: E402
from tests.streaming.messages import headers, voeg_toe_parts  # noqa: E402
from tests.support.legacy import BLOCK_B64, stand_in  # noqa: E402
from tests.support.server import memory_kib, running_gateway  # noqa: E402

MB = 1_000_000


def body(blocks: int) -> Iterator[bytes]:
    before, after = voeg_toe_parts(referentienummer="bench-replicate-doc")
    yield before
    for _ in range(blocks):
        yield BLOCK_B64
    yield after


def outbox(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=900).text
    return {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
            if line.startswith("stuf_bridge_outbox_")}


def wait_delivered(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while outbox(url)["stuf_bridge_outbox_pending"] > 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"outbox not delivered within {timeout} s: {outbox(url)}")
        time.sleep(0.5)


class Probe:
    """``/health`` asked every half second from a thread: the longest wait shows how long the gateway's event loop
    was kept from other requests while the document went through."""

    def __init__(self, url: str):
        self.url, self.longest, self._stop = url, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=3600) as client:
            while not self._stop.wait(0.5):
                start = time.perf_counter()
                client.get(f"{self.url}/health")
                self.longest = max(self.longest, time.perf_counter() - start)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(3600)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=1000.0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "replicate.json")
    args = parser.parse_args()
    blocks = math.ceil(args.mb * MB / len(BLOCK_B64))
    load_at_start = os.getloadavg()[0]
    pid: list[int] = []
    with stand_in() as legacy, tempfile.TemporaryDirectory() as data:
        endpoints = {"OntvangAsynchroon": f"{legacy.url}/sink/OntvangAsynchroon"}
        env = {"STUF_BRIDGE_ROUTING": json.dumps({"default": {"mode": "replicate", "primary": "legacy"}}),
               "STUF_BRIDGE_LEGACY": json.dumps({"endpoints": endpoints, "timeout": 600}),
               "STUF_BRIDGE_OUTBOX": json.dumps({"poll_seconds": 0.2}),
               "STUF_BRIDGE_MAX_DOCUMENT_BYTES": str(4 * blocks * len(BLOCK_B64))}
        with running_gateway(Path(data) / "gw", env=env, pid=pid, timeout=60) as url, \
                httpx.Client(timeout=3600) as client:
            creeer, creeer_headers = zm.creeer_zaak(identificatie="0363ZK1", referentienummer="bench-replicate-zaak")
            assert client.post(f"{url}/zds/OntvangAsynchroon", content=creeer, headers=creeer_headers
                               ).status_code == 200
            wait_delivered(url, 120)
            idle = memory_kib(pid[0])
            Path(f"/proc/{pid[0]}/clear_refs").write_text("5")
            wire = sum(len(piece) for piece in body(blocks))
            with Probe(url) as probe:
                start = time.perf_counter()
                answer = client.post(f"{url}/zds/OntvangAsynchroon", content=body(blocks), headers=headers())
                answered = time.perf_counter() - start
                assert answer.status_code == 200, answer.text[:2000]
                after_request = memory_kib(pid[0])
                wait_delivered(url, 3600)
                delivered = time.perf_counter() - start
            after = memory_kib(pid[0])
            gauges = outbox(url)
            assert gauges["stuf_bridge_outbox_dead"] == 0, gauges
            assert legacy.seen[-1].size == wire  # the primary got all of it
            zgw_docs = httpx.get(f"{url}/zgw/documenten/api/v1/enkelvoudiginformatieobjecten",
                                 params={"identificatie": "0363D20240000001"}, timeout=60,
                                 auth=_auth()).json()["results"]
            assert len(zgw_docs) == 1 and zgw_docs[0]["bestandsomvang"] > 0, zgw_docs
    result = {
        "bench": "replicate",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "note": "gateway = a stuf-bridge process replicating everything with primary legacy, its ZGW the embedded "
                "backend in the same process; legacy = a zero-latency sink in the bench process; all share the "
                "CPUs. MB = 10^6 wire bytes; RSS in MiB.",
        "load_average": [load_at_start, os.getloadavg()[0]],
        "wire_mb": round(wire / MB, 1),
        "document_mb": zgw_docs[0]["bestandsomvang"] / MB,
        "idle_rss_mib": round(idle["VmRSS"] / 1024, 1),
        "answered_seconds": round(answered, 2),
        "answered_mb_per_s": round(wire / MB / answered, 1),
        "rss_peak_until_answered_mib": round(after_request["VmHWM"] / 1024, 1),
        "delivered_to_zgw_seconds": round(delivered, 2),
        "end_to_end_mb_per_s": round(wire / MB / delivered, 1),
        "rss_peak_until_delivered_mib": round(after["VmHWM"] / 1024, 1),
        "rss_grown_mib": round((after["VmHWM"] - idle["VmRSS"]) / 1024, 1),
        "longest_health_answer_seconds": round(probe.longest, 2),
    }
    print(json.dumps(result, indent=2))
    args.out.write_text(json.dumps(result, indent=2) + "\n")


def _auth() -> httpx.Auth:
    from stuf_bridge.zgw.auth import JwtAuth

    return JwtAuth("stuf-bridge", "stuf-bridge-demo-secret-not-for-production")


if __name__ == "__main__":
    main()
