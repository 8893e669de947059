"""Nothing twice: a resend gets the stored answer, a reused referentienummer with another body gets StUF016,
a failed message can be sent again, and concurrent copies are processed once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from lxml import etree

from stuf_bridge.gateway import Gateway, parse_answer
from stuf_bridge.operations import MessageContext, default_handlers
from stuf_bridge.settings import load_settings
from stuf_bridge.store import Store, create_store
from stuf_bridge.stuf.namespaces import STUF, ZKN
from stuf_bridge.stuf.validation import Schemas

from .support.faults import stuf_fault
from .support.messages import di02

NS = {"ZKN": ZKN, "StUF": STUF}


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with create_store(f"sqlite:///{tmp_path / 'store.sqlite3'}") as opened:
        yield opened


def _gateway(store: Store, schemas: Schemas, handlers=None, **settings) -> Gateway:
    return Gateway(load_settings(None, **settings), store, schemas, handlers=handlers)


async def _send(gateway: Gateway, **kw):
    body, headers = di02(**kw)
    return await gateway.handle(None, body, content_type=headers["Content-Type"], soap_action=headers["SOAPAction"])


def _identificatie(reply) -> str:
    return parse_answer(reply.body).findtext("ZKN:zaak/ZKN:identificatie", namespaces=NS)


async def test_resend_gets_the_stored_answer(store: Store, schemas: Schemas) -> None:
    gateway = _gateway(store, schemas)
    first = await _send(gateway, referentienummer="r-1")
    again = await _send(gateway, referentienummer="r-1")
    other = await _send(gateway, referentienummer="r-2")
    assert first.status == again.status == 200
    assert parse_answer(again.body).findtext(".//StUF:referentienummer", namespaces=NS) == parse_answer(
        first.body).findtext(".//StUF:referentienummer", namespaces=NS)
    assert _identificatie(again) == _identificatie(first)
    assert int(_identificatie(other)[-7:]) == int(_identificatie(first)[-7:]) + 1
    assert any("herhaald bericht" in w for w in again.warnings)


async def test_resend_with_a_new_tijdstip_is_still_the_same_message(store: Store, schemas: Schemas) -> None:
    gateway = _gateway(store, schemas)
    body, headers = di02(referentienummer="r-t")
    first = await gateway.handle(None, body, content_type=headers["Content-Type"], soap_action=None)
    later = body.replace(b"20241124120000000", b"20241124120500000")
    again = await gateway.handle(None, later, content_type=headers["Content-Type"], soap_action=None)
    assert _identificatie(again) == _identificatie(first)


async def test_reused_referentienummer_with_another_body_is_stuf016(store: Store, schemas: Schemas) -> None:
    gateway = _gateway(store, schemas)
    await _send(gateway, referentienummer="r-3")
    reply = await _send(gateway, referentienummer="r-3", operation="genereerDocumentIdentificatie")
    assert reply.status == 500 and reply.fault_code == "StUF016"
    assert b"al gebruikt" in reply.body


async def test_another_sender_may_use_the_same_referentienummer(store: Store, schemas: Schemas) -> None:
    gateway = _gateway(store, schemas)
    a = await _send(gateway, referentienummer="r-4", applicatie="A")
    b = await _send(gateway, referentienummer="r-4", applicatie="B", operation="genereerDocumentIdentificatie")
    assert a.status == b.status == 200


async def test_a_failed_message_can_be_sent_again(store: Store, schemas: Schemas) -> None:
    calls = 0
    real = default_handlers()["genereerZaakIdentificatie"]

    async def flaky(ctx: MessageContext) -> etree._Element | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("backend hiccup")
        return await real(ctx)

    gateway = _gateway(store, schemas, handlers={**default_handlers(), "genereerZaakIdentificatie": flaky})
    first = await _send(gateway, referentienummer="r-5")
    second = await _send(gateway, referentienummer="r-5")
    assert first.status == 500 and first.fault_code == "StUF058"
    assert second.status == 200 and calls == 2


async def test_concurrent_copies_are_processed_once(store: Store, schemas: Schemas) -> None:
    calls = 0
    real = default_handlers()["genereerZaakIdentificatie"]

    async def slow(ctx: MessageContext) -> etree._Element | None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)
        return await real(ctx)

    gateway = _gateway(store, schemas, handlers={**default_handlers(), "genereerZaakIdentificatie": slow})
    replies = await asyncio.gather(*(_send(gateway, referentienummer="r-6") for _ in range(5)))
    assert calls == 1
    assert {r.status for r in replies} == {200}
    assert len({_identificatie(r) for r in replies}) == 1


async def test_a_resend_that_waits_too_long_gets_a_clear_fault(store: Store, schemas: Schemas) -> None:
    real = default_handlers()["genereerZaakIdentificatie"]

    async def slow(ctx: MessageContext) -> etree._Element | None:
        await asyncio.sleep(0.5)
        return await real(ctx)

    gateway = _gateway(store, schemas, handlers={**default_handlers(), "genereerZaakIdentificatie": slow},
                       idempotency_wait_seconds=0.1)
    first, second = await asyncio.gather(_send(gateway, referentienummer="r-7"), _send(gateway, referentienummer="r-7"))
    assert sorted([first.status, second.status]) == [200, 500]
    assert b"al verwerkt" in (second.body if second.status == 500 else first.body)


def _rewritten(body: bytes) -> bytes:
    """The same message as another client library writes it: other prefixes, StUF as a default namespace on its
    elements, and an extra unused declaration on the envelope."""
    text = body.decode().replace("StUF:", "st:").replace("xmlns:StUF=", "xmlns:st=").replace("ZKN:", "z:")
    text = text.replace("xmlns:ZKN=", "xmlns:z=").replace("env:", "soapenv:").replace("xmlns:env=", "xmlns:soapenv=")
    text = text.replace("<soapenv:Envelope ", '<soapenv:Envelope xmlns:unused="urn:unused" ')
    return text.replace("<st:zender>", f'<zender xmlns="{STUF}">').replace("</st:zender>", "</zender>").replace(
        "st:organisatie>", "organisatie>").replace("st:applicatie>", "applicatie>", 2).encode()


def test_digest_ignores_soap_version_prefixes_and_unused_declarations() -> None:
    from stuf_bridge.pipeline.claim import digest

    def message(body: bytes) -> etree._Element:
        return etree.fromstring(body)[0][0]  # Envelope → Body → the StUF message

    soap12, _ = di02(soap="1.2", referentienummer="r-d")
    soap11, _ = di02(soap="1.1", referentienummer="r-d")
    other = _rewritten(soap11)
    assert b"st:referentienummer" in other and b"<zender xmlns=" in other and b"soapenv:Body" in other
    digests = {digest(message(body)) for body in (soap12, soap11, other)}
    assert len(digests) == 1
    changed = _rewritten(soap11).replace(b"r-d<", b"r-e<")
    assert digest(message(changed)) not in digests


async def test_a_resend_over_another_soap_version_with_other_prefixes_gets_the_stored_answer(
        store: Store, schemas: Schemas) -> None:
    gateway = _gateway(store, schemas)
    body12, headers12 = di02(soap="1.2", referentienummer="r-v")
    first = await gateway.handle(None, body12, content_type=headers12["Content-Type"], soap_action=None)
    body11, headers11 = di02(soap="1.1", referentienummer="r-v")
    again = await gateway.handle(None, _rewritten(body11), content_type=headers11["Content-Type"],
                                 soap_action=headers11["SOAPAction"])
    assert first.status == again.status == 200, again.body
    assert _identificatie(again) == _identificatie(first)
    assert any("herhaald bericht" in w for w in again.warnings)


async def test_by_body_sender_reusing_one_referentienummer_gets_each_new_message_processed(
        store: Store, schemas: Schemas) -> None:
    gateway = _gateway(store, schemas, idempotency_senders={"*/Rapportage": "by_body"})
    first = await _send(gateway, referentienummer="vast", applicatie="Rapportage")
    other = await _send(gateway, referentienummer="vast", applicatie="Rapportage",
                        operation="genereerDocumentIdentificatie")
    again = await _send(gateway, referentienummer="vast", applicatie="Rapportage")
    assert first.status == other.status == again.status == 200
    assert not any("herhaald bericht" in w for w in other.warnings)
    assert _identificatie(again) == _identificatie(first)  # the same body is still a resend
    assert any("herhaald bericht" in w for w in again.warnings)
    strict = await _send(gateway, referentienummer="vast", applicatie="Ander")  # another sender stays strict
    reused = await _send(gateway, referentienummer="vast", applicatie="Ander",
                         operation="genereerDocumentIdentificatie")
    assert strict.status == 200 and reused.status == 500
    assert stuf_fault(reused).codes == ("StUF016", "referentienummer-reused")


async def test_off_sender_gets_every_message_processed(store: Store, schemas: Schemas) -> None:
    gateway = _gateway(store, schemas, idempotency_senders={"1900/*": "off"})
    first = await _send(gateway, referentienummer="vast")
    again = await _send(gateway, referentienummer="vast")
    assert first.status == again.status == 200
    assert int(_identificatie(again)[-7:]) == int(_identificatie(first)[-7:]) + 1
