"""Reading what the legacy system answered: is it SOAP at all, and is it a StUF fault?

The answer is read with the gateway's own hardened reader (``soap/envelope.py``: no DTD, no entities, size and depth
limits, MTOM), so a legacy system is trusted no more than a client. An answer that is not a SOAP envelope (an HTML
error page from a proxy in front of it, an empty 502) is :class:`LegacyNotSoap`; a SOAP Fault is the legacy's own
answer, and when its detail holds a StUF Fo01/Fo02/Fo03 its code, plek and omschrijving are read from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..content import Content
from ..errors import MessageError
from ..soap.envelope import RequestReader, SoapVersion
from ..soap.headers import soap_media_type
from .errors import LegacyNotSoap

# Media types a SOAP answer comes in (plain or MTOM); no media type at all is judged by the bytes.
_FOUTBERICHT = re.compile(r"Fo0[123]Bericht")


@dataclass(frozen=True)
class LegacyFault:
    """A SOAP Fault from the legacy system; ``code`` and ``plek`` are None when its detail holds no StUF fault."""

    code: str | None
    plek: str | None
    omschrijving: str | None
    details: str | None = None


@dataclass
class LegacyAnswer:
    """A whole legacy answer, read. ``message`` is the first element in the SOAP Body (a ``Fault`` for a fault);
    documents in it (MTOM parts, large ``inhoud``) are spooled in ``contents``: :meth:`close` drops them."""

    status: int
    content_type: str
    body: bytes
    version: SoapVersion
    message: etree._Element
    fault: LegacyFault | None
    contents: list[Content] = field(default_factory=list)

    def close(self) -> None:
        for content in self.contents:
            content.close()


def read_answer(status: int, content_type: str | None, body: bytes, *, endpoint: str, max_bytes: int,
                max_depth: int, max_document_bytes: int) -> LegacyAnswer:
    """Parse a whole legacy answer; :class:`LegacyNotSoap` (naming ``endpoint``) when it is no SOAP envelope."""
    if not soap_media_type(content_type):
        raise LegacyNotSoap(endpoint, f"HTTP {status} met Content-Type {content_type!r} in plaats van SOAP")
    reader = RequestReader(content_type=content_type, soap_action=None, max_bytes=max_bytes, max_depth=max_depth,
                           max_document_bytes=max_document_bytes)
    try:
        reader.feed(body)
        request = reader.finish()
    except MessageError as exc:
        reader.abort()
        shown = "leeg antwoord" if not body.strip() else f"{exc.omschrijving}: {exc.details or ''}".rstrip(": ")
        raise LegacyNotSoap(endpoint, f"HTTP {status}, geen SOAP-envelope ({shown})") from exc
    return LegacyAnswer(status, content_type or "", body, request.version, request.body, stuf_fault(request.body),
                        request.contents)


def stuf_fault(message: etree._Element) -> LegacyFault | None:
    """The fault a SOAP Body element stands for, or None when it is no SOAP Fault."""
    if etree.QName(message).localname != "Fault":
        return None
    found = next((el for el in message.iter("*") if _FOUTBERICHT.fullmatch(etree.QName(el).localname)), None)
    if found is None:
        reason = _first_text(message, ("faultstring", "Text"))
        return LegacyFault(None, None, reason)
    return LegacyFault(_first_text(found, ("code",)), _first_text(found, ("plek",)),
                       _first_text(found, ("omschrijving",)), _first_text(found, ("details",)))


def _first_text(root: etree._Element, names: tuple[str, ...]) -> str | None:
    for el in root.iter("*"):
        if etree.QName(el).localname in names and el.text and el.text.strip():
            return el.text.strip()
    return None
