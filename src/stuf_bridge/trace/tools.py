"""The trace's commands: ``trace export``, ``replay`` and ``dry-run`` (``cli.py`` wires them).

* ``export``: the traces of a referentienummer as JSON, from the store ``serve`` uses.
* ``replay``: a traced message through the current gateway, every outgoing call answered from the trace (no backend
  needed), the outgoing calls and the answer compared with the recorded ones, volatile values ignored.
* ``dry-run``: a message through the gateway against a throw-away embedded backend seeded from a catalogue file: what
  it would do (operation, route, validation, the ZGW calls with their JSON bodies), nothing written anywhere else.
"""

from __future__ import annotations

import asyncio
import base64
import difflib
import json
import re
import shutil
import sys
import tempfile
import urllib.parse
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from ..settings import Settings
from ..stuf.values import elfproef
from .privacy import readable
from .recorder import build_row

# --- export --------------------------------------------------------------------------------------------------


async def export(settings: Settings, referentienummer: str) -> list[dict[str, Any]]:
    from ..store import create_store
    from .store import TraceStore

    async with create_store(settings.store_url) as store:
        return await TraceStore(store).by_referentienummer(referentienummer)


# --- running a message through a gateway of its own -----------------------------------------------------------


class _Capture:
    """A recorder that keeps the last exchange (the replay compares its trace with the recorded one)."""

    def __init__(self) -> None:
        self.x: Any = None
        self.reply: Any = None
        self.seconds = 0.0

    def record(self, x: Any, reply: Any, seconds: float) -> None:
        self.x, self.reply, self.seconds = x, reply, seconds


def _envelope(body: str, soap: str) -> tuple[bytes, str]:
    if soap == "1.2":
        return (f'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>{body}'
                "</soap:Body></soap:Envelope>").encode(), "application/soap+xml; charset=utf-8"
    return (f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>{body}'
            "</soap:Body></soap:Envelope>").encode(), "text/xml; charset=utf-8"


async def _run_message(settings: Settings, data_dir: Path, envelope: bytes, content_type: str,
                       soap_action: str | None, service_name: str | None,
                       zgw_transport: httpx.AsyncBaseTransport, legacy_transport: httpx.AsyncBaseTransport | None,
                       embedded_base: str | None) -> dict[str, Any]:
    """One message through a gateway on a store of its own in ``data_dir``; its trace as ``build_row`` makes it."""
    from ..gateway import Gateway
    from ..legacy.client import LegacyClient
    from ..legacy.proxy import LegacyProxy
    from ..mapping import Mappings
    from ..pipeline.handle import ModeHandler
    from ..pipeline.route import Mode
    from ..routing.router import RuleRouter
    from ..store import create_store
    from ..stuf.registry import Service
    from ..stuf.validation import Schemas
    from ..zgw import ZgwClients

    own = settings.model_copy(update={"data_dir": data_dir, "database_url": None})
    capture = _Capture()
    async with create_store(own.store_url) as store:
        zgw = ZgwClients.from_settings(own, embedded_base, zgw_transport)
        async with zgw:
            modes: dict[Mode, ModeHandler] = {}
            legacy = None
            if own.legacy.configured and legacy_transport is not None:
                legacy = LegacyClient(own, legacy_transport)
                await legacy.__aenter__()
                modes[Mode.PROXY] = LegacyProxy(legacy)
            try:
                router = RuleRouter(own.routing, store, zgw) if own.routing.active else None
                gateway = Gateway(own, store, Schemas.from_settings(own), zgw=zgw,
                                  mappings=Mappings.load(overlay_dir=own.mappings_dir), router=router, modes=modes,
                                  recorders=[capture], zgw_transport=zgw_transport)
                service = {s.value.lower(): s for s in Service}.get((service_name or "").lower())
                await gateway.handle(service, envelope, content_type=content_type, soap_action=soap_action)
            finally:
                if legacy is not None:
                    await legacy.__aexit__(None, None, None)
    row = build_row(capture.x, _received(), capture.reply, capture.seconds, own.trace)
    detail: dict[str, Any] = json.loads(row["detail"])
    return detail


def _received() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


# --- replay --------------------------------------------------------------------------------------------------


