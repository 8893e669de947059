"""StUF values ↔ ZGW values: dates and tijdstippen in Europe/Amsterdam, noValue/nil, J/N and the code lists.

Every conversion is a small pure function; the mapping engine names them from a registry. A conversion that
loses information returns it as a ``Lossy`` note instead of dropping it silently, so that the caller can record
a warning. Sources: MAPPING.md §2.1–2.3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from lxml import etree

from .namespaces import STUF, XSI


def elfproef(number: str) -> bool:
    """Whether ``number`` is a BSN by the 11-test: nine digits, weights 9..2 and -1, not all zeros."""
    if len(number) != 9 or not number.isdigit() or not number.isascii() or number == "000000000":
        return False
    return sum(int(d) * w for d, w in zip(number, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True)) % 11 == 0


AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class ConversionError(ValueError):
    """A StUF value that cannot be converted; the message names the value."""


@dataclass(frozen=True)
class Lossy:
    """A conversion that kept less than it was given, e.g. a truncated text or an incomplete date."""

    what: str


# --- absent / nil / noValue ------------------------------------------------------------------------------------

NO_VALUES = frozenset({"geenWaarde", "waardeOnbekend", "vastgesteldOnbekend", "nietOndersteund", "nietGeautoriseerd"})


@dataclass(frozen=True)
class Nil:
    """``xsi:nil="true"`` with its ``StUF:noValue`` reason. Only ``geenWaarde`` means "this has no value"."""

    no_value: str | None

    @property
    def clears(self) -> bool:
        return self.no_value == "geenWaarde"


def element_value(el: etree._Element | None) -> str | Nil | None:
    """The value of a StUF element: None when absent, ``Nil`` for nil/noValue, otherwise the stripped text.

    Absent means "no statement" (unchanged in an update); ``Nil(geenWaarde)`` means "clear it"; any other
    noValue means "unknown / cannot supply" and changes nothing (STUF §3.4.1). A noValue on an element that is not
    nil and still has text contradicts itself; clients send it (``<creatiedatum StUF:noValue="geenWaarde">20200214
    </creatiedatum>``, Haarlem) and mean the value, so the text wins (``has_stray_no_value`` lets callers say so).
    """
    if el is None:
        return None
    no_value = el.get(f"{{{STUF}}}noValue")
    text = (el.text or "").strip()
    if el.get(f"{{{XSI}}}nil") in ("true", "1") or (no_value and not text):
        return Nil(no_value)
    return text


def has_stray_no_value(el: etree._Element) -> bool:
    """A noValue on an element that is not nil and has a value anyway (``element_value`` takes the value)."""
    return bool(el.get(f"{{{STUF}}}noValue")) and el.get(f"{{{XSI}}}nil") not in ("true", "1") \
        and bool((el.text or "").strip())


# --- dates and tijdstippen ---------------------------------------------------------------------------------------

_DIGITS = re.compile(r"^\d+$")


def parse_datum(text: str, ind_onvolledig: str | None = None) -> tuple[date | None, Lossy | None]:
    """A StUF Datum ``yyyyMMdd`` as a date.

    ``StUF:indOnvolledigeDatum`` says which part is unknown: D (day), M (month and day), J (the whole date), V (a
    complete date). ZGW dates are always complete, so an unknown day becomes the 1st, an unknown month January, and
    an unknown year no date at all; each of those is reported as Lossy.

    The unknown part may be zeros (``19900700``) or left off: StUF's Datum is a decimal of up to eight digits, and
    clients write a partially known date short, ``199007`` (day unknown) or ``1990`` (month unknown), read alike.
    """
    ind = (ind_onvolledig or "V").upper()
    if ind == "J" and _DIGITS.match(text) and len(text) <= 8:
        return None, Lossy(f"datum {text} is onvolledig (jaar onbekend) en is weggelaten")
    if not _DIGITS.match(text) or len(text) not in (4, 6, 8):
        raise ConversionError(f"datum {text!r} is geen yyyyMMdd (of yyyyMM, yyyy: een onvolledige datum)")
    padded = text.ljust(8, "0")
    year, month, day = int(padded[:4]), int(padded[4:6]), int(padded[6:8])
    if ind == "J" or year == 0:
        return None, Lossy(f"datum {text} is onvolledig (jaar onbekend) en is weggelaten")
    lossy = None
    if ind == "M" or month == 0:
        month, day = 1, 1
        lossy = Lossy(f"datum {text} is onvolledig (maand onbekend); 1 januari gebruikt")
    elif ind == "D" or day == 0:
        day = 1
        lossy = Lossy(f"datum {text} is onvolledig (dag onbekend); de 1e van de maand gebruikt")
    try:
        return date(year, month, day), lossy
    except ValueError as exc:
        raise ConversionError(f"datum {text!r} bestaat niet: {exc}") from None


def format_datum(value: date | str) -> str:
    """A date (or ISO date/date-time string) as StUF ``yyyyMMdd``."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    return value.strftime("%Y%m%d")


