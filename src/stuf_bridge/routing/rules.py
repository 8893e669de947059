"""The routing table compiled for matching: first match wins, the default otherwise.

Matching is pure and runs once per message, so the rules are turned into sets when the gateway starts: a rule is a
few set look-ups (operation, zender, zaaktype), never a pattern. A rule that names zaaktypen matches only when the
zaaktype is known and listed; since finding a zaaktype may cost a call to ZGW or to the legacy system, the table
also says whether a message's decision can depend on it at all (:meth:`RuleTable.needs_zaaktype`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..pipeline.route import Mode
from ..stuf.stuurgegevens import Systeem
from .config import ANY, RoutingSettings, Target


@dataclass(frozen=True)
class Decision:
    """What the table says: the mode, whose answer the client gets, and which rule said so."""

    mode: Mode
    primary: str
    rule: str  # rules[i] (or the rule's name) | default


@dataclass(frozen=True)
class _Zenders:
    """``organisatie/applicatie`` patterns as sets: exact pairs, whole organisaties, applicaties anywhere."""

    pairs: frozenset[tuple[str, str]]
    organisaties: frozenset[str]  # org/*
    applicaties: frozenset[str]  # */app
    anyone: bool  # */*

    @classmethod
    def of(cls, patterns: tuple[str, ...]) -> _Zenders:
        split = [tuple(p.split("/", 1)) for p in patterns]
        return cls(
            pairs=frozenset((org, app) for org, app in split if ANY not in (org, app)),
            organisaties=frozenset(org for org, app in split if app == ANY and org != ANY),
            applicaties=frozenset(app for org, app in split if org == ANY and app != ANY),
            anyone=(ANY, ANY) in split,
        )

    def __contains__(self, zender: Systeem | None) -> bool:
        if self.anyone:
            return True
        org, app = (zender.organisatie or "", zender.applicatie or "") if zender else ("", "")
        return (org, app) in self.pairs or org in self.organisaties or app in self.applicaties


@dataclass(frozen=True)
class _Rule:
    decision: Decision
    functions: frozenset[str] | None  # None: any
    zenders: _Zenders | None
    zaaktypen: frozenset[str] | None

    def matches_message(self, function: str, zender: Systeem | None) -> bool:
        """Operation and zender match (the zaaktype aside)."""
        return (self.functions is None or function in self.functions) and (
            self.zenders is None or zender in self.zenders)


class RuleTable:
    def __init__(self, settings: RoutingSettings):
        self.default = _decision(settings.default, "default")
        self.rules = tuple(
            _Rule(
                _decision(rule, rule.name or f"rules[{i}]"),
                frozenset(rule.match.operation) if rule.match.operation is not None else None,
                _Zenders.of(rule.match.zender) if rule.match.zender is not None else None,
                frozenset(rule.match.zaaktype) if rule.match.zaaktype is not None else None,
            )
            for i, rule in enumerate(settings.rules)
        )
        #: Whether any rule looks at the zaaktype; without one no message ever needs it found.
        self.uses_zaaktype = any(rule.zaaktypen is not None for rule in self.rules)

    def decide(self, function: str, zender: Systeem | None, zaaktype: str | None) -> Decision:
        """The first rule that matches, else the default. A rule with zaaktypen needs ``zaaktype`` listed."""
        for rule in self.rules:
            if rule.matches_message(function, zender) and (
                    rule.zaaktypen is None or (zaaktype is not None and zaaktype in rule.zaaktypen)):
                return rule.decision
        return self.default

    def needs_zaaktype(self, function: str, zender: Systeem | None) -> bool:
        """Whether the decision for this message can depend on its zaaktype: a rule with zaaktypen matches its
        operation and zender before any rule without them does."""
        if not self.uses_zaaktype:
            return False
        for rule in self.rules:
            if rule.matches_message(function, zender):
                if rule.zaaktypen is not None:
                    return True
                return False
        return False


def _decision(target: Target, label: str) -> Decision:
    assert target.primary is not None  # Target fills in the primary its mode implies
    return Decision(target.mode, target.primary, label)
