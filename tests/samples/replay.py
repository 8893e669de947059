"""Replaying recorded or templated client traffic through the gateway, one step at a time.

A replay keeps what a SoapUI test case keeps in its properties: the identifiers the gateway handed out
(genereerZaakIdentificatie, genereerDocumentIdentificatie, genereerBesluitIdentificatie Du02) and the fixed test
case properties. A property such as ``${Properties#ZaakIdentificatie}`` or ``${Properties#ChildZaakIdentificatie}``
is bound, the first time a step uses it, to the oldest identifier of its kind not bound yet, the way a SoapUI
property transfer after each genereer step fills it; it keeps that value for the rest of the case. Recorded traffic
(literal identifiers) is bound the same way by ``Bindings.replace_recorded``: the identifier the recorded answer
gave is replaced by the one the gateway gave.

Dates and timestamps are rendered at the current time in Europe/Amsterdam, per step, as SoapUI does; each message
gets a fresh referentienummer, so the gateway's idempotency does not answer a step from an earlier one.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from stuf_bridge.gateway import Reply, parse_answer
from stuf_bridge.stuf.namespaces import BG, SOAP12, STUF, ZDS, ZKN, Dialect
from stuf_bridge.stuf.registry import REGISTRY, Service
from stuf_bridge.stuf.validation import Schemas

from ..operations.conftest import Harness
from ..support import render as _render

NS = {"StUF": STUF, "ZKN": ZKN, "ZDS": ZDS, "BG": BG}
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DOCUMENT_BASE64 = base64.b64encode(b"stuf-bridge sample replay\n").decode()

# Steps seen per outcome over the session (printed by conftest.py's terminal summary).
STATS: Counter[str] = Counter()

# property name (lower-cased, last '#'-part) → kind of generated identifier; 'zaakidenti' also catches the
# 'ReplicationZaakIdentiticatie' typo of the SoapUI project.
_KINDS = (("zaakidenti", "zaak"), ("documentidentificatie", "document"), ("besluitidentificatie", "besluit"),
          ("checkedoutid", "checkout"))
_OVERWRITTEN = frozenset({"checkout"})
# where a Du02 answer carries a generated identifier (both dialects)
_GENERATED = {
    "zaak": "//ZKN:zaak/ZKN:identificatie | //ZDS:zaak/ZKN:identificatie",
    "document": "//ZKN:document/ZKN:identificatie | //ZDS:document/ZKN:identificatie",
    "besluit": "//ZKN:besluit/ZKN:identificatie | //ZDS:besluit/ZKN:identificatie",
    "checkout": "//*[local-name()='checkedOutId']",
}


def now_local() -> datetime:
    """The wall-clock time in Europe/Amsterdam (naive), as a Dutch client fills in dates and timestamps."""
    return datetime.now(AMSTERDAM).replace(tzinfo=None)


def timestamp(moment: datetime) -> str:
    """A StUF tijdstip with milliseconds: yyyyMMddHHmmssSSS."""
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def _kind(name: str) -> str | None:
    key = name.rsplit("#", 1)[-1].lower()
    return next((kind for word, kind in _KINDS if word in key), None)


class Bindings:
    """The values placeholders are bound to within one replayed case."""

    def __init__(self, fixed: Mapping[str, str] | None = None):
        self.values: dict[str, str] = dict(fixed or {})
        self.generated: dict[str, list[str]] = {kind: [] for _, kind in _KINDS}
        self.recorded: dict[str, str] = {}  # literal identifier in recorded traffic → the gateway's identifier
        self._last: datetime | None = None

    def learn(self, answer: etree._Element) -> None:
        """Queue the identifiers a genereer… answer handed out. A checkout's checkedOutId replaces the one bound
        before: a case checks a document out again after checking it in (one property, transferred each time)."""
        for kind, xpath in _GENERATED.items():
            for element in answer.xpath(xpath, namespaces=NS):
                if not (element.text and element.text.strip()):
                    continue
                bound = [key for key in self.values if _kind(key) == kind]
                if kind in _OVERWRITTEN and bound:
                    self.values.update(dict.fromkeys(bound, element.text.strip()))
                else:
                    self.generated[kind].append(element.text.strip())

    def bind(self, text: str) -> None:
        """Bind every property placeholder of ``text`` that is not bound yet and has a generated value waiting."""
        for ph in _render.find_placeholders(text):
            if ph.syntax != "soapui":
                continue
            key = ph.name.rsplit("#", 1)[-1]
            kind = _kind(key)
            if ph.name in self.values or key in self.values or kind is None or not self.generated[kind]:
                continue
            self.values[key] = self.generated[kind].pop(0)

    def now(self) -> datetime:
        """The current time, but at least a second after the previous step's: a replay is faster than a client,
        and ZRC refuses two statussen of a zaak with the same datumStatusGezet (second precision in many
        samples). A case of n steps runs at most n seconds ahead, well within the 5 minutes' tolerance."""
        moment = now_local()
        if self._last is not None and moment < self._last + timedelta(seconds=1):
            moment = self._last + timedelta(seconds=1)
        self._last = moment
        return moment

    def render(self, text: str) -> str:
        """``text`` with its placeholders bound or rendered at the current time, and a fresh referentienummer."""
        self.bind(text)
        rendered = _render.render(text, values=self.values, now=self.now())
        return rendered.replace(_render.UUID, str(uuid.uuid4()))

    def replace_recorded(self, text: str) -> str:
        """Recorded traffic: the identifiers the recorded answers gave, replaced by the ones the gateway gave."""
        for recorded, ours in self.recorded.items():
            text = re.sub(rf"(?<![\w-]){re.escape(recorded)}(?![\w-])", ours, text)
        return text


