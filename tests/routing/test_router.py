"""The router against the embedded ZGW backend (the operations harness): where the zaaktype of a message comes from
(the message, the zaak registry, ZGW, the legacy system, nowhere), that a zaak keeps the route it was created under
whatever the rules say later, and that nothing is looked up that no rule needs.

Proxy and replicate have no flow in this branch yet: the gateways here get a stand-in for them that answers as the
legacy side would (a Bv03) and notes which messages reached it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
import structlog
from lxml import etree

from stuf_bridge.gateway import Gateway, Reply
from stuf_bridge.pipeline import Exchange, Mode
from stuf_bridge.routing.config import RoutingSettings
from stuf_bridge.routing.router import RuleRouter
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import STUF
from stuf_bridge.stuf.registry import REGISTRY
from stuf_bridge.stuf.stuurgegevens import Stuurgegevens, Systeem
from stuf_bridge.stuf.subject import Subject
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.zgw import ZgwError
from tests.operations import details_messages as dtm
from tests.operations import document_messages as dm
from tests.operations import messages as zm
from tests.operations import status_messages as sm
from tests.operations.conftest import Harness, running_harness

Message = tuple[bytes, dict[str, str]]
PROXY_MELDINGEN = {"rules": [{"match": {"zaaktype": ["MELDING-OR"]}, "mode": "proxy"}]}
PROXY_B1026 = {"rules": [{"match": {"zaaktype": ["B1026"]}, "mode": "proxy"}]}


@dataclass
class Routed:
    """A gateway with a routing table, on the harness's store and ZGW."""

    gateway: Gateway
    router: RuleRouter
    legacy: list[str] = field(default_factory=list)  # the operations that went to the legacy side

    async def send(self, message: Message) -> tuple[Reply, dict[str, Any]]:
        """The reply and the message's log line."""
        body, headers = message
        with structlog.testing.capture_logs() as logs:
            reply = await self.gateway.handle(None, body, content_type=headers["Content-Type"],
                                              soap_action=headers["SOAPAction"])
        return reply, next(entry for entry in logs if entry["event"] == "message")


@pytest_asyncio.fixture
async def harness(make_settings: Callable[..., Settings], schemas: Schemas) -> AsyncIterator[Harness]:
    async with running_harness(make_settings(), schemas) as running:
        yield running


@pytest.fixture
def routed(harness: Harness, schemas: Schemas) -> Callable[..., Routed]:
    def make(table: dict[str, Any], legacy_zaaktype: Callable[[str], Awaitable[str | None]] | None = None) -> Routed:
        router = RuleRouter(RoutingSettings.model_validate(table), harness.gateway.store, harness.zgw,
                            legacy_zaaktype=legacy_zaaktype)
        routed = Routed(harness.gateway, router)  # replaced below

        async def legacy_side(x: Exchange) -> None:
            assert x.operation is not None
            routed.legacy.append(x.operation.function)
            answer = etree.Element(f"{{{STUF}}}Bv03Bericht", nsmap={"StUF": STUF})
            etree.SubElement(answer, f"{{{STUF}}}stuurgegevens")
            x.answer = answer

        routed.gateway = Gateway(harness.settings, harness.gateway.store, schemas, zgw=harness.zgw,
                                 mappings=harness.gateway.mappings, router=router,
                                 modes={Mode.PROXY: legacy_side, Mode.REPLICATE: legacy_side})
        return routed

    return make


def fields(line: dict[str, Any]) -> tuple[Any, ...]:
    return line["route"], line["rule"], line["zaaktype"], line["zaaktype_source"]


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def follow_ups(zaak: str, document: str, dialect: str) -> list[Message]:
    """Messages about a zaak that carry no zaaktype (no isVan)."""
    return [
        sm.actualiseer_zaakstatus(dialect=dialect, identificatie=zaak, referentienummer=unique("status-")),
        dm.voeg_zaakdocument_toe(dialect=dialect, identificatie=document, zaak=zaak,
                                 referentienummer=unique("doc-")),
        dtm.geef_zaakdetails(dialect=dialect, identificatie=zaak),
        dm.geef_zaakdocument_lezen(dialect=dialect, identificatie=document),  # names only the document
    ]


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_follow_ups_without_zaaktype_go_where_their_zaak_went(routed: Callable[..., Routed],
                                                                     dialect: str) -> None:
    gateway = routed(PROXY_MELDINGEN)
    zaak, document = unique("ZK-"), unique("D-")
    reply, line = await gateway.send(zm.creeer_zaak(dialect=dialect, identificatie=zaak,
                                                    referentienummer=unique("creeer-")))
    assert reply.outcome == "ok"
    assert fields(line) == ("proxy", "rules[0]", "MELDING-OR", "message")
    for message in follow_ups(zaak, document, dialect):
        reply, line = await gateway.send(message)
        assert reply.outcome == "ok", line
        assert fields(line) == ("proxy", "pinned:rules[0]", "MELDING-OR", "registry")
        assert reply.zgw_calls == []  # the registry knew: nothing asked of ZGW
    assert gateway.legacy == ["creeerZaak", "actualiseerZaakstatus", "voegZaakdocumentToe", "geefZaakdetails",
                              "geefZaakdocumentLezen"]


