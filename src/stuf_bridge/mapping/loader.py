"""Reading the mapping directories: YAML (no duplicate keys), validation against the vocabulary, and the merge of a
deployment's overlay over the defaults. Every problem becomes a ``MappingError`` naming file, rule and reason.

Merging, per section:

* ``mappings``: an overlay entity with ``replace: true`` replaces the default one. Otherwise each overlay rule
  replaces the default rule with the same ``name``, or with the same ``stuf``, ``zgw`` and ``direction``;
  ``remove: true`` deletes that rule; other overlay rules are appended. Entity settings given in the overlay
  (resource, order, …) win.
* ``tables``: per table name. ``roles``: per relation, field by field. ``organisaties``: per gemeentecode.
  ``matching``: per kind. ``profiles``: ``defaults`` and each zaaktype field by field.

Within one directory a name may be defined once (two default files defining ``ZAK`` is an error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..stuf import values as stuf_values
from .errors import MappingError
from .model import EntityMapping, MappingFile, MatchRule, Profile, Role, Rule, StatusCodeRule, Table

# --- YAML -------------------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return yaml.load(handle, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise MappingError(path.name, where, f"not valid YAML: {exc.problem or exc}") from None
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MappingError(path.name, "", f"cannot be read: {exc}") from None


def parse_file(path: Path, label: str) -> tuple[MappingFile, Any]:
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise MappingError(label, "", "a mapping file is a YAML mapping (keys: mappings, tables, roles, …)")
    _check_quoted_codes(label, raw)
    try:
        return MappingFile.model_validate(raw), raw
    except ValidationError as exc:
        raise MappingError.collect([_problem(label, raw, err) for err in exc.errors()]) from None


def _check_quoted_codes(label: str, raw: dict[str, Any]) -> None:
    """An organisatie code YAML read as a number: unquoted, 0363 is the octal number 243 and 1900 the number 1900.
    Say that it must be quoted, rather than pydantic's 'Input should be a valid string'."""
    organisaties = raw.get("organisaties")
    if not isinstance(organisaties, dict):
        return
    problems = []
    for key in organisaties:
        if isinstance(key, (int, float)) and not isinstance(key, bool):
            written = f"0{key:o}" if isinstance(key, int) and f"0{key:o}" != str(key) and key < 512 else str(key)
            hint = f" (YAML reads an unquoted {written} as the octal number {key})" if written != str(key) else ""
            problems.append(MappingError(label, f"organisaties.{written}",
                                         f"the code must be quoted, as \"{written}\"{hint}"))
    if problems:
        raise MappingError.collect(problems)


def _problem(label: str, raw: Any, err: Any) -> MappingError:
    """A pydantic error as 'file: mappings[0] ZAK > rules[3] (stuf=…): field: reason'."""
    segments: list[str] = []
    last_rule = -1
    node: Any = raw
    prev: Any = None
    for key in err["loc"]:
        if key == "not_" and isinstance(node, dict) and "not" in node:
            key = "not"
        if (
            isinstance(node, dict)
            and key in node
            or isinstance(node, list)
            and isinstance(key, int)
            and 0 <= key < len(node)
        ):
            child = node[key]
        else:
            continue  # a pydantic type tag (a union member), not a place in the file
        if isinstance(key, int):
            text = f"{segments.pop() if segments else ''}[{key}]"
            if prev == "mappings" and isinstance(child, dict) and child.get("entity"):
                text += f" {child['entity']}"
            elif prev == "rules":
                text += _label(child)
            segments.append(text)
            if prev in ("mappings", "rules"):
                last_rule = len(segments) - 1
        elif prev == "cases":
            segments.append(f"case {key}{_label(child)}")
            last_rule = len(segments) - 1
        else:
            segments.append(str(key))
        prev, node = key, child
    reason = str(err["msg"]).removeprefix("Value error, ")
    fields = ".".join(segments[last_rule + 1 :])
    if fields:
        reason = f"{fields}: {reason}"
    return MappingError(label, " > ".join(segments[: last_rule + 1]), reason)


