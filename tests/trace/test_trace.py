"""The message trace: recorded over HTTP through the real gateway, stored, masked, read back through /ui/, exported,
replayed and pruned."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.trace import current
from stuf_bridge.trace.config import TraceMode, TraceSettings
from stuf_bridge.stuf.values import elfproef
from stuf_bridge.trace.privacy import Masker, body
from stuf_bridge.trace.store import TraceFilter, TraceStore, pack
from stuf_bridge.trace.tools import fake_bsn, normalise, replay
from stuf_bridge.security.passwords import hash_password
from stuf_bridge.web.app import create_app
from tests.operations.document_messages import voeg_zaakdocument_toe
from tests.operations.messages import creeer_zaak

BASE = "http://gateway.test"
BSN = "999993653"  # the initiator's BSN in tests/operations/messages.py


@contextlib.asynccontextmanager
async def gateway(settings: Settings, schemas: Schemas, *, transport: Any = None) -> AsyncIterator[Any]:
    """The gateway app with the embedded backend, both over ASGI (as tests/operations does)."""
    inner: dict[str, httpx.AsyncBaseTransport] = {}

    class Late(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if transport is not None:
                await transport(request)
            return await inner["app"].handle_async_request(request)

    app = create_app(settings, schemas=schemas, embedded_base=f"{BASE}/zgw", zgw_transport=Late())
    inner["app"] = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    async with app.router.lifespan_context(app), client:
        client.app = app  # type: ignore[attr-defined]
        yield client


def traced(make_settings: Callable[..., Settings], **trace: Any) -> Settings:
    return make_settings(trace=TraceSettings(flush_seconds=0.05, in_progress_after_seconds=0, **trace))


async def post(client: httpx.AsyncClient, message: tuple[bytes, dict[str, str]]) -> httpx.Response:
    data, headers = message
    return await client.post("/zds/OntvangAsynchroon", content=data, headers=headers)


async def listed(client: httpx.AsyncClient, query: str = "", *, count: int = 1,
                 outcome: str | None = None) -> list[dict[str, Any]]:
    """The JSON list, polled until it holds ``count`` messages (with ``outcome``): the writer works in batches."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        found = (await client.get(f"/ui/api/messages?{query}")).json()["messages"]
        if len(found) >= count and (outcome is None or all(m["outcome"] == outcome for m in found)):
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not traced in time: {found}")
        await asyncio.sleep(0.05)


async def test_a_message_is_traced_with_its_calls_masked_and_readable(
        make_settings: Callable[..., Settings], schemas: Schemas) -> None:
    async with gateway(traced(make_settings), schemas) as client:
        answer = await post(client, creeer_zaak(referentienummer="trace-1"))
        assert answer.status_code == 200
        [row] = await listed(client, outcome="ok")
        assert row["operation"].startswith("creeerZaak") and row["referentienummer"] == "trace-1"
        assert row["zender"] == "0363/Open Formulieren" or row["zender"].startswith("0363/")
        assert "0363ZK2024-000101" in row["identificaties"] and row["zaak"] == "0363ZK2024-000101"
        assert row["correlation_id"] == answer.headers["x-request-id"]
        assert row["calls"] >= 3 and row["duration_ms"] > 0

        whole = (await client.get(f"/ui/messages/{row['id']}.json")).json()
        assert whole["endpoint"] == "/zds/OntvangAsynchroon" and whole["soap"] == "1.1"
        assert whole["validation"]["outcome"] in ("valid", "warnings")
        assert whole["route"]["mode"] == "translate"
        posts = [c for c in whole["calls"] if c["method"] == "POST" and c["url"].endswith("/zaken")]
        assert posts and json.loads(posts[0]["request"]["text"])["identificatie"] == "0363ZK2024-000101"
        assert posts[0]["status"] == 201 and "url" in json.loads(posts[0]["response"]["text"])
        assert all(c["at_ms"] >= 0 and c["ms"] >= 0 for c in whole["calls"])
        assert "Bv03" in whole["answer"]["text"]
        text = json.dumps(whole)
        assert BSN not in text, "a BSN in the trace"  # request, rol bodies, URLs: all masked
        assert "*******53" in whole["request"]["text"]
        assert "20241105" in whole["request"]["text"]  # dates stay readable

        page = await client.get(f"/ui/messages/{row['id']}")
        assert page.status_code == 200
        assert 'id="timeline"' in page.text and page.text.count('class="call"') == len(whole["calls"])
        assert "0363ZK2024-000101" in page.text and BSN not in page.text
        zaak = await client.get("/ui/?zaak=0363ZK2024-000101")
        assert zaak.text.count('class="message"') == 1


