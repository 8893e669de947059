"""Bulk migration: throughput of ``stuf-bridge migrate`` and its memory with 100 MB documents in the archive.

    pip install -e '.[bench]'
    python bench/migration_bench.py [--zaken 200] [--big 2] [--latency-ms 50] [--out bench/results/migration.json]

Three processes, as in production: the legacy zaaksysteem (a second ``stuf-bridge serve`` in translate mode on its
own embedded backend, holding the archive), the target ZGW backend (``stuf-bridge zgw serve``) and the command
(``stuf-bridge migrate`` with the gateway's settings from the environment). Between the command and the legacy
system sits a TCP relay that holds every request ``--latency-ms`` before passing it on (a legacy zaaksysteem across
a network answers in tens of milliseconds, not in the microseconds of loopback).

1. The archive is made through the legacy side's own ZDS endpoints: ``--zaken`` zaken with two statussen, a rol, a
   zaakobject and one document of 20 kB each, and ``--big`` zaken with one document of 100 MB (its base64 produced
   while it is sent).
2. ``migrate --concurrency N`` of the small zaken: zaken/s and MB/s (wall time of the command, start-up included;
   and the rate its own last progress line reports), and the peak RSS of the command process.
3. ``migrate`` of the big zaken: MB/s and the peak RSS of the command process (flat memory: RSS stays far below
   the document size).

The command's RSS is sampled with psutil every 50 ms. Where the time goes: the CPU time (user + system) of the
command (``getrusage(RUSAGE_CHILDREN)`` around it), of the legacy process and of the ZGW backend (psutil, before and
after) against the wall time; ``--profile FILE`` runs the small migration's command under cProfile (slower; for
finding hot spots, not for the figures). Writes bench/results/migration.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.operations import document_messages as dm  # noqa: E402
from tests.operations import messages as zm  # noqa: E402
from tests.support.server import running_gateway  # noqa: E402

MB = 1_000_000
BLOCK = os.urandom(3 * (1 << 18))
BLOCK_B64 = base64.b64encode(BLOCK)
SERVICES = ("BeantwoordVraag", "OntvangAsynchroon", "VrijeBerichten")


def post(url: str, service: str, body: bytes | Iterator[bytes], headers: dict[str, str]) -> None:
    answer = httpx.post(f"{url}/zds/{service}", content=body, headers=headers, timeout=600)
    if answer.status_code != 200:
        raise RuntimeError(f"{service}: HTTP {answer.status_code}: {answer.text[:500]}")


def make_zaak(url: str, name: str, document_bytes: int) -> None:
    statussen = zm.status("Ontvangen", "20241105", "1") + zm.status("In behandeling", "20241106", "2")
    body, headers = zm.creeer_zaak(identificatie=name, referentienummer=f"c-{name}", statussen=statussen,
                                   relations=zm.ADRES)
    post(url, "OntvangAsynchroon", body, headers)
    blocks = max(1, document_bytes // len(BLOCK))
    body, headers = dm.voeg_zaakdocument_toe(identificatie=f"{name}-D0", zaak=name, inhoud="@@INHOUD@@",
                                             referentienummer=f"d-{name}")
    before, _, after = body.partition(b"@@INHOUD@@")
    if document_bytes < len(BLOCK):
        post(url, "OntvangAsynchroon", before + base64.b64encode(os.urandom(document_bytes)) + after, headers)
        return

    def stream() -> Iterator[bytes]:
        yield before
        for _ in range(blocks):
            yield BLOCK_B64
        yield after

    post(url, "OntvangAsynchroon", stream(), headers)


class Relay:
    """A TCP relay to ``target`` that holds each piece the client sends ``latency`` seconds before passing it on."""

    def __init__(self, target: str, latency: float):
        host, port = re.match(r"http://([^:/]+):(\d+)", target).groups()  # type: ignore[union-attr]
        self.target = (host, int(port))
        self.latency = latency
        self.loop = asyncio.new_event_loop()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.sock = sock
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(10)

    async def _serve(self) -> None:
        self.server = await asyncio.start_server(self._client, sock=self.sock)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, delay: float) -> None:
            try:
                while chunk := await src.read(1 << 16):
                    if delay:
                        await asyncio.sleep(delay)
                    dst.write(chunk)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, self.latency), pipe(up_reader, writer, 0.0))


def cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def run_migrate(env: dict[str, str], data: Path, names: list[str], concurrency: int,
                others: dict[str, int] | None = None, profile: Path | None = None) -> dict[str, object]:
    listing = data.parent / f"zaken-{len(names)}.txt"
    listing.write_text("\n".join(names) + "\n")
    report = data.parent / f"report-{len(names)}.json"
    others = others or {}
    before = {name: cpu(pid) for name, pid in others.items()}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile is not None else []
    proc = subprocess.Popen([sys.executable, *profiler, "-m", "stuf_bridge", "migrate", "--zaken", str(listing),
                             "--concurrency", str(concurrency), "--report", str(report), "--progress-seconds", "5",
                             "--data-dir", str(data)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = 0
    process = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, process.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = {"command": round(after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime, 2),
                   **{name: round(cpu(pid) - before[name], 2) for name, pid in others.items()}}
    if proc.returncode != 0:
        raise RuntimeError(f"migrate failed ({proc.returncode}):\n{out}\n{err[-3000:]}")
    summary = json.loads(report.read_text())["summary"]
    last = [line for line in out.splitlines() if line.startswith("migrate: ")][-1]
    return {"zaken": summary["copied"], "documents": summary["documents"], "mb": round(summary["bytes"] / MB, 1),
            "seconds": round(seconds, 2), "zaken_per_s": round(summary["copied"] / seconds, 2),
            "mb_per_s": round(summary["bytes"] / MB / seconds, 2), "peak_rss_mb": round(peak / MB, 1),
            "cpu_seconds": cpu_seconds,
            "cpu_ms_per_zaak": {name: round(value * 1000 / max(1, summary["copied"]), 1)
                                for name, value in cpu_seconds.items()},
            "load_average_after": [round(v, 2) for v in os.getloadavg()], "progress_line": last}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zaken", type=int, default=200)
    parser.add_argument("--big", type=int, default=2, help="zaken with a 100 MB document")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "migration.json")
    parser.add_argument("--profile", type=Path, help="cProfile output of the small migration's command")
    args = parser.parse_args()
    load_before = [round(v, 2) for v in os.getloadavg()]  # the machine is shared: CPU seconds are the stable part
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pids: list[int] = []
        with running_gateway(root / "legacy", timeout=180, pid=pids) as legacy, \
                running_gateway(root / "zgw", command=("zgw", "serve"), timeout=180, pid=pids) as zgw:
            others = {"legacy": pids[0], "zgw": pids[1]}
            started = time.perf_counter()
            small = [f"0363BM{n:05d}" for n in range(args.zaken)]
            for name in small:
                make_zaak(legacy, name, 20_000)
            big = [f"0363BG{n:05d}" for n in range(args.big)]
            for name in big:
                make_zaak(legacy, name, 100 * MB)
            seeded = time.perf_counter() - started
            relay = Relay(legacy, args.latency_ms / 1000)
            env = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_")}
            env.update({
                "STUF_BRIDGE_ZGW_URL": zgw, "STUF_BRIDGE_DEFAULT_RSIN": "002220647", "STUF_BRIDGE_ORGANISATIE": "0363",
                "STUF_BRIDGE_LOG_LEVEL": "WARNING",
                "STUF_BRIDGE_LEGACY": json.dumps({"endpoints": {s: f"{relay.url}/zds/{s}" for s in SERVICES},
                                                  "timeout": 120}),
            })
            results = {
                "small": run_migrate(env, root / "front", small, args.concurrency, others, args.profile),
                "big": run_migrate(env, root / "front", big, args.concurrency, others) if big else None,
            }
    output = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "settings": {"zaken": args.zaken, "big": args.big, "latency_ms": args.latency_ms,
                     "concurrency": args.concurrency, "small_document_bytes": 20_000,
                     "big_document_bytes": 100 * MB},
        "seed_seconds": round(seeded, 1),
        "load_average_before": load_before,
        **results,
    }
    args.out.write_text(json.dumps(output, indent=2) + "\n")
    print(json.dumps(output, indent=2))


if __name__ == "__main__":
    main()
