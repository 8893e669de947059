"""A deterministic mutation corpus over a valid body, guided by an (official) xmlschema schema.

The body is walked alongside the schema to find, per instance element and attribute, its declaration: whether it
is required, its enumeration or fixed value, its maxLength. From that come four kinds of mutation:

* ``remove-required``: drop an element (or attribute) the schema requires;
* ``bad-enum``: a value outside an enumeration, or different from a fixed value (berichtcode, mutatiesoort,
  verwerkingssoort, entiteittype, J/N indicators, vertrouwelijkAanduiding, scope attributes, …);
* ``too-long``: a value one character longer than the maxLength (referentienummer, identificatie, omschrijving, …);
* ``swap-order``: two adjacent sibling elements with different names swap places.

Positions are picked broadly: a candidate group (the body's top-level child it lies under, e.g. stuurgegevens,
parameters, object) is drawn first, weighted by the square root of its number of candidates, then a candidate
inside it (the stuurgegevens, alike in every message, weigh half). Whether a mutation really breaks the message is
for the official validator to say; the generator only proposes.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import xmlschema
from lxml import etree
from xmlschema.validators import XsdAttribute, XsdComplexType, XsdElement, XsdGroup, XsdSimpleType

from stuf_bridge.stuf.namespaces import XSI

from .reference import NS

__all__ = ["KINDS", "Candidate", "Kind", "Mutation", "apply", "candidates", "generate", "seed_for"]

Kind = Literal["remove-required", "bad-enum", "too-long", "swap-order"]
KINDS: tuple[Kind, ...] = ("remove-required", "bad-enum", "too-long", "swap-order")

_PREFIXES = {uri: prefix for prefix, uri in NS.items()}


@dataclass(frozen=True)
class Candidate:
    """A possible mutation: the target's index in ``body.iter()``, optionally an attribute, and what to do."""

    kind: Kind
    index: int
    path: str
    attribute: str | None = None
    value: str | None = None  # the new value (bad-enum, too-long)
    detail: str = ""

    @property
    def group(self) -> str:
        return _group(self.path)


@dataclass(frozen=True)
class Mutation:
    """A mutated copy of a body with a readable description."""

    kind: Kind
    path: str
    detail: str
    body: etree._Element

    @property
    def description(self) -> str:
        return f"{self.kind} at {self.path}: {self.detail}"

    @property
    def group(self) -> str:
        return _group(self.path)

    def __str__(self) -> str:
        return self.description


def _group(path: str) -> str:
    """Local name of the body's top-level child a path lies under (e.g. 'object'), or '' for the body itself."""
    steps = path.split("/")
    return steps[2].split(":")[-1].split("[")[0] if len(steps) > 2 else ""


def seed_for(name: str, base: int = 0) -> int:
    """A stable seed for a body name (``hash()`` is salted per process, crc32 is not)."""
    return zlib.crc32(name.encode("utf-8")) ^ base


def generate(
    body: etree._Element,
    schema: xmlschema.XMLSchema,
    *,
    seed: int,
    per_kind: int = 1,
    kinds: Sequence[Kind] = KINDS,
) -> list[Mutation]:
    """Up to ``per_kind`` mutations of each kind, chosen deterministically from ``seed``."""
    rng = random.Random(seed)
    pool = candidates(body, schema)
    chosen: list[Candidate] = []
    for kind in kinds:
        chosen.extend(_pick([c for c in pool if c.kind == kind], per_kind, rng))
    return [apply(body, c) for c in chosen]


def candidates(body: etree._Element, schema: xmlschema.XMLSchema) -> list[Candidate]:
    """Every mutation the schema knowledge allows on ``body``, in document order."""
    nodes = list(body.iter())  # keeps the lxml proxies alive, so their ids stay stable below
    index = {id(el): i for i, el in enumerate(nodes)}
    found: list[Candidate] = []
    decl = schema.maps.elements.get(body.tag)
    for elem, elem_decl in _walk(body, decl, schema):
        found.extend(_element_candidates(elem, elem_decl, index[id(elem)]))
    for parent in nodes:
        kids = [k for k in parent if isinstance(k.tag, str)]
        for left, right in itertools.pairwise(kids):
            if left.tag != right.tag:
                found.append(
                    Candidate(
                        "swap-order",
                        index[id(left)],
                        _path(left),
                        detail=f"swapped with following {_qname(right)}",
                    )
                )
    return found


def apply(body: etree._Element, candidate: Candidate) -> Mutation:
    """A mutated copy of ``body``."""
    mutated = copy.deepcopy(body)
    target = list(mutated.iter())[candidate.index]
    if candidate.kind == "remove-required":
        if candidate.attribute is not None:
            del target.attrib[candidate.attribute]
        else:
            parent = target.getparent()
            assert parent is not None
            parent.remove(target)  # lxml takes the tail (whitespace here) along
    elif candidate.kind == "swap-order":
        following = next(k for k in target.itersiblings() if isinstance(k.tag, str))
        following.addnext(target)  # moves it, tail included
    elif candidate.attribute is not None:
        target.set(candidate.attribute, candidate.value or "")
    else:
        target.text = candidate.value
    return Mutation(candidate.kind, candidate.path + _attr_suffix(candidate), candidate.detail, mutated)


# --- walking the body alongside the schema --------------------------------------------------------------------


