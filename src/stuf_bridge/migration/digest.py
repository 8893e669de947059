"""The normalised view of a zaak that reconciliation compares and the ledger's source digest is taken of.

Both sides are read as a StUF ``zakLa01`` object — legacy answers one itself, and the ZGW side is asked through the
gateway's own translate flow (the same ``geefZaakdetails`` a client gets) — so one normalisation serves both, and
the field names in a difference are the StUF names a municipality's functional administrator knows:

* kerngegevens: ``identificatie``, ``omschrijving``, ``toelichting``, ``startdatum``, ``einddatum``,
  ``einddatumGepland``, ``zaaktype`` (isVan/gerelateerde/code);
* ``statussen.count`` and ``statussen.last`` (volgnummer and datumStatusGezet of the latest one, to the second);
* ``rollen``: per heeftAlsX relation the sorted identificaties of the betrokkenen (BSN, nummer, medewerker id);
* ``resultaat``: its omschrijving;
* ``besluiten``: the sorted besluiten the zaak leads to (``leidtTot``), each ``identificatie@datumBeslissing``;
* ``documenten``: the sorted document identificaties (and ``documenten.bytes``, the sizes, where known).

Values are stripped; dates are compared on their digits (``20241105`` and ``2024-11-05`` are the same day);
an absent element and an empty one are the same.
"""

from __future__ import annotations

import hashlib
import json
import re

from lxml import etree

from ..stuf.namespaces import ZKN

KERN = ("identificatie", "omschrijving", "toelichting", "startdatum", "einddatum", "einddatumGepland")
ROLLEN = ("heeftAlsInitiator", "heeftAlsBelanghebbende", "heeftAlsGemachtigde", "heeftAlsUitvoerende",
          "heeftAlsVerantwoordelijke", "heeftAlsOverigBetrokkene")
DATES = frozenset({"startdatum", "einddatum", "einddatumGepland"})
_DIGITS = re.compile(r"\D")
#: Elements of a betrokkene that identify it, any namespace (BG: inp.bsn, nummer/ann.identificatie, ...).
_IDS = ("inp.bsn", "inn.nnpId", "ann.identificatie", "vestigingsNummer", "identificatie", "nummer")


def z(name: str) -> str:
    return f"{{{ZKN}}}{name}"


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _date(value: str, digits: int = 8) -> str:
    only = _DIGITS.sub("", value)
    return only[:digits].ljust(digits, "0") if only else ""


def normalise(obj: etree._Element, documents: dict[str, int | None] | None = None) -> dict[str, str]:
    """The compared fields of one ``zakLa01`` ``antwoord/object`` (scope alles); ``documents``: identificatie →
    size in bytes (None: unknown) of the zaak's documents, when they were asked for."""
    fields: dict[str, str] = {}
    for name in KERN:
        value = _text(obj.find(z(name)))
        fields[name] = _date(value) if name in DATES else value
    fields["zaaktype"] = _text(obj.find(f"{z('isVan')}/{z('gerelateerde')}/{z('code')}"))
    statussen = []
    for heeft in obj.iterfind(z("heeft")):
        gezet = _date(_text(heeft.find(z("datumStatusGezet"))), 14)
        volgnummer = _text(heeft.find(f"{z('gerelateerde')}/{z('volgnummer')}"))
        statussen.append((gezet, volgnummer))
    statussen.sort()
    fields["statussen.count"] = str(len(statussen))
    fields["statussen.last"] = f"{statussen[-1][1]}@{statussen[-1][0]}" if statussen else ""
    for relation in ROLLEN:
        ids = sorted(_betrokkene(el) for el in obj.iterfind(z(relation)))
        fields[f"rollen.{relation}"] = ",".join(ids)
    fields["resultaat"] = _text(obj.find(f"{z('resultaat')}/{z('omschrijving')}"))
    besluiten = {f"{_text(el.find(z('identificatie')))}@{_date(_text(el.find(z('datumBeslissing'))))}"
                 for el in obj.iterfind(f"{z('leidtTot')}/{z('gerelateerde')}") if _text(el.find(z("identificatie")))}
    fields["besluiten"] = ",".join(sorted(besluiten))
    if documents is not None:
        names = sorted(documents)
        fields["documenten"] = ",".join(names)
        if all(documents[name] is not None for name in names):
            fields["documenten.bytes"] = ",".join(str(documents[name]) for name in names)
    return fields


def _betrokkene(relation: etree._Element) -> str:
    gerelateerde = relation.find(z("gerelateerde"))
    if gerelateerde is None:
        return ""
    for kind in gerelateerde:
        if not isinstance(kind.tag, str):
            continue
        for name in _IDS:
            for el in kind.iter():
                if isinstance(el.tag, str) and etree.QName(el).localname == name and _text(el):
                    return f"{etree.QName(kind).localname}:{_text(el)}"
    return ""


def digest(fields: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def differences(legacy: dict[str, str], zgw: dict[str, str]) -> list[str]:
    """The names of the fields that differ (a field only one side could tell, e.g. sizes, is not compared)."""
    return [name for name in sorted(set(legacy) & set(zgw)) if legacy[name] != zgw[name]]
