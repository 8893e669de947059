"""The message on its way: one :class:`Exchange` per request, filled in stage by stage, and the :class:`Reply` it
ends as.

A stage reads what earlier stages found (the operation, the stuurgegevens, the route) from the exchange and adds
what it finds; the record stage writes the whole exchange to the log (and, later, the trace). Nothing else is
passed between stages.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Protocol

from lxml import etree

from .. import correlation
from ..soap.envelope import SoapRequest, SoapVersion
from ..stuf.registry import Operation, Service
from ..stuf.stuurgegevens import AnswerParties, Stuurgegevens, Systeem

if TYPE_CHECKING:
    from ..errors import Fault
    from ..mapping import Mappings
    from ..operations import MessageContext
    from ..security.authenticate import Client
    from ..security.peer import Peer
    from ..settings import Settings
    from ..store import OutboxItem, Store
    from ..stuf.subject import Subject
    from ..trace import MessageTrace
    from ..zgw import ZgwCall, ZgwClients
    from .handle import ModeHandler
    from .route import Mode, Route, Router


@dataclass
class Reply:
    """An answer. With ``stream`` set (an answer carrying documents) the body is that iterator, not ``body``; its
    length is ``length`` when every document's size is known."""

    status: int
    content_type: str
    body: bytes
    operation: str = "unknown"
    dialect: str = "unknown"
    outcome: str = "ok"  # ok | fault | legacy-fault (a proxied answer that is the legacy's StUF fault)
    fault_code: str | None = None
    fault_plek: str | None = None  # client or server: the message's log level follows it (record stage)
    fault_reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    zgw_calls: list[ZgwCall] = field(default_factory=list)
    soap: str = "1.1"
    zender: str | None = None
    referentienummer: str | None = None
    replayed: bool = False  # the stored answer to an earlier copy of this message (idempotency)
    correlation_id: str | None = None  # X-Request-ID: the message's id in the logs and in the calls made for it
    stream: AsyncIterator[bytes] | None = field(default=None, repr=False)
    length: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # more HTTP headers (a proxied answer's Content-Encoding)


class RawBody:
    """The request's bytes exactly as they came, kept beside the parse for a mode that sends them on unchanged
    (proxy): in memory up to ``memory`` bytes, then in a temporary file. Closed when the message is done."""

    def __init__(self, memory: int = 1 << 20):
        self.spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=memory)  # noqa: SIM115 (closed by close())
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.spool.write(chunk)
        self.size += len(chunk)

    def rewound(self) -> IO[bytes]:
        """The spool, at its start: read it to send the bytes on."""
        self.spool.flush()
        self.spool.seek(0)
        return self.spool

    def close(self) -> None:
        self.spool.close()


@dataclass
class Environment:
    """What every message's stages share: the gateway's settings, store and backends, and its own StUF identity."""

    settings: Settings
    store: Store
    zgw: ZgwClients | None
    mappings: Mappings | None
    identity: Systeem
    tenant: str | None = None  # the tenant whose backend these are (security/tenants.py); None: the gateway's own
    # a tenant's own router and proxy/replicate handlers (its routing table, zaak registry and legacy side); None:
    # the gateway's (the route and handle stages' own)
    router: Router | None = None
    modes: Mapping[Mode, ModeHandler] | None = None


@dataclass
class Exchange:
    """One message between its arrival and its answer."""

    env: Environment
    service: Service | None  # the endpoint it was posted to (None: the catch-all ``/zds``)
    body: AsyncIterable[bytes]
    content_type: str | None
    soap_action: str | None
    version: SoapVersion  # from the Content-Type until the envelope says
    fault_kind: str  # Fo02 | Fo03: from the endpoint until the operation is known
    warnings: list[str] = field(default_factory=list)
    correlation_id: str = field(default_factory=correlation.new_id)  # in its log lines, calls and answer header
    peer: Peer | None = None  # who the transport says sent it (address, Authorization, client certificate)
    # filled in by the stages, in this order
    client: Client | None = None  # authenticate / authenticate-token: the configured client it authenticated as
    authenticating: bool = False  # authenticate: clients are configured, so the token stage must settle who it is
    raw: RawBody | None = None  # read, when a legacy side is configured: the bytes as they came
    request: SoapRequest | None = None  # read
    operation: Operation | None = None  # read
    stuurgegevens: Stuurgegevens | None = None  # read (checked by check)
    subject: Subject | None = None  # route
    route: Route | None = None  # route
    answer: etree._Element | None = None  # claim (a stored answer) or handle
    replayed: bool = False  # claim
    fault: Fault | None = None  # answer, when anything failed
    reply: Reply | None = None  # answer
    outbox: list[OutboxItem] = field(default_factory=list)  # handle (replicate): written by claim with the answer
    trace: MessageTrace | None = None  # record: the calls, compensations and notes collected for the trace
    _context: MessageContext | None = field(default=None, repr=False)

    @property
    def context(self) -> MessageContext:
        """The flow context of the operation (built once, when first asked for: by claim for a replayed answer's
        documents, else by handle)."""
        if self._context is None:
            from ..operations import MessageContext

            assert self.request is not None and self.operation is not None and self.stuurgegevens is not None
            env = self.env
            self._context = MessageContext(
                operation=self.operation,
                message=self.request.body,
                stuurgegevens=self.stuurgegevens,
                parties=AnswerParties.for_request(self.stuurgegevens, env.identity),
                settings=env.settings,
                store=env.store,
                zgw=env.zgw,
                mappings=env.mappings,
                warnings=self.warnings,
                contents=self.request.contents,
                tenant=env.tenant,
            )
        return self._context

    @property
    def has_context(self) -> bool:
        return self._context is not None


Next = Callable[[Exchange], Awaitable[None]]


class Stage(Protocol):
    """One step of the pipeline. It may act before and after the stages behind it (``call_next``), or answer
    without calling them (a stored answer, a fault)."""

    name: str

    async def __call__(self, x: Exchange, call_next: Next) -> None: ...
