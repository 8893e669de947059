"""Authentication overhead per message (issue 18): the authenticate stages in-process on a SQLite (or PostgreSQL)
store, for a genereerZaakIdentificatie, once without clients and once per way of authenticating.

    python bench/auth_bench.py [--messages 400] [--out bench/results/auth-overhead.json]
                               [--store postgresql://postgres@127.0.0.1:5432/bench]

Per case: p50 and p99 of the authentication stages' work for one message (``Authenticator.transport`` and
``Authenticator.token`` on the parsed envelope), and the p50 against no clients. The UsernameToken
cases include taking the nonce in the store (one INSERT per message: the price of replay protection across
processes). Logs are silenced during the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stuf_bridge.gateway import Gateway
from stuf_bridge.security.identity import parse_subject
from stuf_bridge.security.passwords import hash_password
from stuf_bridge.security.peer import Peer
from stuf_bridge.settings import load_settings, with_demo_profile
from stuf_bridge.store import create_store
from stuf_bridge.stuf.validation import Schemas
from tests.security.helpers import with_token
from tests.support.messages import di02

PASSWORD = "een-lang-wachtwoord-voor-de-bench"
SUBJECT = "CN=zaaksysteem,O=Gemeente Bench,C=NL"
CASES: dict[str, list[dict[str, Any]]] = {
    "no clients": [],
    "basic (argon2 hash)": [{"name": "c", "basic": {"username": "c", "password_hash": hash_password(PASSWORD)}}],
    "basic (password file/inline)": [{"name": "c", "basic": {"username": "c", "password": PASSWORD}}],
    "wsse PasswordDigest": [{"name": "c", "wsse": {"username": "c", "password": PASSWORD}}],
    "wsse PasswordText": [{"name": "c", "wsse": {"username": "c", "password": PASSWORD}}],
    "certificate": [{"name": "c", "certificate": {"subject": SUBJECT}}],
    "basic + zaaktype-scoped client": [{"name": "c", "basic": {"username": "c", "password": PASSWORD},
                                        "zenders": ["0363/*"], "operations": ["genereerZaakIdentificatie"],
                                        "zaaktypen": ["MELDING-OR"]}],
}


async def run_case(name: str, clients: list[dict[str, Any]], messages: int, store_url: str | None,
                   data_dir: Path) -> dict[str, Any]:
    """The authentication stages' work per message (transport credentials, then the UsernameToken in the parsed
    envelope), timed alone: a whole message's time on a loaded machine hides differences of this size."""
    settings = with_demo_profile(load_settings(None, data_dir=data_dir, clients=clients or [
        {"name": "x", "basic": {"username": "x", "password": "y"}}], log_level="WARNING"))
    store = create_store(store_url or settings.store_url)
    await store.open()
    authenticator = Gateway(settings, store, Schemas()).authenticator
    assert authenticator is not None
    basic = "Basic " + base64.b64encode(f"c:{PASSWORD}".encode()).decode()
    peer = Peer(address="127.0.0.1", authorization=basic if name.startswith("basic") else None,
                certificate=parse_subject(SUBJECT) if name == "certificate" else None)
    timings = []
    try:
        for i in range(messages + 20):
            body, _ = di02(organisatie="0363", referentienummer=f"auth-{i}")
            if name.startswith("wsse"):
                body = with_token(body, "c", PASSWORD, digest="Digest" in name)
            envelope = etree.fromstring(body)
            started = time.perf_counter()
            if clients:
                client = await authenticator.transport(peer)
                await authenticator.token(envelope, peer, client)
            took = time.perf_counter() - started
            if i >= 20:  # warm-up: the first argon2 verification, caches, the nonce table
                timings.append(took * 1000)
    finally:
        await store.close()
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 4),
            "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 4), "messages": len(timings)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/auth-overhead.json")
    parser.add_argument("--store", default=None, help="a PostgreSQL URL (default: SQLite in a temporary directory)")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger().setLevel(logging.WARNING)
    results: dict[str, Any] = {}
    for name, clients in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            results[name] = await run_case(name, clients, args.messages, args.store, Path(tmp))
        print(f"{name:32} p50 {results[name]['p50_ms']:7.3f} ms  p99 {results[name]['p99_ms']:7.3f} ms")
    base = results["no clients"]["p50_ms"]
    for result in results.values():
        result["overhead_p50_ms"] = round(result["p50_ms"] - base, 4)
    out = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
           "store": "postgresql" if args.store else "sqlite", "operation": "genereerZaakIdentificatie",
           "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    asyncio.run(main())
