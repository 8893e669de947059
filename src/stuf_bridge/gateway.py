"""The way one message travels: SOAP envelope → operation → stuurgegevens → validation → flow → answer.

Every error on that path, expected or not, ends as the StUF fault of the operation's service (Fo02 on
BeantwoordVraag and VrijeBerichten, Fo03 on OntvangAsynchroon) inside a SOAP Fault with HTTP 500. Nothing
reaches the client as a bare 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from lxml import etree

from .content import Content, Outbound, aencode_chunks
from .errors import Fault, MessageError, NotSupported, ProcessingError, StuurgegevensError
from .faults import is_internal, to_fault
from .mapping import Mappings
from .operations import Handler, MessageContext, default_handlers
from .settings import Settings, ValidationPolicy
from .soap.envelope import (
    SoapRequest,
    SoapVersion,
    envelope,
    fault_envelope,
    read_request_stream,
)
from .soap.streaming import STREAM_ABOVE
from .store import Store, StoreError
from .stuf.answers import bevestiging, foutbericht
from .stuf.registry import REGISTRY, Operation, Registry, Service
from .stuf.routing import resolve
from .stuf.stuurgegevens import (
    BERICHTCODES,
    AnswerParties,
    Stuurgegevens,
    Systeem,
    read_stuurgegevens,
)
from .stuf.validation import Schemas
from .zgw import ZgwCall, ZgwClients, record_zgw_calls
from .zgw.documents import download_source

log = structlog.get_logger(__name__)


@dataclass
class Reply:
    """An answer. With ``stream`` set (an answer carrying documents) the body is that iterator, not ``body``; its
    length is ``length`` when every document's size is known."""

    status: int
    content_type: str
    body: bytes
    operation: str = "unknown"
    dialect: str = "unknown"
    outcome: str = "ok"  # ok | fault
    fault_code: str | None = None
    fault_reason: str | None = None  # errors.Fault.reason: our own stable code beside the StUF code
    warnings: list[str] = field(default_factory=list)
    zgw_calls: list[ZgwCall] = field(default_factory=list)
    soap: str = "1.1"
    zender: str | None = None
    referentienummer: str | None = None
    stream: AsyncIterator[bytes] | None = field(default=None, repr=False)
    length: int | None = None


