"""``expand`` on zaken (Zaken API 1.5): related resources inline under ``_expand``, following dotted paths
such as ``status.statustype`` or ``rollen.roltype``, as far as they point at Zaken or Catalogi resources here."""

from __future__ import annotations

from typing import Any

from .crud import Render
from .db import Database
from .problems import ValidationFailed
from .refs import MARK, kind_of, uuid_of

REFERENCE_FIELDS = frozenset({
    "zaaktype", "hoofdzaak", "deelzaken", "eigenschappen", "status", "resultaat", "rollen", "zaakinformatieobjecten",
    "zaakobjecten", "statustype", "roltype", "resultaattype", "eigenschap", "catalogus", "zaak", "gezetdoor",
    "statustypen", "roltypen", "resultaattypen", "informatieobjecttypen", "besluittypen", "deelzaaktypen",
    "zaaktypen", "informatieobjecttype",
})
CATALOGI = ("catalogus", "zaaktype", "statustype", "roltype", "resultaattype", "informatieobjecttype",
            "besluittype", "eigenschap", "zaaktypeinformatieobjecttype")


def _renderers() -> dict[str, Render]:
    from . import zaken, zaken_relaties, zaken_rollen, zaken_status
    from .catalogi import render_all

    renderers: dict[str, Render] = dict.fromkeys(CATALOGI, render_all)
    renderers.update({
        "zaak": zaken.render_zaken,
        "status": zaken_status.render_statussen,
        "rol": zaken_rollen.render_rollen,
        "resultaat": zaken_status.RESULTATEN.render,
        "zaakobject": zaken_rollen.render_objecten,
        "zaakinformatieobject": zaken_relaties.ZAAKINFORMATIEOBJECTEN.render,
        "zaakeigenschap": zaken_relaties.ZAAKEIGENSCHAPPEN.render,
    })
    return renderers


def parse(value: str | None) -> list[list[str]]:
    if not value:
        return []
    return [p.split(".") for p in value.split(",") if p]


def apply(database: Database, documents: list[dict[str, Any]], paths: list[list[str]]) -> None:
    """Add ``_expand`` to rendered documents (still holding stored references) in place."""
    if not paths:
        return
    renderers = _renderers()
    cache: dict[str, dict[str, Any] | None] = {}

    def resolve(marker: Any, name: str) -> dict[str, Any] | None:
        if marker is None or marker == "":
            return None
        if not isinstance(marker, str) or not marker.startswith(MARK):
            raise ValidationFailed.one("expand", "invalid", f"Het veld '{name}' kan niet uitgebreid worden.")
        if marker not in cache:
            kind = kind_of(marker)
            if kind not in renderers:
                raise ValidationFailed.one("expand", "invalid", f"Het veld '{name}' kan niet uitgebreid worden.")
            doc = database.get(kind, uuid_of(marker))
            cache[marker] = renderers[kind](database, [doc])[0] if doc is not None else None
        found = cache[marker]
        return dict(found) if found is not None else None

    def walk(obj: dict[str, Any], segments: list[str]) -> None:
        name = segments[0]
        if name not in obj or name not in REFERENCE_FIELDS:
            raise ValidationFailed.one("expand", "invalid", f"Het veld '{name}' kan niet uitgebreid worden.")
        expanded = obj.setdefault("_expand", {})
        if name not in expanded:
            value = obj[name]
            expanded[name] = [resolve(v, name) for v in value] if isinstance(value, list) else resolve(value, name)
        if len(segments) > 1:
            targets = expanded[name] if isinstance(expanded[name], list) else [expanded[name]]
            for target in targets:
                if target is not None:
                    walk(target, segments[1:])

    for document in documents:
        for segments in paths:
            walk(document, segments)
