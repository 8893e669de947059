"""What a trace may keep of a body: BSNs masked, document content replaced by its size and sha256, long bodies cut
with a visible marker.

BSNs are masked *by meaning*, as the log's warnings are (``pipeline/record.py``): the values of the message's BSN
elements (``inp.bsn``, ``bsn``, ...), every ``…bsn`` field or query parameter in a call's URL or JSON body, and the
same values wherever else they turn up. Numbers in general are not masked (dates, RSINs and identificaties stay
readable); a BSN in a free-text field that the message never names as a BSN is masked when it passes the 11-test.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

from ..pipeline.record import _hidden

_BSN_XML = re.compile(r"<((?:[\w.-]+:)?(?:inp\.bsn|bsn|BSN|burgerservicenummer))(\s[^>]*)?>\s*([^<\s]+)\s*</\1>")
_INHOUD_XML = re.compile(r"(<(?:[\w.-]+:)?inhoud(?:\s[^>]*)?>)([A-Za-z0-9+/=\s]{64,})(</(?:[\w.-]+:)?inhoud>)")
_NINE = re.compile(r"(?<![\d.-])\d{9}(?![\d-])")
_BSN_KEY = re.compile(r"bsn|burgerservicenummer", re.IGNORECASE)


def eleven_test(number: str) -> bool:
    """The BSN 11-test (weights 9..2, -1)."""
    if len(number) != 9 or not number.isdigit() or number == "000000000":
        return False
    return sum(int(d) * w for d, w in zip(number, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True)) % 11 == 0


class Masker:
    """Masks the BSNs known for one message (``secrets``) and those found as it goes; ``off`` keeps everything."""

    def __init__(self, secrets: Iterable[str] = (), *, off: bool = False, rsins: Iterable[str] = ()):
        self.secrets = {s for s in secrets if s}
        self.off = off
        self.rsins = set(rsins)  # RSINs the message names pass the 11-test too, and are no secret

    def learn_xml(self, text: str) -> None:
        for match in _BSN_XML.finditer(text):
            self.secrets.add(match.group(3))

    def url(self, url: str) -> str:
        """A URL with the values of ``…bsn…`` query parameters masked."""
        if self.off or "?" not in url:
            return url
        base, query = url.split("?", 1)
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        for key, value in pairs:
            if _BSN_KEY.search(key) and value:
                self.secrets.add(value)
        masked = [(k, _hidden(v) if _BSN_KEY.search(k) and v else v) for k, v in pairs]
        return self.text(base + "?" + urllib.parse.urlencode(masked, safe=":/"))

    def text(self, text: str) -> str:
        if self.off:
            return text
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, _hidden(secret))
        return _NINE.sub(lambda m: _hidden(m.group()) if eleven_test(m.group()) and m.group() not in self.rsins
                         else m.group(), text)

    def json_value(self, value: Any, key: str = "") -> Any:
        """A decoded JSON body with ``…bsn`` fields masked and document content (``inhoud``) replaced."""
        if isinstance(value, dict):
            return {k: self.json_value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json_value(v, key) for v in value]
        if isinstance(value, str):
            if key == "inhoud" and len(value) >= 64:
                return content_marker_b64(value)
            if _BSN_KEY.search(key) and value and not self.off:
                self.secrets.add(value)
                return _hidden(value)
        return value


def digest_marker(size: int, sha256: str) -> str:
    return f"[document: {size} bytes, sha256 {sha256}]"


def content_marker_b64(text: str) -> str:
    """The marker for base64 document content: its decoded size and sha256 (never the content)."""
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return f"[document: {len(text)} base64 characters, not decodable]"
    return digest_marker(len(data), hashlib.sha256(data).hexdigest())


def cut(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut at ``limit`` characters with a visible marker; and whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit] + f"\n… [cut by stuf-bridge: {limit} of {len(text)} characters shown]", True


def body(data: bytes | None, content_type: str | None, masker: Masker, limit: int,
         streamed: bool = False) -> dict[str, Any]:
    """A body as the trace keeps it: ``{"type", "size", "text", "cut"}``; binary and document content by size and
    sha256 only."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if data is None:
        return {"type": kind or None, "size": None, "text": "[streamed: not kept]" if streamed else None,
                "cut": False}
    out: dict[str, Any] = {"type": kind or None, "size": len(data), "cut": False}
    if not data:
        out["text"] = ""
        return out
    if kind.startswith("multipart/") or kind == "application/octet-stream" or (
            kind and not (kind.endswith(("json", "xml")) or kind.startswith("text/"))):
        out["text"] = digest_marker(len(data), hashlib.sha256(data).hexdigest())
        return out
    text = data.decode("utf-8", errors="replace")
    if kind.endswith("json"):
        try:
            decoded = json.loads(text)
        except ValueError:
            pass
        else:
            text = json.dumps(masker.json_value(decoded), ensure_ascii=False, indent=2)
    elif "xml" in kind or text.lstrip().startswith("<"):
        masker.learn_xml(text)
        text = _INHOUD_XML.sub(lambda m: m.group(1) + content_marker_b64(m.group(2)) + m.group(3), text)
    out["text"], out["cut"] = cut(masker.text(text), limit)
    return out
