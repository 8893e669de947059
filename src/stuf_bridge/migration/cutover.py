"""``stuf-bridge cutover --zaaktype X [--zaaktype Y] | --all [--force --reason TEXT]``: ZGW becomes the primary.

The checks, in order (each refuses the cut-over unless ``--force`` with a ``--reason``):

1. **Outbox**: nothing pending, inflight or dead for the zaken of those zaaktypen (with ``--all``: nothing at all).
   A dead item means a change that reached one side only; cutting over would make the other side's state final.
2. **Reconciliation** (``reconcile.py``) of each zaaktype (with ``--all``: each zaaktype the ledger and the registry
   know): every zaak in sync.

Then, in one go:

3. **Identifier sequences** are aligned: for each identifier kind (zaak, document, besluit) the gateway's sequences
   are set above the highest number among the identificaties legacy and ZGW hold (the zaken and documents in ZGW,
   the ledger's, and the number legacy's own ``genereerZaakIdentificatie`` hands out now, when it answers), plus
   ``--margin``; a sequence is never lowered. The next identificatie each sequence gives is checked not to exist in
   ZGW (and moved past one that does).
4. **Routing**: an override per zaaktype (``*`` for ``--all``) in the store — translate, primary zgw — which every
   gateway process reads within seconds (``backfill.py``); the YAML routing table stays as it was.
5. **Audit**: a record with the zaaktypen, forced or not, the reason, who (``--actor``, default the OS user), and
   what the checks found and the sequences were set to (``stuf-bridge cutover --history`` lists them).
"""

from __future__ import annotations

import getpass
import re
import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Connection, select, update

from ..legacy.errors import LegacyError
from ..store import schema
from ..stuf.namespaces import SOAP11, STUF, ZKN
from ..stuf.registry import Service
from ..stuf.values import AMSTERDAM
from ..zgw import ZgwError
from . import store as ledger_store
from .compare import COMPARE_TARGET
from .reconcile import IN_SYNC, Reconciler
from .store import MigrationStore
from .wiring import Runtime

log = structlog.get_logger(__name__)

KINDS = {"zaak": "zaak_identificatie_template", "document": "document_identificatie_template",
         "besluit": "besluit_identificatie_template"}
DEFAULT_MARGIN = 100


@dataclass
class CutoverOutcome:
    zaaktypen: list[str]
    refused: list[str] = field(default_factory=list)  # why not (empty: done)
    outbox: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)
    audit_id: int | None = None

    @property
    def done(self) -> bool:
        return self.audit_id is not None


def template_pattern(template: str) -> re.Pattern[str]:
    """A regex for identificaties made by ``template``, with named groups for its fields."""
    parts = []
    for literal, name, _spec, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name == "gemeentecode":
            parts.append(r"(?P<gemeentecode>\d{4})")
        elif name == "jaar":
            parts.append(r"(?P<jaar>\d{4})")
        elif name == "volgnummer":
            parts.append(r"(?P<volgnummer>\d+)")
        else:
            parts.append(f"(?P<{name}>.+?)")
    return re.compile("^" + "".join(parts) + "$")


def sequence_name(kind: str, template: str, fields: dict[str, str]) -> str:
    """The store sequence the identifier generator uses for these field values (``operations/identifiers.py``)."""
    used = [name for _, name, _, _ in string.Formatter().parse(template) if name and name != "volgnummer"]
    return "|".join([f"identificatie:{kind}", *(f"{name}={fields[name]}" for name in sorted(set(used)))])


