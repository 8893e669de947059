"""ZGW notifications to StUF kennisgevingen: throughput, end-to-end delay, and memory with a large document.

    pip install -e '.[bench]'
    python bench/notifications_bench.py [--zaken 200] [--document-mb 500] [--coalesce 0.5]
                                        [--out bench/results/notifications.json]

One ``stuf-bridge serve`` with the embedded backend and two subscribers (zds-client and stuf-zkn) on a sink that
answers Bv03 at once and records when each kennisgeving arrived; a ZGW client (not the gateway) on 4 threads.

* **throughput and delay**: ``--zaken`` zaken are created through the Zaken API, and each gets a status. Measured:
  ZGW changes per second that came out as kennisgevingen at both subscribers (wall time from the first change to the
  last kennisgeving), and per change the delay from the ZGW answer to the kennisgeving's arrival (p50, p95, max).
  The delay includes the coalescing window (``--coalesce``, default 0.5 s; the setting's default is 2 s). Also the
  gateway's CPU seconds (it runs the embedded ZGW backend too, so they include the ZGW writes and reads) per change.
* **memory**: a zaak and a document of ``--document-mb`` MB are created through the gateway (voegZaakdocumentToe
  from a client that is no subscriber); the gateway (which also runs the embedded backend) streams the document to
  the zds-client subscriber as base64. The sink counts the bytes it gets. Reported: the gateway's RSS before, and
  its peak while the kennisgeving was sent (sampled every 20 ms).
* **a metadata change of that document** (a third subscriber, stuf-zkn with documents, gets the document too): its
  titel is changed through the Documenten API, which makes a new version with the same content. The gateway streams
  the new version through a sha256 to compare it with what the subscriber was sent, and sends an edcLk01 W without
  content. Reported: the W's size, its delay after the change, the gateway's CPU seconds and RSS peak meanwhile.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.notifications.zgw_client import ZgwClient
from tests.operations.document_messages import voeg_zaakdocument_toe
from tests.operations.messages import creeer_zaak
from tests.support.legacy import OK_ANSWER
from tests.support.server import running_gateway

MB = 1_000_000
BLOCK = 3 * (1 << 18)
_IDENT = re.compile(rb"<ZKN:identificatie>([^<]+)</ZKN:identificatie>")
_MUTATIE = re.compile(rb"<StUF:mutatiesoort>([A-Z])</StUF:mutatiesoort>")
_RELEVANT = re.compile(rb"<ZKN:isRelevantVoor.*?<ZKN:identificatie>([^<]+)</ZKN:identificatie>", re.S)


class Sink:
    """Kennisgevingen in: (subscriber, operation, zaak, arrival time, body bytes); the body is counted, not kept."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[str, str, str, float, int, str]] = []  # …, mutatiesoort
        self.lock = threading.Lock()
        self.url = ""

    def count(self, operation: str | None = None) -> int:
        with self.lock:
            return sum(1 for a in self.arrivals if operation is None or a[1] == operation)


def start_sink(sink: Sink) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802
            head, size, tail = b"", 0, b""
            for chunk in self._chunks():
                if len(head) < 65536:
                    head += chunk[:65536]
                tail = (tail + chunk)[-65536:]
                size += len(chunk)
            operation = self.headers.get("soapaction", "").strip('"').rsplit("/", 1)[-1]
            found = _RELEVANT.search(tail) if operation in ("voegZaakdocumentToe_Lk01", "edcLk01") else None
            found = found or _IDENT.search(head)
            zaak = found.group(1).decode() if found else ""
            mutatie = _MUTATIE.search(head)
            with sink.lock:
                sink.arrivals.append((self.path.split("/")[1], operation, zaak, time.time(), size,
                                      mutatie.group(1).decode() if mutatie else ""))
            self.send_response(200)
            self.send_header("content-type", "text/xml; charset=utf-8")
            self.send_header("content-length", str(len(OK_ANSWER)))
            self.end_headers()
            self.wfile.write(OK_ANSWER)

        def _chunks(self) -> Iterator[bytes]:
            if self.headers.get("transfer-encoding", "").lower() != "chunked":
                yield self.rfile.read(int(self.headers.get("content-length") or 0))
                return
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return
                left = size
                while left:
                    piece = self.rfile.read(min(left, 1 << 20))
                    left -= len(piece)
                    yield piece
                self.rfile.readline()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Peak(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.proc, self.interval, self.peak, self.stop = psutil.Process(pid), interval, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self.stop.wait(self.interval)


def wait(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.02)


def percentiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"p50": round(statistics.median(values), 3), "p95": round(values[int(0.95 * (len(values) - 1))], 3),
            "max": round(values[-1], 3)}


