"""``stuf-bridge dry-run`` against the configured ZGW backend: a real backend process (``stuf-bridge zgw serve``)
answers the catalogue look-ups, read-only; the writes are kept back, and the backend holds nothing afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from stuf_bridge.zgw.auth import JwtAuth
from tests.operations.messages import creeer_zaak
from tests.support.server import running_gateway

AUTH = JwtAuth("stuf-bridge", "stuf-bridge-demo-secret-not-for-production")  # zgw serve's demo credentials


def _count(zgw_url: str, path: str) -> int:
    answer = httpx.get(f"{zgw_url}{path}", auth=AUTH, headers={"Accept-Crs": "EPSG:4326"}, timeout=30)
    answer.raise_for_status()
    data = answer.json()
    return int(data["count"]) if isinstance(data, dict) else len(data)


def test_dry_run_against_the_configured_backend_writes_nothing(tmp_path: Path) -> None:
    message = tmp_path / "creeerZaak.xml"
    message.write_bytes(creeer_zaak(identificatie="0363ZK-DRY-BACKEND", referentienummer="dry-backend")[0])
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve")) as zgw_url:
        before = {path: _count(zgw_url, path) for path in ("/zaken/api/v1/zaken", "/zaken/api/v1/rollen",
                                                           "/zaken/api/v1/statussen")}
        env = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_")}
        env.update({"STUF_BRIDGE_ZGW_URL": zgw_url, "STUF_BRIDGE_DEFAULT_RSIN": "002220647"})
        done = subprocess.run([sys.executable, "-m", "stuf_bridge", "dry-run", str(message), "--data-dir",
                               str(tmp_path / "gateway")], env=env, capture_output=True, text=True, timeout=120)
        out = done.stdout
        assert done.returncode == 0, out + done.stderr
        # the configured backend answered the catalogue look-ups, read-only
        assert f"backend:     {zgw_url} (read-only:" in out and "writes kept back)" in out
        assert "GET /catalogi/api/v1/zaaktypen?" in out and "-> 200" in out
        # the writes are shown with their bodies, and were not sent
        assert "POST /zaken/api/v1/zaken -> 201 (not sent: dry-run)" in out
        assert '"identificatie": "0363ZK-DRY-BACKEND"' in out
        assert "POST /zaken/api/v1/rollen -> 201 (not sent: dry-run)" in out
        # the backend holds nothing new, and never saw a write
        assert {path: _count(zgw_url, path) for path in before} == before
        assert _count(zgw_url, "/zaken/api/v1/zaken?identificatie=0363ZK-DRY-BACKEND") == 0
    assert not (tmp_path / "gateway").exists()  # nor did the gateway keep a store of its own


async def test_the_read_only_backend_sends_reads_and_keeps_writes_back() -> None:
    from stuf_bridge.trace.tools import ReadOnlyBackend

    sent: list[str] = []

    def backend(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json={"results": [], "count": 0})

    transport = ReadOnlyBackend(httpx.MockTransport(backend))
    async with httpx.AsyncClient(transport=transport, base_url="http://zgw") as client:
        assert (await client.get("/catalogi/api/v1/zaaktypen?identificatie=X")).status_code == 200
        assert (await client.post("/zaken/api/v1/zaken/_zoek", json={"bronorganisatie": "1"})).status_code == 200
        made = await client.post("/zaken/api/v1/zaken", json={"identificatie": "Z1"})
        assert made.status_code == 201 and made.json()["identificatie"] == "Z1"
        url = made.json()["url"]
        assert url.startswith("http://zgw/zaken/api/v1/zaken/") and (await client.get(url)).json() == made.json()
        patched = await client.patch(url, json={"omschrijving": "o"})
        assert patched.json() == {**made.json(), "omschrijving": "o"}
        assert (await client.post(f"{url}/lock")).json()["lock"]
        assert (await client.delete(url)).status_code == 204 and (await client.get(url)).status_code == 404
    assert sent == ["GET /catalogi/api/v1/zaaktypen", "POST /zaken/api/v1/zaken/_zoek"]
    assert transport.kept_back == ["POST http://zgw/zaken/api/v1/zaken", f"PATCH {url}", f"POST {url}/lock",
                                   f"DELETE {url}"]
