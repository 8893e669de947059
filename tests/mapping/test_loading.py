"""Loading and validating mapping files: a broken file stops start-up with the file, the rule and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from stuf_bridge.errors import StufBridgeError
from stuf_bridge.mapping import MappingError, Mappings, default_mapping_dir

from .conftest import REPO, write_mappings


def load_one(tmp_path: Path, text: str, name: str = "broken") -> Mappings:
    return Mappings(_layers(write_mappings(tmp_path / "defaults", **{name: text})))


def _layers(directory: Path):  # type: ignore[no-untyped-def]
    from stuf_bridge.mapping.loader import load_layers

    return load_layers(directory, None)


def error_of(tmp_path: Path, text: str, name: str = "broken") -> MappingError:
    with pytest.raises(MappingError) as info:
        load_one(tmp_path, text, name)
    return info.value


MINIMAL = """
mappings:
  - entity: X
    rules:
{rules}
"""


def test_the_default_files_load_and_cover_the_entities(mappings: Mappings) -> None:
    assert default_mapping_dir() == REPO / "mappings"
    assert set(mappings.entities) >= {
        "ZAK",
        "ZAKSTT",
        "ZAKBTR",
        "NPS",
        "NNP",
        "VES",
        "MDW",
        "OEH",
        "ZAKOBJ",
        "AOA",
        "resultaat",
        "zaakeigenschap",
    }
    assert {f for f in mappings.files} == {p.name for p in (REPO / "mappings").glob("*.yaml")}
    assert mappings.by_resource == {
        "zaak": "ZAK",
        "resultaat": "resultaat",
        "rol": "ZAKBTR",
        "status": "ZAKSTT",
        "zaakeigenschap": "zaakeigenschap",
        "zaakobject": "ZAKOBJ",
    }
    assert mappings.organisaties == {}


def test_mapping_error_is_a_gateway_error_with_file_rule_and_reason(tmp_path: Path) -> None:
    err = error_of(
        tmp_path, MINIMAL.format(rules="      - {stuf: a, zgw: b}\n      - {stuf: datum, zgw: d, convert: datun}")
    )
    assert isinstance(err, StufBridgeError)
    assert err.file == "broken.yaml"
    assert err.rule == "mappings[0] X > rules[1] (stuf=datum, zgw=d)"
    assert err.reason.startswith("unknown converter 'datun' (known: ")
    assert str(err).startswith("broken.yaml: mappings[0] X > rules[1] (stuf=datum, zgw=d): unknown converter 'datun'")


@pytest.mark.parametrize(
    ("rule", "rule_part", "reason"),
    [
        ("{stuf: a, zgw: b, converter: text}", "rules[0] (stuf=a, zgw=b)", "converter: Extra inputs are not permitted"),
        ("{stuf: a, zgw: b, table: kleuren}", "rules[0] (stuf=a, zgw=b)", "unknown table 'kleuren'"),
        ("{stuf: a, zgw: b, mapping: Y, convert: text}", "rules[0] (stuf=a, zgw=b)", "belong on a value rule"),
        ("{stuf: a, zgw: b, rules: [], mapping: Y}", "rules[0] (stuf=a, zgw=b)", "use one of rules, mapping, switch"),
        ("{stuf: a, zgw: b, direction: sideways}", "rules[0] (stuf=a, zgw=b)", "direction: Input should be"),
        ("{stuf: 'XYZ:a', zgw: b}", "rules[0] (stuf=XYZ:a, zgw=b)", "unknown prefix 'XYZ'"),
        ("{stuf: 'a//b', zgw: b}", "rules[0] (stuf=a//b, zgw=b)", "bad step ''"),
        ("{stuf: a, zgw: 'b..c'}", "rules[0] (stuf=a, zgw=b..c)", "bad ZGW path"),
        ("{stuf: a}", "rules[0] (stuf=a)", "a value rule needs 'stuf' and 'zgw'"),
        ("{stuf: a, zgw: b, value: 1}", "rules[0] (stuf=a, zgw=b)", "either 'stuf' (out) or 'zgw' (in)"),
        ("{zgw: b, value: 1, direction: out}", "rules[0] (zgw=b)", "cannot have direction out"),
        ("{stuf: a, zgw: b, convert: zaakniveau}", "rules[0] (stuf=a, zgw=b)", "converter 'zaakniveau' works out only"),
        ("{stuf: a, zgw: b, convert: duur, args: {skip_nul: true}}", "rules[0] (stuf=a, zgw=b)", "bad args"),
        (
            "{stuf: a, zgw: b, convert: tijdstip-not-in-future, args: {tolerance: soon}}",
            "rules[0] (stuf=a, zgw=b)",
            "tolerance 'soon' is not seconds or an ISO duration",
        ),
        ("{stuf: a, zgw: b, max_length: 0}", "rules[0] (stuf=a, zgw=b)", "max_length in must be at least 1"),
        (
            "{stuf: a, zgw: b, when: {present: a, absent: b}}",
            "rules[0] (stuf=a, zgw=b)",
            "when: a condition has exactly one of",
        ),
        (
            "{stuf: a, zgw: b, when: {all: [{presnt: a}]}}",
            "rules[0] (stuf=a, zgw=b)",
            "when.all[0].presnt: Extra inputs are not permitted",
        ),
        ("{stuf: a, zgw: b, when: {dialect: 1.3}}", "rules[0] (stuf=a, zgw=b)", "when.dialect: Input should be"),
        ("{stuf: a, zgw: b, many: true}", "rules[0] (stuf=a, zgw=b)", "'many' and 'complete' belong on a group"),
        ("{stuf: a, rules: [], many: true}", "rules[0] (stuf=a)", "'many' needs a 'zgw' list"),
        (
            "{stuf: a, zgw: b, switch: {by: t, cases: {}}}",
            "rules[0] (stuf=a, zgw=b)",
            "switch: a switch needs at least one case",
        ),
    ],
)
def test_a_broken_rule_names_file_rule_and_reason(tmp_path: Path, rule: str, rule_part: str, reason: str) -> None:
    err = error_of(tmp_path, MINIMAL.format(rules=f"      - {rule}"))
    assert err.file == "broken.yaml"
    assert err.rule == f"mappings[0] X > {rule_part}"
    assert reason in err.reason


def test_a_nested_rule_is_located_inside_its_group(tmp_path: Path) -> None:
    text = MINIMAL.format(
        rules="""      - stuf: g
        zgw: g
        rules:
          - {stuf: a, zgw: a}
          - {stuf: b, zgw: b, convert: nope}"""
    )
    err = error_of(tmp_path, text)
    assert err.rule == "mappings[0] X > rules[0] (stuf=g, zgw=g) > rules[1] (stuf=b, zgw=b)"
    assert "unknown converter 'nope'" in err.reason


def test_an_unknown_key_at_any_level_is_refused(tmp_path: Path) -> None:
    err = error_of(tmp_path, "mapings: []\n")
    assert (err.rule, err.reason) == ("", "mapings: Extra inputs are not permitted")
    err = error_of(tmp_path, "mappings:\n  - entity: X\n    resourse: zaak\n")
    assert (err.rule, err.reason) == ("mappings[0] X", "resourse: Extra inputs are not permitted")


def test_an_unknown_sub_mapping_is_refused(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.format(rules="      - {stuf: a, zgw: b, mapping: Nope}"))
    assert "unknown mapping 'Nope'" in err.reason


def test_yaml_errors_name_file_and_line(tmp_path: Path) -> None:
    err = error_of(tmp_path, "mappings:\n  - entity: X\n    rules: [\n")
    assert err.file == "broken.yaml"
    assert err.rule.startswith("line ")
    assert "not valid YAML" in err.reason
    err = error_of(tmp_path, "mappings: []\nmappings: []\n")
    assert "duplicate key 'mappings'" in err.reason and err.rule == "line 2, column 1"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    directory = write_mappings(
        tmp_path / "d",
        a=MINIMAL.format(rules="      - {stuf: a, zgw: b, convert: x1}\n      - {stuf: c, zgw: d, convert: x2}"),
        b="mappings:\n  - entity: X\n    rules: []\n",
        c="organisaties: {'0363': '123456789', ' 363': '002564440'}\n",
    )
    with pytest.raises(MappingError) as info:
        Mappings(_layers(directory))
    problems = [(p.file, p.rule, p.reason) for p in info.value.problems]
    assert ("b.yaml", "mappings[0] X", "mapping 'X' is already defined in a.yaml") in problems
    reasons = " | ".join(p[2] for p in problems)
    assert "unknown converter 'x1'" in reasons and "unknown converter 'x2'" in reasons
    assert "RSIN '123456789' is not nine digits passing the 11-test" in reasons
    assert "an organisatie is a non-empty string" in reasons
    assert "more problem(s)" in str(info.value)


def test_an_unquoted_gemeentecode_is_refused(tmp_path: Path) -> None:
    err = error_of(tmp_path, "organisaties: {0363: '002564440'}\n")  # YAML reads 0363 as the number 243
    assert "organisaties" in err.rule + err.reason


def test_the_order_list_must_hold_every_written_element(tmp_path: Path) -> None:
    text = (
        "mappings:\n  - entity: X\n    order: [a]\n    rules:\n      - {stuf: a, zgw: a}\n      - {stuf: b, zgw: b}\n"
    )
    err = error_of(tmp_path, text)
    assert err.rule == "mappings[0] X > rules[1] (stuf=b, zgw=b)"
    assert "not in the entity's order list" in err.reason


def test_roles_and_profiles_are_checked(tmp_path: Path) -> None:
    text = """
