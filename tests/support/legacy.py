"""The other side of side-by-side tests: a legacy zaaksysteem.

* ``running_legacy``: a second ``stuf-bridge serve`` in translate mode on its own data directory and embedded
  backend — a faithful ZDS server (both dialects, both SOAP versions, StUF faults, documents, MTOM);
* ``StandIn``: a small legacy stand-in on a free port that misbehaves on request, one behaviour per path
  (``/<behaviour>/<service>``): ``ok`` (records the request, answers a fixed SOAP answer), ``fault`` (a StUF Fo02 with
  HTTP 500), ``slow`` (answers after ``slow_seconds``), ``html`` (a 502 HTML page), ``empty`` (an empty 502), ``sink``
  (reads any size, answers a Bv03), ``source`` (a La01 carrying ``?size=`` bytes of document, streamed);
* ``running_proxy``: the gateway under test as a process (``stuf-bridge serve`` with a config file whose routing
  default is ``proxy``): everything proxied to its ``legacy`` settings;
* ``closed_port``: an address where nothing listens (a legacy that is down).
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from stuf_bridge.stuf.namespaces import SOAP11, SOAP12, STUF, ZKN
from stuf_bridge.stuf.registry import Service

from .server import running_gateway

REPO = Path(__file__).resolve().parents[2]

OK_ANSWER = f"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="{SOAP11}"><s:Body><StUF:Bv03Bericht xmlns:StUF="{STUF}"><StUF:stuurgegevens>
<StUF:berichtcode>Bv03</StUF:berichtcode></StUF:stuurgegevens></StUF:Bv03Bericht></s:Body></s:Envelope>""".encode()
FAULT_ANSWER = f"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="{SOAP11}"><s:Body><s:Fault><faultcode>s:Client</faultcode>
<faultstring>Object niet gevonden</faultstring><detail><StUF:Fo02Bericht xmlns:StUF="{STUF}">
<StUF:stuurgegevens><StUF:berichtcode>Fo02</StUF:berichtcode></StUF:stuurgegevens>
<StUF:body><StUF:code>StUF064</StUF:code><StUF:plek>client</StUF:plek>
<StUF:omschrijving>Object niet gevonden</StUF:omschrijving></StUF:body></StUF:Fo02Bericht></detail></s:Fault>
</s:Body></s:Envelope>""".encode()
HTML_502 = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
BLOCK = os.urandom(3 << 20)  # the ``source`` document is this block repeated (base64 of 3 MiB: whole lines)
BLOCK_B64 = base64.b64encode(BLOCK)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes  # the first MiB
    size: int


@dataclass
class StandIn:
    slow_seconds: float = 3.0
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def endpoints(self, behaviour: str) -> dict[str, str]:
        return {service.value: f"{self.url}/{behaviour}/{service.value}" for service in Service}


def _handler(stand_in: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK (headers, then body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if "wsdl" in (urlsplit(self.path).query or "") and not self.path.startswith("/html"):
                self._answer(200, "text/xml", b"<definitions/>")
            else:
                self._answer(404, "text/plain", b"not here")

        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            behaviour = parts.path.strip("/").split("/")[0]
            size, head = 0, bytearray()
            left = int(self.headers.get("content-length", "0"))
            while left:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
                size += len(chunk)
                if len(head) < 1 << 20:
                    head += chunk[: (1 << 20) - len(head)]
            stand_in.seen.append(Seen(parts.path, {k.lower(): v for k, v in self.headers.items()}, bytes(head), size))
            if behaviour == "slow":
                time.sleep(stand_in.slow_seconds)
            if behaviour in ("ok", "slow", "sink"):
                self._answer(200, "text/xml", OK_ANSWER)
            elif behaviour == "fault":
                self._answer(500, "text/xml; charset=utf-8", FAULT_ANSWER)
            elif behaviour == "html":
                self._answer(502, "text/html", HTML_502)
            elif behaviour == "empty":
                self._answer(502, None, b"")
            elif behaviour == "source":
                self._source(int(parse_qs(parts.query).get("size", ["0"])[0]))
            else:
                self._answer(404, "text/plain", b"unknown behaviour")

        def _answer(self, status: int, content_type: str | None, body: bytes) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _source(self, blocks: int) -> None:
            """A La01 whose inhoud is ``blocks`` times BLOCK, written piece by piece."""
            before, after = lezen_answer_parts()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(before) + blocks * len(BLOCK_B64) + len(after)))
            self.end_headers()
            self.wfile.write(before)
            for _ in range(blocks):
                self.wfile.write(BLOCK_B64)
            self.wfile.write(after)

    return Handler


def lezen_answer_parts() -> tuple[bytes, bytes]:
    answer = f"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="{SOAP11}"><s:Body><ZKN:edcLa01 xmlns:ZKN="{ZKN}" xmlns:StUF="{STUF}">
<ZKN:stuurgegevens><StUF:berichtcode>La01</StUF:berichtcode></ZKN:stuurgegevens>
<ZKN:antwoord><ZKN:object StUF:entiteittype="EDC"><ZKN:identificatie>0363D1</ZKN:identificatie>
<ZKN:inhoud StUF:bestandsnaam="groot.bin">@</ZKN:inhoud></ZKN:object></ZKN:antwoord></ZKN:edcLa01></s:Body>
</s:Envelope>"""
    before, _, after = answer.partition("@")
    return before.encode(), after.encode()


@contextmanager
def stand_in(slow_seconds: float = 3.0) -> Iterator[StandIn]:
    legacy = StandIn(slow_seconds=slow_seconds)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(legacy))
    server.daemon_threads = True
    legacy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield legacy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def closed_port() -> str:
    """The URL of a port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def running_legacy(data_dir: Path, pid: list[int] | None = None, timeout: float = 30.0) -> Iterator[dict[str, str]]:
    """A stuf-bridge in translate mode with its own embedded backend: the legacy ZDS endpoints by service."""
    with running_gateway(data_dir, pid=pid, timeout=timeout) as url:
        yield {service.value: f"{url}/zds/{service.value}" for service in Service}


@contextmanager
def running_proxy(data_dir: Path, endpoints: dict[str, str], *, timeout: float = 30.0,
                  env: dict[str, str] | None = None, pid: list[int] | None = None) -> Iterator[str]:
    """The gateway under test as a process — ``stuf-bridge serve`` with a YAML config file as a municipality writes
    it: a ``legacy:`` side and a routing table whose default is ``proxy`` — proxying every message to ``endpoints``;
    its base URL. Its ZGW backend is a closed port: anything that reached ZGW instead of legacy would fail."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "stuf-bridge.yaml"
    config.write_text(yaml.safe_dump({
        "zgw_url": closed_port(),
        "legacy": {"endpoints": endpoints, "timeout": timeout},
        "routing": {"default": "proxy"},
    }), encoding="utf-8")
    with running_gateway(data_dir, env={"STUF_BRIDGE_CONFIG": str(config), **(env or {})}, pid=pid) as url:
        yield url


def as_soap12(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A SOAP 1.1 test message as SOAP 1.2: the envelope namespace, and the action in the Content-Type."""
    action = headers["SOAPAction"].strip('"')
    return (body.replace(SOAP11.encode(), SOAP12.encode()),
            {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'})
