"""The router of the routing table: where a message goes (translate, proxy, replicate) and whose answer the client
gets, from the operation, the zender and the zaaktype (``rules.py``), with a zaak kept on the route it was created
under (``registry.py``).

A follow-up message rarely says its zaaktype, so the router finds it, in this order, and stops at the first answer:

1. the message itself (``isVan``: creeerZaak, sometimes updateZaak) — source ``message``;
2. the zaak registry, by the zaak the message names (for a message naming only documents: the zaak the registry
   linked the document to). A pinned zaak keeps its mode and primary whatever the rules say now: the rule logged is
   ``pinned:<the rule it was created under>`` — source ``registry``;
3. ZGW: the zaak by identificatie and its zaaktype in the catalogue (a document's zaak through its
   zaakinformatieobject) — source ``zgw``;
4. the legacy system (a ``geefZaakdetails`` the gateway's legacy client makes; none until one is wired in) —
   source ``legacy``;
5. not found: ``zaaktype_source`` None, and no rule with zaaktypen matches.

Steps 3 and 4 are calls to other systems, so they are made only when a rule with zaaktypen could decide this
message (it matches its operation and zender before any rule without zaaktypen does), and their answers are kept a
while. A message naming no zaak and no document (genereerZaakIdentificatie) never looks anything up. A look-up that
fails is not a "not found": if no later source answers, its error becomes the message's fault (routing a zaak by
the default because ZGW was down would send it to the wrong side).

After a message was handled without a fault (``handled``), a creeerZaak pins its zaak to the route it got, and a
document added to a zaak (voegZaakdocumentToe, maakZaakdocument) is linked to it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog

from ..pipeline.route import Mode, Route
from ..store import Store, StoreError, ZaakRoute
from ..stuf.registry import Operation
from ..stuf.stuurgegevens import Stuurgegevens
from ..stuf.subject import Subject
from ..zgw import CatalogueLookupError, ZgwClients, ZgwError
from .config import RoutingSettings
from .registry import ZaakRegistry
from .rules import RuleTable

if TYPE_CHECKING:
    from ..pipeline.exchange import Exchange

log = structlog.get_logger(__name__)

#: The zaaktype code of a zaak identificatie, or None when that system does not know the zaak.
ZaaktypeLookup = Callable[[str], Awaitable[str | None]]

#: Operations after which the registry learns something.
_CREATES_ZAAK = "creeerZaak"
_ADDS_DOCUMENT = frozenset({"voegZaakdocumentToe", "maakZaakdocument"})

_ZGW_ERRORS: tuple[type[Exception], ...] = (ZgwError, CatalogueLookupError)

ZGW_CACHE_SECONDS = 60.0  # short: a zaak may yet appear in ZGW (a back-fill, a bulk migration)
LEGACY_CACHE_SECONDS = 3600.0  # a zaak keeps its zaaktype; each legacy look-up is a SOAP round trip


class RuleRouter:
    """A :class:`~stuf_bridge.pipeline.route.Router` over the routing table, with the zaak registry."""

    def __init__(
        self,
        settings: RoutingSettings,
        store: Store,
        zgw: ZgwClients | None,
        *,
        legacy_zaaktype: ZaaktypeLookup | None = None,
        zgw_cache_seconds: float = ZGW_CACHE_SECONDS,
        legacy_cache_seconds: float = LEGACY_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        tenant: str | None = None,
    ):
        self.table = RuleTable(settings)
        self.registry = ZaakRegistry(store, tenant=tenant)  # a tenant's router: its own registry rows
        self.zgw = zgw
        self.legacy_zaaktype = legacy_zaaktype
        self._from_zgw = _Recent(zgw_cache_seconds, clock)
        self._from_legacy = _Recent(legacy_cache_seconds, clock)

    async def route(self, operation: Operation, stuurgegevens: Stuurgegevens, subject: Subject) -> Route:
        zaak = subject.zaak
        if zaak is None and subject.documenten:
            zaak = await self.registry.zaak_of_document(subject.documenten[0])
        zaaktype, source = (subject.zaaktype, "message") if subject.zaaktype else (None, None)
        pinned = await self.registry.get(zaak) if zaak else None
        if pinned is not None:
            if zaaktype is None and pinned.zaaktype:
                zaaktype, source = pinned.zaaktype, "registry"
            return Route(Mode(pinned.mode), pinned.primary, f"pinned:{pinned.rule}", zaaktype, source)
        zender = stuurgegevens.zender
        if zaaktype is None and (zaak or subject.documenten) and self.table.needs_zaaktype(operation.function, zender):
            zaaktype, source = await self.find_zaaktype(zaak, subject.documenten)
        decision = self.table.decide(operation.function, zender, zaaktype)
        return Route(decision.mode, decision.primary, decision.rule, zaaktype, source)

    async def find_zaaktype(self, zaak: str | None, documenten: tuple[str, ...] = ()) -> tuple[str | None, str | None]:
        """The zaaktype of a zaak (or of the zaak of the first document) from ZGW, else from the legacy system:
        (code, source), or (None, None). A failed look-up is raised when no later source answers."""
        failed: Exception | None = None
        lookups: list[tuple[str, _Recent, Callable[[], Awaitable[str | None]], tuple[type[Exception], ...]]] = []
        if self.zgw is not None:
            zgw = self.zgw
            if zaak is not None:
                lookups.append(("zgw", self._from_zgw, lambda: _zgw_zaaktype(zgw, zaak), _ZGW_ERRORS))
            elif documenten:
                lookups.append(("zgw", self._from_zgw, lambda: _zgw_zaaktype_of_document(zgw, documenten[0]),
                                _ZGW_ERRORS))
        legacy = self.legacy_zaaktype
        if legacy is not None and zaak is not None:  # whatever the legacy client raises: it is pluggable
            lookups.append(("legacy", self._from_legacy, lambda: legacy(zaak), (Exception,)))
        key = zaak if zaak is not None else f"document:{documenten[0]}" if documenten else ""
        for source, cache, look_up, errors in lookups:
            try:
                found = await cache.get(key, look_up)
            except errors as exc:
                log.warning("routing_lookup_failed", source=source, zaak=zaak, error=str(exc))
                failed = failed or exc
                continue
            if found:
                return found, source
        if failed is not None:
            raise failed
        return None, None

    async def handled(self, x: Exchange) -> None:
        """After a message was handled without a fault (the route stage's hook): what the registry learns from it.

        A creeerZaak pins its zaak to the route it got. A creeerZaak without identificatie (ZGW numbers the zaak)
        cannot be pinned here: the message does not name the zaak and its answer, a Bv03, does not either; its
        follow-ups find their zaaktype in ZGW. A replayed answer pins too (the first pin stays), so that a pin lost
        to a store failure is made on the client's resend."""
        op, subject, route = x.operation, x.subject, x.route
        if op is None or subject is None or route is None or subject.zaak is None:
            return
        try:
            if op.function == _CREATES_ZAAK:
                await self.registry.pin(ZaakRoute(subject.zaak, route.zaaktype, route.mode.value, route.primary,
                                                  route.rule))
            elif op.function in _ADDS_DOCUMENT:
                for document in subject.documenten:
                    await self.registry.link_document(document, subject.zaak)
        except StoreError as exc:  # the message was handled and answered: losing the note must not undo that
            log.error("zaak_registry_write_failed", zaak=subject.zaak, operation=op.name, error=str(exc))


async def _zgw_zaaktype(zgw: ZgwClients, zaak: str) -> str | None:
    """The zaaktype code of the zaak with this identificatie in ZGW; None when absent, or when zaken of several
    bronorganisaties carry it under different zaaktypen (then the identificatie does not tell)."""
    found = await zgw.zaken.list("zaken", {"identificatie": zaak}, max_items=10)
    urls = {str(item["zaaktype"]) for item in found if item.get("identificatie") == zaak and item.get("zaaktype")}
    return await _zaaktype_code(zgw, urls.pop()) if len(urls) == 1 else None


async def _zgw_zaaktype_of_document(zgw: ZgwClients, document: str) -> str | None:
    """The zaaktype of the zaak a document (by identificatie) belongs to, through its zaakinformatieobject."""
    eios = await zgw.documenten.list("enkelvoudiginformatieobjecten", {"identificatie": document}, max_items=10)
    urls = [str(eio["url"]) for eio in eios if eio.get("identificatie") == document and eio.get("url")]
    if len(urls) != 1:
        return None
    links = await zgw.zaken.list("zaakinformatieobjecten", {"informatieobject": urls[0]})
    zaken = {str(link["zaak"]) for link in links if link.get("zaak")}
    if len(zaken) != 1:
        return None
    zaak: dict[str, Any] = await zgw.get(zaken.pop())
    return await _zaaktype_code(zgw, str(zaak["zaaktype"])) if zaak.get("zaaktype") else None


async def _zaaktype_code(zgw: ZgwClients, url: str) -> str | None:
    zaaktype = await zgw.catalogue.zaaktype_by_url(url)
    return str(zaaktype["identificatie"]) if zaaktype.get("identificatie") else None


class _Recent:
    """Look-up answers (None included: "not there" is an answer too) kept for ``ttl`` seconds, at most ``size``."""

    def __init__(self, ttl: float, clock: Callable[[], float], size: int = 10_000):
        self.ttl, self.size = ttl, size
        self._clock = clock
        self._values: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    async def get(self, key: str, load: Callable[[], Awaitable[str | None]]) -> str | None:
        entry = self._values.get(key)
        if entry is not None and self._clock() < entry[0]:
            return entry[1]
        value = await load()
        self._values[key] = (self._clock() + self.ttl, value)
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)
        return value
