"""Async clients for the four ZGW APIs (Zaken, Documenten, Catalogi, Besluiten) behind one object.

    async with ZgwClients.from_settings(settings, embedded_base) as zgw:
        zaaktype = await zgw.catalogue.zaaktype("B1026")
        zaak = await zgw.zaken.create("zaken", {...})
        for rol in await zgw.zaken.list("rollen", {"zaak": zaak["url"]}):
            ...

Bodies go in and come out as plain JSON dicts. Every failure is a :mod:`stuf_bridge.zgw.errors` exception.
"""

from __future__ import annotations

import asyncio
import io
import json as jsonlib
import os
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Any, Self, cast

import httpx
import tenacity

from .. import correlation
from ..recovery import context as _journal
from .. import trace as tracing
from ..security import audit
from ..settings import ZGW_APIS, Settings
from .auth import DEFAULT_RENEW_AFTER, JwtAuth
from .catalogue import Catalogue
from .oauth2 import OAuth2ClientCredentials
from .errors import (
    ZgwAmbiguous,
    ZgwError,
    ZgwTimeout,
    ZgwUnavailable,
    bad_response,
    error_from_exception,
    error_from_response,
)

JSON = dict[str, Any]
JsonList = list[JSON]
CRS = "EPSG:4326"
USER_AGENT = "stuf-bridge"


# --- call recording (traces, test cases) -----------------------------------------------------------------------


@dataclass(frozen=True)
class ZgwCall:
    """One HTTP exchange with a ZGW API. ``url`` includes the query string: mask it before storing it."""

    api: str
    method: str
    url: str
    status: int | None
    elapsed_ms: float
    error: str | None = None


_RECORDER: ContextVar[list[ZgwCall] | None] = ContextVar("stuf_bridge_zgw_calls", default=None)


@contextmanager
def record_zgw_calls() -> Iterator[list[ZgwCall]]:
    """Collect the ZGW calls made in this context (this task and the tasks it starts) into the yielded list."""
    calls: list[ZgwCall] = []
    token = _RECORDER.set(calls)
    try:
        yield calls
    finally:
        _RECORDER.reset(token)


# --- one API ---------------------------------------------------------------------------------------------------


class _FileSlice(io.RawIOBase):
    """A read-only window ``[start, start + length)`` on a binary file, so httpx streams one bestandsdeel from disk
    with a known Content-Length instead of reading it into memory."""

    def __init__(self, file: IO[bytes], start: int, length: int):
        super().__init__()
        self._file = file
        self._start = start
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._length}[whence]
        self._pos = max(0, min(self._length, base + offset))
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        remaining = self._length - self._pos
        count = remaining if size is None or size < 0 else min(size, remaining)
        if count <= 0:
            return b""
        self._file.seek(self._start + self._pos)
        data = self._file.read(count)
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


_PARSED_MAX = 4096


