"""Stuurgegevens: reading them from a request, and writing those of an answer (MAPPING.md §1.2)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from .namespaces import STUF
from .values import AMSTERDAM, format_tijdstip

# Every berichtcode StUF 03.01 defines; anything else is not a StUF message.
BERICHTCODES = frozenset(
    [f"Bv0{i}" for i in range(1, 5)]
    + ["Di01", "Di02", "Du01", "Du02", "Fo01", "Fo02", "Fo03"]
    + [f"La{i:02d}" for i in range(1, 15)]
    + [f"Lk0{i}" for i in range(1, 7)]
    + [f"Lv{i:02d}" for i in range(1, 15)]
    + ["Sa01", "Sa02", "Sa03", "Sa04", "Sh01", "Sh02", "Sh03", "Sh04", "Tr01"]
)


@dataclass(frozen=True)
class Systeem:
    organisatie: str | None = None
    applicatie: str | None = None
    administratie: str | None = None
    gebruiker: str | None = None

    def is_empty(self) -> bool:
        return not (self.organisatie or self.applicatie or self.administratie or self.gebruiker)

    def label(self) -> str:
        return f"{self.organisatie or '-'}/{self.applicatie or '-'}"


@dataclass(frozen=True)
class Stuurgegevens:
    berichtcode: str | None = None
    zender: Systeem | None = None
    ontvanger: Systeem | None = None
    referentienummer: str | None = None
    tijdstip_bericht: str | None = None
    cross_refnummer: str | None = None
    entiteittype: str | None = None
    functie: str | None = None


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


def _systeem(el: etree._Element | None) -> Systeem | None:
    if el is None:
        return None
    values = {_local(child): _text(child) for child in el if isinstance(child.tag, str)}
    return Systeem(
        organisatie=values.get("organisatie"),
        applicatie=values.get("applicatie"),
        administratie=values.get("administratie"),
        gebruiker=values.get("gebruiker"),
    )


def read_stuurgegevens(message: etree._Element) -> Stuurgegevens | None:
    """The stuurgegevens of a StUF message, or None when it has none.

    Elements are matched by local name: the stuurgegevens wrapper lives in the ZKN, ZDS or StUF namespace
    depending on the dialect, and lenient reading keeps slightly off messages processable under policy `warn`.
    """
    sg = next((el for el in message if isinstance(el.tag, str) and _local(el) == "stuurgegevens"), None)
    if sg is None:
        return None
    children: dict[str, etree._Element] = {}
    for child in sg:
        if isinstance(child.tag, str):
            children.setdefault(_local(child), child)
    return Stuurgegevens(
        berichtcode=_text(children.get("berichtcode")),
        zender=_systeem(children.get("zender")),
        ontvanger=_systeem(children.get("ontvanger")),
        referentienummer=_text(children.get("referentienummer")),
        tijdstip_bericht=_text(children.get("tijdstipBericht")),
        cross_refnummer=_text(children.get("crossRefnummer")),
        entiteittype=_text(children.get("entiteittype")),
        functie=_text(children.get("functie")),
    )


def tijdstip_now(now: datetime | None = None) -> str:
    """Now as a StUF tijdstip in Europe/Amsterdam: ``yyyyMMddHHmmssSSS``."""
    return format_tijdstip(now or datetime.now(AMSTERDAM))


def new_referentienummer() -> str:
    return str(uuid.uuid4())


def _add_systeem(parent: etree._Element, name: str, systeem: Systeem) -> None:
    el = etree.SubElement(parent, f"{{{STUF}}}{name}")
    for field in ("organisatie", "applicatie", "administratie", "gebruiker"):
        value = getattr(systeem, field)
        if value is not None:
            etree.SubElement(el, f"{{{STUF}}}{field}").text = value


# Answers whose stuurgegevens may leave out ontvanger and crossRefnummer (ZAK-/EDC-/BSL-StuurgegevensLa01): a
# question without zender (or referentienummer) gets them left out, not filled with a made-up value.
_PARTIES_OPTIONAL = frozenset({"La01"})
UNKNOWN = "onbekend"


@dataclass(frozen=True)
class AnswerParties:
    """Who an answer comes from and goes to: the request's ontvanger and zender, swapped. ``ontvanger`` is the
    request's zender as it is (None without one), ``cross_refnummer`` None when the request has no referentienummer;
    ``ontvanger_for`` and ``cross_refnummer_for`` give what an answer writes."""

    zender: Systeem
    ontvanger: Systeem | None
    cross_refnummer: str | None

    @classmethod
    def for_request(cls, request: Stuurgegevens | None, gateway: Systeem) -> AnswerParties:
        zender = request.ontvanger if request and request.ontvanger and request.ontvanger.applicatie else gateway
        ontvanger = request.zender if request else None
        cross = request.referentienummer if request else None
        return cls(zender=zender, ontvanger=ontvanger, cross_refnummer=cross[:40] if cross else None)

    def ontvanger_for(self, berichtcode: str) -> Systeem | None:
        """The answer's ontvanger: the request's zender; without one (or without its applicatie, which a Systeem
        must have), left out where the answer's schema allows, else (Fo03, Bv03, …: required) the request's
        organisatie with applicatie "onbekend"."""
        if self.ontvanger is not None and self.ontvanger.applicatie:
            return self.ontvanger
        if berichtcode in _PARTIES_OPTIONAL:
            return None
        return Systeem(organisatie=self.ontvanger.organisatie if self.ontvanger else None, applicatie=UNKNOWN)

    def cross_refnummer_for(self, berichtcode: str) -> str | None:
        """The answer's crossRefnummer: the request's referentienummer; without one, left out where allowed, else
        "onbekend"."""
        if self.cross_refnummer is not None or berichtcode in _PARTIES_OPTIONAL:
            return self.cross_refnummer
        return UNKNOWN


def write_stuurgegevens(
    parent: etree._Element,
    tag: str,
    berichtcode: str,
    parties: AnswerParties | None,
    *,
    entiteittype: str | None = None,
    functie: str | None = None,
) -> etree._Element:
    """Append the stuurgegevens of an answer. ``parties`` None gives the berichtcode-only form of Bv02/Fo02."""
    sg = etree.SubElement(parent, tag)
    etree.SubElement(sg, f"{{{STUF}}}berichtcode").text = berichtcode
    if parties is not None:
        _add_systeem(sg, "zender", parties.zender)
        ontvanger = parties.ontvanger_for(berichtcode)
        if ontvanger is not None:
            _add_systeem(sg, "ontvanger", ontvanger)
        etree.SubElement(sg, f"{{{STUF}}}referentienummer").text = new_referentienummer()
        etree.SubElement(sg, f"{{{STUF}}}tijdstipBericht").text = tijdstip_now()
        cross = parties.cross_refnummer_for(berichtcode)
        if cross is not None:
            etree.SubElement(sg, f"{{{STUF}}}crossRefnummer").text = cross
        if entiteittype:
            etree.SubElement(sg, f"{{{STUF}}}entiteittype").text = entiteittype
        if functie:
            etree.SubElement(sg, f"{{{STUF}}}functie").text = functie
    return sg
