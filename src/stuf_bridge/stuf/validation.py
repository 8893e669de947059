"""Schema validation of StUF messages with the project's own XSDs, in libxml2 (lxml) for speed.

The schema is chosen by the namespace of the message's root element: ZKN (ZDS 1.1), ZDS (ZDS 1.2) or StUF
(acknowledgements and faults). Each entry schema imports every other namespace exactly once, which is what
lets libxml2 load it (the official files import the StUF namespace from several partial files, which it cannot).
"""

from __future__ import annotations

import itertools
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from lxml import etree

from .namespaces import STUF, ZDS, ZKN

if TYPE_CHECKING:
    from ..settings import Settings

ENTRY_SCHEMAS = {ZKN: "zds11.xsd", ZDS: "zds12.xsd", STUF: "stuf.xsd"}
# Root schema per namespace inside an unpacked official VNG bundle (SCHEMAS.md §3).
OFFICIAL_ROOTS = {ZKN: "zkn0310/zkn0310_msg_totaal.xsd", ZDS: "zds0120/berichten/zds0120_msg_zs-dms.xsd"}
QUOTED_MAX = 40  # longest value a schema error may quote whole
MAX_ISSUES = 20


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
    """The three entry schemas, loaded once; optionally an official bundle per dialect instead of ours."""

    def __init__(self, xsd_dir: Path | None = None, *, official: dict[str, Path] | None = None):
        self.xsd_dir = (xsd_dir or default_xsd_dir()).resolve()
        self._official = {namespace: _load_official(namespace, bundle)
                          for namespace, bundle in (official or {}).items()}
        self._schemas: dict[str, etree.XMLSchema] = {}
        for namespace, filename in ENTRY_SCHEMAS.items():
            path = self.xsd_dir / filename
            if not path.is_file():
                raise SchemaLoadError(f"schema {path} is missing")
            try:
                self._schemas[namespace] = etree.XMLSchema(etree.parse(str(path)))
            except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
                raise SchemaLoadError(f"schema {path} does not load: {exc}") from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> Schemas:
        official = {ZKN: settings.official_xsd_zds11, ZDS: settings.official_xsd_zds12}
        return cls(settings.xsd_dir, official={ns: path for ns, path in official.items() if path is not None})

    def validate(self, message: etree._Element) -> list[SchemaIssue]:
        """The schema errors of a message (empty when valid), in document order; at most MAX_ISSUES."""
        namespace = etree.QName(message).namespace
        official = self._official.get(namespace or "")
        if official is not None:
            return [
                SchemaIssue(getattr(err.elem, "sourceline", None) or 0, err.path or "/",
                            without_values(err.reason or str(err)))
                for err in itertools.islice(official.iter_errors(message), MAX_ISSUES)
            ]
        schema = self._schemas.get(namespace or "")
        if schema is None:
            line = getattr(message, "sourceline", None) or 0
            return [SchemaIssue(line, "/", f"geen schema voor namespace {namespace}")]
        if schema.validate(message):
            return []
        return [
            SchemaIssue(entry.line, _short_path(entry.path), without_values(entry.message))
            for entry in itertools.islice(cast(Iterable[Any], schema.error_log), MAX_ISSUES)
        ]


def _load_official(namespace: str, bundle: Path) -> Any:
    """An official VNG bundle through xmlschema: the stock files import one namespace from several partial files,
    which libxml2 cannot load, so every location is loaded, and 'lax' steps over xmlschema's false positive on
    prohibited fixed attributes (SCHEMAS.md §1.4). Loading takes seconds; validation is ~100× slower than ours."""
    import xmlschema
    from xmlschema.loaders import LocationSchemaLoader

    root = bundle / OFFICIAL_ROOTS[namespace]
    if not root.is_file():
        raise SchemaLoadError(f"official bundle {bundle} has no {OFFICIAL_ROOTS[namespace]}")
    try:
        with warnings.catch_warnings():
            # The 1.1 bundle includes a corv/ file VNG never shipped; xmlschema warns and carries on.
            warnings.simplefilter("ignore", xmlschema.XMLSchemaIncludeWarning)
            return xmlschema.XMLSchema(str(root), loader_class=LocationSchemaLoader, validation="lax", allow="local")
    except (xmlschema.XMLSchemaException, OSError) as exc:
        raise SchemaLoadError(f"official bundle {bundle} does not load: {exc}") from exc


def _short_path(path: str | None) -> str:
    """libxml2 paths are absolute from the envelope; keep them readable."""
    if not path:
        return "/"
    return path.replace("/*[local-name()='Envelope']", "").replace("/*[local-name()='Body']", "")


_QUOTED = re.compile(r"'([^']*)'")


def without_values(message: str) -> str:
    """A schema error quotes the value it refuses; a document's base64 ``inhoud`` or a pasted text would then stand
    in the log line and the fault. The value of an ``inhoud`` is never quoted, other long values not whole: only
    their length is said. The names in the message (element, type, facet) stay."""
    content = message.startswith("Element '") and message.split("'", 2)[1].endswith("inhoud")
    index = -1

    def shown(match: re.Match[str]) -> str:
        nonlocal index
        index += 1
        value = match.group(1)
        if index == 0 and message.startswith("Element '"):  # the element's name
            return match.group(0)
        if (content and index == 1) or len(value) > QUOTED_MAX:  # libxml2: "Element 'name': 'value' is not …"
            return f"({len(value)} tekens)"
        return match.group(0)

    return _QUOTED.sub(shown, message)