class Cutover:
    def __init__(self, rt: Runtime):
        self.rt = rt
        self.ledger = MigrationStore(rt.store)

    async def run(self, zaaktypen: Sequence[str] | None, *, force: bool = False, reason: str | None = None,
                  actor: str | None = None, margin: int = DEFAULT_MARGIN) -> CutoverOutcome:
        every = zaaktypen is None
        scope = list(zaaktypen) if zaaktypen is not None else await self._known_zaaktypen()
        outcome = CutoverOutcome([ledger_store.ALL_ZAAKTYPEN] if every else scope)
        reconciler = Reconciler(self.rt, self.rt.copier() if self.rt.legacy is not None else None)
        zaken: set[str] = set()
        for zaaktype in scope:
            zaken.update(await reconciler.zaken(zaaktype))
        waiting = [item for item in await self.ledger.waiting(None if every else sorted(zaken))
                   if not item[2].startswith(COMPARE_TARGET)]  # a compare_reads sample changes nothing
        outcome.outbox = [f"outbox-item {item_id} ({status}, {target}) voor {partition}"
                          for item_id, partition, target, status in waiting]
        if outcome.outbox:
            outcome.refused.append(f"{len(outcome.outbox)} outbox-item(s) nog niet afgeleverd of dood")
        if self.rt.legacy is not None:
            for zaaktype in scope:
                for comparison in await reconciler.reconcile(zaaktype):
                    if comparison.state != IN_SYNC:
                        outcome.differences.append(comparison.line())
            if outcome.differences:
                outcome.refused.append(f"{len(outcome.differences)} zaak/zaken niet in sync (stuf-bridge reconcile)")
        else:
            outcome.refused.append("geen legacy-zaaksysteem ingesteld: de twee kanten zijn niet te vergelijken")
        if outcome.refused and not force:
            return outcome
        outcome.sequences = await self.align_sequences(margin)
        details: dict[str, Any] = {"refused_checks": outcome.refused, "outbox": outcome.outbox[:100],
                                   "differences": outcome.differences[:100], "sequences": outcome.sequences,
                                   "zaken": len(zaken)}
        outcome.audit_id = await self.ledger.cut_over(
            outcome.zaaktypen, mode="translate", primary="zgw", forced=bool(outcome.refused), reason=reason,
            actor=actor or getpass.getuser(), details=details)
        log.warning("cutover", zaaktypen=outcome.zaaktypen, forced=bool(outcome.refused), reason=reason,
                    audit=outcome.audit_id)
        return outcome

    async def _known_zaaktypen(self) -> list[str]:
        found = {entry.zaaktype for entry in await self.ledger.entries() if entry.zaaktype}

        def registry(conn: Connection) -> set[str]:
            t = schema.zaak_routes
            return {str(row[0]) for row in conn.execute(select(t.c.zaaktype).distinct()) if row[0]}

        found |= await self.ledger._run("registry zaaktypen", registry)  # noqa: SLF001
        return sorted(found)

    # --- identifier sequences -----------------------------------------------------------------------------------

    async def align_sequences(self, margin: int) -> dict[str, int]:
        settings = self.rt.settings
        known: dict[str, list[str]] = {"zaak": [], "document": [], "besluit": []}
        known["zaak"] += [entry.identificatie for entry in await self.ledger.entries()]
        known["zaak"] += [str(z["identificatie"]) for z in await self.rt.zgw.zaken.list("zaken")
                          if z.get("identificatie")]
        known["document"] += [str(d["identificatie"]) for d in
                              await self.rt.zgw.documenten.list("enkelvoudiginformatieobjecten")
                              if d.get("identificatie")]
        known["besluit"] += [str(b["identificatie"]) for b in await self.rt.zgw.besluiten.list("besluiten")
                             if b.get("identificatie")]
        legacy_next = await self._legacy_zaak_identificatie()
        if legacy_next:
            known["zaak"].append(legacy_next)
        highest: dict[str, int] = {}
        for kind, names in known.items():
            template = getattr(settings, KINDS[kind])
            pattern = template_pattern(template)
            for name in names:
                match = pattern.match(name)
                if match is None:
                    continue
                fields = {k: v for k, v in match.groupdict().items() if k != "volgnummer"}
                sequence = sequence_name(kind, template, fields)
                highest[sequence] = max(highest.get(sequence, 0), int(match["volgnummer"]))
        aligned: dict[str, int] = {}
        for sequence, number in sorted(highest.items()):
            aligned[sequence] = await self._at_least(sequence, number + margin)
        await self._next_is_free(aligned)
        return aligned

    async def _at_least(self, sequence: str, value: int) -> int:
        """Set the sequence to ``value`` unless it is higher already; its value."""
        current = await self._value(sequence)
        if current is None:
            await self.rt.store.advance(sequence, value)
            return value
        if current >= value:
            return current
        await self.ledger._run("sequence alignment", lambda conn: conn.execute(  # noqa: SLF001
            update(schema.sequences).where(schema.sequences.c.name == sequence,
                                           schema.sequences.c.value < value).values(value=value)))
        return value

    async def _value(self, sequence: str) -> int | None:
        def work(conn: Connection) -> int | None:
            value = conn.execute(select(schema.sequences.c.value).where(schema.sequences.c.name == sequence)).scalar()
            return int(value) if value is not None else None

        result: int | None = await self.ledger._run("sequence value", work)  # noqa: SLF001
        return result

    async def _next_is_free(self, aligned: dict[str, int]) -> None:
        """The next zaak identificatie of each sequence must not exist in ZGW: move past any that does."""
        template = self.rt.settings.zaak_identificatie_template
        for sequence, value in list(aligned.items()):
            if not sequence.startswith("identificatie:zaak"):
                continue
            fields = dict(part.split("=", 1) for part in sequence.split("|")[1:])
            for _ in range(1000):
                candidate = template.format(**fields, volgnummer=value + 1)
                found = await self.rt.zgw.zaken.list("zaken", {"identificatie": candidate}, max_items=1)
                if not any(z.get("identificatie") == candidate for z in found):
                    break
                value += 1
                await self._at_least(sequence, value)
            aligned[sequence] = value

    async def _legacy_zaak_identificatie(self) -> str | None:
        """The identificatie legacy's own genereerZaakIdentificatie hands out now (None when it cannot)."""
        if self.rt.legacy is None:
            return None
        envelope = _genereer(self.rt.settings.organisatie, self.rt.settings.applicatie)
        try:
            answer = await self.rt.legacy.call(
                Service.VRIJE_BERICHTEN, envelope, content_type="text/xml; charset=utf-8",
                soap_action='"http://www.egem.nl/StUF/sector/zkn/0310/genereerZaakIdentificatie_Di02"')
        except (LegacyError, ZgwError) as exc:
            log.warning("cutover_legacy_identificatie_unavailable", error=str(exc))
            return None
        try:
            if answer.fault is not None:
                return None
            value = answer.message.findtext(f".//{{{ZKN}}}zaak/{{{ZKN}}}identificatie")
            return value.strip() if value else None
        finally:
            answer.close()


def _genereer(organisatie: str | None, applicatie: str) -> bytes:
    org = f"<StUF:organisatie>{organisatie}</StUF:organisatie>" if organisatie else ""
    tijdstip = datetime.now(AMSTERDAM).strftime("%Y%m%d%H%M%S%f")[:17]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="{SOAP11}" xmlns:StUF="{STUF}" xmlns:ZKN="{ZKN}"><soap:Body>
<ZKN:genereerZaakIdentificatie_Di02><ZKN:stuurgegevens><StUF:berichtcode>Di02</StUF:berichtcode>
<StUF:zender>{org}<StUF:applicatie>{applicatie}</StUF:applicatie></StUF:zender><StUF:ontvanger/><StUF:referentienummer>{uuid.uuid4().hex}</StUF:referentienummer>
<StUF:tijdstipBericht>{tijdstip}</StUF:tijdstipBericht><StUF:functie>genereerZaakidentificatie</StUF:functie>
</ZKN:stuurgegevens></ZKN:genereerZaakIdentificatie_Di02></soap:Body></soap:Envelope>""".encode()
