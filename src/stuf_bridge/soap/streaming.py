"""One XML document read as it arrives, with document content spooled instead of kept in the tree.

A body up to ``STREAM_ABOVE`` bytes is collected and parsed whole by ``parse_xml`` (schema faults keep their exact
line numbers; an ``inhoud`` stays text in the tree and is decoded when the operation asks for it). A larger body goes
through an lxml feed parser whose *target* builds the tree for everything except the text of ``ZKN:inhoud``: that
text goes, in the pieces the parser hands out, straight into a ``Base64Spool``. The element keeps its attributes and
no text; its ``Content`` (``.element`` set, media type and file name from the attributes) is returned beside the
tree. An ``inhoud`` that holds an ``xop:Include`` instead (MTOM) is left to ``soap/mtom.py``.

Limits: ``max_bytes`` (max_message_bytes) counts the XML without document content, ``max_document_bytes`` each
decoded document. The rules of ``parse_xml`` hold here too: no DTD (refused in the head and by the target), no
entities, no network, no recover, a depth limit, and the HTTP charset for a document that declares none. Line
numbers of a streamed tree count the line breaks in text, comments and the prolog, not those inside tags.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..content import Base64Spool, Content, element_meta
from ..errors import MessageError
from ..stuf.namespaces import ZKN
from .xmlparse import (
    hardened_parser,
    check_head,
    dtd_refused,
    empty_body,
    parse_errors,
    parse_xml,
    parser_encoding,
    Shape,
    too_deep,
)

XOP = "http://www.w3.org/2004/08/xop/include"
INHOUD = f"{{{ZKN}}}inhoud"
XOP_INCLUDE = f"{{{XOP}}}Include"
STREAM_ABOVE = 1 << 20  # bodies (or MTOM root parts) up to this size are parsed whole


def too_large(max_bytes: int) -> MessageError:
    return MessageError(
        "Het bericht is te groot",
        f"Het bericht is zonder documentinhoud groter dan {max_bytes} bytes (instelling max_message_bytes).",
        reason="message-too-large",
    )


class XmlFeed:
    """An XML document fed in pieces of any size; ``close()`` gives the root and the spooled contents."""

    def __init__(self, *, max_bytes: int, max_depth: int, max_document_bytes: int, charset: str | None = None,
                 stream_above: int = STREAM_ABOVE):
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_document_bytes = max_document_bytes
        self.charset = charset
        self.stream_above = stream_above
        self._buffer = bytearray()
        self._stream: _StreamParse | None = None

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    def feed(self, data: bytes) -> None:
        if not data:
            return
        if self._stream is not None:
            self._stream.feed(data)
            return
        self._buffer += data
        if len(self._buffer) > min(self.stream_above, self.max_bytes):
            head = check_head(bytes(self._buffer))
            self._buffer = bytearray()
            if not head:  # only blank lines so far: keep waiting for the XML
                return
            self._stream = _StreamParse(
                max_bytes=self.max_bytes, max_depth=self.max_depth, max_document_bytes=self.max_document_bytes,
                encoding=parser_encoding(head, self.charset),
            )
            self._stream.feed(head)

    def close(self) -> tuple[etree._Element, list[Content]]:
        if self._stream is None:
            data, self._buffer = bytes(self._buffer), bytearray()
            return parse_xml(data, max_bytes=self.max_bytes, max_depth=self.max_depth, charset=self.charset), []
        return self._stream.close()

    def abort(self) -> None:
        """Drop whatever was spooled (on any error before the request is handed over)."""
        if self._stream is not None:
            self._stream.target.discard()


class _StreamParse:
    def __init__(self, *, max_bytes: int, max_depth: int, max_document_bytes: int, encoding: str | None):
        self.max_bytes = max_bytes
        self.target = _Target(max_depth, max_document_bytes)
        with parse_errors():
            self.parser = hardened_parser(encoding, self.target)
        self.fed = 0

    def feed(self, data: bytes) -> None:
        if not self.fed:
            self.target.prolog_lines(data)
        self.fed += len(data)
        with parse_errors():
            self.parser.feed(data)
        if self.fed - self.target.content_chars > self.max_bytes:
            raise too_large(self.max_bytes)

    def close(self) -> tuple[etree._Element, list[Content]]:
        if not self.fed:
            raise empty_body()
        with parse_errors():
            root = self.parser.close()
        if root is None:
            raise MessageError("Het bericht is geen goedgevormde XML", "Het document eindigt voor het root-element.",
                               reason="not-well-formed")
        return root, self.target.contents


class _Target:
    """lxml parser target: a TreeBuilder for the tree, a Base64Spool for the text of each ``inhoud``."""

    def __init__(self, max_depth: int, max_document_bytes: int):
        self.builder = etree.TreeBuilder()
        self.max_depth = max_depth
        self.max_document_bytes = max_document_bytes
        self.depth = 0
        self.shape = Shape()
        self.contents: list[Content] = []
        self.content_chars = 0  # characters that went into spools, not into the tree
        self._line = 1
        self._spool: Base64Spool | None = None
        self._element: etree._Element | None = None  # the inhoud being read
        self._element_depth = 0
        self._includes = 0

    def prolog_lines(self, head: bytes) -> None:
        """Line breaks before the end of the root's start tag, which no callback reports."""
        at = 0
        while (at := head.find(b"<", at)) != -1 and head[at + 1:at + 2] in (b"?", b"!"):
            at += 1
        if at != -1:
            end = head.find(b">", at)
            self._line += head.count(b"\n", 0, end if end != -1 else len(head))

    def start(self, tag: str, attrib: dict[str, str], nsmap: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise too_deep(self.max_depth)
        self.shape.element(len(attrib), len(nsmap))
        if self._spool is not None:
            if tag != XOP_INCLUDE or self.depth != self._element_depth + 1:
                raise MessageError(
                    "De inhoud van een document bevat elementen",
                    f"inhoud mag alleen base64-tekst of één xop:Include bevatten, niet {tag}.",
                    reason="inhoud-has-elements",
                )
            self._includes += 1
        # TreeBuilder.start takes the nsmap and returns the element it started (lxml-stubs say neither)
        builder: Any = self.builder
        element: etree._Element = builder.start(tag, attrib, {prefix or None: uri for prefix, uri in nsmap.items()})
        setattr(element, "sourceline", min(self._line, 65535))  # noqa: B010 (what libxml2 stores, too)
        if tag == INHOUD and self._spool is None:
            self._spool = Base64Spool(max_bytes=self.max_document_bytes)
            self._element = element
            self._element_depth = self.depth
            self._includes = 0

    def data(self, text: str) -> None:
        self._line += text.count("\n")
        if self._spool is None:
            self.builder.data(text)
            return
        self.content_chars += len(text)
        self._spool.feed(text)

    def end(self, tag: str) -> None:
        self.depth -= 1
        builder: Any = self.builder  # TreeBuilder.end returns the element it closed (lxml-stubs say None)
        element: etree._Element = builder.end(tag)
        if element is not self._element:
            return
        spool, self._spool, self._element = self._spool, None, None
        assert spool is not None
        if self._includes or not spool.encoded_chars:
            spool.file.close()
            if self._includes and spool.encoded_chars:
                raise MessageError("De inhoud van een document is dubbel",
                                   "inhoud bevat zowel base64-tekst als een xop:Include.", reason="inhoud-twice")
            return
        content = spool.finish(**element_meta(element))
        content.element = element
        self.contents.append(content)

    def comment(self, text: str) -> None:
        if self.depth:  # comments around the root element are dropped, as parse_xml drops them from the root
            self._line += text.count("\n")
            self.builder.comment(text)

    def pi(self, target: str, data: str | None) -> None:
        if self.depth:
            self._line += (data or "").count("\n")
            self.builder.pi(target, data)

    def doctype(self, *_: Any) -> None:
        raise dtd_refused()

    def close(self) -> etree._Element | None:
        if self.depth or self._spool is not None:
            return None  # unfinished: the parser raises its own syntax error
        try:
            return self.builder.close()
        except AssertionError:  # nothing was built
            return None

    def discard(self) -> None:
        if self._spool is not None:
            self._spool.file.close()
            self._spool = None
        for content in self.contents:
            content.close()
