"""Zaak-to-zaak relations of creeerZaak and updateZaak (MAPPING.md §3.2, §3.3): hoofdzaak, deelzaken and
relevanteAndereZaken.

| relation                | ZGW                                                   | written as                       |
|-------------------------|-------------------------------------------------------|----------------------------------|
| heeftAlsHoofdzaak       | ``zaak.hoofdzaak``                                    | field of the zaak (POST / PATCH) |
| heeftBetrekkingOpAndere | ``zaak.relevanteAndereZaken[{url, aardRelatie}]``     | field of the zaak (POST / PATCH) |
| heeftAlsDeelzaak        | ``hoofdzaak`` of the *other* zaak (ZRC derives them)  | PATCH of that zaak (PATCH back)  |

The related zaak is named by ``gerelateerde/identificatie``. One that ZGW does not know is a warning, not a fault
(Open Zaakbrug #264/#265: the client cannot repair it, and the rest of the message is still good). StUF has no
aardRelatie; relevanteAndereZaken get ``onderwerp``, as Open Zaakbrug writes them.

verwerkingssoort: T, W and R link (W/R first unlink what the old side names), V and E unlink, I changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ..errors import ProcessingError
from ..stuf.namespaces import STUF
from . import MessageContext
from .common import JSON, lookup_zaak, pair_relations, verwerkingssoort, zkn
from .compensation import patch_back

AARD_RELATIE = "onderwerp"
RELATIONS = ("heeftAlsHoofdzaak", "heeftAlsDeelzaak", "heeftBetrekkingOpAndere")
_NO_VALUE = f"{{{STUF}}}noValue"
_UNCHANGED: Any = object()


@dataclass
class ZaakRelations:
    """What a message does to the zaak's relations, resolved to URLs; nothing written yet."""

    hoofdzaak: Any = _UNCHANGED  # a URL, None to clear, or _UNCHANGED
    relevant_add: list[str] = field(default_factory=list)
    relevant_remove: list[str] = field(default_factory=list)
    deelzaken_add: list[JSON] = field(default_factory=list)  # the other zaken, as ZGW has them
    deelzaken_remove: list[JSON] = field(default_factory=list)

    def __bool__(self) -> bool:
        return (self.hoofdzaak is not _UNCHANGED or bool(self.relevant_add or self.relevant_remove)
                or bool(self.deelzaken_add or self.deelzaken_remove))

    def zaak_fields(self, zaak: JSON | None = None) -> JSON:
        """The fields of the zaak itself to POST or PATCH: hoofdzaak and the new relevanteAndereZaken list."""
        out: JSON = {}
        if self.hoofdzaak is not _UNCHANGED and (zaak is None or zaak.get("hoofdzaak") != self.hoofdzaak):
            out["hoofdzaak"] = self.hoofdzaak
        if self.relevant_add or self.relevant_remove:
            current = [_relevant(item) for item in (zaak or {}).get("relevanteAndereZaken") or []]
            kept = [item for item in current if item["url"] not in self.relevant_remove]
            known = {item["url"] for item in kept}
            added = [{"url": url, "aardRelatie": AARD_RELATIE} for url in dict.fromkeys(self.relevant_add)
                     if url not in known]
            if kept != current or added:
                out["relevanteAndereZaken"] = kept + added
        return out


def _relevant(item: Any) -> JSON:
    """ZRC 1.5 returns {url, aardRelatie}; older versions plain URLs."""
    return dict(item) if isinstance(item, dict) else {"url": str(item), "aardRelatie": AARD_RELATIE}


async def read_relations(
    ctx: MessageContext,
    was: etree._Element | None,
    wordt: etree._Element,
    *,
    rsin: str | None,
    this: str | None = None,
) -> ZaakRelations:
    """The relations of ``wordt`` (and, for W/V/E/R on a was/wordt pair, the old side), looked up in ZGW.
    ``this`` is the identificatie of the zaak itself: a relation to itself is a fault."""
    out = ZaakRelations()
    for name in RELATIONS:
        for old, new in pair_relations([] if was is None else was.findall(zkn(name)), wordt.findall(zkn(name))):
            soort = verwerkingssoort(old, new, name)
            if soort is None:
                continue
            if soort in ("W", "V", "E", "R"):
                gone = _identificatie(old) or (_identificatie(new) if soort in ("V", "E") else None)
                if gone:
                    await _relate(ctx, out, name, gone, rsin=rsin, link=False)
            if soort in ("T", "W", "R"):
                wanted = _identificatie(new)
                if not wanted:
                    if new is not None and new.get(_NO_VALUE):
                        continue  # the old side of a T, or an empty relation: nothing to link
                    raise ProcessingError(
                        f"{name} zonder zaak",
                        f"{name} (verwerkingssoort {soort}) heeft gerelateerde/identificatie nodig.",
                        plek="client",
                        reason="related-zaak-missing",
                    )
                if this is not None and wanted == this:
                    raise ProcessingError(
                        "Een zaak kan niet aan zichzelf gerelateerd zijn",
                        f"{name} noemt de zaak zelf ({wanted!r}).",
                        plek="client",
                        reason="zaak-related-to-itself",
                    )
                await _relate(ctx, out, name, wanted, rsin=rsin, link=True)
    return out


def _identificatie(relation: etree._Element | None) -> str | None:
    if relation is None or relation.get(_NO_VALUE):
        return None
    text = relation.findtext(f"{zkn('gerelateerde')}/{zkn('identificatie')}")
    return text.strip() if text and text.strip() else None


async def _relate(ctx: MessageContext, out: ZaakRelations, name: str, identificatie: str, *, rsin: str | None,
                  link: bool) -> None:
    """Add the zaak named by a relation to what ``out`` links (``link``) or unlinks; an unknown zaak is a
    warning."""
    other = await lookup_zaak(ctx, identificatie, rsin=rsin)
    if other is None:
        ctx.warnings.append(f"{name}: zaak {identificatie!r} bestaat niet in ZGW; relatie niet "
                            f"{'gelegd' if link else 'verwijderd'}")
        return
    if name == "heeftAlsHoofdzaak":
        if link:
            out.hoofdzaak = other["url"]
        elif out.hoofdzaak is _UNCHANGED:
            out.hoofdzaak = None
    elif name == "heeftBetrekkingOpAndere":
        (out.relevant_add if link else out.relevant_remove).append(other["url"])
    else:
        (out.deelzaken_add if link else out.deelzaken_remove).append(other)


async def deelzaak_steps(ctx: MessageContext, relations: ZaakRelations, zaak_url: str) -> None:
    """Point each added deelzaak at this zaak, and release each removed one; each undone by a PATCH back."""
    zaken = ctx.backend.zgw.zaken
    changes: list[tuple[JSON, str | None]] = [
        (other, zaak_url) for other in relations.deelzaken_add if other.get("hoofdzaak") != zaak_url]
    changes += [(other, None) for other in relations.deelzaken_remove if other.get("hoofdzaak") == zaak_url]
    for other, hoofdzaak in changes:
        await ctx.undo.step(
            f"PATCH zaken (hoofdzaak van deelzaak {other.get('identificatie')})",
            zaken.patch(other["url"], {"hoofdzaak": hoofdzaak}),
            undo=patch_back(zaken, other["url"], {"hoofdzaak": other.get("hoofdzaak")}),
        )
