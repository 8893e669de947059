"""A legacy subscriber stand-in: an OntvangAsynchroon endpoint on a free port that records every kennisgeving it
accepts (answering Bv03), and can be made to fail: ``down`` (HTTP 503, an HTML page as a proxy in front of a stopped
system gives) or ``fault`` (a StUF Fo03 with plek client). One stand-in serves several subscribers, one per path.

Its VrijeBerichten keep document checkouts as a DMS does: a checkout of a document that is checked out is refused
(a fault with plek client), updateZaakdocument and cancelCheckout need the checkout's checkedOutId and end it.
``fail_updates`` / ``fail_cancels``: that many of the next updateZaakdocument / cancelCheckout requests get an HTTP
503 and change nothing."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lxml import etree

from stuf_bridge.stuf.namespaces import SOAP11, STUF, ZKN
from tests.support.legacy import FAULT_ANSWER, OK_ANSWER


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, {"StUF": STUF, "ZKN": ZKN})
    return found.text if found is not None else None


@dataclass
class Kennisgeving:
    path: str
    soap_action: str
    body: bytes

    @property
    def message(self) -> etree._Element:
        return etree.fromstring(self.body)[0][0]

    @property
    def operation(self) -> str:
        return self.soap_action.strip('"').rsplit("/", 1)[-1]

    @property
    def mutatiesoort(self) -> str | None:
        return _text(self.message, "ZKN:parameters/StUF:mutatiesoort")

    @property
    def referentienummer(self) -> str | None:
        return _text(self.message, "ZKN:stuurgegevens/StUF:referentienummer")

    @property
    def tijdstip(self) -> str:
        return _text(self.message, "ZKN:stuurgegevens/StUF:tijdstipBericht") or ""

    @property
    def objects(self) -> list[etree._Element]:
        return list(self.message.iter(f"{{{ZKN}}}object"))  # an updateZaakdocument_Di02 has them in edcLk02

    @property
    def zaak(self) -> str | None:
        """The zaak's identificatie (the object's, or for a document the zaak it is relevant for)."""
        if not self.objects:  # a checkout
            return None
        obj = self.objects[-1]
        if obj.get(f"{{{STUF}}}entiteittype") == "EDC":
            return _text(obj, "ZKN:isRelevantVoor/ZKN:gerelateerde/ZKN:identificatie")
        return _text(obj, "ZKN:identificatie")

    @property
    def content(self) -> bytes | None:
        text = _text(self.objects[-1], "ZKN:inhoud")
        return base64.b64decode(text) if text is not None else None


@dataclass
class Subscriber:
    url: str = ""
    mode: str = "ok"  # ok | down | fault
    modes: dict[str, str] = field(default_factory=dict)  # per subscriber (path), over ``mode``
    received: list[Kennisgeving] = field(default_factory=list)
    refused: int = 0
    checkouts: int = 0
    locks: dict[str, str] = field(default_factory=dict)  # document identificatie -> checkedOutId held
    fail_updates: int = 0
    fail_cancels: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def endpoint(self, name: str) -> str:
        return f"{self.url}/{name}/OntvangAsynchroon"

    def of(self, name: str, zaak: str | None = None) -> list[Kennisgeving]:
        with self.lock:
            return [k for k in self.received if k.path.split("/")[1] == name and (zaak is None or k.zaak == zaak)]


BV02_ANSWER = f"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="{SOAP11}"><s:Body><StUF:Bv02Bericht xmlns:StUF="{STUF}"><StUF:stuurgegevens>
<StUF:berichtcode>Bv02</StUF:berichtcode></StUF:stuurgegevens></StUF:Bv02Bericht></s:Body></s:Envelope>""".encode()


def checkout_answer(checked_out_id: str) -> bytes:
    """A geefZaakdocumentbewerken_Du02 with its checkedOutId (the rest of the document left out)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="{SOAP11}"><s:Body><ZKN:geefZaakdocumentbewerken_Du02 xmlns:ZKN="{ZKN}" xmlns:StUF="{STUF}">
<ZKN:stuurgegevens><StUF:berichtcode>Du02</StUF:berichtcode></ZKN:stuurgegevens>
<ZKN:parameters><ZKN:checkedOutId>{checked_out_id}</ZKN:checkedOutId></ZKN:parameters>
</ZKN:geefZaakdocumentbewerken_Du02></s:Body></s:Envelope>""".encode()


@contextmanager
def subscriber_stand_in() -> Iterator[Subscriber]:
    state = Subscriber()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                body = bytearray()
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    body.extend(self.rfile.read(size))
                    self.rfile.readline()
            else:
                body = bytearray(self.rfile.read(int(self.headers.get("content-length") or 0)))
            mode = state.modes.get(self.path.split("/")[1], state.mode)
            if mode == "down":
                with state.lock:
                    state.refused += 1
                self._answer(503, "text/html", b"<html><body>503 Service Unavailable</body></html>")
                return
            if mode == "fault":
                with state.lock:
                    state.refused += 1
                self._answer(500, "text/xml; charset=utf-8", FAULT_ANSWER)
                return
            action = self.headers.get("soapaction", "")
            with state.lock:
                state.received.append(Kennisgeving(self.path, action, bytes(body)))
                answer = self._vrije_berichten(action, bytes(body)) if "VrijeBerichten" in self.path else None
            if answer is not None:
                self._answer(*answer)
            else:
                self._answer(200, "text/xml; charset=utf-8", OK_ANSWER)

        def _vrije_berichten(self, action: str, body: bytes) -> tuple[int, str, bytes]:
            """checkout, updateZaakdocument, cancelCheckout against the checkouts held (under ``state.lock``)."""
            xml = "text/xml; charset=utf-8"
            root = etree.fromstring(body)
            document = root.findtext(".//{*}identificatie") or ""
            given = root.findtext(".//{*}checkedOutId")
            if "geefzaakdocumentbewerken" in action.lower():
                if document in state.locks:
                    state.refused += 1
                    return 500, xml, FAULT_ANSWER  # plek client: already checked out
                state.checkouts += 1
                state.locks[document] = f"co-{state.checkouts}"
                return 200, xml, checkout_answer(state.locks[document])
            failing = "fail_updates" if "updateZaakdocument" in action else "fail_cancels"
            if getattr(state, failing) > 0:
                setattr(state, failing, getattr(state, failing) - 1)
                state.refused += 1
                return 503, "text/html", b"<html><body>503 Service Unavailable</body></html>"
            if state.locks.get(document) != given:
                state.refused += 1
                return 500, xml, FAULT_ANSWER  # plek client: not checked out with that id
            del state.locks[document]
            return 200, xml, BV02_ANSWER

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
