"""A slow HTTP proxy between a real gateway process and a real ZGW backend process: every request is held back a
moment before it is passed on (writes longer than reads), and passed on even when the gateway is gone by then —
as a request already on its way to a slow backend is. For the kill -9 tests and bench/recovery_bench.py.

``lose``: the numbers of the writes (counted from 1 since the proxy started) whose answer is lost: the backend
does the write, then the proxy closes the gateway's connection without answering."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A killed gateway's connections reset: expected here, not worth a traceback."""


class SlowProxy:
    def __init__(self, backend: str, *, write_delay: float = 0.15, read_delay: float = 0.02):
        target = urlsplit(backend)
        self.host, self.port = target.hostname or "127.0.0.1", target.port or 80
        self.write_delay, self.read_delay = write_delay, read_delay
        self.writes = 0
        self.lose: set[int] = set()
        #: called with (method, path) once the backend did a request, before its answer goes back (a test kills the
        #: gateway there: the write is done, the gateway never learns it)
        self.on_done: Callable[[str, str], None] | None = None
        #: called with (method, path) as each request arrives, before it is held back and passed on (a test kills
        #: the gateway at a chosen request)
        self.on_request: Callable[[str, str], None] | None = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                write = self.command in ("POST", "PUT", "PATCH", "DELETE")
                if proxy.on_request is not None:
                    proxy.on_request(self.command, self.path)
                number = 0
                if write:
                    proxy.writes += 1
                    number = proxy.writes
                time.sleep(proxy.write_delay if write else proxy.read_delay)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                connection = http.client.HTTPConnection(proxy.host, proxy.port, timeout=120)
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    data = response.read()
                finally:
                    connection.close()
                if proxy.on_done is not None:
                    proxy.on_done(self.command, self.path)
                if number in proxy.lose:  # done by the backend, its answer lost on the way back
                    self.close_connection = True
                    return
                try:
                    self.send_response(response.status)
                    for key, value in response.getheaders():
                        if key.lower() not in _HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the gateway is gone: the write was done all the same
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> SlowProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
