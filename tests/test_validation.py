"""Schema validation: our lxml schemas, error reporting, and the optional official VNG bundles."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from stuf_bridge.stuf.namespaces import STUF, ZKN
from stuf_bridge.stuf.validation import SchemaLoadError, Schemas

from .support.messages import di02
from .support.reference import require_reference


def _message(**kw: str) -> etree._Element:
    body, _ = di02(**kw)
    return etree.fromstring(body)[0][0]


def test_valid_message_has_no_issues(schemas: Schemas) -> None:
    assert schemas.validate(_message()) == []
    assert schemas.validate(_message(dialect="1.2")) == []


def test_issues_name_line_and_path(schemas: Schemas) -> None:
    issues = schemas.validate(_message(referentienummer="x" * 41))
    assert len(issues) == 1
    assert issues[0].line == 9
    assert "referentienummer" in issues[0].path and "referentienummer" in issues[0].message
    assert str(issues[0]).startswith("regel 9, ")


def test_unknown_namespace_is_an_issue(schemas: Schemas) -> None:
    assert schemas.validate(etree.fromstring('<x xmlns="urn:other"/>'))[0].message.startswith("geen schema")


def test_missing_schema_directory_is_refused(tmp_path) -> None:
    with pytest.raises(SchemaLoadError, match="missing"):
        Schemas(tmp_path)


def test_official_bundles_can_replace_our_schemas() -> None:
    bundle11 = require_reference("stuf", "zds-1.1.02")
    bundle12 = require_reference("stuf", "zds-1.2")
    official = Schemas(official={ZKN: bundle11, "http://www.stufstandaarden.nl/koppelvlak/zds0120": bundle12})
    good11, good12 = _message(), _message(dialect="1.2")
    assert official.validate(good11) == []
    assert official.validate(good12) == []
    bad = copy.deepcopy(good11)
    bad.find(f"{{{ZKN}}}stuurgegevens/{{{STUF}}}berichtcode").text = "Xx99"
    issues = official.validate(bad)
    assert issues and "berichtcode" in issues[0].path


def test_official_bundle_without_root_is_refused(tmp_path) -> None:
    with pytest.raises(SchemaLoadError, match="has no"):
        Schemas(official={ZKN: tmp_path})



def test_a_schema_issue_never_quotes_document_content(schemas: Schemas) -> None:
    """A malformed document under policy warn: the warning names the element and the length, not the content (a
    37 KB document once made a 50 KB log line)."""
    from stuf_bridge.gateway import parse_answer

    from .operations import document_messages as dm

    secret = "JVBERi0xLjQK" * 3000 + "JVB"  # base64 of a document, made invalid by its length
    issues = [str(issue) for issue in schemas.validate(parse_answer(dm.voeg_zaakdocument_toe(inhoud=secret)[0]))]
    assert len(issues) == 1 and "inhoud" in issues[0] and f"({len(secret)} tekens)" in issues[0], issues
    assert "JVBERi0x" not in issues[0] and len(issues[0]) < 300


def test_a_long_refused_value_is_said_by_its_length() -> None:
    from stuf_bridge.stuf.validation import without_values

    long = "x" * 41
    quoted = f"Element '{{ns}}code': [facet 'enumeration'] The value '{long}' is not an element of the set {{'a'}}."
    assert without_values(quoted) == ("Element '{ns}code': [facet 'enumeration'] The value (41 tekens) is not an "
                                      "element of the set {'a'}.")
    short = quoted.replace(long, "B1026")
    assert without_values(short) == short
