"""The metrics the issue added that need a message to go wrong: schema warnings let through under policy ``warn``, and
compensation steps run after a failed step, by outcome (``ok``, ``failed``)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.web.app import create_app
from tests.operations.messages import creeer_zaak
from tests.trace.test_metrics_and_legacy import samples
from tests.trace.test_trace import BASE, listed, post, traced


class Failing(httpx.AsyncBaseTransport):
    """The embedded backend, except that POST …/statussen answers 500 and DELETE of a zaak 503: the creeerZaak fails
    at its status, and of the compensation (undoing what it made) the zaak's delete fails."""

    def __init__(self) -> None:
        self.inner: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path.endswith("/statussen"):
            return httpx.Response(500, json={"detail": "kapot"})
        if request.method == "DELETE" and "/zaken/api/v1/zaken/" in path and path.count("/") == 6:
            return httpx.Response(503, json={"detail": "even niet"})
        assert self.inner is not None
        return await self.inner.handle_async_request(request)


async def test_schema_warnings_and_compensations_are_counted(make_settings: Callable[..., Settings],
                                                             schemas: Schemas) -> None:
    backend = Failing()
    app = create_app(traced(make_settings), schemas=schemas, embedded_base=f"{BASE}/zgw", zgw_transport=backend)
    backend.inner = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        # an omschrijving longer than the schema's 80 characters: let through under policy warn, with a warning
        failed = await post(client, creeer_zaak(omschrijving="x" * 100, referentienummer="metrics-compensation"))
        assert failed.status_code == 500 and b"StUF" in failed.content
        [row] = await listed(client, outcome="fault")
        trace = (await client.get(f"/ui/messages/{row['id']}.json")).json()
        found = samples((await client.get("/metrics")).text)
    assert trace["validation"]["outcome"] == "warnings"
    schema = [value for labels, value in found["stuf_bridge_schema_warnings_total"]
              if labels["operation"].startswith("creeerZaak")]
    assert schema and schema[0] >= 1
    steps = trace["compensations"]
    assert any(step["ok"] for step in steps) and any(not step["ok"] for step in steps), steps
    counted = {labels["outcome"]: value for labels, value in found["stuf_bridge_compensations_total"]}
    assert counted == {"ok": sum(1 for s in steps if s["ok"]), "failed": sum(1 for s in steps if not s["ok"])}
