"""genereerZaakIdentificatie, genereerDocumentIdentificatie and genereerBesluitIdentificatie (→ Du02).

Identifiers come from the store's sequences under a configurable template whose default starts with the
sender's gemeentecode (ZDS 1.2 §4.1.6.1: unique, at most 40 characters, first four the gemeentecode). There is
one sequence per kind and per value of the template's other fields, so a template without the gemeentecode
still never hands out the same identifier to two gemeenten.
"""

from __future__ import annotations

import re
import string
from datetime import datetime

from lxml import etree

from ..errors import ProcessingError, StuurgegevensError
from ..stuf.namespaces import STUF, ZDS, ZKN, Dialect
from ..stuf.stuurgegevens import write_stuurgegevens
from ..stuf.values import AMSTERDAM
from . import MessageContext, handler

_GEMEENTECODE = re.compile(r"^\d{4}$")
IDENTIFICATIE_MAX = 40

# kind → (settings attribute of the template, answer element, entiteittype)
_KINDS = {
    "zaak": ("zaak_identificatie_template", "zaak", "ZAK"),
    "document": ("document_identificatie_template", "document", "EDC"),
    "besluit": ("besluit_identificatie_template", "besluit", "BSL"),
}


def gemeentecode_for(ctx: MessageContext) -> str:
    organisatie = ctx.zender.organisatie if ctx.zender else None
    if organisatie and _GEMEENTECODE.match(organisatie):
        return organisatie
    if ctx.settings.default_gemeentecode:
        return ctx.settings.default_gemeentecode
    raise StuurgegevensError(
        "StUF013",
        "zender/organisatie is geen gemeentecode",
        f"Een identificatie begint met de gemeentecode van de zender (4 cijfers); zender/organisatie is "
        f"{organisatie!r}. Stel STUF_BRIDGE_DEFAULT_GEMEENTECODE in voor zenders zonder gemeentecode.",
        reason="no-gemeentecode",
    )


async def next_identificatie(ctx: MessageContext, kind: str) -> str:
    template_setting, _, _ = _KINDS[kind]
    template: str = getattr(ctx.settings, template_setting)
    values: dict[str, object] = {
        "gemeentecode": gemeentecode_for(ctx),
        "jaar": datetime.now(AMSTERDAM).strftime("%Y"),
    }
    used = [name for _, name, _, _ in string.Formatter().parse(template) if name and name != "volgnummer"]
    sequence = "|".join([f"identificatie:{kind}", *(f"{name}={values[name]}" for name in sorted(set(used)))])
    values["volgnummer"] = await ctx.store.next_value(sequence)
    identificatie = template.format(**values)
    if len(identificatie) > IDENTIFICATIE_MAX:
        raise ProcessingError(
            "De gegenereerde identificatie is te lang",
            f"{identificatie!r} is {len(identificatie)} tekens; ZDS staat er {IDENTIFICATIE_MAX} toe. "
            f"Pas de instelling {template_setting} aan.",
            plek="server",
            reason="identificatie-too-long",
        )
    return identificatie


def _du02(ctx: MessageContext, kind: str, identificatie: str) -> etree._Element:
    _, element, entiteittype = _KINDS[kind]
    op = ctx.operation
    container = ZKN if ctx.dialect is Dialect.ZDS11 else ZDS
    nsmap = {"StUF": STUF, "ZKN": ZKN} if container == ZKN else {"StUF": STUF, "ZKN": ZKN, "ZDS": ZDS}
    root = etree.Element(f"{{{op.response[0]}}}{op.response[1]}", nsmap=nsmap)
    write_stuurgegevens(root, f"{{{container}}}stuurgegevens", "Du02", ctx.parties, functie=op.functie)
    entity = etree.SubElement(root, f"{{{container}}}{element}")
    entity.set(f"{{{STUF}}}entiteittype", entiteittype)
    entity.set(f"{{{STUF}}}functie", "entiteit")
    etree.SubElement(entity, f"{{{ZKN}}}identificatie").text = identificatie
    return root


@handler("genereerZaakIdentificatie", backend=False)
async def genereer_zaak_identificatie(ctx: MessageContext) -> etree._Element:
    return _du02(ctx, "zaak", await next_identificatie(ctx, "zaak"))


@handler("genereerDocumentIdentificatie", backend=False)
async def genereer_document_identificatie(ctx: MessageContext) -> etree._Element:
    return _du02(ctx, "document", await next_identificatie(ctx, "document"))


@handler("genereerBesluitIdentificatie", backend=False)
async def genereer_besluit_identificatie(ctx: MessageContext) -> etree._Element:
    return _du02(ctx, "besluit", await next_identificatie(ctx, "besluit"))
