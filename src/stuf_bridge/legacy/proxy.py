"""The proxy mode: the client's request goes to the legacy zaaksysteem unchanged, and the legacy's answer comes back
unchanged, status code included.

The request is sent from the raw spool the read stage teed (``x.raw``) to the legacy endpoint of the service the
client posted to (for the catch-all ``/zds``: the operation's service), with the client's own SOAPAction and
Content-Type (an MTOM boundary included) and its Content-Length. The answer is streamed back as it arrives; only
what is needed to tell a usable answer from none is looked at first:

* a Content-Type that cannot be SOAP (``text/html``), or an empty body, is no answer: :class:`LegacyNotSoap`, a
  gateway fault naming the endpoint;
* a non-2xx answer up to ``SMALL_ANSWER`` bytes is read whole and parsed: a SOAP Fault is the legacy's own answer
  (logged as ``legacy-fault`` with its StUF code), anything that is no SOAP envelope is :class:`LegacyNotSoap`;
* a 2xx answer, or a larger non-2xx one, streams on from its first piece, never whole in memory.
"""

from __future__ import annotations

from ..pipeline.exchange import Exchange, Reply
from ..soap.headers import soap_media_type
from .answers import read_answer
from .client import LegacyClient, LegacyStream
from .errors import LegacyNotConfigured, LegacyNotSoap

SMALL_ANSWER = 64 * 1024  # a non-2xx answer up to this size is read whole to see whether it is a StUF fault
_BOM = b"\xef\xbb\xbf"


class LegacyProxy:
    """The mode handler for ``Mode.PROXY`` (``Gateway(modes={Mode.PROXY: LegacyProxy(client)})``)."""

    def __init__(self, client: LegacyClient):
        self.client = client

    async def __call__(self, x: Exchange) -> None:
        assert x.operation is not None
        if x.raw is None:  # the read stage keeps the bytes only when a legacy side is configured
            raise LegacyNotConfigured("legacy.endpoints", "geen legacy-zaaksysteem ingesteld")
        service = x.service or x.operation.service
        stream = await self.client.forward(service, x.raw.rewound(), content_type=x.content_type,
                                           soap_action=x.soap_action, length=x.raw.size)
        try:
            x.reply = await self.relay(stream)
        except BaseException:
            await stream.aclose()
            raise

    async def relay(self, stream: LegacyStream) -> Reply:
        if not soap_media_type(stream.content_type):
            raise LegacyNotSoap(stream.endpoint, f"HTTP {stream.status} met Content-Type {stream.content_type!r} "
                                "in plaats van SOAP")
        if not 200 <= stream.status < 300:
            head = await stream.peek(SMALL_ANSWER + 1)
            if stream.complete:
                await stream.aclose()
                return self._small(stream, head)
            return Reply(stream.status, stream.content_type, b"", stream=stream.chunks(), length=stream.length,
                         headers=stream.headers, outcome="legacy-fault", fault_reason="legacy-fault")
        head = await stream.peek(64)
        if not head.removeprefix(_BOM).lstrip().startswith((b"<", b"--")):
            what = "een leeg antwoord" if not head.strip() else f"iets anders dan XML ({head[:40]!r})"
            raise LegacyNotSoap(stream.endpoint, f"HTTP {stream.status} met {what}")
        return Reply(stream.status, stream.content_type, b"", stream=stream.chunks(), length=stream.length,
                     headers=stream.headers)

    def _small(self, stream: LegacyStream, body: bytes) -> Reply:
        """A whole non-2xx answer: passed on as it came when it is SOAP (a StUF fault: logged as such)."""
        answer = read_answer(stream.status, stream.content_type, body, endpoint=stream.endpoint,
                             **self.client.limits)
        answer.close()
        reply = Reply(stream.status, stream.content_type, body, headers=stream.headers)
        if answer.fault is not None:
            reply.outcome, reply.fault_code, reply.fault_reason = "legacy-fault", answer.fault.code, "legacy-fault"
        return reply
