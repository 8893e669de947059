"""Documents through the gateway: memory and throughput of voegZaakdocumentToe and geefZaakdocumentLezen by size.

    pip install -e '.[bench]'
    python bench/documents_bench.py [--sizes 10,100,1000] [--out bench/results/documents.json]

Two processes, as in production: the embedded ZGW backend (`stuf-bridge zgw serve`, SQLite and files in a temporary
data directory) and the gateway (`stuf-bridge serve` with STUF_BRIDGE_ZGW_URL pointing at it). For each size (MB,
10⁶ bytes) the script

- sends voegZaakdocumentToe_Lk01 whose base64 ``inhoud`` is produced while the request is sent (chunked transfer;
  never whole in the client either), and checks the Bv03;
- sends geefZaakdocumentLezen_Lv01 and reads the answer as it arrives, checking the length and CRC-32 of its base64
  against those of the base64 that was sent;

while a thread samples the resident memory (RSS) of both server processes with psutil every 20 ms. Reported per
operation and size: wall time, MB/s of document bytes, and the peak RSS of each process during that operation (and
its RSS before the first message), and the CPU seconds each process (gateway, zgw, client) spent on it. The client
runs on the same machine and takes CPU from the servers (sending, receiving and comparing; the base64 of the random
blocks the documents are made of is computed once); its cost is in the wall-time figures, and
``mb_per_gateway_cpu_s`` shows the gateway's own cost.

Writes bench/results/documents.json and bench/results/documents-rss.png (peak RSS against document size).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import STUF
from tests.operations.document_messages import geef_zaakdocument_lezen, voeg_zaakdocument_toe
from tests.operations.messages import creeer_zaak
from tests.support.server import running_gateway

MB = 1_000_000
BLOCK = 3 * (1 << 18)  # 786 432 bytes: its base64 has no padding, so blocks of base64 join into valid base64
RSIN = "002220647"
ZAAK = "0363ZK2024-BENCH1"


class Document:
    """``size`` bytes from a pool of random blocks, as base64 produced piece by piece (the blocks' base64 is computed
    once, so the client spends next to no CPU on it: the servers get the machine)."""

    def __init__(self, size: int, pool: list[bytes], encoded: list[bytes], seed: int):
        self.size, self.pool, self.encoded, self.seed = size, pool, encoded, seed

    def base64(self) -> Iterator[bytes]:
        left, i = self.size, self.seed
        while left:
            index = i % len(self.pool)
            i += 7
            if left >= BLOCK:  # a whole block: its base64 has no padding, so the pieces join into valid base64
                left -= BLOCK
                yield self.encoded[index]
            else:
                yield base64.b64encode(self.pool[index][:left])
                left = 0


class Sampler(threading.Thread):
    """RSS of some processes every ``interval`` seconds; ``peak()`` since the last ``reset()``."""

    def __init__(self, pids: dict[str, int], interval: float = 0.02):
        super().__init__(daemon=True)
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.interval = interval
        self.peaks = dict.fromkeys(pids, 0)
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.stop.is_set():
            for name, proc in self.procs.items():
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                with self.lock:
                    self.peaks[name] = max(self.peaks[name], rss)
            self.stop.wait(self.interval)

    def reset(self) -> None:
        with self.lock:
            self.peaks = {name: proc.memory_info().rss for name, proc in self.procs.items()}

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by each process, and by this one (the client)."""
        used = {name: sum(proc.cpu_times()[:2]) for name, proc in self.procs.items()}
        used["client"] = sum(psutil.Process().cpu_times()[:2])
        return used

    def peak(self) -> dict[str, float]:
        time.sleep(2 * self.interval)
        with self.lock:
            return {name: round(value / (1 << 20), 1) for name, value in self.peaks.items()}


class AnswerChecker:
    """The CRC-32 and length of the base64 text of the answer's one ``inhoud``, taken as the answer arrives, to be
    compared with those of the base64 that was sent (cheap enough to leave the CPUs to the servers)."""

    def __init__(self) -> None:
        self.head, self.inside, self.done = b"", False, False
        self.crc, self.characters = 0, 0

    def feed(self, chunk: bytes) -> None:
        if self.done:
            return
        if not self.inside:
            self.head += chunk
            _, found, rest = self.head.partition(b"inhoud")
            if not found or b">" not in rest:
                return
            chunk, self.inside, self.head = rest.split(b">", 1)[1], True, b""
        end = chunk.find(b"<")
        text = memoryview(chunk)[: end if end != -1 else len(chunk)]
        self.crc = zlib.crc32(text, self.crc)
        self.characters += len(text)
        self.done = end != -1


def crc_of(pieces: Iterator[bytes]) -> tuple[int, int]:
    crc, length = 0, 0
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
        length += len(piece)
    return crc, length


def _spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: round(after[name] - before[name], 2) for name in before}


def soap(client: httpx.Client, url: str, service: str, message: tuple[bytes, dict[str, str]]) -> httpx.Response:
    response = client.post(f"{url}/zds/{service}", content=message[0], headers=message[1])
    if response.status_code != 200:
        raise RuntimeError(f"{service}: {response.status_code} {response.text[:2000]}")
    return response


