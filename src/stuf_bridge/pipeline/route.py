"""Stage *route*: where a message goes. ``translate`` (to the ZGW APIs: what the gateway does today), and — with the
side-by-side issue — ``proxy`` (to the legacy zaaksysteem, unchanged) and ``replicate`` (to both, through the outbox).

The decision is made once the operation and the message's :class:`~stuf_bridge.stuf.subject.Subject` (its zaak,
zaaktype, documents) are known, before validation and before any flow runs, and is kept on the exchange so that
the record stage logs it (rule, mode, primary, how the zaaktype was found). A routing table (rules per operation,
zaaktype and zender; a zaak registry that pins a zaak to its route) plugs in here as the ``router``; without one
every message is translated.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from ..stuf.registry import Operation
from ..stuf.stuurgegevens import Stuurgegevens
from ..stuf.subject import Subject, read_subject
from .exchange import Exchange, Next


class Mode(enum.StrEnum):
    TRANSLATE = "translate"
    PROXY = "proxy"
    REPLICATE = "replicate"


@dataclass(frozen=True)
class Route:
    mode: Mode
    primary: str = "zgw"  # zgw | legacy: whose answer the client gets
    rule: str = "default"  # which rule decided (for the log and the trace)
    zaaktype: str | None = None
    zaaktype_source: str | None = None  # message | registry | zgw | legacy: how the zaaktype was found
    # A replicate's secondary leg, translated by the outbox worker: its idempotency record is its own (the record of
    # the primary's processing of the same referentienummer is already done and must not answer it).
    replica: bool = False

    def log_fields(self) -> dict[str, str | None]:
        return {"mode": self.mode.value, "primary": self.primary, "rule": self.rule, "zaaktype": self.zaaktype,
                "zaaktype_source": self.zaaktype_source}


class Router(Protocol):
    async def route(self, operation: Operation, stuurgegevens: Stuurgegevens, subject: Subject) -> Route: ...


class TranslateAll:
    """The router without a routing table: every message goes to ZGW."""

    async def route(self, operation: Operation, stuurgegevens: Stuurgegevens, subject: Subject) -> Route:
        source = "message" if subject.zaaktype else None
        return Route(Mode.TRANSLATE, zaaktype=subject.zaaktype, zaaktype_source=source)


class RouteStage:
    """Decides the route before the stages behind it run. A router may also have ``async handled(x: Exchange)``:
    it is called once they are done without a fault (an error raised behind this stage passes by it), so that the
    router can learn from the message (the routing table pins a created zaak to its route)."""

    name = "route"

    def __init__(self, router: Router | None = None):
        self.router: Router = router or TranslateAll()

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        assert x.request is not None and x.operation is not None and x.stuurgegevens is not None
        x.subject = read_subject(x.request.body)
        router = x.env.router if x.env.router is not None else self.router  # a tenant's own, else the gateway's
        x.route = await router.route(x.operation, x.stuurgegevens, x.subject)
        await call_next(x)
        handled = getattr(router, "handled", None)
        if handled is not None and x.fault is None:
            await handled(x)
