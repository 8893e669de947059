"""Liveness and readiness apart, as Kubernetes expects them, over real HTTP; and looking at what the gateway created
in the embedded backend with ``stuf-bridge zgw get`` (no JWT written by hand)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from stuf_bridge.cli import main
from tests.operations import messages as zm
from tests.support.server import running_gateway


def test_ready_when_the_store_and_the_embedded_zgw_answer_and_a_zaak_can_be_looked_at(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("STUF_BRIDGE_") and key not in ("STUF_BRIDGE_SHARED", "STUF_BRIDGE_TEST_PG_URL"):
            monkeypatch.delenv(key)
    with running_gateway(tmp_path) as url:
        assert httpx.get(f"{url}/health", timeout=30).json() == {"status": "ok"}
        ready = httpx.get(f"{url}/ready", timeout=30)
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {
            "store": "ok", "zgw_zaken": "ok", "zgw_documenten": "ok", "zgw_catalogi": "ok", "zgw_besluiten": "ok"}}
        body, headers = zm.creeer_zaak(identificatie="0363ZK-GET-1", referentienummer="get-1")
        answer = httpx.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=headers, timeout=60)
        assert answer.status_code == 200 and b"Bv03" in answer.content
        # while the gateway runs, from the same data directory
        assert main(["zgw", "get", "zaken", "--identificatie", "0363ZK-GET-1", "--data-dir", str(tmp_path)]) == 0
        [zaak] = json.loads(capsys.readouterr().out)
        assert zaak["identificatie"] == "0363ZK-GET-1" and zaak["omschrijving"]
        assert main(["zgw", "get", "statussen", "--filter", f"zaak={zaak['url']}", "--data-dir", str(tmp_path)]) == 0
        assert len(json.loads(capsys.readouterr().out)) == 1
        assert main(["zgw", "get", "zaken", "--filter", "nonsense", "--data-dir", str(tmp_path)]) == 2


def test_unready_but_alive_when_zgw_is_unreachable(tmp_path: Path) -> None:
    env = {"STUF_BRIDGE_ZGW_URL": "http://127.0.0.1:9", "STUF_BRIDGE_DEFAULT_RSIN": "002220647",
           "STUF_BRIDGE_READY_TIMEOUT_SECONDS": "2"}
    with running_gateway(tmp_path, env=env) as url:
        assert httpx.get(f"{url}/health", timeout=30).status_code == 200  # not restarted: nothing in it is broken
        ready = httpx.get(f"{url}/ready", timeout=30)
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["store"] == "ok"
        assert all(checks[f"zgw_{api}"].startswith("http://127.0.0.1:9/") for api in
                   ("zaken", "documenten", "catalogi", "besluiten")), checks
        assert "ConnectError" in checks["zgw_zaken"]