def parse_tijdstip(text: str, zone: ZoneInfo = AMSTERDAM) -> datetime:
    """A StUF Tijdstip (8–17 digits, ``yyyyMMdd[HH[mm[ss[SSS]]]]``) as an aware datetime.

    StUF names no time zone: the value is local time in ``zone`` (Europe/Amsterdam), DST-aware. In the autumn hour
    that occurs twice the first occurrence is taken; a time in the spring gap is moved forward by the gap.
    """
    if not _DIGITS.match(text) or not 8 <= len(text) <= 17:
        raise ConversionError(f"tijdstip {text!r} is geen 8 tot 17 cijfers (yyyyMMddHHmmssSSS)")
    padded = text.ljust(17, "0")
    try:
        naive = datetime(
            int(padded[0:4]), int(padded[4:6]), int(padded[6:8]),
            int(padded[8:10]), int(padded[10:12]), int(padded[12:14]), int(padded[14:17]) * 1000,
        )
    except ValueError as exc:
        raise ConversionError(f"tijdstip {text!r} bestaat niet: {exc}") from None
    local = naive.replace(tzinfo=zone, fold=0)
    # A wall-clock time in the spring-forward gap does not survive a round trip through UTC: normalise it.
    return local.astimezone(UTC).astimezone(zone)


def format_tijdstip(value: datetime | str, zone: ZoneInfo = AMSTERDAM) -> str:
    """An aware datetime (or ISO 8601 string) as a StUF Tijdstip in ``zone``: ``yyyyMMddHHmmssSSS``."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        raise ConversionError(f"tijdstip {value.isoformat()} heeft geen tijdzone")
    local = value.astimezone(zone)
    return local.strftime("%Y%m%d%H%M%S") + f"{local.microsecond // 1000:03d}"


def iso(value: datetime) -> str:
    """ISO 8601 with offset, as ZGW wants it (``2024-03-31T02:30:00+02:00``)."""
    return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")


def not_in_future(
    value: datetime, *, now: datetime, tolerance: timedelta, name: str
) -> tuple[datetime, Lossy | None]:
    """ZGW rejects moments in the future (``date-in-future``), and client clocks run slightly ahead. A value at most
    ``tolerance`` ahead of ``now`` becomes ``now`` (reported as Lossy); further ahead is an error naming the value."""
    if value <= now:
        return value, None
    ahead = value - now
    if ahead <= tolerance:
        return now, Lossy(f"{name} {iso(value)} ligt {ahead.total_seconds():.0f} s in de toekomst; nu gebruikt")
    raise ConversionError(
        f"{name} {format_tijdstip(value)} ({iso(value)}) ligt {ahead} in de toekomst; ZGW staat dat niet toe"
    )


# --- J/N and code lists ------------------------------------------------------------------------------------------


def jn_to_bool(text: str) -> bool:
    value = text.strip().upper()
    if value in ("J", "TRUE", "1"):
        return True
    if value in ("N", "FALSE", "0"):
        return False
    raise ConversionError(f"indicatie {text!r} is geen J of N")


def bool_to_jn(value: bool) -> str:
    return "J" if value else "N"


@dataclass(frozen=True)
class CodeTable:
    """A two-way code list. Look-ups from StUF are case- and blank-insensitive; unknown values are errors."""

    name: str
    stuf_to_zgw: dict[str, str]

    def to_zgw(self, text: str) -> str:
        key = _normalise(text)
        for stuf, zgw in self.stuf_to_zgw.items():
            if _normalise(stuf) == key:
                return zgw
        raise ConversionError(f"{self.name} {text!r} is onbekend; bekend zijn {', '.join(self.stuf_to_zgw)}")

    def to_stuf(self, value: str) -> str:
        for stuf, zgw in self.stuf_to_zgw.items():
            if zgw == value:
                return stuf
        raise ConversionError(f"{self.name} {value!r} heeft geen StUF-waarde")


def _normalise(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip()).lower()


def merge_codes(base: dict[str, str], top: dict[str, str]) -> dict[str, str]:
    """A code table's codes with another's laid over them code by code (a mapping overlay): ``top``'s value wins for
    a StUF code both have (compared as look-ups compare them: case, blanks and underscores aside), the others stay
    in their order, so a ZGW value both map keeps its StUF code on the way out; ``top``'s new codes come last."""
    overlaid = {_normalise(code): code for code in top}
    out: dict[str, str] = {}
    for code, value in base.items():
        other = overlaid.get(_normalise(code))
        if other is None:
            out[code] = value
        else:
            out[other] = top[other]
    for code, value in top.items():
        out.setdefault(code, value)
    return out


