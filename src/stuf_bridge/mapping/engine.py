"""The mapping engine: loads and compiles the mapping files once, then maps StUF entities to ZGW JSON and back.

    mappings = Mappings.load(default_dir, overlay_dir)          # MappingError names file, rule and reason
    zaak = mappings.to_zgw("ZAK", object_el, context=MappingContext(rsin=..., mode="create"))
    zaak.body, zaak.expand["zaaktype"]["identificatie"], zaak.cleared, zaak.warnings
    rollen = mappings.rollen_to_zgw(object_el, context=...)      # one MappedRol per heeftAlsX
    mappings.to_stuf("ZAK", zaak_json, answer_object_el, dialect=Dialect.ZDS12)

The engine reads parsed lxml elements and builds lxml elements; it knows neither HTTP nor XML parsing. Which ZGW
calls happen is for the flows to decide: values under ``_expand`` are not part of a body but the keys a flow
resolves (``_expand.zaaktype.identificatie`` → the zaaktype URL), mirroring ZRC's ``expand`` on the way back.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from ..stuf import values as stuf_values
from ..stuf.namespaces import STUF, ZKN, Dialect
from ..stuf.values import ConversionError, element_value
from . import converters as conv
from .compiler import CompileError, Env, compile_rule
from .conditions import Test, compile_cond
from .errors import (
    MappedValueError,
    MappingError,
    MissingFallbackResultaat,
    RequiredMissing,
    UnknownOrganisation,
    UnknownRelation,
)
from .loader import Merged, load_layers
from .model import MatchRule, Override, Profile, RoleKeys, StatusCodeRule
from .nodes import ENTITEITTYPE, Body, Node, Run, convert_in
from .paths import PREFIXES, STUF_NAMES, Step, ensure, get_in, is_empty, make_child, parse_zgw_path, place, set_in
from .results import MappedObject, MappedRol, MappingContext
from .tables import (
    DEFAULT_BETROKKENEN,
    GENERIEK,
    EffectiveProfile,
    Match,
    RoleTable,
    RoltypeKeys,
    match_by_omschrijving,
    match_status_code,
    pick_roltype,
    valid_rsin,
)

EXTRA_ELEMENTEN = f"{{{STUF}}}extraElementen"
EXTRA_ELEMENT = f"{{{STUF}}}extraElement"
VERWERKINGSSOORT = f"{{{STUF}}}verwerkingssoort"
DEFAULT_MATCH = MatchRule()
DEFAULT_STATUS_CODE = StatusCodeRule()
#: The children of a gerelateerde that name a betrokkene (the cases of the rol mapping's betrokkene switch), with
#: their ZGW betrokkeneType.
BETROKKENE_TYPES = {"natuurlijkPersoon": "natuurlijk_persoon", "nietNatuurlijkPersoon": "niet_natuurlijk_persoon",
                    "vestiging": "vestiging", "medewerker": "medewerker",
                    "organisatorischeEenheid": "organisatorische_eenheid"}
BETROKKENE_ELEMENTS = frozenset(BETROKKENE_TYPES)


def default_mapping_dir() -> Path:
    """The installed default mapping files (wheel) or, in a source checkout, the repository's ``mappings/``."""
    packaged = Path(__file__).resolve().parent.parent / "_data" / "mappings"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "mappings"


@dataclass(frozen=True)
class CompiledMapping:
    name: str
    resource: str | None
    entiteittype: str | None
    ns: str
    order: Mapping[str, int] | None
    body: Body
    file: str


@dataclass(frozen=True)
class CompiledOverride:
    origin: str
    resource: str
    keys: tuple[str, ...]
    has_value: bool
    value: Any
    extra_element: str | None
    converter: conv.Converter
    max_length: int | None
    when: Test | None
    if_unset: bool

    @property
    def zgw(self) -> str:
        return ".".join(self.keys)


