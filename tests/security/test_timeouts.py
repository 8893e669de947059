"""Finding 3: header and body timeouts. Slow-loris clients (headers sent a few bytes at a time, never finished; a
body that stops coming) are disconnected after the configured seconds, while a normal request on the same server is
answered."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from ..support.messages import di02
from ..support.server import running_gateway

TIMEOUTS = {"header_timeout_seconds": 1.0, "body_timeout_seconds": 1.0}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"STUF_BRIDGE_SECURITY": json.dumps(TIMEOUTS)}
    with running_gateway(tmp_path_factory.mktemp("timeouts") / "data", env=env) as url:
        yield url


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    return sock


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> float:
    """Seconds until the server closes the connection, sending ``trickle`` a byte at a time meanwhile."""
    started = time.monotonic()
    sock.settimeout(0.2)
    sent = 0
    while time.monotonic() - started < seconds:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - started
        if sent < len(trickle):
            try:
                sock.sendall(trickle[sent:sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
            sent += 1
    raise AssertionError(f"the connection was still open after {seconds} s")


def test_headers_never_finished_are_cut_off(gateway: str) -> None:
    with _connect(gateway) as sock:
        sock.sendall(b"POST /zds/VrijeBerichten HTTP/1.1\r\nHost: x\r\n")
        # a byte every 0.2 s keeps the connection busy, but the headers do not end: closed after about 1 s
        took = _closed_within(sock, 20, trickle=b"X-Slow: " + b"a" * 200)
    assert took < 15


def test_a_body_that_stops_coming_is_cut_off(gateway: str) -> None:
    body, headers = di02(organisatie="0363", referentienummer="slow-body")
    head = (f"POST /zds/VrijeBerichten HTTP/1.1\r\nHost: x\r\nContent-Type: {headers['Content-Type']}\r\n"
            f"SOAPAction: {headers['SOAPAction']}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with _connect(gateway) as sock:
        sock.sendall(head + body[:50])
        took = _closed_within(sock, 20)
    assert took < 15


def test_many_slow_connections_do_not_block_a_normal_request(gateway: str) -> None:
    sockets = [_connect(gateway) for _ in range(50)]
    try:
        for sock in sockets:
            sock.sendall(b"POST /zds/VrijeBerichten HTTP/1.1\r\n")
        body, headers = di02(organisatie="0363", referentienummer="normal-beside-slow")
        answer = httpx.post(f"{gateway}/zds/VrijeBerichten", content=body, headers=headers, timeout=30)
        assert answer.status_code == 200
        time.sleep(2.5)
        closed = 0
        for sock in sockets:
            sock.settimeout(5)
            try:
                closed += sock.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            except TimeoutError:  # still open after the header timeout and 5 s more: not cut off
                pass
        assert closed == len(sockets)
    finally:
        for sock in sockets:
            sock.close()
