"""The message's log line has the level alerting needs: an answer info, a client's fault warning, a fault the
gateway or its backends caused (plek server) error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from stuf_bridge.settings import Settings
from tests.operations import messages as zm
from tests.support.messages import di02


@pytest.mark.parametrize(("case", "level", "plek"), [
    ("answer", "info", None),
    ("client-fault", "warning", "client"),
    ("server-fault", "error", "server"),
])
async def test_the_message_line_is_logged_at_the_level_of_its_outcome(
    make_settings: Callable[..., Settings], make_client: Callable[..., Any], case: str, level: str,
    plek: str | None,
) -> None:
    # the answer on the embedded backend (genereerZaakIdentificatie asks ZGW whether the number is free); the faults
    # with an external backend on a closed port: a creeerZaak cannot reach it (the gateway's side: plek server)
    backend = {} if case == "answer" else {"zgw_url": "http://127.0.0.1:9", "zgw_timeout": 2}
    settings = make_settings(default_rsin="002220647", **backend)
    client = await make_client(settings)
    if case == "answer":
        body, headers = di02(referentienummer="levels-1")
        service = "VrijeBerichten"
    elif case == "client-fault":
        body, headers = di02(referentienummer="levels-2")
        body = body.replace(b"</ZKN:stuurgegevens>", b"")  # broken XML: the client's mistake
        service = "VrijeBerichten"
    else:
        body, headers = zm.creeer_zaak(identificatie="0363ZK-LEVELS-1", referentienummer="levels-3")
        service = "OntvangAsynchroon"
    with capture_logs() as logs:
        answer = await client.post(f"/zds/{service}", content=body, headers=headers)
    [line] = [entry for entry in logs if entry["event"] == "message"]
    assert line["log_level"] == level, (line, answer.text)
    assert (answer.status_code == 200) == (plek is None)
    if plek is not None:
        assert f"<StUF:plek>{plek}</StUF:plek>" in answer.text, answer.text
