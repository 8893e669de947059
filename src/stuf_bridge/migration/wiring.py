"""How the migration parts are put together: in the gateway (``web/app.py``: the router around the routing table's,
the outbox worker's back-fill items) and in the commands (``runtime``: the same settings, store, backends and
mappings as ``serve``, without a server)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx

from ..gateway import Gateway
from ..legacy.client import LegacyClient
from ..legacy.errors import LegacyError
from ..mapping import Mappings
from ..outbox.worker import DONE, Outcome, ReplicaRouter
from ..routing.config import RoutingSettings
from ..routing.router import RuleRouter
from ..settings import Settings, ValidationPolicy, with_demo_profile
from ..store import OutboxEntry, Store, StoreError, create_store
from ..stuf.stuurgegevens import Systeem
from ..stuf.validation import Schemas
from ..zgw import ZgwClients, ZgwError
from ..outbox.replicate import Replicate
from ..outbox.worker import Handler, TranslateRequest
from .backfill import BACKFILL_DOCUMENTS, BACKFILL_ZAAK, MigrationRouter, outbox_hooks
from .compare import COMPARE_TARGET, ReadComparer, ReadSampler, compare_fractions
from .copy import CopyFailed, ZaakCopier
from .source import LegacySource

#: Where the commands reach an embedded backend they mount in-process (never on the network).
EMBEDDED_BASE = "http://stuf-bridge-embedded"


def identity(settings: Settings) -> Systeem:
    return Systeem(organisatie=settings.organisatie, applicatie=settings.applicatie)


def backfill_rules(routing: RoutingSettings) -> frozenset[str]:
    """The labels (as the router logs them) of the rules with ``backfill: on_reference``; ``default`` too."""
    labels = {rule.name or f"rules[{i}]" for i, rule in enumerate(routing.rules) if rule.backfill == "on_reference"}
    if routing.default.backfill == "on_reference":
        labels.add("default")
    return frozenset(labels)


def replica_gateway(settings: Settings, store: Store, schemas: Schemas, zgw: ZgwClients,
                    mappings: Mappings) -> Gateway:
    """A gateway on the same store and backends that translates every message it is given (as the outbox worker's)."""
    return Gateway(settings, store, schemas, zgw=zgw, mappings=mappings, router=ReplicaRouter())


def copier(settings: Settings, store: Store, schemas: Schemas, zgw: ZgwClients, mappings: Mappings,
           legacy: LegacyClient, *, outbox: bool) -> ZaakCopier:
    """The zaak copier; ``outbox``: deferred documents and related zaken go into the outbox (the gateway)."""
    later = related = None
    if outbox:
        later, related = outbox_hooks(store)
    return ZaakCopier(source=LegacySource(legacy, identity(settings)), zgw=zgw,
                      replica=replica_gateway(copy_settings(settings), store, schemas, zgw, mappings), store=store,
                      identity=identity(settings), on_documents_later=later, on_related=related,
                      zaaktype_codes=settings.migration.zaaktypen)


def copy_settings(settings: Settings) -> Settings:
    """The settings of the copier's own gateway: its messages (built from legacy's answers, with the gateway's own
    zender) are schema-checked with ``warn`` at most — a copied zaak whose ZGW zaaktype identificatie is longer than
    the 10 characters ZDS allows for a ZKT code is not refused for it (``zaaktypen.py``)."""
    applicatie = settings.applicatie or "stuf-bridge"
    if settings.validation_policy_for(settings.organisatie, applicatie) is not ValidationPolicy.STRICT:
        return settings
    key = f"{settings.organisatie}/{applicatie}" if settings.organisatie else f"*/{applicatie}"
    return settings.model_copy(update={"validation_senders": {**settings.validation_senders,
                                                              key: ValidationPolicy.WARN}})


def migration_router(inner: RuleRouter, settings: Settings, store: Store,
                     zaak_copier: ZaakCopier | None) -> MigrationRouter:
    rules = backfill_rules(settings.routing)
    return MigrationRouter(inner, store, copier=zaak_copier if rules else None, backfill_rules=rules)


def backfill_delivery(zaak_copier: ZaakCopier) -> Callable[[OutboxEntry], Awaitable[Outcome]]:
    """How the outbox worker delivers a back-fill item: a zaak's deferred documents, or a related zaak."""

    async def deliver(entry: OutboxEntry) -> Outcome:
        zaak = entry.payload.decode()
        try:
            if entry.target == BACKFILL_DOCUMENTS:
                await zaak_copier.copy_documents(zaak)
                return DONE
            if entry.target == BACKFILL_ZAAK:
                result = await zaak_copier.copy(zaak, documents="now", origin="related")
                if result.outcome == "not-in-legacy":
                    return Outcome("dead", f"zaak {zaak}: {result.reason}")
                return DONE if result.ok else Outcome("retry", result.reason)
        except (CopyFailed, LegacyError, ZgwError, StoreError) as exc:
            return Outcome("retry", str(exc))
        return Outcome("dead", f"onbekend back-fill-doel {entry.target!r}")

    return deliver


def read_comparison(settings: Settings, store: Store, replicate: Replicate | None, legacy: LegacyClient | None,
                    on_difference: Callable[[], None]) -> Callable[[TranslateRequest], dict[str, Handler]] | None:
    """``compare_reads``: the sampler on replicate's questions, and (given the worker's translate) the outbox
    handler that compares; None when no rule compares reads."""
    fractions = compare_fractions(settings.routing)
    if not fractions or replicate is None or legacy is None:
        return None
    replicate.on_read = ReadSampler(store, fractions)
    client = legacy

    def handlers(translate: TranslateRequest) -> dict[str, Handler]:
        return {COMPARE_TARGET: ReadComparer(store, client, translate, on_difference)}

    return handlers


def gateway_runtime(settings: Settings, store: Store, schemas: Schemas, zgw: ZgwClients, mappings: Mappings,
                    legacy: LegacyClient) -> Runtime:
    """The parts a reconcile works with, from a running gateway's (the scheduled reconcile)."""
    return Runtime(settings, store, zgw, schemas, mappings, legacy,
                   replica_gateway(settings, store, schemas, zgw, mappings))


@dataclass
class Runtime:
    """What a command works with: the gateway's settings, store, backends, mappings and (when set) legacy."""

    settings: Settings
    store: Store
    zgw: ZgwClients
    schemas: Schemas
    mappings: Mappings
    legacy: LegacyClient | None
    replica: Gateway

    def copier(self) -> ZaakCopier:
        if self.legacy is None:
            raise CopyFailed("geen legacy-zaaksysteem ingesteld (legacy.endpoints)")
        return copier(self.settings, self.store, self.schemas, self.zgw, self.mappings, self.legacy, outbox=False)


@contextlib.asynccontextmanager
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """The gateway's parts for a command. An embedded ZGW backend is mounted in this process (on the same data
    directory as ``serve``'s), reached through an ASGI transport rather than the network."""
    settings = with_demo_profile(settings)
    schemas = Schemas.from_settings(settings)
    mappings = Mappings.load(overlay_dir=settings.mappings_dir)
    async with contextlib.AsyncExitStack() as stack:
        if settings.zgw_embedded:
            from ..web.app import embedded_backend

            app = embedded_backend(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            zgw = ZgwClients.from_settings(settings, EMBEDDED_BASE, httpx.ASGITransport(app=app))
        else:
            zgw = ZgwClients.from_settings(settings)
        await stack.enter_async_context(zgw)
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = await stack.enter_async_context(create_store(settings.store_url))
        legacy = None
        if settings.legacy.configured:
            legacy = await stack.enter_async_context(LegacyClient(settings))
        yield Runtime(settings, store, zgw, schemas, mappings, legacy,
                      replica_gateway(settings, store, schemas, zgw, mappings))
