"""Named two-way converters, the only code a mapping file can reach.

A rule names a converter (``convert: datum``) and may pass arguments (``args: {tolerance: PT10M}``); the
registry builds the converter once when the files are loaded, so a wrong name or argument stops start-up.

Each converter turns a StUF text into a ZGW value (``to_zgw``) and a ZGW value into a StUF text (``to_stuf``).
Either may return ``SKIP`` ("no value": the field is left alone) and may report a lossy conversion through
``note``; a value it cannot convert raises ``ConversionError``. Converters that work one way only say so in
``directions``; a rule that uses them the other way is refused at load.

| name | StUF | ZGW |
|---|---|---|
| text | text | string (the default) |
| integer | digits | integer |
| datum | Datum yyyyMMdd (+ StUF:indOnvolledigeDatum) | date |
| datum-tijdstip | Datum yyyyMMdd | date-time (00:00 Europe/Amsterdam) |
| tijdstip | Tijdstip yyyyMMdd[HHmmss[SSS]], Europe/Amsterdam | date-time with offset |
| tijdstip-not-in-future | as tijdstip; up to ``tolerance`` ahead is now (a warning), further an error | date-time |
| jn | J/N | boolean |
| duur | whole days | ISO 8601 duration P{n}D; ``skip_zero: true`` drops 0 |
| code | a code table value (rule key ``table``) | the table's ZGW value |
| postcode | 1234AB | postcode without blanks, upper case |
| lijst | one value | a list of strings (first item back) |
| rechtsvorm | free text (inn.rechtsvorm) | the innRechtsvorm enumeration |
| adresregel | an address group (in only) | one line: street number, postcode place |
| zaakniveau | 1/2 (out only) | hoofdzaak URL: set → 2 |
| jn-present | J (out only) | any non-empty value (list) → J |
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from lxml import etree

from ..stuf import values as v
from ..stuf.namespaces import BG, STUF
from ..stuf.values import ConversionError, Lossy

SKIP: Any = object()
IND_ONVOLLEDIG = f"{{{STUF}}}indOnvolledigeDatum"


@dataclass
class Ctx:
    """What a converter may know about the message: the clock and a place to leave notes."""

    now: datetime
    notes: list[str]
    where: str = ""

    def note(self, lossy: Lossy | None) -> None:
        if lossy is not None:
            self.notes.append(f"{self.where}: {lossy.what}" if self.where else lossy.what)


class Converter:
    name: ClassVar[str] = ""
    directions: ClassVar[frozenset[str]] = frozenset({"in", "out"})
    reads_element: ClassVar[bool] = False  # gets the element even without text (groups read as one value)

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        return text

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        return value if isinstance(value, str) else str(value)


class Text(Converter):
    name = "text"


class Integer(Converter):
    name = "integer"

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        try:
            return int(text)
        except ValueError:
            raise ConversionError(f"{text!r} is geen geheel getal") from None

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ConversionError(f"{value!r} is geen geheel getal")
        return str(int(value))


class Datum(Converter):
    name = "datum"

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        value, lossy = v.parse_datum(text, el.get(IND_ONVOLLEDIG) if el is not None else None)
        cx.note(lossy)
        return SKIP if value is None else value.isoformat()

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        try:
            return v.format_datum(value)
        except (TypeError, ValueError):
            raise ConversionError(f"{value!r} is geen datum") from None


class DatumTijdstip(Converter):
    """A StUF Datum for a ZGW date-time (e.g. sta.datumStatusGezet): midnight in Europe/Amsterdam."""

    name = "datum-tijdstip"

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        value, lossy = v.parse_datum(text, el.get(IND_ONVOLLEDIG) if el is not None else None)
        cx.note(lossy)
        if value is None:
            return SKIP
        return v.iso(datetime.combine(value, time(0), tzinfo=v.AMSTERDAM))

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        return v.format_tijdstip(_aware(value))[:8]


class Tijdstip(Converter):
    name = "tijdstip"

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        return v.iso(v.parse_tijdstip(text))

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        return v.format_tijdstip(_aware(value))


class TijdstipNotInFuture(Tijdstip):
    """ZGW refuses moments in the future; client clocks run a little ahead. Within ``tolerance`` (default 5
    minutes; seconds or an ISO duration like PT10M) the value becomes now and a warning says so."""

    name = "tijdstip-not-in-future"

    def __init__(self, tolerance: float | str = 300):
        self.tolerance = _duration(tolerance)

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        moment, lossy = v.not_in_future(
            v.parse_tijdstip(text), now=cx.now, tolerance=self.tolerance, name=cx.where or "tijdstip"
        )
        if lossy is not None:
            cx.notes.append(lossy.what)
        return v.iso(moment.astimezone(v.AMSTERDAM))


class JN(Converter):
    name = "jn"

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        return v.jn_to_bool(text)

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        if not isinstance(value, bool):
            raise ConversionError(f"{value!r} is geen boolean")
        return v.bool_to_jn(value)


class Duur(Converter):
    """verlenging/duur: whole days ↔ ``P{n}D``. With ``skip_zero`` a duur of 0 counts as no value (peers drop a
    verlenging of 0 days)."""

    name = "duur"

    def __init__(self, skip_zero: bool = False):
        self.skip_zero = bool(skip_zero)

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        iso = v.duur_to_iso(text)
        if self.skip_zero and iso == "P0D":
            cx.notes.append(f"{cx.where}: duur 0 telt als geen waarde")
            return SKIP
        return iso

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        return str(v.iso_to_duur(str(value)))


class Postcode(Converter):
    name = "postcode"

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        return re.sub(r"\s+", "", text).upper()

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        return re.sub(r"\s+", "", str(value)).upper()


class Bsn(Converter):
    """A burgerservicenummer: nine digits that pass the 11-proef. Never cut or padded: a wrong one would name
    another person, so it is refused, naming the element (issue 18, finding 7)."""

    name = "bsn"

    def __init__(self, elfproef: bool = True):
        # off only for a test environment whose suite sends made-up BSNs (the StUF Testplatform's 123456789):
        # a deployment's mapping overlay sets ``args: {elfproef: false}``; the length is checked either way
        self.elfproef = bool(elfproef)

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        value = text.strip()
        if not value.isdigit() or not value.isascii():
            raise ConversionError(f"een BSN bestaat uit 9 cijfers; dit is {_shown(value)}")
        if len(value) != 9:
            raise ConversionError(f"een BSN heeft 9 cijfers, niet {len(value)}")
        if self.elfproef and not v.elfproef(value):
            raise ConversionError("het BSN voldoet niet aan de elfproef")
        return value


def _shown(value: str) -> str:
    """A refused BSN-like value described without repeating it (it may be a real BSN, mistyped)."""
    return f"een waarde van {len(value)} tekens met andere tekens dan cijfers"


class Lijst(Converter):
    name = "lijst"

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        return [text]

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        if isinstance(value, (list, tuple)):
            if len(value) > 1:
                cx.notes.append(f"{cx.where}: alleen de eerste van {len(value)} waarden past in StUF")
            return str(value[0]) if value else SKIP
        return str(value)


RECHTSVORMEN = (
    "besloten_vennootschap",
    "cooperatie_europees_economische_samenwerking",
    "europese_cooperatieve_venootschap",
    "europese_naamloze_vennootschap",
    "kerkelijke_organisatie",
    "naamloze_vennootschap",
    "onderlinge_waarborg_maatschappij",
    "overig_privaatrechtelijke_rechtspersoon",
    "stichting",
    "vereniging",
    "vereniging_van_eigenaars",
    "publiekrechtelijke_rechtspersoon",
    "vennootschap_onder_firma",
    "maatschap",
    "rederij",
    "commanditaire_vennootschap",
    "kapitaalvennootschap_binnen_eer",
    "overige_buitenlandse_rechtspersoon_vennootschap",
    "kapitaalvennootschap_buiten_eer",
)
# Free-text forms seen in StUF (and their abbreviations), most specific first; the first match wins.
_RECHTSVORM_WORDS: tuple[tuple[str, str], ...] = (
    ("vereniging van eigenaars", "vereniging_van_eigenaars"),
    ("europese cooperatieve", "europese_cooperatieve_venootschap"),
    ("europese naamloze", "europese_naamloze_vennootschap"),
    ("europees economische", "cooperatie_europees_economische_samenwerking"),
    ("cooperatie", "cooperatie_europees_economische_samenwerking"),
    ("buitenlandse", "overige_buitenlandse_rechtspersoon_vennootschap"),
    ("binnen eer", "kapitaalvennootschap_binnen_eer"),
    ("buiten eer", "kapitaalvennootschap_buiten_eer"),
    ("besloten vennootschap", "besloten_vennootschap"),
    ("naamloze vennootschap", "naamloze_vennootschap"),
    ("commanditaire", "commanditaire_vennootschap"),
    ("vennootschap onder firma", "vennootschap_onder_firma"),
    ("onderlinge waarborg", "onderlinge_waarborg_maatschappij"),
    ("kerk", "kerkelijke_organisatie"),
    ("publiekrechtelijk", "publiekrechtelijke_rechtspersoon"),
    ("stichting", "stichting"),
    ("vereniging", "vereniging"),
    ("maatschap", "maatschap"),
    ("rederij", "rederij"),
    ("bv", "besloten_vennootschap"),
    ("nv", "naamloze_vennootschap"),
    ("vof", "vennootschap_onder_firma"),
    ("cv", "commanditaire_vennootschap"),
)


class Rechtsvorm(Converter):
    """inn.rechtsvorm (free text) → innRechtsvorm: the enumeration value itself, else the first known phrase it
    contains, else ``overig_privaatrechtelijke_rechtspersoon`` (reported)."""

    name = "rechtsvorm"

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        lowered = text.lower().replace("ö", "o").replace(".", "").replace("_", " ")
        plain = " ".join(re.sub(r"[^a-z]+", " ", lowered).split())
        if plain.replace(" ", "_") in RECHTSVORMEN:
            return plain.replace(" ", "_")
        words = f" {plain} "
        for phrase, value in _RECHTSVORM_WORDS:
            # abbreviations are whole words; other phrases may start a longer word (kerk → kerkgenootschap)
            if f" {phrase} " in words if len(phrase) <= 3 else f" {phrase}" in words:
                return value
        cx.notes.append(f"{cx.where}: rechtsvorm {text!r} onbekend; overig_privaatrechtelijke_rechtspersoon gebruikt")
        return "overig_privaatrechtelijke_rechtspersoon"

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        text = str(value).replace("_", " ")
        return text[:1].upper() + text[1:]


class Adresregel(Converter):
    """An address group (bezoekadres) as the one line ZGW keeps: "straat 12a-b, 1234AB Plaats"."""

    name = "adresregel"
    directions = frozenset({"in"})
    reads_element = True

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        if el is None:
            return SKIP

        def part(*names: str) -> str:
            for name in names:
                found = el.find(f"{{{BG}}}{name}")
                value = v.element_value(found)
                if isinstance(value, str) and value:
                    return value
            return ""

        straat = part("gor.openbareRuimteNaam", "gor.straatnaam")
        nummer = part("aoa.huisnummer") + part("aoa.huisletter")
        toevoeging = part("aoa.huisnummertoevoeging")
        if toevoeging:
            nummer += f"-{toevoeging}"
        plaats = " ".join(p for p in (part("aoa.postcode"), part("wpl.woonplaatsNaam")) if p)
        line = ", ".join(p for p in (" ".join(p for p in (straat, nummer) if p), plaats) if p)
        if not line:
            line = part("inp.locatiebeschrijving")
        return line or SKIP


class Zaakniveau(Converter):
    """zaakniveau for answers: a zaak with a hoofdzaak is a deelzaak (2); give ``default: 1`` for the rest."""

    name = "zaakniveau"
    directions = frozenset({"out"})

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        return "2"


class JNPresent(Converter):
    """J when the ZGW value is there (e.g. deelzaken non-empty); give ``default: N`` for the rest."""

    name = "jn-present"
    directions = frozenset({"out"})

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        return "J"


class Code(Converter):
    """A code table (rule key ``table``): StUF values are matched ignoring case, blanks and underscores."""

    name = "code"

    def __init__(self, table: CodeTableSpec):
        self.table = table
        # the table's own look-up normalises every entry per call; a dict built once does it in one step
        self._by_stuf = {_normalise(stuf): zgw for stuf, zgw in table.codes.stuf_to_zgw.items()}

    def to_zgw(self, text: str, el: etree._Element | None, cx: Ctx) -> Any:
        found = self._by_stuf.get(_normalise(text))
        if found is not None:
            return found
        try:
            return self.table.codes.to_zgw(text)  # raises, naming the known values
        except ConversionError:
            if self.table.unknown == "keep":
                return text
            if self.table.unknown == "omit":
                cx.notes.append(f"{cx.where}: {text!r} staat niet in tabel {self.table.codes.name}; weggelaten")
                return SKIP
            raise

    def to_stuf(self, value: Any, cx: Ctx) -> Any:
        try:
            return self.table.codes.to_stuf(str(value))
        except ConversionError:
            if self.table.unknown == "keep":
                return str(value)
            if self.table.unknown == "omit":
                return SKIP
            raise


_BLANKS = re.compile(r"[\s_]+")


def _normalise(text: str) -> str:
    """As ``CodeTable`` compares: case, blanks and underscores do not count."""
    return _BLANKS.sub(" ", text.strip()).lower()


@dataclass(frozen=True)
class CodeTableSpec:
    codes: v.CodeTable
    unknown: str = "error"  # error | keep | omit


BUILTIN_TABLES: dict[str, CodeTableSpec] = {
    "vertrouwelijkheid": CodeTableSpec(v.VERTROUWELIJKHEID),
    "betalingsindicatie": CodeTableSpec(v.BETALINGSINDICATIE),
    "archiefnominatie": CodeTableSpec(v.ARCHIEFNOMINATIE),
    "geslachtsaanduiding": CodeTableSpec(v.GESLACHTSAANDUIDING),
    "documentstatus": CodeTableSpec(v.DOCUMENTSTATUS, unknown="omit"),
    "vervalreden": CodeTableSpec(v.VERVALREDEN),
}

REGISTRY: dict[str, Callable[..., Converter]] = {
    cls.name: cls
    for cls in (
        Text,
        Integer,
        Datum,
        DatumTijdstip,
        Tijdstip,
        TijdstipNotInFuture,
        JN,
        Duur,
        Postcode,
        Bsn,
        Lijst,
        Rechtsvorm,
        Adresregel,
        Zaakniveau,
        JNPresent,
    )
}
CODE = "code"


def build(name: str, args: dict[str, Any], table: CodeTableSpec | None = None) -> Converter:
    """The converter ``name`` with ``args``; ValueError names an unknown converter or a bad argument."""
    if name == CODE:
        if table is None:
            raise ValueError("converter 'code' needs a 'table'")
        if args:
            raise ValueError(f"converter 'code' takes no args (got {', '.join(args)})")
        return Code(table)
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown converter {name!r} (known: {', '.join(sorted([*REGISTRY, CODE]))})") from None
    try:
        return factory(**args)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"converter {name!r}: bad args {args!r}: {exc}") from None


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0), tzinfo=v.AMSTERDAM)
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ConversionError(f"{value!r} is geen ISO 8601-tijdstip") from None
    if moment.tzinfo is None:  # ZGW always sends an offset; a bare value is read as UTC (the API's default)
        moment = moment.replace(tzinfo=UTC)
    return moment


_ISO_DURATION = re.compile(r"^PT?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


def _duration(value: float | str) -> timedelta:
    if isinstance(value, bool):
        raise TypeError("tolerance must be seconds or an ISO duration")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("tolerance must not be negative")
        return timedelta(seconds=value)
    m = _ISO_DURATION.match(str(value).strip())
    if not m or not any(m.groups()):
        raise ValueError(f"tolerance {value!r} is not seconds or an ISO duration like PT5M")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)
