"""The official validators from ``reference/stuf``, loaded once per process (lazily; loading takes seconds).

* ZKN namespace (ZDS 1.1): ``zds-1.1.02/zkn0310/zkn0310_msg_totaal.xsd`` (includes the zs-dms vrije berichten);
* ZDS namespace (ZDS 1.2): the non-resolved ``zds-1.2/zds0120/berichten/zds0120_msg_zs-dms.xsd``;

both with xmlschema's ``LocationSchemaLoader`` in ``validation='lax'`` (the stock files import one namespace from
several partial files, and strict mode trips over a known false positive; see SCHEMAS.md §1.4);

* StUF namespace: ``zds-1.2/0301/stuf0301.xsd`` with lxml.

Everything is offline: xmlschema may only open local files, lxml gets ``no_network``.
"""

from __future__ import annotations

import copy
import functools
import itertools
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import xmlschema
from lxml import etree
from xmlschema.loaders import LocationSchemaLoader

from . import reference
from .reference import Dialect

__all__ = [
    "ROOTS",
    "OfficialValidator",
    "load_times",
    "official_errors",
    "validator",
    "xmlschema_schema",
]

ROOTS: dict[Dialect, str] = {
    "zds11": "stuf/zds-1.1.02/zkn0310/zkn0310_msg_totaal.xsd",
    "zds12": "stuf/zds-1.2/zds0120/berichten/zds0120_msg_zs-dms.xsd",
    "stuf": "stuf/zds-1.2/0301/stuf0301.xsd",
}
MAX_ERRORS = 5

_load_times: dict[str, float] = {}


class OfficialValidator(Protocol):
    def errors(self, element: etree._Element) -> list[str]: ...


@dataclass(frozen=True)
class _XmlschemaValidator:
    schema: xmlschema.XMLSchema

    def errors(self, element: etree._Element) -> list[str]:
        found = itertools.islice(self.schema.iter_errors(element), MAX_ERRORS)
        return [_describe(err) for err in found]


@dataclass(frozen=True)
class _LxmlValidator:
    schema: etree.XMLSchema

    def errors(self, element: etree._Element) -> list[str]:
        if self.schema.validate(_standalone(element)):
            return []
        return [f"{e.path}: {e.message}" for e in list(self.schema.error_log)[:MAX_ERRORS]]


def _root(dialect: Dialect) -> Path:
    ref = reference.reference_dir()
    if ref is None:
        raise FileNotFoundError("shared reference material not found")
    path = ref / ROOTS[dialect]
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


@functools.cache
def xmlschema_schema(dialect: Dialect) -> xmlschema.XMLSchema:
    """The official schema for ``dialect`` as an xmlschema object (LocationSchemaLoader, lax)."""
    path = _root(dialect)
    started = time.perf_counter()
    with warnings.catch_warnings():
        # zkn0310_msg_totaal.xsd includes corv/zkn0310_msg_corv.xsd, which is not shipped (and not needed)
        warnings.simplefilter("ignore", xmlschema.XMLSchemaIncludeWarning)
        schema = xmlschema.XMLSchema(str(path), loader_class=LocationSchemaLoader, validation="lax", allow="local")
    _load_times[f"xmlschema:{dialect}"] = time.perf_counter() - started
    return schema


@functools.cache
def _lxml_schema(dialect: Dialect) -> etree.XMLSchema:
    path = _root(dialect)
    started = time.perf_counter()
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    schema = etree.XMLSchema(etree.parse(str(path), parser))
    _load_times[f"lxml:{dialect}"] = time.perf_counter() - started
    return schema


@functools.cache
def validator(dialect: Dialect) -> OfficialValidator:
    """The official validator for a dialect (loaded on first use)."""
    if dialect == "stuf":
        return _LxmlValidator(_lxml_schema(dialect))
    return _XmlschemaValidator(xmlschema_schema(dialect))


def official_errors(element: etree._Element) -> list[str]:
    """Errors of the official schema for ``element``'s namespace (at most a few); empty means valid."""
    dialect = reference.classify(element)
    if dialect is None:
        return [f"no official schema for namespace {etree.QName(element).namespace!r}"]
    return validator(dialect).errors(element)


def load_times() -> dict[str, float]:
    """Seconds spent loading each official schema so far, keyed ``<library>:<dialect>``."""
    return dict(_load_times)


def _describe(err: xmlschema.XMLSchemaValidationError) -> str:
    reason = (err.reason or err.message or "").strip().splitlines()[0]
    return f"{err.path}: {reason}" if err.path else reason


def _standalone(element: etree._Element) -> etree._ElementTree:
    """``element`` as the root of its own document (copied unless it already is one)."""
    if element.getparent() is None:
        return element.getroottree()
    return etree.ElementTree(copy.deepcopy(element))
