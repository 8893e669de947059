"""Document content and locks in the Documenten API, streamed: no document is ever whole in memory.

A document's bytes travel as a ``ByteSource`` (a size and a way to read them once, in order): a spooled
``Content`` of a request, or the download of a document already in ZGW. Uploading goes one of two ways:

* **inline** (size ≤ threshold): the JSON body of the POST/PATCH is written as a stream: the fields, then
  ``"inhoud": "`` and the base64 of the bytes chunk by chunk, then ``"}``; its Content-Length is known up front;
* **bestandsdelen** (DRC ≥ 1.1): POST/PATCH with ``bestandsomvang`` and no inhoud → the API hands out
  ``bestandsdelen`` and locks the document → each part is a streamed ``multipart/form-data`` PUT (``lock`` and
  ``inhoud``, exactly ``omvang`` bytes) → ``unlock`` completes the file.

The flows run each call as a step of their ``UndoLog``; the helpers here do one call each. Errors stay
:mod:`stuf_bridge.zgw.errors` exceptions; the few a client can act on (413, a wrong or missing lock) get classes of
their own (``ZgwTooLarge``, ``ZgwLockError``), which ``stuf_bridge.faults`` turns into faults with a clear text.
"""

from __future__ import annotations

import json
import mimetypes
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..content import aencode_chunks
from ..recovery import context as _journal
from .client import by_identificatie
from .errors import LOCK_ERRORS, ZgwClientError, ZgwError, ZgwTooLarge, ZgwValidationError

if TYPE_CHECKING:
    from ..content import Content
    from .client import ZgwApiClient, ZgwClients

JSON = dict[str, Any]
EIO = "enkelvoudiginformatieobjecten"
READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class ByteSource:
    """``size`` bytes that ``open()`` yields in order (each call starts again from the first byte)."""

    size: int
    open: Callable[[], AsyncIterator[bytes]]


def from_content(content: Content) -> ByteSource:
    return ByteSource(content.size, lambda: content.chunks(READ_CHUNK))


def from_download(zgw: ZgwClients, eio: JSON) -> ByteSource:
    """The content of ``eio`` (the version it describes) as a stream from its ``inhoud`` download URL."""
    return download_source(zgw, str(eio.get("inhoud") or ""), int(eio.get("bestandsomvang") or 0))


def download_source(zgw: ZgwClients, url: str, size: int) -> ByteSource:
    """The ``size`` bytes behind a download URL (``…/download?versie=N``: one version, so the same bytes each time)."""

    async def chunks() -> AsyncIterator[bytes]:
        if not url:
            return
        async with zgw.for_url(url).stream_download(url) as response:
            async for chunk in response.aiter_bytes(READ_CHUNK):
                yield chunk

    return ByteSource(size, chunks)


def content_type(eio: Mapping[str, Any]) -> str:
    """The media type of a document: its formaat when that is one, else guessed from the bestandsnaam."""
    formaat = str(eio.get("formaat") or "")
    if "/" in formaat:
        return formaat
    guessed, _ = mimetypes.guess_type(str(eio.get("bestandsnaam") or ""), strict=False)
    if guessed:
        return guessed
    guessed, _ = mimetypes.guess_type(f"x.{formaat}", strict=False) if formaat else (None, None)
    return guessed or "application/octet-stream"


# --- finding ----------------------------------------------------------------------------------------------------


async def find_document(zgw: ZgwClients, identificatie: str, *, rsin: str | None = None) -> JSON | None:
    """The document with this identificatie, or None (unique per bronorganisatie: ``by_identificatie``)."""
    return await by_identificatie(zgw.documenten, EIO, identificatie, organisation_field="bronorganisatie",
                                  rsin=rsin, what="Document")


# --- writing ----------------------------------------------------------------------------------------------------


