"""geefZaakdetails end to end: creeerZaak through the gateway into the embedded backend, then the question."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from lxml import etree

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import BG, STUF, ZDS, ZKN
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.validation import Schemas

from .conftest import Harness
from .details_messages import HEEFT_ONLY, INITIATOR_ONLY, OMSCHRIJVING_ONLY, geef_zaakdetails
from .messages import ADRES, BELANGHEBBENDE_SAME_PERSON, INITIATOR, creeer_zaak, status

NS = {"Z": ZKN, "S": STUF, "B": BG}
BSN = "999993653"


async def ask(harness: Harness, message: tuple[bytes, dict[str, str]]) -> tuple[httpx.Response, etree._Element]:
    response = await harness.client.post("/zds/BeantwoordVraag", content=message[0], headers=message[1])
    assert response.status_code == 200, response.text
    return response, parse_answer(response.content)


async def create(harness: Harness, **kwargs: str) -> None:
    response = await harness.post(*creeer_zaak(**kwargs))
    assert response.status_code == 200, response.text


def objects(la01: etree._Element) -> list[etree._Element]:
    return la01.findall("Z:antwoord/Z:object", NS)


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_by_identificatie(harness: Harness, schemas: Schemas, dialect: str) -> None:
    await create(harness)
    _, la01 = await ask(harness, geef_zaakdetails(dialect=dialect))
    assert la01.tag == (f"{{{ZKN}}}zakLa01" if dialect == "1.1" else f"{{{ZDS}}}geefZaakdetails_ZakLa01")
    assert schemas.validate(la01) == []
    assert la01.findtext("Z:stuurgegevens/S:berichtcode", namespaces=NS) == "La01"
    assert la01.findtext("Z:stuurgegevens/S:entiteittype", namespaces=NS) == "ZAK"
    assert la01.findtext("Z:stuurgegevens/S:crossRefnummer", namespaces=NS) == "vraag-1"
    assert la01.findtext("Z:stuurgegevens/S:zender/S:applicatie", namespaces=NS) == "stuf-bridge"
    assert la01.findtext("Z:stuurgegevens/S:ontvanger/S:applicatie", namespaces=NS) == "Zaaksysteem"
    assert la01.findtext("Z:parameters/S:indicatorVervolgvraag", namespaces=NS) == "false"
    [obj] = objects(la01)
    assert obj.findtext("Z:identificatie", namespaces=NS) == "0363ZK2024-000101"
    assert obj.findtext("Z:omschrijving", namespaces=NS) == "Melding losliggende stoeptegels"
    assert obj.findtext("Z:startdatum", namespaces=NS) == "20241105"
    assert obj.findtext("Z:kenmerk/Z:kenmerk", namespaces=NS) == "OF-REF-42"
    assert obj.findtext("Z:zaakniveau", namespaces=NS) == "1"
    assert obj.findtext("Z:deelzakenIndicatie", namespaces=NS) == "N"
    assert obj.findtext("Z:isVan/Z:gerelateerde/Z:code", namespaces=NS) == "MELDING-OR"
    bsn = obj.findtext("Z:heeftAlsInitiator/Z:gerelateerde/Z:natuurlijkPersoon/B:inp.bsn", namespaces=NS)
    assert bsn == BSN
    [heeft] = obj.findall("Z:heeft", NS)
    assert heeft.findtext("Z:gerelateerde/Z:omschrijving", namespaces=NS) == "Ontvangen"
    assert heeft.findtext("Z:datumStatusGezet", namespaces=NS).startswith("20241105")
    assert heeft.findtext("Z:indicatieLaatsteStatus", namespaces=NS) == "J"


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_without_scope_the_gateway_chooses(harness: Harness, schemas: Schemas, dialect: str) -> None:
    await create(harness, relations=BELANGHEBBENDE_SAME_PERSON)
    _, la01 = await ask(harness, geef_zaakdetails(dialect=dialect, scope=None))
    assert schemas.validate(la01) == []
    [obj] = objects(la01)
    assert obj.findtext("Z:omschrijving", namespaces=NS) == "Melding losliggende stoeptegels"
    assert obj.findtext("Z:isVan/Z:gerelateerde/Z:code", namespaces=NS) == "MELDING-OR"
    assert obj.find("Z:heeftAlsInitiator", NS) is not None
    assert obj.find("Z:heeftAlsBelanghebbende", NS) is None  # not in the default scope
    assert len(obj.findall("Z:heeft", NS)) == 1


async def ask_counting(harness: Harness, message: tuple[bytes, dict[str, str]]) -> tuple[list[str], etree._Element]:
    """The answer and the paths' last segments of the ZGW calls made for it. The gateway records each message's
    calls with ``record_zgw_calls()`` (``Reply.zgw_calls``); without that, the backend transport's log."""
    before = len(harness.transport.requests)
    reply = await harness.gateway.handle(
        Service.BEANTWOORD_VRAAG,
        message[0],
        content_type=message[1]["Content-Type"],
        soap_action=message[1]["SOAPAction"],
    )
    assert reply.status == 200, reply.body
    recorded = getattr(reply, "zgw_calls", None)
    if recorded is not None:
        paths = [httpx.URL(call.url).path for call in recorded]
    else:
        paths = [path for _, path, _ in harness.transport.requests[before:]]
    return [path.rstrip("/").rsplit("/", 1)[-1] for path in paths], parse_answer(reply.body)