class Mappings:
    """The compiled mapping files. Immutable after ``load``; safe to share between requests."""

    def __init__(self, merged: Merged):
        problems: list[MappingError] = list(merged.problems)
        self.files = list(merged.files)
        self.tables: dict[str, conv.CodeTableSpec] = dict(conv.BUILTIN_TABLES)
        for name, (table, _label) in merged.tables.items():
            builtin = conv.BUILTIN_TABLES.get(name)
            if builtin is not None and not table.replace:  # merged code by code, as the overlay merges tables
                codes = stuf_values.merge_codes(builtin.codes.stuf_to_zgw, table.codes)
                unknown = table.unknown if "unknown" in table.model_fields_set else builtin.unknown
                self.tables[name] = conv.CodeTableSpec(stuf_values.CodeTable(builtin.codes.name, codes), unknown)
            else:
                self.tables[name] = conv.CodeTableSpec(stuf_values.CodeTable(name, dict(table.codes)), table.unknown)
        self._mappings: dict[str, CompiledMapping] = {}
        bodies = {name: Body(name, entiteittype=entity.model.entiteittype) for name, entity in merged.entities.items()}

        def resolve(name: str) -> Body:
            try:
                return bodies[name]
            except KeyError:
                raise ValueError(f"unknown mapping {name!r} (known: {', '.join(sorted(bodies))})") from None

        for name, entity in merged.entities.items():
            model = entity.model
            ns = PREFIXES[model.namespace]
            env = Env(ns, self.tables, resolve)
            nodes: list[Node] = []
            for located in entity.rules:
                try:
                    nodes.append(compile_rule(located.rule, env, located.where))
                except CompileError as exc:
                    problems.append(MappingError(located.file, exc.where, exc.reason))
            bodies[name].nodes = nodes
            order = None
            if model.order is not None:
                try:
                    order = {_clark(step, ns): i for i, step in enumerate(model.order)}
                except ValueError as exc:
                    problems.append(MappingError(entity.file, f"{entity.where} order", str(exc)))
                else:
                    for located in entity.rules:
                        if located.rule.direction == "in":
                            continue  # read only: never written, so never ordered
                        head = _head(located.rule.stuf, ns)
                        if head is not None and head not in order:
                            problems.append(
                                MappingError(
                                    located.file,
                                    located.where,
                                    f"{located.rule.stuf!r} is not in the entity's order list",
                                )
                            )
            self._mappings[name] = CompiledMapping(
                name, model.resource, model.entiteittype, ns, order, bodies[name], entity.file
            )
        self.by_resource: dict[str, str] = {}
        for name, compiled in self._mappings.items():
            if compiled.resource and compiled.resource not in self.by_resource:
                self.by_resource[compiled.resource] = name
        # roles
        for relation, (role, label) in merged.roles.items():
            where = f"roles.{relation}"
            if not role.entiteittype:
                problems.append(MappingError(label, where, "entiteittype is required"))
            for generiek in [*role.generiek, *(role.answer_generiek or [])]:
                if generiek not in GENERIEK:
                    problems.append(
                        MappingError(
                            label,
                            where,
                            f"unknown omschrijvingGeneriek {generiek!r} (known: {', '.join(sorted(GENERIEK))})",
                        )
                    )
        self.roles = RoleTable({name: role for name, (role, _) in merged.roles.items()})
        self._relation_tags = {f"{{{ZKN}}}{name}": name for name in self.roles.roles}
        self._role_sets = {
            name: [(parse_zgw_path(k), v) for k, v in role.set.items()] for name, role in self.roles.roles.items()
        }
        self.rol_entity = self.by_resource.get("rol")
        if self.roles.roles and self.rol_entity is None:
            problems.append(
                MappingError(
                    merged.files[0] if merged.files else "mappings", "roles", "roles need a mapping with resource: rol"
                )
            )
        # organisaties
        self.organisaties: dict[str, str] = {}
        for code, (rsin, label) in merged.organisaties.items():
            # any zender/organisatie string is a key (a gemeentecode "0363", or "AMS"): only the identifier
            # templates need a four-digit gemeentecode (default_gemeentecode covers the others)
            if not (isinstance(code, str) and code.strip() and code == code.strip()):
                problems.append(MappingError(label, f"organisaties.{code}",
                                             "an organisatie is a non-empty string without surrounding spaces, "
                                             "quoted (YAML reads 0363 unquoted as a number)"))
            elif not valid_rsin(rsin):
                problems.append(
                    MappingError(label, f"organisaties.{code}", f"RSIN {rsin!r} is not nine digits passing the 11-test")
                )
            else:
                self.organisaties[code] = rsin
        # matching and profiles
        self._matching = {kind: rule for kind, (rule, _) in merged.matching.items()}
        defaults, defaults_label = merged.profile_defaults or (Profile(), "profiles")
        self._default_profile = self._effective(None, defaults, None, defaults_label, problems)
        self._profiles = {
            zaaktype: self._effective(zaaktype, defaults, profile, label, problems)
            for zaaktype, (profile, label) in merged.profiles.items()
        }
        if problems:
            raise MappingError.collect(problems)

    # --- loading -----------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, default_dir: Path | None = None, overlay_dir: Path | None = None) -> Mappings:
        """Load the default files (``default_mapping_dir()`` unless given) and lay ``overlay_dir`` over them."""
        return cls(load_layers(default_dir or default_mapping_dir(), overlay_dir))

    def _effective(
        self, zaaktype: str | None, defaults: Profile, own: Profile | None, label: str, problems: list[MappingError]
    ) -> EffectiveProfile:
        where = f"profiles.zaaktypen.{zaaktype}" if zaaktype else "profiles.defaults"
        profile = (
            defaults
            if own is None
            else defaults.model_copy(
                update={k: getattr(own, k) for k in own.model_fields_set if k not in ("roles", "overrides")}
            )
        )
        roles_raw: dict[str, str | RoleKeys] = {**defaults.roles, **(own.roles if own else {})}
        roles: dict[str, RoltypeKeys] = {}
        for relation, keys in roles_raw.items():
            if relation not in self.roles.roles:
                problems.append(
                    MappingError(
                        label, f"{where}.roles.{relation}", f"unknown relation (known: {', '.join(self.roles.roles)})"
                    )
                )
                continue
            if isinstance(keys, str):
                roles[relation] = RoltypeKeys(keys, ())
            else:
                roles[relation] = RoltypeKeys(keys.omschrijving, tuple(keys.generiek))
        matching = dict(self._matching)
        for source in (defaults.matching, own.matching if own else None):
            if source is not None:
                matching.update(
                    {k: getattr(source, k) for k in ("statustype", "resultaattype", "status_code")
                     if getattr(source, k) is not None}
                )
        overrides: dict[str, list[CompiledOverride]] = {}
        for prefix, items in (("profiles.defaults", defaults.overrides), (where, own.overrides if own else [])):
            for i, override in enumerate(items):
                origin = f"{prefix}.overrides[{i}]"
                try:
                    compiled = self._compile_override(override, origin)
                except (ValueError, CompileError) as exc:
                    problems.append(MappingError(label, origin, getattr(exc, "reason", str(exc))))
                    continue
                overrides.setdefault(compiled.resource, []).append(compiled)
        return EffectiveProfile(
            zaaktype,
            roles=roles,
            fallback_resultaat=profile.fallback_resultaat,
            ignore_eindstatus=bool(profile.ignore_eindstatus),
            matching=matching,
            overrides={k: tuple(v) for k, v in overrides.items()},
            betrokkenen=tuple(profile.betrokkenen) if profile.betrokkenen else DEFAULT_BETROKKENEN,
            zaakgeometrie=profile.zaakgeometrie,
        )

    def _compile_override(self, override: Override, origin: str) -> CompiledOverride:
        if override.resource not in self.by_resource:
            raise ValueError(f"unknown resource {override.resource!r} (known: {', '.join(sorted(self.by_resource))})")
        table = None
        if override.table is not None:
            table = self.tables.get(override.table)
            if table is None:
                raise ValueError(f"unknown table {override.table!r}")
        name = override.convert or ("code" if table is not None else "text")
        converter = conv.build(name, dict(override.args), table)
        ns = self._mappings[self.by_resource[override.resource]].ns
        return CompiledOverride(
            origin=origin,
            resource=override.resource,
            keys=parse_zgw_path(override.zgw),
            has_value="value" in override.model_fields_set,
            value=override.value,
            extra_element=override.extra_element,
            converter=converter,
            max_length=override.max_length,
            when=compile_cond(override.when, ns) if override.when is not None else None,
            if_unset=override.if_unset,
        )

    # --- mapping -----------------------------------------------------------------------------------------------

    @property
    def entities(self) -> list[str]:
        return sorted(self._mappings)

    def mapping(self, entity: str) -> CompiledMapping:
        try:
            return self._mappings[entity]
        except KeyError:
            raise KeyError(f"no mapping for entity {entity!r} (known: {', '.join(self.entities)})") from None

    def to_zgw(self, entity: str, element: etree._Element, *, context: MappingContext | None = None) -> MappedObject:
        """Map a StUF entity element (an ``object``, a relation, a group) to ZGW JSON."""
        compiled = self.mapping(entity)
        ctx = context or MappingContext()
        run = Run(ctx.now or datetime.now(UTC), ctx.dialect_text, ctx.mode, ctx)
        values: dict[str, Any] = {}
        spath = str(etree.QName(element).localname)
        for node in compiled.body.nodes:
            node.read(run, element, values, False, spath)
        if run.missing:
            raise RequiredMissing(run.missing)
        applied = self._apply_overrides(compiled, element, values, run, ctx) if compiled.resource else []
        return MappedObject(entity, values, run.cleared, run.warnings, run.skipped, applied)

    def to_stuf(
        self,
        entity: str,
        data: Mapping[str, Any],
        parent: etree._Element,
        *,
        dialect: Dialect | str = Dialect.ZDS11,
        context: MappingContext | None = None,
    ) -> list[str]:
        """Write ZGW JSON as the children of ``parent`` (the entity element, e.g. ``antwoord/object``), in schema
        order; sets ``StUF:entiteittype`` on ``parent`` when the mapping names one. Returns warnings (cuts)."""
        compiled = self.mapping(entity)
        ctx = context or MappingContext()
        dialect_text = dialect.value if isinstance(dialect, Dialect) else str(dialect)
        run = Run(ctx.now or datetime.now(UTC), dialect_text, None, ctx)
        if compiled.entiteittype and parent.get(ENTITEITTYPE) is None:
            parent.set(ENTITEITTYPE, compiled.entiteittype)
        for node in compiled.body.nodes:
            node.write(run, data, parent, compiled.order)
        if compiled.resource:
            self._reverse_overrides(compiled, data, parent, run, ctx)
        return run.warnings

    def insert_ordered(self, entity: str, parent: etree._Element, child: etree._Element) -> None:
        """Put ``child`` among ``parent``'s children in the schema order the entity's mapping declares."""
        place(parent, child, self.mapping(entity).order)

    @staticmethod
    def extra_elementen(element: etree._Element) -> dict[str, str]:
        """The ``StUF:extraElementen`` of an element as naam → text (nil ones left out)."""
        found: dict[str, str] = {}
        container = element.find(EXTRA_ELEMENTEN)
        if container is None:
            return found
        for extra in container.iterchildren(EXTRA_ELEMENT):
            name = extra.get("naam")
            value = element_value(extra)
            if name and isinstance(value, str):
                found[name] = value
        return found

    # --- value overrides ---------------------------------------------------------------------------------------

    def _apply_overrides(
        self,
        compiled: CompiledMapping,
        element: etree._Element,
        values: dict[str, Any],
        run: Run,
        ctx: MappingContext,
    ) -> list[str]:
        zaaktype = ctx.zaaktype or get_in(values, ("_expand", "zaaktype", "identificatie"))
        overrides = self.profile(zaaktype).overrides.get(compiled.resource or "", ())
        if not overrides:
            return []
        extras = ctx.extra_elementen if ctx.extra_elementen is not None else self.extra_elementen(element)
        applied: list[str] = []
        for ov in overrides:
            if ov.when is not None and not ov.when(element, values, run.dialect, run.mode):
                continue
            if ov.if_unset and not is_empty(get_in(values, ov.keys)):
                continue
            if ov.has_value:
                value, source = ov.value, "waarde"
            else:
                assert ov.extra_element is not None
                text = extras.get(ov.extra_element)
                if text is None:
                    continue
                source = f"extraElement[{ov.extra_element}]"
                value = convert_in(run, ov.converter, text, None, source, ov.max_length)
                if value is conv.SKIP:
                    continue
            set_in(values, ov.keys, copy.deepcopy(value))
            run.cleared.pop(ov.zgw, None)
            applied.append(f"{ov.zgw} ← {source} ({ov.origin})")
        return applied

    def _reverse_overrides(
        self,
        compiled: CompiledMapping,
        data: Mapping[str, Any],
        parent: etree._Element,
        run: Run,
        ctx: MappingContext,
    ) -> None:
        """Overrides fed from an extraElement give that extraElement back in answers (as ZaakBrug does)."""
        zaaktype = ctx.zaaktype or get_in(data, ("_expand", "zaaktype", "identificatie"))
        overrides = [
            ov
            for ov in self.profile(zaaktype).overrides.get(compiled.resource or "", ())
            if ov.extra_element is not None
        ]
        if not overrides or (compiled.order is not None and EXTRA_ELEMENTEN not in compiled.order):
            return
        for ov in overrides:
            value = get_in(data, ov.keys)
            if is_empty(value):
                continue
            try:
                text = ov.converter.to_stuf(value, run.ctx)
            except ConversionError:
                continue
            if text is conv.SKIP:
                continue
            container = ensure(parent, (Step(EXTRA_ELEMENTEN),), compiled.order, reuse_last=True)
            if any(extra.get("naam") == ov.extra_element for extra in container.iterchildren(EXTRA_ELEMENT)):
                continue
            make_child(container, Step(EXTRA_ELEMENT, "naam", ov.extra_element)).text = str(text)

    # --- tables ------------------------------------------------------------------------------------------------

    @property
    def profiled_zaaktypen(self) -> list[str]:
        """The zaaktype identificaties a deployment configured a profile for."""
        return sorted(self._profiles)

    def profile(self, zaaktype: str | None) -> EffectiveProfile:
        if zaaktype is not None and zaaktype in self._profiles:
            return self._profiles[zaaktype]
        return self._default_profile

    def rsin_for(self, gemeentecode: str | None, default_rsin: str | None = None) -> str:
        """The RSIN for the sender's gemeentecode; else ``default_rsin``; else ``UnknownOrganisation`` (StUF013)."""
        rsin = self.organisaties.get((gemeentecode or "").strip())
        if rsin is not None:
            return rsin
        if default_rsin:
            if not valid_rsin(default_rsin):
                raise UnknownOrganisation(gemeentecode, f"de standaard-RSIN {default_rsin!r} is geen geldig RSIN")
            return default_rsin
        raise UnknownOrganisation(gemeentecode)

    def roltype_for(
        self, relation: str, zaaktype: str | None = None, *, rol_omschrijving: str | None = None
    ) -> RoltypeKeys:
        """How to find the roltype for a relation: (omschrijving or None, omschrijvingGeneriek fallbacks)."""
        if relation not in self.roles.roles:
            raise UnknownRelation(f"relatie {relation} heeft geen roltype in de mapping (rol.yaml roles)")
        return self.roles.keys_for(
            relation, profile_roles=self.profile(zaaktype).roles, rol_omschrijving=rol_omschrijving
        )

    pick_roltype = staticmethod(pick_roltype)

    def relation_for(self, rol: Mapping[str, Any], *, zaaktype: str | None = None) -> str | None:
        return self.roles.relation_for(rol, profile_roles=self.profile(zaaktype).roles)

    def match_statustype(
        self,
        statustypen: Sequence[Mapping[str, Any]],
        *,
        omschrijving: str,
        volgnummer: int | str | None = None,
        zaaktype: str | None = None,
    ) -> Match:
        rule = self.profile(zaaktype).matching.get("statustype", DEFAULT_MATCH)
        assert isinstance(rule, MatchRule)
        return match_by_omschrijving(statustypen, omschrijving, rule, kind="statustype", volgnummer=volgnummer)

    def match_status_code(
        self, statustypen: Sequence[Mapping[str, Any]], *, code: str, zaaktype: str | None = None
    ) -> Match:
        """The statustype of a status given only by its code (matching.status_code, per zaaktype in profiles)."""
        rule = self.profile(zaaktype).matching.get("status_code", DEFAULT_STATUS_CODE)
        assert isinstance(rule, StatusCodeRule)
        return match_status_code(statustypen, code, rule)

    def match_resultaattype(
        self, resultaattypen: Sequence[Mapping[str, Any]], *, omschrijving: str, zaaktype: str | None = None
    ) -> Match:
        rule = self.profile(zaaktype).matching.get("resultaattype", DEFAULT_MATCH)
        assert isinstance(rule, MatchRule)
        return match_by_omschrijving(resultaattypen, omschrijving, rule, kind="resultaattype")

    def fallback_resultaat(self, zaaktype: str | None) -> str:
        """The resultaat omschrijving to close a zaak of this zaaktype with when the message brings none."""
        fallback = self.profile(zaaktype).fallback_resultaat
        if not fallback:
            raise MissingFallbackResultaat(zaaktype)
        return fallback

    # --- rollen ------------------------------------------------------------------------------------------------

    def rol_to_zgw(self, relation_el: etree._Element, *, context: MappingContext | None = None) -> MappedRol:
        """One heeftAlsX relation as a rol body, with the keys to find its roltype."""
        relation = self._relation_tags.get(relation_el.tag) or str(etree.QName(relation_el).localname)
        if relation not in self.roles.roles or self.rol_entity is None:
            raise UnknownRelation(f"relatie {relation} heeft geen roltype in de mapping (rol.yaml roles)")
        ctx = context or MappingContext()
        relation_el, chosen = self._one_betrokkene(relation, relation_el, ctx.zaaktype)
        own = self.extra_elementen(relation_el)  # extraElementen inside the relation (Open Formulieren 4)
        if own:
            ctx = ctx.replace(extra_elementen={**(ctx.extra_elementen or {}), **own})
        mapped = self.to_zgw(self.rol_entity, relation_el, context=ctx)
        if chosen:
            mapped.warnings.append(chosen)
        omschrijving_el = relation_el.find(f"{{{ZKN}}}omschrijving")
        rol_omschrijving = element_value(omschrijving_el)
        keys = self.roltype_for(
            relation, ctx.zaaktype, rol_omschrijving=rol_omschrijving if isinstance(rol_omschrijving, str) else None
        )
        for path, value in self._role_sets[relation]:
            set_in(mapped.values, path, value)
        if ctx.mode == "create" and is_empty(mapped.values.get("roltoelichting")):
            mapped.values["roltoelichting"] = keys.omschrijving or (keys.generiek[0] if keys.generiek else relation)
        return MappedRol(
            mapped.entity,
            mapped.values,
            mapped.cleared,
            mapped.warnings,
            mapped.skipped,
            mapped.overrides,
            relation=relation,
            roltype=keys,
            verwerkingssoort=relation_el.get(VERWERKINGSSOORT),
        )

    def _one_betrokkene(self, relation: str, relation_el: etree._Element, zaaktype: str | None
                        ) -> tuple[etree._Element, str | None]:
        """A gerelateerde with several betrokkenen (a medewerker and a fallback natuurlijkPersoon): the relation
        with only the most specific one the zaaktype's profile allows (``betrokkenen``, in order), and the warning
        that names what was not used. When the profile allows none of them: a fault (``value-invalid``)."""
        gerelateerde = relation_el.find(f"{{{ZKN}}}gerelateerde")
        if gerelateerde is None:
            return relation_el, None
        present = [child for child in gerelateerde
                   if isinstance(child.tag, str) and etree.QName(child).localname in BETROKKENE_ELEMENTS]
        if len(present) < 2:
            return relation_el, None
        order = self.profile(zaaktype).betrokkenen
        kinds = {id(child): BETROKKENE_TYPES[etree.QName(child).localname] for child in present}
        allowed = sorted((c for c in present if kinds[id(c)] in order), key=lambda c: order.index(kinds[id(c)]))
        names = ", ".join(etree.QName(child).localname for child in present)
        if not allowed:
            raise MappedValueError(f"{relation}/gerelateerde", f"bevat {names}; het profiel van zaaktype "
                                   f"{zaaktype!r} staat als betrokkene alleen {', '.join(order)} toe")
        keep = allowed[0]
        copied = copy.deepcopy(relation_el)
        copied_gerelateerde = copied.find(f"{{{ZKN}}}gerelateerde")
        assert copied_gerelateerde is not None
        twins = zip([c for c in gerelateerde if isinstance(c.tag, str)],
                    [c for c in copied_gerelateerde if isinstance(c.tag, str)], strict=True)
        for original, twin in twins:
            if original is not keep and any(original is p for p in present):
                copied_gerelateerde.remove(twin)
        unused = ", ".join(etree.QName(c).localname for c in present if c is not keep)
        return copied, (f"{relation}: gerelateerde bevat {names}; {etree.QName(keep).localname} gebruikt (de meest "
                        f"specifieke betrokkene die het zaaktype toestaat), niet gebruikt: {unused}")

    def rollen_to_zgw(self, object_el: etree._Element, *, context: MappingContext | None = None) -> list[MappedRol]:
        """Every heeftAlsX relation of a ZAK object, in document order. The zaaktype (for per-zaaktype roltypen and
        overrides) and the extraElementen come from the object unless the context gives them."""
        ctx = context or MappingContext()
        changes: dict[str, Any] = {}
        if ctx.zaaktype is None:
            code = element_value(object_el.find(f"{{{ZKN}}}isVan/{{{ZKN}}}gerelateerde/{{{ZKN}}}code"))
            changes["zaaktype"] = code if isinstance(code, str) and code else None
        if ctx.extra_elementen is None:
            changes["extra_elementen"] = self.extra_elementen(object_el)
        if changes:
            ctx = ctx.replace(**changes)
        return [self.rol_to_zgw(child, context=ctx) for child in object_el if self.is_rol_relation(child)]

    def is_rol_relation(self, relation_el: etree._Element) -> bool:
        """Whether this child of a ZAK object stands for a rol: a heeftAlsX relation, or a relation of a
        ``betrokkene_only`` role (heeftBetrekkingOp) whose gerelateerde holds a betrokkene."""
        relation = self._relation_tags.get(relation_el.tag)
        if relation is None:
            return False
        if not self.roles.roles[relation].betrokkene_only:
            return True
        gerelateerde = relation_el.find(f"{{{ZKN}}}gerelateerde")
        return gerelateerde is not None and any(
            etree.QName(child).localname in BETROKKENE_ELEMENTS for child in gerelateerde if isinstance(child.tag, str))

    def rol_to_stuf(
        self,
        rol: Mapping[str, Any],
        parent: etree._Element,
        *,
        dialect: Dialect | str = Dialect.ZDS11,
        context: MappingContext | None = None,
        parent_entity: str = "ZAK",
    ) -> etree._Element | None:
        """A ZGW rol (with omschrijving/omschrijvingGeneriek) as the heeftAlsX relation under ``parent``, placed in
        schema order; None when no relation fits (the caller reports it)."""
        ctx = context or MappingContext()
        relation = self.relation_for(rol, zaaktype=ctx.zaaktype)
        if relation is None or self.rol_entity is None:
            return None
        role = self.roles.roles[relation]
        element = etree.Element(f"{{{ZKN}}}{relation}")
        if role.entiteittype:
            element.set(ENTITEITTYPE, role.entiteittype)
        place(parent, element, self.mapping(parent_entity).order if parent_entity in self._mappings else None)
        self.to_stuf(self.rol_entity, rol, element, dialect=dialect, context=ctx)
        return element


def _clark(name: str, ns: str) -> str:
    prefix, sep, local = name.partition(":")
    if not sep:
        return f"{{{STUF if name in STUF_NAMES else ns}}}{name}"
    if prefix not in PREFIXES:
        raise ValueError(f"unknown prefix {prefix!r} in {name!r}")
    return f"{{{PREFIXES[prefix]}}}{local}"


def _head(stuf: str | None, ns: str) -> str | None:
    if not stuf or stuf.startswith("@") or stuf == ".":
        return None
    first = stuf.split("/", 1)[0].split("[", 1)[0]
    try:
        return _clark(first, ns)
    except ValueError:
        return None