async def test_changing_the_rules_does_not_move_a_pinned_zaak(routed: Callable[..., Routed]) -> None:
    """Both ways: a proxied zaak stays with legacy, a translated one stays with ZGW (and is handled there)."""
    proxied, translated = unique("ZK-"), unique("ZK-")
    before = routed({"rules": [{"match": {"zaaktype": ["MELDING-OR"], "zender": "0363/OpenFormulieren"},
                                "mode": "proxy"}]})
    reply, _ = await before.send(zm.creeer_zaak(identificatie=proxied, referentienummer=unique("c-")))
    assert reply.outcome == "ok"
    reply, line = await before.send(zm.creeer_zaak(identificatie=translated, organisatie="0599",
                                                   referentienummer=unique("c-")))
    assert (reply.outcome, line["route"], line["rule"]) == ("ok", "translate", "default")  # created in ZGW

    after = routed({"default": {"mode": "replicate", "primary": "zgw"},
                    "rules": [{"match": {"zaaktype": ["MELDING-OR"]}, "mode": "translate"}]})
    reply, line = await after.send(sm.actualiseer_zaakstatus(identificatie=proxied, referentienummer=unique("s-")))
    assert fields(line) == ("proxy", "pinned:rules[0]", "MELDING-OR", "registry")
    assert after.legacy == ["actualiseerZaakstatus"]
    reply, line = await after.send(sm.actualiseer_zaakstatus(identificatie=translated, referentienummer=unique("s-")))
    assert fields(line) == ("translate", "pinned:default", "MELDING-OR", "registry")
    assert reply.outcome == "ok", line  # the status was set in ZGW, where the zaak is
    # a new zaak follows the new rules
    reply, line = await after.send(zm.creeer_zaak(identificatie=unique("ZK-"), referentienummer=unique("c-")))
    assert fields(line) == ("translate", "rules[0]", "MELDING-OR", "message")


async def test_a_failed_creeer_zaak_is_not_pinned(routed: Callable[..., Routed], harness: Harness) -> None:
    gateway = routed(PROXY_B1026)
    zaak = unique("ZK-")
    reply, line = await gateway.send(zm.creeer_zaak(identificatie=zaak, zaaktype="ONBEKEND",
                                                    referentienummer=unique("c-")))
    assert (reply.outcome, line["route"]) == ("fault", "translate")
    assert await harness.gateway.store.zaak_route(zaak) is None


async def test_a_zaak_the_registry_does_not_know_is_found_in_zgw(routed: Callable[..., Routed],
                                                                 harness: Harness) -> None:
    zaak = unique("ZK-")
    reply = await harness.handle(*zm.creeer_zaak(identificatie=zaak, referentienummer=unique("c-")))  # no router
    assert reply.outcome == "ok"
    gateway = routed(PROXY_MELDINGEN)
    reply, line = await gateway.send(dtm.geef_zaakdetails(identificatie=zaak))
    assert fields(line) == ("proxy", "rules[0]", "MELDING-OR", "zgw")
    assert reply.zgw_calls and reply.zgw_calls[0].api == "zaken" and all(c.method == "GET" for c in reply.zgw_calls)
    reply, line = await gateway.send(sm.actualiseer_zaakstatus(identificatie=zaak, referentienummer=unique("s-")))
    assert fields(line) == ("proxy", "rules[0]", "MELDING-OR", "zgw")
    assert reply.zgw_calls == []  # kept a while
    assert gateway.legacy == ["geefZaakdetails", "actualiseerZaakstatus"]


async def test_a_document_the_registry_does_not_know_is_found_through_zgw(routed: Callable[..., Routed],
                                                                          harness: Harness) -> None:
    zaak, document = unique("ZK-"), unique("D-")
    assert (await harness.handle(*zm.creeer_zaak(identificatie=zaak, referentienummer=unique("c-")))).outcome == "ok"
    added = await harness.handle(*dm.voeg_zaakdocument_toe(identificatie=document, zaak=zaak,
                                                           referentienummer=unique("d-")))
    assert added.outcome == "ok"
    gateway = routed(PROXY_MELDINGEN)
    reply, line = await gateway.send(dm.geef_zaakdocument_lezen(identificatie=document))
    assert fields(line) == ("proxy", "rules[0]", "MELDING-OR", "zgw")