async def test_a_narrow_scope_makes_fewer_zgw_calls(harness: Harness, schemas: Schemas) -> None:
    await create(harness)
    await ask(harness, geef_zaakdetails(referentienummer="warm-up"))  # fills the catalogue cache
    everything, full = await ask_counting(harness, geef_zaakdetails())
    initiator, narrow = await ask_counting(harness, geef_zaakdetails(scope=None, elements=INITIATOR_ONLY))
    omschrijving, own = await ask_counting(harness, geef_zaakdetails(scope=None, elements=OMSCHRIJVING_ONLY))
    for la01 in (full, narrow, own):
        assert schemas.validate(la01) == []
    assert initiator == ["zaken", "rollen"]
    assert omschrijving == ["zaken"]
    assert len(omschrijving) < len(initiator) < len(everything)
    assert {"rollen", "statussen", "zaakobjecten"} <= set(everything)
    [obj] = objects(narrow)
    assert [etree.QName(c).localname for c in obj] == ["identificatie", "heeftAlsInitiator"]
    [obj] = objects(own)
    assert [etree.QName(c).localname for c in obj] == ["identificatie", "omschrijving"]


async def test_scope_heeft_fetches_statussen(harness: Harness, schemas: Schemas) -> None:
    await create(harness)
    called, la01 = await ask_counting(harness, geef_zaakdetails(dialect="1.2", scope=None, elements=HEEFT_ONLY))
    assert schemas.validate(la01) == []
    assert "statussen" in called and "rollen" not in called and "zaakobjecten" not in called
    [obj] = objects(la01)
    assert [etree.QName(c).localname for c in obj] == ["identificatie", "heeft"]


async def test_kerngegevens(harness: Harness, schemas: Schemas) -> None:
    await create(harness)
    _, la01 = await ask(harness, geef_zaakdetails(scope="kerngegevens"))
    assert schemas.validate(la01) == []
    [obj] = objects(la01)
    assert [etree.QName(c).localname for c in obj] == ["identificatie"]


async def test_by_bsn_gives_the_zaken_of_that_initiator(harness: Harness, schemas: Schemas) -> None:
    await create(harness, identificatie="0363ZK2024-000301", referentienummer="z1")
    await create(harness, identificatie="0363ZK2024-000302", referentienummer="z2")
    # the person is only belanghebbende here, someone else is the initiator: ZRC's two rol__ filters both
    # match (each a different rol), the flow must leave this zaak out
    await create(
        harness,
        identificatie="0363ZK2024-000303",
        referentienummer="z3",
        relations=BELANGHEBBENDE_SAME_PERSON,
        initiator=INITIATOR.replace(BSN, "999990019"),
    )
    _, la01 = await ask(harness, geef_zaakdetails(bsn=BSN))
    assert schemas.validate(la01) == []
    found = sorted(obj.findtext("Z:identificatie", namespaces=NS) for obj in objects(la01))
    assert found == ["0363ZK2024-000301", "0363ZK2024-000302"]


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_unknown_zaak_is_la01_without_antwoord(harness: Harness, schemas: Schemas, dialect: str) -> None:
    _, la01 = await ask(harness, geef_zaakdetails(dialect=dialect, identificatie="0363ZK2024-999999"))
    assert schemas.validate(la01) == []
    assert la01.findtext("Z:stuurgegevens/S:berichtcode", namespaces=NS) == "La01"
    assert la01.find("Z:antwoord", NS) is None