def throughput(url: str, sink: Sink, zaken: int, pid: int) -> dict[str, object]:
    changed: dict[str, float] = {}  # "<zaak>/<operation>" -> when ZGW answered
    lock = threading.Lock()

    def one(n: int) -> None:
        client = ZgwClient(url)
        try:
            ident = f"0363ZK-BENCH-{n:05d}"
            zaak = client.create_zaak(ident)
            with lock:
                changed[f"{ident}/T"] = time.time()
            client.set_status(zaak, 1, "2024-03-01T10:00:00Z")
            with lock:
                changed[f"{ident}/W"] = time.time()
        finally:
            client.close()

    gateway = psutil.Process(pid)
    cpu_before = sum(gateway.cpu_times()[:2])
    started = time.time()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(zaken)))
    wait(lambda: sink.count() >= 4 * zaken, 600)
    ended = max(a[3] for a in sink.arrivals)
    cpu = sum(gateway.cpu_times()[:2]) - cpu_before
    delays = []
    for subscriber, operation, zaak, arrived, _size, _mutatie in sink.arrivals:
        if subscriber == "dms":  # the zds-client operation says which change it is
            kind = "T" if operation == "creeerZaak_Lk01" else "W"
            delays.append(arrived - changed[f"{zaak}/{kind}"])
    return {"zaken": zaken, "zgw_changes": 2 * zaken, "kennisgevingen": len(sink.arrivals),
            "seconds": round(ended - started, 2), "zgw_changes_per_s": round(2 * zaken / (ended - started), 1),
            "kennisgevingen_per_s": round(len(sink.arrivals) / (ended - started), 1),
            "delay_s_dms": percentiles(delays), "gateway_cpu_s": round(cpu, 1),
            "gateway_cpu_ms_per_zgw_change": round(1000 * cpu / (2 * zaken), 1)}


