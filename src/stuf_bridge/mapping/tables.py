"""The look-up tables of the mapping files at run time: RSIN per gemeentecode, roltypen per relation (and per
zaaktype), status/resultaat matching, fallback resultaat and per-zaaktype profiles. Pure data in, data out: the
flows fetch roltypen/statustypen/resultaattypen from the Catalogi API and hand them in."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .model import GeometrieFromExtra, MatchRule, Role, StatusCodeRule

GENERIEK = frozenset(
    {
        "adviseur",
        "behandelaar",
        "belanghebbende",
        "beslisser",
        "initiator",
        "klantcontacter",
        "zaakcoordinator",
        "mede_initiator",
    }
)


def valid_rsin(value: str) -> bool:
    """Nine digits passing the 11-test (elfproef), as ZGW demands of bronorganisatie."""
    if not re.fullmatch(r"\d{9}", value or ""):
        return False
    total = sum(int(d) * w for d, w in zip(value[:8], range(9, 1, -1), strict=True)) - int(value[8])
    return total % 11 == 0


class RoltypeKeys(NamedTuple):
    """How to find a roltype among a zaaktype's roltypen: by ``omschrijving`` first (case-insensitive), then the
    first roltype whose omschrijvingGeneriek is in ``generiek`` (in that order)."""

    omschrijving: str | None
    generiek: tuple[str, ...]


def pick_roltype(keys: RoltypeKeys, roltypen: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    candidates = list(roltypen)
    if keys.omschrijving:
        wanted = _norm(keys.omschrijving)
        for roltype in candidates:
            if _norm(str(roltype.get("omschrijving") or "")) == wanted:
                return roltype
    for generiek in keys.generiek:
        for roltype in candidates:
            if roltype.get("omschrijvingGeneriek") == generiek:
                return roltype
    return None


@dataclass(frozen=True)
class Match:
    """The outcome of matching a StUF omschrijving against catalogue items; warnings say what was loose."""

    item: Mapping[str, Any] | None
    warnings: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.item is not None


def match_by_omschrijving(
    candidates: Sequence[Mapping[str, Any]],
    omschrijving: str,
    rule: MatchRule,
    *,
    kind: str,
    volgnummer: int | str | None = None,
) -> Match:
    """Exact, then case-insensitive, then prefix (either way round; ZGW omschrijvingen are often shorter), as far
    as ``rule.compare`` allows. Among several hits the volgnummer decides when given; else the first is taken."""
    key = _norm(omschrijving)
    tiers: list[list[Mapping[str, Any]]] = [[c for c in candidates if c.get("omschrijving") == omschrijving]]
    if rule.compare in ("casefold", "prefix"):
        tiers.append([c for c in candidates if _norm(str(c.get("omschrijving") or "")) == key])
    if rule.compare == "prefix" and key:
        tiers.append(
            [
                c
                for c in candidates
                if (n := _norm(str(c.get("omschrijving") or ""))) and (n.startswith(key) or key.startswith(n))
            ]
        )
    wanted = _int(volgnummer)
    warnings: list[str] = []
    for tier in tiers:
        if not tier:
            continue
        if wanted is not None and rule.volgnummer != "ignore":
            same = [c for c in tier if _int(c.get("volgnummer")) == wanted]
            if same:
                tier = same
            elif rule.volgnummer == "require":
                continue
            else:
                warnings.append(
                    f"{kind} {tier[0].get('omschrijving')!r} heeft volgnummer {tier[0].get('volgnummer')}, "
                    f"het bericht noemt {wanted}"
                )
        if len(tier) > 1:
            names = ", ".join(repr(c.get("omschrijving")) for c in tier)
            warnings.append(f"{omschrijving!r} past op meerdere {kind}n ({names}); de eerste is genomen")
        if tier[0].get("omschrijving") != omschrijving:
            warnings.append(f"{kind} {omschrijving!r} gevonden als {tier[0].get('omschrijving')!r}")
        return Match(tier[0], tuple(warnings))
    known = ", ".join(repr(c.get("omschrijving")) for c in candidates) or "geen"
    extra = f" en volgnummer {wanted}" if wanted is not None and rule.volgnummer == "require" else ""
    return Match(None, (*warnings, f"geen {kind} met omschrijving {omschrijving!r}{extra} (bekend: {known})"))


def match_status_code(candidates: Sequence[Mapping[str, Any]], code: str, rule: StatusCodeRule) -> Match:
    """The statustype of a status given only by its code (see ``StatusCodeRule``); the warning says how it was
    found, or why none was."""
    key = _norm(code)
    mapped = next((omschrijving for c, omschrijving in rule.codes.items() if _norm(c) == key), None)
    if mapped is not None:
        hits = [c for c in candidates if _norm(str(c.get("omschrijving") or "")) == _norm(mapped)]
        if len(hits) == 1:
            return Match(hits[0], (f"status met code {code!r}: statustype {hits[0].get('omschrijving')!r} "
                                   "(matching.status_code.codes)",))
        return Match(None, (f"status met code {code!r}: matching.status_code.codes noemt {mapped!r}, maar het "
                            f"zaaktype heeft {len(hits)} statustypen met die omschrijving",))
    for name in rule.fields:
        if name == "volgnummer":
            number = _int(code) if code.strip().isdigit() else None
            hits = [c for c in candidates if number is not None and _int(c.get("volgnummer")) == number]
        else:
            hits = [c for c in candidates if key and _norm(str(c.get(name) or "")) == key]
        if len(hits) == 1:
            return Match(hits[0], (f"status met code {code!r}: statustype {hits[0].get('omschrijving')!r} "
                                   f"(code = {name})",))
        if len(hits) > 1:
            return Match(None, (f"status met code {code!r} past op {len(hits)} statustypen ({name}); stel "
                                "matching.status_code.codes in",))
    known = ", ".join(repr(c.get("omschrijving")) for c in candidates) or "geen"
    return Match(None, (f"geen statustype voor status met code {code!r} (vergeleken met "
                        f"{', '.join(rule.fields) or 'niets'}; bekend: {known}); stel matching.status_code in",))


def _norm(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold()


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and str(value).strip() != "" else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RoleTable:
    """The relations (heeftAlsX) and the roltype each stands for, with per-zaaktype omschrijvingen."""

    roles: Mapping[str, Role]

    def keys_for(
        self, relation: str, *, profile_roles: Mapping[str, RoltypeKeys], rol_omschrijving: str | None = None
    ) -> RoltypeKeys:
        role = self.roles[relation]
        if rol_omschrijving:
            for name, keys in role.by_rol_omschrijving.items():
                if _norm(name) == _norm(rol_omschrijving):
                    return RoltypeKeys(keys.omschrijving, tuple(keys.generiek or role.generiek))
        configured = profile_roles.get(relation)
        if configured is not None:
            return RoltypeKeys(
                configured.omschrijving or role.omschrijving, configured.generiek or tuple(role.generiek)
            )
        return RoltypeKeys(role.omschrijving, tuple(role.generiek))

    def relation_for(self, rol: Mapping[str, Any], *, profile_roles: Mapping[str, RoltypeKeys]) -> str | None:
        """The StUF relation for a ZGW rol (with its ``omschrijving``/``omschrijvingGeneriek`` as ZRC returns them):
        the relation whose configured roltype omschrijving it has, else the first whose answer generiek fits."""
        omschrijving = _norm(str(rol.get("omschrijving") or ""))
        generiek = rol.get("omschrijvingGeneriek")
        machtiging = rol.get("indicatieMachtiging") or ""
        answering = [(name, role) for name, role in self.roles.items() if role.answer]
        if omschrijving:
            for name, role in answering:
                keys = profile_roles.get(name)
                configured = (keys.omschrijving if keys and keys.omschrijving else role.omschrijving) or ""
                if _norm(configured) == omschrijving and _machtiging_fits(role, machtiging):
                    return name
        for name, role in answering:
            wanted = role.answer_generiek if role.answer_generiek is not None else role.generiek
            if generiek in wanted and _machtiging_fits(role, machtiging):
                return name
        return None


def _machtiging_fits(role: Role, machtiging: str) -> bool:
    if role.answer_machtiging == "gemachtigde":
        return machtiging == "gemachtigde"
    if role.answer_machtiging == "zonder":
        return machtiging != "gemachtigde"
    return True


#: When one gerelateerde holds several betrokkenen (Open Formulieren's medewerker with a fallback natuurlijkPersoon):
#: the most specific first. A medewerker or organisational unit names who acted; a vestiging is more specific than
#: its nietNatuurlijkPersoon; a natuurlijkPersoon beside any of them is a placeholder.
DEFAULT_BETROKKENEN = ("medewerker", "organisatorische_eenheid", "vestiging", "niet_natuurlijk_persoon",
                       "natuurlijk_persoon")


@dataclass(frozen=True)
class EffectiveProfile:
    """The profile for one zaaktype: the defaults with that zaaktype's settings laid over them."""

    zaaktype: str | None
    roles: Mapping[str, RoltypeKeys] = field(default_factory=dict)
    fallback_resultaat: str | None = None
    ignore_eindstatus: bool = False
    matching: Mapping[str, MatchRule | StatusCodeRule] = field(default_factory=dict)
    overrides: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # resource → CompiledOverride…
    betrokkenen: tuple[str, ...] = DEFAULT_BETROKKENEN
    zaakgeometrie: GeometrieFromExtra | None = None
