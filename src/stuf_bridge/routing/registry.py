"""The zaak registry: which route a zaak was created under (and its zaaktype), and which zaak a document belongs to.

It is what lets a follow-up message that carries no zaaktype (actualiseerZaakstatus, voegZaakdocumentToe, the
questions) go where its zaak went: ZaakBrug routes such messages by the default, Open Zaakbrug not by zaaktype at
all (SIDE-BY-SIDE.md A.3, A.7). A creeerZaak is pinned once it was handled, translated or proxied alike; the first
pin stays, so a later change of the rules does not move a zaak to another primary halfway through its life.

The rows live in the store (``zaak_routes``, ``document_zaken``), shared by every gateway process. A pinned entry
never changes, so this process keeps the ones it has seen in memory (bounded); what is not pinned is asked again,
since another process may pin it any moment.

With tenants each tenant has a registry of its own (``tenant``): its rows are keyed ``tenant=NAME|<identificatie>``
(``security/tenants.py``, ``scoped``), so that a zaak number of one municipality never pins another's zaak.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from ..security.tenants import scoped
from ..store import Store, ZaakRoute

#: Pinned entries kept in memory per process.
CACHED_ZAKEN = 10_000


class ZaakRegistry:
    def __init__(self, store: Store, *, cached: int = CACHED_ZAKEN, tenant: str | None = None):
        self.store = store
        self.tenant = tenant
        self._cached = cached
        self._pinned: OrderedDict[str, ZaakRoute] = OrderedDict()

    async def get(self, zaak: str) -> ZaakRoute | None:
        """The pinned route of a zaak, or None."""
        entry = self._pinned.get(zaak)
        if entry is not None:
            self._pinned.move_to_end(zaak)
            return entry
        entry = await self.store.zaak_route(scoped(self.tenant, zaak))
        if entry is not None:
            entry = replace(entry, identificatie=zaak)
            self._remember(entry)
        return entry

    async def pin(self, entry: ZaakRoute) -> ZaakRoute:
        """Pin a zaak to its route unless it already is; returns the entry in force."""
        if entry.identificatie in self._pinned:
            return self._pinned[entry.identificatie]
        pinned = await self.store.pin_zaak_route(
            replace(entry, identificatie=scoped(self.tenant, entry.identificatie)))
        pinned = replace(pinned, identificatie=entry.identificatie)
        self._remember(pinned)
        return pinned

    async def zaak_of_document(self, document: str) -> str | None:
        return await self.store.document_zaak(scoped(self.tenant, document))

    async def link_document(self, document: str, zaak: str) -> None:
        await self.store.link_document(scoped(self.tenant, document), zaak)

    def _remember(self, entry: ZaakRoute) -> None:
        self._pinned[entry.identificatie] = entry
        self._pinned.move_to_end(entry.identificatie)
        while len(self._pinned) > self._cached:
            self._pinned.popitem(last=False)
