"""The ``stuf-bridge`` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import enum
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import structlog
import uvicorn

from . import __version__
from .settings import LOG_LEVELS, Settings, load_settings, unknown_variables, with_demo_profile

if TYPE_CHECKING:
    from .recovery.journal import Journal
    from .store import Store

log = structlog.get_logger("stuf_bridge")


class Exit(enum.IntEnum):
    """The command's exit codes (README, Configuration; docs/operations.md): one per kind of failure, so that a
    supervisor or a script can tell them apart. Each failure also prints one line saying what, where and what to do."""

    OK = 0
    FAILED = 1  # a command's check or action failed (check-config found errors, seed or outbox refused)
    CONFIGURATION = 2  # settings, config file or mapping files are invalid (also argparse's usage errors)
    ADDRESS = 3  # the host/port cannot be listened on (in use, not permitted, unknown address)
    DATA_DIR = 4  # the data directory cannot be created or written
    STORE = 5  # the store cannot be opened: unsupported URL, database unreachable, a failed migration
    INTERRUPTED = 130  # stopped by Ctrl-C (SIGINT), as shells expect


class StartupError(Exception):
    """A start that cannot go on: ``main`` prints ``stuf-bridge: <message>`` and exits with ``code``."""

    def __init__(self, code: Exit, message: str):
        super().__init__(message)
        self.code = code


def bind_or_exit(host: str, port: int) -> socket.socket:
    """``_bind``, with the reasons an operator meets (port in use, no permission, no such address) said in one line."""
    try:
        return _bind(host, port)
    except OSError as exc:
        import errno

        reason = exc.strerror or str(exc)
        hint = {
            errno.EADDRINUSE: "another process listens there; stop it or choose another port (--port, "
                              "STUF_BRIDGE_PORT)",
            errno.EACCES: "ports below 1024 need privileges; choose a port above 1023 (--port, STUF_BRIDGE_PORT)",
            errno.EADDRNOTAVAIL: "this machine has no such address; use 127.0.0.1, 0.0.0.0 or one of its own "
                                 "(--host, STUF_BRIDGE_HOST)",
        }.get(exc.errno or 0, "check --host and --port (STUF_BRIDGE_HOST, STUF_BRIDGE_PORT)")
        raise StartupError(Exit.ADDRESS, f"cannot listen on {host}:{port}: {reason}; {hint}") from None
    except (socket.gaierror, UnicodeError) as exc:  # pragma: no cover - gaierror is an OSError on Linux
        raise StartupError(Exit.ADDRESS, f"cannot listen on {host}:{port}: {exc}") from None


def one_line(exc: BaseException) -> str:
    """A configuration error as one line: pydantic's validation errors as ``field: reason; field: reason``."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            variable = f" (STUF_BRIDGE_{str(error['loc'][0]).upper()})" if error["loc"] else ""
            given = error.get("input")
            shown = f", given {given!r}" if isinstance(given, (str, int, float)) and error["type"] != "missing" else ""
            parts.append(f"{where}{variable}: {message}{shown}")
        return "; ".join(parts)
    return " ".join(str(exc).split())


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # The stream is looked up per logger, not bound once: sys.stderr may be replaced (tests, embedding). Each
        # line is written in one call (WriteLogger; PrintLogger writes the newline apart), so that the lines of
        # several worker processes on one stderr do not run into each other.
        logger_factory=lambda *args: structlog.WriteLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, logging one line with the address once the socket listens, and one when it stopped. A stop
    signal (SIGTERM, SIGINT) is not raised again after the graceful shutdown (uvicorn's default, which ends the
    process by the signal or with a KeyboardInterrupt traceback): ``stopped_by`` tells the caller which came. With an
    ``internal`` socket (security.internal_port), a second server on the same app serves it, in plain HTTP, without a
    lifespan of its own, started with this one and stopped once this one has answered its messages in flight."""

    def __init__(self, config: uvicorn.Config, settings: Settings, what: dict[str, str],
                 internal: socket.socket | None = None):
        super().__init__(config)
        self.settings = settings
        self.what = what
        self.stopped_by: list[int] = []
        self.internal = internal
        self._internal_server: uvicorn.Server | None = None
        self._internal_task: asyncio.Task[None] | None = None

    on_listening: ClassVar[Callable[[], object] | None] = None  # a worker tells its supervisor (runner.py)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self.stopped_by = list(self._captured_signals)
                self._captured_signals.clear()

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        from . import stopping

        stopping.reset()
        await super().startup(sockets)
        if self.started and self.servers:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            url = f"{'https' if self.settings.security.tls.enabled else 'http'}://{shown}:{port}"
            extra = {"internal": _loopback_url(self.internal)} if self.internal is not None else {}
            log.info("listening", url=url, **{k: v.format(url=url) for k, v in self.what.items()},
                     data_dir=str(self.settings.data_dir.resolve()), **extra)
            if type(self).on_listening is not None:
                type(self).on_listening()  # type: ignore[misc]
        if self.started and self.internal is not None:
            config = uvicorn.Config(self.config.app, log_level=self.config.log_level, access_log=False,
                                    log_config=None, lifespan="off", timeout_keep_alive=self.config.timeout_keep_alive)
            self._internal_server = uvicorn.Server(config)
            self._internal_task = asyncio.get_running_loop().create_task(
                self._internal_server._serve(sockets=[self.internal]))
            # The internal port stops after the SOAP port has drained, just before the app's lifespan ends: a
            # message in flight may still call the embedded backend there (a new connection) while it finishes.
            lifespan_shutdown = self.lifespan.shutdown

            async def stop_internal_then_lifespan() -> None:
                await self._stop_internal()
                await lifespan_shutdown()

            self.lifespan.shutdown = stop_internal_then_lifespan

    async def shutdown(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        # logged here, on the event loop, not in the signal handler: a handler that logs while the interrupted code
        # holds the log writer's lock (structlog's WriteLogger) would wait for it forever
        captured = list(self._captured_signals)
        log.info("stopping", signal=signal.Signals(captured[-1]).name if captured else None,
                 grace_seconds=self.settings.shutdown_grace_seconds,
                 reason="no new connections; messages in flight are answered first")
        # The grace period is ours: when it ends, the messages still running are cancelled and answered with a
        # fault that says the gateway stops (stopping.py); uvicorn's own timeout, a little later, is the backstop.
        timer = asyncio.get_running_loop().call_later(self.settings.shutdown_grace_seconds, self._end_grace)
        try:
            await super().shutdown(sockets)
        finally:
            timer.cancel()
            await self._stop_internal()  # (already stopped, unless a forced exit skipped the lifespan)

    async def _stop_internal(self) -> None:
        if self._internal_server is not None and self._internal_task is not None:
            self._internal_server.should_exit = True
            await self._internal_task
            self._internal_server = self._internal_task = None

    def _end_grace(self) -> None:
        from . import stopping

        running = [task for task in self.server_state.tasks if not task.done()]
        if running:
            log.error("grace_period_ended", messages=len(running), grace_seconds=self.settings.shutdown_grace_seconds,
                      reason="messages still running are answered with a fault (StUF046/StUF049: the gateway "
                      "stops, resend); the recovery journal resolves what they had done")
        stopping.end_grace(running)


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket before the app exists, so that the app knows its own address (port 0 too)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only sets TCP_NODELAY on sockets whose proto is IPPROTO_TCP, and without it every
    # answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _loopback_url(sock: socket.socket) -> str:
    """How this process reaches its own server: wildcard addresses become loopback."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


