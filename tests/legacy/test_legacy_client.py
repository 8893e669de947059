"""The legacy settings, the client's ``call`` for messages the gateway builds, and check-config's legacy section."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from stuf_bridge.checks import run_checks
from stuf_bridge.legacy.client import LegacyClient
from stuf_bridge.legacy.errors import LegacyNotSoap, LegacyTimeout, LegacyUnavailable
from stuf_bridge.settings import Settings, load_settings
from stuf_bridge.stuf.namespaces import STUF
from stuf_bridge.stuf.registry import Service

from ..operations.details_messages import geef_zaakdetails
from ..support.legacy import StandIn, closed_port

URL = "https://zs.gemeente.example/zds/BeantwoordVraag"


def test_legacy_from_yaml_and_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "stuf-bridge.yaml"
    config.write_text(f"legacy:\n  endpoints:\n    BeantwoordVraag: {URL}\n  timeout: 5\n  username: gw\n"
                      "  password: geheim\n")
    for key in [k for k in os.environ if k.startswith("STUF_BRIDGE_")]:
        monkeypatch.delenv(key)
    legacy = load_settings(config).legacy
    assert legacy.endpoints == {Service.BEANTWOORD_VRAAG: URL} and legacy.timeout == 5 and legacy.configured
    assert "geheim" not in repr(legacy)
    # the environment's JSON is laid over the file's block, key by key (pydantic-settings' nested merge)
    monkeypatch.setenv("STUF_BRIDGE_LEGACY", json.dumps({"endpoints": {"VrijeBerichten": URL}, "timeout": 9}))
    merged = load_settings(config).legacy
    assert merged.endpoints == {Service.BEANTWOORD_VRAAG: URL, Service.VRIJE_BERICHTEN: URL} and merged.timeout == 9
    monkeypatch.delenv("STUF_BRIDGE_LEGACY")
    assert not load_settings().legacy.configured


@pytest.mark.parametrize(("legacy", "complaint"), [
    ({"endpoints": {"BeantwoordVragen": URL}}, "BeantwoordVraag"),
    ({"endpoints": {"BeantwoordVraag": "zs.example/zds"}}, "http(s) URL"),
    ({"endpoints": {"BeantwoordVraag": "https://gw:geheim@zs.example/zds"}}, "not in the URL"),
    ({"password": "geheim"}, "needs legacy.username"),
    ({"client_key": "/etc/key.pem"}, "needs legacy.client_cert"),
    ({"endpoints": {}, "retries": 3}, "retries"),
])
def test_a_wrong_legacy_block_stops_the_start(legacy: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        Settings(legacy=legacy)


@pytest.mark.asyncio
async def test_call_tells_a_stuf_fault_from_an_answer(make_settings: Callable[..., Settings],
                                                      standin: StandIn) -> None:
    body, headers = geef_zaakdetails()
    for behaviour, status, fault in [("ok", 200, None), ("fault", 500, ("StUF064", "client", "Object niet gevonden"))]:
        settings = make_settings(legacy={"endpoints": standin.endpoints(behaviour)})
        async with LegacyClient(settings) as client:
            answer = await client.call(Service.BEANTWOORD_VRAAG, body, soap_action=headers["SOAPAction"],
                                       content_type=headers["Content-Type"])
        assert answer.status == status
        if fault is None:
            assert answer.fault is None and answer.message.tag == f"{{{STUF}}}Bv03Bericht"
        else:
            assert answer.fault is not None
            assert (answer.fault.code, answer.fault.plek, answer.fault.omschrijving) == fault
    assert standin.seen[0].body == body and standin.seen[0].headers["soapaction"] == headers["SOAPAction"]


@pytest.mark.asyncio
@pytest.mark.parametrize(("behaviour", "error"), [("html", LegacyNotSoap), ("empty", LegacyNotSoap),
                                                  ("slow", LegacyTimeout), ("down", LegacyUnavailable)])
async def test_call_without_a_usable_answer(make_settings: Callable[..., Settings], standin: StandIn,
                                            behaviour: str, error: type[Exception]) -> None:
    endpoints = standin.endpoints(behaviour) if behaviour != "down" else {"BeantwoordVraag": f"{closed_port()}/zds"}
    settings = make_settings(legacy={"endpoints": endpoints, "timeout": 0.5})
    body, headers = geef_zaakdetails()
    async with LegacyClient(settings) as client:
        with pytest.raises(error) as raised:
            await client.call(Service.BEANTWOORD_VRAAG, body, soap_action=None, content_type=headers["Content-Type"])
    assert raised.value.details is not None and endpoints["BeantwoordVraag"] in raised.value.details  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_check_config_asks_each_legacy_endpoint(make_settings: Callable[..., Settings],
                                                      standin: StandIn) -> None:
    down = f"{closed_port()}/zds/VrijeBerichten"
    settings = make_settings(legacy={"endpoints": {"BeantwoordVraag": standin.endpoints("ok")["BeantwoordVraag"],
                                                   "OntvangAsynchroon": standin.endpoints("html")["OntvangAsynchroon"],
                                                   "VrijeBerichten": down}})
    report = await run_checks(settings)
    legacy = report.lines[report.lines.index("Legacy zaaksysteem") + 1:]
    assert legacy[0].startswith("  ok    BeantwoordVraag") and "GET ?wsdl: HTTP 200" in legacy[0]
    assert legacy[1].startswith("  ok    OntvangAsynchroon") and "lege POST: HTTP 502" in legacy[1]
    assert legacy[2].startswith("  ERROR VrijeBerichten") and down in legacy[2] and "niet bereikbaar" in legacy[2]
    assert report.errors == 1
