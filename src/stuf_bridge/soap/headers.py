"""The HTTP Content-Type of a SOAP request: media type and parameters (charset, action, MTOM's boundary/start)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# name=value or name="quoted value" (with \" inside), as SOAP 1.2 MTOM nests start-info="...; action=\"...\""
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


@dataclass(frozen=True)
class ContentType:
    media_type: str
    charset: str | None
    action: str | None
    params: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def parse(cls, header: str | None) -> ContentType:
        if not header:
            return cls("", None, None)
        media_type, _, rest = header.partition(";")
        values: dict[str, str] = {}
        for match in _PARAM.finditer(";" + rest):
            value = match.group(2).strip()
            if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            values[match.group(1).lower()] = value.strip("'")
        return cls(media_type.strip().lower(), values.get("charset") or None, values.get("action") or None, values)

    @property
    def is_mtom(self) -> bool:
        return self.media_type == "multipart/related"

    def mtom_action(self) -> str | None:
        """SOAP 1.2 over MTOM puts the action in start-info (the root part's real media type)."""
        nested = self.params.get("start-info")
        return ContentType.parse("x;" + nested.split(";", 1)[1]).action if nested and ";" in nested else None


# What SOAP clients send: SOAP 1.1 (text/xml), SOAP 1.2 (application/soap+xml), MTOM (multipart/related), and
# plain application/xml from lenient clients. No Content-Type at all is taken as XML too.
SOAP_MEDIA_TYPES = frozenset({"text/xml", "application/soap+xml", "application/xml", "multipart/related"})


def soap_media_type(content_type: str | None) -> bool:
    """Could a body of this Content-Type be SOAP? (No Content-Type: perhaps; the bytes decide.)"""
    media_type = ContentType.parse(content_type).media_type
    return not media_type or media_type in SOAP_MEDIA_TYPES