async def test_then_the_legacy_system_and_its_answer_is_kept(routed: Callable[..., Routed]) -> None:
    asked: list[str] = []

    async def legacy_zaaktype(zaak: str) -> str | None:
        asked.append(zaak)
        return "B1026" if zaak.startswith("LEG-") else None

    gateway = routed(PROXY_B1026, legacy_zaaktype)
    zaak = unique("LEG-")
    for message in (dtm.geef_zaakdetails(identificatie=zaak),
                    sm.actualiseer_zaakstatus(identificatie=zaak, referentienummer=unique("s-"))):
        reply, line = await gateway.send(message)
        assert fields(line) == ("proxy", "rules[0]", "B1026", "legacy")
    assert asked == [zaak]
    assert gateway.legacy == ["geefZaakdetails", "actualiseerZaakstatus"]


async def test_found_nowhere_the_default_applies(routed: Callable[..., Routed]) -> None:
    async def legacy_zaaktype(zaak: str) -> str | None:
        return None

    gateway = routed(PROXY_B1026, legacy_zaaktype)
    reply, line = await gateway.send(dtm.geef_zaakdetails(identificatie=unique("NERGENS-")))
    assert fields(line) == ("translate", "default", None, None)
    assert (reply.outcome, gateway.legacy) == ("ok", [])  # translated: an empty answer from ZGW


def operation(function: str) -> Any:
    return next(op for op in REGISTRY.operations if op.function == function)


STUURGEGEVENS = Stuurgegevens(berichtcode="Lv01", zender=Systeem("0363", "GISVG"), referentienummer="r")


@pytest.mark.parametrize(("table", "function", "subject"), [
    ({"rules": [{"match": {"zender": "0363/GISVG"}, "mode": "proxy"}]}, "geefZaakdetails", Subject(zaak="Z-1")),
    ({"rules": [{"match": {"zaaktype": "B1026", "operation": "creeerZaak"}, "mode": "proxy"}]}, "geefZaakdetails",
     Subject(zaak="Z-1")),
    ({"rules": [{"match": {"zender": "0363/*"}, "mode": "proxy"}, {"match": {"zaaktype": "B1"}, "mode": "proxy"}]},
     "updateZaak", Subject(zaak="Z-1")),
    (PROXY_B1026, "genereerZaakIdentificatie", Subject()),
], ids=["no zaaktype rule", "zaaktype rule for another operation", "a zender rule decides first", "nothing named"])
async def test_no_look_up_that_no_rule_needs(harness: Harness, monkeypatch: pytest.MonkeyPatch,
                                             table: dict[str, Any], function: str, subject: Subject) -> None:
    asked: list[str] = []

    async def legacy_zaaktype(zaak: str) -> str | None:
        asked.append(zaak)
        return "B1026"

    store = harness.gateway.store
    original = store.zaak_route

    async def zaak_route(identificatie: str) -> Any:
        asked.append(f"registry:{identificatie}")
        return await original(identificatie)

    monkeypatch.setattr(store, "zaak_route", zaak_route)
    router = RuleRouter(RoutingSettings.model_validate(table), store, harness.zgw, legacy_zaaktype=legacy_zaaktype)
    before = len(harness.transport.requests)
    route = await router.route(operation(function), STUURGEGEVENS, subject)
    assert len(harness.transport.requests) == before  # no ZGW call
    assert asked == ([f"registry:{subject.zaak}"] if subject.zaak else [])  # the registry only: the pin holds
    assert route.zaaktype_source is None


async def test_a_failed_zgw_look_up_is_a_fault_unless_legacy_answers(harness: Harness) -> None:
    async def legacy_zaaktype(zaak: str) -> str | None:
        return "B1026"

    subject = Subject(zaak=unique("ZK-"))
    harness.transport.fail_on = ("GET", "/zaken", 1)
    router = RuleRouter(RoutingSettings.model_validate(PROXY_B1026), harness.gateway.store, harness.zgw)
    with pytest.raises(ZgwError):
        await router.route(operation("geefZaakdetails"), STUURGEGEVENS, subject)
    harness.transport.fail_on, harness.transport.seen = ("GET", "/zaken", 1), 0
    router = RuleRouter(RoutingSettings.model_validate(PROXY_B1026), harness.gateway.store, harness.zgw,
                        legacy_zaaktype=legacy_zaaktype)
    route = await router.route(operation("geefZaakdetails"), STUURGEGEVENS, subject)
    assert (route.mode, route.zaaktype, route.zaaktype_source) == (Mode.PROXY, "B1026", "legacy")