class LinkingTransport(httpx.AsyncBaseTransport):
    """Adds fields to the zaken the backend answers with (``extra`` by zaak URL): the embedded catalogue has no
    zaaktype with deelzaaktypen, so ZRC refuses a real hoofdzaak there."""

    def __init__(self, inner: httpx.AsyncBaseTransport, extra: dict[str, dict[str, Any]]):
        self.inner, self.extra = inner, extra

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "GET" or "/zaken/api/v1/zaken" not in request.url.path:
            return response
        await response.aread()
        body = json.loads(response.content)
        if not isinstance(body, dict):  # e.g. …/zaakeigenschappen, a plain array
            return httpx.Response(response.status_code, json=body, request=request)
        for zaak in body.get("results", []) if "results" in body else [body]:
            zaak.update(self.extra.get(str(zaak.get("url")), {}))
        return httpx.Response(response.status_code, json=body, request=request)


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_hoofdzaak_deelzaak_and_related(harness: Harness, schemas: Schemas, dialect: str) -> None:
    await create(harness, identificatie="0363ZK2024-000401", referentienummer="h1")
    await create(harness, identificatie="0363ZK2024-000402", referentienummer="d1", omschrijving="Deelzaak")
    [hoofd] = await harness.all("zaken", identificatie="0363ZK2024-000401")
    [deel] = await harness.all("zaken", identificatie="0363ZK2024-000402")
    harness.transport.inner = LinkingTransport(
        harness.transport.inner,
        {
            deel["url"]: {"hoofdzaak": hoofd["url"]},
            hoofd["url"]: {
                "deelzaken": [deel["url"]],
                "relevanteAndereZaken": [{"url": deel["url"], "aardRelatie": "vervolg"}],
            },
        },
    )

    _, la01 = await ask(harness, geef_zaakdetails(dialect=dialect, identificatie="0363ZK2024-000402"))
    assert schemas.validate(la01) == []
    [obj] = objects(la01)
    assert obj.findtext("Z:zaakniveau", namespaces=NS) == "2"
    assert obj.findtext("Z:deelzakenIndicatie", namespaces=NS) == "N"
    assert obj.findtext("Z:heeftAlsHoofdzaak/Z:gerelateerde/Z:identificatie", namespaces=NS) == "0363ZK2024-000401"

    _, la01 = await ask(harness, geef_zaakdetails(dialect=dialect, identificatie="0363ZK2024-000401"))
    assert schemas.validate(la01) == []
    [obj] = objects(la01)
    assert obj.findtext("Z:zaakniveau", namespaces=NS) == "1"
    assert obj.findtext("Z:deelzakenIndicatie", namespaces=NS) == "J"
    deelzaak = obj.find("Z:heeftAlsDeelzaak/Z:gerelateerde", NS)
    assert deelzaak is not None
    assert deelzaak.findtext("Z:identificatie", namespaces=NS) == "0363ZK2024-000402"
    assert deelzaak.findtext("Z:omschrijving", namespaces=NS) == "Deelzaak"
    andere = obj.findtext("Z:heeftBetrekkingOpAndere/Z:gerelateerde/Z:identificatie", namespaces=NS)
    assert andere == "0363ZK2024-000402"


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
async def test_alles_gives_resultaat_zaakobject_other_roles_and_all_statussen(
    harness: Harness, schemas: Schemas, dialect: str
) -> None:
    await create(
        harness,
        resultaat="Opgelost",
        relations=ADRES + BELANGHEBBENDE_SAME_PERSON,
        statussen=status("Ontvangen", "20240715101500", "1") + status("In behandeling", "20240716090000", "2"),
    )
    _, la01 = await ask(harness, geef_zaakdetails(dialect=dialect, scope="alles"))
    assert schemas.validate(la01) == []
    [obj] = objects(la01)
    assert obj.findtext("Z:resultaat/Z:omschrijving", namespaces=NS) == "Opgelost"
    assert obj.findtext("Z:heeftBetrekkingOp/Z:gerelateerde/Z:adres/B:huisnummer", namespaces=NS) == "263"
    assert obj.find("Z:heeftAlsBelanghebbende", NS) is not None
    assert obj.find("Z:heeftAlsInitiator", NS) is not None
    heeft = obj.findall("Z:heeft", NS)
    assert [h.findtext("Z:gerelateerde/Z:omschrijving", namespaces=NS) for h in heeft] == [
        "Ontvangen",
        "In behandeling",
    ]
    assert [h.findtext("Z:indicatieLaatsteStatus", namespaces=NS) for h in heeft] == ["N", "J"]
    assert heeft[0].findtext("Z:datumStatusGezet", namespaces=NS) == "20240715101500000"  # Amsterdam time
    assert obj.findtext("S:extraElementen/S:extraElement[@naam='categorie']", namespaces=NS) == "straat"


