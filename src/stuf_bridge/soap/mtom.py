"""MTOM/XOP requests (``multipart/related; type="application/xop+xml"``), read as they arrive.

The root part (the envelope) goes through ``XmlFeed`` like a plain body; every other part is spooled raw by its
Content-ID. When the body is complete, each ``xop:Include href="cid:…"`` is taken out of the tree and its parent
element (``inhoud``) linked to the part's ``Content``: the operation sees the same tree and ``Content`` as for inline
base64. Media type: the element's ``xmime:contentType``, else the part's Content-Type.
"""

from __future__ import annotations

from urllib.parse import unquote

from lxml import etree
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser

from ..content import Content, Spool, element_meta
from ..errors import MessageError
from .headers import ContentType
from .streaming import STREAM_ABOVE, XOP_INCLUDE, XmlFeed

MAX_PARTS = 64  # each part may keep up to 1 MiB in memory before its spool goes to disk
_RAW_ENCODINGS = {"", "binary", "8bit", "7bit"}


def bad_mtom(reason: str) -> MessageError:
    return MessageError("Het MTOM-bericht is onleesbaar", f"{reason}.", reason="mtom-unreadable")


class MtomFeed:
    """A multipart/related body fed in pieces; ``close()`` gives the root and the contents, linked."""

    def __init__(self, params: dict[str, str], *, max_bytes: int, max_depth: int, max_document_bytes: int,
                 stream_above: int = STREAM_ABOVE):
        boundary = params.get("boundary")
        if not boundary:
            raise bad_mtom("De Content-Type multipart/related heeft geen boundary")
        self.start = _cid(params.get("start", ""))
        self.limits = {"max_bytes": max_bytes, "max_depth": max_depth, "max_document_bytes": max_document_bytes,
                       "stream_above": stream_above}
        self.root: XmlFeed | None = None
        self.parts: dict[str, tuple[Spool, str | None]] = {}
        self.ended = False
        self._count = 0
        self._headers: dict[str, str] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._sink: XmlFeed | Spool | None = None
        callbacks = {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_end": self._end,
        }
        try:
            self.parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        except (ValueError, MultipartParseError) as exc:
            raise bad_mtom(str(exc)) from exc

    def feed(self, data: bytes) -> None:
        try:
            self.parser.write(data)
        except MultipartParseError as exc:
            raise bad_mtom(f"{exc}") from exc

    def close(self) -> tuple[etree._Element, list[Content]]:
        try:
            self.parser.finalize()
        except MultipartParseError as exc:
            raise bad_mtom(f"{exc}") from exc
        if not self.ended:
            raise bad_mtom("De afsluitende boundary ontbreekt: het bericht is onvolledig")
        if self.root is None:
            where = f"met Content-ID <{self.start}>" if self.start else ""
            raise bad_mtom(f"Het deel {where} met de SOAP-envelope ontbreekt".replace("  ", " "))
        root, contents = self.root.close()
        try:
            self._link(root, contents)
        except BaseException:
            for content in contents:
                content.close()
            raise
        finally:
            for spool, _ in self.parts.values():  # parts nobody refers to
                spool.file.close()
            self.parts.clear()
        order = {element: i for i, element in enumerate(root.iter())}
        contents.sort(key=lambda c: order.get(c.element, -1) if c.element is not None else -1)
        return root, contents

    def abort(self) -> None:
        if self.root is not None:
            self.root.abort()
        for spool, _ in self.parts.values():
            spool.file.close()
        self.parts.clear()

    def _link(self, root: etree._Element, contents: list[Content]) -> None:
        for include in list(root.iter(XOP_INCLUDE)):
            href = include.get("href") or ""
            if not href.startswith("cid:"):
                raise bad_mtom(f"xop:Include heeft geen href=\"cid:...\" maar {href[:80]!r}")
            cid = unquote(href[4:])
            if cid not in self.parts:
                raise bad_mtom(f"Het deel met Content-ID <{cid[:80]}> ontbreekt (of wordt twee keer gebruikt)")
            element = include.getparent()
            if element is None or (element.text or "").strip() or len(element) > 1:
                raise bad_mtom("xop:Include moet het enige in zijn element zijn")
            spool, part_type = self.parts.pop(cid)
            element.remove(include)
            element.text = None
            meta = element_meta(element)
            content = spool.finish(content_type=meta["content_type"] or part_type, bestandsnaam=meta["bestandsnaam"])
            content.element = element
            contents.append(content)

    # --- python-multipart callbacks ---

    def _part_begin(self) -> None:
        self._count += 1
        if self._count > MAX_PARTS:
            raise bad_mtom(f"Meer dan {MAX_PARTS} delen")
        self._headers = {}
        self._sink = None

    def _header_end(self) -> None:
        name = self._field.decode("latin-1").strip().lower()
        self._headers[name] = self._value.decode("latin-1").strip()
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        encoding = self._headers.get("content-transfer-encoding", "").lower()
        if encoding not in _RAW_ENCODINGS:
            raise bad_mtom(f"Content-Transfer-Encoding {encoding!r} wordt niet ondersteund; stuur binary")
        cid = _cid(self._headers.get("content-id", ""))
        ctype = ContentType.parse(self._headers.get("content-type"))
        if self.root is None and (cid == self.start if self.start else True):
            self.root = XmlFeed(charset=ctype.charset, **self.limits)
            self._sink = self.root
        elif cid:
            if cid in self.parts:
                raise bad_mtom(f"Twee delen met Content-ID <{cid[:80]}>")
            spool = Spool(max_bytes=self.limits["max_document_bytes"])
            self.parts[cid] = (spool, ctype.media_type or None)
            self._sink = spool
        else:
            raise bad_mtom("Een deel zonder Content-ID")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._sink is None:
            return
        piece = data[start:end]
        if isinstance(self._sink, XmlFeed):
            self._sink.feed(piece)
        else:
            self._sink.write(piece)

    def _end(self) -> None:
        self.ended = True


def _cid(value: str) -> str:
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return value.strip()
