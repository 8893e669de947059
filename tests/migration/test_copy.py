"""One copy in-process against a legacy stand-in (canned ZDS answers) and the embedded backend: a document that
legacy cannot give halfway through undoes the whole zaak, and the ledger says why."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from stuf_bridge.legacy.client import LegacyClient
from stuf_bridge.migration.copy import ZaakCopier
from stuf_bridge.migration.source import LegacySource
from stuf_bridge.migration.wiring import identity, runtime
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import SOAP11, STUF, ZKN
from tests.support.legacy import FAULT_ANSWER

BG = "http://www.egem.nl/StUF/sector/bg/0310"
ENDPOINT = "http://legacy.test/zds/BeantwoordVraag"


def envelope(body: str) -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP11}" xmlns:StUF="{STUF}" xmlns:ZKN="{ZKN}" xmlns:BG="{BG}"><s:Body>'
            f"{body}</s:Body></s:Envelope>").encode()


ZAAK = envelope("""<ZKN:zakLa01><ZKN:stuurgegevens><StUF:berichtcode>La01</StUF:berichtcode></ZKN:stuurgegevens>
<ZKN:antwoord><ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie>0363AON-1</ZKN:identificatie>
<ZKN:omschrijving>Alles of niets</ZKN:omschrijving><ZKN:startdatum>20241105</ZKN:startdatum>
<ZKN:registratiedatum>20241105</ZKN:registratiedatum>
<ZKN:isVan StUF:entiteittype="ZAKZKT"><ZKN:gerelateerde StUF:entiteittype="ZKT"><ZKN:code>MELDING-OR</ZKN:code>
</ZKN:gerelateerde></ZKN:isVan>
<ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI"><ZKN:gerelateerde><ZKN:natuurlijkPersoon StUF:entiteittype="NPS">
<BG:inp.bsn>999993653</BG:inp.bsn><BG:geslachtsnaam>Visser</BG:geslachtsnaam></ZKN:natuurlijkPersoon>
</ZKN:gerelateerde></ZKN:heeftAlsInitiator>
<ZKN:heeftAlsDeelzaak StUF:entiteittype="ZAKZAKDEL"><ZKN:gerelateerde StUF:entiteittype="ZAK">
<ZKN:identificatie>0363AON-DEEL</ZKN:identificatie></ZKN:gerelateerde></ZKN:heeftAlsDeelzaak>
</ZKN:object></ZKN:antwoord></ZKN:zakLa01>""")
LIST = envelope("""<ZKN:zakLa01><ZKN:antwoord><ZKN:object StUF:entiteittype="ZAK">
<ZKN:identificatie>0363AON-1</ZKN:identificatie>
<ZKN:heeftRelevant><ZKN:gerelateerde><ZKN:identificatie>0363AON-D1</ZKN:identificatie></ZKN:gerelateerde>
</ZKN:heeftRelevant>
<ZKN:heeftRelevant><ZKN:gerelateerde><ZKN:identificatie>0363AON-D2</ZKN:identificatie></ZKN:gerelateerde>
</ZKN:heeftRelevant></ZKN:object></ZKN:antwoord></ZKN:zakLa01>""")
DOCUMENT = envelope(f"""<ZKN:edcLa01><ZKN:antwoord><ZKN:object StUF:entiteittype="EDC">
<ZKN:identificatie>0363AON-D1</ZKN:identificatie><ZKN:dct.omschrijving>Melding</ZKN:dct.omschrijving>
<ZKN:creatiedatum>20241105</ZKN:creatiedatum><ZKN:titel>Eerste</ZKN:titel><ZKN:taal>nld</ZKN:taal>
<ZKN:vertrouwelijkAanduiding>OPENBAAR</ZKN:vertrouwelijkAanduiding><ZKN:auteur>Test</ZKN:auteur>
<ZKN:inhoud StUF:bestandsnaam="een.txt">{base64.b64encode(b"hallo").decode()}</ZKN:inhoud>
</ZKN:object></ZKN:antwoord></ZKN:edcLa01>""")


def legacy(asked: list[str], gives: set[str]) -> httpx.MockTransport:
    def respond(status: int, body: bytes) -> httpx.Response:
        return httpx.Response(status, stream=httpx.ByteStream(body), headers={"content-type": "text/xml"})

    def answer(request: httpx.Request) -> httpx.Response:
        action = request.headers["soapaction"].strip('"').rsplit("/", 1)[1]
        body = request.content
        asked.append(action)
        if action == "geefZaakdetails_Lv01":
            return respond(200, ZAAK)
        if action == "geefLijstZaakdocumenten_Lv01":
            return respond(200, LIST)
        for name in gives:
            if name.encode() in body:
                return respond(200, DOCUMENT.replace(b"0363AON-D1", name.encode()))
        return respond(500, FAULT_ANSWER)

    return httpx.MockTransport(answer)


async def test_a_document_legacy_cannot_give_undoes_the_whole_zaak(make_settings: Callable[..., Settings],
                                                                   tmp_path: Path) -> None:
    settings = make_settings(legacy={"endpoints": {"BeantwoordVraag": ENDPOINT}}, organisatie="0363")
    asked: list[str] = []
    gives = {"0363AON-D1"}
    async with runtime(settings) as rt, LegacyClient(settings, legacy(asked, gives)) as client:
        copier = ZaakCopier(source=LegacySource(client, identity(settings)), zgw=rt.zgw, replica=rt.replica,
                            store=rt.store, identity=identity(settings))
        result = await copier.copy("0363AON-1")
        assert result.outcome == "failed" and not result.ok
        assert "document 0363AON-D2" in (result.reason or "") and "teruggedraaid" in (result.reason or "")
        assert await copier.zgw_zaak("0363AON-1") is None  # the zaak, its rol ...
        assert await copier.zgw_document("0363AON-D1") is None  # ... and the document that had gone in: undone
        entry = await copier.ledger.entry("0363AON-1")
        assert entry is not None and entry.outcome == "failed" and entry.reason == result.reason
        assert entry.attempts == 1
        assert await copier.ledger.entry("0363AON-DEEL") is None

        gives.add("0363AON-D2")  # legacy gives it now: a second copy takes everything
        again = await copier.copy("0363AON-1")
        assert (again.outcome, again.documents_done, again.documents_total, again.bytes) == ("done", 2, 2, 10)
        assert again.related == ["0363AON-DEEL"]
        entry = await copier.ledger.entry("0363AON-1")
        assert entry is not None and entry.outcome == "done" and entry.attempts == 2 and entry.source_digest
        related: Any = await copier.ledger.entry("0363AON-DEEL")
        assert related is not None and related.outcome == "queued"  # the deelzaak legacy names: queued, not dropped
    # the gateway's own questions, in order
    assert asked[:4] == ["geefZaakdetails_Lv01", "geefLijstZaakdocumenten_Lv01", "geefZaakdocumentLezen_Lv01",
                         "geefZaakdocumentLezen_Lv01"]
