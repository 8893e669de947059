"""Latency and throughput of genereerZaakIdentificatie against the real gateway over HTTP.

    python bench/identifiers_bench.py [--calls 1000] [--clients 20] [--database-url postgresql://...]

Starts `stuf-bridge serve` on a free port (SQLite in a temporary data directory unless --database-url is given),
then measures (1) p50/p99 latency of N sequential calls on one keep-alive connection and (2) throughput with C
concurrent clients. Results are printed and written to bench/results/identifiers-<store>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.messages import di02
from tests.support.server import running_gateway


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def sequential(url: str, calls: int) -> dict[str, float]:
    timings = []
    with httpx.Client() as client:
        for i in range(20):  # warm-up
            body, headers = di02(referentienummer=f"warm-{i}")
            client.post(f"{url}/zds/VrijeBerichten", content=body, headers=headers)
        for i in range(calls):
            # every message its own referentienummer: a repeated one would be answered from the idempotency store
            body, headers = di02(referentienummer=f"seq-{i}")
            started = time.perf_counter()
            response = client.post(f"{url}/zds/VrijeBerichten", content=body, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return {
        "calls": calls,
        "p50_ms": round(statistics.median(timings), 3),
        "p99_ms": round(percentile(timings, 99), 3),
        "mean_ms": round(statistics.fmean(timings), 3),
    }


async def concurrent(url: str, clients: int, seconds: float) -> dict[str, float]:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            body, headers = di02(referentienummer=f"conc-{done}-{id(client)}-{time.perf_counter_ns()}")
            response = await client.post(f"{url}/zds/VrijeBerichten", content=body, headers=headers)
            assert response.status_code == 200, response.text
            done += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {"clients": clients, "requests": done, "seconds": round(elapsed, 2), "per_second": round(done / elapsed, 1)}


def with_wrk(url: str, clients: int, seconds: float) -> dict[str, object] | None:
    """Throughput measured by wrk (a C load generator), when installed: the Python client above shares the two
    cores with the gateway and costs more CPU per request than the gateway itself."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    body, headers = di02(referentienummer="REFNR")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        lua_headers = "".join(f'wrk.headers["{k}"] = {json.dumps(v)}\n' for k, v in headers.items())
        # Every request its own referentienummer, or the idempotency store would answer the repeats.
        script.write_text(
            f'wrk.method = "POST"\n{lua_headers}local template = {json.dumps(body.decode())}\n'
            "local n = 0\nlocal tag = tostring(math.random(1, 1e9))\n"
            "request = function()\n  n = n + 1\n"
            '  return wrk.format(nil, nil, nil, (template:gsub("REFNR", "wrk-" .. tag .. "-" .. n)))\nend\n'
        )
        out = subprocess.run(
            [wrk, "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-s", str(script),
             f"{url}/zds/VrijeBerichten"],
            capture_output=True, text=True, check=True,
        ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "tool": "wrk", "clients": clients, "per_second": float(rps.group(1)) if rps else None,
        "p50": p50.group(1) if p50 else None, "p99": p99.group(1) if p99 else None,
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    env: dict[str, str] = {}
    if args.database_url:
        env["STUF_BRIDGE_DATABASE_URL"] = args.database_url
    with tempfile.TemporaryDirectory() as tmp, running_gateway(Path(tmp) / "data", env) as url:
        seq = sequential(url, args.calls)
        conc = asyncio.run(concurrent(url, args.clients, args.seconds))
        wrk = with_wrk(url, args.clients, args.seconds)
    result = {"store": "postgresql" if args.database_url else "sqlite", "sequential": seq, "concurrent": conc,
              "concurrent_wrk": wrk}
    out = REPO / "bench" / "results" / f"identifiers-{result['store']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
