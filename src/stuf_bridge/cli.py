"""The ``stuf-bridge`` command."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from pathlib import Path

import structlog
import uvicorn

from . import __version__
from .settings import Settings, load_settings, with_demo_profile

log = structlog.get_logger("stuf_bridge")


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
        # The stream is looked up per logger, not bound once: sys.stderr may be replaced (tests, embedding).
        logger_factory=lambda *args: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, logging one line with the address once the socket listens."""

    def __init__(self, config: uvicorn.Config, settings: Settings, what: dict[str, str]):
        super().__init__(config)
        self.settings = settings
        self.what = what

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super().startup(sockets)
        if self.started and self.servers:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            url = f"http://{shown}:{port}"
            log.info("listening", url=url, **{k: v.format(url=url) for k, v in self.what.items()},
                     data_dir=str(self.settings.data_dir.resolve()))


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


def _run(app: object, settings: Settings, sock: socket.socket, what: dict[str, str]) -> None:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_keep_alive=int(settings.keep_alive_seconds),
    )
    _Server(config, settings, what).run(sockets=[sock])


def completed(settings: Settings) -> Settings:
    """The settings a start runs with: the demo profile applied where it applies (embedded backend, no default_rsin
    configured), said in one log line so that nobody takes the demo RSIN for a configured one."""
    result = with_demo_profile(settings)
    if result is not settings:
        log.info("demo_profile", default_rsin=result.default_rsin,
                 reason="embedded backend without default_rsin: the demo profile applies; set default_rsin to choose")
    return result


def serve(settings: Settings) -> None:
    from .web.app import create_app

    configure_logging(settings)
    settings = completed(settings)
    sock = _bind(settings.host, settings.port)
    embedded_base = f"{_loopback_url(sock)}/zgw" if settings.zgw_embedded else None
    what = {
        "zds": "{url}/zds/{{BeantwoordVraag,OntvangAsynchroon,VrijeBerichten}}",
        "zgw": "{url}/zgw (embedded)" if settings.zgw_embedded else settings.zgw_url or "per-API URLs",
        "store": "postgresql" if settings.database_url else "sqlite",
    }
    try:
        app = create_app(settings, embedded_base=embedded_base)
    except BaseException:  # a broken mapping file stops the start: the socket is not left behind
        sock.close()
        raise
    _run(app, settings, sock, what)


def serve_zgw(settings: Settings) -> None:
    """The embedded ZGW backend alone, at the root of its own server."""
    from .web.app import embedded_backend

    configure_logging(settings)
    what = {"zgw": "{url}/{{zaken,documenten,catalogi,besluiten}}/api/v1", "client_id": settings.zgw_client_id}
    _run(embedded_backend(settings), settings, _bind(settings.host, settings.port), what)


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


def outbox_command(settings: Settings, action: str, item: int | None, dead: bool) -> int:
    """``stuf-bridge outbox list|retry|skip``: the same store as ``serve`` (settings from environment, file, flags)."""
    import asyncio

    from .store import StoreError, create_store

    async def run() -> int:
        async with create_store(settings.store_url) as store:
            if action == "list":
                statuses = ("dead",) if dead else ("pending", "inflight", "dead")
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
            done = await (store.outbox_requeue(item) if action == "retry" else store.outbox_skip(item))
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
    zgw_serve_cmd.add_argument("--port", type=int, help="port to listen on (default 8080)")
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

    notifications_cmd = commands.add_parser("notifications", help="ZGW notifications to StUF kennisgevingen")
    notifications_commands = notifications_cmd.add_subparsers(dest="notifications_command", required=True)
    subscribe_cmd = notifications_commands.add_parser(
        "subscribe", help="register or update the abonnement at the Notificaties API (notifications.nrc_url)")
    subscribe_cmd.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")
    subscribe_cmd.add_argument("--data-dir", type=Path, help="data directory (STUF_BRIDGE_DATA_DIR, default ./data)")

    args = parser.parse_args(argv)
    overrides = {k: getattr(args, k, None) for k in ("host", "port", "data_dir", "zgw_url", "mappings_dir")}
    try:
        settings = load_settings(args.config, **overrides)
    except (FileNotFoundError, ValueError) as exc:
        print(f"stuf-bridge: invalid configuration: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        from .mapping import MappingError

        try:
            serve(settings)
        except MappingError as exc:  # a broken mapping file stops the start, saying where
            print(f"stuf-bridge: mapping files: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "check-config":
        from .checks import check_config

        return check_config(with_demo_profile(settings))
    if args.command == "notifications":
        return notifications_command(settings, args.notifications_command)
    if args.command == "outbox":
        return outbox_command(settings, args.outbox_command, getattr(args, "id", None), getattr(args, "dead", False))
    if args.zgw_command == "seed":
        return seed_zgw(settings, args.catalogue)
    serve_zgw(settings)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
