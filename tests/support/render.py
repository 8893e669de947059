"""The one place that turns sample templates into concrete messages.

The shared samples carry four placeholder syntaxes:

* Django/Jinja ``{{ name }}`` (zaakmagazijn, open-forms) and ``{% tag %}`` / ``{# comment #}`` (removed);
* SoapUI/STP ``${name}``, ``${#TestCase#Name}``, ``${Properties#Name}`` and Groovy ``${=expression}``, whose
  braces may nest (``${=… TimeZone.getTimeZone("${#Project#ZdsTimezone}") …}``);
* STP ``#{name}``; a doubled closing brace (``#{referentienummer}}``, a typo in some adapted templates) is part of
  the placeholder.

Each placeholder becomes a dummy value of the right shape (SCHEMAS.md §5), decided by its name and by the element
(or attribute) it stands in:

* dates ``20170401`` (``datumGisteren`` → ``20170331``, …) and timestamps ``20170401120000000``: the day comes from
  the name, the shape from the element when that is a date or tijdstip element (``{{ datumVandaag }}`` inside
  ``tijdstipRegistratie`` becomes a timestamp);
* everything else: the rules in ``_RULES``, tried on the name, then on the element; the first rule whose keyword
  occurs wins. Identifiers look like ``ZAAK-000001`` and are numbered per name, so one name gets one value within
  a rendered text and different names get different values;
* Groovy ``SimpleDateFormat("…")`` patterns are formatted at 2017-04-01 12:00, ``UUID`` expressions give a fixed
  UUID.

>>> render("<StUF:tijdstipBericht>{{ tijdstipBericht }}</StUF:tijdstipBericht>")
'<StUF:tijdstipBericht>20170401120000000</StUF:tijdstipBericht>'
>>> render("<ZKN:identificatie>${gemeentecode}{{ creerzaak_identificatie_7 }}</ZKN:identificatie>")
'<ZKN:identificatie>0363ZAAK-000001</ZKN:identificatie>'
>>> render("<StUF:beginGeldigheid>#{datumStatusGezet}</StUF:beginGeldigheid>")
'<StUF:beginGeldigheid>20170401</StUF:beginGeldigheid>'

Two keyword arguments make a replay possible (both optional; without them the output is as above):

* ``values`` binds placeholder names to concrete values, the way SoapUI property transfers carry state between
  steps. A key is the name as written (``Properties#ZaakIdentificatie``, ``#TestCase#ZaaktypeCode``) or its last
  ``#``-part (``ZaakIdentificatie``); a bound name wins over every rule;
* ``now`` is the moment dates, timestamps and Groovy ``SimpleDateFormat`` expressions stand for (``gisteren`` is
  the day before it), instead of 2017-04-01 12:00.

>>> render("<ZKN:identificatie>${Properties#ZaakIdentificatie}</ZKN:identificatie>",
...        values={"ZaakIdentificatie": "190020260000001"})
'<ZKN:identificatie>190020260000001</ZKN:identificatie>'
>>> render('<ZKN:startdatum>${=new SimpleDateFormat("yyyyMMddHHmmssSS").format(new Date())}</ZKN:startdatum>'
...        '<ZKN:einddatum>{{ datumGisteren }}</ZKN:einddatum>', now=datetime(2026, 3, 1, 9, 5, 7, 345000))
'<ZKN:startdatum>20260301090507345</ZKN:startdatum><ZKN:einddatum>20260228</ZKN:einddatum>'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

__all__ = [
    "DATE",
    "TIMESTAMP",
    "Placeholder",
    "find_placeholders",
    "has_placeholders",
    "render",
]

NOW = datetime(2017, 4, 1, 12, 0, 0)
DATE = "20170401"
TIMESTAMP = "20170401120000000"
DATES = {"eergisteren": "20170330", "gisteren": "20170331", "vandaag": DATE, "morgen": "20170402"}
UUID = "00000000-0000-4000-8000-000000000001"
GEMEENTECODE = "0363"

Syntax = Literal["django", "django-tag", "soapui", "groovy", "stp"]

_START = re.compile(r"\{\{|\{%|\{#|\$\{|#\{")


@dataclass(frozen=True)
class Placeholder:
    """One placeholder occurrence: its span in the text, its syntax, name and context."""

    start: int
    end: int
    syntax: Syntax
    name: str
    context: str  # local name of the enclosing element, or "@attribute", or "" when unknown

    @property
    def text_span(self) -> tuple[int, int]:
        return self.start, self.end


def has_placeholders(text: str) -> bool:
    """Whether ``text`` contains any template placeholder."""
    return bool(find_placeholders(text))


def find_placeholders(text: str) -> list[Placeholder]:
    """All placeholders in ``text``, in order, nested ones folded into their outer placeholder."""
    found: list[Placeholder] = []
    pos = 0
    while (m := _START.search(text, pos)) is not None:
        end, syntax, name = _scan(text, m.start(), m.group())
        if end is None:
            pos = m.end()  # an unterminated opener is just text
            continue
        found.append(Placeholder(m.start(), end, syntax, name, _context(text, m.start())))
        pos = end
    return found


def render(text: str, *, values: Mapping[str, str] | None = None, now: datetime | None = None) -> str:
    """``text`` with every placeholder replaced by a dummy value of the right shape, or by its bound ``values``
    entry; dates and timestamps stand for ``now`` when given (see the module docstring)."""
    placeholders = find_placeholders(text)
    if not placeholders:
        return text
    state = _State(now=now)
    out: list[str] = []
    pos = 0
    for ph in placeholders:
        out.append(text[pos : ph.start])
        bound = _bound(ph, values) if values else None
        out.append(bound if bound is not None else _value(ph, state))
        pos = ph.end
    out.append(text[pos:])
    return "".join(out)


# --- scanning -------------------------------------------------------------------------------------------------


def _scan(text: str, start: int, opener: str) -> tuple[int | None, Syntax, str]:
    """End offset, syntax and (raw) name of the placeholder that starts at ``start``."""
    if opener in ("{%", "{#"):
        closer = "%}" if opener == "{%" else "#}"
        end = text.find(closer, start + 2)
        return (None if end < 0 else end + 2), "django-tag", text[start + 2 : end].strip()
    if opener == "{{":
        end = text.find("}}", start + 2)
        return (None if end < 0 else end + 2), "django", text[start + 2 : end].strip()
    # ${…} and #{…}: braces nest (Groovy expressions embed ${#Project#…}).
    depth = 0
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        elif ch in "<\n" and opener == "#{":
            return None, "stp", ""
        i += 1
    else:
        return None, "soapui", ""
    inner = text[start + 2 : i].strip()
    end = i + 1
    if opener == "#{":
        if text.startswith("}", end):  # '#{name}}': a typo'd placeholder, the stray brace belongs to it
            end += 1
        return end, "stp", inner
    if inner.startswith("="):
        return end, "groovy", inner[1:].strip()
    return end, "soapui", inner


_TAG = re.compile(r"<\s*([\w:.-]+)")
_ATTR = re.compile(r"([\w:.-]+)\s*=\s*[\"'][^\"']*$")


def _context(text: str, pos: int) -> str:
    """Local name of the element whose text holds ``pos``, or ``@attr`` when ``pos`` is in an attribute value."""
    lt = text.rfind("<", 0, pos)
    if lt < 0:
        return ""
    gt = text.rfind(">", 0, pos)
    if gt < lt:  # inside a tag
        m = _ATTR.search(text, lt, pos)
        return "@" + _local(m.group(1)) if m else ""
    tag = _TAG.match(text, lt)
    if tag is None or text.startswith("</", lt):
        return ""
    return _local(tag.group(1))


def _local(qname: str) -> str:
    return qname.rsplit(":", 1)[-1]


# --- values ---------------------------------------------------------------------------------------------------


@dataclass
class _State:
    """Per-render numbering, so one placeholder name always gets one value."""

    numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    now: datetime | None = None

    def number(self, kind: str, name: str) -> int:
        key = (kind, name)
        if key not in self.numbers:
            self.counters[kind] = self.counters.get(kind, 0) + 1
            self.numbers[key] = self.counters[kind]
        return self.numbers[key]


Value = Callable[[str, _State], str]


def _const(value: str) -> Value:
    return lambda _name, _state: value


def _ident(prefix: str) -> Value:
    return lambda name, state: f"{prefix}-{state.number(prefix, name):06d}"


# (keywords, value); keys are lower-cased names without separators, e.g. 'tijdstipbericht', 'zktcode'.
_RULES: list[tuple[tuple[str, ...], Value]] = [
    (("base64", "inhoud"), _const("ZHVtbXkgZG9jdW1lbnQ=")),
    (("email",), _const("test@example.com")),
    (("crossref", "referentienummer"), _ident("REF")),
    (("antwoord",), _const("Overdracht geaccepteerd")),
    (("zenderorganisatie",), _const("ORG")),
    (("zenderapplicatie",), _const("TTA")),
    (("ontvangerorganisatie",), _const("ORG")),
    (("ontvangerapplicatie",), _const("ZSH")),
    (("gebruiker",), _const("gebruiker")),
    (("organisatie",), _const("ORG")),
    (("applicatie",), _const("APP")),
    (("timezone",), _const("UTC")),
    (("bsn",), _const("111222333")),
    (("buurtcode", "wijkcode"), _const("01")),
    (("kadastralesectie",), _const("AB")),
    (("perceelnummer",), _const("1234")),
    (("kadastraleidentificatie",), _const("123456789012345")),
    (("appartementsindex",), _const("1")),
    (("gemeentecode", "kadastralegemeente"), _const(GEMEENTECODE)),
    (("waterdeeltype",), _const("meer")),
    (("waterdeelidentificatie",), _const("NL.WATER.0000000000000001")),
    (("naam", "auteur"), _const("Jansen")),
    (("omschrijving", "documenttype", "toelichting", "titel"), _const("omschrijving")),
    (("code",), _ident("C")),
    (("checkout", "checkedout"), _ident("CHK")),
    (("medewerker",), _ident("MDW")),
    (("organisatorischeeenheid",), _ident("OEH")),
    (("document", "edc"), _ident("DOC")),
    (("besluit",), _ident("BSL")),
    (("zaak",), _ident("ZAAK")),
    (("identificatie", "sleutel", "kenmerk"), _ident("ID")),
]


def _key(raw: str) -> str:
    """'${#TestCase#StgZenderApplicatie}' → 'stgzenderapplicatie'; 'zaak.omschrijving' → 'zaakomschrijving'."""
    last = raw.rsplit("#", 1)[-1]
    return re.sub(r"[^a-z0-9]", "", last.lower())


def _lookup(key: str, state: _State, name: str) -> str | None:
    if not key:
        return None
    for keywords, value in _RULES:
        if any(word in key for word in keywords):
            return value(name, state)
    return None


def _bound(ph: Placeholder, values: Mapping[str, str]) -> str | None:
    if ph.syntax in ("django-tag", "groovy"):
        return None
    if ph.name in values:
        return values[ph.name]
    return values.get(ph.name.rsplit("#", 1)[-1])


def _value(ph: Placeholder, state: _State) -> str:
    if ph.syntax == "django-tag":
        return ""
    if ph.syntax == "groovy":
        groovy = _groovy(ph.name, state.now)
        if groovy is not None:
            return groovy
        name_key = ""
    else:
        name_key = _key(ph.name)
    context_key = _key(ph.context.lstrip("@"))
    if context_key == "type" and "waterdeel" in name_key:
        name_key = "waterdeeltype"
    # Dates and timestamps: the day comes from the name, the shape from the element when it tells one.
    name_kind = _temporal_kind(name_key)
    if name_kind is not None:
        return _temporal(name_key, _temporal_kind(context_key) or name_kind, state.now)
    by_name = _lookup(name_key, state, name_key)
    if by_name is not None:
        return by_name
    context_kind = _temporal_kind(context_key)
    if context_kind is not None:
        return _temporal(name_key, context_kind, state.now)
    return _lookup(context_key, state, name_key or context_key) or "dummy"


def _temporal_kind(key: str) -> Literal["date", "timestamp"] | None:
    if "tijdstip" in key or key == "datumstatusgezet":  # but 'sta.datumStatusGezet' is a date
        return "timestamp"
    if any(word in key for word in ("datum", "geldigheid", "relatie")):
        return "date"
    return None


def _temporal(name_key: str, kind: Literal["date", "timestamp"], now: datetime | None = None) -> str:
    if now is not None:
        shift = next((days for word, days in _SHIFTS.items() if word in name_key), 0)
        moment = now + timedelta(days=shift)
        return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}" if kind == "timestamp" \
            else moment.strftime("%Y%m%d")
    day = next((value for word, value in DATES.items() if word in name_key), DATE)  # 'eergisteren' before 'gisteren'
    return day + TIMESTAMP[len(DATE) :] if kind == "timestamp" else day


_SHIFTS = {"eergisteren": -2, "gisteren": -1, "vandaag": 0, "morgen": 1}


_SIMPLE_DATE_FORMAT = re.compile(r'SimpleDateFormat\(\s*"([^"]+)"')
_JAVA_FIELDS = re.compile(r"y+|M+|d+|H+|m+|s+|S+")


def _groovy(expression: str, now: datetime | None = None) -> str | None:
    """The value of the few Groovy expressions SoapUI samples use, or None for others."""
    if "UUID" in expression:
        return UUID
    m = _SIMPLE_DATE_FORMAT.search(expression)
    if m:
        moment = now or NOW
        return _JAVA_FIELDS.sub(lambda token: _java_field(token, moment), m.group(1))
    return None


def _java_field(m: re.Match[str], now: datetime = NOW) -> str:
    token = m.group()
    letter, width = token[0], len(token)
    if letter == "y":
        return f"{now.year:04d}"[-width:] if width == 2 else f"{now.year:0{width}d}"
    if letter == "S":  # Java: the milliseconds, padded to the pattern's width (never cut)
        return f"{now.microsecond // 1000:0{width}d}"
    value = {"M": now.month, "d": now.day, "H": now.hour, "m": now.minute, "s": now.second}[letter]
    return f"{value:0{width}d}"
