"""The ``stuf-bridge`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import structlog
import uvicorn

from . import __version__
from .settings import Settings, load_settings

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
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, logging one line with the address once the socket listens."""

    def __init__(self, config: uvicorn.Config, settings: Settings):
        super().__init__(config)
        self.settings = settings

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super().startup(sockets)
        if self.started and self.servers:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            log.info(
                "listening",
                url=f"http://{shown}:{port}",
                zds=f"http://{shown}:{port}/zds/{{BeantwoordVraag,OntvangAsynchroon,VrijeBerichten}}",
                data_dir=str(self.settings.data_dir.resolve()),
                store="postgresql" if self.settings.database_url else "sqlite",
            )


def serve(settings: Settings) -> None:
    from .web.app import create_app

    configure_logging(settings)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,
        lifespan="on",
    )
    _Server(config, settings).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stuf-bridge", description="StUF-ZKN / ZDS → ZGW gateway")
    parser.add_argument("--version", action="version", version=f"stuf-bridge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="start the gateway")
    serve_cmd.add_argument("--host", help="interface to listen on (STUF_BRIDGE_HOST, default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port to listen on (STUF_BRIDGE_PORT, default 8080)")
    serve_cmd.add_argument("--data-dir", type=Path, help="directory of the store (STUF_BRIDGE_DATA_DIR, default ./data)")
    serve_cmd.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")

    args = parser.parse_args(argv)
    if args.command == "serve":
        try:
            settings = load_settings(args.config, host=args.host, port=args.port, data_dir=args.data_dir)
        except (FileNotFoundError, ValueError) as exc:
            print(f"stuf-bridge: invalid configuration: {exc}", file=sys.stderr)
            return 2
        serve(settings)
        return 0
    return 1  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
