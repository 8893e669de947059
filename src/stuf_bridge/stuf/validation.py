"""Schema validation of StUF messages with the project's own XSDs, in libxml2 (lxml) for speed.

The schema is chosen by the namespace of the message's root element: ZKN (ZDS 1.1), ZDS (ZDS 1.2) or StUF
(acknowledgements and faults). Each entry schema imports every other namespace exactly once, which is what
lets libxml2 load it (the official files import the StUF namespace from several partial files, which it cannot).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .namespaces import STUF, ZDS, ZKN

ENTRY_SCHEMAS = {ZKN: "zds11.xsd", ZDS: "zds12.xsd", STUF: "stuf.xsd"}


@dataclass(frozen=True)
class SchemaIssue:
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"regel {self.line}, {self.path}: {self.message}"


class SchemaLoadError(Exception):
    pass


def default_xsd_dir() -> Path:
    """The installed schemas (wheel) or, in a source checkout, the repository's ``xsd/``."""
    packaged = Path(__file__).resolve().parent.parent / "_data" / "xsd"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "xsd"


class Schemas:
    """The three entry schemas, loaded once."""

    def __init__(self, xsd_dir: Path | None = None):
        self.xsd_dir = (xsd_dir or default_xsd_dir()).resolve()
        self._schemas: dict[str, etree.XMLSchema] = {}
        for namespace, filename in ENTRY_SCHEMAS.items():
            path = self.xsd_dir / filename
            if not path.is_file():
                raise SchemaLoadError(f"schema {path} is missing")
            try:
                self._schemas[namespace] = etree.XMLSchema(etree.parse(str(path)))
            except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
                raise SchemaLoadError(f"schema {path} does not load: {exc}") from exc

    def validate(self, message: etree._Element) -> list[SchemaIssue]:
        """All schema errors of a message (empty when valid), in document order."""
        namespace = etree.QName(message).namespace
        schema = self._schemas.get(namespace or "")
        if schema is None:
            return [SchemaIssue(message.sourceline or 0, "/", f"geen schema voor namespace {namespace}")]
        if schema.validate(message):
            return []
        return [
            SchemaIssue(entry.line, _short_path(entry.path), entry.message) for entry in schema.error_log
        ]


def _short_path(path: str | None) -> str:
    """libxml2 paths are absolute from the envelope; keep them readable."""
    if not path:
        return "/"
    return path.replace("/*[local-name()='Envelope']", "").replace("/*[local-name()='Body']", "")