_MASKED_BSN = re.compile(r"\*{7}(\d\d)")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?")
_STUF_TIME = re.compile(r"(?<!\d)\d{14,17}(?!\d)")  # tijdstipBericht, tijdstipRegistratie: yyyymmddhhmmss[mmm]
_DOC_SHA = re.compile(r"(\[document: \d+ bytes), sha256 [0-9a-f]{64}\]")
_HOST = re.compile(r"https?://[^/\s\"'<>]+")
_REFERENCE = re.compile(r"(<(?:[\w.-]+:)?(?:referentienummer|crossRefnummer)>)[^<]*(</)")


def fake_bsn(last_two: str) -> str:
    """A BSN that passes the 11-test and ends in ``last_two`` (a masked BSN keeps its last two digits)."""
    for n in range(1000000):
        candidate = f"{100000 + n:07d}{last_two}"[-9:]
        if elfproef(candidate):
            return candidate
    raise ValueError(f"no BSN ends in {last_two}")  # pragma: no cover (every ending has one)


def normalise(text: str | None) -> str:
    """A body with its volatile values (UUIDs, timestamps, referentienummers, hosts, document digests) replaced."""
    if not text:
        return ""
    text = _HOST.sub("<host>", text)
    text = _UUID.sub("<uuid>", text)
    text = _ISO_TIME.sub("<time>", text)
    text = _STUF_TIME.sub("<time>", text)
    text = _DOC_SHA.sub(r"\1]", text)
    return _REFERENCE.sub(r"\1<ref>\2", text)


def _key(method: str, path: str, query: str) -> str:
    """A call as compared: method, path and the query with its escapes undone (the trace re-encodes it)."""
    query = urllib.parse.unquote_plus(query)
    return normalise(f"{method} {path}" + (f"?{query}" if query else ""))


def _call_key(call: dict[str, Any]) -> str:
    parts = urllib.parse.urlsplit(call["url"])
    return _key(call["method"], parts.path, parts.query)


def _lookup(call: dict[str, Any]) -> bool:
    """A catalogue look-up: whether it is made depends on the catalogue cache, so it is not compared."""
    return call["method"] == "GET" and call.get("api") == "catalogi"


@dataclass
class _Answers:
    """The recorded calls, answered in order per method and path; catalogue look-ups from any trace given."""

    calls: list[dict[str, Any]]
    lookups: dict[str, dict[str, Any]] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)

    def answer(self, request: httpx.Request) -> httpx.Response:
        key = _key(request.method, request.url.path, request.url.query.decode())
        for index, call in enumerate(self.calls):
            if index not in self.used and _call_key(call) == key:
                self.used.add(index)
                return _response(call)
        exact = f"{request.method} {request.url.copy_with(query=None)}" if not request.url.query else None
        if exact is not None and exact in self.lookups:  # a catalogue resource by its URL
            return _response(self.lookups[exact])
        if key in self.lookups:
            return _response(self.lookups[key])
        return httpx.Response(599, json={"detail": f"stuf-bridge replay: {key} is not in the trace"})


def _response(call: dict[str, Any]) -> httpx.Response:
    answer = call.get("response") or {}
    text = answer.get("text") or ""
    if call.get("status") is None:
        return httpx.Response(599, json={"detail": call.get("error") or "no answer in the trace"})
    headers = {"content-type": answer.get("type") or "application/json"}
    return httpx.Response(int(call["status"]), content=text.encode(), headers=headers)


_STREAMED = "[streamed: not kept]"  # privacy.body's text for a body that went by as a stream
_DOC_MARKER = re.compile(r"\[document: (\d+) bytes, sha256 [0-9a-f]{64}\]")


def _unmasked_request(text: str) -> str:
    """The recorded request made sendable: masked BSNs become valid ones with the same last two digits (masked
    again by the replay's trace, they compare equal); document content, which a trace never keeps, becomes content
    of the recorded size (its digest differs, and is not compared)."""
    text = _DOC_MARKER.sub(lambda m: base64.b64encode(bytes(int(m.group(1)))).decode("ascii"), text)
    return _MASKED_BSN.sub(lambda m: fake_bsn(m.group(1)), text)


