"""A stuf-bridge gateway that proxies every message to its legacy side, as a process of its own (``python -m
tests.support.legacy_gateway --port 0 --data-dir DIR``, settings from the environment as for ``stuf-bridge serve``).

Until a routing table decides per operation and zaaktype, this stands in for "a gateway with proxy routes": the
real app (``web/app.py``) with a router that sends everything to legacy. Tests and benches run it with
``running_proxy`` (``tests/support/legacy.py``), so its memory is its own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stuf_bridge.cli import _bind, _loopback_url, _run, configure_logging
from stuf_bridge.pipeline.route import Mode, Route
from stuf_bridge.settings import load_settings
from stuf_bridge.stuf.registry import Operation
from stuf_bridge.stuf.stuurgegevens import Stuurgegevens
from stuf_bridge.stuf.subject import Subject
from stuf_bridge.web.app import create_app


class ProxyAll:
    """A router that sends every message to the legacy zaaksysteem."""

    async def route(self, operation: Operation, stuurgegevens: Stuurgegevens, subject: Subject) -> Route:
        return Route(Mode.PROXY, primary="legacy", rule="proxy-all", zaaktype=subject.zaaktype,
                     zaaktype_source="message" if subject.zaaktype else None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    settings = load_settings(None, host=args.host, port=args.port, data_dir=args.data_dir)
    configure_logging(settings)
    sock = _bind(settings.host, settings.port)
    embedded_base = f"{_loopback_url(sock)}/zgw" if settings.zgw_embedded else None
    app = create_app(settings, embedded_base=embedded_base, router=ProxyAll())
    legacy = " ".join(settings.legacy.endpoints.values())  # no braces: the values are format strings
    _run(app, settings, sock, {"zds": "{url}/zds", "legacy": legacy, "route": "proxy everything"})


if __name__ == "__main__":
    main()