def upload(client: httpx.Client, url: str, document: Document, identificatie: str) -> float:
    text, headers = voeg_zaakdocument_toe(identificatie=identificatie, zaak=ZAAK, inhoud="@INHOUD@",
                                          referentienummer=f"bench-{identificatie}", bestandsnaam="bench.bin",
                                          content_type="application/octet-stream")
    before, after = text.split(b"@INHOUD@")

    def body() -> Iterator[bytes]:
        yield before
        yield from document.base64()
        yield after

    started = time.perf_counter()
    response = client.post(f"{url}/zds/OntvangAsynchroon", content=body(), headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or parse_answer(response.content).tag != f"{{{STUF}}}Bv03Bericht":
        raise RuntimeError(f"voegZaakdocumentToe: {response.status_code} {response.text[:2000]}")
    return elapsed


def download(client: httpx.Client, url: str, identificatie: str) -> tuple[float, AnswerChecker]:
    text, headers = geef_zaakdocument_lezen(identificatie=identificatie)
    checker = AnswerChecker()
    started = time.perf_counter()
    with client.stream("POST", f"{url}/zds/BeantwoordVraag", content=text, headers=headers) as response:
        if response.status_code != 200:
            raise RuntimeError(f"geefZaakdocumentLezen: {response.status_code} {response.read()[:2000]!r}")
        for chunk in response.iter_raw(1 << 20):
            checker.feed(chunk)
    return time.perf_counter() - started, checker


def run(sizes: list[int], data_root: Path) -> dict[str, object]:
    load = os.getloadavg()[0]  # other work on the machine takes CPU from the three processes measured
    pool = [os.urandom(BLOCK) for _ in range(8)]
    encoded = [base64.b64encode(block) for block in pool]
    pids: list[int] = []
    results: list[dict[str, object]] = []
    with running_gateway(data_root / "zgw", command=("zgw", "serve"), pid=pids) as zgw_url, \
            running_gateway(data_root / "gateway", {"STUF_BRIDGE_ZGW_URL": zgw_url, "STUF_BRIDGE_DEFAULT_RSIN": RSIN},
                            pid=pids) as url, \
            httpx.Client(timeout=httpx.Timeout(600, connect=10)) as client:
        sampler = Sampler({"gateway": pids[1], "zgw": pids[0]})
        sampler.start()
        soap(client, url, "OntvangAsynchroon", creeer_zaak(identificatie=ZAAK, referentienummer="bench-zaak"))
        idle = sampler.peak()
        for i, size_mb in enumerate(sizes):
            document = Document(size_mb * MB, pool, encoded, seed=i)
            expected = crc_of(document.base64())
            identificatie = f"BENCH-DOC-{i:03d}-{size_mb}"
            sampler.reset()
            cpu = sampler.cpu()
            seconds = upload(client, url, document, identificatie)
            up_peak, up_cpu = sampler.peak(), _spent(cpu, sampler.cpu())
            sampler.reset()
            cpu = sampler.cpu()
            down_seconds, checker = download(client, url, identificatie)
            down_peak, down_cpu = sampler.peak(), _spent(cpu, sampler.cpu())
            if not checker.done or (checker.crc, checker.characters) != expected:
                raise RuntimeError(f"{size_mb} MB: the download differs from the upload ({checker.characters} base64 "
                                   f"characters, {expected[1]} sent)")
            for operation, elapsed, peak, spent in (("voegZaakdocumentToe", seconds, up_peak, up_cpu),
                                                    ("geefZaakdocumentLezen", down_seconds, down_peak, down_cpu)):
                row = {"operation": operation, "size_mb": size_mb, "seconds": round(elapsed, 2),
                       "mb_per_s": round(size_mb / elapsed, 1), "peak_rss_mib": peak, "cpu_seconds": spent,
                       "mb_per_gateway_cpu_s": round(size_mb / max(spent["gateway"], 1e-3), 1)}
                results.append(row)
                print(json.dumps(row), flush=True)
        sampler.stop.set()
    return {
        "bench": "documents",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "note": "MB = 10^6 bytes of document; RSS in MiB; client on the same machine, 2 servers + client share "
                "the CPUs; every download checked (length, CRC-32 of the base64) against the upload",
        "load_average_at_start": load,
        "idle_rss_mib": idle,
        "results": results,
    }


def plot(report: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    rows = report["results"]
    assert isinstance(rows, list)
    for operation, style in (("voegZaakdocumentToe", "-"), ("geefZaakdocumentLezen", "--")):
        for process, marker in (("gateway", "o"), ("zgw", "s")):
            points = [(r["size_mb"], r["peak_rss_mib"][process]) for r in rows if r["operation"] == operation]
            ax.plot([p[0] for p in points], [p[1] for p in points], style, marker=marker,
                    label=f"{process}: {operation}")
    idle = report["idle_rss_mib"]
    assert isinstance(idle, dict)
    for process, color in (("gateway", "tab:blue"), ("zgw", "tab:red")):
        ax.axhline(idle[process], color=color, linewidth=0.8, linestyle="-.", label=f"{process}: idle")
    ax.axhline(150, color="grey", linewidth=0.8, linestyle=":", label="target 150 MiB")
    ax.set_xscale("log")
    ax.set_xlabel("document size (MB)")
    ax.set_ylabel("peak RSS (MiB)")
    ax.set_ylim(bottom=0)
    ax.set_title("stuf-bridge: peak memory per process against document size")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="document sizes in MB, comma-separated")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "documents.json")
    parser.add_argument("--plot", type=Path, default=REPO / "bench" / "results" / "documents-rss.png")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="stuf-bridge-bench-") as tmp:
        report = run(sizes, Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot(report, args.plot)
    print(f"written to {args.out} and {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