@dataclass(frozen=True)
class Step:
    """One message of a replayed case."""

    label: str  # for messages: '<case>/<step>'
    text: str  # the request envelope, rendered
    service: Service
    soap_action: str | None
    expect_fault: bool = False

    @property
    def content_type(self) -> str:
        return "application/soap+xml; charset=utf-8" if SOAP12 in self.text[:2000] else "text/xml; charset=utf-8"


def service_for(interface_or_action: str) -> Service:
    """The ZDS service of a SoapUI interface name (ZdsBeantwoordVraag, SOAPVerwerkSynchroonVrijBericht…) or a
    SOAPAction: the registry's, else by the name's shape."""
    tail = interface_or_action.rstrip("/").rsplit("/", 1)[-1].strip('"')
    for dialect in Dialect:
        op = REGISTRY.by_name(dialect, tail)
        if op is not None:
            return op.service
    lowered = interface_or_action.lower()
    if "beantwoordvraag" in lowered or re.search(r"/(geef\w+|zakLv01|edcLv01)$", interface_or_action, re.IGNORECASE):
        return Service.BEANTWOORD_VRAAG
    if "vrij" in lowered or re.search(r"_Di0\d$", interface_or_action):
        return Service.VRIJE_BERICHTEN
    return Service.ONTVANG_ASYNCHROON


def soap_action_for(body: etree._Element) -> str | None:
    """The SOAPAction of a request body element whose element names one operation (the ZDS 1.2 roots,
    genereer…_Di02); None for the generic 1.1 roots (zakLk01…), which need the sender's SOAPAction."""
    dialect = Dialect.ZDS12 if etree.QName(body).namespace == ZDS else Dialect.ZDS11
    ops = REGISTRY.by_element(dialect, etree.QName(body).namespace or "", etree.QName(body).localname)
    return ops[0].soap_action if len(ops) == 1 else None


def function_of(operation_name: str, dialect: str | None = None) -> str | None:
    """The handler key (function name) of an operation name or SOAPAction tail, when the registry knows it."""
    tail = operation_name.rstrip("/").rsplit("/", 1)[-1].strip('"')
    dialects = [Dialect(dialect)] if dialect in ("1.1", "1.2") else list(Dialect)
    for d in dialects:
        op = REGISTRY.by_name(d, tail)
        if op is not None:
            return op.function
    return None


