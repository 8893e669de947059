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
        self._ordered: list[str] | None = None  # the secrets longest first, until one is added

    def add(self, secret: str) -> None:
        if secret not in self.secrets:
            self.secrets.add(secret)
            self._ordered = None

    def learn_xml(self, text: str) -> None:
        if not _bsn_hint(text):  # the element pattern is slow: only where a BSN element may be
            return
        for match in _BSN_XML.finditer(text):
            self.add(match.group(3))

    def url(self, url: str) -> str:
        """A URL with the values of ``…bsn…`` query parameters masked."""
        if self.off or "?" not in url:
            return url
        base, query = url.split("?", 1)
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        for key, value in pairs:
            if _BSN_KEY.search(key) and value:
                self.add(value)
        masked = [(k, _hidden(v) if _BSN_KEY.search(k) and v else v) for k, v in pairs]
        return self.text(base + "?" + urllib.parse.urlencode(masked, safe=":/*"))

    def known(self, text: str) -> str:
        """The BSNs known so far masked (a plain replace per value: cheap)."""
        if self.off or not self.secrets:
            return text
        if self._ordered is None:
            self._ordered = sorted(self.secrets, key=len, reverse=True)
        for secret in self._ordered:
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


_BSN_WORDS = ("bsn", "Bsn", "BSN", "burgerservicenummer", "Burgerservicenummer")
_AFTER_BSN_KEY = re.compile(r'[^"]*"(\s*:\s*)"([^"]+)"')  # the rest of a key naming a BSN, then its string value


def _bsn_hint(text: str) -> bool:
    """Whether a text may name a BSN element or field: a few substring tests (memchr-fast), where a regex search
    would try every position."""
    return any(word in text for word in _BSN_WORDS)


def _mask_json_bsn_fields(text: str, masker: Masker) -> str:
    """The string value of every JSON key naming a BSN (``inpBsn``, ``bsn``, ``burgerservicenummer``, ...) masked
    and remembered as a secret. Found from each occurrence of the word (a plain find), not by a pattern tried at
    every quote."""
    spans: list[tuple[int, int]] = []
    for word in _BSN_WORDS:
        start = text.find(word)
        while start >= 0:
            match = _AFTER_BSN_KEY.match(text, start + len(word))
            if match is not None:
                spans.append(match.span(2))
            start = text.find(word, start + len(word))
    if not spans:
        return text
    pieces: list[str] = []
    last = 0
    for begin, end in sorted(set(spans)):
        if begin < last:
            continue
        value = text[begin:end]
        masker.add(value)
        pieces += [text[last:begin], _hidden(value)]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


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
        if not masker.off:
            text = _mask_json_bsn_fields(text, masker)
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
