"""The one XML parse function for everything a client sends.

No DTDs, no entity resolution, no network access, no recover mode; a size limit and a depth limit. A message
that breaks any rule raises ``MessageError`` (StUF055), never a bare exception. ``soap/streaming.py`` parses large
bodies incrementally with the same rules and the helpers below.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any
from collections.abc import Iterator

from lxml import etree

from ..errors import MessageError

_DOCTYPE = b"<!DOCTYPE"
HEAD = 4096  # a DTD, an XML declaration or a BOM stands in the first bytes of a message

def hardened_parser(encoding: str | None, target: Any = None) -> etree.XMLParser:
    """The one parser configuration for all input: no DTD, no entities, no network, no recovery."""
    return etree.XMLParser(
        encoding=encoding,
        target=target,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        recover=False,
        huge_tree=True,  # base64 document content is one large text node; depth is checked separately
        remove_blank_text=False,
        collect_ids=False,
    )


@functools.lru_cache(maxsize=8)
def _parser(encoding: str | None) -> etree.XMLParser:
    return hardened_parser(encoding)


def declares_encoding(body: bytes) -> bool:
    head = body[:200]
    return head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or (
        head.startswith(b"<?xml") and b"encoding" in head.split(b"?>", 1)[0]
    )


def parse_xml(body: bytes, *, max_bytes: int, max_depth: int, charset: str | None = None) -> etree._Element:
    """Parse a message safely and return its root element.

    ``charset`` is the HTTP Content-Type charset; it is used only when the document itself declares no encoding
    (no BOM, no encoding in the XML declaration), as with ISO-8859-1 senders that leave the declaration out.
    """
    if not body or not body.strip():
        raise empty_body()
    if len(body) > max_bytes:
        raise MessageError(
            "Het bericht is te groot",
            f"Het bericht is {len(body)} bytes; de grens is {max_bytes} bytes (instelling max_message_bytes).",
            reason="message-too-large",
        )
    body = check_head(body)
    encoding = parser_encoding(body, charset)
    if body.count(b"xmlns") > MAX_NAMESPACES:  # before parsing: the declarations are what makes parsing slow
        raise too_large_tree("namespace-declaraties", MAX_NAMESPACES)
    with parse_errors():
        root = etree.fromstring(body, _parser(encoding))
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]  # lxml-stubs lack DocInfo.doctype
        raise dtd_refused()
    _check_depth(root, max_depth)
    return root


def check_head(body: bytes) -> bytes:
    """The start of a message without leading blank lines; refused when it holds a DTD."""
    if body[:1].isspace():
        # An XML declaration after leading blank lines is a common client bug; tolerate it.
        body = body.lstrip()
    if _DOCTYPE in body[:HEAD]:  # a DTD stands before the root element; the parse result is checked too
        raise dtd_refused()
    return body


def parser_encoding(head: bytes, charset: str | None) -> str | None:
    """The HTTP charset, for a document that declares no encoding itself; else None (the document decides)."""
    if charset and not declares_encoding(head):
        return normalise_charset(charset)
    return None


def dtd_refused() -> MessageError:
    return MessageError("Het bericht bevat een DTD", "DTD's (<!DOCTYPE ...>) zijn in SOAP-berichten niet toegestaan.",
                        reason="dtd-forbidden")


# What one message may hold besides its documents, so that no request takes more than a bounded amount of memory and
# time: a parsed element costs some 30 times its bytes, and canonical forms grow with attributes and namespace
# declarations per element. Real ZDS messages stay far below (a large creeerZaak: ~300 elements, ~10 declarations).
MAX_ELEMENTS = 100_000
MAX_ATTRIBUTES = 64  # on one element
MAX_NAMESPACES = 256  # declarations in the whole message


def too_large_tree(what: str, limit: int) -> MessageError:
    return MessageError(
        "Het bericht is te groot van opbouw",
        f"Het bericht heeft meer dan {limit} {what}; de grens bewaakt het geheugen van de gateway.",
        reason="too-many-nodes",
    )


class Shape:
    """Counts a message's elements, attributes and namespace declarations as they are read; a limit passed is a
    StUF055 that names it."""

    def __init__(self) -> None:
        self.elements = 0
        self.namespaces = 0

    def element(self, attributes: int, declarations: int) -> None:
        self.elements += 1
        self.namespaces += declarations
        if self.elements > MAX_ELEMENTS:
            raise too_large_tree("elementen", MAX_ELEMENTS)
        if attributes > MAX_ATTRIBUTES:
            raise too_large_tree("attributen op één element", MAX_ATTRIBUTES)
        if self.namespaces > MAX_NAMESPACES:
            raise too_large_tree("namespace-declaraties", MAX_NAMESPACES)


def too_deep(max_depth: int) -> MessageError:
    return MessageError(
        "Het bericht is te diep genest",
        f"Elementen zijn dieper dan {max_depth} niveaus genest (instelling max_xml_depth).",
        reason="too-deep",
    )


@contextlib.contextmanager
def parse_errors() -> Iterator[None]:
    """lxml's errors while parsing, as the StUF fault for each; a MessageError (raised by a parser target) as is."""
    try:
        yield
    except MessageError:
        raise
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc) from exc
    except (ValueError, LookupError) as exc:  # unknown encoding names and the like
        raise unreadable(exc) from exc


def syntax_error(exc: etree.XMLSyntaxError) -> MessageError:
    line = f" (regel {exc.lineno}, kolom {exc.offset})" if getattr(exc, "lineno", None) else ""
    return MessageError("Het bericht is geen goedgevormde XML", f"{exc.msg}{line}", reason="not-well-formed")


def unreadable(exc: Exception) -> MessageError:
    return MessageError("Het bericht kan niet worden gelezen", str(exc), reason="unreadable")


def empty_body() -> MessageError:
    return MessageError("Het bericht is leeg", "De HTTP-body bevat geen XML.", reason="empty-body")


def _check_depth(root: etree._Element, max_depth: int) -> None:
    """Depth and shape of a message parsed whole (the streaming parser checks them as it reads)."""
    depth = 0
    shape = Shape()
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            if depth > max_depth:
                raise too_deep(max_depth)
            shape.element(len(element.attrib), 0)
        else:
            depth -= 1


def normalise_charset(charset: str) -> str:
    name = charset.strip().strip('"').lower()
    return {"latin-1": "iso-8859-1", "latin1": "iso-8859-1"}.get(name, name)
