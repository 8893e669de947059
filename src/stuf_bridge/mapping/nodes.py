"""The executable form of mapping rules: small nodes that ``compiler`` builds once, at load.

A node maps one rule in both directions:

* ``read`` (StUF → ZGW) looks at the StUF element of its scope and writes into the ZGW object of its scope. The
  three outcomes stay apart: a value is *set*; ``xsi:nil`` with ``StUF:noValue="geenWaarde"`` *clears* (recorded
  in ``run.cleared`` with the ZGW value that clears the field, or, inside a group that ZGW receives whole, written
  into the group); an absent element, an empty one or another noValue leaves the field *unchanged*.
* ``write`` (ZGW → StUF) reads the ZGW object and appends elements in rule order (the schema's order).

Nodes are plain classes with ``__slots__``; paths are pre-split and converters built, and a run indexes each
element's children once, so a message costs a few dictionary look-ups per rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from ..stuf.namespaces import STUF, XSI
from ..stuf.values import ConversionError, Nil, clip_text, element_value, has_stray_no_value
from . import converters as conv
from .conditions import Test
from .errors import MappedValueError
from .paths import Step, StufPath, ensure, get_in, has_in, is_empty

NIL = f"{{{XSI}}}nil"
NO_VALUE = f"{{{STUF}}}noValue"
ENTITEITTYPE = f"{{{STUF}}}entiteittype"


# --- runs ------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """State of one mapping call. ``mode`` is create/update reading StUF, None writing it."""

    now: datetime
    dialect: str
    mode: str | None
    context: Any  # MappingContext (kept loose to avoid an import cycle)
    warnings: list[str] = field(default_factory=list)
    cleared: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    skipped: str | None = None
    ctx: conv.Ctx = field(init=False)

    _index: dict[int, tuple[etree._Element, dict[str, list[etree._Element]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ctx = conv.Ctx(self.now, self.warnings)

    def children(self, el: etree._Element) -> dict[str, list[etree._Element]]:
        """The element's children by tag, built once per element and call: a rule's look-up is a dict get."""
        hit = self._index.get(id(el))
        if hit is not None and hit[0] is el:
            return hit[1]
        by_tag: dict[str, list[etree._Element]] = {}
        for child in el:
            tag = child.tag
            if type(tag) is str:
                kids = by_tag.get(tag)
                if kids is None:
                    by_tag[tag] = [child]
                else:
                    kids.append(child)
        self._index[id(el)] = (el, by_tag)
        return by_tag

    def first(self, el: etree._Element, steps: tuple[Step, ...]) -> etree._Element | None:
        current = el
        for step in steps:
            kids = self.children(current).get(step.tag)
            if not kids:
                return None
            if step.attr is None:
                current = kids[0]
            else:
                for kid in kids:
                    if kid.get(step.attr) == step.value:
                        current = kid
                        break
                else:
                    return None
        return current

    def all(self, el: etree._Element, steps: tuple[Step, ...]) -> list[etree._Element]:
        if not steps:
            return [el]
        parent = self.first(el, steps[:-1]) if len(steps) > 1 else el
        if parent is None:
            return []
        last = steps[-1]
        kids = self.children(parent).get(last.tag, [])
        return kids if last.attr is None else [k for k in kids if k.get(last.attr) == last.value]

    def context_value(self, name: str) -> Any:
        if name == "now":
            return self.now.isoformat()
        return getattr(self.context, name, None)


def convert_in(run: Run, converter: conv.Converter, raw: str, target: etree._Element | None, where: str,
               max_length: int | None) -> Any:
    """A StUF value converted for ZGW (or conv.SKIP): a value the converter refuses is a MappedValueError that names
    ``where``; a text longer than ``max_length`` is clipped with a warning."""
    run.ctx.where = where
    try:
        result = converter.to_zgw(raw, target, run.ctx)
    except ConversionError as exc:
        raise MappedValueError(where, str(exc), value=raw) from None
    if max_length is not None and isinstance(result, str) and len(result) > max_length:
        result, lossy = clip_text(result, max_length, where)
        if lossy is not None:
            run.warnings.append(lossy.what)
    return result


@dataclass
class Body:
    """The rules a group runs inside its element: inline ``rules`` or a named mapping's (filled in later)."""

    name: str
    nodes: list[Node] = field(default_factory=list)
    entiteittype: str | None = None


