"""Small pieces the zaak flows share: ZKN names, the La01 frame, finding the zaak a message is about."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..errors import NotSupported, ProcessingError
from ..stuf.namespaces import BG, STUF, XSI, ZDS, ZKN
from ..stuf.stuurgegevens import write_stuurgegevens
from ..zgw import ZgwClients, by_identificatie
from ..zgw.documents import find_document
from . import MessageContext

if TYPE_CHECKING:
    from ..mapping import MappedRol, Mappings
    from .compensation import UndoLog

JSON = dict[str, Any]


def require_zgw(ctx: MessageContext) -> tuple[ZgwClients, Mappings]:
    if ctx.zgw is None or ctx.mappings is None:
        # StUF040 (plek server), as for an operation the gateway does not carry out: without a backend it cannot
        raise NotSupported(
            f"{ctx.operation.name} wordt zonder ZGW-backend niet ondersteund",
            f"stuf-bridge herkent {ctx.operation.name} (ZDS {ctx.dialect.value}), maar er is geen ZGW-backend "
            "geconfigureerd om de zaak in aan te maken.",
        )
    return ctx.zgw, ctx.mappings


def pair_relations(
    olds: list[etree._Element], news: list[etree._Element]
) -> list[tuple[etree._Element | None, etree._Element | None]]:
    """The was/wordt relations of one name paired as STUF §5.2 means them: each new relation with the first unpaired
    old one of the same verwerkingssoort, then the old ones left over (alone). Position alone is not enough: clients
    leave out the empty new counterpart of a V (ZaakBrug merges the old side's V relations for the same reason)."""
    def soort(element: etree._Element) -> str:
        return (element.get(f"{{{STUF}}}verwerkingssoort") or "").upper()

    left = list(olds)
    pairs: list[tuple[etree._Element | None, etree._Element | None]] = []
    for new in news:
        old = next((candidate for candidate in left if soort(candidate) == soort(new)), None)
        if old is not None:
            left.remove(old)
        pairs.append((old, new))
    pairs.extend((old, None) for old in left)
    return pairs


def verwerkingssoort(old: etree._Element | None, new: etree._Element | None, what: str, *,
                     default: str = "T") -> str | None:
    """The verwerkingssoort of a was/wordt relation pair: the new side's, else the old side's, else ``default``.
    None when there is nothing to do (I, or no verwerkingssoort with an empty default); one that is not T, W, V, E,
    R or I is a fault naming the relation (STUF §5.2.6)."""
    name = f"{{{STUF}}}verwerkingssoort"
    soort = ((new.get(name) if new is not None else None) or (old.get(name) if old is not None else None)
             or default).upper()
    if soort in ("I", ""):
        return None
    if soort not in ("T", "W", "V", "E", "R"):
        raise ProcessingError(
            "Onbekende verwerkingssoort",
            f"verwerkingssoort {soort!r} op {what}; verwacht T, W, V, E, R of I (STUF §5.2.6).",
            plek="client",
        )
    return soort


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
    """The zaak with this identificatie, or None (unique per bronorganisatie: ``by_identificatie``)."""
    return await by_identificatie(zgw.zaken, "zaken", identificatie, organisation_field="bronorganisatie",
                                  rsin=rsin, what="Zaak")


def not_found(what: str, identificatie: str, details: str, *, code: str | None = None) -> ProcessingError:
    """The fault for an object a message names that does not exist: StUF058 unless ``code`` says otherwise, plek
    client (MAPPING.md §1.3)."""
    return ProcessingError(f"{what} {identificatie} niet gevonden"[:200], details, code=code, plek="client")


def roltype_for(mappings: Mappings, rol: MappedRol, roltypen: list[JSON], zaaktype: JSON) -> JSON:
    """The zaaktype's roltype for a mapped rol (the mapping's roltype rules); none is a fault that says what was
    looked for and what the zaaktype has."""
    roltype = mappings.pick_roltype(rol.roltype, roltypen)
    if roltype is None:
        wanted = " of ".join(
            [repr(rol.roltype.omschrijving)] * bool(rol.roltype.omschrijving)
            + [f"omschrijvingGeneriek {g!r}" for g in rol.roltype.generiek]
        )
        known = ", ".join(f"{r.get('omschrijving')} ({r.get('omschrijvingGeneriek')})" for r in roltypen)
        raise ProcessingError(
            "Roltype niet gevonden",
            f"{rol.relation}: zaaktype {zaaktype.get('identificatie')!r} heeft geen roltype {wanted} "
            f"(bekend: {known or 'geen'})",
            plek="client",
        )
    return dict(roltype)


async def find_zaak(
    zgw: ZgwClients, identificatie: str, *, operation: str, rsin: str | None = None, code: str | None = None
) -> JSON:
    """The zaak a message is about; a missing one is a fault (``not_found``)."""
    zaak = await lookup_zaak(zgw, identificatie, rsin=rsin)
    if zaak is None:
        raise not_found("Zaak", identificatie,
                        f"{operation}: er is geen zaak met identificatie {identificatie!r} in de ZGW-API.", code=code)
    return zaak


async def find_document_or_fault(
    zgw: ZgwClients, identificatie: str, *, operation: str, rsin: str | None = None, code: str | None = None
) -> JSON:
    """The enkelvoudiginformatieobject a message names; a missing one is a fault (``not_found``)."""
    document = await find_document(zgw, identificatie, rsin=rsin)
    if document is None:
        raise not_found("Document", identificatie,
                        f"{operation}: er is geen document (enkelvoudiginformatieobject) met identificatie "
                        f"{identificatie!r} in de Documenten API.", code=code)
    return document


# --- closing a zaak: ZRC closes it only through the eindstatus, with a resultaat and with every document's
# indicatieGebruiksrecht set (GZ-ZRC zrc-007). Both updateZaak and actualiseerZaakstatus can close.


async def fallback_resultaat(ctx: MessageContext, mappings: Mappings, zgw: ZgwClients, zaaktype: JSON) -> JSON:
    """The body (without zaak) of the zaaktype's configured fallback resultaat, for closing a zaak that has none.
    Without a configured fallback: MissingFallbackResultaat, whose text says what to set."""
    code = str(zaaktype.get("identificatie") or "")
    omschrijving = mappings.fallback_resultaat(code)
    match = mappings.match_resultaattype(
        await zgw.catalogue.resultaattypen(zaaktype), omschrijving=omschrijving, zaaktype=code
    )
    if not match:
        raise ProcessingError(
            "Fallback-resultaattype niet gevonden",
            f"zaaktype {code!r}: het fallback-resultaat {omschrijving!r} uit het profiel is geen resultaattype van "
            f"dit zaaktype ({match.warnings[-1] if match.warnings else ''})",
            plek="server",  # the gateway's configuration, not the message
        )
    assert match.item is not None
    ctx.warnings.extend(match.warnings)
    ctx.warnings.append(f"zaak afgesloten met het fallback-resultaat {omschrijving!r} (de zaak had geen resultaat)")
    return {
        "resultaattype": match.item["url"],
        "toelichting": "Gezet door stuf-bridge bij het afsluiten van de zaak (fallback-resultaat)",
    }


async def documents_for_closing(zgw: ZgwClients, zaak: JSON) -> list[str]:
    """The zaak's documents whose indicatieGebruiksrecht is unset: ZRC will not close the zaak with them. A checked
    out (locked) document stops the close as well (``informatieobject-locked``): that is a fault here, before
    anything is written, naming the document and what the client can do."""
    zios = await zgw.zaken.list("zaakinformatieobjecten", {"zaak": zaak["url"]})
    urls = sorted({str(zio["informatieobject"]) for zio in zios if zio.get("informatieobject")})
    documenten = await asyncio.gather(*(zgw.get(url) for url in urls))
    locked = [str(doc.get("identificatie") or url) for url, doc in zip(urls, documenten, strict=True)
              if doc.get("locked")]
    if locked:
        raise ProcessingError(
            f"Zaak {zaak.get('identificatie')} kan niet worden afgesloten: een document is uitgecheckt"[:200],
            f"Document(en) {', '.join(locked)} van de zaak zijn uitgecheckt (geefZaakdocumentbewerken); ZGW sluit "
            "een zaak niet zolang een document gelockt is. Check het document eerst in (updateZaakdocument) of "
            "annuleer de checkout (cancelCheckout).",
            plek="client",
        )
    return [url for url, doc in zip(urls, documenten, strict=True) if doc.get("indicatieGebruiksrecht") is None]


async def set_gebruiksrecht_steps(undo: UndoLog, zgw: ZgwClients, urls: list[str]) -> None:
    """Set indicatieGebruiksrecht to false on these documents, each undone (back to unset) if a later step fails."""
    for url in urls:
        await undo.step(
            f"PATCH enkelvoudiginformatieobjecten (indicatieGebruiksrecht, {url.rsplit('/', 1)[-1]})",
            _set_gebruiksrecht(zgw, url, False),
            undo=_unsetter(zgw, url),
        )


def _unsetter(zgw: ZgwClients, url: str) -> Callable[[JSON], Awaitable[JSON]]:
    async def undo(_patched: JSON) -> JSON:
        return await _set_gebruiksrecht(zgw, url, None)

    return undo


async def _set_gebruiksrecht(zgw: ZgwClients, url: str, value: bool | None) -> JSON:
    """PATCH indicatieGebruiksrecht under a lock of our own (the Documenten API demands one for a PATCH)."""
    client = zgw.for_url(url)
    lock = (await client.post(f"{url}/lock") or {}).get("lock")
    try:
        return await client.patch(url, {"indicatieGebruiksrecht": value, "lock": lock})
    finally:
        await client.post(f"{url}/unlock", {"lock": lock})
