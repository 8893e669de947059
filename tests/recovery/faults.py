"""A fault-injecting proxy between the gateway and the embedded ZGW backend, and the scenarios the recovery tests
and bench/recovery_bench.py run through it.

``FaultProxy`` is an httpx transport (in-process: fast enough to try every call position) that, at the Nth write
(POST, PUT, PATCH, DELETE) of a message:

- ``lost``: lets the backend do the write, then drops the connection (the gateway never sees the answer);
- ``late``: holds the write back and answers a timeout; the write reaches the backend a moment later, after the
  gateway gave up on it (a slow backend);
- ``down``: refuses every request from there on (connection refused) until ``restore()``: the backend is gone
  for the rest of the message, its undo included.

``Scenario`` is one operation with its set-up, its message per round (every round its own identificaties) and the
snapshot of what it made in ZGW, in which the round's own identificaties are replaced by placeholders, so that
the snapshot after a fault and a resend can be compared with that of a clean round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from stuf_bridge.zgw import ZgwClients

from ..operations.besluit_messages import document, voeg_besluit_toe
from ..operations.document_messages import voeg_zaakdocument_toe
from ..operations.messages import creeer_zaak, status
from ..operations.status_messages import actualiseer_zaakstatus
from ..operations.update_messages import persoon, update_zaak, zaak_object

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MODES = ("lost", "late", "down")


class FaultProxy(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, *, late_seconds: float = 0.1):
        self.inner = inner
        self.late_seconds = late_seconds
        self.plan: tuple[str, int] | None = None
        self.writes = 0
        self.down = False
        self.late: list[asyncio.Task[None]] = []

    def arm(self, mode: str, nth: int) -> None:
        self.plan, self.writes = (mode, nth), 0

    def count(self) -> None:
        """Count the writes without a fault (to learn how many a message makes)."""
        self.plan, self.writes = ("count", 0), 0

    def disarm(self) -> None:
        self.plan = None

    async def restore(self) -> None:
        """The backend back, and every held-back write delivered."""
        self.down = False
        self.plan = None
        if self.late:
            await asyncio.gather(*self.late)
            self.late.clear()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("verbinding geweigerd (backend weg)", request=request)
        if self.plan is not None and request.method in WRITES:
            self.writes += 1
            mode, nth = self.plan
            if self.writes == nth:
                if mode == "lost":
                    response = await self.inner.handle_async_request(request)
                    await response.aread()
                    raise httpx.ReadError("verbinding verbroken na het schrijven", request=request)
                if mode == "late":
                    await request.aread()
                    self.late.append(asyncio.get_running_loop().create_task(self._later(request)))
                    raise httpx.ReadTimeout("geen antwoord binnen de tijd", request=request)
                if mode == "down":
                    self.down = True
                    raise httpx.ConnectError("verbinding geweigerd (backend weg)", request=request)
        return await self.inner.handle_async_request(request)

    async def _later(self, request: httpx.Request) -> None:
        await asyncio.sleep(self.late_seconds)
        response = await self.inner.handle_async_request(request)
        await response.aread()


# --- scenarios ------------------------------------------------------------------------------------------------

Message = tuple[bytes, dict[str, str]]


@dataclass(frozen=True)
class Round:
    """One round of a scenario: its zaak, its document or besluit, its referentienummer."""

    zaak: str
    other: str
    ref: str


@dataclass(frozen=True)
class Scenario:
    name: str
    message: Callable[[Round], Message]
    setup: Callable[[Round], list[Message]]
    by_omschrijving: bool = False  # the zaak has no identificatie of the client's: find it by its omschrijving
    prepare: Callable[[ZgwClients, Round], Awaitable[None]] | None = None  # after the set-up messages, in ZGW

    def round(self, number: int, label: str = "") -> Round:
        tag = f"{label}{number:03d}"
        return Round(zaak=f"0363ZK-R{self.name[:6]}{tag}", other=f"0363D-R{self.name[:6]}{tag}",
                     ref=f"rec-{self.name}-{tag}")


def _zaak(r: Round, **kwargs: Any) -> Message:
    return creeer_zaak(identificatie=r.zaak, referentienummer=f"{r.ref}-setup", **kwargs)


SCENARIOS = {
    "creeerZaak": Scenario(
        "creeerZaak", lambda r: creeer_zaak(identificatie=r.zaak, referentienummer=r.ref, resultaat=None),
        lambda r: []),
    "creeerZaak-zonder-id": Scenario(
        "creeerZaak-zonder-id",
        lambda r: creeer_zaak(identificatie=None, referentienummer=r.ref, omschrijving=f"Melding {r.zaak}"),
        lambda r: [], by_omschrijving=True),
    "voegZaakdocumentToe": Scenario(
        "voegZaakdocumentToe",
        lambda r: voeg_zaakdocument_toe(identificatie=r.other, zaak=r.zaak, referentienummer=r.ref),
        lambda r: [_zaak(r)]),
    "voegZaakdocumentToe-delen": Scenario(
        "voegZaakdocumentToe-delen",
        lambda r: voeg_zaakdocument_toe(identificatie=r.other, zaak=r.zaak, referentienummer=r.ref,
                                        content=b"%PDF-1.4 " + b"x" * 3000),
        lambda r: [_zaak(r)]),
    "voegBesluitToe": Scenario(
        "voegBesluitToe",
        lambda r: voeg_besluit_toe(identificatie=f"B{r.other}", zaak=r.zaak, referentienummer=r.ref,
                                   documenten=document(r.other)),
        lambda r: [_zaak(r, zaaktype="OMGEVINGSVERGUNNING"),
                   voeg_zaakdocument_toe(identificatie=r.other, zaak=r.zaak, dct="Besluit",
                                         referentienummer=f"{r.ref}-doc")]),
    "updateZaak": Scenario(
        "updateZaak",
        lambda r: update_zaak(
            zaak_object(r.zaak, persoon("999993653", "Visser", relation="heeftAlsInitiator", entiteit="ZAKBTRINI",
                                        soort="W")),
            zaak_object(r.zaak, "<ZKN:omschrijving>Gewijzigd</ZKN:omschrijving>"
                        + persoon("999993653", "Visser-de Boer", relation="heeftAlsInitiator",
                                  entiteit="ZAKBTRINI", soort="W")
                        + status("In behandeling", "20241106", "2")),
            referentienummer=r.ref),
        lambda r: [_zaak(r)]),
    # two statussen: the second can fail after the first was written (statussen cannot be undone): the recovery
    # rule counts the message complete only with the rest rolled forward
    "updateZaak-twee-statussen": Scenario(
        "upd2stZaak",
        lambda r: update_zaak(
            zaak_object(r.zaak, "<ZKN:omschrijving>Melding</ZKN:omschrijving>"),
            zaak_object(r.zaak, "<ZKN:omschrijving>Gewijzigd</ZKN:omschrijving>"
                        + status("In behandeling", "20241106", "2") + status("In behandeling", "20241107", "2")),
            referentienummer=r.ref),
        lambda r: [_zaak(r)]),
    # the eindstatus of a zaak with a document: the document's indicatieGebruiksrecht is set under a lock of the
    # gateway's own (lock, PATCH, unlock) before the status; undoing it needs that lock again
    "actualiseerZaakstatus-eind": Scenario(
        "eindstZaak",
        lambda r: actualiseer_zaakstatus(identificatie=r.zaak, omschrijving="Afgehandeld", volgnummer="3",
                                         datum="20241107120000", referentienummer=r.ref),
        lambda r: [_zaak(r, resultaat="Opgelost"), voeg_zaakdocument_toe(identificatie=r.other, zaak=r.zaak,
                                                                           referentienummer=f"{r.ref}-doc")],
        prepare=lambda zgw, r: _without_gebruiksrecht(zgw, r.other)),
}


async def _without_gebruiksrecht(zgw: ZgwClients, identificatie: str) -> None:
    """The document's indicatieGebruiksrecht unset (as a document another application made may have it), so that
    the eindstatus sets it."""
    [document] = await zgw.documenten.list("enkelvoudiginformatieobjecten", {"identificatie": identificatie})
    lock = (await zgw.documenten.post(f"{document['url']}/lock"))["lock"]
    await zgw.documenten.patch(document["url"], {"indicatieGebruiksrecht": None, "lock": lock})
    await zgw.documenten.post(f"{document['url']}/unlock", {"lock": lock})


async def snapshot(zgw: ZgwClients, scenario: Scenario, r: Round) -> dict[str, Any]:
    """What the round's zaak is in ZGW, with its parts, documents and besluiten; identificaties of the round
    replaced by placeholders, URLs left out. ``zaken`` counts the zaken that carry the round's identificatie (or,
    without one, its omschrijving): a duplicate shows there."""
    if scenario.by_omschrijving:
        found = [z for z in await zgw.zaken.list("zaken") if z.get("omschrijving") == f"Melding {r.zaak}"]
    else:
        found = await zgw.zaken.list("zaken", {"identificatie": r.zaak})
    result: dict[str, Any] = {"zaken": len(found)}
    if not found:
        return result
    zaak = found[0]
    url = zaak["url"]
    catalogue = {}

    async def name(type_url: str | None) -> str | None:
        if not type_url:
            return None
        if type_url not in catalogue:
            catalogue[type_url] = (await zgw.catalogi.get(type_url)).get("omschrijving")
        return catalogue[type_url]

    result["omschrijving"] = zaak["omschrijving"].replace(r.zaak, "<zaak>")
    result["einddatum"] = zaak.get("einddatum")
    rollen = []
    for rol in await zgw.zaken.list("rollen", {"zaak": url}):
        ident = rol.get("betrokkeneIdentificatie") or {}
        rollen.append((await name(rol["roltype"]) or "", str(ident.get("inpBsn")), str(ident.get("geslachtsnaam"))))
    result["rollen"] = sorted(rollen)
    result["statussen"] = sorted([await name(s["statustype"]) or ""
                                  for s in await zgw.zaken.list("statussen", {"zaak": url})])
    result["zaakeigenschappen"] = len(await zgw.zaken.list(f"{url}/zaakeigenschappen"))
    result["resultaten"] = len(await zgw.zaken.list("resultaten", {"zaak": url}))
    result["zaakobjecten"] = sorted(
        (str(zo.get("objectType")), str((zo.get("objectIdentificatie") or {}).get("identificatie")),
         str((zo.get("objectIdentificatie") or {}).get("huisnummer")))
        for zo in await zgw.zaken.list("zaakobjecten", {"zaak": url}))
    documents = []
    for zio in await zgw.zaken.list("zaakinformatieobjecten", {"zaak": url}):
        eio = await zgw.documenten.get(zio["informatieobject"])
        documents.append((eio["identificatie"].replace(r.other, "<doc>"), eio["titel"], bool(eio.get("locked")),
                          eio.get("bestandsomvang"), eio.get("indicatieGebruiksrecht")))
    result["documenten"] = sorted(documents)
    result["document-kopieen"] = len(await zgw.documenten.list("enkelvoudiginformatieobjecten",
                                                               {"identificatie": r.other, "bronorganisatie":
                                                                zaak["bronorganisatie"]}))
    besluiten = await zgw.besluiten.list("besluiten", {"zaak": url})
    result["besluiten"] = sorted((b["identificatie"].replace(f"B{r.other}", "<besluit>"), b["datum"])
                                 for b in besluiten)
    return result


Send = Callable[[Message], Awaitable[httpx.Response]]
