"""One correlation id per message: in every log line while it is handled and in the answer's ``X-Request-ID`` header;
a client's own sensible id is used as it is (the ZGW calls: tests/zgw_client/test_correlation.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import structlog

from stuf_bridge import correlation
from stuf_bridge.operations import MessageContext
from stuf_bridge.settings import Settings
from tests.support.messages import di02



@pytest.mark.parametrize(("sent", "kept"), [("client-42.a:b", True), ("two words", False), ("x" * 65, False),
                                            (None, False)])
async def test_the_answer_names_the_id_every_log_line_of_the_message_had(
        make_client: Callable[..., Any], settings: Settings, sent: str | None, kept: bool) -> None:
    during: list[tuple[str | None, Any]] = []

    async def genereer(ctx: MessageContext) -> None:
        during.append((correlation.current(), structlog.contextvars.get_contextvars().get("correlation_id")))
        raise RuntimeError("stop here")  # the fault answer carries the header too

    client = await make_client(settings)
    client._transport.app.state.gateway.handlers = {"genereerZaakIdentificatie": genereer}  # type: ignore[attr-defined]
    body, headers = di02("genereerZaakIdentificatie")
    if sent is not None:
        headers["X-Request-ID"] = sent
    answer = await client.post("/zds/VrijeBerichten", content=body, headers=headers)
    answered = answer.headers["x-request-id"]
    assert during == [(answered, answered)]
    assert (answered == sent) is kept
    if not kept:
        assert len(answered) == 32 and answered != sent
    assert correlation.current() is None  # nothing leaks past the message
