"""One small flow per ZDS operation, keyed by the registry's dialect-free function name.

A handler takes the ``MessageContext`` and returns the answer's StUF element (Du02, La01), or None for a plain
acknowledgement (Bv02/Bv03), which the gateway then writes itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from ..content import Content, Outbound
from ..stuf.namespaces import Dialect
from ..stuf.registry import Operation
from ..stuf.stuurgegevens import AnswerParties, Stuurgegevens

if TYPE_CHECKING:
    from ..mapping import Mappings
    from ..settings import Settings
    from ..store import Store
    from ..zgw import ZgwClients


@dataclass
class MessageContext:
    operation: Operation
    message: etree._Element
    stuurgegevens: Stuurgegevens
    parties: AnswerParties
    settings: Settings
    store: Store
    zgw: ZgwClients | None = None  # None only where no ZGW backend is configured (unit tests)
    mappings: Mappings | None = None
    warnings: list[str] = field(default_factory=list)
    contents: list[Content] = field(default_factory=list)  # documents in the request, spooled (content.py)
    outbound: list[Outbound] = field(default_factory=list)  # documents the answer carries, written by the gateway

    @property
    def dialect(self) -> Dialect:
        return self.operation.dialect

    def content(self, element: etree._Element) -> Content | None:
        """The document bytes of an ``inhoud`` element: spooled while the request was parsed, or decoded now from
        the element's base64 text. None when the element carries no content."""
        for content in self.contents:
            if content.element is element:
                return content
        if not (element.text or "").strip():
            return None
        content = Content.from_base64(
            element.text or "",
            max_bytes=self.settings.max_document_bytes,
            content_type=_attribute(element, "contentType"),
            bestandsnaam=_attribute(element, "bestandsnaam"),
        )
        content.element = element
        self.contents.append(content)
        return content

    def stream_out(self, element: etree._Element, source: Callable[[], AsyncIterator[bytes]],
                   size: int | None = None, *, replay: str | None = None) -> None:
        """Have the gateway write the bytes ``source()`` yields into ``element`` as base64 (after the handler).
        ``replay``: the ZGW download URL of exactly these bytes, so that the answer to a resend (idempotency) can
        carry them again."""
        self.outbound.append(Outbound(element, source, size, replay))


def _attribute(element: etree._Element, localname: str) -> str | None:
    for name, value in element.attrib.items():
        if etree.QName(name).localname == localname:
            return value
    return None


Handler = Callable[[MessageContext], Awaitable[etree._Element | None]]


def default_handlers() -> dict[str, Handler]:
    from . import (
        acknowledgements,
        besluiten,
        documenten,
        identifiers,
        zaak_update,
        zaakdetails,
        zaakstatus,
        zaken,
    )

    modules = (identifiers, acknowledgements, zaken, zaak_update, zaakstatus, zaakdetails, documenten, besluiten)
    handlers: dict[str, Handler] = {}
    for module in modules:
        overlap = handlers.keys() & module.HANDLERS.keys()
        if overlap:
            raise ValueError(f"{module.__name__} registers {sorted(overlap)} a second time")
        handlers.update(module.HANDLERS)
    return handlers