def skip_unbuilt(function: str | None, handled: Collection[str], label: str) -> None:
    """Skip the rest of the case when it reaches an operation that has no handler yet (``handled``: the gateway's
    handler keys, ``stuf_bridge.operations.default_handlers()``)."""
    if function is not None and function not in handled:
        STATS["skipped (operation not built)"] += 1
        pytest.skip(f"{label}: operation {function} has no handler yet; the rest of the case is not replayed")


async def send(harness: Harness, step: Step) -> Reply:
    handled = harness.gateway.handlers
    skip_unbuilt(function_of(step.soap_action or ""), handled, step.label)
    reply = await harness.gateway.handle(step.service, step.text.encode("utf-8"), content_type=step.content_type,
                                         soap_action=step.soap_action)
    skip_unbuilt(function_of(reply.operation, reply.dialect), handled, step.label)
    return reply


def check(reply: Reply, step: Step, schemas: Schemas) -> etree._Element | None:
    """The answer of a step that should succeed (schema-valid, no fault), or None for a step that should fault."""
    if step.expect_fault:
        assert reply.outcome == "fault" and (reply.fault_code or "").startswith("StUF"), (
            f"{step.label}: expected a StUF fault, got HTTP {reply.status}\nwarnings: {reply.warnings}\n"
            f"ZGW calls: {calls(reply)}")
        STATS["faulted as expected"] += 1
        return None
    assert reply.outcome == "ok" and reply.status == 200, (
        f"{step.label}: unexpected fault {reply.fault_code}: {fault_text(reply)}\nwarnings: {reply.warnings}\n"
        f"ZGW calls: {calls(reply)}")
    answer = parse_answer(reply.body)
    errors = schemas.validate(answer)
    assert errors == [], f"{step.label}: answer not schema-valid: {errors}\n" + etree.tostring(
        answer, pretty_print=True).decode()
    STATS["answered"] += 1
    return answer


def calls(reply: Reply) -> list[str]:
    """The ZGW calls of a reply, as 'METHOD /path → status' (query strings left out: they can hold a BSN)."""
    return [f"{c.method} {c.url.split('?', 1)[0].split('/zgw', 1)[-1]} → {c.status}" for c in reply.zgw_calls]


def fault_text(reply: Reply) -> str:
    """The omschrijving and details of a fault answer (or the whole body when it has none)."""
    try:
        root = etree.fromstring(reply.body)
    except etree.XMLSyntaxError:
        return reply.body.decode(errors="replace")
    parts = [e.text or "" for e in root.iter(f"{{{STUF}}}omschrijving", f"{{{STUF}}}details")]
    return " | ".join(parts) or reply.body.decode(errors="replace")


def texts(answer: etree._Element, xpath: str) -> list[str]:
    """The texts an xpath selects in an answer (elements' text, '' for an empty or nil element); a number
    (``count(…)``) as a whole number, a boolean as 'true'/'false'."""
    found = answer.xpath(xpath, namespaces=NS)
    if isinstance(found, bool):
        return [str(found).lower()]
    if isinstance(found, float):
        return [str(int(found)) if found.is_integer() else str(found)]
    if not isinstance(found, list):
        return [str(found)]
    return [item if isinstance(item, str) else (item.text or "") for item in found]


def assert_details(answer: etree._Element, expected: Mapping[str, object], label: str) -> None:
    """Each xpath selects exactly the expected texts: a string (one node), a list (in order), [] (nothing).
    ``{today}`` in an expected text is today's date (yyyyMMdd, Europe/Amsterdam)."""
    today = now_local().strftime("%Y%m%d")
    for xpath, want in expected.items():
        wanted = [str(w).replace("{today}", today) for w in (want if isinstance(want, list) else [want])]
        got = texts(answer, xpath)
        assert got == wanted, f"{label}: {xpath} gave {got}, expected {wanted}\n" + etree.tostring(
            answer, pretty_print=True).decode()