async def test_document_content_is_kept_as_size_and_digest(
        make_settings: Callable[..., Settings], schemas: Schemas) -> None:
    content = b"%PDF-1.4 " + bytes(range(256)) * 40
    async with gateway(traced(make_settings), schemas) as client:
        assert (await post(client, creeer_zaak(referentienummer="z"))).status_code == 200
        answer = await post(client, voeg_zaakdocument_toe(content=content))
        assert answer.status_code == 200, answer.text
        rows = await listed(client, "operation=voegZaakdocumentToe", outcome="ok")
        whole = (await client.get(f"/ui/messages/{rows[0]['id']}.json")).json()
    digest = hashlib.sha256(content).hexdigest()
    text = json.dumps(whole)
    assert f"[document: {len(content)} bytes, sha256 {digest}]" in whole["request"]["text"]
    assert whole["request"]["documents"] == [{"size": len(content), "sha256": digest, "bestandsnaam": "aanvraag.pdf"}]
    assert base64.b64encode(content).decode()[:40] not in text  # neither in the request nor in any call's body


async def test_filters_and_paging(make_settings: Callable[..., Settings], schemas: Schemas) -> None:
    async with gateway(traced(make_settings), schemas) as client:
        for number in range(3):
            await post(client, creeer_zaak(identificatie=f"0363ZK2024-00020{number}", referentienummer=f"f-{number}"))
        await post(client, creeer_zaak(identificatie="0363ZK2024-000200", referentienummer="f-again"))  # exists
        await listed(client, count=4)
        assert [m["referentienummer"] for m in await listed(client, count=1)][:4] == ["f-again", "f-2", "f-1", "f-0"]
        faults = await listed(client, "outcome=fault")
        assert [m["referentienummer"] for m in faults] == ["f-again"] and faults[0]["fault_code"]
        assert [m["referentienummer"] for m in await listed(client, "q=0363ZK2024-000201")] == ["f-1"]
        assert [m["referentienummer"] for m in await listed(client, "q=f-0")] == ["f-0"]
        assert len(await listed(client, "zender=0363", count=4)) == 4
        none = (await client.get("/ui/api/messages?operation=geefZaakdetails")).json()
        assert none["total"] == 0
        later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
        assert (await client.get(f"/ui/api/messages?since={later}")).json()["total"] == 0
        page = await client.get("/ui/?outcome=fault")
        assert page.text.count('class="message"') == 1


async def test_a_message_in_progress_is_listed_as_such(make_settings: Callable[..., Settings],
                                                        schemas: Schemas) -> None:
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/zaken"):
            await release.wait()

    async with gateway(traced(make_settings), schemas, transport=slow) as client:
        sending = asyncio.ensure_future(post(client, creeer_zaak(referentienummer="slow")))
        [row] = await listed(client, outcome="in-progress")
        assert row["referentienummer"] == "slow" and row["duration_ms"] is None
        assert "bezig" in (await client.get("/ui/")).text
        release.set()
        assert (await sending).status_code == 200
        [done] = await listed(client, outcome="ok")
        assert done["id"] == row["id"] and done["duration_ms"] > 0


async def test_tracing_off_and_for_some_senders_or_operations(make_settings: Callable[..., Settings],
                                                               schemas: Schemas) -> None:
    async with gateway(traced(make_settings, mode="off"), schemas) as client:
        await post(client, creeer_zaak(referentienummer="off"))
        await asyncio.sleep(0.3)
        assert (await client.get("/ui/api/messages")).json()["total"] == 0
    settings = traced(make_settings, mode="some", operations=["geefZaakdetails"], senders=["0363/*"])
    async with gateway(settings, schemas) as client:
        await post(client, creeer_zaak(referentienummer="by-sender"))
        await post(client, creeer_zaak(referentienummer="other", organisatie="1900", identificatie="1900ZK1"))
        await listed(client)
        await asyncio.sleep(0.3)
        assert [m["referentienummer"] for m in await listed(client)] == ["by-sender"]


