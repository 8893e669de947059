"""An app whose document operations are replaced by recording test handlers, over ASGI or real HTTP (uvicorn)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from lxml import etree

from stuf_bridge.content import Content
from stuf_bridge.gateway import Gateway
from stuf_bridge.operations import MessageContext
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import ZKN
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.web.app import create_app

NS = {"ZKN": ZKN}


@dataclass
class Seen:
    """What the recording handler saw of each message's documents."""

    calls: int = 0
    documents: list[dict[str, Any]] = field(default_factory=list)
    trees: list[bytes] = field(default_factory=list)


async def read_document(content: Content) -> tuple[int, str]:
    import hashlib

    digest, size = hashlib.sha256(), 0
    async for chunk in content.chunks():
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def recording_handler(seen: Seen) -> Callable[[MessageContext], Any]:
    async def handler(ctx: MessageContext) -> None:
        seen.calls += 1
        seen.trees.append(etree.tostring(ctx.message, method="c14n"))
        for element in ctx.message.iterfind(".//ZKN:inhoud", NS):
            content = ctx.content(element)
            assert content is not None
            size, sha = await read_document(content)
            seen.documents.append({"size": size, "sha256": sha, "content_sha256": content.sha256,
                                   "bestandsnaam": content.bestandsnaam, "content_type": content.content_type,
                                   "streamed": element.text is None})

    return handler


def install(gateway: Gateway, handlers: dict[str, Any]) -> None:
    gateway.handlers = {**gateway.handlers, **handlers}


@pytest_asyncio.fixture
async def asgi_app(schemas: Schemas, make_settings: Callable[..., Settings]) -> AsyncIterator[Callable[..., Any]]:
    """``make(handlers, **settings)`` → (httpx client over ASGI, gateway)."""
    stack: list[Any] = []

    async def make(handlers: dict[str, Any], **overrides: Any) -> tuple[httpx.AsyncClient, Gateway]:
        app = create_app(make_settings(**overrides), schemas=schemas)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
        stack.append((lifespan, client))
        install(app.state.gateway, handlers)
        return client, app.state.gateway

    yield make
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
def live_app(schemas: Schemas, make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Any]]:
    """``make(handlers, **settings)`` → (base URL, gateway): the app served by uvicorn in a thread, real HTTP."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def make(handlers: dict[str, Any], **overrides: Any) -> tuple[str, Gateway]:
        app = create_app(make_settings(**overrides), schemas=schemas)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
        thread.start()
        servers.append((server, thread))
        for _ in range(300):
            if server.started:
                break
            threading.Event().wait(0.02)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        install(app.state.gateway, handlers)
        return f"http://127.0.0.1:{port}", app.state.gateway

    yield make
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)