def large_document(url: str, sink: Sink, pid: int, size_mb: int) -> dict[str, object]:
    block = os.urandom(BLOCK)
    encoded = base64.b64encode(block)
    size = size_mb * MB
    zaak = "0363ZK-BENCH-DOC"
    with httpx.Client(timeout=httpx.Timeout(1800, connect=10)) as client:
        body, headers = creeer_zaak(identificatie=zaak, zaaktype="BEZWAAR", referentienummer="bench-doc-zaak")
        assert client.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=headers).status_code == 200
        wait(lambda: any(a[2] == zaak and a[0] == "dms" for a in sink.arrivals), 120)
        time.sleep(3)
        text, headers = voeg_zaakdocument_toe(identificatie="0363DOC-BENCH-1", zaak=zaak, inhoud="@INHOUD@",
                                              dct="Bezwaarschrift",
                                              referentienummer="bench-doc-1", bestandsnaam="groot.bin",
                                              content_type="application/octet-stream")
        before, after = text.split(b"@INHOUD@")

        def content() -> Iterator[bytes]:
            yield before
            left = size
            while left >= BLOCK:
                left -= BLOCK
                yield encoded
            if left:
                yield base64.b64encode(block[:left])
            yield after

        rss_before = psutil.Process(pid).memory_info().rss
        peak = Peak(pid)
        peak.start()
        started = time.time()
        answer = client.post(f"{url}/zds/OntvangAsynchroon", content=content(), headers=headers)
        assert answer.status_code == 200, answer.text[:2000]
        uploaded = time.time()
        wait(lambda: any(a[0] == "dms" and a[1] == "voegZaakdocumentToe_Lk01" for a in sink.arrivals), 1800)
        peak.stop.set()
        peak.join()
        [arrival] = [a for a in sink.arrivals if a[0] == "dms" and a[1] == "voegZaakdocumentToe_Lk01"]
    base64_size = 4 * ((size + 2) // 3)
    metadata = metadata_change(url, sink, pid)
    return {"document_mb": size_mb, "kennisgeving_bytes": arrival[4], "base64_bytes": base64_size,
            "upload_s": round(uploaded - started, 1),
            "kennisgeving_done_s_after_upload": round(arrival[3] - uploaded, 1),
            "gateway_rss_before_mb": round(rss_before / (1 << 20), 1),
            "gateway_rss_peak_mb": round(peak.peak / (1 << 20), 1), "metadata_change": metadata}


def metadata_change(url: str, sink: Sink, pid: int) -> dict[str, object]:
    """A new version of the large document with the same content (titel changed through the Documenten API)."""
    def edc(mutatie: str) -> list[tuple[str, str, str, float, int]]:
        return [a for a in sink.arrivals if a[0] == "edc" and a[1] == "edcLk01" and a[5] == mutatie]

    wait(lambda: len(edc("T")) == 1, 1800)  # the document, content included: its digest is recorded
    time.sleep(3)
    zgw = ZgwClient(url)
    try:
        eio = zgw.one("documenten/api/v1/enkelvoudiginformatieobjecten", identificatie="0363DOC-BENCH-1")
        gateway = psutil.Process(pid)
        cpu_before = sum(gateway.cpu_times()[:2])
        rss_before = gateway.memory_info().rss
        peak = Peak(pid)
        peak.start()
        lock = zgw.ok("POST", f"{eio['url']}/lock")["lock"]
        zgw.ok("PATCH", eio["url"], json={"titel": "Groot document, nieuwe titel", "lock": lock})
        zgw.ok("POST", f"{eio['url']}/unlock", 204, json={"lock": lock})
        changed = time.time()
        wait(lambda: len(edc("W")) == 1, 1800)
        peak.stop.set()
        peak.join()
        cpu = sum(gateway.cpu_times()[:2]) - cpu_before
    finally:
        zgw.close()
    [change] = edc("W")
    return {"w_bytes": change[4], "content_bytes_in_t": edc("T")[0][4], "delay_s": round(change[3] - changed, 1),
            "gateway_cpu_s": round(cpu, 1), "gateway_rss_before_mb": round(rss_before / (1 << 20), 1),
            "gateway_rss_peak_mb": round(peak.peak / (1 << 20), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zaken", type=int, default=200)
    parser.add_argument("--document-mb", type=int, default=500)
    parser.add_argument("--coalesce", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "notifications.json")
    args = parser.parse_args()
    sink = Sink()
    server = start_sink(sink)
    config = {"coalesce_seconds": args.coalesce, "poll_seconds": 0.1, "subscribers": [
        {"name": "dms", "endpoint": f"{sink.url}/dms/OntvangAsynchroon", "profile": "zds-client",
         "stuf": {"organisatie": "0363", "applicatie": "DMS"}},
        {"name": "zkn", "endpoint": f"{sink.url}/zkn/OntvangAsynchroon", "profile": "stuf-zkn", "documents": False,
         "zaaktypen": ["MELDING-OR"], "stuf": {"organisatie": "0363", "applicatie": "ZKN"}},
        {"name": "edc", "endpoint": f"{sink.url}/edc/OntvangAsynchroon", "profile": "stuf-zkn",
         "zaaktypen": ["BEZWAAR"], "stuf": {"organisatie": "0363", "applicatie": "EDC"}}]}
    env = {"STUF_BRIDGE_NOTIFICATIONS": json.dumps(config), "STUF_BRIDGE_OUTBOX": json.dumps({"poll_seconds": 0.05})}
    pids: list[int] = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as data, running_gateway(Path(data), env=env, pid=pids) as url:
        results: dict[str, object] = {"throughput": throughput(url, sink, args.zaken, pids[0])}
        if args.document_mb:
            results["large_document"] = large_document(url, sink, pids[0], args.document_mb)
    server.shutdown()
    results["machine"] = {"cpus": os.cpu_count(), "load_before": round(load, 2), "python": platform.python_version(),
                          "coalesce_seconds": args.coalesce}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