async def post_document(zgw: ZgwClients, body: Mapping[str, Any], data: ByteSource | None, threshold: int) -> JSON:
    """POST a new document. Without ``data`` (or above ``threshold``) no inhoud goes along: the answer then lists
    the ``bestandsdelen`` to upload and carries the ``lock`` that holds the document meanwhile."""
    return await _write(zgw, "POST", zgw.documenten.url(EIO), body, data, threshold)


async def patch_document(
    zgw: ZgwClients, url: str, body: Mapping[str, Any], lock: str, data: ByteSource | None, threshold: int
) -> JSON:
    """PATCH changed fields (and new content, if ``data``) under ``lock``; a new version of the document."""
    return await _write(zgw, "PATCH", url, {**body, "lock": lock}, data, threshold)


def uses_bestandsdelen(data: ByteSource | None, threshold: int) -> bool:
    return data is not None and data.size > threshold


async def _write(
    zgw: ZgwClients, method: str, url: str, body: Mapping[str, Any], data: ByteSource | None, threshold: int
) -> JSON:
    client = zgw.documenten
    if data is None or uses_bestandsdelen(data, threshold):
        plain = dict(body) if data is None else {**body, "bestandsomvang": data.size}
        if data is not None and method == "PATCH":
            plain["inhoud"] = None  # else the API measures the new size against the current content (Open Zaak)
        with _document_errors():
            return await (client.create(url, plain) if method == "POST" else client.patch(url, plain))
    stream, length = _json_with_inhoud({**body, "bestandsomvang": data.size}, data)
    token = _journal.BODY.set(dict(body))  # the step journal records the body without its content
    try:
        with _document_errors():
            answer = await client.send_stream(method, url, stream, length, "application/json")
    finally:
        _journal.BODY.reset(token)
    if not isinstance(answer, dict):
        raise ZgwError(f"{method} {url} → antwoord zonder document", method=method, url=url)
    return answer


