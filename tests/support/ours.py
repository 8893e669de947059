"""The project's own entry schemas (``xsd/zds11.xsd``, ``xsd/zds12.xsd``, ``xsd/stuf.xsd``) loaded with lxml.

Deliberately independent of the application's loader in ``src/``: plain ``etree.XMLSchema(etree.parse(...))``,
offline, cached per process. A missing entry file is reported by ``missing_reason`` so tests can skip that dialect.
``$STUF_BRIDGE_XSD_DIR`` points it at another directory with the same three entry files (as the app's tests do).
"""

from __future__ import annotations

import copy
import functools
import os
import time
from pathlib import Path

from lxml import etree

from . import reference
from .reference import Dialect

__all__ = ["ENTRY_FILES", "entry_path", "load_times", "missing_reason", "our_errors", "our_schema", "xsd_dir"]

XSD_DIR_ENV = "STUF_BRIDGE_XSD_DIR"
ENTRY_FILES: dict[Dialect, str] = {"zds11": "zds11.xsd", "zds12": "zds12.xsd", "stuf": "stuf.xsd"}
MAX_ERRORS = 5

_load_times: dict[str, float] = {}


def xsd_dir() -> Path:
    """The directory holding our entry schemas: ``$STUF_BRIDGE_XSD_DIR`` or ``<repo>/xsd``."""
    configured = os.environ.get(XSD_DIR_ENV)
    return Path(configured) if configured else reference.REPO_ROOT / "xsd"


def entry_path(dialect: Dialect) -> Path:
    return xsd_dir() / ENTRY_FILES[dialect]


def missing_reason(dialect: Dialect) -> str | None:
    """Why our schema for ``dialect`` cannot be used yet, or None when its entry file exists."""
    path = entry_path(dialect)
    if not path.is_file():
        return f"our entry schema {_shown(path)} does not exist yet"
    return None


@functools.cache
def our_schema(dialect: Dialect) -> etree.XMLSchema:
    """Our schema for ``dialect``; raises FileNotFoundError or etree.XMLSchemaParseError."""
    path = entry_path(dialect)
    if not path.is_file():
        raise FileNotFoundError(path)
    started = time.perf_counter()
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    schema = etree.XMLSchema(etree.parse(str(path), parser))
    _load_times[dialect] = time.perf_counter() - started
    return schema


def our_errors(element: etree._Element) -> list[str]:
    """Errors of our schema for ``element``'s namespace (at most a few); empty means valid."""
    dialect = reference.classify(element)
    if dialect is None:
        return [f"no schema of ours for namespace {etree.QName(element).namespace!r}"]
    schema = our_schema(dialect)
    doc = element.getroottree() if element.getparent() is None else etree.ElementTree(copy.deepcopy(element))
    if schema.validate(doc):
        return []
    return [f"{e.path}: {e.message}" for e in list(schema.error_log)[:MAX_ERRORS]]


def _shown(path: Path) -> str:
    return str(path.relative_to(reference.REPO_ROOT)) if path.is_relative_to(reference.REPO_ROOT) else str(path)


def load_times() -> dict[str, float]:
    """Seconds spent loading each of our schemas so far, keyed by dialect."""
    return dict(_load_times)
