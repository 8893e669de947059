"""One small flow per ZDS operation, keyed by the registry's dialect-free function name.

A handler takes the ``MessageContext`` and returns the answer's StUF element (Du02, La01), or None for a plain
acknowledgement (Bv02/Bv03), which the gateway then writes itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

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

    @property
    def dialect(self) -> Dialect:
        return self.operation.dialect


Handler = Callable[[MessageContext], Awaitable[etree._Element | None]]


def default_handlers() -> dict[str, Handler]:
    from . import acknowledgements, identifiers, zaak_update, zaakdetails, zaakstatus, zaken

    modules = (identifiers, acknowledgements, zaken, zaak_update, zaakstatus, zaakdetails)
    handlers: dict[str, Handler] = {}
    for module in modules:
        overlap = handlers.keys() & module.HANDLERS.keys()
        if overlap:
            raise ValueError(f"{module.__name__} registers {sorted(overlap)} a second time")
        handlers.update(module.HANDLERS)
    return handlers