def _walk(
    elem: etree._Element, decl: XsdElement | None, schema: xmlschema.XMLSchema
) -> Iterator[tuple[etree._Element, XsdElement]]:
    if decl is None:
        return
    yield elem, decl
    xsd_type = decl.type
    if elem.get(f"{{{XSI}}}type") is not None or not isinstance(xsd_type, XsdComplexType):
        return  # an xsi:type override is not followed
    if not isinstance(xsd_type.content, XsdGroup):
        return
    particles = [p for p in xsd_type.content.iter_elements() if isinstance(p, XsdElement)]
    for child in elem:
        if not isinstance(child.tag, str):
            continue
        match = next((p for p in particles if p.is_matching(child.tag)), None)
        if match is not None and match.name != child.tag:  # a substitution group member
            match = schema.maps.elements.get(child.tag, match)
        yield from _walk(child, match, schema)


def _simple_type(xsd_type: XsdSimpleType | XsdComplexType) -> XsdSimpleType | None:
    """The simple type of an element's text: its own type, or the content of a complex type with simple content."""
    if isinstance(xsd_type, XsdSimpleType):
        return xsd_type
    return xsd_type.content if isinstance(xsd_type.content, XsdSimpleType) else None


def _element_candidates(elem: etree._Element, decl: XsdElement, index: int) -> Iterator[Candidate]:
    path = _path(elem)
    parent = elem.getparent()
    if parent is not None and decl.min_occurs >= 1:
        same = sum(1 for sib in parent if sib.tag == elem.tag)
        if same <= decl.min_occurs:
            yield Candidate("remove-required", index, path, detail=f"minOccurs={decl.min_occurs}")
    simple = _simple_type(decl.type)
    text = elem.text or ""
    has_value = text.strip() != "" and len(elem) == 0 and elem.get(f"{{{XSI}}}nil") not in ("true", "1")
    if simple is not None and has_value:
        yield from _value_candidates(index, path, None, text, simple, decl.fixed)
    if isinstance(decl.type, XsdComplexType):
        for name, value in elem.attrib.items():
            attr = decl.type.attributes.get(name)
            if not isinstance(attr, XsdAttribute) or attr.type is None or name.startswith(f"{{{XSI}}}"):
                continue
            if attr.use == "required":
                yield Candidate("remove-required", index, path, attribute=name, detail="use=required")
            yield from _value_candidates(index, path, name, value, attr.type, attr.fixed)


def _value_candidates(
    index: int, path: str, attribute: str | None, current: str, simple: XsdSimpleType, fixed: str | None
) -> Iterator[Candidate]:
    allowed = list(getattr(simple, "enumeration", None) or [])
    if fixed is not None:
        allowed = [fixed]
    if allowed:
        wrong = _wrong_value(current, [str(a) for a in allowed])
        what = f"fixed {fixed!r}" if fixed is not None else f"enumeration {allowed[:6]}"
        yield Candidate("bad-enum", index, path, attribute, wrong, f"{wrong!r} not in {what}")
    max_length = getattr(simple, "max_length", None)
    if max_length is not None and not allowed:
        long_value = ((current or "X") * (max_length // max(len(current), 1) + 2))[: max_length + 1]
        yield Candidate(
            "too-long", index, path, attribute, long_value, f"length {max_length + 1} > maxLength {max_length}"
        )


def _wrong_value(current: str, allowed: list[str]) -> str:
    """A value of the current one's length (when possible) that is not allowed."""
    stem = current[:-1] if current else ""
    for ch in "QXZ9":
        value = stem + ch
        if value not in allowed and value != current:
            return value
    return "ONGELDIG"


# --- choosing, paths, tree surgery ----------------------------------------------------------------------------


def _pick(pool: list[Candidate], count: int, rng: random.Random) -> list[Candidate]:
    """``count`` candidates without repeats: a group (top-level subtree) drawn with weight √(its candidates),
    halved for ``stuurgegevens`` (alike in every message), then a candidate in it."""
    remaining = list(pool)
    chosen: list[Candidate] = []
    while remaining and len(chosen) < count:
        sizes = Counter(c.group for c in remaining)
        groups = sorted(sizes)
        weights = [math.sqrt(sizes[g]) * (0.5 if g == "stuurgegevens" else 1.0) for g in groups]
        group = rng.choices(groups, weights=weights)[0]
        candidate = rng.choice([c for c in remaining if c.group == group])
        chosen.append(candidate)
        remaining.remove(candidate)
    return chosen


def _qname(elem: etree._Element) -> str:
    q = etree.QName(elem)
    prefix = _PREFIXES.get(q.namespace or "") or elem.prefix
    return f"{prefix}:{q.localname}" if prefix else q.localname


def _path(elem: etree._Element) -> str:
    steps: list[str] = []
    node: etree._Element | None = elem
    while node is not None:
        parent = node.getparent()
        step = _qname(node)
        if parent is not None:
            same = [sib for sib in parent if sib.tag == node.tag]
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))


def _attr_suffix(candidate: Candidate) -> str:
    if candidate.attribute is None:
        return ""
    q = etree.QName(candidate.attribute)
    prefix = _PREFIXES.get(q.namespace or "")
    return f"/@{prefix}:{q.localname}" if prefix else f"/@{q.localname}"
