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
from ..stuf.values import elfproef

_BSN_XML = re.compile(r"<((?:[\w.-]+:)?(?:inp\.bsn|bsn|BSN|burgerservicenummer))(\s[^>]*)?>\s*([^<\s]+)\s*</\1>")
_INHOUD_XML = re.compile(r"(<(?:[\w.-]+:)?inhoud(?:\s[^>]*)?>)([A-Za-z0-9+/=\s]{64,})(</(?:[\w.-]+:)?inhoud>)")
_NINE = re.compile(r"(?<![\d.-])\d{9}(?![\d-])")
_BSN_KEY = re.compile(r"bsn|burgerservicenummer", re.IGNORECASE)


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

    def known(self, text: str) -> str:
        """The BSNs known so far masked (a plain replace per value: cheap)."""
        if self.off:
            return text
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, _hidden(secret))
        return text

    def text(self, text: str) -> str:
        """A free text (a warning, an error, a plain body): the known BSNs, and any nine-digit number that passes
        the 11-test and is no RSIN the message names."""
        if self.off:
            return text
        text = self.known(text)
        return _NINE.sub(lambda m: _hidden(m.group()) if elfproef(m.group()) and m.group() not in self.rsins
                         else m.group(), text)

    def json_field(self, match: re.Match[str]) -> str:
        """A ``"…bsn…": "value"`` pair of a JSON text, its value masked (and remembered)."""
        value = match.group(3)
        self.secrets.add(value)
        return f'"{match.group(1)}"{match.group(2)}"{_hidden(value)}"'


def readable(text: str | None, kind: str | None = None) -> str:
    """A kept body indented for reading: JSON by ``json``, XML by lxml; anything else (or a cut body) as it is."""
    if not text:
        return text or ""
    stripped = text.lstrip()
    if (kind or "").endswith("json") or stripped[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
        except ValueError:
            return text
    if stripped.startswith("<"):
        from lxml import etree

        try:
            parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
            return etree.tostring(etree.fromstring(text.encode(), parser), pretty_print=True, encoding="unicode")
        except etree.XMLSyntaxError:
            return text
    return text


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


_JSON_BSN = re.compile(r'"([^"]*(?:bsn|Bsn|BSN|burgerservicenummer)[^"]*)"(\s*:\s*)"([^"]+)"')
_BSN_HINT = re.compile(r"bsn|burgerservicenummer", re.IGNORECASE)
_JSON_INHOUD = re.compile(r'"inhoud"(\s*:\s*)"([A-Za-z0-9+/=\\n]{64,})"')


def body(data: bytes | None, content_type: str | None, masker: Masker, limit: int,
         streamed: bool = False) -> dict[str, Any]:
    """A body as the trace keeps it: ``{"type", "size", "text", "cut"}``; binary and document content by size and
    sha256 only. Kept as it went over the wire (the page indents it for reading): a parse and a re-dump of every
    JSON body would cost more than the rest of the trace together."""
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
        if '"inhoud"' in text:
            text = _JSON_INHOUD.sub(lambda m: f'"inhoud"{m.group(1)}"{content_marker_b64(m.group(2))}"', text)
        if not masker.off and _BSN_HINT.search(text):  # the field pattern is slow: only where a bsn field may be
            text = _JSON_BSN.sub(masker.json_field, text)
        text = masker.known(text)
    else:
        if "inhoud" in text:
            text = _INHOUD_XML.sub(lambda m: m.group(1) + content_marker_b64(m.group(2)) + m.group(3), text)
        if "xml" in kind or text.lstrip().startswith("<"):
            masker.learn_xml(text)
            text = masker.known(text)
        else:
            text = masker.text(text)
    out["text"], out["cut"] = cut(text, limit)
    return out
