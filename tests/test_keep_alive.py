"""An idle client connection stays open for ``keep_alive_seconds`` (default 75 s, longer than clients keep theirs
idle), so the gateway never closes one a client is about to reuse; uvicorn's own 5 s lost requests in a storm."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.server import running_gateway

REQUEST = b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n"


def answered(sock: socket.socket) -> bytes:
    """One whole answer on this connection (headers and a Content-Length body), or b"" when it was closed."""
    sock.settimeout(10)
    try:
        sock.sendall(REQUEST)
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(65536)
            if not piece:
                return data
            data += piece
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(body) < length:
            body += sock.recv(65536)
        return data
    except (ConnectionResetError, BrokenPipeError):
        return b""


def idle_then_ask(url: str, idle: float) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        assert answered(sock).startswith(b"HTTP/1.1 200")
        time.sleep(idle)
        return answered(sock)


def test_an_idle_connection_outlives_uvicorns_five_seconds(tmp_path: Path) -> None:
    with running_gateway(tmp_path / "data") as url:
        assert idle_then_ask(url, 6.0).startswith(b"HTTP/1.1 200")


def test_the_keep_alive_is_a_setting(tmp_path: Path) -> None:
    with running_gateway(tmp_path / "data", env={"STUF_BRIDGE_KEEP_ALIVE_SECONDS": "1"}) as url:
        assert idle_then_ask(url, 2.5) == b""  # closed by the gateway after a second
