"""Conditions (``when``), compiled to small closures.

A condition sees both sides of the rule's scope: the StUF element and the ZGW object. Reading StUF (in), the
element is the message and the ZGW object is what the rules before this one built; writing StUF (out), the ZGW
object is the data and the element is what has been written so far. ``dialect`` and ``mode`` come from the
context. Paths are relative to the rule's scope, like the rule's own paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

from ..stuf.values import element_value
from .model import Cond
from .paths import StufPath, find_first, get_in, is_empty, parse_stuf_path, parse_zgw_path

Test = Callable[[etree._Element | None, Mapping[str, Any], str, str | None], bool]


def compile_cond(cond: Cond, default_ns: str) -> Test:
    """A test ``(element, zgw_object, dialect, mode) -> bool``; ValueError for a bad path."""
    if cond.present is not None:
        path = parse_stuf_path(cond.present, default_ns)
        return lambda el, obj, d, m: _stuf_text(el, path) is not None
    if cond.absent is not None:
        path = parse_stuf_path(cond.absent, default_ns)
        return lambda el, obj, d, m: _stuf_text(el, path) is None
    if cond.equals is not None:
        checks = [(parse_stuf_path(k, default_ns), _expected(v)) for k, v in cond.equals.items()]
        return lambda el, obj, d, m: all(_stuf_text(el, p) in want for p, want in checks)
    if cond.zgw_present is not None:
        keys = parse_zgw_path(cond.zgw_present)
        return lambda el, obj, d, m: not is_empty(get_in(obj, keys))
    if cond.zgw_absent is not None:
        keys = parse_zgw_path(cond.zgw_absent)
        return lambda el, obj, d, m: is_empty(get_in(obj, keys))
    if cond.zgw_equals is not None:
        zchecks = [(parse_zgw_path(k), v) for k, v in cond.zgw_equals.items()]
        return lambda el, obj, d, m: all(_zgw_match(get_in(obj, k), v) for k, v in zchecks)
    if cond.dialect is not None:
        dialect = cond.dialect
        return lambda el, obj, d, m: d == dialect
    if cond.mode is not None:
        mode = cond.mode
        return lambda el, obj, d, m: m == mode
    if cond.all is not None:
        parts = [compile_cond(c, default_ns) for c in cond.all]
        return lambda el, obj, d, m: all(p(el, obj, d, m) for p in parts)
    if cond.any is not None:
        parts = [compile_cond(c, default_ns) for c in cond.any]
        return lambda el, obj, d, m: any(p(el, obj, d, m) for p in parts)
    assert cond.not_ is not None
    inner = compile_cond(cond.not_, default_ns)
    return lambda el, obj, d, m: not inner(el, obj, d, m)


def _stuf_text(el: etree._Element | None, path: StufPath) -> str | None:
    """The text at ``path`` (None when absent, nil or empty)."""
    if el is None:
        return None
    target = find_first(el, path.steps)
    if target is None:
        return None
    if path.attribute is not None:
        attribute: str | None = target.get(path.attribute)
        return attribute
    value = element_value(target)
    return value if isinstance(value, str) and value != "" else None


def _expected(value: Any) -> frozenset[str | None]:
    values = value if isinstance(value, list) else [value]
    return frozenset(None if v is None else _text(v) for v in values)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "J" if value else "N"
    return str(value)


def _zgw_match(actual: Any, expected: Any) -> bool:
    if isinstance(expected, list):
        return any(_zgw_match(actual, e) for e in expected)
    if expected is None:
        return is_empty(actual)
    return bool(actual == expected)
