"""The HTTP face of the gateway: the three ZDS services, their WSDLs and schemas, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import platform
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
    multiprocess,
)
from starlette.requests import ClientDisconnect

from .. import correlation
from ..gateway import Gateway, Reply
from ..legacy.client import LegacyClient
from ..legacy.lookup import LegacyZaaktype
from ..legacy.proxy import LegacyProxy
from ..mapping import Mappings
from ..outbox.primary import ZgwPrimaryCheck
from ..migration.wiring import backfill_delivery, backfill_rules, migration_router
from ..migration.wiring import copier as migration_copier
from ..migration.scheduled import ScheduledReconcile
from ..migration.wiring import gateway_runtime, read_comparison
from ..notifications.service import Notifications, own_token
from ..outbox.replicate import Replicate
from ..outbox.worker import Handler, OutboxWorker, PrimaryCheck, ReplicaRouter, TranslateRequest
from ..recovery.primary_check import JournalPrimaryCheck
from ..recovery.service import RecoveryService, journal_for
from ..pipeline.exchange import Environment, Exchange
from ..pipeline.handle import ModeHandler
from ..pipeline.record import Recorder
from ..pipeline.route import Mode, Router
from ..routing.router import RuleRouter
from ..security.passwords import PasswordCheck
from ..routing.tenants import wire_tenants
from ..security.tenants import Tenants
from ..security.web import InternalGuard, peer_of
from ..settings import ZGW_APIS, Settings
from ..soap.wsdl import render_wsdl
from ..store import Store, StoreError, create_store
from ..stuf.namespaces import Dialect
from ..stuf.registry import Service
from ..stuf.stuurgegevens import Systeem
from ..stuf.validation import Schemas
from ..trace.recorder import TraceRecorder
from ..trace.store import TraceStore
from ..ui.app import ui_router
from ..ui.auth import Access
from ..zgw import ZgwClients

if TYPE_CHECKING:
    from ..zgw_embedded import EmbeddedSettings

log = structlog.get_logger(__name__)

_SERVICES = {service.value.lower(): service for service in Service}


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The gateway's Prometheus metrics. One process: its own registry. With ``serve --workers N`` the supervisor
    sets ``PROMETHEUS_MULTIPROC_DIR`` (``runner.py``) before it starts the workers, so prometheus_client keeps every
    worker's values in files there, and ``/metrics`` (:meth:`exposition`) adds up every worker's counters and
    histograms, whichever worker answers. Gauges say how they combine (``multiprocess_mode``): the messages in flight
    add up over the live workers; the store's outbox and trace figures, which every worker reads whole, are the
    most recent reading. The build info is the same in every worker and is taken from the answering one."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "stuf_bridge_messages_total", "StUF messages handled", ["operation", "dialect", "outcome", "code"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "stuf_bridge_message_seconds", "Time to answer a StUF message", ["operation"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.zgw_calls = Counter(
            "stuf_bridge_zgw_calls_total", "Calls to the ZGW APIs", ["api", "method", "status"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge("stuf_bridge_outbox_pending", "Outbox items waiting for delivery (pending, "
                                    "inflight, or held intents)", registry=self.registry,
                                    multiprocess_mode="mostrecent")
        self.outbox_oldest = Gauge("stuf_bridge_outbox_oldest_pending_age_seconds", "Age of the oldest outbox item "
                                   "waiting for delivery (0 when none waits)", registry=self.registry,
                                   multiprocess_mode="mostrecent")
        self.outbox_dead = Gauge("stuf_bridge_outbox_dead", "Dead outbox items (each parks its zaak's later items)",
                                 registry=self.registry, multiprocess_mode="mostrecent")
        # --- the message trace (docs/tracing.md, Metrics) ---
        self.call_seconds = Histogram(
            "stuf_bridge_outgoing_call_duration_seconds", "Duration of outgoing calls (ZGW APIs and legacy)",
            ["api", "method", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.resends = Counter("stuf_bridge_resends_answered_total", "Resent messages answered from the store "
                               "(idempotency), also counted in stuf_bridge_messages_total", ["operation"],
                               registry=self.registry)
        self.schema_warnings = Counter("stuf_bridge_schema_warnings_total", "Schema issues of messages let through "
                                       "under the warn policy", ["operation"], registry=self.registry)
        self.compensations = Counter("stuf_bridge_compensations_total", "Compensation steps run after a failed "
                                     "message, by outcome (ok, failed)", ["outcome"], registry=self.registry)
        self.in_flight = Gauge("stuf_bridge_messages_in_flight", "Messages being handled now",
                               registry=self.registry, multiprocess_mode="livesum")
        self.build = Info("stuf_bridge_build", "The running stuf-bridge", registry=self.registry)
        self.build.info({"version": _version(), "python": platform.python_version()})
        self.trace_bytes = Gauge("stuf_bridge_trace_store_bytes", "Size of the stored traces (compressed, as stored)",
                                 registry=self.registry, multiprocess_mode="mostrecent")
        self.trace_count = Gauge("stuf_bridge_trace_store_traces", "Number of stored traces", registry=self.registry,
                                 multiprocess_mode="mostrecent")
        self.traces_dropped = Counter("stuf_bridge_traces_dropped_total", "Traces not written because the store "
                                      "did not keep up", registry=self.registry)
        self.reconcile_differences = Counter(  # issue 15: compare_reads and the scheduled reconcile
            "stuf_bridge_reconcile_differences_total", "Zaken (or sampled reads) found not in sync between legacy and "
            "ZGW, by source (compare-reads, scheduled)", ["source"], registry=self.registry)

    def exposition(self) -> CollectorRegistry:
        """The registry ``/metrics`` shows: this process's own, or, with worker processes, every worker's values
        added up (from the files in ``PROMETHEUS_MULTIPROC_DIR``) and this worker's build info."""
        if not os.environ.get(MULTIPROC_ENV):
            return self.registry
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        combined.register(self.build)  # an Info has no multiprocess form; it is the same in every worker
        return combined

    def started(self, x: Exchange) -> None:
        """The record stage's start hook: one more message in flight."""
        self.in_flight.inc()

    async def refresh_traces(self, traces: TraceStore) -> None:
        """The trace store gauges (at each scrape: the whole store, as every process sees it)."""
        try:
            count, size = await traces.size()
        except StoreError as exc:
            log.warning("trace_stats_failed", error=str(exc))
            return
        self.trace_count.set(count)
        self.trace_bytes.set(size)

    async def refresh_outbox(self, store: Store) -> None:
        """The outbox gauges from the store (at each scrape: every process shows the whole store's outbox)."""
        try:
            stats = await store.outbox_stats()
        except StoreError as exc:
            log.warning("outbox_stats_failed", error=str(exc))
            return
        self.outbox_pending.set(stats.pending)
        self.outbox_oldest.set(stats.oldest_pending_seconds)
        self.outbox_dead.set(stats.dead)

    def record(self, x: Exchange, reply: Reply, seconds: float) -> None:
        """The record stage's hook (``pipeline/record.py``): one message answered."""
        self.messages.labels(reply.operation, reply.dialect, reply.outcome, reply.fault_code or "").inc()
        self.seconds.labels(reply.operation).observe(seconds)
        for call in reply.zgw_calls:
            self.zgw_calls.labels(call.api, call.method, str(call.status or "error")).inc()
        self.in_flight.dec()
        if reply.replayed:
            self.resends.labels(reply.operation).inc()
        schema = sum(1 for warning in reply.warnings if warning.startswith("schema: "))
        if schema:
            self.schema_warnings.labels(reply.operation).inc(schema)
        if x.trace is not None:
            for note in x.trace.calls:
                self.call_seconds.labels(note.api, note.method, str(note.status or "error")).observe(note.ms / 1000)
            for step in x.trace.compensations:
                self.compensations.labels("ok" if step["ok"] else "failed").inc()


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    schemas: Schemas | None = None,
    embedded_base: str | None = None,
    zgw_transport: httpx.AsyncBaseTransport | None = None,
    router: Router | None = None,
    legacy_transport: httpx.AsyncBaseTransport | None = None,
    embedded_settings: EmbeddedSettings | None = None,
    internal_port: int | None = None,
) -> FastAPI:
    """The gateway as an ASGI app. The store is opened (and migrated) at start-up and closed at shutdown.

    ``router`` decides each message's route (default: translate everything). With a legacy side in the settings
    (``legacy.endpoints``), the legacy client is opened with the app and the proxy mode is available to it.

    Without an external ZGW backend in the settings, the embedded backend is mounted under ``/zgw`` and the gateway
    reaches it at ``embedded_base`` (the address the server listens on + ``/zgw``), by URL like any backend; its own
    settings are ``embedded_settings`` (unset: read from the environment).
    """
    schemas = schemas or Schemas.from_settings(settings)
    mappings = Mappings.load(overlay_dir=settings.mappings_dir)  # a broken file stops the start (MappingError)
    metrics = Metrics()
    embedded = embedded_backend(settings, embedded_settings) if settings.zgw_embedded else None
    own_auth = None
    if embedded is not None and embedded_base is not None and settings.notifications.active \
            and settings.notifications.embedded_callback:
        # the embedded backend's notifications reach this gateway's own callback without further configuration
        from ..zgw_embedded.notifications import NotificationTarget

        own_auth = own_token()
        own_callback = f"{embedded_base.rstrip('/').removesuffix('/zgw')}/notificaties/callback"
        embedded.state.zgw.notifier.add_target(NotificationTarget(own_callback, own_auth, name="own"))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        the_store = store or create_store(settings.store_url)
        if store is None and settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        async with contextlib.AsyncExitStack() as stack:
            if embedded is not None:  # a mounted app's lifespan is not run by Starlette: run it here
                await stack.enter_async_context(embedded.router.lifespan_context(embedded))
            await the_store.open()
            stack.push_async_callback(the_store.close)
            zgw = None
            if embedded_base is not None or not settings.zgw_embedded:
                zgw = ZgwClients.from_settings(settings, embedded_base, zgw_transport)
                await stack.enter_async_context(zgw)
            modes: dict[Mode, ModeHandler] = {}
            legacy = replicate = None
            legacy_zaaktype = None
            if settings.legacy.configured:
                legacy = await stack.enter_async_context(LegacyClient(settings, legacy_transport))
                modes[Mode.PROXY] = LegacyProxy(legacy)
                modes[Mode.REPLICATE] = replicate = Replicate(legacy)
                identity = Systeem(organisatie=settings.organisatie, applicatie=settings.applicatie)
                legacy_zaaktype = LegacyZaaktype(legacy, identity)
            app.state.store = the_store
            app.state.zgw = zgw
            app.state.outbox = legacy is not None  # replicate needs a legacy side: only then is there an outbox
            # Only a routing table that can send a message elsewhere than ZGW needs the router (and its registry)
            routing = router or (
                RuleRouter(settings.routing, the_store, zgw, legacy_zaaktype=legacy_zaaktype)
                if settings.routing.active else None
            )
            # issue 15: the cut-over's routing overrides and lazy back-fill around the routing table's router
            backfill_copier = None
            if isinstance(routing, RuleRouter):
                if legacy is not None and zgw is not None and backfill_rules(settings.routing):
                    backfill_copier = migration_copier(settings, the_store, schemas, zgw, mappings, legacy,
                                                       outbox=settings.outbox.enabled)
                routing = migration_router(routing, settings, the_store, backfill_copier)
            trace_store = TraceStore(the_store)
            tracer = TraceRecorder(trace_store, lambda: app.state.gateway.settings.trace,
                                   on_dropped=metrics.traces_dropped.inc)
            notifications = Notifications(settings, the_store, zgw, mappings, own_auth=own_auth)
            app.state.notifications = notifications
            echo = [notifications.echo] if notifications.echo is not None else []
            tenants = None
            if settings.tenants:  # each municipality's own ZGW clients (security/tenants.py), closed with the app
                tenants = Tenants.build(
                    Environment(settings, the_store, zgw, mappings,
                                Systeem(organisatie=settings.organisatie, applicatie=settings.applicatie)),
                    zgw_transport)
                stack.push_async_callback(tenants.aclose)
            app.state.tenants = tenants
            tenant_sides = {}
            if tenants is not None:  # each tenant's router, proxy/replicate and outbox delivery (routing/tenants.py)
                tenant_sides = await wire_tenants(
                    tenants, stack, store=the_store, outbox=settings.outbox, legacy=legacy,
                    legacy_transport=legacy_transport,
                    replica=lambda env: _replica_translate(env.settings.model_copy(update={"tenants": []}), the_store,
                                                           schemas, env.zgw, mappings, tenant=env.tenant),
                    primary_check=lambda zgw: _primary_check(settings, the_store, zgw))
            tenant_legacy = any(side.legacy is not None for side in tenant_sides.values())
            app.state.outbox = app.state.outbox or tenant_legacy
            gateway = Gateway(settings, the_store, schemas, zgw=zgw, mappings=mappings, router=routing, modes=modes,
                              recorders=[metrics, tracer, *echo], tenants=tenants)
            app.state.gateway = gateway
            app.state.trace_store, app.state.tracer = trace_store, tracer
            tracer.start()
            stack.push_async_callback(tracer.stop)  # before the store closes: what is queued is written
            if replicate is not None:
                replicate.translate = gateway.translate
            for side in tenant_sides.values():  # replicate's ZGW leg: the translate flow, in the tenant's environment
                if side.replicate is not None:
                    side.replicate.translate = gateway.translate
            compare = read_comparison(settings, the_store, replicate, legacy,
                                      lambda: metrics.reconcile_differences.labels("compare-reads").inc())
            if notifications.handlers:
                app.state.outbox = True
                notifications.start()
                stack.push_async_callback(notifications.stop)
            if (legacy is not None or tenant_legacy or notifications.handlers) and settings.outbox.enabled:
                # the gateway's own items (a tenant's go to its own worker): never re-chosen by tenant
                own = settings.model_copy(update={"tenants": []}) if settings.tenants else settings
                replica_translate = _replica_translate(own, the_store, schemas, zgw, mappings, recorders=echo)
                handlers: dict[str, Handler] = dict(notifications.handlers)
                if compare is not None and replica_translate is not None:
                    handlers.update(compare(replica_translate))

                def outbox_worker(translate: TranslateRequest | None) -> OutboxWorker:
                    return OutboxWorker(the_store, settings.outbox, legacy=legacy, translate=translate,
                                        primary_check=_primary_check(settings, the_store, zgw),
                                        backfill=backfill_delivery(backfill_copier) if backfill_copier else None,
                                        handlers=handlers,
                                        tenants={name: side.worker for name, side in tenant_sides.items()})

                worker = outbox_worker(replica_translate)
                worker.start()
                stack.push_async_callback(worker.stop)
                app.state.outbox_worker = worker
                # kennisgevingen to many zaken at once: more delivery loops (the claim keeps each zaak's order)
                for _ in range(settings.notifications.delivery_workers - 1 if notifications.handlers else 0):
                    extra = outbox_worker(worker.translate)
                    extra.start()
                    stack.push_async_callback(extra.stop)
            if settings.reconcile.scheduled:  # issue 15: the scheduled reconcile, off by default
                if legacy is None or zgw is None:
                    log.warning("reconcile_scheduled_not_started", reason="needs legacy.endpoints and a ZGW backend")
                else:
                    scheduled = ScheduledReconcile(
                        gateway_runtime(settings, the_store, schemas, zgw, mappings, legacy), settings.reconcile,
                        lambda n: metrics.reconcile_differences.labels("scheduled").inc(n))
                    scheduled.start()
                    stack.push_async_callback(scheduled.stop)
            if zgw is not None and settings.recovery.enabled:  # unfinished messages: at start, then in a sweep
                recovery = RecoveryService(the_store, zgw, lease_seconds=settings.recovery.lease_seconds,
                                           sweep_seconds=settings.recovery.sweep_seconds,
                                           settle_seconds=settings.recovery.settle_seconds,
                                           tenants={name: env.zgw for name, env in tenants.environments.items()
                                                    if env.zgw is not None} if tenants is not None else None)
                await recovery.start()
                stack.push_async_callback(recovery.stop)
            purger = asyncio.get_running_loop().create_task(_purge_idempotency_records(settings, the_store))
            stack.callback(purger.cancel)
            # What start-up built (schemas, mappings, the routes, the embedded backend) lives as long as the app: out
            # of the cyclic garbage collector's sight, its full collections no longer walk it. Those walks were the
            # slowest messages of a busy gateway (p99 of creeerZaak with 20 senders: about 90 -> 50 ms).
            gc.freeze()
            stack.callback(gc.unfreeze)
            yield

    app = FastAPI(title="stuf-bridge", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    if settings.ui.enabled:  # the trace page (docs/tracing.md); its access control is its own (ui/auth.py)
        app.include_router(ui_router(lambda: getattr(app.state, "trace_store", None),
                                     Access(settings.ui, settings.host)))
    if internal_port is not None or settings.security.internal_basic is not None:
        # /metrics, /ready, /ui/ and /zgw only on the internal port, and/or behind their own credentials
        internal_basic = settings.security.internal_basic
        app.add_middleware(InternalGuard, internal_port=internal_port,
                           basic=PasswordCheck(internal_basic) if internal_basic is not None else None,
                           username=internal_basic.username if internal_basic is not None else None)
    if embedded is not None:
        app.mount("/zgw", embedded)

    async def soap(request: Request, service: Service | None) -> Response:
        """The body goes to the gateway as it arrives: documents in it are spooled while it is parsed, never
        collected whole; an answer carrying documents goes out the same way."""
        gateway: Gateway = request.app.state.gateway
        body = request.stream()
        reply = await gateway.handle_stream(
            service, body, content_type=request.headers.get("content-type"),
            soap_action=request.headers.get("soapaction"), request_id=request.headers.get(correlation.HEADER),
            peer=peer_of(request, settings) if gateway.authenticator is not None else None,
        )
        await _drain(body)
        # The Content-Type goes as a header, not as media_type: Starlette would add a charset to a legacy's bare
        # "text/xml", and a proxied answer must pass unchanged.
        headers = {**reply.headers, "content-type": reply.content_type} if reply.content_type else dict(reply.headers)
        if reply.correlation_id is not None:
            headers[correlation.HEADER.lower()] = reply.correlation_id
        if reply.stream is not None:
            if reply.length is not None:
                headers["content-length"] = str(reply.length)
            return StreamingResponse(reply.stream, status_code=reply.status, headers=headers)
        return Response(reply.body, status_code=reply.status, headers=headers)

    @app.post("/zds/{service_name}")
    async def post_service(service_name: str, request: Request) -> Response:
        service = _SERVICES.get(service_name.lower())
        if service is None:
            return PlainTextResponse(f"Onbekende service {service_name}; gebruik {', '.join(s.value for s in Service)}",
                                     status_code=404)
        return await soap(request, service)

    @app.post("/zds")
    async def post_any(request: Request) -> Response:
        """One address for every operation, for clients that configure a single URL."""
        return await soap(request, None)

    @app.get("/zds/{service_name}")
    async def get_service(service_name: str, request: Request) -> Response:
        service = _SERVICES.get(service_name.lower())
        if service is None:
            return PlainTextResponse(f"Onbekende service {service_name}", status_code=404)
        params = {k.lower(): v for k, v in request.query_params.items()}
        if "wsdl" not in params:
            return PlainTextResponse(
                f"ZDS-service {service.value}: stuur SOAP-berichten met POST, of vraag de WSDL op met "
                f"?wsdl (ZDS 1.1) of ?wsdl&dialect=1.2.\n"
            )
        dialect_param = params.get("dialect", "1.1")
        try:
            dialect = Dialect(dialect_param)
        except ValueError:
            return PlainTextResponse(f"Onbekend dialect {dialect_param!r}; kies 1.1 of 1.2.", status_code=400)
        return Response(render_wsdl(service, dialect, _base_url(settings, request)), media_type="text/xml")

    @app.get("/xsd/{path:path}")
    async def get_xsd(path: str) -> Response:
        root = schemas.xsd_dir
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file() or target.suffix != ".xsd":
            return PlainTextResponse("Niet gevonden", status_code=404)
        return Response(target.read_bytes(), media_type="text/xml")

    @app.post("/notificaties/callback")
    async def notification_callback(request: Request) -> Response:
        """Notificaties API callback: 403 without the right Authorization, 204 once stored (docs/notifications.md)."""
        notifications: Notifications = request.app.state.notifications
        return await notifications.callback(request)

    @app.get("/health")
    async def health() -> JSONResponse:
        """Liveness: the process serves HTTP. Nothing outside it is asked, so that an unreachable store or backend
        makes the pods unready (``/ready``), not restarted."""
        return JSONResponse({"status": "ok"})

    @app.get("/ready")
    async def ready(request: Request) -> JSONResponse:
        """Readiness: the store answers and every ZGW API is reachable."""
        checks = await readiness(request.app.state.store, getattr(request.app.state, "zgw", None), settings,
                                 getattr(request.app.state, "tenants", None))
        ok = all(check == "ok" for check in checks.values())
        return JSONResponse({"status": "ready" if ok else "unready", "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics")
    async def get_metrics(request: Request) -> Response:
        if getattr(request.app.state, "outbox", False):
            await metrics.refresh_outbox(request.app.state.store)
        if getattr(request.app.state, "trace_store", None) is not None:
            await metrics.refresh_traces(request.app.state.trace_store)
        return Response(generate_latest(metrics.exposition()), media_type=CONTENT_TYPE_LATEST)

    return app


DRAIN_LIMIT = 64 * 1024 * 1024


async def readiness(the_store: Store, zgw: ZgwClients | None, settings: Settings,
                    tenants: Tenants | None = None) -> dict[str, str]:
    """What ``/ready`` reports: ``ok`` or the reason, per dependency, each bounded by ``ready_timeout_seconds``. A
    ZGW API counts as reachable when its root answers anything below 500 (no credentials are sent: ``check-config``
    checks those); the probe must be cheap, as it runs every few seconds on every pod."""
    timeout = settings.ready_timeout_seconds

    async def store() -> str:
        try:
            async with asyncio.timeout(timeout):
                return "ok" if await the_store.ping() else "no answer"
        except TimeoutError:
            return f"no answer within {timeout:g} s"

    async def api(name: str, backend: ZgwClients | None = zgw) -> str:
        assert backend is not None
        client = backend.api(name)
        try:
            response = await client.http.get(f"{client.base_url}/", timeout=timeout)
        except httpx.HTTPError as exc:
            return f"{client.base_url}: {type(exc).__name__} {exc}".strip()
        return "ok" if response.status_code < 500 else f"{client.base_url}: HTTP {response.status_code}"

    names = ["store"]
    checks = [store()]
    if zgw is not None:
        for name in ZGW_APIS:
            names.append(f"zgw_{name}")
            checks.append(api(name))
    for tenant, env in (tenants.environments.items() if tenants is not None else ()):  # each tenant's own backend
        for name in ZGW_APIS:
            names.append(f"tenant_{tenant}_zgw_{name}")
            checks.append(api(name, env.zgw))
    results = await asyncio.gather(*checks)
    return dict(zip(names, results, strict=True))


def _primary_check(settings: Settings, store: Store, zgw: ZgwClients | None) -> PrimaryCheck | None:
    """How the outbox's sweep finds out whether a primary ZGW write landed: from the step journal when recovery is
    on (every operation), else from ZGW's own state (creeerZaak only; others are parked for an operator)."""
    if zgw is None:
        return None
    if settings.recovery.enabled:
        return JournalPrimaryCheck(store, zgw, journal_for(store, lease_seconds=settings.recovery.lease_seconds),
                                   settle_seconds=settings.recovery.settle_seconds)
    return ZgwPrimaryCheck(zgw)


def _replica_translate(settings: Settings, store: Store, schemas: Schemas, zgw: ZgwClients | None,
                       mappings: Mappings, recorders: Sequence[Recorder] = (),
                       tenant: str | None = None) -> TranslateRequest | None:
    """How the outbox worker translates a stored request for ZGW: a gateway of its own on the same store and
    backends whose router translates everything as a replica (idempotency records of its own). For a tenant's items
    (``tenant``): in the tenant's environment, its ZGW clients, sequences and idempotency keys."""
    if zgw is None:
        return None
    replica = Gateway(settings, store, schemas, zgw=zgw, mappings=mappings, router=ReplicaRouter(),
                      recorders=list(recorders),
                      authenticate=False)  # authenticated and authorised when it came in
    replica.env.tenant = tenant

    async def translate(service: Service | None, payload: AsyncIterable[bytes], content_type: str | None,
                        soap_action: str | None) -> Reply:
        reply = await replica.handle_stream(service, payload, content_type=content_type, soap_action=soap_action)
        if reply.stream is not None:  # (an acknowledgement carries no documents; read whatever came)
            reply.body = b"".join([piece async for piece in reply.stream])
            reply.stream = None
        return reply

    return translate


async def _drain(body: AsyncIterator[bytes]) -> None:
    """After a fault found before the end of the body (too large, bad base64): read and drop a bounded rest of it,
    so that a client that sends the whole request before it reads gets the fault rather than a broken connection.
    Beyond ``DRAIN_LIMIT`` the server closes the connection."""
    drained = 0
    with contextlib.suppress(ClientDisconnect):
        async for chunk in body:
            drained += len(chunk)
            if drained > DRAIN_LIMIT:
                break


async def _purge_idempotency_records(settings: Settings, store: Store) -> None:
    """Forget answers older than the retention, at start-up and then every hour."""
    retention = timedelta(hours=settings.idempotency_retention_hours)
    while True:
        try:
            purged = await store.purge_messages(retention)
            if purged:
                log.info("idempotency_records_purged", count=purged)
        except StoreError as exc:
            log.warning("idempotency_purge_failed", error=str(exc))
        await asyncio.sleep(3600)


def embedded_backend(settings: Settings, own: EmbeddedSettings | None = None) -> FastAPI:
    """The embedded ZGW backend on the gateway's data directory, seeded with the demo catalogue on first start. It
    accepts the gateway's own client; ``own`` are its own settings (unset: read from the environment)."""
    from ..zgw_embedded import DEMO_CATALOGUE, EmbeddedConfig, EmbeddedSettings
    from ..zgw_embedded import create_app as create_embedded_app
    from ..zgw_embedded.notifications import targets_from

    own = own or EmbeddedSettings()

    return create_embedded_app(
        EmbeddedConfig(
            data_dir=settings.data_dir,
            client_id=settings.zgw_client_id,
            secret=settings.zgw_secret,
            jwt_leeway=own.jwt_leeway,
            seed_file=DEMO_CATALOGUE,
            force_unlock_clients=frozenset({settings.zgw_client_id}) if own.force_unlock else frozenset(),
            notification_targets=targets_from(own.notification_callbacks),
        )
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stuf-bridge")
    except PackageNotFoundError:
        return "unknown"


def _base_url(settings: Settings, request: Request) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")
