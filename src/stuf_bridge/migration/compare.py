"""``compare_reads`` on a replicate rule: a sample of the read messages (questions, Lv01) is also asked of the
secondary side, and where the two answers differ the difference goes into the same report as reconcile's
(``reconcile_findings``; ``stuf-bridge reconcile --findings`` shows it).

On the client's path only the sampling happens (``ReadSampler``, called by replicate after the primary answered):
with probability ``compare_reads`` the question goes into the outbox as an item ``compare:<Service>`` on the zaak's
partition — so it is compared after the writes to that zaak that were still on their way to the secondary — and
the client's answer is not held up by the secondary. The outbox worker (``ReadComparer``) then asks **both** sides
the question at the same moment (legacy as the stored request, ZGW through the gateway's translate flow), so a change
that landed between the client's question and the comparison does not count as a difference; the price is one
more read on the primary per sampled message.

Answers are compared normalised (``flatten``): the stuurgegevens are left out, and so are the values that differ by
nature (``VOLATILE``: tijdstip* and tijdvak* elements, links to each system's own URLs); each ``antwoord/object``
becomes a set of (path, value) pairs keyed by its identificatie, repeated elements compared as multisets, dates on
their digits, empty and nil the same as absent. A difference names the paths (``omschrijving``,
``heeft/gerelateerde/volgnummer``). Document content (geefZaakdocumentLezen, geefZaakdocumentbewerken) is not
sampled: its answers are the documents themselves, which reconcile compares by size.

A comparison is best effort: a side that cannot be asked is tried again by the outbox a few times, then the item is
finished with a warning in the log (it never parks the zaak's later items as a dead one would).
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from lxml import etree

from ..legacy.client import LegacyClient
from ..legacy.errors import LegacyError
from ..outbox.replicate import partition_key
from ..outbox.worker import DONE, Outcome, TranslateRequest
from ..pipeline.exchange import Exchange
from ..routing.config import RoutingSettings
from ..store import OutboxEntry, Store, StoreError
from ..stuf.registry import Service
from ..zgw import ZgwError
from .backfill import rule_of
from .store import Finding, MigrationStore

log = structlog.get_logger(__name__)

COMPARE_TARGET = "compare:"
SOURCE = "compare-reads"
#: Reads whose answer is a document's content: not sampled.
NOT_SAMPLED = frozenset({"geefZaakdocumentLezen", "geefZaakdocumentbewerken"})
#: A question larger than this is not sampled (questions are small; this keeps the item in its row).
MAX_QUESTION_BYTES = 64 * 1024
#: Elements whose values differ between two systems by nature.
VOLATILE = frozenset({"stuurgegevens", "tijdstipRegistratie", "tijdstipBericht", "tijdvakObject", "tijdvakRelatie",
                      "tijdvakGeldigheid", "link", "referentienummer", "crossRefnummer"})
ATTEMPTS = 3  # a side that cannot be asked: tried this often, then the comparison is given up
_DATE = re.compile(r"^\d{4}-?\d{2}-?\d{2}(?:[T ]?\d{2}:?\d{2}(?::?\d{2})?)?")
_MAX_FIELDS = 50


def compare_fractions(routing: RoutingSettings) -> dict[str, float]:
    """The labels (as the router logs them) of the rules with ``compare_reads`` above 0, and their fraction."""
    fractions = {rule.name or f"rules[{i}]": rule.compare_reads for i, rule in enumerate(routing.rules)
                 if rule.compare_reads > 0}
    if routing.default.compare_reads > 0:
        fractions["default"] = routing.default.compare_reads
    return fractions


class ReadSampler:
    """Called by replicate after the primary answered a question: puts a sample of them in the outbox."""

    def __init__(self, store: Store, fractions: dict[str, float], rng: Callable[[], float] = random.random):
        self.ledger = MigrationStore(store)
        self.fractions = fractions
        self.rng = rng

    async def __call__(self, x: Exchange) -> None:
        op, route, raw = x.operation, x.route, x.raw
        if op is None or route is None or raw is None or op.function in NOT_SAMPLED:
            return
        fraction = self.fractions.get(rule_of(route), 0.0)
        if fraction <= 0 or self.rng() >= fraction:
            return
        if x.reply is None or x.reply.status != 200 or x.reply.fault_code or raw.size > MAX_QUESTION_BYTES:
            return
        service = x.service or op.service
        meta = {"operation": op.name, "zaak": x.subject.zaak if x.subject else None, "zaaktype": route.zaaktype,
                "primary": route.primary, "content_type": x.content_type, "soap_action": x.soap_action}
        payload = json.dumps(meta).encode() + b"\n" + raw.rewound().read()
        try:
            await self.ledger.enqueue(await partition_key(x), f"{COMPARE_TARGET}{service.value}", payload,
                                      f"compare|{uuid.uuid4().hex}")
        except StoreError as exc:  # the client's answer is not at stake: the sample is lost, said in the log
            log.warning("compare_reads_enqueue_failed", operation=op.name, error=str(exc))


class ReadComparer:
    """The outbox worker's delivery of ``compare:`` items: both sides asked, the answers compared, a difference
    recorded as a finding. ``on_difference``: called per differing read (the metric)."""

    def __init__(self, store: Store, legacy: LegacyClient, translate: TranslateRequest,
                 on_difference: Callable[[], None] | None = None):
        self.ledger = MigrationStore(store)
        self.legacy = legacy
        self.translate = translate
        self.on_difference = on_difference

    async def __call__(self, entry: OutboxEntry) -> Outcome:
        head, _, request = entry.payload.partition(b"\n")
        meta: dict[str, Any] = json.loads(head)
        try:
            service = Service(entry.target.removeprefix(COMPARE_TARGET))
        except ValueError:
            return Outcome("dead", f"onbekende service in {entry.target!r}")
        content_type = meta.get("content_type") or "text/xml; charset=utf-8"
        try:
            answer = await self.legacy.call(service, request, soap_action=meta.get("soap_action"),
                                            content_type=content_type)
            try:
                legacy_body = answer.body
            finally:
                answer.close()
            reply = await self.translate(service, _once(request), content_type, meta.get("soap_action"))
        except (LegacyError, ZgwError, StoreError, OSError) as exc:
            if entry.attempts < ATTEMPTS:
                return Outcome("retry", str(exc))
            log.warning("compare_reads_given_up", item=entry.id, operation=meta.get("operation"), error=str(exc))
            return DONE
        legacy_side, zgw_side = flatten(legacy_body), flatten(reply.body)
        fields = differences(legacy_side, zgw_side)
        log.info("compare_reads_compared", item=entry.id, operation=meta.get("operation"), zaak=meta.get("zaak"),
                 differences=len(fields))
        if not fields:
            return DONE
        detail = {name: {"legacy": sorted(legacy_side.get(name, []))[:3], "zgw": sorted(zgw_side.get(name, []))[:3]}
                  for name in fields[:10]}
        await self.ledger.record_findings([Finding(
            SOURCE, f"outbox-{entry.id}", "different", meta.get("zaak"), meta.get("zaaktype"), fields,
            meta.get("operation"), json.dumps(detail, ensure_ascii=False))])
        if self.on_difference is not None:
            self.on_difference()
        return DONE


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def flatten(body: bytes) -> dict[str, list[str]]:
    """An answer as path → values (see the module's docstring); a fault as ``fault`` → its code."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True,
                                                             huge_tree=False))
    except etree.XMLSyntaxError:
        return {"answer": ["(geen XML)"]}
    soap_body = next((el for el in root if isinstance(el.tag, str) and etree.QName(el).localname == "Body"), None)
    message = next((el for el in soap_body if isinstance(el.tag, str)), None) if soap_body is not None else None
    if message is None:
        return {"answer": ["(leeg)"]}
    if etree.QName(message).localname == "Fault":
        code = next((el.text for el in message.iter() if isinstance(el.tag, str)
                     and etree.QName(el).localname == "foutcode"), None)
        return {"fault": [(code or "").strip()]}
    flat: dict[str, list[str]] = {}
    objects = [el for el in message.iter() if isinstance(el.tag, str) and etree.QName(el).localname == "object"
               and el.getparent() is not None and etree.QName(el.getparent()).localname == "antwoord"]
    for obj in objects:
        key = "" if len(objects) == 1 else f"object[{(obj.findtext('{*}identificatie') or '').strip()}]/"
        _walk(obj, key, flat)
    return flat


def _walk(element: etree._Element, prefix: str, flat: dict[str, list[str]]) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name in VOLATILE:
            continue
        path = f"{prefix}{name}"
        if len(child):
            _walk(child, f"{path}/", flat)
            continue
        value = (child.text or "").strip()
        if value:
            flat.setdefault(path, []).append(_value(value))


def _value(value: str) -> str:
    return re.sub(r"\D", "", value) if _DATE.fullmatch(value) else value


def differences(legacy: dict[str, list[str]], zgw: dict[str, list[str]]) -> list[str]:
    """The paths whose values differ (as multisets), at most 50."""
    return [path for path in sorted(set(legacy) | set(zgw))
            if sorted(legacy.get(path, [])) != sorted(zgw.get(path, []))][:_MAX_FIELDS]
