"""One copy in-process against a legacy stand-in (canned ZDS answers) and the embedded backend: a document that
legacy cannot give halfway through undoes the whole zaak, and the ledger says why."""

from __future__ import annotations

import asyncio
import base64
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from stuf_bridge.legacy.client import LegacyClient
from stuf_bridge.migration.copy import ZaakCopier
from stuf_bridge.migration.interrupted import lock_owner
from stuf_bridge.migration.source import LegacySource
from stuf_bridge.migration.wiring import identity, runtime
from stuf_bridge.recovery.journal import Journal, Owner
from stuf_bridge.recovery.service import RecoveryService, journal_for
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


async def test_the_recovery_sweep_undoes_a_copy_whose_process_died(make_settings: Callable[..., Settings],
                                                                   tmp_path: Path) -> None:
    """A copy left ``copying`` with what it made in ZGW (here: all of it, the ledger's outcome not written) and the
    lock of a process that no longer runs: the gateway's recovery sweep undoes it and the ledger says so; a copy
    whose lock a running process holds is left alone; the next copy makes the zaak whole, once."""
    settings = make_settings(legacy={"endpoints": {"BeantwoordVraag": ENDPOINT}}, organisatie="0363")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{socket.gethostname()[:60]}:{gone.stdout.strip()}:killed"
    async with runtime(settings) as rt, LegacyClient(settings, legacy([], {"0363AON-D1", "0363AON-D2"})) as client:
        copier = ZaakCopier(source=LegacySource(client, identity(settings)), zgw=rt.zgw, replica=rt.replica,
                            store=rt.store, identity=identity(settings))
        assert (await copier.copy("0363AON-1")).outcome == "done"
        entry = await copier.ledger.entry("0363AON-1")
        assert entry is not None
        entry.outcome = "copying"  # as the killed process left it
        await copier.ledger.record(entry)
        assert await copier.ledger.try_lock("0363AON-1", dead, 900)
        live = await copier.ledger.entry("0363AON-1")
        assert live is not None
        live.identificatie = "0363AON-LIVE"  # a copy under way in a running process: its lock is held
        await copier.ledger.record(live)
        assert await copier.ledger.try_lock("0363AON-LIVE", lock_owner(), 900)
        live.identificatie = "0363AON-LAPSED"  # the same, its lock lapsed (one very large document): still running
        await copier.ledger.record(live)
        assert await copier.ledger.try_lock("0363AON-LAPSED", lock_owner(), -1)

        sweep = RecoveryService(rt.store, rt.zgw, lease_seconds=30, sweep_seconds=0.05)
        await sweep.start()
        try:
            async with asyncio.timeout(15):
                while ((entry := await copier.ledger.entry("0363AON-1")) is not None and entry.outcome == "copying"
                       or await copier.ledger.lock_owner("0363AON-1") is not None):
                    await asyncio.sleep(0.05)
        finally:
            await sweep.stop()
        assert entry is not None and entry.outcome == "failed" and "afgebroken" in (entry.reason or "")
        assert await copier.zgw_zaak("0363AON-1") is None
        assert await copier.zgw_document("0363AON-D1") is None and await copier.zgw_document("0363AON-D2") is None
        for name in ("0363AON-LIVE", "0363AON-LAPSED"):
            untouched = await copier.ledger.entry(name)
            assert untouched is not None and untouched.outcome == "copying", name

        again = await copier.copy("0363AON-1")
        assert (again.outcome, again.documents_done) == ("done", 2)
        assert len(await rt.zgw.zaken.list("zaken", {"identificatie": "0363AON-1"})) == 1


async def test_an_interrupted_copy_is_not_copied_anew_while_one_of_its_parts_is_unresolved(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    """A copy left ``copying`` whose process also left a part (a replica message) unresolved in the step journal:
    the next copy of the zaak (a back-fill, ``migrate``) waits for that part — its intent is looked up by
    identificatie and must be settled against the interrupted copy's object, not the new copy's — and copies anew
    once the journal has resolved it."""
    settings = make_settings(legacy={"endpoints": {"BeantwoordVraag": ENDPOINT}}, organisatie="0363")
    async with runtime(settings) as rt, LegacyClient(settings, legacy([], {"0363AON-D1", "0363AON-D2"})) as client:
        copier = ZaakCopier(source=LegacySource(client, identity(settings)), zgw=rt.zgw, replica=rt.replica,
                            store=rt.store, identity=identity(settings))
        assert (await copier.copy("0363AON-1", documents="later")).outcome == "documents-pending"
        entry = await copier.ledger.entry("0363AON-1")
        assert entry is not None
        entry.outcome = "copying"
        await copier.ledger.record(entry)
        gone = Owner()
        gone.pid = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                                      text=True).stdout)
        dead = Journal(rt.store, gone)
        await dead.register()
        part = ("0363/stuf-bridge/|replica", "mig-0123|abc")  # a voegZaakdocumentToe of the killed copy
        await dead.begin(part, "voegZaakdocumentToe_Lk01")

        waiting = await copier.copy("0363AON-1")
        assert waiting.outcome == "failed" and "nog hersteld" in (waiting.reason or "")
        left = await copier.ledger.entry("0363AON-1")
        assert left is not None and left.outcome == "copying"
        assert await copier.zgw_zaak("0363AON-1") is not None  # nothing done yet

        await journal_for(rt.store).finish(part)  # the journal resolved it (here: nothing of it was left)
        again = await copier.copy("0363AON-1")
        assert (again.outcome, again.documents_done) == ("done", 2)
        assert len(await rt.zgw.zaken.list("zaken", {"identificatie": "0363AON-1"})) == 1
