"""geefLijstZaakdocumenten on a zaak with many documents (issue 18, hardening finding 12: about 40 documents took up
to 11 s).

    pip install -e '.[bench]'
    python bench/document_list_bench.py [--counts 40,200] [--repeat 5] [--out bench/results/document-list.json]

Two processes, as in production: the embedded ZGW backend (`stuf-bridge zgw serve`) and the gateway (`stuf-bridge
serve` pointing at it). For each count the script makes a zaak with that many documents (voegZaakdocumentToe through
the gateway) and then measures:

- **through the gateway**: ``repeat`` geefLijstZaakdocumenten, checking that every document is in the answer; wall
  time per answer (median, max) and the gateway process's CPU seconds per answer (psutil, user + system);
- **the fetch alone** (``relevante_documenten`` in this process against the same backend over HTTP), with the
  documents fetched one by one (``concurrency=1``: the shape of the finding), ``FETCH_CONCURRENCY`` at a time (the
  gateway's), and all at once: wall time (median of ``repeat``).

Wall times depend on the machine's load (recorded as the 1-minute load average); the ratios between the fetch
variants, measured back to back, say more than the absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stuf_bridge.gateway import parse_answer
from stuf_bridge.operations.document_vragen import FETCH_CONCURRENCY, relevante_documenten
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import ZKN
from stuf_bridge.zgw import ZgwClients
from tests.operations.document_messages import geef_lijst_zaakdocumenten, voeg_zaakdocument_toe
from tests.operations.messages import creeer_zaak
from tests.support.server import running_gateway

RSIN = "002220647"
NS = {"ZKN": ZKN}


def soap(client: httpx.Client, url: str, service: str, message: tuple[bytes, dict[str, str]]) -> httpx.Response:
    response = client.post(f"{url}/zds/{service}", content=message[0], headers=message[1])
    if response.status_code != 200 or b"Fo0" in response.content[:2000]:
        raise RuntimeError(f"{service}: {response.status_code} {response.text[:2000]}")
    return response


def make_zaak(client: httpx.Client, url: str, zaak: str, count: int) -> None:
    soap(client, url, "OntvangAsynchroon", creeer_zaak(identificatie=zaak, referentienummer=f"bench-{zaak}"))

    def add(n: int) -> None:
        message = voeg_zaakdocument_toe(identificatie=f"{zaak}-D{n:03d}", zaak=zaak,
                                        referentienummer=f"bench-{zaak}-{n}", content=f"document {n}\n".encode())
        soap(client, url, "OntvangAsynchroon", message)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(add, range(count)))


def through_gateway(client: httpx.Client, url: str, zaak: str, count: int, repeat: int,
                    gateway: psutil.Process) -> dict[str, Any]:
    walls, cpus = [], []
    for _ in range(repeat):
        before = gateway.cpu_times()
        started = time.perf_counter()
        answer = soap(client, url, "BeantwoordVraag", geef_lijst_zaakdocumenten(zaak=zaak))
        walls.append(time.perf_counter() - started)
        after = gateway.cpu_times()
        cpus.append((after.user - before.user) + (after.system - before.system))
        found = parse_answer(answer.content).findall("ZKN:antwoord/ZKN:object/ZKN:heeftRelevant", NS)
        if len(found) != count:
            raise RuntimeError(f"{len(found)} documents in the answer, {count} expected")
    return {"wall_s_median": round(statistics.median(walls), 3), "wall_s_max": round(max(walls), 3),
            "gateway_cpu_s_median": round(statistics.median(cpus), 3)}


async def fetch_alone(zgw_url: str, zaak: str, count: int, repeat: int) -> dict[str, float]:
    settings = Settings(zgw_url=zgw_url, default_rsin=RSIN)
    out: dict[str, float] = {}
    async with ZgwClients.from_settings(settings) as zgw:
        found = await zgw.zaken.list("zaken", {"identificatie": zaak})
        zaak_json = found[0]
        for name, concurrency in (("one_by_one", 1), (f"bounded_{FETCH_CONCURRENCY}", FETCH_CONCURRENCY),
                                  ("all_at_once", max(count, 1))):
            walls = []
            for _ in range(repeat):
                started = time.perf_counter()
                documents = await relevante_documenten(zgw, zaak_json, concurrency=concurrency)
                walls.append(time.perf_counter() - started)
                if len(documents) != count:
                    raise RuntimeError(f"{len(documents)} documents fetched, {count} expected")
            out[f"{name}_wall_s_median"] = round(statistics.median(walls), 3)
    return out


def run(counts: list[int], repeat: int, data_root: Path) -> dict[str, Any]:
    load = os.getloadavg()[0]
    pids: list[int] = []
    results = []
    with running_gateway(data_root / "zgw", command=("zgw", "serve"), pid=pids, timeout=120) as zgw_url, \
            running_gateway(data_root / "gateway", {"STUF_BRIDGE_ZGW_URL": zgw_url, "STUF_BRIDGE_DEFAULT_RSIN": RSIN},
                            pid=pids, timeout=120) as url, \
            httpx.Client(timeout=httpx.Timeout(120, connect=10)) as client:
        gateway = psutil.Process(pids[1])
        for count in counts:
            zaak = f"0363ZK-LIJST-{count}"
            started = time.perf_counter()
            make_zaak(client, url, zaak, count)
            setup = time.perf_counter() - started
            row: dict[str, Any] = {"documents": count, "setup_s": round(setup, 1)}
            row["gateway"] = through_gateway(client, url, zaak, count, repeat, gateway)
            row["fetch"] = asyncio.run(fetch_alone(zgw_url, zaak, count, repeat))
            results.append(row)
            print(json.dumps(row), flush=True)
    return {"bench": "document-list", "fetch_concurrency": FETCH_CONCURRENCY, "repeat": repeat,
            "load_average_1m_at_start": round(load, 2), "cpus": os.cpu_count(), "python": platform.python_version(),
            "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="40,200", help="documents per zaak, comma-separated")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "document-list.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stuf-bridge-bench-") as tmp:
        report = run([int(c) for c in args.counts.split(",")], args.repeat, Path(tmp))
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
