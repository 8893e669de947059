"""The way one message travels, as a short list of named stages (``pipeline/``):

    record → answer → authenticate → read → authenticate-token → check → tenant → route → authorise → validate
    → claim → handle

Each stage is one module with one job and may act before and after the stages behind it (``call_next``), as
httpx's ``send`` → ``_send_handling_auth`` → ``_send_handling_redirects`` → ``_send_single_request`` does:

* **record** (``pipeline/record.py``) wraps everything: the log line, the metrics, the ZGW calls made; later the trace;
* **answer** (``pipeline/answer.py``) turns the outcome into the HTTP answer: the answer envelope (documents streamed
  into it) or, for any error, the StUF fault — the one place where an exception becomes a fault;
* **authenticate**, **authenticate-token** (``pipeline/authenticate.py``) find the configured client that sent the
  message (HTTP Basic, client certificate, source address before the body is read; the WS-Security UsernameToken
  once the envelope is); without clients configured they let everything pass;
* **read** (``pipeline/read.py``) parses the envelope (documents spooled), finds the operation
  (``stuf/dispatch.py``) and reads the stuurgegevens;
* **check** (``pipeline/check.py``) refuses stuurgegevens the gateway cannot act on;
* **tenant** (``security/tenants.py``) with ``tenants:`` configured, continues the message in its municipality's
  environment (its ZGW clients and settings; its router and legacy side, ``routing/tenants.py``), chosen by the
  client or the zender organisatie;
* **route** (``pipeline/route.py``) decides where the message goes (translate; proxy and replicate plug in here), from
  the operation, the sender and what the message is about (``stuf/subject.py``: zaak, zaaktype, documents);
* **authorise** (``pipeline/authorise.py``) checks the client's zenders, operations and zaaktypen (StUF052; reads
  are scoped: La01 without antwoord);
* **validate** (``pipeline/validate.py``) checks the schema under the sender's policy;
* **claim** (``pipeline/claim.py``) makes sure nothing is done twice (stored answers for resends);
* **handle** (``pipeline/handle.py``) runs the flow the route chose: for translate, the operation's handler in
  ``operations/`` with its flow context.

This module only holds the list and the two entry points.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence

import httpx
from lxml import etree

from . import correlation
from .mapping import Mappings
from .operations import Handler, default_handlers
from .pipeline.answer import Answer
from .pipeline.authenticate import Authenticate, AuthenticateToken
from .pipeline.authorise import Authorise
from .pipeline.check import Check
from .pipeline.claim import Claim
from .pipeline.exchange import Environment, Exchange, Next, Reply, Stage
from .pipeline.handle import Handle, ModeHandler
from .pipeline.read import Read
from .pipeline.record import Record, Recorder
from .pipeline.route import Mode, RouteStage, Router
from .pipeline.validate import Validate
from .security.authenticate import Authenticator
from .security.peer import Peer
from .security.tenants import Tenants, TenantStage
from .settings import Settings
from .soap.envelope import SoapVersion
from .store import Store
from .stuf.registry import REGISTRY, Registry, Service
from .stuf.stuurgegevens import Systeem
from .stuf.validation import Schemas
from .zgw import ZgwClients

__all__ = ["Gateway", "Reply", "parse_answer"]


class Gateway:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        schemas: Schemas,
        *,
        registry: Registry = REGISTRY,
        handlers: Mapping[str, Handler] | None = None,
        zgw: ZgwClients | None = None,
        mappings: Mappings | None = None,
        router: Router | None = None,
        modes: Mapping[Mode, ModeHandler] | None = None,
        recorders: Sequence[Recorder] = (),
        authenticator: Authenticator | None = None,
        authenticate: bool = True,
        tenants: Tenants | None = None,
        zgw_transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.schemas = schemas
        self.registry = registry
        self.identity = Systeem(organisatie=settings.organisatie, applicatie=settings.applicatie)
        self.env = Environment(settings, store, zgw, mappings, self.identity)
        self._handle = Handle(handlers if handlers is not None else default_handlers(), modes)
        self.handlers = self._handle.handlers  # checks the registry knows every handler's function
        # ``authenticate=False``: a gateway of the gateway's own (the outbox's replica leg re-handles stored requests
        # that were authenticated and authorised when they came in)
        if not authenticate:
            authenticator = None
        elif authenticator is None and settings.clients:
            authenticator = Authenticator(settings.clients, settings.security, store)
        self.authenticator = authenticator
        # several municipalities (``tenants:``): each message continues in its tenant's environment
        if tenants is None and settings.tenants:
            tenants = Tenants.build(self.env, zgw_transport)  # the tenants' clients send where ``zgw`` does
        self.tenants = tenants
        self.stages: list[Stage] = [
            Record(recorders),
            Answer(self.identity),
            Authenticate(authenticator),
            Read(self.env, registry),
            AuthenticateToken(authenticator),
            Check(registry),
            TenantStage(tenants),
            RouteStage(router),
            Authorise(),
            Validate(self.env, schemas),
            Claim(self.env),
            self._handle,
        ]
        self._run = _chain(self.stages)

    # The shared objects live in ``env``, where every stage reads them at each message (tests swap the settings).
    @property
    def settings(self) -> Settings:
        return self.env.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.env.settings = settings

    @property
    def store(self) -> Store:
        return self.env.store

    @property
    def zgw(self) -> ZgwClients | None:
        return self.env.zgw

    @property
    def mappings(self) -> Mappings | None:
        return self.env.mappings

    @property
    def handlers(self) -> dict[str, Handler]:
        """The operations' handlers by function name (tests may swap them)."""
        return self._handle.handlers

    @handlers.setter
    def handlers(self, handlers: Mapping[str, Handler]) -> None:
        unknown = set(handlers) - self.registry.functions()
        if unknown:
            raise ValueError(f"handlers for functions the registry does not know: {sorted(unknown)}")
        self._handle.handlers = dict(handlers)

    async def translate(self, x: Exchange) -> None:
        """The translate flow on one exchange (for a mode handler that runs it as a part: replicate)."""
        await self._handle.translate(x)

    async def handle(
        self, service: Service | None, data: bytes, *, content_type: str | None, soap_action: str | None,
        peer: Peer | None = None,
    ) -> Reply:
        """A request held whole in memory; the answer whole in ``Reply.body`` (tests, tools)."""
        reply = await self.handle_stream(service, _pieces(data), content_type=content_type, soap_action=soap_action,
                                         peer=peer)
        if reply.stream is not None:
            reply.body = b"".join([piece async for piece in reply.stream])
            reply.stream, reply.length = None, None
        return reply

    async def handle_stream(
        self, service: Service | None, body: AsyncIterable[bytes], *, content_type: str | None,
        soap_action: str | None, request_id: str | None = None, peer: Peer | None = None,
    ) -> Reply:
        """A request read from the pieces of its body as they arrive; document content is spooled while parsing, and
        an answer carrying documents comes back as ``Reply.stream``."""
        x = Exchange(
            self.env, service, body, content_type, soap_action,
            version=SoapVersion.guess(content_type),
            fault_kind=(service or Service.VRIJE_BERICHTEN).fault_kind,
            correlation_id=correlation.new_id(request_id), peer=peer,
        )
        await self._run(x)
        assert x.reply is not None
        return x.reply


def _chain(stages: Sequence[Stage]) -> Next:
    """The stages as one call: each gets the next as its ``call_next``."""

    async def end(x: Exchange) -> None:
        return None

    run: Next = end
    for stage in reversed(stages):
        run = functools.partial(stage, call_next=run)
    return run


async def _pieces(data: bytes, size: int = 1 << 20) -> AsyncIterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start:start + size])


def parse_answer(body: bytes) -> etree._Element:
    """The StUF message inside an answer envelope (for tests and tools)."""
    root = etree.fromstring(body)
    body_el = next(el for el in root if etree.QName(el).localname == "Body")
    return next(el for el in body_el if isinstance(el.tag, str))

