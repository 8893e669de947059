"""Side by side over real HTTP: a front gateway with a routing table and a legacy side, and a second stuf-bridge
process in translate mode on its own embedded backend as the legacy zaaksysteem — the README's worked example, and a
zaak that only the legacy system knows, whose zaaktype the front gateway asks legacy for."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from stuf_bridge.gateway import parse_answer as answer_element
from stuf_bridge.stuf.namespaces import ZKN
from tests.operations import details_messages as dtm
from tests.operations import messages as zm
from tests.routing.test_routing_http import message_lines
from tests.support.server import running_gateway


def legacy_env(legacy_url: str, routing: dict[str, object]) -> dict[str, str]:
    endpoints = {service: f"{legacy_url}/zds/{service}"
                 for service in ("BeantwoordVraag", "OntvangAsynchroon", "VrijeBerichten")}
    return {"STUF_BRIDGE_LEGACY": json.dumps({"endpoints": endpoints}), "STUF_BRIDGE_ROUTING": json.dumps(routing)}


def post(url: str, service: str, message: tuple[bytes, dict[str, str]]) -> httpx.Response:
    return httpx.post(f"{url}/zds/{service}", content=message[0], headers=message[1], timeout=60)


def test_one_zaaktype_moves_to_zgw_and_each_zaak_keeps_its_side(tmp_path: Path) -> None:
    routing = {"default": "proxy", "rules": [{"match": {"zaaktype": ["MELDING-OR"]}, "mode": "translate",
                                              "name": "melding-to-zgw"}]}
    legacy_log: list[str] = []
    front_log: list[str] = []
    with running_gateway(tmp_path / "legacy", log=legacy_log) as legacy_url, \
            running_gateway(tmp_path / "front", env=legacy_env(legacy_url, routing), log=front_log) as url:
        assert post(url, "OntvangAsynchroon", zm.creeer_zaak(zaaktype="MELDING-OR", identificatie="Z-ZGW-1",
                                                            referentienummer="sbs-1")).status_code == 200
        assert post(url, "OntvangAsynchroon", zm.creeer_zaak(zaaktype="BEZWAAR", identificatie="Z-LEG-1",
                                                            referentienummer="sbs-2")).status_code == 200
        for zaak in ("Z-ZGW-1", "Z-LEG-1"):
            details = post(url, "BeantwoordVraag", dtm.geef_zaakdetails(identificatie=zaak, referentienummer=zaak))
            found = answer_element(details.content).findtext(f".//{{{ZKN}}}antwoord/{{{ZKN}}}object/{{{ZKN}}}"
                                                             "identificatie")
            assert found == zaak
        front = message_lines(front_log, 4)
        legacy = message_lines(legacy_log, 2)
    assert [(line["operation"], line["route"], line["rule"], line["zaaktype_source"]) for line in front] == [
        ("creeerZaak_Lk01", "translate", "melding-to-zgw", "message"),
        ("creeerZaak_Lk01", "proxy", "default", "message"),
        ("geefZaakdetails_Lv01", "translate", "pinned:melding-to-zgw", "registry"),
        ("geefZaakdetails_Lv01", "proxy", "pinned:default", "registry"),
    ]
    # only the BEZWAAR zaak and its question reached legacy, each with the client's own message
    assert [(line["operation"], line["referentienummer"]) for line in legacy] == [
        ("creeerZaak_Lk01", "sbs-2"), ("geefZaakdetails_Lv01", "Z-LEG-1")]


def test_a_zaak_only_legacy_knows_is_routed_by_the_zaaktype_legacy_gives(tmp_path: Path) -> None:
    """The zaak was created in the legacy system before the gateway stood in front of it: the follow-up carries no
    zaaktype, the registry and ZGW do not know the zaak, so the gateway asks legacy (a geefZaakdetails of its own,
    with its own zender and referentienummer) and routes by the answer."""
    routing = {"default": "translate", "rules": [{"match": {"zaaktype": ["BEZWAAR"]}, "mode": "proxy"}]}
    legacy_log: list[str] = []
    front_log: list[str] = []
    with running_gateway(tmp_path / "legacy", log=legacy_log) as legacy_url:
        assert post(legacy_url, "OntvangAsynchroon", zm.creeer_zaak(
            zaaktype="BEZWAAR", identificatie="Z-OLD-1", referentienummer="old-1")).status_code == 200
        with running_gateway(tmp_path / "front", env=legacy_env(legacy_url, routing), log=front_log) as url:
            details = post(url, "BeantwoordVraag", dtm.geef_zaakdetails(identificatie="Z-OLD-1",
                                                                         referentienummer="q-old-1"))
            found = answer_element(details.content).findtext(f".//{{{ZKN}}}antwoord/{{{ZKN}}}object/{{{ZKN}}}"
                                                             "identificatie")
            [front] = message_lines(front_log, 1)
            legacy = message_lines(legacy_log, 3)
    assert found == "Z-OLD-1"
    assert (front["route"], front["rule"], front["zaaktype"], front["zaaktype_source"]) == (
        "proxy", "rules[0]", "BEZWAAR", "legacy")
    asked = legacy[1]  # the gateway's own question, before the client's message itself
    assert asked["operation"] == "geefZaakdetails_Lv01" and asked["referentienummer"] != "q-old-1"
    assert asked["zender"].endswith("/stuf-bridge")
    assert (legacy[2]["operation"], legacy[2]["referentienummer"]) == ("geefZaakdetails_Lv01", "q-old-1")
