"""Mapping rules (the pydantic vocabulary) compiled into executable nodes (``nodes``), once, at load: paths
pre-split, converters and code tables resolved, conditions turned into closures. A rule that cannot be compiled is
a ``CompileError`` naming the rule; the engine adds the file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import converters as conv
from .conditions import compile_cond
from .model import Rule
from .nodes import ENTITEITTYPE, Body, Case, Choice, Group, Leaf, Node, stuf_text
from .paths import PREFIXES, parse_stuf_path, parse_zgw_path


class CompileError(ValueError):
    def __init__(self, where: str, reason: str):
        super().__init__(reason)
        self.where = where
        self.reason = reason


Resolver = Callable[[str], Body]


@dataclass(frozen=True)
class Env:
    """What compiling a rule needs: the default namespace, the code tables and a sub-mapping resolver."""

    ns: str
    tables: Mapping[str, conv.CodeTableSpec]
    resolve: Resolver


def compile_rule(rule: Rule, env: Env, where: str) -> Node:
    try:
        return _compile(rule, env, where)
    except CompileError:
        raise
    except ValueError as exc:
        raise CompileError(where, str(exc)) from None


def _compile(rule: Rule, env: Env, where: str) -> Node:
    stuf = parse_stuf_path(rule.stuf, env.ns) if rule.stuf is not None else None
    zgw = parse_zgw_path(rule.zgw) if rule.zgw is not None else None
    when = compile_cond(rule.when, env.ns) if rule.when is not None else None
    ins, outs = rule.direction in ("both", "in"), rule.direction in ("both", "out")
    attributes = {_attr_name(k): v for k, v in rule.attributes.items()}
    clear = rule.clear
    if rule.switch is not None:
        assert stuf is not None
        cases = []
        for value, case in rule.switch.cases.items():
            case_where = f"{where} case {value}"
            body = _body(case, env, case_where)
            case_attrs = {ENTITEITTYPE: body.entiteittype} if body.entiteittype else {}
            case_attrs.update({_attr_name(k): v for k, v in case.attributes.items()})
            cases.append(
                Case(
                    value,
                    parse_stuf_path(case.stuf or "", env.ns),
                    body,
                    tuple(parse_zgw_path(c) for c in case.complete),
                    case_attrs,
                )
            )
        return Choice(
            where,
            ins,
            outs,
            when,
            stuf=stuf,
            zgw=zgw,
            on=parse_zgw_path(rule.switch.by),
            cases=tuple(cases),
            otherwise=rule.switch.otherwise,
            clear=clear,
        )
    if rule.rules is not None or rule.mapping is not None:
        body = _body(rule, env, where)
        if body.entiteittype and ENTITEITTYPE not in attributes:
            attributes = {ENTITEITTYPE: body.entiteittype, **attributes}
        if rule.many and "clear" not in rule.model_fields_set:
            clear = []
        return Group(
            where,
            ins,
            outs,
            when,
            stuf=stuf,
            zgw=zgw,
            many=rule.many,
            complete=tuple(parse_zgw_path(c) for c in rule.complete),
            body=body,
            attributes=attributes,
            clear=clear,
            clear_set="clear" in rule.model_fields_set,
            required=rule.required,
        )
    # a value rule
    has_const = "value" in rule.model_fields_set
    if has_const or rule.context is not None:
        kind = "value" if has_const else "context"
        if rule.direction != "both" and (rule.direction == "in") != (zgw is not None):
            side = "zgw (in)" if zgw is not None else "stuf (out)"
            raise CompileError(where, f"a {kind} rule with {side} cannot have direction {rule.direction}")
        ins, outs = zgw is not None, stuf is not None
    name = rule.convert or ("code" if rule.table is not None else "text")
    table = None
    if rule.table is not None:
        table = env.tables.get(rule.table)
        if table is None:
            raise CompileError(where, f"unknown table {rule.table!r} (known: {', '.join(sorted(env.tables))})")
    converter = conv.build(name, dict(rule.args), table)
    for direction, used in (("in", ins), ("out", outs)):
        if used and not has_const and rule.context is None and direction not in converter.directions:
            raise CompileError(
                where,
                f"converter {name!r} works {'/'.join(sorted(converter.directions))} only; "
                f"set direction: {'/'.join(sorted(converter.directions))}",
            )
    max_in, max_out = _limits(rule.max_length)
    default = None if rule.default is None else stuf_text(rule.default)
    return Leaf(
        where,
        ins,
        outs,
        when,
        stuf=stuf,
        zgw=zgw,
        converter=converter,
        max_in=max_in,
        max_out=max_out,
        default=default,
        clear=clear,
        clear_set="clear" in rule.model_fields_set,
        required=rule.required,
        has_const=has_const,
        const=rule.value,
        context_name=rule.context,
        attributes=attributes,
    )


def _body(rule: Rule, env: Env, where: str) -> Body:
    if rule.mapping is not None:
        return env.resolve(rule.mapping)
    body = Body(where)
    body.nodes = [
        compile_rule(sub, env, f"{where} > rules[{i}]{describe(sub)}") for i, sub in enumerate(rule.rules or [])
    ]
    return body


def _limits(value: int | Mapping[Any, int] | None) -> tuple[int | None, int | None]:
    if value is None:
        return None, None
    limits: dict[str, int] = {"in": value, "out": value} if isinstance(value, int) else dict(value)
    for key, limit in limits.items():
        if limit < 1:
            raise ValueError(f"max_length {key} must be at least 1")
    return limits.get("in"), limits.get("out")


def _attr_name(name: str) -> str:
    prefix, sep, local = name.partition(":")
    if not sep:
        return name
    if prefix not in PREFIXES:
        raise ValueError(f"unknown prefix {prefix!r} in attribute {name!r}")
    return f"{{{PREFIXES[prefix]}}}{local}"


def describe(rule: Rule) -> str:
    """A short label for messages: ' (stuf=omschrijving → zgw=omschrijving)'."""
    parts = []
    if rule.name:
        parts.append(f"name={rule.name}")
    if rule.stuf:
        parts.append(f"stuf={rule.stuf}")
    if rule.zgw:
        parts.append(f"zgw={rule.zgw}")
    return f" ({', '.join(parts)})" if parts else ""
