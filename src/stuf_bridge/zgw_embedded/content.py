"""Streaming request bodies for document content.

- :func:`read_json_with_inhoud`: a JSON object whose top-level ``inhoud`` may be hundreds of MB of base64. The body
  is scanned as it arrives; the ``inhoud`` string is decoded in chunks straight into a file and everything else is
  kept (small) and parsed normally. Memory stays flat however large the document is.
- :func:`read_form`: ``multipart/form-data`` (or urlencoded) with a file field streamed to a file, for bestandsdelen.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import Request

from .problems import UnsupportedMediaType, ValidationFailed

_STRING_STOP = re.compile(rb'["\\]')
_WS = b" \t\r\n"
_ESCAPES = {ord("/"): b"/", ord("\\"): b"\\", ord('"'): b'"', ord("n"): b"", ord("r"): b"", ord("t"): b"",
            ord("b"): b"", ord("f"): b""}


class _Base64Sink:
    """Decodes base64 text arriving in pieces and writes the bytes to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path.open("wb")
        self.pending = bytearray()
        self.size = 0
        self.started = False
        self.header_checked = False

    def feed(self, text: bytes) -> None:
        self.started = True
        self.pending += text.translate(None, _WS)
        if not self.header_checked:
            if len(self.pending) < 128 and b"," not in self.pending:
                return
            self._strip_data_uri()
        usable = len(self.pending) - len(self.pending) % 4
        if usable:
            self._write(bytes(self.pending[:usable]))
            del self.pending[:usable]

    def _strip_data_uri(self) -> None:
        self.header_checked = True
        if self.pending.startswith(b"data:"):
            comma = self.pending.find(b",")
            if comma != -1 and b";base64" in self.pending[:comma]:
                del self.pending[: comma + 1]

    def _write(self, chunk: bytes) -> None:
        try:
            data = base64.b64decode(chunk, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed.one("inhoud", "invalid", "Upload een geldig bestand (base64).") from None
        self.file.write(data)
        self.size += len(data)

    def finish(self) -> None:
        if not self.header_checked:
            self._strip_data_uri()
        if self.pending:
            if len(self.pending) % 4:
                raise ValidationFailed.one("inhoud", "invalid", "Upload een geldig bestand (base64).")
            self._write(bytes(self.pending))
            self.pending.clear()
        self.file.close()

    def abort(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


@dataclass
class JsonWithInhoud:
    """The parsed body without ``inhoud``; ``inhoud`` tells what the client sent for it."""

    data: Any
    inhoud: str = "absent"  # "absent" | "null" | "file"
    path: Path | None = None
    size: int = 0


class _Scanner:
    def __init__(self, temp: Path) -> None:
        self.temp = temp
        self.rest = bytearray()
        self.depth = 0
        self.in_string = False
        self.escape = False
        self.expect_key = False
        self.collecting_key: bytearray | None = None
        self.last_key = b""
        self.value_for: bytes | None = None
        self.sink: _Base64Sink | None = None
        self.in_inhoud = False
        self.inhoud_escape = b""

    def feed(self, chunk: bytes) -> None:
        i, n = 0, len(chunk)
        while i < n:
            if self.in_inhoud:
                i = self._inhoud(chunk, i)
                continue
            if self.in_string:
                i = self._string(chunk, i)
                continue
            c = chunk[i]
            if c in _WS:
                self.rest.append(c)
                i += 1
                continue
            if c == 0x22:  # "
                if self.depth == 1 and self.value_for == b"inhoud":
                    self._start_inhoud()
                    i += 1
                    continue
                self.in_string = True
                self.collecting_key = bytearray() if self.depth == 1 and self.expect_key else None
                self.expect_key = False
            elif c in (0x7B, 0x5B):  # { [
                self.depth += 1
                self.expect_key = c == 0x7B and self.depth == 1
            elif c in (0x7D, 0x5D):  # } ]
                self.depth -= 1
            elif c == 0x2C and self.depth == 1:  # ,
                self.expect_key = True
            elif c == 0x3A and self.depth == 1:  # :
                self.value_for = self.last_key
                self.rest.append(c)
                i += 1
                continue
            self.value_for = None
            self.rest.append(c)
            i += 1

    def _string(self, chunk: bytes, i: int) -> int:
        if self.escape:
            self.escape = False
            self._keep(chunk[i:i + 1])
            return i + 1
        m = _STRING_STOP.search(chunk, i)
        if m is None:
            self._keep(chunk[i:])
            return len(chunk)
        j = m.start()
        self._keep(chunk[i:j + 1])
        if chunk[j] == 0x5C:  # backslash
            self.escape = True
        else:
            self.in_string = False
            if self.collecting_key is not None:
                self.last_key = bytes(self.collecting_key[:-1])
                self.collecting_key = None
        return j + 1

    def _keep(self, part: bytes) -> None:
        self.rest += part
        if self.collecting_key is not None:
            self.collecting_key += part

    def _start_inhoud(self) -> None:
        if self.sink is not None:  # a second "inhoud": the last one wins
            self.sink.abort()
        self.sink = _Base64Sink(self.temp)
        self.in_inhoud = True
        self.rest += b"true"
        self.value_for = None

    def _inhoud(self, chunk: bytes, i: int) -> int:
        assert self.sink is not None
        if self.inhoud_escape:
            need = 6 if self.inhoud_escape[1:2] == b"u" else 2
            take = chunk[i:i + need - len(self.inhoud_escape)]
            self.inhoud_escape += take
            i += len(take)
            if len(self.inhoud_escape) == 1 and i < len(chunk):
                return i
            if len(self.inhoud_escape) >= 2 and (self.inhoud_escape[1:2] != b"u" or len(self.inhoud_escape) == 6):
                self.sink.feed(_unescape(self.inhoud_escape))
                self.inhoud_escape = b""
            return i
        m = _STRING_STOP.search(chunk, i)
        if m is None:
            self.sink.feed(chunk[i:])
            return len(chunk)
        j = m.start()
        if j > i:
            self.sink.feed(chunk[i:j])
        if chunk[j] == 0x5C:
            self.inhoud_escape = b"\\"
            return j + 1
        self.sink.finish()
        self.in_inhoud = False
        return j + 1


def _unescape(escape: bytes) -> bytes:
    if escape[1:2] == b"u":
        try:
            return chr(int(escape[2:6], 16)).encode()
        except ValueError:
            raise ValidationFailed.one("inhoud", "invalid", "Upload een geldig bestand (base64).") from None
    return _ESCAPES.get(escape[1], b"?")


def _check_json(request: Request) -> None:
    ctype = request.headers.get("content-type", "")
    if ctype and ctype.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(f'Ongeldige media type "{ctype}" in aanvraag.')


async def read_json_with_inhoud(request: Request, temp: Path) -> JsonWithInhoud:
    """Read a JSON object, streaming a top-level base64 ``inhoud`` into ``temp`` (decoded)."""
    _check_json(request)
    scanner = _Scanner(temp)
    try:
        async for chunk in request.stream():
            scanner.feed(chunk)
    except BaseException:
        if scanner.sink is not None:
            scanner.sink.abort()
        raise
    if scanner.in_inhoud or scanner.in_string:
        if scanner.sink is not None:
            scanner.sink.abort()
        raise ValidationFailed.one("nonFieldErrors", "parse_error", "JSON parse error - onvolledige body.")
    try:
        data = json.loads(bytes(scanner.rest)) if scanner.rest.strip() else None
    except ValueError as exc:
        if scanner.sink is not None:
            scanner.sink.abort()
        raise ValidationFailed.one("nonFieldErrors", "parse_error", f"JSON parse error - {exc}") from None
    result = JsonWithInhoud(data=data)
    if isinstance(data, dict) and "inhoud" in data:
        value = data.pop("inhoud")
        if value is True and scanner.sink is not None:
            if scanner.sink.size == 0:  # "" is no file, as with Django REST framework's Base64FileField
                scanner.sink.path.unlink(missing_ok=True)
                result.inhoud = "null"
            else:
                result.inhoud, result.path, result.size = "file", scanner.sink.path, scanner.sink.size
        elif value is None:
            result.inhoud = "null"
        else:
            raise ValidationFailed.one("inhoud", "invalid", "Upload een geldig bestand (base64).")
    elif scanner.sink is not None:
        scanner.sink.abort()
    return result


# --- forms ------------------------------------------------------------------------------------------------------
@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    file_size: int | None = None  # None: the file field was not sent


_MAX_FIELD = 64 * 1024


async def read_form(request: Request, file_field: str, temp: Path) -> Form:
    """Read ``multipart/form-data`` (streamed) or ``application/x-www-form-urlencoded``; ``file_field`` goes to
    ``temp``, other fields are kept as text."""
    ctype = request.headers.get("content-type", "")
    main = ctype.split(";")[0].strip().lower()
    if main == "application/x-www-form-urlencoded":
        return await _read_urlencoded(request, file_field, temp)
    if main != "multipart/form-data":
        raise UnsupportedMediaType(f'Ongeldige media type "{ctype}" in aanvraag.')
    match = re.search(r'boundary="?([^";]+)"?', ctype)
    if not match:
        raise ValidationFailed.one("nonFieldErrors", "parse_error", "Multipart form parse error - geen boundary.")
    parser = _Multipart(match.group(1).encode("latin-1"), file_field, temp)
    try:
        async for chunk in request.stream():
            parser.feed(chunk)
        parser.close()
    except BaseException:
        parser.abort()
        raise
    return parser.form


async def _read_urlencoded(request: Request, file_field: str, temp: Path) -> Form:
    body = await request.body()
    form = Form()
    for pair in body.split(b"&"):
        if not pair:
            continue
        key, _, value = pair.partition(b"=")
        name = unquote_to_bytes(key.replace(b"+", b" ")).decode("utf-8", "replace")
        data = unquote_to_bytes(value.replace(b"+", b" "))
        if name == file_field:
            temp.write_bytes(data)
            form.file_size = len(data)
        else:
            form.fields[name] = data.decode("utf-8", "replace")
    return form


class _Multipart:
    def __init__(self, boundary: bytes, file_field: str, temp: Path) -> None:
        self.delimiter = b"--" + boundary
        self.file_field = file_field
        self.temp = temp
        self.form = Form()
        self.buffer = bytearray()
        self.state = "preamble"
        self.name: str | None = None
        self.out: Any = None
        self.value = bytearray()

    def _fail(self, reason: str) -> None:
        raise ValidationFailed.one("nonFieldErrors", "parse_error", f"Multipart form parse error - {reason}")

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk
        while True:
            if self.state == "preamble":
                idx = self.buffer.find(self.delimiter)
                if idx == -1:
                    del self.buffer[: max(0, len(self.buffer) - len(self.delimiter))]
                    return
                del self.buffer[: idx + len(self.delimiter)]
                self.state = "after-delimiter"
            elif self.state == "after-delimiter":
                if len(self.buffer) < 2:
                    return
                if self.buffer[:2] == b"--":
                    self.state = "end"
                    self.buffer.clear()
                    return
                end = self.buffer.find(b"\r\n")
                if end == -1:
                    return
                del self.buffer[: end + 2]
                self.state = "headers"
            elif self.state == "headers":
                end = self.buffer.find(b"\r\n\r\n")
                if end == -1:
                    if len(self.buffer) > 16 * 1024:
                        self._fail("te grote part headers")
                    return
                self._start_part(bytes(self.buffer[:end]).decode("latin-1"))
                del self.buffer[: end + 4]
                self.state = "body"
            elif self.state == "body":
                marker = b"\r\n" + self.delimiter
                idx = self.buffer.find(marker)
                if idx == -1:
                    keep = len(marker)
                    if len(self.buffer) > keep:
                        self._emit(bytes(self.buffer[: len(self.buffer) - keep]))
                        del self.buffer[: len(self.buffer) - keep]
                    return
                self._emit(bytes(self.buffer[:idx]))
                self._end_part()
                del self.buffer[: idx + len(marker)]
                self.state = "after-delimiter"
            else:  # end: ignore the epilogue
                self.buffer.clear()
                return

    def _start_part(self, headers: str) -> None:
        disposition = ""
        for line in headers.split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                disposition = value
        match = re.search(r'(?:^|;)\s*name="([^"]*)"', disposition) or re.search(r"(?:^|;)\s*name=([^;\s]+)",
                                                                                 disposition)
        self.name = match.group(1) if match else None
        if self.name == self.file_field:
            self.out = self.temp.open("wb")
            self.form.file_size = 0
        else:
            self.value = bytearray()

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        if self.out is not None:
            self.out.write(data)
            self.form.file_size = (self.form.file_size or 0) + len(data)
        else:
            self.value += data
            if len(self.value) > _MAX_FIELD:
                self._fail(f"veld {self.name!r} is te groot")

    def _end_part(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
        elif self.name is not None:
            self.form.fields[self.name] = self.value.decode("utf-8", "replace")
        self.name = None

    def close(self) -> None:
        if self.state != "end":
            self._fail("onvolledige body")

    def abort(self) -> None:
        if self.out is not None:
            self.out.close()
        self.temp.unlink(missing_ok=True)
