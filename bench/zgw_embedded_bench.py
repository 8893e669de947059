"""The embedded ZGW backend under load: median latency of POST /zaken and GET /zaken/{uuid}, and its memory.

    python bench/zgw_embedded_bench.py [--calls 500]

Runs `stuf-bridge zgw serve` (the embedded backend alone, SQLite in a temporary data directory, demo catalogue)
and talks to it over HTTP with the gateway's own ZGW client, as the gateway does. Prints the figures and writes
bench/results/zgw-embedded.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stuf_bridge.settings import Settings
from stuf_bridge.zgw import ZgwClients
from tests.support.server import memory_kib, running_gateway

RSIN = "002220647"  # a valid test RSIN (11-test)


async def measure(url: str, calls: int) -> dict[str, object]:
    settings = Settings(zgw_url=url)
    async with ZgwClients.from_settings(settings) as zgw:
        zaaktypen = await zgw.catalogi.list("zaaktypen", {"status": "definitief"})
        zaaktype = zaaktypen[0]["url"]
        post, get, urls = [], [], []
        for i in range(calls):
            body = {
                "identificatie": f"BENCH-{i:06d}",
                "bronorganisatie": RSIN,
                "verantwoordelijkeOrganisatie": RSIN,
                "zaaktype": zaaktype,
                "omschrijving": "bench",
                "startdatum": date.today().isoformat(),
            }
            started = time.perf_counter()
            zaak = await zgw.zaken.create("zaken", body)
            post.append((time.perf_counter() - started) * 1000)
            urls.append(zaak["url"])
        for zaak_url in urls:
            started = time.perf_counter()
            await zgw.zaken.get(zaak_url)
            get.append((time.perf_counter() - started) * 1000)
    return {
        "calls": calls,
        "post_zaak_median_ms": round(statistics.median(post), 3),
        "post_zaak_p99_ms": round(sorted(post)[int(len(post) * 0.99) - 1], 3),
        "get_zaak_median_ms": round(statistics.median(get), 3),
        "get_zaak_p99_ms": round(sorted(get)[int(len(get) * 0.99) - 1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    pid: list[int] = []
    with tempfile.TemporaryDirectory() as tmp, running_gateway(Path(tmp), command=("zgw", "serve"), pid=pid) as url:
        before = memory_kib(pid[0])
        result = asyncio.run(measure(url, args.calls))
        after = memory_kib(pid[0])
    result["rss_kib_idle"] = before["VmRSS"]
    result["rss_kib_after"] = after["VmRSS"]
    result["rss_kib_peak"] = after["VmHWM"]
    out = REPO / "bench" / "results" / "zgw-embedded.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