async def replay_one(settings: Settings, trace: dict[str, Any], lookups: dict[str, dict[str, Any]]) -> list[str]:
    """Replay one trace; the differences, as readable lines (none: the same)."""
    request = (trace.get("request") or {}).get("text")
    if not request:
        return ["the trace holds no request (the message failed before it was read)"]
    if (trace.get("request") or {}).get("cut"):
        return ["the trace's request was cut (trace.max_body_bytes): it cannot be replayed"]
    recorded_calls = [c for c in trace.get("calls") or [] if not _lookup(c)]
    answers = _Answers(list(trace.get("calls") or []), lookups)

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.answer(request)

    envelope, content_type = _envelope(_unmasked_request(request), trace.get("soap") or "1.1")
    endpoint = str(trace.get("endpoint") or "/zds")
    service = endpoint.rsplit("/", 1)[-1] if endpoint.count("/") > 1 else None
    zgw_base = _recorded_base(trace) or "http://zgw.replay"
    with tempfile.TemporaryDirectory(prefix="stuf-bridge-replay-") as data_dir:
        replayed = await _run_message(
            settings.model_copy(update={"zgw_url": zgw_base}), Path(data_dir), envelope, content_type,
            trace.get("soap_action"), service, httpx.MockTransport(handler), httpx.MockTransport(handler), None)
    differences: list[str] = []
    got = [c for c in replayed.get("calls") or [] if not _lookup(c)]
    for want, call in zip(recorded_calls, got, strict=False):
        if (want.get("request") or {}).get("text") == _STREAMED and _call_key(want) == _call_key(call):
            call["request"] = want["request"]  # the recording did not keep it (it went by as a stream): not compared
    want_calls = [_call_lines(c) for c in recorded_calls]
    got_calls = [_call_lines(c) for c in got]
    if want_calls != got_calls:
        differences.append("outgoing calls differ:")
        if [w[0] for w in want_calls] == [g[0] for g in got_calls]:  # the same calls: per call, what differs
            for number, (want, have) in enumerate(zip(want_calls, got_calls, strict=True), 1):
                if want != have:
                    differences.append(f"  call {number}: {want[0]}")
                    differences += [f"  {line}" for line in difflib.unified_diff(
                        want[1:], have[1:], "recorded", "replayed", lineterm="", n=2)]
        else:
            want_lines = [line for lines in want_calls for line in lines]
            got_lines = [line for lines in got_calls for line in lines]
            differences += [f"  {line}" for line in difflib.unified_diff(want_lines, got_lines, "recorded",
                                                                          "replayed", lineterm="", n=2)]
    want_answer = _lines((trace.get("answer") or {}).get("text"))
    got_answer = _lines((replayed.get("answer") or {}).get("text"))
    if want_answer != got_answer:
        differences.append("the answer differs:")
        differences += [f"  {line}" for line in difflib.unified_diff(want_answer, got_answer, "recorded", "replayed",
                                                                      lineterm="", n=2)]
    if (trace.get("outcome"), trace.get("fault_code")) != (replayed.get("outcome"), replayed.get("fault_code")):
        differences.append(f"outcome: recorded {trace.get('outcome')} {trace.get('fault_code') or ''}, replayed "
                           f"{replayed.get('outcome')} {replayed.get('fault_code') or ''} "
                           f"{replayed.get('fault_reason') or ''}".rstrip())
    return differences


def _recorded_base(trace: dict[str, Any]) -> str | None:
    """The ZGW root the trace's calls went to (``…/zaken/api/v1`` → its base), so that URLs in recorded answers
    (a zaak's url, a zaaktype's) point where the replay's clients expect them."""
    for call in trace.get("calls") or []:
        if call.get("kind") == "zgw":
            match = re.match(r"(https?://[^/]+(?:/.*?)?)/(zaken|documenten|catalogi|besluiten)/api/v1/", call["url"])
            if match:
                return match.group(1)
    return None


def _call_lines(call: dict[str, Any]) -> list[str]:
    lines = [f"{_call_key(call)} -> {call.get('status')}"]
    body = (call.get("request") or {}).get("text")
    lines += [f"    {line}" for line in _lines(body)]
    return lines


def _lines(text: str | None) -> list[str]:
    return normalise(readable(text)).splitlines()


def _index_catalogue(call: dict[str, Any], lookups: dict[str, dict[str, Any]]) -> None:
    """A catalogue answer's resources by their own URL (``GET <url>``), so that a replay that reads one by URL (its
    cache is cold where the recording's was warm) finds it in a list another message's trace holds."""
    answer = call.get("response") or {}
    try:
        data = json.loads(answer.get("text") or "null")
    except ValueError:
        return
    results = data.get("results") if isinstance(data, dict) else None
    items: list[Any] = results if isinstance(results, list) else [data]
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            lookups.setdefault(f"GET {item['url']}", {
                "method": "GET", "url": item["url"], "status": 200, "api": "catalogi",
                "response": {"type": "application/json", "text": json.dumps(item, ensure_ascii=False)}})


