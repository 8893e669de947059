"""The metrics the trace brings (outgoing call durations, resends, in flight, build info, trace store size), and a
legacy call in the trace (proxy mode) carrying the message's X-Request-ID."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.trace.config import TraceSettings
from stuf_bridge.web.app import create_app
from tests.operations.messages import creeer_zaak

from .test_trace import gateway, listed, post, traced

LEGACY_ANSWER = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                 b'<StUF:Bv03Bericht xmlns:StUF="http://www.egem.nl/StUF/StUF0301"/></soap:Body></soap:Envelope>')


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


async def test_metrics_of_the_trace(make_settings: Callable[..., Settings], schemas: Schemas) -> None:
    async with gateway(traced(make_settings), schemas) as client:
        message = creeer_zaak(referentienummer="metrics-1")
        assert (await post(client, message)).status_code == 200
        assert (await post(client, message)).status_code == 200  # the resend: answered from the store
        await listed(client, count=2)
        found = samples((await client.get("/metrics")).text)
    posts = [value for labels, value in found["stuf_bridge_outgoing_call_duration_seconds_count"]
             if labels == {"api": "zaken", "method": "POST", "status": "201"}]
    assert posts and posts[0] >= 4  # zaak, rol, zaakeigenschap, status: of the first message only
    assert [value for labels, value in found["stuf_bridge_resends_answered_total"]
            if labels["operation"].startswith("creeerZaak")] == [1.0]
    assert found["stuf_bridge_messages_in_flight"] == [({}, 0.0)]
    [(labels, value)] = found["stuf_bridge_build_info"]
    assert value == 1.0 and labels["version"] and labels["python"]
    assert found["stuf_bridge_trace_store_traces"] == [({}, 2.0)]
    assert found["stuf_bridge_trace_store_bytes"][0][1] > 0
    assert "stuf_bridge_compensations_total" not in found or all(v == 0 for _, v in
                                                                 found["stuf_bridge_compensations_total"])


async def test_a_proxied_message_shows_its_legacy_call(make_settings: Callable[..., Settings],
                                                       schemas: Schemas) -> None:
    seen: list[httpx.Request] = []

    async def streamed() -> AsyncIterator[bytes]:
        yield LEGACY_ANSWER

    async def legacy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        await request.aread()
        # an answer on the wire (as a network transport gives it), not one already read
        return httpx.Response(200, content=streamed(), headers={"content-type": "text/xml; charset=utf-8"})

    settings = make_settings(trace=TraceSettings(flush_seconds=0.05), routing={"default": "proxy"},
                             legacy={"endpoints": {"OntvangAsynchroon": "http://legacy.test/zds/OntvangAsynchroon"}})
    app = create_app(settings, schemas=schemas, legacy_transport=httpx.MockTransport(legacy))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        answer = await post(client, creeer_zaak(referentienummer="proxied"))
        assert answer.status_code == 200 and b"Bv03" in answer.content
        [row] = await listed(client, outcome="ok")
        whole = (await client.get(f"/ui/messages/{row['id']}.json")).json()
    [call] = whole["calls"]
    assert (call["kind"], call["api"], call["method"], call["status"]) == ("legacy", "OntvangAsynchroon", "POST", 200)
    assert call["url"] == "http://legacy.test/zds/OntvangAsynchroon"
    assert call["response"]["text"] == "[streamed: not kept]"  # passed on to the client as it came
    assert whole["route"]["mode"] == "proxy"
    assert seen[0].headers["x-request-id"] == whole["correlation_id"] == answer.headers["x-request-id"]
