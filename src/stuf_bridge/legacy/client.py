"""The one HTTP client towards the legacy zaaksysteem.

Plain httpx rather than zeep: the gateway never composes a legacy call from a WSDL. In proxy mode it sends the
client's own bytes; for messages it builds itself (replicate, back-fill) it has the whole envelope already. What is
left is an HTTP POST with the SOAP headers, TLS and credentials, and a reading of the answer — a zeep client would
add a WSDL fetch at start-up and a second XML stack without doing any of that better.

* :meth:`LegacyClient.forward` streams: the request from an async iterator or a spool file, the answer as a
  :class:`LegacyStream` whose bytes are read as the caller passes them on (nothing whole in memory);
* :meth:`LegacyClient.call` sends a whole envelope and reads the whole answer (:class:`~.answers.LegacyAnswer`),
  telling a StUF fault from a normal answer.

Transport failures become the typed errors of ``legacy/errors.py``, each naming the endpoint.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator
from types import TracebackType
from typing import IO

import anyio
import httpx
import structlog

from .. import correlation
from .. import trace as tracing
from ..settings import Settings
from ..stuf.registry import Service
from .answers import LegacyAnswer, read_answer
from .config import LegacySettings
from .errors import LegacyError, LegacyNotConfigured, LegacyTimeout, LegacyUnavailable

log = structlog.get_logger(__name__)

CHUNK = 1 << 20  # pieces read from a spool file
# Answer headers passed on besides Content-Type and Content-Length. The gateway asks for an uncompressed answer; a
# legacy that compresses anyway is relayed as it is, with its Content-Encoding.
KEPT_HEADERS = ("content-encoding",)

Body = bytes | AsyncIterable[bytes] | IO[bytes]


class LegacyStream:
    """A legacy answer whose body is still on the wire. :meth:`peek` reads a first part (kept, and sent first by
    :meth:`chunks`); :meth:`chunks` yields the raw bytes and closes the response when it ends or is closed."""

    def __init__(self, endpoint: str, response: httpx.Response, timeout: float):
        self.endpoint = endpoint
        self.status = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
        length = response.headers.get("content-length")
        self.length = int(length) if length is not None and length.isdigit() else None
        self.complete = False  # the whole body has been peeked
        self._response = response
        self._raw = response.aiter_raw()
        self._head = bytearray()
        self._timeout = timeout
        self.note: tracing.CallNote | None = None  # the call in the message's trace, when it is traced

    async def peek(self, at_least: int) -> bytes:
        """The body's first ``at_least`` bytes (or all of it, when shorter: then ``complete`` is set)."""
        while len(self._head) < at_least and not self.complete:
            try:
                chunk = await anext(self._raw, None)
            except httpx.TransportError as exc:
                await self.aclose()
                raise transport_error(self.endpoint, exc, self._timeout) from exc
            if chunk is None:
                self.complete = True
            else:
                self._head += chunk
        return bytes(self._head)

    async def read(self) -> bytes:
        """The whole body (for answers known to be small)."""
        await self.peek(1 << 62)
        await self.aclose()
        return bytes(self._head)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            if self._head:
                head, self._head = bytes(self._head), bytearray()
                yield head
            if self.complete:
                return
            async for chunk in self._raw:
                yield chunk
        except httpx.TransportError as exc:
            # The answer is committed: the client can only see it cut off (uvicorn closes the connection).
            log.error("legacy_answer_broken_off", endpoint=self.endpoint, error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        await self._response.aclose()


class LegacyClient:
    """One pooled client for all legacy endpoints, opened and closed with the app (``async with``)."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self.legacy: LegacySettings = settings.legacy
        self.limits = {"max_bytes": settings.max_message_bytes, "max_depth": settings.max_xml_depth,
                       "max_document_bytes": settings.max_document_bytes}
        legacy = self.legacy
        auth = None
        if legacy.username is not None:
            password = legacy.password.get_secret_value() if legacy.password else ""
            auth = httpx.BasicAuth(legacy.username, password)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(legacy.timeout), verify=ssl_context(legacy), auth=auth, transport=transport,
            follow_redirects=False,
        )
        # an endpoint with TLS settings of its own (legacy.tls) gets a client of its own
        self._own: dict[Service, httpx.AsyncClient] = {}
        for service in legacy.endpoints:
            tls = legacy.tls_for(service)
            if tls is not None:
                self._own[service] = httpx.AsyncClient(
                    timeout=httpx.Timeout(legacy.timeout), verify=tls.ssl_context(), auth=auth, transport=transport,
                    follow_redirects=False)

    def _for(self, service: Service) -> httpx.AsyncClient:
        return self._own.get(service, self._client)

    async def __aenter__(self) -> LegacyClient:
        await self._client.__aenter__()
        for client in self._own.values():
            await client.__aenter__()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        for client in self._own.values():
            await client.__aexit__(kind, exc, tb)
        await self._client.__aexit__(kind, exc, tb)

    def endpoint(self, service: Service) -> str:
        url = self.legacy.endpoints.get(service)
        if url is None:
            configured = ", ".join(s.value for s in self.legacy.endpoints) or "geen"
            raise LegacyNotConfigured(f"legacy.endpoints.{service.value}",
                                      f"geen legacy-endpoint voor {service.value} ingesteld (wel: {configured})")
        return url

    async def forward(self, service: Service, body: Body, *, content_type: str | None, soap_action: str | None,
                      length: int | None = None) -> LegacyStream:
        """POST ``body`` to the service's legacy endpoint with the given SOAP headers; the answer still streaming.
        A spool file is read from where it stands; ``length`` becomes the Content-Length (else chunked)."""
        endpoint = self.endpoint(service)
        headers = {"accept-encoding": "identity"}
        if content_type is not None:
            headers["content-type"] = content_type
        if soap_action is not None:
            headers["soapaction"] = soap_action
        if length is not None:
            headers["content-length"] = str(length)
        correlation_id = correlation.current()
        if correlation_id is not None:  # the message this is sent for, as in the gateway's log
            headers[correlation.HEADER.lower()] = correlation_id
        content = body if isinstance(body, bytes | AsyncIterable) else _file_chunks(body)
        request = self._for(service).build_request("POST", endpoint, content=content, headers=headers)
        message = tracing.current()
        started = time.perf_counter()
        try:
            response = await self._for(service).send(request, stream=True)
        except httpx.TransportError as exc:
            error = transport_error(endpoint, exc, self.legacy.timeout)
            if message is not None:
                message.note_call(_note(service, endpoint, body, content_type, started, None, str(error)))
            raise error from exc
        stream = LegacyStream(endpoint, response, self.legacy.timeout)
        if message is not None:  # the answer streams on to the client: only call() sees (and keeps) its body
            stream.note = _note(service, endpoint, body, content_type, started, response.status_code, None)
            stream.note.response_type = stream.content_type
            message.note_call(stream.note)
        return stream

    async def call(self, service: Service, envelope: Body, *, soap_action: str | None,
                   content_type: str, length: int | None = None) -> LegacyAnswer:
        """Send an envelope (whole, or streamed from a spool or pieces: ``length`` then says its size, else it goes
        chunked); the whole answer, read (a StUF fault in ``.fault``)."""
        if isinstance(envelope, bytes):
            length = len(envelope)
        stream = await self.forward(service, envelope, content_type=content_type, soap_action=soap_action,
                                    length=length)
        body = await stream.read()
        if stream.note is not None:
            stream.note.response_body = body
            stream.note.streamed = None
            stream.note.ms = round((time.perf_counter() - stream.note.started) * 1000, 3)
        return read_answer(stream.status, stream.content_type, body, endpoint=stream.endpoint, **self.limits)

    async def probe(self, service: Service) -> str:
        """Something harmless for ``check-config``: ``GET <endpoint>?wsdl``, else the HTTP status of an empty POST.
        Raises a :class:`LegacyError` when the endpoint cannot be reached at all."""
        endpoint = self.endpoint(service)
        try:
            response = await self._for(service).get(endpoint, params={"wsdl": ""})
            if response.is_success:
                return f"GET ?wsdl: HTTP {response.status_code}"
            response = await self._for(service).post(endpoint, content=b"", headers={"content-type": "text/xml"})
            return f"lege POST: HTTP {response.status_code}"
        except httpx.TransportError as exc:
            raise transport_error(endpoint, exc, self.legacy.timeout) from exc


def _note(service: Service, endpoint: str, body: Body, content_type: str | None, started: float,
          status: int | None, error: str | None) -> tracing.CallNote:
    sent = body if isinstance(body, bytes) else None
    return tracing.CallNote(
        "legacy", service.value, "POST", endpoint, status, started, round((time.perf_counter() - started) * 1000, 3),
        error, request_body=sent, request_type=content_type,
        streamed=("response" if sent is not None else "both") if status is not None else
        (None if sent is not None else "request"),
    )


def transport_error(endpoint: str, exc: httpx.TransportError, timeout: float) -> LegacyError:
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return LegacyTimeout(endpoint, f"geen antwoord binnen {timeout:g} s ({what})")
    return LegacyUnavailable(endpoint, f"niet bereikbaar ({what})")


def ssl_context(legacy: LegacySettings) -> ssl.SSLContext | bool:
    """TLS towards legacy: only the CA bundle when one is set (else the system's trust), and the client
    certificate when set; httpx's defaults when neither is."""
    if legacy.ca_bundle is None and legacy.client_cert is None:
        return True
    context = ssl.create_default_context(cafile=str(legacy.ca_bundle) if legacy.ca_bundle else None)
    if legacy.client_cert is not None:
        context.load_cert_chain(str(legacy.client_cert), str(legacy.client_key) if legacy.client_key else None)
    return context


async def _file_chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    """A spool read in pieces; a file on disk is read in a worker thread, one in memory right here."""
    on_disk = getattr(spool, "_rolled", True)
    while True:
        chunk = await anyio.to_thread.run_sync(spool.read, CHUNK) if on_disk else spool.read(CHUNK)
        if not chunk:
            return
        yield chunk