def _json_with_inhoud(body: Mapping[str, Any], data: ByteSource) -> tuple[AsyncIterator[bytes], int]:
    """The JSON ``body`` plus ``"inhoud": <base64 of data>``, as a stream of bytes and its length."""
    head = json.dumps(dict(body), ensure_ascii=True)[:-1]
    prefix = (head + (", " if body else "") + '"inhoud": "').encode("ascii")
    suffix = b'"}'
    length = len(prefix) + 4 * ((data.size + 2) // 3) + len(suffix)

    async def stream() -> AsyncIterator[bytes]:
        yield prefix
        async for piece in aencode_chunks(_exactly(data.open(), data.size)):
            yield piece
        yield suffix

    return stream(), length


async def _exactly(chunks: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    """The chunks, checked to add up to ``size`` (a Content-Length was promised)."""
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > size:
            raise ZgwError(f"de inhoud is groter dan de aangekondigde {size} bytes")
        yield chunk
    if seen != size:
        raise ZgwError(f"de inhoud is {seen} bytes in plaats van de aangekondigde {size}")


class PartReader:
    """Hands out consecutive byte ranges of one sequential source, one bestandsdeel at a time."""

    def __init__(self, data: ByteSource):
        self._chunks = data.open().__aiter__()
        self._left = b""

    async def take(self, n: int) -> AsyncIterator[bytes]:
        while n > 0:
            if not self._left:
                try:
                    self._left = await self._chunks.__anext__()
                except StopAsyncIteration:
                    raise ZgwError(f"de inhoud houdt op: nog {n} bytes verwacht voor dit bestandsdeel") from None
            piece, self._left = self._left[:n], self._left[n:]
            n -= len(piece)
            yield piece

    async def aclose(self) -> None:
        closer = getattr(self._chunks, "aclose", None)
        if closer is not None:
            await closer()


def parts_of(eio: JSON) -> list[JSON]:
    """The bestandsdelen still to upload, in volgnummer order."""
    parts = sorted(eio.get("bestandsdelen") or [], key=lambda part: int(part["volgnummer"]))
    return [part for part in parts if not part.get("voltooid")]


async def put_part(zgw: ZgwClients, part: Mapping[str, Any], lock: str, reader: PartReader, filename: str) -> JSON:
    """PUT one bestandsdeel as a streamed multipart/form-data body with ``lock`` and ``inhoud``."""
    omvang = int(part["omvang"])
    boundary = uuid.uuid4().hex
    safe_name = "".join(ch for ch in filename if ch.isascii() and ch.isprintable() and ch not in '"\\') or "inhoud"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="lock"\r\n\r\n{lock}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="inhoud"; filename="{safe_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def stream() -> AsyncIterator[bytes]:
        yield head
        async for piece in reader.take(omvang):
            yield piece
        yield tail

    url = str(part["url"])
    with _document_errors():
        answer = await zgw.documenten.send_stream(
            "PUT", url, stream(), len(head) + omvang + len(tail), f"multipart/form-data; boundary={boundary}"
        )
    return answer if isinstance(answer, dict) else {}


# --- locks ------------------------------------------------------------------------------------------------------


async def lock_document(zgw: ZgwClients, url: str) -> str:
    with _document_errors():
        answer = await zgw.for_url(url).post(f"{url}/lock")
    lock = (answer or {}).get("lock")
    if not lock:
        raise ZgwError(f"POST {url}/lock → antwoord zonder lock", method="POST", url=f"{url}/lock")
    return str(lock)


async def unlock_document(zgw: ZgwClients, url: str, lock: str) -> None:
    """Unlock (the check-in or the end of an upload in bestandsdelen, which the API then completes)."""
    with _document_errors():
        await zgw.for_url(url).post(f"{url}/unlock", {"lock": lock})


async def patch_under_own_lock(client: ZgwApiClient, url: str, body: Mapping[str, Any], *,
                               force: bool = False) -> JSON:
    """PATCH fields of a document that is not checked out, under a lock of the gateway's own (the Documenten API
    takes no PATCH without one): lock, PATCH, unlock. ``force``: a lock left on it is released first (recovery
    undoing such a PATCH after the process that made it died between its lock and its unlock)."""
    if force and (await client.get(url)).get("locked"):
        await client.post(f"{url}/unlock", {})
    lock = (await client.post(f"{url}/lock") or {}).get("lock")
    try:
        answer = await client.patch(url, {**body, "lock": lock})
    finally:
        await client.post(f"{url}/unlock", {"lock": lock})
    return answer if isinstance(answer, dict) else {}


async def discard_document(zgw: ZgwClients, url: str, lock: str | None) -> None:
    """Delete a document this message created (compensation). A document still locked by an unfinished upload is
    first emptied (``bestandsomvang`` 0) and unlocked: the API deletes no locked document."""
    current = await zgw.documenten.get(url)
    if current.get("locked") and lock:
        try:
            await zgw.documenten.post(f"{url}/unlock", {"lock": lock})
        except ZgwValidationError:  # an incomplete upload cannot be unlocked as it is
            await zgw.documenten.patch(url, {"inhoud": None, "bestandsomvang": 0, "lock": lock})
            await zgw.documenten.post(f"{url}/unlock", {"lock": lock})
    await zgw.documenten.delete(url)


# --- errors a client can act on ---------------------------------------------------------------------------------


@contextmanager
def _document_errors() -> Iterator[None]:
    """413 (the backend's own size limit) and a wrong, missing or existing lock come out as their own classes."""
    try:
        yield
    except ZgwClientError as exc:
        refined = _refined(exc)
        if refined is None:
            raise
        raise refined from exc


def _refined(exc: ZgwClientError) -> ZgwClientError | None:
    if exc.status == 413:
        return ZgwTooLarge.refining(exc)
    codes = {param.code for param in exc.invalid_params}
    for code, cls in LOCK_ERRORS.items():
        if code in codes:
            return cls.refining(exc)
    return None
