"""Compare two XML documents as canonical XML and, when they differ, say where in a readable unified diff.

Both sides go through the same steps: whitespace-only text between elements is dropped (indentation is no
difference), volatile values are replaced by placeholders (``normalize``), the result is canonicalized (C14N 2.0:
attribute order, quoting, empty elements and where namespaces are declared no longer differ; prefixes do) and
pretty-printed one element per line, every namespace declared once on the root. Equal documents give equal lines;
a difference is shown as ``difflib.unified_diff`` of those lines, so the failing test names the element and value
that changed rather than two long byte strings.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from lxml import etree

Normalizer = Callable[[etree._Element], None]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


def canonical_lines(xml: bytes | str | etree._Element, normalize: Normalizer | None = None) -> list[str]:
    """The pretty-printed canonical form of ``xml``, one line per element, after ``normalize`` (which edits the
    tree in place)."""
    root = _copy(xml)
    for element in root.iter():
        if len(element) and element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    if normalize is not None:
        normalize(root)
    canonical = etree.canonicalize(root)
    pretty = etree.fromstring(canonical.encode("utf-8"), _PARSER)
    etree.cleanup_namespaces(pretty, top_nsmap=_top_nsmap(pretty))  # C14N declares each where used: hoist them
    etree.indent(pretty, space="  ")
    return etree.tostring(pretty, encoding="unicode").splitlines()


def xml_diff(actual: bytes | str | etree._Element, expected: bytes | str | etree._Element,
             normalize: Normalizer | None = None, *, names: tuple[str, str] = ("expected", "actual")) -> str:
    """A unified diff from ``expected`` to ``actual`` as canonical XML; empty when they are equal."""
    lines = difflib.unified_diff(canonical_lines(expected, normalize), canonical_lines(actual, normalize),
                                 fromfile=names[0], tofile=names[1], lineterm="")
    return "\n".join(lines)


def assert_xml_equal(actual: bytes | str | etree._Element, expected: bytes | str | etree._Element,
                     normalize: Normalizer | None = None, *, names: tuple[str, str] = ("expected", "actual")) -> None:
    """Fail with the unified diff of the canonical forms when ``actual`` and ``expected`` differ."""
    diff = xml_diff(actual, expected, normalize, names=names)
    if diff:
        raise AssertionError(f"the XML differs (- {names[0]}, + {names[1]}):\n{diff}")


def _top_nsmap(root: etree._Element) -> dict[str, str]:
    """Every prefix the document uses for a single namespace (a prefix bound to two stays where it is)."""
    seen: dict[str, set[str]] = {}
    for element in root.iter():
        for prefix, uri in element.nsmap.items():
            if prefix is not None:
                seen.setdefault(prefix, set()).add(uri)
    return {prefix: next(iter(uris)) for prefix, uris in seen.items() if len(uris) == 1}


def _copy(xml: bytes | str | etree._Element) -> etree._Element:
    if isinstance(xml, etree._Element):
        return etree.fromstring(etree.tostring(xml), _PARSER)
    return etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml, _PARSER)