class Node:
    __slots__ = ("ins", "origin", "outs", "when")

    def __init__(self, origin: str, ins: bool, outs: bool, when: Test | None):
        self.origin = origin
        self.ins = ins
        self.outs = outs
        self.when = when

    def read(self, run: Run, el: etree._Element, obj: dict[str, Any], whole: bool, spath: str) -> None:
        raise NotImplementedError

    def write(self, run: Run, data: Mapping[str, Any], el: etree._Element, order: Mapping[str, int] | None) -> None:
        raise NotImplementedError


# --- value rules -----------------------------------------------------------------------------------------------


class Leaf(Node):
    __slots__ = (
        "attributes",
        "clear",
        "clear_set",
        "const",
        "context_name",
        "converter",
        "default",
        "has_const",
        "max_in",
        "max_out",
        "required_in",
        "required_out",
        "stuf",
        "zgw",
        "zgw_text",
    )

    def __init__(self, origin: str, ins: bool, outs: bool, when: Test | None, **kw: Any):
        super().__init__(origin, ins, outs, when)
        self.stuf: StufPath | None = kw["stuf"]
        self.zgw: tuple[str, ...] | None = kw["zgw"]
        self.zgw_text: str = ".".join(self.zgw) if self.zgw else ""
        self.converter: conv.Converter = kw["converter"]
        self.max_in: int | None = kw["max_in"]
        self.max_out: int | None = kw["max_out"]
        self.default: str | None = kw["default"]
        self.clear: Any = kw["clear"]
        self.clear_set: bool = kw["clear_set"]
        self.required_in, self.required_out = _required(kw["required"])
        self.has_const: bool = kw["has_const"]
        self.const: Any = kw["const"]
        self.context_name: str | None = kw["context_name"]
        self.attributes: dict[str, str] = kw["attributes"]

    # StUF → ZGW
    def read(self, run: Run, el: etree._Element, obj: dict[str, Any], whole: bool, spath: str) -> None:
        if not self.ins or (self.when is not None and not self.when(el, obj, run.dialect, run.mode)):
            return
        if self.has_const:
            self._set(run, obj, whole, self.const)
            return
        if self.context_name is not None:
            value = run.context_value(self.context_name)
            if value is not None:
                self._set(run, obj, whole, value)
            return
        path = self.stuf
        assert path is not None
        target = run.first(el, path.steps) if path.steps else el
        raw: str | None = None
        if target is not None:
            if path.attribute is not None:
                raw = target.get(path.attribute)
            else:
                value = element_value(target)
                if isinstance(value, Nil):
                    if _clears(value):
                        self._clear(run, obj, whole)
                    return
                if has_stray_no_value(target):
                    run.warnings.append(f"{spath or path}: StUF:noValue bij een waarde; de waarde {value!r} is "
                                        "overgenomen")
                raw = value if value or self.converter.reads_element else None
        if raw is None:
            if run.mode != "create":
                return
            if self.default is not None:
                raw, target = self.default, None
            else:
                if self.required_in:
                    run.missing.append(self._where(spath))
                return
        result = convert_in(run, self.converter, raw, target, self._where(spath), self.max_in)
        if result is not conv.SKIP:
            self._set(run, obj, whole, result)

    def _where(self, spath: str) -> str:
        assert self.stuf is not None
        return spath if self.stuf.is_self else f"{spath}/{self.stuf.text}"

    def _set(self, run: Run, obj: dict[str, Any], whole: bool, value: Any) -> None:
        assert self.zgw is not None
        _set_in(obj, self.zgw, value)
        if not whole and run.cleared:
            run.cleared.pop(self.zgw_text, None)

    def _clear(self, run: Run, obj: dict[str, Any], whole: bool) -> None:
        _clear(run, obj, whole, self.zgw, self.zgw_text, self.clear, self.clear_set)

    # ZGW → StUF
    def write(self, run: Run, data: Mapping[str, Any], el: etree._Element, order: Mapping[str, int] | None) -> None:
        if not self.outs or (self.when is not None and not self.when(el, data, run.dialect, run.mode)):
            return
        path = self.stuf
        assert path is not None
        if self.has_const:
            text: Any = stuf_text(self.const)
        elif self.context_name is not None:
            value = run.context_value(self.context_name)
            if value is None:
                return
            text = str(value)
        else:
            assert self.zgw is not None
            value = get_in(data, self.zgw)
            if is_empty(value):
                if self.default is not None:
                    text = self.default
                elif self.required_out:
                    write_nil(el, path, order)
                    return
                else:
                    return
            else:
                run.ctx.where = self.zgw_text
                try:
                    text = self.converter.to_stuf(value, run.ctx)
                except ConversionError as exc:
                    run.warnings.append(f"{self.zgw_text}: {exc}; niet in het antwoord")
                    text = conv.SKIP
                if text is conv.SKIP:
                    if self.required_out:
                        write_nil(el, path, order)
                    return
        if self.max_out is not None and len(text) > self.max_out:
            text, lossy = clip_text(text, self.max_out, path.text)
            if lossy is not None:
                run.warnings.append(lossy.what)
        write_text(el, path, text, self.attributes, order)


