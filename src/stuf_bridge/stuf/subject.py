"""What a message is about, read from the message alone: the zaak, document and besluit identificaties it names and,
when it says so, the zaaktype.

The route stage needs this before any flow runs (routing per zaaktype, pinning a zaak to its route), and the record
stage logs it (which messages were about zaak X?). It reads no backend: a follow-up message that carries no zaaktype
leaves ``zaaktype`` None, and finding it elsewhere (a zaak registry, ZGW, the legacy system) is the route stage's job.

Where the identificaties stand, in both dialects:

* the message's own object: ``object`` (Lk01, Di01) or ``gelijk`` (Lv01), its entity in ``StUF:entiteittype``
  (ZAK, EDC, BSL), its ``identificatie`` a child; ZDS 1.2's voegBesluitToe nests ``object/besluit`` and
  ``object/zaak``;
* related objects: any ``gerelateerde`` with an entiteittype of its own (``isRelevantVoor`` of a document names its
  zaak, ``heeftAlsHoofdzaak`` another zaak, ``isVastgelegdIn`` a document, ``leidtTot`` a besluit);
* the zaaktype: ``object/isVan/gerelateerde/code`` (creeerZaak, and updateZaak when a client sends it).

Empty and nil identificaties (a scope says ``<identificatie xsi:nil="true"/>`` to ask for one) are not names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .namespaces import STUF, ZKN

_ENTITEITTYPE = f"{{{STUF}}}entiteittype"
_IDENTIFICATIE = f"{{{ZKN}}}identificatie"
_ENTITIES = {"ZAK": "zaken", "EDC": "documenten", "BSL": "besluiten"}
_OWN = frozenset({"object", "gelijk", "besluit", "zaak"})  # elements that are the message's own object(s)
_ZAAKTYPE_CODE = f"{{{ZKN}}}isVan/{{{ZKN}}}gerelateerde/{{{ZKN}}}code"


@dataclass(frozen=True)
class Subject:
    """The identificaties a message names, in document order without repeats; ``zaak`` is the zaak it is about
    (its own zaak object, else the zaak its document or besluit belongs to)."""

    zaak: str | None = None
    zaaktype: str | None = None
    zaken: tuple[str, ...] = ()
    documenten: tuple[str, ...] = ()
    besluiten: tuple[str, ...] = ()

    def identificaties(self) -> tuple[str, ...]:
        return self.zaken + self.documenten + self.besluiten


@dataclass
class _Found:
    zaken: list[str] = field(default_factory=list)
    documenten: list[str] = field(default_factory=list)
    besluiten: list[str] = field(default_factory=list)
    own_zaak: str | None = None

    def add(self, entity: str, identificatie: str) -> None:
        names: list[str] = getattr(self, _ENTITIES[entity])
        if identificatie not in names:
            names.append(identificatie)


def read_subject(message: etree._Element) -> Subject:
    """The :class:`Subject` of a StUF message (the body element)."""
    found = _Found()
    zaaktype: str | None = None
    for element in message.iter(f"{{{ZKN}}}*"):
        entity = element.get(_ENTITEITTYPE)
        if entity not in _ENTITIES or _inside_scope(element, message):
            continue
        identificatie = (element.findtext(_IDENTIFICATIE) or "").strip()
        if not identificatie:
            continue
        found.add(entity, identificatie)
        own = etree.QName(element).localname in _OWN
        if own and entity == "ZAK" and found.own_zaak is None:
            found.own_zaak = identificatie
        if own and zaaktype is None:
            code = (element.findtext(_ZAAKTYPE_CODE) or "").strip()
            zaaktype = code or None
    if zaaktype is None:  # creeerZaak without identificatie: the object has a zaaktype but no name yet
        obj = message.find(f"{{{ZKN}}}object")
        if obj is not None:
            zaaktype = (obj.findtext(_ZAAKTYPE_CODE) or "").strip() or None
    return Subject(
        zaak=found.own_zaak or (found.zaken[0] if found.zaken else None),
        zaaktype=zaaktype,
        zaken=tuple(found.zaken),
        documenten=tuple(found.documenten),
        besluiten=tuple(found.besluiten),
    )


def _inside_scope(element: etree._Element, message: etree._Element) -> bool:
    """A question's ``scope`` describes what to answer, not what the message is about."""
    parent = element.getparent()
    while parent is not None and parent is not message:
        if etree.QName(parent).localname == "scope":
            return True
        parent = parent.getparent()
    return False
