"""Side by side per tenant (``tenants:`` with a routing table and a legacy side; docs/security.md, Tenants).

Each tenant's environment (``security/tenants.py``) gets, when the app starts:

* its legacy client: its own ``legacy:`` section when it has one (an empty one: no legacy side at all), else the
  gateway's client (shared);
* its proxy and replicate handlers on that client (``Environment.modes``): a tenant's message never reaches another
  legacy side than its own, and replicate's ZGW leg runs the translate flow in the tenant's environment;
* its router (``Environment.router``): its own routing table or the gateway's, with a zaak registry of its own
  (rows ``tenant=NAME|...``) and its own ZGW and legacy look-ups; the translate-everything router when neither has a
  table, so that the gateway's router never routes a tenant's message;
* its outbox delivery: a worker with its legacy client, a replica gateway in its environment (its ZGW clients, its
  idempotency keys) and a primary check on its ZGW (the step journal's, with recovery on), to which the gateway's
  worker hands the tenant's items.

Not per tenant (refused by the settings, ``tenant_limits``): notifications, the lazy back-fill, compare_reads, the
scheduled reconcile. The cut-over's routing overrides (``stuf-bridge migrate cutover``) act on the gateway's own
routing only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ..legacy.client import LegacyClient
from ..legacy.lookup import LegacyZaaktype
from ..legacy.proxy import LegacyProxy
from ..outbox.config import OutboxSettings
from ..outbox.replicate import Replicate
from ..outbox.worker import OutboxWorker, PrimaryCheck, TranslateRequest
from ..pipeline.exchange import Environment
from ..pipeline.handle import ModeHandler
from ..pipeline.route import Mode, TranslateAll
from ..security.tenants import Tenants
from ..store import Store
from ..zgw import ZgwClients
from .router import RuleRouter

#: Builds the outbox's replica translate for an environment (``web/app.py``); None without a ZGW backend.
ReplicaFactory = Callable[[Environment], TranslateRequest | None]
#: Builds the outbox's primary check on a tenant's ZGW clients (``web/app.py``: from the step journal when recovery
#: is on, else from ZGW's own state); None without a ZGW backend.
PrimaryCheckFactory = Callable[[ZgwClients | None], PrimaryCheck | None]


@dataclass
class TenantSide:
    legacy: LegacyClient | None
    replicate: Replicate | None
    worker: OutboxWorker


async def wire_tenants(tenants: Tenants, stack: contextlib.AsyncExitStack, *, store: Store, outbox: OutboxSettings,
                       legacy: LegacyClient | None, legacy_transport: httpx.AsyncBaseTransport | None,
                       replica: ReplicaFactory, primary_check: PrimaryCheckFactory) -> dict[str, TenantSide]:
    """Give every tenant's environment its router and modes (see the module's text); the tenants' outbox delivery.
    Legacy clients of their own are closed with ``stack``."""
    sides: dict[str, TenantSide] = {}
    for name, env in tenants.environments.items():
        own = next(t for t in env.settings.tenants if t.name == name)
        client = legacy
        if own.legacy is not None:
            client = None
            if own.legacy.configured:
                client = await stack.enter_async_context(LegacyClient(env.settings, legacy_transport))
        modes: dict[Mode, ModeHandler] = {}
        replicate = None
        if client is not None:
            replicate = Replicate(client)
            modes = {Mode.PROXY: LegacyProxy(client), Mode.REPLICATE: replicate}
        env.modes = modes
        routing = env.settings.routing
        env.router = (
            RuleRouter(routing, store, env.zgw, tenant=name,
                       legacy_zaaktype=LegacyZaaktype(client, env.identity) if client is not None else None)
            if routing.active else TranslateAll())
        worker = OutboxWorker(store, outbox, legacy=client, translate=replica(env),
                              primary_check=primary_check(env.zgw))
        sides[name] = TenantSide(client, replicate, worker)
    return sides


__all__ = ["TenantSide", "wire_tenants"]
