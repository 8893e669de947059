"""Large documents through real HTTP (uvicorn): the bytes arrive whole, and memory does not grow with their size."""

from __future__ import annotations

import base64
import hashlib
import itertools
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import STUF

from .conftest import Seen, recording_handler
from .messages import Generated, base64_lines, headers, lezen, voeg_toe_parts
from .test_gateway import streaming_reader

MB = 1 << 20


def body_of(document: Generated, referentienummer: str) -> Iterator[bytes]:
    before, after = voeg_toe_parts(referentienummer=referentienummer)
    return itertools.chain([before], base64_lines(document.chunks()), [after])


def send(url: str, document: Generated, referentienummer: str) -> tuple[httpx.Response, int]:
    """POST a voegZaakdocumentToe whose base64 is produced while it is sent; the traced peak of Python memory."""
    tracemalloc.start()
    try:
        response = httpx.post(f"{url}/zds/OntvangAsynchroon", content=body_of(document, referentienummer),
                              headers=headers(), timeout=120)
        return response, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_large_document_streams_through_http_in_flat_memory(live_app: Any) -> None:
    seen = Seen()
    url, _ = live_app({"voegZaakdocumentToe": recording_handler(seen)})
    small, large = Generated(4 * MB, seed=1), Generated(64 * MB, seed=2)
    warm_up = Generated(64 * 1024, seed=3)  # first-message allocations (caches, lazy set-up) are not the document's
    assert send(url, warm_up, "http-warm")[0].status_code == 200
    small_response, small_peak = send(url, small, "http-klein")
    large_response, large_peak = send(url, large, "http-groot")
    for response in (small_response, large_response):
        assert response.status_code == 200, response.text
        assert parse_answer(response.content).tag == f"{{{STUF}}}Bv03Bericht"
    assert [d["size"] for d in seen.documents] == [warm_up.size, small.size, large.size]
    assert [d["sha256"] for d in seen.documents][1:] == [small.hash.hexdigest(), large.hash.hexdigest()]
    assert all(d["streamed"] for d in seen.documents[1:])
    # 16x the document (87 MB of base64 on the wire), the same memory: nothing is held whole. The peak (client and
    # server together, about 12 MiB here) is a handful of 1 MiB buffers in flight, whatever the size; it varies by a
    # few MiB from run to run, hence the margin — a document held whole would be 64 MiB on its own.
    assert large_peak < 24 * MB, f"peak {large_peak / MB:.1f} MiB for a 64 MiB document"
    assert large_peak < small_peak + 8 * MB, (small_peak / MB, large_peak / MB)


class InhoudDecoder:
    """Decodes the base64 text of the one inhoud of an answer as its pieces arrive: sha256 and size."""

    def __init__(self) -> None:
        self.head, self.pending, self.inside, self.done = b"", b"", False, False
        self.digest, self.size = hashlib.sha256(), 0

    def feed(self, chunk: bytes) -> None:
        if self.done:
            return
        if not self.inside:
            self.head += chunk
            _, found, rest = self.head.partition(b"<ZKN:inhoud")
            if not found or b">" not in rest:
                return
            chunk, self.inside = rest.split(b">", 1)[1], True
        text, end, _ = chunk.partition(b"<")
        text = self.pending + text
        usable = len(text) - len(text) % 4
        decoded = base64.b64decode(text[:usable], validate=True)
        self.pending = text[usable:]
        self.digest.update(decoded)
        self.size += len(decoded)
        self.done = bool(end)


def read_back(client: httpx.Client, url: str) -> InhoudDecoder:
    """geefZaakdocumentLezen of the test document, its answer decoded as it streams in (never held whole)."""
    decoder = InhoudDecoder()
    with client.stream("POST", f"{url}/zds/BeantwoordVraag", content=lezen(),
                       headers=headers("geefZaakdocumentLezen_Lv01")) as answer:
        assert answer.status_code == 200
        for chunk in answer.iter_raw():
            decoder.feed(chunk)
    return decoder


def test_large_answer_streams_out_over_http(live_app: Any) -> None:
    document = Generated(48 * MB, seed=3)
    data = b"".join(document.chunks())  # the source in the handler: held by the test, not by the gateway
    url, _ = live_app({"geefZaakdocumentLezen": streaming_reader(data)})
    tracemalloc.start()
    try:
        decoder = InhoudDecoder()
        with httpx.stream("POST", f"{url}/zds/BeantwoordVraag", content=lezen(),
                          headers=headers("geefZaakdocumentLezen_Lv01"), timeout=120) as response:
            assert response.status_code == 200
            announced = int(response.headers["content-length"])
            received = 0
            for chunk in response.iter_raw():
                received += len(chunk)
                decoder.feed(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert received == announced
    assert decoder.done
    assert decoder.size == len(data) and decoder.digest.hexdigest() == hashlib.sha256(data).hexdigest()
    # the answer is 64 MB of base64: neither the answer nor the base64 is ever whole in memory (the source is
    # counted too: it was allocated before tracing started)
    assert peak < 16 * MB, f"peak {peak / MB:.1f} MiB"


def test_source_failing_mid_stream_cuts_the_answer_off(live_app: Any) -> None:
    data = bytes(5 * MB)
    url, _ = live_app({"geefZaakdocumentLezen": streaming_reader(data, fail_at=2 * MB)})
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream(  # fewer bytes than the announced Content-Length
            "POST", f"{url}/zds/BeantwoordVraag", content=lezen(), headers=headers("geefZaakdocumentLezen_Lv01"),
            timeout=60) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            received += chunk
    assert 2 * MB < len(received) < int(response.headers["content-length"])
    assert not received.rstrip().endswith(b"Envelope>")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory from /proc")
def test_real_document_operations_round_trip_a_large_document(tmp_path: Path) -> None:
    """`stuf-bridge serve` with its embedded backend: voegZaakdocumentToe of 48 MB streamed in, geefZaakdocumentLezen
    streamed out, byte-identical; the gateway process's peak memory grows far less than the document."""
    from stuf_bridge.operations import default_handlers

    if not {"voegZaakdocumentToe", "geefZaakdocumentLezen"} <= default_handlers().keys():
        pytest.skip("the document operations are not there yet")
    from ..operations.messages import creeer_zaak
    from ..support.server import memory_kib, running_gateway

    pid: list[int] = []
    document = Generated(48 * MB, seed=5)
    with running_gateway(tmp_path / "data", pid=pid) as url, httpx.Client(timeout=120) as client:
        body, zaak_headers = creeer_zaak(identificatie="0363ZK1", referentienummer="stream-zaak")
        assert client.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=zaak_headers).status_code == 200
        before = memory_kib(pid[0])
        response = client.post(f"{url}/zds/OntvangAsynchroon", content=body_of(document, "stream-echt"),
                               headers=headers())
        assert response.status_code == 200, response.text
        decoder = read_back(client, url)
        after = memory_kib(pid[0])
    assert decoder.done and decoder.size == document.size
    assert decoder.digest.hexdigest() == document.hash.hexdigest()
    grown = (after["VmHWM"] - before["VmRSS"]) / 1024
    assert grown < 40, f"the gateway grew {grown:.0f} MiB for a 48 MiB document (66 MB of base64 each way)"