def load_traces(paths: Iterable[Path]) -> list[tuple[str, dict[str, Any]]]:
    """Trace files (as ``trace export`` or the page's download write them: one trace or a list), folders of them."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in paths:
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        for file in files:
            data = json.loads(file.read_text(encoding="utf-8"))
            items = data if isinstance(data, list) else [data]
            for number, item in enumerate(items):
                found.append((f"{file}" + (f"[{number}]" if len(items) > 1 else ""), item))
    return found


async def replay(settings: Settings, paths: list[Path], out: Any = None) -> int:
    out = out or sys.stdout
    traces = load_traces(paths)
    lookups: dict[str, dict[str, Any]] = {}
    for _, trace in traces:
        for call in trace.get("calls") or []:
            if _lookup(call) and call.get("status"):
                lookups.setdefault(_call_key(call), call)
                _index_catalogue(call, lookups)
    failed = 0
    for name, trace in traces:
        differences = await replay_one(settings, trace, lookups)
        if differences:
            failed += 1
            print(f"DIFFERENT {name} ({trace.get('operation')} {trace.get('referentienummer')})", file=out)
            for line in differences:
                print(f"  {line}", file=out)
        else:
            print(f"same      {name} ({trace.get('operation')} {trace.get('referentienummer')})", file=out)
    print(f"{len(traces) - failed} of {len(traces)} the same", file=out)
    return 1 if failed else 0


# --- dry-run -------------------------------------------------------------------------------------------------


class ReadOnlyBackend(httpx.AsyncBaseTransport):
    """The configured ZGW backend, read-only, for ``dry-run``: reads (GET, HEAD) are sent to it; writes never are.
    A write is answered from an overlay in memory, as the backend would in substance: POST 201 with the body sent
    plus a ``url`` and ``uuid`` of its own (a ``…/lock`` a lock), PUT and PATCH 200 with the resource as written,
    DELETE 204. A ``POST …/_zoek`` is a search, a read: it is sent. A later read of a resource written so comes from
    the overlay, so that the flow goes on as it would."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.overlay: dict[str, dict[str, Any] | None] = {}  # URL (no query) -> resource as written; None: deleted
        self.reads: list[str] = []  # "GET url" as sent to the backend
        self.kept_back: list[str] = []  # "POST url": the writes answered here

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url.copy_with(query=None))
        if request.method in ("GET", "HEAD", "OPTIONS") or (request.method == "POST" and url.endswith("/_zoek")):
            # a read (a ``…/_zoek`` search is a read by POST); overlay resources are not in a search's results
            if url in self.overlay:
                resource = self.overlay[url]
                if resource is None:
                    return httpx.Response(404, json={"detail": "deleted in this dry-run"})
                return httpx.Response(200, json=resource)
            self.reads.append(f"{request.method} {request.url}")
            return await self.inner.handle_async_request(request)
        self.kept_back.append(f"{request.method} {url}")
        await request.aread()
        body: Any = None
        if "json" in request.headers.get("content-type", ""):
            try:
                body = json.loads(request.content or b"null")
            except ValueError:
                body = None
        if request.method == "DELETE":
            self.overlay[url] = None
            return httpx.Response(204)
        if request.method == "POST":
            if url.endswith("/lock"):
                return httpx.Response(200, json={"lock": uuid.uuid4().hex})
            if url.endswith("/unlock"):
                return httpx.Response(204)
            if url.endswith("/publish"):
                parent = url.removesuffix("/publish")
                return httpx.Response(200, json={**(self.overlay.get(parent) or {}), "url": parent})
            made = str(uuid.uuid4())
            resource = {**(body if isinstance(body, dict) else {}), "url": f"{url.rstrip('/')}/{made}", "uuid": made}
            self.overlay[resource["url"]] = resource
            return httpx.Response(201, json=resource)
        known = self.overlay.get(url) or {}
        resource = {**known, **(body if isinstance(body, dict) else {}), "url": url}
        self.overlay[url] = resource
        return httpx.Response(200, json=resource)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def dry_run(settings: Settings, message: Path, catalogue: Path | None, out: Any = None) -> int:
    """``message`` (a SOAP envelope, or a bare StUF message) through the gateway; prints what it did. Against:

    * ``catalogue`` given: a throw-away embedded backend seeded with it;
    * else, with a ZGW backend configured (``zgw_url``): that backend, read-only (``ReadOnlyBackend``): catalogue
      look-ups and other reads are answered by it, writes are kept back;
    * else a throw-away embedded backend with the demo catalogue.

    The gateway itself runs on a throw-away store: nothing is written to the configured one either."""
    from ..settings import with_demo_profile
    from ..web.app import embedded_backend
    from ..zgw_embedded import SeedError, seed

    text = message.read_text(encoding="utf-8")
    soap12 = "http://www.w3.org/2003/05/soap-envelope" in text
    if "Envelope" in text.split(">", 2)[0] or ":Envelope" in text[:500]:
        envelope = text.encode()
        content_type = "application/soap+xml; charset=utf-8" if soap12 else "text/xml; charset=utf-8"
    else:
        envelope, content_type = _envelope(re.sub(r"^\s*<\?xml[^>]*\?>", "", text), "1.1")
    data_dir = Path(tempfile.mkdtemp(prefix="stuf-bridge-dry-run-"))
    backend_note = None
    try:
        if catalogue is None and not settings.zgw_embedded:
            transport = ReadOnlyBackend(httpx.AsyncHTTPTransport(verify=settings.zgw_tls.ssl_context()))
            try:
                detail = await _run_message(settings, data_dir, envelope, content_type, None, "OntvangAsynchroon",
                                            transport, None, None)
            finally:
                await transport.aclose()
            backend_note = (f"{settings.zgw_url or settings.zgw_zaken_url} (read-only: {len(transport.reads)} "
                            f"reads sent, {len(transport.kept_back)} writes kept back)")
        else:
            own = with_demo_profile(settings.model_copy(update={
                "data_dir": data_dir, "database_url": None, "zgw_url": None, "zgw_zaken_url": None,
                "zgw_documenten_url": None, "zgw_catalogi_url": None, "zgw_besluiten_url": None}))
            if catalogue is not None:
                try:
                    await asyncio.to_thread(seed, data_dir, catalogue)
                except (OSError, ValueError, SeedError) as exc:
                    print(f"stuf-bridge: catalogue {catalogue}: {exc}", file=sys.stderr)
                    return 2
            backend = embedded_backend(own)
            mounted = Starlette(routes=[Mount("/zgw", app=backend)])  # where serve mounts it
            async with backend.router.lifespan_context(backend):
                detail = await _run_message(own, data_dir / "gateway", envelope, content_type, None,
                                            "OntvangAsynchroon", httpx.ASGITransport(app=mounted), None,
                                            "http://dry-run.local/zgw")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    _print_dry_run(detail, out or sys.stdout, backend_note)
    return 0 if detail.get("outcome") == "ok" else 1


