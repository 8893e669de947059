"""Stage *answer*: the outcome of the stages behind it becomes the HTTP answer. An answer element becomes the SOAP
envelope of the request's version (documents streamed into it); any error, expected or not, becomes the StUF fault
of the operation's service (Fo02 on BeantwoordVraag and VrijeBerichten, Fo03 on OntvangAsynchroon) inside a SOAP
Fault with HTTP 500. A reply a mode handler set itself (proxy: the legacy's answer, status code and all) is kept.
This is the one place where an exception turns into a fault: nothing reaches the client as a bare 500, and no
internal exception text reaches it either (that goes to the log). A message cancelled because the server's shutdown
grace period ended is answered here too (``stopping.py``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import structlog
from lxml import etree

from ..content import Outbound, aencode_chunks
from .. import stopping
from ..errors import Fault, GatewayStopping, ProcessingError
from ..faults import is_internal, to_fault
from ..soap.envelope import SoapVersion, envelope, fault_envelope
from ..store import StoreError
from ..stuf.answers import foutbericht
from ..stuf.stuurgegevens import AnswerParties, Stuurgegevens, Systeem
from .exchange import Exchange, Next, Reply

log = structlog.get_logger(__name__)


class Answer:
    name = "answer"

    def __init__(self, identity: Systeem):
        self.identity = identity

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        try:
            await call_next(x)
            if x.reply is not None:  # a mode handler answered itself (proxy: the legacy's answer, as it came)
                return
            assert x.answer is not None
            outbound = x.context.outbound if x.has_context else []
            x.reply = await answer_reply(x.version, x.answer, outbound)
            x.reply.replayed = x.replayed
        except Exception as exc:
            x.fault = self.fault_for(exc, x)
            x.reply = self.fault_reply(x.version, x.fault_kind, x.fault, x.stuurgegevens)
        except asyncio.CancelledError:
            if not stopping.grace_ended():  # not the server's stop: a cancellation passes through unchanged
                raise
            # The server stopped and its grace period ended with this message unanswered (stopping.py): a fault
            # that says so, not uvicorn's bare 500. The claim stage behind has already marked the message
            # unfinished in the recovery journal and released its claim, so a resend is safe.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            x.fault = GatewayStopping()
            x.reply = self.fault_reply(x.version, x.fault_kind, x.fault, x.stuurgegevens)

    @staticmethod
    def fault_for(exc: Exception, x: Exchange) -> Fault:
        """The fault (``faults.to_fault``: one table, looked up along the error's class hierarchy); what the client
        must not see — a bug's text, the store's driver message — goes to the log here."""
        fault = to_fault(exc)
        if isinstance(exc, StoreError):
            log.error("store_error", error=str(exc))
        elif is_internal(fault):
            log.exception("unexpected_error", operation=x.operation.name if x.operation else None)
        return fault

    def fault_reply(self, version: SoapVersion, kind: str, fault: Fault, sg: Stuurgegevens | None) -> Reply:
        parties = AnswerParties.for_request(sg, self.identity)
        detail = foutbericht(kind, fault, parties)
        body = fault_envelope(version, plek=fault.plek, omschrijving=fault.omschrijving, detail=detail)
        reply = Reply(getattr(fault, "http_status", 500), version.content_type, body, outcome="fault",
                      fault_code=fault.code_for(kind), fault_reason=fault.reason, fault_plek=fault.plek)
        reply.headers.update(getattr(fault, "http_headers", None) or {})
        return reply




async def answer_reply(version: SoapVersion, answer: etree._Element, outbound: Sequence[Outbound]) -> Reply:
    """The 200 answer. Documents the handler registered with ``stream_out`` are streamed into it as base64: the
    envelope is written with a placeholder in each of their elements and sent around the encoded bytes.

    Each source is opened and its first chunk read *before* the answer is committed, so a document that cannot be
    read at all is still a StUF fault. A source that fails later, mid-stream, can only be logged: the client then
    gets a cut-off answer (a connection closed before the announced Content-Length, or a chunked body that is not
    well-formed XML), never a complete-looking one."""
    if not outbound:
        return Reply(200, version.content_type, envelope(version, answer))
    marks: list[bytes] = []
    for i, out in enumerate(outbound):
        mark = f"stuf-bridge-outbound-{uuid.uuid4().hex}-{i}"
        out.element.text = mark
        marks.append(mark.encode("ascii"))
    document = envelope(version, answer)
    pieces: list[bytes] = []
    for placeholder in marks:
        before, found, document = document.partition(placeholder)
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


async def _stream_answer(pieces: list[bytes], outbound: Sequence[Outbound],
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
                return  # the client sees a cut-off answer (see answer_reply)
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
