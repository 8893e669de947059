"""The mapping-file vocabulary as pydantic models: closed (unknown keys are errors), documented in
``mappings/README.md``. These models only check the shape; ``compiler`` resolves names (converters, tables,
sub-mappings) and paths, so every problem is found at load with the file and rule it is in."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Direction = Literal["both", "in", "out"]
ContextName = Literal["rsin", "gemeentecode", "applicatie", "gebruiker", "zaaktype", "now"]
Mode = Literal["create", "update"]


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Cond(Closed):
    """One condition; exactly one key. StUF-side keys test the StUF element, zgw_* keys the ZGW object (the
    source when reading it, the part already built when writing it); paths are relative to the rule's scope."""

    present: str | None = None
    absent: str | None = None
    equals: dict[str, Any] | None = None
    zgw_present: str | None = None
    zgw_absent: str | None = None
    zgw_equals: dict[str, Any] | None = None
    dialect: Literal["1.1", "1.2"] | None = None
    mode: Mode | None = None
    all: list[Cond] | None = None
    any: list[Cond] | None = None
    not_: Cond | None = Field(default=None, alias="not")

    @field_validator("dialect", mode="before")
    @classmethod
    def _dialect_text(cls, value: Any) -> Any:
        return f"{value:.1f}" if isinstance(value, float) else value

    @model_validator(mode="after")
    def _one_key(self) -> Cond:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "a condition has exactly one of present, absent, equals, zgw_present, zgw_absent, zgw_equals, "
                f"dialect, mode, all, any, not (got {', '.join(given) or 'none'})"
            )
        return self


MaxLength = int | dict[Literal["in", "out"], int]


class Switch(Closed):
    """An XSD choice ↔ a ZGW discriminated union: ``by`` is the ZGW discriminator (relative to the object the rule
    writes in), each case maps one StUF child element. (Not ``on``: YAML reads that key as true.)"""

    by: str
    cases: dict[str, Rule]
    otherwise: Literal["error", "skip", "ignore"] = "error"

    @model_validator(mode="after")
    def _cases(self) -> Switch:
        if not self.cases:
            raise ValueError("a switch needs at least one case")
        for key, case in self.cases.items():
            if case.stuf is None:
                raise ValueError(f"case {key!r} needs a 'stuf' element")
        return self


class Rule(Closed):
    name: str | None = None
    stuf: str | None = None
    zgw: str | None = None
    value: Any = None
    context: ContextName | None = None
    convert: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    table: str | None = None
    max_length: MaxLength | None = None
    default: str | int | bool | None = None
    clear: Any = None
    when: Cond | None = None
    direction: Direction = "both"
    required: bool | Literal["in", "out"] = False
    many: bool = False
    complete: list[str] = Field(default_factory=list)
    rules: list[Rule] | None = None
    mapping: str | None = None
    switch: Switch | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    remove: bool = False

    @field_validator("default", mode="before")
    @classmethod
    def _default_text(cls, value: Any) -> Any:
        return value if value is None or isinstance(value, (str, bool)) else str(value)

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if self.remove:
            return self
        kinds = [k for k in ("rules", "mapping", "switch") if getattr(self, k) is not None]
        if len(kinds) > 1:
            raise ValueError(f"use one of rules, mapping, switch (got {', '.join(kinds)})")
        sources = [k for k in ("value", "context") if k in self.model_fields_set]
        if len(sources) > 1:
            raise ValueError("use one of value, context")
        if kinds:
            leaf_only = [
                k
                for k in ("convert", "table", "max_length", "default", "value", "context", "args")
                if k in self.model_fields_set
            ]
            if leaf_only:
                raise ValueError(f"{', '.join(leaf_only)} belong on a value rule, not on a group")
            if self.many and self.zgw is None:
                raise ValueError("'many' needs a 'zgw' list to fill")
            if self.switch is not None and self.stuf is None:
                raise ValueError("a switch needs a 'stuf' element (the choice's parent)")
            return self
        if self.many or self.complete:
            raise ValueError("'many' and 'complete' belong on a group (a rule with rules, mapping or switch)")
        if sources:
            if self.stuf is not None and self.zgw is not None:
                raise ValueError(f"a rule with {sources[0]} has either 'stuf' (out) or 'zgw' (in), not both")
            if self.stuf is None and self.zgw is None:
                raise ValueError(f"a rule with {sources[0]} needs 'stuf' or 'zgw'")
        elif self.stuf is None or self.zgw is None:
            raise ValueError("a value rule needs 'stuf' and 'zgw' (or 'value'/'context' with one of them)")
        if self.table is not None and self.convert not in (None, "code"):
            raise ValueError("'table' goes with convert: code (or no convert)")
        return self


