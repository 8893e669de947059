"""The flow context (``MessageContext``) and the registration of flows (``@handler``); the package re-exports both
(see its docstring).
"""


from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeVar

from lxml import etree

from ..content import Content, Outbound
from ..errors import NotSupported
from ..mapping import MappedObject, MappingContext, UnknownOrganisation
from ..stuf.namespaces import Dialect
from ..stuf.registry import Operation
from ..stuf.stuurgegevens import AnswerParties, Stuurgegevens, Systeem
from .compensation import UndoLog

if TYPE_CHECKING:
    from ..mapping import Mappings
    from ..settings import Settings
    from ..store import Store
    from ..zgw import ZgwClients

M = TypeVar("M", bound=MappedObject)


class Backend(NamedTuple):
    """What a flow translates with: the ZGW clients (``zgw.catalogue`` for the catalogue) and the mappings."""

    zgw: ZgwClients
    mappings: Mappings


@dataclass
class MessageContext:
    """The one context of a flow, built by the gateway per message.

    ``zgw`` and ``mappings`` are what the gateway has, None where no ZGW backend is configured; flows use them
    through ``backend``, which is typed and says so when there is none. The derived values (``backend``, ``rsin``,
    ``undo``) are computed on first use and kept for the message."""

    operation: Operation
    message: etree._Element
    stuurgegevens: Stuurgegevens
    parties: AnswerParties
    settings: Settings
    store: Store
    zgw: ZgwClients | None = None
    mappings: Mappings | None = None
    warnings: list[str] = field(default_factory=list)
    contents: list[Content] = field(default_factory=list)  # documents in the request, spooled (content.py)
    outbound: list[Outbound] = field(default_factory=list)  # documents the answer carries, written by the gateway
    tenant: str | None = None  # the tenant the message belongs to (security/tenants.py): its own sequences

    @property
    def dialect(self) -> Dialect:
        return self.operation.dialect

    @property
    def zender(self) -> Systeem | None:
        """The sender of the message (stuurgegevens/zender)."""
        return self.stuurgegevens.zender

    @cached_property
    def backend(self) -> Backend:
        """The ZGW clients and the mappings; without a ZGW backend configured a fault, StUF040 ``no-zgw-backend``
        (plek server), as for an operation the gateway does not carry out. A flow registered with ``@handler(...)``
        meets that fault before it runs (``backend=False`` for flows that need no backend)."""
        if self.zgw is None or self.mappings is None:
            raise NotSupported(
                f"{self.operation.name} wordt zonder ZGW-backend niet ondersteund",
                f"stuf-bridge herkent {self.operation.name} (ZDS {self.dialect.value}), maar er is geen ZGW-backend "
                "geconfigureerd om het bericht te verwerken.",
                reason="no-zgw-backend",
            )
        return Backend(self.zgw, self.mappings)

    # --- the sender's organisation and the mapping context --------------------------------------------------

    @cached_property
    def rsin(self) -> str:
        """The RSIN of the sender's gemeentecode (organisaties), else the default RSIN; else ``UnknownOrganisation``,
        a ``StuurgegevensError`` StUF013 (plek client), which the gateway answers as such."""
        organisatie = self.zender.organisatie if self.zender else None
        return self.backend.mappings.rsin_for(organisatie, self.settings.default_rsin)

    @property
    def rsin_or_none(self) -> str | None:
        """For questions, where the RSIN only chooses between equal identificaties: an unmapped sender may ask."""
        try:
            return self.rsin
        except UnknownOrganisation:
            return None

    def mapping_context(
        self,
        mode: Literal["create", "update"] = "create",
        *,
        rsin: str | None = None,
        zaaktype: str | None = None,
    ) -> MappingContext:
        """What the mappings may know of this message: dialect, sender, ``mode``, and the ``rsin`` (give it where the
        mapping writes bronorganisatie/verantwoordelijkeOrganisatie) and ``zaaktype`` (per-zaaktype profiles)."""
        zender = self.zender
        return MappingContext(
            dialect=self.dialect,
            mode=mode,
            rsin=rsin,
            gemeentecode=zender.organisatie if zender else None,
            applicatie=zender.applicatie if zender else None,
            gebruiker=zender.gebruiker if zender else None,
            zaaktype=zaaktype,
        )

    def mapped(self, mapped: M) -> M:
        """A mapping result, its warnings added to the answer's."""
        self.warnings.extend(mapped.warnings)
        return mapped

    # --- compensation ---------------------------------------------------------------------------------------

    @cached_property
    def undo(self) -> UndoLog:
        """The flow's compensation log (compensation.py): its writes go inside ``async with ctx.undo:``, each a
        named step, so that a failure undoes what the message wrote before the fault is answered."""
        return UndoLog()

    # --- documents in and out -------------------------------------------------------------------------------

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
            return str(value)
    return None


# --- registration -------------------------------------------------------------------------------------------

Handler = Callable[[MessageContext], Awaitable[etree._Element | None]]
H = TypeVar("H", bound=Handler)

_HANDLERS: dict[str, Handler] = {}


def handler(*functions: str, backend: bool = True) -> Callable[[H], H]:
    """Register the decorated flow as the handler of these registry functions; the flow itself is returned as it
    is. ``backend``: the flow needs the ZGW backend; without one configured the message is answered StUF040
    (``no-zgw-backend``) before the flow runs. A function registered twice is an error at import."""

    def register(flow: H) -> H:
        taken = sorted(_HANDLERS.keys() & set(functions))
        if taken:
            raise ValueError(f"{flow.__module__}.{flow.__name__}: {', '.join(taken)} has a handler already")
        registered = _needs_backend(flow) if backend else flow
        _HANDLERS.update(dict.fromkeys(functions, registered))
        return flow

    return register


def _needs_backend(flow: Handler) -> Handler:
    @functools.wraps(flow)
    async def run(ctx: MessageContext) -> etree._Element | None:
        ctx.backend  # noqa: B018 - without a backend: the fault, before the flow reads anything
        return await flow(ctx)

    return run


def default_handlers() -> dict[str, Handler]:
    """Every registered flow by registry function: importing the package's modules registers them."""
    package = importlib.import_module(__package__ or "stuf_bridge.operations")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return dict(_HANDLERS)
