"""Small pieces the zaak flows share: ZKN names, the La01 frame, finding the zaak a message is about."""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..errors import ProcessingError
from ..stuf.namespaces import BG, STUF, XSI, ZDS, ZKN
from ..stuf.stuurgegevens import write_stuurgegevens
from ..zgw import ZgwClients
from . import MessageContext

JSON = dict[str, Any]


def zkn(name: str) -> str:
    """A ZKN element name in Clark notation (both dialects keep the entity content in the ZKN namespace)."""
    return f"{{{ZKN}}}{name}"


def la01(ctx: MessageContext, entiteittype: str = "ZAK") -> etree._Element:
    """The frame of a La01 answer in the request's dialect: stuurgegevens (MAPPING.md §1.2) and parameters with
    the mandatory ``indicatorVervolgvraag=false``; the caller appends ``antwoord`` when there is one."""
    op = ctx.operation
    nsmap = {"StUF": STUF, "ZKN": ZKN, "BG": BG, "xsi": XSI} | ({"ZDS": ZDS} if op.response[0] == ZDS else {})
    root = etree.Element(f"{{{op.response[0]}}}{op.response[1]}", nsmap=nsmap)
    write_stuurgegevens(root, zkn("stuurgegevens"), "La01", ctx.parties, entiteittype=entiteittype)
    parameters = etree.SubElement(root, zkn("parameters"))
    etree.SubElement(parameters, f"{{{STUF}}}indicatorVervolgvraag").text = "false"
    return root


async def lookup_zaak(zgw: ZgwClients, identificatie: str, *, rsin: str | None = None) -> JSON | None:
    """The zaak with this identificatie, or None. identificatie is unique per bronorganisatie: when several
    bronorganisaties use it, the sender's RSIN chooses; still several is a fault."""
    zaken = [
        z for z in await zgw.zaken.list("zaken", {"identificatie": identificatie}, max_items=10)
        if z.get("identificatie") == identificatie
    ]
    if len(zaken) > 1 and rsin:
        zaken = [z for z in zaken if z.get("bronorganisatie") == rsin] or zaken
    if len(zaken) > 1:
        raise ProcessingError(
            f"Zaak {identificatie} is niet eenduidig"[:200],
            f"Meer dan één zaak met identificatie {identificatie!r}: " + ", ".join(str(z.get("url")) for z in zaken),
            plek="client",
        )
    return zaken[0] if zaken else None


async def find_zaak(zgw: ZgwClients, identificatie: str, *, operation: str, rsin: str | None = None) -> JSON:
    """The zaak a mutation is about; a missing one is a fault (StUF058, plek client — MAPPING.md §1.3)."""
    zaak = await lookup_zaak(zgw, identificatie, rsin=rsin)
    if zaak is None:
        raise ProcessingError(
            f"Zaak {identificatie} niet gevonden"[:200],
            f"{operation}: er is geen zaak met identificatie {identificatie!r} in de ZGW-API.",
            plek="client",
        )
    return zaak