STOP_BACKSTOP_SECONDS = 10


def _run(app: object, settings: Settings, sock: socket.socket, what: dict[str, str],
         internal: socket.socket | None = None) -> int:
    """Serve until stopped; the exit code: 0 after SIGTERM (or a normal end), 130 after Ctrl-C (SIGINT)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from .security.web import server_protocol, server_ssl_options

    tls: dict[str, Any] = server_ssl_options(settings)
    # header and body timeouts, and the client certificate for the app (security/web.py)
    tls["http"] = server_protocol(AutoHTTPProtocol, header_timeout=settings.security.header_timeout_seconds,
                                  body_timeout=settings.security.body_timeout_seconds)
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_keep_alive=int(settings.keep_alive_seconds),
        # the backstop behind _Server._end_grace: the messages it cancelled have this long to send their fault
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) + STOP_BACKSTOP_SECONDS,
        **tls,
    )
    server = _Server(config, settings, what, internal)
    server.run(sockets=[sock])
    names = [signal.Signals(sig).name for sig in server.stopped_by]
    if not server.started and not names:  # the app's start-up failed (uvicorn logged why), not stopped while starting
        raise StartupError(Exit.STORE, "the gateway did not start: see the log line before this one")
    log.info("stopped", signal=names[-1] if names else None)
    return Exit.INTERRUPTED if "SIGINT" in names else Exit.OK


def completed(settings: Settings) -> Settings:
    """The settings a start runs with: the demo profile applied where it applies (embedded backend, no default_rsin
    configured), said in one log line so that nobody takes the demo RSIN for a configured one."""
    result = with_demo_profile(settings)
    if result is not settings:
        log.info("demo_profile", default_rsin=result.default_rsin,
                 reason="embedded backend without default_rsin: the demo profile applies; set default_rsin to choose")
    return result


def serve(settings: Settings) -> int:
    """The gateway: one process, or ``workers`` processes on one listening socket (``runner.py``). What can be
    found wrong before serving (the address, the data directory, the store, the mapping files) stops the start with
    one line and its exit code (:class:`Exit`)."""
    from .mapping import MappingError
    from .runner import preflight, supervise
    from .security.serving import StartRefused, check_start, internal_port_needed
    from .web.app import create_app

    configure_logging(settings)
    settings = completed(settings)
    try:
        check_start(settings)  # the demo secret beyond loopback
    except StartRefused as exc:
        raise StartupError(Exit.CONFIGURATION, f"refused to start: {exc}") from None
    sock = bind_or_exit(settings.host, settings.port)
    internal = None
    try:
        if internal_port_needed(settings):  # /metrics, /ready, /ui/ and the embedded backend apart from SOAP
            internal = bind_or_exit(settings.security.internal_host, settings.security.internal_port or 0)
        preflight(settings)
        embedded_base = f"{_loopback_url(internal or sock)}/zgw" if settings.zgw_embedded else None
        what = {
            "zds": "{url}/zds/{{BeantwoordVraag,OntvangAsynchroon,VrijeBerichten}}",
            "zgw": "{url}/zgw (embedded)" if settings.zgw_embedded else settings.zgw_url or "per-API URLs",
            "store": "postgresql" if settings.database_url else "sqlite",
        }
        if settings.workers > 1:
            return supervise(settings, sock, what, embedded_base, internal)
        app = create_app(settings, embedded_base=embedded_base,
                         internal_port=internal.getsockname()[1] if internal is not None else None)
    except MappingError as exc:  # a broken mapping file stops the start, saying where
        sock.close()
        if internal is not None:
            internal.close()
        raise StartupError(Exit.CONFIGURATION, f"mapping files: {one_line(exc)}") from None
    except BaseException:  # the socket is not left behind
        sock.close()
        if internal is not None:
            internal.close()
        raise
    return _run(app, settings, sock, what, internal)


ZGW_SERVE_PORT = 8090  # not the gateway's 8080: both can run side by side on one machine


def serve_zgw(settings: Settings) -> int:
    """The embedded ZGW backend alone, at the root of its own server."""
    from .web.app import embedded_backend

    configure_logging(settings)
    what = {"zgw": "{url}/{{zaken,documenten,catalogi,besluiten}}/api/v1", "client_id": settings.zgw_client_id}
    return _run(embedded_backend(settings), settings, bind_or_exit(settings.host, settings.port), what)


def seed_zgw(settings: Settings, catalogue: Path) -> int:
    from .zgw_embedded import SeedError, seed

    configure_logging(settings)
    try:
        report = seed(settings.data_dir, catalogue)
    except (OSError, ValueError, SeedError) as exc:
        print(f"stuf-bridge: seeding {catalogue} failed: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 0


# Resources `zgw get` can list, with the API that holds each.
ZGW_RESOURCES = {
    "zaken": "zaken", "statussen": "zaken", "rollen": "zaken", "resultaten": "zaken", "zaakobjecten": "zaken",
    "zaakinformatieobjecten": "zaken", "zaakeigenschappen": "zaken", "zaakbesluiten": "zaken",
    "enkelvoudiginformatieobjecten": "documenten", "objectinformatieobjecten": "documenten",
    "gebruiksrechten": "documenten", "besluiten": "besluiten", "besluitinformatieobjecten": "besluiten",
    "catalogussen": "catalogi", "zaaktypen": "catalogi", "statustypen": "catalogi", "roltypen": "catalogi",
    "resultaattypen": "catalogi", "informatieobjecttypen": "catalogi", "besluittypen": "catalogi",
    "eigenschappen": "catalogi",
}


def zgw_get(settings: Settings, resource: str, filters: list[str], limit: int) -> int:
    """``stuf-bridge zgw get zaken --identificatie X``: what the ZGW backend holds, as JSON, with the configured
    credentials (the JWT is made here, not by hand). On the embedded backend the data directory is read in-process,
    whether or not the gateway runs."""
    import asyncio
    import json

    from .checks import _clients
    from .zgw import ZgwError

    params: dict[str, str] = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"stuf-bridge: filter {item!r} must be key=value", file=sys.stderr)
            return Exit.CONFIGURATION
        params[key] = value

    async def run() -> list[dict[str, object]]:
        async with _clients(settings) as (zgw, _where):
            return await zgw.api(ZGW_RESOURCES[resource]).list(resource, params or None, max_items=limit)

    try:
        items = asyncio.run(run())
    except ZgwError as exc:
        print(f"stuf-bridge: {resource}: {one_line(exc)}", file=sys.stderr)
        return Exit.FAILED
    print(json.dumps(items, indent=2, ensure_ascii=False))
    return Exit.OK


def outbox_command(settings: Settings, action: str, item: int | None, dead: bool) -> int:
    """``stuf-bridge outbox list|retry|skip``: the same store as ``serve`` (settings from environment, file, flags)."""
    import asyncio

    from .store import StoreError, create_store

    async def run() -> int:
        async with create_store(settings.store_url) as store:
            if action == "list":
                statuses = ("dead",) if dead else ("pending", "inflight", "held", "dead")
                entries = await store.outbox_items(statuses=statuses)
                print(f"{'id':>6}  {'status':8}  {'tries':>5}  {'target':28}  {'zaak':24}  {'created (UTC)':19}  error")
                for e in entries:
                    error = e.last_error.splitlines()[0][:80] if e.last_error else ""
                    print(f"{e.id:>6}  {e.status:8}  {e.attempts:>5}  {e.target:28}  {e.partition_key:24}  "
                          f"{e.created_at:%Y-%m-%d %H:%M:%S}  {error}")
                stats = await store.outbox_stats()
                print(f"pending {stats.pending}, dead {stats.dead}, "
                      f"oldest pending {stats.oldest_pending_seconds:.0f} s")
                return 0
            assert item is not None
            entry = await store.outbox_item(item)
            done = await (store.outbox_requeue(item) if action == "retry" else store.outbox_skip(item))
            if done and action == "skip" and entry is not None:  # a skipped item's large payload is not needed
                from .outbox.store import drop_blob

                await drop_blob(store, entry.payload_ref)
            if not done:
                print(f"stuf-bridge: outbox item {item} is not dead (or does not exist)", file=sys.stderr)
                return 1
            print(f"outbox item {item}: {'pending again' if action == 'retry' else 'skipped'}")
            return 0

    try:
        return asyncio.run(run())
    except StoreError as exc:
        print(f"stuf-bridge: store: {exc}", file=sys.stderr)
        return 1


def recover_command(settings: Settings, action: str, everything: bool, message: tuple[str, str] | None = None) -> int:
    """``stuf-bridge recover list|run|forget``: the unfinished messages in the step journal of the same store as
    ``serve``, and their resolution (docs/recovery.md). ``run`` resolves those whose process is gone (or, with
    ``--all``, every one: only with every gateway on this store stopped); exit status 1 while something is left.
    ``forget ZENDER REFERENTIENUMMER``: an operator repaired by hand what recovery could not; the message's journal
    and pending claim go, so that the client's resend is processed anew."""
    import asyncio
    import contextlib

    import httpx

    from .migration.interrupted import dead_here, interrupted, resolve_interrupted
    from .migration.store import MigrationStore
    from .recovery.service import journal_for, sweep
    from .store import StoreError, create_store
    from .zgw import ZgwClients, ZgwError

    settings = completed(settings)

    async def run() -> int:
        async with create_store(settings.store_url) as store, contextlib.AsyncExitStack() as stack:
            journal = journal_for(store, lease_seconds=settings.recovery.lease_seconds)
            if action == "forget":
                assert message is not None
                return await _forget(store, journal, message, everything)
            if action == "list":
                await journal.purge_done()
                messages = await journal.messages()
                print(f"{'state':10}  {'operation':28}  {'since (UTC)':19}  {'held by':8}  zender / referentienummer")
                for m in messages:
                    holder = "gone" if await journal.is_gone(m.owner) else "live"
                    print(f"{m.state:10}  {m.operation:28}  {m.created_at:%Y-%m-%d %H:%M:%S}  {holder:8}  "
                          f"{m.zender} / {m.referentienummer}")
                    for row in await journal.rows(m.key):
                        print(f"{'':12}{row.seq:>3} {row.state:8} {row.describe()}")
                print(f"{len(messages)} message(s) in the journal")
                names = await interrupted(store)
                for name in names:
                    lock = await MigrationStore(store).lock_owner(name)
                    state = "gone" if lock is None or dead_here(lock) else "held"
                    print(f"copying     zaak {name} (back-fill copy; {state}{f' by {lock}' if lock else ''})")
                print(f"{len(names)} back-fill copy(ies) under way or interrupted")
                return 0
            transport = None
            embedded_base = None
            if settings.zgw_embedded:  # its data directory, in this process, under the URLs serve gives it
                from fastapi import FastAPI

                from .web.app import embedded_backend

                embedded = embedded_backend(settings)
                await stack.enter_async_context(embedded.router.lifespan_context(embedded))
                root = FastAPI()
                root.mount("/zgw", embedded)
                host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
                embedded_base = f"http://{host}:{settings.port}/zgw"
                transport = httpx.ASGITransport(app=root)
            zgw = await stack.enter_async_context(ZgwClients.from_settings(settings, embedded_base, transport))
            tenants = {tenant.name: await stack.enter_async_context(  # a tenant's messages: its own backend
                ZgwClients.from_settings(tenant.settings(settings), None)) for tenant in settings.tenants}
            await journal.register()
            try:
                swept = await sweep(store, zgw, journal, everything=everything,
                                    settle_seconds=settings.recovery.settle_seconds, wait=True, tenants=tenants)
            finally:
                await journal.unregister()
            left = 0
            for item in swept:
                m = item.message
                outcome = item.resolution.summary() if item.resolution else "was al verwerkt; journaal opgeruimd"
                left += bool(item.resolution and item.resolution.outcome == "left")
                print(f"{m.operation} {m.zender} / {m.referentienummer}: {outcome}")
            print(f"{len(swept)} message(s) resolved, {left} with something left")
            # back-fill copies whose process died: undone after their messages (migration/interrupted.py)
            copies = await resolve_interrupted(store, zgw, everything=everything)
            for copy in copies:
                what = {"cleared": f"teruggedraaid (zaak en {copy.documents} document(en) uit ZGW verwijderd)",
                        "nothing": "niets in ZGW; opnieuw te kopiëren",
                        "held": "nog in behandeling bij een lopend proces",
                        "left": f"niet hersteld: {copy.reason}"}[copy.outcome]
                left += copy.outcome == "left"
                print(f"back-fill copy of zaak {copy.identificatie}: {what}")
            if copies:
                print(f"{len(copies)} back-fill copy(ies) looked at")
            return 1 if left else 0

    try:
        return asyncio.run(run())
    except (StoreError, ZgwError) as exc:
        print(f"stuf-bridge: recover: {exc}", file=sys.stderr)
        return 1