def _label(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    parts = [f"{k}={node[k]}" for k in ("name", "stuf", "zgw") if isinstance(node.get(k), str)]
    return f" ({', '.join(parts)})" if parts else ""


# --- merging ----------------------------------------------------------------------------------------------------


@dataclass
class LocatedRule:
    rule: Rule
    file: str
    where: str


@dataclass
class MergedEntity:
    model: EntityMapping
    file: str
    where: str
    rules: list[LocatedRule]


@dataclass
class Merged:
    entities: dict[str, MergedEntity] = field(default_factory=dict)
    tables: dict[str, tuple[Table, str]] = field(default_factory=dict)
    roles: dict[str, tuple[Role, str]] = field(default_factory=dict)
    organisaties: dict[str, tuple[str, str]] = field(default_factory=dict)
    matching: dict[str, tuple[MatchRule | StatusCodeRule, str]] = field(default_factory=dict)
    profile_defaults: tuple[Profile, str] | None = None
    profiles: dict[str, tuple[Profile, str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    problems: list[MappingError] = field(default_factory=list)  # reported together with the compile problems


def load_layers(default_dir: Path | None, overlay_dir: Path | None) -> Merged:
    """Both directories merged; the problems found so far travel in ``Merged.problems`` so that compiling what
    did load can add its own, and one error reports everything."""
    merged = Merged()
    problems = merged.problems
    for layer, directory in (("default", default_dir), ("overlay", overlay_dir)):
        if directory is None:
            continue
        if not directory.is_dir():
            problems.append(MappingError(str(directory), "", f"{layer} mapping directory does not exist"))
            continue
        layer_model = Merged()
        for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
            label = path.name if layer == "default" else f"{directory.name}/{path.name}"
            try:
                model, _raw = parse_file(path, label)
                _add(layer_model, model, label)
            except MappingError as exc:
                problems.extend(exc.problems)
            merged.files.append(label)
        _overlay(merged, layer_model, problems, first=layer == "default")
    return merged


def _add(layer: Merged, model: MappingFile, label: str) -> None:
    """Add one file to its layer; a name defined twice in one layer is an error."""

    def dup(kind: str, name: str, where: str, other: str) -> MappingError:
        return MappingError(label, where, f"{kind} {name!r} is already defined in {other}")

    problems: list[MappingError] = []
    for i, entity in enumerate(model.mappings):
        where = f"mappings[{i}] {entity.entity}"
        if entity.entity in layer.entities:
            problems.append(dup("mapping", entity.entity, where, layer.entities[entity.entity].file))
            continue
        rules = [
            LocatedRule(rule, label, f"{where} > rules[{j}]{_rule_label(rule)}") for j, rule in enumerate(entity.rules)
        ]
        layer.entities[entity.entity] = MergedEntity(entity, label, where, rules)
    for name, table in model.tables.items():
        if name in layer.tables:
            problems.append(dup("table", name, f"tables.{name}", layer.tables[name][1]))
        layer.tables[name] = (table, label)
    for name, role in model.roles.items():
        if name in layer.roles:
            problems.append(dup("role", name, f"roles.{name}", layer.roles[name][1]))
        layer.roles[name] = (role, label)
    for code, rsin in model.organisaties.items():
        if code in layer.organisaties:
            problems.append(dup("gemeentecode", code, f"organisaties.{code}", layer.organisaties[code][1]))
        layer.organisaties[code] = (rsin, label)
    if model.matching is not None:
        for kind in ("statustype", "resultaattype", "status_code"):
            rule = getattr(model.matching, kind)
            if rule is None:
                continue
            if kind in layer.matching:
                problems.append(dup("matching", kind, f"matching.{kind}", layer.matching[kind][1]))
            layer.matching[kind] = (rule, label)
    if model.profiles is not None:
        if model.profiles.defaults is not None:
            if layer.profile_defaults is not None:
                problems.append(dup("profile", "defaults", "profiles.defaults", layer.profile_defaults[1]))
            layer.profile_defaults = (model.profiles.defaults, label)
        for zaaktype, profile in model.profiles.zaaktypen.items():
            if zaaktype in layer.profiles:
                problems.append(dup("profile", zaaktype, f"profiles.zaaktypen.{zaaktype}", layer.profiles[zaaktype][1]))
            layer.profiles[zaaktype] = (profile, label)
    if problems:
        raise MappingError.collect(problems)


def _rule_label(rule: Rule) -> str:
    parts = [f"{k}={getattr(rule, k)}" for k in ("name", "stuf", "zgw") if getattr(rule, k)]
    return f" ({', '.join(parts)})" if parts else ""


def _key(rule: Rule) -> tuple[Any, ...]:
    return ("name", rule.name) if rule.name else ("path", rule.stuf, rule.zgw, rule.direction)


def _overlay(base: Merged, top: Merged, problems: list[MappingError], *, first: bool) -> None:
    for name, entity in top.entities.items():
        current = base.entities.get(name)
        if current is None or entity.model.replace or first:
            if not first:
                for located in entity.rules:
                    if located.rule.remove:
                        problems.append(MappingError(located.file, located.where, f"nothing to remove: {name} is new"))
            base.entities[name] = entity
            continue
        rules = list(current.rules)
        for located in entity.rules:
            key = _key(located.rule)
            hits = [i for i, existing in enumerate(rules) if _key(existing.rule) == key]
            if len(hits) > 1:
                problems.append(
                    MappingError(
                        located.file, located.where, f"matches {len(hits)} default rules; give the default rules a name"
                    )
                )
            elif hits and located.rule.remove:
                del rules[hits[0]]
            elif hits:
                rules[hits[0]] = located
            elif located.rule.remove:
                problems.append(MappingError(located.file, located.where, "nothing to remove: no such rule"))
            else:
                rules.append(located)
        settings = {k: getattr(entity.model, k) for k in entity.model.model_fields_set if k not in ("rules", "entity")}
        model = current.model.model_copy(update=settings)
        base.entities[name] = MergedEntity(model, current.file, current.where, rules)
    for name, (table, label) in top.tables.items():
        if name in base.tables and not first and not table.replace:
            old_table, _ = base.tables[name]
            table = old_table.model_copy(update={
                "codes": stuf_values.merge_codes(old_table.codes, table.codes),
                **({"unknown": table.unknown} if "unknown" in table.model_fields_set else {}),
            })
        base.tables[name] = (table, label)
    for name, (role, label) in top.roles.items():
        if name in base.roles and not first and not role.replace:
            old, _ = base.roles[name]
            role = old.model_copy(update={k: _merged_field(getattr(old, k), getattr(role, k))
                                          for k in role.model_fields_set})
        base.roles[name] = (role, label)
    base.organisaties.update(top.organisaties)
    base.matching.update(top.matching)
    if top.profile_defaults is not None:
        base.profile_defaults = _merge_profile(base.profile_defaults, top.profile_defaults)
    for zaaktype, located_profile in top.profiles.items():
        base.profiles[zaaktype] = _merge_profile(base.profiles.get(zaaktype), located_profile)


def _merged_field(old: Any, new: Any) -> Any:
    """A role field an overlay gives: a table (``set``, ``by_rol_omschrijving``) merged key by key into the
    default's, anything else replaced."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **new}
    return new


def _merge_profile(old: tuple[Profile, str] | None, new: tuple[Profile, str]) -> tuple[Profile, str]:
    if old is None:
        return new
    profile, label = new
    return old[0].model_copy(update={k: getattr(profile, k) for k in profile.model_fields_set}), label
