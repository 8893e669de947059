"""Document content that never has to be whole in memory: base64 decoded piece by piece into a spool file.

The contract between the SOAP layer and the document operations:

- **Inbound.** Each ``inhoud`` (or MTOM part) of a request becomes a ``Content``. The SOAP layer may take the base64
  text out of the tree while parsing and hand the ``Content`` over in ``SoapRequest.contents``; the operation asks
  ``MessageContext.content(element)`` and gets the same object either way (for a tree that still holds the text, it
  is decoded on first use).
- **Outbound.** An operation that answers with a document's bytes leaves the ``inhoud`` element empty and registers
  the bytes' source with ``MessageContext.stream_out``; the gateway writes them into the answer as base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import IO

import anyio
from lxml import etree

from .errors import MessageError

_simd: ModuleType | None
try:  # SIMD base64, ~30x faster than binascii, where installed (a core dependency); binascii otherwise
    import pybase64 as _simd
except ImportError:  # pragma: no cover - depends on the installation
    _simd = None

CHUNK = 1 << 20  # 1 MiB: the unit for decoding, hashing, reading and uploading
SPOOL_IN_MEMORY = 1 << 20  # content up to this size stays in memory; above it, a temporary file
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")
_WHITESPACE_BYTES = b" \t\r\n"


class ContentTooLarge(MessageError):
    """A document above ``STUF_BRIDGE_MAX_DOCUMENT_BYTES``: refused before it fills a disk."""

    reason = "document-above-limit"


@dataclass
class Content:
    """A document's bytes in a spool (memory up to ``SPOOL_IN_MEMORY``, a temporary file above it)."""

    file: IO[bytes]
    size: int
    sha256: str
    content_type: str | None = None
    bestandsnaam: str | None = None
    element: etree._Element | None = field(default=None, repr=False)  # the inhoud element it came from

    @classmethod
    def from_bytes(cls, data: bytes, **meta: str | None) -> Content:
        spool = Spool()
        spool.write(data)
        return spool.finish(**meta)

    @classmethod
    def from_base64(cls, text: str | bytes, *, max_bytes: int | None = None, **meta: str | None) -> Content:
        decoder = Base64Spool(max_bytes=max_bytes)
        try:
            decoder.feed(text)
            return decoder.finish(**meta)
        except BaseException:  # malformed or too large: the spool goes with the error
            decoder.file.close()
            raise

    def reader(self) -> IO[bytes]:
        """The spool from its start (one reader at a time)."""
        self.file.seek(0)
        return self.file

    def read_all(self) -> bytes:
        """All bytes at once: for small documents and tests only."""
        return self.reader().read()

    async def chunks(self, chunk_size: int = CHUNK, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """The bytes ``start`` .. ``start + length`` in chunks, read off the event loop."""
        remaining = self.size - start if length is None else min(length, self.size - start)
        position = start
        while remaining > 0:
            n = min(chunk_size, remaining)
            chunk = await anyio.to_thread.run_sync(self._read_at, position, n)
            if not chunk:
                break
            position += len(chunk)
            remaining -= len(chunk)
            yield chunk

    def _read_at(self, position: int, n: int) -> bytes:
        self.file.seek(position)
        return self.file.read(n)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Content:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Spool:
    """Bytes written in pieces, counted and hashed as they come."""

    def __init__(self, *, max_bytes: int | None = None, in_memory: int = SPOOL_IN_MEMORY):
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=in_memory, prefix="stuf-bridge-")  # noqa: SIM115 (closed by Content)
        self.size = 0
        self.max_bytes = max_bytes
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.max_bytes is not None and self.size > self.max_bytes:
            self.file.close()
            raise ContentTooLarge(
                "Het document is te groot",
                f"De inhoud is groter dan het maximum van {self.max_bytes} bytes (STUF_BRIDGE_MAX_DOCUMENT_BYTES).",
            )
        self._hash.update(data)
        self.file.write(data)

    def finish(self, *, content_type: str | None = None, bestandsnaam: str | None = None) -> Content:
        self.file.flush()
        self.file.seek(0)
        return Content(self.file, self.size, self._hash.hexdigest(), content_type, bestandsnaam)


