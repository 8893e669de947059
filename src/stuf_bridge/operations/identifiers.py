"""genereerZaakIdentificatie, genereerDocumentIdentificatie and genereerBesluitIdentificatie (→ Du02).

Identifiers come from the store's sequences under a configurable template whose default starts with the
sender's gemeentecode (ZDS 1.2 §4.1.6.1: unique, at most 40 characters, first four the gemeentecode). There is
one sequence per kind and per value of the template's other fields, so a template without the gemeentecode
still never hands out the same identifier to two gemeenten.

An identifier is never one the ZGW backend already holds (a fresh store against an Open Zaak that has zaken would
otherwise hand out ``…0000001`` again): before answering, the gateway asks the backend for the identificatie; when
it is taken, the sequence skips ahead (1, 2, 4, 8 … numbers) until a free one is found, at most
``PROBES`` times, then faults with advice. ``identificatie_start`` sets where a sequence starts.
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import TYPE_CHECKING

from lxml import etree

from ..errors import ProcessingError, StuurgegevensError
from ..stuf.namespaces import STUF, ZDS, ZKN, Dialect
from ..stuf.stuurgegevens import write_stuurgegevens
from ..stuf.values import AMSTERDAM
from . import MessageContext, handler

if TYPE_CHECKING:
    from ..zgw import ZgwClients

_GEMEENTECODE = re.compile(r"^\d{4}$")
IDENTIFICATIE_MAX = 40
#: How often a taken identificatie makes the sequence skip ahead before the gateway gives up (2**24 numbers on).
PROBES = 24

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
    if ctx.tenant is not None:  # each municipality on the gateway counts its own identifiers
        sequence = f"tenant={ctx.tenant}|{sequence}"
    value = await ctx.store.next_value(sequence)
    start = {str(k): v for k, v in ctx.settings.identificatie_start.items()}.get(kind)
    if start and value < start:
        value = await ctx.store.advance(sequence, start - value)
    for probe in range(PROBES + 1):
        values["volgnummer"] = value
        identificatie = template.format(**values)
        if len(identificatie) > IDENTIFICATIE_MAX:
            raise ProcessingError(
                "De gegenereerde identificatie is te lang",
                f"{identificatie!r} is {len(identificatie)} tekens; ZDS staat er {IDENTIFICATIE_MAX} toe. "
                f"Pas de instelling {template_setting} aan.",
                plek="server",
                reason="identificatie-too-long",
            )
        if ctx.zgw is None or not await _taken(ctx.zgw, kind, identificatie):
            if probe:
                ctx.warnings.append(f"{kind}identificatie: de ZGW-backend heeft al identificaties van deze reeks; "
                                    f"{identificatie} is de eerste vrije gevonden")
            return identificatie
        value = await ctx.store.advance(sequence, 1 << probe)  # skip ahead: 1, 2, 4, 8 … numbers
    raise ProcessingError(
        "Geen vrije identificatie gevonden",
        f"De ZGW-backend heeft de {kind}identificaties van deze reeks al tot ver na {identificatie}. Stel "
        f"identificatie_start ({kind}) in op een volgnummer na de hoogste die de backend heeft.",
        plek="server",
        reason="identificatie-range-taken",
    )


async def _taken(zgw: ZgwClients, kind: str, identificatie: str) -> bool:
    """Whether the backend has an object of this kind with this identificatie (of any organisation)."""
    client, resource = {
        "zaak": (zgw.zaken, "zaken"),
        "document": (zgw.documenten, "enkelvoudiginformatieobjecten"),
        "besluit": (zgw.besluiten, "besluiten"),
    }[kind]
    found = await client.list(resource, {"identificatie": identificatie}, max_items=10)
    return any(item.get("identificatie") == identificatie for item in found)


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
