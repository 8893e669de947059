"""The two path languages of the mapping files, compiled once at load.

StUF paths are relative to the element a rule works on::

    identificatie                      a child in the mapping's namespace (ZKN unless the mapping says BG/StUF)
    isVan/gerelateerde/code            descendants, one step per element
    BG:inp.bsn  StUF:tijdstipRegistratie   an explicit prefix: ZKN, BG, StUF, gml, xmime, xsi
    extraElementen[naam=kvkNummer]     sugar for StUF:extraElementen/StUF:extraElement[@naam='kvkNummer']
    StUF:extraElement[@naam=x]         a step with an attribute predicate
    inhoud/@StUF:bestandsnaam  @naam   an attribute (last step only)
    .                                  the element itself (its text)

A few StUF-owned element names (extraElementen, extraElement, tijdstipRegistratie, tijdvak…) are in the StUF
namespace without a prefix.

ZGW paths are dotted keys into the JSON object: ``opschorting.reden``, ``_expand.zaaktype.identificatie``. Lists
are not indexed in paths; a rule with ``many: true`` maps each list item.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ..stuf.namespaces import BG, GML, STUF, XMIME, XSI, ZKN

PREFIXES = {"ZKN": ZKN, "BG": BG, "StUF": STUF, "gml": GML, "xmime": XMIME, "xsi": XSI}
STUF_NAMES = frozenset(
    {
        "extraElementen",
        "extraElement",
        "tijdstipRegistratie",
        "tijdvakGeldigheid",
        "beginGeldigheid",
        "eindGeldigheid",
        "tijdvakRelatie",
        "beginRelatie",
        "eindRelatie",
    }
)

_NAME = r"[A-Za-z_][\w.\-]*"
_STEP = re.compile(
    rf"^(?:(?P<prefix>\w+):)?(?P<name>{_NAME})"
    rf"(?:\[@?(?:(?P<aprefix>\w+):)?(?P<attr>{_NAME})=(?:'(?P<q1>[^']*)'|\"(?P<q2>[^\"]*)\"|(?P<bare>[^\]'\"]+))\])?$"
)
_ATTR = re.compile(rf"^@(?:(?P<prefix>\w+):)?(?P<name>{_NAME})$")
_ZGW = re.compile(r"^[A-Za-z_$][\w\-]*(?:\.[A-Za-z_$][\w\-]*)*$")


@dataclass(frozen=True, slots=True)
class Step:
    tag: str  # Clark name
    attr: str | None = None  # predicate attribute (Clark name or plain)
    value: str | None = None

    def matches(self, el: etree._Element) -> bool:
        return self.attr is None or el.get(self.attr) == self.value


@dataclass(frozen=True, slots=True)
class StufPath:
    text: str
    steps: tuple[Step, ...]
    attribute: str | None = None  # a final @attribute (Clark name or plain)

    @property
    def is_self(self) -> bool:
        return not self.steps and self.attribute is None

    @property
    def head(self) -> str | None:
        """Clark name of the first step: the child of the rule's element that the rule touches."""
        return self.steps[0].tag if self.steps else None

    def __str__(self) -> str:
        return self.text


def _clark(prefix: str | None, name: str, default_ns: str) -> str:
    if prefix is None:
        return f"{{{STUF if name in STUF_NAMES else default_ns}}}{name}"
    try:
        return f"{{{PREFIXES[prefix]}}}{name}"
    except KeyError:
        raise ValueError(f"unknown prefix {prefix!r} (known: {', '.join(PREFIXES)})") from None


