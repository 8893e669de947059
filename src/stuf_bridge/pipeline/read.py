"""Stage *read*: the SOAP envelope (whole or streaming, documents spooled as they arrive), which ZDS operation the
message is (``stuf.dispatch``) and its stuurgegevens. Every parse rule lives in ``soap/``; this stage only puts them
in order and closes the spooled documents when the message is done.

When a legacy side is configured (``settings.legacy``), the raw bytes are also teed into ``x.raw`` as they are
parsed, for the proxy mode to send on unchanged: the route is known only once the message is read (the zaak of a
voegZaakdocumentToe stands after its document), so the bytes must be kept until then — on disk beyond 1 MiB, never
whole in memory. Without a legacy side nothing is kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from ..errors import MessageError
from ..soap.envelope import read_request_stream
from ..soap.headers import soap_media_type
from ..soap.streaming import STREAM_ABOVE
from ..stuf.dispatch import resolve
from ..stuf.registry import REGISTRY, Registry
from ..stuf.stuurgegevens import read_stuurgegevens
from ..security.tenants import keeps_raw
from .exchange import Environment, Exchange, Next, RawBody


class Read:
    name = "read"
    stream_above = STREAM_ABOVE  # request bodies above this size are parsed streaming (tests lower it)

    def __init__(self, env: Environment, registry: Registry = REGISTRY):
        self.env = env
        self.registry = registry

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        settings = self.env.settings
        if not soap_media_type(x.content_type):  # JSON, a form, an image: not a SOAP client, nothing is read
            raise MessageError(
                "Het bericht is geen SOAP-bericht (Content-Type)",
                f"Content-Type {(x.content_type or '')[:80]!r} wordt niet ondersteund; verwacht text/xml (SOAP 1.1), "
                "application/soap+xml (SOAP 1.2) of multipart/related (MTOM).",
                reason="content-type-unsupported",
            )
        body = x.body
        if keeps_raw(settings):  # the gateway or a tenant has a legacy side
            x.raw = RawBody()
            body = _tee(body, x.raw)
        try:
            x.request = await read_request_stream(
                body,
                content_type=x.content_type,
                soap_action=x.soap_action,
                max_bytes=settings.max_message_bytes,
                max_depth=settings.max_xml_depth,
                max_document_bytes=settings.max_document_bytes,
                stream_above=self.stream_above,
            )
            x.version = x.request.version
            x.operation = resolve(self.registry, x.request.body, x.request.action)
            x.fault_kind = x.operation.fault_kind
            x.stuurgegevens = read_stuurgegevens(x.request.body)
            await call_next(x)
        finally:
            for content in x.request.contents if x.request is not None else ():  # the flow context adds to this list
                content.close()
            if x.raw is not None:
                x.raw.close()


async def _tee(chunks: AsyncIterable[bytes], raw: RawBody) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        raw.write(chunk)
        yield chunk
