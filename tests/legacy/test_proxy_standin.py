"""Proxy mode against the fault-injecting legacy stand-in: bytes and headers pass unchanged both ways, a legacy
StUF fault is the legacy's answer, and a legacy that gives no usable answer is a gateway fault naming it."""

from __future__ import annotations

import base64

import pytest

from ..operations import messages as zm
from ..operations.details_messages import geef_zaakdetails
from ..streaming.messages import mtom, voeg_toe_parts
from ..support.legacy import FAULT_ANSWER, OK_ANSWER, StandIn, as_soap12, closed_port
from .conftest import ProxyApp, gateway_fault

pytestmark = pytest.mark.asyncio


async def test_request_and_answer_pass_unchanged(proxy_app: ProxyApp, standin: StandIn) -> None:
    client = await proxy_app(standin.endpoints("ok"))
    body, headers = geef_zaakdetails()
    body = body.replace(b"<ZKN:identificatie>", b"<ZKN:identificatie> ")  # odd but valid: must stay as it is
    response = await client.post("/zds/BeantwoordVraag", content=body, headers=headers)
    assert response.status_code == 200
    assert response.content == OK_ANSWER
    assert response.headers["content-type"] == "text/xml"  # the legacy's own, no charset added on the way
    [seen] = standin.seen
    assert seen.path == "/ok/BeantwoordVraag"
    assert seen.body == body and seen.size == len(body) and seen.headers["content-length"] == str(len(body))
    assert seen.headers["soapaction"] == headers["SOAPAction"]
    assert seen.headers["content-type"] == headers["Content-Type"]
    # the message's correlation id reaches legacy too, and comes back in the answer's header
    assert seen.headers["x-request-id"] == response.headers["x-request-id"]


async def test_soap12_action_stays_in_the_content_type(proxy_app: ProxyApp, standin: StandIn) -> None:
    client = await proxy_app(standin.endpoints("ok"))
    body, headers = as_soap12(*geef_zaakdetails())
    assert (await client.post("/zds/BeantwoordVraag", content=body, headers=headers)).status_code == 200
    [seen] = standin.seen
    assert seen.body == body and seen.headers["content-type"] == headers["Content-Type"]
    assert "soapaction" not in seen.headers


async def test_mtom_passes_through_with_its_boundary(proxy_app: ProxyApp, standin: StandIn) -> None:
    client = await proxy_app(standin.endpoints("ok"))
    before, after = voeg_toe_parts(referentienummer="mtom-proxy")
    document = bytes(range(256)) * 4096  # 1 MiB of binary, not base64: MTOM's point
    for soap in ("1.1", "1.2"):
        body, content_type = mtom(before, after, {"doc1@example.org": document}, soap=soap)
        response = await client.post("/zds/OntvangAsynchroon", content=body, headers={"Content-Type": content_type})
        assert response.status_code == 200, response.text
        seen = standin.seen[-1]
        assert seen.headers["content-type"] == content_type
        assert seen.size == len(body) and seen.body == body[: 1 << 20]


async def test_same_service_as_posted_and_catch_all_by_operation(proxy_app: ProxyApp, standin: StandIn) -> None:
    client = await proxy_app(standin.endpoints("ok"))
    body, headers = zm.creeer_zaak(referentienummer="catch-all")
    await client.post("/zds", content=body, headers=headers)
    await client.post("/zds/VrijeBerichten", content=body, headers=headers)  # the wrong one: legacy judges that
    assert [seen.path for seen in standin.seen] == ["/ok/OntvangAsynchroon", "/ok/VrijeBerichten"]


async def test_a_proxied_message_is_not_claimed(proxy_app: ProxyApp, standin: StandIn) -> None:
    """A resend goes to legacy again: the legacy end node answers repeats itself (StUF §4.4)."""
    client = await proxy_app(standin.endpoints("ok"))
    body, headers = zm.creeer_zaak(referentienummer="twice")
    for _ in range(2):
        response = await client.post("/zds/OntvangAsynchroon", content=body, headers=headers)
        assert response.content == OK_ANSWER
    assert len(standin.seen) == 2


async def test_legacy_stuf_fault_is_the_answer(proxy_app: ProxyApp, standin: StandIn) -> None:
    client = await proxy_app(standin.endpoints("fault"))
    body, headers = geef_zaakdetails()
    response = await client.post("/zds/BeantwoordVraag", content=body, headers=headers)
    assert response.status_code == 500
    assert response.content == FAULT_ANSWER
    metrics = (await client.get("/metrics")).text
    assert 'outcome="legacy-fault"' in metrics and 'code="StUF064"' in metrics


@pytest.mark.parametrize(("behaviour", "reason", "what"), [
    ("down", "legacy-unavailable", "niet bereikbaar"),
    ("slow", "legacy-timeout", "geen antwoord binnen 0.5 s"),
    ("html", "legacy-not-soap", "text/html"),
    ("empty", "legacy-not-soap", "leeg"),
])
async def test_no_usable_answer_is_a_gateway_fault(proxy_app: ProxyApp, standin: StandIn, behaviour: str,
                                                   reason: str, what: str) -> None:
    endpoints = standin.endpoints(behaviour)
    if behaviour == "down":
        endpoints = {service: f"{closed_port()}/zds/{service}" for service in endpoints}
    client = await proxy_app(endpoints, timeout=0.5)
    for (body, headers), service, kind in [(geef_zaakdetails(), "BeantwoordVraag", "Fo02"),
                                           (zm.creeer_zaak(referentienummer=behaviour), "OntvangAsynchroon", "Fo03")]:
        response = await client.post(f"/zds/{service}", content=body, headers=headers)
        assert response.status_code == 500
        assert f"{kind}Bericht".encode() in response.content
        fault, reden = gateway_fault(response.content)
        assert (fault.code, fault.plek, reden) == ("StUF058", "server", reason)
        assert fault.details is not None and endpoints[service] in fault.details and what in fault.details


async def test_service_without_legacy_endpoint(proxy_app: ProxyApp, standin: StandIn) -> None:
    client = await proxy_app({"BeantwoordVraag": standin.endpoints("ok")["BeantwoordVraag"]})
    body, headers = zm.creeer_zaak(referentienummer="no-endpoint")
    response = await client.post("/zds/OntvangAsynchroon", content=body, headers=headers)
    fault, reden = gateway_fault(response.content)
    assert (response.status_code, fault.code, fault.plek, reden) == (500, "StUF058", "server", "legacy-not-configured")
    assert fault.details is not None and "OntvangAsynchroon" in fault.details and "BeantwoordVraag" in fault.details
    assert not standin.seen


async def test_basic_credentials_go_to_legacy_and_never_into_a_fault(proxy_app: ProxyApp, standin: StandIn) -> None:
    client = await proxy_app(standin.endpoints("html"), username="gateway", password="s3cr3t-legacy")
    body, headers = geef_zaakdetails()
    response = await client.post("/zds/BeantwoordVraag", content=body, headers=headers)
    assert standin.seen[0].headers["authorization"] == "Basic " + base64.b64encode(b"gateway:s3cr3t-legacy").decode()
    assert response.status_code == 500 and b"s3cr3t" not in response.content