async def _forget(store: Store, journal: Journal, key: tuple[str, str], everything: bool) -> int:
    """``recover forget``: drop one message's journal and its pending claim (what it wrote stays as it is in ZGW)."""
    found = await journal.message(key)
    if found is None:
        print(f"stuf-bridge: recover: no message {key[1]!r} of {key[0]!r} in the journal "
              "(see 'stuf-bridge recover list' for the zender as written there)", file=sys.stderr)
        return 1
    if found.state == "completed":  # forgotten, its resend would run the whole message again
        print(f"stuf-bridge: recover: {key[1]!r} is complete in ZGW (its resend is answered Bv03); nothing to forget",
              file=sys.stderr)
        return 1
    if found.state == "active" and not everything and not await journal.is_gone(found.owner):
        print(f"stuf-bridge: recover: {key[1]!r} is held by a running gateway; stop it first or add --all",
              file=sys.stderr)
        return 1
    rows = await journal.rows(key)
    await journal.finish(key)
    await store.release_message(*key)
    print(f"forgotten: {found.operation} {key[0]} / {key[1]} ({found.state}); its writes stay as they are in ZGW:")
    for row in rows:
        print(f"{'':4}{row.seq:>3} {row.state:8} {row.describe()}")
    print("a resend of this message is processed anew")
    return 0