def _print_dry_run(detail: dict[str, Any], out: Any, backend: str | None = None) -> None:
    if backend is not None:
        print(f"backend:     {backend}", file=out)
    print(f"operation:   {detail.get('operation')} ({detail.get('dialect')}, SOAP {detail.get('soap')})", file=out)
    route = detail.get("route") or {}
    print(f"route:       {route.get('mode')} (rule {route.get('rule')}, zaaktype {route.get('zaaktype')})",
          file=out)
    validation = detail.get("validation") or {}
    print(f"validation:  {validation.get('outcome')} (policy {validation.get('policy')})", file=out)
    for issue in validation.get("issues") or []:
        print(f"             {issue}", file=out)
    outcome = detail.get("outcome")
    if outcome != "ok":
        outcome = f"{outcome} {detail.get('fault_code')}: {detail.get('fault_reason')}"
    print(f"outcome:     {outcome}", file=out)
    for warning in detail.get("warnings") or []:
        print(f"warning:     {warning}", file=out)
    calls = detail.get("calls") or []
    print(f"ZGW calls:   {len(calls)}", file=out)
    for number, call in enumerate(calls, 1):
        parts = urllib.parse.urlsplit(call["url"])
        path = parts.path.removeprefix("/zgw")
        kept = backend is not None and call["method"] not in ("GET", "HEAD", "OPTIONS")
        print(f"\n{number}. {call['method']} {path}{'?' + parts.query if parts.query else ''} -> {call['status']}"
              + (" (not sent: dry-run)" if kept else ""), file=out)
        body = readable((call.get("request") or {}).get("text"))
        if body:
            print("   " + body.replace("\n", "\n   "), file=out)