mappings:
  - entity: R
    resource: rol
    rules: []
roles:
  heeftAlsInitiator: {entiteittype: ZAKBTRINI, generiek: [aanvrager]}
  heeftAlsZomaar: {omschrijving: X}
profiles:
  zaaktypen:
    B1:
      roles: {heeftAlsOnbekend: Iemand}
      overrides:
        - {resource: besluit, zgw: x, value: 1}
        - {resource: rol, zgw: x, extra_element: y, table: nope}
"""
    with pytest.raises(MappingError) as info:
        load_one(tmp_path, text)
    problems = {(p.rule, p.reason.split(" (")[0]) for p in info.value.problems}
    assert ("roles.heeftAlsInitiator", "unknown omschrijvingGeneriek 'aanvrager'") in problems
    assert ("roles.heeftAlsZomaar", "entiteittype is required") in problems
    assert ("profiles.zaaktypen.B1.roles.heeftAlsOnbekend", "unknown relation") in problems
    assert ("profiles.zaaktypen.B1.overrides[0]", "unknown resource 'besluit'") in problems
    assert ("profiles.zaaktypen.B1.overrides[1]", "unknown table 'nope'") in problems


def test_an_override_needs_exactly_one_source(tmp_path: Path) -> None:
    text = (
        "mappings: [{entity: Z, resource: zaak}]\nprofiles: {zaaktypen: {B: {overrides: [{resource: zaak, zgw: a}]}}}\n"
    )
    err = error_of(tmp_path, text)
    assert "an override has exactly one of value, extra_element" in err.reason


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="overlay mapping directory does not exist"):
        Mappings.load(overlay_dir=tmp_path / "nope")