def trace_command(settings: Settings, args: argparse.Namespace) -> int:
    """``trace export``, ``replay`` and ``dry-run`` (``trace/tools.py``)."""
    import asyncio
    import json

    from .store import StoreError
    from .trace import tools

    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))  # stdout is the tool's output
    try:
        if args.command == "trace":
            found = asyncio.run(tools.export(settings, args.referentienummer))
            if not found:
                print(f"stuf-bridge: no trace with referentienummer {args.referentienummer}", file=sys.stderr)
                return 1
            print(json.dumps(found[0] if len(found) == 1 else found, ensure_ascii=False, indent=2))
            return 0
        if args.command == "replay":
            return asyncio.run(tools.replay(settings, args.traces))
        return asyncio.run(tools.dry_run(settings, args.message, args.catalogue))
    except StoreError as exc:
        print(f"stuf-bridge: store: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"stuf-bridge: {exc}", file=sys.stderr)
        return 2


def notifications_command(settings: Settings, action: str) -> int:
    """``stuf-bridge notifications subscribe``: register (or update) the abonnement at the Notificaties API."""
    import asyncio

    from .notifications.subscribe import SubscribeError, subscribe

    assert action == "subscribe"
    try:
        done = asyncio.run(subscribe(settings))
    except SubscribeError as exc:
        print(f"stuf-bridge: notifications subscribe: {exc}", file=sys.stderr)
        return 1
    kanalen = ", ".join(k["naam"] + (f" {k['filters']}" if k["filters"] else "") for k in done.kanalen)
    print(f"abonnement {'aangemaakt' if done.action == 'created' else 'bijgewerkt'}: {done.url}\n"
          f"  callback {done.callback}\n  kanalen {kanalen}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stuf-bridge", description="StUF-ZKN / ZDS → ZGW gateway")
    parser.add_argument("--version", action="version", version=f"stuf-bridge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="start the gateway")
    serve_cmd.add_argument("--host", help="interface to listen on (STUF_BRIDGE_HOST, default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port to listen on (STUF_BRIDGE_PORT, default 8080)")
    serve_cmd.add_argument("--data-dir", type=Path,
                           help="directory of the store (STUF_BRIDGE_DATA_DIR, default ./data)")
    serve_cmd.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")
    serve_cmd.add_argument("--mappings-dir", type=Path, help="a deployment's mapping directory over the defaults")
    serve_cmd.add_argument("--zgw-url", help="base URL of an external ZGW backend (STUF_BRIDGE_ZGW_URL); "
                           "unset: the embedded backend under /zgw")

    commands.add_parser("hash-password", help="an argon2 hash of a password read from stdin, for clients: "
                        "basic.password_hash (never echoed)")

    check_cmd = commands.add_parser("check-config", help="check settings, mappings and the ZGW backend")
    check_cmd.add_argument("--data-dir", type=Path, help="data directory (for the embedded backend)")
    check_cmd.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")
    check_cmd.add_argument("--zgw-url", help="base URL of an external ZGW backend")
    check_cmd.add_argument("--mappings-dir", type=Path, help="a deployment's mapping directory over the defaults")

    zgw_cmd = commands.add_parser("zgw", help="the embedded ZGW backend")
    zgw_commands = zgw_cmd.add_subparsers(dest="zgw_command", required=True)
    seed_cmd = zgw_commands.add_parser("seed", help="load a catalogue YAML into the embedded backend")
    seed_cmd.add_argument("catalogue", type=Path, help="catalogue YAML (top-level key: zaaktypen)")
    seed_cmd.add_argument("--data-dir", type=Path, help="data directory (STUF_BRIDGE_DATA_DIR, default ./data)")
    seed_cmd.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")
    zgw_serve_cmd = zgw_commands.add_parser("serve", help="run the embedded backend alone")
    zgw_serve_cmd.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    zgw_serve_cmd.add_argument("--port", type=int, help=f"port to listen on (default {ZGW_SERVE_PORT}, beside the "
                               "gateway's 8080; STUF_BRIDGE_PORT is the gateway's and is not used here)")
    zgw_serve_cmd.add_argument("--data-dir", type=Path, help="data directory (default ./data)")
    zgw_serve_cmd.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")

    outbox_cmd = commands.add_parser("outbox", help="the outbox of replicate's secondary leg")
    outbox_commands = outbox_cmd.add_subparsers(dest="outbox_command", required=True)
    list_cmd = outbox_commands.add_parser("list", help="items waiting (pending, inflight) and dead")
    list_cmd.add_argument("--dead", action="store_true", help="only the dead items")
    retry_cmd = outbox_commands.add_parser("retry", help="a dead item pending again (attempts from zero)")
    retry_cmd.add_argument("id", type=int)
    skip_cmd = outbox_commands.add_parser("skip", help="give up a dead item: its zaak's later items go on")
    skip_cmd.add_argument("id", type=int)
    for sub in (list_cmd, retry_cmd, skip_cmd):
        sub.add_argument("--data-dir", type=Path, help="directory of the store (STUF_BRIDGE_DATA_DIR, default ./data)")
        sub.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")

    recover_cmd = commands.add_parser("recover", help="messages left half-done: list them, or resolve them")
    recover_commands = recover_cmd.add_subparsers(dest="recover_command", required=True)
    recover_list_cmd = recover_commands.add_parser(
        "list", help="the unfinished messages and their steps, and interrupted back-fill copies")
    recover_run_cmd = recover_commands.add_parser(
        "run", help="resolve the unfinished messages of gone processes, then undo their interrupted back-fill copies")
    recover_run_cmd.add_argument("--all", action="store_true", dest="everything",
                                 help="also messages held by running gateways (stop them first)")
    recover_forget_cmd = recover_commands.add_parser(
        "forget", help="after repairing by hand what recovery left: drop a message's journal and claim, so that "
                       "its resend is processed anew")
    recover_forget_cmd.add_argument("zender", help="the zender as 'recover list' shows it")
    recover_forget_cmd.add_argument("referentienummer")
    recover_forget_cmd.add_argument("--all", action="store_true", dest="everything",
                                    help="also a message held by a running gateway")
    for sub in (recover_list_cmd, recover_run_cmd, recover_forget_cmd):
        sub.add_argument("--data-dir", type=Path, help="directory of the store (STUF_BRIDGE_DATA_DIR, default ./data)")
        sub.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")
        sub.add_argument("--zgw-url", help="base URL of an external ZGW backend (STUF_BRIDGE_ZGW_URL)")
    from .migration.commands import add_parsers as add_migration_parsers  # issue 15: migrate, reconcile, cutover

    add_migration_parsers(commands)
    # --- the message trace (docs/tracing.md) ---
    trace_cmd = commands.add_parser("trace", help="the stored traces of messages")
    trace_commands = trace_cmd.add_subparsers(dest="trace_command", required=True)
    export_cmd = trace_commands.add_parser("export", help="the traces of a referentienummer as JSON on stdout")
    export_cmd.add_argument("referentienummer")
    replay_cmd = commands.add_parser("replay", help="run traced messages again, every outgoing call answered from "
                                     "the trace, and compare (exit 1 on a difference)")
    replay_cmd.add_argument("traces", type=Path, nargs="+", help="trace files (trace export) or folders of them")
    dry_cmd = commands.add_parser("dry-run", help="what a message would do (operation, route, validation, the ZGW "
                                  "calls), against the configured ZGW backend read-only (writes kept back) or a "
                                  "throw-away embedded one")
    dry_cmd.add_argument("message", type=Path, help="the message: a SOAP envelope or a bare StUF message")
    dry_cmd.add_argument("--catalogue", type=Path, help="catalogue YAML for the look-ups, on a throw-away embedded "
                         "backend (default: the configured backend, read-only; without one the demo catalogue)")
    for sub in (export_cmd, replay_cmd, dry_cmd):
        sub.add_argument("--data-dir", type=Path, help="directory of the store (STUF_BRIDGE_DATA_DIR, default ./data)")
        sub.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")
    notifications_cmd = commands.add_parser("notifications", help="ZGW notifications to StUF kennisgevingen")
    notifications_commands = notifications_cmd.add_subparsers(dest="notifications_command", required=True)
    subscribe_cmd = notifications_commands.add_parser(
        "subscribe", help="register or update the abonnement at the Notificaties API (notifications.nrc_url)")
    subscribe_cmd.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")
    subscribe_cmd.add_argument("--data-dir", type=Path, help="data directory (STUF_BRIDGE_DATA_DIR, default ./data)")
    # --- operating flags (docs/operations.md): added to the commands that serve or check, then every subcommand
    # gets its help as description and every flag of a setting names its variable and default ---------------------
    for sub in (serve_cmd, zgw_serve_cmd, check_cmd):
        sub.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, help="log level")
    serve_cmd.add_argument("--workers", type=int, help="gateway processes on one socket; more than one shares the "
                           "store between them (PostgreSQL, or SQLite on one machine)")
    get_cmd = zgw_commands.add_parser("get", help="list a resource of the ZGW backend as JSON (no JWT by hand)")
    get_cmd.add_argument("resource", choices=sorted(ZGW_RESOURCES), help="what to list, e.g. zaken")
    get_cmd.add_argument("--identificatie", help="only the items with this identificatie")
    get_cmd.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE",
                         help="another query parameter of the list call (repeatable), e.g. zaak=<url>")
    get_cmd.add_argument("--limit", type=int, default=20, help="at most this many items (default 20)")
    get_cmd.add_argument("--data-dir", type=Path, help="data directory of the embedded backend (default ./data)")
    get_cmd.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")
    get_cmd.add_argument("--zgw-url", help="base URL of an external ZGW backend; unset: the embedded one")
    describe(parser)

    args = parser.parse_args(argv)
    if args.command == "hash-password":
        import getpass

        from .security.passwords import hash_password

        password = sys.stdin.readline().rstrip("\r\n") if not sys.stdin.isatty() else getpass.getpass()
        if not password:
            print("stuf-bridge: an empty password", file=sys.stderr)
            return 2
        print(hash_password(password))
        return 0
    overrides = {k: getattr(args, k, None) for k in ("host", "port", "data_dir", "zgw_url", "mappings_dir")}
    overrides.update({k: getattr(args, k, None) for k in ("log_level", "workers")})
    if args.command == "zgw" and args.zgw_command == "serve" and args.port is None:
        overrides["port"] = ZGW_SERVE_PORT
    try:
        settings = load_settings(args.config, **overrides)
    except (FileNotFoundError, ValueError) as exc:
        print(f"stuf-bridge: invalid configuration: {one_line(exc)}", file=sys.stderr)
        return Exit.CONFIGURATION
    configure_logging(settings)
    for name in unknown_variables(os.environ):
        log.warning("unknown_variable", variable=name, reason="no setting reads it: it is ignored (a typo?)")
    try:
        return run_command(args, settings)
    except StartupError as exc:
        print(f"stuf-bridge: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:  # Ctrl-C before the server took over the signals
        print("stuf-bridge: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED


def describe(parser: argparse.ArgumentParser) -> None:
    """Every subcommand (also those added later) gets its help line as description; every flag that sets a setting
    says its environment variable and default, so that ``--help`` is the reference for both."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                text = helps.get(name, "")
                if not sub.description and text:
                    sub.description = f"{text[0].upper()}{text[1:]}."
                describe(sub)
        elif action.dest in Settings.model_fields and action.help and "STUF_BRIDGE_" not in action.help:
            variable = f"STUF_BRIDGE_{action.dest.upper()}"
            default = Settings.model_fields[action.dest].default
            if "(default " in action.help:
                action.help = action.help.replace("(default ", f"({variable}, default ", 1)
                continue
            shown = f", default {default}" if default is not None and not isinstance(default, (dict, list)) else ""
            action.help = f"{action.help} ({variable}{shown})"


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """The chosen subcommand with its settings; its exit code."""
    if args.command == "serve":
        return serve(settings)
    if args.command == "check-config":
        from .checks import check_config

        return check_config(with_demo_profile(settings))
    if args.command == "notifications":
        return notifications_command(settings, args.notifications_command)
    if args.command == "outbox":
        return outbox_command(settings, args.outbox_command, getattr(args, "id", None), getattr(args, "dead", False))
    if args.command == "recover":
        forget = (args.zender, args.referentienummer) if args.recover_command == "forget" else None
        return recover_command(settings, args.recover_command, getattr(args, "everything", False), forget)
    if args.command in ("migrate", "reconcile", "cutover"):
        from .migration.commands import run as run_migration_command

        return run_migration_command(settings, args)
    if args.command in ("trace", "replay", "dry-run"):
        return trace_command(settings, args)
    if args.zgw_command == "seed":
        return seed_zgw(settings, args.catalogue)
    if args.zgw_command == "get":
        filters = args.filter + ([f"identificatie={args.identificatie}"] if args.identificatie else [])
        return zgw_get(settings, args.resource, filters, args.limit)
    return serve_zgw(settings)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
