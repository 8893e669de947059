"""Lazy back-fill and the cut-over's routing overrides, as a router around the routing table's (``RuleRouter``).

**Overrides.** ``stuf-bridge cutover`` writes zaaktype → (mode, primary) rows into the store
(``routing_overrides``); every gateway process reads them (kept a few seconds) before the routing table and the zaak
registry: a cut-over zaaktype is translated with primary zgw from then on, pinned zaken included — the one way a
zaak changes primary in mid-life (SIDE-BY-SIDE R1). ``*`` stands for every zaaktype (``cutover --all``). The rule
logged is ``cutover:<zaaktype>``. The YAML routing table is left as it is (a restart changes nothing); removing an
override is a deliberate database change, not a command.

**Back-fill.** A routing rule with ``backfill: on_reference`` (``routing/config.py``; off by default) makes a
message that names a zaak ZGW lacks but legacy has copy that zaak first (``copy.py``), then go on as routed. Only
translate and replicate routes back-fill (a proxied message never touches ZGW). Only the zaak record waits: its
documents follow through the outbox (an item ``backfill:documents`` on the zaak's partition, so the zaak's later
replicate items queue behind it), unless the message needs them now (geefLijstZaakdocumenten, geefZaakdocumentLezen
and the other document operations): then they are copied before the message goes on. Related zaken that ZGW lacks
are queued in the outbox too (``backfill:zaak``). A zaak that legacy does not know either is left to the message's
own flow (which answers "zaak niet gevonden" as it always did); a copy that fails faults the message (StUF058,
plek server) naming the reason, and nothing of the zaak stays in ZGW.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog

from ..errors import ProcessingError
from ..pipeline.exchange import Exchange
from ..pipeline.route import Mode, Route
from ..routing.router import RuleRouter
from ..store import Store
from ..stuf.registry import Operation
from ..stuf.stuurgegevens import Stuurgegevens
from ..stuf.subject import Subject
from . import store as ledger_store
from .copy import CopyFailed, ZaakCopier
from .store import MigrationStore, Override

log = structlog.get_logger(__name__)

#: Operations that need a zaak's documents in ZGW before they are handled.
NEEDS_DOCUMENTS = frozenset({"geefLijstZaakdocumenten", "geefZaakdocumentLezen", "geefZaakdocumentbewerken",
                             "updateZaakdocument", "cancelCheckout", "ontkoppelZaakdocument"})
BACKFILL_DOCUMENTS = "backfill:documents"
BACKFILL_ZAAK = "backfill:zaak"
OVERRIDES_SECONDS = 5.0
PRESENT_CACHED = 10_000


def rule_of(route: Route) -> str:
    """The rule a route came from (``pinned:rules[2]`` was created under ``rules[2]``)."""
    return route.rule.removeprefix("pinned:")


class MigrationRouter:
    """A :class:`~stuf_bridge.pipeline.route.Router`: the routing table's router, with the cut-over's overrides and
    lazy back-fill. ``backfill_rules``: the labels of the rules with ``backfill: on_reference``."""

    def __init__(self, inner: RuleRouter, store: Store, *, copier: ZaakCopier | None, backfill_rules: frozenset[str],
                 overrides_seconds: float = OVERRIDES_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.inner = inner
        self.store = store
        self.ledger = MigrationStore(store)
        self.copier = copier
        self.backfill_rules = backfill_rules
        self.overrides_seconds = overrides_seconds
        self._clock = clock
        self._overrides: dict[str, Override] = {}
        self._overrides_until = 0.0
        self._present: set[str] = set()  # zaken known to be in ZGW (a zaak does not leave it)

    async def route(self, operation: Operation, stuurgegevens: Stuurgegevens, subject: Subject) -> Route:
        route = await self.inner.route(operation, stuurgegevens, subject)
        route = await self._override(route, subject)
        if self.copier is not None and route.mode is not Mode.PROXY and rule_of(route) in self.backfill_rules:
            await self._backfill(operation, subject)
        return route

    async def handled(self, x: Exchange) -> None:
        await self.inner.handled(x)

    # --- overrides ----------------------------------------------------------------------------------------------

    async def overrides(self) -> dict[str, Override]:
        if self._clock() >= self._overrides_until:
            self._overrides = await self.ledger.overrides()
            self._overrides_until = self._clock() + self.overrides_seconds
        return self._overrides

    async def _override(self, route: Route, subject: Subject) -> Route:
        found = await self.overrides()
        if not found:
            return route
        zaaktype, source = route.zaaktype, route.zaaktype_source
        if zaaktype is None and ledger_store.ALL_ZAAKTYPEN not in found and (subject.zaak or subject.documenten):
            zaaktype, source = await self.inner.find_zaaktype(subject.zaak, subject.documenten)
        override = found.get(zaaktype or "") or found.get(ledger_store.ALL_ZAAKTYPEN)
        if override is None:
            return route
        return Route(Mode(override.mode), override.primary, f"cutover:{override.zaaktype}", zaaktype, source)

    # --- back-fill ----------------------------------------------------------------------------------------------

    async def _backfill(self, operation: Operation, subject: Subject) -> None:
        assert self.copier is not None
        zaak = subject.zaak
        if zaak is None and subject.documenten:
            zaak = await self.store.document_zaak(subject.documenten[0]) or await self._zaak_of_document(
                subject.documenten[0])
        if not zaak:
            return
        needs_documents = operation.function in NEEDS_DOCUMENTS
        if zaak in self._present and not needs_documents:
            return
        entry = await self.ledger.entry(zaak)
        if entry is not None and entry.outcome in ledger_store.FINISHED:
            self._present.add(zaak)
            return
        if entry is not None and entry.outcome == ledger_store.DOCUMENTS_PENDING:
            if needs_documents:
                await self._documents_now(zaak)
            return
        copying = entry is not None and entry.outcome == ledger_store.COPYING  # elsewhere, now: wait for it
        if not copying and await self.copier.zgw_zaak(zaak) is not None:
            self._remember(zaak)
            return
        result = await self.copier.copy(zaak, documents="now" if needs_documents else "later", origin="backfill")
        if result.outcome == "not-in-legacy":
            return
        if not result.ok:
            raise ProcessingError(
                f"Zaak {zaak} kon niet uit het legacy-zaaksysteem worden overgenomen",
                result.reason, plek="server", reason="backfill-failed")
        self._remember(zaak)
        log.info("zaak_backfilled", zaak=zaak, outcome=result.outcome, copied=result.copied,
                 documents=result.documents_done, operation=operation.name)

    async def _zaak_of_document(self, document: str) -> str | None:
        """A document neither the registry nor ZGW knows: the zaak legacy says it belongs to (then copied with its
        documents, this one among them)."""
        assert self.copier is not None
        if f"doc:{document}" in self._present or await self.copier.zgw_document(document) is not None:
            self._remember(f"doc:{document}")
            return None
        return await self.copier.source.zaak_of_document(document)

    async def _documents_now(self, zaak: str) -> None:
        assert self.copier is not None
        try:
            await self.copier.copy_documents(zaak)
        except CopyFailed as exc:
            raise ProcessingError(f"De documenten van zaak {zaak} konden niet uit het legacy-zaaksysteem worden "
                                  "overgenomen", str(exc), plek="server", reason="backfill-failed") from exc

    def _remember(self, zaak: str) -> None:
        if len(self._present) >= PRESENT_CACHED:
            self._present.clear()
        self._present.add(zaak)


def outbox_hooks(store: Store) -> tuple[Callable[[str], Awaitable[None]], Callable[[str], Awaitable[None]]]:
    """(documents later, related zaak): the back-fill's deferred work as outbox items on the zaak's partition."""
    ledger = MigrationStore(store)

    async def documents_later(zaak: str) -> None:
        await ledger.enqueue(zaak, BACKFILL_DOCUMENTS, zaak.encode(), f"backfill|{zaak}|documents|{uuid.uuid4().hex}")

    async def related(zaak: str) -> None:
        await ledger.enqueue(zaak, BACKFILL_ZAAK, zaak.encode(), f"backfill|{zaak}|zaak|{uuid.uuid4().hex}")

    return documents_later, related
