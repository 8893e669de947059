"""``stuf-bridge reconcile --zaaktype X [--open-only] [--repair]``: do legacy and ZGW agree, zaak by zaak?

Both sides are read as StUF: legacy answers a ``geefZaakdetails`` (scope alles) and a ``geefLijstZaakdocumenten`` of
the gateway's own; the ZGW side is asked the same two questions through the gateway's own translate flow, so the
same normalisation (``digest.py``) applies to both and a difference is named in StUF terms (``omschrijving``,
``statussen.count``, ``rollen.heeftAlsInitiator``, ``documenten``, ...).

Which zaken: ZDS has no question "every zaak of zaaktype X", so the legacy side's list is what the gateway knows of
it — the migration ledger, the zaak registry (zaken created through the gateway) — plus an optional list
(``--zaken FILE``, e.g. an export of the legacy system); the ZGW side lists its zaken of the zaaktype. Each zaak on
either list is then looked up on both sides.

Per zaak: ``in-sync``, ``only-in-legacy``, ``only-in-zgw`` or ``different`` (with the field names). ``--open-only``
leaves out zaken with an einddatum. ``--repair`` re-syncs a zaak from its primary: from legacy (until the cut-over,
unless a replicate route makes ZGW the primary) ZGW's copy is removed and the zaak copied again (``copy.py``); from
ZGW (a cut-over zaaktype, replicate with primary zgw) legacy is brought in line (``resync.py``). The exit status is
0 when every zaak is in sync (after the repairs) and
1 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import select

from ..gateway import parse_answer
from ..legacy.errors import LegacyError
from ..store import schema
from ..stuf.registry import Service
from . import store as ledger_store
from ..routing.rules import RuleTable
from .copy import CopyFailed, ZaakCopier
from .resync import LegacyResync
from .digest import differences, normalise
from .source import ACTIONS, LegacySource, question, z
from .store import MigrationStore
from .wiring import Runtime, identity
from .zaaktypen import CODE_MAX

IN_SYNC, ONLY_LEGACY, ONLY_ZGW, DIFFERENT = "in-sync", "only-in-legacy", "only-in-zgw", "different"


@dataclass
class Comparison:
    identificatie: str
    state: str
    fields: list[str] = field(default_factory=list)
    repaired: str | None = None  # what --repair did

    def line(self) -> str:
        text = f"{self.state:15} {self.identificatie}"
        if self.fields:
            text += f": {', '.join(self.fields)}"
        if self.repaired:
            text += f" [{self.repaired}]"
        return text


class Reconciler:
    """``sizes``: also compare the documents' sizes (``documenten.bytes``): legacy's list answer has none, so each
    document is read from legacy (geefZaakdocumentLezen, streamed through a temporary spool file that is removed at
    once: memory stays flat, but every document's bytes cross the network once per run); ZGW's sizes are the
    informatieobjecten's ``bestandsomvang``."""

    def __init__(self, rt: Runtime, copier: ZaakCopier | None = None, *, sizes: bool = False):
        self.rt = rt
        self.copier = copier
        self.sizes = sizes
        self.ledger = MigrationStore(rt.store)
        self.legacy = LegacySource(rt.legacy, identity(rt.settings)) if rt.legacy is not None else None

    async def zaken(self, zaaktype: str, listed: Sequence[str] = ()) -> list[str]:
        """Every zaak of the zaaktype the gateway knows of, on either side, plus ``listed``."""
        found: dict[str, None] = dict.fromkeys(listed)
        for entry in await self.ledger.entries():
            if entry.zaaktype == zaaktype:
                found.setdefault(entry.identificatie, None)

        def registry(conn: object) -> list[str]:
            t = schema.zaak_routes
            return [str(row[0]) for row in conn.execute(  # type: ignore[attr-defined]
                select(t.c.identificatie).where(t.c.zaaktype == zaaktype))]

        for identificatie in await self.ledger._run("registry of zaaktype", registry):  # noqa: SLF001
            found.setdefault(identificatie, None)
        zaaktype_json = await self.rt.zgw.catalogue.zaaktype(zaaktype)
        for zaak in await self.rt.zgw.zaken.list("zaken", {"zaaktype": zaaktype_json["url"]}):
            if zaak.get("identificatie"):
                found.setdefault(str(zaak["identificatie"]), None)
        return list(found)

    async def zgw_side(self, identificatie: str) -> dict[str, str] | None:
        obj = await self._ask_zgw("zakLv01", "geefZaakdetails_Lv01", identificatie,
                                  '<ZKN:object StUF:entiteittype="ZAK" StUF:scope="alles"/>')
        if obj is None:
            return None
        listing = await self._ask_zgw("zakLv01", "geefLijstZaakdocumenten_Lv01", identificatie, _LIST_SCOPE)
        documents = _documents(listing)
        if self.sizes:
            for name in documents:
                found = await self.rt.zgw.documenten.list("enkelvoudiginformatieobjecten", {"identificatie": name},
                                                          max_items=10)
                eio = next((d for d in found if d.get("identificatie") == name), None)
                size = eio.get("bestandsomvang") if eio is not None else None
                documents[name] = int(size) if size is not None else None
        return normalise(obj, documents)

    async def legacy_side(self, identificatie: str) -> dict[str, str] | None:
        if self.legacy is None:
            raise CopyFailed("geen legacy-zaaksysteem ingesteld (legacy.endpoints)")
        zaak = await self.legacy.zaak(identificatie)
        if zaak is None:
            return None
        names = await self.legacy.documents(identificatie)
        documents: dict[str, int | None] = dict.fromkeys(names)
        if self.sizes:
            for name in names:
                document = await self.legacy.document(name)
                if document is not None:
                    with document:
                        documents[name] = document.size
        fields = normalise(zaak.object, documents)
        mapped = self.rt.settings.migration.zaaktypen.get(fields["zaaktype"])
        if mapped is not None:  # legacy's own code for a ZGW zaaktype: compared as ZGW's answer gives it (10 chars)
            fields["zaaktype"] = mapped[:CODE_MAX]
        return fields

    async def compare(self, identificatie: str, *, open_only: bool = False) -> Comparison | None:
        legacy = await self.legacy_side(identificatie)
        zgw = await self.zgw_side(identificatie)
        if open_only and all(side is None or side.get("einddatum") for side in (legacy, zgw)):
            return None
        if legacy is None and zgw is None:
            return None
        if legacy is None:
            return Comparison(identificatie, ONLY_ZGW)
        if zgw is None:
            return Comparison(identificatie, ONLY_LEGACY)
        fields = differences(legacy, zgw)
        return Comparison(identificatie, DIFFERENT if fields else IN_SYNC, fields)

    async def reconcile(self, zaaktype: str, *, open_only: bool = False, repair: bool = False,
                        listed: Sequence[str] = ()) -> list[Comparison]:
        overrides = await self.ledger.overrides()
        cut_over = zaaktype in overrides or ledger_store.ALL_ZAAKTYPEN in overrides
        results = []
        for identificatie in await self.zaken(zaaktype, listed):
            comparison = await self.compare(identificatie, open_only=open_only)
            if comparison is None:
                continue
            if repair and comparison.state != IN_SYNC:
                if cut_over or await self.zgw_primary(identificatie, zaaktype):
                    comparison = await self._repair_legacy(comparison, open_only)
                elif comparison.state in (DIFFERENT, ONLY_LEGACY):
                    comparison = await self._repair(comparison, open_only)
            results.append(comparison)
        return results

    async def zgw_primary(self, identificatie: str, zaaktype: str) -> bool:
        """Whether the routing makes ZGW the zaak's primary while legacy still follows (replicate, primary zgw):
        the zaak's pinned route, else the routing table's rule for the zaaktype. (A cut-over zaaktype is too.)"""
        pinned = await self.rt.store.zaak_route(identificatie)
        if pinned is not None:
            return pinned.mode == "replicate" and pinned.primary == "zgw"
        decision = RuleTable(self.rt.settings.routing).decide("updateZaak", None, zaaktype)
        return decision.mode.value == "replicate" and decision.primary == "zgw"

    async def _repair_legacy(self, comparison: Comparison, open_only: bool) -> Comparison:
        """Re-sync the legacy side from ZGW, the zaak's primary (``resync.py``)."""
        identificatie = comparison.identificatie
        if comparison.state == ONLY_LEGACY or self.copier is None or self.legacy is None:
            comparison.repaired = ("niet hersteld: ZGW is de primaire kant en heeft de zaak niet"
                                   if comparison.state == ONLY_LEGACY else "niet hersteld: geen legacy-zaaksysteem")
            return comparison
        zgw_object = await self._ask_zgw("zakLv01", "geefZaakdetails_Lv01", identificatie,
                                         '<ZKN:object StUF:entiteittype="ZAK" StUF:scope="alles"/>')
        if zgw_object is None:
            comparison.repaired = "niet hersteld: de zaak staat niet meer in ZGW"
            return comparison
        legacy = await self.legacy.zaak(identificatie)
        legacy_documents = await self.legacy.documents(identificatie) if legacy is not None else []
        listing = await self._ask_zgw("zakLv01", "geefLijstZaakdocumenten_Lv01", identificatie, _LIST_SCOPE)
        try:
            done = await LegacyResync(self.copier, self.legacy.client).resync(
                identificatie, zgw_object, legacy, comparison.fields, list(_documents(listing)), legacy_documents)
        except (CopyFailed, LegacyError) as exc:  # this zaak's repair failed; the run goes on with the next one
            comparison.repaired = f"herstel in legacy mislukt: {exc}"
            return comparison
        after = await self.compare(identificatie, open_only=open_only)
        was = f"was {comparison.state}: {', '.join(comparison.fields) or '-'}"
        if after is None or after.state == IN_SYNC:
            return Comparison(identificatie, IN_SYNC, [], f"legacy hersteld uit ZGW ({'; '.join(done)}; {was})")
        after.repaired = (f"legacy hersteld uit ZGW ({'; '.join(done) or 'niets'}), nog verschillend: "
                          "niet hersteld worden een resultaat dat ZGW mist, besluiten, statussen en documenten "
                          "die alleen legacy heeft")
        return after

    async def _repair(self, comparison: Comparison, open_only: bool) -> Comparison:
        if self.copier is None:
            comparison.repaired = "niet hersteld: geen legacy-zaaksysteem"
            return comparison
        result = await self.copier.copy(comparison.identificatie, documents="now", origin="repair", replace=True)
        if not result.ok:
            comparison.repaired = f"herstel mislukt: {result.reason}"
            return comparison
        after = await self.compare(comparison.identificatie, open_only=open_only)
        if after is None or after.state == IN_SYNC:
            return Comparison(comparison.identificatie, IN_SYNC, [],
                              f"hersteld uit legacy (was {comparison.state}: {', '.join(comparison.fields) or '-'})")
        after.repaired = "hersteld uit legacy, maar nog steeds verschillend"
        return after

    async def _ask_zgw(self, root: str, action: str, identificatie: str, scope: str) -> etree._Element | None:
        envelope = question(identity(self.rt.settings), root, "ZAK", identificatie, scope)
        reply = await self.rt.replica.handle(Service.BEANTWOORD_VRAAG, envelope,
                                             content_type="text/xml; charset=utf-8", soap_action=f'"{ACTIONS}{action}"')
        if reply.status != 200:
            return None
        message = parse_answer(reply.body)
        found = [obj for obj in message.iterfind(f"{z('antwoord')}/{z('object')}")
                 if (obj.findtext(z("identificatie")) or "").strip() == identificatie]
        return found[0] if found else None


_LIST_SCOPE = ('<ZKN:object StUF:entiteittype="ZAK"><ZKN:heeftRelevant StUF:entiteittype="ZAKEDC">'
               '<ZKN:gerelateerde StUF:entiteittype="EDC"><ZKN:identificatie xsi:nil="true"/></ZKN:gerelateerde>'
               '</ZKN:heeftRelevant></ZKN:object>')


def _documents(listing: etree._Element | None) -> dict[str, int | None]:
    if listing is None:
        return {}
    names = [(el.text or "").strip() for el in listing.iterfind(
        f"{z('heeftRelevant')}/{z('gerelateerde')}/{z('identificatie')}")]
    return dict.fromkeys(name for name in names if name)


def exit_status(results: Sequence[Comparison]) -> int:
    return 0 if all(result.state == IN_SYNC for result in results) else 1