VERTROUWELIJKHEID = CodeTable(
    "vertrouwelijkAanduiding",
    {
        "ZEER GEHEIM": "zeer_geheim",
        "GEHEIM": "geheim",
        "CONFIDENTIEEL": "confidentieel",
        "VERTROUWELIJK": "vertrouwelijk",
        "ZAAKVERTROUWELIJK": "zaakvertrouwelijk",
        "INTERN": "intern",
        "BEPERKT OPENBAAR": "beperkt_openbaar",
        "OPENBAAR": "openbaar",
    },
)
BETALINGSINDICATIE = CodeTable(
    "betalingsIndicatie",
    {"N.v.t.": "nvt", "(Nog) niet": "nog_niet", "Gedeeltelijk": "gedeeltelijk", "Geheel": "geheel"},
)
ARCHIEFNOMINATIE = CodeTable("archiefnominatie", {"J": "vernietigen", "N": "blijvend_bewaren"})
GESLACHTSAANDUIDING = CodeTable("geslachtsaanduiding", {"M": "m", "V": "v", "O": "o"})
DOCUMENTSTATUS = CodeTable(
    "status",
    {
        "In bewerking": "in_bewerking",
        "Ter vaststelling": "ter_vaststelling",
        "Definitief": "definitief",
        "Gearchiveerd": "gearchiveerd",
    },
)
VERVALREDEN = CodeTable(
    "vervalreden",
    {
        "Besluit met tijdelijke werking": "tijdelijk",
        "Besluit ingetrokken door overheid": "ingetrokken_overheid",
        "Besluit ingetrokken o.v.v. belanghebbende": "ingetrokken_belanghebbende",
    },
)


def duur_to_iso(days: str | int) -> str:
    """verlenging/duur (whole days) as an ISO 8601 duration: ``P{n}D``."""
    text = str(days).strip()
    if not text.isdigit():
        raise ConversionError(f"duur {days!r} is geen aantal dagen")
    return f"P{int(text)}D"


_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?$")


def iso_to_duur(duration: str) -> int:
    """An ISO 8601 duration in days or weeks (``P30D``, ``P6W``) as whole days."""
    match = _DURATION.match(duration.strip())
    if not match or not any(match.groups()):
        raise ConversionError(f"duur {duration!r} is geen duur in dagen of weken")
    weeks, days = (int(g) if g else 0 for g in match.groups())
    return weeks * 7 + days


def clip_text(text: str, limit: int, name: str) -> tuple[str, Lossy | None]:
    """A text within a ZGW length limit; a cut is reported, never silent."""
    if len(text) <= limit:
        return text, None
    return text[:limit], Lossy(f"{name} is ingekort van {len(text)} tot {limit} tekens")