def parse_stuf_path(text: str, default_ns: str = ZKN) -> StufPath:
    """Compile a StUF path; ValueError names what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty StUF path")
    text = text.strip()
    if text == ".":
        return StufPath(text, ())
    parts = text.split("/")
    attribute = None
    if parts[-1].startswith("@"):
        m = _ATTR.match(parts.pop())
        if m is None:
            raise ValueError(f"bad attribute step in {text!r}")
        prefix = m.group("prefix")
        attribute = m.group("name") if prefix is None else _clark(prefix, m.group("name"), default_ns)
    steps: list[Step] = []
    for part in parts:
        m = _STEP.match(part)
        if m is None:
            raise ValueError(f"bad step {part!r} in {text!r}")
        name = m.group("name")
        tag = _clark(m.group("prefix"), name, default_ns)
        attr = m.group("attr")
        if attr is None:
            steps.append(Step(tag))
            continue
        value = next(v for v in (m.group("q1"), m.group("q2"), m.group("bare")) if v is not None)
        aprefix = m.group("aprefix")
        attr_name = attr if aprefix is None else _clark(aprefix, attr, default_ns)
        if tag == f"{{{STUF}}}extraElementen":  # sugar: extraElementen[naam=x]
            steps.append(Step(tag))
            steps.append(Step(f"{{{STUF}}}extraElement", attr_name, value))
        else:
            steps.append(Step(tag, attr_name, value))
    return StufPath(text, tuple(steps), attribute)


def parse_zgw_path(text: str) -> tuple[str, ...]:
    if not isinstance(text, str) or not _ZGW.match(text.strip()):
        raise ValueError(f"bad ZGW path {text!r} (dotted keys, e.g. 'opschorting.reden')")
    return tuple(text.strip().split("."))


# --- reading StUF ----------------------------------------------------------------------------------------------


def children(el: etree._Element, tag: str) -> list[etree._Element]:
    return [child for child in el.iterchildren(tag)]


def find_first(el: etree._Element, steps: tuple[Step, ...]) -> etree._Element | None:
    """The first element along ``steps`` (first match at every level), or None."""
    current: etree._Element | None = el
    for step in steps:
        assert current is not None
        found = None
        for child in current.iterchildren(step.tag):
            if step.matches(child):
                found = child
                break
        if found is None:
            return None
        current = found
    return current


def find_all(el: etree._Element, steps: tuple[Step, ...]) -> list[etree._Element]:
    """Every element matching the last step, under the first match of the steps before it."""
    if not steps:
        return [el]
    parent = find_first(el, steps[:-1])
    if parent is None:
        return []
    last = steps[-1]
    return [child for child in parent.iterchildren(last.tag) if last.matches(child)]


# --- writing StUF ----------------------------------------------------------------------------------------------


def make_child(parent: etree._Element, step: Step, order: Mapping[str, int] | None = None) -> etree._Element:
    """A new child for ``step``, placed by ``order`` (schema order of the parent's children) when given."""
    child = etree.Element(step.tag)
    if step.attr is not None and step.value is not None:
        child.set(step.attr, step.value)
    place(parent, child, order)
    return child


def place(parent: etree._Element, child: etree._Element, order: Mapping[str, int] | None) -> None:
    if order is None or child.tag not in order:
        parent.append(child)
        return
    rank = order[child.tag]
    for index, existing in enumerate(parent):
        if isinstance(existing.tag, str) and order.get(existing.tag, -1) > rank:
            parent.insert(index, child)
            return
    parent.append(child)


def ensure(
    parent: etree._Element,
    steps: tuple[Step, ...],
    order: Mapping[str, int] | None = None,
    *,
    reuse_last: bool = False,
) -> etree._Element:
    """The element at ``steps`` below ``parent``: existing containers are reused; the last step is new unless
    ``reuse_last`` (an attribute or a choice container goes on the element already written)."""
    current = parent
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        existing = None
        if not last or reuse_last:
            for child in current.iterchildren(step.tag):
                if step.matches(child):
                    existing = child
        current = existing if existing is not None else make_child(current, step, order if i == 0 else None)
    return current


# --- ZGW JSON --------------------------------------------------------------------------------------------------

_MISSING: Any = object()


def get_in(data: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
        if data is None:
            return None
    return data


def set_in(data: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for key in keys[:-1]:
        nxt = data.get(key)
        if not isinstance(nxt, dict):
            nxt = data[key] = {}
        data = nxt
    data[keys[-1]] = value


def has_in(data: Any, keys: tuple[str, ...]) -> bool:
    for key in keys:
        if not isinstance(data, Mapping) or key not in data:
            return False
        data = data[key]
    return True


def is_empty(value: Any) -> bool:
    """No ZGW value: None, "", [] or {} (False and 0 are values)."""
    return value is None or (isinstance(value, (str, list, dict, tuple)) and len(value) == 0)
