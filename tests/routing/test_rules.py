"""Rule matching as a table: (rules, operation, zender, zaaktype) → (mode, primary, rule). First match wins; a rule
with zaaktypen matches only a known, listed zaaktype; the default otherwise. And when the zaaktype is worth
looking up at all (``needs_zaaktype``)."""

from __future__ import annotations

from typing import Any

import pytest

from stuf_bridge.routing.config import RoutingSettings
from stuf_bridge.routing.rules import RuleTable
from stuf_bridge.stuf.stuurgegevens import Systeem

ISSUE = {  # the table of the issue
    "default": "translate",
    "rules": [
        {"match": {"zaaktype": ["B1026", "B1027"], "operation": ["*"]}, "mode": "replicate", "primary": "legacy"},
        {"match": {"zender": "0363/GISVG"}, "mode": "proxy"},
        {"match": {"operation": ["genereerZaakIdentificatie"]}, "mode": "proxy"},
    ],
}
WILDCARDS = {
    "default": {"mode": "replicate", "primary": "zgw"},
    "rules": [
        {"match": {"zender": ["0599/*"], "operation": ["creeerZaak", "updateZaak"]}, "mode": "proxy", "name": "rdam"},
        {"match": {"zender": "*/GWS4all", "zaaktype": "B1026"}, "mode": "translate"},
        {"match": {"zender": ["*/*"], "zaaktype": ["B9999"]}, "mode": "proxy"},
    ],
}
FF = Systeem("0363", "OpenFormulieren")
GISVG = Systeem("0363", "GISVG")

CASES: list[tuple[str, dict[str, Any], str, Systeem | None, str | None, tuple[str, str, str]]] = [
    ("zaaktype listed", ISSUE, "creeerZaak", FF, "B1026", ("replicate", "legacy", "rules[0]")),
    ("second zaaktype of the list", ISSUE, "geefZaakdetails", FF, "B1027", ("replicate", "legacy", "rules[0]")),
    ("zaaktype not listed", ISSUE, "creeerZaak", FF, "B2000", ("translate", "zgw", "default")),
    ("zaaktype unknown: a zaaktype rule does not match", ISSUE, "creeerZaak", FF, None,
     ("translate", "zgw", "default")),
    ("zaaktype rule before the zender rule", ISSUE, "creeerZaak", GISVG, "B1026", ("replicate", "legacy", "rules[0]")),
    ("zender rule, proxy implies legacy", ISSUE, "creeerZaak", GISVG, "B2000", ("proxy", "legacy", "rules[1]")),
    ("zender rule needs both parts", ISSUE, "creeerZaak", Systeem("0599", "GISVG"), None,
     ("translate", "zgw", "default")),
    ("operation rule", ISSUE, "genereerZaakIdentificatie", FF, None, ("proxy", "legacy", "rules[2]")),
    ("operation rule: other operation", ISSUE, "genereerDocumentIdentificatie", FF, None,
     ("translate", "zgw", "default")),
    ("no zender at all", ISSUE, "geefZaakdetails", None, None, ("translate", "zgw", "default")),
    ("organisatie wildcard and a named rule", WILDCARDS, "updateZaak", Systeem("0599", "X"), "B1026",
     ("proxy", "legacy", "rdam")),
    ("organisatie wildcard: operation not listed", WILDCARDS, "geefZaakstatus", Systeem("0599", "X"), None,
     ("replicate", "zgw", "default")),
    ("applicatie wildcard with zaaktype", WILDCARDS, "creeerZaak", Systeem("1900", "GWS4all"), "B1026",
     ("translate", "zgw", "rules[1]")),
    ("applicatie wildcard, other applicatie", WILDCARDS, "creeerZaak", Systeem("1900", "GWS"), "B1026",
     ("replicate", "zgw", "default")),
    ("*/* matches a zender without parts", WILDCARDS, "creeerZaak", Systeem(), "B9999",
     ("proxy", "legacy", "rules[2]")),
    ("zaaktype codes are exact", WILDCARDS, "creeerZaak", Systeem(), "b9999", ("replicate", "zgw", "default")),
]


@pytest.mark.parametrize(("table", "function", "zender", "zaaktype", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_first_match_wins(table: dict[str, Any], function: str, zender: Systeem | None, zaaktype: str | None,
                          expected: tuple[str, str, str]) -> None:
    decision = RuleTable(RoutingSettings.model_validate(table)).decide(function, zender, zaaktype)
    assert (decision.mode.value, decision.primary, decision.rule) == expected


NEEDS: list[tuple[str, dict[str, Any], str, Systeem | None, bool]] = [
    ("a zaaktype rule for every operation", ISSUE, "actualiseerZaakstatus", FF, True),
    ("a zaaktype rule comes first, even for GISVG", ISSUE, "geefZaakdetails", GISVG, True),
    ("the zender rule decides first", WILDCARDS, "creeerZaak", Systeem("0599", "X"), False),
    ("*/* with a zaaktype rule matches any zender", WILDCARDS, "creeerZaak", None, True),
    ("no zaaktype rule at all", {"rules": [{"match": {"zender": "0363/GISVG"}, "mode": "proxy"}]},
     "geefZaakdetails", FF, False),
    ("the zaaktype rule is for another operation",
     {"rules": [{"match": {"zaaktype": "B1", "operation": "creeerZaak"}, "mode": "proxy"}]},
     "geefZaakdetails", FF, False),
]


@pytest.mark.parametrize(("table", "function", "zender", "expected"), [c[1:] for c in NEEDS],
                         ids=[c[0] for c in NEEDS])
def test_whether_the_zaaktype_is_needed(table: dict[str, Any], function: str, zender: Systeem | None,
                                        expected: bool) -> None:
    assert RuleTable(RoutingSettings.model_validate(table)).needs_zaaktype(function, zender) is expected