class ZgwApiClient:
    """One ZGW API. Methods take an absolute URL or a path relative to the API root (``"zaken"``, ``"/rollen"``).

    With ``transport`` (the one ``http`` sends through), a call that neither streams its answer nor goes through a
    proxy is handed to the transport straight away: the request carries the client's headers, the token and the
    timeouts itself, and what ``httpx.AsyncClient.send`` adds around a transport (auth flow, redirects, cookies,
    event hooks) is nothing this client uses — it cost about 0.07 ms a call, 0.3 ms of a creeerZaak."""

    def __init__(
        self,
        api: str,
        http: httpx.AsyncClient,
        *,
        timeout: float | None = None,
        on_call: Callable[[ZgwCall], None] | None = None,
        auth: JwtAuth | OAuth2ClientCredentials | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        get_retries: int = 0,
        retry_backoff: float = 0.1,
        audit_user: bool = False,
    ):
        self.api = api
        self.http = http
        self.base_url = str(http.base_url).rstrip("/")
        self._timeout = timeout
        self._on_call = on_call
        self._parsed_urls: dict[str, httpx.URL] = {}
        self._auth = auth
        self._direct = transport if transport is not None and not _proxied(self.base_url) else None
        self._headers = {key.decode("ascii").lower(): value.decode("latin-1") for key, value in http.headers.raw}
        self._timeouts = http.timeout.as_dict()
        self.get_retries = get_retries
        self.retry_backoff = retry_backoff
        self.audit_user = audit_user  # the JWT's user_id/user_representation name the message's gebruiker/zender

    def __repr__(self) -> str:
        return f"ZgwApiClient({self.api!r}, {self.base_url!r})"

    def url(self, url_or_path: str) -> str:
        """The absolute URL for a URL or a path relative to the API root."""
        if url_or_path.startswith(("http://", "https://")):
            return url_or_path
        return f"{self.base_url}/{url_or_path.lstrip('/')}"

    def _parsed(self, url: str) -> httpx.URL:
        """``url`` parsed once: the same few resource URLs come back on every message (a parse is ~40% of building
        a request). Bounded: cleared when it holds more than _PARSED_MAX URLs."""
        parsed = self._parsed_urls.get(url)
        if parsed is None:
            if len(self._parsed_urls) >= _PARSED_MAX:
                self._parsed_urls.clear()
            parsed = self._parsed_urls[url] = httpx.URL(url)
        return parsed

    def owns(self, url: str) -> bool:
        """True when ``url`` lies under this API's root."""
        return url == self.base_url or url.startswith(self.base_url + "/")

    # --- plumbing ---

    def _record(self, request: httpx.Request, started: float, status: int | None, error: str | None,
                response: httpx.Response | None = None, *, streamed: bool = False) -> None:
        call = ZgwCall(
            self.api, request.method, str(request.url), status, round((time.perf_counter() - started) * 1000, 3), error
        )
        calls = _RECORDER.get()
        if calls is not None:
            calls.append(call)
        if self._on_call is not None:
            self._on_call(call)
        message = tracing.current()
        if message is not None:  # the message's trace: the bodies too (masked and cut when it is written)
            message.note_call(_call_note(self.api, call, started, request, response, streamed))

    def _build(
        self,
        method: str,
        url_or_path: str | httpx.URL,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        **other: Any,
    ) -> httpx.Request:
        """A request that carries everything it needs (headers, token, timeouts), so ``_send`` may hand it to the
        transport directly. Bodies other than JSON (``content``, multipart ``data``/``files``) are encoded by httpx."""
        try:
            url = url_or_path if isinstance(url_or_path, httpx.URL) else self._parsed(self.url(url_or_path))
            if other:
                request = self.http.build_request(method, url, params=params, json=json, headers=headers, **other)
            else:
                if params:
                    url = _with_params(url, params)
                merged = dict(self._headers)
                content = None
                if json is not None:
                    content = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
                    merged["content-type"] = "application/json"
                for key, value in (headers or {}).items():
                    merged[key.lower()] = value
                request = httpx.Request(method, url, headers=merged, content=content,
                                        extensions={"timeout": self._timeouts})
        except httpx.InvalidURL as exc:
            raise ZgwError(f"{method} {url_or_path} → ongeldige URL ({exc})", method=method,
                           url=str(url_or_path)) from exc
        if self._auth is not None:
            request.headers["Authorization"] = f"Bearer {self._auth.token()}"
        correlation_id = correlation.current()
        if correlation_id is not None:  # the message this call is made for, as in the gateway's log
            request.headers[correlation.HEADER] = correlation_id
        who = audit.current()
        if who is not None and method != "GET":  # who the write is done for, in ZGW's audit trail
            request.headers[audit.HEADER] = who.toelichting()
            if self.audit_user and self._auth is not None:
                token = self._auth.token_for(who.user_id, who.user_representation)
                request.headers["Authorization"] = f"Bearer {token}"
        return request

    async def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send; translate transport errors and non-2xx answers into :class:`ZgwError`. A write made for a claimed
        message is recorded in its step journal before and after (recovery/journal.py)."""
        journal = _journal.current() if request.method in _JOURNALLED else None
        if journal is None:
            return await self._send_plain(request, stream=stream)
        content = request.content if isinstance(request.stream, httpx.ByteStream) else None
        if content is None and (streamed := _journal.BODY.get()) is not None:  # a document with its content
            content = jsonlib.dumps(streamed, ensure_ascii=False).encode()
        seq = await journal.before(request.method, request.url, content)
        if seq is None:
            return await self._send_plain(request, stream=stream)
        try:
            response = await self._send_plain(request, stream=stream)
        except ZgwError as exc:
            await journal.after(seq, _journal_outcome(exc), None)
            raise
        except BaseException:  # cancelled mid-call: the request may have been processed
            await asyncio.shield(journal.after(seq, "unknown", None))
            raise
        await journal.after(seq, "done", None if stream else response.content)
        return response

    async def _send_plain(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send; translate transport errors and non-2xx answers into :class:`ZgwError`. A GET (idempotent) is tried
        again, ``get_retries`` times with a short exponential backoff, after a connection error or a 502/503/504;
        a write never is (the compensation and resend rules decide about those).

        The first attempt is sent as it is: the retry machinery (tenacity, some 100 µs to set up) is only started
        once it failed in a way worth trying again, so that a GET that succeeds costs nothing extra."""
        if request.method != "GET" or self.get_retries <= 0:
            return await self._send_once(request, stream=stream)
        try:
            return await self._send_once(request, stream=stream)
        except ZgwError as exc:
            if not _transient(exc):
                raise
        # attempts 2 … get_retries + 1, waiting retry_backoff × 2^(n-1) before attempt n + 1 (at most 8 × backoff)
        longest = max(self.retry_backoff * 8, 0.001)
        await asyncio.sleep(min(self.retry_backoff, longest))
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self.get_retries),
            wait=tenacity.wait_exponential(multiplier=self.retry_backoff * 2, max=longest),
            retry=tenacity.retry_if_exception(_transient),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send_once(request, stream=stream)
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    async def _send_once(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        if isinstance(self._auth, OAuth2ClientCredentials):  # fetched (or renewed) here, where awaiting is possible
            request.headers["Authorization"] = f"Bearer {await self._auth.ensure()}"
        started = time.perf_counter()
        try:
            if self._direct is not None and not stream:
                response = await self._direct.handle_async_request(request)
                response.request = request
                try:
                    await response.aread()
                finally:
                    await response.aclose()
            else:
                response = await self.http.send(request, stream=stream)
        except httpx.HTTPError as exc:
            error = error_from_exception(exc, request, self._timeout)
            self._record(request, started, None, error.summary, streamed=stream)
            raise error from exc
        if response.is_success:
            self._record(request, started, response.status_code, None, response, streamed=stream)
            return response
        try:
            if stream:
                await response.aread()
        except httpx.HTTPError as exc:
            error = error_from_exception(exc, request, self._timeout)
        else:
            error = error_from_response(response)
        finally:
            if stream:
                await response.aclose()
        self._record(request, started, response.status_code, error.summary, response)
        raise error

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise bad_response(response, "antwoord is geen JSON") from None

    async def request(
        self,
        method: str,
        url_or_path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One call; returns the decoded JSON body (None for an empty body, e.g. 204)."""
        request = self._build(method, url_or_path, params=params, json=json, headers=headers)
        return self._json(await self._send(request))

    async def send_stream(
        self, method: str, url_or_path: str, content: AsyncIterator[bytes], length: int, content_type: str
    ) -> Any:
        """One call whose body is streamed (document content, never whole in memory) with a known length;
        returns the decoded JSON answer."""
        headers = {"Content-Type": content_type, "Content-Length": str(length)}
        request = self._build(method, url_or_path, content=content, headers=headers)
        return self._json(await self._send(request))

    async def _object(self, method: str, url_or_path: str, **kwargs: Any) -> JSON:
        request = self._build(method, url_or_path, **kwargs)
        response = await self._send(request)
        body = self._json(response)
        if not isinstance(body, dict):
            raise bad_response(response, f"verwacht een JSON-object, kreeg {type(body).__name__}")
        return body

    # --- resources ---

    async def get(self, url_or_path: str, params: Mapping[str, Any] | None = None) -> JSON:
        return await self._object("GET", url_or_path, params=params)

    async def create(self, url_or_path: str, data: Mapping[str, Any]) -> JSON:
        """POST a new resource; returns it as created."""
        return await self._object("POST", url_or_path, json=data)

    async def update(self, url_or_path: str, data: Mapping[str, Any]) -> JSON:
        """PUT (full update)."""
        return await self._object("PUT", url_or_path, json=data)

    async def patch(self, url_or_path: str, data: Mapping[str, Any]) -> JSON:
        return await self._object("PATCH", url_or_path, json=data)

    async def delete(self, url_or_path: str) -> None:
        await self.request("DELETE", url_or_path)

    async def post(self, url_or_path: str, data: Any = None) -> Any:
        """POST an action (``…/lock``, ``…/unlock``, ``…/publish``); returns the JSON body or None."""
        return await self.request("POST", url_or_path, json=data)

    async def iterate(
        self,
        url_or_path: str,
        params: Mapping[str, Any] | None = None,
        *,
        method: str = "GET",
        json: Any = None,
    ) -> AsyncIterator[JSON]:
        """Yield the items of a list, following ``next`` links of paginated answers (``count/next/results``);
        a plain JSON array is yielded as is. ``method="POST"`` with ``json`` pages through a ``_zoek`` search."""
        request = self._build(method, url_or_path, params=params, json=json)
        seen: set[str] = set()
        while True:
            response = await self._send(request)
            body = self._json(response)
            if isinstance(body, list):
                for item in body:
                    yield item
                return
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise bad_response(response, "verwacht een lijst of een pagina met 'results'")
            for item in body["results"]:
                yield item
            next_url = body.get("next")
            if not next_url:
                return
            target = _same_origin(httpx.URL(str(next_url)), request.url)
            if str(target) in seen:
                raise bad_response(response, f"paginering herhaalt {target.path}?{target.query.decode()}")
            seen.add(str(target))
            request = self._build(method, target, json=json)

    async def list(
        self, url_or_path: str, params: Mapping[str, Any] | None = None, *, max_items: int | None = None
    ) -> JsonList:
        """All items of a list (all pages), or the first ``max_items``."""
        items: JsonList = []
        if max_items is not None and max_items <= 0:
            return items
        async for item in self.iterate(url_or_path, params):
            items.append(item)
            if max_items is not None and len(items) >= max_items:
                break
        return items

    async def search(self, url_or_path: str, body: Mapping[str, Any], *, max_items: int | None = None) -> JsonList:
        """All results of a ``POST …/_zoek`` search, all pages."""
        items: JsonList = []
        async for item in self.iterate(url_or_path, method="POST", json=body):
            items.append(item)
            if max_items is not None and len(items) >= max_items:
                break
        return items

    # --- content ---

    @asynccontextmanager
    async def stream_download(
        self, url_or_path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[httpx.Response]:
        """Stream binary content (``…/download``)::

        async with client.stream_download(eio["inhoud"]) as response:
            async for chunk in response.aiter_bytes():
                ...

        Errors while reading the body are translated too."""
        request = self._build("GET", url_or_path, params=params, headers={"Accept": "application/octet-stream, */*"})
        response = await self._send(request, stream=True)
        try:
            yield response
        except httpx.HTTPError as exc:
            raise error_from_exception(exc, request, self._timeout) from exc
        finally:
            await response.aclose()

    async def upload_bestandsdeel(
        self, url: str, lock: str, content: bytes | IO[bytes], *, filename: str = "inhoud"
    ) -> JSON:
        """PUT one bestandsdeel as multipart/form-data with fields ``inhoud`` and ``lock``."""
        return await self._object(
            "PUT",
            url,
            data={"lock": lock},
            files={"inhoud": (filename, content, "application/octet-stream")},
        )

    async def upload_bestandsdelen(
        self,
        bestandsdelen: Sequence[Mapping[str, Any]],
        lock: str,
        source: str | os.PathLike[str] | IO[bytes],
        *,
        filename: str = "inhoud",
    ) -> JsonList:
        """Upload a file in the parts a Documenten API handed out (``bestandsdelen`` of an EIO created with
        ``bestandsomvang``): each part streams ``omvang`` bytes from its offset in the file, in volgnummer order.
        Parts already ``voltooid`` are skipped. The caller unlocks the EIO afterwards, which completes it."""
        parts = sorted(bestandsdelen, key=lambda part: int(part["volgnummer"]))
        total = sum(int(part["omvang"]) for part in parts)
        if not isinstance(source, (str, os.PathLike)):
            return await self._upload_parts(parts, total, lock, source, filename)
        file = await asyncio.to_thread(open, source, "rb")
        try:
            return await self._upload_parts(parts, total, lock, file, filename)
        finally:
            file.close()

    async def _upload_parts(
        self, parts: Sequence[Mapping[str, Any]], total: int, lock: str, file: IO[bytes], filename: str
    ) -> JsonList:
        size = file.seek(0, os.SEEK_END)
        if size != total:
            raise ValueError(f"the bestandsdelen add up to {total} bytes, the file has {size}")
        results: JsonList = []
        offset = 0
        for part in parts:
            omvang = int(part["omvang"])
            if not part.get("voltooid"):
                piece = cast(IO[bytes], _FileSlice(file, offset, omvang))
                results.append(await self.upload_bestandsdeel(str(part["url"]), lock, piece, filename=filename))
            offset += omvang
        return results


def _call_note(api: str, call: ZgwCall, started: float, request: httpx.Request, response: httpx.Response | None,
               streamed: bool) -> tracing.CallNote:
    """A ZGW call as the trace keeps it: the bodies by reference (nothing copied on the message's path); a body that
    went by as a stream (document content) is left out."""
    try:
        sent: bytes | None = request.content
    except httpx.RequestNotRead:
        sent = None
    received: bytes | None = None
    if response is not None and not streamed:
        try:
            received = response.content
        except httpx.ResponseNotRead:
            received = None
    parts = [name for name, body, there in (("request", sent, True), ("response", received, response is not None))
             if there and body is None]
    return tracing.CallNote(
        "zgw", api, call.method, call.url, call.status, started, call.elapsed_ms, call.error,
        request_body=sent, request_type=_content_type(request.headers),
        response_body=received, response_type=_content_type(response.headers) if response is not None else None,
        streamed="both" if len(parts) == 2 else (parts[0] if parts else None),
    )


def _content_type(headers: httpx.Headers) -> str | None:
    """The Content-Type, read from the raw header list: ``headers.get`` first works out the encoding of every header
    (some 13 decodes a message's call, on the hot path for each traced call)."""
    for name, value in headers.raw:
        if name.lower() == b"content-type":
            return value.decode("latin-1")
    return None


def _transient(exc: BaseException) -> bool:
    """Whether a GET that failed so may succeed when tried again: the API was not reached, or its gateway said so."""
    if not isinstance(exc, ZgwError) or isinstance(exc, ZgwTimeout):
        return False
    return exc.status in (502, 503, 504) or (isinstance(exc, ZgwUnavailable) and exc.status is None)


def _with_params(url: httpx.URL, params: Mapping[str, Any]) -> httpx.URL:
    """``url`` with the query ``params``, as ``url.copy_merge_params(params)`` makes it. For the common case (no query
    yet, string values) the query is encoded here and the URL parsed once, which takes half the time: httpx checks a
    URL character by character, and a query that holds a zaak URL is long."""
    if not params or url.query or not all(isinstance(value, str) for value in params.values()):
        return url.copy_merge_params(params)
    return httpx.URL(f"{url}?{urllib.parse.urlencode(params)}")


def _proxied(url: str) -> bool:
    """True when the proxy environment variables (which httpx honours) send ``url`` through a proxy."""
    parsed = httpx.URL(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parsed.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parsed.host)


def _same_origin(url: httpx.URL, origin: httpx.URL) -> httpx.URL:
    """``url`` moved onto ``origin``'s scheme, host and port: a server behind a proxy may hand out ``next`` links
    with its internal address, and the token must not travel to another host."""
    if (url.scheme, url.host, url.port) == (origin.scheme, origin.host, origin.port):
        return url
    return url.copy_with(scheme=origin.scheme, host=origin.host, port=origin.port)


# --- all four --------------------------------------------------------------------------------------------------


class ZgwClients:
    """The clients of the four ZGW APIs and the catalogue cache."""

    def __init__(
        self,
        apis: Mapping[str, ZgwApiClient],
        *,
        catalogue_ttl: float = 300.0,
    ):
        missing = set(ZGW_APIS) - set(apis)
        if missing:
            raise ValueError(f"missing ZGW API clients: {sorted(missing)}")
        self.apis: dict[str, ZgwApiClient] = dict(apis)
        self.zaken = self.apis["zaken"]
        self.documenten = self.apis["documenten"]
        self.catalogi = self.apis["catalogi"]
        self.besluiten = self.apis["besluiten"]
        self.catalogue = Catalogue(self.catalogi, ttl=catalogue_ttl)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        embedded_base: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        jwt_renew_after: float = DEFAULT_RENEW_AFTER,
        clock: Callable[[], float] = time.time,
        on_call: Callable[[ZgwCall], None] | None = None,
    ) -> ZgwClients:
        """Clients for the URLs and credentials in ``settings``. ``embedded_base`` is where the embedded backend
        runs (used when no external URL is set); ``transport`` replaces the network (tests: ``httpx.MockTransport``,
        the embedded app: ``httpx.ASGITransport``)."""
        timeout = httpx.Timeout(settings.zgw_timeout)
        limits = httpx.Limits(
            max_connections=settings.zgw_max_connections, max_keepalive_connections=settings.zgw_max_connections
        )
        auths: dict[tuple[str, str], JwtAuth | OAuth2ClientCredentials] = {}
        oauth2 = settings.zgw_oauth2
        if oauth2 is not None:  # one client-credentials token for every API instead of the HS256 JWT
            auths[("oauth2", "")] = OAuth2ClientCredentials(
                oauth2.token_url, oauth2.client_id, oauth2.secret(), scope=oauth2.scope, audience=oauth2.audience,
                verify=settings.zgw_tls.ssl_context(), timeout=settings.zgw_timeout, transport=transport)
        apis: dict[str, ZgwApiClient] = {}
        for api in ZGW_APIS:
            root = settings.zgw_api_url(api, embedded_base)
            credentials = settings.zgw_credentials_for(api)
            key = ("oauth2", "") if oauth2 is not None else (credentials.client_id, credentials.secret)
            if key not in auths:
                auths[key] = JwtAuth(
                    credentials.client_id,
                    credentials.secret,
                    user_id=settings.zgw_user_id,
                    user_representation=settings.zgw_user_representation,
                    renew_after=jwt_renew_after,
                    clock=clock,
                )
            headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
            if api == "zaken":
                headers.update({"Accept-Crs": CRS, "Content-Crs": CRS})
            # the transport AsyncClient would make itself, made here so that ZgwApiClient can send through it
            api_transport = transport if transport is not None else httpx.AsyncHTTPTransport(
                limits=limits, verify=settings.zgw_tls_for(api).ssl_context())
            http = httpx.AsyncClient(
                base_url=root + "/",
                auth=auths[key],
                headers=headers,
                timeout=timeout,
                limits=limits,
                transport=api_transport,
            )
            apis[api] = ZgwApiClient(api, http, timeout=settings.zgw_timeout, on_call=on_call, auth=auths[key],
                                     transport=api_transport, get_retries=settings.zgw_get_retries,
                                     retry_backoff=settings.zgw_retry_backoff_seconds,
                                     audit_user=settings.zgw_audit_user)
        return cls(apis, catalogue_ttl=settings.zgw_catalogue_ttl)

    def api(self, name: str) -> ZgwApiClient:
        return self.apis[name]

    def for_url(self, url: str) -> ZgwApiClient:
        """The client whose API serves ``url``: by root URL, else by the ``/<api>/api/`` path segment."""
        for client in self.apis.values():
            if client.owns(url):
                return client
        path = httpx.URL(url).path
        for name, client in self.apis.items():
            if f"/{name}/api/" in path:
                return client
        raise ValueError(f"{url} belongs to none of the ZGW APIs ({', '.join(c.base_url for c in self.apis.values())})")

    async def get(self, url: str, params: Mapping[str, Any] | None = None) -> JSON:
        """GET any ZGW resource by its URL, with the right API's credentials."""
        return await self.for_url(url).get(url, params)

    # --- lifecycle ---

    async def aclose(self) -> None:
        for client in self.apis.values():
            await client.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def by_identificatie(
    client: ZgwApiClient, resource: str, identificatie: str, *, organisation_field: str, rsin: str | None,
    what: str, params: Mapping[str, Any] | None = None,
) -> JSON | None:
    """The one object of ``resource`` with this identificatie, or None. An identificatie is unique per organisation
    (``organisation_field``: bronorganisatie, verantwoordelijkeOrganisatie): with several, the sender's RSIN
    chooses; still several is a ``ZgwAmbiguous`` naming them."""
    found = [item for item in await client.list(resource, {"identificatie": identificatie, **(params or {})},
                                                 max_items=10)
             if item.get("identificatie") == identificatie]
    if len(found) > 1 and rsin:
        found = [item for item in found if item.get(organisation_field) == rsin] or found
    if len(found) > 1:
        raise ZgwAmbiguous(what, identificatie, [str(item.get("url")) for item in found])
    return found[0] if found else None


_JOURNALLED = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _journal_outcome(exc: ZgwError) -> str:
    """Whether a failed write may have happened: ``failed`` when the backend answered that it did not (4xx, 500,
    503) or the request never left (no connection); ``unknown`` for a timeout after sending, a dropped connection,
    or a 502/504 from a proxy in between (the backend behind it may have done it)."""
    if isinstance(exc, ZgwTimeout):
        return "unknown" if exc.may_have_succeeded else "failed"
    if exc.status is not None:
        return "unknown" if exc.status in (502, 504) else "failed"
    cause = exc.__cause__
    if isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)):
        return "failed"
    return "unknown"