class Base64Spool(Spool):
    """Base64 text fed in pieces of any length (as a parser hands out character data), decoded into a spool.

    Whitespace and line breaks anywhere are allowed (xs:base64Binary, MIME line length); anything else outside the
    base64 alphabet, misplaced padding or a length that is not a multiple of four is a ``MessageError`` (StUF055).
    """

    def __init__(self, *, max_bytes: int | None = None, in_memory: int = SPOOL_IN_MEMORY):
        super().__init__(max_bytes=max_bytes, in_memory=in_memory)
        self._pending = b""
        self._ended = False  # padding seen: nothing may follow
        self.encoded_chars = 0

    def feed(self, text: str | bytes) -> None:
        data = text.encode("ascii", "replace") if isinstance(text, str) else text
        if b"\n" in data or b"\r" in data or b" " in data or b"\t" in data:  # four memchr beat one copy
            data = data.translate(None, _WHITESPACE_BYTES)
        if not data:
            return
        if self._ended:
            raise _malformed("er staan tekens na de afsluitende '='")
        offset = self.encoded_chars - len(self._pending)  # position of data[0] after the pending characters
        self.encoded_chars += len(data)
        data = self._pending + data
        usable = len(data) - len(data) % 4
        block, self._pending = data[:usable], data[usable:]
        if not block:
            return
        try:  # strict: only the alphabet, padding only at the very end, nothing after it
            decoded = decode_strict(block)
        except (binascii.Error, ValueError) as exc:
            raise _invalid(block, offset, exc) from None
        self._ended = block.endswith(b"=")
        self.write(decoded)

    def finish(self, **meta: str | None) -> Content:
        if self._pending:
            bad = _NOT_BASE64.search(self._pending)
            if bad:
                raise _malformed(f"teken {bad.group()!r} hoort niet in base64")
            raise _malformed(f"de lengte ({self.encoded_chars} tekens) is geen viervoud")
        return super().finish(**meta)


def attribute(element: etree._Element, localname: str) -> str | None:
    """An attribute by local name, whatever its namespace prefix (``xmime:contentType``, ``StUF:bestandsnaam``)."""
    for name, value in element.attrib.items():
        if etree.QName(name).localname == localname:
            return str(value)
    return None


def element_meta(element: etree._Element) -> dict[str, str | None]:
    """What an ``inhoud`` element says about its document: media type and file name."""
    return {"content_type": attribute(element, "contentType"), "bestandsnaam": attribute(element, "bestandsnaam")}


def decode_strict(block: bytes) -> bytes:
    """Base64 without whitespace, a multiple of four long; anything else raises ``binascii.Error``."""
    if _simd is not None:
        decoded: bytes = _simd.b64decode(block, validate=True)
        return decoded
    return binascii.a2b_base64(block, strict_mode=True)


def encode(data: bytes) -> bytes:
    encoded: bytes = _simd.b64encode(data) if _simd is not None else base64.b64encode(data)
    return encoded


def _invalid(block: bytes, offset: int, exc: Exception) -> MessageError:
    bad = _NOT_BASE64.search(block)
    if bad:
        return _malformed(f"teken {bad.group()!r} hoort niet in base64 (positie {offset + bad.start()})")
    unpadded = block.rstrip(b"=")
    if b"=" in unpadded or len(block) - len(unpadded) > 2 or "padding" in str(exc).lower():
        return _malformed("de '=' (opvulling) mag alleen aan het eind staan")
    return _malformed("onleesbare base64")


def _malformed(reason: str) -> MessageError:
    return MessageError("De inhoud is geen geldige base64", f"inhoud: {reason}.", reason="base64-invalid")


class _Encoder:
    """Base64 of a byte stream fed in pieces of any length: whole 3-byte groups now, the rest at the end (each piece
    out is a multiple of four characters but the last)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + chunk
        usable = len(data) - len(data) % 3
        self._pending = data[usable:]
        return encode(data[:usable]) if usable else b""

    def finish(self) -> bytes:
        return encode(self._pending) if self._pending else b""


def encode_chunks(chunks: Iterable[bytes]) -> Iterable[bytes]:
    encoder = _Encoder()
    for chunk in chunks:
        if piece := encoder.feed(chunk):
            yield piece
    if tail := encoder.finish():
        yield tail


async def aencode_chunks(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    encoder = _Encoder()
    async for chunk in chunks:
        if piece := encoder.feed(chunk):
            yield piece
    if tail := encoder.finish():
        yield tail


@dataclass
class Outbound:
    """Bytes an answer carries as base64 in ``element``, produced by ``source`` when the answer is written."""

    element: etree._Element
    source: Callable[[], AsyncIterator[bytes]]
    size: int | None = None
    replay: str | None = None  # a URL the same bytes can be read from again (a resend of the message)
