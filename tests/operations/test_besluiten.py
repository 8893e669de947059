"""The besluit operations (ZDS 1.2) against the embedded backend over ASGI: voegBesluitToe, updateBesluit,
geefBesluitdetails, geefLijstBesluiten, leidtTot through ``apply_leidt_tot``, faults and compensation."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from stuf_bridge.errors import StepFailed
from stuf_bridge.faults import to_fault
from stuf_bridge.gateway import parse_answer
from stuf_bridge.operations import MessageContext
from stuf_bridge.operations.besluiten import apply_leidt_tot
from stuf_bridge.stuf.namespaces import STUF, ZDS, ZKN
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.stuurgegevens import AnswerParties, read_stuurgegevens
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.zgw import CatalogueNotFound

from ..support.faults import stuf_fault
from ..support.messages import di02
from .besluit_messages import (
    KERN_SCOPE,
    document,
    geef_besluitdetails,
    geef_lijst_besluiten,
    leidt_tot,
    nil_document,
    nil_leidt_tot,
    update_besluit,
    voeg_besluit_toe,
)
from .conftest import Harness
from .messages import creeer_zaak

NS = {"StUF": STUF, "ZKN": ZKN, "ZDS": ZDS}
ZAAK = "0363ZK2024-000201"
ZAAKTYPE = "OMGEVINGSVERGUNNING"


# --- helpers ----------------------------------------------------------------------------------------------------


async def _zaak(harness: Harness, identificatie: str = ZAAK, zaaktype: str = ZAAKTYPE) -> dict[str, Any]:
    response = await harness.post(*creeer_zaak(identificatie=identificatie, zaaktype=zaaktype,
                                               referentienummer=f"creeer-{identificatie}"))
    assert response.status_code == 200, response.text
    return (await harness.all("zaken", identificatie=identificatie))[0]


async def _document(harness: Harness, zaak: dict[str, Any], identificatie: str, iot: str = "Besluit",
                    zaaktype: str = ZAAKTYPE) -> dict[str, Any]:
    """A document made straight in the Documenten API (the document operations are built elsewhere)."""
    zt = await harness.zgw.catalogue.zaaktype(zaaktype)
    informatieobjecttype = await harness.zgw.catalogue.informatieobjecttype(zt, iot)
    eio = await harness.zgw.documenten.create("enkelvoudiginformatieobjecten", {
        "identificatie": identificatie, "bronorganisatie": harness.settings.default_rsin,
        "creatiedatum": "2024-11-08", "titel": f"Document {identificatie}", "auteur": "Team vergunningen",
        "taal": "dut", "informatieobjecttype": informatieobjecttype["url"], "formaat": "application/pdf",
        "inhoud": "JVBERi0xLjQK", "bestandsnaam": f"{identificatie}.pdf", "indicatieGebruiksrecht": False,
    })
    await harness.zgw.zaken.create("zaakinformatieobjecten", {"zaak": zaak["url"], "informatieobject": eio["url"]})
    return eio


async def _send(harness: Harness, message: tuple[bytes, dict[str, str]],
                service: Service = Service.ONTVANG_ASYNCHROON):
    body, headers = message
    return await harness.gateway.handle(service, body, content_type=headers["Content-Type"],
                                        soap_action=headers["SOAPAction"])


async def _ok(harness: Harness, message, schemas: Schemas, service: Service = Service.ONTVANG_ASYNCHROON,
              ) -> etree._Element:
    reply = await _send(harness, message, service)
    assert reply.status == 200, reply.body.decode()
    answer = parse_answer(reply.body)
    assert schemas.validate(answer) == [], etree.tostring(answer, pretty_print=True).decode()
    return answer


async def _besluiten(harness: Harness) -> list[dict[str, Any]]:
    return [b async for b in harness.zgw.besluiten.iterate("besluiten")]


async def _state(harness: Harness) -> tuple[list[Any], list[Any], list[Any]]:
    """The besluiten, the besluitinformatieobjecten and the documents' relations (mirrored by the Documenten
    API): what a besluit operation may change."""
    besluiten = sorted(await _besluiten(harness), key=lambda b: b["url"])
    bios = sorted(await harness.zgw.besluiten.list("besluitinformatieobjecten"), key=lambda b: b["url"])
    oios = sorted(await harness.zgw.documenten.list("objectinformatieobjecten"), key=lambda o: o["url"])
    return besluiten, bios, oios


# --- voegBesluitToe ---------------------------------------------------------------------------------------------


async def test_voeg_besluit_toe_with_documents(harness: Harness, schemas: Schemas) -> None:
    zaak = await _zaak(harness)
    doc1 = await _document(harness, zaak, "0363DOC-1")
    doc2 = await _document(harness, zaak, "0363DOC-2")
    answer = await _ok(harness, voeg_besluit_toe(
        identificatie="0363BS-1", zaak=ZAAK, vervaldatum="20251110", vervalreden="Besluit met tijdelijke werking",
        publicatie="20241111", documenten=document("0363DOC-1") + document("0363DOC-2")), schemas)
    assert answer.tag == f"{{{STUF}}}Bv03Bericht"

    [besluit] = await _besluiten(harness)
    besluittype = await harness.zgw.get(besluit["besluittype"])
    assert besluittype["omschrijving"] == "Omgevingsvergunning verleend"
    assert besluit["identificatie"] == "0363BS-1"
    assert besluit["verantwoordelijkeOrganisatie"] == harness.settings.default_rsin
    assert besluit["zaak"] == zaak["url"]
    assert (besluit["datum"], besluit["ingangsdatum"], besluit["vervaldatum"]) == (
        "2024-11-10", "2024-11-10", "2025-11-10")
    assert besluit["vervalreden"] == "tijdelijk"
    assert (besluit["publicatiedatum"], besluit["verzenddatum"], besluit["uiterlijkeReactiedatum"]) == (
        "2024-11-11", "2024-11-11", "2024-11-11")
    assert besluit["toelichting"] == "Vergunning verleend"
    bios = await harness.zgw.besluiten.list("besluitinformatieobjecten", {"besluit": besluit["url"]})
    assert {b["informatieobject"] for b in bios} == {doc1["url"], doc2["url"]}
    # BRC keeps the zaak's besluiten
    zaakbesluiten = await harness.zgw.zaken.list(f"{zaak['url']}/besluiten")
    assert [zb["besluit"] for zb in zaakbesluiten] == [besluit["url"]]


async def test_generated_identificatie_is_accepted(harness: Harness, schemas: Schemas) -> None:
    """genereerBesluitIdentificatie hands out identifiers voegBesluitToe takes (≤ 40, unique)."""
    await _zaak(harness)
    body, headers = di02("genereerBesluitIdentificatie", dialect="1.2", organisatie="0363", referentienummer="gbi-1")
    du02 = await _ok(harness, (body, headers), schemas, Service.VRIJE_BERICHTEN)
    identificatie = du02.findtext("ZDS:besluit/ZKN:identificatie", namespaces=NS)
    assert identificatie and identificatie.startswith("0363")
    await _ok(harness, voeg_besluit_toe(identificatie=identificatie, zaak=ZAAK), schemas)
    assert [b["identificatie"] for b in await _besluiten(harness)] == [identificatie]


async def test_without_bst_omschrijving_the_only_besluittype(harness: Harness, schemas: Schemas) -> None:
    """The STP messages leave bst.omschrijving out (it is optional): a zaaktype with one besluittype decides."""
    await _zaak(harness, "0363ZK-BEZWAAR", "BEZWAAR")
    reply = await _send(harness, voeg_besluit_toe(identificatie="0363BS-B", zaak="0363ZK-BEZWAAR",
                                                  bst_omschrijving=None))
    assert reply.status == 200, reply.body.decode()
    assert any("enige besluittype" in w for w in reply.warnings), reply.warnings
    [besluit] = await _besluiten(harness)
    assert (await harness.zgw.get(besluit["besluittype"]))["omschrijving"] == "Beslissing op bezwaar"


async def test_without_bst_omschrijving_and_several_besluittypen_is_a_fault(harness: Harness) -> None:
    await _zaak(harness)
    reply = await _send(harness, voeg_besluit_toe(identificatie="0363BS-X", zaak=ZAAK, bst_omschrijving=None))
    assert reply.status == 500
    fault = stuf_fault(reply)
    assert (fault.code, fault.plek, fault.reason) == ("StUF058", "client", "besluittype-not-determined")
    assert "Omgevingsvergunning geweigerd" in fault.details  # what the zaaktype has
    assert await _besluiten(harness) == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("besluittype", ("StUF058", "client", None, "Vergunning ingetrokken")),  # the catalogue's reason (errors.py)
        ("zaak", ("StUF058", "client", "zaak-not-found", "0363ZK-ONBEKEND")),
        ("document", ("StUF058", "client", "document-not-found", "0363DOC-ONBEKEND")),
        ("duplicate", ("StUF058", "client", "besluit-already-exists", "0363BS-1")),
        ("iot", ("StUF058", "client", "informatieobjecttype-not-allowed", "0363DOC-MELDING")),
    ],
)
async def test_bad_input_is_a_fault_and_leaves_nothing(harness: Harness, schemas: Schemas, case: str,
                                                       expected: tuple[str, str, str | None, str]) -> None:
    zaak = await _zaak(harness)
    await _document(harness, zaak, "0363DOC-1")
    await _zaak(harness, "0363ZK-MELDING", "MELDING-OR")
    melding = (await harness.all("zaken", identificatie="0363ZK-MELDING"))[0]
    await _document(harness, melding, "0363DOC-MELDING", iot="Melding", zaaktype="MELDING-OR")
    first = await _send(harness, voeg_besluit_toe(identificatie="0363BS-1", zaak=ZAAK, referentienummer="eerste",
                                                  documenten=document("0363DOC-1")))
    assert first.status == 200, first.body.decode()
    before = await _state(harness)
    message = {
        "besluittype": voeg_besluit_toe(identificatie="0363BS-2", zaak=ZAAK, bst_omschrijving="Vergunning ingetrokken"),
        "zaak": voeg_besluit_toe(identificatie="0363BS-2", zaak="0363ZK-ONBEKEND"),
        "document": voeg_besluit_toe(identificatie="0363BS-2", zaak=ZAAK,
                                     documenten=document("0363DOC-1") + document("0363DOC-ONBEKEND")),
        "duplicate": voeg_besluit_toe(identificatie="0363BS-1", zaak=ZAAK),
        "iot": voeg_besluit_toe(identificatie="0363BS-2", zaak=ZAAK, documenten=document("0363DOC-MELDING")),
    }[case]
    reply = await _send(harness, message)
    assert reply.status == 500, reply.body.decode()
    fault = stuf_fault(reply)
    assert (fault.code, fault.plek) == expected[:2]
    if expected[2] is not None:
        assert fault.reason == expected[2]
    assert expected[3] in fault.details
    fo03 = etree.fromstring(reply.body).find(f".//{{{STUF}}}Fo03Bericht")
    assert fo03 is not None and schemas.validate(fo03) == []
    assert await _state(harness) == before
    assert not [c for c in reply.zgw_calls if c.method != "GET"], "a fault before any write"


VOEG_STEPS = [
    ("GET", "/zaken", 1),
    ("GET", "/besluiten", 1),
    ("GET", "/enkelvoudiginformatieobjecten", 1),
    ("GET", "/enkelvoudiginformatieobjecten", 2),
    ("POST", "/besluiten", 1),
    ("POST", "/besluitinformatieobjecten", 1),
    ("POST", "/besluitinformatieobjecten", 2),
]


@pytest.mark.parametrize("step", VOEG_STEPS, ids=[f"{m} {p} #{n}" for m, p, n in VOEG_STEPS])
async def test_a_failure_at_every_step_leaves_the_backend_as_before(harness: Harness,
                                                                    step: tuple[str, str, int]) -> None:
    zaak = await _zaak(harness)
    await _document(harness, zaak, "0363DOC-1")
    await _document(harness, zaak, "0363DOC-2")
    before = await _state(harness)
    harness.transport.fail_on = step
    harness.transport.seen = 0
    reply = await _send(harness, voeg_besluit_toe(identificatie="0363BS-F", zaak=ZAAK,
                                                  documenten=document("0363DOC-1") + document("0363DOC-2")))
    harness.transport.fail_on = None
    assert harness.transport.seen >= step[2], f"{step} was never called"
    assert reply.status == 500, reply.body.decode()
    fault = stuf_fault(reply)
    details = fault.details
    assert (fault.code, fault.plek) == ("StUF046", "server")  # a 500 from ZGW: backend unavailable (Fo03)
    assert "NIET teruggedraaid" not in details
    if step[0] == "POST" and step != ("POST", "/besluiten", 1):
        assert "ongedaan: POST besluiten" in details  # the besluit, made before the failing step, is undone
    if step == ("POST", "/besluitinformatieobjecten", 2):
        assert "ongedaan: POST besluitinformatieobjecten" in details  # and the first link, explicitly
    assert await _state(harness) == before
    # the same message again, now without failure, goes through: nothing was left behind to clash with
    again = await _send(harness, voeg_besluit_toe(identificatie="0363BS-F", zaak=ZAAK, referentienummer="opnieuw",
                                                  documenten=document("0363DOC-1") + document("0363DOC-2")))
    assert again.status == 200, again.body.decode()


# --- updateBesluit ----------------------------------------------------------------------------------------------


async def _besluit_with_documents(harness: Harness, schemas: Schemas) -> dict[str, Any]:
    zaak = await _zaak(harness)
    for name in ("0363DOC-1", "0363DOC-2", "0363DOC-3"):
        await _document(harness, zaak, name)
    await _ok(harness, voeg_besluit_toe(identificatie="0363BS-U", zaak=ZAAK,
                                        documenten=document("0363DOC-1") + document("0363DOC-2")), schemas)
    return (await _besluiten(harness))[0]


async def test_update_besluit_patches_and_relinks_documents(harness: Harness, schemas: Schemas) -> None:
    """Like stp_updateBesluit_BslLk01_3: fields change, one document stays (I), one goes (V in the old object),
    one comes (T in the new object)."""
    besluit = await _besluit_with_documents(harness, schemas)
    harness.transport.requests.clear()
    message = update_besluit(
        identificatie="0363BS-U",
        old="<ZKN:toelichting>Vergunning verleend</ZKN:toelichting><ZKN:einddatumWerking xsi:nil=\"true\"/>",
        new="<ZKN:toelichting>Vergunning verleend, gewijzigd</ZKN:toelichting>"
            "<ZKN:einddatumWerking>20260101</ZKN:einddatumWerking>"
            "<ZKN:vervalreden>Besluit ingetrokken door overheid</ZKN:vervalreden>",
        old_documenten=document("0363DOC-1", "I") + document("0363DOC-2", "V") + nil_document("T"),
        new_documenten=document("0363DOC-1", "I") + nil_document("V") + document("0363DOC-3", "T"),
    )
    await _ok(harness, message, schemas)
    after = await harness.zgw.get(besluit["url"])
    assert after["toelichting"] == "Vergunning verleend, gewijzigd"
    assert (after["vervaldatum"], after["vervalreden"]) == ("2026-01-01", "ingetrokken_overheid")
    assert after["datum"] == besluit["datum"]  # unchanged
    bios = await harness.zgw.besluiten.list("besluitinformatieobjecten", {"besluit": besluit["url"]})
    identificaties = sorted([(await harness.zgw.get(b["informatieobject"]))["identificatie"] for b in bios])
    assert identificaties == ["0363DOC-1", "0363DOC-3"]
    methods = sorted(f"{m} {p.split('/api/v1/')[1].split('/')[0]}"
                     for m, p, _ in harness.transport.requests if m != "GET")
    assert methods == ["DELETE besluitinformatieobjecten", "PATCH besluiten", "POST besluitinformatieobjecten"]


async def test_update_besluit_geen_waarde_clears(harness: Harness, schemas: Schemas) -> None:
    zaak = await _zaak(harness)
    await _ok(harness, voeg_besluit_toe(identificatie="0363BS-C", zaak=ZAAK, vervaldatum="20251110",
                                        vervalreden="Besluit met tijdelijke werking"), schemas)
    await _ok(harness, update_besluit(
        identificatie="0363BS-C", one_object=True,
        new='<ZKN:toelichting StUF:noValue="geenWaarde" xsi:nil="true"/>'
            '<ZKN:einddatumWerking StUF:noValue="geenWaarde" xsi:nil="true"/>'
            '<ZKN:vervalreden StUF:noValue="geenWaarde" xsi:nil="true"/>'), schemas)
    [besluit] = await harness.zgw.besluiten.list("besluiten", {"zaak": zaak["url"]})
    assert (besluit["toelichting"], besluit["vervaldatum"], besluit["vervalreden"]) == ("", None, "")


async def test_update_besluit_faults(harness: Harness, schemas: Schemas) -> None:
    await _besluit_with_documents(harness, schemas)
    before = await _state(harness)
    unknown = await _send(harness, update_besluit(identificatie="0363BS-ONBEKEND", one_object=True,
                                                  new="<ZKN:toelichting>x</ZKN:toelichting>"))
    assert stuf_fault(unknown).codes == ("StUF058", "besluit-not-found")
    assert "0363BS-ONBEKEND" in stuf_fault(unknown).details
    other_type = await _send(harness, update_besluit(identificatie="0363BS-U", one_object=True,
                                                     bst_omschrijving="Omgevingsvergunning geweigerd",
                                                     referentienummer="ubs-2"))
    assert stuf_fault(other_type).codes == ("StUF058", "besluittype-immutable")
    unknown_doc = await _send(harness, update_besluit(identificatie="0363BS-U", referentienummer="ubs-3",
                                                      new="<ZKN:toelichting>nieuw</ZKN:toelichting>",
                                                      new_documenten=document("0363DOC-ONBEKEND", "T")))
    assert stuf_fault(unknown_doc).codes == ("StUF058", "document-not-found")
    assert "0363DOC-ONBEKEND" in stuf_fault(unknown_doc).details
    assert await _state(harness) == before


UPDATE_STEPS = [("PATCH", "", 1), ("POST", "/besluitinformatieobjecten", 1), ("DELETE", "", 1)]


@pytest.mark.parametrize("step", UPDATE_STEPS, ids=[m for m, _, _ in UPDATE_STEPS])
async def test_update_besluit_failure_is_undone(harness: Harness, schemas: Schemas, step: tuple[str, str, int],
                                                ) -> None:
    await _besluit_with_documents(harness, schemas)
    before = await _state(harness)
    harness.transport.fail_on = step
    harness.transport.seen = 0
    reply = await _send(harness, update_besluit(
        identificatie="0363BS-U", one_object=True,
        new="<ZKN:toelichting>anders</ZKN:toelichting>",
        new_documenten=document("0363DOC-2", "V") + document("0363DOC-3", "T")))
    harness.transport.fail_on = None
    assert harness.transport.seen >= 1
    assert reply.status == 500
    assert "NIET teruggedraaid" not in stuf_fault(reply).details
    after = await _state(harness)
    # the undo of a DELETE makes a new besluitinformatieobject (new URL) for the same document
    assert after[0] == before[0]
    assert sorted(b["informatieobject"] for b in after[1]) == sorted(b["informatieobject"] for b in before[1])
    assert sorted((o["object"], o["informatieobject"]) for o in after[2]) == sorted(
        (o["object"], o["informatieobject"]) for o in before[2])


# --- geefBesluitdetails / geefLijstBesluiten --------------------------------------------------------------------


async def test_geef_besluitdetails_alles(harness: Harness, schemas: Schemas) -> None:
    zaak = await _zaak(harness)
    await _document(harness, zaak, "0363DOC-1")
    await _ok(harness, voeg_besluit_toe(identificatie="0363BS-D", zaak=ZAAK, vervaldatum="20251110",
                                        vervalreden="Besluit ingetrokken o.v.v. belanghebbende",
                                        documenten=document("0363DOC-1")), schemas)
    answer = await _ok(harness, geef_besluitdetails("0363BS-D"), schemas, Service.BEANTWOORD_VRAAG)
    assert answer.tag == f"{{{ZDS}}}geefBesluitdetails_BslLa01"
    obj = answer.find("ZKN:antwoord/ZKN:object", NS)
    text = {etree.QName(c).localname: c.text for c in obj if len(c) == 0}
    assert text["identificatie"] == "0363BS-D"
    assert text["bst.omschrijving"] == "Omgevingsvergunning verleend"
    assert text["bst.categorie"] == "vergunning"
    assert text["bst.reactietermijn"] == "42"  # P6W
    assert text["bst.publicatieIndicatie"] == "J"
    assert (text["datumBeslissing"], text["ingangsdatumWerking"], text["einddatumWerking"]) == (
        "20241110", "20241110", "20251110")
    assert text["vervalreden"] == "Besluit ingetrokken o.v.v. belanghebbende"
    assert obj.findtext("StUF:tijdvakGeldigheid/StUF:beginGeldigheid", namespaces=NS)
    assert obj.findtext("ZKN:isUitkomstVan/ZKN:gerelateerde/ZKN:identificatie", namespaces=NS) == ZAAK
    edc = obj.find("ZKN:isVastgelegdIn/ZKN:gerelateerde", NS)
    assert edc.findtext("ZKN:identificatie", namespaces=NS) == "0363DOC-1"
    assert edc.findtext("ZKN:dct.omschrijving", namespaces=NS) == "Besluit"
    assert edc.findtext("ZKN:titel", namespaces=NS) == "Document 0363DOC-1"


async def test_geef_besluitdetails_scope_and_unknown(harness: Harness, schemas: Schemas) -> None:
    await _zaak(harness)
    await _ok(harness, voeg_besluit_toe(identificatie="0363BS-S", zaak=ZAAK), schemas)
    answer = await _ok(harness, geef_besluitdetails("0363BS-S", scope=KERN_SCOPE), schemas, Service.BEANTWOORD_VRAAG)
    obj = answer.find("ZKN:antwoord/ZKN:object", NS)
    assert [etree.QName(c).localname for c in obj] == [
        "identificatie", "datumBeslissing", "ingangsdatumWerking", "tijdvakGeldigheid", "isUitkomstVan"]
    calls = harness.transport.requests
    assert not any(p.endswith("/besluitinformatieobjecten") for m, p, _ in calls[-5:])
    unknown = await _ok(harness, geef_besluitdetails("0363BS-ONBEKEND", referentienummer="gbd-2"), schemas,
                        Service.BEANTWOORD_VRAAG)
    assert unknown.find("ZKN:antwoord", NS) is None


async def test_geef_lijst_besluiten(harness: Harness, schemas: Schemas) -> None:
    await _zaak(harness)
    await _zaak(harness, "0363ZK-ANDER")
    await _ok(harness, voeg_besluit_toe(identificatie="0363BS-L2", zaak=ZAAK, datum="20241109",
                                        bst_omschrijving="Omgevingsvergunning geweigerd"), schemas)
    await _ok(harness, voeg_besluit_toe(identificatie="0363BS-L1", zaak=ZAAK, referentienummer="vbt-2",
                                        vervaldatum="20251110", vervalreden="Besluit met tijdelijke werking"),
              schemas)
    await _ok(harness, voeg_besluit_toe(identificatie="0363BS-ANDER", zaak="0363ZK-ANDER", referentienummer="vbt-3"),
              schemas)
    answer = await _ok(harness, geef_lijst_besluiten(ZAAK), schemas, Service.BEANTWOORD_VRAAG)
    assert answer.tag == f"{{{ZDS}}}geefLijstBesluiten_ZakLa01"
    obj = answer.find("ZKN:antwoord/ZKN:object", NS)
    assert obj.findtext("ZKN:identificatie", namespaces=NS) == ZAAK
    rows = [(g.findtext("ZKN:identificatie", namespaces=NS), g.findtext("ZKN:bst.omschrijving", namespaces=NS),
             g.findtext("ZKN:datumBeslissing", namespaces=NS), g.findtext("ZKN:vervalreden", namespaces=NS))
            for g in obj.iterfind("ZKN:leidtTot/ZKN:gerelateerde", NS)]
    assert rows == [("0363BS-L2", "Omgevingsvergunning geweigerd", "20241109", None),
                    ("0363BS-L1", "Omgevingsvergunning verleend", "20241110", "Besluit met tijdelijke werking")]
    # the scope names no datumPublicatie or tijdvakGeldigheid: they are left out
    assert obj.find("ZKN:leidtTot/ZKN:gerelateerde/StUF:tijdvakGeldigheid", NS) is None
    unknown = await _ok(harness, geef_lijst_besluiten("0363ZK-ONBEKEND", referentienummer="glb-2"), schemas,
                        Service.BEANTWOORD_VRAAG)
    assert unknown.find("ZKN:antwoord", NS) is None


# --- leidtTot (apply_leidt_tot, for creeerZaak/updateZaak) ------------------------------------------------------


def _context(harness: Harness, organisatie: str = "0363") -> MessageContext:
    body, _ = creeer_zaak(dialect="1.2", organisatie=organisatie)
    message = parse_answer(body)
    gateway = harness.gateway
    operation = next(op for op in gateway.registry.operations if op.name == "updateZaak_ZakLk01")
    stuurgegevens = read_stuurgegevens(message)
    assert stuurgegevens is not None
    return MessageContext(operation=operation, message=message, stuurgegevens=stuurgegevens,
                          parties=AnswerParties.for_request(stuurgegevens, gateway.identity),
                          settings=harness.settings, store=gateway.store, zgw=harness.zgw,
                          mappings=gateway.mappings)


def _relation(xml: str) -> etree._Element:
    return etree.fromstring(xml)


async def test_leidt_tot_creates_and_links(harness: Harness, schemas: Schemas) -> None:
    zaak = await _zaak(harness)
    # an existing besluit without zaak, to be linked
    zaaktype = await harness.zgw.catalogue.zaaktype(ZAAKTYPE)
    geweigerd = await harness.zgw.catalogue.besluittype(zaaktype, "Omgevingsvergunning geweigerd")
    los = await harness.zgw.besluiten.create("besluiten", {
        "identificatie": "0363BS-LOS", "verantwoordelijkeOrganisatie": harness.settings.default_rsin,
        "besluittype": geweigerd["url"], "datum": "2024-11-01", "ingangsdatum": "2024-11-01"})
    ctx = _context(harness)
    old = [_relation(nil_leidt_tot())]  # as the old object of Suites4SociaalDomein 605 has it
    new = [_relation(leidt_tot("0363BS-NIEUW")), _relation(leidt_tot("0363BS-LOS", soort="I", datum=None))]
    async with ctx.undo:
        await apply_leidt_tot(ctx, zaak, new, old_relations=old)
    besluiten = {b["identificatie"]: b for b in await harness.zgw.besluiten.list("besluiten", {"zaak": zaak["url"]})}
    assert set(besluiten) == {"0363BS-NIEUW", "0363BS-LOS"}
    nieuw = besluiten["0363BS-NIEUW"]
    assert (nieuw["datum"], nieuw["ingangsdatum"]) == ("2024-11-10", "2024-11-10")
    assert (await harness.zgw.get(nieuw["besluittype"]))["omschrijving"] == "Omgevingsvergunning verleend"
    assert besluiten["0363BS-LOS"]["url"] == los["url"]
    assert any("ingangsdatum" in w for w in ctx.warnings)
    # a second time changes nothing (both are the zaak's already)
    harness.transport.requests.clear()
    ctx = _context(harness)
    async with ctx.undo:
        await apply_leidt_tot(ctx, zaak, new)
    assert [m for m, _, _ in harness.transport.requests if m != "GET"] == []
    # V unlinks, without deleting
    ctx = _context(harness)
    async with ctx.undo:
        await apply_leidt_tot(ctx, zaak, [], old_relations=[_relation(leidt_tot("0363BS-LOS", soort="V"))])
    assert (await harness.zgw.get(los["url"]))["zaak"] == ""
    answer = await _ok(harness, geef_lijst_besluiten(ZAAK), schemas, Service.BEANTWOORD_VRAAG)
    assert answer.xpath("//ZKN:leidtTot/ZKN:gerelateerde/ZKN:identificatie/text()", namespaces=NS) == [
        "0363BS-NIEUW"]


async def test_leidt_tot_faults_and_undo(harness: Harness) -> None:
    zaak = await _zaak(harness)
    await _zaak(harness, "0363ZK-ANDER")
    await _send(harness, voeg_besluit_toe(identificatie="0363BS-ANDER", zaak="0363ZK-ANDER"))
    before = await _state(harness)

    async def attempt(*relations: str) -> Exception:
        ctx = _context(harness)  # a context per message: its undo log too
        with pytest.raises(Exception) as info:
            async with ctx.undo:
                await apply_leidt_tot(ctx, zaak, [_relation(r) for r in relations])
        return info.value

    other = await attempt(leidt_tot("0363BS-NIEUW"), leidt_tot("0363BS-ANDER"))
    assert isinstance(other, StepFailed) and reason(other) == "besluit-of-other-zaak"
    assert reason(await attempt(leidt_tot("0363BS-N2", datum=None))) == "required-element-missing"
    assert reason(await attempt(leidt_tot("0363BS-N3", soort="I"))) == "besluit-not-found"
    unknown_type = await attempt(leidt_tot("0363BS-N4", bst_omschrijving="Bestaat niet"))
    assert isinstance(unknown_type, StepFailed) and isinstance(unknown_type.cause, CatalogueNotFound)
    assert await _state(harness) == before

    # a failure of the caller's later step undoes the besluit made here
    ctx = _context(harness)
    with pytest.raises(StepFailed):
        async with ctx.undo as undo:
            await apply_leidt_tot(ctx, zaak, [_relation(leidt_tot("0363BS-N5"))])
            await undo.step("later", _boom())
    assert await _state(harness) == before


def reason(error: Exception) -> str:
    """The reason of the fault an error is answered with (a failed step: its cause's)."""
    fault = to_fault(error)
    assert fault is not None, error
    return fault.reason


async def _boom() -> None:
    raise RuntimeError("later step fails")


async def test_geef_besluitdetails_of_a_besluit_without_zaak(harness: Harness, schemas: Schemas) -> None:
    """isUitkomstVan is required in the answer: nil (geenWaarde) when the besluit belongs to no zaak."""
    zaaktype = await harness.zgw.catalogue.zaaktype(ZAAKTYPE)
    besluittype = await harness.zgw.catalogue.besluittype(zaaktype, "Omgevingsvergunning geweigerd")
    await harness.zgw.besluiten.create("besluiten", {
        "identificatie": "0363BS-LOS", "verantwoordelijkeOrganisatie": harness.settings.default_rsin,
        "besluittype": besluittype["url"], "datum": "2024-11-01", "ingangsdatum": "2024-11-01"})
    answer = await _ok(harness, geef_besluitdetails("0363BS-LOS"), schemas, Service.BEANTWOORD_VRAAG)
    uitkomst = answer.find("ZKN:antwoord/ZKN:object/ZKN:isUitkomstVan", NS)
    assert uitkomst is not None and uitkomst.get(f"{{{STUF}}}noValue") == "geenWaarde"
    assert answer.findtext("ZKN:antwoord/ZKN:object/ZKN:bst.omschrijving", namespaces=NS) == (
        "Omgevingsvergunning geweigerd")