class EntityMapping(Closed):
    entity: str
    resource: str | None = None
    entiteittype: str | None = None
    namespace: Literal["ZKN", "BG", "StUF"] = "ZKN"
    description: str | None = None
    order: list[str] | None = None
    replace: bool = False
    rules: list[Rule] = Field(default_factory=list)


class Table(Closed):
    """A code table. An overlay's table of a name that exists already (a default file's or a built-in one) is
    merged into it code by code; ``replace: true`` replaces the whole table instead."""

    codes: dict[str, str]
    unknown: Literal["error", "keep", "omit"] = "error"
    replace: bool = False


class Role(Closed):
    """One StUF relation (heeftAlsX) and how it finds its ZGW roltype."""

    entiteittype: str | None = None
    omschrijving: str | None = None
    generiek: list[str] = Field(default_factory=list)
    set: dict[str, Any] = Field(default_factory=dict)
    by_rol_omschrijving: dict[str, RoleKeys] = Field(default_factory=dict)
    answer: bool = True
    answer_generiek: list[str] | None = None
    answer_machtiging: Literal["any", "gemachtigde", "zonder"] = "any"
    # only a relation whose gerelateerde is a betrokkene (a person, an organisation, an employee) is a rol; the
    # others stay what they are (heeftBetrekkingOp with an adres: a zaakobject)
    betrokkene_only: bool = False
    replace: bool = False  # in an overlay: this role as given, instead of merged into the default's


class RoleKeys(Closed):
    omschrijving: str | None = None
    generiek: list[str] = Field(default_factory=list)


class MatchRule(Closed):
    compare: Literal["exact", "casefold", "prefix"] = "prefix"
    volgnummer: Literal["ignore", "warn", "require"] = "warn"


StatustypeField = Literal["omschrijving", "omschrijvingGeneriek", "statustekst", "volgnummer"]
DEFAULT_STATUS_CODE_FIELDS: tuple[StatustypeField, ...] = ("omschrijving", "volgnummer")


class StatusCodeRule(Closed):
    """How a status given only by its code (heeft/gerelateerde/code, no omschrijving or volgnummer) finds its
    statustype: first ``codes`` (code → statustype omschrijving), then the code compared (case-insensitive) with each
    statustype field of ``fields`` in turn (``volgnummer``: a numeric code is the volgnummer). The first field with
    exactly one statustype decides."""

    codes: dict[str, str] = Field(default_factory=dict)
    fields: list[StatustypeField] = Field(default_factory=lambda: list(DEFAULT_STATUS_CODE_FIELDS))


class Matching(Closed):
    statustype: MatchRule | None = None
    resultaattype: MatchRule | None = None
    status_code: StatusCodeRule | None = None


class Override(Closed):
    """A per-zaaktype value: a constant (``value``) or the text of a named extraElement (``extra_element``,
    converted like a rule value), written into the ZGW body of ``resource``."""

    resource: str
    zgw: str
    value: Any = None
    extra_element: str | None = None
    convert: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    table: str | None = None
    max_length: int | None = None
    when: Cond | None = None
    if_unset: bool = False

    @model_validator(mode="after")
    def _source(self) -> Override:
        given = [k for k in ("value", "extra_element") if k in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("an override has exactly one of value, extra_element")
        if "value" in given and (self.convert or self.table):
            raise ValueError("convert/table apply to extra_element overrides only")
        return self


class GeometrieFromExtra(Closed):
    """A zaakgeometrie (a Point) built from two named extraElementen holding the coordinates (Signalen sends a
    melding's location that way, in RD). Used when the message has no anderZaakObject/lokatie."""

    x: str
    y: str
    srs: Literal["EPSG:28992", "EPSG:4326"] = "EPSG:28992"


BetrokkeneType = Literal["natuurlijk_persoon", "niet_natuurlijk_persoon", "vestiging", "organisatorische_eenheid",
                         "medewerker"]


class Profile(Closed):
    roles: dict[str, str | RoleKeys] = Field(default_factory=dict)
    # when one gerelateerde holds several betrokkenen: the kinds this zaaktype's rollen take, most preferred first
    betrokkenen: list[BetrokkeneType] | None = None
    zaakgeometrie: GeometrieFromExtra | None = None
    fallback_resultaat: str | None = None
    ignore_eindstatus: bool | None = None
    matching: Matching | None = None
    overrides: list[Override] = Field(default_factory=list)


class Profiles(Closed):
    defaults: Profile | None = None
    zaaktypen: dict[str, Profile] = Field(default_factory=dict)


class MappingFile(Closed):
    version: Literal[1] = 1
    description: str | None = None
    mappings: list[EntityMapping] = Field(default_factory=list)
    tables: dict[str, Table] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)
    organisaties: dict[str, str] = Field(default_factory=dict)
    matching: Matching | None = None
    profiles: Profiles | None = None


Switch.model_rebuild()
Rule.model_rebuild()
Cond.model_rebuild()
Role.model_rebuild()