class Gateway:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        schemas: Schemas,
        *,
        registry: Registry = REGISTRY,
        handlers: dict[str, Handler] | None = None,
        zgw: ZgwClients | None = None,
        mappings: Mappings | None = None,
    ):
        self.settings = settings
        self.store = store
        self.zgw = zgw
        self.mappings = mappings
        self.schemas = schemas
        self.registry = registry
        self.handlers = handlers if handlers is not None else default_handlers()
        self.identity = Systeem(organisatie=settings.organisatie, applicatie=settings.applicatie)
        known = registry.functions()
        unknown = set(self.handlers) - known
        if unknown:
            raise ValueError(f"handlers for functions the registry does not know: {sorted(unknown)}")

    stream_above = STREAM_ABOVE  # request bodies above this size are parsed streaming (tests lower it)

    async def handle(
        self, service: Service | None, data: bytes, *, content_type: str | None, soap_action: str | None
    ) -> Reply:
        """A request held whole in memory; the answer whole in ``Reply.body`` (tests, tools)."""
        reply = await self.handle_stream(service, _pieces(data), content_type=content_type, soap_action=soap_action)
        if reply.stream is not None:
            reply.body = b"".join([piece async for piece in reply.stream])
            reply.stream, reply.length = None, None
        return reply

    async def handle_stream(
        self, service: Service | None, body: AsyncIterable[bytes], *, content_type: str | None,
        soap_action: str | None,
    ) -> Reply:
        """A request read from the pieces of its body as they arrive; document content is spooled while parsing, and
        an answer carrying documents comes back as ``Reply.stream``."""
        started = time.perf_counter()
        warnings: list[str] = []
        with record_zgw_calls() as zgw_calls:
            reply = await self._handle(service, body, content_type, soap_action, warnings)
        reply.zgw_calls = zgw_calls
        reply.warnings = warnings
        log.info(
            "message",
            operation=reply.operation,
            dialect=reply.dialect,
            soap=reply.soap,
            zender=reply.zender,
            referentienummer=reply.referentienummer,
            outcome=reply.outcome,
            fault_code=reply.fault_code,
            fault_reason=reply.fault_reason,
            warnings=[_mask(w) for w in warnings] or None,
            zgw_calls=len(zgw_calls),
            zgw_ms=round(sum(c.elapsed_ms for c in zgw_calls), 2),
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        for call in zgw_calls:  # paths only: query strings can hold a BSN
            log.debug("zgw_call", api=call.api, method=call.method, path=call.url.split("?", 1)[0],
                      status=call.status, ms=round(call.elapsed_ms, 2), error=call.error)
        return reply

    async def _handle(
        self, service: Service | None, body: AsyncIterable[bytes], content_type: str | None,
        soap_action: str | None, warnings: list[str],
    ) -> Reply:
        version = SoapVersion.guess(content_type)
        fault_kind = (service or Service.VRIJE_BERICHTEN).fault_kind
        sg: Stuurgegevens | None = None
        op: Operation | None = None
        request: SoapRequest | None = None
        try:
            request = await read_request_stream(
                body,
                content_type=content_type,
                soap_action=soap_action,
                max_bytes=self.settings.max_message_bytes,
                max_depth=self.settings.max_xml_depth,
                max_document_bytes=self.settings.max_document_bytes,
                stream_above=self.stream_above,
            )
            version = request.version
            op = resolve(self.registry, request.body, request.action)
            fault_kind = op.fault_kind
            sg = read_stuurgegevens(request.body)
            self._check_stuurgegevens(op, sg, warnings)
            assert sg is not None
            warnings.extend(self._validate(request, sg))
            handler = self.handlers.get(op.function)
            if handler is None:
                raise NotSupported(
                    f"Operatie {op.name} wordt (nog) niet ondersteund",
                    f"stuf-bridge herkent {op.name} (ZDS {op.dialect.value}) maar voert deze operatie nog niet uit.",
                )
            ctx = MessageContext(
                operation=op,
                message=request.body,
                stuurgegevens=sg,
                parties=AnswerParties.for_request(sg, self.identity),
                settings=self.settings,
                store=self.store,
                zgw=self.zgw,
                mappings=self.mappings,
                warnings=warnings,
                contents=request.contents,
            )
            answer = await self._answer_once(handler, ctx, request)
            reply = await _answer_reply(version, answer, ctx.outbound)
        except Exception as exc:  # every error is a StUF fault (faults.to_fault), never a bare 500
            fault = to_fault(exc)
            if isinstance(exc, StoreError):
                log.error("store_error", error=str(exc))
            elif is_internal(fault):  # a bug: its text goes to the log only
                log.exception("unexpected_error", operation=op.name if op else None)
            reply = self.fault_reply(version, fault_kind, fault, sg)
        finally:
            for content in request.contents if request is not None else ():  # ctx.content() adds to this list
                content.close()
        reply.operation = op.name if op else "unknown"
        reply.dialect = op.dialect.value if op else "unknown"
        reply.soap = version.value
        reply.zender = sg.zender.label() if sg and sg.zender else None
        reply.referentienummer = sg.referentienummer if sg else None
        return reply

    def fault_reply(self, version: SoapVersion, kind: str, fault: Fault, sg: Stuurgegevens | None) -> Reply:
        parties = AnswerParties.for_request(sg, self.identity)
        detail = foutbericht(kind, fault, parties)
        body = fault_envelope(version, plek=fault.plek, omschrijving=fault.omschrijving, detail=detail)
        return Reply(500, version.content_type, body, outcome="fault", fault_code=fault.code_for(kind),
                     fault_reason=fault.reason)

    def _check_stuurgegevens(self, op: Operation, sg: Stuurgegevens | None, warnings: list[str]) -> None:
        """Stuurgegevens the gateway cannot act on are a fault whatever the validation policy."""
        if sg is None:
            raise StuurgegevensError("StUF013", "Het bericht heeft geen stuurgegevens",
                                     f"{op.request[1]} moet beginnen met stuurgegevens (berichtcode, zender, ...).")
        if sg.berichtcode is not None and sg.berichtcode != op.berichtcode:
            known = "een onbekende berichtcode" if sg.berichtcode not in BERICHTCODES else "niet de berichtcode"
            raise StuurgegevensError(
                "StUF025",
                f"Berichtcode {sg.berichtcode[:20]} wordt niet ondersteund voor {op.name}",
                f"{sg.berichtcode!r} is {known} van {op.name}; verwacht wordt {op.berichtcode}.",
                plek="server",
            )
        if (sg.zender is None or not sg.zender.applicatie) and op.berichtcode == "Lv01":
            # a question changes nothing and needs no idempotency record: answered (Suites4SociaalDomein's "zaken
            # zoeken" has no zender), the answer's ontvanger left empty
            warnings.append("stuurgegevens: de zender ontbreekt; het antwoord heeft geen ontvanger")
        elif sg.zender is None or not sg.zender.applicatie:
            raise StuurgegevensError(
                "StUF013",
                "De zender ontbreekt in de stuurgegevens",
                "stuurgegevens/zender met ten minste applicatie is verplicht; de gateway bepaalt er de "
                "validatie, de identificaties en het antwoord mee.",
            )
        if op.functie and sg.functie and sg.functie.lower() != op.functie.lower():
            functies = {o.functie.lower() for o in self.registry.operations if o.functie}
            if sg.functie.lower() in functies:
                raise StuurgegevensError(
                    "StUF037", f"Functie {sg.functie[:40]} hoort niet bij {op.name}",
                    f"Bij {op.request[1]} hoort functie {op.functie}.", plek="server")
            raise StuurgegevensError(
                "StUF034", f"Onbekende functie {sg.functie[:40]}",
                f"De functie {sg.functie!r} bestaat niet in ZDS; bij {op.request[1]} hoort {op.functie}.")

    async def _answer_once(self, handler: Handler, ctx: MessageContext, request: SoapRequest) -> etree._Element:
        """Run the operation, unless this message was processed before: then its stored answer (StUF §4.4)."""
        key = self._idempotency_key(ctx.operation, ctx.stuurgegevens)
        if key is None:
            return await self._run_handler(handler, ctx)
        stored = await self._claim(key, ctx.operation, request)
        if stored is not None:
            ctx.warnings.append("herhaald bericht: het eerder gegeven antwoord is teruggestuurd")
            return self._replayed(etree.fromstring(stored), ctx)
        try:
            answer = await self._run_handler(handler, ctx)
        except BaseException:
            try:  # a failed message changed nothing (it was compensated): a resend must be processed anew
                await self.store.release_message(*key)
            except StoreError as exc:
                log.error("idempotency_release_failed", referentienummer=key[1], error=str(exc))
            raise
        await self.store.complete_message(*key, _for_storage(answer, ctx.outbound))
        return answer

    def _replayed(self, answer: etree._Element, ctx: MessageContext) -> etree._Element:
        """A stored answer, with the documents it carried streamed in again from the versions it carried then."""
        marked = False
        for element in answer.iter("*"):
            mark = element.attrib.pop(_REPLAY, None)
            if mark is None or self.zgw is None:
                continue
            marked = True
            size, _, url = mark.partition(" ")
            source = download_source(self.zgw, url, int(size))
            ctx.stream_out(element, source.open, source.size, replay=url)
        if marked:  # drop the mark's namespace declaration, and only that one
            keep = {prefix for el in answer.iter("*") for prefix, uri in el.nsmap.items()
                    if prefix and uri != _REPLAY_NS}
            etree.cleanup_namespaces(answer, keep_ns_prefixes=sorted(keep))
        return answer

    @staticmethod
    async def _run_handler(handler: Handler, ctx: MessageContext) -> etree._Element:
        answer = await handler(ctx)
        return answer if answer is not None else bevestiging(ctx.operation.response_kind, ctx.parties)

    @staticmethod
    def _idempotency_key(op: Operation, sg: Stuurgegevens) -> tuple[str, str] | None:
        """(zender, referentienummer) of a message that changes something; questions and acks need none."""
        if op.berichtcode not in _CHANGING or not sg.referentienummer or sg.zender is None:
            return None
        z = sg.zender
        return f"{z.organisatie or ''}/{z.applicatie or ''}/{z.administratie or ''}", sg.referentienummer

    async def _claim(self, key: tuple[str, str], op: Operation, request: SoapRequest) -> bytes | None:
        """None when this message is new (and now claimed); the stored answer when it is a resend (StUF §4.4)."""
        digest = _digest(request.body, request.contents)
        stale = timedelta(seconds=self.settings.idempotency_stale_seconds)
        deadline = time.monotonic() + self.settings.idempotency_wait_seconds
        while True:
            claim = await self.store.claim_message(*key, digest, op.name, stale_after=stale)
            if claim.state == "new":
                return None
            if claim.state == "done":
                return claim.answer
            if claim.state == "conflict":
                raise StuurgegevensError(
                    "StUF016",
                    "Combinatie zender en referentienummer niet uniek",
                    f"Referentienummer {key[1]!r} van zender {key[0]!r} is al gebruikt voor een ander bericht; "
                    "geef elk nieuw bericht een nieuw referentienummer.",
                )
            if time.monotonic() >= deadline:
                raise ProcessingError(
                    "Het bericht wordt al verwerkt",
                    f"Een eerder exemplaar van {key[1]!r} is nog in behandeling; stuur het later opnieuw.",
                    plek="server",
                )
            await asyncio.sleep(0.05)

    def _validate(self, request: SoapRequest, sg: Stuurgegevens) -> list[str]:
        zender = sg.zender or Systeem()
        policy = self.settings.validation_policy_for(zender.organisatie, zender.applicatie)
        if policy is ValidationPolicy.OFF:
            return []
        issues = self.schemas.validate(request.body)
        if not issues:
            return []
        if policy is ValidationPolicy.STRICT:
            first = issues[0]
            raise MessageError(
                f"Het bericht voldoet niet aan het schema (regel {first.line})",
                "; ".join(str(issue) for issue in issues[:5])
                + (f" (en nog {len(issues) - 5} fouten)" if len(issues) > 5 else ""),
            )
        return [f"schema: {issue}" for issue in issues]


# In the stored copy of an answer (idempotency), a document element carries "<size> <download URL>" here, so that a
# resend — typically after a timeout, when the client did not get the document — gets the document again.
_REPLAY_NS = "urn:stuf-bridge:idempotency"
_REPLAY = f"{{{_REPLAY_NS}}}inhoud"


def _for_storage(answer: etree._Element, outbound: Sequence[Outbound]) -> bytes:
    marked = [out for out in outbound if out.replay and out.size is not None]
    for out in marked:
        out.element.set(_REPLAY, f"{out.size} {out.replay}")
    try:
        return etree.tostring(answer)
    finally:
        for out in marked:
            out.element.attrib.pop(_REPLAY, None)


async def _answer_reply(version: SoapVersion, answer: etree._Element, outbound: list[Outbound]) -> Reply:
    """The 200 answer. Documents the handler registered with ``stream_out`` are streamed into it as base64: the
    envelope is written with a placeholder in each of their elements and sent around the encoded bytes.

    Each source is opened and its first chunk read *before* the answer is committed, so a document that cannot be
    read at all is still a StUF fault. A source that fails later, mid-stream, can only be logged: the client then
    gets a cut-off answer (a connection closed before the announced Content-Length, or a chunked body that is not
    well-formed XML), never a complete-looking one."""
    if not outbound:
        return Reply(200, version.content_type, envelope(version, answer))
    marks = []
    for i, out in enumerate(outbound):
        mark = f"stuf-bridge-outbound-{uuid.uuid4().hex}-{i}"
        out.element.text = mark
        marks.append(mark.encode("ascii"))
    document = envelope(version, answer)
    pieces: list[bytes] = []
    for mark in marks:
        before, found, document = document.partition(mark)
        if not found:
            raise ProcessingError("Interne fout in stuf-bridge", "Een documentelement staat niet in het antwoord.",
                                  plek="server")
        pieces.append(before)
    pieces.append(document)
    opened: list[tuple[AsyncIterator[bytes], bytes]] = []
    try:
        for out in outbound:
            source = aiter(out.source())
            opened.append((source, await anext(source, b"")))
    except BaseException:
        for source, _ in opened:
            await _close(source)
        raise
    length = None
    if all(out.size is not None for out in outbound):
        length = sum(len(p) for p in pieces) + sum(4 * -(-(out.size or 0) // 3) for out in outbound)
    reply = Reply(200, version.content_type, b"", length=length)
    reply.stream = _stream_answer(pieces, outbound, opened)
    return reply


async def _stream_answer(pieces: list[bytes], outbound: list[Outbound],
                         opened: list[tuple[AsyncIterator[bytes], bytes]]) -> AsyncIterator[bytes]:
    try:
        for piece, out, (source, first) in zip(pieces, outbound, opened, strict=False):
            yield piece
            sent = 0
            try:
                async for encoded in aencode_chunks(_prepend(first, source)):
                    sent += len(encoded)
                    yield encoded
            except Exception:
                log.exception("document_stream_failed", base64_bytes=sent)
                return  # the client sees a cut-off answer (see _answer_reply)
            expected = None if out.size is None else 4 * -(-out.size // 3)
            if expected is not None and sent != expected:
                log.error("document_stream_failed", error="size differs from the announced size",
                          base64_bytes=sent, expected=expected)
                return
        yield pieces[-1]
    finally:
        for source, _ in opened:
            await _close(source)


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


async def _close(source: AsyncIterator[bytes]) -> None:
    close = getattr(source, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception as exc:  # noqa: BLE001 (closing a failed download must not hide what went wrong)
            log.warning("document_source_close_failed", error=str(exc))


async def _pieces(data: bytes, size: int = 1 << 20) -> AsyncIterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start:start + size])


_NINE_DIGITS = re.compile(r"(?<!\d)\d{8,9}(?!\d)")


def _mask(text: str) -> str:
    """Logs carry no BSNs: any 8–9 digit number (a BSN, or an RSIN, which is no secret) is masked."""
    return _NINE_DIGITS.sub(lambda m: "*" * (len(m.group()) - 2) + m.group()[-2:], text)


_CHANGING = frozenset({"Lk01", "Di01", "Di02", "Du01"})
_TIJDSTIP = re.compile(rb"<([\w.-]+:)?tijdstipBericht>[^<]*</([\w.-]+:)?tijdstipBericht>")


def _digest(message: etree._Element, contents: Sequence[Content] = ()) -> str:
    """What makes a resend "the same message": its canonical form, without tijdstipBericht (clients that resend
    often stamp a new time on the same message), and the sha256 of each document spooled out of it."""
    canonical = etree.tostring(message, method="c14n")
    digest = hashlib.sha256(_TIJDSTIP.sub(b"", canonical, count=1))
    for content in contents:
        digest.update(f"\ninhoud:{content.sha256}".encode("ascii"))
    return digest.hexdigest()


def parse_answer(body: bytes) -> etree._Element:
    """The StUF message inside an answer envelope (for tests and tools)."""
    root = etree.fromstring(body)
    body_el = next(el for el in root if etree.QName(el).localname == "Body")
    return next(el for el in body_el if isinstance(el.tag, str))