ZAKEN_ZOEKEN = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <ZKN:zakLv01 xmlns:ZKN="{ZKN}" xmlns:StUF="http://www.egem.nl/StUF/StUF0301"
               xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
   <ZKN:stuurgegevens><StUF:berichtcode>Lv01</StUF:berichtcode><StUF:entiteittype>ZAK</StUF:entiteittype></ZKN:stuurgegevens>
   <ZKN:parameters><StUF:sortering>0</StUF:sortering><StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag></ZKN:parameters>
   <ZKN:gelijk StUF:entiteittype="ZAK">
    <ZKN:einddatum xsi:nil="true" StUF:noValue="geenWaarde"/>
    <ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI">
     <ZKN:gerelateerde StUF:entiteittype="BTR"><ZKN:identificatie>11999993653</ZKN:identificatie></ZKN:gerelateerde>
    </ZKN:heeftAlsInitiator>
   </ZKN:gelijk>
   <ZKN:scope><ZKN:object StUF:entiteittype="ZAK">
    <ZKN:identificatie xsi:nil="true"/><ZKN:omschrijving xsi:nil="true"/><ZKN:einddatum xsi:nil="true"/>
    <ZKN:heeftRelevant StUF:entiteittype="ZAKEDC"><ZKN:gerelateerde StUF:entiteittype="EDC"/></ZKN:heeftRelevant>
   </ZKN:object></ZKN:scope>
  </ZKN:zakLv01>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


async def test_zaken_zoeken_open_zaken_of_an_initiator_without_zender(harness: Harness, schemas: Schemas) -> None:
    """Suites4SociaalDomein's "zaken zoeken": a StUF-ZKN zakLv01 (SOAPAction …/zakLv01, no zender) for the open
    zaken (gelijk/einddatum geenWaarde) of an initiator. Answered as geefZaakdetails, with a warning."""
    await create(harness, identificatie="0363ZK2024-000801", referentienummer="zz-1")
    await create(harness, identificatie="0363ZK2024-000802", referentienummer="zz-2")
    [closed] = await harness.all("zaken", identificatie="0363ZK2024-000802")
    eindstatus = (await harness.zgw.catalogue.statustypen(closed["zaaktype"]))[-1]
    resultaattype = (await harness.zgw.catalogue.resultaattypen(closed["zaaktype"]))[0]
    await harness.zgw.zaken.create("resultaten", {"zaak": closed["url"], "resultaattype": resultaattype["url"]})
    await harness.zgw.zaken.create("statussen", {"zaak": closed["url"], "statustype": eindstatus["url"],
                                                 "datumStatusGezet": "2024-11-07T10:00:00+01:00"})
    reply = await harness.gateway.handle(Service.BEANTWOORD_VRAAG, ZAKEN_ZOEKEN, content_type="text/xml",
                                         soap_action='"http://www.egem.nl/StUF/sector/zkn/0310/zakLv01"')
    assert reply.status == 200, reply.body.decode()
    assert reply.operation == "geefZaakdetails_Lv01"
    assert any("zender ontbreekt" in w for w in reply.warnings), reply.warnings
    la01 = parse_answer(reply.body)
    assert schemas.validate(la01) == []
    assert [o.findtext("Z:identificatie", namespaces=NS) for o in objects(la01)] == ["0363ZK2024-000801"]
