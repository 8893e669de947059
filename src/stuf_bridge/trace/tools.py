"""The trace's commands: ``trace export``, ``replay`` and ``dry-run`` (``cli.py`` wires them).

* ``export``: the traces of a referentienummer as JSON, from the store ``serve`` uses.
* ``replay``: a traced message through the current gateway, every outgoing call answered from the trace (no backend
  needed), the outgoing calls and the answer compared with the recorded ones, volatile values ignored.
* ``dry-run``: a message through the gateway against a throw-away embedded backend seeded from a catalogue file: what
  it would do (operation, route, validation, the ZGW calls with their JSON bodies), nothing written anywhere else.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
import shutil
import sys
import tempfile
import urllib.parse
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


def _unmasked_request(text: str) -> str:
    """The recorded request made sendable: masked BSNs become valid ones with the same last two digits (masked
    again by the replay's trace, they compare equal)."""
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
    want_lines = [line for c in recorded_calls for line in _call_lines(c)]
    got_lines = [line for c in got for line in _call_lines(c)]
    if want_lines != got_lines:
        differences.append("outgoing calls differ:")
        differences += [f"  {line}" for line in difflib.unified_diff(want_lines, got_lines, "recorded", "replayed",
                                                                      lineterm="", n=2)]
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


async def dry_run(settings: Settings, message: Path, catalogue: Path | None, out: Any = None) -> int:
    """``message`` (a SOAP envelope, or a bare StUF message) through the gateway against a throw-away embedded backend
    seeded with ``catalogue`` (default: the demo catalogue); prints what it did."""
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
    try:
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
    _print_dry_run(detail, out or sys.stdout)
    return 0 if detail.get("outcome") == "ok" else 1


def _print_dry_run(detail: dict[str, Any], out: Any) -> None:
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
        print(f"\n{number}. {call['method']} {path}{'?' + parts.query if parts.query else ''} -> {call['status']}",
              file=out)
        body = readable((call.get("request") or {}).get("text"))
        if body:
            print("   " + body.replace("\n", "\n   "), file=out)
