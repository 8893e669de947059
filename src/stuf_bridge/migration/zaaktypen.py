"""Which ZGW zaaktype a legacy zaak's zaaktype is: the copy's look-up of ``isVan/gerelateerde/code``.

ZDS cannot carry every ZGW zaaktype identificatie: the ZKT ``code`` is ``ZKN:Code`` (``maxLength 10`` in the
StUF-ZKN 0310 schemas of ZDS 1.1 and 1.2, ``zkn0310_simpleTypes.xsd``), while a ZGW zaaktype identificatie may be
50 characters. A legacy zaaksysteem that keeps ``OMGEVINGSVERGUNNING`` therefore answers ``OMGEVINGSV`` — and so does
this gateway's own translate flow (``mappings/zaak.yaml``: ``max_length: {out: 10}``). The answer also carries the
zaaktype's ``omschrijving`` (``ZKN:Omschrijving``, 80 characters).

The copy finds the ZGW zaaktype in this order:

1. an explicit mapping in the settings (``migration.zaaktypen``: legacy code → ZGW identificatie), which always wins;
2. a published zaaktype whose identificatie **is** the code;
3. when the code is 10 characters long (it may have been cut): the published zaaktypen whose identificatie starts
   with it — one identificatie: that one; several: the ones whose omschrijving is the answer's omschrijving
   (case and whitespace folded; both cut to 80 characters), if that leaves exactly one.

Anything else is a :class:`CopyFailed` that names the code, the omschrijving, the candidates and the setting to add,
so the ledger and the migrate report say why (``zaaktype niet eenduidig`` / ``geen zaaktype``), and nothing is
written for that zaak.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..zgw import ZgwClients
from .source import LegacyZaak, z

#: ``ZKN:Code`` (the ZKT code) and ``ZKN:Omschrijving`` in the StUF-ZKN 0310 schemas.
CODE_MAX = 10
OMSCHRIJVING_MAX = 80
SETTING = "migration.zaaktypen"


class ZaaktypeUnresolved(Exception):
    """No ZGW zaaktype, or more than one, for a legacy zaaktype; ``str()`` says which and what to do."""


def _fold(value: object, cut: int | None = None) -> str:
    folded = " ".join(str(value or "").split()).casefold()
    return folded[:cut] if cut is not None else folded


def choose(code: str, omschrijving: str | None, published: list[dict[str, Any]],
           explicit: Mapping[str, str] | None = None) -> str:
    """The ZGW zaaktype identificatie for a legacy ``code`` (and zaaktype ``omschrijving``) among the ``published``
    zaaktypen (every version, as the Catalogi API lists them); raises :class:`ZaaktypeUnresolved`."""
    if explicit and code in explicit:
        return explicit[code]
    identificaties = {str(item.get("identificatie") or "") for item in published}
    if code in identificaties:
        return code
    hint = f"; zet {SETTING} (legacy-code → ZGW-identificatie) om het te kiezen"
    if len(code) < CODE_MAX:
        raise ZaaktypeUnresolved(f"geen gepubliceerd zaaktype met identificatie {code!r}{hint}")
    prefixed: dict[str, list[dict[str, Any]]] = {}
    for item in published:
        identificatie = str(item.get("identificatie") or "")
        if identificatie.startswith(code):
            prefixed.setdefault(identificatie, []).append(item)
    if not prefixed:
        raise ZaaktypeUnresolved(f"geen gepubliceerd zaaktype met identificatie {code!r} of een die ermee begint "
                                 f"(de ZKT-code is in ZDS ten hoogste {CODE_MAX} tekens){hint}")
    if len(prefixed) == 1:
        return next(iter(prefixed))
    wanted = _fold(omschrijving, OMSCHRIJVING_MAX)
    by_omschrijving = sorted(identificatie for identificatie, versions in prefixed.items()
                             if wanted and any(_fold(v.get("omschrijving"), OMSCHRIJVING_MAX) == wanted
                                               for v in versions))
    if len(by_omschrijving) == 1:
        return by_omschrijving[0]
    candidates = ", ".join(f"{identificatie} ({versions[0].get('omschrijving') or '-'})"
                           for identificatie, versions in sorted(prefixed.items()))
    raise ZaaktypeUnresolved(
        f"zaaktype niet eenduidig: de legacy-code {code!r} (omschrijving {omschrijving or '-'!r}) is het begin van "
        f"meer dan één gepubliceerd zaaktype: {candidates}{hint}")


class ZaaktypeResolver:
    """:func:`choose` against the ZGW catalogue, remembered per (code, omschrijving) for the life of the copier."""

    def __init__(self, zgw: ZgwClients, explicit: Mapping[str, str] | None = None):
        self.zgw = zgw
        self.explicit = dict(explicit or {})
        self._known: dict[tuple[str, str], str] = {}
        self._published: list[dict[str, Any]] | None = None

    async def resolve(self, zaak: LegacyZaak) -> str | None:
        """The ZGW identificatie of the zaak's zaaktype; None when the answer names none (creeerZaak then faults)."""
        code = zaak.zaaktype
        if code is None:
            return None
        omschrijving = (zaak.object.findtext(f"{z('isVan')}/{z('gerelateerde')}/{z('omschrijving')}") or "").strip()
        key = (code, omschrijving)
        if key in self._known:
            return self._known[key]
        if code in self.explicit:
            found = self.explicit[code]
        elif await self.zgw.catalogue.zaaktypen(code):  # the usual case: one cached request, no full listing
            found = code
        else:
            if self._published is None:
                self._published = [item for item in await self.zgw.catalogi.list("zaaktypen", {"status": "definitief"})
                                   if not item.get("concept")]
            try:
                found = choose(code, omschrijving, self._published)
            except ZaaktypeUnresolved:
                self._published = None  # a zaaktype published meanwhile is seen on the next try
                raise
        self._known[key] = found
        return found
