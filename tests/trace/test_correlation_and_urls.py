"""One id per message, everywhere: every log line written while the message is handled (the ZGW calls' DEBUG lines
too), the ``X-Request-ID`` of every ZGW call made for it, its trace and the answer carry the same correlation id; and
no BSN is in a logged or traced URL, though the ZGW query the message needs holds one."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import structlog

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas
from tests.operations.details_messages import geef_zaakdetails
from tests.operations.messages import creeer_zaak
from tests.trace.test_trace import BSN, gateway, listed, post, traced


async def test_one_id_in_every_log_line_call_and_trace_and_no_bsn_in_urls(
        make_settings: Callable[..., Settings], schemas: Schemas) -> None:
    seen: list[tuple[str, str | None]] = []  # (URL, X-Request-ID) of every call the backend got

    async def spy(request: object) -> None:
        seen.append((str(request.url), request.headers.get("X-Request-ID")))  # type: ignore[attr-defined]

    settings = traced(make_settings)
    async with gateway(settings, schemas, transport=spy) as client:
        assert (await post(client, creeer_zaak(referentienummer="corr-setup"))).status_code == 200
        seen.clear()
        body, headers = geef_zaakdetails(identificatie=None, bsn=BSN, referentienummer="corr-1")
        # every line as the gateway writes it: the bound context (correlation_id) merged in, DEBUG included
        with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
            structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
            answer = await client.post("/zds/BeantwoordVraag", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        request_id = answer.headers["x-request-id"]
        [row] = await listed(client, "q=corr-1")
        trace = (await client.get(f"/ui/messages/{row['id']}.json")).json()

    # the log: the message line and the ZGW calls' DEBUG lines, every one with the message's id
    events = [line["event"] for line in lines]
    assert "message" in events and events.count("zgw_call") >= 2, events
    assert {line.get("correlation_id") for line in lines} == {request_id}
    # every ZGW call carried it, and the query the message needed held the BSN (so the checks below can fail)
    assert seen and {rid for _, rid in seen} == {request_id}
    assert any(BSN in url and "?" in url for url, _ in seen), seen
    # the trace is the message's, and keeps no BSN, neither do the logged URLs
    assert trace["correlation_id"] == request_id
    assert BSN not in json.dumps(trace) and any("*******53" in call["url"] for call in trace["calls"])
    assert BSN not in repr(lines)
    assert all("?" not in line["path"] for line in lines if line["event"] == "zgw_call")
