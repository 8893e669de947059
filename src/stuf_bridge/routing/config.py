"""The routing table as configuration: ``routing:`` in the YAML config file or ``STUF_BRIDGE_ROUTING`` (JSON).

    routing:
      default: translate                       # or {mode: replicate, primary: legacy}
      rules:
        - match: {zaaktype: [B1026, B1027], operation: "*"}
          mode: replicate
          primary: legacy
        - match: {zender: "0363/GISVG"}
          mode: proxy

Everything is checked when the settings are read, so that a broken table stops the start naming the rule
(``routing.rules[2]``) and the reason, as a broken mapping file does: an operation the registry does not know (the
dialect-free function names of ``stuf/registry.py``), an unknown mode or key, a primary that contradicts its mode, a
rule that matches on nothing.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..pipeline.route import Mode
from ..stuf.registry import REGISTRY

Primary = Literal["legacy", "zgw"]
ANY = "*"

#: The primary a mode implies; replicate has none: the rule must say whose answer the client gets.
_IMPLIED_PRIMARY: dict[Mode, Primary | None] = {Mode.TRANSLATE: "zgw", Mode.PROXY: "legacy", Mode.REPLICATE: None}
_FUNCTIONS = frozenset(REGISTRY.functions())


class Target(BaseModel):
    """Where a message goes: the mode and whose answer the client gets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode
    primary: Primary | None = Field(default=None, description="legacy | zgw; implied by proxy, translate")
    backfill: Literal["off", "on_reference"] = Field(
        default="off", description="on_reference: a message naming a zaak ZGW lacks but legacy has copies it into "
        "ZGW first (docs/migration.md)")
    compare_reads: float = Field(
        default=0.0, ge=0.0, le=1.0, description="replicate only: this fraction of the read messages is also asked "
        "of the secondary (through the outbox) and differences are reported (docs/migration.md)")

    @model_validator(mode="after")
    def _compare_reads_only_on_replicate(self) -> Self:
        if self.compare_reads > 0 and self.mode is not Mode.REPLICATE:
            raise ValueError(f"compare_reads needs mode replicate (there is no second side to ask in "
                             f"{self.mode.value})")
        return self

    @model_validator(mode="after")
    def _primary_fits_the_mode(self) -> Self:
        implied = _IMPLIED_PRIMARY[self.mode]
        if self.primary is None:
            if implied is None:
                raise ValueError(f"mode {self.mode.value} needs a primary (legacy or zgw): whose answer the client "
                                 "gets")
            object.__setattr__(self, "primary", implied)
        elif implied is not None and self.primary != implied:
            raise ValueError(f"primary {self.primary} contradicts mode {self.mode.value} (which answers from "
                             f"{implied})")
        return self


class Match(BaseModel):
    """What a rule matches; every key given must match. ``*`` (or a list holding it) matches anything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zaaktype: tuple[str, ...] | None = Field(default=None, description="zaaktype codes (isVan/gerelateerde/code), *")
    operation: tuple[str, ...] | None = Field(default=None, description="function names (creeerZaak, ...), or *")
    zender: tuple[str, ...] | None = Field(default=None, description="'organisatie/applicatie', either part may be *")

    @field_validator("zaaktype", "operation", "zender", mode="before")
    @classmethod
    def _a_list_or_any(cls, value: Any) -> Any:
        """One value or a list of them; ``*`` anywhere means any (None)."""
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple):
            return value  # pydantic says what is wrong with it
        if not values:
            raise ValueError("an empty list matches nothing; use '*' for any")
        if any(str(v).strip() == ANY for v in values):
            return None
        return tuple(str(v).strip() for v in values)

    @field_validator("operation")
    @classmethod
    def _known_operations(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = sorted(set(value or ()) - _FUNCTIONS)
        if unknown:
            hints = [f"{name!r}" + "".join(f" (did you mean {close}?)" for close in
                                          difflib.get_close_matches(name, _FUNCTIONS, n=1)) for name in unknown]
            raise ValueError(f"unknown operation {', '.join(hints)}: use the operation names of the README "
                             "(creeerZaak, geefZaakdetails, ...), the same in both dialects")
        return value

    @field_validator("zender")
    @classmethod
    def _organisatie_slash_applicatie(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for zender in value or ():
            if zender.count("/") != 1:
                raise ValueError(f"zender {zender!r} must be 'organisatie/applicatie' (either part may be '*')")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("empty match: give zaaktype, operation and/or zender (operation: '*' for every message)")
        return self


class Rule(Target):
    match: Match
    name: str | None = Field(default=None, max_length=100, description="a name for the log; default rules[i]")


class RoutingSettings(BaseModel):
    """The routing table: ordered rules, first match wins, else ``default``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Target = Field(default=Target(mode=Mode.TRANSLATE, primary="zgw"),
                            description="translate | proxy | replicate, or {mode, primary}")
    rules: tuple[Rule, ...] = ()

    @field_validator("default", mode="before")
    @classmethod
    def _mode_alone(cls, value: Any) -> Any:
        return {"mode": value} if isinstance(value, str) else value

    @field_validator("rules", mode="before")
    @classmethod
    def _each_rule(cls, value: Any) -> Any:
        """Each rule on its own, so that the message names it: ``routing.rules[2]: match.operation: ...``."""
        if not isinstance(value, list | tuple):
            return value
        rules = []
        for i, raw in enumerate(value):
            try:
                rules.append(raw if isinstance(raw, Rule) else Rule.model_validate(raw))
            except ValidationError as exc:
                raise ValueError(f"routing.rules[{i}]: {reasons(exc)}") from None
        return rules

    @property
    def active(self) -> bool:
        """Whether any message could go anywhere but ZGW: only then does the gateway need a router."""
        return bool(self.rules) or self.default.mode is not Mode.TRANSLATE or self.default.backfill != "off"


def reasons(exc: ValidationError) -> str:
    """pydantic's errors as one line: ``where: why; where: why``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        why = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {why}" if where else why)
    return "; ".join(parts)
