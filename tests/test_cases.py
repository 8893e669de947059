"""Replays every data-driven case under ``tests/cases/`` (one per folder with a ``case.yaml``; the format and how
to add a case: ``tests/cases/README.md``), and shows that the format and the XML comparison catch what they must."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas

from .support.case_runner import case_app, contains, run_case, volatile
from .support.cases import Case, CaseFormatError, case_folders, case_id, load_case
from .support.xml_compare import assert_xml_equal, xml_diff


@pytest.mark.parametrize("folder", case_folders(), ids=case_id)
async def test_case(folder: Path, make_settings: Callable[..., Settings], schemas: Schemas) -> None:
    case, problem = _load(folder)
    if case is None:
        pytest.fail(problem, pytrace=False)  # the file and the keys, without a traceback through pydantic
    async with case_app(make_settings(**case.settings), schemas) as app:
        await run_case(folder, case, app, schemas)


def _load(folder: Path) -> tuple[Case | None, str]:
    try:
        return load_case(folder), ""
    except CaseFormatError as exc:
        return None, str(exc)


def _case_folder(tmp_path: Path, case_yaml: str, *files: str) -> Path:
    (tmp_path / "case.yaml").write_text(case_yaml, encoding="utf-8")
    for name in files:
        (tmp_path / name).write_text("<x/>", encoding="utf-8")
    return tmp_path


def test_a_misspelt_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    folder = _case_folder(tmp_path, "description: d\nexpect:\n  fault: {kind: Fo02, code: StUF055, plek: client,"
                                    " omschrijving_contain: x}\n", "request.xml")
    with pytest.raises(CaseFormatError) as raised:
        load_case(folder)
    assert str(folder / "case.yaml") in str(raised.value)
    assert "expect.fault.omschrijving_contain: Extra inputs are not permitted" in str(raised.value)


def test_a_case_expects_an_answer_or_a_fault(tmp_path: Path) -> None:
    folder = _case_folder(tmp_path, "description: d\nexpect: {xpath: {//StUF:x: y}}\n", "request.xml")
    with pytest.raises(CaseFormatError, match="give answer .* or fault"):
        load_case(folder)


def test_a_misspelt_or_missing_file_is_an_error(tmp_path: Path) -> None:
    folder = _case_folder(tmp_path,
                          "description: d\nsetup: [{file: setup-1.xml}]\nexpect: {answer: StUF:Bv03Bericht}\n",
                          "request.xml", "expect.xml")
    with pytest.raises(CaseFormatError) as raised:
        load_case(folder)
    assert "missing: ['setup-1.xml']" in str(raised.value) and "not used: ['expect.xml']" in str(raised.value)


def test_every_case_folder_is_valid() -> None:
    """Loaded outside the runner too, so that a broken case file shows up once, by name, in a short run."""
    problems = []
    for folder in case_folders():
        try:
            load_case(folder)
        except CaseFormatError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)
    assert len(case_folders()) >= 71


EXPECTED = """<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
  <a:answer xmlns:a="urn:a" b="2" a="1"><a:code>StUF055</a:code><a:empty/></a:answer>
</soap:Body></soap:Envelope>"""


def test_the_same_xml_written_differently_is_equal() -> None:
    actual = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="urn:a"><soap:Body>'
              "<a:answer a='1' b='2'>\n    <a:code>StUF055</a:code>\n    <a:empty></a:empty></a:answer>"
              "</soap:Body></soap:Envelope>")
    assert_xml_equal(actual, EXPECTED)


def test_a_difference_fails_with_a_unified_diff_of_the_canonical_forms() -> None:
    actual = EXPECTED.replace("StUF055", "StUF058").replace('a="1"', 'a="3"')
    with pytest.raises(AssertionError) as raised:
        assert_xml_equal(actual, EXPECTED, names=("expected.xml", "answer"))
    message = str(raised.value)
    assert "--- expected.xml\n+++ answer\n" in message
    assert ('-    <a:answer a="1" b="2">\n-      <a:code>StUF055</a:code>\n'
            '+    <a:answer a="3" b="2">\n+      <a:code>StUF058</a:code>\n') in message
    assert "\n       <a:empty/>\n" in message  # unchanged context lines are shown too


def test_volatile_values_become_placeholders_on_both_sides() -> None:
    stuf = "http://www.egem.nl/StUF/StUF0301"
    answer = (f'<m xmlns:StUF="{stuf}"><StUF:stuurgegevens><StUF:referentienummer>9c0b</StUF:referentienummer>'
              "<StUF:tijdstipBericht>20240101120000000</StUF:tijdstipBericht></StUF:stuurgegevens>"
              "<link>https://x/zaken/1b4e28ba-2fa1-11d2-883f-0016d3cca427</link><StUF:crossRefnummer>"
              "keep-me</StUF:crossRefnummer></m>")
    expected = answer.replace("9c0b", "{referentienummer}").replace("20240101120000000", "{tijdstipBericht}")
    expected = expected.replace("1b4e28ba-2fa1-11d2-883f-0016d3cca427", "{uuid}")
    assert xml_diff(answer, expected, volatile) == ""
    assert "keep-me" in xml_diff(answer, expected.replace("keep-me", "other"), volatile)


def test_a_body_subset_is_compared_key_by_key() -> None:
    body = {"zaak": "https://x/z/1", "betalingsindicatie": "geheel", "extra": {"a": 1, "b": 2}}
    assert contains(body, {"betalingsindicatie": "geheel", "extra": {"a": 1}})
    assert not contains(body, {"betalingsindicatie": "nvt"})
    assert not contains(body, {"extra": {"c": 3}})
    assert not contains(None, {"zaak": "https://x/z/1"})


def test_the_fault_reason_is_read_from_details_xml() -> None:
    """The runner finds our reason where the gateway writes it (a fault without one would fail every fault case)."""
    from stuf_bridge.errors import MessageError
    from stuf_bridge.stuf.answers import foutbericht
    from stuf_bridge.stuf.namespaces import FOUT, STUF

    fault = foutbericht("Fo02", MessageError("kapot", reason="not-xml"), None)  # type: ignore[arg-type]
    assert fault.findtext(f"{{{STUF}}}body/{{{STUF}}}detailsXML/{{{FOUT}}}reden") == "not-xml"
    assert etree.QName(fault).localname == "Fo02Bericht"
