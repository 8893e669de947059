"""``stuf-bridge notifications subscribe`` against a Notificaties API stand-in that checks the callback the way the
reference implementation does (a ``kanaal: test`` POST with the auth must get 204, one without must get 403), with
the gateway running at its public URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from stuf_bridge.cli import main
from tests.support.legacy import closed_port
from tests.support.server import running_gateway

CLIENT, SECRET = "stuf-bridge-nrc", "the-secret-of-stuf-bridge-at-open-notificaties"
AUTH = "Token abonnement-auth-0123456789"


class Nrc:
    def __init__(self) -> None:
        self.abonnementen: dict[str, dict[str, Any]] = {}
        self.checks: list[tuple[int, int]] = []  # (with auth, without auth) status of each callback check
        self.url = ""


def check(url: str, notification: dict[str, Any], headers: dict[str, str]) -> int:
    """The status the callback gives a test notification (0: nothing answered)."""
    try:
        return httpx.post(url, json=notification, headers=headers).status_code
    except httpx.HTTPError:
        return 0


@contextmanager
def nrc_stand_in() -> Iterator[Nrc]:
    nrc = Nrc()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            header = self.headers.get("authorization", "")
            try:
                claims = jwt.decode(header.removeprefix("Bearer "), SECRET, algorithms=["HS256"])
            except jwt.PyJWTError:
                return False
            return bool(claims.get("client_id") == CLIENT)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if not self._authorized():
                self._json(403, {"detail": "no"})
                return
            self._json(200, list(nrc.abonnementen.values()))

        def do_POST(self) -> None:  # noqa: N802
            self._store(None)

        def do_PUT(self) -> None:  # noqa: N802
            self._store(self.path.rsplit("/", 1)[-1])

        def _store(self, key: str | None) -> None:
            if not self._authorized():
                self._json(403, {"detail": "no"})
                return
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            test = {"kanaal": "test", "hoofdObject": "http://x", "resource": "test", "resourceUrl": "http://x",
                    "actie": "create", "aanmaakdatum": "2024-01-01T00:00:00Z", "kenmerken": {}}
            with_auth = check(body["callbackUrl"], test, {"Authorization": body["auth"]})
            without = check(body["callbackUrl"], test, {})
            nrc.checks.append((with_auth, without))
            if (with_auth, without) != (204, 403):
                self._json(400, {"detail": "callback", "invalidParams": [
                    {"name": "callbackUrl", "reason": f"test gave {with_auth}/{without}"}]})
                return
            key = key or str(len(nrc.abonnementen) + 1)
            nrc.abonnementen[key] = {"url": f"{nrc.url}/api/v1/abonnement/{key}", **body}
            self._json(200 if self.command == "PUT" else 201, nrc.abonnementen[key])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    nrc.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield nrc
    finally:
        server.shutdown()
        server.server_close()


def subscribe(env: dict[str, str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_")}
    return subprocess.run([sys.executable, "-m", "stuf_bridge", "notifications", "subscribe", "--data-dir",
                           str(data_dir)], capture_output=True, text=True, timeout=120, env={**clean, **env})


def test_subscribe_registers_one_abonnement_and_updates_it_when_run_again(tmp_path: Path) -> None:
    port = int(closed_port().rsplit(":", 1)[1])
    public = f"http://127.0.0.1:{port}"
    with nrc_stand_in() as nrc:
        notifications = {"callback_auth": AUTH, "nrc_url": f"{nrc.url}/api/v1", "nrc_client_id": CLIENT,
                         "nrc_secret": SECRET, "bronorganisatie": "002564440"}
        env = {"STUF_BRIDGE_NOTIFICATIONS": json.dumps(notifications), "STUF_BRIDGE_PUBLIC_URL": public}
        with running_gateway(tmp_path / "data", env=env, port=port):
            first = subscribe(env, tmp_path / "data")
            assert first.returncode == 0, first.stderr
            assert "abonnement aangemaakt" in first.stdout and f"{public}/notificaties/callback" in first.stdout
            second = subscribe(env, tmp_path / "data")
            assert second.returncode == 0, second.stderr
            assert "abonnement bijgewerkt" in second.stdout
        assert nrc.checks == [(204, 403), (204, 403)]
        [abonnement] = nrc.abonnementen.values()
        assert abonnement["callbackUrl"] == f"{public}/notificaties/callback" and abonnement["auth"] == AUTH
        assert abonnement["kanalen"] == [
            {"naam": "zaken", "filters": {"bronorganisatie": "002564440"}},
            {"naam": "documenten", "filters": {"bronorganisatie": "002564440"}},
            {"naam": "besluiten", "filters": {"verantwoordelijke_organisatie": "002564440"}},
        ]
        # the gateway gone: the Notificaties API refuses the abonnement, and the command says why
        refused = subscribe(env, tmp_path / "data")
        assert refused.returncode == 1 and "callbackUrl" in refused.stderr


@pytest.mark.parametrize(("settings", "missing"), [
    ({}, "public_url, notifications.nrc_url, notifications.callback_auth"),
    ({"STUF_BRIDGE_PUBLIC_URL": "http://gw.test"}, "notifications.nrc_url, notifications.callback_auth"),
])
def test_subscribe_says_what_is_missing(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path, settings: dict[str, str], missing: str) -> None:
    for key in list(os.environ):
        if key.startswith("STUF_BRIDGE_"):
            monkeypatch.delenv(key)
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    assert main(["notifications", "subscribe", "--data-dir", str(tmp_path)]) == 1
    assert f"stel eerst in: {missing}" in capsys.readouterr().err


def test_subscribe_says_when_the_notificaties_api_cannot_be_reached(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("STUF_BRIDGE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("STUF_BRIDGE_PUBLIC_URL", "http://gw.test")
    monkeypatch.setenv("STUF_BRIDGE_NOTIFICATIONS", json.dumps({"nrc_url": closed_port(), "callback_auth": AUTH}))
    assert main(["notifications", "subscribe", "--data-dir", str(tmp_path)]) == 1
    assert "niet bereikbaar" in capsys.readouterr().err