def _clears(value: Nil) -> bool:
    """``geenWaarde`` clears; so does a bare ``xsi:nil="true"``, which is how StUF says a group has no value (groups
    carry no noValue) and what clients mean when they leave the noValue out. Other noValues change nothing."""
    return value.no_value is None or value.clears


def _clear(
    run: Run, obj: dict[str, Any], whole: bool, keys: tuple[str, ...] | None, text: str, clear: Any, clear_set: bool
) -> None:
    """``geenWaarde``. At the top of an object the field is cleared (PATCH sends ``clear``). Inside a group that ZGW
    receives whole, leaving the field out already says "no value"; ``clear`` is written there only when the rule
    declares one. A value set by an earlier rule for the same field wins over "no value"."""
    assert keys is not None
    if has_in(obj, keys):
        return
    if not whole:
        run.cleared[text] = clear
    elif clear_set:
        _set_in(obj, keys, clear)


def _required(value: bool | str) -> tuple[bool, bool]:
    if isinstance(value, str):
        return value == "in", value == "out"
    return bool(value), bool(value)


def stuf_text(value: Any) -> str:
    if isinstance(value, bool):
        return "J" if value else "N"
    return "" if value is None else str(value)


def _set_in(obj: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for key in keys[:-1]:
        nxt = obj.get(key)
        if not isinstance(nxt, dict):
            nxt = obj[key] = {}
        obj = nxt
    current = obj.get(keys[-1])
    if isinstance(current, dict) and isinstance(value, dict):
        current.update(value)
    else:
        obj[keys[-1]] = value


def write_text(
    el: etree._Element, path: StufPath, text: str, attributes: Mapping[str, str], order: Mapping[str, int] | None
) -> None:
    if path.is_self:
        el.text = text
        target = el
    elif not path.steps:
        assert path.attribute is not None
        el.set(path.attribute, text)
        return
    else:
        target = ensure(el, path.steps, order, reuse_last=path.attribute is not None)
        if path.attribute is not None:
            target.set(path.attribute, text)
        else:
            target.text = text
    for name, value in attributes.items():
        target.set(name, value)


def write_nil(el: etree._Element, path: StufPath, order: Mapping[str, int] | None) -> None:
    if path.attribute is not None or not path.steps:
        return
    target = ensure(el, path.steps, order)
    target.set(NIL, "true")
    target.set(NO_VALUE, "geenWaarde")


# --- groups ----------------------------------------------------------------------------------------------------


class Group(Node):
    """A StUF element with child rules. With ``zgw`` it fills a ZGW object (ZGW receives it whole); without, its
    children write into the enclosing object (a transparent nesting such as isVan/gerelateerde)."""

    __slots__ = (
        "attributes",
        "body",
        "clear",
        "clear_set",
        "complete",
        "many",
        "required_in",
        "required_out",
        "stuf",
        "zgw",
        "zgw_text",
    )

    def __init__(self, origin: str, ins: bool, outs: bool, when: Test | None, **kw: Any):
        super().__init__(origin, ins, outs, when)
        self.stuf: StufPath | None = kw["stuf"]
        self.zgw: tuple[str, ...] | None = kw["zgw"]
        self.zgw_text = ".".join(self.zgw) if self.zgw else ""
        self.many: bool = kw["many"]
        self.complete: tuple[tuple[str, ...], ...] = kw["complete"]
        self.body: Body = kw["body"]
        self.attributes: dict[str, str] = kw["attributes"]
        self.clear: Any = kw["clear"]
        self.clear_set: bool = kw["clear_set"]
        self.required_in, self.required_out = _required(kw["required"])

    def read(self, run: Run, el: etree._Element, obj: dict[str, Any], whole: bool, spath: str) -> None:
        if not self.ins or (self.when is not None and not self.when(el, obj, run.dialect, run.mode)):
            return
        where = f"{spath}/{self.stuf.text}" if self.stuf is not None else spath
        if self.many:
            self._read_many(run, el, obj, whole, where)
            return
        target = run.first(el, self.stuf.steps) if self.stuf is not None else el
        if target is None:
            if run.mode == "create" and self.required_in:
                run.missing.append(where)
            return
        value = element_value(target) if self.stuf is not None else None
        if isinstance(value, Nil):
            if _clears(value) and self.zgw is not None:
                self._clear(run, obj, whole)
            return
        if self.zgw is None:
            for node in self.body.nodes:
                node.read(run, target, obj, whole, where)
            return
        sub: dict[str, Any] = {}
        for node in self.body.nodes:
            node.read(run, target, sub, True, where)
        if not sub or not self._complete(run, sub, where):
            return
        _set_in(obj, self.zgw, sub)
        if not whole and run.cleared:
            run.cleared.pop(self.zgw_text, None)

    def _read_many(self, run: Run, el: etree._Element, obj: dict[str, Any], whole: bool, where: str) -> None:
        assert self.stuf is not None and self.zgw is not None
        found = run.all(el, self.stuf.steps)
        if not found:
            return
        items: list[dict[str, Any]] = []
        for target in found:
            value = element_value(target)
            if isinstance(value, Nil):
                if _clears(value) and len(found) == 1:
                    self._clear(run, obj, whole)
                    return
                continue
            sub: dict[str, Any] = {}
            for node in self.body.nodes:
                node.read(run, target, sub, True, where)
            if sub and self._complete(run, sub, where):
                items.append(sub)
        if items:
            _set_in(obj, self.zgw, items)
            if not whole and run.cleared:
                run.cleared.pop(self.zgw_text, None)

    def _complete(self, run: Run, sub: dict[str, Any], where: str) -> bool:
        missing = [".".join(keys) for keys in self.complete if is_empty(get_in(sub, keys))]
        if missing:
            run.warnings.append(f"{where}: overgeslagen, want {', '.join(missing)} ontbreekt")
            return False
        return True

    def _clear(self, run: Run, obj: dict[str, Any], whole: bool) -> None:
        _clear(run, obj, whole, self.zgw, self.zgw_text, self.clear, self.clear_set)

    def write(self, run: Run, data: Mapping[str, Any], el: etree._Element, order: Mapping[str, int] | None) -> None:
        if not self.outs or (self.when is not None and not self.when(el, data, run.dialect, run.mode)):
            return
        sub: Any = get_in(data, self.zgw) if self.zgw is not None else data
        if self.many:
            if not isinstance(sub, list):
                return
            assert self.stuf is not None
            for item in sub:
                if isinstance(item, Mapping) and self._complete_out(item):
                    self._write_one(run, item, el, order)
            return
        if not isinstance(sub, Mapping) or (self.zgw is not None and is_empty(sub)) or not self._complete_out(sub):
            if self.required_out and self.stuf is not None:
                write_nil(el, self.stuf, order)
            return
        if self.stuf is None:
            for node in self.body.nodes:
                node.write(run, sub, el, None)
            return
        self._write_one(run, sub, el, order)

    def _write_one(self, run: Run, sub: Mapping[str, Any], el: etree._Element, order: Mapping[str, int] | None) -> None:
        assert self.stuf is not None
        child = ensure(el, self.stuf.steps, order)
        for name, value in self.attributes.items():
            child.set(name, value)
        for node in self.body.nodes:
            node.write(run, sub, child, None)
        if len(child) == 0 and not (child.text and child.text.strip()):
            parent = child.getparent()
            if parent is not None:
                parent.remove(child)
            if self.required_out:
                write_nil(el, self.stuf, order)

    def _complete_out(self, sub: Mapping[str, Any]) -> bool:
        return all(not is_empty(get_in(sub, keys)) for keys in self.complete)


@dataclass(frozen=True)
class Case:
    value: str
    stuf: StufPath
    body: Body
    complete: tuple[tuple[str, ...], ...]
    attributes: dict[str, str]


class Choice(Node):
    """``switch``: the first present case element under ``stuf`` decides the ZGW discriminator ``on``."""

    __slots__ = ("by_value", "cases", "clear", "on", "otherwise", "stuf", "zgw")

    def __init__(self, origin: str, ins: bool, outs: bool, when: Test | None, **kw: Any):
        super().__init__(origin, ins, outs, when)
        self.stuf: StufPath = kw["stuf"]
        self.zgw: tuple[str, ...] | None = kw["zgw"]
        self.on: tuple[str, ...] = kw["on"]
        self.cases: tuple[Case, ...] = kw["cases"]
        self.by_value = {case.value: case for case in self.cases}
        self.otherwise: str = kw["otherwise"]
        self.clear: Any = kw["clear"]

    def read(self, run: Run, el: etree._Element, obj: dict[str, Any], whole: bool, spath: str) -> None:
        if not self.ins or (self.when is not None and not self.when(el, obj, run.dialect, run.mode)):
            return
        where = f"{spath}/{self.stuf.text}"
        container = run.first(el, self.stuf.steps)
        if container is None:
            return
        if isinstance(element_value(container), Nil):
            return
        for case in self.cases:
            target = run.first(container, case.stuf.steps)
            if target is None:
                continue
            case_where = f"{where}/{case.stuf.text}"
            sub: dict[str, Any] = {}
            for node in case.body.nodes:
                node.read(run, target, sub, True, case_where)
            missing = [".".join(k) for k in case.complete if is_empty(get_in(sub, k))]
            if missing:
                self._otherwise(run, f"{case_where}: {', '.join(missing)} ontbreekt")
                return
            _set_in(obj, self.on, case.value)
            if self.zgw is not None:
                _set_in(obj, self.zgw, sub)
            else:
                for key, value in sub.items():
                    _set_in(obj, (key,), value)
            return
        present = [etree.QName(child).localname for child in container if isinstance(child.tag, str)]
        found = f"{', '.join(present)} wordt niet vertaald" if present else "leeg"
        self._otherwise(run, f"{where}: {found}")

    def _otherwise(self, run: Run, reason: str) -> None:
        if self.otherwise == "error":
            raise MappedValueError(reason.split(": ", 1)[0], reason.split(": ", 1)[-1])
        if self.otherwise == "skip":
            run.skipped = reason
            run.warnings.append(f"{reason}; overgeslagen")

    def write(self, run: Run, data: Mapping[str, Any], el: etree._Element, order: Mapping[str, int] | None) -> None:
        if not self.outs or (self.when is not None and not self.when(el, data, run.dialect, run.mode)):
            return
        case = self.by_value.get(get_in(data, self.on))
        if case is None:
            return
        sub = get_in(data, self.zgw) if self.zgw is not None else data
        if not isinstance(sub, Mapping):
            sub = {}
        if not all(not is_empty(get_in(sub, k)) for k in case.complete):
            return
        container = ensure(el, self.stuf.steps, order, reuse_last=True)
        target = ensure(container, case.stuf.steps)
        for name, value in case.attributes.items():
            target.set(name, value)
        for node in case.body.nodes:
            node.write(run, sub, target, None)
