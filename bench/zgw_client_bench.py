"""Catalogue requests per creeerZaak-style look-up, against a fake Catalogi API that counts requests.

    python bench/zgw_client_bench.py [--messages 100] [--latency 0.02] [--page-size 100]

Each "message" does what creeerZaak needs from the catalogue: zaaktype by identificatie, then statustype,
two roltypen, resultaattype and informatieobjecttype of that zaaktype. The messages run once one after another
and once all at the same time; with the cache and single-flight both make one request per catalogue resource.
A last run without cache (ttl 0) shows what the cache saves.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stuf_bridge.settings import load_settings
from stuf_bridge.zgw import Catalogue, ZgwClients
from tests.zgw_client.fakes import BASE, FakeCatalogi


async def creeer_lookups(catalogue: Catalogue) -> None:
    zaaktype = await catalogue.zaaktype("B1026")
    await asyncio.gather(
        catalogue.statustype(zaaktype, omschrijving="Ontvangen", volgnummer=1),
        catalogue.roltype(zaaktype, omschrijving="Aanvrager", omschrijving_generiek="initiator"),
        catalogue.roltype(zaaktype, omschrijving="Uitvoerende", omschrijving_generiek="behandelaar"),
        catalogue.resultaattype(zaaktype, "Geweigerd"),
        catalogue.informatieobjecttype(zaaktype, "Aanvraag"),
    )


async def run(messages: int, concurrent: bool, latency: float, page_size: int, ttl: float) -> dict[str, Any]:
    fake = FakeCatalogi(latency=latency, page_size=page_size)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(None, zgw_url=BASE, data_dir=data_dir, zgw_secret="x" * 32, zgw_catalogue_ttl=ttl)
        async with ZgwClients.from_settings(settings, transport=fake.transport) as zgw:
            started = time.perf_counter()
            if concurrent:
                await asyncio.gather(*(creeer_lookups(zgw.catalogue) for _ in range(messages)))
            else:
                for _ in range(messages):
                    await creeer_lookups(zgw.catalogue)
            elapsed = time.perf_counter() - started
    return {"counts": dict(sorted(fake.counts.items())), "total": sum(fake.counts.values()), "seconds": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the fake API takes per request")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    for concurrent, ttl in ((False, 300.0), (True, 300.0), (False, 0.0)):
        result = asyncio.run(run(args.messages, concurrent, args.latency, args.page_size, ttl))
        mode = ("concurrent" if concurrent else "sequential") + (
            ", no cache (ttl 0), for comparison" if not ttl else ""
        )
        print(f"{args.messages} creeer look-ups, {mode}: {result['total']} requests in {result['seconds']:.3f} s")
        for path, count in result["counts"].items():
            print(f"  {count:4d}  GET {path}")


if __name__ == "__main__":
    main()