async def test_a_deployment_that_must_may_store_bsns(make_settings: Callable[..., Settings], schemas: Schemas) -> None:
    async with gateway(traced(make_settings, store_bsn=True), schemas) as client:
        assert (await post(client, creeer_zaak(referentienummer="with-bsn"))).status_code == 200
        [row] = await listed(client, outcome="ok")
        whole = (await client.get(f"/ui/messages/{row['id']}.json")).json()
    assert BSN in whole["request"]["text"]
    assert any(BSN in (call["request"]["text"] or "") for call in whole["calls"] if call["url"].endswith("/rollen"))


async def test_the_settings_a_message_came_in_under_decide_its_trace(make_settings: Callable[..., Settings],
                                                                       schemas: Schemas) -> None:
    """Tracing switched off (a reload) after a message came in, before the writer ran: the message is traced as
    the settings said when it arrived; one that comes in afterwards is not."""
    settings = make_settings(trace=TraceSettings(flush_seconds=3600, in_progress_after_seconds=3600))
    async with gateway(settings, schemas) as client:
        await post(client, creeer_zaak(referentienummer="before-the-switch"))
        settings.trace.mode = TraceMode.OFF
        await post(client, creeer_zaak(referentienummer="after-the-switch", identificatie="0363ZK2024-000109"))
        assert await client.app.state.tracer.flush() == 1  # type: ignore[attr-defined]
        assert [m["referentienummer"] for m in (await client.get("/ui/api/messages")).json()["messages"]] == [
            "before-the-switch"]


async def test_compensation_steps_are_noted_by_the_small_api() -> None:
    from stuf_bridge.operations.compensation import UndoLog
    from stuf_bridge.trace import MessageTrace, tracing

    async def fails() -> None:
        raise RuntimeError("backend down")

    async def undo(_: Any) -> None:
        return None

    with tracing(MessageTrace("c")) as trace:
        assert current() is trace
        with contextlib.suppress(Exception):
            async with UndoLog() as log:
                await log.step("POST zaken", asyncio.sleep(0, {"url": "z"}), undo=undo)
                await log.step("POST rollen", fails())
    assert trace is not None and [(s["step"], s["ok"]) for s in trace.compensations] == [("ongedaan: POST zaken", True)]
    assert current() is None


@pytest.mark.parametrize(("data", "kind", "expected", "absent"), [
    (json.dumps({"betrokkeneIdentificatie": {"inpBsn": "123456782"}, "datum": "2024-11-05"}).encode(),
     "application/json", "*******82", "123456782"),
    (b"<a><BG:inp.bsn>111222333</BG:inp.bsn><b>111222333</b></a>", "text/xml", "*******33", "111222333"),
    (b"vrije tekst met 999993653 erin", "text/plain", "*******53", "999993653"),  # passes the 11-test
    (b'{"inhoud": "' + base64.b64encode(b"x" * 300) + b'"}', "application/json", "[document: 300 bytes", "eHh4"),
    (b"\x00\x01binary", "application/pdf", "[document: 8 bytes", "binary"),
])
def test_bodies_are_masked_and_content_replaced(data: bytes, kind: str, expected: str, absent: str) -> None:
    kept = body(data, kind, Masker(), 10_000)
    assert expected in kept["text"] and absent not in kept["text"], kept


def test_numbers_that_are_no_bsn_stay_and_long_bodies_are_cut() -> None:
    kept = body(b"<a><datum>20241105</datum><rsin>002220647</rsin></a>", "text/xml", Masker(rsins=["002220647"]),
                10_000)
    assert "20241105" in kept["text"] and "002220647" in kept["text"]
    cut = body(b"x" * 5000, "text/plain", Masker(), 1000)
    assert cut["cut"] and cut["text"].endswith("[cut by stuf-bridge: 1000 of 5000 characters shown]")
    assert Masker().url("http://z/rollen?betrokkeneIdentificatie__natuurlijkPersoon__inpBsn=999993653&x=1") == (
        "http://z/rollen?betrokkeneIdentificatie__natuurlijkPersoon__inpBsn=*******53&x=1")  # as the docs show it
    assert elfproef(fake_bsn("53")) and fake_bsn("53").endswith("53")


async def test_prune_by_age_and_size(make_settings: Callable[..., Settings]) -> None:
    from stuf_bridge.store import create_store

    settings = make_settings()
    async with create_store(settings.store_url) as store:
        traces = TraceStore(store)
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        rows = [_row(f"r{n}", old if n < 2 else dt.datetime.now(dt.UTC), size=1000) for n in range(6)]
        await traces.write(rows, [])
        assert await traces.size() == (6, 6000)
        assert await traces.prune(dt.timedelta(days=14), 10**9) == 2
        assert await traces.prune(dt.timedelta(days=14), 2500) == 2  # the oldest go first
        found, total = await traces.search(TraceFilter())
        assert total == 2 and [r.referentienummer for r in found] == ["r5", "r4"]


def _row(ref: str, when: dt.datetime, size: int) -> dict[str, Any]:
    return {"correlation_id": ref, "received_at": when, "duration_ms": 1.0, "endpoint": "/zds", "soap": "1.1",
            "dialect": "1.1", "operation": "creeerZaak_Lk01", "zender": "0363/X", "ontvanger": None,
            "referentienummer": ref, "zaak": None, "identificaties": " ", "outcome": "ok", "fault_code": None,
            "fault_reason": None, "calls": 0, "size": size, "detail": pack({"referentienummer": ref})}


async def test_export_and_replay(make_settings: Callable[..., Settings], schemas: Schemas, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from stuf_bridge.cli import main

    settings = traced(make_settings)
    async with gateway(settings, schemas) as client:
        assert (await post(client, creeer_zaak(referentienummer="replay-me"))).status_code == 200
        await listed(client, outcome="ok")
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["trace", "export", "replay-me", "--data-dir", str(settings.data_dir)]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["referentienummer"] == "replay-me" and exported["calls"]
    trace_file = tmp_path / "trace.json"
    trace_file.write_text(json.dumps(exported))

    out = io.StringIO()
    assert await replay(settings, [trace_file], out) == 0, out.getvalue()
    assert "1 of 1 the same" in out.getvalue()

    changed = json.loads(json.dumps(exported))
    changed["request"]["text"] = changed["request"]["text"].replace("Melding losliggende stoeptegels", "Iets anders")
    (tmp_path / "changed.json").write_text(json.dumps(changed))
    out = io.StringIO()
    assert await replay(settings, [tmp_path / "changed.json"], out) == 1
    assert "DIFFERENT" in out.getvalue() and "Iets anders" in out.getvalue()
    assert await asyncio.to_thread(main, ["trace", "export", "nope", "--data-dir", str(settings.data_dir)]) == 1


def test_normalise_ignores_volatile_values() -> None:
    a = normalise('{"url": "http://a:1/zaken/api/v1/zaken/1b6c0c3e-2d0c-4f6e-9b1a-7a9f0f0d1e2f", '
                  '"registratiedatum": "2024-11-05T14:30:12.123Z"}<StUF:referentienummer>x</StUF:referentienummer>'
                  "<StUF:tijdstipBericht>20241105143012123</StUF:tijdstipBericht>")
    b = normalise('{"url": "http://b/zaken/api/v1/zaken/00000000-0000-4000-8000-000000000000", '
                  '"registratiedatum": "2025-01-01T00:00:00Z"}<StUF:referentienummer>y</StUF:referentienummer>'
                  "<StUF:tijdstipBericht>20250101000000000</StUF:tijdstipBericht>")
    assert a == b


def test_dry_run_prints_the_calls_and_writes_nothing(make_settings: Callable[..., Settings], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from stuf_bridge.cli import main

    message = tmp_path / "creeerZaak.xml"
    message.write_bytes(creeer_zaak(referentienummer="dry")[0])
    data_dir = tmp_path / "data"
    assert main(["dry-run", str(message), "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "operation:   creeerZaak" in out and "route:       translate" in out and "validation:" in out
    assert "POST /zaken/api/v1/zaken -> 201" in out and '"identificatie": "0363ZK2024-000101"' in out
    assert not data_dir.exists()  # nothing written


def test_hash_password_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from argon2 import PasswordHasher

    from stuf_bridge.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("geheim\n"))
    assert main(["hash-password"]) == 0
    assert PasswordHasher().verify(capsys.readouterr().out.strip(), "geheim")
    assert hash_password("x") != hash_password("x")  # salted
